"""pms records as FHIR resources, each built as a plain dict and then checked by
constructing the `fhir.resources` model (R4B: FHIR 4.3, the release of the R4
line that has maintained Python models; Patient, Coverage, Appointment, Claim
and ExplanationOfBenefit are the same shape as in 4.0.1 for what pms writes).

Ids are pms ids as text; references point at resources of the same export
(Patient/12, Coverage/40, Claim/7), and at Practitioner, Location and
Organization resources by pms id with a display name. Identifiers carry the
office's own keys: the account number (type MR), the member id, the claim
number, the appointment's external id, the payer's EDI id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from pms_core.context import Context
from pms_core.models import (
    Appointment,
    AppointmentType,
    Charge,
    Claim,
    ClaimDiagnosis,
    ClaimLine,
    Coverage,
    Patient,
    Payer,
    Provider,
    RemittanceClaim,
    RemittanceLine,
)
from pms_core.models.remit import Remittance
from pms_core.money import Money

ACCOUNT_SYSTEM = "urn:pms:account-number"
MEMBER_SYSTEM = "urn:pms:member-id"
PAYER_SYSTEM = "urn:pms:edi-payer-id"
CLAIM_SYSTEM = "urn:pms:claim-number"
APPOINTMENT_SYSTEM = "urn:pms:appointment-external-id"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
GENDERS = {"F": "female", "M": "male", "U": "unknown"}
APPOINTMENT_STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "arrived": "arrived",
    "in_room": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
RESOURCE_TYPES = ("Patient", "Coverage", "Appointment", "Claim", "ExplanationOfBenefit")


def model(resource_type: str):
    """The fhir.resources model class of a resource type."""
    from importlib import import_module

    return getattr(import_module(f"fhir.resources.R4B.{resource_type.lower()}"), resource_type)


def _money(cents: int) -> dict[str, Any]:
    return {"value": Decimal(str(Money(cents))), "currency": "USD"}


def _instant(value) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, [], {}, "")}


def _stream(ctx: Context, query):
    return ctx.session.exec(query.execution_options(yield_per=2_000))


# --- Patient ------------------------------------------------------------------------------
def patient(p: Patient) -> dict[str, Any]:
    telecom = [
        {"system": "phone", "value": p.home_phone, "use": "home"} if p.home_phone else None,
        {"system": "phone", "value": p.mobile_phone, "use": "mobile"} if p.mobile_phone else None,
        {"system": "email", "value": p.email} if p.email else None,
    ]
    return _drop_empty(
        {
            "resourceType": "Patient",
            "id": str(p.id),
            "identifier": [
                {
                    "use": "usual",
                    "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
                    "system": ACCOUNT_SYSTEM,
                    "value": p.account_number,
                }
            ],
            "active": p.active,
            "name": [
                _drop_empty(
                    {
                        "use": "official",
                        "family": p.last_name,
                        "given": [n for n in (p.first_name, p.middle_name) if n],
                        "suffix": [p.suffix] if p.suffix else None,
                    }
                )
            ],
            "telecom": [t for t in telecom if t],
            "gender": GENDERS.get(p.sex, "unknown"),
            "birthDate": p.dob.isoformat(),
            "deceasedDateTime": p.deceased_date.isoformat() if p.deceased_date else None,
            "address": [
                _drop_empty(
                    {
                        "use": "home",
                        "line": [line for line in (p.address1, p.address2) if line],
                        "city": p.city,
                        "state": p.state,
                        "postalCode": p.zip,
                        "country": "US",
                    }
                )
            ],
        }
    )


def patients(ctx: Context) -> Iterator[dict[str, Any]]:
    query = select(Patient).where(Patient.practice_id == ctx.practice_id).order_by(Patient.id)
    for p in _stream(ctx, query):
        yield patient(p)


# --- Coverage -----------------------------------------------------------------------------
def coverage(c: Coverage, payer: Payer) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": str(c.id),
        "identifier": [{"system": MEMBER_SYSTEM, "value": c.member_id}],
        "status": "active" if c.active else "cancelled",
        "subscriberId": c.member_id,
        "beneficiary": {"reference": f"Patient/{c.patient_id}"},
        "relationship": {"coding": [{"system": RELATIONSHIP, "code": c.relationship}]},
        "period": _drop_empty(
            {
                "start": c.effective_date.isoformat(),
                "end": c.termination_date.isoformat() if c.termination_date else None,
            }
        ),
        "payor": [
            {
                "reference": f"Organization/{payer.id}",
                "identifier": {"system": PAYER_SYSTEM, "value": payer.edi_payer_id},
                "display": payer.name,
            }
        ],
        "order": c.priority,
    }
    classes = []
    if c.group_number:
        classes.append(_class("group", c.group_number, None))
    if c.plan_name:
        classes.append(_class("plan", c.plan_name, c.plan_name))
    if classes:
        data["class"] = classes
    if c.copay_cents:
        data["costToBeneficiary"] = [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/coverage-copay-type",
                            "code": "copay",
                        }
                    ]
                },  # noqa: E501
                "valueMoney": _money(c.copay_cents),
            }
        ]
    if c.relationship != "self":
        data["contained"] = [
            _drop_empty(
                {
                    "resourceType": "RelatedPerson",
                    "id": "subscriber",
                    "patient": {"reference": f"Patient/{c.patient_id}"},
                    "name": [
                        {"family": c.subscriber_last_name, "given": [c.subscriber_first_name]}
                    ],
                    "gender": GENDERS.get(c.subscriber_sex or "U", "unknown"),
                    "birthDate": c.subscriber_dob.isoformat() if c.subscriber_dob else None,
                }
            )
        ]
        data["subscriber"] = {"reference": "#subscriber"}
    return data


def _class(kind: str, value: str, name: str | None) -> dict[str, Any]:
    return _drop_empty(
        {
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": kind}
                ]
            },
            "value": value,
            "name": name,
        }
    )


def coverages(ctx: Context) -> Iterator[dict[str, Any]]:
    query = (
        select(Coverage, Payer)
        .join(Payer, col(Payer.id) == Coverage.payer_id)
        .where(Coverage.practice_id == ctx.practice_id)
        .order_by(Coverage.id)
    )
    for c, payer in _stream(ctx, query):
        yield coverage(c, payer)


# --- Appointment --------------------------------------------------------------------------
def appointments(ctx: Context) -> Iterator[dict[str, Any]]:
    query = (
        select(Appointment, AppointmentType.name, Provider)
        .join(AppointmentType, col(AppointmentType.id) == Appointment.appointment_type_id)
        .join(Provider, col(Provider.id) == Appointment.provider_id)
        .where(Appointment.practice_id == ctx.practice_id)
        .order_by(Appointment.id)
    )
    for a, type_name, provider in _stream(ctx, query):
        status = APPOINTMENT_STATUS[a.status]
        yield _drop_empty(
            {
                "resourceType": "Appointment",
                "id": str(a.id),
                "identifier": (
                    [{"system": APPOINTMENT_SYSTEM, "value": a.external_id}]
                    if a.external_id
                    else None
                ),
                "status": status,
                "appointmentType": {"text": type_name},
                "start": _instant(a.starts_at),
                "end": _instant(a.ends_at),
                "minutesDuration": int((a.ends_at - a.starts_at).total_seconds() // 60),
                "created": a.created_at.astimezone(UTC).date().isoformat(),
                "comment": a.note,
                "participant": [
                    {"actor": {"reference": f"Patient/{a.patient_id}"}, "status": "accepted"},
                    {
                        "actor": {
                            "reference": f"Practitioner/{provider.id}",
                            "display": f"{provider.first_name} {provider.last_name}",
                        },
                        "status": "accepted",
                    },
                    {"actor": {"reference": f"Location/{a.location_id}"}, "status": "accepted"},
                ],
            }
        )


# --- Claim and ExplanationOfBenefit -------------------------------------------------------
def _claim_type(kind: str) -> dict[str, Any]:
    code = "institutional" if kind == "837I" else "professional"
    return {"coding": [{"system": CLAIM_TYPE, "code": code}]}


def claims(ctx: Context) -> Iterator[dict[str, Any]]:
    query = select(Claim).where(Claim.practice_id == ctx.practice_id).order_by(Claim.id)
    for claim in _stream(ctx, query):
        diagnoses = ctx.session.exec(
            select(ClaimDiagnosis)
            .where(ClaimDiagnosis.claim_id == claim.id)
            .order_by(ClaimDiagnosis.position)
        ).all()
        lines = ctx.session.exec(
            select(ClaimLine, Charge)
            .join(Charge, col(Charge.id) == ClaimLine.charge_id)
            .where(ClaimLine.claim_id == claim.id)
            .order_by(ClaimLine.line_number)
        ).all()
        yield {
            "resourceType": "Claim",
            "id": str(claim.id),
            "identifier": [{"system": CLAIM_SYSTEM, "value": claim.claim_number}],
            "status": "cancelled" if claim.frequency == "8" else "active",
            "type": _claim_type(claim.kind),
            "use": "claim",
            "patient": {"reference": f"Patient/{claim.patient_id}"},
            "billablePeriod": {
                "start": claim.service_from.isoformat(),
                "end": claim.service_to.isoformat(),
            },
            "created": _instant(claim.created_at),
            "insurer": {"reference": f"Organization/{claim.payer_id}"},
            "provider": {"reference": f"Practitioner/{claim.provider_id}"},
            "priority": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                        "code": "normal",
                    }
                ]
            },
            "insurance": [
                {
                    "sequence": 1,
                    "focal": True,
                    "coverage": {"reference": f"Coverage/{claim.coverage_id}"},
                }
            ],
            "diagnosis": [
                {
                    "sequence": d.position,
                    "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": d.code}]},
                }
                for d in diagnoses
            ],
            "item": [
                _drop_empty(
                    {
                        "sequence": line.line_number,
                        "diagnosisSequence": [
                            int(p) for p in line.diagnosis_pointers if p.isdigit()
                        ],
                        "productOrService": {"coding": [{"system": CPT, "code": charge.code}]},
                        "modifier": [
                            {"coding": [{"code": m}]}
                            for m in (
                                charge.modifier1,
                                charge.modifier2,
                                charge.modifier3,
                                charge.modifier4,
                            )
                            if m
                        ],
                        "servicedDate": charge.service_date.isoformat(),
                        "quantity": {"value": charge.units},
                        "net": _money(line.charge_cents),
                    }
                )
                for line, charge in lines
            ],
            "total": _money(claim.total_cents),
        }


def _adjudication(code: str, cents: int) -> dict[str, Any]:
    return {
        "category": {"coding": [{"system": ADJUDICATION, "code": code}]},
        "amount": _money(cents),
    }


def explanations(ctx: Context) -> Iterator[dict[str, Any]]:
    """One ExplanationOfBenefit per claim payment (835 CLP) matched to a claim."""
    query = (
        select(RemittanceClaim, Claim, Remittance)
        .join(Claim, col(Claim.id) == RemittanceClaim.claim_id)
        .join(Remittance, col(Remittance.id) == RemittanceClaim.remittance_id)
        .where(RemittanceClaim.practice_id == ctx.practice_id)
        .order_by(RemittanceClaim.id)
    )
    for paid, claim, remit in _stream(ctx, query):
        lines = ctx.session.exec(
            select(RemittanceLine)
            .where(RemittanceLine.remittance_claim_id == paid.id)
            .order_by(RemittanceLine.position)
        ).all()
        yield _drop_empty(
            {
                "resourceType": "ExplanationOfBenefit",
                "id": str(paid.id),
                "identifier": (
                    [{"system": "urn:pms:payer-claim-number", "value": paid.payer_claim_number}]
                    if paid.payer_claim_number
                    else None
                ),
                "status": "active",
                "type": _claim_type(claim.kind),
                "use": "claim",
                "patient": {"reference": f"Patient/{claim.patient_id}"},
                "created": _instant(remit.received_at),
                "insurer": {
                    "reference": f"Organization/{claim.payer_id}",
                    "display": remit.payer_name or None,
                },
                "provider": {"reference": f"Practitioner/{claim.provider_id}"},
                "claim": {"reference": f"Claim/{claim.id}"},
                "outcome": "complete",
                "insurance": [
                    {"focal": True, "coverage": {"reference": f"Coverage/{claim.coverage_id}"}}
                ],
                "item": [
                    _drop_empty(
                        {
                            "sequence": n,
                            "productOrService": {
                                "coding": [{"system": CPT, "code": line.procedure}]
                            },
                            "modifier": [
                                {"coding": [{"code": m}]} for m in line.modifiers.split(",") if m
                            ],
                            "servicedDate": (
                                line.service_from.isoformat() if line.service_from else None
                            ),
                            "adjudication": [
                                _adjudication("submitted", line.charge_cents),
                                _adjudication("benefit", line.paid_cents),
                            ],
                        }
                    )
                    for n, line in enumerate(lines, start=1)
                ],
                "total": [
                    _adjudication("submitted", paid.charge_cents),
                    _adjudication("benefit", paid.paid_cents),
                ],
                "payment": {
                    "amount": _money(paid.paid_cents),
                    "date": remit.payment_date.isoformat() if remit.payment_date else None,
                },
            }
        )


BUILDERS = {
    "Patient": patients,
    "Coverage": coverages,
    "Appointment": appointments,
    "Claim": claims,
    "ExplanationOfBenefit": explanations,
}
