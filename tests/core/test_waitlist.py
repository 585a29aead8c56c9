"""The waitlist: who fits a freed slot, in what order, and what accepting does.

The clock stands at Monday 2026-03-02 09:00 in Chicago. The freed slot in most
tests is Tuesday 2026-03-10 10:00-10:30 local (after the DST change).
"""

from __future__ import annotations

import json
import threading
from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import Session, select

from pms_core.audit import flush_reads
from pms_core.context import unit_of_work
from pms_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from pms_core.models import (
    Appointment,
    AuditEvent,
    Provider,
    Room,
    WaitlistEntry,
    WaitlistOffer,
)
from pms_core.services import appointments, patients, schedule_setup, waitlist
from tests.core.test_booking_concurrency import overlapping, race
from tests.core.test_series import add_hours, add_patient, add_provider, add_type, at

SLOT = (at("2026-03-10", 10), at("2026-03-10", 10, 30))


@pytest.fixture
def wl(engine, practice):
    """Two providers working weekdays 8-17; a 20-minute follow-up, a 60-minute
    physical, and allergy shots only the second provider gives."""
    other = add_provider(engine, practice, "Okafor", "198765432")
    add_hours(engine, practice)
    add_hours(engine, practice, provider_id=other)
    return SimpleNamespace(
        p1=practice.provider_id,
        p2=other,
        location_id=practice.location_id,
        short=add_type(engine, practice, "Follow-up", 20),
        long=add_type(engine, practice, "Physical", 60),
        p2_only=add_type(engine, practice, "Allergy shot", 15, providers=[other]),
    )


def add(uow, clock, patient_id: int, appointment_type_id: int, **fields) -> int:
    """Add an entry a minute after the previous one, so waitlist order is creation order."""
    clock.advance(timedelta(minutes=1))
    with uow("frontdesk") as ctx:
        return waitlist.add_entry(
            ctx,
            patient_id=patient_id,
            appointment_type_id=appointment_type_id,
            earliest_date=fields.pop("earliest_date", date(2026, 3, 2)),
            **fields,
        ).id


def offer_slot(uow, wl, slot=SLOT, **extra) -> list[WaitlistOffer]:
    with uow("frontdesk") as ctx:
        return waitlist.offer_freed_slot(
            ctx,
            provider_id=wl.p1,
            location_id=wl.location_id,
            starts_at=slot[0],
            ends_at=slot[1],
            **extra,
        )


def stored(engine, model, row_id):
    with Session(engine) as s:
        return s.get(model, row_id)


def book_other(
    uow, wl, starts_at, provider_id=None, room_id=None, type_id=None, last_name="Brandt"
) -> int:
    patient_id = add_patient(uow, "Ivo", last_name)
    with uow("frontdesk") as ctx:
        return appointments.book(
            ctx,
            patient_id=patient_id,
            provider_id=provider_id or wl.p1,
            location_id=wl.location_id,
            appointment_type_id=type_id or wl.short,
            starts_at=starts_at,
            room_id=room_id,
        ).id


@pytest.fixture
def three_fit(uow, clock, wl):
    """Ten entries; three fit SLOT (oldest first: any, p1 on Tuesday mornings, a
    window ending exactly when the follow-up would)."""
    people = {name: add_patient(uow, "Pat", name) for name in "ABCDEFGHIJ"}
    e = {}
    e["A"] = add(uow, clock, people["A"], wl.short)
    e["B"] = add(uow, clock, people["B"], wl.short, provider_id=wl.p2)
    e["C"] = add(uow, clock, people["C"], wl.short, preferred_weekdays="024")
    e["D"] = add(
        uow, clock, people["D"], wl.short, preferred_start=time(13), preferred_end=time(17)
    )
    e["E"] = add(uow, clock, people["E"], wl.short, earliest_date=date(2026, 3, 11))
    e["F"] = add(uow, clock, people["F"], wl.long)
    e["G"] = add(uow, clock, people["G"], wl.p2_only)
    e["H"] = add(
        uow,
        clock,
        people["H"],
        wl.short,
        provider_id=wl.p1,
        preferred_weekdays="1",
        preferred_start="09:00",
        preferred_end="11:00",
        latest_date="2026-03-31",
    )
    e["I"] = add(
        uow, clock, people["I"], wl.short, location_id=wl.location_id, preferred_end=time(10, 20)
    )
    e["J"] = add(uow, clock, people["J"], wl.short, preferred_end=time(10, 15))
    return SimpleNamespace(entries=e, patients=people)


# --- matching -------------------------------------------------------------------------
def test_only_fitting_entries_match_oldest_first(uow, wl, three_fit):
    with uow("frontdesk") as ctx:
        matched = waitlist.matching_entries(
            ctx, provider_id=wl.p1, location_id=wl.location_id, starts_at=SLOT[0], ends_at=SLOT[1]
        )
    e = three_fit.entries
    # B: other provider; C: not Tuesdays; D: afternoons; E: from 03-11; F: 60 minutes
    # do not fit in 30; G: p1 does not give that type; J: would end after 10:15.
    assert [m.id for m in matched] == [e["A"], e["H"], e["I"]]


def test_a_longer_interval_and_the_other_provider_match_other_entries(uow, wl, three_fit):
    with uow("frontdesk") as ctx:
        hour = waitlist.matching_entries(
            ctx,
            provider_id=wl.p1,
            location_id=wl.location_id,
            starts_at=SLOT[0],
            ends_at=SLOT[0] + timedelta(hours=1),
        )
        other = waitlist.matching_entries(
            ctx, provider_id=wl.p2, location_id=wl.location_id, starts_at=SLOT[0], ends_at=SLOT[1]
        )
    e = three_fit.entries
    assert [m.id for m in hour] == [e["A"], e["F"], e["H"], e["I"]]
    assert [m.id for m in other] == [e["A"], e["B"], e["G"], e["I"]]


def test_a_past_interval_matches_nobody(uow, wl, three_fit):
    with uow("frontdesk") as ctx:
        assert (
            waitlist.matching_entries(
                ctx,
                provider_id=wl.p1,
                location_id=wl.location_id,
                starts_at=at("2026-03-02", 8),
                ends_at=at("2026-03-02", 8, 30),
            )
            == []
        )


def test_a_patient_busy_at_that_time_is_not_offered(uow, clock, wl):
    patient_id = add_patient(uow)
    add(uow, clock, patient_id, wl.short)
    with uow("frontdesk") as ctx:
        appointments.book(
            ctx,
            patient_id=patient_id,
            provider_id=wl.p2,
            location_id=wl.location_id,
            appointment_type_id=wl.short,
            starts_at=SLOT[0],
        )
    assert offer_slot(uow, wl) == []


# --- offering, accepting, declining -------------------------------------------------
def test_freed_slot_is_offered_in_waitlist_order(engine, uow, wl, three_fit):
    freed = book_other(uow, wl, at("2026-03-10", 14))
    offers = offer_slot(uow, wl, freed_by_appointment_id=freed)
    e = three_fit.entries
    assert [(o.rank, o.entry_id, o.status) for o in offers] == [
        (1, e["A"], "open"),
        (2, e["H"], "open"),
        (3, e["I"], "open"),
    ]
    assert {stored(engine, WaitlistEntry, e[k]).status for k in "AHI"} == {"offered"}
    assert stored(engine, WaitlistEntry, e["B"]).status == "waiting"
    assert stored(engine, WaitlistOffer, offers[0].id).freed_by_appointment_id == freed
    with uow("frontdesk") as ctx:
        views = waitlist.list_offers(ctx)
    assert [(v.offer.rank, v.entry.patient_id) for v in views] == [
        (1, three_fit.patients["A"]),
        (2, three_fit.patients["H"]),
        (3, three_fit.patients["I"]),
    ]


def test_cancelling_offers_the_freed_time_to_the_waitlist_in_order(engine, uow, wl, three_fit):
    freed = book_other(uow, wl, SLOT[0])
    with uow("frontdesk") as ctx:
        appointments.cancel(ctx, appointment_id=freed, reason="patient called")
    with uow("frontdesk") as ctx:
        views = waitlist.offers_for_slot(
            ctx, provider_id=wl.p1, starts_at=SLOT[0], ends_at=SLOT[0] + timedelta(minutes=20)
        )
    e = three_fit.entries
    assert [(v.offer.rank, v.offer.entry_id) for v in views] == [
        (1, e["A"]),
        (2, e["H"]),
        (3, e["I"]),
    ]
    assert {v.offer.freed_by_appointment_id for v in views} == {freed}


def test_rescheduling_offers_the_old_time_but_not_while_it_overlaps_the_new(
    engine, uow, wl, three_fit
):
    moved = book_other(uow, wl, SLOT[0])
    with uow("frontdesk") as ctx:  # ten minutes later: the old time is still mostly taken
        moved = appointments.reschedule(
            ctx, appointment_id=moved, starts_at=SLOT[0] + timedelta(minutes=10)
        ).id
    with Session(engine) as s:
        assert s.exec(select(WaitlistOffer)).all() == []
    with uow("frontdesk") as ctx:  # to the afternoon: the morning time is free and offered
        appointments.reschedule(ctx, appointment_id=moved, starts_at=at("2026-03-10", 15))
    with Session(engine) as s:
        offers = s.exec(select(WaitlistOffer).order_by(WaitlistOffer.rank)).all()
    # 10:10-10:30 is free now; entry I wants to be done by 10:20, so it is not offered
    assert [o.entry_id for o in offers] == [three_fit.entries[k] for k in "AH"]
    assert offers[0].starts_at == SLOT[0] + timedelta(minutes=10)


def test_accepting_books_the_slot_and_expires_the_other_offers(engine, uow, wl, three_fit):
    first, second, third = offer_slot(uow, wl)
    with uow("frontdesk") as ctx:
        appt = waitlist.accept_offer(ctx, offer_id=second.id)
    e = three_fit.entries
    booked = stored(engine, Appointment, appt.id)
    assert booked.patient_id == three_fit.patients["H"]
    assert (booked.provider_id, booked.appointment_type_id) == (wl.p1, wl.short)
    assert (booked.starts_at, booked.ends_at) == (SLOT[0], at("2026-03-10", 10, 20))
    entry = stored(engine, WaitlistEntry, e["H"])
    assert (entry.status, entry.booked_appointment_id) == ("booked", appt.id)
    assert stored(engine, WaitlistOffer, second.id).status == "accepted"
    assert stored(engine, WaitlistOffer, second.id).appointment_id == appt.id
    assert [stored(engine, WaitlistOffer, o.id).status for o in (first, third)] == [
        "expired",
        "expired",
    ]
    # The others did not get this slot: they wait for the next one.
    assert [stored(engine, WaitlistEntry, e[k]).status for k in "AI"] == ["waiting", "waiting"]
    with uow("frontdesk") as ctx:
        assert [v.offer.status for v in waitlist.offers_for_slot(
            ctx, provider_id=wl.p1, starts_at=SLOT[0], ends_at=SLOT[1]
        )] == ["expired", "accepted", "expired"]  # fmt: skip
    with pytest.raises(Conflict, match="is accepted, not open"), uow("frontdesk") as ctx:
        waitlist.accept_offer(ctx, offer_id=second.id)


def test_accepting_a_slot_booked_meanwhile_fails_and_writes_nothing(engine, uow, wl, three_fit):
    first, *_ = offer_slot(uow, wl)
    taken = book_other(uow, wl, SLOT[0])
    with pytest.raises(waitlist.OfferNotBookable) as err, uow("frontdesk") as ctx:
        waitlist.accept_offer(ctx, offer_id=first.id)
    assert f"offer {first.id}" in str(err.value)
    assert f"appointment {taken}" in str(err.value)
    assert [e.code for e in err.value.errors] == ["provider_busy"]
    assert stored(engine, WaitlistOffer, first.id).status == "open"
    assert stored(engine, WaitlistEntry, three_fit.entries["A"]).status == "offered"
    with Session(engine) as s:
        mine = s.exec(
            select(Appointment).where(Appointment.patient_id == three_fit.patients["A"])
        ).all()
    assert mine == []


def test_declining_puts_the_entry_back_and_a_reoffer_ranks_after(engine, uow, clock, wl):
    patient_id = add_patient(uow)
    entry_id = add(uow, clock, patient_id, wl.short)
    (offer,) = offer_slot(uow, wl)
    with uow("frontdesk") as ctx:
        waitlist.decline_offer(ctx, offer_id=offer.id)
    assert stored(engine, WaitlistOffer, offer.id).status == "declined"
    assert stored(engine, WaitlistEntry, entry_id).status == "waiting"
    with pytest.raises(Conflict, match="is declined"), uow("frontdesk") as ctx:
        waitlist.decline_offer(ctx, offer_id=offer.id)
    (again,) = offer_slot(uow, wl)
    assert (again.entry_id, again.rank) == (entry_id, 2)


def test_unanswered_offers_expire_once_their_slot_has_started(engine, uow, clock, wl):
    patient_id = add_patient(uow)
    entry_id = add(uow, clock, patient_id, wl.short)
    (stale,) = offer_slot(uow, wl)
    clock.set(at("2026-03-10", 12))
    (fresh,) = offer_slot(uow, wl, slot=(at("2026-03-11", 9), at("2026-03-11", 9, 30)))
    assert stored(engine, WaitlistOffer, stale.id).status == "expired"
    assert fresh.entry_id == entry_id
    assert stored(engine, WaitlistEntry, entry_id).status == "offered"


def test_nothing_is_offered_while_the_provider_is_still_booked(engine, uow, clock, wl):
    patient_id = add_patient(uow)
    entry_id = add(uow, clock, patient_id, wl.short)
    book_other(uow, wl, SLOT[0])  # e.g. the other half of an overbooking
    assert offer_slot(uow, wl) == []
    assert stored(engine, WaitlistEntry, entry_id).status == "waiting"


def test_a_type_that_needs_a_room_is_offered_only_with_a_free_room(
    engine, practice, uow, clock, wl
):
    procedure = add_type(engine, practice, "Procedure", 30, needs_room=True)
    with Session(engine) as s:
        room = Room(practice_id=practice.id, location_id=wl.location_id, name="Room 1")
        s.add(room)
        s.commit()
        room_id = room.id
    patient_id = add_patient(uow)
    add(uow, clock, patient_id, procedure)
    holder = book_other(uow, wl, SLOT[0], provider_id=wl.p2, room_id=room_id, type_id=procedure)
    assert offer_slot(uow, wl) == []
    with uow("frontdesk") as ctx:  # the cancellation frees the room and offers its time
        appointments.cancel(ctx, appointment_id=holder, reason="patient called")
    with Session(engine) as s:
        (offer,) = s.exec(select(WaitlistOffer)).all()
    assert (offer.provider_id, offer.starts_at) == (wl.p2, SLOT[0])
    with uow("frontdesk") as ctx:
        appt = waitlist.accept_offer(ctx, offer_id=offer.id)
    assert stored(engine, Appointment, appt.id).room_id == room_id


# --- entries --------------------------------------------------------------------------
def test_bad_entry_lists_every_problem(uow, wl):
    patient_id = add_patient(uow)
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        waitlist.add_entry(
            ctx,
            patient_id=patient_id,
            appointment_type_id=wl.p2_only,
            provider_id=wl.p1,
            earliest_date="2026-04-10",
            latest_date="2026-04-01",
            preferred_weekdays="179",
            preferred_start="12:00",
            preferred_end="11:00",
            note="x" * 201,
        )
    assert {(e.field, e.code) for e in err.value.errors} == {
        ("provider_id", "type_not_allowed"),
        ("latest_date", "before_earliest"),
        ("preferred_weekdays", "weekdays"),
        ("preferred_end", "before_start"),
        ("note", "too_long"),
    }
    assert "weekday digits 0-6" in str(err.value)


@pytest.mark.parametrize(
    "fields,field,code",
    [
        ({"earliest_date": "2026-02-30"}, "earliest_date", "date"),
        ({"preferred_start": "9am"}, "preferred_start", "time"),
        ({"latest_date": "2026-03-01", "earliest_date": "2026-02-01"}, "latest_date", "past"),
        ({"location_id": 999999}, "location_id", "not_found"),
    ],
)
def test_bad_typed_values_are_named(uow, wl, fields, field, code):
    patient_id = add_patient(uow)
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        waitlist.add_entry(
            ctx,
            patient_id=patient_id,
            appointment_type_id=wl.short,
            **{"earliest_date": "2026-03-02", **fields},
        )
    assert [(e.field, e.code) for e in err.value.errors] == [(field, code)]


def test_deceased_unknown_or_already_waiting_patient_is_refused(engine, uow, clock, wl):
    patient_id = add_patient(uow)
    add(uow, clock, patient_id, wl.short, preferred_weekdays="4, 2,0,2")
    with uow("frontdesk") as ctx:
        (entry,) = waitlist.list_entries(ctx)
    assert entry.preferred_weekdays == "024"
    with pytest.raises(ValidationError, match="already waits") as err:
        add(uow, clock, patient_id, wl.short)
    assert err.value.fields == {"patient_id"}
    with uow("frontdesk") as ctx:
        patients.update_patient(ctx, patient_id=patient_id, deceased_date="2026-02-01")
    with pytest.raises(ValidationError) as err:
        add(uow, clock, patient_id, wl.long)
    assert [(e.field, e.code) for e in err.value.errors] == [("patient_id", "deceased")]
    with pytest.raises(NotFound):
        add(uow, clock, patient_id + 999, wl.long)
    with Session(engine) as s:
        assert len(s.exec(select(WaitlistEntry)).all()) == 1


def test_removing_an_offered_entry_expires_its_offer(engine, uow, clock, wl):
    patient_id = add_patient(uow)
    entry_id = add(uow, clock, patient_id, wl.short)
    (offer,) = offer_slot(uow, wl)
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        waitlist.remove_entry(ctx, entry_id=entry_id, reason="because")
    assert err.value.fields == {"reason"}
    with uow("frontdesk") as ctx:
        waitlist.remove_entry(ctx, entry_id=entry_id, reason="booked_elsewhere")
    assert stored(engine, WaitlistEntry, entry_id).status == "removed"
    assert stored(engine, WaitlistOffer, offer.id).status == "expired"
    with pytest.raises(Conflict, match="already removed"), uow("frontdesk") as ctx:
        waitlist.remove_entry(ctx, entry_id=entry_id, reason="other")
    with uow("frontdesk") as ctx:
        assert waitlist.list_entries(ctx) == []
        assert [e.id for e in waitlist.list_entries(ctx, status="removed")] == [entry_id]


# --- permissions and audit ------------------------------------------------------------
def test_reads_are_audited_with_the_patients_shown_and_writes_need_schedule_write(
    engine, uow, clock, wl
):
    patient_id = add_patient(uow)
    add(uow, clock, patient_id, wl.short)
    with uow("manager") as ctx:
        assert len(waitlist.list_entries(ctx)) == 1
    assert flush_reads(engine)  # reads are audited in grouped commits
    with Session(engine) as s:
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == "waitlist.list")).all()
    assert json.loads(event.detail)["patient_ids"] == [patient_id]
    with pytest.raises(PermissionDenied), uow("manager") as ctx:
        waitlist.add_entry(
            ctx, patient_id=patient_id, appointment_type_id=wl.long, earliest_date="2026-03-02"
        )
    with pytest.raises(PermissionDenied), uow("manager") as ctx:
        waitlist.offer_freed_slot(
            ctx, provider_id=wl.p1, location_id=wl.location_id, starts_at=SLOT[0], ends_at=SLOT[1]
        )
    with pytest.raises(PermissionDenied), uow("auditor") as ctx:
        waitlist.list_offers(ctx)
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        waitlist.list_offers(ctx, status="pending", limit=0)
    assert err.value.fields == {"status", "limit"}


def test_two_desks_accepting_offers_of_one_slot_at_once_book_it_once(
    engine, practice, pm, clock, uow, wl, three_fit
):
    """Desk 1 accepts and holds its transaction open; desk 2 accepts another offer
    of the same slot meanwhile. Desk 2 must wait and then be refused."""
    first, second, _ = offer_slot(uow, wl)
    desk1_done, release_desk1 = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def desk(name: str, offer_id: int, hold: bool) -> None:
        try:
            with unit_of_work(
                engine, user_id=practice.users["frontdesk"], pm=pm, clock=clock
            ) as ctx:
                outcome[name] = waitlist.accept_offer(ctx, offer_id=offer_id).id
                if hold:
                    desk1_done.set()
                    release_desk1.wait(10)
        except Conflict as exc:
            outcome[name] = exc

    desk1 = threading.Thread(target=desk, args=("desk1", first.id, True))
    desk1.start()
    assert desk1_done.wait(10)
    desk2 = threading.Thread(target=desk, args=("desk2", second.id, False))
    desk2.start()
    desk2.join(0.5)
    assert desk2.is_alive()  # waiting for desk 1's lock
    release_desk1.set()
    desk1.join(10)
    desk2.join(10)
    assert isinstance(outcome["desk1"], int)
    assert isinstance(outcome["desk2"], Conflict)
    with Session(engine) as s:
        in_slot = s.exec(select(Appointment).where(Appointment.starts_at == SLOT[0])).all()
    assert [a.id for a in in_slot] == [outcome["desk1"]]
    assert stored(engine, WaitlistOffer, second.id).status == "expired"


def test_time_taken_off_since_the_booking_is_not_offered(engine, uow, wl, three_fit):
    """The provider calls in sick: time off is added, then the desk cancels the
    day's appointments. Nobody on the waitlist is offered a slot that cannot be booked."""
    freed = book_other(uow, wl, SLOT[0])
    with uow("admin") as ctx:
        schedule_setup.add_exception(ctx, kind="time_off", provider_id=wl.p1, day="2026-03-10")
    with uow("frontdesk") as ctx:
        appointments.cancel(ctx, appointment_id=freed, reason="provider out sick")
    with Session(engine) as s:
        assert s.exec(select(WaitlistOffer)).all() == []
    # nor the time of a provider who has left
    leaving = book_other(uow, wl, SLOT[0], provider_id=wl.p2, last_name="Lund")
    with uow("admin") as ctx:
        ctx.session.get(Provider, wl.p2).active = False
    with uow("frontdesk") as ctx:
        appointments.cancel(ctx, appointment_id=leaving, reason="provider left")
    with Session(engine) as s:
        assert s.exec(select(WaitlistOffer)).all() == []


def test_two_desks_declining_and_removing_one_entry_at_once(engine, practice, pm, clock, uow, wl):
    """One desk takes a patient off the waitlist while another records that the
    patient declined the offer: both lock the offer and the entry, in one order,
    so each gets a result or a clear Conflict, never a database deadlock."""
    for name in ("Ames", "Boyd", "Cole", "Dunn", "Eads"):
        entry_id = add(uow, clock, add_patient(uow, "Pat", name), wl.short)
        (offer,) = offer_slot(uow, wl)
        results = race(
            engine,
            practice,
            pm,
            clock,
            [
                lambda ctx, o=offer.id: waitlist.decline_offer(ctx, offer_id=o),
                lambda ctx, e=entry_id: waitlist.remove_entry(ctx, entry_id=e, reason="other"),
            ],
        )
        assert all(isinstance(r, WaitlistOffer | WaitlistEntry | Conflict) for r in results), (
            results
        )
        assert stored(engine, WaitlistEntry, entry_id).status == "removed"
        assert stored(engine, WaitlistOffer, offer.id).status in ("declined", "expired")


def test_two_desks_adding_one_patient_to_the_waitlist_at_once(engine, practice, pm, clock, uow, wl):
    patient_id = add_patient(uow)

    def add_entry(ctx):
        return waitlist.add_entry(
            ctx, patient_id=patient_id, appointment_type_id=wl.short, earliest_date="2026-03-02"
        )

    added, refused = overlapping(engine, practice, pm, clock, add_entry, add_entry)
    assert isinstance(added, WaitlistEntry)
    assert isinstance(refused, ValidationError), refused
    assert ("patient_id", "already_waiting") in {(e.field, e.code) for e in refused.errors}
