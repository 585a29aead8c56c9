"""Appointment reminders: the policy, each reminder owed, every delivery attempt,
inbound replies, per-practice configuration and editable message templates.

A reminder row is unique per (appointment, rule, appointment start): it is owed
once for the time the appointment is at, and owed again if the appointment moves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime, utcnow

# pending: owed, not yet tried; sending: claimed by a run (lease until
# `claimed_until`); retry: a delivery failed, try again at `next_attempt_at`;
# sent: delivered; skipped: cannot be sent (reason kept); cancelled: the
# appointment moved or was cancelled before it was sent; failed: gave up.
REMINDER_STATUSES = ("pending", "sending", "retry", "sent", "skipped", "cancelled", "failed")
ATTEMPT_OUTCOMES = ("delivered", "failed", "skipped")


class ReminderRule(SQLModel, table=True):
    """Send on `channel` `offset_minutes` before the appointment. Rules with an
    `appointment_type_id` replace the practice's default rules (type None) for
    that type."""

    __tablename__ = "reminder_rule"
    __table_args__ = (
        CheckConstraint("offset_minutes > 0", name="ck_rule_offset"),
        Index("ix_reminder_rule_practice", "practice_id", "appointment_type_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    appointment_type_id: int | None = Field(default=None, foreign_key="appointment_type.id")
    channel: str = Field(max_length=30)
    offset_minutes: int
    active: bool = Field(default=True)


class Reminder(SQLModel, table=True):
    """One reminder owed for one appointment by one rule."""

    __table_args__ = (
        UniqueConstraint(
            "appointment_id", "rule_id", "appointment_starts_at", name="uq_reminder_once"
        ),
        Index("ix_reminder_due", "practice_id", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    appointment_id: int = Field(foreign_key="appointment.id", index=True)
    rule_id: int = Field(foreign_key="reminder_rule.id")
    channel: str = Field(max_length=30)
    appointment_starts_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="pending", max_length=20)
    attempts: int = Field(default=0)
    claim_token: str | None = Field(default=None, max_length=40)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recipient: str | None = Field(default=None, max_length=120)
    message_key: str = Field(max_length=80, description="idempotency key sent with the message")
    receipt: str | None = Field(default=None, max_length=120)
    skip_reason: str | None = Field(default=None, max_length=120)
    last_error: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReminderAttempt(SQLModel, table=True):
    """Every try at delivering a reminder, kept for the record (append-only)."""

    __tablename__ = "reminder_attempt"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    reminder_id: int = Field(foreign_key="reminder.id", index=True)
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    outcome: str = Field(max_length=20)
    receipt: str | None = Field(default=None, max_length=120)
    error: str | None = Field(default=None, max_length=200)


class ReminderReply(SQLModel, table=True):
    """An inbound reply on a channel that receives them (e.g. SMS), and what it did."""

    __tablename__ = "reminder_reply"
    __table_args__ = (
        UniqueConstraint("practice_id", "channel", "external_id", name="uq_reply_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    channel: str = Field(max_length=30)
    external_id: str = Field(max_length=120)
    reminder_id: int | None = Field(default=None, foreign_key="reminder.id")
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    received_at: datetime = Field(sa_type=UTCDateTime)
    intent: str = Field(max_length=20, description="confirm, cancel or unknown")
    result: str = Field(max_length=120)


class MessageTemplate(SQLModel, table=True):
    """An editable reminder text per practice and channel ("email", "sms", ...)."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("practice_id", "channel", name="uq_template_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    channel: str = Field(max_length=30)
    subject: str | None = Field(default=None, max_length=120)
    body: str = Field(max_length=1000)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PracticeSetting(SQLModel, table=True):
    """Per-practice configuration (`pms config set`), e.g. smtp.host,
    reminders.quiet_start. Secrets (keys ending in `password`/`token`) are never
    printed back."""

    __tablename__ = "practice_setting"

    practice_id: int = Field(foreign_key="practice.id", primary_key=True)
    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
