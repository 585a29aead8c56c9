"""Exporting records: `pms export KIND --format csv|xlsx|jsonl`.

Exporters (kinds of record) and writers (file formats) come from plugins
(`register_exporters`, `register_export_writers`; the built-in ones are in
`pms_core.services.exporters` and `pms_data`). Rows are streamed from the
database to the file, which appears whole or not at all. Every export needs
`data:export` and is an audit event naming the kind, the format and the count
of rows, never their content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import FieldError, NotFound, ValidationError
from pms_core.exports import Exporter, ExportWriter
from pms_core.files import atomic_output
from pms_core.permissions import require
from pms_core.plugins import collect


def exporters(pm) -> dict[str, Exporter]:
    return dict(sorted(collect(pm.hook.register_exporters, "exporter").items()))


def export_writers(pm) -> dict[str, ExportWriter]:
    return collect(pm.hook.register_export_writers, "export writer")


@dataclass(frozen=True)
class ExportResult:
    kind: str
    format: str
    rows: int
    path: Path | None


def export_records(
    ctx: Context,
    *,
    kind: str,
    fmt: str,
    path: str | Path | None = None,
    out: IO | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> ExportResult:
    """Write every `kind` record (dated between `date_from` and `date_to` when
    the kind is dated) in format `fmt` to `path` (atomically) or to the open
    text stream `out` (standard output, for scripts)."""
    require(ctx, "data:export", action=f"export.{kind}")
    exporter = exporters(ctx.pm).get(kind)
    if exporter is None:
        raise NotFound(f"no exporter for {kind!r} (known: {', '.join(exporters(ctx.pm))})")
    writer = export_writers(ctx.pm).get(fmt)
    if writer is None:
        known = ", ".join(sorted(export_writers(ctx.pm)))
        raise ValidationError([FieldError("format", "choice", f"must be one of {known}")])
    if date_from and date_to and date_from > date_to:
        raise ValidationError([FieldError("from", "after_to", "is after --to")])
    if (date_from or date_to) and not exporter.dated:
        raise ValidationError(
            [FieldError("from", "not_dated", f"{kind} are exported whole, not by date")]
        )
    rows = exporter.rows(ctx, date_from, date_to)
    if path is None:
        if writer.binary or out is None:
            raise ValidationError([FieldError("output", "required", f"{fmt} needs a file (-o)")])
        count = writer.write(exporter.columns, rows, out)
    else:
        with atomic_output(path, binary=writer.binary) as stream:
            count = writer.write(exporter.columns, rows, stream)
    audit.record(
        ctx,
        action=f"export.{kind}",
        detail={"kind": kind, "format": fmt, "rows": count, "dated": bool(date_from or date_to)},
    )
    return ExportResult(kind, fmt, count, Path(path) if path else None)
