"""The payer's side of the claim exchange: read the 837s pms sends, write the
999, 277CA and 835 a payer (or its clearinghouse) sends back.

This is what the sandbox payer needs to be a real counterpart for our own
X12 code, and it is deliberately the mirror of it:

- `read_837(data)` reads 837P (005010X222A1) and 837I (005010X223A2) files,
  ours and well-formed ones in general (the A2/A3 labels are read too), into
  one `SubmittedClaim` per CLM. Anything it cannot read raises
  `pms_core.edi.X12Error` naming the segment position, never a value.
- `write_999(envelope, groups)` acknowledges the functional groups of one
  received interchange (005010X231A1): AK1, per set AK2 ... IK5, AK9.
- `write_277ca(envelope, ...)` says per claim whether it entered adjudication
  (005010X214): accepted with the payer's claim number, or rejected with
  claim status codes.
- `write_835(envelope, remittance)` writes one payment and its claim payments
  (005010X221A1), refusing with ValueError data that does not balance.

Writers take small frozen dataclasses of this module (amounts always integer
cents) and return the file's text with the default delimiters (* : ^ ~). They
check what they are given and raise ValueError for anything that would make
a wrong or unreadable file; messages name the field and claim number (our
own identifier), never a name or member id. Every file they write passes
pyx12 and reads back through `acks.read_acknowledgment` and
`remit835.read_835` (see tests/plugins/test_payer_side.py).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from pms_core.claimdata import Address, Party, PersonName, ProviderView
from pms_x12 import names
from pms_x12.claims837 import DEFAULT_SEPARATORS, _amount, _clean, _decimal, _table
from pms_x12.elements import cents, decimal, fail, number, parse_date, required
from pms_x12.remit835 import CLAIM_STATUS
from pms_x12.segments import VERSIONS, Envelope, Segment, X12Stream

__all__ = [
    "ACCEPTED",
    "INVALID_BILLING_NPI",
    "INVALID_MEMBER_ID",
    "INVALID_PROCEDURE_CODE",
    "INVALID_SERVICE_DATE",
    "OUT_OF_BALANCE",
    "RECEIVED",
    "SUBSCRIBER_NOT_FOUND",
    "AdjudicatedClaim",
    "AdjudicatedLine",
    "Adjustment",
    "BankAccount",
    "ClaimVerdict",
    "ElementError",
    "GroupVerdict",
    "LineVerdict",
    "Payer",
    "ProviderLevelAdjustment",
    "Remittance",
    "ResponseEnvelope",
    "SegmentError",
    "SetVerdict",
    "Status",
    "SubmittedClaim",
    "SubmittedEnvelope",
    "SubmittedLine",
    "group_verdicts",
    "read_837",
    "reversal",
    "write_277ca",
    "write_835",
    "write_999",
]

VERSION_999 = "005010X231A1"
VERSION_277CA = "005010X214"
VERSION_835 = "005010X221A1"


# =====================================================================================
# Reading an 837
# =====================================================================================
@dataclass(frozen=True, slots=True)
class SubmittedEnvelope:
    """Where a claim came from: its interchange, functional group and
    transaction set. Claims of the same set share one instance."""

    kind: str  # "837P" or "837I"
    version: str  # ST03 (else GS08), e.g. "005010X222A1"
    sender_id: str  # ISA06: the 999 goes back to it
    receiver_id: str  # ISA08
    interchange_control: int  # ISA13
    functional_id: str  # GS01 ("HC")
    group_control: int  # GS06
    set_control: str  # ST02
    reference: str  # BHT03: the submitter's batch reference
    submitter_id: str  # 1000A NM1*41 NM109
    submitter_name: str  # 1000A NM103
    receiver_code: str  # 1000B NM1*40 NM109: the receiver's id for itself


@dataclass(frozen=True, slots=True)
class SubmittedLine:
    """One 2400 service line (SV1 or SV2)."""

    line_number: int  # LX01
    qualifier: str  # SV101-1 / SV202-1 ("HC"); "" on a line billed by revenue code alone
    code: str  # procedure code; "" on a line billed by revenue code alone
    modifiers: tuple[str, ...]
    charge_cents: int  # SV102 / SV203
    units: Decimal  # SV104 / SV205
    service_from: date | None  # DTP*472 (D8 or RD8); None when the 837I line has none
    service_to: date | None
    control_number: str | None  # REF*6R: the submitter's line item control number
    revenue_code: str | None = None  # SV201 (837I)


@dataclass(frozen=True, slots=True)
class SubmittedClaim:
    """One 2300 claim as the payer reads it."""

    envelope: SubmittedEnvelope
    position: int  # the CLM's segment position in the file
    claim_number: str  # CLM01: the submitter's patient control number
    total_cents: int  # CLM02
    facility_code: str  # CLM05-1: place of service (837P) or facility type (837I)
    frequency: str  # CLM05-3: 1 original, 7 replacement, 8 void
    payer_claim_number: str | None  # 2300 REF*F8: the claim being replaced or voided
    payer_id: str  # 2010BB NM1*PR NM109
    member_id: str  # 2010BA NM1*IL NM109
    responsibility: str  # SBR01: P, S, T ...
    filing_indicator: str  # SBR09: CI, MB, MC, 12 ...
    dependent: bool  # the patient has a 2000C loop (HL 23): not the subscriber
    patient: PersonName  # 2010CA NM1*QC when dependent, else the subscriber (2010BA)
    billing: ProviderView  # 2010AA: name, NPI, TIN (REF*EI), address, taxonomy
    lines: tuple[SubmittedLine, ...]
    service_from: date | None  # the lines' first date, else DTP*434 (837I)
    service_to: date | None  # the lines' last date, else DTP*434 (837I)

    @property
    def kind(self) -> str:
        return self.envelope.kind


def read_837(data: bytes | str) -> list[SubmittedClaim]:
    """Every claim of an 837P or 837I file, in file order.

    Raises X12Error, naming the segment position and element, for an
    envelope error (see `segments.X12Stream`), a group or set that is not an
    837 of a supported version, a claim outside a subscriber loop, a missing
    or malformed required element (CLM01, CLM02, CLM05-1/-3, SV1/SV2 codes,
    charges and units, NM109 of the subscriber and payer), a claim without
    service lines or a transaction set without claims.
    """
    stream = X12Stream(data)
    env = stream.envelope
    claims: list[SubmittedClaim] = []
    current: _SetReader | None = None
    controls = [0, 0]  # ISA13, GS06
    for seg in stream:
        sid = seg.id
        if sid == "ISA":
            if env.version != "00501":
                raise fail(seg, "interchange version is not supported (00501 only)", 12)
            controls[0] = number(seg, 13)
        elif sid == "GS":
            if seg.get(1).strip() != "HC":
                raise fail(seg, "GS01 is not HC: this functional group does not carry claims", 1)
            controls[1] = number(seg, 6)
        elif sid == "ST":
            if seg.get(1).strip() != "837":
                raise fail(seg, "ST01 is not 837", 1)
            kind = env.kind
            if kind not in ("837P", "837I") or env.set_version not in VERSIONS[kind]:
                supported = ", ".join(VERSIONS["837P"] + VERSIONS["837I"])
                raise fail(seg, f"the 837 version (ST03/GS08) is not one of {supported}", 3)
            current = _SetReader(seg, env, kind, *controls)
        elif sid == "SE":
            if current is not None:
                claims.extend(current.finish(seg))
            current = None
        elif current is not None and sid not in ("GE", "IEA"):
            current.segment(seg)
    return claims


def _dates(seg: Segment) -> tuple[date, date]:
    """DTP02/DTP03: a D8 date or an RD8 range."""
    fmt, value = seg.get(2).strip(), required(seg, 3)
    if fmt == "D8":
        day = parse_date(seg, 3, value)
        return day, day
    if fmt == "RD8":
        start, _, end = value.partition("-")
        first, last = parse_date(seg, 3, start), parse_date(seg, 3, end)
        if last < first:
            raise fail(seg, "DTP03 ends before it starts", 3)
        return first, last
    raise fail(seg, "DTP02 must be D8 or RD8", 2)


def _person(seg: Segment) -> PersonName:
    """NM103..NM107 of an NM1 (NM104 and later None for an organization)."""
    last = required(seg, 3)
    if seg.get(2).strip() == "2":
        return PersonName(last)
    return PersonName(
        last,
        seg.get(4).strip() or None,
        seg.get(5).strip() or None,
        seg.get(7).strip() or None,
    )


@dataclass
class _Line:
    lx: Segment
    number: int
    service: tuple | None = None  # (qualifier, code, modifiers, charge, units, revenue code)
    dates: tuple[date, date] | None = None
    control_number: str | None = None

    def done(self) -> SubmittedLine:
        if self.service is None:
            raise fail(self.lx, "the service line has no SV1 or SV2")
        qualifier, code, modifiers, charge, units, revenue = self.service
        first, last = self.dates or (None, None)
        return SubmittedLine(
            self.number, qualifier, code, modifiers, charge, units, first, last,
            self.control_number, revenue,
        )  # fmt: skip


@dataclass
class _Claim:
    clm: Segment
    number: str
    total: int
    facility: str
    frequency: str
    payer_claim_number: str | None = None
    statement: tuple[date, date] | None = None
    lines: list[SubmittedLine] = field(default_factory=list)


class _SetReader:
    """One 837 transaction set: header, billing providers, subscribers,
    patients, claims and their lines."""

    def __init__(self, st: Segment, env: Envelope, kind: str, interchange: int, group: int) -> None:
        self.st = st
        self.kind = kind
        self.base = dict(
            kind=kind,
            version=env.set_version or "",
            sender_id=env.sender_id,
            receiver_id=env.receiver_id,
            interchange_control=interchange,
            functional_id=env.functional_id or "",
            group_control=group,
            set_control=env.set_control or "",
        )
        self.header = dict(reference="", submitter_id="", submitter_name="", receiver_code="")
        self.envelope: SubmittedEnvelope | None = None
        self.level: str | None = None  # HL03 of the current HL
        self.last_nm1 = ""
        self.taxonomy: str | None = None  # PRV*BI, before the NM1*85
        self.billing_parts: dict | None = None
        self.billing: ProviderView | None = None
        self.subscriber: dict[str, str] = {}
        self.patient: PersonName | None = None
        self.claim: _Claim | None = None
        self.line: _Line | None = None
        self.other_payer = False  # inside a 2320/2330 loop of the current claim
        self.claims: list[SubmittedClaim] = []

    # --- loops --------------------------------------------------------------------
    def _hl(self, seg: Segment) -> None:
        self._close_claim()
        if self.level == "20" and self.billing_parts is not None:
            self.billing = ProviderView(**self.billing_parts)
        self.level = required(seg, 3)
        if self.level == "20":
            self.billing_parts, self.billing, self.taxonomy = None, None, None
            self.subscriber, self.patient = {}, None
        elif self.level == "22":
            if self.billing is None:
                raise fail(seg, "subscriber level (HL 22) without a billing provider (NM1*85)")
            self.subscriber, self.patient = {}, None
        elif self.level == "23":
            if not self.subscriber:
                raise fail(seg, "patient level (HL 23) without a subscriber level (HL 22)")
            self.patient = None

    def _close_line(self) -> None:
        if self.line is not None:
            self.claim.lines.append(self.line.done())
            self.line = None

    def _close_claim(self) -> None:
        self._close_line()
        claim, self.claim, self.other_payer = self.claim, None, False
        if claim is None:
            return
        if not claim.lines:
            raise fail(claim.clm, "the claim has no service lines (LX)")
        days = [d for ln in claim.lines for d in (ln.service_from, ln.service_to) if d]
        first, last = (min(days), max(days)) if days else (claim.statement or (None, None))
        sub = self.subscriber
        self.claims.append(
            SubmittedClaim(
                envelope=self._envelope(),
                position=claim.clm.position,
                claim_number=claim.number,
                total_cents=claim.total,
                facility_code=claim.facility,
                frequency=claim.frequency,
                payer_claim_number=claim.payer_claim_number,
                payer_id=sub["payer_id"],
                member_id=sub["member_id"],
                responsibility=sub.get("responsibility", ""),
                filing_indicator=sub.get("filing_indicator", ""),
                dependent=self.patient is not None,
                patient=self.patient or sub["name"],
                billing=self.billing,
                lines=tuple(claim.lines),
                service_from=first,
                service_to=last,
            )
        )

    def _envelope(self) -> SubmittedEnvelope:
        if self.envelope is None:
            self.envelope = SubmittedEnvelope(**self.base, **self.header)
        return self.envelope

    # --- segments -------------------------------------------------------------------
    def segment(self, seg: Segment) -> None:
        sid = seg.id
        if sid == "HL":
            self._hl(seg)
        elif self.level is None:
            self._header(seg)
        elif sid == "CLM":
            self._clm(seg)
        elif self.claim is not None:
            self._in_claim(seg)
        elif self.level == "20":
            self._billing(seg)
        elif self.level == "22":
            self._subscriber(seg)
        elif self.level == "23" and sid == "NM1" and seg.get(1).strip() == "QC":
            self.patient = _person(seg)

    def _header(self, seg: Segment) -> None:
        sid, entity = seg.id, seg.get(1).strip()
        if sid == "BHT":
            self.header["reference"] = required(seg, 3)
        elif sid == "NM1" and entity == "41":
            self.header["submitter_id"] = required(seg, 9)
            self.header["submitter_name"] = required(seg, 3)
        elif sid == "NM1" and entity == "40":
            self.header["receiver_code"] = required(seg, 9)

    def _billing(self, seg: Segment) -> None:
        sid = seg.id
        if sid == "PRV" and seg.get(1).strip() == "BI":
            self.taxonomy = seg.get(3).strip() or None
        elif sid == "NM1":
            self.last_nm1 = seg.get(1).strip()
            if self.last_nm1 == "85":
                npi = seg.get(9).strip() if seg.get(8).strip() == "XX" else ""
                self.billing_parts = dict(
                    name=_person(seg),
                    npi=npi or None,
                    taxonomy=self.taxonomy,
                )
        elif self.billing_parts is None or self.last_nm1 != "85":
            return  # the pay-to and pay-to plan loops: not kept
        elif sid == "N3":
            self.billing_parts["address"] = Address(
                required(seg, 1), "", "", "", seg.get(2).strip() or None
            )
        elif sid == "N4" and "address" in self.billing_parts:
            self.billing_parts["address"] = replace(
                self.billing_parts["address"],
                city=seg.get(1).strip(),
                state=seg.get(2).strip(),
                zip=seg.get(3).strip(),
            )
        elif sid == "REF" and seg.get(1).strip() == "EI":
            self.billing_parts["tin"] = required(seg, 2)
        elif sid == "PER":
            phone = [seg.get(i + 1).strip() for i in (3, 5, 7) if seg.get(i).strip() == "TE"]
            if phone and "phone" not in self.billing_parts:
                self.billing_parts["phone"] = phone[0]

    def _subscriber(self, seg: Segment) -> None:
        sid, entity = seg.id, seg.get(1).strip()
        if sid == "SBR":
            self.subscriber["responsibility"] = required(seg, 1)
            self.subscriber["filing_indicator"] = seg.get(9).strip()
        elif sid == "NM1" and entity == "IL":
            self.subscriber["member_id"] = required(seg, 9)
            self.subscriber["name"] = _person(seg)
        elif sid == "NM1" and entity == "PR":
            self.subscriber["payer_id"] = required(seg, 9)

    def _clm(self, seg: Segment) -> None:
        self._close_claim()
        if self.level not in ("22", "23"):
            raise fail(seg, "CLM outside a subscriber or patient level (HL 22 or 23)")
        for key, what in (("member_id", "NM1*IL"), ("payer_id", "NM1*PR")):
            if key not in self.subscriber:
                raise fail(seg, f"CLM before the subscriber's {what} with its NM109")
        if self.level == "23" and self.patient is None:
            raise fail(seg, "CLM in a patient level without the patient's NM1*QC")
        total = cents(seg, 2)
        if total is None:
            raise fail(seg, "CLM02 is missing", 2)
        self.claim = _Claim(
            seg,
            number=required(seg, 1),
            total=total,
            facility=required(seg, 5, 1),
            frequency=required(seg, 5, 3),
        )

    def _in_claim(self, seg: Segment) -> None:
        sid, qualifier = seg.id, seg.get(1).strip()
        claim, line = self.claim, self.line
        if sid == "LX":
            self._close_line()
            self.other_payer = False
            number = seg.get(1).strip()
            if not number.isdigit():
                raise fail(seg, "LX01 is missing or not a number", 1)
            self.line = _Line(seg, int(number))
        elif sid == "SBR":
            self.other_payer = True  # 2320: another payer's data, not this claim's
        elif line is None:
            if sid == "REF" and qualifier == "F8" and not self.other_payer:
                claim.payer_claim_number = required(seg, 2)
            elif sid == "DTP" and qualifier == "434":
                claim.statement = _dates(seg)
            elif sid in ("SV1", "SV2"):
                raise fail(seg, f"{sid} before the service line's LX")
        elif sid in ("SV1", "SV2"):
            if (sid == "SV1") != (self.kind == "837P"):
                raise fail(seg, f"{sid} does not belong in an {self.kind} claim")
            if line.service is not None:
                raise fail(seg, f"a second {sid} in the same service line")
            line.service = self._service(seg)
        elif sid == "DTP" and qualifier == "472" and line.dates is None:
            line.dates = _dates(seg)
        elif sid == "REF" and qualifier == "6R":
            line.control_number = required(seg, 2)

    def _service(self, seg: Segment) -> tuple:
        """SV1 (837P) or SV2 (837I): qualifier, code, modifiers, charge, units, revenue code."""
        professional = seg.id == "SV1"
        proc, charge_at, units_at = (1, 2, 4) if professional else (2, 3, 5)
        revenue = None if professional else required(seg, 1)
        parts = [p.strip() for p in seg.components(proc)]
        if professional or parts:
            if len(parts) < 2 or not parts[0] or not parts[1]:
                raise fail(seg, f"{seg.ref(proc)} needs a qualifier and a procedure code", proc)
            qualifier, code, modifiers = parts[0], parts[1], tuple(m for m in parts[2:6] if m)
        else:
            qualifier, code, modifiers = "", "", ()
        charge = cents(seg, charge_at)
        if charge is None:
            raise fail(seg, f"{seg.ref(charge_at)} is missing", charge_at)
        units = decimal(seg, units_at)
        if units is None:
            raise fail(seg, f"{seg.ref(units_at)} is missing", units_at)
        return qualifier, code, modifiers, charge, units, revenue

    def finish(self, se: Segment) -> list[SubmittedClaim]:
        self._close_claim()
        if not self.claims:
            raise fail(
                se, f"the transaction set that began at segment {self.st.position} has no claims"
            )
        return self.claims


# =====================================================================================
# Writing: shared pieces
# =====================================================================================
@dataclass(frozen=True, slots=True)
class ResponseEnvelope:
    """Who sends a response to whom, under which control number and when.

    `sender` is the payer or clearinghouse, `receiver` the submitter (for a
    reply: the received ISA06 becomes ISA08). `control` is both ISA13 and
    GS06. `receiver.name` and `receiver.id` are also the 277CA's information
    receiver (2100B NM1*41)."""

    sender: Party
    receiver: Party
    control: int
    created: datetime
    production: bool = True


_DELIMITERS = frozenset("".join(DEFAULT_SEPARATORS.values()))
_TEXT = _table(DEFAULT_SEPARATORS)


def _ident(value: object, what: str, max_len: int | None = None) -> str:
    """An identifier or code written as given: it must be there and carry no
    delimiter, control character or leading/trailing space."""
    if (
        not isinstance(value, str)
        or not value
        or value != value.strip()
        or not value.isascii()
        or not value.isprintable()
        or _DELIMITERS.intersection(value)
    ):
        raise ValueError(f"{what} is missing or has characters an X12 element cannot carry")
    if max_len is not None and len(value) > max_len:
        raise ValueError(f"{what} is longer than {max_len} characters")
    return value


def _text(value: str | None, size: int, what: str | None = None) -> str:
    """A name: upper case, X12-safe, trimmed to `size`; required when `what` is given."""
    out = _clean(value.upper(), _TEXT)[:size].rstrip() if value else ""
    if not out and what is not None:
        raise ValueError(f"{what} is missing")
    return out


def _money(amount: object, what: str) -> str:
    if type(amount) is not int:
        raise ValueError(f"{what} must be integer cents")
    return _amount(amount)


def _d8(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _dtp_range(first: date, last: date | None) -> str:
    """DTP02*DTP03 for a date or a range."""
    if last is None or last == first:
        return f"D8*{_d8(first)}"
    if last < first:
        raise ValueError("a service period ends before it starts")
    return f"RD8*{_d8(first)}-{_d8(last)}"


def _nm1_names(name: PersonName, what: str) -> str:
    """NM102 .. NM107 of a person (1) or an organization (2)."""
    if name.first is None:
        return f"2*{_text(name.last, 60, what)}****"
    return (
        f"1*{_text(name.last, 60, what)}*{_text(name.first, 35)}*{_text(name.middle, 25)}"
        f"**{_text(name.suffix, 10)}"
    )


def _composite(*parts: str) -> str:
    return ":".join(parts).rstrip(":")


def _procedure(qualifier: str, code: str, modifiers: Sequence[str], what: str) -> str:
    if len(modifiers) > 4:
        raise ValueError(f"{what} has more than four modifiers")
    return _composite(
        _ident(qualifier, f"{what} qualifier"),
        _ident(code, f"{what} code"),
        *(_ident(m, f"{what} modifier") for m in modifiers),
    )


def _interchange(
    envelope: ResponseEnvelope, functional_id: str, version: str, sets: list[list[str]]
) -> str:
    """ISA/GS around `sets` (each from ST to the last body segment; SE is added)."""
    control = operator.index(envelope.control)
    if not 0 < control <= 999_999_999:
        raise ValueError("the response's control number must be 1..999999999")
    created = envelope.created
    sender, receiver = envelope.sender, envelope.receiver
    ids = []
    for party, role in ((sender, "sender"), (receiver, "receiver")):
        ids.append(
            (
                _ident(party.qualifier, f"{role} qualifier (ISA05/ISA07)", 2),
                _ident(party.id, f"{role} id (ISA06/ISA08)", 15),
                _ident(party.gs_code, f"{role} code (GS02/GS03)", 15),
            )
        )
    (sq, sid, sgs), (rq, rid, rgs) = ids
    segs = [
        f"ISA*00*{'':10}*00*{'':10}*{sq}*{sid:<15}*{rq}*{rid:<15}"
        f"*{created:%y%m%d}*{created:%H%M}*^*00501*{control:09d}*0"
        f"*{'P' if envelope.production else 'T'}*:",
        f"GS*{functional_id}*{sgs}*{rgs}*{created:%Y%m%d}*{created:%H%M}*{control}*X*{version}",
    ]
    for body in sets:
        segs.extend(body)
        segs.append(f"SE*{len(body) + 1}*{body[0].split('*')[2]}")
    segs.append(f"GE*{len(sets)}*{control}")
    segs.append(f"IEA*1*{control:09d}")
    return "~".join(segs) + "~"


# =====================================================================================
# 999
# =====================================================================================
@dataclass(frozen=True, slots=True)
class ElementError:
    """An IK4: which element of the segment, and what is wrong with it. The
    bad value itself (IK404) is never written: it may be PHI."""

    position: int  # IK401-1: the element's position in the segment
    code: str  # IK403: 1 missing, 2 conditional missing, 4 too short, 6 invalid character, 7 invalid code ...
    component: int | None = None  # IK401-2
    reference: str | None = None  # IK402: the data element reference number, e.g. "67"


@dataclass(frozen=True, slots=True)
class SegmentError:
    """An IK3 and its IK4s: a segment in error inside a transaction set."""

    segment_id: str  # IK301
    position: int  # IK302: the segment's position in the transaction set (ST is 1)
    code: str = "8"  # IK304: 8 = the segment has data element errors; 3 missing; 2 unexpected ...
    loop_id: str | None = None  # IK303: up to 4 characters (X12 element 447), e.g. "2010"
    elements: tuple[ElementError, ...] = ()
    claim_number: str | None = None  # CTX*CLM01: the claim the segment is in


@dataclass(frozen=True, slots=True)
class SetVerdict:
    """The verdict on one received transaction set (AK2 .. IK5): accepted
    unless it has errors or syntax codes."""

    control_number: str  # AK202: the received ST02
    errors: tuple[SegmentError, ...] = ()
    syntax_codes: tuple[str, ...] = ()  # IK502..IK506; "5" (segments in error) by default
    transaction_set_id: str = "837"  # AK201
    version: str | None = None  # AK203: the received ST03

    @property
    def accepted(self) -> bool:
        return not self.errors and not self.syntax_codes


@dataclass(frozen=True, slots=True)
class GroupVerdict:
    """The verdict on one received functional group (AK1 .. AK9)."""

    group_control: int  # AK102: the received GS06
    version: str  # AK103: the received GS08
    sets: tuple[SetVerdict, ...]
    functional_id: str = "HC"  # AK101: the received GS01

    @property
    def status(self) -> str:
        """AK901: A all sets accepted, R none, P some."""
        accepted = sum(s.accepted for s in self.sets)
        return "A" if accepted == len(self.sets) else "R" if not accepted else "P"


def group_verdicts(
    claims: Iterable[SubmittedClaim],
    errors: Mapping[str, Sequence[SegmentError]] | None = None,
) -> list[GroupVerdict]:
    """The verdicts for the groups and sets the claims came in (in file
    order): every set accepted unless `errors` (keyed by ST02) lists some."""
    errors = errors or {}
    groups: dict[int, tuple[SubmittedEnvelope, dict[str, SetVerdict]]] = {}
    for claim in claims:
        env = claim.envelope
        _, sets = groups.setdefault(env.group_control, (env, {}))
        sets.setdefault(
            env.set_control,
            SetVerdict(
                env.set_control,
                errors=tuple(errors.get(env.set_control, ())),
                version=env.version,
            ),
        )
    return [
        GroupVerdict(control, env.version, tuple(sets.values()), env.functional_id)
        for control, (env, sets) in groups.items()
    ]


def write_999(envelope: ResponseEnvelope, groups: Sequence[GroupVerdict]) -> str:
    """A 999 (005010X231A1) acknowledging the functional groups of one
    received interchange: one transaction set per group, AK1 with its GS01,
    GS06 and GS08; per set AK2 and IK5 (A accepted, R rejected with IK3 /
    CTX / IK4 for each error and IK502 "5" unless syntax codes are given);
    AK9 with the counts. Raises ValueError for a group without sets, a loop
    id longer than four characters or a value with a delimiter in it."""
    if not groups:
        raise ValueError("a 999 acknowledges at least one functional group")
    sets = []
    for n, group in enumerate(groups, start=1):
        if not group.sets:
            raise ValueError(f"group {group.group_control} has no transaction sets to acknowledge")
        control = f"{n:04d}"
        body = [
            f"ST*999*{control}*{VERSION_999}",
            f"AK1*{_ident(group.functional_id, 'AK101')}*{operator.index(group.group_control)}"
            f"*{_ident(group.version, 'AK103')}",
        ]
        for verdict in group.sets:
            body.extend(_set_ack(verdict))
        accepted = sum(s.accepted for s in group.sets)
        count = len(group.sets)
        body.append(f"AK9*{group.status}*{count}*{count}*{accepted}")
        sets.append(body)
    return _interchange(envelope, "FA", VERSION_999, sets)


def _set_ack(verdict: SetVerdict) -> list[str]:
    ak2 = (
        f"AK2*{_ident(verdict.transaction_set_id, 'AK201')}"
        f"*{_ident(verdict.control_number, 'AK202')}"
    )
    if verdict.version:
        ak2 += f"*{_ident(verdict.version, 'AK203')}"
    out = [ak2]
    for error in verdict.errors:
        loop = _ident(error.loop_id, "IK303", 4) if error.loop_id else ""
        ik3 = f"IK3*{_ident(error.segment_id, 'IK301', 3)}*{operator.index(error.position)}"
        out.append(f"{ik3}*{loop}*{_ident(error.code, 'IK304')}")
        if error.claim_number:
            out.append(f"CTX*CLM01:{_ident(error.claim_number, 'CTX01-2 (claim number)')}")
        for element in error.elements:
            where = _composite(
                str(operator.index(element.position)),
                str(operator.index(element.component)) if element.component else "",
            )
            reference = _ident(element.reference, "IK402") if element.reference else ""
            out.append(f"IK4*{where}*{reference}*{_ident(element.code, 'IK403')}")
    if verdict.accepted:
        out.append("IK5*A")
    else:
        codes = verdict.syntax_codes or ("5",)
        if len(codes) > 5:
            raise ValueError("IK5 carries at most five syntax error codes")
        out.append("IK5*R*" + "*".join(_ident(c, "IK502") for c in codes))
    return out


# =====================================================================================
# 277CA
# =====================================================================================
@dataclass(frozen=True, slots=True)
class Status:
    """One STC status composite: category, status code and (optionally) the
    entity the status is about."""

    category: str  # STC01-1: A1/A2 acknowledged, A3/A6/A7/A8 rejected ...
    code: str  # STC01-2: claim status code
    entity: str | None = None  # STC01-3: IL subscriber, QC patient, 85 billing provider ...

    def composite(self) -> str:
        return _composite(
            _ident(self.category, "STC category code"),
            _ident(self.code, "STC status code"),
            _ident(self.entity, "STC entity code") if self.entity else "",
        )


ACCEPTED = Status("A2", "20")  # accepted into the adjudication system, for processing
RECEIVED = Status("A1", "19", "PR")  # the payer acknowledges receipt (batch and provider levels)
INVALID_MEMBER_ID = Status("A7", "164", "IL")  # the subscriber's contract/member number
SUBSCRIBER_NOT_FOUND = Status("A3", "33", "IL")  # subscriber and subscriber id not found
INVALID_BILLING_NPI = Status("A7", "562", "85")  # the billing provider's NPI
INVALID_SERVICE_DATE = Status("A7", "187")  # date(s) of service
OUT_OF_BALANCE = Status("A7", "400")  # the claim's amounts do not add up
INVALID_PROCEDURE_CODE = Status("A7", "454")  # procedure code (a line-level status)


@dataclass(frozen=True, slots=True)
class Payer:
    """The payer as it names itself in a 277CA (2100A) and an 835 (1000A)."""

    name: str
    payer_id: str  # 277CA NM109 (PI) and 835 REF*2U
    tin: str  # 9 digits; the 835 TRN03 is "1" + TIN
    address: Address  # 835 N3/N4
    phone: str  # 835 PER*BL: provider services, 10 digits


@dataclass(frozen=True, slots=True)
class LineVerdict:
    """A 2220D service line: only for lines the payer rejects."""

    code: str
    charge_cents: int  # SVC02
    units: Decimal  # SVC07
    statuses: tuple[Status, ...]  # one STC: up to three, all rejections
    service_from: date | None = None  # DTP*472
    service_to: date | None = None
    control_number: str | None = None  # REF*FJ: the submitter's REF*6R
    modifiers: tuple[str, ...] = ()
    qualifier: str = "HC"  # SVC01-1; NU for a revenue code
    revenue_code: str | None = None  # SVC04


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    """The payer's verdict on one claim (2000D/2200D). A claim is accepted
    when every status is of an accepted category (A1, A2) and no line is
    rejected; rejected when a status is of a rejected category (A3, A6, A7,
    A8); anything else is refused."""

    claim_number: str  # TRN02: the submitter's CLM01
    total_cents: int  # STC04: CLM02
    patient: PersonName  # NM1*QC
    member_id: str  # NM1*QC NM109 (MI)
    billing: ProviderView  # the 2000C provider level (name and NPI)
    service_from: date  # DTP*472
    service_to: date | None = None
    statuses: tuple[Status, ...] = (ACCEPTED,)
    payer_claim_number: str | None = None  # REF*1K, for accepted claims
    clearinghouse_trace: str | None = None  # REF*D9
    bill_type: str | None = None  # REF*BLT (837I): facility type + frequency, e.g. "131"
    lines: tuple[LineVerdict, ...] = ()  # 2220D: rejected lines

    @property
    def accepted(self) -> bool:
        return not self.lines and all(
            s.category in names.ACCEPTED_CATEGORIES for s in self.statuses
        )


def write_277ca(
    envelope: ResponseEnvelope,
    *,
    payer: Payer,
    claims: Sequence[ClaimVerdict],
    batch: str,
    received: date,
    processed: date,
) -> str:
    """A 277CA (005010X214) for claims received on `received` and checked
    on `processed` (STC02): the payer (2000A), the submitter
    (`envelope.receiver`, 2000B, with `batch` as its TRN02 and the counts and
    amounts accepted and rejected), one 2000C per billing provider (by NPI,
    in order of first appearance) and one 2000D per claim: TRN*2 with our
    claim number, STC (action WQ accepted, U rejected; three statuses per
    STC), REF*1K, REF*D9, REF*BLT, DTP*472 and rejected lines.
    Raises ValueError for a claim neither clearly accepted nor rejected, a
    rejected line on an accepted claim, a provider without an NPI or a value
    an X12 element cannot carry (messages name claim numbers, never people)."""
    if not claims:
        raise ValueError("a 277CA answers at least one claim")
    providers: dict[str, list[ClaimVerdict]] = {}
    for index, claim in enumerate(claims, start=1):
        _check_verdict(index, claim)
        npi = _ident(claim.billing.npi, f"claim {index} billing provider NPI")
        providers.setdefault(npi, []).append(claim)

    def counts(group: Sequence[ClaimVerdict], qty: tuple[str, str]) -> list[str]:
        out = []
        accepted = [c for c in group if c.accepted]
        rejected = [c for c in group if not c.accepted]
        if accepted:
            out.append(f"QTY*{qty[0]}*{len(accepted)}")
        if rejected:
            out.append(f"QTY*{qty[1]}*{len(rejected)}")
        if accepted:
            out.append(f"AMT*YU*{_amount(sum(c.total_cents for c in accepted))}")
        if rejected:
            out.append(f"AMT*YY*{_amount(sum(c.total_cents for c in rejected))}")
        return out

    def action(group: Sequence[ClaimVerdict]) -> str:
        return "WQ" if any(c.accepted for c in group) else "U"

    created = envelope.created
    receiver = envelope.receiver
    total = _amount(sum(c.total_cents for c in claims))
    body = [
        f"ST*277*0001*{VERSION_277CA}",
        f"BHT*0085*08*{envelope.control}*{created:%Y%m%d}*{created:%H%M}*TH",
        "HL*1**20*1",
        f"NM1*PR*2*{_text(payer.name, 60, 'payer name')}*****PI"
        f"*{_ident(payer.payer_id, 'payer id')}",
        f"TRN*1*{envelope.control}",
        f"DTP*050*D8*{_d8(received)}",
        f"DTP*009*D8*{_d8(processed)}",
        "HL*2*1*21*1",
        f"NM1*41*2*{_text(receiver.name, 60, 'receiver name')}*****46"
        f"*{_ident(receiver.id, 'receiver id')}",
        f"TRN*2*{_ident(batch, 'batch reference (2200B TRN02)')}",
        f"STC*{RECEIVED.composite()}*{_d8(processed)}*{action(claims)}*{total}",
        *counts(claims, ("90", "AA")),
    ]
    hl = 2
    for npi, group in providers.items():
        hl += 1
        provider_hl = hl
        provider_total = _amount(sum(c.total_cents for c in group))
        body += [
            f"HL*{hl}*2*19*1",
            f"NM1*85*{_nm1_names(group[0].billing.name, 'billing provider name')}*XX*{npi}",
            f"TRN*1*{_ident(batch, 'batch reference')}",
            f"STC*{RECEIVED.composite()}**{action(group)}*{provider_total}",
            *counts(group, ("QA", "QC")),
        ]
        for claim in group:
            hl += 1
            body += [f"HL*{hl}*{provider_hl}*PT", *_claim_277(claim, processed)]
    return _interchange(envelope, "HN", VERSION_277CA, [body])


def _check_verdict(index: int, claim: ClaimVerdict) -> None:
    what = f"claim {index} ({_ident(claim.claim_number, f'claim {index} claim number')})"
    if not claim.statuses:
        raise ValueError(f"{what} has no status")
    _money(claim.total_cents, f"{what} total")
    rejected = any(s.category in names.REJECTED_CATEGORIES for s in claim.statuses)
    if not claim.accepted and not rejected:
        raise ValueError(
            f"{what} is neither accepted (A1/A2 statuses only, no rejected lines) nor "
            "rejected (an A3/A6/A7/A8 status)"
        )
    for n, line in enumerate(claim.lines, start=1):
        if not 1 <= len(line.statuses) <= 3:
            raise ValueError(f"{what} line {n} needs one to three statuses (one STC)")
        if not all(s.category in names.REJECTED_CATEGORIES for s in line.statuses):
            raise ValueError(f"{what} line {n}: a line is listed only to reject it")


def _stc(statuses: Sequence[Status], *tail: str) -> list[str]:
    """STC segments, three statuses each (STC01, STC10, STC11); `tail` is
    STC02 onwards (at most to STC09)."""
    out = []
    for start in range(0, len(statuses), 3):
        first, *more = statuses[start : start + 3]
        elements = [first.composite(), *tail]
        if more:
            elements += [""] * (9 - len(elements)) + [s.composite() for s in more]
        out.append("STC*" + "*".join(elements))
    return out


def _claim_277(claim: ClaimVerdict, processed: date) -> list[str]:
    action = "WQ" if claim.accepted else "U"
    out = [
        f"NM1*QC*{_nm1_names(claim.patient, 'patient name')}*MI"
        f"*{_ident(claim.member_id, f'claim {claim.claim_number} member id')}",
        f"TRN*2*{claim.claim_number}",
        *_stc(claim.statuses, _d8(processed), action, _amount(claim.total_cents)),
    ]
    if claim.payer_claim_number:
        out.append(f"REF*1K*{_ident(claim.payer_claim_number, 'payer claim number')}")
    if claim.clearinghouse_trace:
        out.append(f"REF*D9*{_ident(claim.clearinghouse_trace, 'clearinghouse trace')}")
    if claim.bill_type:
        out.append(f"REF*BLT*{_ident(claim.bill_type, 'bill type')}")
    out.append(f"DTP*472*{_dtp_range(claim.service_from, claim.service_to)}")
    for line in claim.lines:
        what = f"claim {claim.claim_number} line"
        revenue = _ident(line.revenue_code, f"{what} revenue code") if line.revenue_code else ""
        procedure = _procedure(line.qualifier, line.code, line.modifiers, f"{what} procedure")
        out.append(
            f"SVC*{procedure}*{_money(line.charge_cents, f'{what} charge')}**{revenue}"
            f"***{_decimal(line.units)}"
        )
        out.extend(_stc(line.statuses, _d8(processed), "U"))
        if line.control_number:
            out.append(f"REF*FJ*{_ident(line.control_number, f'{what} control number')}")
        if line.service_from is not None:
            out.append(f"DTP*472*{_dtp_range(line.service_from, line.service_to)}")
    return out


# =====================================================================================
# 835
# =====================================================================================
CAS_GROUPS = frozenset({"CO", "OA", "PI", "PR"})  # CR is not used in 005010X221A1
# CLP06: the 835's claim filing indicator codes. Not the 837's SBR09 list: there is
# no CI or BL here (commercial plans are reported as 12 PPO, 13 POS, 15 indemnity,
# HM HMO ...).
CLAIM_FILING_INDICATORS = frozenset(
    {"12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM"}
    | {"LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"}
)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS reason: group (CO contractual, PR patient responsibility, OA
    other, PI payer initiated), CARC and amount (positive reduces the payment)."""

    group: str
    reason: str
    amount_cents: int
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AdjudicatedLine:
    """One 2110 service payment: SVC02 - sum(CAS) must equal SVC03."""

    code: str  # SVC01-2 ("" with a revenue code: SVC01 is then NU:revenue code)
    charge_cents: int  # SVC02
    paid_cents: int  # SVC03
    service_from: date  # DTM*472 (or DTM*150/151 for a range)
    units: Decimal = Decimal(1)  # SVC05
    modifiers: tuple[str, ...] = ()
    service_to: date | None = None
    control_number: str | None = None  # REF*6R: the submitter's line item control number
    allowed_cents: int | None = None  # AMT*B6
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()  # LQ*HE: RARCs, e.g. N115, M15
    revenue_code: str | None = None  # SVC04 (institutional)


@dataclass(frozen=True, slots=True)
class AdjudicatedClaim:
    """One 2100 claim payment: CLP03 - claim CAS - line CAS must equal CLP04.
    CLP05 (patient responsibility) is the sum of the PR adjustments."""

    claim_number: str  # CLP01: the submitter's CLM01
    status: str  # CLP02: 1 primary, 2 secondary, 4 denied, 22 reversal ...
    charge_cents: int  # CLP03
    paid_cents: int  # CLP04
    payer_claim_number: str  # CLP07
    patient: PersonName  # NM1*QC
    member_id: str  # NM1*QC NM109 (MI)
    filing_indicator: str = "12"  # CLP06: 12 PPO, HM HMO, MB Medicare B, MC Medicaid ...
    facility_code: str | None = "11"  # CLP08: place of service or facility type
    frequency: str | None = "1"  # CLP09
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    lines: tuple[AdjudicatedLine, ...] = ()
    service_from: date | None = None  # DTM*232 (when no line carries the dates)
    service_to: date | None = None  # DTM*233

    @property
    def patient_responsibility_cents(self) -> int:
        adjustments = [*self.adjustments, *(a for ln in self.lines for a in ln.adjustments)]
        return sum(a.amount_cents for a in adjustments if a.group == "PR")


@dataclass(frozen=True, slots=True)
class ProviderLevelAdjustment:
    """One PLB adjustment: positive amounts reduce the payment (WO
    overpayment recovery), negative ones add to it (L6 interest)."""

    reason: str  # PLB03-1: L6 interest, WO overpayment recovery, 72 authorized return ...
    amount_cents: int
    reference: str | None = None  # PLB03-2


@dataclass(frozen=True, slots=True)
class BankAccount:
    """An ACH routing (ABA, 9 digits) and account number."""

    routing: str
    account: str


@dataclass(frozen=True, slots=True)
class Remittance:
    """One payment (BPR/TRN) to one payee and the claims it pays.

    `payment_cents` (BPR02) must equal sum(CLP04) - sum(PLB). `method` is
    ACH (both bank accounts required, a positive payment), CHK (a positive
    payment) or NON (no payment: BPR02 zero, BPR01 H)."""

    payer: Payer
    payee: ProviderView  # N1*PE with its NPI (XX), REF*TJ its TIN, N3/N4 its address
    payment_cents: int  # BPR02
    method: str  # BPR04
    payment_date: date  # BPR16
    trace_number: str  # TRN02: the EFT trace or check number
    claims: tuple[AdjudicatedClaim, ...]
    provider_adjustments: tuple[ProviderLevelAdjustment, ...] = ()
    production_date: date | None = None  # DTM*405
    payer_account: BankAccount | None = None  # BPR07/BPR09 (ACH)
    payee_account: BankAccount | None = None  # BPR13/BPR15 (ACH)


def reversal(claim: AdjudicatedClaim) -> AdjudicatedClaim:
    """The claim payment that takes `claim` back: status 22 and every amount
    negated (charge, payment, adjustments, line amounts)."""

    def back(adjustments: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
        return tuple(replace(a, amount_cents=-a.amount_cents) for a in adjustments)

    lines = tuple(
        replace(
            ln,
            charge_cents=-ln.charge_cents,
            paid_cents=-ln.paid_cents,
            allowed_cents=None if ln.allowed_cents is None else -ln.allowed_cents,
            adjustments=back(ln.adjustments),
        )
        for ln in claim.lines
    )
    return replace(
        claim,
        status="22",
        charge_cents=-claim.charge_cents,
        paid_cents=-claim.paid_cents,
        adjustments=back(claim.adjustments),
        lines=lines,
    )


def write_835(envelope: ResponseEnvelope, remittance: Remittance) -> str:
    """An 835 (005010X221A1) with one transaction set: BPR, TRN*1, DTM*405,
    the payer (N1*PR, N3, N4, REF*2U, PER*BL), the payee (N1*PE with NPI,
    N3/N4, REF*TJ), one LX with a CLP loop per claim (CAS, NM1*QC, DTM*232/233,
    SVC with DTM*472, CAS, REF*6R, AMT*B6, LQ*HE) and one PLB segment per six
    provider-level adjustments.

    Raises ValueError when a line, a claim or the payment does not balance
    (SVC02 - CAS = SVC03, CLP03 - CAS = CLP04, sum(CLP04) - PLB = BPR02),
    for a negative payment, a method that does not fit the amount, an
    unknown CLP02 or CLP06, a CAS group other than CO/OA/PI/PR, a reversal (22) with
    positive amounts, a denial (4) that pays, and for values an X12 element
    cannot carry. Messages name claim numbers and fields, never people."""
    r = remittance
    for index, claim in enumerate(r.claims, start=1):
        _check_claim(index, claim)
    plb_total = 0
    for adj in r.provider_adjustments:
        _ident(adj.reason, "PLB adjustment reason", 2)
        plb_total += operator.index(adj.amount_cents)
    paid = sum(c.paid_cents for c in r.claims)
    payment = operator.index(r.payment_cents)
    if paid - plb_total != payment:
        raise ValueError(
            f"the payment does not balance: the claim payments ({_amount(paid)}) minus the "
            f"provider adjustments ({_amount(plb_total)}) are not BPR02 ({_amount(payment)})"
        )
    body = [
        "ST*835*0001",
        _bpr(r),
        f"TRN*1*{_ident(r.trace_number, 'trace number (TRN02)')}"
        f"*1{_ident(r.payer.tin, 'payer TIN', 9)}",
    ]
    if r.production_date is not None:
        body.append(f"DTM*405*{_d8(r.production_date)}")
    body += [
        f"N1*PR*{_text(r.payer.name, 60, 'payer name')}",
        *_address(r.payer.address, "payer"),
        f"REF*2U*{_ident(r.payer.payer_id, 'payer id')}",
        f"PER*BL*PROVIDER SERVICES*TE*{_ident(r.payer.phone, 'payer phone')}",
        f"N1*PE*{_text(_full_name(r.payee.name), 60, 'payee name')}*XX"
        f"*{_ident(r.payee.npi, 'payee NPI', 10)}",
    ]
    if r.payee.address is not None:
        body += _address(r.payee.address, "payee")
    if r.payee.tin:
        body.append(f"REF*TJ*{_ident(r.payee.tin, 'payee TIN', 9)}")
    if r.claims:
        body.append("LX*1")
        for claim in r.claims:
            body += _clp(claim)
    adjustments = r.provider_adjustments
    fiscal = f"{r.payment_date.year}1231"
    for start in range(0, len(adjustments), 6):
        pairs = []
        for adj in adjustments[start : start + 6]:
            reference = _ident(adj.reference, "PLB03-2") if adj.reference else ""
            pairs.append(f"{_composite(adj.reason, reference)}*{_amount(adj.amount_cents)}")
        body.append(f"PLB*{r.payee.npi}*{fiscal}*" + "*".join(pairs))
    return _interchange(envelope, "HP", VERSION_835, [body])


def _check_claim(index: int, claim: AdjudicatedClaim) -> None:
    what = f"claim {index} ({_ident(claim.claim_number, f'claim {index} CLP01')})"
    if claim.status not in CLAIM_STATUS:
        raise ValueError(f"{what}: CLP02 is not a claim status code")
    charge = operator.index(claim.charge_cents)
    paid = operator.index(claim.paid_cents)
    if claim.filing_indicator not in CLAIM_FILING_INDICATORS:
        raise ValueError(f"{what}: CLP06 is not an 835 claim filing indicator code")
    if claim.status == "22" and (charge > 0 or paid > 0):
        raise ValueError(f"{what}: a reversal (CLP02 22) carries negative amounts")
    if claim.status == "4" and paid:
        raise ValueError(f"{what}: a denied claim (CLP02 4) pays nothing")
    line_cas = 0
    for n, line in enumerate(claim.lines, start=1):
        cas = _cas_total(line.adjustments, f"{what} line {n}")
        if operator.index(line.charge_cents) - cas != operator.index(line.paid_cents):
            raise ValueError(
                f"{what} line {n} does not balance: SVC02 minus its adjustments is not SVC03"
            )
        line_cas += cas
    claim_cas = _cas_total(claim.adjustments, what)
    if charge - claim_cas - line_cas != paid:
        raise ValueError(
            f"{what} does not balance: CLP03 minus the claim and line adjustments is not CLP04"
        )


def _cas_total(adjustments: Sequence[Adjustment], what: str) -> int:
    total = 0
    for adj in adjustments:
        if adj.group not in CAS_GROUPS:
            raise ValueError(f"{what}: CAS group must be one of CO, OA, PI, PR")
        _ident(adj.reason, f"{what} CAS reason", 5)
        total += operator.index(adj.amount_cents)
    return total


def _bpr(r: Remittance) -> str:
    amount = _amount(r.payment_cents)
    day = _d8(r.payment_date)
    if r.payment_cents < 0:
        raise ValueError("BPR02 cannot be negative: carry a net takeback as a PLB forward balance")
    if r.method == "NON":
        if r.payment_cents:
            raise ValueError("a payment method of NON pays nothing: BPR02 must be zero")
        return f"BPR*H*0*C*NON{'*' * 12}{day}"
    if not r.payment_cents:
        raise ValueError(f"a zero payment is sent with method NON, not {r.method}")
    if r.method == "CHK":
        return f"BPR*I*{amount}*C*CHK{'*' * 12}{day}"
    if r.method != "ACH":
        raise ValueError("the payment method must be ACH, CHK or NON")
    if r.payer_account is None or r.payee_account is None:
        raise ValueError("an ACH payment needs the payer's and the payee's bank accounts")
    payer, payee = r.payer_account, r.payee_account
    return (
        f"BPR*I*{amount}*C*ACH*CCP*01*{_ident(payer.routing, 'payer routing number', 9)}*DA"
        f"*{_ident(payer.account, 'payer account number')}*1{r.payer.tin}**01"
        f"*{_ident(payee.routing, 'payee routing number', 9)}*DA"
        f"*{_ident(payee.account, 'payee account number')}*{day}"
    )


def _full_name(name: PersonName) -> str:
    return " ".join(p for p in (name.first, name.middle, name.last, name.suffix) if p)


def _address(address: Address, what: str) -> list[str]:
    n3 = f"N3*{_text(address.line1, 55, f'{what} address')}"
    if address.line2:
        n3 += f"*{_text(address.line2, 55)}"
    n4 = (
        f"N4*{_text(address.city, 30, f'{what} city')}*{_ident(address.state, f'{what} state', 2)}"
        f"*{_ident(address.zip, f'{what} ZIP')}"
    )
    return [n3, n4]


def _cas(adjustments: Sequence[Adjustment]) -> list[str]:
    """One CAS per group code (in order of first appearance), six reasons each."""
    groups: dict[str, list[str]] = {}
    for adj in adjustments:
        quantity = _decimal(adj.quantity) if adj.quantity is not None else ""
        groups.setdefault(adj.group, []).append(
            f"{adj.reason}*{_amount(adj.amount_cents)}*{quantity}"
        )
    out = []
    for group, triples in groups.items():
        for start in range(0, len(triples), 6):
            out.append(f"CAS*{group}*{'*'.join(triples[start : start + 6])}".rstrip("*"))
    return out


def _clp(claim: AdjudicatedClaim) -> list[str]:
    what = f"claim {claim.claim_number}"
    optional = [
        _ident(claim.facility_code, f"{what} CLP08") if claim.facility_code else "",
        _ident(claim.frequency, f"{what} CLP09") if claim.frequency else "",
    ]
    clp = (
        f"CLP*{claim.claim_number}*{claim.status}*{_amount(claim.charge_cents)}"
        f"*{_amount(claim.paid_cents)}*{_amount(claim.patient_responsibility_cents)}"
        f"*{claim.filing_indicator}"
        f"*{_ident(claim.payer_claim_number, f'{what} payer claim number (CLP07)')}"
        f"*{'*'.join(optional)}"
    )
    out = [
        clp.rstrip("*"),
        *_cas(claim.adjustments),
        f"NM1*QC*{_nm1_names(claim.patient, f'{what} patient name')}*MI"
        f"*{_ident(claim.member_id, f'{what} member id')}",
    ]
    if claim.service_from is not None:
        out.append(f"DTM*232*{_d8(claim.service_from)}")
        out.append(f"DTM*233*{_d8(claim.service_to or claim.service_from)}")
    for n, line in enumerate(claim.lines, start=1):
        where = f"{what} line {n}"
        if line.code:
            procedure = _procedure("HC", line.code, line.modifiers, f"{where} procedure")
            revenue = (
                _ident(line.revenue_code, f"{where} revenue code") if line.revenue_code else ""
            )
        elif line.revenue_code:
            procedure = f"NU:{_ident(line.revenue_code, f'{where} revenue code')}"
            revenue = ""
        else:
            raise ValueError(f"{where} has neither a procedure nor a revenue code")
        out.append(
            f"SVC*{procedure}*{_amount(line.charge_cents)}*{_amount(line.paid_cents)}"
            f"*{revenue}*{_decimal(line.units)}"
        )
        end = line.service_to
        if end is None or end == line.service_from:
            out.append(f"DTM*472*{_d8(line.service_from)}")
        elif end < line.service_from:
            raise ValueError(f"{where}: the service period ends before it starts")
        else:
            out += [f"DTM*150*{_d8(line.service_from)}", f"DTM*151*{_d8(end)}"]
        out += _cas(line.adjustments)
        if line.control_number:
            out.append(f"REF*6R*{_ident(line.control_number, f'{where} control number')}")
        if line.allowed_cents is not None:
            out.append(f"AMT*B6*{_money(line.allowed_cents, f'{where} allowed amount')}")
        out += [f"LQ*HE*{_ident(code, f'{where} remark code')}" for code in line.remarks]
    return out
