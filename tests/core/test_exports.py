"""Exports (services.exports, .exporters, pms_data's writers) and the daily
journal (services.journal), on SQLite and PostgreSQL: what a file holds is what
the database holds, formulas are neutralized for spreadsheets, every export is
audited, and each day of the journal balances.

The books: Claimwell's visit of 2026-02-20 (99213 $125.00) billed to Acme, who
paid $92.10 by EFT (trace EFT0001) with $32.90 contractual; the self-pay
patient's visit of the same day ($125.00) paid $100.00 by card on 2026-03-02.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from pms_core.errors import PermissionDenied, ValidationError
from pms_core.models import AuditEvent, Patient, Posting
from pms_core.services import claims, exports, journal, payments, remittance
from tests.billing_helpers import setup_billing, visit
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD
from tests.x12_remits import PaidClaim, PaidLine, era_835


@pytest.fixture
def books(uow, practice, engine):
    billing = setup_billing(uow, practice)
    visit(uow, practice, billing.patient_id)
    visit(uow, practice, billing.self_pay_id)
    with uow("biller") as ctx:
        claim = next(
            c for c in claims.build_claims(ctx).claims if c.patient_id == billing.patient_id
        )
        paid = PaidClaim(claim.claim_number, "125.00", "92.10", lines=[
            PaidLine("99213", "125.00", "92.10", adjustments=[("CO", "45", "32.90")])])  # fmt: skip
        outcome = remittance.import_era(ctx, name="acme.835", source=era_835([paid]))
        assert outcome.status == "posted"
        payments.post_payment(ctx, patient_id=billing.self_pay_id, amount="100.00",
                              method="card", reference="TERM-1")  # fmt: skip
    with engine.begin() as conn:  # an address a spreadsheet would run as a formula
        conn.execute(
            update(Patient).where(Patient.id == billing.self_pay_id).values(address2="=1+2")
        )
    return billing


def export(uow, kind, fmt, path=None, role="admin", **options):
    with uow(role) as ctx:
        out = io.StringIO() if path is None else None
        result = exports.export_records(ctx, kind=kind, fmt=fmt, path=path, out=out, **options)
    return result, out.getvalue() if out is not None else None


def test_patients_to_csv_hold_every_patient_with_formulas_neutralized(uow, books, tmp_path):
    result, _ = export(uow, "patients", "csv", tmp_path / "patients.csv")
    text = (tmp_path / "patients.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))

    assert result.rows == len(rows) == 3
    cash = next(r for r in rows if r["id"] == str(books.self_pay_id))
    assert (cash["first_name"], cash["dob"], cash["address2"]) == (
        "Testcash",
        "1975-01-30",
        "'=1+2",
    )


def test_jsonl_keeps_values_as_they_are_and_the_ledger_balances(uow, books, engine):
    result, text = export(uow, "ledger", "jsonl")
    records = [json.loads(line) for line in text.splitlines()]

    with engine.connect() as conn:
        assert (
            result.rows
            == len(records)
            == conn.execute(select(func.count()).select_from(Posting)).scalar_one()
        )
    by_entry: dict[int, Decimal] = {}
    for r in records:
        by_entry[r["entry_id"]] = by_entry.get(r["entry_id"], Decimal(0)) + Decimal(r["amount"])
    assert set(by_entry.values()) == {Decimal(0)}
    paid = [r for r in records if r["entry_kind"] == "era_payment" and r["account"] == "cash"]
    assert [r["amount"] for r in paid] == ["92.10"]

    _, patients = export(uow, "patients", "jsonl")
    assert any(json.loads(line)["address2"] == "=1+2" for line in patients.splitlines())


def test_xlsx_has_numbers_for_money_and_dates_for_dates(uow, books, tmp_path):
    export(uow, "claims", "xlsx", tmp_path / "claims.xlsx")
    sheet = load_workbook(tmp_path / "claims.xlsx", read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    record = dict(zip(header, rows[0], strict=True))
    assert record["total"] == 125 and record["service_from"].date() == date(2026, 2, 20)
    assert len(rows) == 1  # the self-pay visit has no claim


def test_dated_exports_filter_and_undated_ones_refuse_dates(uow, books):
    result, text = export(uow, "payments", "jsonl", date_from=date(2026, 3, 1))
    assert result.rows == 1 and json.loads(text)["method"] == "card"
    result, _ = export(uow, "payments", "jsonl", date_to=date(2026, 2, 28))
    assert result.rows == 0
    with pytest.raises(ValidationError):
        export(uow, "patients", "csv", date_from=date(2026, 1, 1))
    with pytest.raises(ValidationError):
        export(uow, "patients", "pdf")
    with pytest.raises(ValidationError):
        export(uow, "patients", "xlsx")  # a binary format needs a file


def test_exports_are_audited_and_need_data_export(uow, books, engine):
    export(uow, "patients", "csv", role="manager")
    with pytest.raises(PermissionDenied):
        export(uow, "patients", "csv", role="frontdesk")
    with engine.connect() as conn:
        detail = conn.execute(
            select(AuditEvent.detail).where(
                AuditEvent.action == "export.patients", AuditEvent.outcome == "ok"
            )
        ).scalar_one()
    assert json.loads(detail) == {"kind": "patients", "format": "csv", "rows": 3, "dated": False}


# --- the journal ----------------------------------------------------------------------
def test_the_journal_sums_each_day_by_account_and_source_and_balances(uow, books):
    with uow("biller") as ctx:
        lines = journal.daily_journal(ctx, date(2026, 2, 1), date(2026, 3, 31))
    by_day: dict[date, list] = {}
    for line in lines:
        by_day.setdefault(line.day, []).append(line)
    for day_lines in by_day.values():
        assert sum(ln.debit_cents for ln in day_lines) == sum(ln.credit_cents for ln in day_lines)
    sources = {(ln.account, ln.source): (ln.debit_cents, ln.credit_cents) for ln in lines}
    assert sources[("cash", "insurance EFT EFT0001")] == (92_10, 0)
    assert sources[("cash", "patient card")] == (100_00, 0)
    assert sources[("revenue:charges", "charge")] == (0, 250_00)
    assert sources[("adjustment:contractual", "era_payment")] == (32_90, 0)


def test_the_journal_as_beancount_is_one_balanced_transaction_a_day(uow, books):
    out = io.StringIO()
    with uow("biller") as ctx:
        days = journal.export_journal(
            ctx, date_from=date(2026, 2, 1), date_to=date(2026, 3, 31), fmt="beancount", out=out
        )
    text = out.getvalue()
    transactions = text.split("\n\n")[2:]
    assert days == len(transactions) >= 2
    for block in transactions:
        amounts = [Decimal(line.split()[1]) for line in block.splitlines()[1:]
                   if line.startswith("  ") and not line.startswith("    ")]  # fmt: skip
        assert amounts and sum(amounts) == 0
    assert "Assets:Cash:Insurance-EFT" in text and "Assets:Cash:Patient-Card" in text
    assert 'source: "insurance EFT EFT0001"' in text


def test_cli_exports_to_stdout_and_files(db_url, cli_env, books, tmp_path):
    env = {**cli_env, "PMS_USER": "admin", "PMS_PASSWORD": PASSWORD}
    out = run_cli(["--db", db_url, "export", "payments", "--format", "jsonl"], env=env)
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["receipt_number"]
    target = tmp_path / "ledger.xlsx"
    done = run_cli(["--db", db_url, "export", "ledger", "-o", str(target)], env=env)
    assert done.exit_code == 0 and "written to" in done.stderr
    sheet = load_workbook(target, read_only=True).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) > 1
    book = run_cli(["--db", db_url, "export", "journal", "--from", "2026-02-01", "--to",
                    "2026-03-31", "--format", "beancount"], env=env)  # fmt: skip
    assert book.exit_code == 0 and "Daily summary 2026-03-02" in book.stdout


# --- the whole practice, and back ---------------------------------------------------------
@pytest.fixture
def empty_url(db_url, tmp_path, request):
    """A second database of the same engine, empty (no schema)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    return request.getfixturevalue("pg_databases").create("pms_restore")


def _table_rows(engine, table) -> list[tuple]:
    with engine.connect() as conn:
        query = select(table).order_by(*table.primary_key.columns)
        return [tuple(row) for row in conn.execute(query)]


def test_the_practice_reads_back_identically_into_an_empty_database(
    uow, books, engine, empty_url, tmp_path, with_imported
):
    from sqlmodel import SQLModel

    from pms_core import audit
    from pms_core.db import make_engine
    from pms_core.services import archive
    from pms_core.services.archive import LEFT_OUT

    target = tmp_path / "practice.zip"
    with uow("admin") as ctx:
        result = archive.export_all(ctx, path=target)
    assert result.rows > 50

    restored = make_engine(empty_url)
    try:
        back = archive.import_all(restored, path=target)
        assert back.rows == result.rows
        for table in SQLModel.metadata.sorted_tables:
            if table.name in LEFT_OUT:
                continue
            before, after = _table_rows(engine, table), _table_rows(restored, table)
            if table.name == "audit_event":  # the export and the import are events too
                assert after[: len(before) - 1] == before[:-1]
                continue
            if table.name == "audit_head":
                continue
            assert after == before, table.name
        with restored.connect() as conn:
            sums = conn.execute(
                select(Posting.account, Posting.patient_id, func.sum(Posting.amount_cents))
                .group_by(Posting.account, Posting.patient_id)
                .order_by(Posting.account, Posting.patient_id)
            ).all()
        with engine.connect() as conn:
            assert (
                sums
                == conn.execute(
                    select(Posting.account, Posting.patient_id, func.sum(Posting.amount_cents))
                    .group_by(Posting.account, Posting.patient_id)
                    .order_by(Posting.account, Posting.patient_id)
                ).all()
            )
        from sqlmodel import Session

        with Session(restored) as session:
            assert audit.verify(session).ok
        # ids go on after the restored ones (PostgreSQL sequences moved)
        from pms_core.context import unit_of_work
        from pms_core.plugins import get_plugin_manager
        from pms_core.services import patients

        with unit_of_work(
            restored, user_id=books.extra["admin_id"], pm=get_plugin_manager()
        ) as ctx:
            new = patients.register_patient(
                ctx, first_name="Nova", last_name="After", dob="1990-01-01", sex="F",
                address1="1 New St", city="Springfield", state="IL", zip="62701",
                mobile_phone="217-555-0199",
            )  # fmt: skip
        assert new.id > max(r[0] for r in _table_rows(engine, Patient.__table__))

        again = pytest.raises(ValidationError, archive.import_all, restored, path=target)
        assert again.value.errors[0].code == "not_empty"
    finally:
        restored.dispose()


@pytest.fixture
def with_imported(uow, books, practice, tmp_path):
    """Imported appointments and opening balances beside the books."""
    from pms_core.models.schedule import AppointmentType
    from pms_core.services import imports

    with uow() as ctx:
        ctx.session.add(
            AppointmentType(practice_id=ctx.practice_id, name="Visit", duration_minutes=15)
        )
    appts = tmp_path / "appts.csv"
    appts.write_text(
        f"id,account,provider,type,start\nX1,P{books.patient_id:07d},1245319599,Visit,"
        "2026-03-09 10:00\n"
    )
    balances = tmp_path / "balances.csv"
    balances.write_text(f"account,amount,date\nP{books.self_pay_id:07d},12.00,2025-12-01\n")
    with uow() as ctx:
        for kind, path in (("appointments", appts), ("balances", balances)):
            assert imports.run_import(ctx, kind=kind, path=path).applied
    books.extra["admin_id"] = practice.users["admin"]
