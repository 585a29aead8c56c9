"""The EHR interface's inbound side: every message is logged, applied in a
savepoint, and answered with what became of it.

The HL7 plugin (`pms_hl7`) parses messages into the plain data below and calls
`receive()` with a handler; this module holds what the handlers do:

- `apply_patient`: ADT^A04/A08 register or update the patient the EHR's id is
  linked to (`PatientLink`), and the insurance it sends (IN1), through the
  same services and checks as the front desk;
- `merge_patients`: ADT^A40 folds the prior patient into the survivor when the
  prior one has no financial history; otherwise a person does it;
- `apply_appointment`: SIU^S12-S15 book, move, change or cancel an appointment
  by the EHR scheduler's id (the appointments importer's rules);
- `post_charges`: DFT^P03 open an encounter with the EHR's diagnoses and
  charges and post it.

Outcomes: applied (ACK AA); `NeedsPerson` and any business refusal
(ValidationError, NotFound, Conflict) leave the message `pending` for a person
(ACK AE, with the reason), who applies it again once the cause is fixed
(`reapply`) or marks it `resolved`; `Refused` (not a message pms takes) is
`rejected` (ACK AR). Reasons name fields, segments and ids, never PHI. A message whose
control id was already applied is answered AA again and not applied twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, or_
from sqlmodel import col, select

from pms_core import audit
from pms_core import validation as v
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, NotFound, PmsError, ValidationError
from pms_core.imports import Row
from pms_core.models import (
    Appointment,
    AppointmentSeries,
    Charge,
    Claim,
    Coverage,
    IntakeItem,
    InterfaceMessage,
    Patient,
    PatientLink,
    Payer,
    Payment,
    Posting,
    WaitlistEntry,
)
from pms_core.permissions import require
from pms_core.services import charges, coverages, patients
from pms_core.services.importers.appointments import AppointmentJob
from pms_core.services.patients import PossibleDuplicate

EHR = "ehr"

# The statements every message runs, built once (a listener applies hundreds a second).
_APPLIED_BEFORE = select(InterfaceMessage.id, InterfaceMessage.patient_id).where(
    InterfaceMessage.practice_id == bindparam("practice_id"),
    InterfaceMessage.direction == "in",
    InterfaceMessage.control_id == bindparam("control_id"),
    InterfaceMessage.status == "applied",
)
_LINKED = select(PatientLink.patient_id).where(
    PatientLink.practice_id == bindparam("practice_id"),
    PatientLink.system == EHR,
    PatientLink.external_id == bindparam("ehr_id"),
)
_PAYER = (
    select(Payer.id)
    .where(
        Payer.practice_id == bindparam("practice_id"),
        or_(
            func.upper(Payer.edi_payer_id) == bindparam("key"),
            func.upper(Payer.name) == bindparam("key"),
        ),
    )
    .limit(2)
)
_HELD = select(Coverage.id).where(
    Coverage.patient_id == bindparam("patient_id"),
    Coverage.payer_id == bindparam("payer_id"),
    Coverage.member_id_search == bindparam("member"),
)


def _run(ctx: Context, statement, **params):
    return ctx.session.connection().execute(statement, {"practice_id": ctx.practice_id, **params})


class Refused(PmsError):
    """Not a message pms can take (bad MSH, an event it does not handle, a
    required segment missing): ACK AR."""


class NeedsPerson(PmsError):
    """A valid message pms cannot apply on its own: ACK AE, kept for a person."""


@dataclass(frozen=True)
class Receipt:
    message_id: int
    ack_code: str  # AA, AE, AR
    reason: str = ""
    patient_id: int | None = None


def receive(
    ctx: Context,
    *,
    message_type: str,
    control_id: str,
    payload: str,
    handler: Callable[[Context], int | None] | None,
    channel: str = "mllp",
    refused: str = "",
) -> Receipt:
    """Log one inbound message and apply it with `handler` (which returns the
    patient it concerned); `handler` None with `refused` logs a message that
    could not be parsed. Commits with the caller's unit of work."""
    require(ctx, "patients:write", action="hl7.receive")
    now = ctx.clock.now()
    if control_id and handler is not None:
        earlier = _run(ctx, _APPLIED_BEFORE, control_id=control_id).first()
        if earlier is not None:
            return Receipt(earlier.id, "AA", "already applied", earlier.patient_id)
    status, ack, reason, patient_id = "rejected", "AR", refused, None
    if handler is not None:
        try:
            with ctx.session.begin_nested():
                patient_id = handler(ctx)
            status, ack, reason = "applied", "AA", ""
        except Refused as exc:
            reason = str(exc)
        except (NeedsPerson, ValidationError, NotFound, Conflict) as exc:
            status, ack, reason = "pending", "AE", str(exc)
    message = InterfaceMessage(
        practice_id=ctx.practice_id,
        direction="in",
        channel=channel,
        message_type=message_type[:12],
        control_id=control_id[:50],
        status=status,
        ack_code=ack,
        reason=reason[:300],
        patient_id=patient_id,
        payload=payload,
        received_at=now,
        processed_at=now,
    )
    ctx.session.add(message)
    ctx.session.flush()  # the message log is the record of what came in; what it
    # changed is audited by the services that changed it
    return Receipt(message.id, ack, reason, patient_id)


def _pending(ctx: Context, message_id: int) -> InterfaceMessage:
    message = ctx.session.exec(
        select(InterfaceMessage)
        .where(
            InterfaceMessage.id == message_id,
            InterfaceMessage.practice_id == ctx.practice_id,
            InterfaceMessage.direction == "in",
        )
        .with_for_update()
    ).first()
    if message is None:
        raise NotFound(f"interface message {message_id} not found")
    if message.status != "pending":
        raise Conflict(f"interface message {message_id} is {message.status}, not pending")
    return message


def reapply(
    ctx: Context, *, message_id: int, handler: Callable[[Context], int | None]
) -> InterfaceMessage:
    """Apply a pending message again (after a person fixed what stopped it: the
    patient registered, the payer or provider added). Applied, it is done;
    refused again, it stays pending with the new reason."""
    require(ctx, "patients:write", action="hl7.reapply")
    message = _pending(ctx, message_id)
    try:
        with ctx.session.begin_nested():
            message.patient_id = handler(ctx)
        message.status, message.ack_code, message.reason = "applied", "AA", ""
    except (NeedsPerson, ValidationError, NotFound, Conflict, Refused) as exc:
        message.reason = str(exc)[:300]
    message.processed_at = ctx.clock.now()
    ctx.session.add(message)
    ctx.session.flush()
    audit.record(
        ctx, action="hl7.reapply", patient_id=message.patient_id,
        detail={"message_id": message.id, "status": message.status},
    )  # fmt: skip
    return message


def resolve(ctx: Context, *, message_id: int) -> InterfaceMessage:
    """A person dealt with a pending message another way (entered by hand,
    or not needed): it leaves the worklist, kept with who and when."""
    require(ctx, "patients:write", action="hl7.resolve")
    message = _pending(ctx, message_id)
    message.status = "resolved"
    message.resolved_at, message.resolved_by_id = ctx.clock.now(), ctx.user.id
    ctx.session.add(message)
    ctx.session.flush()
    audit.record(ctx, action="hl7.resolve", detail={"message_id": message.id})
    return message


def list_messages(
    ctx: Context, *, status: str | None = None, direction: str = "in", limit: int = 100
) -> list[InterfaceMessage]:
    """Interface messages, newest first (`patients:read`: they hold PHI)."""
    require(ctx, "patients:read", action="hl7.messages")
    query = select(InterfaceMessage).where(
        InterfaceMessage.practice_id == ctx.practice_id, InterfaceMessage.direction == direction
    )
    if status:
        query = query.where(InterfaceMessage.status == status)
    return list(ctx.session.exec(query.order_by(col(InterfaceMessage.id).desc()).limit(limit)))


# --- patients -------------------------------------------------------------------------------
@dataclass
class PatientData:
    """What an ADT message says about a patient: the EHR's id, the patient's
    fields (`patients.PATIENT_FIELDS` names; only those the message carries)
    and the insurance (coverages' field names, `payer` as EDI id or name)."""

    ehr_id: str
    fields: dict[str, Any]
    insurance: list[dict[str, Any]] = field(default_factory=list)


def linked_patient(ctx: Context, ehr_id: str) -> int | None:
    return _run(ctx, _LINKED, ehr_id=ehr_id).scalar()


def _link(ctx: Context, patient_id: int, ehr_id: str) -> None:
    ctx.session.add(
        PatientLink(
            practice_id=ctx.practice_id,
            patient_id=patient_id,
            system=EHR,
            external_id=ehr_id,
            created_at=ctx.clock.now(),
        )
    )
    ctx.session.flush()


def apply_patient(ctx: Context, data: PatientData) -> int:
    """Register or update the EHR's patient, then its insurance. A new patient
    whose name and birth date match one on file is not registered twice: the
    message waits for a person to link them (NeedsPerson)."""
    if not data.ehr_id:
        raise Refused("PID-3 (the patient's id) is empty")
    patient_id = linked_patient(ctx, data.ehr_id)
    fields = {k: v for k, v in data.fields.items() if v is not None}
    if patient_id is None:
        fields.setdefault("account_number", data.ehr_id[:20])
        taken = ctx.session.exec(
            select(Patient).where(
                Patient.practice_id == ctx.practice_id,
                Patient.account_number == fields["account_number"],
            )
        ).first()
        if taken is not None:
            # The EHR uses pms's account numbers as its ids: the same person
            # (name and birth date) is linked; anyone else is a person's call.
            same = (
                v.fold(taken.last_name) == v.fold(fields.get("last_name"))
                and v.fold(taken.first_name) == v.fold(fields.get("first_name"))
                and taken.dob == fields.get("dob")
            )
            if not same:
                raise NeedsPerson(
                    f"PID-3: account number in use by patient {taken.id}, whose name or date "
                    "of birth differ: link them by hand"
                )
            patient_id = taken.id
            patients.update_patient(
                ctx, patient_id=patient_id, **_without(fields, "account_number")
            )
        else:
            try:
                patient_id = patients.register_patient(ctx, **fields).id
            except PossibleDuplicate as exc:
                ids = ", ".join(map(str, exc.patient_ids))
                raise NeedsPerson(
                    f"a patient with the same name and date of birth is on file (patient id "
                    f"{ids}): link them or register this one by hand"
                ) from None
        _link(ctx, patient_id, data.ehr_id)
    else:
        patients.update_patient(ctx, patient_id=patient_id, **_without(fields, "account_number"))
    for n, insurance in enumerate(data.insurance, start=1):
        _apply_insurance(ctx, patient_id, n, insurance)
    return patient_id


def _without(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in names}


def _payer_id(ctx: Context, text: str | None) -> int:
    """The payer an IN1 names by EDI payer id (IN1-3) or name (IN1-4)."""
    found = _run(ctx, _PAYER, key=(text or "").strip().upper()).scalars().all()
    if len(found) != 1:
        raise NeedsPerson(
            "IN1-3/IN1-4: " + ("two payers match" if found else "no payer of this practice matches")
        )
    return found[0]


def _apply_insurance(ctx: Context, patient_id: int, n: int, insurance: dict[str, Any]) -> None:
    """Add the coverage unless the patient has it (same payer and member id)."""
    payer_id = _payer_id(ctx, insurance.get("payer"))
    member = v.fold_member_id(insurance.get("member_id"))
    held = _run(ctx, _HELD, patient_id=patient_id, payer_id=payer_id, member=member).first()
    if held is not None:
        return
    try:
        coverages.add_coverage(
            ctx, patient_id=patient_id, payer_id=payer_id, **_without(insurance, "payer")
        )
    except ValidationError as exc:
        raise ValidationError(
            [FieldError(f"IN1 {n}: {e.field}", e.code, e.message) for e in exc.errors]
        ) from None


# --- merge ------------------------------------------------------------------------------------
_FINANCIAL = (
    (Charge, Charge.patient_id),
    (Claim, Claim.patient_id),
    (Posting, Posting.patient_id),
    (Payment, Payment.patient_id),
)
_MOVED = (
    (Appointment, "patient_id"),
    (AppointmentSeries, "patient_id"),
    (Coverage, "patient_id"),
    (IntakeItem, "patient_id"),
    (WaitlistEntry, "patient_id"),
    (PatientLink, "patient_id"),
    (Patient, "guarantor_id"),
)


def merge_patients(ctx: Context, *, survivor_ehr_id: str, prior_ehr_id: str) -> int:
    """ADT^A40: the prior patient's appointments, insurance, intake, waitlist
    entries and EHR links move to the survivor, and the prior patient is made
    inactive. Refused for a person when the prior patient has charges, claims,
    ledger entries or payments: money is moved by people, with entries."""
    require(ctx, "patients:write", action="patient.merge")
    survivor = linked_patient(ctx, survivor_ehr_id)
    prior = linked_patient(ctx, prior_ehr_id)
    if survivor is None or prior is None:
        which = "PID-3" if survivor is None else "MRG-1"
        raise NeedsPerson(f"{which}: no patient is linked to that EHR id")
    if survivor == prior:
        return survivor
    for model, column in _FINANCIAL:
        if ctx.session.exec(select(model.id).where(column == prior).limit(1)).first():
            raise NeedsPerson(
                f"patient {prior} has {model.__tablename__.replace('_', ' ')} records: "
                f"merge into patient {survivor} by hand"
            )
    for model, name in _MOVED:
        for row in ctx.session.exec(select(model).where(getattr(model, name) == prior)):
            setattr(row, name, survivor)
            ctx.session.add(row)
    old = ctx.session.get(Patient, prior)
    old.active = False
    ctx.session.add(old)
    ctx.session.flush()
    audit.record(
        ctx, action="patient.merge", patient_id=survivor, detail={"merged_patient_id": prior}
    )
    return survivor


# --- appointments ----------------------------------------------------------------------------
def apply_appointment(ctx: Context, *, ehr_id: str, values: dict[str, Any]) -> int:
    """SIU: upsert the appointment by the EHR's id (`values["external_id"]`)
    with the appointments importer's rules (provider by NPI, location and type
    by name, wall-clock start); `values` use the importer's column names."""
    require(ctx, "schedule:write", action="appointment.interface")
    patient_id = linked_patient(ctx, ehr_id)
    if patient_id is None:
        raise NeedsPerson("PID-3: no patient is linked to that EHR id")
    account = ctx.session.get(Patient, patient_id).account_number
    job = AppointmentJob(ctx)
    problems: list[str] = []

    def sink(_row: int, column: str, code: str, message: str) -> None:
        problems.append(f"{column}: {message}")

    job.check(Row(1, {**values, "account_number": account}, set(), sink))
    job.plan(sink)
    if problems:
        raise NeedsPerson("; ".join(problems))
    job.apply()
    return patient_id


# --- charges ------------------------------------------------------------------------------------
@dataclass
class ChargeLine:
    code: str
    modifiers: list[str]
    units: str
    diagnoses: list[str]


@dataclass
class Visit:
    """What a DFT^P03 says was done: the date, the rendering provider's NPI,
    the location (name), the diagnoses and the charges."""

    service_date: date | datetime
    provider_npi: str
    location: str | None
    diagnoses: list[str]
    lines: list[ChargeLine]


def post_charges(ctx: Context, *, ehr_id: str, visit: Visit) -> int:
    """Open an encounter with the visit's diagnoses and charges and post it."""
    from pms_core.models import Location, Provider

    patient_id = linked_patient(ctx, ehr_id)
    if patient_id is None:
        raise NeedsPerson("PID-3: no patient is linked to that EHR id; register them first")
    provider = ctx.session.exec(
        select(Provider.id).where(
            Provider.practice_id == ctx.practice_id, Provider.npi == visit.provider_npi
        )
    ).first()
    if provider is None:
        raise NeedsPerson("FT1-20: no provider of this practice has that NPI")
    locations = ctx.session.exec(
        select(Location).where(Location.practice_id == ctx.practice_id, col(Location.active))
    ).all()
    location = next(
        (
            loc.id
            for loc in locations
            if visit.location and loc.name.upper() == visit.location.upper()
        ),
        locations[0].id if len(locations) == 1 else None,
    )
    if location is None:
        raise NeedsPerson("PV1-3: no location of this practice has that name")
    diagnoses = list(
        dict.fromkeys(visit.diagnoses + [d for ln in visit.lines for d in ln.diagnoses])
    )
    day = (
        visit.service_date.date()
        if isinstance(visit.service_date, datetime)
        else visit.service_date
    )
    encounter = charges.create_encounter(
        ctx,
        patient_id=patient_id,
        provider_id=provider,
        location_id=location,
        date_of_service=day,
        diagnoses=diagnoses,
    )
    for line in visit.lines:
        pointers = [diagnoses.index(d) + 1 for d in line.diagnoses if d in diagnoses][:4] or [1]
        charges.add_charge(
            ctx,
            encounter_id=encounter.id,
            code=line.code,
            modifiers=line.modifiers,
            units=line.units,
            pointers=pointers,
        )
    charges.post_encounter(ctx, encounter_id=encounter.id)
    return patient_id
