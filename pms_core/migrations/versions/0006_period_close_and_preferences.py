"""period close and user preferences

Month-end closes (period_close): the books are closed through the last day of
the latest month closed and not reopened. Each user's kept choices
(user_preference: the dashboard's tiles).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pms_core.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "period_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("closed_through", sa.Date(), nullable=False),
        sa.Column("closed_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("reopened_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("reopened_by_id", sa.Integer(), nullable=True),
        sa.Column("reopen_reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["closed_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["reopened_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("period_close", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_period_close_practice_id"), ["practice_id"], unique=False
        )
    op.create_table(
        "user_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("user_preference")
    with op.batch_alter_table("period_close", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_period_close_practice_id"))
    op.drop_table("period_close")
