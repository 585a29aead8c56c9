"""`pms encounter add|show|list|dx`, `pms charge add|list|post|remove|void`,
`pms feeschedule import|list` and `pms codes search|import`."""

from __future__ import annotations

import click

from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_cli.tabular import read_rows
from pms_core import codes
from pms_core.money import Money
from pms_core.services import charges, fees


def _split(values: tuple[str, ...]) -> list[str]:
    """Options given once with commas or several times: "E11.9,I10" or -d E11.9 -d I10."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def charge_row(c) -> dict:
    return {
        "id": c.id,
        "encounter_id": c.encounter_id,
        "line": c.line_number,
        "date": c.service_date,
        "code": c.code,
        "modifiers": ":".join(c.modifiers),
        "units": str(c.units.normalize()),
        "pointers": c.diagnosis_pointers,
        "amount": Money(c.amount_cents),
        "expected": Money(c.expected_cents) if c.expected_cents is not None else None,
        "status": c.status,
    }


# --- encounters ------------------------------------------------------------------------
@click.group("encounter")
def encounter_group() -> None:
    """Visits to bill: diagnoses and charges."""


@encounter_group.command("add")
@click.option("--patient", "patient_id", type=int, help="Patient id (or --appointment).")
@click.option("--appointment", "appointment_id", type=int, help="Bill this appointment.")
@click.option("--provider", "provider_id", type=int, help="Rendering provider id.")
@click.option("--location", "location_id", type=int)
@click.option("--date", "date_of_service", help="Date of service, YYYY-MM-DD.")
@click.option("-d", "--dx", "diagnoses", multiple=True, help="ICD-10-CM codes, principal first.")
@click.option("--pos", "place_of_service", help="Place of service (default: the location's).")
@click.option("--kind", "claim_kind", type=click.Choice(["837P", "837I"]), default="837P")
@click.option("--referring-npi")
@click.option("--referring-last", "referring_last_name")
@click.option("--referring-first", "referring_first_name")
@click.option("--prior-auth", "prior_authorization")
@click.option("--onset", "onset_date", help="Onset of the condition, YYYY-MM-DD.")
@click.option("--bill-type", "type_of_bill", help="837I: facility type + classification (13).")
@click.option("--patient-status", help="837I: discharge status code (01).")
@click.option("--attending", "attending_provider_id", type=int, help="837I: attending provider.")
@click.option("--through", "statement_to", help="837I: statement period end.")
@pass_state
def encounter_add(state: AppState, diagnoses, **fields) -> None:
    """Open an encounter with its diagnoses."""
    with state.uow() as ctx:
        enc = charges.create_encounter(ctx, diagnoses=_split(diagnoses), **fields)
        emit_record(
            {"id": enc.id, "patient_id": enc.patient_id, "date_of_service": enc.date_of_service},
            state.fmt,
        )


@encounter_group.command("dx")
@click.argument("encounter_id", type=int)
@click.argument("codes_", nargs=-1, required=True, metavar="ICD10...")
@pass_state
def encounter_dx(state: AppState, encounter_id: int, codes_) -> None:
    """Replace an encounter's diagnoses (principal first)."""
    with state.uow() as ctx:
        dx = charges.set_diagnoses(ctx, encounter_id=encounter_id, diagnoses=_split(codes_))
    emit([{"pointer": i, "code": codes.icd10_display(c)} for i, c in enumerate(dx, 1)], state.fmt)


@encounter_group.command("show")
@click.argument("encounter_id", type=int)
@pass_state
def encounter_show(state: AppState, encounter_id: int) -> None:
    """An encounter: diagnoses with their pointers, charges and total."""
    with state.uow() as ctx:
        view = charges.get_encounter(ctx, encounter_id=encounter_id)
    e = view.encounter
    if state.fmt in ("json", "jsonl"):
        emit_record(
            {
                "id": e.id,
                "patient_id": e.patient_id,
                "provider_id": e.provider_id,
                "location_id": e.location_id,
                "date_of_service": e.date_of_service,
                "place_of_service": e.place_of_service,
                "kind": e.claim_kind,
                "status": e.status,
                "diagnoses": [codes.icd10_display(c) for c, _ in view.diagnoses],
                "charges": [charge_row(c) for c in view.charges],
                "total": view.total,
            },
            state.fmt,
        )
        return
    emit_record(
        {
            "encounter": e.id,
            "patient": e.patient_id,
            "date of service": e.date_of_service,
            "place of service": e.place_of_service,
            "kind": e.claim_kind,
            "status": e.status,
            "total": view.total,
        },
        state.fmt,
    )
    emit(
        [
            {"pointer": i, "code": codes.icd10_display(c), "description": d}
            for i, (c, d) in enumerate(view.diagnoses, 1)
        ],
        state.fmt,
        title="Diagnoses",
    )
    emit([charge_row(c) for c in view.charges], state.fmt, title="Charges")


@encounter_group.command("list")
@click.option("--patient", "patient_id", type=int)
@click.option("--status", type=click.Choice(["open", "posted", "void"]))
@click.option("--from", "date_from")
@click.option("--to", "date_to")
@pass_state
def encounter_list(state: AppState, **filters) -> None:
    """Encounters, newest first."""
    from pms_core import validation as v

    for key in ("date_from", "date_to"):
        if filters[key]:
            parsed, err = v.parse_date(key, filters[key])
            if err:
                raise click.BadParameter(err.message, param_hint=f"--{key[5:]}")
            filters[key] = parsed
    with state.uow() as ctx:
        rows = charges.list_encounters(ctx, **filters)
    emit(
        [
            {
                "id": e.id,
                "patient_id": e.patient_id,
                "date": e.date_of_service,
                "provider_id": e.provider_id,
                "kind": e.claim_kind,
                "status": e.status,
            }
            for e in rows
        ],
        state.fmt,
    )


# --- charges ------------------------------------------------------------------------------
@click.group("charge")
def charge_group() -> None:
    """Charges (service lines) of encounters."""


@charge_group.command("add")
@click.argument("encounter_id", type=int)
@click.argument("code")
@click.option("-m", "--modifier", "modifiers", multiple=True, help="Up to four (or 25,59).")
@click.option("-p", "--pointer", "pointers", multiple=True, help="Diagnosis pointers (1,2).")
@click.option("--units", default="1", show_default=True)
@click.option("--minutes", is_flag=True, help="Units are minutes (anesthesia).")
@click.option("--date", "service_date")
@click.option("--through", "service_date_end")
@click.option("--pos", "place_of_service", help="Only when it differs from the encounter's.")
@click.option("--ndc")
@click.option("--ndc-qty", "ndc_quantity")
@click.option("--ndc-unit", type=click.Choice(codes.NDC_UNITS))
@click.option("--rendering", "rendering_provider_id", type=int)
@click.option("--revenue-code", help="837I: four digits.")
@click.option("--amount", help="Total charge, instead of the fee schedule's price.")
@pass_state
def charge_add(state: AppState, encounter_id, code, modifiers, pointers, minutes, **fields) -> None:
    """Add a charge, priced from the fee schedule."""
    with state.uow() as ctx:
        c = charges.add_charge(
            ctx,
            encounter_id=encounter_id,
            code=code,
            modifiers=_split(modifiers),
            pointers=_split(pointers) or ["1"],
            unit_basis="MJ" if minutes else "UN",
            **fields,
        )
        emit_record(charge_row(c), state.fmt)


@charge_group.command("list")
@click.option("--patient", "patient_id", type=int)
@click.option("--encounter", "encounter_id", type=int)
@click.option("--status", type=click.Choice(["draft", "posted", "void"]))
@pass_state
def charge_list(state: AppState, **filters) -> None:
    """Charges, newest first."""
    with state.uow() as ctx:
        rows = charges.list_charges(ctx, **filters)
    emit([charge_row(c) for c in rows], state.fmt)


@charge_group.command("post")
@click.argument("encounter_ids", type=int, nargs=-1, required=True)
@pass_state
def charge_post(state: AppState, encounter_ids) -> None:
    """Post encounters' draft charges to the ledger."""
    out = []
    for encounter_id in encounter_ids:
        with state.uow() as ctx:
            posted = charges.post_encounter(ctx, encounter_id=encounter_id)
        out += [charge_row(c) for c in posted]
    emit(out, state.fmt)


@charge_group.command("remove")
@click.argument("charge_id", type=int)
@pass_state
def charge_remove(state: AppState, charge_id: int) -> None:
    """Delete a draft charge."""
    with state.uow() as ctx:
        charges.remove_charge(ctx, charge_id=charge_id)
    click.echo(f"Removed charge {charge_id}.", err=True)


@charge_group.command("void")
@click.argument("charge_id", type=int)
@click.option("--reason", required=True)
@pass_state
def charge_void(state: AppState, charge_id: int, reason: str) -> None:
    """Void a posted charge (a reversing entry dated today)."""
    with state.uow() as ctx:
        c = charges.void_charge(ctx, charge_id=charge_id, reason=reason)
        emit_record(charge_row(c), state.fmt)


# --- fee schedules and codes ------------------------------------------------------------------
@click.group("feeschedule")
def feeschedule_group() -> None:
    """The practice's fees and payers' contracted amounts."""


@feeschedule_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@pass_state
def feeschedule_import(state: AppState, path: str) -> None:
    """Import a CSV or XLSX file: code, modifier, amount, payer (blank = default)."""
    rows = read_rows(state.pm, path)
    with state.uow() as ctx:
        result = fees.import_fee_schedule(ctx, rows=rows)
    emit_record(result.__dict__, state.fmt)


@feeschedule_group.command("list")
@click.option("--payer", "payer_id", type=int)
@click.option("--code")
@pass_state
def feeschedule_list(state: AppState, payer_id, code) -> None:
    """Fee schedule items."""
    with state.uow() as ctx:
        rows = fees.list_fees(ctx, payer_id=payer_id, code=code)
    emit(
        [
            {
                "schedule": r.schedule,
                "payer_id": r.payer_id,
                "code": r.code,
                "modifier": r.modifier,
                "amount": Money(r.amount_cents),
            }
            for r in rows
        ],
        state.fmt,
    )


@click.group("codes")
def codes_group() -> None:
    """Code sets: ICD-10-CM, CPT/HCPCS, modifiers, CARC and RARC."""


@codes_group.command("search")
@click.argument("code_set", type=click.Choice(["icd10", "cpt"]))
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", default=25, show_default=True)
@pass_state
def codes_search(state: AppState, code_set: str, text, limit: int) -> None:
    """Find codes by code prefix or words ("diabetes kidney")."""
    words = " ".join(text)
    if code_set == "icd10":
        found = [(codes.icd10_display(c), d) for c, d in codes.search_icd10(words, limit)]
    else:
        with state.uow() as ctx:
            found = fees.search_procedures(ctx, text=words, limit=limit)
    emit(
        [{"code": c, "description": d} for c, d in found],
        state.fmt,
        columns=["code", "description"],
    )


@codes_group.command("import")
@click.argument("code_set", type=click.Choice(fees.CODE_SETS))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@pass_state
def codes_import(state: AppState, code_set: str, path: str) -> None:
    """Import a code list (CSV/XLSX with code and description columns)."""
    rows = read_rows(state.pm, path)
    with state.uow() as ctx:
        result = fees.import_codes(ctx, code_set=code_set, rows=rows)
    emit_record(result.__dict__, state.fmt)


def register(cli: click.Group) -> None:
    for group in (encounter_group, charge_group, feeschedule_group, codes_group):
        cli.add_command(group)
