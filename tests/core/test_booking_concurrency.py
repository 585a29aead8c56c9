"""Two front desks at the same moment: real threads, each with its own session and
connection, lined up with a barrier. Exactly one booking of a provider's (or a
room's) time wins; the other gets a clear refusal. Each race runs several times.

Where the threads line up differs by engine. On PostgreSQL they meet inside
their units of work, right before the call, so both are in a transaction when
they race for the row locks. On SQLite a unit of work holds the database's write
lock from its first statement (BEGIN IMMEDIATE), so they meet just before
opening it: a barrier inside would wait forever for the thread queued on the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from pms_core.context import unit_of_work
from pms_core.errors import Conflict, ValidationError
from pms_core.models import Appointment
from pms_core.models.schedule import ACTIVE_STATUSES
from pms_core.services import appointments as appts
from tests.core.test_appointments import (
    MONDAY,
    TUESDAY,
    at,
    make_booked,
    new_provider,
    weekday_hours,
)

ROUNDS = 5


@pytest.fixture
def booked(uow, practice):
    return make_booked(uow, practice)


def race(engine, practice, pm, clock, calls: list[Callable]) -> list:
    """Run each call(ctx) in its own thread and unit of work, all at once; the
    result of each is what it returned or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    meet_inside = engine.dialect.name != "sqlite"
    results: list = [None] * len(calls)

    def run(n: int, call: Callable) -> None:
        try:
            if not meet_inside:
                barrier.wait(timeout=30)
            with unit_of_work(
                engine, user_id=practice.users["frontdesk"], pm=pm, clock=clock
            ) as ctx:
                if meet_inside:
                    barrier.wait(timeout=30)
                results[n] = call(ctx)
        except Exception as exc:  # the outcome under test
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    return results


def overlapping(engine, practice, pm, clock, first: Callable, second: Callable) -> list:
    """Desk 1 runs `first(ctx)` and keeps its transaction open while desk 2 runs
    `second(ctx)`: the widest window a race can have. Desk 2 must wait for desk 1's
    locks (on SQLite, for the write lock) and then see what desk 1 did; a path that
    checks without the lock finishes inside the window and misses it. The result of
    each is what it returned or the exception it raised."""
    first_done, release = threading.Event(), threading.Event()
    results: list = [None, None]

    def run(n: int, call: Callable) -> None:
        try:
            with unit_of_work(
                engine, user_id=practice.users["frontdesk"], pm=pm, clock=clock
            ) as ctx:
                results[n] = call(ctx)
                if n == 0:
                    first_done.set()
                    release.wait(10)
        except Exception as exc:  # the outcome under test
            results[n] = exc
        finally:
            first_done.set()

    desk1 = threading.Thread(target=run, args=(0, first))
    desk1.start()
    assert first_done.wait(10)
    desk2 = threading.Thread(target=run, args=(1, second))
    desk2.start()
    desk2.join(0.5)  # a desk 2 that takes no lock is done by now
    release.set()
    for desk in (desk1, desk2):
        desk.join(10)
        assert not desk.is_alive(), "a desk hung"
    return results


def one_winner(results: list, loser: type[Exception]) -> Exception:
    winners = [r for r in results if isinstance(r, Appointment)]
    losers = [r for r in results if isinstance(r, loser)]
    assert (len(winners), len(losers)) == (1, len(results) - 1), results
    return losers[0]


def active_between(engine, starts_at, ends_at, **match) -> int:
    with Session(engine) as s:
        query = select(Appointment.id).where(
            col(Appointment.status).in_(ACTIVE_STATUSES),
            Appointment.starts_at < ends_at,
            Appointment.ends_at > starts_at,
        )
        for name, value in match.items():
            query = query.where(getattr(Appointment, name) == value)
        return len(s.exec(query).all())


def test_two_desks_booking_the_same_provider_at_once(engine, practice, pm, clock, booked):
    for n in range(ROUNDS):
        when = at(TUESDAY, "09:00") + timedelta(hours=n)
        results = race(
            engine,
            practice,
            pm,
            clock,
            [
                lambda ctx, p=p, when=when: booked.book(ctx, starts_at=when, patient=p)
                for p in (0, 1)
            ],
        )
        refusal = one_winner(results, ValidationError)
        assert ("starts_at", "provider_busy") in {(e.field, e.code) for e in refusal.errors}
        assert "the provider already has appointment" in str(refusal)
        assert (
            active_between(
                engine, when, when + timedelta(minutes=30), provider_id=booked.provider_id
            )
            == 1
        )


def test_two_desks_booking_the_same_room_for_different_providers(
    engine, uow, practice, pm, clock, booked
):
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, booked.location_id)
    room = booked.room_ids[0]
    for n in range(ROUNDS):
        when = at(TUESDAY, "09:00") + timedelta(hours=n)
        results = race(
            engine,
            practice,
            pm,
            clock,
            [
                lambda ctx, p=p, provider=provider, when=when: booked.book(
                    ctx,
                    starts_at=when,
                    patient=p,
                    provider_id=provider,
                    appointment_type_id=booked.procedure_id,
                    room_id=room,
                )
                for p, provider in ((0, booked.provider_id), (1, other))
            ],
        )
        refusal = one_winner(results, ValidationError)
        assert ("starts_at", "room_busy") in {(e.field, e.code) for e in refusal.errors}
        assert active_between(engine, when, when + timedelta(hours=1), room_id=room) == 1


def test_two_desks_changing_one_appointment_at_once(engine, practice, pm, clock, uow, booked):
    """A late patient: one desk checks them in while another marks a no-show.
    One wins, the other is told the status it found, and the status is the winner's."""
    with uow("frontdesk") as ctx:
        ids = [
            booked.book(ctx, starts_at=at(MONDAY, "10:00") + timedelta(minutes=30 * n)).id
            for n in range(ROUNDS)
        ]
    clock.set(at(MONDAY, "16:00"))
    for appointment_id in ids:
        results = race(
            engine,
            practice,
            pm,
            clock,
            [
                lambda ctx, i=appointment_id: appts.check_in(ctx, appointment_id=i),
                lambda ctx, i=appointment_id: appts.mark_no_show(ctx, appointment_id=i),
            ],
        )
        refusal = one_winner(results, Conflict)
        [winner] = [r for r in results if isinstance(r, Appointment)]
        found = {"arrived": "is arrived;", "no_show": "is a no-show;"}[winner.status]
        assert found in str(refusal)
        with uow("frontdesk") as ctx:
            assert appts.get_appointment(ctx, appointment_id=appointment_id).status == winner.status


def test_two_desks_rooming_two_patients_into_one_room(engine, practice, pm, clock, uow, booked):
    """A late procedure patient goes to their booked room while another desk rooms
    the next patient there: the room takes one patient."""
    room = booked.room_ids[0]
    with uow("frontdesk") as ctx:
        late = booked.book(
            ctx,
            starts_at=at(MONDAY, "10:00"),
            appointment_type_id=booked.procedure_id,
            room_id=room,
        ).id
        following = booked.book(ctx, starts_at=at(MONDAY, "11:00"), patient=1).id
    clock.set(at(MONDAY, "11:05"))
    with uow("frontdesk") as ctx:
        for appointment_id in (late, following):
            appts.check_in(ctx, appointment_id=appointment_id)
    roomed, refused = overlapping(
        engine,
        practice,
        pm,
        clock,
        lambda ctx: appts.room_patient(ctx, appointment_id=late),
        lambda ctx: appts.room_patient(ctx, appointment_id=following, room_id=room),
    )
    assert isinstance(roomed, Appointment)
    assert isinstance(refused, ValidationError), refused
    assert ("room_id", "occupied") in {(e.field, e.code) for e in refused.errors}
    with Session(engine) as s:
        in_room = s.exec(
            select(Appointment.id).where(
                Appointment.room_id == room, Appointment.status == "in_room"
            )
        ).all()
    assert in_room == [late]


def test_two_desks_booking_one_patient_with_two_providers_at_once(
    engine, practice, pm, clock, uow, booked
):
    with uow("admin") as ctx:
        other = new_provider(ctx, "Okafor")
        weekday_hours(ctx, other, booked.location_id)
    when = at(TUESDAY, "09:00")
    first, second = overlapping(
        engine,
        practice,
        pm,
        clock,
        lambda ctx: booked.book(ctx, starts_at=when),
        lambda ctx: booked.book(ctx, starts_at=when, provider_id=other),
    )
    assert isinstance(first, Appointment)
    assert isinstance(second, ValidationError), second
    assert ("starts_at", "patient_busy") in {(e.field, e.code) for e in second.errors}
    patient = booked.patient_ids[0]
    assert active_between(engine, when, when + timedelta(minutes=30), patient_id=patient) == 1
