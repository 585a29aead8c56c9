"""Reports as plain data: what a report takes, what it returns, and who writes
it to a file.

A report (`register_reports`, the built-in ones in `pms_reports`) declares its
parameters and columns and returns rows of plain values: money in integer
cents, rates as Decimal fractions (None when the denominator is zero), counts
as int, dates as `date`. Writers (`register_report_writers`: csv, json, xlsx)
turn a result into a file; the CLI prints tables itself and the TUI draws
them. Every figure a report shows is defined in words in its `definitions`
(and in docs/reports.md), so a manager can reproduce it by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Protocol

from pms_core.money import Money

# Column kinds: how a value is shown and written.
TEXT, INT, MONEY, PERCENT, DAYS, DATE = "text", "int", "money", "percent", "days", "date"
KINDS = (TEXT, INT, MONEY, PERCENT, DAYS, DATE)
# Parameter kinds.
P_DATE, P_MONTH, P_CHOICE, P_INT, P_CODE = "date", "month", "choice", "int", "code"

# A text cell that a spreadsheet would run as a formula starts with one of these.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """Text that a spreadsheet would take for a formula gets a leading
    apostrophe; every other value (numbers, negative ones included) is left
    alone."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Param:
    """One parameter a report takes (`--param name=value`)."""

    name: str
    kind: str  # P_DATE, P_MONTH, P_CHOICE, P_INT, P_CODE (letters, digits, hyphens)
    help: str
    default: Any = None  # a value of the kind, or a callable(ctx) giving one
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = TEXT


@dataclass(frozen=True)
class Chart:
    """How a trend report is drawn: `kind` line or bar, the category column
    and the value columns (the Excel writer adds it as a chart)."""

    kind: str
    category: str
    values: tuple[str, ...]


@dataclass
class ReportResult:
    """One run of a report. `rows` are dicts keyed by column key; `totals` a
    row of the same shape (or None); `drill` maps a row's index to the ids
    behind it (claims, charges, appointments) for the dashboard's drill-down."""

    name: str
    title: str
    params: dict[str, Any]
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    definitions: list[tuple[str, str]] = field(default_factory=list)
    chart: Chart | None = None
    generated_at: datetime | None = None
    drill: dict[int, list[int]] = field(default_factory=dict)
    drill_kind: str = ""  # what the drill ids are: "claim", "charge", "appointment"

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


class Report(Protocol):
    """A report contributed by `register_reports`.

    - `name`: what `pms report run NAME` takes (lower case, no spaces).
    - `params`: the Params it takes; `run` receives them parsed and checked.
    - `run(ctx, params)`: the result; reads only, through ctx.session. A
      report that shows patients by name audits the read (audit.record_read).
    """

    name: str
    title: str
    description: str
    params: tuple[Param, ...]

    def run(self, ctx: Any, params: Mapping[str, Any]) -> ReportResult: ...


class ReportWriter(Protocol):
    """A file format for report results (`register_report_writers`)."""

    name: str
    extension: str
    binary: bool

    def write(self, results: Sequence[ReportResult], out: IO) -> None: ...


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator to four places (a rate shown as a percent with
    two decimals), None when the denominator is zero."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))


def shown(kind: str, value: Any) -> str:
    """A value as a table or CSV shows it: money 1234.50, rates 12.34%, None
    as nothing."""
    if value is None:
        return ""
    if kind == MONEY:
        return str(Money(value))
    if kind == PERCENT:
        return f"{(value * 100).quantize(Decimal('0.01'))}%"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def plain(value: Any) -> Any:
    """A value as JSON carries it: cents stay int, rates and dates become text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


__all__ = [
    "Chart",
    "Column",
    "Param",
    "Report",
    "ReportResult",
    "ReportWriter",
    "neutralize",
    "plain",
    "ratio",
    "shown",
]
