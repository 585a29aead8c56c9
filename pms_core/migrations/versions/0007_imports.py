"""imports and the EHR interface

Applied file imports (import_run: kind, the file's SHA-256, counts), the
external id an appointment carries from the system it came from, the HL7
messages exchanged with the EHR (interface_message) and the EHR's patient ids
(patient_link).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pms_core.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["imported_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.create_index("ix_import_run_sha256", ["practice_id", "sha256"], unique=False)
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=60), nullable=True))
        batch_op.create_index(
            "uq_appointment_external", ["practice_id", "external_id"], unique=True
        )

    op.create_table(
        "patient_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=60), nullable=False),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "system", "external_id", name="uq_patient_link"),
    )
    with op.batch_alter_table("patient_link", schema=None) as batch_op:
        batch_op.create_index("ix_patient_link_patient_id", ["patient_id"], unique=False)
    op.create_table(
        "interface_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("message_type", sa.String(length=12), nullable=False),
        sa.Column("control_id", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ack_code", sa.String(length=2), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("processed_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["resolved_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("interface_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interface_message_status",
            ["practice_id", "direction", "status", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_interface_message_control",
            ["practice_id", "direction", "control_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("interface_message")
    with op.batch_alter_table("patient_link", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_link_patient_id")
    op.drop_table("patient_link")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("uq_appointment_external")
        batch_op.drop_column("external_id")
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.drop_index("ix_import_run_sha256")
    op.drop_table("import_run")
