"""`pms coverage add|list`."""

from __future__ import annotations

import click

from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_core.models.people import SUBSCRIBER_RELATIONSHIPS
from pms_core.services import coverages


@click.group("coverage")
def coverage_group() -> None:
    """Insurance coverage of patients."""


@coverage_group.command("add")
@click.argument("patient_id", type=int)
@click.option(
    "--payer", "payer_id", type=int, required=True, help="Payer id (see 'pms payer list')."
)
@click.option("--member-id", required=True)
@click.option("--effective", "effective_date", required=True, help="YYYY-MM-DD")
@click.option(
    "--priority",
    default="primary",
    show_default=True,
    type=click.Choice(["primary", "secondary", "tertiary", "1", "2", "3"]),
)
@click.option("--group", "group_number")
@click.option("--plan", "plan_name")
@click.option(
    "--relationship",
    default="self",
    show_default=True,
    type=click.Choice(list(SUBSCRIBER_RELATIONSHIPS)),
)
@click.option("--subscriber-first", "subscriber_first_name")
@click.option("--subscriber-last", "subscriber_last_name")
@click.option("--subscriber-dob", "subscriber_dob")
@click.option("--subscriber-sex", "subscriber_sex", type=click.Choice(["F", "M", "U"]))
@click.option("--terminates", "termination_date", help="YYYY-MM-DD")
@click.option("--copay", help="e.g. 25.00")
@pass_state
def add(state: AppState, patient_id: int, **fields) -> None:
    """Add coverage to a patient."""
    with state.uow() as ctx:
        cov = coverages.add_coverage(ctx, patient_id=patient_id, **fields)
        emit_record({"id": cov.id, "patient_id": patient_id}, state.fmt)


@coverage_group.command("list")
@click.argument("patient_id", type=int)
@click.option("--all", "include_inactive", is_flag=True, help="Include inactive coverage.")
@pass_state
def list_(state: AppState, patient_id: int, include_inactive: bool) -> None:
    """List a patient's coverage, primary first."""
    with state.uow() as ctx:
        views = coverages.list_coverages(
            ctx, patient_id=patient_id, include_inactive=include_inactive
        )
    emit([coverages.coverage_row(v) for v in views], state.fmt)


def register(cli: click.Group) -> None:
    cli.add_command(coverage_group)
