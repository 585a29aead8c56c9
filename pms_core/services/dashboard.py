"""The manager's dashboard: KPI tiles with a monthly trend, the A/R aging and
denial-reason bars, and, behind every figure, the list of items it counts.

Every figure comes from a registered report (services.reports; the built-in
ones are in pms_reports), with the same definitions as `pms report run`; a
figure's `drill` names the list report and parameters that show what is
behind it. A dashboard load needs `reports:read` and is one audit event.
Each user chooses the tiles and their order; the choice is kept
(`user_preference`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import FieldError, PmsError, ValidationError
from pms_core.models import UserPreference
from pms_core.permissions import require
from pms_core.reports import DAYS, MONEY, PERCENT
from pms_core.services.periods import month_end
from pms_core.services.reports import compute

PREFERENCE = "dashboard.tiles"
TREND_MONTHS = 6
BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")
TOP_REASONS = 8


@dataclass(frozen=True)
class TileSpec:
    title: str
    kind: str
    help: str


TILES: dict[str, TileSpec] = {
    "ar_days": TileSpec("A/R days", DAYS, "open A/R over the average day's charges (90 days)"),
    "net_collection_rate": TileSpec(
        "Net collection rate", PERCENT, "payments / (charges - contractual adjustments)"
    ),
    "denial_rate": TileSpec("Denial rate", PERCENT, "denied lines / lines adjudicated"),
    "no_show_rate": TileSpec("No-show rate", PERCENT, "no-shows / visits due to happen"),
    "collected_today": TileSpec("Collected today", MONEY, "payments received today"),
    "collected_month": TileSpec("Collected this month", MONEY, "payments received this month"),
}


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a date range (rates and totals are over it;
    balances are as of its last day) and, optionally, one provider or location."""

    date_from: date
    date_to: date
    provider_id: int | None = None
    location_id: int | None = None

    def scope(self) -> dict[str, str]:
        out = {}
        if self.provider_id is not None:
            out["provider"] = str(self.provider_id)
        if self.location_id is not None:
            out["location"] = str(self.location_id)
        return out

    def period(self) -> dict[str, str]:
        return {"date_from": str(self.date_from), "date_to": str(self.date_to), **self.scope()}


def default_filters(ctx: Context) -> Filters:
    """The last 30 days."""
    today = ctx.today()
    return Filters(today - timedelta(days=29), today)


def check_filters(filters: Filters) -> None:
    if filters.date_from > filters.date_to:
        raise ValidationError(
            [FieldError("date_from", "range", "is after date_to: the range is empty")]
        )


@dataclass(frozen=True)
class Drill:
    """The list report behind a figure, and its parameters."""

    report: str
    params: dict[str, str]


@dataclass(frozen=True)
class Tile:
    key: str
    title: str
    kind: str
    value: Any  # cents, a Decimal rate or days; None when there is nothing to divide
    trend: list[float]  # the last TREND_MONTHS months, oldest first (0 for none)
    drill: Drill
    help: str = ""


@dataclass(frozen=True)
class Bar:
    label: str
    value: int  # cents (aging) or a count (denials)
    drill: Drill


@dataclass
class Board:
    filters: Filters
    tiles: list[Tile] = field(default_factory=list)
    aging: list[Bar] = field(default_factory=list)
    denial_reasons: list[Bar] = field(default_factory=list)


# --- tiles ---------------------------------------------------------------------------
def _month_starts(last: date, count: int = TREND_MONTHS) -> list[date]:
    index = last.year * 12 + last.month - 1
    return [date((index - n) // 12, (index - n) % 12 + 1, 1) for n in range(count - 1, -1, -1)]


def _number(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _monthly(ctx: Context, f: Filters, report: str, pick, **extra: str) -> list[float]:
    """`pick(result)` for each of the last TREND_MONTHS months up to f.date_to."""
    out = []
    for first in _month_starts(f.date_to):
        last = min(month_end(first), f.date_to)
        params = {"date_from": str(first), "date_to": str(last), **f.scope(), **extra}
        out.append(_number(pick(compute(ctx, report, params))))
    return out


def _value(ctx: Context, key: str, f: Filters) -> tuple[Any, Drill]:
    """A tile's figure over the filters, and the list behind it."""
    scope, period = f.scope(), f.period()
    if key == "ar_days":
        value = compute(ctx, "days_in_ar", {"as_of": str(f.date_to), **scope}).rows[0]["days"]
        return value, Drill("open_items", {"as_of": str(f.date_to), **scope})
    if key == "net_collection_rate":
        value = compute(ctx, "collections", period).totals["net_rate"]
        days = {"date_from": str(f.date_from), "date_to": str(f.date_to)}
        return value, Drill("payments_received", days)
    if key == "denial_rate":
        return compute(ctx, "denials", period).totals["rate"], Drill("denied_lines", period)
    if key == "no_show_rate":
        value = compute(ctx, "appointments", period).totals["no_show_rate"]
        return value, Drill("appointment_list", {**period, "status": "no_show"})
    if key in ("collected_today", "collected_month"):
        first = f.date_to if key == "collected_today" else f.date_to.replace(day=1)
        days = {"date_from": str(first), "date_to": str(f.date_to)}
        value = compute(ctx, "collections", {**days, **scope}).totals["payments"]
        return value, Drill("payments_received", days)
    raise KeyError(key)


def _trend(ctx: Context, key: str, f: Filters) -> list[float]:
    """A tile's figure for each of the last TREND_MONTHS months (oldest first)."""
    scope = f.scope()
    if key == "ar_days":
        return [
            _number(
                compute(
                    ctx, "days_in_ar", {"as_of": str(min(month_end(m), f.date_to)), **scope}
                ).rows[0]["days"]
            )
            for m in _month_starts(f.date_to)
        ]
    if key in ("net_collection_rate", "collected_today", "collected_month"):
        months = {**f.period(), "date_from": str(_month_starts(f.date_to)[0])}
        column = "net_rate" if key == "net_collection_rate" else "payments"
        return [_number(r[column]) for r in compute(ctx, "collections", months).rows]
    if key == "denial_rate":
        return _monthly(ctx, f, "denials", lambda r: r.totals["rate"])
    if key == "no_show_rate":
        return _monthly(ctx, f, "appointments", lambda r: r.totals["no_show_rate"])
    raise KeyError(key)


def _check_key(key: str) -> None:
    if key not in TILES:
        raise ValidationError([FieldError("tile", "unknown", f"is not one of {', '.join(TILES)}")])


def tile(ctx: Context, key: str, filters: Filters, *, with_trend: bool = True) -> Tile:
    """One tile (the TUI computes the figures one by one, so each shows as it is
    ready, then the trends: `with_trend` False leaves the trend empty)."""
    require(ctx, "reports:read", action="dashboard.view")
    _check_key(key)
    check_filters(filters)
    spec = TILES[key]
    value, drill = _value(ctx, key, filters)
    trend = _trend(ctx, key, filters) if with_trend else []
    return Tile(key, spec.title, spec.kind, value, trend, drill, spec.help)


def trend(ctx: Context, key: str, filters: Filters) -> list[float]:
    """One tile's trend (see tile)."""
    require(ctx, "reports:read", action="dashboard.view")
    _check_key(key)
    check_filters(filters)
    return _trend(ctx, key, filters)


def bars(ctx: Context, filters: Filters) -> tuple[list[Bar], list[Bar]]:
    """The aging buckets (cents, as of the range's last day) and the most
    frequent denial reasons of the range (denied lines)."""
    require(ctx, "reports:read", action="dashboard.view")
    check_filters(filters)
    as_of = {"as_of": str(filters.date_to), **filters.scope()}
    aging = compute(ctx, "ar_aging", as_of).totals
    aging_bars = [Bar(b, aging[b], Drill("open_items", {**as_of, "bucket": b})) for b in BUCKETS]
    denials = compute(ctx, "denials", {**filters.period(), "by": "carc"})
    reason_bars = [
        Bar(row["group"], row["denied"],
            Drill("denied_lines", {**filters.period(), "reason": row["group"]}))
        for row in denials.rows[:TOP_REASONS]
    ]  # fmt: skip
    return aging_bars, reason_bars


def load(ctx: Context, filters: Filters | None = None, keys: list[str] | None = None) -> Board:
    """The whole dashboard for `filters` (default: the last 30 days) with the
    user's tiles (or `keys`). One audit event."""
    require(ctx, "reports:read", action="dashboard.view")
    filters = filters or default_filters(ctx)
    check_filters(filters)
    board = Board(filters)
    board.tiles = [tile(ctx, key, filters) for key in (keys or chosen_tiles(ctx))]
    board.aging, board.denial_reasons = bars(ctx, filters)
    viewed(ctx, filters)
    return board


def viewed(ctx: Context, filters: Filters) -> None:
    """The audit event of one dashboard view (ids and dates only)."""
    audit.record(
        ctx,
        action="dashboard.view",
        detail={
            "date_from": str(filters.date_from),
            "date_to": str(filters.date_to),
            "provider": filters.provider_id,
            "location": filters.location_id,
        },
    )


# --- the user's tiles ----------------------------------------------------------------
def chosen_tiles(ctx: Context) -> list[str]:
    """The signed-in user's tiles in their order (all, in TILES order, until
    they choose). A key no longer known is skipped."""
    if ctx.user is None:
        return list(TILES)
    row = ctx.session.get(UserPreference, (ctx.user.id, PREFERENCE))
    if row is None:
        return list(TILES)
    try:
        keys = [k for k in json.loads(row.value) if k in TILES]
    except (ValueError, TypeError):
        return list(TILES)
    return keys or list(TILES)


def choose_tiles(ctx: Context, keys: list[str]) -> list[str]:
    """Keep the user's tiles and their order: known keys, each once, at least one."""
    require(ctx, "reports:read", action="dashboard.tiles")
    if ctx.user is None:
        raise PmsError("tiles are chosen by a signed-in user")
    unknown = [k for k in keys if k not in TILES]
    errors = []
    if unknown:
        errors.append(FieldError("tiles", "unknown", f"unknown tiles: {', '.join(unknown)}"))
    if len(set(keys)) != len(keys):
        errors.append(FieldError("tiles", "repeated", "each tile may be chosen once"))
    if not keys:
        errors.append(FieldError("tiles", "required", "choose at least one tile"))
    if errors:
        raise ValidationError(errors)
    row = ctx.session.get(UserPreference, (ctx.user.id, PREFERENCE))
    if row is None:
        row = UserPreference(user_id=ctx.user.id, key=PREFERENCE, value="")
    row.value = json.dumps(keys)
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx, action="dashboard.tiles", detail={"tiles": keys})
    return keys


__all__ = [
    "Bar",
    "Board",
    "Drill",
    "Filters",
    "TILES",
    "Tile",
    "bars",
    "choose_tiles",
    "chosen_tiles",
    "default_filters",
    "load",
    "tile",
    "trend",
    "viewed",
]
