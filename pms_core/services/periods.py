"""Month-end close: once a month is closed, the ledger refuses every entry
dated in it or before it, so the month-end figures a manager signed off stay
what they were.

Closing month M closes the books through M's last day (every earlier month
with it); a month can be closed once it has ended. Only the latest close can
be reopened, by someone with `ledger:reopen` and a reason; the close stays on
record with who reopened it and why. A late charge or payment for a closed
month is posted in an open month (a reversal is always dated today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import col, select

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, ValidationError
from pms_core.ledger import closed_through
from pms_core.models import PeriodClose
from pms_core.permissions import require


def month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class CloseView:
    month: str  # YYYY-MM
    closed_through: date
    closed_at: datetime
    closed_by_id: int | None
    reopened_at: datetime | None
    reopen_reason: str


def _view(row: PeriodClose) -> CloseView:
    return CloseView(
        f"{row.month:%Y-%m}", row.closed_through, row.closed_at, row.closed_by_id,
        row.reopened_at, row.reopen_reason,
    )  # fmt: skip


def close_month(ctx: Context, *, month: date) -> CloseView:
    """Close `month` (any day of it). Refused for a month not yet over and for
    one already closed."""
    require(ctx, "ledger:close", action="period.close")
    first = month.replace(day=1)
    last = month_end(first)
    if last >= ctx.today():
        raise ValidationError(
            [FieldError("month", "open", f"{first:%Y-%m} has not ended; close it from the 1st")]
        )
    through = closed_through(ctx.session, ctx.practice_id)
    if through is not None and through >= last:
        raise Conflict(f"the books are already closed through {through}")
    row = PeriodClose(
        practice_id=ctx.practice_id,
        month=first,
        closed_through=last,
        closed_at=ctx.clock.now(),
        closed_by_id=ctx.user.id if ctx.user else None,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx, action="period.close", detail={"close_id": row.id})
    return _view(row)


def reopen_month(ctx: Context, *, month: date, reason: str) -> CloseView:
    """Reopen the latest close, which must be `month`'s."""
    require(ctx, "ledger:reopen", action="period.reopen")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError([FieldError("reason", "required", "say why the month is reopened")])
    first = month.replace(day=1)
    latest = ctx.session.exec(
        select(PeriodClose)
        .where(PeriodClose.practice_id == ctx.practice_id, col(PeriodClose.reopened_at).is_(None))
        .order_by(col(PeriodClose.closed_through).desc())
        .limit(1)
        .with_for_update()
    ).first()
    if latest is None or latest.month != first:
        shown = f"{latest.month:%Y-%m}" if latest else "none"
        raise Conflict(f"only the latest closed month can be reopened (it is {shown})")
    latest.reopened_at = ctx.clock.now()
    latest.reopened_by_id = ctx.user.id if ctx.user else None
    latest.reopen_reason = reason[:200]
    ctx.session.add(latest)
    ctx.session.flush()
    audit.record(ctx, action="period.reopen", detail={"close_id": latest.id})
    return _view(latest)


def list_closes(ctx: Context) -> list[CloseView]:
    require(ctx, "ledger:read", action="period.list")
    rows = ctx.session.exec(
        select(PeriodClose)
        .where(PeriodClose.practice_id == ctx.practice_id)
        .order_by(col(PeriodClose.closed_at), col(PeriodClose.id))
    ).all()
    return [_view(r) for r in rows]


__all__ = ["CloseView", "close_month", "list_closes", "month_end", "reopen_month"]
