"""Read a CSV or XLSX file into rows of text keyed by folded column name, for
the commands that take a whole small file at once (fee schedules, code lists).

The file is read by the registered table readers (`pms_data`: encodings,
delimiters, XLSX limits), as `pms import` reads it. Blank rows are skipped;
services number the remaining data rows from 2.
"""

from __future__ import annotations

from pathlib import Path

from pms_core.imports import ImportColumn
from pms_core.services.imports import convert, fold_header, open_table

_TEXT = ImportColumn("cell")


def read_rows(pm, path: str | Path) -> list[dict[str, str]]:
    table = open_table(pm, Path(path))
    try:
        header = [fold_header(cell) for cell in table.header]
        return [
            dict(zip(header, (convert(_TEXT, cell) or "" for cell in cells), strict=False))
            for _, cells in table.rows
        ]
    finally:
        if table.close is not None:
            table.close()
