"""Statement runs: who gets one, what it shows, and the PDF and CSV printed."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from pypdf import PdfReader

from pms_core.services import payments, statements
from tests.billing_helpers import register, setup_billing, visit


@pytest.fixture
def office(uow, practice):
    """Three patients: one owes $100 of their own (self-pay visits of $125 and
    $15, $40 paid), one owes $3 (below the minimum), one owes $20 brought from
    the old system but has a claim still with insurance."""
    from pms_core.ledger import Account, Line
    from pms_core.money import Money
    from pms_core.services import ledger as ledger_service

    billing = setup_billing(uow, practice)  # fee schedule; Claimwell is insured
    with uow("admin") as ctx:
        owes = register(ctx, "Testowes", "Statementa", "1960-01-01")
        small = register(ctx, "Testsmall", "Statementb", "1961-01-01")
    visit(uow, practice, owes, on=date(2025, 12, 1))  # 99213 $125, aged > 90 days
    visit(uow, practice, owes, lines=(("36415", (), 1),), on=date(2026, 2, 20))  # $15
    with uow("frontdesk") as ctx:
        payments.post_payment(ctx, patient_id=owes, amount="15.00", method="cash")
        payments.post_payment(ctx, patient_id=owes, amount="25.00", method="cash")
    visit(uow, practice, small, lines=(("81002", (), 1),))  # $12.50
    with uow("frontdesk") as ctx:
        payments.post_payment(ctx, patient_id=small, amount="9.50", method="cash")
    visit(uow, practice, billing.patient_id)  # billed to Acme: insurance pending
    with uow("biller") as ctx:
        ledger_service.post_entry(ctx, entry_date=date(2026, 1, 5), kind="opening_balance", lines=[
            Line(Account.AR_PATIENT, Money(2000), patient_id=billing.patient_id),
            Line(Account.OPENING_BALANCE, Money(-2000), patient_id=billing.patient_id)])  # fmt: skip
    return owes, small, billing.patient_id


def test_a_run_bills_only_patients_who_owe_their_own_share(uow, office):
    owes, small, insured = office
    with uow("biller") as ctx:
        result = statements.run_statements(ctx, min_balance="5.00")
    assert [v.account_number for v in result.statements] and len(result.statements) == 1
    (view,) = result.statements
    assert view.patient_name == "Testowes Statementa" and view.balance_cents == 10000
    assert (result.below_minimum, result.insurance_pending) == (1, 1)
    assert [(ln.service_date, ln.description, ln.patient_paid_cents, ln.balance_cents)
            for ln in view.lines] == [("2025-12-01", "Service 99213", 4000, 8500),
                                      ("2026-02-20", "Service 36415", 0, 1500)]  # fmt: skip
    assert view.aging == {"0-30": 1500, "31-60": 0, "61-90": 0, "91-120": 8500, "120+": 0}
    assert view.due_date == "2026-04-01"


def test_a_run_is_kept_as_printed_and_prints_as_pdf_and_csv(uow, office):
    owes, _, _ = office
    with uow("biller") as ctx:
        run = statements.run_statements(ctx, message="Thank you!").run
    with uow("frontdesk") as ctx:  # a payment after the run does not change what was sent
        payments.post_payment(ctx, patient_id=owes, amount="50.00", method="cash")
    with uow("biller") as ctx:
        (kept,) = statements.run_views(ctx, run_id=run.id)
        pdf = statements.render_run(ctx, run_id=run.id, fmt="pdf")
        sheet = statements.render_run(ctx, run_id=run.id, fmt="csv")
    assert kept.balance_cents == 10000
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Maple Family Medicine", "Amount due", "100.00", "Testowes Statementa",
                     "Service 99213", "Thank you!"):  # fmt: skip
        assert expected in text, expected
    rows = list(csv.DictReader(io.StringIO(sheet.decode())))
    assert [(r["service_date"], r["line_balance"]) for r in rows] == [
        ("2025-12-01", "85.00"), ("2026-02-20", "15.00"),
    ]  # fmt: skip
    assert {(r["statement_balance"], r["aging_91-120"], r["mail_name"]) for r in rows} == {
        ("100.00", "85.00", "Testowes Statementa")
    }


def test_cycles_split_the_patients(uow, office):
    with uow("biller") as ctx:
        counts = [
            len(statements.run_statements(ctx, cycle=f"{k}/3", dry_run=True).statements)
            for k in (1, 2, 3)
        ]
        with pytest.raises(statements.ValidationError):
            statements.run_statements(ctx, cycle="4/3")
    assert sum(counts) == 1
