"""remittance

835 remittances as received and posted: remittance (one per transaction
set), remittance_claim, remittance_line, remittance_adjustment and
remittance_plb; posting.reason (the CAS group and CARC a posting came from),
inbound_file.compressed and claim.prior_claim_id (a secondary's primary claim).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:42:58.837648
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pms_core.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remittance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("inbound_file_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("set_control", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("payer_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("payer_identifier", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("originator", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("trace_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("handling", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("payment_cents", sa.BigInteger(), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("payee_identifier", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("matched_count", sa.Integer(), nullable=False),
        sa.Column("unmatched_count", sa.Integer(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("adjusted_cents", sa.BigInteger(), nullable=False),
        sa.Column("patient_resp_cents", sa.BigInteger(), nullable=False),
        sa.Column("plb_cents", sa.BigInteger(), nullable=False),
        sa.Column("received_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("posted_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_file_id"],
            ["inbound_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"],
            ["payer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["posted_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("remittance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remittance_inbound_file_id"), ["inbound_file_id"], unique=False
        )
        batch_op.create_index("ix_remittance_practice", ["practice_id", "id"], unique=False)
        batch_op.create_index(
            "uq_remittance_trace_posted",
            ["practice_id", "originator", "trace_number"],
            unique=True,
            sqlite_where=sa.text("status = 'posted'"),
            postgresql_where=sa.text("status = 'posted'"),
        )

    op.create_table(
        "remittance_plb",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "provider_identifier", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False
        ),
        sa.Column("fiscal_period_end", sa.Date(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittance.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("remittance_plb", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remittance_plb_remittance_id"), ["remittance_id"], unique=False
        )

    op.create_table(
        "remittance_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("remittance_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("claim_number", sqlmodel.sql.sqltypes.AutoString(length=38), nullable=False),
        sa.Column("status_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("patient_resp_cents", sa.BigInteger(), nullable=True),
        sa.Column("filing_indicator", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("payer_claim_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("frequency", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("patient_last", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("patient_first", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
        sa.Column("member_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("service_from", sa.Date(), nullable=True),
        sa.Column("service_to", sa.Date(), nullable=True),
        sa.Column("remarks", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("match_method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("unmatched_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("matched_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("matched_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entry.id"],
        ),
        sa.ForeignKeyConstraint(
            ["matched_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["remittance_id"],
            ["remittance.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("remittance_claim", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remittance_claim_claim_id"), ["claim_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_remittance_claim_remittance_id"), ["remittance_id"], unique=False
        )
        batch_op.create_index("ix_remittance_claim_status", ["practice_id", "status"], unique=False)

    op.create_table(
        "remittance_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_claim_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("qualifier", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("procedure", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("modifiers", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
        sa.Column("original_procedure", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
        sa.Column(
            "original_modifiers", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False
        ),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("allowed_cents", sa.BigInteger(), nullable=True),
        sa.Column("units", sa.Numeric(precision=15, scale=3), nullable=True),
        sa.Column("service_from", sa.Date(), nullable=True),
        sa.Column("service_to", sa.Date(), nullable=True),
        sa.Column("control_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("remarks", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=True),
        sa.Column("denied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"],
            ["charge.id"],
        ),
        sa.ForeignKeyConstraint(
            ["remittance_claim_id"],
            ["remittance_claim.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("remittance_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remittance_line_charge_id"), ["charge_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_remittance_line_remittance_claim_id"),
            ["remittance_claim_id"],
            unique=False,
        )

    op.create_table(
        "remittance_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remittance_claim_id", sa.Integer(), nullable=False),
        sa.Column("remittance_line_id", sa.Integer(), nullable=True),
        sa.Column("group_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=15, scale=3), nullable=True),
        sa.ForeignKeyConstraint(
            ["remittance_claim_id"],
            ["remittance_claim.id"],
        ),
        sa.ForeignKeyConstraint(
            ["remittance_line_id"],
            ["remittance_line.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("remittance_adjustment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_remittance_adjustment_remittance_claim_id"),
            ["remittance_claim_id"],
            unique=False,
        )

    op.create_table(
        "denial_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("remittance_claim_id", sa.Integer(), nullable=False),
        sa.Column("charge_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["charge_id"], ["charge.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entry.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["remittance_claim_id"], ["remittance_claim.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_denial_action_item", "denial_action", ["remittance_claim_id", "charge_id"])
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("applied_cents", sa.BigInteger(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("processor", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("receipt_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("reversed_entry_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entry.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["reversed_entry_id"], ["journal_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_payment_patient", "payment", ["practice_id", "patient_id"])
    op.create_index("uq_payment_receipt", "payment", ["practice_id", "receipt_number"], unique=True)
    op.create_table(
        "statement_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("statement_date", sa.Date(), nullable=False),
        sa.Column("min_balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("cycle", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("statement_count", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_statement_run_practice_id", "statement_run", ["practice_id"])
    op.create_table(
        "statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.ForeignKeyConstraint(["practice_id"], ["practice.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["statement_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_statement_patient", "statement", ["practice_id", "patient_id"])
    op.create_index("ix_statement_run_id", "statement", ["run_id"])
    # Plain ADD COLUMN, never a batch rebuild: rebuilding posting on SQLite
    # would drop its append-only triggers.
    op.add_column(
        "inbound_file",
        sa.Column("compressed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("posting", sa.Column("reason", sa.String(length=20), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE claim ADD COLUMN prior_claim_id INTEGER REFERENCES claim (id)")
    else:
        op.add_column("claim", sa.Column("prior_claim_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_claim_prior", "claim", "claim", ["prior_claim_id"], ["id"])


def downgrade() -> None:
    op.drop_table("statement")
    op.drop_table("statement_run")
    op.drop_index("uq_payment_receipt", table_name="payment")
    op.drop_index("ix_payment_patient", table_name="payment")
    op.drop_table("payment")
    op.drop_index("ix_denial_action_item", table_name="denial_action")
    op.drop_table("denial_action")
    if op.get_bind().dialect.name == "sqlite":  # a column in a foreign key: rebuild
        with op.batch_alter_table("claim") as batch_op:
            batch_op.drop_column("prior_claim_id")
    else:
        op.drop_constraint("fk_claim_prior", "claim", type_="foreignkey")
        op.drop_column("claim", "prior_claim_id")
    op.drop_column("posting", "reason")  # ALTER TABLE DROP COLUMN: triggers stay
    op.drop_column("inbound_file", "compressed")

    with op.batch_alter_table("remittance_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remittance_adjustment_remittance_claim_id"))

    op.drop_table("remittance_adjustment")
    with op.batch_alter_table("remittance_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remittance_line_remittance_claim_id"))
        batch_op.drop_index(batch_op.f("ix_remittance_line_charge_id"))

    op.drop_table("remittance_line")
    with op.batch_alter_table("remittance_claim", schema=None) as batch_op:
        batch_op.drop_index("ix_remittance_claim_status")
        batch_op.drop_index(batch_op.f("ix_remittance_claim_remittance_id"))
        batch_op.drop_index(batch_op.f("ix_remittance_claim_claim_id"))

    op.drop_table("remittance_claim")
    with op.batch_alter_table("remittance_plb", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remittance_plb_remittance_id"))

    op.drop_table("remittance_plb")
    with op.batch_alter_table("remittance", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_remittance_trace_posted",
            sqlite_where=sa.text("status = 'posted'"),
            postgresql_where=sa.text("status = 'posted'"),
        )
        batch_op.drop_index("ix_remittance_practice")
        batch_op.drop_index(batch_op.f("ix_remittance_inbound_file_id"))

    op.drop_table("remittance")
