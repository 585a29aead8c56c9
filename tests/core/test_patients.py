"""Registration, validation, duplicate warning, search and the patient record."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, func, select

from pms_core.audit import flush_reads
from pms_core.errors import NotFound, ValidationError
from pms_core.models import AuditEvent, IntakeItem, Patient
from pms_core.services import coverages, patients
from tests.helpers import make_practice

BASE = dict(
    first_name="Maria",
    last_name="Delgado",
    dob="1984-07-19",
    sex="F",
    address1="12 Birch Ln",
    city="Springfield",
    state="IL",
    zip="62704",
    mobile_phone="(217) 555-0142",
    email="maria.d@example.com",
)


def register(ctx, **overrides):
    return patients.register_patient(ctx, **{**BASE, **overrides})


def patient_count(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Patient)).one()


def test_registration_stores_normalized_fields_and_assigns_an_account(engine, uow):
    with uow("frontdesk") as ctx:
        p = register(
            ctx,
            state="il",
            zip="62704-1234",
            intake=[
                patients.IntakeInput("allergy", "penicillin", "hives"),
                patients.IntakeInput("medication", "lisinopril 10 mg daily"),
            ],
        )
    with Session(engine) as s:
        stored = s.get(Patient, p.id)
        assert stored.state == "IL" and stored.zip == "627041234"
        assert stored.mobile_phone == "2175550142"
        assert stored.account_number == f"P{p.id:07d}"
        kinds = [i.kind for i in s.exec(select(IntakeItem).where(IntakeItem.patient_id == p.id))]
        assert sorted(kinds) == ["allergy", "medication"]


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("dob", "1984-02-30", "date"),
        ("dob", "2027-01-01", "dob_future"),
        ("dob", "1850-01-01", "dob_range"),
        ("zip", "6270", "zip"),
        ("state", "XX", "state"),
        ("mobile_phone", "555-0142", "phone"),
        ("home_phone", "(117) 555-0142", "phone"),
        ("email", "maria@", "email"),
        ("sex", "X", "choice"),
        ("first_name", "", "required"),
        ("address1", None, "required"),
        ("deceased_date", "2026-13-01", "date"),
        ("deceased_date", "2027-01-01", "future"),
        ("deceased_date", "1950-01-01", "before_dob"),
    ],
)
def test_bad_field_is_named_and_nothing_is_saved(engine, uow, field, value, code):
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        register(ctx, **{field: value})
    assert [(e.field, e.code) for e in err.value.errors] == [(field, code)]
    assert field in str(err.value)
    if value:  # the message never repeats the value itself (may be PHI)
        assert str(value) not in str(err.value)
    assert patient_count(engine) == 0


def test_over_long_text_is_refused_by_field_on_both_engines(engine, uow):
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        register(ctx, city="X" * 31, intake=[patients.IntakeInput("condition", "y" * 201)])
    assert {(e.field, e.code) for e in err.value.errors} == {
        ("city", "too_long"),
        ("intake[1].description", "too_long"),
    }
    assert patient_count(engine) == 0


def test_every_problem_is_reported_at_once(uow):
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        register(ctx, first_name=" ", zip="1", email="x", dob="2030-01-01")
    assert err.value.fields == {"first_name", "zip", "email", "dob"}


def test_preferred_channel_needs_its_contact_data(uow):
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        register(ctx, preferred_contact="email", email=None)
    assert err.value.fields == {"email"}


def test_duplicate_name_and_dob_is_flagged_and_can_be_overridden(engine, uow):
    with uow("frontdesk") as ctx:
        first = register(ctx)
    with pytest.raises(patients.PossibleDuplicate) as dup, uow("frontdesk") as ctx:
        register(ctx, first_name="MARIA", last_name="delgado", mobile_phone="2175550199")
    assert dup.value.patient_ids == [first.id]
    assert patient_count(engine) == 1
    with uow("frontdesk") as ctx:
        register(ctx, allow_duplicate=True)
    assert patient_count(engine) == 2


@pytest.fixture
def searchable(uow, practice):
    with uow("frontdesk") as ctx:
        smith_jo = register(
            ctx, first_name="Joanna", last_name="Smith", dob="1975-03-04", mobile_phone="3125550101"
        )
        smithers = register(
            ctx,
            first_name="Carl",
            last_name="Smithers",
            dob="1962-11-30",
            mobile_phone="3125550102",
        )
        john = register(
            ctx,
            first_name="Smith",
            last_name="Johnson",
            dob="1999-01-02",
            mobile_phone="6305550103",
        )
        obrien = register(
            ctx,
            first_name="Seán",
            last_name="O'Brien-Núñez",
            dob="1980-08-08",
            mobile_phone="7085550104",
            account_number="OLD-4471",
        )
        coverages.add_coverage(
            ctx,
            patient_id=smithers.id,
            payer_id=practice.payer_ids[0],
            member_id="ZQX-88-1234",
            effective_date="2024-01-01",
        )
    return {"smith_jo": smith_jo.id, "smithers": smithers.id, "john": john.id, "obrien": obrien.id}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("smith", {"smith_jo", "smithers", "john"}),  # last-name prefix, and first name "Smith"
        ("SMITH, jo", {"smith_jo"}),
        ("smith,", {"smith_jo", "smithers"}),
        ("joa smith", {"smith_jo"}),  # either order
        ("jo smith", {"smith_jo", "john"}),  # Jo.. Smith, or Smith Jo(hnson)
        ("smith jo", {"smith_jo", "john"}),  # last+first, or first "Smith" + last "Jo..."
        ("obrien", {"obrien"}),  # punctuation and accents folded
        ("sean o'brien", {"obrien"}),
        ("1975-03-04", {"smith_jo"}),
        ("3/4/1975", {"smith_jo"}),
        ("(312) 555-01", {"smith_jo", "smithers"}),
        ("630-555-0103", {"john"}),
        ("zqx88", {"smithers"}),  # member id prefix, punctuation-insensitive
        ("OLD-44", {"obrien"}),  # account number prefix
        ("nobody", set()),
    ],
)
def test_find_patients(uow, searchable, text, expected):
    with uow("frontdesk") as ctx:
        hits = patients.find_patients(ctx, text=text)
    assert {h.id for h in hits} == {searchable[k] for k in expected}


def test_search_results_are_sorted_by_name_and_limited(uow, searchable):
    with uow("frontdesk") as ctx:
        hits = patients.find_patients(ctx, text="smith")
        assert [h.last_name for h in hits] == ["Johnson", "Smith", "Smithers"]
        assert len(patients.find_patients(ctx, text="smith", limit=2)) == 2


def test_search_is_audited_with_ids_and_never_the_search_text(engine, uow, searchable):
    with uow("frontdesk") as ctx:
        patients.find_patients(ctx, text="smith, jo")
    assert flush_reads(engine)  # searches are audited in grouped commits
    with Session(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "patient.search")).one()
    assert event.outcome == "ok"
    assert str(searchable["smith_jo"]) in event.detail and "smith" not in event.detail.lower()


def test_other_practices_patients_are_invisible(engine, uow, searchable):
    other = make_practice(engine, name="Other Clinic", prefix="other_")
    from pms_core.context import unit_of_work

    with unit_of_work(engine, user_id=other.users["frontdesk"]) as ctx:
        assert patients.find_patients(ctx, text="smith") == []
        with pytest.raises(NotFound):
            patients.get_patient(ctx, patient_id=searchable["smith_jo"])


def test_patient_record_has_coverage_intake_and_ledger_balance(uow, searchable):
    with uow("frontdesk") as ctx:
        record = patients.get_patient(ctx, patient_id=searchable["smithers"])
    assert [c.payer_name for c in record.coverages] == ["Acme Health Plan"]
    assert record.balance is not None and record.balance.total.cents == 0
    with uow("manager") as ctx:  # reads PHI and balances, writes none
        assert patients.get_patient(ctx, patient_id=searchable["smithers"]).balance is not None


def test_update_validates_the_whole_record_and_audits_changed_fields(engine, uow, searchable):
    pid = searchable["smith_jo"]
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        patients.update_patient(ctx, patient_id=pid, zip="123", city="Chicago")
    assert err.value.fields == {"zip"}
    with uow("frontdesk") as ctx:
        patients.update_patient(ctx, patient_id=pid, city="Chicago", mobile_phone="312 555 0199")
    with Session(engine) as s:
        p = s.get(Patient, pid)
        assert (p.city, p.mobile_phone) == ("Chicago", "3125550199")
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "patient.update")).one()
        assert event.patient_id == pid and '"fields":["city","mobile_phone"]' in event.detail


def test_a_patient_can_be_marked_deceased(engine, uow, searchable):
    pid = searchable["smith_jo"]
    with uow("frontdesk") as ctx:
        patients.update_patient(ctx, patient_id=pid, deceased_date="2026-02-27")
    with Session(engine) as s:
        assert s.get(Patient, pid).deceased_date == date(2026, 2, 27)


def test_renaming_into_an_existing_patient_is_flagged(uow, searchable):
    with pytest.raises(patients.PossibleDuplicate), uow("frontdesk") as ctx:
        patients.update_patient(
            ctx,
            patient_id=searchable["john"],
            first_name="Joanna",
            last_name="Smith",
            dob=date(1975, 3, 4),
        )


def test_intake_history_is_added_not_rewritten(engine, uow, searchable):
    pid = searchable["john"]
    with uow("frontdesk") as ctx:
        patients.add_intake_item(ctx, patient_id=pid, kind="condition", description="asthma")
        patients.add_intake_item(
            ctx, patient_id=pid, kind="previous_provider", description="Lakeview Pediatrics"
        )
        with pytest.raises(ValidationError) as err:
            patients.add_intake_item(ctx, patient_id=pid, kind="hobby", description="golf")
        assert err.value.fields == {"intake[1].kind"}
    with uow("frontdesk") as ctx:
        record = patients.get_patient(ctx, patient_id=pid)
    assert [(i.kind, i.description) for i in record.intake] == [
        ("condition", "asthma"),
        ("previous_provider", "Lakeview Pediatrics"),
    ]


def test_summaries_for_a_pick_list_are_one_audited_read(engine, uow, searchable):
    wanted = [searchable["smithers"], 999_999, searchable["smith_jo"]]
    with uow("frontdesk") as ctx:
        hits = patients.patient_summaries(ctx, patient_ids=wanted)
    assert [h.id for h in hits] == [searchable["smithers"], searchable["smith_jo"]]
    assert hits[0].last_name == "Smithers" and hits[0].phone == "3125550102"
    assert flush_reads(engine)  # reads are audited in grouped commits
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "patient.summary")).all()
    assert len(events) == 1
