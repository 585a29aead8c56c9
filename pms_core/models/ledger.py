"""The general ledger: journal entries and their postings.

Postings are append-only: the database itself refuses UPDATE and DELETE on
`posting` and `journal_entry` (triggers created in the migrations). A mistake is
corrected by a reversing entry, never by an edit.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime


class JournalEntry(SQLModel, table=True):
    """One money event. Its postings sum to zero.

    `entry_date` is the business date (date of service, deposit date);
    `posted_at` is when it was written. `reverses_id` links a reversal to the
    entry it cancels; an entry can be reversed only once (unique).
    `reference` is an optional idempotency key, unique per practice.
    """

    __tablename__ = "journal_entry"
    __table_args__ = (Index("uq_journal_reference", "practice_id", "reference", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    entry_date: date
    posted_at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=30)
    memo: str = Field(default="", max_length=200)
    reference: str | None = Field(default=None, max_length=120)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reverses_id: int | None = Field(default=None, foreign_key="journal_entry.id", unique=True)


class Posting(SQLModel, table=True):
    """One line of an entry: `amount_cents` is signed (debit positive, credit
    negative) against `account`, with the dimensions it belongs to."""

    __table_args__ = (
        Index("ix_posting_patient", "practice_id", "patient_id", "account"),
        Index("ix_posting_account", "practice_id", "account"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="journal_entry.id", index=True)
    practice_id: int = Field(foreign_key="practice.id")
    account: str = Field(max_length=40)
    amount_cents: int = Field(sa_type=BigInteger)
    patient_id: int | None = Field(default=None, foreign_key="patient.id")
    coverage_id: int | None = Field(default=None, foreign_key="coverage.id")
    payer_id: int | None = Field(default=None, foreign_key="payer.id")
    provider_id: int | None = Field(default=None, foreign_key="provider.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")
    charge_id: int | None = Field(default=None, foreign_key="charge.id", index=True)
    # Why the amount moved, as a code: "CO-45", "PR-1" (a CAS group and CARC),
    # "paid", "PLB-L6"; None for postings that need no explanation.
    reason: str | None = Field(default=None, max_length=20)


class PeriodClose(SQLModel, table=True):
    """A month-end close: closing `month` (its first day) closes the
    books through that month's last day, so no entry may be dated in it or
    before it (`pms_core.services.periods`). Reopening, for the admin, marks
    the row `reopened_at`; the row stays as the record that it was closed."""

    __tablename__ = "period_close"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    month: date
    closed_through: date
    closed_at: datetime = Field(sa_type=UTCDateTime)
    closed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reopened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reopen_reason: str = Field(default="", max_length=200)
