"""Report writers: CSV (for scripts and print vendors), JSON (for programs)
and XLSX (for managers: number formats, frozen header, filters, a definitions
sheet and a chart for trend reports).

Text that a spreadsheet would run as a formula is neutralized in CSV and XLSX
(`pms_core.reports.neutralize`); numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import IO, Any

from pms_core.reports import (
    DATE,
    DAYS,
    INT,
    MONEY,
    PERCENT,
    ReportResult,
    neutralize,
    plain,
    shown,
)


def _rows(result: ReportResult) -> list[dict[str, Any]]:
    return [*result.rows, *([result.totals] if result.totals else [])]


class CsvWriter:
    name = "csv"
    extension = "csv"
    binary = False

    def write(self, results: Sequence[ReportResult], out: IO) -> None:
        writer = csv.writer(out, lineterminator="\r\n")
        for n, result in enumerate(results):
            if n:
                writer.writerow([])
            if len(results) > 1:
                writer.writerow([neutralize(result.title)])
            writer.writerow([neutralize(c.label) for c in result.columns])
            for row in _rows(result):
                writer.writerow(
                    neutralize(shown(c.kind, row.get(c.key))) if c.kind == "text"
                    else shown(c.kind, row.get(c.key))
                    for c in result.columns
                )  # fmt: skip


class JsonWriter:
    name = "json"
    extension = "json"
    binary = False

    def write(self, results: Sequence[ReportResult], out: IO) -> None:
        data = [
            {
                "report": r.name,
                "title": r.title,
                "params": {k: plain(v) for k, v in r.params.items()},
                "generated_at": plain(r.generated_at),
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in r.columns],
                "rows": [{k: plain(v) for k, v in row.items()} for row in r.rows],
                "totals": {k: plain(v) for k, v in r.totals.items()} if r.totals else None,
                "definitions": dict(r.definitions),
            }
            for r in results
        ]
        json.dump(data[0] if len(data) == 1 else data, out, indent=2, ensure_ascii=False)
        out.write("\n")


XLSX_FORMATS = {
    MONEY: "#,##0.00;[Red]-#,##0.00",
    PERCENT: "0.00%",
    INT: "#,##0",
    DAYS: "0.0",
    DATE: "yyyy-mm-dd",
}
MAX_WIDTH = 60


def _cell(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == MONEY:
        return Decimal(value) / 100
    if kind == PERCENT:
        return value
    if kind in (INT, DAYS, DATE):
        return value
    return neutralize(str(value))


class XlsxWriter:
    name = "xlsx"
    extension = "xlsx"
    binary = True

    def write(self, results: Sequence[ReportResult], out: IO) -> None:
        from openpyxl import Workbook
        from openpyxl.chart import BarChart, LineChart, Reference
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        book = Workbook()
        book.remove(book.active)
        definitions: list[tuple[str, str, str]] = []
        for result in results:
            sheet = book.create_sheet(_sheet_name(result, book.sheetnames))
            sheet.append([c.label for c in result.columns])
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            rows = _rows(result)
            for row in rows:
                sheet.append([_cell(c.kind, row.get(c.key)) for c in result.columns])
            if result.totals:
                for cell in sheet[sheet.max_row]:
                    cell.font = Font(bold=True)
            widths = [len(c.label) for c in result.columns]
            for index, column in enumerate(result.columns, 1):
                number_format = XLSX_FORMATS.get(column.kind)
                for r, row in enumerate(rows, 2):
                    if number_format:
                        sheet.cell(r, index).number_format = number_format
                    length = len(shown(column.kind, row.get(column.key)))
                    widths[index - 1] = max(widths[index - 1], length)
            for index, width in enumerate(widths, 1):
                sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, MAX_WIDTH)
            sheet.freeze_panes = "A2"
            last_data_row = 1 + len(result.rows)
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(result.columns))}{last_data_row}"
            if result.chart and result.rows:
                chart = LineChart() if result.chart.kind == "line" else BarChart()
                chart.title = result.title
                chart.width, chart.height = 24, 12
                keys = [c.key for c in result.columns]
                for value_key in result.chart.values:
                    index = keys.index(value_key) + 1
                    data = Reference(sheet, min_col=index, min_row=1, max_row=last_data_row)
                    chart.add_data(data, titles_from_data=True)
                category = keys.index(result.chart.category) + 1
                chart.set_categories(
                    Reference(sheet, min_col=category, min_row=2, max_row=last_data_row)
                )
                sheet.add_chart(chart, f"{get_column_letter(len(keys) + 2)}2")
            definitions += [(result.title, name, text) for name, text in result.definitions]
        sheet = book.create_sheet("Definitions")
        sheet.append(["Report", "Figure", "Definition"])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in definitions:
            sheet.append([neutralize(v) for v in row])
        for letter, width in zip("ABC", (40, 28, 100), strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "A2"
        book.save(out)


def _sheet_name(result: ReportResult, taken: list[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = "".join(ch for ch in result.name if ch not in "[]:*?/\\")[:28] or "Report"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


WRITERS = (CsvWriter(), JsonWriter(), XlsxWriter())
__all__ = ["WRITERS"]
