"""EDI files as plain data: what the claim writers and the response readers
exchange with the core.

The X12 plugin (`pms_x12`) does the syntax: it writes 837 files from
`claimdata.InterchangeView` and reads TA1, 999 and 277CA files into the
records below. The core does the meaning: it matches each acknowledgment to
the batch and claims it answers and moves them along their lifecycle. The
core never imports an X12 library; it finds writers and readers through the
`register_claim_writers` and `register_response_readers` hooks.

Every message here is PHI-free: positions, codes and their meaning in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from pms_core.claimdata import InterchangeView


class X12Error(Exception):
    """A file that cannot be read: malformed, truncated, of an unsupported
    version or transaction. The message names the segment position and what is
    wrong, never an element's value."""


@dataclass(frozen=True, slots=True)
class X12Problem:
    """One validation problem: where (segment id, its 1-based position in the
    file, element position) and what (a code and words)."""

    segment: str | None
    position: int | None
    element: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = ":".join(p for p in (self.segment, self.element) if p) or "file"
        at = f"segment {self.position} " if self.position else ""
        return f"{at}{where}: [{self.code}] {self.message}"


# --- acknowledgments -------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class InterchangeAck:
    """TA1: did the receiver accept our interchange (ISA13) at all."""

    interchange_control: int  # TA101, our ISA13
    status: str  # TA104: A accepted, E accepted with errors, R rejected
    note_code: str  # TA105
    note: str  # TA105 in words

    @property
    def rejected(self) -> bool:
        return self.status == "R"


@dataclass(frozen=True, slots=True)
class SetError:
    """A 999 IK3/IK4 (or CTX) error inside one transaction set."""

    segment_id: str | None  # IK301
    segment_position: int | None  # IK302, position within the transaction set
    loop_id: str | None  # IK303
    element_position: str | None  # IK401 (with component, "2-1")
    code: str  # IK304 or IK403
    message: str  # the code in words


@dataclass(frozen=True, slots=True)
class SetAck:
    """A 999 AK2..IK5: the verdict on one of our transaction sets (ST02)."""

    transaction_set_id: str  # AK201, e.g. "837"
    control_number: str  # AK202, our ST02
    status: str  # IK501: A accepted, E accepted with errors, R/M/W/X rejected
    errors: tuple[SetError, ...] = ()
    syntax_codes: tuple[str, ...] = ()  # IK502..IK506

    @property
    def rejected(self) -> bool:
        return self.status not in ("A", "E")


@dataclass(frozen=True, slots=True)
class GroupAck:
    """A 999 AK1..AK9: the verdict on one of our functional groups (GS06)."""

    functional_id: str  # AK101, e.g. "HC"
    group_control: int  # AK102, our GS06
    version: str | None  # AK103
    status: str  # AK901: A, E, P partially accepted, R, M, W, X
    sets: tuple[SetAck, ...]
    sets_included: int | None = None  # AK902
    sets_received: int | None = None  # AK903
    sets_accepted: int | None = None  # AK904


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """One STC composite: category (A1, A3, ...), status code and entity, in words."""

    category: str
    code: str | None
    entity: str | None
    message: str  # category, status and entity in words
    effective: date | None = None


@dataclass(frozen=True, slots=True)
class LineAck:
    """A 277CA 2220D: the verdict on one service line (by our REF*FJ)."""

    control_number: str | None  # REF*FJ, our line item control number
    procedure_code: str | None
    statuses: tuple[ClaimStatus, ...]


@dataclass(frozen=True, slots=True)
class ClaimAck:
    """A 277CA 2200D: the payer's or clearinghouse's verdict on one claim."""

    claim_number: str  # TRN02: our CLM01
    accepted: bool  # category A1/A2 (and no rejection among the statuses)
    statuses: tuple[ClaimStatus, ...]
    payer_claim_number: str | None = None  # REF*1K
    clearinghouse_trace: str | None = None  # REF*D9
    total_cents: int | None = None  # STC04
    service_from: date | None = None
    service_to: date | None = None
    lines: tuple[LineAck, ...] = ()
    position: int | None = None  # segment position of its TRN, for messages


@dataclass(frozen=True)
class ResponseFile:
    """One inbound file, read. `kind` is "TA1", "999" or "277CA"; a TA1 may
    also stand alone before or inside another interchange."""

    kind: str
    sender_id: str  # ISA06
    receiver_id: str  # ISA08
    interchange_control: int  # the response's own ISA13
    interchange_acks: tuple[InterchangeAck, ...] = ()
    groups: tuple[GroupAck, ...] = ()
    claims: tuple[ClaimAck, ...] = ()


# --- plugin protocols ------------------------------------------------------------
class ClaimWriter(Protocol):
    """Writes one interchange of claims as X12 and checks it.

    `kind` is "837P" or "837I". `write()` returns the file's text; `validate()`
    returns every problem found (empty when the file may leave). Both are pure:
    no database, no network.
    """

    kind: str

    def write(self, interchange: InterchangeView) -> str: ...

    def validate(self, text: str) -> list[X12Problem]: ...


class ResponseReader(Protocol):
    """Reads inbound response files. `read()` returns None for a file that is not
    one it reads (so the next reader may try), a ResponseFile, or raises
    X12Error for a file it recognizes but cannot read."""

    name: str

    def read(self, data: bytes) -> ResponseFile | None: ...
