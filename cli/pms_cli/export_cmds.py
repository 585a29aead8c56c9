"""`pms export KIND [-o FILE] [--format csv|jsonl|xlsx] [--from --to]`: records
to a file (written whole or not at all) or, for CSV and JSON lines, to stdout."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pms_cli.output import info
from pms_cli.registry_group import RegistryGroup
from pms_cli.state import AppState, pass_state
from pms_core.files import atomic_output
from pms_core.services import archive, exports, journal


def _format(fmt: str | None, output: str | None) -> str:
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower().lstrip(".") if output else ""
    return {"xlsx": "xlsx", "jsonl": "jsonl", "ndjson": "jsonl"}.get(suffix, "csv")


def _export_command(kind: str, exporter) -> click.Command:
    dated = exporter.dated

    @click.command(kind, help=f"{exporter.title}.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write.")
    @click.option(
        "--format", "fmt", help="csv, jsonl or xlsx (default: from the file name, else csv)."
    )
    @click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), hidden=not dated)
    @click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), hidden=not dated)
    @pass_state
    def command(state: AppState, output, fmt, date_from, date_to) -> None:
        with state.uow() as ctx:
            result = exports.export_records(
                ctx,
                kind=kind,
                fmt=_format(fmt, output),
                path=output,
                out=None if output else sys.stdout,
                date_from=date_from.date() if date_from else None,
                date_to=date_to.date() if date_to else None,
            )
        if output:
            info(f"{result.rows:,} {kind} written to {output}")

    return command


def register(cli: click.Group) -> None:
    @cli.group("export", cls=RegistryGroup, registry=exports.exporters, make=_export_command)
    def export_group() -> None:
        """Write records to CSV, JSON lines or XLSX, for migration, scripts and
        spreadsheets. Every export is audited."""

    @export_group.command("journal")
    @click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--format", "fmt", type=click.Choice(journal.FORMATS), default="csv")
    @click.option("-o", "--output", type=click.Path(dir_okay=False), help="File to write.")
    @pass_state
    def export_journal(state: AppState, date_from, date_to, fmt, output) -> None:
        """The ledger's daily summary (charges, payments by method and deposit,
        adjustments, refunds), balanced per day, for accounting software."""
        with state.uow() as ctx:
            options = dict(date_from=date_from.date(), date_to=date_to.date(), fmt=fmt)
            if output:
                with atomic_output(output, binary=False) as out:
                    days = journal.export_journal(ctx, out=out, **options)
                info(f"{days} days written to {output}")
            else:
                journal.export_journal(ctx, out=sys.stdout, **options)

    @export_group.command("all")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                  help="The archive to write (a .zip).")  # fmt: skip
    @pass_state
    def export_all(state: AppState, output) -> None:
        """The whole practice (every table, a manifest, the schema revision) in one
        zip that `pms import all` reads back into an empty database."""
        with state.uow() as ctx:
            result = archive.export_all(ctx, path=output)
        info(f"{result.rows:,} rows of {result.tables} tables written to {output}")
