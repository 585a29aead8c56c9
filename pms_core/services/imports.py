"""Importing files: read, map columns, check every row, then apply all or nothing.

`run_import` is the one path every import takes (CLI, TUI, scripts):

1. the file is opened by a table reader chosen by its name ending (plugins
   contribute readers: `register_table_readers`; the built-in CSV and XLSX
   readers are in `pms_data`);
2. header cells are mapped to the importer's columns by name and alias, or by a
   mapping file; a required column the file lacks stops the import at once;
3. every row is converted (dates, amounts, numbers) and checked by the
   importer's job; every problem is reported as row, column, code and message
   (the first `MAX_ERRORS_LISTED` in full, all of them counted by column and
   code), never with the cell's value;
4. the job plans what applying would do (new, updated, unchanged, possible
   duplicates);
5. only when no row is wrong, no duplicate is left undecided and this is not a
   dry run, the job applies the whole file in the caller's transaction, and the
   run is recorded (`ImportRun`, with the file's SHA-256) and audited.

Importing the same file or the same records again updates in place: every
importer matches records by a natural key (account number, NPI, EDI payer id,
member id, an external id).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import FieldError, NotFound, ValidationError
from pms_core.imports import (
    C_DATE,
    C_DATETIME,
    C_INT,
    C_MONEY,
    C_TIME,
    MAX_ERRORS_LISTED,
    MAX_ROWS,
    ImportColumn,
    Importer,
    Plan,
    Row,
    RowError,
    Table,
    TableReader,
    excel_serial_date,
)
from pms_core.models import ImportRun
from pms_core.money import Money, MoneyError
from pms_core.permissions import require
from pms_core.plugins import collect


# --- registries --------------------------------------------------------------------
def importers(pm) -> dict[str, Importer]:
    """Registered importers by kind, in kind order."""
    return dict(sorted(collect(pm.hook.register_importers, "importer", key="kind").items()))


def table_readers(pm) -> dict[str, TableReader]:
    return collect(pm.hook.register_table_readers, "table reader")


def get_importer(pm, kind: str) -> Importer:
    found = importers(pm).get(kind)
    if found is None:
        known = ", ".join(importers(pm)) or "none"
        raise NotFound(f"no importer for {kind!r} (known: {known})")
    return found


def open_table(pm, path: Path) -> Table:
    """The file read by the reader registered for its name ending."""
    name = path.name.lower()
    for reader in table_readers(pm).values():
        if name.endswith(tuple(reader.suffixes)):
            return reader.open(path)
    endings = sorted({s for r in table_readers(pm).values() for s in r.suffixes})
    raise ValidationError(
        [FieldError("file", "format", f"is not a file pms can read ({', '.join(endings)})")]
    )


# --- column mapping ----------------------------------------------------------------
def fold_header(text: Any) -> str:
    """A header cell compared without case, spaces or punctuation: "Patient Acct #"
    and "patient_acct" are the same column."""
    return re.sub(r"[^a-z0-9]+", "_", str(text or "").lower()).strip("_")


def read_mapping(path: Path) -> dict[str, str | None]:
    """A mapping file: JSON (`{"File column": "pms column", "Unused": null}`) or a
    CSV of two columns (file column, pms column; an empty pms column ignores it)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            [
                FieldError(
                    "map", "unreadable", f"cannot read the mapping file ({type(exc).__name__})"
                )
            ]
        ) from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                [FieldError("map", "format", f"is not valid JSON (line {exc.lineno})")]
            ) from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()
        ):
            raise ValidationError(
                [FieldError("map", "format", "must be an object of file column to pms column")]
            )
        return {k: v or None for k, v in data.items()}
    mapping: dict[str, str | None] = {}
    for n, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > 2:
            raise ValidationError(
                [FieldError("map", "format", f"line {n} has more than two columns")]
            )
        source, target = cells[0].strip(), (cells[1].strip() if len(cells) > 1 else "")
        if n == 1 and fold_header(source) in ("column", "file_column", "source"):
            continue  # a header line
        mapping[source] = target or None
    return mapping


@dataclass(frozen=True)
class ColumnMap:
    """Which cell of a row feeds which importer column, and the file's name for
    each (errors name the column the office sees)."""

    positions: list[tuple[int, ImportColumn]]
    shown: dict[str, str]  # importer column name -> the file's header text
    ignored: list[str]


def map_columns(
    importer: Importer, header: list[Any], mapping: dict[str, str | None] | None = None
) -> ColumnMap:
    """Map header cells to importer columns. Refused (ValidationError naming every
    problem) when a required column is missing, two file columns feed one
    column, or the mapping names a column the file or the importer lacks."""
    columns = {c.name: c for c in importer.columns}
    by_alias: dict[str, ImportColumn] = {}
    for column in importer.columns:
        for alias in (column.name, *column.aliases):
            by_alias.setdefault(fold_header(alias), column)
    errors: list[FieldError] = []
    explicit: dict[str, str | None] = {}
    if mapping:
        folded_header = {fold_header(h) for h in header}
        for source, target in mapping.items():
            if fold_header(source) not in folded_header:
                errors.append(
                    FieldError(f"map: {source}", "not_in_file", "the file has no such column")
                )
            if target is not None and target not in columns:
                errors.append(
                    FieldError(
                        f"map: {source}", "unknown_column", f"{importer.kind} have no such column"
                    )
                )
            explicit[fold_header(source)] = target
    positions: list[tuple[int, ImportColumn]] = []
    shown: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        text = str(cell or "").strip()
        key = fold_header(text)
        if not key:
            continue
        if key in explicit:
            target = explicit[key]
            column = columns.get(target) if target else None
        else:
            column = by_alias.get(key)
        if column is None:
            ignored.append(text)
            continue
        if column.name in shown:
            errors.append(
                FieldError(
                    text,
                    "duplicate_column",
                    f"feeds {column.name}, as column {shown[column.name]!r} does",
                )
            )
            continue
        shown[column.name] = text
        positions.append((index, column))
    for column in importer.columns:
        if column.required and column.name not in shown:
            errors.append(
                FieldError(column.name, "missing_column", "the file has no column for it")
            )
    if errors:
        raise ValidationError(errors)
    return ColumnMap(positions, shown, ignored)


# --- cell conversion ----------------------------------------------------------------
_US_DATE = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EXCEL_DAYS = (1, 2_958_465)  # 1900-01-01 .. 9999-12-31


class CellError(ValueError):
    """A cell that cannot be read as its column's kind: (code, message)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not _EXCEL_DAYS[0] <= value <= _EXCEL_DAYS[1]:
            raise CellError("date", "is a number that is not a spreadsheet date")
        return excel_serial_date(value)
    text = _text(value)
    if text is None:
        return None
    if m := _ISO_DATE.fullmatch(text):
        year, month, day = m[1], m[2], m[3]
    elif m := _US_DATE.fullmatch(text):
        if len(m[3]) == 2:
            raise CellError("two_digit_year", "has a two-digit year; write the year in full")
        year, month, day = m[3], m[1], m[2]
    elif m := _COMPACT_DATE.fullmatch(text):
        year, month, day = m[1], m[2], m[3]
    else:
        raise CellError("date", "is not a date (YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD)")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise CellError("date", "is not a real date") from None


def _money(value: Any) -> Money | None:
    if isinstance(value, bool):
        raise CellError("money", "is not an amount (e.g. 125.00)")
    if isinstance(value, int):
        return Money(value * 100)
    if isinstance(value, float):
        # A spreadsheet number: its shortest decimal form is what the office typed.
        exact = Decimal(repr(value))
        if exact != exact.quantize(Decimal("0.01")):
            raise CellError("decimals", "has more than two decimals")
        return Money(int(exact * 100))
    text = _text(value)
    if text is None:
        return None
    try:
        return Money.parse(text)
    except (MoneyError, TypeError):
        if re.fullmatch(r"[-(]?\$?[\d,]*\.\d{3,}\)?", text):
            raise CellError("decimals", "has more than two decimals") from None
        raise CellError("money", "is not an amount (e.g. 125.00)") from None


def _int(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _text(value)
    if text is None:
        return None
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise CellError("number", "is not a whole number")


_TIME_TEXT = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp]\.?[Mm]\.?)?")
_DATE_AND_TIME = re.compile(r"(.+?)[ T]+(\d{1,2}:\d{2}.*)")


def _time(value: Any) -> time | None:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    if isinstance(value, float) and 0 <= value < 1:  # a spreadsheet time: a fraction of a day
        seconds = round(value * 86_400)
        return time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    text = _text(value)
    if text is None:
        return None
    m = _TIME_TEXT.fullmatch(text)
    if m:
        hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
        if m[4]:
            if not 1 <= hour <= 12:
                raise CellError("time", "is not a time (HH:MM, or H:MM AM/PM)")
            hour = hour % 12 + (12 if m[4][0] in "Pp" else 0)
        try:
            return time(hour, minute, second)
        except ValueError:
            pass
    raise CellError("time", "is not a time (HH:MM, or H:MM AM/PM)")


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        raise CellError("datetime", "has a date but no time")
    if isinstance(value, float) and not value.is_integer():
        day = _date(int(value))
        return datetime.combine(day, time()) + timedelta(seconds=round(value % 1 * 86_400))
    text = _text(value)
    if text is None:
        return None
    m = _DATE_AND_TIME.fullmatch(text)
    if not m:
        raise CellError("datetime", "is not a date and time (YYYY-MM-DD HH:MM)")
    return datetime.combine(_date(m[1]), _time(m[2]))


CONVERTERS = {
    C_DATE: _date,
    C_MONEY: _money,
    C_INT: _int,
    C_TIME: _time,
    C_DATETIME: _datetime,
}


def convert(column: ImportColumn, value: Any) -> Any:
    """A cell as its column's kind (None when blank); raises CellError."""
    return CONVERTERS.get(column.kind, _text)(value)


# --- the report ------------------------------------------------------------------------
@dataclass
class ImportReport:
    """What checking (and perhaps applying) a file found. `errors` lists the first
    `MAX_ERRORS_LISTED` problems; `error_counts` counts all of them by
    (column, code), so a file with a million bad rows still gives a short,
    useful answer."""

    kind: str
    sha256: str
    rows: int = 0
    plan: Plan = field(default_factory=Plan)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    rows_with_errors: int = 0
    error_counts: Counter = field(default_factory=Counter)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    applied: bool = False
    run_id: int | None = None
    imported_before: datetime | None = None  # when this same file was last applied
    _last_bad_row: int = 0

    def add_error(self, row: int, column: str, code: str, message: str) -> None:
        self.error_count += 1
        self.error_counts[(column, code)] += 1
        if row != self._last_bad_row:
            self.rows_with_errors += 1
            self._last_bad_row = row
        if len(self.errors) < MAX_ERRORS_LISTED:
            self.errors.append(RowError(row, column, code, message))

    @property
    def ok(self) -> bool:
        """True when the file could be applied as it is."""
        return self.error_count == 0

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "new": self.plan.new,
            "updated": self.plan.updated,
            "unchanged": self.plan.unchanged,
            "possible_duplicates": len(self.plan.duplicates),
            "error_count": self.error_count,
            "rows_with_errors": self.rows_with_errors,
            "applied": self.applied,
            "dry_run": self.dry_run,
            "run_id": self.run_id,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_import(
    ctx: Context,
    *,
    kind: str,
    path: str | Path,
    mapping: dict[str, str | None] | None = None,
    dry_run: bool = False,
    allow_duplicates: bool = False,
) -> ImportReport:
    """Check `path` as records of `kind`, then apply it unless `dry_run`, any row
    is wrong, or possible duplicates are left undecided (`allow_duplicates`
    imports them as the separate records the file says they are).

    File-level problems (unreadable, missing columns, a bad mapping) raise
    ValidationError before any row is read. Row problems are in the report;
    nothing is written unless the whole file is good (`data:import`)."""
    require(ctx, "data:import", action=f"import.{kind}")
    importer = get_importer(ctx.pm, kind)
    path = Path(path)
    report = ImportReport(kind=kind, sha256=file_sha256(path), dry_run=dry_run)
    table = open_table(ctx.pm, path)
    try:
        columns = map_columns(importer, table.header, mapping)
        report.ignored_columns = columns.ignored
        job = importer.start(ctx)

        def sink(row: int, column: str, code: str, message: str) -> None:
            report.add_error(row, columns.shown.get(column, column), code, message)

        for number, cells in table.rows:
            report.rows += 1
            if report.rows > MAX_ROWS:
                raise ValidationError(
                    [FieldError("file", "too_many_rows", f"has more than {MAX_ROWS:,} rows")]
                )
            values: dict[str, Any] = {}
            failed: set[str] = set()
            for index, column in columns.positions:
                try:
                    values[column.name] = convert(
                        column, cells[index] if index < len(cells) else None
                    )
                except CellError as exc:
                    values[column.name] = None
                    failed.add(column.name)
                    sink(number, column.name, exc.code, exc.message)
            job.check(Row(number, values, failed, sink))
    finally:
        if table.close is not None:
            table.close()
    if report.rows == 0:
        raise ValidationError([FieldError("file", "empty", "has no data rows")])
    report.plan = job.plan(sink)
    previous = ctx.session.exec(
        select(ImportRun.imported_at)
        .where(ImportRun.practice_id == ctx.practice_id, ImportRun.sha256 == report.sha256)
        .order_by(col(ImportRun.id).desc())
    ).first()
    report.imported_before = previous
    if report.ok and not dry_run and (allow_duplicates or not report.plan.duplicates):
        job.apply()
        run = ImportRun(
            practice_id=ctx.practice_id,
            kind=kind,
            sha256=report.sha256,
            rows=report.rows,
            added=report.plan.new,
            updated=report.plan.updated,
            unchanged=report.plan.unchanged,
            imported_by_id=ctx.user.id,
            imported_at=ctx.clock.now(),
        )
        ctx.session.add(run)
        ctx.session.flush()
        report.applied, report.run_id = True, run.id
    audit.record(
        ctx,
        action=f"import.{kind}" if report.applied else "import.check",
        detail={
            "kind": kind,
            "file_sha256_prefix": report.sha256[:32],
            "rows": report.rows,
            "new": report.plan.new,
            "updated": report.plan.updated,
            "errors": report.error_count,
            "applied": report.applied,
            "run_id": report.run_id,
        },
    )
    return report


def list_runs(ctx: Context, *, limit: int = 100) -> list[ImportRun]:
    """The latest applied imports, newest first."""
    require(ctx, "data:import", action="import.list")
    return list(
        ctx.session.exec(
            select(ImportRun)
            .where(ImportRun.practice_id == ctx.practice_id)
            .order_by(col(ImportRun.id).desc())
            .limit(limit)
        )
    )
