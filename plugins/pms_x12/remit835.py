"""The 835 reader (`005010X221A1`): remittance advice, streamed.

`read_835(source)` takes a binary file and yields `pms_core.remitdata`
items one at a time (see that module): the file is read a megabyte at a time
and no more than one claim payment is held, so a 100,000-claim file reads in
bounded memory. Several interchanges, groups and transaction sets per file,
any delimiters, a byte-order mark and line breaks between segments are
accepted.

A segment that cannot be read (a missing or malformed required element, an
amount with fractions of a cent, an unknown CAS group) ends the reading of
its transaction set only: the reader skips to that set's SE and yields a
`RemitSetEnd` with the problem, then goes on with the next set. An envelope
error raises X12Error (the whole file is refused). Messages name segment
positions and elements, never values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from pms_core.edi import X12Error, X12Problem
from pms_core.remitdata import (
    Adjustment,
    ProviderAdjustment,
    RemitClaim,
    RemitHeader,
    RemitItem,
    RemitLine,
    RemitSetEnd,
)
from pms_x12.elements import cents, code, decimal, fail, parse_date, required
from pms_x12.segments import VERSIONS, EnvelopeError, Segment, X12Stream

__all__ = ["RemitReader835", "read_835"]

CLAIM_STATUS = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to additional payer(s)",
    "20": "processed as secondary, forwarded to additional payer(s)",
    "21": "processed as tertiary, forwarded to additional payer(s)",
    "22": "reversal of previous payment",
    "23": "not our claim, forwarded to additional payer(s)",
    "25": "predetermination pricing only, no payment",
}
ADJUSTMENT_GROUPS = {
    "CO": "contractual obligation",
    "CR": "correction and reversal",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
    "PR": "patient responsibility",
}
HANDLING = {"C", "D", "H", "I", "P", "U", "X"}
_CLAIM_SEGMENTS = frozenset(
    ("CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY", "SVC", "LQ")
)


def _amount(seg: Segment, index: int, component: int | None = None) -> int:
    value = cents(seg, index, component)
    if value is None:
        raise fail(seg, f"{seg.ref(index, component)} is missing", index)
    return value


def _optional_date(seg: Segment, index: int):
    text = seg.get(index).strip()
    return parse_date(seg, index, text) if text else None


def _adjustments(seg: Segment) -> list[Adjustment]:
    """CAS: a group code and up to six reason/amount/quantity triples."""
    group = code(seg, 1, ADJUSTMENT_GROUPS)
    found = []
    last = min(len(seg.elements) - 1, 19)
    for start in range(2, last + 1, 3):
        reason = seg.elements[start].strip()
        if not reason:
            if seg.get(start + 1).strip():
                raise fail(seg, f"{seg.ref(start)} is missing", start)
            continue
        if not (1 <= len(reason) <= 5 and reason.isalnum()):
            raise fail(seg, f"{seg.ref(start)} is not a valid adjustment reason code", start)
        quantity = decimal(seg, start + 2) if start + 2 <= last else None
        found.append(Adjustment(group, reason, _amount(seg, start + 1), quantity))
    if not found:
        raise fail(seg, "CAS02 is missing", 2)
    return found


def _procedure(seg: Segment, index: int) -> tuple[str, str, tuple[str, ...]]:
    """SVC01/SVC06: qualifier, code and up to four modifiers. Tolerated: a
    composite split by ">" when the ISA declares another component separator
    that the element does not use (">" is the separator the guide recommends,
    and payers' files are seen using it while ISA16 says otherwise)."""
    parts = seg.components(index)
    if len(parts) == 1 and ">" in parts[0] and ">" not in seg.delimiters:
        parts = parts[0].split(">")
    if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
        raise fail(seg, f"{seg.ref(index)} needs a qualifier and a procedure code", index)
    modifiers = tuple(m.strip() for m in parts[2:6] if m.strip())
    return parts[0].strip(), parts[1].strip(), modifiers


class _SetReader:
    """One transaction set: the header segments, then claims, then PLBs."""

    def __init__(self, st: Segment, stream: X12Stream) -> None:
        env = stream.envelope
        self.position = st.position
        self.set_control = env.set_control or ""
        self.interchange_control = env.control
        self.sender_id = env.sender_id
        self.segments: dict[str, Segment] = {}  # header segments by their key
        self.party: str | None = None  # the N1 loop we are in: PR or PE
        self.header: RemitHeader | None = None
        self.claim: RemitClaim | None = None
        self.line: RemitLine | None = None
        self.plbs: list[ProviderAdjustment] = []

    # --- the header ---------------------------------------------------------------
    def _header_segment(self, seg: Segment) -> None:
        sid = seg.id
        if sid in ("BPR", "TRN"):
            self.segments[sid] = seg
        elif sid == "DTM" and seg.get(1).strip() == "405":
            self.segments["DTM405"] = seg
        elif sid == "N1":
            self.party = seg.get(1).strip()
            if self.party in ("PR", "PE"):
                self.segments[f"N1{self.party}"] = seg
        elif sid == "REF" and self.party is not None:
            self.segments[f"REF{self.party}{seg.get(1).strip()}"] = seg

    def _build_header(self, at: Segment) -> RemitHeader:
        seg = self.segments
        for key, what in (("BPR", "BPR"), ("TRN", "TRN"), ("N1PR", "N1*PR"), ("N1PE", "N1*PE")):
            if key not in seg:
                raise fail(at, f"the transaction set has no {what} before this segment")
        bpr, trn, payer, payee = seg["BPR"], seg["TRN"], seg["N1PR"], seg["N1PE"]
        handling = code(bpr, 1)
        if handling not in HANDLING:
            raise fail(bpr, "BPR01 is not a valid transaction handling code", 1)
        credit_debit = required(bpr, 3)
        if credit_debit not in ("C", "D"):
            raise fail(bpr, "BPR03 must be C or D", 3)
        if trn.get(1).strip() != "1":
            raise fail(trn, "TRN01 must be 1 (current transaction trace numbers)", 1)
        notes = []
        try:
            payment_date = _optional_date(bpr, 16)
        except X12Error:  # informational: the posting falls back to DTM*405
            payment_date = None
            notes.append(f"segment {bpr.position} (BPR): BPR16 is not a valid date; ignored")
        payer_ref = seg.get("REFPR2U")
        payee_tin = seg.get("REFPETJ")
        dtm = seg.get("DTM405")
        return RemitHeader(
            position=self.position,
            set_control=self.set_control,
            interchange_control=self.interchange_control,
            sender_id=self.sender_id,
            handling=handling,
            payment_cents=_amount(bpr, 2),
            credit_debit=credit_debit,
            method=code(bpr, 4),
            payment_date=payment_date,
            trace_number=required(trn, 2),
            originator=required(trn, 3),
            production_date=_optional_date(dtm, 2) if dtm else None,
            payer_name=payer.get(2).strip(),
            payer_identifier=(payer_ref.get(2).strip() if payer_ref else None)
            or payer.get(4).strip()
            or None,
            payee_name=payee.get(2).strip(),
            payee_qualifier=payee.get(3).strip() or None,
            payee_identifier=payee.get(4).strip() or None,
            payee_tin=payee_tin.get(2).strip() if payee_tin else None,
            notes=notes,
        )

    # --- claims -----------------------------------------------------------------------
    def _start_claim(self, seg: Segment) -> None:
        status = required(seg, 2)
        if status not in CLAIM_STATUS:
            raise fail(seg, "CLP02 is not a claim status code", 2)
        self.claim = RemitClaim(
            position=seg.position,
            claim_number=required(seg, 1),
            status_code=status,
            charge_cents=_amount(seg, 3),
            paid_cents=_amount(seg, 4),
            patient_resp_cents=cents(seg, 5),
            filing_indicator=required(seg, 6),
            payer_claim_number=seg.get(7).strip() or None,
            facility_type=seg.get(8).strip() or None,
            frequency=seg.get(9).strip() or None,
        )
        self.line = None

    def _claim_segment(self, seg: Segment) -> None:
        claim, line, sid = self.claim, self.line, seg.id
        if sid == "SVC":
            qualifier, procedure, modifiers = _procedure(seg, 1)
            original = _procedure(seg, 6) if seg.get(6).strip() else None
            self.line = RemitLine(
                position=seg.position,
                qualifier=qualifier,
                procedure=procedure,
                modifiers=modifiers,
                charge_cents=_amount(seg, 2),
                paid_cents=_amount(seg, 3),
                revenue_code=seg.get(4).strip() or None,
                units=decimal(seg, 5),
                original_procedure=original[1] if original else None,
                original_modifiers=original[2] if original else (),
            )
            claim.lines.append(self.line)
        elif sid == "CAS":
            (line or claim).adjustments.extend(_adjustments(seg))
        elif sid == "DTM":
            qualifier = seg.get(1).strip()
            day = parse_date(seg, 2, required(seg, 2))
            if line is not None:
                if qualifier in ("472", "150"):
                    line.service_from = day
                    line.service_to = line.service_to if qualifier == "150" else day
                elif qualifier == "151":
                    line.service_to = day
            elif qualifier == "232":
                claim.service_from = day
            elif qualifier == "233":
                claim.service_to = day
        elif sid == "REF" and line is not None and seg.get(1).strip() == "6R":
            line.control_number = required(seg, 2)
        elif sid == "AMT" and line is not None and seg.get(1).strip() == "B6":
            line.allowed_cents = _amount(seg, 2)
        elif sid == "LQ" and line is not None and seg.get(1).strip() == "HE":
            line.remarks.append(required(seg, 2))
        elif sid == "NM1" and line is None:
            self._claim_party(seg)
        elif sid == "MOA" and line is None:
            claim.remarks.extend(v for i in range(3, 8) if (v := seg.get(i).strip()))
        elif sid == "MIA" and line is None:
            claim.remarks.extend(v for i in (5, 20, 21, 22, 23) if (v := seg.get(i).strip()))

    def _claim_party(self, seg: Segment) -> None:
        claim, entity = self.claim, seg.get(1).strip()
        if entity == "QC":
            claim.patient_last = seg.get(3).strip() or None
            claim.patient_first = seg.get(4).strip() or None
            claim.member_id = seg.get(9).strip() or claim.member_id
        elif entity == "IL" and not claim.member_id:
            claim.member_id = seg.get(9).strip() or None
        elif entity == "82" and seg.get(8).strip() == "XX":
            claim.rendering_npi = seg.get(9).strip() or None

    def _plb(self, seg: Segment) -> None:
        provider = required(seg, 1)
        fiscal = parse_date(seg, 2, required(seg, 2))
        pairs = 0
        for index in range(3, 15, 2):
            if not seg.get(index).strip():
                continue
            reason = required(seg, index, 1)
            if not (len(reason) == 2 and reason.isalnum()):
                raise fail(seg, f"{seg.ref(index, 1)} is not an adjustment reason code", index)
            self.plbs.append(
                ProviderAdjustment(
                    position=seg.position,
                    provider_identifier=provider,
                    fiscal_period_end=fiscal,
                    reason=reason,
                    reference=seg.get(index, 2).strip() or None,
                    amount_cents=_amount(seg, index + 1),
                )
            )
            pairs += 1
        if not pairs:
            raise fail(seg, "PLB03 is missing", 3)

    # --- the walk ---------------------------------------------------------------------
    def _done_claim(self) -> Iterator[RemitClaim]:
        if self.claim is not None:
            claim, self.claim, self.line = self.claim, None, None
            yield claim

    def segment(self, seg: Segment) -> Iterator[RemitItem]:
        sid = seg.id
        if self.header is None:
            if sid not in ("LX", "CLP", "PLB"):
                self._header_segment(seg)
                return
            self.header = self._build_header(seg)
            yield self.header
        if sid == "CLP":
            yield from self._done_claim()
            self._start_claim(seg)
        elif sid in ("LX", "PLB"):
            yield from self._done_claim()
            if sid == "PLB":
                self._plb(seg)
        elif self.claim is not None and sid in _CLAIM_SEGMENTS:
            self._claim_segment(seg)
        # TS3, TS2 and anything else of the header number loop: informational

    def finish(self, se: Segment) -> Iterator[RemitItem]:
        if self.header is None:
            self.header = self._build_header(se)
            yield self.header
        yield from self._done_claim()
        yield RemitSetEnd(se.position, self.set_control, self.header, self.plbs)


def _check_group(seg: Segment) -> None:
    if seg.get(1).strip() != "HP":
        raise EnvelopeError(
            "this functional group is not a remittance (GS01 is not HP)",
            position=seg.position,
            segment="GS",
            element="01",
        )
    if seg.get(8).strip() not in VERSIONS["835"]:
        raise EnvelopeError(
            f"this 835 is not of version {VERSIONS['835'][0]} (GS08)",
            position=seg.position,
            segment="GS",
            element="08",
        )


def read_835(source: BinaryIO) -> Iterator[RemitItem]:
    """Stream the items of an 835 file (see the module docstring)."""
    stream = X12Stream(source)
    current: _SetReader | None = None
    problem = None
    for seg in stream:
        sid = seg.id
        if sid == "ISA":
            if stream.envelope.version != "00501":
                raise EnvelopeError(
                    "interchange version is not supported (00501 only)",
                    position=seg.position,
                    segment="ISA",
                    element="12",
                )
        elif sid == "GS":
            _check_group(seg)
        elif sid == "ST":
            if seg.get(1).strip() != "835":
                raise EnvelopeError(
                    "ST01 is not 835 in a remittance group",
                    position=seg.position,
                    segment="ST",
                    element="01",
                )
            current, problem = _SetReader(seg, stream), None
        elif sid == "SE":
            if current is None:
                continue
            if problem is None:
                try:
                    yield from current.finish(seg)
                except X12Error as exc:
                    problem = exc
            if problem is not None:
                yield RemitSetEnd(
                    seg.position, current.set_control, current.header, problem=_problem(problem)
                )
            current = None
        elif current is not None and problem is None and sid not in ("GE", "IEA"):
            try:
                yield from current.segment(seg)
            except X12Error as exc:
                problem = exc


def _problem(exc: X12Error) -> X12Problem:
    if isinstance(exc, EnvelopeError):
        return exc.problem()
    return X12Problem(None, None, None, "syntax", str(exc))


class RemitReader835:
    """The `RemitReader` for 835 files."""

    name = "x12-835"

    def recognizes(self, head: bytes) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \r\n\t")
        if not text.startswith(b"ISA") or len(text) < 106:
            return False
        separator = text[3:4]
        gs = text.find(b"GS" + separator)
        return gs > 0 and text[gs + 3 : gs + 5] == b"HP"

    def read(self, source: BinaryIO) -> Iterator[RemitItem]:
        return read_835(source)
