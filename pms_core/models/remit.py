"""Remittance advice as received and as posted: one `remittance` per 835
transaction set, with its claim payments, their service lines, every CAS
adjustment and the provider-level (PLB) adjustments.

These rows are the record of why each cent went where it went: a posting
made from a remittance carries the adjustment's group and reason code
(`posting.reason`), and its journal entry's `reference` names the
remittance claim it came from.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Index, Numeric, Text, text
from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime

REMITTANCE_STATUSES = (
    "posted",  # every claim payment posted (matched ones to their claims, others to unapplied)
    "held",  # did not balance: nothing posted, the difference is in `message`
    "rejected",  # malformed, or for another payee: nothing posted
    "duplicate",  # this payer's trace number was posted before: nothing added
)
REMIT_CLAIM_STATUSES = ("posted", "unmatched", "matched")


class Remittance(SQLModel, table=True):
    """One 835 transaction set: the payment (BPR), its trace (TRN), who paid
    whom, and what became of it. A payer's trace number (TRN03 + TRN02)
    posts once: the partial unique index refuses a second posted copy."""

    __table_args__ = (
        Index(
            "uq_remittance_trace_posted",
            "practice_id",
            "originator",
            "trace_number",
            unique=True,
            sqlite_where=text("status = 'posted'"),
            postgresql_where=text("status = 'posted'"),
        ),
        Index("ix_remittance_practice", "practice_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    inbound_file_id: int = Field(foreign_key="inbound_file.id", index=True)
    position: int  # the ST's segment position in the file
    set_control: str = Field(max_length=9)
    payer_id: int | None = Field(default=None, foreign_key="payer.id")
    payer_name: str = Field(default="", max_length=60)
    payer_identifier: str | None = Field(default=None, max_length=80)
    originator: str = Field(default="", max_length=10)  # TRN03
    trace_number: str = Field(default="", max_length=50)  # TRN02
    handling: str = Field(default="", max_length=2)  # BPR01
    method: str = Field(default="", max_length=3)  # BPR04
    payment_cents: int = Field(default=0, sa_type=BigInteger)  # BPR02, signed by BPR03
    payment_date: date | None = None  # BPR16, else DTM*405
    payee_identifier: str | None = Field(default=None, max_length=80)
    status: str = Field(max_length=10)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    claim_count: int = Field(default=0)
    matched_count: int = Field(default=0)
    unmatched_count: int = Field(default=0)
    paid_cents: int = Field(default=0, sa_type=BigInteger)  # sum of CLP04
    adjusted_cents: int = Field(default=0, sa_type=BigInteger)  # CAS other than PR
    patient_resp_cents: int = Field(default=0, sa_type=BigInteger)  # CAS PR
    plb_cents: int = Field(default=0, sa_type=BigInteger)  # sum of PLB amounts
    received_at: datetime = Field(sa_type=UTCDateTime)
    posted_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class RemittanceClaim(SQLModel, table=True):
    """One claim payment (CLP) of a posted remittance: what the payer said,
    which claim of ours it was matched to and how, or why it was not."""

    __tablename__ = "remittance_claim"
    __table_args__ = (Index("ix_remittance_claim_status", "practice_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    remittance_id: int = Field(foreign_key="remittance.id", index=True)
    position: int
    claim_number: str = Field(max_length=38)  # CLP01
    status_code: str = Field(max_length=2)  # CLP02
    charge_cents: int = Field(sa_type=BigInteger)
    paid_cents: int = Field(sa_type=BigInteger)
    patient_resp_cents: int | None = Field(default=None, sa_type=BigInteger)
    filing_indicator: str = Field(default="", max_length=2)
    payer_claim_number: str | None = Field(default=None, max_length=50)
    frequency: str | None = Field(default=None, max_length=1)
    patient_last: str | None = Field(default=None, max_length=60)
    patient_first: str | None = Field(default=None, max_length=35)
    member_id: str | None = Field(default=None, max_length=80)
    service_from: date | None = None
    service_to: date | None = None
    remarks: str = Field(default="", max_length=200)  # RARCs from MOA/MIA, comma-separated
    status: str = Field(max_length=10)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    match_method: str | None = Field(default=None, max_length=20)
    unmatched_reason: str = Field(default="", max_length=300)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    matched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    matched_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class RemittanceLine(SQLModel, table=True):
    """One adjudicated service line (SVC) and the charge it was matched to."""

    __tablename__ = "remittance_line"

    id: int | None = Field(default=None, primary_key=True)
    remittance_claim_id: int = Field(foreign_key="remittance_claim.id", index=True)
    position: int
    qualifier: str = Field(max_length=2)
    procedure: str = Field(max_length=48)
    modifiers: str = Field(default="", max_length=11)
    original_procedure: str | None = Field(default=None, max_length=48)
    original_modifiers: str = Field(default="", max_length=11)
    charge_cents: int = Field(sa_type=BigInteger)
    paid_cents: int = Field(sa_type=BigInteger)
    allowed_cents: int | None = Field(default=None, sa_type=BigInteger)
    units: Decimal | None = Field(default=None, sa_column=Column(Numeric(15, 3)))
    service_from: date | None = None
    service_to: date | None = None
    control_number: str | None = Field(default=None, max_length=50)
    remarks: str = Field(default="", max_length=200)
    charge_id: int | None = Field(default=None, foreign_key="charge.id", index=True)
    denied: bool = Field(default=False)


class RemittanceAdjustment(SQLModel, table=True):
    """One CAS triple, on a claim (`remittance_line_id` None) or on a line."""

    __tablename__ = "remittance_adjustment"

    id: int | None = Field(default=None, primary_key=True)
    remittance_claim_id: int = Field(foreign_key="remittance_claim.id", index=True)
    remittance_line_id: int | None = Field(default=None, foreign_key="remittance_line.id")
    group_code: str = Field(max_length=2)
    reason: str = Field(max_length=5)
    amount_cents: int = Field(sa_type=BigInteger)
    quantity: Decimal | None = Field(default=None, sa_column=Column(Numeric(15, 3)))


class RemittancePlb(SQLModel, table=True):
    """One provider-level adjustment (PLB) of a remittance."""

    __tablename__ = "remittance_plb"

    id: int | None = Field(default=None, primary_key=True)
    remittance_id: int = Field(foreign_key="remittance.id", index=True)
    position: int
    provider_identifier: str = Field(max_length=50)
    fiscal_period_end: date | None = None
    reason: str = Field(max_length=2)
    reference: str | None = Field(default=None, max_length=50)
    amount_cents: int = Field(sa_type=BigInteger)


class DenialAction(SQLModel, table=True):
    """What a biller did about a denied charge of a claim payment: appealed,
    wrote it off, moved it to the patient, or corrected and resubmitted the
    claim. Write-offs and transfers name the journal entry they posted."""

    __tablename__ = "denial_action"
    __table_args__ = (Index("ix_denial_action_item", "remittance_claim_id", "charge_id"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    remittance_claim_id: int = Field(foreign_key="remittance_claim.id")
    charge_id: int = Field(foreign_key="charge.id")
    action: str = Field(max_length=10)  # appeal, writeoff, transfer, resubmit
    note: str = Field(default="", max_length=300)
    amount_cents: int = Field(default=0, sa_type=BigInteger)
    entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    at: datetime = Field(sa_type=UTCDateTime)


class Payment(SQLModel, table=True):
    """Money a patient paid (`kind` payment) or the practice gave back (refund),
    with its receipt number and the journal entry that posted it. A card
    payment keeps the processor's reference only, never a card number."""

    __table_args__ = (
        Index("uq_payment_receipt", "practice_id", "receipt_number", unique=True),
        Index("ix_payment_patient", "practice_id", "patient_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    patient_id: int = Field(foreign_key="patient.id")
    kind: str = Field(max_length=10)  # payment, refund
    method: str = Field(max_length=10)  # cash, check, card
    amount_cents: int = Field(sa_type=BigInteger)  # always positive
    applied_cents: int = Field(default=0, sa_type=BigInteger)  # to charges, at posting
    received_on: date
    reference: str | None = Field(default=None, max_length=60)  # check no. or processor ref
    processor: str | None = Field(default=None, max_length=30)
    receipt_number: str = Field(max_length=20)
    note: str = Field(default="", max_length=200)
    entry_id: int = Field(foreign_key="journal_entry.id")
    reversed_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class StatementRun(SQLModel, table=True):
    """One statement run: when, with which minimum and cycle, and how many."""

    __tablename__ = "statement_run"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    statement_date: date
    min_balance_cents: int = Field(sa_type=BigInteger)
    cycle: str = Field(default="", max_length=10)  # "2/4": the second of four cycles
    statement_count: int = Field(default=0)
    total_cents: int = Field(default=0, sa_type=BigInteger)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class Statement(SQLModel, table=True):
    """One patient's statement, with exactly what it showed (`content`, JSON)."""

    __table_args__ = (Index("ix_statement_patient", "practice_id", "patient_id"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    run_id: int = Field(foreign_key="statement_run.id", index=True)
    patient_id: int = Field(foreign_key="patient.id")
    balance_cents: int = Field(sa_type=BigInteger)
    content: str = Field(sa_column=Column(Text, nullable=False))
