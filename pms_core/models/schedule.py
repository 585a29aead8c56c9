"""Scheduling: rooms, appointment types, provider availability, appointments,
recurring series and the waitlist.

Points in time are UTC (`UTCDateTime`). Availability is kept as *local wall-clock*
times of the practice's time zone (a template says "Mondays 08:00-12:00", which
must stay 08:00 across a daylight-saving change), and turned into UTC per date.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime, utcnow

# Status flow: booked -> confirmed -> arrived -> in_room -> completed,
# or cancelled / no_show. Transitions live in services.appointments.
APPOINTMENT_STATUSES = (
    "booked",
    "confirmed",
    "arrived",
    "in_room",
    "completed",
    "cancelled",
    "no_show",
)
# Statuses that hold the provider's (and room's) time.
ACTIVE_STATUSES = ("booked", "confirmed", "arrived", "in_room", "completed")
EXCEPTION_KINDS = ("holiday", "block", "time_off")
SERIES_RULES = ("weekly", "monthly_weekday")
WAITLIST_STATUSES = ("waiting", "offered", "booked", "removed")
OFFER_STATUSES = ("open", "accepted", "declined", "expired")


class Room(SQLModel, table=True):
    """A room or other bookable resource at a location."""

    __table_args__ = (UniqueConstraint("location_id", "name", name="uq_room_name"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    location_id: int = Field(foreign_key="location.id", index=True)
    name: str = Field(max_length=40)
    active: bool = Field(default=True)


class AppointmentType(SQLModel, table=True):
    """What is booked: its length, its color on the schedule, whether it needs a
    room, and which providers may see it (none listed = every provider)."""

    __tablename__ = "appointment_type"
    __table_args__ = (
        UniqueConstraint("practice_id", "name", name="uq_appointment_type_name"),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 720", name="ck_type_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    name: str = Field(max_length=40)
    duration_minutes: int
    color: str = Field(default="blue", max_length=20)
    needs_room: bool = Field(default=False)
    active: bool = Field(default=True)
    # X12 service type codes (EQ01) an eligibility check asks about for this kind
    # of visit, comma-separated, most specific first: "98,30" for an office visit.
    service_types: str = Field(default="30", max_length=40)


class AppointmentTypeProvider(SQLModel, table=True):
    """A provider allowed to see an appointment type."""

    __tablename__ = "appointment_type_provider"

    appointment_type_id: int = Field(foreign_key="appointment_type.id", primary_key=True)
    provider_id: int = Field(foreign_key="provider.id", primary_key=True)


class ProviderScheduleSettings(SQLModel, table=True):
    """Per-provider scheduling rules: how many overbooked appointments a day."""

    __tablename__ = "provider_schedule_settings"

    provider_id: int = Field(foreign_key="provider.id", primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    overbook_limit_per_day: int = Field(default=2)


class AvailabilityTemplate(SQLModel, table=True):
    """A provider works at a location on a weekday (0 = Monday) from `start_time`
    to `end_time`, local wall-clock time of the practice, between
    `effective_from` and `effective_to` (inclusive; open-ended when None)."""

    __tablename__ = "availability_template"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_template_weekday"),
        CheckConstraint("start_time < end_time", name="ck_template_times"),
        Index("ix_template_provider", "provider_id", "weekday"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    provider_id: int = Field(foreign_key="provider.id")
    location_id: int = Field(foreign_key="location.id")
    weekday: int
    start_time: time
    end_time: time
    effective_from: date
    effective_to: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AvailabilityException(SQLModel, table=True):
    """Time taken out of availability: a holiday (whole practice or location when
    `provider_id` is None), a block or time off for one provider."""

    __tablename__ = "availability_exception"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="ck_exception_times"),
        Index("ix_exception_range", "practice_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    provider_id: int | None = Field(default=None, foreign_key="provider.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")
    kind: str = Field(max_length=20)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=80)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AppointmentSeries(SQLModel, table=True):
    """A recurring booking rule. `rule` is weekly (every `interval` weeks on the
    first date's weekday) or monthly_weekday (the first date's nth weekday, every
    `interval` months). It ends on `until` or after `count` occurrences."""

    __tablename__ = "appointment_series"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    provider_id: int = Field(foreign_key="provider.id")
    location_id: int = Field(foreign_key="location.id")
    appointment_type_id: int = Field(foreign_key="appointment_type.id")
    room_id: int | None = Field(default=None, foreign_key="room.id")
    rule: str = Field(max_length=20)
    interval: int = Field(default=1)
    first_date: date
    local_start: time
    until: date | None = None
    count: int | None = None
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Appointment(SQLModel, table=True):
    """A booked visit. `overbooked` marks one booked on purpose over another.

    The provider (and room) are never double-booked: services.appointments locks
    the provider and room rows before it checks and writes, on both engines.
    """

    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="ck_appointment_times"),
        Index("ix_appointment_provider_start", "provider_id", "starts_at"),
        Index("ix_appointment_room_start", "room_id", "starts_at"),
        Index("ix_appointment_practice_start", "practice_id", "starts_at"),
        Index("ix_appointment_patient_start", "patient_id", "starts_at"),
        Index("uq_appointment_external", "practice_id", "external_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    patient_id: int = Field(foreign_key="patient.id")
    provider_id: int = Field(foreign_key="provider.id")
    location_id: int = Field(foreign_key="location.id")
    room_id: int | None = Field(default=None, foreign_key="room.id")
    appointment_type_id: int = Field(foreign_key="appointment_type.id")
    series_id: int | None = Field(default=None, foreign_key="appointment_series.id", index=True)
    rescheduled_from_id: int | None = Field(default=None, foreign_key="appointment.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="booked", max_length=20)
    overbooked: bool = Field(default=False)
    note: str | None = Field(default=None, max_length=200)
    # The appointment's id in the system it came from (an import, an EHR's
    # scheduler over HL7): re-importing it updates this row.
    external_id: str | None = Field(default=None, max_length=60)
    cancel_reason: str | None = Field(default=None, max_length=80)
    cancelled_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    arrived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    roomed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    no_show_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WaitlistEntry(SQLModel, table=True):
    """A patient waiting for an earlier or any slot. `provider_id` None = any
    provider. `preferred_weekdays` is digits 0-6 (Monday = 0), empty = any day;
    `preferred_start`/`preferred_end` a local time-of-day window."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (Index("ix_waitlist_open", "practice_id", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    patient_id: int = Field(foreign_key="patient.id", index=True)
    provider_id: int | None = Field(default=None, foreign_key="provider.id")
    location_id: int | None = Field(default=None, foreign_key="location.id")
    appointment_type_id: int = Field(foreign_key="appointment_type.id")
    preferred_weekdays: str = Field(default="", max_length=7)
    preferred_start: time | None = None
    preferred_end: time | None = None
    earliest_date: date
    latest_date: date | None = None
    status: str = Field(default="waiting", max_length=20)
    note: str | None = Field(default=None, max_length=200)
    booked_appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WaitlistOffer(SQLModel, table=True):
    """A freed slot offered to a waitlist entry. Offers for one slot are made in
    waitlist order (`rank` 1 first); accepting one books it."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (Index("ix_offer_entry", "entry_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    entry_id: int = Field(foreign_key="waitlist_entry.id")
    provider_id: int = Field(foreign_key="provider.id")
    location_id: int = Field(foreign_key="location.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    rank: int
    status: str = Field(default="open", max_length=20)
    freed_by_appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
