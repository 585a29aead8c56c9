"""scheduling and reminders

Rooms, appointment types, availability, appointments, series, waitlist;
reminder rules, reminders, their attempts (append-only) and replies;
per-practice settings and message templates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 23:50:19.866889
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pms_core.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointment_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("color", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("needs_room", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "duration_minutes > 0 AND duration_minutes <= 720", name="ck_type_length"
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "name", name="uq_appointment_type_name"),
    )
    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_type_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("updated_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "channel", name="uq_template_channel"),
    )
    op.create_table(
        "practice_setting",
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("updated_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("practice_id", "key"),
    )
    op.create_table(
        "appointment_type_provider",
        sa.Column("appointment_type_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_type.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.PrimaryKeyConstraint("appointment_type_id", "provider_id"),
    )
    op.create_table(
        "availability_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("starts_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("ends_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name="ck_exception_times"),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("availability_exception", schema=None) as batch_op:
        batch_op.create_index("ix_exception_range", ["practice_id", "starts_at"], unique=False)

    op.create_table(
        "availability_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint("start_time < end_time", name="ck_template_times"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_template_weekday"),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("availability_template", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_availability_template_practice_id"), ["practice_id"], unique=False
        )
        batch_op.create_index("ix_template_provider", ["provider_id", "weekday"], unique=False)

    op.create_table(
        "provider_schedule_settings",
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("overbook_limit_per_day", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    with op.batch_alter_table("provider_schedule_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_schedule_settings_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "reminder_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("appointment_type_id", sa.Integer(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("offset_minutes > 0", name="ck_rule_offset"),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_type.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reminder_rule", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reminder_rule_practice", ["practice_id", "appointment_type_id"], unique=False
        )

    op.create_table(
        "room",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("location_id", "name", name="uq_room_name"),
    )
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_room_practice_id"), ["practice_id"], unique=False)

    op.create_table(
        "appointment_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("appointment_type_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("local_start", sa.Time(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_type.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["room.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("appointment_series", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_series_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appointment_series_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("appointment_type_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("rescheduled_from_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("ends_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("overbooked", sa.Boolean(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("confirmed_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("arrived_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("roomed_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("completed_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("no_show_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint("starts_at < ends_at", name="ck_appointment_times"),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_type.id"],
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rescheduled_from_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["room.id"],
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["appointment_series.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointment_patient_start", ["patient_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_appointment_practice_start", ["practice_id", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_appointment_provider_start", ["provider_id", "starts_at"], unique=False
        )
        batch_op.create_index("ix_appointment_room_start", ["room_id", "starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_series_id"), ["series_id"], unique=False)

    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("appointment_starts_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("due_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("claimed_until", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("message_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("receipt", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("skip_reason", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("sent_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["reminder_rule.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "appointment_id", "rule_id", "appointment_starts_at", name="uq_reminder_once"
        ),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminder_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(
            "ix_reminder_due", ["practice_id", "status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("appointment_type_id", sa.Integer(), nullable=False),
        sa.Column("preferred_weekdays", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("preferred_start", sa.Time(), nullable=True),
        sa.Column("preferred_end", sa.Time(), nullable=True),
        sa.Column("earliest_date", sa.Date(), nullable=False),
        sa.Column("latest_date", sa.Date(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("booked_appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_type_id"],
            ["appointment_type.id"],
        ),
        sa.ForeignKeyConstraint(
            ["booked_appointment_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waitlist_entry_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            "ix_waitlist_open", ["practice_id", "status", "created_at"], unique=False
        )

    op.create_table(
        "reminder_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("receipt", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reminder_id"],
            ["reminder.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reminder_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminder_attempt_reminder_id"), ["reminder_id"], unique=False
        )

    op.create_table(
        "reminder_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("received_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("intent", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reminder_id"],
            ["reminder.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "channel", "external_id", name="uq_reply_once"),
    )
    with op.batch_alter_table("reminder_reply", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminder_reply_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("ends_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("freed_by_appointment_id", sa.Integer(), nullable=True),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("decided_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["freed_by_appointment_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("waitlist_offer", schema=None) as batch_op:
        batch_op.create_index("ix_offer_entry", ["entry_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_waitlist_offer_practice_id"), ["practice_id"], unique=False
        )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deceased_date", sa.Date(), nullable=True))
    _append_only("reminder_attempt")


def downgrade() -> None:
    _drop_append_only("reminder_attempt")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("deceased_date")
    with op.batch_alter_table("waitlist_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waitlist_offer_practice_id"))
        batch_op.drop_index("ix_offer_entry")

    op.drop_table("waitlist_offer")
    with op.batch_alter_table("reminder_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_reply_practice_id"))

    op.drop_table("reminder_reply")
    with op.batch_alter_table("reminder_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_attempt_reminder_id"))

    op.drop_table("reminder_attempt")
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_waitlist_open")
        batch_op.drop_index(batch_op.f("ix_waitlist_entry_patient_id"))

    op.drop_table("waitlist_entry")
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_due")
        batch_op.drop_index(batch_op.f("ix_reminder_appointment_id"))

    op.drop_table("reminder")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_series_id"))
        batch_op.drop_index("ix_appointment_room_start")
        batch_op.drop_index("ix_appointment_provider_start")
        batch_op.drop_index("ix_appointment_practice_start")
        batch_op.drop_index("ix_appointment_patient_start")

    op.drop_table("appointment")
    with op.batch_alter_table("appointment_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_series_practice_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_series_patient_id"))

    op.drop_table("appointment_series")
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_practice_id"))
        batch_op.drop_index(batch_op.f("ix_room_location_id"))

    op.drop_table("room")
    with op.batch_alter_table("reminder_rule", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_rule_practice")

    op.drop_table("reminder_rule")
    with op.batch_alter_table("provider_schedule_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_schedule_settings_practice_id"))

    op.drop_table("provider_schedule_settings")
    with op.batch_alter_table("availability_template", schema=None) as batch_op:
        batch_op.drop_index("ix_template_provider")
        batch_op.drop_index(batch_op.f("ix_availability_template_practice_id"))

    op.drop_table("availability_template")
    with op.batch_alter_table("availability_exception", schema=None) as batch_op:
        batch_op.drop_index("ix_exception_range")

    op.drop_table("availability_exception")
    op.drop_table("appointment_type_provider")
    op.drop_table("practice_setting")
    op.drop_table("message_template")
    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_type_practice_id"))

    op.drop_table("appointment_type")


def _append_only(table: str) -> None:
    """Same guard as the ledger's (0001): the database refuses UPDATE/DELETE."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    else:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION pms_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION pms_append_only()"
        )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
