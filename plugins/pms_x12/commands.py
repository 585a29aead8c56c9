"""`pms x12 validate` and `pms x12 show`: the biller's X12 toolbox."""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource


@click.group("x12")
def x12_group() -> None:
    """X12 EDI tools: validate files and look inside them."""


@x12_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Validate X12 files: envelope (ISA/GS/ST counts and control numbers),
    balancing (837 claim totals, 835 remittance) and pyx12 where it has a map.
    Prints each error by line (the segment's position in the file), segment and
    element, never element values; exits 1 when any file is invalid."""
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


def _global_format(ctx: click.Context) -> str | None:
    """The root `pms --format`, when the user gave it."""
    root = ctx.find_root()
    if root.get_parameter_source("fmt") in (None, ParameterSource.DEFAULT):
        return None
    obj: Any = root.obj
    return getattr(obj, "fmt", None) or root.params.get("fmt")


@x12_group.command("show")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default=None,
    help="table (an indented table, the default) or json (a tree). Without it, the "
    "global `pms --format` applies (jsonl and csv give one row per loop, segment and "
    "element).",
)
@click.pass_context
def show(ctx: click.Context, file: str, fmt: str | None) -> None:
    """Show an X12 file (837P, 837I, 835, 999, 277CA, 277, 276, 270, 271, TA1) as
    loops, segments and named elements. Envelope problems (wrong counts, a
    missing trailer) are warned about on stderr; the file is shown anyway. Exits 1
    only for a file that is not X12 at all."""
    from pms_core.edi import X12Error
    from pms_x12.show import build_tree, render

    fmt = fmt or _global_format(ctx) or "table"
    try:
        with open(file, "rb") as fh:
            tree = build_tree(fh.read())
    except X12Error as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render(tree, fmt))
    for problem in tree["problems"]:
        click.echo(f"warning: {problem}", err=True)
