"""Charge capture: encounters, their diagnoses and charges, posting to the ledger.

An encounter is a visit to bill (from an appointment or standalone). Its
diagnoses are ICD-10-CM codes that must be billable; its charges are service
lines priced by a `price_service` plugin or the practice's fee schedule.
Charges are drafts until `post_encounter` writes them to the ledger in one
entry: each charge debits insurance A/R (the primary coverage on the date of
service) or patient A/R (no coverage), and credits gross charges. A posted
charge never changes; `void_charge` cancels it with an entry of its own.

Every function checks its permission and writes one audit event with ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select

from pms_core import audit, codes, ledger
from pms_core import validation as v
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.ledger import Account, Line
from pms_core.models import (
    Appointment,
    Charge,
    CodeEntry,
    Coverage,
    Encounter,
    EncounterDiagnosis,
    FeeSchedule,
    FeeScheduleItem,
    Location,
    Patient,
    Provider,
)
from pms_core.money import Money, MoneyError
from pms_core.permissions import require

CLAIM_KINDS = ("837P", "837I")
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_MODIFIERS = 4
UNIT_BASES = ("UN", "MJ")  # units, minutes (anesthesia)


# --- reading ------------------------------------------------------------------------
@dataclass(frozen=True)
class EncounterView:
    encounter: Encounter
    diagnoses: list[tuple[str, str | None]]  # (code without dot, description)
    charges: list[Charge]

    @property
    def total(self) -> Money:
        return Money.sum(Money(c.amount_cents) for c in self.charges if c.status != "void")


def get_encounter(ctx: Context, *, encounter_id: int) -> EncounterView:
    """An encounter with its diagnoses and charges (`charges:write` or `claims:read`)."""
    encounter = _encounter(ctx, encounter_id, lock=False)
    _require_any(ctx, ("charges:write", "claims:read"), "encounter.read", encounter.patient_id)
    view = _view(ctx, encounter)
    audit.record_read(
        ctx,
        action="encounter.read",
        patient_id=encounter.patient_id,
        detail={"encounter_id": encounter.id},
    )
    return view


def list_encounters(
    ctx: Context,
    *,
    patient_id: int | None = None,
    status: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 200,
) -> list[Encounter]:
    """Encounters of this practice, newest first, filtered."""
    _require_any(ctx, ("charges:write", "claims:read"), "encounter.list", patient_id)
    query = select(Encounter).where(Encounter.practice_id == ctx.practice_id)
    if patient_id is not None:
        query = query.where(Encounter.patient_id == patient_id)
    if status is not None:
        query = query.where(Encounter.status == status)
    if date_from is not None:
        query = query.where(Encounter.date_of_service >= date_from)
    if date_to is not None:
        query = query.where(Encounter.date_of_service <= date_to)
    rows = list(
        ctx.session.exec(
            query.order_by(col(Encounter.date_of_service).desc(), col(Encounter.id).desc()).limit(
                limit
            )
        )
    )
    audit.record_read(
        ctx,
        action="encounter.list",
        patient_id=patient_id,
        detail={"encounter_ids": [e.id for e in rows]},
    )
    return rows


def list_charges(
    ctx: Context,
    *,
    patient_id: int | None = None,
    encounter_id: int | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[Charge]:
    """Charges of this practice, newest first, filtered."""
    _require_any(ctx, ("charges:write", "claims:read"), "charge.list", patient_id)
    query = select(Charge).where(Charge.practice_id == ctx.practice_id)
    if patient_id is not None:
        query = query.where(Charge.patient_id == patient_id)
    if encounter_id is not None:
        query = query.where(Charge.encounter_id == encounter_id)
    if status is not None:
        query = query.where(Charge.status == status)
    rows = list(
        ctx.session.exec(
            query.order_by(col(Charge.service_date).desc(), col(Charge.id).desc()).limit(limit)
        )
    )
    audit.record_read(
        ctx, action="charge.list", patient_id=patient_id, detail={"results": len(rows)}
    )
    return rows


# --- encounters ---------------------------------------------------------------------
def create_encounter(
    ctx: Context,
    *,
    patient_id: int | None = None,
    provider_id: int | None = None,
    location_id: int | None = None,
    date_of_service: date | str | None = None,
    appointment_id: int | None = None,
    diagnoses: list[str] | tuple[str, ...] = (),
    place_of_service: str | None = None,
    claim_kind: str = "837P",
    referring_npi: str | None = None,
    referring_last_name: str | None = None,
    referring_first_name: str | None = None,
    prior_authorization: str | None = None,
    onset_date: date | str | None = None,
    type_of_bill: str | None = None,
    statement_to: date | str | None = None,
    patient_status: str | None = None,
    attending_provider_id: int | None = None,
    admission_date: date | str | None = None,
    admission_type: str | None = None,
    admission_source: str | None = None,
) -> Encounter:
    """Open an encounter. From an appointment, the patient, provider, location and
    date of service default to the appointment's. Diagnoses (ICD-10-CM, with or
    without the dot, principal first) must be billable. Institutional (837I)
    encounters need a type of bill (two digits, e.g. "13" hospital outpatient),
    a patient status and an attending provider. Every bad field is reported at
    once; nothing is saved then."""
    require(ctx, "charges:write", action="encounter.create", patient_id=patient_id)
    errors: list[FieldError] = []
    if appointment_id is not None:
        appt = ctx.session.get(Appointment, appointment_id)
        if appt is None or appt.practice_id != ctx.practice_id:
            raise NotFound(f"appointment {appointment_id} not found")
        if appt.status in ("cancelled", "no_show"):
            errors.append(
                FieldError("appointment_id", "not_seen", f"appointment {appt.id} is {appt.status}")
            )
        taken = ctx.session.exec(
            select(Encounter.id).where(Encounter.appointment_id == appointment_id)
        ).first()
        if taken is not None:
            raise Conflict(f"appointment {appointment_id} already has encounter {taken}")
        patient_id = patient_id or appt.patient_id
        provider_id = provider_id or appt.provider_id
        location_id = location_id or appt.location_id
        date_of_service = date_of_service or appt.starts_at.astimezone(ctx.zone()).date()
    today = ctx.today()
    dos, err = _date("date_of_service", date_of_service, today, required=True)
    errors += [err] if err else []
    onset, err = _date("onset_date", onset_date, today)
    errors += [err] if err else []
    stmt_to, err = _date("statement_to", statement_to, today)
    errors += [err] if err else []
    admitted, err = _date("admission_date", admission_date, today)
    errors += [err] if err else []
    patient = _practice_row(ctx, Patient, patient_id, "patient_id", errors)
    provider = _practice_row(ctx, Provider, provider_id, "provider_id", errors)
    location = _practice_row(ctx, Location, location_id, "location_id", errors)
    if patient is not None and not patient.active:
        errors.append(FieldError("patient_id", "inactive", f"patient {patient.id} is inactive"))
    pos = place_of_service or (location.default_pos if location else None)
    if pos is not None and pos not in codes.PLACE_OF_SERVICE:
        errors.append(FieldError("place_of_service", "unknown", f"{pos} is not a place of service"))
    if claim_kind not in CLAIM_KINDS:
        errors.append(FieldError("claim_kind", "choice", "must be 837P or 837I"))
    errors += _referring_errors(referring_npi, referring_last_name)
    dx, dx_errors = _diagnoses(diagnoses)
    errors += dx_errors
    if claim_kind == "837I":
        if not (type_of_bill and len(type_of_bill) == 2 and type_of_bill.isdigit()):
            errors.append(
                FieldError("type_of_bill", "required", "two digits, e.g. 13 (hospital outpatient)")
            )
        if not (patient_status and len(patient_status) == 2 and patient_status.isdigit()):
            errors.append(
                FieldError("patient_status", "required", "two digits, e.g. 01 (discharged home)")
            )
        if attending_provider_id is None:
            errors.append(FieldError("attending_provider_id", "required", "an 837I needs one"))
        else:
            _practice_row(ctx, Provider, attending_provider_id, "attending_provider_id", errors)
        if stmt_to is not None and dos is not None and stmt_to < dos:
            errors.append(FieldError("statement_to", "range", "is before the date of service"))
    if errors:
        raise ValidationError(errors)
    encounter = Encounter(
        practice_id=ctx.practice_id,
        patient_id=patient.id,
        appointment_id=appointment_id,
        provider_id=provider.id,
        location_id=location.id,
        date_of_service=dos,
        place_of_service=pos,
        claim_kind=claim_kind,
        referring_npi=referring_npi or None,
        referring_last_name=(referring_last_name or None) and referring_last_name.strip(),
        referring_first_name=(referring_first_name or None) and referring_first_name.strip(),
        prior_authorization=prior_authorization or None,
        onset_date=onset,
        type_of_bill=type_of_bill if claim_kind == "837I" else None,
        statement_to=stmt_to if claim_kind == "837I" else None,
        patient_status=patient_status if claim_kind == "837I" else None,
        attending_provider_id=attending_provider_id if claim_kind == "837I" else None,
        admission_date=admitted,
        admission_type=admission_type or None,
        admission_source=admission_source or None,
        created_by_id=ctx.user.id if ctx.user else None,
        created_at=ctx.clock.now(),
    )
    errors = v.too_long(
        {
            "referring_last_name": encounter.referring_last_name,
            "referring_first_name": encounter.referring_first_name,
            "prior_authorization": encounter.prior_authorization,
        },
        Encounter,
    )
    if errors:
        raise ValidationError(errors)
    ctx.session.add(encounter)
    ctx.session.flush()
    _write_diagnoses(ctx, encounter.id, dx)
    audit.record(
        ctx,
        action="encounter.create",
        patient_id=encounter.patient_id,
        detail={"encounter_id": encounter.id},
    )
    return encounter


def set_diagnoses(ctx: Context, *, encounter_id: int, diagnoses: list[str]) -> list[str]:
    """Replace an encounter's diagnoses (principal first). Refused while a draft
    charge points past the new list; posted charges keep the codes they were
    posted with only through their claims, so an encounter with posted charges
    may change its diagnoses only by correcting the claim afterwards."""
    encounter = _encounter(ctx, encounter_id, lock=True)
    require(ctx, "charges:write", action="encounter.diagnoses", patient_id=encounter.patient_id)
    _refuse_void(encounter)
    dx, errors = _diagnoses(diagnoses)
    if errors:
        raise ValidationError(errors)
    for charge in _charges(ctx, encounter.id):
        if charge.status == "void":
            continue
        for i, pointer in enumerate(charge.pointers):
            if pointer > len(dx):
                errors.append(
                    FieldError(
                        f"charge {charge.line_number} pointer {i + 1}",
                        "dangling",
                        f"points at diagnosis {pointer}; the new list has {len(dx)}",
                    )
                )
    if errors:
        raise ValidationError(errors)
    for row in ctx.session.exec(
        select(EncounterDiagnosis).where(EncounterDiagnosis.encounter_id == encounter.id)
    ):
        ctx.session.delete(row)
    ctx.session.flush()
    _write_diagnoses(ctx, encounter.id, dx)
    audit.record(
        ctx,
        action="encounter.diagnoses",
        patient_id=encounter.patient_id,
        detail={"encounter_id": encounter.id, "count": len(dx)},
    )
    return dx


def add_charge(
    ctx: Context,
    *,
    encounter_id: int,
    code: str,
    modifiers: list[str] | tuple[str, ...] = (),
    units: str | int | Decimal = 1,
    pointers: list[int] | tuple[int, ...] = (1,),
    unit_basis: str = "UN",
    service_date: date | str | None = None,
    service_date_end: date | str | None = None,
    place_of_service: str | None = None,
    ndc: str | None = None,
    ndc_quantity: str | Decimal | None = None,
    ndc_unit: str | None = None,
    rendering_provider_id: int | None = None,
    revenue_code: str | None = None,
    amount: Money | str | None = None,
) -> Charge:
    """Add a draft charge (service line) to an encounter.

    The code must be a CPT/HCPCS code the practice knows (an imported code list
    or its fee schedule); modifiers must be valid; pointers (1 to 4) must point
    at the encounter's diagnoses. The unit price comes from `price_service`
    plugins, else the practice fee schedule (code with the first modifier, then
    the code alone); `amount` overrides the total. The expected (contracted)
    amount comes from the primary payer's schedule. Every bad field is reported
    at once and nothing is saved."""
    encounter = _encounter(ctx, encounter_id, lock=True)
    require(ctx, "charges:write", action="charge.create", patient_id=encounter.patient_id)
    _refuse_void(encounter)
    today = ctx.today()
    errors: list[FieldError] = []
    code = (code or "").strip().upper()
    mods = tuple(m.strip().upper() for m in modifiers if m and m.strip())
    errors += _code_errors(ctx, code)
    errors += _modifier_errors(ctx, mods)
    n_dx = len(_diagnosis_codes(ctx, encounter.id))
    ptrs, ptr_errors = _pointers(pointers, n_dx)
    errors += ptr_errors
    qty, err = _decimal("units", units, places=3, positive=True)
    errors += [err] if err else []
    if unit_basis not in UNIT_BASES:
        errors.append(FieldError("unit_basis", "choice", "UN (units) or MJ (minutes)"))
    start, err = _date("service_date", service_date or encounter.date_of_service, today)
    errors += [err] if err else []
    end, err = _date("service_date_end", service_date_end, today)
    errors += [err] if err else []
    if start and end and end < start:
        errors.append(FieldError("service_date_end", "range", "is before service_date"))
    if place_of_service is not None and place_of_service not in codes.PLACE_OF_SERVICE:
        errors.append(
            FieldError(
                "place_of_service", "unknown", f"{place_of_service} is not a place of service"
            )
        )
    ndc_qty = None
    if ndc or ndc_quantity or ndc_unit:
        ndc = v.digits(ndc)
        if len(ndc) != 11:
            errors.append(FieldError("ndc", "format", "an NDC is 11 digits (5-4-2)"))
        ndc_qty, err = _decimal("ndc_quantity", ndc_quantity, places=3, positive=True)
        errors += [err] if err else []
        if ndc_unit not in codes.NDC_UNITS:
            errors.append(FieldError("ndc_unit", "choice", f"one of {', '.join(codes.NDC_UNITS)}"))
    if rendering_provider_id is not None:
        _practice_row(ctx, Provider, rendering_provider_id, "rendering_provider_id", errors)
    if encounter.claim_kind == "837I":
        if not (revenue_code and len(revenue_code) == 4 and revenue_code.isdigit()):
            errors.append(FieldError("revenue_code", "required", "four digits, e.g. 0510"))
    elif revenue_code:
        errors.append(FieldError("revenue_code", "not_allowed", "only 837I charges have one"))
    if errors:
        raise ValidationError(errors)

    coverage = primary_coverage(ctx, encounter.patient_id, start)
    payer_id = coverage.payer_id if coverage else None
    if amount is not None:
        total = _money("amount", amount)
        unit_price = total
    else:
        unit_price = price_service(ctx, code, mods, payer_id)
        if unit_price is None:
            raise ValidationError(
                [
                    FieldError(
                        "code",
                        "no_fee",
                        f"{code} has no fee in the practice fee schedule; give an amount",
                    )
                ]
            )
        total = line_amount(unit_price, qty)
    if total.cents <= 0:
        raise ValidationError([FieldError("amount", "range", "must be more than 0.00")])
    expected = expected_amount(ctx, code, mods, payer_id)
    line_number = (
        ctx.session.exec(
            select(func.coalesce(func.max(Charge.line_number), 0)).where(
                Charge.encounter_id == encounter.id
            )
        ).one()
        + 1
    )
    charge = Charge(
        practice_id=ctx.practice_id,
        encounter_id=encounter.id,
        patient_id=encounter.patient_id,
        line_number=line_number,
        code=code,
        modifier1=mods[0] if len(mods) > 0 else None,
        modifier2=mods[1] if len(mods) > 1 else None,
        modifier3=mods[2] if len(mods) > 2 else None,
        modifier4=mods[3] if len(mods) > 3 else None,
        units=qty,
        unit_basis=unit_basis,
        unit_price_cents=unit_price.cents,
        amount_cents=total.cents,
        expected_cents=line_amount(expected, qty).cents if expected is not None else None,
        diagnosis_pointers=",".join(str(p) for p in ptrs),
        service_date=start,
        service_date_end=end if end and end != start else None,
        place_of_service=place_of_service
        if place_of_service and place_of_service != encounter.place_of_service
        else None,
        ndc=ndc or None,
        ndc_quantity=ndc_qty,
        ndc_unit=ndc_unit if ndc else None,
        rendering_provider_id=rendering_provider_id
        if rendering_provider_id != encounter.provider_id
        else None,
        revenue_code=revenue_code or None,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(charge)
    ctx.session.flush()
    audit.record(
        ctx,
        action="charge.create",
        patient_id=encounter.patient_id,
        detail={"encounter_id": encounter.id, "charge_id": charge.id},
    )
    return charge


def remove_charge(ctx: Context, *, charge_id: int) -> None:
    """Delete a draft charge (never a posted one: void that instead)."""
    charge = _charge(ctx, charge_id)
    require(ctx, "charges:write", action="charge.remove", patient_id=charge.patient_id)
    if charge.status != "draft":
        raise Conflict(f"charge {charge_id} is {charge.status}; void a posted charge instead")
    ctx.session.delete(charge)
    ctx.session.flush()
    audit.record(
        ctx, action="charge.remove", patient_id=charge.patient_id, detail={"charge_id": charge_id}
    )


def post_encounter(ctx: Context, *, encounter_id: int) -> list[Charge]:
    """Post an encounter's draft charges to the ledger in one entry, dated the
    date of service. Each charge goes to the primary coverage's payer on its
    date of service (insurance A/R), or to the patient when there is none.
    Refused when there is nothing to post or no diagnosis."""
    encounter = _encounter(ctx, encounter_id, lock=True)
    require(ctx, "charges:post", action="charge.post", patient_id=encounter.patient_id)
    _refuse_void(encounter)
    drafts = [c for c in _charges(ctx, encounter.id) if c.status == "draft"]
    if not drafts:
        raise Conflict(f"encounter {encounter_id} has no draft charges to post")
    n_dx = len(_diagnosis_codes(ctx, encounter.id))
    if n_dx == 0:
        raise ValidationError([FieldError("diagnoses", "required", "add at least one diagnosis")])
    lines: list[Line] = []
    for charge in drafts:
        _, errors = _pointers(charge.pointers, n_dx)
        if errors:
            raise ValidationError(
                [
                    FieldError(f"charge {charge.line_number} {e.field}", e.code, e.message)
                    for e in errors
                ]
            )
        coverage = primary_coverage(ctx, encounter.patient_id, charge.service_date)
        amount = Money(charge.amount_cents)
        provider_id = charge.rendering_provider_id or encounter.provider_id
        common = dict(
            patient_id=encounter.patient_id,
            provider_id=provider_id,
            location_id=encounter.location_id,
            charge_id=charge.id,
        )
        if coverage is not None:
            receivable = Line(
                Account.AR_INSURANCE,
                amount,
                coverage_id=coverage.id,
                payer_id=coverage.payer_id,
                **common,
            )
        else:
            receivable = Line(Account.AR_PATIENT, amount, **common)
        lines += [receivable, Line(Account.CHARGES, -amount, **common)]
    entry = ledger.post(
        ctx,
        entry_date=encounter.date_of_service,
        kind="charge",
        lines=lines,
        memo=f"charges of encounter {encounter.id}",
    )
    for charge in drafts:
        charge.status = "posted"
        charge.posted_entry_id = entry.id
        ctx.session.add(charge)
    encounter.status = "posted"
    encounter.posted_at = ctx.clock.now()
    ctx.session.add(encounter)
    ctx.session.flush()
    audit.record(
        ctx,
        action="charge.post",
        patient_id=encounter.patient_id,
        detail={"encounter_id": encounter.id, "entry_id": entry.id, "charges": len(drafts)},
    )
    ctx.notify("charges_posted", encounter_id=encounter.id, charge_ids=[c.id for c in drafts])
    return drafts


def void_charge(ctx: Context, *, charge_id: int, reason: str) -> Charge:
    """Cancel a posted charge: an entry dated today negates its postings. The
    charge stays on record as void; a claim that carried it needs a correction
    (or a void) to tell the payer."""
    charge = _charge(ctx, charge_id, lock=True)
    require(ctx, "charges:post", action="charge.void", patient_id=charge.patient_id)
    if charge.status != "posted":
        raise Conflict(f"charge {charge_id} is {charge.status}; only a posted charge can be voided")
    reason = (reason or "").strip()
    if not reason or len(reason) > 150:
        raise ValidationError([FieldError("reason", "required", "1 to 150 characters")])
    from pms_core.models import Posting

    postings = ctx.session.exec(
        select(Posting).where(
            Posting.entry_id == charge.posted_entry_id, Posting.charge_id == charge.id
        )
    ).all()
    lines = [
        Line(
            Account(p.account),
            Money(-p.amount_cents),
            patient_id=p.patient_id,
            coverage_id=p.coverage_id,
            payer_id=p.payer_id,
            provider_id=p.provider_id,
            location_id=p.location_id,
            charge_id=p.charge_id,
        )
        for p in postings
    ]
    entry = ledger.post(
        ctx,
        entry_date=ctx.today(),
        kind="charge_void",
        lines=lines,
        memo=f"void charge {charge.id}: {reason}"[:200],
    )
    charge.status = "void"
    charge.void_entry_id = entry.id
    ctx.session.add(charge)
    ctx.session.flush()
    audit.record(
        ctx,
        action="charge.void",
        patient_id=charge.patient_id,
        detail={"charge_id": charge.id, "entry_id": entry.id},
    )
    return charge


# --- pricing ------------------------------------------------------------------------
def price_service(
    ctx: Context, code: str, modifiers: tuple[str, ...], payer_id: int | None
) -> Money | None:
    """One unit's charge: the first `price_service` plugin answer, else the
    practice default fee schedule (code with its first modifier, then the code)."""
    answer = ctx.pm.hook.price_service(ctx=ctx, code=code, modifiers=modifiers, payer_id=payer_id)
    if answer is not None:
        return answer if isinstance(answer, Money) else Money(int(answer))
    return _schedule_price(ctx, None, code, modifiers)


def expected_amount(
    ctx: Context, code: str, modifiers: tuple[str, ...], payer_id: int | None
) -> Money | None:
    """One unit's contracted amount in the payer's schedule, if it has one."""
    if payer_id is None:
        return None
    return _schedule_price(ctx, payer_id, code, modifiers)


def _schedule_price(
    ctx: Context, payer_id: int | None, code: str, modifiers: tuple[str, ...]
) -> Money | None:
    schedule = ctx.session.exec(
        select(FeeSchedule.id).where(
            FeeSchedule.practice_id == ctx.practice_id,
            FeeSchedule.payer_id.is_(None)
            if payer_id is None
            else FeeSchedule.payer_id == payer_id,
        )
    ).first()
    if schedule is None:
        return None
    candidates = ([modifiers[0]] if modifiers else []) + [""]
    rows = dict(
        ctx.session.exec(
            select(FeeScheduleItem.modifier, FeeScheduleItem.amount_cents).where(
                FeeScheduleItem.schedule_id == schedule,
                FeeScheduleItem.code == code,
                col(FeeScheduleItem.modifier).in_(candidates),
            )
        ).all()
    )
    for modifier in candidates:
        if modifier in rows:
            return Money(rows[modifier])
    return None


def primary_coverage(ctx: Context, patient_id: int, on: date) -> Coverage | None:
    """The patient's active primary coverage on a date, if any."""
    return ctx.session.exec(
        select(Coverage)
        .where(
            Coverage.practice_id == ctx.practice_id,
            Coverage.patient_id == patient_id,
            Coverage.priority == 1,
            col(Coverage.active).is_(True),
            Coverage.effective_date <= on,
            or_(col(Coverage.termination_date).is_(None), Coverage.termination_date >= on),
        )
        .order_by(col(Coverage.effective_date).desc())
    ).first()


def known_modifiers(ctx: Context) -> frozenset[str]:
    """Built-in modifiers plus imported ones."""
    imported = ctx.session.exec(
        select(CodeEntry.code).where(CodeEntry.code_set == "modifier", col(CodeEntry.active))
    ).all()
    return codes.BUILTIN_MODIFIERS | frozenset(imported)


def known_procedure_codes(ctx: Context) -> frozenset[str] | None:
    """CPT/HCPCS codes from imported lists and this practice's fee schedules; None
    when neither exists (then only a code's shape can be checked)."""
    listed = ctx.session.exec(
        select(CodeEntry.code).where(
            col(CodeEntry.code_set).in_(("cpt", "hcpcs")), col(CodeEntry.active)
        )
    ).all()
    priced = ctx.session.exec(
        select(FeeScheduleItem.code)
        .join(FeeSchedule, FeeSchedule.id == FeeScheduleItem.schedule_id)
        .where(FeeSchedule.practice_id == ctx.practice_id)
        .distinct()
    ).all()
    if not listed and not priced:
        return None
    return frozenset(listed) | frozenset(priced)


# --- helpers ------------------------------------------------------------------------
def _require_any(ctx: Context, permissions: tuple[str, ...], action: str, patient_id) -> None:
    from pms_core.permissions import role_allows

    if ctx.user is not None and not ctx.user.disabled:
        for permission in permissions:
            if role_allows(ctx.user.role, permission):
                return
    require(ctx, permissions[0], action=action, patient_id=patient_id)


def _encounter(ctx: Context, encounter_id: int, *, lock: bool) -> Encounter:
    encounter = ctx.session.get(Encounter, encounter_id, with_for_update=lock or None)
    if encounter is None or encounter.practice_id != ctx.practice_id:
        raise NotFound(f"encounter {encounter_id} not found")
    return encounter


def _charge(ctx: Context, charge_id: int, *, lock: bool = False) -> Charge:
    charge = ctx.session.get(Charge, charge_id, with_for_update=lock or None)
    if charge is None or charge.practice_id != ctx.practice_id:
        raise NotFound(f"charge {charge_id} not found")
    return charge


def _charges(ctx: Context, encounter_id: int) -> list[Charge]:
    return list(
        ctx.session.exec(
            select(Charge).where(Charge.encounter_id == encounter_id).order_by(Charge.line_number)
        )
    )


def _diagnosis_codes(ctx: Context, encounter_id: int) -> list[str]:
    return list(
        ctx.session.exec(
            select(EncounterDiagnosis.code)
            .where(EncounterDiagnosis.encounter_id == encounter_id)
            .order_by(EncounterDiagnosis.position)
        )
    )


def _view(ctx: Context, encounter: Encounter) -> EncounterView:
    return EncounterView(
        encounter,
        [(c, codes.icd10_description(c)) for c in _diagnosis_codes(ctx, encounter.id)],
        _charges(ctx, encounter.id),
    )


def _write_diagnoses(ctx: Context, encounter_id: int, dx: list[str]) -> None:
    ctx.session.add_all(
        EncounterDiagnosis(encounter_id=encounter_id, position=i, code=code)
        for i, code in enumerate(dx, start=1)
    )
    ctx.session.flush()


def _refuse_void(encounter: Encounter) -> None:
    if encounter.status == "void":
        raise Conflict(f"encounter {encounter.id} is void")


def _practice_row(ctx: Context, model, row_id: int | None, field: str, errors: list) -> Any:
    if row_id is None:
        errors.append(FieldError(field, "required", "is required"))
        return None
    row = ctx.session.get(model, row_id)
    if row is None or row.practice_id != ctx.practice_id:
        errors.append(FieldError(field, "not_found", f"{row_id} not found in this practice"))
        return None
    return row


def _date(field: str, value, today: date, *, required: bool = False):
    if value is None or value == "":
        if required:
            return None, FieldError(field, "required", "is required")
        return None, None
    parsed, err = v.parse_date(field, value)
    if err:
        return None, err
    if parsed > today:
        return None, FieldError(field, "future", "is in the future")
    return parsed, None


def _diagnoses(values) -> tuple[list[str], list[FieldError]]:
    errors: list[FieldError] = []
    out: list[str] = []
    for i, raw in enumerate(values, start=1):
        code = codes.normalize_icd10(raw or "")
        field = f"diagnosis {i}"
        status = codes.icd10_status(code) if code else "unknown"
        if status == "unknown":
            errors.append(
                FieldError(field, "unknown", f"{code or '(blank)'} is not an ICD-10-CM code")
            )
        elif status == "header":
            errors.append(
                FieldError(
                    field,
                    "not_billable",
                    f"{codes.icd10_display(code)} is a category; choose a more specific code",
                )
            )
        elif code in out:
            errors.append(
                FieldError(field, "duplicate", f"{codes.icd10_display(code)} is listed twice")
            )
        else:
            out.append(code)
    if len(values) > MAX_DIAGNOSES:
        errors.append(FieldError("diagnoses", "too_many", f"at most {MAX_DIAGNOSES}"))
    return out, errors


def _pointers(values, n_dx: int) -> tuple[list[int], list[FieldError]]:
    errors: list[FieldError] = []
    out: list[int] = []
    values = list(values)
    if not values:
        errors.append(FieldError("pointers", "required", "point at 1 to 4 diagnoses"))
    if len(values) > MAX_POINTERS:
        errors.append(FieldError("pointers", "too_many", f"at most {MAX_POINTERS} pointers"))
    for i, raw in enumerate(values, start=1):
        try:
            pointer = int(raw)
        except (TypeError, ValueError):
            errors.append(FieldError(f"pointer {i}", "format", "must be a number 1 to 12"))
            continue
        if not 1 <= pointer <= n_dx:
            errors.append(
                FieldError(
                    f"pointer {i}",
                    "dangling",
                    f"points at diagnosis {pointer}; the encounter has {n_dx}",
                )
            )
        elif pointer in out:
            errors.append(FieldError(f"pointer {i}", "duplicate", f"diagnosis {pointer} twice"))
        else:
            out.append(pointer)
    return out, errors


def _code_errors(ctx: Context, code: str) -> list[FieldError]:
    if codes.procedure_kind(code) is None:
        return [FieldError("code", "format", f"{code or '(blank)'} is not a CPT or HCPCS code")]
    listed = select(CodeEntry.code).where(
        col(CodeEntry.code_set).in_(("cpt", "hcpcs")), col(CodeEntry.active)
    )
    priced = (
        select(FeeScheduleItem.code)
        .join(FeeSchedule, FeeSchedule.id == FeeScheduleItem.schedule_id)
        .where(FeeSchedule.practice_id == ctx.practice_id)
    )
    known = ctx.session.exec(listed.where(CodeEntry.code == code).limit(1)).first() or (
        ctx.session.exec(priced.where(FeeScheduleItem.code == code).limit(1)).first()
    )
    if known is None and (
        ctx.session.exec(listed.limit(1)).first() or ctx.session.exec(priced.limit(1)).first()
    ):
        return [
            FieldError(
                "code", "unknown", f"{code} is not in the practice's code list or fee schedule"
            )
        ]
    return []


def _modifier_errors(ctx: Context, mods: tuple[str, ...]) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(mods) > MAX_MODIFIERS:
        errors.append(FieldError("modifiers", "too_many", f"at most {MAX_MODIFIERS}"))
    valid = known_modifiers(ctx)
    for i, m in enumerate(mods, start=1):
        if m not in valid:
            errors.append(FieldError(f"modifier {i}", "unknown", f"{m} is not a valid modifier"))
        elif m in mods[: i - 1]:
            errors.append(FieldError(f"modifier {i}", "duplicate", f"{m} is listed twice"))
    return errors


def _referring_errors(npi: str | None, last_name: str | None) -> list[FieldError]:
    if not npi and not last_name:
        return []
    errors = []
    err = v.npi_error("referring_npi", npi)
    if err:
        errors.append(err)
    if not (last_name or "").strip():
        errors.append(FieldError("referring_last_name", "required", "a referring provider's name"))
    return errors


def _decimal(field: str, value, *, places: int, positive: bool):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, FieldError(field, "format", "must be a number")
    if not number.is_finite() or (positive and number <= 0):
        return None, FieldError(field, "range", "must be more than 0")
    if -number.as_tuple().exponent > places:
        return None, FieldError(field, "format", f"at most {places} decimal places")
    if number >= Decimal(10**6):
        return None, FieldError(field, "range", "is too large")
    return number, None


def _money(field: str, value: Money | str) -> Money:
    if isinstance(value, Money):
        return value
    try:
        return Money.parse(str(value))
    except MoneyError as exc:
        raise ValidationError([FieldError(field, "format", str(exc))]) from None


def line_amount(price: Money, quantity: Decimal) -> Money:
    """A line's charge: unit price x units, rounded once, half-up, to the cent."""
    value = (Decimal(price.cents) * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(int(value))
