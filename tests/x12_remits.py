"""835 remittances written the way payers write them, for tests. Synthetic data.

Amounts are given as the decimal strings the file carries, so a test can
also write a wrong or malformed one on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

PRACTICE_NPI = "1234567893"  # tests.helpers' practice


@dataclass
class PaidLine:
    code: str
    charge: str
    paid: str
    modifiers: tuple[str, ...] = ()
    adjustments: list[tuple[str, str, str]] = field(default_factory=list)  # group, CARC, amount
    control: str | None = None  # REF*6R: our charge id
    date: str = "20260220"
    original: str | None = None  # SVC06: the code we billed, when the payer changed it
    remarks: tuple[str, ...] = ()


@dataclass
class PaidClaim:
    claim_number: str
    charge: str
    paid: str
    status: str = "1"
    patient_resp: str = ""
    payer_claim_number: str = "PCN-0001"
    adjustments: list[tuple[str, str, str]] = field(default_factory=list)
    lines: list[PaidLine] = field(default_factory=list)
    member_id: str = "ACM100200300"
    dos: str = "20260220"


def _cas(adjustments) -> list[str]:
    return [f"CAS*{group}*{reason}*{amount}" for group, reason, amount in adjustments]


def claim_segments(c: PaidClaim) -> list[str]:
    out = [
        f"CLP*{c.claim_number}*{c.status}*{c.charge}*{c.paid}*{c.patient_resp}*12*"
        f"{c.payer_claim_number}*11*1",
        *_cas(c.adjustments),
        f"NM1*QC*1*CLAIMWELL*TESTANA****MI*{c.member_id}",
        f"DTM*232*{c.dos}",
    ]
    for ln in c.lines:
        code = ":".join(("HC", ln.code, *ln.modifiers))
        svc = f"SVC*{code}*{ln.charge}*{ln.paid}**1"
        if ln.original:
            svc += f"*HC:{ln.original}"
        out += [svc, f"DTM*472*{ln.date}", *_cas(ln.adjustments)]
        if ln.control:
            out.append(f"REF*6R*{ln.control}")
        out += [f"LQ*HE*{r}" for r in ln.remarks]
    return out


def transaction_set(
    claims: list[PaidClaim],
    *,
    control: str = "0001",
    payment: str | None = None,
    trace: str = "EFT0001",
    payer_id: str = "ACME1",
    payee_npi: str = PRACTICE_NPI,
    plb: list[tuple[str, str]] = (),  # (reason:reference, amount)
) -> list[str]:
    if payment is None:
        total = sum(Decimal(c.paid) for c in claims) - sum(Decimal(a) for _, a in plb)
        payment = f"{total:.2f}"
    body = [
        f"BPR*I*{payment}*C*ACH*CCP*01*011000015*DA*123456789*1512345678**01*021000021*DA*"
        f"987654321*20260305",
        f"TRN*1*{trace}*1512345678",
        "DTM*405*20260304",
        "N1*PR*ACME HEALTH PLAN",
        "N3*1 PAYER PLAZA",
        "N4*CHICAGO*IL*606010001",
        f"REF*2U*{payer_id}",
        "PER*BL*PROVIDER SERVICES*TE*8005550100",
        f"N1*PE*SPRINGFIELD TEST CLINIC*XX*{payee_npi}",
        "REF*TJ*364512987",
    ]
    for i, c in enumerate(claims, start=1):
        body += [f"LX*{i}", *claim_segments(c)]
    if plb:
        pairs = "*".join(f"{reason}*{amount}" for reason, amount in plb)
        body.append(f"PLB*{payee_npi}*20261231*{pairs}")
    segments = [f"ST*835*{control}", *body]  # the 835 guide does not use ST03
    segments.append(f"SE*{len(segments) + 1}*{control}")
    return segments


def era_835(
    claims: list[PaidClaim] | None = None,
    *,
    sets: list[list[str]] | None = None,
    interchange: int = 301,
    **set_options,
) -> bytes:
    """One interchange with one functional group of 835 sets (by default one
    set built from `claims`)."""
    sets = sets or [transaction_set(claims or [], **set_options)]
    flat = [s for st in sets for s in st]
    lines = [
        f"ISA*00*          *00*          *ZZ*ACMEPAYER      *ZZ*PRACTICE01     *260304*0900*^*"
        f"00501*{interchange:09d}*0*P*:",
        f"GS*HP*ACMEPAYER*PRACTICE01*20260304*0900*{interchange}*X*005010X221A1",
        *flat,
        f"GE*{len(sets)}*{interchange}",
        f"IEA*1*{interchange:09d}",
    ]
    return ("~\n".join(lines) + "~\n").encode()
