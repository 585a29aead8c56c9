"""The pms_x12 plugin: contributes `pms x12 validate`."""

from __future__ import annotations

import click

from pms_core.hookspecs import hookimpl


@click.group("x12")
def x12_group() -> None:
    """X12 EDI tools."""


@x12_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Validate X12 files with pyx12. Prints each error by line, segment and element
    (never element values); exits 1 when any file is invalid."""
    from pms_x12.validate import validate_file

    bad = 0
    for path in files:
        report = validate_file(path)
        click.echo(f"{path}: {'valid' if report.valid else 'INVALID'}")
        for finding in report.findings:
            click.echo(f"  {finding}")
        bad += not report.valid
    if bad:
        raise click.ClickException(f"{bad} of {len(files)} file(s) invalid")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(x12_group)
