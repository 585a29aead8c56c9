"""Month-end close: a closed month takes no more postings, whichever way they
come (one entry, a batch, a reversal), until the admin reopens it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from pms_core import ledger
from pms_core.errors import Conflict, LedgerError, PermissionDenied, ValidationError
from pms_core.ledger import Account, Entry, Line
from pms_core.models import JournalEntry
from pms_core.money import Money
from pms_core.services import periods
from tests.cli_helpers import run_cli
from tests.core.test_ledger import add_patients

FEBRUARY = date(2026, 2, 1)  # the clock fixture's today is 2026-03-02


def charge(patient_id: int, cents: int = 5000) -> list[Line]:
    return [
        Line(Account.AR_PATIENT, Money(cents), patient_id),
        Line(Account.CHARGES, Money(-cents), patient_id),
    ]


def entries(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(JournalEntry)).one()[0]


@pytest.fixture
def patient(engine, practice):
    return add_patients(engine, practice.id, 1)[0]


def test_a_closed_month_refuses_entries_dated_in_it_or_before(engine, uow, patient):
    with uow("biller") as ctx:
        ledger.post(ctx, entry_date=date(2026, 2, 20), kind="charge", lines=charge(patient))
    with uow("manager") as ctx:
        view = periods.close_month(ctx, month=FEBRUARY)
    assert (view.month, view.closed_through) == ("2026-02", date(2026, 2, 28))
    before = entries(engine)
    for day in (date(2026, 2, 27), date(2026, 1, 5)):
        with uow("biller") as ctx, pytest.raises(LedgerError, match="closed through 2026-02-28"):
            ledger.post(ctx, entry_date=day, kind="charge", lines=charge(patient))
    with uow("biller") as ctx, pytest.raises(LedgerError, match="entry 2: the books are closed"):
        ledger.post_many(
            ctx,
            [
                Entry(date(2026, 3, 1), "charge", charge(patient)),
                Entry(date(2026, 2, 28), "charge", charge(patient)),
            ],
        )
    assert entries(engine) == before  # nothing of the batch was written
    with uow("biller") as ctx:  # March is open
        ledger.post(ctx, entry_date=date(2026, 3, 1), kind="charge", lines=charge(patient))
    assert entries(engine) == before + 1


def test_only_ended_months_close_once_in_order(uow):
    with uow("manager") as ctx, pytest.raises(ValidationError, match="has not ended"):
        periods.close_month(ctx, month=date(2026, 3, 1))
    with uow("manager") as ctx:
        periods.close_month(ctx, month=FEBRUARY)
    for month in (FEBRUARY, date(2026, 1, 1)):
        with uow("manager") as ctx, pytest.raises(Conflict, match="already closed through"):
            periods.close_month(ctx, month=month)
    with uow("frontdesk") as ctx, pytest.raises(PermissionDenied):
        periods.close_month(ctx, month=date(2025, 12, 1))


def test_the_admin_reopens_the_latest_close_with_a_reason(engine, uow, patient):
    with uow("manager") as ctx:
        periods.close_month(ctx, month=date(2026, 1, 1))
    with uow("manager") as ctx:
        periods.close_month(ctx, month=FEBRUARY)
    with uow("manager") as ctx, pytest.raises(PermissionDenied):
        periods.reopen_month(ctx, month=FEBRUARY, reason="late remittance")
    with uow("admin") as ctx, pytest.raises(Conflict, match="only the latest closed month"):
        periods.reopen_month(ctx, month=date(2026, 1, 1), reason="late remittance")
    with uow("admin") as ctx, pytest.raises(ValidationError):
        periods.reopen_month(ctx, month=FEBRUARY, reason="  ")
    with uow("admin") as ctx:
        periods.reopen_month(ctx, month=FEBRUARY, reason="late remittance")
    with uow("biller") as ctx:  # February is open again; January stays closed
        ledger.post(ctx, entry_date=date(2026, 2, 27), kind="charge", lines=charge(patient))
        with pytest.raises(LedgerError, match="closed through 2026-01-31"):
            ledger.post(ctx, entry_date=date(2026, 1, 30), kind="charge", lines=charge(patient))
    with uow("manager") as ctx:
        listed = periods.list_closes(ctx)
    assert [(v.month, v.reopen_reason) for v in listed] == [
        ("2026-01", ""),
        ("2026-02", "late remittance"),
    ]


def test_the_month_end_report_says_whether_the_month_is_closed(uow):
    from pms_core.services import reports

    with uow("manager") as ctx:
        assert reports.run_report(ctx, "month_end", {"month": "2026-02"}).title.endswith("(open)")
        periods.close_month(ctx, month=FEBRUARY)
        assert reports.run_report(ctx, "month_end", {"month": "2026-02"}).title.endswith("(closed)")


def test_cli_close_list_and_refusals(db_url, practice, cli_env):
    from tests.cli.test_auth_cli import cli_login

    cli_login(db_url, cli_env, "manager")
    done = run_cli(["--db", db_url, "period", "close", "2026-02"], env=cli_env)
    assert done.exit_code == 0, done.stderr
    again = run_cli(["--db", db_url, "period", "close", "2026-02"], env=cli_env)
    assert again.exit_code == 1 and "already closed through 2026-02-28" in again.stderr
    bad = run_cli(["--db", db_url, "period", "close", "February"], env=cli_env)
    assert bad.exit_code == 2 and "YYYY-MM" in bad.stderr
    listed = run_cli(["--db", db_url, "--format", "csv", "period", "list"], env=cli_env)
    assert "2026-02,2026-02-28" in listed.stdout


def test_a_remittance_paid_in_a_closed_month_is_held_whole(engine, uow, practice):
    from pms_core.models import Remittance
    from pms_core.services import claims, remittance
    from tests.billing_helpers import setup_billing, visit
    from tests.core.test_remittance import charge_ids, paid_in_full_ish
    from tests.x12_remits import era_835

    billing = setup_billing(uow, practice)
    visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 2)))
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
    paid = era_835([paid_in_full_ish(claim, charge_ids(engine, claim.id))])
    in_february = paid.replace(b"20260305", b"20260227").replace(b"20260304", b"20260227")
    with uow("manager") as ctx:
        periods.close_month(ctx, month=FEBRUARY)
    before = entries(engine)
    with uow("biller") as ctx:
        outcome = remittance.import_era(ctx, name="late.835", source=in_february)
    assert outcome.status == "held"
    assert "paid 2026-02-27, but the books are closed through 2026-02-28" in outcome.sets[0].message
    assert entries(engine) == before
    with Session(engine) as s:
        assert s.exec(select(Remittance.status)).one()[0] == "held"
