"""What importers and table readers are: the contracts between the import
engine (`pms_core.services.imports`) and the plugins that contribute them.

A **table reader** turns a file (CSV, XLSX, a vendor's format) into a `Table`:
the header cells and then the data rows, streamed, each with its row number as
the office sees it in a spreadsheet (the header is row 1). Readers never
judge values; they only refuse files they cannot read (`ValidationError` on
the field "file", naming what is wrong, never a cell's content).

An **importer** is one kind of record (patients, coverages, ...): the columns
it takes (`ImportColumn`), and a job class that checks every row, then plans
what applying the file would do (new, updated, unchanged, possible duplicates),
then applies it. The engine maps file columns to the importer's columns,
converts cells to typed values, keeps the error report bounded, and runs
`apply` only when no row is wrong, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pms_core.context import Context

# What a column holds; the engine converts cells to these before a job sees them.
C_TEXT = "text"  # str, trimmed; None when blank
C_DATE = "date"  # datetime.date (ISO, MM/DD/YYYY, YYYYMMDD, Excel serial or date cells)
C_MONEY = "money"  # pms_core.money.Money (at most two decimals)
C_INT = "int"  # int
C_TIME = "time"  # datetime.time (HH:MM, H:MM AM/PM, time cells)
C_DATETIME = "datetime"  # naive datetime, wall-clock time (a date, a space or T, a time)

# Limits that keep a hostile or mistaken file from exhausting the machine.
MAX_ROWS = 2_000_000
MAX_ERRORS_LISTED = 1_000  # each kept with row, column, code; the rest only counted


@dataclass(frozen=True)
class ImportColumn:
    """One column an importer takes. `aliases` are other header names that map to
    it automatically (compared folded: case, spaces and punctuation ignored)."""

    name: str
    kind: str = C_TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""


@dataclass
class Table:
    """A file read as a table: `header` (the cells of row 1) and `rows`, an
    iterator of (row number, cells). Rows with no value at all are skipped by
    the reader but still counted in the numbering."""

    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    close: Any = None  # a callable that releases the file, or None


class TableReader(Protocol):
    """Reads one kind of file. `suffixes` are the lower-case file name endings it
    handles (".csv"); `open(path)` returns a Table or raises ValidationError."""

    name: str
    suffixes: tuple[str, ...]

    def open(self, path: Path) -> Table: ...


@dataclass(frozen=True)
class RowError:
    """One problem with one cell: `column` is the file's header name (or the
    importer's column name when the file has none for it)."""

    row: int
    column: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


@dataclass(frozen=True)
class PossibleDuplicate:
    """A row that looks like a patient already on file or an earlier row (same
    name and date of birth, another account number): a person decides."""

    row: int
    patient_ids: tuple[int, ...] = ()
    same_as_row: int | None = None


@dataclass
class Plan:
    """What applying the file would do, counted by a job's `plan()`."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[PossibleDuplicate] = field(default_factory=list)


class Row:
    """A data row as a job sees it: typed values by the importer's column names
    (None when blank or unreadable), and `error()` to report a problem.

    `failed` holds the columns whose cells the engine could not convert (already
    reported: a job does not report them again as missing); `errors` counts the
    problems reported for this row so far."""

    __slots__ = ("number", "values", "failed", "errors", "_sink")

    def __init__(self, number: int, values: dict[str, Any], failed: set[str], sink) -> None:
        self.number = number
        self.values = values
        self.failed = failed
        self.errors = len(failed)
        self._sink = sink

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def error(self, column: str, code: str, message: str) -> None:
        """Report a problem with `column` (an importer column name) in this row.
        The message names the rule, never the value."""
        self.errors += 1
        self._sink(self.number, column, code, message)


class ImportJob(Protocol):
    """One run of an importer over one file, made by `Importer.start(ctx)`.

    `check(row)` is called for every data row in order (read-only: it may look
    things up in the database, never write); `plan()` once after the last row,
    when it may add errors of its own (`error(row, column, code, message)`)
    and returns the counts; `apply()` only when no row had an error and the
    caller did not ask for a dry run, inside the caller's transaction."""

    def check(self, row: Row) -> None: ...

    def plan(self, error) -> Plan: ...

    def apply(self) -> None: ...


class Importer(Protocol):
    """A kind of record that can be imported. `kind` is the CLI's word
    (`pms import patients`); `start(ctx)` makes the job for one file."""

    kind: str
    title: str
    columns: tuple[ImportColumn, ...]

    def start(self, ctx: Context) -> ImportJob: ...


def excel_serial_date(value: float) -> date:
    """An Excel serial day number as a date (1900 system: day 1 is 1900-01-01,
    and Excel counts a 29 February 1900 that never was, so from day 61 on the
    offset is from 1899-12-30)."""
    from datetime import timedelta

    days = int(value)
    if days < 61:
        return date(1899, 12, 31) + timedelta(days=days)
    return date(1899, 12, 30) + timedelta(days=days)
