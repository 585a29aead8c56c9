"""Readers of what comes back after an 837 leaves: TA1 (did the interchange
arrive), 999 (did its sets pass syntax checks) and 277CA (was each claim
accepted into adjudication).

`AckReader.read(data)` returns None for any other file (an 835, an 837, a
277 claim status response, ...) so the next reader may try; a ResponseFile
for a TA1, 999 or 277CA; and raises X12Error for one of those it cannot
read: malformed, truncated, counts or control numbers wrong, another version
(for example a 4010 997). An envelope error rejects the whole file.

Messages carry segment positions, segment ids, element positions, codes and
control numbers, never an element's value from the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pms_core.edi import (
    ClaimAck,
    ClaimStatus,
    GroupAck,
    InterchangeAck,
    LineAck,
    ResponseFile,
    SetAck,
    SetError,
    X12Error,
)
from pms_x12 import names
from pms_x12.elements import CODE as _CODE
from pms_x12.elements import STATUS_CODE as _STATUS_CODE
from pms_x12.elements import cents as _cents
from pms_x12.elements import code as _code
from pms_x12.elements import control as _control
from pms_x12.elements import fail as _fail
from pms_x12.elements import number as _number
from pms_x12.elements import parse_date as _date
from pms_x12.elements import required as _required
from pms_x12.segments import VERSIONS, Segment, X12Stream, decode

__all__ = ["AckReader", "read_acknowledgment"]


def _date_range(seg: Segment) -> tuple[date, date]:
    """DTP02/DTP03: D8 date or RD8 range."""
    fmt = seg.get(2).strip()
    value = seg.get(3).strip()
    if not value:
        raise _fail(seg, "DTP03 is missing", 3)
    if fmt == "D8":
        day = _date(seg, 3, value)
        return day, day
    if fmt == "RD8":
        start, sep, end = value.partition("-")
        if not sep:
            raise _fail(seg, "DTP03 is not a valid date range (CCYYMMDD-CCYYMMDD)", 3)
        first, last = _date(seg, 3, start), _date(seg, 3, end)
        if last < first:
            raise _fail(seg, "DTP03 ends before it starts", 3)
        return first, last
    raise _fail(seg, "DTP02 must be D8 or RD8", 2)


# --- TA1 ------------------------------------------------------------------------------
def _ta1(seg: Segment) -> InterchangeAck:
    control = _number(seg, 1)
    status = _code(seg, 4, names.TA1_STATUS)
    note = _code(seg, 5)
    return InterchangeAck(
        interchange_control=control,
        status=status,
        note_code=note,
        note=names.describe(names.TA1_NOTES, note, "interchange note code"),
    )


# --- 999 ------------------------------------------------------------------------------
@dataclass
class _Set:
    seg: Segment
    transaction_set_id: str
    control_number: str
    errors: list[SetError] = field(default_factory=list)
    context: tuple[str, int, str | None] | None = None  # the IK3 the IK4s belong to


@dataclass
class _Group:
    seg: Segment
    functional_id: str
    control: int
    version: str | None
    sets: list[SetAck] = field(default_factory=list)


class _Reader999:
    def __init__(self) -> None:
        self.groups: list[GroupAck] = []
        self.group: _Group | None = None
        self.set: _Set | None = None

    def segment(self, seg: Segment) -> None:
        sid = seg.id
        if sid == "AK1":
            if self.group is not None:
                raise _fail(
                    seg,
                    "AK1 before the AK9 of the group acknowledged at segment "
                    f"{self.group.seg.position}",
                )
            self.group = _Group(seg, _code(seg, 1), _number(seg, 2), seg.get(3).strip() or None)
        elif sid == "AK2":
            self._group(seg)
            if self.set is not None:
                raise _fail(
                    seg,
                    f"AK2 before the IK5 of the set acknowledged at segment "
                    f"{self.set.seg.position}",
                )
            self.set = _Set(seg, _code(seg, 1), _control(seg, 2))
        elif sid == "IK3":
            current = self._set(seg)
            segment_id = _required(seg, 1)
            if not re.fullmatch(r"[A-Z][A-Z0-9]{1,2}", segment_id):
                raise _fail(seg, "IK301 is not a segment identifier", 1)
            position = _number(seg, 2)
            loop = seg.get(3).strip() or None
            if loop is not None and not _CODE.fullmatch(loop) and not loop.isalnum():
                raise _fail(seg, "IK303 is not a loop identifier", 3)
            current.context = (segment_id, position, loop)
            code = seg.get(4).strip()
            if code:
                if not _CODE.fullmatch(code):
                    raise _fail(seg, "IK304 is not a valid code", 4)
                current.errors.append(
                    SetError(
                        segment_id=segment_id,
                        segment_position=position,
                        loop_id=loop,
                        element_position=None,
                        code=code,
                        message=names.describe(names.SEGMENT_ERRORS, code, "segment error code"),
                    )
                )
        elif sid == "IK4":
            current = self._set(seg)
            if current.context is None:
                raise _fail(seg, "IK4 without the IK3 it belongs to")
            parts = seg.components(1)
            if not parts or not parts[0].strip().isdigit():
                raise _fail(seg, "IK401 (element position) is missing or not a number", 1)
            element = parts[0].strip()
            if len(parts) > 1 and parts[1].strip():
                if not parts[1].strip().isdigit():
                    raise _fail(seg, "IK401-2 (component position) is not a number", 1)
                element += f"-{parts[1].strip()}"
            code = _code(seg, 3)
            segment_id, position, loop = current.context
            current.errors.append(
                SetError(
                    segment_id=segment_id,
                    segment_position=position,
                    loop_id=loop,
                    element_position=element,
                    code=code,
                    message=names.describe(names.ELEMENT_ERRORS, code, "element error code"),
                )
            )
        elif sid == "IK5":
            current = self._set(seg)
            status = _code(seg, 1, names.ACK_STATUS)
            if status == "P":
                raise _fail(seg, "IK501 is not a valid code", 1)
            codes = tuple(
                _code(seg, i) for i in range(2, min(len(seg), 6) + 1) if seg.get(i).strip()
            )
            self.group.sets.append(
                SetAck(
                    transaction_set_id=current.transaction_set_id,
                    control_number=current.control_number,
                    status=status,
                    errors=tuple(current.errors),
                    syntax_codes=codes,
                )
            )
            self.set = None
        elif sid == "AK9":
            group = self._group(seg)
            if self.set is not None:
                raise _fail(
                    seg,
                    f"AK9 before the IK5 of the set acknowledged at segment "
                    f"{self.set.seg.position}",
                )
            status = _code(seg, 1, names.ACK_STATUS)
            self.groups.append(
                GroupAck(
                    functional_id=group.functional_id,
                    group_control=group.control,
                    version=group.version,
                    status=status,
                    sets=tuple(group.sets),
                    sets_included=_number(seg, 2),
                    sets_received=_number(seg, 3),
                    sets_accepted=_number(seg, 4),
                )
            )
            self.group = None
        elif sid == "SE":
            if self.set is not None:
                raise _fail(
                    seg, f"the set acknowledged at segment {self.set.seg.position} has no IK5"
                )
            if self.group is not None:
                raise _fail(
                    seg, f"the group acknowledged at segment {self.group.seg.position} has no AK9"
                )
        # CTX and anything else carry nothing we keep.

    def _group(self, seg: Segment) -> _Group:
        if self.group is None:
            raise _fail(seg, f"{seg.id} without the AK1 it belongs to")
        return self.group

    def _set(self, seg: Segment) -> _Set:
        self._group(seg)
        if self.set is None:
            raise _fail(seg, f"{seg.id} without the AK2 it belongs to")
        return self.set


# --- 277CA ----------------------------------------------------------------------------
def statuses(seg: Segment) -> list[ClaimStatus]:
    """The status composites of an STC (STC01, STC10, STC11)."""
    effective = None
    if seg.get(2).strip():
        effective = _date(seg, 2, seg.get(2).strip())
    out = []
    for index in (1, 10, 11):
        if not seg.get(index).strip():
            if index == 1:
                raise _fail(seg, "STC01 is missing", 1)
            continue
        category = _required(seg, index, 1)
        if not _CODE.fullmatch(category):
            raise _fail(seg, f"{seg.ref(index, 1)} is not a claim status category code", index)
        code = seg.get(index, 2).strip() or None
        if code is not None and not _STATUS_CODE.fullmatch(code):
            raise _fail(seg, f"{seg.ref(index, 2)} is not a claim status code", index)
        entity = seg.get(index, 3).strip() or None
        if entity is not None and not _CODE.fullmatch(entity):
            raise _fail(seg, f"{seg.ref(index, 3)} is not an entity identifier code", index)
        words = [f"{category}: {names.category_words(category)}"]
        if code is not None:
            words.append(f"{code}: {names.status_words(code)}")
        if entity is not None:
            words.append(f"entity {entity}: {names.entity_words(entity)}")
        out.append(
            ClaimStatus(
                category=category,
                code=code,
                entity=entity,
                message="; ".join(words),
                effective=effective,
            )
        )
    return out


@dataclass
class _Line:
    seg: Segment
    procedure_code: str | None
    control_number: str | None = None
    statuses: list[ClaimStatus] = field(default_factory=list)


@dataclass
class _Claim:
    trn: Segment
    claim_number: str
    statuses: list[ClaimStatus] = field(default_factory=list)
    payer_claim_number: str | None = None
    clearinghouse_trace: str | None = None
    total_cents: int | None = None
    service_from: date | None = None
    service_to: date | None = None
    lines: list[_Line] = field(default_factory=list)

    def done(self) -> ClaimAck:
        if not self.statuses:
            raise _fail(self.trn, "the claim has no STC status")
        lines = tuple(
            LineAck(
                control_number=line.control_number,
                procedure_code=line.procedure_code,
                statuses=tuple(line.statuses),
            )
            for line in self.lines
        )
        every = list(self.statuses) + [s for line in self.lines for s in line.statuses]
        accepted = self.statuses[0].category in names.ACCEPTED_CATEGORIES and not any(
            s.category in names.REJECTED_CATEGORIES for s in every
        )
        return ClaimAck(
            claim_number=self.claim_number,
            accepted=accepted,
            statuses=tuple(self.statuses),
            payer_claim_number=self.payer_claim_number,
            clearinghouse_trace=self.clearinghouse_trace,
            total_cents=self.total_cents,
            service_from=self.service_from,
            service_to=self.service_to,
            lines=lines,
            position=self.trn.position,
        )


class _Reader277CA:
    def __init__(self) -> None:
        self.claims: list[ClaimAck] = []
        self.level: str | None = None  # HL03 of the current HL
        self.claim: _Claim | None = None
        self.line: _Line | None = None

    def _close(self) -> None:
        if self.claim is not None:
            self.claims.append(self.claim.done())
        self.claim = None
        self.line = None

    def segment(self, seg: Segment) -> None:
        sid = seg.id
        if sid == "HL":
            self._close()
            self.level = _required(seg, 3)
        elif sid == "SE":
            self._close()
            self.level = None
        elif self.level != "PT":
            return  # source, receiver and provider levels: nothing per claim
        elif sid == "TRN":
            if self.claim is not None:
                raise _fail(seg, "a second TRN in the same patient level")
            self.claim = _Claim(seg, _required(seg, 2))
        elif self.claim is None:
            if sid in ("STC", "REF", "DTP", "SVC"):
                raise _fail(seg, f"{sid} before the claim's TRN")
        elif sid == "SVC":
            procedure = seg.get(1, 2).strip() or seg.get(4).strip() or None
            if procedure is not None and not procedure.isalnum():
                raise _fail(seg, "SVC01-2 is not a procedure code", 1)
            self.line = _Line(seg, procedure)
            self.claim.lines.append(self.line)
        elif sid == "STC":
            found = statuses(seg)
            if self.line is not None:
                self.line.statuses.extend(found)
            else:
                amount = _cents(seg, 4)
                if self.claim.total_cents is None:
                    self.claim.total_cents = amount
                self.claim.statuses.extend(found)
        elif sid == "REF":
            qualifier = seg.get(1).strip()
            if self.line is not None:
                if qualifier == "FJ":
                    self.line.control_number = _required(seg, 2)
            elif qualifier == "1K":
                self.claim.payer_claim_number = _required(seg, 2)
            elif qualifier == "D9":
                self.claim.clearinghouse_trace = _required(seg, 2)
        elif sid == "DTP" and seg.get(1).strip() == "472":
            first, last = _date_range(seg)
            if self.line is None:
                self.claim.service_from, self.claim.service_to = first, last


# --- the reader ---------------------------------------------------------------------------
def _kind_of(seg: Segment) -> str | None:
    """Is this interchange one we read? Decided on its first TA1 or GS."""
    if seg.id == "TA1":
        return "TA1"
    if seg.id == "GS":
        fid = seg.get(1).strip()
        version = seg.get(8).strip()
        if fid == "FA":
            return "999"
        if fid == "HN" and "X214" in version:
            return "277CA"
    return None


def _check_version(seg: Segment, kind: str, version: str) -> None:
    if version not in VERSIONS[kind]:
        expected = " or ".join(VERSIONS[kind])
        raise _fail(
            seg,
            f"version {_safe(version)} is not supported: {kind} files are read as {expected}",
            8 if seg.id == "GS" else 3,
        )


def _safe(value: str) -> str:
    return value if re.fullmatch(r"[A-Z0-9]{1,12}", value) else "(unreadable)"


def read_acknowledgment(data: bytes | str) -> ResponseFile | None:
    """Read a TA1, 999 or 277CA file (see the module docstring)."""
    text = decode(data)
    if not text.strip():
        raise X12Error("the file is empty")
    if not text.lstrip().startswith("ISA"):
        return None  # not X12 at all: some other reader's business
    stream = X12Stream(text)
    kind: str | None = None
    env = stream.envelope
    acks: list[InterchangeAck] = []
    reader999 = _Reader999()
    reader277 = _Reader277CA()
    readers = {"999": reader999, "277CA": reader277}
    current = None
    isa_seg: Segment | None = None
    for seg in stream:
        sid = seg.id
        if sid == "ISA":
            if isa_seg is None:  # the file's first interchange speaks for it
                isa_seg = seg
                sender, receiver = env.sender_id, env.receiver_id
            continue
        if kind is None and sid in ("TA1", "GS"):
            kind = _kind_of(seg)
            if kind is None:
                return None  # an 837, 835, 277, ...: not ours
            if env.version != "00501":
                raise _fail(
                    isa_seg,
                    f"interchange version {_safe(env.version)} is not supported (00501 only)",
                    12,
                )
        if sid == "TA1":
            acks.append(_ta1(seg))
        elif sid == "GS":
            group_kind = _kind_of(seg)
            if group_kind is None:
                raise _fail(
                    seg,
                    "this functional group is not an acknowledgment (999 or 277CA) though the "
                    "interchange carries them",
                )
            _check_version(seg, group_kind, seg.get(8).strip())
            if kind == "TA1":
                kind = group_kind
            current = readers[group_kind]
        elif sid == "ST":
            expected = "999" if current is reader999 else "277"
            if seg.get(1).strip() != expected:
                raise _fail(seg, f"ST01 is not {expected} in this functional group", 1)
            if seg.get(3).strip():
                _check_version(seg, "999" if current is reader999 else "277CA", env.set_version)
        elif sid in ("GE", "IEA"):
            current = None
        elif current is not None:
            current.segment(seg)
    if kind is None:
        raise X12Error("the interchange has neither a TA1 nor a functional group")
    return ResponseFile(
        kind=kind,
        sender_id=sender,
        receiver_id=receiver,
        interchange_control=_number(isa_seg, 13),
        interchange_acks=tuple(acks),
        groups=tuple(reader999.groups),
        claims=tuple(reader277.claims),
    )


class AckReader:
    """The `ResponseReader` for TA1, 999 and 277CA files."""

    name = "x12-acknowledgments"

    def read(self, data: bytes) -> ResponseFile | None:
        return read_acknowledgment(data)
