"""Claim status, 005010X212: the 276 writer and the 277 reader.

pyx12 has no working 5010 map for 276/277, so both are ours. `write_276`
asks about several claims of one payer at once; `read_277` reads the answers
(every STC with its category, status and entity in words, amounts, dates,
the payer's claim number, and line-level statuses); `read_276` reads an
inquiry back. Messages name segment positions and elements, never values.
"""

from __future__ import annotations

from datetime import date, datetime

from pms_core.edi import X12Error
from pms_core.eligdata import Person, StatusAnswer, StatusInquiry, StatusRequest
from pms_x12.acks import statuses as read_statuses
from pms_x12.elements import cents, parse_date, required
from pms_x12.eligibility import clean_text, date_range, interchange
from pms_x12.segments import VERSIONS, EnvelopeError, Segment, X12Stream

__all__ = ["read_276", "read_277", "write_276"]


def _amount_text(value: int) -> str:
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return f"{sign}{whole}" + (f".{part:02d}" if part else "")


def write_276(
    request: StatusRequest, *, sender_id: str, receiver_id: str, control: int, created: datetime,
    production: bool = True,
) -> str:  # fmt: skip
    """One interchange (ISA13/GS06 `control`) with one 276 asking about every
    claim of `request`: a subscriber loop per claim (and a dependent loop when
    the patient is not the subscriber)."""
    t = clean_text
    ymd, hm = created.strftime("%Y%m%d"), created.strftime("%H%M")
    body = [
        f"BHT*0010*13*{t(request.claims[0].trace if request.claims else 'STATUS', 30)}*{ymd}*{hm}",
        "HL*1**20*1",
        f"NM1*PR*2*{t(request.payer_name, 60)}*****PI*{t(request.payer_id, 80)}",
        "HL*2*1*21*1",
        f"NM1*41*2*{t(request.receiver_name, 60)}*****46*{t(request.receiver_id, 80)}",
        "HL*3*2*19*1",
        f"NM1*1P*2*{t(request.provider_name, 60)}*****XX*{request.provider_npi}",
    ]
    hl = 3
    for claim in request.claims:
        sub, dep = claim.subscriber, claim.dependent
        hl += 1
        body.append(f"HL*{hl}*3*22*{1 if dep else 0}")
        if dep is None and sub.birth_date is not None:
            body.append(f"DMG*D8*{sub.birth_date:%Y%m%d}" + (f"*{sub.sex}" if sub.sex else ""))
        body.append(f"NM1*IL*1*{t(sub.last_name, 60)}*{t(sub.first_name, 35)}****MI*"
                    f"{t(sub.member_id or '', 80)}")  # fmt: skip
        if dep is not None:
            parent = hl
            hl += 1
            body.append(f"HL*{hl}*{parent}*23")
            if dep.birth_date is not None:
                body.append(f"DMG*D8*{dep.birth_date:%Y%m%d}" + (f"*{dep.sex}" if dep.sex else ""))
            body.append(f"NM1*QC*1*{t(dep.last_name, 60)}*{t(dep.first_name, 35)}")
        body.append(f"TRN*1*{t(claim.trace, 50)}")
        if claim.payer_claim_number:
            body.append(f"REF*1K*{t(claim.payer_claim_number, 50)}")
        body.append(f"REF*EJ*{t(claim.claim_number, 50)}")
        body.append(f"AMT*T3*{_amount_text(claim.total_cents)}")
        if claim.service_from == claim.service_to:
            body.append(f"DTP*472*D8*{claim.service_from:%Y%m%d}")
        else:
            body.append(f"DTP*472*RD8*{claim.service_from:%Y%m%d}-{claim.service_to:%Y%m%d}")
    return interchange(
        "276", "HR", "005010X212", body, sender_id=sender_id, receiver_id=receiver_id,
        control=control, created=created, production=production,
    )  # fmt: skip


def _check(kind: str, seg: Segment) -> None:
    group = {"276": "HR", "277": "HN"}[kind]
    if seg.id == "GS" and (seg.get(1).strip() != group or seg.get(8).strip() not in VERSIONS[kind]):
        raise EnvelopeError(
            f"this functional group is not a {kind} of version {VERSIONS[kind][0]}",
            position=seg.position, segment="GS", element="01",
        )  # fmt: skip
    if seg.id == "ST" and seg.get(1).strip() != kind:
        raise EnvelopeError(
            f"ST01 is not {kind}", position=seg.position, segment="ST", element="01"
        )


def read_277(data: bytes | str) -> list[StatusAnswer]:
    """Every claim's status in a 277 file (see the module docstring)."""
    answers: list[StatusAnswer] = []
    current: StatusAnswer | None = None
    line = None  # [code, statuses, control number] of the SVC loop being read
    for seg in X12Stream(data):
        sid = seg.id
        if sid in ("GS", "ST"):
            _check("277", seg)
        elif sid == "HL":
            current, line = None, None
        elif sid == "TRN" and seg.get(1).strip() == "2":
            current = StatusAnswer(trace=required(seg, 2), claim_number=None,
                                   position=seg.position)  # fmt: skip
            answers.append(current)
            line = None
        elif current is None:
            continue
        elif sid == "STC":
            found = read_statuses(seg)
            if line is not None:
                line[1].extend(found)
                continue
            current.statuses.extend(found)
            current.total_cents = (
                cents(seg, 4) if current.total_cents is None else current.total_cents
            )
            paid = cents(seg, 5)
            current.paid_cents = paid if paid is not None else current.paid_cents
            if seg.get(6).strip():
                current.adjudicated = parse_date(seg, 6, seg.get(6).strip())
            current.check_number = seg.get(9).strip() or current.check_number
        elif sid == "REF":
            qualifier, value = seg.get(1).strip(), seg.get(2).strip() or None
            if line is not None and qualifier == "FJ":
                line[2] = value
            elif qualifier == "EJ":
                current.claim_number = value
            elif qualifier == "1K":
                current.payer_claim_number = value
        elif sid == "DTP" and seg.get(1).strip() == "472" and line is None:
            current.service_from, current.service_to = date_range(seg)
        elif sid == "SVC":
            line = [seg.get(1, 2).strip(), [], None]
            current.lines.append(line)
    if not answers:
        raise X12Error("the file holds no claim status (277 TRN*2)")
    for answer in answers:
        answer.lines = [tuple(ln) for ln in answer.lines]
    return answers


def read_276(data: bytes | str) -> list[StatusInquiry]:
    """The claims asked about in a 276 file."""
    found: list[StatusInquiry] = []
    people: dict[str, Person] = {}
    claim: dict | None = None
    level = None

    def flush() -> None:
        nonlocal claim
        if claim is not None and "subscriber" in people:
            found.append(StatusInquiry(subscriber=people["subscriber"],
                                       dependent=people.get("dependent"), **claim))  # fmt: skip
        claim = None

    for seg in X12Stream(data):
        sid = seg.id
        if sid in ("GS", "ST"):
            _check("276", seg)
        elif sid == "HL":
            flush()
            level = {"22": "subscriber", "23": "dependent"}.get(seg.get(3).strip())
            if level == "subscriber":
                people = {}
        elif sid == "NM1" and seg.get(1).strip() in ("IL", "QC") and level:
            people[level] = Person(seg.get(3).strip(), seg.get(4).strip(),
                                   member_id=seg.get(9).strip() or None)  # fmt: skip
        elif sid == "TRN" and level:
            claim = dict(trace=required(seg, 2), claim_number="", total_cents=0,
                         service_from=date.min, service_to=date.min)  # fmt: skip
        elif claim is not None and sid == "REF":
            key = {"EJ": "claim_number", "1K": "payer_claim_number"}.get(seg.get(1).strip())
            if key:
                claim[key] = seg.get(2).strip()
        elif claim is not None and sid == "AMT" and seg.get(1).strip() == "T3":
            claim["total_cents"] = cents(seg, 2) or 0
        elif claim is not None and sid == "DTP" and seg.get(1).strip() == "472":
            claim["service_from"], claim["service_to"] = date_range(seg)
        elif sid == "SE":
            flush()
    return found
