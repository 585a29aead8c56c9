"""The built-in reports (pms_reports) on a small practice whose figures are
worked out by hand below, on SQLite and PostgreSQL: A/R aging reconciles with
the ledger, month-end with the month's postings, and each rate is the
definition in docs/reports.md.

The practice (provider Rivera at Main Clinic, payer Acme):

- c1: patient A, 2025-12-15, $100.00 billed to Acme. Acme paid $60.00 on
  2026-01-20 with $25.00 contractual (CO-45) and $15.00 coinsurance (PR-2);
  A paid $10.00 on 2026-02-01: $5.00 still owed by A.
- c3: patient A, 2026-01-25, $150.00 billed to Acme, claim first submitted
  2026-02-05, unpaid.
- c2: patient B (no insurance), 2026-02-20, $150.00; B paid $160.00 on
  2026-02-25 ($10.00 left as credit), refunded $10.00 on 2026-03-02 (today).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlmodel import Session

from pms_core import ledger
from pms_core.errors import NotFound, PermissionDenied, ValidationError
from pms_core.ledger import Account, Line
from pms_core.models import Charge, Claim, JournalEntry, Posting
from pms_core.money import Money
from pms_core.services import charges, claims, fees, payments, reports
from tests.cli_helpers import run_cli
from tests.core.test_ledger import add_coverage, add_patients
from tests.core.test_reminders import add_appointment, add_type

AS_OF = date(2026, 3, 2)


@pytest.fixture
def books(engine, practice, uow):
    """The practice above; returns its ids."""
    a, b = add_patients(engine, practice.id, 2)
    acme = practice.payer_ids[0]
    add_coverage(engine, practice.id, a, acme)
    with uow("biller") as ctx:
        fees.import_fee_schedule(
            ctx, rows=[{"code": "99213", "amount": "100.00"}, {"code": "99214", "amount": "150.00"}]
        )

    def visit(patient_id, day, code):
        with uow("biller") as ctx:
            encounter = charges.create_encounter(
                ctx,
                patient_id=patient_id,
                provider_id=practice.provider_id,
                location_id=practice.location_id,
                date_of_service=day,
                diagnoses=["E11.9"],
            )
            charges.add_charge(ctx, encounter_id=encounter.id, code=code)
            (charge,) = charges.post_encounter(ctx, encounter_id=encounter.id)
            return charge.id

    c1 = visit(a, date(2025, 12, 15), "99213")
    c3 = visit(a, date(2026, 1, 25), "99214")
    c2 = visit(b, date(2026, 2, 20), "99214")
    with uow("biller") as ctx:  # Acme's remittance for c1, as the 835 posting writes it
        dims = dict(
            provider_id=practice.provider_id, location_id=practice.location_id, charge_id=c1
        )
        ledger.post(
            ctx,
            entry_date=date(2026, 1, 20),
            kind="era_payment",
            lines=[
                Line(Account.CASH, Money(6000), a, payer_id=acme, reason="paid", **dims),
                Line(Account.ADJ_CONTRACTUAL, Money(2500), a, payer_id=acme, reason="CO-45", **dims),
                Line(Account.AR_PATIENT, Money(1500), a, reason="PR-2", **dims),
                Line(Account.AR_INSURANCE, Money(-10000), a, payer_id=acme, reason="adjudicated", **dims),
            ],
        )  # fmt: skip
        claims.build_claims(ctx)
    with Session(engine) as s:  # c3's claim went out on 2026-02-05
        encounter = s.get(Charge, c3).encounter_id
        s.exec(
            update(Claim)
            .where(Claim.encounter_id == encounter)
            .values(first_submitted_at=datetime(2026, 2, 5, 18, tzinfo=UTC), status="submitted")
        )
        s.commit()
    with uow("frontdesk") as ctx:
        payments.post_payment(
            ctx, patient_id=a, amount="10.00", method="cash", received_on=date(2026, 2, 1)
        )
        payments.post_payment(
            ctx, patient_id=b, amount="160.00", method="check", reference="1001",
            received_on=date(2026, 2, 25),
        )  # fmt: skip
    with uow("manager") as ctx:
        payments.refund(ctx, patient_id=b, amount="10.00", method="check", reason="overpaid")
    return {"a": a, "b": b, "acme": acme, "c1": c1, "c2": c2, "c3": c3}


def run(uow, name, role="manager", **params):
    with uow(role) as ctx:
        return reports.run_report(ctx, name, {k: str(v) for k, v in params.items()})


def by_name(result, key="name"):
    return {row[key]: row for row in result.rows}


def ledger_ar(engine, as_of=AS_OF) -> int:
    with Session(engine) as s:
        return s.exec(
            select(func.coalesce(func.sum(Posting.amount_cents), 0))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(
                Posting.account.in_(("ar:patient", "ar:insurance")),
                JournalEntry.entry_date <= as_of,
            )
        ).one()[0]


# --- A/R aging --------------------------------------------------------------------------
def test_aging_by_date_of_service_matches_the_hand_figures_and_the_ledger(engine, books, uow):
    result = run(uow, "ar_aging", as_of=AS_OF)
    rows = by_name(result)
    assert set(rows) == {"Acme Health Plan", "Patient responsibility"}
    assert rows["Acme Health Plan"]["31-60"] == 15000  # c3: 36 days since 2026-01-25
    assert rows["Patient responsibility"]["61-90"] == 500  # c1: 77 days since 2025-12-15
    assert result.totals["total"] == 15500 == ledger_ar(engine)
    assert sum(result.totals[b] for b in ("0-30", "31-60", "61-90", "91-120", "120+")) == 15500


def test_aging_from_first_submission_and_as_of_an_earlier_day(engine, books, uow):
    submitted = by_name(run(uow, "ar_aging", as_of=AS_OF, basis="submission"))
    assert submitted["Acme Health Plan"]["0-30"] == 15000  # sent 2026-02-05: 25 days
    assert submitted["Patient responsibility"]["61-90"] == 500  # never submitted: its service date
    # On 2026-01-31 A had not paid yet and c2 did not exist.
    earlier = run(uow, "ar_aging", as_of="2026-01-31")
    rows = by_name(earlier)
    assert rows["Patient responsibility"]["31-60"] == 1500
    assert rows["Acme Health Plan"]["0-30"] == 15000
    assert earlier.totals["total"] == 16500 == ledger_ar(engine, date(2026, 1, 31))


def test_aging_by_patient_names_the_patients_and_reconciles(engine, books, uow):
    result = run(uow, "ar_aging", by="patient")
    assert [(r["name"], r["total"]) for r in result.rows] == [
        ("Testpatient, TestfirstA (T00001)", 15500)
    ]
    assert result.totals["total"] == ledger_ar(engine)


# --- days in A/R, collections, month-end -----------------------------------------------
def test_days_in_ar_is_open_ar_over_the_average_days_charges(books, uow):
    (row,) = run(uow, "days_in_ar", as_of=AS_OF).rows
    # 2025-12-03 .. 2026-03-02 holds all three charges: $400.00 over 90 days
    assert (row["open_ar"], row["charges"]) == (15500, 40000)
    assert row["days"] == round(15500 / (40000 / 90), 1) == 34.9


def test_collections_by_month_with_gross_and_net_rates(books, uow):
    result = run(uow, "collections", date_from="2025-12-01", date_to=AS_OF)
    months = by_name(result, "month")
    assert list(months) == ["2025-12", "2026-01", "2026-02", "2026-03"]
    jan, feb, mar = months["2026-01"], months["2026-02"], months["2026-03"]
    assert (jan["charges"], jan["payments"], jan["contractual"]) == (15000, 6000, 2500)
    assert jan["gross_rate"] == Decimal("0.4000")  # 60 / 150
    assert jan["net_rate"] == Decimal("0.4800")  # 60 / (150 - 25)
    assert (feb["charges"], feb["payments"], feb["refunds"]) == (15000, 17000, 0)
    assert (mar["payments"], mar["refunds"]) == (0, 1000)
    assert months["2025-12"]["gross_rate"] == Decimal("0")
    t = result.totals
    assert (t["charges"], t["payments"], t["contractual"], t["refunds"]) == (
        40000,
        23000,
        2500,
        1000,
    )
    assert t["net_rate"] == Decimal("0.6133")  # 230 / 375


def month_postings(engine, first: date, last: date) -> dict[str, int]:
    with Session(engine) as s:
        return dict(
            s.exec(
                select(Posting.account, func.sum(Posting.amount_cents))
                .join(JournalEntry, JournalEntry.id == Posting.entry_id)
                .where(JournalEntry.entry_date >= first, JournalEntry.entry_date <= last)
                .group_by(Posting.account)
            ).all()
        )


def test_month_end_by_provider_and_location_equals_the_months_ledger(engine, books, uow):
    result = run(uow, "month_end", month="2026-02")
    rows = {(r["provider"], r["location"]): r for r in result.rows}
    rivera = rows[("Rivera, Alex", "Main Clinic")]
    assert (rivera["charges"], rivera["payments"]) == (15000, 16000)  # A's 10 and B's 150 applied
    unassigned = rows[("(not assigned)", "(not assigned)")]
    assert unassigned["payments"] == 1000  # B's credit
    ledger_month = month_postings(engine, date(2026, 2, 1), date(2026, 2, 28))
    t = result.totals
    assert t["charges"] == -ledger_month["revenue:charges"]
    assert t["payments"] - t["refunds"] == ledger_month["cash"]
    assert t["contractual"] == ledger_month.get("adjustment:contractual", 0)
    march = run(uow, "month_end", month="2026-03").totals
    assert (march["refunds"], march["payments"]) == (1000, 0)
    assert -march["refunds"] == month_postings(engine, date(2026, 3, 1), date(2026, 3, 31))["cash"]


# --- appointments and the reminder effect -----------------------------------------------
@pytest.fixture
def visits(engine, practice):
    """Monday 2026-02-23 and Tuesday 2026-02-24, 10:00 Chicago (16:00 UTC)."""
    type_id = add_type(engine, practice)
    (patient,) = add_patients(engine, practice.id, 1, prefix="V")
    mon = datetime(2026, 2, 23, 16, tzinfo=UTC)
    tue = mon + timedelta(days=1)

    def add(starts, status, **fields):
        return add_appointment(engine, practice, patient, type_id, starts, status=status, **fields)

    return {
        "confirmed_seen": add(mon, "completed", confirmed_at=mon - timedelta(days=1)),
        "confirmed_no_show": add(mon + timedelta(hours=1), "no_show", confirmed_at=mon - timedelta(days=1)),
        "no_show": add(mon + timedelta(hours=2), "no_show"),
        "seen": add(tue, "completed"),
        "late_cancel": add(tue + timedelta(hours=1), "cancelled", cancelled_at=tue - timedelta(hours=3)),
        "early_cancel": add(tue + timedelta(hours=2), "cancelled", cancelled_at=tue - timedelta(days=3)),
        "moved": add(tue + timedelta(hours=3), "cancelled", cancel_reason="rescheduled",
                     cancelled_at=tue - timedelta(hours=1)),
    }  # fmt: skip


def test_appointment_volume_no_show_and_late_cancel_rates_by_weekday(visits, uow):
    result = run(uow, "appointments", date_from="2026-02-22", date_to="2026-02-28", by="weekday")
    rows = by_name(result, "group")
    monday, tuesday = rows["Monday"], rows["Tuesday"]
    assert (monday["appointments"], monday["no_shows"]) == (3, 2)
    assert monday["no_show_rate"] == Decimal("0.6667")
    # the moved visit counts at its new time, not here
    assert (tuesday["appointments"], tuesday["late_cancels"]) == (3, 1)
    assert tuesday["late_cancel_rate"] == Decimal("0.3333") and tuesday["no_show_rate"] == Decimal(
        "0"
    )
    assert result.totals["appointments"] == 6
    assert sorted(result.drill[0]) == sorted(
        visits[k] for k in ("confirmed_seen", "confirmed_no_show", "no_show")
    )


def test_reminder_effect_compares_confirmed_and_unconfirmed(visits, uow):
    result = run(uow, "reminder_effect", date_from="2026-02-22", date_to="2026-02-28")
    rows = by_name(result, "group")
    assert (rows["Confirmed"]["appointments"], rows["Confirmed"]["no_shows"]) == (2, 1)
    assert rows["Confirmed"]["no_show_rate"] == Decimal("0.5000")
    assert (rows["Not confirmed"]["appointments"], rows["Not confirmed"]["no_shows"]) == (2, 1)
    assert result.totals["no_show_rate"] == Decimal("0.5000")


# --- parameters, permissions, output -----------------------------------------------------
def test_bad_parameters_are_reported_together_and_nothing_runs(books, uow):
    with pytest.raises(ValidationError) as caught:
        run(uow, "collections", date_from="2026-03-01", date_to="2026-02-01", colour="red")
    fields = {e.field: e.code for e in caught.value.errors}
    assert fields == {"colour": "unknown", "date_from": "range"}
    with pytest.raises(ValidationError) as caught:
        run(uow, "ar_aging", as_of="2026-02-30", basis="eventually")
    assert {e.field for e in caught.value.errors} == {"as_of", "basis"}
    with pytest.raises(NotFound):
        run(uow, "profit_and_loss")
    with pytest.raises(PermissionDenied):
        run(uow, "ar_aging", role="frontdesk")


def test_the_cli_writes_xlsx_with_formats_filters_definitions_and_a_chart(
    db_url, books, cli_env, tmp_path
):
    from tests.cli.test_auth_cli import cli_login

    assert cli_login(db_url, cli_env, "manager").exit_code == 0
    out = tmp_path / "collections.xlsx"
    done = run_cli(
        ["--db", db_url, "report", "run", "collections", "-p", "date_from=2025-12-01",
         "-p", "date_to=2026-03-02", "--format", "xlsx", "-o", str(out)],
        env=cli_env,
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    book = load_workbook(out)
    sheet = book["collections"]
    assert [c.value for c in sheet[1]][:3] == ["Month", "Charges", "Payments"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H5"
    assert sheet["B3"].value == Decimal("150") and "0.00" in sheet["B3"].number_format
    assert sheet["G3"].number_format == "0.00%" and float(sheet["G3"].value) == 0.4
    assert sheet["A6"].value == "Total"
    assert len(sheet._charts) == 1
    assert sheet.column_dimensions["G"].width >= len("Gross collection rate")
    figures = [row[1] for row in book["Definitions"].iter_rows(min_row=2, values_only=True)]
    assert "Net collection rate" in figures


def test_cli_json_csv_and_table_go_to_stdout(db_url, books, cli_env):
    from tests.cli.test_auth_cli import cli_login

    cli_login(db_url, cli_env, "manager")
    base = ["--db", db_url, "report", "run", "ar_aging", "-p", "as_of=2026-03-02"]
    data = json.loads(run_cli([*base, "--format", "json"], env=cli_env).stdout)
    assert data["totals"]["total"] == 15500 and data["params"]["as_of"] == "2026-03-02"
    csv_text = run_cli([*base, "--format", "csv"], env=cli_env).stdout
    assert csv_text.splitlines()[0].startswith("Payer,0-30,31-60")
    assert "Total,0.00,150.00,5.00,0.00,0.00,155.00" in csv_text
    table = run_cli(base, env=cli_env).stdout
    assert "Acme Health Plan" in table and "155.00" in table


def test_bad_input_exits_1_and_leaves_no_file(db_url, books, cli_env, tmp_path):
    from tests.cli.test_auth_cli import cli_login

    cli_login(db_url, cli_env, "manager")
    target = tmp_path / "aging.csv"
    for args, words in (
        (["-p", "as_of=yesterday"], "as_of: must be a date"),
        (["-p", "date_from=2026-01-01"], "date_from: is not a parameter"),
    ):
        done = run_cli(["--db", db_url, "report", "run", "ar_aging", *args, "--format", "csv",
                        "-o", str(target)], env=cli_env)  # fmt: skip
        assert done.exit_code == 1 and words in done.stderr
        assert not target.exists()
    done = run_cli(["--db", db_url, "report", "run", "nothing"], env=cli_env)
    assert done.exit_code == 1 and "no report named 'nothing'" in done.stderr
    # root ignores file modes here, so "not writable" is a folder in the way
    # and a file where the folder should be
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    for path in (tmp_path / "adir", tmp_path / "afile" / "a.csv"):
        done = run_cli(["--db", db_url, "report", "run", "ar_aging", "--format", "csv", "-o",
                        str(path)], env=cli_env)  # fmt: skip
        assert done.exit_code == 1 and "cannot write" in done.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert list((tmp_path / "adir").iterdir()) == []


def test_text_a_spreadsheet_would_run_is_neutralized_and_numbers_are_not(
    engine, books, uow, tmp_path
):
    from pms_core.models import Payer

    with Session(engine) as s:
        s.exec(update(Payer).where(Payer.id == books["acme"]).values(name="=HYPERLINK(0)"))
        s.commit()
    result = run(uow, "ar_aging", as_of=AS_OF)
    with uow("manager") as ctx:
        reports.write_results(ctx, [result], "csv", tmp_path / "a.csv")
        reports.write_results(ctx, [result], "xlsx", tmp_path / "a.xlsx")
    lines = (tmp_path / "a.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("'=HYPERLINK(0),0.00,150.00")
    sheet = load_workbook(tmp_path / "a.xlsx")["ar_aging"]
    assert sheet["A2"].value == "'=HYPERLINK(0)" and sheet["A2"].data_type == "s"


class BrokenWriter:
    """A writer that fails half-way through, as a full disk would."""

    name = "broken"
    extension = "txt"
    binary = False

    def write(self, results, out):
        out.write("half of it")
        raise OSError(28, "No space left on device")


def test_a_write_that_fails_half_way_leaves_the_old_file_alone(
    engine, practice, books, clock, tmp_path
):
    from pms_core.context import unit_of_work
    from pms_core.hookspecs import hookimpl
    from pms_core.plugins import get_plugin_manager
    from pms_core.services.reports import OutputError

    class Plugin:
        @hookimpl
        def register_report_writers(self, register):
            register(BrokenWriter())

    pm = get_plugin_manager(extra=(Plugin(),))
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "aging.txt"
    target.write_text("yesterday's report")
    with unit_of_work(engine, user_id=practice.users["manager"], pm=pm, clock=clock) as ctx:
        result = reports.run_report(ctx, "ar_aging", {})
        with pytest.raises(OutputError, match="No space left"):
            reports.write_results(ctx, [result], "broken", target)
    assert target.read_text() == "yesterday's report"
    assert [p.name for p in folder.iterdir()] == ["aging.txt"]


def test_a_provider_or_location_narrows_the_money_and_the_schedule(books, practice, uow, visits):
    mine = {"provider": practice.provider_id}
    assert run(uow, "ar_aging", as_of=AS_OF, **mine).totals["total"] == 15500
    assert run(uow, "ar_aging", as_of=AS_OF, provider=practice.provider_id + 100).rows == []
    feb = by_name(
        run(uow, "collections", date_from="2026-02-01", date_to="2026-02-28", **mine), "month"
    )["2026-02"]
    assert feb["payments"] == 16000  # B's credit belongs to no visit
    days = run(uow, "days_in_ar", as_of=AS_OF, location=practice.location_id).rows[0]
    assert (days["open_ar"], days["charges"]) == (15500, 40000)
    week = {"date_from": "2026-02-22", "date_to": "2026-02-28"}
    assert run(uow, "appointments", **week, **mine).totals["appointments"] == 6
    assert run(uow, "appointments", **week, location=practice.location_id + 100).rows == []
    with pytest.raises(ValidationError, match="provider: must be at least 1"):
        run(uow, "ar_aging", provider=0)


def test_the_lists_behind_the_figures_add_up_to_them(books, uow, visits):
    aging = run(uow, "ar_aging", as_of=AS_OF).totals
    for bucket in ("0-30", "31-60", "61-90", "91-120", "120+"):
        items = run(uow, "open_items", as_of=AS_OF, bucket=bucket)
        assert items.totals["open"] == aging[bucket]
    items = run(uow, "open_items", as_of=AS_OF)
    assert [(r["code"], r["owed_by"], r["bucket"], r["open"]) for r in items.rows] == [
        ("99213", "Patient responsibility", "61-90", 500),
        ("99214", "Acme Health Plan", "31-60", 15000),
    ]
    assert items.drill == {0: [books["c1"]], 1: [books["c3"]]}
    february = run(uow, "payments_received", date_from="2026-02-01", date_to="2026-02-28")
    assert [r["amount"] for r in february.rows] == [1000, 16000]
    week = {"date_from": "2026-02-22", "date_to": "2026-02-28"}
    no_shows = run(uow, "appointment_list", **week)
    assert sorted(no_shows.drill[i][0] for i in no_shows.drill) == sorted(
        [visits["confirmed_no_show"], visits["no_show"]]
    )
    late = run(uow, "appointment_list", **week, status="late_cancel")
    assert [r["status"] for r in late.rows] == ["cancelled"]


def test_denial_first_pass_payer_and_patient_figures_by_hand(engine, practice, uow):
    """A visit (99213 $125.00, Acme's contract $92.10; 36415 $15.00, contract
    $9.00) sent on 2026-02-21; Acme's remittance of 2026-02-27 pays $80.00 on
    the first line with $25.00 contractual and $20.00 coinsurance, and denies
    the second (CO-50)."""
    from pms_core.services import remittance
    from tests.billing_helpers import setup_billing, visit
    from tests.core.test_remittance import charge_ids
    from tests.x12_remits import PaidClaim, PaidLine, era_835

    billing = setup_billing(uow, practice)
    visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 1)))
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
    with Session(engine) as s:
        s.exec(
            update(Claim)
            .where(Claim.id == claim.id)
            .values(first_submitted_at=datetime(2026, 2, 21, 18, tzinfo=UTC), status="submitted")
        )
        s.commit()
    ids = charge_ids(engine, claim.id)
    paid = PaidClaim(claim.claim_number, "140.00", "80.00", patient_resp="20.00", lines=[
        PaidLine("99213", "125.00", "80.00", adjustments=[("CO", "45", "25.00"),
                 ("PR", "2", "20.00")], control=str(ids[0])),
        PaidLine("36415", "15.00", "0.00", adjustments=[("CO", "50", "15.00")],
                 control=str(ids[1]))])  # fmt: skip
    data = era_835([paid]).replace(b"20260305", b"20260227").replace(b"20260304", b"20260227")
    with uow("biller") as ctx:
        assert remittance.import_era(ctx, name="r.835", source=data).status == "posted"
    period = {"date_from": "2026-02-01", "date_to": "2026-03-02"}

    (reason,) = run(uow, "denials", **period).rows
    assert (reason["group"], reason["adjudicated"], reason["denied"]) == ("CO-50", 2, 1)
    assert (reason["denied_billed"], reason["rate"]) == (1500, Decimal("0.5000"))
    (payer,) = run(uow, "first_pass", **period).rows
    assert (payer["submitted"], payer["rejected"], payer["denied"], payer["clean"]) == (1, 0, 1, 0)
    assert payer["rate"] == Decimal("0")
    (perf,) = run(uow, "payer_performance", **period).rows
    assert (perf["claims"], perf["avg_days"], perf["p90_days"]) == (1, 6.0, 6)  # 02-21 to 02-27
    assert (perf["billed"], perf["paid"]) == (14000, 8000)
    assert perf["paid_of_billed"] == Decimal("0.5714")  # 80 / 140
    assert perf["paid_of_contract"] == Decimal("0.7913")  # 80 / (92.10 + 9.00)
    (owed,) = run(uow, "patient_balances", as_of=AS_OF, date_from="2026-02-01").rows
    assert (owed["patients_owing"], owed["0-30"], owed["patient_ar"]) == (1, 2000, 2000)
    assert (owed["credits"], owed["statements"]) == (0, 0)
    (line,) = run(uow, "denied_lines", **period, reason="co-50").rows
    assert (line["code"], line["claim"], line["billed"]) == ("36415", claim.claim_number, 1500)
    assert line["words"]  # the CARC in words


def test_the_nearest_rank_percentile():
    from pms_reports.claims import percentile

    assert percentile([], 0.9) is None
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([3, 1, 2, 10], 0.9) == 10
