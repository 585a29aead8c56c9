"""What the built-in reports share: parameter defaults and the names that
label their rows."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import col

from pms_core.models import Patient


def today(ctx) -> date:
    return ctx.today()


def days_back(days: int):
    """A parameter default: the day `days` before today."""
    return lambda ctx: ctx.today() - timedelta(days=days)


def month_start(ctx) -> date:
    return ctx.today().replace(day=1)


def months_back(ctx, months: int = 11) -> date:
    """The first day of the month `months` before this one."""
    now = ctx.today()
    index = now.year * 12 + now.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def names(ctx, model, *fields: str) -> dict[int, str]:
    """id -> the fields joined by ", " for every row of the practice's `model`
    (payers by name, providers as "Last, First", locations, appointment types)."""
    rows = ctx.session.execute(
        select(model.id, *[getattr(model, f) for f in fields]).where(
            model.practice_id == ctx.practice_id
        )
    ).all()
    return {row[0]: ", ".join(str(v) for v in row[1:]) for row in rows}


def patient_names(ctx, ids: list[int]) -> dict[int, str]:
    """id -> "Last, First (account)" for these patients (PHI: the caller audits
    the read)."""
    found: dict[int, str] = {}
    wanted = [i for i in ids if i is not None]
    for start in range(0, len(wanted), 500):
        for pid, last, first, account in ctx.session.execute(
            select(Patient.id, Patient.last_name, Patient.first_name, Patient.account_number).where(
                col(Patient.id).in_(wanted[start : start + 500])
            )
        ):
            found[pid] = f"{last}, {first} ({account})"
    return found
