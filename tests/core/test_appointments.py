"""Booking, the status flow, reschedule, cancel, and what the schedule screens read.

The clock stands at Monday 2026-03-02 15:00 UTC = 09:00 in the practice's time
zone (America/Chicago). `booked_setup` gives the practice's provider weekday
hours 08:00-17:00 at the main location, a 30-minute visit type, a 60-minute
procedure type that needs a room, two rooms and three patients.

The helpers above the tests are shared with test_slots.py and
test_booking_concurrency.py.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from pms_core.audit import flush_reads
from pms_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from pms_core.hookspecs import hookimpl
from pms_core.models import Appointment, AuditEvent, Practice, Provider
from pms_core.services import appointments as appts
from pms_core.services import patients, schedule_setup, series
from pms_core.services import practice as practice_service
from pms_core.validation import npi_check_digit

CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2026, 3, 2)  # today, by the test clock
TUESDAY = date(2026, 3, 3)


def at(day: date, hhmm: str) -> datetime:
    """An aware datetime for a Chicago wall-clock time."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=CHICAGO)


def new_patient(ctx, first_name: str, **extra) -> int:
    return patients.register_patient(
        ctx,
        first_name=first_name,
        last_name="Schedtest",
        dob="1980-01-01",
        sex="F",
        address1="1 Synthetic St",
        city="Springfield",
        state="IL",
        zip="62701",
        mobile_phone="2175550123",
        allow_duplicate=True,
        **extra,
    ).id


def new_provider(ctx, last_name: str) -> int:
    first_nine = f"1{zlib.crc32(last_name.encode()) % 10**8:08d}"
    return practice_service.add_provider(
        ctx,
        npi=first_nine + npi_check_digit(first_nine),
        taxonomy="207Q00000X",
        first_name="Test",
        last_name=last_name,
    ).id


def weekday_hours(ctx, provider_id: int, location_id: int, start="08:00", end="17:00") -> None:
    for weekday in range(5):
        schedule_setup.add_availability(
            ctx,
            provider_id=provider_id,
            location_id=location_id,
            weekday=weekday,
            start_time=start,
            end_time=end,
            effective_from="2026-03-01",
        )


@dataclass
class Booked:
    provider_id: int
    location_id: int
    visit_id: int  # 30 minutes
    procedure_id: int  # 60 minutes, needs a room
    room_ids: list[int]
    patient_ids: list[int]
    extra: dict = field(default_factory=dict)

    def book(self, ctx, *, starts_at: datetime, patient: int = 0, **kwargs) -> Appointment:
        args = dict(
            patient_id=self.patient_ids[patient],
            provider_id=self.provider_id,
            location_id=self.location_id,
            appointment_type_id=self.visit_id,
            starts_at=starts_at,
        )
        return appts.book(ctx, **{**args, **kwargs})


def make_booked(uow, practice) -> Booked:
    with uow("admin") as ctx:
        weekday_hours(ctx, practice.provider_id, practice.location_id)
        visit = schedule_setup.add_appointment_type(ctx, name="Office visit", duration_minutes=30)
        procedure = schedule_setup.add_appointment_type(
            ctx, name="Procedure", duration_minutes=60, color="orange", needs_room=True
        )
        rooms = [
            schedule_setup.add_room(ctx, location_id=practice.location_id, name=name).id
            for name in ("Room 1", "Room 2")
        ]
        patient_ids = [new_patient(ctx, name) for name in ("Ana", "Ben", "Cleo")]
    return Booked(
        practice.provider_id, practice.location_id, visit.id, procedure.id, rooms, patient_ids
    )


def count_appointments(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Appointment)).one()


def refused(call, *, code: str, field: str = "starts_at") -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    assert (field, code) in {(e.field, e.code) for e in info.value.errors}, info.value.errors
    return info.value


class Recorder:
    """A plugin that records the schedule notify hooks it receives."""

    def __init__(self):
        self.calls: list[tuple] = []

    @hookimpl
    def appointment_booked(self, ctx, appointment_id):
        self.calls.append(("booked", appointment_id))

    @hookimpl
    def appointment_cancelled(self, ctx, appointment_id):
        self.calls.append(("cancelled", appointment_id))

    @hookimpl
    def appointment_rescheduled(self, ctx, appointment_id, previous_appointment_id):
        self.calls.append(("rescheduled", appointment_id, previous_appointment_id))

    @hookimpl
    def appointment_status_changed(self, ctx, appointment_id, status):
        self.calls.append((status, appointment_id))


@pytest.fixture
def booked(uow, practice) -> Booked:
    return make_booked(uow, practice)


@pytest.fixture
def recorder(pm):
    plugin = Recorder()
    pm.register(plugin)
    yield plugin
    pm.unregister(plugin)


# --- booking --------------------------------------------------------------------------
def test_a_booking_reads_back_in_local_time_with_its_names(uow, booked, practice):
    with uow("frontdesk") as ctx:
        appt = booked.book(ctx, starts_at=at(TUESDAY, "10:00"), note="bring x-rays")
    assert appt.starts_at == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
    assert appt.ends_at - appt.starts_at == timedelta(minutes=30)
    with uow("frontdesk") as ctx:
        [row] = appts.list_appointments(ctx, date_from=TUESDAY)
    assert (row.local_start.hour, row.local_end.strftime("%H:%M")) == (10, "10:30")
    assert row.patient_name == "Schedtest, Ana"
    assert row.provider_name == "Rivera, Alex"
    assert (row.type_name, row.color, row.status) == ("Office visit", "blue", "booked")
    assert (row.location_name, row.room_name, row.overbooked) == ("Main Clinic", None, False)
    assert row.note == "bring x-rays"


def test_booking_notifies_after_commit(uow, booked, recorder):
    with uow("frontdesk") as ctx:
        appt = booked.book(ctx, starts_at=at(TUESDAY, "10:00"))
        assert recorder.calls == []  # not before the commit
    assert recorder.calls == [("booked", appt.id)]


@pytest.mark.parametrize(
    ("when", "code", "message"),
    [
        (at(MONDAY, "08:30"), "past", "is in the past"),
        (at(TUESDAY, "16:45"), "unavailable", "outside the provider's availability"),
        (at(TUESDAY, "07:30"), "unavailable", "outside the provider's availability"),
        (at(date(2026, 3, 7), "10:00"), "unavailable", "outside"),  # a Saturday
    ],
)
def test_a_time_that_cannot_be_booked_is_refused_and_nothing_is_written(
    uow, booked, engine, when, code, message
):
    before = count_appointments(engine)
    with uow("frontdesk") as ctx:
        err = refused(lambda: booked.book(ctx, starts_at=when), code=code)
    assert message in str(err)
    assert count_appointments(engine) == before


def test_an_exception_makes_the_time_unavailable(uow, booked):
    with uow("admin") as ctx:
        schedule_setup.add_exception(ctx, kind="holiday", day=TUESDAY, reason="Closed")
    with uow("frontdesk") as ctx:
        refused(lambda: booked.book(ctx, starts_at=at(TUESDAY, "10:00")), code="unavailable")
        booked.book(ctx, starts_at=at(date(2026, 3, 4), "10:00"))


def test_overlaps_with_the_provider_or_the_patient_are_refused(uow, booked, engine):
    with uow("frontdesk") as ctx:
        first = booked.book(ctx, starts_at=at(TUESDAY, "10:00"))
    before = count_appointments(engine)
    with uow("frontdesk") as ctx:
        err = refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "10:15"), patient=1),
            code="provider_busy",
        )
        assert f"appointment {first.id}" in str(err)
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, booked.location_id)
    with uow("frontdesk") as ctx:
        refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "10:15"), provider_id=other),
            code="patient_busy",
        )
    assert count_appointments(engine) == before
    with uow("frontdesk") as ctx:  # back to back is fine
        booked.book(ctx, starts_at=at(TUESDAY, "10:30"), patient=1)


def test_an_unknown_practice_time_zone_is_a_clear_error_not_a_traceback(
    uow, booked, engine, practice
):
    with Session(engine) as s:  # e.g. typed into the database by hand, or missing tz data
        stored = s.get(Practice, practice.id)
        stored.time_zone = "Mars/Olympus"
        s.add(stored)
        s.commit()
    with uow("frontdesk") as ctx:
        err = refused(
            lambda: appts.find_slots(ctx, appointment_type_id=booked.visit_id, date_from=TUESDAY),
            field="time_zone",
            code="time_zone",
        )
    assert "Mars/Olympus" in str(err) and f"practice {practice.id}" in str(err)
    with uow("frontdesk") as ctx:
        refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "09:00")),
            field="time_zone",
            code="time_zone",
        )
    assert count_appointments(engine) == 0


def test_an_inactive_provider_cannot_be_booked(uow, booked, engine):
    with uow("admin") as ctx:
        ctx.session.get(Provider, booked.provider_id).active = False
    with uow("frontdesk") as ctx:
        err = refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "10:00")),
            code="inactive",
            field="provider_id",
        )
    assert "the provider is inactive" in str(err)
    assert count_appointments(engine) == 0


def test_a_deceased_patient_cannot_be_booked(uow, booked, engine):
    with uow("frontdesk") as ctx:
        late = new_patient(ctx, "Dora", deceased_date="2026-02-01")
        booked.patient_ids.append(late)
        err = refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=3),
            code="deceased",
            field="patient_id",
        )
    assert "deceased" in str(err)
    assert "Dora" not in str(err) and "Schedtest" not in str(err)  # no PHI in the message
    assert count_appointments(engine) == 0


def test_a_type_that_needs_a_room_needs_one_at_the_same_location(uow, booked, practice, engine):
    with uow("admin") as ctx:
        elsewhere = practice_service.add_location(
            ctx, name="North", address1="2 Test Way", city="Springfield", state="IL", zip="62702"
        ).id
        far_room = schedule_setup.add_room(ctx, location_id=elsewhere, name="Far").id
    with uow("frontdesk") as ctx:
        refused(
            lambda: booked.book(
                ctx, starts_at=at(TUESDAY, "10:00"), appointment_type_id=booked.procedure_id
            ),
            code="required",
            field="room_id",
        )
        refused(
            lambda: booked.book(
                ctx,
                starts_at=at(TUESDAY, "10:00"),
                appointment_type_id=booked.procedure_id,
                room_id=far_room,
            ),
            code="wrong_location",
            field="room_id",
        )
    assert count_appointments(engine) == 0
    with uow("frontdesk") as ctx:
        appt = booked.book(
            ctx,
            starts_at=at(TUESDAY, "10:00"),
            appointment_type_id=booked.procedure_id,
            room_id=booked.room_ids[0],
        )
    assert appt.ends_at - appt.starts_at == timedelta(hours=1)


def test_a_room_is_never_doubled(uow, booked):
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, booked.location_id)
    room = booked.room_ids[0]
    with uow("frontdesk") as ctx:
        booked.book(
            ctx,
            starts_at=at(TUESDAY, "10:00"),
            appointment_type_id=booked.procedure_id,
            room_id=room,
        )
        refused(
            lambda: booked.book(
                ctx,
                starts_at=at(TUESDAY, "10:30"),
                appointment_type_id=booked.procedure_id,
                room_id=room,
                provider_id=other,
                patient=1,
            ),
            code="room_busy",
        )


# --- overbooking ----------------------------------------------------------------------
def test_overbooking_needs_the_permission_and_stops_at_the_daily_limit(uow, booked, engine):
    with uow("admin") as ctx:
        schedule_setup.set_overbook_limit(ctx, provider_id=booked.provider_id, per_day=1)
        extra = new_patient(ctx, "Eve")
        booked.patient_ids.append(extra)
    with uow("frontdesk") as ctx:
        booked.book(ctx, starts_at=at(TUESDAY, "10:00"))
        booked.book(ctx, starts_at=at(TUESDAY, "11:00"), patient=1)
        # without overbook, the second patient is refused
        refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=2),
            code="provider_busy",
        )
    with pytest.raises(PermissionDenied, match="schedule:overbook"), uow("biller") as ctx:
        booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=2, overbook=True)
    with uow("frontdesk") as ctx:
        over = booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=2, overbook=True)
    assert over.overbooked
    with uow("frontdesk") as ctx:
        err = refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "11:00"), patient=3, overbook=True),
            code="limit",
            field="overbook",
        )
        assert "daily overbook limit (1)" in str(err)
        refused(  # a free slot is booked normally, not overbooked
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "14:00"), patient=3, overbook=True),
            code="not_needed",
            field="overbook",
        )
        # the limit is per day: Wednesday still has room for one
        booked.book(ctx, starts_at=at(date(2026, 3, 4), "10:00"))
        booked.book(ctx, starts_at=at(date(2026, 3, 4), "10:00"), patient=1, overbook=True)
    with uow("frontdesk") as ctx:
        rows = appts.list_appointments(ctx, date_from=TUESDAY)
    assert [(r.local_start.hour, r.overbooked) for r in rows] == [
        (10, False),
        (10, True),
        (11, False),
    ]


def test_an_overbook_never_doubles_the_patient(uow, booked):
    with uow("frontdesk") as ctx:
        booked.book(ctx, starts_at=at(TUESDAY, "10:00"))
        refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "10:00"), overbook=True),
            code="patient_busy",
        )


# --- status flow ----------------------------------------------------------------------
# Written out independently of appts.TRANSITIONS, like the permission table.
LEGAL = {
    ("booked", "confirmed"),
    ("booked", "arrived"),
    ("booked", "cancelled"),
    ("booked", "no_show"),
    ("confirmed", "arrived"),
    ("confirmed", "cancelled"),
    ("confirmed", "no_show"),
    ("arrived", "in_room"),
    ("arrived", "completed"),
    ("arrived", "cancelled"),
    ("in_room", "completed"),
}
ACTIONS = {
    "confirmed": lambda ctx, i: appts.confirm(ctx, appointment_id=i),
    "arrived": lambda ctx, i: appts.check_in(ctx, appointment_id=i),
    "in_room": lambda ctx, i: appts.room_patient(ctx, appointment_id=i),
    "completed": lambda ctx, i: appts.check_out(ctx, appointment_id=i),
    "cancelled": lambda ctx, i: appts.cancel(ctx, appointment_id=i, reason="patient called"),
    "no_show": lambda ctx, i: appts.mark_no_show(ctx, appointment_id=i),
}
PATHS = {
    "booked": [],
    "confirmed": ["confirmed"],
    "arrived": ["arrived"],
    "in_room": ["arrived", "in_room"],
    "completed": ["arrived", "completed"],
    "cancelled": ["cancelled"],
    "no_show": ["no_show"],
}
BEING = {
    "booked": "booked",
    "confirmed": "confirmed",
    "arrived": "arrived",
    "in_room": "in a room",
    "completed": "completed",
    "cancelled": "cancelled",
    "no_show": "a no-show",
}
STAMPS = {
    "confirmed": "confirmed_at",
    "arrived": "arrived_at",
    "in_room": "roomed_at",
    "completed": "completed_at",
    "cancelled": "cancelled_at",
    "no_show": "no_show_at",
}


def test_every_status_move_is_legal_or_refused_naming_the_status(uow, booked, clock):
    with uow("admin") as ctx:
        quick = schedule_setup.add_appointment_type(ctx, name="Quick", duration_minutes=15).id
    # Book a pool today (one per state, one per legal move), then let the day pass
    # so that no-shows are allowed and check-ins are still today.
    with uow("frontdesk") as ctx:
        pool = [
            booked.book(
                ctx,
                starts_at=at(MONDAY, "09:00") + timedelta(minutes=15 * n),
                appointment_type_id=quick,
            ).id
            for n in range(len(PATHS) + len(LEGAL))
        ]
    clock.set(at(MONDAY, "16:30"))

    def in_state(state: str) -> int:
        appointment_id = pool.pop()
        for step in PATHS[state]:
            with uow("frontdesk") as ctx:
                ACTIONS[step](ctx, appointment_id)
        return appointment_id

    for state in PATHS:
        stuck = in_state(state)
        for target, action in ACTIONS.items():
            if (state, target) in LEGAL:
                appointment_id = in_state(state)
                with uow("frontdesk") as ctx:
                    appt = action(ctx, appointment_id)
                assert appt.status == target
                assert getattr(appt, STAMPS[target]) == clock.now()
                assert appt.updated_at == clock.now()
                continue
            with pytest.raises(Conflict) as info, uow("frontdesk") as ctx:
                action(ctx, stuck)
            assert f"is {BEING[state]};" in str(info.value), (state, target)
        with uow("frontdesk") as ctx:
            assert appts.get_appointment(ctx, appointment_id=stuck).status == state
    assert pool == []


def test_status_changes_are_audited_and_notified(uow, booked, engine, recorder):
    with uow("frontdesk") as ctx:
        appt_id = booked.book(ctx, starts_at=at(MONDAY, "10:00")).id
    for action in ("confirmed", "arrived", "in_room", "completed"):
        with uow("frontdesk") as ctx:
            ACTIONS[action](ctx, appt_id)
    assert recorder.calls[1:] == [
        ("confirmed", appt_id),
        ("arrived", appt_id),
        ("in_room", appt_id),
        ("completed", appt_id),
    ]
    with Session(engine) as s:
        events = s.exec(
            select(AuditEvent)
            .where(AuditEvent.action.like("appointment.%"))  # type: ignore[attr-defined]
            .order_by(AuditEvent.seq)
        ).all()
    assert [e.action for e in events] == [
        "appointment.book",
        "appointment.confirm",
        "appointment.check_in",
        "appointment.room",
        "appointment.check_out",
    ]
    assert json.loads(events[-1].detail) == {
        "appointment_id": appt_id,
        "from_status": "in_room",
        "to_status": "completed",
    }
    assert {e.patient_id for e in events} == {booked.patient_ids[0]}


def test_no_show_only_once_the_start_time_has_passed(uow, booked, clock):
    with uow("frontdesk") as ctx:
        appt_id = booked.book(ctx, starts_at=at(MONDAY, "10:00")).id
    with pytest.raises(Conflict, match="has not started yet"), uow("frontdesk") as ctx:
        appts.mark_no_show(ctx, appointment_id=appt_id)
    clock.set(at(MONDAY, "10:00"))
    with uow("frontdesk") as ctx:
        assert appts.mark_no_show(ctx, appointment_id=appt_id).status == "no_show"


def test_check_in_only_on_the_appointment_day(uow, booked):
    with uow("frontdesk") as ctx:
        appt_id = booked.book(ctx, starts_at=at(TUESDAY, "10:00")).id
    with pytest.raises(Conflict, match="2026-03-03, not today"), uow("frontdesk") as ctx:
        appts.check_in(ctx, appointment_id=appt_id)


def test_rooming_puts_the_patient_in_a_free_room(uow, booked):
    room_1, room_2 = booked.room_ids
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, booked.location_id)
    with uow("frontdesk") as ctx:
        first = booked.book(ctx, starts_at=at(MONDAY, "10:00")).id
        second = booked.book(ctx, starts_at=at(MONDAY, "10:30"), patient=1).id
        procedure = booked.book(
            ctx,
            starts_at=at(MONDAY, "10:00"),
            provider_id=other,
            appointment_type_id=booked.procedure_id,
            room_id=room_2,
            patient=2,
        ).id
        for appt_id in (first, second, procedure):
            appts.check_in(ctx, appointment_id=appt_id)
    with uow("frontdesk") as ctx:
        err = refused(
            lambda: appts.room_patient(ctx, appointment_id=first, room_id=room_2),
            code="room_busy",
            field="room_id",
        )
        assert f"appointment {procedure}" in str(err)
        assert appts.room_patient(ctx, appointment_id=first, room_id=room_1).room_id == room_1
    with uow("frontdesk") as ctx:
        refused(
            lambda: appts.room_patient(ctx, appointment_id=second, room_id=room_1),
            code="occupied",
            field="room_id",
        )
        # the booked room, when none is named
        assert appts.room_patient(ctx, appointment_id=procedure).room_id == room_2
    with uow("frontdesk") as ctx:
        appts.check_out(ctx, appointment_id=first)
        assert appts.room_patient(ctx, appointment_id=second, room_id=room_1).room_id == room_1


def test_an_unknown_appointment_is_not_found(uow, booked):
    with pytest.raises(NotFound, match="appointment 999999"), uow("frontdesk") as ctx:
        appts.confirm(ctx, appointment_id=999999)


# --- cancel and reschedule ------------------------------------------------------------
def test_cancel_records_reason_who_and_when_and_frees_the_time(
    uow, booked, practice, clock, recorder
):
    with uow("frontdesk") as ctx:
        appt_id = booked.book(ctx, starts_at=at(TUESDAY, "10:00")).id
        refused(
            lambda: appts.cancel(ctx, appointment_id=appt_id, reason="  "),
            code="required",
            field="reason",
        )
    with uow("frontdesk") as ctx:
        appts.cancel(ctx, appointment_id=appt_id, reason="car trouble")
    assert ("cancelled", appt_id) in recorder.calls
    with uow("frontdesk") as ctx:
        appt = appts.get_appointment(ctx, appointment_id=appt_id)
        assert (appt.status, appt.cancel_reason) == ("cancelled", "car trouble")
        assert appt.cancelled_by_id == practice.users["frontdesk"]
        assert appt.cancelled_at == clock.now()
        booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=1)


def test_reschedule_ten_minutes_later_cancels_the_old_and_links_the_new(
    uow, booked, practice, recorder
):
    with uow("frontdesk") as ctx:
        old = booked.book(ctx, starts_at=at(TUESDAY, "10:00"), note="wheelchair")
        appts.confirm(ctx, appointment_id=old.id)
    with uow("frontdesk") as ctx:
        new = appts.reschedule(ctx, appointment_id=old.id, starts_at=at(TUESDAY, "10:10"))
    assert new.id != old.id
    assert (new.rescheduled_from_id, new.status, new.note) == (old.id, "booked", "wheelchair")
    assert new.starts_at == at(TUESDAY, "10:10")
    assert recorder.calls[-1] == ("rescheduled", new.id, old.id)
    with uow("frontdesk") as ctx:
        previous = appts.get_appointment(ctx, appointment_id=old.id)
        rows = appts.list_appointments(ctx, date_from=TUESDAY)
    assert (previous.status, previous.cancel_reason) == ("cancelled", "rescheduled")
    assert previous.cancelled_by_id == practice.users["frontdesk"]
    assert [(r.appointment_id, r.status) for r in rows] == [
        (old.id, "cancelled"),
        (new.id, "booked"),
    ]


def test_a_refused_reschedule_changes_nothing(uow, booked, engine):
    with uow("frontdesk") as ctx:
        moving = booked.book(ctx, starts_at=at(MONDAY, "10:00")).id
        blocker = booked.book(ctx, starts_at=at(MONDAY, "11:00"), patient=1).id
    with uow("frontdesk") as ctx:
        refused(
            lambda: appts.reschedule(ctx, appointment_id=moving, starts_at=at(MONDAY, "11:15")),
            code="provider_busy",
        )
        refused(
            lambda: appts.reschedule(ctx, appointment_id=moving, starts_at=at(MONDAY, "10:00")),
            code="unchanged",
        )
    with uow("frontdesk") as ctx:
        assert appts.get_appointment(ctx, appointment_id=moving).status == "booked"
        assert appts.get_appointment(ctx, appointment_id=blocker).status == "booked"
    assert count_appointments(engine) == 2
    with uow("frontdesk") as ctx:
        appts.check_in(ctx, appointment_id=blocker)
    with (
        pytest.raises(Conflict, match="is arrived; only booked or confirmed"),
        uow("frontdesk") as ctx,
    ):
        appts.reschedule(ctx, appointment_id=blocker, starts_at=at(MONDAY, "15:00"))


def test_reschedule_to_another_provider(uow, booked):
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, booked.location_id)
    with uow("frontdesk") as ctx:
        old = booked.book(ctx, starts_at=at(TUESDAY, "10:00")).id
        new = appts.reschedule(
            ctx, appointment_id=old, starts_at=at(TUESDAY, "10:00"), provider_id=other
        )
    assert new.provider_id == other


# --- schedule views -------------------------------------------------------------------
def test_list_appointments_filters_and_audits_one_event_with_the_count(uow, booked, engine):
    with uow("frontdesk") as ctx:
        a = booked.book(ctx, starts_at=at(TUESDAY, "10:00")).id
        b = booked.book(ctx, starts_at=at(date(2026, 3, 4), "10:00")).id
        appts.cancel(ctx, appointment_id=a, reason="moved away")
    with uow("frontdesk") as ctx:
        both = appts.list_appointments(ctx, date_from=TUESDAY, date_to="2026-03-04")
        booked_only = appts.list_appointments(
            ctx, date_from=TUESDAY, date_to=date(2026, 3, 4), status="booked"
        )
        none_here = appts.list_appointments(
            ctx, date_from=TUESDAY, provider_id=booked.provider_id + 1000
        )
    assert [r.appointment_id for r in both] == [a, b]
    assert [r.appointment_id for r in booked_only] == [b]
    assert none_here == []
    assert flush_reads(engine)  # reads are audited in grouped commits
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.list")).all()
    patient = booked.patient_ids[0]
    assert [json.loads(e.detail) for e in events] == [
        {"results": 2, "patient_ids": [patient]},
        {"results": 1, "patient_ids": [patient]},
        {"results": 0, "patient_ids": []},
    ]
    with uow("frontdesk") as ctx:
        refused(
            lambda: appts.list_appointments(ctx, date_from=TUESDAY, status="gone"),
            code="choice",
            field="status",
        )
        refused(
            lambda: appts.list_appointments(ctx, date_from=TUESDAY, date_to=MONDAY),
            code="before_start",
            field="date_to",
        )


def test_day_view_shows_windows_blocks_and_appointments_per_provider(uow, booked, practice):
    with uow("admin") as ctx:
        other = new_provider(ctx, "Abbott")
        weekday_hours(ctx, other, booked.location_id, start="12:00", end="16:00")
        new_provider(ctx, "Zimmer")  # no hours: no column
        schedule_setup.add_exception(
            ctx,
            kind="block",
            provider_id=booked.provider_id,
            starts_at="2026-03-03 12:00",
            ends_at="2026-03-03 13:00",
            reason="Staff meeting",
        )
    with uow("frontdesk") as ctx:
        mine = booked.book(ctx, starts_at=at(TUESDAY, "09:00")).id
        theirs = booked.book(ctx, starts_at=at(TUESDAY, "12:00"), provider_id=other, patient=1).id
        gone = booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=2).id
        appts.cancel(ctx, appointment_id=gone, reason="no longer needed")
    with uow("frontdesk") as ctx:
        view = appts.day_view(ctx, day=TUESDAY)
    assert [c.provider_name for c in view.columns] == ["Abbott, Test", "Rivera, Alex"]
    abbott, rivera = view.columns
    assert [
        (w.local_start.strftime("%H:%M"), w.local_end.strftime("%H:%M")) for w in rivera.windows
    ] == [
        ("08:00", "12:00"),
        ("13:00", "17:00"),
    ]
    assert [(b.kind, b.reason, b.local_start.hour) for b in rivera.blocks] == [
        ("block", "Staff meeting", 12)
    ]
    assert abbott.blocks == []
    assert [a.appointment_id for a in rivera.appointments] == [mine]  # cancelled left out
    assert [a.appointment_id for a in abbott.appointments] == [theirs]
    with uow("frontdesk") as ctx:
        chosen = appts.day_view(ctx, day="2026-03-03", provider_ids=[booked.provider_id])
        refused(
            lambda: appts.day_view(ctx, day=TUESDAY, provider_ids=[999999]),
            code="not_found",
            field="provider_ids",
        )
    assert [c.provider_id for c in chosen.columns] == [booked.provider_id]


def test_day_view_reads_a_fixed_number_of_queries_however_many_rows(uow, booked, engine):
    """No per-row or per-provider queries: 1 or 12 appointments, 1 or 4 providers."""

    def statements_for_day_view() -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        assert flush_reads(engine)  # no grouped audit commit may run while counting
        with uow("frontdesk") as ctx:
            event.listen(engine, "before_cursor_execute", count)
            try:
                appts.day_view(ctx, day=TUESDAY)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    with uow("frontdesk") as ctx:
        booked.book(ctx, starts_at=at(TUESDAY, "09:00"))
    few = statements_for_day_view()
    with uow("admin") as ctx:
        for n, name in enumerate(("Abbott", "Baker", "Cruz")):
            pid = new_provider(ctx, name)
            weekday_hours(ctx, pid, booked.location_id)
            for hour in range(13, 16):
                booked.book(
                    ctx, starts_at=at(TUESDAY, f"{hour:02d}:00"), provider_id=pid, patient=n
                )
    many = statements_for_day_view()
    assert many == few
    # the acting user, practice (time zone), providers, locations, rooms, types,
    # templates, exceptions, appointments (the audit event is a grouped commit)
    assert many <= 9


def test_provider_week_has_seven_days_with_weekday_windows(uow, booked):
    with uow("frontdesk") as ctx:
        appt_id = booked.book(ctx, starts_at=at(date(2026, 3, 4), "10:00")).id
    with uow("frontdesk") as ctx:
        week = appts.provider_week(ctx, provider_id=booked.provider_id, week_of="2026-03-05")
    assert week.week_start == MONDAY
    assert [d.day.isoformat() for d in week.days][0::6] == ["2026-03-02", "2026-03-08"]
    assert [len(d.windows) for d in week.days] == [1, 1, 1, 1, 1, 0, 0]
    assert [[a.appointment_id for a in d.appointments] for d in week.days][2] == [appt_id]


def test_reading_the_schedule_needs_schedule_read(uow, booked):
    with pytest.raises(PermissionDenied, match="schedule:read"), uow("auditor") as ctx:
        appts.day_view(ctx, day=TUESDAY)


# --- review fixes -----------------------------------------------------------------------
def test_moving_an_overbook_within_its_day_does_not_count_itself_and_cancelled_ones_free_the_limit(
    uow, booked
):
    with uow("admin") as ctx:
        schedule_setup.set_overbook_limit(ctx, provider_id=booked.provider_id, per_day=1)
    with uow("frontdesk") as ctx:
        booked.book(ctx, starts_at=at(TUESDAY, "10:00"))
        booked.book(ctx, starts_at=at(TUESDAY, "11:00"), patient=1)
        over = booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=2, overbook=True)
    with uow("frontdesk") as ctx:  # the one overbook of the day moves to another taken time
        moved = appts.reschedule(
            ctx, appointment_id=over.id, starts_at=at(TUESDAY, "11:00"), overbook=True
        )
    assert moved.overbooked
    with uow("frontdesk") as ctx:
        appts.cancel(ctx, appointment_id=moved.id, reason="patient called")
    with uow("frontdesk") as ctx:  # a cancelled overbook no longer counts
        assert booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=2, overbook=True).overbooked


def test_a_booking_links_only_to_a_series_or_appointment_of_its_own_patient(uow, booked):
    with uow("frontdesk") as ctx:
        made = series.create_series(
            ctx,
            patient_id=booked.patient_ids[0],
            provider_id=booked.provider_id,
            location_id=booked.location_id,
            appointment_type_id=booked.visit_id,
            first_date=TUESDAY,
            local_start="09:00",
            rule="weekly",
            count=2,
        )
    series_id, first_id = made.series.id, made.booked[0].id
    with uow("frontdesk") as ctx:
        err = refused(
            lambda: booked.book(
                ctx,
                starts_at=at(TUESDAY, "14:00"),
                patient=1,
                series_id=series_id,
                rescheduled_from_id=first_id,
            ),
            code="other_patient",
            field="series_id",
        )
        assert ("rescheduled_from_id", "other_patient") in {(e.field, e.code) for e in err.errors}
        refused(
            lambda: booked.book(ctx, starts_at=at(TUESDAY, "14:00"), series_id=999999),
            code="not_found",
            field="series_id",
        )
        appt = booked.book(ctx, starts_at=at(TUESDAY, "14:00"), series_id=series_id)
    assert appt.series_id == series_id


def test_schedule_reads_audit_the_patients_they_show(uow, booked, engine):
    with uow("frontdesk") as ctx:
        booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=1)
        booked.book(ctx, starts_at=at(TUESDAY, "11:00"), patient=0)
        booked.book(ctx, starts_at=at(TUESDAY, "12:00"), patient=1)
    with uow("frontdesk") as ctx:
        appts.list_appointments(ctx, date_from=TUESDAY)
        appts.day_view(ctx, day=TUESDAY)
        appts.provider_week(ctx, provider_id=booked.provider_id, week_of=TUESDAY)
    shown = sorted(booked.patient_ids[:2])
    assert flush_reads(engine)  # reads are audited in grouped commits
    with Session(engine) as s:
        for action in ("appointment.list", "schedule.day_view", "schedule.week_view"):
            (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == action)).all()
            assert json.loads(event.detail)["patient_ids"] == shown, action


def test_a_12_hour_visit_is_busy_to_its_last_minute_and_free_right_after(uow, booked):
    """Types run up to 720 minutes; the overlap query's index bound must reach that far."""
    with uow("admin") as ctx:
        long_day = new_provider(ctx, "Okafor")
        weekday_hours(ctx, long_day, booked.location_id, start="06:00", end="19:00")
        infusion = schedule_setup.add_appointment_type(
            ctx, name="Infusion day", duration_minutes=720
        ).id
    with uow("frontdesk") as ctx:
        booked.book(
            ctx, starts_at=at(TUESDAY, "06:00"), provider_id=long_day, appointment_type_id=infusion
        )
        refused(
            lambda: booked.book(
                ctx, starts_at=at(TUESDAY, "17:45"), provider_id=long_day, patient=1
            ),
            code="provider_busy",
        )
        booked.book(ctx, starts_at=at(TUESDAY, "18:00"), provider_id=long_day, patient=1)
