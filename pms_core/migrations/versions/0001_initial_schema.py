"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 22:04:32.931025
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import pms_core.models.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_practice_id"), ["practice_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_event_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "practice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("group_npi", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("tin", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("taxonomy", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("address1", sqlmodel.sql.sqltypes.AutoString(length=55), nullable=False),
        sa.Column("address2", sqlmodel.sql.sqltypes.AutoString(length=55), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("zip", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "role",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("last_login_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["role"],
            ["role.name"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_user_practice_id"), ["practice_id"], unique=False)

    op.create_table(
        "location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("npi", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("default_pos", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("address1", sqlmodel.sql.sqltypes.AutoString(length=55), nullable=False),
        sa.Column("address2", sqlmodel.sql.sqltypes.AutoString(length=55), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("zip", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_location_practice_id"), ["practice_id"], unique=False)

    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("account_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
        sa.Column("middle_name", sqlmodel.sql.sqltypes.AutoString(length=25), nullable=True),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("suffix", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("dob", sa.Date(), nullable=False),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("address1", sqlmodel.sql.sqltypes.AutoString(length=55), nullable=False),
        sa.Column("address2", sqlmodel.sql.sqltypes.AutoString(length=55), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("zip", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("home_phone", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("mobile_phone", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("preferred_contact", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("guarantor_id", sa.Integer(), nullable=True),
        sa.Column(
            "guarantor_relationship", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True
        ),
        sa.Column("search_first", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
        sa.Column("search_last", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guarantor_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("practice_id", "account_number", name="uq_patient_account"),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index("ix_patient_dob", ["practice_id", "dob"], unique=False)
        batch_op.create_index("ix_patient_first", ["practice_id", "search_first"], unique=False)
        batch_op.create_index("ix_patient_home_phone", ["practice_id", "home_phone"], unique=False)
        batch_op.create_index(
            "ix_patient_mobile_phone", ["practice_id", "mobile_phone"], unique=False
        )
        batch_op.create_index(
            "ix_patient_name", ["practice_id", "search_last", "search_first"], unique=False
        )

    op.create_table(
        "payer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("edi_payer_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column(
            "claim_filing_indicator", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False
        ),
        sa.Column("address1", sqlmodel.sql.sqltypes.AutoString(length=55), nullable=True),
        sa.Column("address2", sqlmodel.sql.sqltypes.AutoString(length=55), nullable=True),
        sa.Column("city", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("zip", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payer_practice_id"), ["practice_id"], unique=False)

    op.create_table(
        "provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("npi", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("taxonomy", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("credential", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_practice_id"), ["practice_id"], unique=False)

    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("auth_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("member_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("member_id_search", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("group_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("plan_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("relationship", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column(
            "subscriber_first_name", sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True
        ),
        sa.Column(
            "subscriber_last_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True
        ),
        sa.Column("subscriber_dob", sa.Date(), nullable=True),
        sa.Column("subscriber_sex", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("copay_cents", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", pms_core.models.base.UTCDateTime(), nullable=False),
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
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coverage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_coverage_member", ["practice_id", "member_id_search"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_coverage_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coverage_payer_id"), ["payer_id"], unique=False)

    op.create_table(
        "intake_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("recorded_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", pms_core.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intake_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_item_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "journal_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("posted_at", pms_core.models.base.UTCDateTime(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("memo", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["practice.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entry.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reverses_id"),
    )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_entry_practice_id"), ["practice_id"], unique=False
        )
        batch_op.create_index("uq_journal_reference", ["practice_id", "reference"], unique=True)

    op.create_table(
        "posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("coverage_id", sa.Integer(), nullable=True),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coverage_id"],
            ["coverage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entry.id"],
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
    )
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.create_index("ix_posting_account", ["practice_id", "account"], unique=False)
        batch_op.create_index(batch_op.f("ix_posting_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(
            "ix_posting_patient", ["practice_id", "patient_id", "account"], unique=False
        )

    _append_only_triggers()
    _seed_roles()
    # The audit chain's head exists from the start: appenders lock this row.
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table("posting", schema=None) as batch_op:
        batch_op.drop_index("ix_posting_patient")
        batch_op.drop_index(batch_op.f("ix_posting_entry_id"))
        batch_op.drop_index("ix_posting_account")

    op.drop_table("posting")
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index("uq_journal_reference")
        batch_op.drop_index(batch_op.f("ix_journal_entry_practice_id"))

    op.drop_table("journal_entry")
    with op.batch_alter_table("intake_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_item_patient_id"))

    op.drop_table("intake_item")
    with op.batch_alter_table("coverage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverage_payer_id"))
        batch_op.drop_index(batch_op.f("ix_coverage_patient_id"))
        batch_op.drop_index("ix_coverage_member")

    op.drop_table("coverage")
    with op.batch_alter_table("auth_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_token_user_id"))

    op.drop_table("auth_token")
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_practice_id"))

    op.drop_table("provider")
    with op.batch_alter_table("payer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payer_practice_id"))

    op.drop_table("payer")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_name")
        batch_op.drop_index("ix_patient_mobile_phone")
        batch_op.drop_index("ix_patient_home_phone")
        batch_op.drop_index("ix_patient_first")
        batch_op.drop_index("ix_patient_dob")

    op.drop_table("patient")
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_location_practice_id"))

    op.drop_table("location")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_user_practice_id"))

    op.drop_table("app_user")
    op.drop_table("setting")
    op.drop_table("role")
    op.drop_table("practice")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_practice_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_patient_id"))

    op.drop_table("audit_event")


# Tables whose rows are never changed or removed once written: the ledger
# (corrections are reversing entries) and the audit log (a hash chain).
APPEND_ONLY = ("posting", "journal_entry", "audit_event")

ROLES = [
    {"name": "admin", "description": "Installs, manages users and settings; full access"},
    {"name": "biller", "description": "Charges, claims, remittance posting, statements"},
    {"name": "frontdesk", "description": "Registration, insurance, scheduling, check-in"},
    {"name": "manager", "description": "Reports and dashboards; reads PHI, writes none"},
    {"name": "auditor", "description": "Reads and verifies the audit log only"},
]


def _append_only_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
    else:
        op.execute(
            "CREATE FUNCTION pms_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pms_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION pms_append_only()"
            )


def _drop_append_only_triggers() -> None:
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    if bind.dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS pms_append_only()")


def _seed_roles() -> None:
    role = sa.table("role", sa.column("name", sa.String), sa.column("description", sa.String))
    op.bulk_insert(role, ROLES)
