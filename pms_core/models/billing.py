"""Charges and claims: code lists, fee schedules, encounters and their charges,
claims with their lines, findings and history, clearinghouses, submission
batches and what comes back from them.

Money is integer cents. A charge is a draft until it is posted; posting writes
its ledger entry and freezes it (a mistake after that is a voided charge and a
new one). A claim's history (`claim_event`) is append-only, like the ledger.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime, utcnow

ENCOUNTER_STATUSES = ("open", "posted", "void")
CHARGE_STATUSES = ("draft", "posted", "void")
CLAIM_STATUSES = (
    "draft",  # built, not scrubbed since its last change
    "scrubbed",  # scrubbed with errors attached: fix and scrub again
    "ready",  # scrubbed clean (warnings at most): may be submitted
    "submitted",  # sent in a batch; waiting for acknowledgments
    "accepted",  # the clearinghouse's 999 accepted it
    "rejected",  # a TA1, 999 or 277CA rejected it: fix, then correct or resubmit
    "acknowledged",  # the payer's 277CA accepted it into adjudication
    "denied",
    "partially_paid",
    "paid",
    "closed",
    "replaced",  # a corrected claim (frequency 7) took its place
    "voided",  # a void (frequency 8) was made for it
)
BATCH_STATUSES = ("held", "sent", "accepted", "partially_accepted", "rejected")


class CodeEntry(SQLModel, table=True):
    """A code of a code set loaded from a file (`pms codes import`): CPT, HCPCS,
    modifiers (beyond the built-in ones), and later CARC/RARC. Database-wide."""

    __tablename__ = "code_entry"

    code_set: str = Field(primary_key=True, max_length=10)
    code: str = Field(primary_key=True, max_length=10)
    description: str = Field(default="", max_length=250)
    active: bool = Field(default=True)


class FeeSchedule(SQLModel, table=True):
    """A practice's price list. `payer_id` None is the practice default (what is
    charged); a payer's schedule holds its contracted (expected) amounts."""

    __tablename__ = "fee_schedule"
    __table_args__ = (UniqueConstraint("practice_id", "name", name="uq_fee_schedule_name"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    name: str = Field(max_length=60)
    payer_id: int | None = Field(default=None, foreign_key="payer.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeeScheduleItem(SQLModel, table=True):
    """One price: `modifier` "" is the price without (or regardless of) modifiers."""

    __tablename__ = "fee_schedule_item"
    __table_args__ = (UniqueConstraint("schedule_id", "code", "modifier", name="uq_fee_item"),)

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="fee_schedule.id")
    code: str = Field(max_length=5)
    modifier: str = Field(default="", max_length=2)
    amount_cents: int = Field(sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Encounter(SQLModel, table=True):
    """A visit to bill: who was seen, by whom, where and when, with the diagnoses
    and the charges (service lines) captured for it. From an appointment or
    standalone. `claim_kind` says whether it is billed on an 837P or an 837I."""

    __table_args__ = (Index("ix_encounter_patient", "practice_id", "patient_id"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    patient_id: int = Field(foreign_key="patient.id")
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", unique=True)
    provider_id: int = Field(foreign_key="provider.id")
    location_id: int = Field(foreign_key="location.id")
    date_of_service: date
    place_of_service: str = Field(max_length=2)
    claim_kind: str = Field(default="837P", max_length=4)
    referring_npi: str | None = Field(default=None, max_length=10)
    referring_last_name: str | None = Field(default=None, max_length=60)
    referring_first_name: str | None = Field(default=None, max_length=35)
    prior_authorization: str | None = Field(default=None, max_length=50)
    onset_date: date | None = None
    # 837I (outpatient institutional)
    type_of_bill: str | None = Field(default=None, max_length=2)  # facility + classification
    statement_to: date | None = None
    patient_status: str | None = Field(default=None, max_length=2)
    attending_provider_id: int | None = Field(default=None, foreign_key="provider.id")
    admission_date: date | None = None
    admission_type: str | None = Field(default=None, max_length=1)
    admission_source: str | None = Field(default=None, max_length=1)
    status: str = Field(default="open", max_length=10)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EncounterDiagnosis(SQLModel, table=True):
    """Diagnosis `position` (1 = principal) of an encounter: ICD-10-CM, no dot."""

    __tablename__ = "encounter_diagnosis"
    __table_args__ = (UniqueConstraint("encounter_id", "code", name="uq_encounter_dx_code"),)

    encounter_id: int = Field(foreign_key="encounter.id", primary_key=True)
    position: int = Field(primary_key=True)
    code: str = Field(max_length=7)


class Charge(SQLModel, table=True):
    """One service line of an encounter.

    `unit_price_cents` comes from pricing (a `price_service` plugin or the fee
    schedule); `amount_cents` = unit price x units, rounded half-up once.
    `expected_cents` is what the primary payer's contract says it pays.
    `diagnosis_pointers` are positions into the encounter's diagnoses ("1,3").
    """

    __table_args__ = (
        UniqueConstraint("encounter_id", "line_number", name="uq_charge_line"),
        Index("ix_charge_patient", "practice_id", "patient_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    encounter_id: int = Field(foreign_key="encounter.id", index=True)
    patient_id: int = Field(foreign_key="patient.id")
    line_number: int
    code: str = Field(max_length=5)
    modifier1: str | None = Field(default=None, max_length=2)
    modifier2: str | None = Field(default=None, max_length=2)
    modifier3: str | None = Field(default=None, max_length=2)
    modifier4: str | None = Field(default=None, max_length=2)
    units: Decimal = Field(sa_column=Column(Numeric(9, 3), nullable=False))
    unit_basis: str = Field(default="UN", max_length=2)
    unit_price_cents: int = Field(sa_type=BigInteger)
    amount_cents: int = Field(sa_type=BigInteger)
    expected_cents: int | None = Field(default=None, sa_type=BigInteger)
    diagnosis_pointers: str = Field(default="", max_length=7)
    service_date: date
    service_date_end: date | None = None
    place_of_service: str | None = Field(default=None, max_length=2)
    ndc: str | None = Field(default=None, max_length=11)
    ndc_quantity: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 3)))
    ndc_unit: str | None = Field(default=None, max_length=2)
    rendering_provider_id: int | None = Field(default=None, foreign_key="provider.id")
    revenue_code: str | None = Field(default=None, max_length=4)
    status: str = Field(default="draft", max_length=10)
    posted_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    void_entry_id: int | None = Field(default=None, foreign_key="journal_entry.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def modifiers(self) -> tuple[str, ...]:
        return tuple(
            m for m in (self.modifier1, self.modifier2, self.modifier3, self.modifier4) if m
        )

    @property
    def pointers(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.diagnosis_pointers.split(",") if p)


class Clearinghouse(SQLModel, table=True):
    """Where claims go and responses come from: a transport (from a plugin) with
    its settings, and the X12 envelope identities. `next_control` is the next
    ISA13/GS06 control number, taken under a row lock so each is used once."""

    __table_args__ = (UniqueConstraint("practice_id", "name", name="uq_clearinghouse_name"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    name: str = Field(max_length=60)
    transport: str = Field(max_length=30)
    settings: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    secrets: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    sender_qualifier: str = Field(default="ZZ", max_length=2)
    sender_id: str = Field(max_length=15)
    receiver_qualifier: str = Field(default="ZZ", max_length=2)
    receiver_id: str = Field(max_length=15)
    receiver_name: str = Field(max_length=60)
    submitter_name: str = Field(max_length=60)
    contact_name: str = Field(max_length=60)
    contact_phone: str | None = Field(default=None, max_length=10)
    contact_email: str | None = Field(default=None, max_length=80)
    production: bool = Field(default=True)
    is_default: bool = Field(default=False)
    next_control: int = Field(default=1)
    active: bool = Field(default=True)


class Claim(SQLModel, table=True):
    """A claim to one payer for one coverage: lines (`claim_line`) point at
    posted charges. `claim_number` is our CLM01 (the payer echoes it back);
    `payer_claim_number` is the payer's own (277CA REF*1K, 835 CLP07), which a
    corrected (7) or void (8) claim must quote from its original."""

    __table_args__ = (
        UniqueConstraint("practice_id", "claim_number", name="uq_claim_number"),
        Index("ix_claim_status", "practice_id", "status"),
        Index("ix_claim_patient", "practice_id", "patient_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    claim_number: str = Field(max_length=20)
    kind: str = Field(max_length=4)
    frequency: str = Field(default="1", max_length=1)
    original_claim_id: int | None = Field(default=None, foreign_key="claim.id")
    # The claim this one follows: a secondary's primary claim (a tertiary's
    # secondary), whose payer's adjudication its 837 carries (2320/2430).
    prior_claim_id: int | None = Field(default=None, foreign_key="claim.id")
    payer_claim_number: str | None = Field(default=None, max_length=50)
    encounter_id: int = Field(foreign_key="encounter.id", index=True)
    patient_id: int = Field(foreign_key="patient.id")
    coverage_id: int = Field(foreign_key="coverage.id")
    payer_id: int = Field(foreign_key="payer.id")
    provider_id: int = Field(foreign_key="provider.id")
    location_id: int = Field(foreign_key="location.id")
    status: str = Field(default="draft", max_length=16)
    total_cents: int = Field(sa_type=BigInteger)
    service_from: date
    service_to: date
    error_count: int = Field(default=0)
    warning_count: int = Field(default=0)
    scrubbed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submission_count: int = Field(default=0)
    last_batch_id: int | None = Field(default=None, foreign_key="submission_batch.id")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClaimLine(SQLModel, table=True):
    """A charge on a claim, with its pointers renumbered into the claim's own
    diagnosis list (a claim holds at most 12)."""

    __tablename__ = "claim_line"
    __table_args__ = (UniqueConstraint("claim_id", "line_number", name="uq_claim_line"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    line_number: int
    charge_id: int = Field(foreign_key="charge.id", index=True)
    diagnosis_pointers: str = Field(max_length=7)
    charge_cents: int = Field(sa_type=BigInteger)


class ClaimDiagnosis(SQLModel, table=True):
    __tablename__ = "claim_diagnosis"

    claim_id: int = Field(foreign_key="claim.id", primary_key=True)
    position: int = Field(primary_key=True)
    code: str = Field(max_length=7)


class ClaimFinding(SQLModel, table=True):
    """A scrub finding of the claim's latest scrub (replaced by the next one)."""

    __tablename__ = "claim_finding"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    code: str = Field(max_length=40)
    severity: str = Field(max_length=10)
    field: str = Field(max_length=80)
    message: str = Field(max_length=300)
    line_number: int | None = None


class ClaimEvent(SQLModel, table=True):
    """One step of a claim's life: who, when, from which status to which, why.
    Append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "claim_event"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    reason: str = Field(default="", max_length=500)
    batch_id: int | None = Field(default=None, foreign_key="submission_batch.id")
    inbound_file_id: int | None = Field(default=None, foreign_key="inbound_file.id")


class SubmissionBatch(SQLModel, table=True):
    """One interchange (ISA/IEA) of claims for one clearinghouse. `held` when
    validation found problems (listed in `problems`, JSON), then nothing left."""

    __tablename__ = "submission_batch"
    __table_args__ = (
        UniqueConstraint("clearinghouse_id", "interchange_control", name="uq_batch_isa13"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    clearinghouse_id: int = Field(foreign_key="clearinghouse.id")
    kind: str = Field(max_length=4)
    interchange_control: int
    group_control: int
    file_name: str = Field(max_length=80)
    content: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=20)
    problems: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    claim_count: int
    total_cents: int = Field(sa_type=BigInteger)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BatchClaim(SQLModel, table=True):
    """Which transaction set (ST02) of a batch carried a claim."""

    __tablename__ = "batch_claim"

    batch_id: int = Field(foreign_key="submission_batch.id", primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", primary_key=True, index=True)
    set_control: str = Field(max_length=9)


class InboundFile(SQLModel, table=True):
    """A file that came back (polled from a clearinghouse or imported by hand).
    Kept whole; `status` says whether it was applied, and `message` why not."""

    __tablename__ = "inbound_file"
    __table_args__ = (UniqueConstraint("practice_id", "sha256", name="uq_inbound_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    clearinghouse_id: int | None = Field(default=None, foreign_key="clearinghouse.id")
    name: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    kind: str | None = Field(default=None, max_length=10)
    status: str = Field(max_length=12)  # processed, failed
    message: str = Field(default="", max_length=500)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    compressed: bool = Field(default=False)  # content is zlib-compressed (large remittances)
    received_at: datetime = Field(sa_type=UTCDateTime)


class Acknowledgment(SQLModel, table=True):
    """One verdict read from an inbound file: on an interchange (TA1), a group or
    transaction set (999), or a claim (277CA). `batch_id`/`claim_id` say what it
    was matched to; unmatched ones (both None) are a worklist, never dropped."""

    __table_args__ = (Index("ix_ack_unmatched", "practice_id", "matched"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    inbound_file_id: int = Field(foreign_key="inbound_file.id", index=True)
    kind: str = Field(max_length=10)  # TA1, 999, 999-set, 277CA
    reference: str = Field(max_length=50)  # the control number or claim number it answers
    status: str = Field(max_length=20)  # accepted, rejected, accepted_with_errors, ...
    codes: str = Field(default="", max_length=200)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    batch_id: int | None = Field(default=None, foreign_key="submission_batch.id")
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    matched: bool = Field(default=False)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: int | None = Field(default=None, foreign_key="app_user.id")
