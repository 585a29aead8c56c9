"""Eligibility checks (270/271) kept per coverage with their history, and
claim status checks (276/277) kept per claim.

One `eligibility_check` row per question asked of a payer about one coverage
on one date of service: pending while a batch answer is awaited, then what
the payer said (active or not, plan, dates, copay, coinsurance, deductible and
out-of-pocket for the service type asked first) with every benefit kept as
JSON for the per-service-type view. `changes` names what differs from the
coverage's previous answered check (plan, termination, copay, active), and
the check names the appointment it was asked for, so the schedule can mark
the visit by its latest check.
A failed check records the failure; it never touches the coverage.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime

ELIGIBILITY_STATUSES = (
    "pending",  # a batch 270 was sent; the 271 has not come yet
    "active",  # the payer says the coverage is active on the date of service
    "inactive",  # the payer says it is not
    "rejected",  # the payer could not answer (AAA): reason and follow-up in `message`
    "failed",  # no usable answer (the clearinghouse timed out, answered garbage, or about
    # another member): the coverage on file is unchanged
)


class EligibilityCheck(SQLModel, table=True):
    __tablename__ = "eligibility_check"
    __table_args__ = (
        UniqueConstraint("practice_id", "trace", name="uq_eligibility_trace"),
        Index("ix_eligibility_coverage", "coverage_id", "id"),
        Index("ix_eligibility_pending", "practice_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    coverage_id: int = Field(foreign_key="coverage.id")
    patient_id: int = Field(foreign_key="patient.id", index=True)
    payer_id: int = Field(foreign_key="payer.id")
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id", index=True)
    clearinghouse_id: int | None = Field(default=None, foreign_key="clearinghouse.id")
    trace: str = Field(max_length=30)  # our TRN02, echoed in the 271
    service_date: date
    service_types: str = Field(max_length=60)  # EQ01 codes, comma-separated
    mode: str = Field(max_length=10)  # realtime, batch
    status: str = Field(default="pending", max_length=10)
    active: bool | None = None
    plan_name: str | None = Field(default=None, max_length=60)
    coverage_from: date | None = None
    coverage_to: date | None = None
    copay_cents: int | None = None
    coinsurance: Decimal | None = Field(default=None, sa_column=Column(Numeric(6, 4)))
    deductible_cents: int | None = None
    deductible_remaining_cents: int | None = None
    out_of_pocket_cents: int | None = None
    out_of_pocket_remaining_cents: int | None = None
    benefits: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON
    changes: str = Field(default="", max_length=100)  # "plan,termination,copay,active"
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    attempts: int = Field(default=0)
    inbound_file_id: int | None = Field(default=None, foreign_key="inbound_file.id")
    requested_at: datetime = Field(sa_type=UTCDateTime)
    requested_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(c for c in self.changes.split(",") if c)


class ClaimStatusCheck(SQLModel, table=True):
    """One 276 question about one submitted claim, and the payer's 277 answer:
    every STC in words (`message`), the first one's category and status
    codes, and what it said of the payment. History for the claim's detail."""

    __tablename__ = "claim_status_check"
    __table_args__ = (
        UniqueConstraint("practice_id", "trace", name="uq_claim_status_trace"),
        Index("ix_claim_status_claim", "claim_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    claim_id: int = Field(foreign_key="claim.id")
    clearinghouse_id: int | None = Field(default=None, foreign_key="clearinghouse.id")
    trace: str = Field(max_length=30)  # our TRN02, echoed in the 277
    mode: str = Field(max_length=10)  # realtime, batch
    status: str = Field(default="pending", max_length=10)  # pending, answered, failed
    category: str | None = Field(default=None, max_length=3)  # STC01-1: A1, P1, F1, ...
    code: str | None = Field(default=None, max_length=5)  # STC01-2
    payer_claim_number: str | None = Field(default=None, max_length=50)
    paid_cents: int | None = None
    adjudicated: date | None = None
    check_number: str | None = Field(default=None, max_length=16)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    inbound_file_id: int | None = Field(default=None, foreign_key="inbound_file.id")
    asked_at: datetime = Field(sa_type=UTCDateTime)
    asked_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
