"""eligibility

Eligibility checks (270/271) kept per coverage with their history
(eligibility_check), claim status checks (276/277) kept per claim
(claim_status_check), and the service type codes each appointment type asks
about (appointment_type.service_types, "30" for the types already there).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:01:28.931575
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pms_core.models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eligibility_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("coverage_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("clearinghouse_id", sa.Integer(), nullable=True),
        sa.Column("trace", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("service_types", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("plan_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("coverage_from", sa.Date(), nullable=True),
        sa.Column("coverage_to", sa.Date(), nullable=True),
        sa.Column("copay_cents", sa.Integer(), nullable=True),
        sa.Column("coinsurance", sa.Numeric(precision=6, scale=4), nullable=True),
        sa.Column("deductible_cents", sa.Integer(), nullable=True),
        sa.Column("deductible_remaining_cents", sa.Integer(), nullable=True),
        sa.Column("out_of_pocket_cents", sa.Integer(), nullable=True),
        sa.Column("out_of_pocket_remaining_cents", sa.Integer(), nullable=True),
        sa.Column("benefits", sa.Text(), nullable=False),
        sa.Column("changes", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("inbound_file_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["clearinghouse_id"],
            ["clearinghouse.id"],
        ),
        sa.ForeignKeyConstraint(
            ["coverage_id"],
            ["coverage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["inbound_file_id"],
            ["inbound_file.id"],
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
            ["requested_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "trace", name="uq_eligibility_trace"),
    )
    with op.batch_alter_table("eligibility_check", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_eligibility_check_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_eligibility_check_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index("ix_eligibility_coverage", ["coverage_id", "id"], unique=False)
        batch_op.create_index("ix_eligibility_pending", ["practice_id", "status"], unique=False)

    op.create_table(
        "claim_status_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("clearinghouse_id", sa.Integer(), nullable=True),
        sa.Column("trace", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("payer_claim_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("paid_cents", sa.Integer(), nullable=True),
        sa.Column("adjudicated", sa.Date(), nullable=True),
        sa.Column("check_number", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("inbound_file_id", sa.Integer(), nullable=True),
        sa.Column("asked_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["clearinghouse_id"],
            ["clearinghouse.id"],
        ),
        sa.ForeignKeyConstraint(
            ["inbound_file_id"],
            ["inbound_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "trace", name="uq_claim_status_trace"),
    )
    with op.batch_alter_table("claim_status_check", schema=None) as batch_op:
        batch_op.create_index("ix_claim_status_claim", ["claim_id", "id"], unique=False)

    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "service_types",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=False,
                server_default="30",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_type", schema=None) as batch_op:
        batch_op.drop_column("service_types")

    with op.batch_alter_table("claim_status_check", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_status_claim")

    op.drop_table("claim_status_check")
    with op.batch_alter_table("eligibility_check", schema=None) as batch_op:
        batch_op.drop_index("ix_eligibility_pending")
        batch_op.drop_index("ix_eligibility_coverage")
        batch_op.drop_index(batch_op.f("ix_eligibility_check_patient_id"))
        batch_op.drop_index(batch_op.f("ix_eligibility_check_appointment_id"))

    op.drop_table("eligibility_check")
