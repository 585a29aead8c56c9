"""Patient statement runs.

A run picks every patient who owes at least the minimum as their own
responsibility and has nothing still pending with insurance (an insurance
balance means a payer has not finished: the patient is not billed yet), in
the chosen cycle (`K/N`: the K-th of N groups by patient id, so a practice
can spread statements over the month). Each statement lists the open visits
with what insurance paid and adjusted and what the patient paid, ages the
balance by date of service, and is stored with exactly what it showed.
Renderers (`register_statement_renderers`) print a run as PDF or CSV.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import FieldError, NotFound, ValidationError
from pms_core.ledger import Account
from pms_core.models import Charge, Patient, Posting, Statement, StatementRun
from pms_core.money import Money, MoneyError
from pms_core.permissions import require
from pms_core.plugins import contributions
from pms_core.statements import AGING_BUCKETS, StatementLine, StatementRenderer, StatementView

DUE_DAYS = 30
_ADJUSTMENTS = (Account.ADJ_CONTRACTUAL, Account.ADJ_OTHER, Account.ADJ_WRITE_OFF)


@dataclass
class RunResult:
    run: StatementRun | None  # None for a dry run
    statements: list[StatementView]
    below_minimum: int  # patients who owe something, but less than the minimum
    insurance_pending: int  # patients left out because a payer still has a balance


def renderers(ctx: Context) -> dict[str, StatementRenderer]:
    return {r.name: r for r in contributions(ctx.pm, "register_statement_renderers")}


def _cycle(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    k, sep, n = text.partition("/")
    if sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n) <= 31:
        return int(k), int(n)
    raise ValidationError([FieldError("cycle", "format", "K/N, such as 2/4")])


def _bucket(days: int) -> str:
    for limit, name in ((30, "0-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if days <= limit:
            return name
    return "120+"


def _balances(ctx: Context) -> dict[int, dict[str, int]]:
    rows = ctx.session.exec(
        select(Posting.patient_id, Posting.account, func.sum(Posting.amount_cents))
        .where(
            Posting.practice_id == ctx.practice_id,
            col(Posting.patient_id).is_not(None),
            col(Posting.account).in_(
                (Account.AR_PATIENT.value, Account.AR_INSURANCE.value, Account.UNAPPLIED.value)
            ),
        )
        .group_by(Posting.patient_id, Posting.account)
    ).all()
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for patient_id, account, total in rows:
        out[patient_id][account] = int(total)
    return out


def _lines(ctx: Context, patient_id: int, on: date) -> tuple[list[StatementLine], dict[str, int]]:
    """The patient's open items (charges they still owe on) with their history."""
    sums: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for charge_id, account, reason, total in ctx.session.exec(
        select(Posting.charge_id, Posting.account, Posting.reason, func.sum(Posting.amount_cents))
        .where(Posting.practice_id == ctx.practice_id, Posting.patient_id == patient_id)
        .group_by(Posting.charge_id, Posting.account, Posting.reason)
    ):
        bucket = sums[charge_id]
        total = int(total)
        if account == Account.AR_PATIENT.value:
            bucket["balance"] += total
            if reason and (reason.startswith("payment:") or reason == "credit applied"):
                bucket["patient_paid"] -= total
        elif account == Account.CHARGES.value:
            bucket["charge"] -= total
        elif account == Account.CASH.value and reason == "paid":
            bucket["insurance_paid"] += total
        elif account in _ADJUSTMENTS:
            bucket["adjusted"] += total
    open_ids = [cid for cid, s in sums.items() if s["balance"] > 0]
    charges = {
        c.id: c
        for c in ctx.session.exec(select(Charge).where(col(Charge.id).in_(set(open_ids) - {None})))
    }
    lines, aging = [], dict.fromkeys(AGING_BUCKETS, 0)
    for cid in sorted(open_ids, key=lambda c: (charges[c].service_date if c else date.min, c or 0)):
        s = sums[cid]
        charge = charges.get(cid)
        day = charge.service_date if charge else None
        lines.append(
            StatementLine(
                service_date=day.isoformat() if day else None,
                description=f"Service {charge.code}" if charge else "Previous balance",
                charge_cents=s["charge"] if charge else s["balance"],
                insurance_paid_cents=s["insurance_paid"],
                adjusted_cents=s["adjusted"],
                patient_paid_cents=s["patient_paid"],
                balance_cents=s["balance"],
            )
        )
        aging[_bucket((on - day).days if day else 999)] += s["balance"]
    return lines, aging


def _address(*parts) -> list[str]:
    line1, line2, city, state, zip_code = parts
    zip_text = f"{zip_code[:5]}-{zip_code[5:]}" if zip_code and len(zip_code) == 9 else zip_code
    return [p for p in (line1, line2, f"{city}, {state} {zip_text}") if p]


def run_statements(
    ctx: Context,
    *,
    statement_date: date | None = None,
    min_balance: Money | str = "5.00",
    cycle: str | None = None,
    dry_run: bool = False,
    message: str = "",
) -> RunResult:
    """Make the statements of a run (see the module docstring). `dry_run`
    returns them without recording anything (`statements:run`)."""
    require(ctx, "statements:run", action="statement.run")
    on = statement_date or ctx.today()
    try:
        minimum = min_balance if isinstance(min_balance, Money) else Money.parse(str(min_balance))
    except MoneyError:
        raise ValidationError([FieldError("min_balance", "format", "an amount")]) from None
    if minimum.cents < 0:
        raise ValidationError([FieldError("min_balance", "range", "0.00 or more")])
    chosen = _cycle(cycle)
    balances = _balances(ctx)
    below = pending = 0
    due: list[tuple[int, int]] = []
    for patient_id, by_account in sorted(balances.items()):
        owed = by_account.get(Account.AR_PATIENT.value, 0)
        if owed <= 0 or (chosen and (patient_id - 1) % chosen[1] != chosen[0] - 1):
            continue
        if by_account.get(Account.AR_INSURANCE.value, 0) != 0:
            pending += 1
        elif owed < minimum.cents:
            below += 1
        else:
            due.append((patient_id, owed))
    practice = ctx.practice()
    run = None
    if not dry_run:
        run = StatementRun(
            practice_id=ctx.practice_id,
            statement_date=on,
            min_balance_cents=minimum.cents,
            cycle=cycle or "",
            created_by_id=ctx.user.id,
            created_at=ctx.clock.now(),
        )
        ctx.session.add(run)
        ctx.session.flush()
    patients = {
        p.id: p
        for p in ctx.session.exec(select(Patient).where(col(Patient.id).in_([p for p, _ in due])))
    }
    views = []
    for patient_id, owed in due:
        patient = patients[patient_id]
        lines, aging = _lines(ctx, patient_id, on)
        name = f"{patient.first_name} {patient.last_name}"
        credit = -balances[patient_id].get(Account.UNAPPLIED.value, 0)
        row = None
        if run is not None:
            row = Statement(
                practice_id=ctx.practice_id, run_id=run.id, patient_id=patient_id,
                balance_cents=owed, content="{}",
            )  # fmt: skip
            ctx.session.add(row)
            ctx.session.flush()
        view = StatementView(
            statement_id=row.id if row else 0,
            statement_date=on.isoformat(),
            due_date=(on + timedelta(days=DUE_DAYS)).isoformat(),
            practice_name=practice.name,
            practice_address=_address(
                practice.address1, practice.address2, practice.city, practice.state, practice.zip
            ),
            practice_phone=practice.phone,
            account_number=patient.account_number,
            patient_name=name,
            mail_to=[
                name,
                *_address(
                    patient.address1, patient.address2, patient.city, patient.state, patient.zip
                ),
            ],  # fmt: skip
            lines=lines,
            aging=aging,
            balance_cents=owed,
            message=message[:300],
            credit_cents=max(credit, 0),
        )
        if row is not None:
            row.content = json.dumps(view.to_json())
            ctx.session.add(row)
        views.append(view)
    if run is not None:
        run.statement_count, run.total_cents = len(views), sum(v.balance_cents for v in views)
        ctx.session.add(run)
        ctx.session.flush()
        audit.record(
            ctx,
            action="statement.run",
            detail={
                "run_id": run.id,
                "statements": len(views),
                "patients": [p for p, _ in due][:500],
            },
        )
    return RunResult(run, views, below, pending)


def list_runs(ctx: Context, *, limit: int = 50) -> list[StatementRun]:
    require(ctx, "ledger:read", action="statement.list")
    return list(
        ctx.session.exec(
            select(StatementRun)
            .where(StatementRun.practice_id == ctx.practice_id)
            .order_by(col(StatementRun.id).desc())
            .limit(limit)
        )
    )


def run_views(ctx: Context, *, run_id: int) -> list[StatementView]:
    """The statements of a run exactly as they were made (`ledger:read`)."""
    require(ctx, "ledger:read", action="statement.show")
    run = ctx.session.get(StatementRun, run_id)
    if run is None or run.practice_id != ctx.practice_id:
        raise NotFound(f"statement run {run_id} not found")
    rows = list(
        ctx.session.exec(select(Statement).where(Statement.run_id == run_id).order_by(Statement.id))
    )
    audit.record_read(
        ctx, action="statement.show", detail={"run_id": run_id, "statements": len(rows)}
    )
    return [StatementView.from_json(json.loads(r.content)) for r in rows]


def render_run(ctx: Context, *, run_id: int, fmt: str) -> bytes:
    """A run printed by the renderer for `fmt` (pdf, csv)."""
    found = renderers(ctx)
    if fmt not in found:
        raise ValidationError(
            [FieldError("format", "choice", f"one of {', '.join(sorted(found))}")]
        )
    return found[fmt].render(run_views(ctx, run_id=run_id))
