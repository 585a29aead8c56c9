"""`pms report list|run`: the practice's reports as a table, JSON, CSV or XLSX."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from pms_cli.state import AppState, pass_state
from pms_core.reports import TEXT, ReportResult, shown
from pms_core.services import reports

OUTPUT_FORMATS = ("table", "json", "csv", "xlsx")


def _param_pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r} is not key=value", param_hint="--param")
        pairs[name.strip()] = text
    return pairs


def _print_table(result: ReportResult) -> None:
    table = Table(title=result.title, header_style="bold")
    for column in result.columns:
        table.add_column(column.label, justify="left" if column.kind == TEXT else "right")
    for row in result.rows:
        table.add_row(*(shown(c.kind, row.get(c.key)) for c in result.columns))
    if result.totals:
        table.add_section()
        table.add_row(*(shown(c.kind, result.totals.get(c.key)) for c in result.columns))
    Console(file=sys.stdout, width=max(100, Console().width)).print(table)


def register(cli: click.Group) -> None:
    @cli.group("report")
    def report_group() -> None:
        """Practice reports: A/R aging, collections, month-end, appointments, ..."""

    @report_group.command("list")
    @pass_state
    def report_list(state: AppState) -> None:
        """The reports this installation has, with their parameters."""
        for report in reports.reports(state.pm).values():
            click.echo(f"{report.name:18} {report.title}: {report.description}")
            for p in report.params:
                choices = f" ({'|'.join(p.choices)})" if p.choices else ""
                click.echo(f"{'':18}   --param {p.name}=<{p.kind}>{choices}  {p.help}")

    @report_group.command("run")
    @click.argument("name")
    @click.option("--param", "-p", "params", multiple=True, help="key=value (repeatable)")
    @click.option(
        "--format", "fmt", type=click.Choice(OUTPUT_FORMATS), default="table", show_default=True
    )
    @click.option("-o", "--output", help="write to this file (replaced only by a complete one)")
    @pass_state
    def report_run(state: AppState, name, params, fmt, output) -> None:
        """Run report NAME. Without -o, table, json and csv go to stdout; xlsx
        needs -o. A file is written whole or not at all."""
        if fmt == "xlsx" and not output:
            raise click.UsageError("--format xlsx needs -o FILE")
        if fmt == "table" and output:
            raise click.UsageError("-o writes json, csv or xlsx; choose one with --format")
        given = _param_pairs(params)
        with state.uow() as ctx:
            result = reports.run_report(ctx, name, given)
            if output:
                path = reports.write_results(ctx, [result], fmt, output)
        if output:
            click.echo(f"wrote {path}", err=True)
        elif fmt == "table":
            _print_table(result)
        else:
            reports.writers(state.pm)[fmt].write([result], sys.stdout)
