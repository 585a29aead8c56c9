"""Patient payments, credits, refunds and reversals, on both databases."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from pms_core import ledger
from pms_core.errors import Conflict, PermissionDenied, ValidationError
from pms_core.ledger import Account
from pms_core.models import Payment
from pms_core.services import payments
from tests.billing_helpers import register, visit


@pytest.fixture
def self_pay(uow, practice):
    """A self-pay patient with two visits: 99213 ($125) in February, 36415 ($15) in March."""
    from datetime import date

    from pms_core.services import fees

    with uow("admin") as ctx:
        fees.import_fee_schedule(ctx, rows=[{"code": "99213", "amount": "125.00"},
                                            {"code": "36415", "amount": "15.00"}])  # fmt: skip
        pid = register(ctx, "Testpay", "Cashwell", "1970-01-01")
    first = visit(uow, practice, pid, on=date(2026, 2, 10))
    second = visit(uow, practice, pid, lines=(("36415", (), 1),), on=date(2026, 2, 24))
    return pid, first, second


def owed(engine, practice, pid) -> int:
    with Session(engine) as s:
        return ledger.patient_balance(s, practice.id, pid).patient.cents


def test_a_payment_pays_the_oldest_visit_first_and_prints_a_receipt(
    engine, uow, practice, self_pay
):
    pid, first, _ = self_pay
    with uow("frontdesk") as ctx:
        receipt = payments.post_payment(ctx, patient_id=pid, amount="130.00", method="check",
                                        reference="1042")  # fmt: skip
    assert owed(engine, practice, pid) == 1000
    assert [(i.code, c) for i, c in receipt.applied] == [("99213", 12500), ("36415", 500)]
    text = receipt.text()
    assert receipt.payment.receipt_number.startswith("R") and receipt.payment.receipt_number in text
    assert "Check payment (ref 1042)    130.00" in text and "Testpay Cashwell" in text
    assert "Balance after this payment    10.00" in text


def test_paying_a_chosen_visit_and_keeping_the_rest_as_credit(engine, uow, practice, self_pay):
    pid, _, second = self_pay
    with uow("frontdesk") as ctx:
        receipt = payments.post_payment(ctx, patient_id=pid, amount="40.00", method="cash",
                                        encounter_ids=[second])  # fmt: skip
    assert [(i.code, c) for i, c in receipt.applied] == [("36415", 1500)]
    assert receipt.credit_cents == 2500
    assert owed(engine, practice, pid) == 12500
    with uow("frontdesk") as ctx:
        assert payments.credit(ctx, pid) == 2500
        assert payments.apply_credit(ctx, patient_id=pid) == 2500
        assert payments.credit(ctx, pid) == 0
    assert owed(engine, practice, pid) == 10000


def test_a_copay_before_the_visit_is_charged_waits_as_credit(engine, uow, practice):
    with uow("admin") as ctx:
        pid = register(ctx, "Testcopay", "Early", "1980-05-05")
    with uow("frontdesk") as ctx:
        receipt = payments.post_payment(ctx, patient_id=pid, amount="25.00", method="card",
                                        reference="APPROVAL 778812")  # fmt: skip
    assert receipt.payment.processor == "terminal" and receipt.credit_cents == 2500
    with Session(engine) as s:
        assert ledger.balance(s, practice.id, account=Account.CASH).cents == 2500


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"amount": "-5.00", "method": "cash"}, "amount"),
        ({"amount": "0", "method": "cash"}, "amount"),
        ({"amount": "5.001", "method": "cash"}, "amount"),
        ({"amount": "5.00", "method": "barter"}, "method"),
        ({"amount": "5.00", "method": "check"}, "reference"),
        ({"amount": "5.00", "method": "card", "reference": "4111 1111 1111 1111"}, "reference"),
        ({"amount": "5.00", "method": "cash", "note": "card 5500-0000-0000-0004"}, "note"),
        ({"amount": "5.00", "method": "card"}, "card"),  # the terminal needs its reference
    ],
)
def test_bad_payments_are_refused_naming_the_field_and_nothing_posts(
    engine, uow, practice, self_pay, kwargs, field
):
    pid, _, _ = self_pay
    with pytest.raises(ValidationError) as caught, uow("frontdesk") as ctx:
        payments.post_payment(ctx, patient_id=pid, **kwargs)
    assert caught.value.errors[0].field == field
    assert "4111" not in str(caught.value) and "5500" not in str(caught.value)
    with Session(engine) as s:
        assert s.exec(select(Payment)).all() == []


def test_refunds_and_reversals_need_their_permission(engine, uow, practice, self_pay):
    pid, _, _ = self_pay
    with uow("frontdesk") as ctx:
        receipt = payments.post_payment(ctx, patient_id=pid, amount="200.00", method="cash")
    assert receipt.credit_cents == 6000
    with pytest.raises(PermissionDenied), uow("frontdesk") as ctx:
        payments.refund(ctx, patient_id=pid, amount="60.00", method="check", reason="overpaid")
    with pytest.raises(Conflict), uow("manager") as ctx:
        payments.refund(ctx, patient_id=pid, amount="60.01", method="check", reason="overpaid")
    with uow("manager") as ctx:
        payments.refund(ctx, patient_id=pid, amount="60.00", method="check", reason="overpaid",
                        reference="2001")  # fmt: skip
        assert payments.credit(ctx, pid) == 0
    with Session(engine) as s:
        assert ledger.balance(s, practice.id, account=Account.CASH).cents == 14000
    with uow("manager") as ctx:
        payments.reverse_payment(ctx, payment_id=receipt.payment.id, reason="check bounced")
    assert owed(engine, practice, pid) == 14000  # the visits are owed again
    with pytest.raises(Conflict), uow("manager") as ctx:
        payments.reverse_payment(ctx, payment_id=receipt.payment.id, reason="again")
