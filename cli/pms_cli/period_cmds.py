"""`pms period close|reopen|list`: month-end close of the books."""

from __future__ import annotations

import re
from datetime import date

import click

from pms_cli.output import emit
from pms_cli.state import AppState, pass_state
from pms_core.services import periods


def _month(text: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise click.BadParameter("a month as YYYY-MM", param_hint="MONTH")
    return date(int(match[1]), int(match[2]), 1)


def _rows(views) -> list[dict]:
    return [
        {
            "month": v.month,
            "closed_through": v.closed_through,
            "closed_at": v.closed_at,
            "closed_by": v.closed_by_id,
            "reopened_at": v.reopened_at,
            "reopen_reason": v.reopen_reason,
        }
        for v in views
    ]


def register(cli: click.Group) -> None:
    @cli.group("period")
    def period_group() -> None:
        """Month-end close: a closed month takes no more postings."""

    @period_group.command("close")
    @click.argument("month")
    @pass_state
    def period_close(state: AppState, month: str) -> None:
        """Close MONTH (YYYY-MM) and every month before it."""
        with state.uow() as ctx:
            view = periods.close_month(ctx, month=_month(month))
        emit(_rows([view]), state.fmt)

    @period_group.command("reopen")
    @click.argument("month")
    @click.option("--reason", required=True, help="why it is reopened (kept with the close)")
    @pass_state
    def period_reopen(state: AppState, month: str, reason: str) -> None:
        """Reopen MONTH, the latest closed month (needs ledger:reopen)."""
        with state.uow() as ctx:
            view = periods.reopen_month(ctx, month=_month(month), reason=reason)
        emit(_rows([view]), state.fmt)

    @period_group.command("list")
    @pass_state
    def period_list(state: AppState) -> None:
        """Every close, oldest first, with reopenings."""
        with state.uow() as ctx:
            views = periods.list_closes(ctx)
        emit(_rows(views), state.fmt)
