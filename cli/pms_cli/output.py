"""Machine output on stdout in the format chosen with --format; diagnostics on stderr."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from pms_core.money import Money

FORMATS = ("table", "json", "jsonl", "csv")


def _plain(value: Any) -> Any:
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def emit(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Write `rows` (dicts) to stdout as a table, JSON array, JSON lines or CSV."""
    columns = list(columns or (rows[0].keys() if rows else []))
    plain = [{c: _plain(r.get(c)) for c in columns} for r in rows]
    out = sys.stdout
    if fmt == "json":
        json.dump(plain, out, indent=2, default=str)
        out.write("\n")
    elif fmt == "jsonl":
        for row in plain:
            out.write(json.dumps(row, default=str) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(plain)
    else:
        table = Table(title=title, show_lines=False, header_style="bold")
        for c in columns:
            table.add_column(c.replace("_", " "), overflow="fold")
        for row in plain:
            table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
        Console(file=out, width=max(100, Console().width)).print(table)


def emit_record(record: dict[str, Any], fmt: str) -> None:
    """One record: key/value lines for a table, an object for JSON."""
    if fmt in ("json", "jsonl"):
        sys.stdout.write(
            json.dumps(
                {k: _plain(v) for k, v in record.items()},
                default=str,
                indent=2 if fmt == "json" else None,
            )
            + "\n"
        )
    elif fmt == "csv":
        emit([record], fmt)
    else:
        width = max((len(k) for k in record), default=0)
        for key, value in record.items():
            click.echo(
                f"{key.replace('_', ' '):<{width}}  {'' if value is None else _plain(value)}"
            )


def info(message: str) -> None:
    click.echo(message, err=True)
