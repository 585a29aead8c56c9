"""Export writers: CSV (UTF-8 with a byte-order mark, so Excel reads accents),
JSON lines (one object per record, for programs) and XLSX (streamed with
openpyxl's write-only workbook: a million rows never sit in memory).

Money is dollars and cents ("125.00" in CSV and JSON lines, a number with a
money format in XLSX); dates are ISO dates, timestamps ISO with their offset.
Text a spreadsheet would run as a formula (starting with =, +, -, @) is
neutralized in CSV and XLSX (`pms_core.reports.neutralize`); JSON lines carry
values as they are, for programs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from pms_core.exports import ExportColumn
from pms_core.money import Money
from pms_core.reports import DATE, INT, MONEY, neutralize


def _plain(kind: str, value: Any) -> Any:
    """A value as text-friendly JSON: money as "125.00", dates ISO."""
    if value is None:
        return None
    if kind == MONEY:
        return str(Money(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class CsvWriter:
    name = "csv"
    extension = "csv"
    binary = False

    def write(self, columns: tuple[ExportColumn, ...], rows: Iterable[tuple], out: IO) -> int:
        out.write("\ufeff")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([c.key for c in columns])
        kinds = [c.kind for c in columns]
        count = 0
        for row in rows:
            writer.writerow(
                "" if v is None else neutralize(_plain(k, v)) if k not in (MONEY, INT, DATE)
                else _plain(k, v)
                for k, v in zip(kinds, row, strict=True)
            )  # fmt: skip
            count += 1
        return count


class JsonLinesWriter:
    name = "jsonl"
    extension = "jsonl"
    binary = False

    def write(self, columns: tuple[ExportColumn, ...], rows: Iterable[tuple], out: IO) -> int:
        keys = [c.key for c in columns]
        kinds = [c.kind for c in columns]
        count = 0
        for row in rows:
            record = {k: _plain(kind, v) for k, kind, v in zip(keys, kinds, row, strict=True)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count


class XlsxWriter:
    name = "xlsx"
    extension = "xlsx"
    binary = True

    def write(self, columns: tuple[ExportColumn, ...], rows: Iterable[tuple], out: IO) -> int:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        book = Workbook(write_only=True)
        sheet = book.create_sheet("export")
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for c in columns:
            cell = WriteOnlyCell(sheet, value=c.key)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        kinds = [c.kind for c in columns]
        count = 0
        for row in rows:
            sheet.append([_cell(sheet, k, v) for k, v in zip(kinds, row, strict=True)])
            count += 1
        book.save(out)
        return count


def _cell(sheet, kind: str, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return None
    if kind == MONEY:
        cell = WriteOnlyCell(sheet, value=Decimal(value) / 100)
        cell.number_format = "#,##0.00;[Red]-#,##0.00"
        return cell
    if isinstance(value, datetime):
        return value.isoformat()  # with its offset: Excel cannot keep one
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return neutralize(value) if isinstance(value, str) else value


WRITERS = (CsvWriter(), JsonLinesWriter(), XlsxWriter())
