"""What exporters and export writers are: the contracts between the export
service (`pms_core.services.exports`) and the plugins that contribute them.

An **exporter** is one kind of record (patients, claims, the ledger, ...): its
`columns` (key, kind) and `rows(ctx, date_from, date_to)`, an iterator of
tuples in column order, read in the caller's transaction and streamed (an
export of a million postings is never held in memory). Kinds are the report
kinds (`pms_core.reports`: text, int, money in integer cents, date, ...), so
writers know a number from an identifier.

An **export writer** is one file format: `write(columns, rows, out)` writes
the header and then every row to an open file. pms writes to a temporary file
beside the target and renames it when `write` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pms_core.context import Context


@dataclass(frozen=True)
class ExportColumn:
    key: str
    kind: str = "text"  # a pms_core.reports column kind


class Exporter(Protocol):
    name: str
    title: str
    columns: tuple[ExportColumn, ...]
    dated: bool  # whether --from/--to apply (by the date in the row's first date column)

    def rows(
        self, ctx: Context, date_from: date | None, date_to: date | None
    ) -> Iterator[tuple[Any, ...]]: ...


class ExportWriter(Protocol):
    name: str
    extension: str
    binary: bool

    def write(
        self, columns: tuple[ExportColumn, ...], rows: Iterable[tuple[Any, ...]], out: IO
    ) -> int:
        """Write everything; return the number of rows written."""
        ...
