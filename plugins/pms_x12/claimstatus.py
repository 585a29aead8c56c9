"""Claim status, 005010X212: the 276 and 277 writers and readers.

pyx12 has no working 5010 map for 276/277, so all are ours. `write_276`
asks about several claims of one payer at once; `read_277` reads the answers
(every STC with its category, status and entity in words, amounts, dates,
the payer's claim number, and line-level statuses); `read_276` reads an
inquiry back; `write_277` writes the payer's answers to a 276 so that
`read_277` reads them back as they were (the sandbox payer's side).
Messages name segment positions and elements (or an answer's number), never
values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from pms_core.edi import ClaimStatus, X12Error
from pms_core.eligdata import Person, StatusAnswer, StatusInquiry, StatusRequest
from pms_x12.acks import statuses as read_statuses
from pms_x12.elements import CODE, STATUS_CODE, cents, parse_date, required
from pms_x12.eligibility import amount_text, clean_text, date_range, dmg, interchange, whole_cents
from pms_x12.segments import VERSIONS, EnvelopeError, Segment, X12Stream

__all__ = ["read_276", "read_277", "write_276", "write_277"]

PROCEDURE = re.compile(r"[A-Z0-9]{1,48}")  # SVC01-2, an HCPCS/CPT code


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
        if dep is None:
            body += dmg(sub)
        body.append(f"NM1*IL*1*{t(sub.last_name, 60)}*{t(sub.first_name, 35)}****MI*"
                    f"{t(sub.member_id or '', 80)}")  # fmt: skip
        if dep is not None:
            parent = hl
            hl += 1
            body.append(f"HL*{hl}*{parent}*23")
            body += dmg(dep)
            body.append(f"NM1*QC*1*{t(dep.last_name, 60)}*{t(dep.first_name, 35)}")
        body.append(f"TRN*1*{t(claim.trace, 50)}")
        if claim.payer_claim_number:
            body.append(f"REF*1K*{t(claim.payer_claim_number, 50)}")
        body.append(f"REF*EJ*{t(claim.claim_number, 50)}")
        body.append(f"AMT*T3*{amount_text(claim.total_cents)}")
        if claim.service_from == claim.service_to:
            body.append(f"DTP*472*D8*{claim.service_from:%Y%m%d}")
        else:
            body.append(f"DTP*472*RD8*{claim.service_from:%Y%m%d}-{claim.service_to:%Y%m%d}")
    return interchange(
        "276", "HR", "005010X212", body, sender_id=sender_id, receiver_id=receiver_id,
        control=control, created=created, production=production,
    )  # fmt: skip


def write_277(
    answers: Sequence[StatusAnswer],
    *,
    request: StatusRequest,
    sender_id: str,
    receiver_id: str,
    control: int,
    created: datetime,
    production: bool = True,
) -> str:
    """One interchange (ISA13/GS06 `control`) with one 277 answering the 276
    `request`: `answers[i]` answers `request.claims[i]` and `read_277` reads
    the file back as these answers.

    Payer, receiver, provider and the people come from the request. Each
    claim gets a subscriber loop (and a dependent loop when the patient is
    the subscriber's dependent) with TRN*2 echoing the claim's trace; STC
    segments carrying the statuses (consecutive statuses of one effective
    date share an STC, three at most: STC01, STC10, STC11), each with STC02
    the effective date, STC04 the total, STC05 the paid amount, STC06 the
    adjudication date and, when a check number is given, STC07 CHK, STC08
    the adjudication date (the check's issue date) and STC09 the number;
    REF*1K the payer's claim number; REF*EJ our claim number; DTP*472 the
    service dates; then one SVC loop per line. Where the answer leaves the
    claim number, payer claim number, total or service dates None, the
    claim's are written (a payer echoes what it was asked).

    A line is `(procedure code, statuses, line control number or None,
    charge cents, paid cents)`: `read_277`'s lines with SVC02 and SVC03
    added (the reader keeps the first three). It is written as SVC*HC:code,
    its STCs (status and effective date) and REF*FJ.

    Raises ValueError, naming the answer by its number, for an answer that
    does not echo its claim's trace, has no status, a status without an
    effective date or with codes that are not valid, an amount that is not
    whole cents (an int, not negative), a check number without an
    adjudication date or longer than 16 characters, service dates out of
    order, or a line not of the shape above; or when the subscriber has no
    member id.
    """
    claims = request.claims
    if not answers:
        raise ValueError("a 277 needs at least one answer")
    if len(answers) != len(claims):
        raise ValueError(f"{len(answers)} answers for {len(claims)} claims asked about")
    for n, (answer, claim) in enumerate(zip(answers, claims, strict=True), 1):
        _check_status_answer(f"answer {n}", answer, claim)

    t = clean_text
    body = [
        f"BHT*0010*08*{t(claims[0].trace, 30)}*{created:%Y%m%d}*{created:%H%M}*DG",
        "HL*1**20*1",
        f"NM1*PR*2*{t(request.payer_name, 60)}*****PI*{t(request.payer_id, 80)}",
        "HL*2*1*21*1",
        f"NM1*41*2*{t(request.receiver_name, 60)}*****46*{t(request.receiver_id, 80)}",
        "HL*3*2*19*1",
        f"NM1*1P*2*{t(request.provider_name, 60)}*****XX*{request.provider_npi}",
    ]
    hl = 3
    for answer, claim in zip(answers, claims, strict=True):
        sub, dep = claim.subscriber, claim.dependent
        hl += 1
        body.append(f"HL*{hl}*3*22*{1 if dep else 0}")
        body.append(f"NM1*IL*1*{t(sub.last_name, 60)}*{t(sub.first_name, 35)}****MI*"
                    f"{t(sub.member_id or '', 80)}")  # fmt: skip
        if dep is not None:
            hl += 1
            body += [
                f"HL*{hl}*{hl - 1}*23",
                f"NM1*QC*1*{t(dep.last_name, 60)}*{t(dep.first_name, 35)}",
            ]
        body += _claim_segments(answer, claim)
    return interchange(
        "277", "HN", "005010X212", body, sender_id=sender_id, receiver_id=receiver_id,
        control=control, created=created, production=production,
    )  # fmt: skip


def _claim_segments(answer: StatusAnswer, claim: StatusInquiry) -> list[str]:
    """The 2200D (or 2200E) loop of one claim and its 2220 service lines."""
    t = clean_text
    total = claim.total_cents if answer.total_cents is None else answer.total_cents
    paid, day = answer.paid_cents, answer.adjudicated
    money = [
        amount_text(total),
        "" if paid is None else amount_text(paid),
        f"{day:%Y%m%d}" if day else "",
        *(["CHK", f"{day:%Y%m%d}", t(answer.check_number, 16)] if answer.check_number else []),
    ]
    out = [f"TRN*2*{t(answer.trace or '', 50)}", *_stc_segments(answer.statuses, money)]
    if answer.payer_claim_number or claim.payer_claim_number:
        out.append(f"REF*1K*{t(answer.payer_claim_number or claim.payer_claim_number, 50)}")
    out.append(f"REF*EJ*{t(answer.claim_number or claim.claim_number, 50)}")
    first = answer.service_from or claim.service_from
    last = answer.service_to or claim.service_to
    out.append(f"DTP*472*D8*{first:%Y%m%d}" if first == last
               else f"DTP*472*RD8*{first:%Y%m%d}-{last:%Y%m%d}")  # fmt: skip
    for code, statuses, control, charge, line_paid in answer.lines:
        out.append(f"SVC*HC:{code}*{amount_text(charge)}*{amount_text(line_paid)}")
        out += _stc_segments(statuses, [])
        if control:
            out.append(f"REF*FJ*{t(control, 50)}")
    return out


def _stc_segments(statuses: Sequence[ClaimStatus], money: list[str]) -> list[str]:
    """One STC per group of statuses (see `_stc_groups`): STC01, STC02 the
    effective date, `money` from STC04 on (STC03 is not used), STC10, STC11."""
    out = []
    for effective, group in _stc_groups(statuses):
        elements = [_composite(group[0]), f"{effective:%Y%m%d}", "", *money]
        if len(group) > 1:
            elements += [""] * (9 - len(elements)) + [_composite(s) for s in group[1:]]
        out.append("*".join(["STC", *elements]).rstrip("*"))
    return out


def _composite(status: ClaimStatus) -> str:
    """STC01 (or STC10, STC11): category:status:entity, trailing empties left off."""
    return ":".join((status.category, status.code or "", status.entity or "")).rstrip(":")


def _stc_groups(statuses: Sequence[ClaimStatus]) -> list[tuple[date, list[ClaimStatus]]]:
    """The statuses as STCs: consecutive ones of one effective date, three at most."""
    groups: list[tuple[date, list[ClaimStatus]]] = []
    for status in statuses:
        if groups and groups[-1][0] == status.effective and len(groups[-1][1]) < 3:
            groups[-1][1].append(status)
        else:
            groups.append((status.effective, [status]))
    return groups


def _check_statuses(where: str, statuses: Sequence[ClaimStatus]) -> None:
    if not statuses:
        raise ValueError(f"{where} has no status (STC)")
    for m, s in enumerate(statuses, 1):
        if not isinstance(s.effective, date):
            raise ValueError(f"{where}, status {m}: STC02 (its effective date) is missing")
        if not CODE.fullmatch(s.category or ""):
            raise ValueError(f"{where}, status {m}: STC01-1 is not a claim status category code")
        if s.code is not None and not STATUS_CODE.fullmatch(s.code):
            raise ValueError(f"{where}, status {m}: STC01-2 is not a claim status code")
        if s.entity is not None and not CODE.fullmatch(s.entity):
            raise ValueError(f"{where}, status {m}: STC01-3 is not an entity identifier code")


def _check_status_answer(where: str, answer: StatusAnswer, claim: StatusInquiry) -> None:
    if not answer.trace:
        raise ValueError(f"{where} has no trace (TRN02): it must echo its claim's")
    if answer.trace != claim.trace:
        raise ValueError(f"{where} does not echo its claim's trace (TRN02)")
    if not clean_text(claim.subscriber.member_id or "", 80):
        raise ValueError(f"{where}: the subscriber has no member id (NM109)")
    _check_statuses(where, answer.statuses)
    total = claim.total_cents if answer.total_cents is None else answer.total_cents
    if not whole_cents(total):
        raise ValueError(f"{where}: STC04 (total) must be whole cents (an int), not negative")
    if answer.paid_cents is not None and not whole_cents(answer.paid_cents):
        raise ValueError(f"{where}: STC05 (paid) must be whole cents (an int), not negative")
    if answer.check_number is not None:
        if answer.adjudicated is None:
            raise ValueError(f"{where}: a check number (STC09) needs the adjudication date (STC06)")
        if not 0 < len(clean_text(answer.check_number, 100)) <= 16:
            raise ValueError(f"{where}: the check number (STC09) must be 1 to 16 characters")
    first = answer.service_from or claim.service_from
    last = answer.service_to or claim.service_to
    if first > last:
        raise ValueError(f"{where}: the service dates (DTP*472) are out of order")
    for m, line in enumerate(answer.lines, 1):
        here = f"{where}, line {m}"
        if len(line) != 5:
            raise ValueError(f"{here}: a line is (code, statuses, control, charge, paid)")
        code, statuses, _control, charge, paid = line
        if not PROCEDURE.fullmatch(code or ""):
            raise ValueError(f"{here}: SVC01-2 is not a procedure code")
        _check_statuses(here, statuses)
        if not (whole_cents(charge) and whole_cents(paid)):
            raise ValueError(f"{here}: SVC02 and SVC03 must be whole cents (an int), not negative")


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
