"""`pms patient add|find|show|update`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from pms_cli.output import emit, emit_record, info
from pms_cli.state import AppState, pass_state
from pms_core.models.people import CONTACT_CHANNELS, INTAKE_KINDS
from pms_core.services import patients
from pms_core.services.coverages import coverage_row

# option name -> service field; shared by add and update
_FIELDS = [
    ("--first", "first_name"),
    ("--middle", "middle_name"),
    ("--last", "last_name"),
    ("--suffix", "suffix"),
    ("--dob", "dob"),
    ("--sex", "sex"),
    ("--address1", "address1"),
    ("--address2", "address2"),
    ("--city", "city"),
    ("--state", "state"),
    ("--zip", "zip"),
    ("--home-phone", "home_phone"),
    ("--mobile-phone", "mobile_phone"),
    ("--email", "email"),
    ("--account", "account_number"),
    ("--guarantor", "guarantor_id"),
]


def _field_options(fn):
    for opt, name in reversed(_FIELDS):
        kind = int if name == "guarantor_id" else str
        fn = click.option(opt, name, type=kind, default=None)(fn)
    return click.option(
        "--contact",
        "preferred_contact",
        type=click.Choice(CONTACT_CHANNELS),
        default=None,
        help="Preferred contact channel.",
    )(fn)


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@click.group("patient")
def patient_group() -> None:
    """Register, find, show and update patients."""


@patient_group.command("add")
@_field_options
@click.option(
    "--intake",
    "intake",
    multiple=True,
    metavar="KIND:TEXT",
    help=f"Intake history item, KIND one of {', '.join(INTAKE_KINDS)}; repeatable.",
)
@click.option("--allow-duplicate", is_flag=True, help="Register even if name and DOB match.")
@pass_state
def add(app: AppState, intake: tuple[str, ...], allow_duplicate: bool, **fields) -> None:
    """Register a patient. Prints the new patient's id and account number."""
    items = []
    for raw in intake:
        kind, sep, text = raw.partition(":")
        if not sep:
            raise click.BadParameter(
                "use KIND:TEXT, e.g. allergy:penicillin", param_hint="--intake"
            )
        items.append(patients.IntakeInput(kind=kind.strip(), description=text))
    with app.uow() as ctx:
        p = patients.register_patient(
            ctx, intake=items, allow_duplicate=allow_duplicate, **_given(fields)
        )
        emit_record({"id": p.id, "account_number": p.account_number}, app.fmt)


@patient_group.command("find")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", default=patients.SEARCH_LIMIT, show_default=True)
@pass_state
def find(state: AppState, text: tuple[str, ...], limit: int) -> None:
    """Search by name ("smith", "smith, jo", "jo smith"), DOB, phone, member id or account."""
    with state.uow() as ctx:
        hits = patients.find_patients(ctx, text=" ".join(text), limit=limit)
    rows = [{**asdict(h), "matched": ",".join(h.matched)} for h in hits]
    emit(
        rows,
        state.fmt,
        columns=[
            "id",
            "account_number",
            "last_name",
            "first_name",
            "dob",
            "sex",
            "phone",
            "matched",
        ],
    )
    if not hits:
        info("no patients found")


@patient_group.command("show")
@click.argument("patient_id", type=int)
@pass_state
def show(state: AppState, patient_id: int) -> None:
    """Show a patient's demographics, coverage, intake history and balance."""
    with state.uow() as ctx:
        record = patients.get_patient(ctx, patient_id=patient_id)
    p = record.patient
    data: dict[str, Any] = p.model_dump(exclude={"search_first", "search_last"})
    if state.fmt in ("json", "jsonl"):
        data["coverages"] = [coverage_row(c) for c in record.coverages]
        data["intake"] = [
            i.model_dump(include={"kind", "description", "detail", "recorded_at"})
            for i in record.intake
        ]
        if record.balance is not None:
            data["balance"] = {
                "patient": record.balance.patient,
                "insurance": record.balance.insurance,
                "total": record.balance.total,
            }
        emit_record(data, state.fmt)
        return
    emit_record(data, state.fmt)
    if record.balance is not None:
        click.echo(
            f"\nbalance: patient {record.balance.patient.format()}, insurance "
            f"{record.balance.insurance.format()}, total {record.balance.total.format()}"
        )
    if record.coverages:
        click.echo()
        emit([coverage_row(c) for c in record.coverages], state.fmt)
    if record.intake:
        click.echo()
        emit(
            [i.model_dump(include={"kind", "description", "detail"}) for i in record.intake],
            state.fmt,
            columns=["kind", "description", "detail"],
        )


@patient_group.command("update")
@click.argument("patient_id", type=int)
@_field_options
@click.option("--allow-duplicate", is_flag=True)
@pass_state
def update(app: AppState, patient_id: int, allow_duplicate: bool, **fields) -> None:
    """Change a patient's demographics; only the options given change."""
    changes = _given(fields)
    if not changes:
        raise click.UsageError("nothing to change: give at least one field option")
    with app.uow() as ctx:
        p = patients.update_patient(
            ctx, patient_id=patient_id, allow_duplicate=allow_duplicate, **changes
        )
        emit_record({"id": p.id, "account_number": p.account_number}, app.fmt)


def register(cli: click.Group) -> None:
    cli.add_command(patient_group)
