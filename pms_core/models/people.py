"""Patients, what they told the front desk at intake, and their insurance."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime, utcnow

SEXES = ("F", "M", "U")
CONTACT_CHANNELS = ("sms", "email", "phone", "mail", "none")
INTAKE_KINDS = ("condition", "allergy", "medication", "previous_provider")
COVERAGE_PRIORITIES = {1: "primary", 2: "secondary", 3: "tertiary"}
# X12 individual relationship codes (SBR02/PAT01) by the name the front desk uses.
SUBSCRIBER_RELATIONSHIPS = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}


class Patient(SQLModel, table=True):
    """A registered patient.

    Phones are stored as 10 digits. `search_first` / `search_last` hold the names
    folded for search (lower case, letters only) so that prefix search is an index
    range scan on both SQLite and PostgreSQL.
    """

    __table_args__ = (
        UniqueConstraint("practice_id", "account_number", name="uq_patient_account"),
        Index("ix_patient_name", "practice_id", "search_last", "search_first"),
        Index("ix_patient_first", "practice_id", "search_first"),
        Index("ix_patient_dob", "practice_id", "dob"),
        Index("ix_patient_home_phone", "practice_id", "home_phone"),
        Index("ix_patient_mobile_phone", "practice_id", "mobile_phone"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    account_number: str = Field(max_length=20)
    first_name: str = Field(max_length=35)
    middle_name: str | None = Field(default=None, max_length=25)
    last_name: str = Field(max_length=60)
    suffix: str | None = Field(default=None, max_length=10)
    dob: date
    sex: str = Field(max_length=1)
    address1: str = Field(max_length=55)
    address2: str | None = Field(default=None, max_length=55)
    city: str = Field(max_length=30)
    state: str = Field(max_length=2)
    zip: str = Field(max_length=9)
    home_phone: str | None = Field(default=None, max_length=10)
    mobile_phone: str | None = Field(default=None, max_length=10)
    email: str | None = Field(default=None, max_length=120)
    preferred_contact: str = Field(default="sms", max_length=10)
    guarantor_id: int | None = Field(default=None, foreign_key="patient.id")
    guarantor_relationship: str | None = Field(default=None, max_length=10)
    search_first: str = Field(max_length=35)
    search_last: str = Field(max_length=60)
    active: bool = Field(default=True)
    deceased_date: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IntakeItem(SQLModel, table=True):
    """One thing the patient reported at registration: a condition, allergy,
    medication or previous provider, in the patient's words. Kept as history:
    items are added, and retired with `resolved_at`, never rewritten."""

    __tablename__ = "intake_item"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    patient_id: int = Field(foreign_key="patient.id", index=True)
    kind: str = Field(max_length=20)
    description: str = Field(max_length=200)
    detail: str | None = Field(default=None, max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Coverage(SQLModel, table=True):
    """A patient's insurance with one payer, at a priority (1 primary, 2 secondary,
    3 tertiary). The subscriber is the patient when relationship is "self";
    otherwise the subscriber's own name, DOB and sex are kept here."""

    __table_args__ = (Index("ix_coverage_member", "practice_id", "member_id_search"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    patient_id: int = Field(foreign_key="patient.id", index=True)
    payer_id: int = Field(foreign_key="payer.id", index=True)
    priority: int = Field(default=1)
    member_id: str = Field(max_length=80)
    member_id_search: str = Field(max_length=80)
    group_number: str | None = Field(default=None, max_length=50)
    plan_name: str | None = Field(default=None, max_length=60)
    relationship: str = Field(default="self", max_length=10)
    subscriber_first_name: str | None = Field(default=None, max_length=35)
    subscriber_last_name: str | None = Field(default=None, max_length=60)
    subscriber_dob: date | None = None
    subscriber_sex: str | None = Field(default=None, max_length=1)
    effective_date: date
    termination_date: date | None = None
    copay_cents: int = Field(default=0)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
