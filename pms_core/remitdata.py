"""Remittance advice (835) as plain data: what a remittance reader yields and
the core posts.

A reader (`register_remit_readers`, first-party: `pms_x12`) streams a file as
a flat sequence of items, so that a file of any size is read in bounded
memory: for each transaction set (ST..SE) a `RemitHeader`, then one
`RemitClaim` per claim payment (CLP loop, with its service lines), then a
`RemitSetEnd` carrying the provider-level adjustments (PLB) and, when the set
could not be read, the problem. A set whose header could not be read yields
only its `RemitSetEnd`. An envelope error (ISA/GS/ST nesting, counts,
control numbers, a truncated file) raises `X12Error` from the iterator: the
whole file is refused.

Amounts are signed integer cents exactly as the payer sent them (a reversal
carries negative amounts). Readers check syntax only; balancing, matching
and posting are the core's (`services.remittance`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import BinaryIO, Protocol

from pms_core.edi import X12Problem

PATIENT_RESPONSIBILITY = "PR"


@dataclass(slots=True)
class Adjustment:
    """One CAS reason/amount/quantity triple: group (CO, PR, OA, PI, CR) and CARC."""

    group: str
    reason: str
    amount_cents: int
    quantity: Decimal | None = None

    @property
    def label(self) -> str:
        return f"{self.group}-{self.reason}"


@dataclass(slots=True)
class RemitLine:
    """One SVC loop: the service as adjudicated. `procedure`/`modifiers` are
    what the payer paid; `original_procedure`/`original_modifiers` (SVC06) what
    we billed when the payer changed them."""

    position: int
    qualifier: str  # SVC01-1: HC (CPT/HCPCS), NU (revenue code), ...
    procedure: str
    modifiers: tuple[str, ...]
    charge_cents: int  # SVC02
    paid_cents: int  # SVC03
    revenue_code: str | None = None  # SVC04
    units: Decimal | None = None  # SVC05
    original_procedure: str | None = None  # SVC06-2
    original_modifiers: tuple[str, ...] = ()
    service_from: date | None = None  # DTM*472 or DTM*150
    service_to: date | None = None  # DTM*472 or DTM*151
    control_number: str | None = None  # REF*6R: our line item control number
    allowed_cents: int | None = None  # AMT*B6
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # LQ*HE (RARC)


@dataclass(slots=True)
class RemitClaim:
    """One CLP loop: the payer's verdict on one claim."""

    position: int  # the CLP's segment position in the file
    claim_number: str  # CLP01: our patient control number (CLM01)
    status_code: str  # CLP02: 1/2/3 processed, 4 denied, 22 reversal, ...
    charge_cents: int  # CLP03
    paid_cents: int  # CLP04
    patient_resp_cents: int | None  # CLP05
    filing_indicator: str  # CLP06
    payer_claim_number: str | None  # CLP07
    facility_type: str | None = None  # CLP08
    frequency: str | None = None  # CLP09
    patient_last: str | None = None  # NM1*QC
    patient_first: str | None = None
    member_id: str | None = None  # NM1*QC NM109 (or the subscriber's, NM1*IL)
    rendering_npi: str | None = None  # NM1*82 with XX
    service_from: date | None = None  # DTM*232
    service_to: date | None = None  # DTM*233
    adjustments: list[Adjustment] = field(default_factory=list)  # claim-level CAS
    remarks: list[str] = field(default_factory=list)  # MOA / MIA remark codes
    lines: list[RemitLine] = field(default_factory=list)

    @property
    def reversal(self) -> bool:
        return self.status_code == "22"


@dataclass(slots=True)
class ProviderAdjustment:
    """One PLB adjustment: positive amounts reduce the payment, negative ones
    (interest, for instance) add to it."""

    position: int
    provider_identifier: str  # PLB01
    fiscal_period_end: date | None  # PLB02
    reason: str  # PLB03-1 (L6 interest, WO overpayment recovery, FB forward balance...)
    reference: str | None  # PLB03-2
    amount_cents: int


@dataclass(slots=True)
class RemitHeader:
    """The transaction set's payment and parties (BPR, TRN, DTM*405, N1 loops)."""

    position: int  # the ST's segment position
    set_control: str  # ST02
    interchange_control: str  # ISA13
    sender_id: str  # ISA06
    handling: str  # BPR01: C payment with advice, H advice only, I, P, U, X
    payment_cents: int  # BPR02
    credit_debit: str  # BPR03: C credit, D debit
    method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    payment_date: date | None  # BPR16
    trace_number: str  # TRN02: the check or EFT trace number
    originator: str  # TRN03: the payer's identifier
    production_date: date | None = None  # DTM*405
    payer_name: str = ""
    payer_identifier: str | None = None  # N1*PR REF*2U, else N104
    payee_name: str = ""
    payee_qualifier: str | None = None  # N103: XX NPI, FI TIN, XV plan id
    payee_identifier: str | None = None  # N104
    payee_tin: str | None = None  # REF*TJ
    notes: list[str] = field(default_factory=list)  # what was tolerated, PHI-free

    @property
    def payment_signed_cents(self) -> int:
        """BPR02 with its sign: a debit (BPR03 D) takes money back."""
        return -self.payment_cents if self.credit_debit == "D" else self.payment_cents


@dataclass(slots=True)
class RemitSetEnd:
    """The end of a transaction set. `problem` set: the set was malformed and
    must be rejected whole (its claims already yielded included)."""

    position: int  # the SE's segment position (or where reading stopped)
    set_control: str
    header: RemitHeader | None
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    problem: X12Problem | None = None


RemitItem = RemitHeader | RemitClaim | RemitSetEnd


class RemitReader(Protocol):
    """Reads remittance files. `recognizes` looks at the first bytes only;
    `read` streams the items of a whole file (see the module docstring)."""

    name: str

    def recognizes(self, head: bytes) -> bool: ...

    def read(self, source: BinaryIO) -> Iterator[RemitItem]: ...
