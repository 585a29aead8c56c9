"""Read a CSV or XLSX file into rows of text keyed by lower-case column name.

CSV: UTF-8 (with or without a byte-order mark), falling back to cp1252 and
latin-1; the delimiter is sniffed (comma, semicolon, tab, pipe). XLSX: the
first sheet, read-only, formulas as their cached values, dates as ISO text.
Row 1 is the header; services number data rows from 2.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from pms_core.errors import FieldError, ValidationError


def read_rows(path: str | Path) -> list[dict[str, str]]:
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx(path)
    return _csv(path)


def _header(cells) -> list[str]:
    return [str(c or "").strip().lower().replace(" ", "_") for c in cells]


def _csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = [r for r in reader if any(cell.strip() for cell in r)]
    if not rows:
        raise ValidationError([FieldError("file", "empty", f"{path.name} has no rows")])
    header = _header(rows[0])
    return [dict(zip(header, (c.strip() for c in r), strict=False)) for r in rows[1:]]


def _xlsx(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError(
            [
                FieldError(
                    "file",
                    "unreadable",
                    f"{path.name} is not a readable XLSX file ({type(exc).__name__})",
                )
            ]
        ) from None
    try:
        sheet = book.worksheets[0]
        values = [
            [_text(v) for v in row]
            for row in sheet.iter_rows(values_only=True)
            if any(v not in (None, "") for v in row)
        ]
    finally:
        book.close()
    if not values:
        raise ValidationError([FieldError("file", "empty", f"{path.name} has no rows")])
    header = _header(values[0])
    return [dict(zip(header, r, strict=False)) for r in values[1:]]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
