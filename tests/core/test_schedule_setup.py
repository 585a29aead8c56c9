"""Setting up the schedule: rooms, appointment types, availability, exceptions,
overbook limits. Each refusal names the field and writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import Session, func, select
from textual.color import Color

from pms_core.errors import NotFound, PermissionDenied
from pms_core.models import AuditEvent, AvailabilityTemplate, Provider
from pms_core.services import appointments as appts
from pms_core.services import practice as practice_service
from pms_core.services import schedule_setup as setup
from tests.core.test_appointments import CHICAGO, new_provider, refused
from tests.helpers import make_practice


def templates(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(AvailabilityTemplate)).one()


def audit_actions(engine, prefix: str) -> list[tuple[str, dict]]:
    with Session(engine) as s:
        events = s.exec(
            select(AuditEvent)
            .where(AuditEvent.action.startswith(prefix))  # type: ignore[attr-defined]
            .order_by(AuditEvent.seq)
        ).all()
    return [(e.action, json.loads(e.detail)) for e in events]


# --- rooms ----------------------------------------------------------------------------
def test_rooms_are_added_listed_and_unique_per_location(uow, practice, engine):
    with uow("manager") as ctx:
        room = setup.add_room(ctx, location_id=practice.location_id, name=" Room 1 ")
        setup.add_room(ctx, location_id=practice.location_id, name="Lab")
    assert room.name == "Room 1"
    with uow("frontdesk") as ctx:
        assert [r.name for r in setup.list_rooms(ctx)] == ["Lab", "Room 1"]
        assert setup.list_rooms(ctx, location_id=practice.location_id + 1000) == []
    with uow("manager") as ctx:
        err = refused(
            lambda: setup.add_room(ctx, location_id=practice.location_id, name="room 1"),
            code="taken",
            field="name",
        )
        assert f"room {room.id}" in str(err)
        refused(
            lambda: setup.add_room(ctx, location_id=practice.location_id, name=" "),
            code="required",
            field="name",
        )
        refused(
            lambda: setup.add_room(ctx, location_id=practice.location_id, name="x" * 41),
            code="too_long",
            field="name",
        )
    assert audit_actions(engine, "room.") == [
        ("room.create", {"room_id": room.id, "location_id": practice.location_id}),
        ("room.create", {"room_id": room.id + 1, "location_id": practice.location_id}),
    ]


def test_another_practices_location_is_not_found(uow, engine):
    other = make_practice(engine, name="Birch Clinic", prefix="b_")
    with uow("admin") as ctx:
        refused(
            lambda: setup.add_room(ctx, location_id=other.location_id, name="Room 1"),
            code="not_found",
            field="location_id",
        )


def test_setup_needs_schedule_manage(uow, practice):
    with pytest.raises(PermissionDenied, match="schedule:manage"), uow("frontdesk") as ctx:
        setup.add_room(ctx, location_id=practice.location_id, name="Room 1")


# --- appointment types ----------------------------------------------------------------
def test_every_allowed_color_is_one_textual_can_draw():
    for name in setup.COLORS:
        Color.parse(name)


def test_appointment_types_with_their_providers(uow, practice, engine):
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        setup.add_appointment_type(
            ctx,
            name="New patient",
            duration_minutes=45,
            color="green",
            provider_ids=[other, practice.provider_id, other],
        )
        setup.add_appointment_type(ctx, name="Follow-up", duration_minutes=15)
    with uow("frontdesk") as ctx:
        views = setup.list_appointment_types(ctx)
    assert [
        (
            view.appointment_type.name,
            view.appointment_type.duration_minutes,
            view.appointment_type.color,
            view.provider_ids,
        )
        for view in views
    ] == [
        ("Follow-up", 15, "blue", ()),
        ("New patient", 45, "green", tuple(sorted([other, practice.provider_id]))),
    ]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "follow-up"}, "name", "taken"),
        ({"duration_minutes": 0}, "duration_minutes", "range"),
        ({"duration_minutes": 721}, "duration_minutes", "range"),
        ({"duration_minutes": "30"}, "duration_minutes", "number"),
        ({"color": "chartreuse-ish"}, "color", "choice"),
        ({"provider_ids": [999999]}, "provider_ids", "not_found"),
    ],
)
def test_bad_appointment_types_are_refused(uow, practice, changes, field, code):
    with uow("admin") as ctx:
        setup.add_appointment_type(ctx, name="Follow-up", duration_minutes=15)
    with uow("admin") as ctx:
        refused(
            lambda: setup.add_appointment_type(
                ctx, **{"name": "Visit", "duration_minutes": 30, **changes}
            ),
            code=code,
            field=field,
        )
    with uow("admin") as ctx:
        assert len(setup.list_appointment_types(ctx)) == 1


# --- availability ---------------------------------------------------------------------
def availability(practice, **changes):
    return {
        "provider_id": practice.provider_id,
        "location_id": practice.location_id,
        "weekday": 0,
        "start_time": "08:00",
        "end_time": "12:00",
        "effective_from": "2026-03-01",
        **changes,
    }


def test_availability_accepts_objects_strings_and_day_names(uow, practice, engine):
    with uow("manager") as ctx:
        t = setup.add_availability(ctx, **availability(practice, weekday="Tue"))
        setup.add_availability(
            ctx,
            **availability(
                practice,
                weekday=1,
                start_time=time(13, 0),
                end_time=time(17, 0),
                effective_from=date(2026, 3, 1),
                effective_to="03/31/2026",
            ),
        )
        setup.add_availability(ctx, **availability(practice, weekday="wednesday"))
    assert (t.weekday, t.start_time, t.end_time, t.effective_from, t.effective_to) == (
        1,
        time(8),
        time(12),
        date(2026, 3, 1),
        None,
    )
    with uow("frontdesk") as ctx:
        rows = setup.list_availability(ctx, provider_id=practice.provider_id)
    assert [(r.weekday, r.start_time.hour, r.effective_to) for r in rows] == [
        (1, 8, None),
        (1, 13, date(2026, 3, 31)),
        (2, 8, None),
    ]
    assert [a for a, _ in audit_actions(engine, "availability.")] == ["availability.create"] * 3


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"weekday": 7}, "weekday", "weekday"),
        ({"weekday": "funday"}, "weekday", "weekday"),
        ({"start_time": "25:00"}, "start_time", "time"),
        ({"start_time": "8am"}, "start_time", "time"),
        ({"end_time": None}, "end_time", "required"),
        ({"end_time": "07:00"}, "end_time", "before_start"),
        ({"end_time": "08:00"}, "end_time", "before_start"),
        ({"effective_from": "2026-02-30"}, "effective_from", "date"),
        ({"effective_to": "2026-02-01"}, "effective_to", "before_start"),
        ({"location_id": 999999}, "location_id", "not_found"),
        ({"provider_id": 999999}, "provider_id", "not_found"),
    ],
)
def test_bad_availability_is_refused_by_field(uow, practice, engine, changes, field, code):
    with uow("manager") as ctx:
        refused(
            lambda: setup.add_availability(ctx, **availability(practice, **changes)),
            code=code,
            field=field,
        )
    assert templates(engine) == 0


def test_an_inactive_provider_gets_no_availability(uow, practice, engine):
    with uow("admin") as ctx:
        ctx.session.get(Provider, practice.provider_id).active = False
    with uow("manager") as ctx:
        refused(
            lambda: setup.add_availability(ctx, **availability(practice)),
            code="inactive",
            field="provider_id",
        )
    assert templates(engine) == 0


def test_overlapping_windows_are_refused_at_any_location(uow, practice, engine):
    with uow("admin") as ctx:
        first = setup.add_availability(ctx, **availability(practice, effective_to="2026-06-30"))
        north = practice_service.add_location(
            ctx, name="North", address1="2 Test Way", city="Springfield", state="IL", zip="62702"
        ).id
    with uow("manager") as ctx:
        for changes in (
            {"start_time": "11:30", "end_time": "13:00"},
            {"location_id": north, "start_time": "07:00", "end_time": "08:15"},
            {"effective_from": "2026-06-30"},
        ):
            err = refused(
                lambda changes=changes: setup.add_availability(
                    ctx, **availability(practice, **changes)
                ),
                code="overlap",
                field="start_time",
            )
            assert f"template {first.id}" in str(err)
    assert templates(engine) == 1
    with uow("manager") as ctx:  # back to back, another weekday, or after it ends: fine
        setup.add_availability(ctx, **availability(practice, start_time="12:00", end_time="13:00"))
        setup.add_availability(ctx, **availability(practice, weekday=4))
        setup.add_availability(ctx, **availability(practice, effective_from="2026-07-01"))
    assert templates(engine) == 4


def test_a_template_is_ended_never_extended(uow, practice):
    with uow("manager") as ctx:
        t = setup.add_availability(ctx, **availability(practice, effective_to="2026-06-30"))
    with uow("manager") as ctx:
        refused(
            lambda: setup.end_availability(ctx, template_id=t.id, effective_to="2026-07-31"),
            code="already_ended",
            field="effective_to",
        )
        refused(
            lambda: setup.end_availability(ctx, template_id=t.id, effective_to="2026-02-28"),
            code="before_start",
            field="effective_to",
        )
    with uow("manager") as ctx:
        ended = setup.end_availability(ctx, template_id=t.id, effective_to="2026-03-09")
    assert ended.effective_to == date(2026, 3, 9)
    with uow("admin") as ctx:
        visit = setup.add_appointment_type(ctx, name="Visit", duration_minutes=60).id
        found = appts.find_slots(ctx, appointment_type_id=visit, date_from="2026-03-03", limit=50)
    # Mondays 08:00-12:00: the 9th is the last day
    assert {s.starts_at.astimezone(CHICAGO).date() for s in found} == {date(2026, 3, 9)}
    with pytest.raises(NotFound), uow("manager") as ctx:
        setup.end_availability(ctx, template_id=999999, effective_to="2026-03-09")


# --- exceptions -----------------------------------------------------------------------
def test_a_whole_day_holiday_is_local_midnight_to_midnight_in_utc(uow, practice, engine):
    with uow("manager") as ctx:
        holiday = setup.add_exception(ctx, kind="holiday", day="2026-03-09", reason="Closed")
    # CDT began on 2026-03-08, so local midnight is 05:00 UTC
    assert holiday.starts_at == datetime(2026, 3, 9, 5, 0, tzinfo=UTC)
    assert holiday.ends_at == datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    assert (holiday.provider_id, holiday.location_id) == (None, None)
    assert audit_actions(engine, "availability_exception.") == [
        (
            "availability_exception.create",
            {
                "exception_id": holiday.id,
                "kind": "holiday",
                "provider_id": None,
                "location_id": None,
            },
        )
    ]


def test_exception_times_in_every_accepted_form(uow, practice):
    with uow("manager") as ctx:
        naive = setup.add_exception(
            ctx,
            kind="block",
            provider_id=practice.provider_id,
            starts_at=datetime(2026, 3, 3, 12, 0),
            ends_at="2026-03-03 13:30",
        )
        aware = setup.add_exception(
            ctx,
            kind="time_off",
            provider_id=practice.provider_id,
            starts_at=datetime(2026, 3, 4, 18, 0, tzinfo=UTC),
            ends_at="2026-03-04T14:00:00-06:00",
        )
        days = setup.add_exception(
            ctx,
            kind="time_off",
            provider_id=practice.provider_id,
            starts_at="2026-03-10",
            ends_at=date(2026, 3, 12),
        )
    assert (naive.starts_at, naive.ends_at) == (
        datetime(2026, 3, 3, 18, 0, tzinfo=UTC),
        datetime(2026, 3, 3, 19, 30, tzinfo=UTC),
    )
    assert (aware.starts_at, aware.ends_at) == (
        datetime(2026, 3, 4, 18, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 20, 0, tzinfo=UTC),
    )
    # through the end of the 12th
    assert (days.starts_at, days.ends_at) == (
        datetime(2026, 3, 10, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 13, 5, 0, tzinfo=UTC),
    )
    with uow("frontdesk") as ctx:
        assert [
            e.id for e in setup.list_exceptions(ctx, date_from="2026-03-04", date_to="2026-03-10")
        ] == [
            aware.id,
            days.id,
        ]
        assert setup.list_exceptions(ctx, date_from="2026-03-05", date_to="2026-03-09") == []


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"kind": "vacation"}, "kind", "choice"),
        ({"kind": ""}, "kind", "required"),
        ({"ends_at": "2026-03-03 08:00"}, "ends_at", "before_start"),
        ({"starts_at": "2026-03-08 02:30"}, "starts_at", "nonexistent"),
        ({"starts_at": "tomorrow"}, "starts_at", "datetime"),
        ({"starts_at": None}, "starts_at", "required"),
        ({"day": "2026-03-03"}, "day", "conflict"),
        ({"provider_id": 999999}, "provider_id", "not_found"),
        ({"location_id": 999999}, "location_id", "not_found"),
        ({"reason": "x" * 81}, "reason", "too_long"),
    ],
)
def test_bad_exceptions_are_refused_by_field(uow, practice, changes, field, code):
    args = {"kind": "block", "starts_at": "2026-03-03 09:00", "ends_at": "2026-03-03 10:00"}
    with uow("manager") as ctx:
        refused(lambda: setup.add_exception(ctx, **{**args, **changes}), code=code, field=field)
        assert setup.list_exceptions(ctx, date_from="2026-03-01", date_to="2026-03-31") == []


# --- overbook limit -------------------------------------------------------------------
def test_overbook_limit_is_set_and_changed(uow, practice, engine):
    with uow("manager") as ctx:
        setup.set_overbook_limit(ctx, provider_id=practice.provider_id, per_day=4)
    with uow("manager") as ctx:
        assert appts.overbook_limit(ctx, practice.provider_id) == 4
        setup.set_overbook_limit(ctx, provider_id=practice.provider_id, per_day=0)
    with uow("manager") as ctx:
        assert appts.overbook_limit(ctx, practice.provider_id) == 0
        refused(
            lambda: setup.set_overbook_limit(ctx, provider_id=practice.provider_id, per_day=-1),
            code="range",
            field="per_day",
        )
        refused(
            lambda: setup.set_overbook_limit(ctx, provider_id=999999, per_day=1),
            code="not_found",
            field="provider_id",
        )
    assert [d for _, d in audit_actions(engine, "provider.overbook_limit")] == [
        {"provider_id": practice.provider_id, "per_day": 4},
        {"provider_id": practice.provider_id, "per_day": 0},
    ]
