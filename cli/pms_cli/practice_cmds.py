"""`pms location|provider|payer add|list`: what the practice bills with."""

from __future__ import annotations

import click

from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_core.services import practice

ADDRESS = [
    click.option("--address1", required=True),
    click.option("--address2"),
    click.option("--city", required=True),
    click.option("--state", required=True),
    click.option("--zip", required=True),
    click.option("--phone"),
]


def _address(fn):
    for option in reversed(ADDRESS):
        fn = option(fn)
    return fn


def _add(app: AppState, service, **values) -> None:
    with app.uow() as ctx:
        row = service(ctx, **{k: v for k, v in values.items() if v is not None})
        emit_record({"id": row.id}, app.fmt)


def _list(app: AppState, service, columns: list[str]) -> None:
    with app.uow() as ctx:
        rows = service(ctx)
    emit([r.model_dump(include=set(columns)) for r in rows], app.fmt, columns=columns)


@click.group("location")
def location_group() -> None:
    """Service locations (facilities) of the practice."""


@location_group.command("add")
@click.argument("name")
@click.option("--npi", help="Service facility NPI, if it has its own.")
@click.option(
    "--pos",
    "default_pos",
    default="11",
    show_default=True,
    help="Default place-of-service code for its claims.",
)
@_address
@pass_state
def location_add(app: AppState, **values) -> None:
    """Add a location."""
    _add(app, practice.add_location, **values)


@location_group.command("list")
@pass_state
def location_list(app: AppState) -> None:
    """List active locations."""
    _list(app, practice.list_locations, ["id", "name", "npi", "default_pos", "city", "state"])


@click.group("provider")
def provider_group() -> None:
    """Rendering and billing providers."""


@provider_group.command("add")
@click.option("--first", "first_name", required=True)
@click.option("--last", "last_name", required=True)
@click.option("--npi", required=True, help="Individual NPI, 10 digits.")
@click.option("--taxonomy", required=True, help="e.g. 207Q00000X")
@click.option("--credential", help="e.g. MD, NP")
@pass_state
def provider_add(app: AppState, **values) -> None:
    """Add a provider."""
    _add(app, practice.add_provider, **values)


@provider_group.command("list")
@pass_state
def provider_list(app: AppState) -> None:
    """List active providers."""
    _list(
        app,
        practice.list_providers,
        ["id", "last_name", "first_name", "credential", "npi", "taxonomy"],
    )


@click.group("payer")
def payer_group() -> None:
    """Insurance payers the practice bills."""


@payer_group.command("add")
@click.argument("name")
@click.option("--edi-id", "edi_payer_id", required=True, help="The payer's EDI payer id.")
@click.option(
    "--filing",
    "claim_filing_indicator",
    default="CI",
    show_default=True,
    type=click.Choice(practice.CLAIM_FILING_INDICATORS),
    help="Claim filing indicator (X12 SBR09): CI commercial, MB Medicare B, ...",
)
@click.option("--address1")
@click.option("--city")
@click.option("--state")
@click.option("--zip")
@click.option("--phone")
@pass_state
def payer_add(app: AppState, **values) -> None:
    """Add a payer."""
    _add(app, practice.add_payer, **values)


@payer_group.command("list")
@pass_state
def payer_list(app: AppState) -> None:
    """List active payers (ids for 'pms coverage add --payer')."""
    _list(app, practice.list_payers, ["id", "name", "edi_payer_id", "claim_filing_indicator"])


def register(cli: click.Group) -> None:
    for group in (location_group, provider_group, payer_group):
        cli.add_command(group)
