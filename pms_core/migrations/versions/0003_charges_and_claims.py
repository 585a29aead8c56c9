"""charges and claims

Code lists, fee schedules, encounters, diagnoses and charges; claims with
their lines, diagnoses, findings and (append-only) history; clearinghouses,
submission batches, inbound files and acknowledgments. payer.clearinghouse_id
and posting.charge_id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:41:37.003071
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pms_core.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_entry",
        sa.Column("code_set", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=250), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code_set", "code"),
    )
    op.create_table(
        "clearinghouse",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("transport", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("sender_qualifier", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("sender_id", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
        sa.Column("receiver_qualifier", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("receiver_id", sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
        sa.Column("receiver_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("submitter_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("production", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("next_control", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "name", name="uq_clearinghouse_name"),
    )
    with op.batch_alter_table("clearinghouse", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clearinghouse_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "inbound_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("clearinghouse_id", sa.Integer(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clearinghouse_id"],
            ["clearinghouse.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "sha256", name="uq_inbound_sha256"),
    )
    op.create_table(
        "submission_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("clearinghouse_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("interchange_control", sa.Integer(), nullable=False),
        sa.Column("group_control", sa.Integer(), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("sent_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clearinghouse_id"],
            ["clearinghouse.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clearinghouse_id", "interchange_control", name="uq_batch_isa13"),
    )
    with op.batch_alter_table("submission_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_batch_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "fee_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payer_id"],
            ["payer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "name", name="uq_fee_schedule_name"),
    )
    with op.batch_alter_table("fee_schedule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fee_schedule_practice_id"), ["practice_id"], unique=False
        )

    op.create_table(
        "fee_schedule_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("modifier", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["fee_schedule.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("schedule_id", "code", "modifier", name="uq_fee_item"),
    )
    op.create_table(
        "encounter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("place_of_service", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("claim_kind", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("referring_npi", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column(
            "referring_last_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True
        ),
        sa.Column(
            "referring_first_name", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True
        ),
        sa.Column(
            "prior_authorization", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True
        ),
        sa.Column("onset_date", sa.Date(), nullable=True),
        sa.Column("type_of_bill", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("statement_to", sa.Date(), nullable=True),
        sa.Column("patient_status", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("attending_provider_id", sa.Integer(), nullable=True),
        sa.Column("admission_date", sa.Date(), nullable=True),
        sa.Column("admission_type", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("admission_source", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("posted_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["attending_provider_id"],
            ["provider.id"],
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
        sa.UniqueConstraint("appointment_id"),
    )
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.create_index("ix_encounter_patient", ["practice_id", "patient_id"], unique=False)

    op.create_table(
        "charge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("modifier1", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("modifier2", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("modifier3", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("modifier4", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("units", sa.Numeric(precision=9, scale=3), nullable=False),
        sa.Column("unit_basis", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("expected_cents", sa.BigInteger(), nullable=True),
        sa.Column("diagnosis_pointers", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("service_date_end", sa.Date(), nullable=True),
        sa.Column("place_of_service", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("ndc", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True),
        sa.Column("ndc_quantity", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("ndc_unit", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("rendering_provider_id", sa.Integer(), nullable=True),
        sa.Column("revenue_code", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("posted_entry_id", sa.Integer(), nullable=True),
        sa.Column("void_entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounter.id"],
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["posted_entry_id"],
            ["journal_entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rendering_provider_id"],
            ["provider.id"],
        ),
        sa.ForeignKeyConstraint(
            ["void_entry_id"],
            ["journal_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("encounter_id", "line_number", name="uq_charge_line"),
    )
    with op.batch_alter_table("charge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charge_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index("ix_charge_patient", ["practice_id", "patient_id"], unique=False)

    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("claim_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("frequency", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("original_claim_id", sa.Integer(), nullable=True),
        sa.Column("payer_claim_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("coverage_id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("service_from", sa.Date(), nullable=False),
        sa.Column("service_to", sa.Date(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("scrubbed_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("first_submitted_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("submitted_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("submission_count", sa.Integer(), nullable=False),
        sa.Column("last_batch_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coverage_id"],
            ["coverage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounter.id"],
        ),
        sa.ForeignKeyConstraint(
            ["last_batch_id"],
            ["submission_batch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["original_claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"],
            ["payer.id"],
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
        sa.UniqueConstraint("practice_id", "claim_number", name="uq_claim_number"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index("ix_claim_patient", ["practice_id", "patient_id"], unique=False)
        batch_op.create_index("ix_claim_status", ["practice_id", "status"], unique=False)

    op.create_table(
        "encounter_diagnosis",
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounter.id"],
        ),
        sa.PrimaryKeyConstraint("encounter_id", "position"),
        sa.UniqueConstraint("encounter_id", "code", name="uq_encounter_dx_code"),
    )
    op.create_table(
        "acknowledgment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("inbound_file_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("codes", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["submission_batch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["inbound_file_id"],
            ["inbound_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("acknowledgment", schema=None) as batch_op:
        batch_op.create_index("ix_ack_unmatched", ["practice_id", "matched"], unique=False)
        batch_op.create_index(batch_op.f("ix_acknowledgment_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_acknowledgment_inbound_file_id"), ["inbound_file_id"], unique=False
        )

    op.create_table(
        "batch_claim",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("set_control", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["submission_batch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.PrimaryKeyConstraint("batch_id", "claim_id"),
    )
    with op.batch_alter_table("batch_claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_claim_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_diagnosis",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.PrimaryKeyConstraint("claim_id", "position"),
    )
    op.create_table(
        "claim_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("inbound_file_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["submission_batch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["inbound_file_id"],
            ["inbound_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_event_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("field", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_finding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_finding_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "claim_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=False),
        sa.Column("diagnosis_pointers", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["charge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("claim_id", "line_number", name="uq_claim_line"),
    )
    with op.batch_alter_table("claim_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_line_charge_id"), ["charge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_line_claim_id"), ["claim_id"], unique=False)

    # Plain ADD COLUMN, never a batch rebuild: rebuilding posting on SQLite
    # would drop its append-only triggers.
    _add_reference("payer", "clearinghouse_id", "clearinghouse", "fk_payer_clearinghouse")
    _add_reference("posting", "charge_id", "charge", "fk_posting_charge")
    op.create_index("ix_posting_charge_id", "posting", ["charge_id"], unique=False)
    _append_only("claim_event")


def downgrade() -> None:
    _drop_append_only("claim_event")
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_posting_charge_id"))
        batch_op.drop_column("charge_id")
    with op.batch_alter_table("payer", schema=None) as batch_op:
        batch_op.drop_column("clearinghouse_id")

    with op.batch_alter_table("claim_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_line_claim_id"))
        batch_op.drop_index(batch_op.f("ix_claim_line_charge_id"))

    op.drop_table("claim_line")
    with op.batch_alter_table("claim_finding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_finding_claim_id"))

    op.drop_table("claim_finding")
    with op.batch_alter_table("claim_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_event_claim_id"))

    op.drop_table("claim_event")
    op.drop_table("claim_diagnosis")
    with op.batch_alter_table("batch_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_claim_claim_id"))

    op.drop_table("batch_claim")
    with op.batch_alter_table("acknowledgment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_acknowledgment_inbound_file_id"))
        batch_op.drop_index(batch_op.f("ix_acknowledgment_claim_id"))
        batch_op.drop_index("ix_ack_unmatched")

    op.drop_table("acknowledgment")
    op.drop_table("encounter_diagnosis")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_status")
        batch_op.drop_index("ix_claim_patient")
        batch_op.drop_index(batch_op.f("ix_claim_encounter_id"))

    op.drop_table("claim")
    with op.batch_alter_table("charge", schema=None) as batch_op:
        batch_op.drop_index("ix_charge_patient")
        batch_op.drop_index(batch_op.f("ix_charge_encounter_id"))

    op.drop_table("charge")
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.drop_index("ix_encounter_patient")

    op.drop_table("encounter")
    op.drop_table("fee_schedule_item")
    with op.batch_alter_table("fee_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fee_schedule_practice_id"))

    op.drop_table("fee_schedule")
    with op.batch_alter_table("submission_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_batch_practice_id"))

    op.drop_table("submission_batch")
    op.drop_table("inbound_file")
    with op.batch_alter_table("clearinghouse", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clearinghouse_practice_id"))

    op.drop_table("clearinghouse")
    op.drop_table("code_entry")


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


def _add_reference(table: str, column: str, target: str, name: str) -> None:
    """Add a nullable foreign-key column without rebuilding `table`."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)")
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, target, [column], ["id"])
