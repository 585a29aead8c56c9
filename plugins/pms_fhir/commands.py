"""`pms fhir export -o FOLDER` and `pms fhir import FOLDER|FILE... [--dry-run]`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pms_core.services import imports
from pms_fhir.bulk import export_bulk

KINDS = {"Patient": "patients", "Coverage": "coverages"}


@click.group("fhir")
def fhir_group() -> None:
    """FHIR R4 bulk data (NDJSON): export, and import of patients and coverage."""


@fhir_group.command("export")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Folder for the .ndjson files (made if missing).")  # fmt: skip
@click.pass_obj
def fhir_export(state, output) -> None:
    """Patient, Coverage, Appointment, Claim and ExplanationOfBenefit, one
    validated resource per line."""
    with state.uow() as ctx:
        counts = export_bulk(ctx, output)
    for resource_type, count in counts.items():
        click.echo(f"{resource_type}.ndjson  {count:,}")


@fhir_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.pass_obj
def fhir_import(state, paths, dry_run) -> None:
    """Patient.ndjson then Coverage.ndjson (from a folder, or the files given),
    each checked whole and applied all or nothing, like `pms import`."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += [path / f"{t}.ndjson" for t in KINDS if (path / f"{t}.ndjson").exists()] \
            if path.is_dir() else [path]  # fmt: skip
    order = {f"{t}.ndjson": n for n, t in enumerate(KINDS)}
    failed = False
    for file in sorted(files, key=lambda f: order.get(f.name, 9)):
        kind = KINDS.get(file.stem)
        if kind is None:
            raise click.UsageError(f"{file.name}: only Patient.ndjson and Coverage.ndjson import")
        with state.uow() as ctx:
            report = imports.run_import(ctx, kind=kind, path=file, dry_run=dry_run)
        plan = report.plan
        click.echo(
            f"{file.name}: {report.rows:,} resources, {plan.new:,} new, {plan.updated:,} "
            f"updated, {plan.unchanged:,} unchanged, {report.error_count:,} errors, "
            f"{len(plan.duplicates):,} possible duplicates; "
            f"{'applied' if report.applied else 'not applied'}"
        )
        for e in report.errors[:50]:
            click.echo(f"  line {e.row}, {e.column}: {e.message} ({e.code})")
        failed |= bool(report.error_count) or (not report.applied and not dry_run)
    if failed:
        sys.exit(1)
