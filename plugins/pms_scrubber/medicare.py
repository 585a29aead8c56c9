"""An example payer profile: a Medicare Part B-like payer (a MAC).

It shows how a payer profile adds limits and rules of its own to the built-in
ones. The payer ids are examples ("EXMCR1", "EXMCR2"): a practice that bills a
real Medicare Administrative Contractor registers, from a plugin of its own,
`medicare_profile("Novitas JL Part B", {"<the MAC's payer id>"})`.

No `default=True` profile ships here on purpose: a default profile would apply
Medicare's limits and rules (or any one payer's) to every payer the practice has
not described, which is wrong for most of them; the core's own defaults (365 days
of timely filing, the built-in rules) are the right fallback for an unknown payer.

The rules are real Medicare requirements:

- MCR_MBI_FORMAT: the member id must be a Medicare Beneficiary Identifier (11
  characters in CMS's position-by-position format, no dashes); claims with a
  retired HICN or a typo are rejected at the front end.
- MCR_RELATIONSHIP: Medicare covers individuals only, so the patient is always
  the subscriber (relationship 18, no separate patient loop).
- MCR_ABN_MODIFIERS: GA (ABN on file), GZ (denial expected, no ABN) and GY
  (statutorily excluded) contradict each other on one line.
- MCR_MODIFIER_NOT_ACCEPTED: the Medicaid level-of-care modifiers U1-U9 and
  UA-UD are defined by each state's Medicaid program and mean nothing to Medicare.
- MCR_FILING_INDICATOR: SBR09 must say which Medicare program is billed: MB
  (Part B) on an 837P, MA (Part A) on an 837I.

Each profile's rules also check the claim's payer id themselves, so they never
fire for another payer even when run outside their profile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pms_core.claimdata import INSTITUTIONAL, ClaimView
from pms_core.scrub import Finding, PayerProfile, Rule, ScrubContext, Severity

ERROR = Severity.ERROR

PAYER_IDS = frozenset({"EXMCR1", "EXMCR2"})
Check = Callable[[ClaimView, ScrubContext], list[Finding]]

# MBI positions (CMS): 1 a digit 1-9; 2, 5, 8, 9 a letter; 3, 6 a letter or digit;
# 4, 7, 10, 11 a digit. Letters exclude S, L, O, I, B and Z.
_MBI_LETTERS = frozenset("ACDEFGHJKMNPQRTUVWXY")
_MBI_DIGITS = frozenset("0123456789")
_MBI_POSITIONS = (
    frozenset("123456789"),
    _MBI_LETTERS,
    _MBI_LETTERS | _MBI_DIGITS,
    _MBI_DIGITS,
    _MBI_LETTERS,
    _MBI_LETTERS | _MBI_DIGITS,
    _MBI_DIGITS,
    _MBI_LETTERS,
    _MBI_LETTERS,
    _MBI_DIGITS,
    _MBI_DIGITS,
)
ABN_MODIFIERS = frozenset({"GA", "GY", "GZ"})
# Medicaid level-of-care modifiers, defined state by state: not Medicare's.
NOT_ACCEPTED_MODIFIERS = frozenset(
    ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9", "UA", "UB", "UC", "UD"]
)
FILING_INDICATOR = {"837P": "MB", "837I": "MA"}


def is_mbi(member_id: str) -> bool:
    """True when `member_id` has the shape of a Medicare Beneficiary Identifier."""
    return len(member_id) == 11 and all(
        c in allowed for c, allowed in zip(member_id, _MBI_POSITIONS, strict=True)
    )


def check_mbi(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    member_id = claim.subscriber.member_id
    if member_id and is_mbi(member_id):
        return []
    hint = " without dashes" if member_id and "-" in member_id else ""
    return [
        Finding(
            "MCR_MBI_FORMAT",
            ERROR,
            "subscriber.member_id",
            "subscriber.member_id is not a Medicare Beneficiary Identifier: Medicare needs "
            f"the 11-character MBI from the patient's Medicare card{hint}",
        )
    ]


def check_relationship(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    if claim.patient is None and claim.subscriber.relationship == "18":
        return []
    return [
        Finding(
            "MCR_RELATIONSHIP",
            ERROR,
            "subscriber.relationship",
            "Medicare covers individuals only: the patient must be the subscriber "
            "(relationship 18, no separate patient)",
        )
    ]


def check_abn_modifiers(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for i, line in enumerate(claim.lines):
        modifiers = line.modifiers
        if len(modifiers) < 2:
            continue
        used = [(j, m) for j, m in enumerate(modifiers) if m in ABN_MODIFIERS]
        if len({m for _, m in used}) < 2:
            continue
        j = used[-1][0]
        names = " and ".join(sorted({m for _, m in used}))
        out.append(
            Finding(
                "MCR_ABN_MODIFIERS",
                ERROR,
                f"lines[{i}].modifiers[{j}]",
                f"line {line.line_number} has {names}: GA (ABN on file), GZ (no ABN) and GY "
                "(statutorily excluded) contradict each other; keep the one that applies",
                line.line_number,
            )
        )
    return out


def check_modifiers_accepted(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for i, line in enumerate(claim.lines):
        for j, modifier in enumerate(line.modifiers):
            if modifier in NOT_ACCEPTED_MODIFIERS:
                out.append(
                    Finding(
                        "MCR_MODIFIER_NOT_ACCEPTED",
                        ERROR,
                        f"lines[{i}].modifiers[{j}]",
                        f"line {line.line_number} modifier {modifier} is a Medicaid "
                        "level-of-care modifier that Medicare does not accept",
                        line.line_number,
                    )
                )
    return out


def check_filing_indicator(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    kind = "837I" if claim.kind == INSTITUTIONAL else "837P"
    wanted = FILING_INDICATOR[kind]
    if claim.subscriber.claim_filing_indicator == wanted:
        return []
    return [
        Finding(
            "MCR_FILING_INDICATOR",
            ERROR,
            "subscriber.claim_filing_indicator",
            f"subscriber.claim_filing_indicator must be {wanted} on an {kind} to Medicare "
            f"(Part {'A' if wanted == 'MA' else 'B'})",
        )
    ]


# (code, description, check) of each Medicare rule.
CHECKS = (
    ("MCR_MBI_FORMAT", "Medicare: the member id must be an MBI", check_mbi),
    ("MCR_RELATIONSHIP", "Medicare: the patient must be the subscriber", check_relationship),
    (
        "MCR_ABN_MODIFIERS",
        "Medicare: GA, GY and GZ may not be combined on one line",
        check_abn_modifiers,
    ),
    (
        "MCR_MODIFIER_NOT_ACCEPTED",
        "Medicare: Medicaid level-of-care modifiers (U1-UD) are not accepted",
        check_modifiers_accepted,
    ),
    (
        "MCR_FILING_INDICATOR",
        "Medicare: SBR09 must be MB (837P) or MA (837I)",
        check_filing_indicator,
    ),
)


def _only_for(payer_ids: frozenset[str], check: Check) -> Check:
    def checked(claim: ClaimView, context: ScrubContext) -> list[Finding]:
        if claim.payer.payer_id not in payer_ids:
            return []
        return check(claim, context)

    return checked


def medicare_profile(
    name: str,
    payer_ids: Iterable[str],
    *,
    timely_filing_days: int = 365,
    status_inquiry_days: int = 30,
) -> PayerProfile:
    """A Medicare profile for these payer ids (e.g. a real MAC's): its rules fire
    only for claims to them, even when run outside the profile."""
    ids = frozenset(payer_ids)
    return PayerProfile(
        name=name,
        payer_ids=ids,
        timely_filing_days=timely_filing_days,
        status_inquiry_days=status_inquiry_days,
        rules=tuple(Rule(code, text, _only_for(ids, check)) for code, text, check in CHECKS),
    )


PROFILE = medicare_profile("Example Medicare Part B (MAC)", PAYER_IDS)
