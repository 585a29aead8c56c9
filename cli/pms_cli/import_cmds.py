"""`pms import KIND FILE` for every registered importer, `pms import columns KIND`
and `pms import runs`.

The report goes to stdout: the counts, then every bad row as row, column, code
and message (the first 50 on a terminal, all that were kept with --format
json), then the possible duplicates. Exit 1 when the file was not applied
because of bad rows or undecided duplicates, or when a dry run found bad rows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pms_cli.output import emit, emit_record, info
from pms_cli.registry_group import RegistryGroup
from pms_cli.state import AppState, pass_state
from pms_core.db import display_url
from pms_core.services import archive, imports

SHOWN_ON_TERMINAL = 50


def _report_json(report: imports.ImportReport) -> dict:
    return {
        **report.summary(),
        "sha256": report.sha256,
        "imported_before": report.imported_before.isoformat() if report.imported_before else None,
        "ignored_columns": report.ignored_columns,
        "error_counts": [
            {"column": column, "code": code, "count": count}
            for (column, code), count in report.error_counts.most_common()
        ],
        "errors": [e.__dict__ for e in report.errors],
        "possible_duplicates": [
            {"row": d.row, "patient_ids": list(d.patient_ids), "same_as_row": d.same_as_row}
            for d in report.plan.duplicates
        ],
    }


def _print_report(report: imports.ImportReport, fmt: str) -> None:
    if fmt in ("json", "jsonl"):
        sys.stdout.write(json.dumps(_report_json(report), indent=2 if fmt == "json" else None))
        sys.stdout.write("\n")
        return
    emit_record(report.summary(), "table")
    if report.ignored_columns:
        click.echo(f"ignored columns: {', '.join(report.ignored_columns)}")
    if report.imported_before:
        click.echo(
            f"this same file was imported before, on {report.imported_before:%Y-%m-%d %H:%M}"
        )
    if report.error_count:
        click.echo("\nerrors by column:")
        emit(
            [
                {"column": column, "code": code, "rows": count}
                for (column, code), count in report.error_counts.most_common()
            ],
            fmt,
        )
        shown = report.errors[:SHOWN_ON_TERMINAL]
        click.echo(f"\nfirst {len(shown)} of {report.error_count:,} errors:")
        emit([e.__dict__ for e in shown], fmt)
    if report.plan.duplicates:
        click.echo("\npossible duplicate patients (same name and date of birth):")
        emit(
            [
                {
                    "row": d.row,
                    "patients on file": ", ".join(map(str, d.patient_ids)),
                    "same as row": d.same_as_row,
                }
                for d in report.plan.duplicates
            ],
            fmt,
        )


def _outcome(report: imports.ImportReport) -> None:
    """The one-line verdict on stderr, and exit 1 when the file was refused."""
    if report.error_count:
        info(f"not applied: {report.rows_with_errors:,} rows have errors; nothing was written")
        raise SystemExit(1)
    if report.dry_run:
        info("dry run: the file is good; nothing was written")
    elif not report.applied:
        info(
            "not applied: possible duplicate patients; give them their existing account "
            "numbers, or import with --allow-duplicates"
        )
        raise SystemExit(1)
    else:
        info(f"applied: import run {report.run_id}")


def _import_command(kind: str, title: str) -> click.Command:
    @click.command(kind, help=f"{title}.\n\nFILE is CSV or XLSX; pms import columns {kind} "
                   "lists the columns it takes.")  # fmt: skip
    @click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
    @click.option(
        "--map",
        "mapping_path",
        type=click.Path(exists=True, dir_okay=False),
        help="Mapping of file columns to pms columns (JSON, or CSV of two columns).",
    )
    @click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
    @click.option(
        "--allow-duplicates",
        is_flag=True,
        help="Import rows that look like patients on file as the new patients the file says.",
    )
    @pass_state
    def command(state: AppState, path, mapping_path, dry_run, allow_duplicates) -> None:
        mapping = imports.read_mapping(Path(mapping_path)) if mapping_path else None
        with state.uow() as ctx:
            report = imports.run_import(
                ctx,
                kind=kind,
                path=path,
                mapping=mapping,
                dry_run=dry_run,
                allow_duplicates=allow_duplicates,
            )
        _print_report(report, state.fmt)
        _outcome(report)

    return command


def register(cli: click.Group) -> None:
    @cli.group(
        "import",
        cls=RegistryGroup,
        registry=imports.importers,
        make=lambda kind, importer: _import_command(kind, importer.title),
    )
    def import_group() -> None:
        """Bring records in from files (CSV, XLSX): check everything, then apply
        all of it or nothing. Safe to run again: records are matched by their keys."""

    @import_group.command("all")
    @click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
    @pass_state
    def import_all(state: AppState, path) -> None:
        """Read a practice archive (`pms export all`) into an empty database: like
        `pms init`, done by whoever holds the database, before any user exists."""
        result = archive.import_all(state.engine(check=False), path=path)
        click.echo(
            f"Read {result.rows:,} rows of {result.tables} tables into {display_url(state.url)}."
        )

    @import_group.command("columns")
    @click.argument("kind")
    @pass_state
    def import_columns(state: AppState, kind: str) -> None:
        """The columns an importer takes (and the header names it recognises)."""
        importer = imports.get_importer(state.pm, kind)
        emit(
            [
                {
                    "column": c.name,
                    "kind": c.kind,
                    "required": "yes" if c.required else "",
                    "also recognised": ", ".join(c.aliases),
                    "note": c.help,
                }
                for c in importer.columns
            ],
            state.fmt,
        )

    @import_group.command("runs")
    @click.option("--limit", type=int, default=50, show_default=True)
    @pass_state
    def import_runs(state: AppState, limit: int) -> None:
        """Imports applied, newest first."""
        with state.uow() as ctx:
            runs = imports.list_runs(ctx, limit=limit)
        emit(
            [
                {
                    "run": r.id,
                    "kind": r.kind,
                    "at": r.imported_at,
                    "user_id": r.imported_by_id,
                    "rows": r.rows,
                    "new": r.added,
                    "updated": r.updated,
                    "unchanged": r.unchanged,
                    "sha256": r.sha256[:12],
                }
                for r in runs
            ],
            state.fmt,
        )
