"""imports

Applied file imports (import_run: kind, the file's SHA-256, counts) and the
external id an appointment carries from the system it came from.

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


def downgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("uq_appointment_external")
        batch_op.drop_column("external_id")
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.drop_index("ix_import_run_sha256")
    op.drop_table("import_run")
