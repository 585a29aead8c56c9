"""The demo practice's schedule: rooms, appointment types, provider hours, a
reminder policy, two weeks of appointments around today, a recurring series and
a waitlist.

Everything goes through the real services, as the people who would do it: the
admin sets the schedule up, the front desk books each day a week ahead (the
clock is set to that moment, so "no booking in the past" holds as it would),
the reminder cron sends into the demo's outbox and some patients answer the
texts, and past visits are checked in, roomed and checked out, or marked
no-shows (fewer among the confirmed), at the end of their day. Deterministic
for a seed and a day.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pluggy
from sqlalchemy import Engine

from pms_core.clock import Clock, FixedClock
from pms_core.context import unit_of_work
from pms_core.errors import PmsError
from pms_core.models import AppointmentType
from pms_core.services import (
    appointments,
    reminder_outbox,
    reminders,
    schedule_setup,
    series,
    waitlist,
)
from pms_core.services.practice import list_locations, list_providers

# name, minutes, color, needs a room, the service types its eligibility checks ask about
TYPES = (
    ("Follow-up", 15, "blue", False, "98,30"),
    ("New patient", 30, "green", False, "98,30"),
    ("Annual physical", 45, "magenta", False, "81,30"),
    ("Procedure", 60, "red", True, "2,30"),
    ("Telehealth", 15, "cyan", False, "98,30"),
)
ROOMS = ("Exam 1", "Exam 2", "Procedure")
HOURS = ((time(8), time(12)), (time(13), time(17)))
RULES = (("email", "72h"), ("sms", "24h"))
DAYS_BACK = 3  # days before today as busy as today (older history is lighter)
DAYS_AHEAD = 10
HISTORY_SHARE = 8  # older days see an eighth of the visits: about 2 a provider, as a
# practice of this many patients does (a busy schedule around today shows more)
FILL = 0.6  # share of open slots booked
BOOK_AHEAD = 7  # days ahead the desk books a day's visits
# When the demo's reminder cron runs (`pms remind send`; a real office runs it
# every few minutes, three runs a day keep the demo quick): a 24h text goes
# 19 to 24 hours ahead, and a patient's answer is read by the next run.
DAY_RUNS = (time(12), time(17))
EVENING_RUNS = (time(20, 30),)
CONFIRM_SHARE = 0.5  # patients who answer a text "C"
CANCEL_SHARE = 0.02  # and who answer "X"
# No-shows and late cancellations among confirmed and unconfirmed visits.
NO_SHOW = {"confirmed": 0.03, "booked": 0.09}
LATE_CANCEL = 0.03


@dataclass(frozen=True)
class ScheduleSummary:
    appointment_types: int
    rooms: int
    appointments: int
    series: int
    waitlist: int
    reminders_sent: int = 0
    replies: int = 0


def build_schedule(
    engine: Engine,
    *,
    users: dict[str, int],
    patient_ids: Sequence[int],
    today: date,
    zone: ZoneInfo,
    rng: random.Random,
    pm: pluggy.PluginManager,
    clock: Clock,
    days_back: int = DAYS_BACK,
    before_day: Callable[[date], None] | None = None,
    after_day: Callable[[date], None] | None = None,
    outbox: Path | None = None,
) -> ScheduleSummary:
    """Set up and fill the demo schedule (see the module docstring). About 20
    visits per provider per day for a 500-patient demo, fewer for a smaller
    one; days more than DAYS_BACK before today (the history `days_back`
    reaches) get an eighth of that (HISTORY_SHARE). Day by day: the day a
    week ahead is booked, reminders go out (into `outbox`, when given:
    _ReminderDesk), the day is worked, `after_day(day)` runs (the billing
    office's evening), then `before_day(next day)` (the night-before
    eligibility sweep). Today is worked up to `clock`'s now."""
    first = today - timedelta(days=max(days_back, DAYS_BACK) + 7)
    setup_clock = FixedClock(datetime.combine(first, time(7), zone))
    with unit_of_work(engine, user_id=users["admin"], pm=pm, clock=setup_clock) as ctx:
        locations = [loc.id for loc in list_locations(ctx)]
        providers = [p.id for p in list_providers(ctx)]
        type_ids = [
            schedule_setup.add_appointment_type(
                ctx, name=name, duration_minutes=minutes, color=color, needs_room=room,
                service_types=service_types,
            ).id
            for name, minutes, color, room, service_types in TYPES
        ]  # fmt: skip
        rooms = 0
        for location_id in locations:
            for name in ROOMS:
                schedule_setup.add_room(ctx, location_id=location_id, name=name)
                rooms += 1
        for n, provider_id in enumerate(providers):
            for weekday in range(5):
                for start, end in HOURS:
                    schedule_setup.add_availability(
                        ctx,
                        provider_id=provider_id,
                        location_id=locations[n % len(locations)],
                        weekday=weekday,
                        start_time=start,
                        end_time=end,
                        effective_from=first,
                    )
        for channel, offset in RULES:
            reminders.add_rule(ctx, channel=channel, offset=offset)

    weights = [6, 2, 1, 1, 1]
    # A busy day has about 20 visits per provider; a small demo gets fewer.
    per_day = max(1, min(20, len(patient_ids) // 25))
    now = clock.now()
    start = today - timedelta(days=max(days_back, DAYS_BACK))
    last = today + timedelta(days=DAYS_AHEAD)
    booked = 0

    def book(day: date, at: datetime) -> None:
        nonlocal booked
        if day.weekday() >= 5 or day > last:
            return
        wanted = (
            per_day
            if day >= today - timedelta(days=DAYS_BACK)
            else max(1, per_day // HISTORY_SHARE)
        )
        with unit_of_work(engine, user_id=users["frontdesk"], pm=pm, clock=FixedClock(at)) as ctx:
            for provider_id in providers:
                booked += _fill_day(
                    ctx, rng, day, provider_id, type_ids, weights, patient_ids, wanted
                )

    # Each calendar day: the desk books the day a week ahead (today: everything
    # still to come), reminders go out through the day, the day is worked, the
    # billing office has its evening, the next day's coverage is checked, and
    # the evening's reminders go.
    desk = _ReminderDesk(engine, users["admin"], pm, zone, rng, outbox)
    for day in _dates(start - timedelta(days=BOOK_AHEAD), today):
        ahead = day + timedelta(days=BOOK_AHEAD)
        for later in _dates(ahead, last if day == today else ahead):
            book(later, min(datetime.combine(day, time(9), zone), now))
        if day == today:
            desk.run(day, DAY_RUNS, until=now)
            _work_morning(engine, users, pm, clock, day, zone, rng)
            break
        if day >= start:
            desk.run(day, DAY_RUNS)
            if day.weekday() < 5:
                _work_day(engine, users, pm, day, zone, rng)
                if after_day is not None:
                    after_day(day)
        if day >= start - timedelta(days=1):
            following = day + timedelta(days=1)
            if before_day is not None and following.weekday() < 5:
                before_day(following)
            desk.run(day, EVENING_RUNS)

    with unit_of_work(engine, user_id=users["frontdesk"], pm=pm, clock=clock) as ctx:
        made = _series_and_waitlist(ctx, rng, today, providers, locations, type_ids, patient_ids)
    return ScheduleSummary(
        appointment_types=len(type_ids),
        rooms=rooms,
        appointments=booked + made[0],
        series=1 if made[0] else 0,
        waitlist=made[1],
        reminders_sent=desk.sent,
        replies=desk.replies,
    )


def _fill_day(ctx, rng, day, provider_id, type_ids, weights, patient_ids, wanted) -> int:
    """Book up to `wanted` appointments into the provider's open time that day,
    walking the open slots in order and booking about FILL of them."""
    booked, busy_until = 0, None
    for slot in appointments.find_slots(
        ctx,
        appointment_type_id=type_ids[0],
        provider_id=provider_id,
        date_from=day,
        date_to=day,
        limit=appointments.MAX_SLOTS,
    ):
        if booked >= wanted:
            break
        if (busy_until and slot.starts_at < busy_until) or rng.random() > FILL:
            continue
        # A longer type may not fit before the window ends: fall back to the shortest.
        for type_id in dict.fromkeys((rng.choices(type_ids, weights)[0], type_ids[0])):
            try:
                with ctx.session.begin_nested():
                    appt = appointments.book(
                        ctx,
                        patient_id=rng.choice(patient_ids),
                        provider_id=provider_id,
                        location_id=slot.location_id,
                        appointment_type_id=type_id,
                        starts_at=slot.starts_at,
                        room_id=_room(ctx, type_id, slot),
                    )
            except PmsError:
                continue
            booked, busy_until = booked + 1, appt.ends_at
            break
    return booked


def _room(ctx, type_id, slot):
    """A free room at the slot's location when the type needs one."""
    appt_type = ctx.session.get(AppointmentType, type_id)
    if not appt_type.needs_room:
        return None
    ends_at = slot.starts_at + timedelta(minutes=appt_type.duration_minutes)
    return appointments.free_room(
        ctx, location_id=slot.location_id, starts_at=slot.starts_at, ends_at=ends_at
    )


def _day_rows(engine, users, pm, day, zone):
    clock = FixedClock(datetime.combine(day, time(7), zone))
    with unit_of_work(engine, user_id=users["frontdesk"], pm=pm, clock=clock) as ctx:
        return [
            (row.appointment_id, row.starts_at, row.status)
            for row in appointments.list_appointments(ctx, date_from=day, date_to=day)
            if row.status in ("booked", "confirmed")
        ]


def _visit(ctx, rng, appointment_id: int, *, finish: bool) -> None:
    appointments.check_in(ctx, appointment_id=appointment_id)
    if rng.random() < 0.8:
        appointments.room_patient(ctx, appointment_id=appointment_id)
    if finish:
        appointments.check_out(ctx, appointment_id=appointment_id)


def _work_day(engine, users, pm, day, zone, rng) -> None:
    """A past day as the desk lived it: most patients seen, a few no-shows
    (fewer among those who confirmed) and late cancellations."""
    clock = FixedClock(datetime.combine(day, time(18), zone))
    rows = _day_rows(engine, users, pm, day, zone)
    with unit_of_work(engine, user_id=users["frontdesk"], pm=pm, clock=clock) as ctx:
        for appointment_id, _starts, status in rows:
            roll = rng.random()
            with ctx.session.begin_nested():
                if roll < NO_SHOW[status]:
                    appointments.mark_no_show(ctx, appointment_id=appointment_id)
                elif roll < NO_SHOW[status] + LATE_CANCEL:
                    appointments.cancel(
                        ctx, appointment_id=appointment_id, reason="patient called: sick"
                    )
                else:
                    _visit(ctx, rng, appointment_id, finish=True)


def _work_morning(engine, users, pm, clock, day, zone, rng) -> None:
    """Today so far: visits that started before now are under way or done."""
    now = clock.now()
    rows = _day_rows(engine, users, pm, day, zone)
    with unit_of_work(engine, user_id=users["frontdesk"], pm=pm, clock=clock) as ctx:
        for appointment_id, starts_at, _status in rows:
            if starts_at > now:
                continue
            with ctx.session.begin_nested():
                _visit(ctx, rng, appointment_id, finish=starts_at < now - timedelta(hours=1))


def _dates(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class _ReminderDesk:
    """The practice's reminder cron (`pms remind send`) writing into the demo's
    outbox (reminder_outbox), and the patients answering its texts: about
    CONFIRM_SHARE confirm, CANCEL_SHARE cancel, within the hour. Does nothing
    without an outbox."""

    def __init__(self, engine, user_id, pm, zone, rng, outbox: Path | None):
        self.engine, self.user_id, self.pm, self.zone, self.rng = engine, user_id, pm, zone, rng
        self.outbox = outbox
        self.sent = self.replies = 0
        self._read: dict[Path, int] = {}  # texts file -> lines answered so far

    def run(self, day: date, runs: Sequence[time], until: datetime | None = None) -> None:
        if self.outbox is None:
            return
        for at in runs:
            moment = datetime.combine(day, at, self.zone)
            if until is not None and moment > until:
                return
            clock = FixedClock(moment)
            with unit_of_work(self.engine, user_id=self.user_id, pm=self.pm, clock=clock) as ctx:
                self.sent += reminders.send_due(ctx).sent
            self._answer(day, moment, until)

    def _answer(self, day: date, moment: datetime, until: datetime | None) -> None:
        texts = reminder_outbox.message_file(self.outbox, "sms", day)
        if not texts.exists():
            return
        lines = texts.read_text(encoding="utf-8").splitlines()
        answers = []
        for line in lines[self._read.get(texts, 0) :]:
            roll = self.rng.random()
            if roll >= CONFIRM_SHARE + CANCEL_SHARE:
                continue
            received = moment + timedelta(minutes=self.rng.randint(1, 50))
            if until is not None and received > until:
                continue
            message = json.loads(line)
            answers.append(
                {
                    "id": f"demo-{message['key']}",
                    "from": message["to"],
                    "text": "C" if roll < CONFIRM_SHARE else "X",
                    "received_at": received.isoformat(),
                }
            )
        self._read[texts] = len(lines)
        if answers:
            replies = texts.parent / reminder_outbox.REPLIES
            with replies.open("a", encoding="utf-8") as fh:
                os.chmod(replies, 0o600)
                fh.writelines(json.dumps(answer) + "\n" for answer in answers)
            self.replies += len(answers)


def _series_and_waitlist(ctx, rng, today, providers, locations, type_ids, patient_ids):
    """One weekly series (six visits) and three waitlist entries."""
    first = today + timedelta(days=(7 - today.weekday()) % 7 or 7)  # next Monday
    made = 0
    try:
        result = series.create_series(
            ctx,
            patient_id=patient_ids[0],
            provider_id=providers[0],
            location_id=locations[0],
            appointment_type_id=type_ids[0],
            first_date=first,
            local_start=time(16, 30),
            rule="weekly",
            count=6,
        )
        made = len(result.booked)
    except PmsError:
        made = 0
    waiting = 0
    for n, patient_id in enumerate(rng.sample(list(patient_ids[1:]), min(3, len(patient_ids) - 1))):
        try:
            waitlist.add_entry(
                ctx,
                patient_id=patient_id,
                appointment_type_id=type_ids[n % 2],
                earliest_date=today,
                latest_date=today + timedelta(days=21),
                provider_id=providers[n] if n < 2 else None,
                preferred_weekdays="" if n else "024",
            )
            waiting += 1
        except PmsError:
            continue
    return made, waiting


__all__ = ["ScheduleSummary", "build_schedule"]
