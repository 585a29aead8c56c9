"""Charge capture: encounters, diagnoses, charges, pricing, posting and voids,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

from pms_core import ledger
from pms_core.errors import Conflict, PermissionDenied, ValidationError
from pms_core.hookspecs import hookimpl
from pms_core.ledger import Account
from pms_core.models import Charge, Encounter, EncounterDiagnosis, JournalEntry, Posting
from pms_core.money import Money
from pms_core.plugins import get_plugin_manager
from pms_core.services import charges, fees
from tests.billing_helpers import DOS, setup_billing, visit


@pytest.fixture
def billing(uow, practice):
    return setup_billing(uow, practice)


def refused(call, *fields):
    with pytest.raises(ValidationError) as caught:
        call()
    assert set(fields) <= caught.value.fields, caught.value.errors
    return caught.value


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


# --- encounters ------------------------------------------------------------------------
def test_an_encounter_needs_billable_diagnoses_and_says_which_is_wrong(
    engine, uow, practice, billing
):
    def open_with(diagnoses):
        with uow("biller") as ctx:
            return charges.create_encounter(
                ctx,
                patient_id=billing.patient_id,
                provider_id=practice.provider_id,
                location_id=practice.location_id,
                date_of_service=DOS,
                diagnoses=diagnoses,
            )

    error = refused(lambda: open_with(["E11.9", "E11", "ZZZ.9", "e119"]), "diagnosis 2")
    assert {e.field: e.code for e in error.errors} == {
        "diagnosis 2": "not_billable",
        "diagnosis 3": "unknown",
        "diagnosis 4": "duplicate",
    }
    assert "E11" in str(error) and "more specific" in str(error)
    assert count(engine, Encounter) == 0
    enc = open_with(["e11.9", "I10"])
    with Session(engine) as s:
        stored = s.exec(
            select(EncounterDiagnosis.code)
            .where(EncounterDiagnosis.encounter_id == enc.id)
            .order_by(EncounterDiagnosis.position)
        ).all()
    assert stored == ["E119", "I10"]
    assert enc.place_of_service == "11"  # the location's default


def test_an_encounter_from_an_appointment_takes_its_patient_provider_place_and_day(
    engine, uow, practice, billing
):
    from datetime import UTC, datetime

    from pms_core.models import Appointment
    from pms_core.services import schedule_setup

    with uow("admin") as ctx:
        type_id = schedule_setup.add_appointment_type(ctx, name="Visit", duration_minutes=30).id
    with Session(engine) as s:
        appt = Appointment(
            practice_id=practice.id,
            patient_id=billing.patient_id,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            appointment_type_id=type_id,
            starts_at=datetime(2026, 2, 27, 3, 30, tzinfo=UTC),  # 21:30 on the 26th in Chicago
            ends_at=datetime(2026, 2, 27, 4, 0, tzinfo=UTC),
            status="completed",
        )
        s.add(appt)
        s.commit()
        appt_id = appt.id
    with uow("biller") as ctx:
        enc = charges.create_encounter(ctx, appointment_id=appt_id, diagnoses=["J06.9"])
    assert (enc.patient_id, enc.provider_id, enc.date_of_service) == (
        billing.patient_id,
        practice.provider_id,
        date(2026, 2, 26),
    )
    with pytest.raises(Conflict, match="already has encounter"), uow("biller") as ctx:
        charges.create_encounter(ctx, appointment_id=appt_id, diagnoses=["J06.9"])


def test_future_dates_unknown_places_and_bad_referring_npis_are_refused(uow, practice, billing):
    with uow("biller") as ctx:
        refused(
            lambda: charges.create_encounter(
                ctx,
                patient_id=billing.patient_id,
                provider_id=practice.provider_id,
                location_id=practice.location_id,
                date_of_service=date(2026, 3, 3),
                place_of_service="00",
                referring_npi="1234567890",
                diagnoses=["I10"],
            ),
            "date_of_service",
            "place_of_service",
            "referring_npi",
            "referring_last_name",
        )


def test_an_institutional_encounter_needs_its_bill_type_status_and_attending(
    uow, practice, billing
):
    with uow("biller") as ctx:
        refused(
            lambda: charges.create_encounter(
                ctx,
                patient_id=billing.patient_id,
                provider_id=practice.provider_id,
                location_id=practice.location_id,
                date_of_service=DOS,
                claim_kind="837I",
                diagnoses=["I10"],
            ),
            "type_of_bill",
            "patient_status",
            "attending_provider_id",
        )


# --- charges ------------------------------------------------------------------------------
def test_a_charge_with_an_unknown_code_bad_modifier_or_dangling_pointer_is_refused(
    engine, uow, practice, billing
):
    enc = visit(uow, practice, billing.patient_id, lines=(), post=False)
    with uow("biller") as ctx:
        error = refused(
            lambda: charges.add_charge(
                ctx, encounter_id=enc, code="99999", modifiers=["Q!", "25", "25"], pointers=[1, 3]
            ),
            "code",
            "modifier 1",
            "modifier 3",
            "pointer 2",
        )
        assert "99999 is not in the practice's code list" in str(error)
        refused(lambda: charges.add_charge(ctx, encounter_id=enc, code="ABC"), "code")
        refused(lambda: charges.add_charge(ctx, encounter_id=enc, code="99213", units="0"), "units")
        refused(
            lambda: charges.add_charge(ctx, encounter_id=enc, code="99213", pointers=[]), "pointers"
        )
        refused(
            lambda: charges.add_charge(
                ctx, encounter_id=enc, code="99213", pointers=[1, 2, 1, 2, 1]
            ),
            "pointers",
        )
    assert count(engine, Charge) == 0


def test_charges_are_priced_from_the_fee_schedule_and_expected_from_the_payer_contract(
    uow, practice, billing
):
    enc = visit(uow, practice, billing.patient_id, lines=(), post=False)
    with uow("biller") as ctx:
        office = charges.add_charge(ctx, encounter_id=enc, code="99213")
        with_25 = charges.add_charge(ctx, encounter_id=enc, code="99214", modifiers=["25"])
        plain_59 = charges.add_charge(ctx, encounter_id=enc, code="36415", modifiers=["59"])
        drug = charges.add_charge(ctx, encounter_id=enc, code="J1885", units="2.5", pointers=[2])
        typed = charges.add_charge(ctx, encounter_id=enc, code="93000", amount="61.25")
    assert (office.amount_cents, office.expected_cents) == (12500, 9210)
    assert with_25.amount_cents == 18500  # the modifier's own price wins
    assert (plain_59.amount_cents, plain_59.expected_cents) == (1500, 900)  # falls back
    assert drug.units == Decimal("2.5") and drug.amount_cents == 833  # 3.33 x 2.5 = 8.325, half-up
    assert typed.amount_cents == 6125 and typed.expected_cents is None
    assert [c.line_number for c in (office, with_25, plain_59, drug, typed)] == [1, 2, 3, 4, 5]


def test_a_price_service_plugin_prices_before_the_fee_schedule(engine, practice, billing, clock):
    from pms_core.context import unit_of_work

    class Contracted:
        @hookimpl
        def price_service(self, ctx, code, modifiers, payer_id):
            return Money(4200) if code == "99213" and payer_id == billing.payer_id else None

    pm = get_plugin_manager(extra=(Contracted(),))
    with unit_of_work(engine, user_id=practice.users["biller"], pm=pm, clock=clock) as ctx:
        enc = charges.create_encounter(
            ctx,
            patient_id=billing.patient_id,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            date_of_service=DOS,
            diagnoses=["I10"],
        )
        assert charges.add_charge(ctx, encounter_id=enc.id, code="99213").amount_cents == 4200
        assert charges.add_charge(ctx, encounter_id=enc.id, code="36415").amount_cents == 1500


def test_a_code_with_no_fee_needs_an_amount(uow, practice, billing):
    with uow("admin") as ctx:
        fees.import_codes(ctx, code_set="cpt", rows=[{"code": "99401", "description": "Counsel"}])
    enc = visit(uow, practice, billing.patient_id, lines=(), post=False)
    with uow("biller") as ctx:
        error = refused(lambda: charges.add_charge(ctx, encounter_id=enc, code="99401"), "code")
        assert "no fee" in str(error)
        assert (
            charges.add_charge(ctx, encounter_id=enc, code="99401", amount="40").amount_cents
            == 4000
        )


# --- posting -------------------------------------------------------------------------------
def test_posting_bills_the_primary_payer_in_one_balanced_entry(engine, uow, practice, billing):
    enc = visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), (1, 2))))
    with Session(engine) as s:
        (entry,) = s.exec(select(JournalEntry).where(JournalEntry.kind == "charge")).all()
        postings = s.exec(select(Posting).where(Posting.entry_id == entry.id)).all()
        posted = s.exec(select(Charge).where(Charge.encounter_id == enc)).all()
    assert entry.entry_date == DOS
    assert sum(p.amount_cents for p in postings) == 0
    insurance = [p for p in postings if p.account == Account.AR_INSURANCE]
    assert sorted(p.amount_cents for p in insurance) == [1500, 12500]
    assert {(p.payer_id, p.coverage_id) for p in insurance} == {
        (billing.payer_id, billing.coverage_id)
    }
    assert {p.charge_id for p in postings} == {c.id for c in posted}
    assert all(c.status == "posted" and c.posted_entry_id == entry.id for c in posted)
    with Session(engine) as s:
        owed = ledger.patient_balance(s, practice.id, billing.patient_id)
    assert (owed.insurance.cents, owed.patient.cents) == (14000, 0)


def test_a_patient_without_coverage_owes_the_charges_themselves(engine, uow, practice, billing):
    visit(uow, practice, billing.self_pay_id)
    with Session(engine) as s:
        owed = ledger.patient_balance(s, practice.id, billing.self_pay_id)
    assert (owed.patient.cents, owed.insurance.cents) == (12500, 0)


def test_posting_twice_posts_nothing_more_and_posted_charges_cannot_be_removed(
    engine, uow, practice, billing
):
    enc = visit(uow, practice, billing.patient_id)
    with pytest.raises(Conflict, match="no draft charges"), uow("biller") as ctx:
        charges.post_encounter(ctx, encounter_id=enc)
    with Session(engine) as s:
        charge_id = s.exec(select(Charge.id).where(Charge.encounter_id == enc)).one()
    with pytest.raises(Conflict, match="void a posted charge"), uow("biller") as ctx:
        charges.remove_charge(ctx, charge_id=charge_id)
    assert count(engine, JournalEntry) == 1


def test_a_voided_charge_is_cancelled_by_its_own_entry_and_keeps_the_other_lines(
    engine, uow, practice, billing
):
    enc = visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 1)))
    with Session(engine) as s:
        first, second = s.exec(
            select(Charge).where(Charge.encounter_id == enc).order_by(Charge.line_number)
        ).all()
    with uow("biller") as ctx:
        refused(lambda: charges.void_charge(ctx, charge_id=second.id, reason=""), "reason")
    with uow("biller") as ctx:
        charges.void_charge(ctx, charge_id=second.id, reason="drawn by the lab")
    with Session(engine) as s:
        void = s.exec(select(JournalEntry).where(JournalEntry.kind == "charge_void")).one()
        lines = s.exec(select(Posting).where(Posting.entry_id == void.id)).all()
        owed = ledger.patient_balance(s, practice.id, billing.patient_id)
        assert s.get(Charge, second.id).status == "void"
    assert void.entry_date == date(2026, 3, 2)  # dated when it was made
    assert {p.charge_id for p in lines} == {second.id}
    assert owed.insurance.cents == first.amount_cents
    with pytest.raises(Conflict, match="only a posted charge"), uow("biller") as ctx:
        charges.void_charge(ctx, charge_id=second.id, reason="again")


def test_postings_of_charges_stay_append_only(engine, uow, practice, billing):
    visit(uow, practice, billing.patient_id)
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017 (the database refuses)
        conn.execute(text("UPDATE posting SET amount_cents = 1 WHERE charge_id IS NOT NULL"))


def test_front_desk_may_not_capture_or_post_charges(uow, practice, billing):
    with pytest.raises(PermissionDenied, match="charges:write"), uow("frontdesk") as ctx:
        charges.create_encounter(
            ctx,
            patient_id=billing.patient_id,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            date_of_service=DOS,
            diagnoses=["I10"],
        )


# --- fee schedules ---------------------------------------------------------------------------
def test_a_fee_schedule_file_with_bad_rows_names_each_and_changes_nothing(engine, uow, practice):
    rows = [
        {"code": "99213", "amount": "100.00"},
        {"code": "9921", "amount": "100.00"},
        {"code": "99214", "modifier": "ZZ9", "amount": "1"},
        {"code": "99215", "amount": "ten"},
        {"code": "99215", "amount": "10", "payer": "Nobody Mutual"},
        {"code": "99213", "amount": "101.00"},
    ]
    with uow("admin") as ctx:
        error = refused(
            lambda: fees.import_fee_schedule(ctx, rows=rows),
            "row 3: code",
            "row 4: modifier",
            "row 5: amount",
            "row 6: payer",
            "row 7: code",
        )
    assert "Nobody" not in str(error)
    from pms_core.models import FeeScheduleItem

    assert count(engine, FeeScheduleItem) == 0


def test_reimporting_a_fee_schedule_updates_amounts_instead_of_duplicating(uow, practice):
    with uow("admin") as ctx:
        first = fees.import_fee_schedule(
            ctx, rows=[{"code": "99213", "amount": "100"}, {"code": "99214", "amount": "150"}]
        )
        again = fees.import_fee_schedule(
            ctx, rows=[{"code": "99213", "amount": "100"}, {"code": "99214", "amount": "155.50"}]
        )
        listed = fees.list_fees(ctx)
    assert (first.added, again.added, again.updated, again.unchanged) == (2, 0, 1, 1)
    assert [(r.code, r.amount_cents) for r in listed] == [("99213", 10000), ("99214", 15550)]
