"""Patient payments: copays and payments with a receipt, credits, refunds.

A payment is positive and posts one journal entry: cash in, and the patient's
balance down charge by charge, oldest first (or only the visits chosen); what
is left over is the patient's credit (`liability:unapplied` with the patient),
applied later with `apply_credit` when charges post (a copay taken at
check-in, before the visit is charged). Reversing a payment (a bounced check)
and refunding a credit are their own actions with their own permission: a
negative payment is refused. Card payments go through a processor plugin
(`register_payment_processors`); pms keeps its reference, never a card
number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import uuid4

from sqlalchemy import func
from sqlmodel import col, select

from pms_core import audit, ledger
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.ledger import Account, Entry, Line
from pms_core.models import Charge, Patient, Payment, Posting
from pms_core.money import Money, MoneyError
from pms_core.payments import PaymentProcessor, looks_like_card_number
from pms_core.permissions import require
from pms_core.plugins import contributions

METHODS = ("cash", "check", "card")


@dataclass(frozen=True)
class OpenItem:
    """What the patient owes on one charge (charge_id None: a balance brought
    from a previous system)."""

    charge_id: int | None
    encounter_id: int | None
    service_date: date | None
    code: str | None
    open_cents: int


@dataclass
class Receipt:
    payment: Payment
    practice_name: str
    patient_name: str
    applied: list[tuple[OpenItem, int]] = field(default_factory=list)
    credit_cents: int = 0  # left as the patient's credit
    balance_cents: int = 0  # what the patient still owes afterwards

    def text(self) -> str:
        """The receipt as printed for the patient."""
        p = self.payment
        lines = [
            self.practice_name,
            f"Receipt {p.receipt_number}    {p.received_on.isoformat()}",
            f"Received from {self.patient_name}",
            f"{p.method.title()} payment{f' (ref {p.reference})' if p.reference else ''}"
            f"    {Money(p.amount_cents)}",
        ]
        for item, cents in self.applied:
            what = f"{item.service_date} {item.code}" if item.code else "previous balance"
            lines.append(f"  applied to {what}    {Money(cents)}")
        if self.credit_cents:
            lines.append(f"  credit on account    {Money(self.credit_cents)}")
        lines.append(f"Balance after this payment    {Money(self.balance_cents)}")
        return "\n".join(lines) + "\n"


def processors(ctx: Context) -> dict[str, PaymentProcessor]:
    return {p.name: p for p in contributions(ctx.pm, "register_payment_processors")}


def open_items(ctx: Context, patient_id: int) -> list[OpenItem]:
    """The patient's open balances, oldest first (no permission check)."""
    rows = ctx.session.exec(
        select(Posting.charge_id, func.sum(Posting.amount_cents))
        .where(
            Posting.practice_id == ctx.practice_id,
            Posting.patient_id == patient_id,
            Posting.account == Account.AR_PATIENT.value,
        )
        .group_by(Posting.charge_id)
    ).all()
    owed = {charge_id: int(total) for charge_id, total in rows if total and total > 0}
    charges = {
        c.id: c
        for c in ctx.session.exec(select(Charge).where(col(Charge.id).in_(set(owed) - {None})))
    }
    items = [
        OpenItem(
            cid,
            charges[cid].encounter_id if cid else None,
            charges[cid].service_date if cid else None,
            charges[cid].code if cid else None,
            cents,
        )
        for cid, cents in owed.items()
    ]
    return sorted(items, key=lambda i: (i.service_date or date.min, i.charge_id or 0))


def credit(ctx: Context, patient_id: int) -> int:
    """The patient's unapplied credit in cents (positive)."""
    return -ledger.balance(
        ctx.session, ctx.practice_id, account=Account.UNAPPLIED, patient_id=patient_id
    ).cents


def _patient(ctx: Context, patient_id: int) -> Patient:
    patient = ctx.session.get(Patient, patient_id)
    if patient is None or patient.practice_id != ctx.practice_id:
        raise NotFound(f"patient {patient_id} not found")
    return patient


def _amount(value: Money | str) -> Money:
    try:
        amount = value if isinstance(value, Money) else Money.parse(str(value))
    except MoneyError:
        raise ValidationError([FieldError("amount", "format", "an amount like 25.00")]) from None
    if amount.cents <= 0:
        raise ValidationError(
            [FieldError("amount", "positive", "must be more than 0.00 (use refund or reverse)")]
        )
    return amount


def _check_text(reference: str | None, note: str) -> None:
    errors = []
    if looks_like_card_number(reference):
        errors.append(FieldError("reference", "card_number", "looks like a card number"))
    if looks_like_card_number(note):
        errors.append(FieldError("note", "card_number", "looks like a card number"))
    if reference and len(reference) > 60:
        errors.append(FieldError("reference", "length", "at most 60 characters"))
    if len(note) > 200:
        errors.append(FieldError("note", "length", "at most 200 characters"))
    if errors:
        raise ValidationError(errors)


def _allocate(items: list[OpenItem], cents: int) -> list[tuple[OpenItem, int]]:
    out = []
    for item in items:
        if cents <= 0:
            break
        share = min(cents, item.open_cents)
        out.append((item, share))
        cents -= share
    return out


def _applied_lines(patient_id: int, applied, source: Account, reason: str) -> list[Line]:
    lines = []
    for item, cents in applied:
        common = dict(patient_id=patient_id, charge_id=item.charge_id, reason=reason)
        lines.append(Line(Account.AR_PATIENT, Money(-cents), **common))
        lines.append(Line(source, Money(cents), **common))
    return lines


def _new_payment(ctx: Context, **values) -> Payment:
    payment = Payment(
        practice_id=ctx.practice_id,
        receipt_number=f"t{uuid4().hex[:12]}",
        created_by_id=ctx.user.id,
        created_at=ctx.clock.now(),
        **values,
    )
    ctx.session.add(payment)
    ctx.session.flush()
    payment.receipt_number = f"R{payment.id:08d}"
    ctx.session.add(payment)
    ctx.session.flush()
    return payment


def post_payment(
    ctx: Context,
    *,
    patient_id: int,
    amount: Money | str,
    method: str,
    reference: str | None = None,
    processor: str | None = None,
    encounter_ids: list[int] | None = None,
    received_on: date | None = None,
    note: str = "",
) -> Receipt:
    """Take a payment (`payments:collect`): applied to the oldest balances, or
    to the chosen visits only; the rest is kept as the patient's credit. A
    card payment goes through `processor` (default: the only one installed)."""
    require(ctx, "payments:collect", action="payment.post", patient_id=patient_id)
    patient = _patient(ctx, patient_id)
    money = _amount(amount)
    if method not in METHODS:
        raise ValidationError([FieldError("method", "choice", f"one of {', '.join(METHODS)}")])
    reference = (reference or "").strip() or None
    note = " ".join(note.split())
    _check_text(reference, note)
    if method == "check" and not reference:
        raise ValidationError([FieldError("reference", "required", "the check number")])
    used = None
    if method == "card":
        found = processors(ctx)
        name = processor or (next(iter(found)) if len(found) == 1 else None)
        if name not in found:
            raise ValidationError(
                [FieldError("processor", "choice", f"one of {', '.join(sorted(found)) or '-'}")]
            )
        result = found[name].take(money, reference=reference)
        if not result.approved:
            raise ValidationError([FieldError("card", "declined", result.message or "declined")])
        if looks_like_card_number(result.reference):
            raise ValidationError(
                [FieldError("reference", "card_number", "looks like a card number")]
            )
        used, reference = name, result.reference[:60]
    items = open_items(ctx, patient_id)
    if encounter_ids:
        items = [i for i in items if i.encounter_id in set(encounter_ids)]
    applied = _allocate(items, money.cents)
    applied_cents = sum(c for _, c in applied)
    lines = [Line(Account.CASH, money, patient_id=patient_id, reason=f"payment:{method}")]
    lines += [
        Line(Account.AR_PATIENT, Money(-c), patient_id=patient_id, charge_id=i.charge_id,
             reason=f"payment:{method}")
        for i, c in applied
    ]  # fmt: skip
    if money.cents > applied_cents:
        lines.append(
            Line(Account.UNAPPLIED, Money(applied_cents - money.cents), patient_id=patient_id,
                 reason="credit")
        )  # fmt: skip
    day = received_on or ctx.today()
    (entry_id,) = ledger.post_many(
        ctx, [Entry(day, "patient_payment", lines, memo=f"{method} payment")]
    )
    payment = _new_payment(
        ctx,
        patient_id=patient_id,
        kind="payment",
        method=method,
        amount_cents=money.cents,
        applied_cents=applied_cents,
        received_on=day,
        reference=reference,
        processor=used,
        note=note,
        entry_id=entry_id,
    )
    audit.record(
        ctx,
        action="payment.post",
        patient_id=patient_id,
        detail={"payment_id": payment.id, "entry_id": entry_id, "method": method},
    )
    return _receipt(ctx, payment, patient, applied)


def _receipt(ctx: Context, payment: Payment, patient: Patient, applied) -> Receipt:
    balance = ledger.balance(
        ctx.session, ctx.practice_id, account=Account.AR_PATIENT, patient_id=patient.id
    )
    return Receipt(
        payment=payment,
        practice_name=ctx.practice().name,
        patient_name=f"{patient.first_name} {patient.last_name}",
        applied=list(applied),
        credit_cents=payment.amount_cents - payment.applied_cents
        if payment.kind == "payment"
        else 0,
        balance_cents=balance.cents,
    )


def apply_credit(ctx: Context, *, patient_id: int) -> int:
    """Apply the patient's credit to their open balances, oldest first;
    returns the cents applied (`payments:collect`)."""
    require(ctx, "payments:collect", action="payment.apply", patient_id=patient_id)
    _patient(ctx, patient_id)
    applied = _allocate(open_items(ctx, patient_id), credit(ctx, patient_id))
    if not applied:
        return 0
    lines = _applied_lines(patient_id, applied, Account.UNAPPLIED, "credit applied")
    (entry_id,) = ledger.post_many(
        ctx, [Entry(ctx.today(), "credit_applied", lines, memo="patient credit applied")]
    )
    total = sum(c for _, c in applied)
    audit.record(
        ctx, action="payment.apply", patient_id=patient_id,
        detail={"entry_id": entry_id, "cents": total},
    )  # fmt: skip
    return total


def refund(
    ctx: Context,
    *,
    patient_id: int,
    amount: Money | str,
    method: str,
    reason: str,
    reference: str | None = None,
) -> Payment:
    """Give back part or all of the patient's credit (`payments:refund`)."""
    require(ctx, "payments:refund", action="payment.refund", patient_id=patient_id)
    _patient(ctx, patient_id)
    money = _amount(amount)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError([FieldError("reason", "required", "why the money goes back")])
    if method not in METHODS:
        raise ValidationError([FieldError("method", "choice", f"one of {', '.join(METHODS)}")])
    reference = (reference or "").strip() or None
    _check_text(reference, reason)
    available = credit(ctx, patient_id)
    if money.cents > available:
        raise Conflict(f"the patient's credit is {Money(max(available, 0))}; cannot refund more")
    lines = [
        Line(Account.UNAPPLIED, money, patient_id=patient_id, reason="refund"),
        Line(Account.CASH, -money, patient_id=patient_id, reason="refund"),
    ]
    (entry_id,) = ledger.post_many(
        ctx, [Entry(ctx.today(), "patient_refund", lines, memo=f"refund: {reason}"[:200])]
    )
    payment = _new_payment(
        ctx, patient_id=patient_id, kind="refund", method=method, amount_cents=money.cents,
        received_on=ctx.today(), reference=reference, note=reason[:200], entry_id=entry_id,
    )  # fmt: skip
    audit.record(
        ctx, action="payment.refund", patient_id=patient_id,
        detail={"payment_id": payment.id, "entry_id": entry_id},
    )  # fmt: skip
    return payment


def reverse_payment(ctx: Context, *, payment_id: int, reason: str) -> Payment:
    """Undo a payment that did not stand (a bounced check, a charge-back): a
    reversing entry dated today (`payments:refund`)."""
    payment = ctx.session.get(Payment, payment_id, with_for_update=True)
    if payment is None or payment.practice_id != ctx.practice_id:
        raise NotFound(f"payment {payment_id} not found")
    require(ctx, "payments:refund", action="payment.reverse", patient_id=payment.patient_id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError([FieldError("reason", "required", "why the payment is reversed")])
    if payment.kind != "payment" or payment.reversed_entry_id is not None:
        raise Conflict(f"payment {payment_id} cannot be reversed ({payment.kind}, or already)")
    entry = ledger.reverse(ctx, payment.entry_id, memo=f"payment reversed: {reason}"[:200])
    payment.reversed_entry_id = entry.id
    ctx.session.add(payment)
    ctx.session.flush()
    audit.record(
        ctx, action="payment.reverse", patient_id=payment.patient_id,
        detail={"payment_id": payment.id, "entry_id": entry.id},
    )  # fmt: skip
    return payment


def list_payments(ctx: Context, *, patient_id: int | None = None, limit: int = 100):
    require(ctx, "ledger:read", action="payment.list", patient_id=patient_id)
    query = select(Payment).where(Payment.practice_id == ctx.practice_id)
    if patient_id is not None:
        query = query.where(Payment.patient_id == patient_id)
    rows = list(ctx.session.exec(query.order_by(col(Payment.id).desc()).limit(limit)))
    audit.record_read(ctx, action="payment.list", patient_id=patient_id)
    return rows


def get_receipt(ctx: Context, *, payment_id: int) -> Receipt:
    """A payment's receipt again (`ledger:read`)."""
    payment = ctx.session.get(Payment, payment_id)
    if payment is None or payment.practice_id != ctx.practice_id:
        raise NotFound(f"payment {payment_id} not found")
    require(ctx, "ledger:read", action="payment.receipt", patient_id=payment.patient_id)
    patient = _patient(ctx, payment.patient_id)
    charges = {
        p.charge_id: -p.amount_cents
        for p in ctx.session.exec(
            select(Posting).where(
                Posting.entry_id == payment.entry_id, Posting.account == Account.AR_PATIENT.value
            )
        )
    }
    found = {
        c.id: c
        for c in ctx.session.exec(select(Charge).where(col(Charge.id).in_(set(charges) - {None})))
    }
    applied = [
        (OpenItem(cid, found[cid].encounter_id if cid else None,
                  found[cid].service_date if cid else None, found[cid].code if cid else None, 0),
         cents)
        for cid, cents in charges.items()
    ]  # fmt: skip
    audit.record_read(ctx, action="payment.receipt", patient_id=payment.patient_id)
    return _receipt(ctx, payment, patient, applied)
