"""The slot finder: open times from templates, minus exceptions and appointments.

The clock stands at Monday 2026-03-02 09:00 in Chicago; see test_appointments.py
for the shared set-up (`booked`: weekday hours 08:00-17:00, a 30-minute visit, a
60-minute procedure needing one of two rooms).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pms_core.errors import PermissionDenied
from pms_core.models import Location
from pms_core.services import appointments as appts
from pms_core.services import practice as practice_service
from pms_core.services import schedule_setup
from tests.core.test_appointments import (
    CHICAGO,
    MONDAY,
    TUESDAY,
    at,
    make_booked,
    new_patient,
    new_provider,
    refused,
    weekday_hours,
)

WEDNESDAY = date(2026, 3, 4)


@pytest.fixture
def booked(uow, practice):
    return make_booked(uow, practice)


def local(slots) -> list[str]:
    return [s.starts_at.astimezone(CHICAGO).strftime("%a %H:%M") for s in slots]


def slots(uow, booked, role="frontdesk", **kwargs):
    args = dict(appointment_type_id=booked.visit_id, provider_id=booked.provider_id)
    with uow(role) as ctx:
        return appts.find_slots(ctx, **{**args, **kwargs})


def test_slots_follow_the_template_on_a_15_minute_grid(uow, booked):
    found = slots(uow, booked, date_from=TUESDAY, date_to=TUESDAY, limit=200)
    # 08:00 .. 16:30: a 30-minute visit must end by 17:00
    assert local(found)[:3] == ["Tue 08:00", "Tue 08:15", "Tue 08:30"]
    assert local(found)[-1] == "Tue 16:30"
    assert len(found) == 35
    first = found[0]
    assert (first.provider_id, first.location_id, first.room_id) == (
        booked.provider_id,
        booked.location_id,
        None,
    )
    assert first.ends_at - first.starts_at == timedelta(minutes=30)
    assert all(s.starts_at.tzinfo is not None for s in found)


def test_no_slot_in_the_past(uow, booked):
    found = slots(uow, booked, date_from="2026-02-20", date_to=MONDAY, limit=200)
    assert local(found)[0] == "Mon 09:00"  # now, by the clock
    assert all(s.starts_at >= datetime(2026, 3, 2, 15, 0, tzinfo=UTC) for s in found)


def test_existing_appointments_are_avoided(uow, booked):
    with uow("frontdesk") as ctx:
        booked.book(ctx, starts_at=at(TUESDAY, "10:00"))
        other = booked.book(ctx, starts_at=at(TUESDAY, "11:00"), patient=1)
        appts.cancel(ctx, appointment_id=other.id, reason="not needed")
    found = local(
        slots(
            uow,
            booked,
            date_from=TUESDAY,
            date_to=TUESDAY,
            window_start="09:30",
            window_end="11:30",
        )
    )
    # 09:45 would run into 10:00; the cancelled 11:00 is free again
    assert found == ["Tue 09:30", "Tue 10:30", "Tue 10:45", "Tue 11:00"]


def test_exceptions_are_avoided(uow, booked):
    with uow("admin") as ctx:
        schedule_setup.add_exception(ctx, kind="holiday", day=TUESDAY, reason="Closed")
        schedule_setup.add_exception(
            ctx,
            kind="block",
            provider_id=booked.provider_id,
            starts_at="2026-03-04 08:00",
            ends_at="2026-03-04 16:00",
        )
    found = slots(uow, booked, date_from=TUESDAY, date_to=WEDNESDAY, limit=200)
    assert local(found) == ["Wed 16:00", "Wed 16:15", "Wed 16:30"]


def test_an_exception_for_another_provider_or_location_does_not_block(uow, booked):
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        north = practice_service.add_location(
            ctx, name="North", address1="2 Test Way", city="Springfield", state="IL", zip="62702"
        ).id
        schedule_setup.add_exception(ctx, kind="time_off", provider_id=other, day=TUESDAY)
        schedule_setup.add_exception(ctx, kind="holiday", location_id=north, day=TUESDAY)
    found = slots(uow, booked, date_from=TUESDAY, limit=3)
    assert local(found) == ["Tue 08:00", "Tue 08:15", "Tue 08:30"]


def test_window_of_day_and_limit(uow, booked):
    found = slots(
        uow, booked, date_from=TUESDAY, date_to=WEDNESDAY, window_start="13:00", window_end="15:00"
    )
    tuesday = [s for s in local(found) if s.startswith("Tue")]
    assert tuesday == [
        "Tue 13:00",
        "Tue 13:15",
        "Tue 13:30",
        "Tue 13:45",
        "Tue 14:00",
        "Tue 14:15",
        "Tue 14:30",
    ]
    assert len(found) == 14
    assert local(slots(uow, booked, date_from=TUESDAY, limit=2)) == ["Tue 08:00", "Tue 08:15"]


def test_a_type_that_needs_a_room_gets_a_free_one(uow, booked):
    room_1, room_2 = booked.room_ids
    with uow("admin") as ctx:
        other, third = new_provider(ctx, "Okafor"), new_provider(ctx, "Park")
        weekday_hours(ctx, other, booked.location_id)
        weekday_hours(ctx, third, booked.location_id)
    rivera = booked.provider_id
    with uow("frontdesk") as ctx:
        for when, room, provider, patient in (
            ("08:00", room_1, other, 0),  # Okafor busy 08:00-09:00
            ("09:00", room_1, rivera, 2),  # room 1 busy 09:00-10:00
            ("10:00", room_2, rivera, 1),  # both rooms busy 10:00-11:00
            ("10:00", room_1, third, 0),
        ):
            booked.book(
                ctx,
                starts_at=at(TUESDAY, when),
                provider_id=provider,
                appointment_type_id=booked.procedure_id,
                room_id=room,
                patient=patient,
            )
    found = slots(
        uow,
        booked,
        appointment_type_id=booked.procedure_id,
        provider_id=other,
        date_from=TUESDAY,
        date_to=TUESDAY,
        window_end="12:00",
    )
    assert list(zip(local(found), [s.room_id for s in found], strict=True)) == [
        ("Tue 09:00", room_2),
        ("Tue 11:00", room_1),
    ]


def test_no_slot_for_a_room_type_where_there_is_no_room(uow, booked):
    with uow("admin") as ctx:
        north = practice_service.add_location(
            ctx, name="North", address1="2 Test Way", city="Springfield", state="IL", zip="62702"
        ).id
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, north)
    assert (
        slots(
            uow,
            booked,
            appointment_type_id=booked.procedure_id,
            provider_id=other,
            date_from=TUESDAY,
        )
        == []
    )
    room = slots(uow, booked, appointment_type_id=booked.procedure_id, date_from=TUESDAY)[0]
    assert room.room_id == booked.room_ids[0]


def test_every_slot_found_can_be_booked_and_then_is_gone(uow, booked):
    first = slots(uow, booked, appointment_type_id=booked.procedure_id, date_from=TUESDAY)[0]
    with uow("frontdesk") as ctx:
        appt = booked.book(
            ctx,
            starts_at=first.starts_at,
            appointment_type_id=booked.procedure_id,
            room_id=first.room_id,
            location_id=first.location_id,
        )
    assert appt.starts_at == first.starts_at
    after = slots(uow, booked, appointment_type_id=booked.procedure_id, date_from=TUESDAY, limit=1)
    assert local(after) == ["Tue 09:00"]


def test_any_provider_allowed_for_the_type_in_time_order(uow, booked):
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, booked.location_id, start="08:15", end="12:00")
        only_other = schedule_setup.add_appointment_type(
            ctx, name="Okafor special", duration_minutes=30, provider_ids=[other]
        ).id
    anyone = slots(uow, booked, provider_id=None, date_from=TUESDAY, limit=4)
    assert [(t, s.provider_id) for t, s in zip(local(anyone), anyone, strict=True)] == [
        ("Tue 08:00", booked.provider_id),
        ("Tue 08:15", booked.provider_id),
        ("Tue 08:15", other),
        ("Tue 08:30", booked.provider_id),
    ]
    special = slots(
        uow, booked, provider_id=None, appointment_type_id=only_other, date_from=TUESDAY, limit=3
    )
    assert {s.provider_id for s in special} == {other}
    refused(
        lambda: slots(uow, booked, appointment_type_id=only_other, date_from=TUESDAY),
        code="type_not_allowed",
        field="provider_id",
    )


def test_search_goes_week_by_week_until_it_finds_enough(uow, booked, practice):
    """A provider with one half hour a week, booked this week: the first open slot
    is next week, and the search stops at `limit`."""
    with uow("admin") as ctx:
        sparse = new_provider(ctx, "Sparse")
        schedule_setup.add_availability(
            ctx,
            provider_id=sparse,
            location_id=practice.location_id,
            weekday="wed",
            start_time="09:00",
            end_time="09:30",
            effective_from=MONDAY,
        )
        patient = new_patient(ctx, "Gus")
    with uow("frontdesk") as ctx:
        booked.patient_ids.append(patient)
        booked.book(ctx, starts_at=at(WEDNESDAY, "09:00"), provider_id=sparse, patient=3)
    found = slots(uow, booked, provider_id=sparse, date_from=TUESDAY, limit=3)
    assert [s.starts_at.astimezone(CHICAGO).date().isoformat() for s in found] == [
        "2026-03-11",
        "2026-03-18",
        "2026-03-25",
    ]
    assert slots(uow, booked, provider_id=sparse, date_from=TUESDAY, date_to="2026-03-10") == []


def test_dst_a_template_stays_at_its_local_time(uow, practice, clock):
    """Mondays 09:00-12:00: on the Mondays before and after the US change on
    2026-03-08 the first slot is 09:00 local, 15:00 UTC then 14:00 UTC."""
    clock.set(datetime(2026, 2, 27, 12, 0, tzinfo=UTC))
    with uow("admin") as ctx:
        schedule_setup.add_availability(
            ctx,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            weekday="monday",
            start_time="09:00",
            end_time="12:00",
            effective_from="2026-02-01",
        )
        visit = schedule_setup.add_appointment_type(ctx, name="Visit", duration_minutes=30).id
    with uow("frontdesk") as ctx:
        before = appts.find_slots(ctx, appointment_type_id=visit, date_from="2026-03-02", limit=1)
        after = appts.find_slots(ctx, appointment_type_id=visit, date_from="2026-03-09", limit=1)
    assert before[0].starts_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert after[0].starts_at == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert local(before + after) == ["Mon 09:00", "Mon 09:00"]


def test_dst_wall_clock_times_that_do_not_exist_are_skipped(uow, practice, clock):
    """Sundays 01:00-04:00: on 2026-03-08 02:00-02:59 does not exist in Chicago."""
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    with uow("admin") as ctx:
        schedule_setup.add_availability(
            ctx,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            weekday=6,
            start_time="01:00",
            end_time="04:00",
            effective_from="2026-03-01",
        )
        visit = schedule_setup.add_appointment_type(ctx, name="Visit", duration_minutes=30).id
        patient = new_patient(ctx, "Hal")
    with uow("frontdesk") as ctx:
        found = appts.find_slots(
            ctx, appointment_type_id=visit, date_from="2026-03-08", date_to="2026-03-08", limit=50
        )
    # 01:45 CST + 30 minutes ends at 03:15 CDT, inside the window (which ends 04:00 CDT)
    assert local(found) == [
        "Sun 01:00",
        "Sun 01:15",
        "Sun 01:30",
        "Sun 01:45",
        "Sun 03:00",
        "Sun 03:15",
        "Sun 03:30",
    ]
    assert [s.ends_at - s.starts_at for s in found] == [timedelta(minutes=30)] * 7
    with uow("frontdesk") as ctx:  # what the finder offers, booking accepts
        appts.book(
            ctx,
            patient_id=patient,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            appointment_type_id=visit,
            starts_at=found[3].starts_at,
        )


def test_bad_searches_are_refused_with_every_reason(uow, booked):
    err = refused(
        lambda: slots(
            uow,
            booked,
            date_from="2026-03-10",
            date_to="2026-03-01",
            window_start="14:00",
            window_end="9am",
            limit=0,
        ),
        code="before_start",
        field="date_to",
    )
    assert {(e.field, e.code) for e in err.errors} == {
        ("date_to", "before_start"),
        ("window_end", "time"),
        ("limit", "range"),
    }
    refused(
        lambda: slots(uow, booked, date_from=TUESDAY, appointment_type_id=999999),
        code="not_found",
        field="appointment_type_id",
    )
    refused(
        lambda: slots(uow, booked, date_from="2026-03-01", date_to="2027-06-01"),
        code="range_too_long",
        field="date_to",
    )
    with pytest.raises(PermissionDenied, match="schedule:read"):
        slots(uow, booked, role="auditor", date_from=TUESDAY)


def test_no_slot_at_an_inactive_location(uow, booked):
    """Every slot found must be bookable: book() refuses an inactive location."""
    with uow("admin") as ctx:
        north = practice_service.add_location(
            ctx, name="North", address1="2 Test Way", city="Springfield", state="IL", zip="62702"
        ).id
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, north)
        ctx.session.get(Location, north).active = False
    assert slots(uow, booked, provider_id=other, date_from=TUESDAY) == []


def _sunday_slots(uow, practice, clock, day: str, *windows: tuple[str, str]):
    """Slots for a 30-minute visit on one Sunday, with the given windows, and the
    ids to book one of them."""
    clock.set(datetime.fromisoformat(day).replace(tzinfo=UTC) - timedelta(days=2))
    with uow("admin") as ctx:
        for start, end in windows:
            schedule_setup.add_availability(
                ctx,
                provider_id=practice.provider_id,
                location_id=practice.location_id,
                weekday="sunday",
                start_time=start,
                end_time=end,
                effective_from="2026-01-01",
            )
        visit = schedule_setup.add_appointment_type(ctx, name="Visit", duration_minutes=30).id
        patient = new_patient(ctx, "Ivy")
    with uow("frontdesk") as ctx:
        found = appts.find_slots(
            ctx, appointment_type_id=visit, date_from=day, date_to=day, limit=50
        )
    return found, visit, patient


def test_dst_window_edges_inside_the_skipped_hour_are_the_jump(uow, practice, clock):
    """On 2026-03-08 Chicago's clocks jump from 02:00 to 03:00: a window until
    02:30 closes at the jump, and one from 02:30 opens there (03:00 CDT), not an
    hour after 02:30 CST."""
    found, _, _ = _sunday_slots(
        uow, practice, clock, "2026-03-08", ("00:00", "02:30"), ("02:30", "04:00")
    )
    assert [s.starts_at.astimezone(CHICAGO).strftime("%H:%M %Z") for s in found] == [
        "00:00 CST",
        "00:15 CST",
        "00:30 CST",
        "00:45 CST",
        "01:00 CST",
        "01:15 CST",
        "01:30 CST",  # the last to end by the jump
        "03:00 CDT",
        "03:15 CDT",
        "03:30 CDT",
    ]


def test_dst_the_repeated_hour_is_offered_twice_and_bookable(uow, practice, clock):
    """On 2026-11-01 01:00-01:59 happens twice in Chicago (CDT, then CST): a
    window 00:30-02:30 is three real hours, and its slots cover all of them."""
    found, visit, patient = _sunday_slots(uow, practice, clock, "2026-11-01", ("00:30", "02:30"))
    assert [s.starts_at.astimezone(CHICAGO).strftime("%H:%M %Z") for s in found] == [
        "00:30 CDT",
        "00:45 CDT",
        "01:00 CDT",
        "01:15 CDT",
        "01:30 CDT",
        "01:45 CDT",
        "01:00 CST",
        "01:15 CST",
        "01:30 CST",
        "01:45 CST",
        "02:00 CST",
    ]
    with uow("frontdesk") as ctx:  # what the finder offers, booking accepts
        appt = appts.book(
            ctx,
            patient_id=patient,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            appointment_type_id=visit,
            starts_at=found[7].starts_at,
        )
    assert appt.starts_at == datetime(2026, 11, 1, 7, 15, tzinfo=UTC)
