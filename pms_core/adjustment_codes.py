"""Adjustment codes in words: CAS group codes, claim adjustment reason codes
(CARC), remittance advice remark codes (RARC) and PLB reasons.

A small built-in set covers the codes a billing office meets every day, in
our own short words, so remittances read sensibly out of the box. The full
published lists load with `pms codes import carc|rarc FILE`; a loaded
description wins over the built-in one.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from pms_core.models import CodeEntry

GROUPS = {
    "CO": "contractual obligation",
    "CR": "correction or reversal",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
    "PR": "patient responsibility",
}

CARC = {
    "1": "deductible",
    "2": "coinsurance",
    "3": "copay",
    "4": "modifier missing or inconsistent with the procedure",
    "5": "place of service inconsistent with the procedure or bill type",
    "6": "procedure or revenue code inconsistent with the patient's age",
    "11": "diagnosis inconsistent with the procedure",
    "15": "authorization number missing or invalid",
    "16": "claim or service lacks information needed for adjudication",
    "18": "exact duplicate of a claim or service",
    "22": "may be covered by another payer (coordination of benefits)",
    "23": "impact of prior payer(s) adjudication",
    "24": "covered by a capitation or managed care plan",
    "26": "service before coverage began",
    "27": "service after coverage ended",
    "29": "timely filing limit has passed",
    "31": "patient cannot be identified as our insured",
    "45": "charge exceeds the fee schedule or contracted amount",
    "50": "not deemed medically necessary",
    "59": "multiple or concurrent procedure rules applied",
    "94": "processed in excess of charges",
    "96": "non-covered charge",
    "97": "included in the payment for another service",
    "100": "payment made to the patient or insured",
    "109": "not covered by this payer; send to the correct payer",
    "119": "benefit maximum for this period reached",
    "129": "prior processing information is incorrect",
    "140": "patient's health plan id and name do not match",
    "146": "diagnosis invalid for the date of service",
    "151": "frequency or number of services not supported",
    "167": "diagnosis not covered",
    "170": "not paid when performed by this type of provider",
    "181": "procedure code invalid on the date of service",
    "182": "modifier invalid on the date of service",
    "185": "rendering provider not eligible for this service",
    "189": "unlisted code billed where a specific code exists",
    "197": "precertification or authorization absent",
    "198": "precertification or authorization exceeded",
    "204": "service not covered under the patient's current plan",
    "234": "procedure not paid separately",
    "236": "procedure or modifier combination not allowed",
    "242": "services not provided by network providers",
    "252": "an attachment or other documentation is required",
    "253": "sequestration reduction",
    "A1": "claim or service denied",
    "B7": "provider not certified for this procedure on this date",
    "B15": "requires a qualifying service that was not paid",
}

RARC = {
    "M15": "separately billed services were bundled",
    "M80": "not covered when performed in the same session as another service",
    "M86": "service denied because payment already made for a similar procedure",
    "MA01": "you may appeal this decision",
    "MA02": "you may appeal this decision; see the appeal instructions",
    "MA04": "secondary payment cannot be considered without the primary payer's details",
    "MA18": "claim forwarded to the patient's supplemental insurer",
    "MA130": "claim has incomplete or invalid information; correct and resubmit",
    "N4": "missing or incomplete prior insurance carrier payment details",
    "N19": "procedure code incidental to the primary procedure",
    "N20": "service not payable with other services on this date",
    "N30": "patient ineligible for this service",
    "N130": "see the plan's benefit documents for coverage limits",
    "N290": "rendering provider identifier missing or invalid",
    "N362": "number of days or units exceeds the acceptable maximum",
}

PLB = {
    "50": "late charge",
    "51": "interest penalty charge",
    "72": "authorized return",
    "90": "early payment allowance",
    "B2": "rebate",
    "B3": "recovery allowance",
    "BD": "bad debt adjustment",
    "C5": "temporary allowance",
    "CS": "adjustment",
    "CV": "capital passthrough",
    "FB": "forward balance",
    "IR": "tax withholding",
    "J1": "non-reimbursable",
    "L3": "penalty",
    "L6": "interest owed",
    "LE": "levy",
    "OB": "offset for affiliated providers",
    "WO": "overpayment recovery",
    "WU": "unspecified recovery",
}


def _loaded(session: Session | None, code_set: str, codes: set[str]) -> dict[str, str]:
    if session is None or not codes:
        return {}
    rows = session.exec(
        select(CodeEntry.code, CodeEntry.description).where(
            CodeEntry.code_set == code_set, col(CodeEntry.code).in_(sorted(codes))
        )
    ).all()
    return {code: text for code, text in rows if text}


def carc_words(codes: set[str], session: Session | None = None) -> dict[str, str]:
    """Each CARC in words: a loaded description, else the built-in one, else
    a plain "reason code X"."""
    loaded = _loaded(session, "carc", codes)
    return {c: loaded.get(c) or CARC.get(c) or f"reason code {c}" for c in codes}


def rarc_words(codes: set[str], session: Session | None = None) -> dict[str, str]:
    loaded = _loaded(session, "rarc", codes)
    return {c: loaded.get(c) or RARC.get(c) or f"remark code {c}" for c in codes}


def adjustment_words(group: str, reason: str, session: Session | None = None) -> str:
    """ "CO-45" in words: "contractual obligation: charge exceeds the fee schedule..."."""
    return f"{GROUPS.get(group, group)}: {carc_words({reason}, session)[reason]}"


def posting_reason_words(reason: str | None, session: Session | None = None) -> str:
    """A posting's reason code ("CO-45", "PR-1", "PLB-L6", "paid") in words."""
    if not reason:
        return ""
    action, _, denial = reason.partition(":")
    if action in ("writeoff", "transfer") and denial:
        what = "written off" if action == "writeoff" else "moved to the patient"
        return f"denial {what} ({posting_reason_words(denial, session)})"
    group, _, code = reason.partition("-")
    if group == "PLB":
        return f"provider-level adjustment: {PLB.get(code, code)}"
    if group in GROUPS and code:
        return adjustment_words(group, code, session)
    if reason.startswith("payment:"):
        return f"patient payment ({reason.partition(':')[2]})"
    return {
        "paid": "payer payment",
        "unapplied": "payment not yet matched to a claim",
        "credit": "patient credit on account",
        "credit applied": "patient credit applied",
        "refund": "refund to the patient",
    }.get(reason, reason)
