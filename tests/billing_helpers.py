"""Builders for charge and claim tests: a patient with insurance, a fee
schedule, and encounters with charges. All data is synthetic."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pms_core.services import charges, coverages, fees, patients

DOS = date(2026, 2, 20)  # the `clock` fixture stands at 2026-03-02

FEES = [
    {"code": "99213", "amount": "125.00"},
    {"code": "99214", "amount": "180.00"},
    {"code": "99214", "modifier": "25", "amount": "185.00"},
    {"code": "36415", "amount": "15.00"},
    {"code": "81002", "amount": "12.50"},
    {"code": "J1885", "amount": "3.33"},
    {"code": "93000", "amount": "55.00"},
    {"code": "97110", "amount": "48.00"},
    {"code": "99213", "amount": "92.10", "payer": "ACME1"},
    {"code": "36415", "amount": "9.00", "payer": "ACME1"},
]


@dataclass
class Billing:
    patient_id: int
    coverage_id: int
    payer_id: int
    dependent_id: int = 0
    self_pay_id: int = 0
    extra: dict = field(default_factory=dict)


def register(ctx, first: str, last: str, dob: str, **extra) -> int:
    return patients.register_patient(
        ctx,
        first_name=first,
        last_name=last,
        dob=dob,
        sex=extra.pop("sex", "F"),
        address1="12 Synthetic Ln",
        city="Springfield",
        state="IL",
        zip="62704",
        mobile_phone="2175550111",
        allow_duplicate=True,
        **extra,
    ).id


def setup_billing(uow, practice) -> Billing:
    """A subscriber with primary insurance, a dependent child on the parent's
    plan, a self-pay patient, and the practice's and Acme's fee schedules."""
    with uow("admin") as ctx:
        fees.import_fee_schedule(ctx, rows=FEES)
        pid = register(ctx, "Testana", "Claimwell", "1980-04-12")
        cov = coverages.add_coverage(
            ctx,
            patient_id=pid,
            payer_id=practice.payer_ids[0],
            member_id="ACM100200300",
            group_number="GRP77",
            effective_date="2025-01-01",
        )
        kid = register(ctx, "Testkid", "Claimwell", "2015-06-01", sex="M")
        coverages.add_coverage(
            ctx,
            patient_id=kid,
            payer_id=practice.payer_ids[0],
            member_id="ACM100200301",
            group_number="GRP77",
            effective_date="2025-01-01",
            relationship="child",
            subscriber_first_name="Testana",
            subscriber_last_name="Claimwell",
            subscriber_dob="1980-04-12",
            subscriber_sex="F",
        )
        cash = register(ctx, "Testcash", "Nocover", "1975-01-30")
    return Billing(pid, cov.id, practice.payer_ids[0], kid, cash)


def visit(
    uow,
    practice,
    patient_id: int,
    lines=(("99213", (), 1),),
    *,
    diagnoses=("E11.9", "I10"),
    post: bool = True,
    on: date = DOS,
    **encounter,
) -> int:
    """An encounter with charges (code, modifiers, pointers), posted by default."""
    with uow("biller") as ctx:
        enc = charges.create_encounter(
            ctx,
            patient_id=patient_id,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            date_of_service=on,
            diagnoses=list(diagnoses),
            **encounter,
        )
        for code, mods, pointers in lines:
            pointers = (pointers,) if isinstance(pointers, int) else pointers
            charges.add_charge(
                ctx, encounter_id=enc.id, code=code, modifiers=list(mods), pointers=pointers
            )
        if post:
            charges.post_encounter(ctx, encounter_id=enc.id)
        return enc.id
