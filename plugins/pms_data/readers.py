"""Reading CSV and XLSX files as tables, streamed, with limits.

CSV: UTF-8 with or without a byte-order mark, UTF-16 with one, else Windows-1252
(then Latin-1, which reads any byte); the delimiter (comma, semicolon, tab or
pipe) is the one the header line uses most. XLSX: the first sheet, read-only
(rows are streamed, never loaded whole), formulas as their last computed values.
The XML is parsed by defusedxml (openpyxl uses it when it is installed), so
entity bombs are refused; the zip is checked before it is opened, so a file that
inflates to gigabytes is refused too. Errors name the file's problem, never
its content.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from pathlib import Path

from pms_core.errors import FieldError, ValidationError
from pms_core.imports import MAX_ROWS, Table

MAX_CSV_BYTES = 2 << 30  # 2 GiB: far past any practice's export
MAX_XLSX_BYTES = 256 << 20  # compressed
MAX_XLSX_INFLATED = 2 << 30  # all members together, uncompressed
MAX_XLSX_RATIO = 200  # a member inflating more than this (and past 16 MiB) is a bomb
_DELIMITERS = (",", ";", "\t", "|")


def _refuse(code: str, message: str) -> ValidationError:
    return ValidationError([FieldError("file", code, message)])


def _blank(cells) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# --- CSV ---------------------------------------------------------------------------
def detect_encoding(path: Path) -> str:
    """The encoding to read `path` with (see the module docstring)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if b"\x00" in head:
            raise _refuse(
                "encoding",
                "is not a text file (binary, or UTF-16 without a byte-order mark); "
                "save it as CSV UTF-8",
            )
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class CsvReader:
    name = "csv"
    suffixes = (".csv", ".txt", ".tsv")

    def open(self, path: Path) -> Table:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise _refuse("too_large", f"is larger than {MAX_CSV_BYTES >> 30} GiB")
        encoding = detect_encoding(path)
        fh = path.open("r", encoding=encoding, newline="")
        try:
            first = fh.readline()
            fh.seek(0)
            reader = csv.reader(fh, delimiter=_delimiter(first))
            header = next(reader, None)
        except (csv.Error, UnicodeError) as exc:
            fh.close()
            raise _refuse("format", f"row 1 cannot be read as CSV ({exc})") from None
        if not header or _blank(header):
            fh.close()
            raise _refuse("empty", "has no header row")

        def rows():
            number = 1
            try:
                for cells in reader:
                    number += 1
                    if number > MAX_ROWS + 1:
                        raise _refuse("too_many_rows", f"has more than {MAX_ROWS:,} rows")
                    if cells and not _blank(cells):
                        yield number, cells
            except csv.Error as exc:
                raise _refuse("format", f"row {number + 1} cannot be read as CSV ({exc})") from None

        return Table(header=header, rows=rows(), close=fh.close)


# --- XLSX ----------------------------------------------------------------------------
def check_zip(path: Path) -> None:
    """Refuse what is not a zip, is too big, or inflates like a zip bomb, before
    openpyxl opens it."""
    if path.stat().st_size > MAX_XLSX_BYTES:
        raise _refuse("too_large", f"is larger than {MAX_XLSX_BYTES >> 20} MiB")
    if not zipfile.is_zipfile(path):
        raise _refuse("format", "is not an XLSX workbook (an .xls or another file renamed?)")
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    inflated = sum(m.file_size for m in members)
    if inflated > MAX_XLSX_INFLATED:
        raise _refuse("zip_bomb", "would inflate to more than 2 GiB; refused")
    for member in members:
        if member.file_size > (16 << 20) and member.file_size > MAX_XLSX_RATIO * max(
            member.compress_size, 1
        ):
            raise _refuse("zip_bomb", "inflates far more than a workbook can; refused")


class XlsxReader:
    name = "xlsx"
    suffixes = (".xlsx", ".xlsm")

    def open(self, path: Path) -> Table:
        import openpyxl

        if openpyxl.DEFUSEDXML is not True:  # pragma: no cover - a dependency of pms
            raise _refuse("unsafe", "cannot be read safely: defusedxml is not installed")
        check_zip(path)
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged or hostile file
            raise _refuse(
                "unreadable", f"is not a readable XLSX workbook ({type(exc).__name__})"
            ) from None
        try:
            sheet = book.worksheets[0]
            cells = sheet.iter_rows(values_only=True)
            header = list(next(cells, None) or [])
        except Exception as exc:
            book.close()
            raise _refuse(
                "unreadable", f"is not a readable XLSX workbook ({type(exc).__name__})"
            ) from None
        if not header or _blank(header):
            book.close()
            raise _refuse("empty", "has no header row")
        while header and header[-1] in (None, ""):
            header.pop()
        width = len(header)

        def rows():
            number = 1
            try:
                for values in cells:
                    number += 1
                    if number > MAX_ROWS + 1:
                        raise _refuse("too_many_rows", f"has more than {MAX_ROWS:,} rows")
                    values = values[:width]
                    if not _blank(values):
                        yield number, list(values)
            except ValidationError:
                raise
            except Exception as exc:
                raise _refuse(
                    "unreadable", f"row {number + 1} cannot be read ({type(exc).__name__})"
                ) from None

        return Table(header=header, rows=rows(), close=book.close)


READERS = (CsvReader(), XlsxReader())
