"""Recurring appointment series: plan them, book them, cancel what is left of them.

A series repeats one booking (patient, provider, location, type, optional room)
at the same *local wall-clock* start on a rule:

- ``weekly``: every ``interval`` weeks on the first date's weekday;
- ``monthly_weekday``: every ``interval`` months on the first date's nth weekday
  (the 2nd Tuesday). When the first date is a 5th weekday, which most months do
  not have, the series uses the *last* such weekday of each month and says so.

It ends on ``until`` (inclusive) or after ``count`` occurrences, exactly one of
them, and has at most MAX_OCCURRENCES occurrences.

Local wall-clock is kept across daylight-saving changes: "09:00 every Monday" is
09:00 in the practice's time zone on every date, so its UTC instant moves by an
hour when the clocks change. A start that does not exist on a date (inside the
spring-forward gap) is reported for that date, never shifted.

Conflicts are never skipped silently: every occurrence that cannot be booked is
returned with the reasons, by date, for the desk to resolve.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlmodel import col, select

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.models import Appointment, AppointmentSeries
from pms_core.models.schedule import SERIES_RULES
from pms_core.permissions import require
from pms_core.services import appointments
from pms_core.services.appointments import (
    check_booking,
    local_to_utc,
    lock_resources,
    parse_day,
    parse_time,
    practice_zone,
    required_day,
    wall_to_utc,
)

MAX_OCCURRENCES = 104  # two years of weekly visits
MAX_INTERVAL = 52
# Occurrences that cancel_series may cancel: the patient has not arrived yet.
CANCELLABLE_STATUSES = ("booked", "confirmed")
_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}


@dataclass(frozen=True)
class Occurrence:
    """One date of a series. `starts_at` is UTC, None when the local start does
    not exist that day (spring-forward gap). `problems` lists every reason it
    cannot be booked (the field errors `appointments.check_booking` gives);
    empty means bookable."""

    number: int
    day: date
    starts_at: datetime | None
    problems: tuple[FieldError, ...] = ()

    @property
    def bookable(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class SeriesPlan:
    """The occurrences a series would have, and the rule in words."""

    description: str
    occurrences: list[Occurrence]

    @property
    def conflicts(self) -> list[Occurrence]:
        return [o for o in self.occurrences if not o.bookable]

    @property
    def bookable(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.bookable]


@dataclass
class SeriesResult:
    """What `create_series` did: the series row, the appointments it booked, and
    the occurrences it could not book (with their reasons) for the desk to
    resolve, e.g. by booking them at another time with `series_id` set."""

    series: AppointmentSeries
    description: str
    booked: list[Appointment] = field(default_factory=list)
    conflicts: list[Occurrence] = field(default_factory=list)


class SeriesConflict(Conflict):
    """No series was created because of conflicting occurrences; `conflicts`
    holds them with their reasons. The message names dates and reason codes."""

    def __init__(self, conflicts: list[Occurrence], total: int, *, all_or_nothing: bool):
        self.conflicts = conflicts
        listed = ", ".join(
            f"{o.day.isoformat()} ({'/'.join(p.code for p in o.problems)})" for o in conflicts
        )
        why = (
            "nothing was booked (all or nothing)"
            if all_or_nothing and len(conflicts) < total
            else "no occurrence can be booked"
        )
        super().__init__(f"{len(conflicts)} of {total} occurrences conflict: {listed}; {why}")


# --- the rule -----------------------------------------------------------------------
def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The nth (1-4) `weekday` of the month, or the last one when nth is 5."""
    if nth == 5:
        last = date(year, month, calendar.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _nth_of_month(day: date) -> int:
    return (day.day - 1) // 7 + 1


def _step(rule: str, interval: int, first_date: date, k: int) -> date:
    """The kth (0-based) date of the rule."""
    if rule == "weekly":
        return first_date + timedelta(weeks=interval * k)
    months = first_date.month - 1 + interval * k
    return _nth_weekday(
        first_date.year + months // 12,
        months % 12 + 1,
        first_date.weekday(),
        _nth_of_month(first_date),
    )


def describe_rule(rule: str, interval: int, first_date: date) -> str:
    """The rule in words, e.g. "every 2 weeks on Tuesday", "monthly on the last Friday"."""
    weekday = calendar.day_name[first_date.weekday()]
    if rule == "weekly":
        every = "weekly" if interval == 1 else f"every {interval} weeks"
        return f"{every} on {weekday}"
    every = "monthly" if interval == 1 else f"every {interval} months"
    nth = _nth_of_month(first_date)
    if nth == 5:
        return (
            f"{every} on the last {weekday} ({first_date.isoformat()} is a 5th {weekday}, "
            f"which most months do not have)"
        )
    return f"{every} on the {_ORDINALS[nth]} {weekday}"


def _rule_errors(
    rule: str, interval: int, first_date: date | None, until: date | None, count: int | None
) -> list[FieldError]:
    errors: list[FieldError] = []
    if rule not in SERIES_RULES:
        errors.append(FieldError("rule", "choice", f"must be one of: {', '.join(SERIES_RULES)}"))
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int)
        or not (1 <= interval <= MAX_INTERVAL)
    ):
        errors.append(
            FieldError("interval", "range", f"must be a whole number from 1 to {MAX_INTERVAL}")
        )
    if first_date is None:
        errors.append(FieldError("first_date", "required", "is required"))
    if until is None and count is None:
        errors.append(
            FieldError("until", "required", "give until (a last date) or count (how many)")
        )
    if until is not None and count is not None:
        errors.append(FieldError("count", "one_end", "give until or count, not both"))
    if until is not None and first_date is not None and until < first_date:
        errors.append(FieldError("until", "before_first", "is before the first date"))
    if count is not None and (
        isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_OCCURRENCES
    ):
        errors.append(
            FieldError("count", "range", f"must be from 1 to {MAX_OCCURRENCES} occurrences")
        )
    return errors


def occurrence_dates(
    *,
    rule: str,
    interval: int,
    first_date: date,
    until: date | None = None,
    count: int | None = None,
) -> list[date]:
    """The local dates of a series, first_date first; ValidationError for a bad
    rule, interval or end, or more than MAX_OCCURRENCES dates."""
    errors = _rule_errors(rule, interval, first_date, until, count)
    if errors:
        raise ValidationError(errors)
    if count is not None:
        return [_step(rule, interval, first_date, k) for k in range(count)]
    days: list[date] = []
    while (day := _step(rule, interval, first_date, len(days))) <= until:
        if len(days) == MAX_OCCURRENCES:
            raise ValidationError(
                [
                    FieldError(
                        "until",
                        "too_many",
                        f"the series would have more than {MAX_OCCURRENCES} occurrences; "
                        "choose an earlier end",
                    )
                ]
            )
        days.append(day)
    return days


# --- planning -----------------------------------------------------------------------
def _plan(
    ctx: Context,
    *,
    patient_id: int,
    provider_id: int,
    location_id: int,
    appointment_type_id: int,
    first_date: date | str,
    local_start: time | str,
    rule: str,
    interval: int,
    until: date | str | None,
    count: int | None,
    room_id: int | None,
) -> tuple[SeriesPlan, date, time, date | None]:
    """Check every occurrence; also returns the first date, start and until as
    parsed (they are accepted as typed: "YYYY-MM-DD", "HH:MM"). A bad rule or end,
    or a problem that holds for every date (unknown or inactive patient,
    provider, type, room...), raises ValidationError once with every problem;
    the rest (past, unavailable, busy) are reported per occurrence."""
    first_date, first_error = parse_day("first_date", first_date)
    until, until_error = parse_day("until", until)
    local_start, start_error = parse_time("local_start", local_start)
    errors = [e for e in (first_error, until_error, start_error) if e is not None]
    if local_start is None and start_error is None:
        errors.append(FieldError("local_start", "required", "is required"))
    bad_input = {e.field for e in errors}
    errors += [
        e
        for e in _rule_errors(rule, interval, first_date, until, count)
        if e.field not in bad_input
    ]
    if errors:
        raise ValidationError(errors)
    days = occurrence_dates(
        rule=rule, interval=interval, first_date=first_date, until=until, count=count
    )
    zone = practice_zone(ctx)
    occurrences: list[Occurrence] = []
    for number, day in enumerate(days, start=1):
        starts_at = local_to_utc(zone, day, local_start)
        if starts_at is None:
            gap = FieldError(
                "starts_at",
                "nonexistent",
                f"{local_start:%H:%M} does not exist on {day.isoformat()} (daylight-saving change)",
            )
            occurrences.append(Occurrence(number, day, None, (gap,)))
            continue
        _, errors = check_booking(
            ctx,
            patient_id=patient_id,
            provider_id=provider_id,
            location_id=location_id,
            appointment_type_id=appointment_type_id,
            starts_at=starts_at,
            room_id=room_id,
        )
        for_every_date = [e for e in errors if e.field != "starts_at"]
        if for_every_date:
            raise ValidationError(for_every_date)
        occurrences.append(Occurrence(number, day, starts_at, tuple(errors)))
    plan = SeriesPlan(describe_rule(rule, interval, first_date), occurrences)
    return plan, first_date, local_start, until


def plan_series(
    ctx: Context,
    *,
    patient_id: int,
    provider_id: int,
    location_id: int,
    appointment_type_id: int,
    first_date: date | str,
    local_start: time | str,
    rule: str,
    interval: int = 1,
    until: date | str | None = None,
    count: int | None = None,
    room_id: int | None = None,
) -> SeriesPlan:
    """Preview a series: every occurrence (local date, UTC start) with the reasons
    it cannot be booked. Writes nothing but the audit event. ValidationError for
    a bad rule or end, or a problem that holds on every date."""
    require(ctx, "schedule:read", action="appointment_series.plan", patient_id=patient_id)
    plan, *_ = _plan(
        ctx,
        patient_id=patient_id,
        provider_id=provider_id,
        location_id=location_id,
        appointment_type_id=appointment_type_id,
        first_date=first_date,
        local_start=local_start,
        rule=rule,
        interval=interval,
        until=until,
        count=count,
        room_id=room_id,
    )
    audit.record(
        ctx,
        action="appointment_series.plan",
        patient_id=patient_id,
        detail={
            "provider_id": provider_id,
            "occurrences": len(plan.occurrences),
            "conflicts": len(plan.conflicts),
        },
    )
    return plan


def create_series(
    ctx: Context,
    *,
    patient_id: int,
    provider_id: int,
    location_id: int,
    appointment_type_id: int,
    first_date: date | str,
    local_start: time | str,
    rule: str,
    interval: int = 1,
    until: date | str | None = None,
    count: int | None = None,
    room_id: int | None = None,
    all_or_nothing: bool = False,
) -> SeriesResult:
    """Create a series and book its occurrences.

    The contract on conflicts: by default every free occurrence is booked and
    every conflicting one is returned in `SeriesResult.conflicts` with its date
    and reasons, for the desk to resolve; none is skipped silently. With
    `all_or_nothing=True`, any conflict books nothing and raises SeriesConflict
    listing them. SeriesConflict is also raised when no occurrence is free at
    all (a series without appointments helps nobody).

    Each occurrence is booked through `appointments.book` with `series_id`, so
    its permission, locks, clash checks, audit and `appointment_booked` notify
    apply. The provider, room and patient are locked before the occurrences are
    checked, so the answer holds until commit.
    """
    require(ctx, "schedule:write", action="appointment_series.create", patient_id=patient_id)
    lock_resources(ctx, provider_id=provider_id, room_id=room_id, patient_id=patient_id)
    plan, first_date, local_start, until = _plan(
        ctx,
        patient_id=patient_id,
        provider_id=provider_id,
        location_id=location_id,
        appointment_type_id=appointment_type_id,
        first_date=first_date,
        local_start=local_start,
        rule=rule,
        interval=interval,
        until=until,
        count=count,
        room_id=room_id,
    )
    conflicts = plan.conflicts
    if not plan.bookable or (all_or_nothing and conflicts):
        raise SeriesConflict(conflicts, len(plan.occurrences), all_or_nothing=all_or_nothing)
    series = AppointmentSeries(
        practice_id=ctx.practice_id,
        patient_id=patient_id,
        provider_id=provider_id,
        location_id=location_id,
        appointment_type_id=appointment_type_id,
        room_id=room_id,
        rule=rule,
        interval=interval,
        first_date=first_date,
        local_start=local_start,
        until=until,
        count=count,
        created_by_id=ctx.user.id if ctx.user else None,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(series)
    ctx.session.flush()
    booked = [
        appointments.book(
            ctx,
            patient_id=patient_id,
            provider_id=provider_id,
            location_id=location_id,
            appointment_type_id=appointment_type_id,
            starts_at=occurrence.starts_at,
            room_id=room_id,
            series_id=series.id,
        )
        for occurrence in plan.bookable
    ]
    audit.record(
        ctx,
        action="appointment_series.create",
        patient_id=patient_id,
        detail={
            "series_id": series.id,
            "booked": len(booked),
            "conflicts": len(conflicts),
            "appointment_ids": [a.id for a in booked],
        },
    )
    return SeriesResult(series, plan.description, booked, conflicts)


def cancel_series(
    ctx: Context, *, series_id: int, from_date: date | str, reason: str
) -> list[Appointment]:
    """Cancel the series' occurrences from `from_date` (local date) on that have
    not started yet and are still booked or confirmed, each through
    `appointments.cancel` (status rules, reason, who and when, audit and the
    `appointment_cancelled` notify). Earlier, started, arrived or finished
    occurrences are left alone. Returns the cancelled appointments, by start."""
    require(ctx, "schedule:write", action="appointment_series.cancel")
    row = ctx.session.get(AppointmentSeries, series_id)
    if row is None or row.practice_id != ctx.practice_id:
        raise NotFound(f"appointment series {series_id} not found")
    errors: list[FieldError] = []
    day = required_day("from_date", from_date, errors)
    if not (reason or "").strip():
        errors.append(FieldError("reason", "required", "is required"))
    if errors:
        raise ValidationError(errors)
    start_of_day = wall_to_utc(practice_zone(ctx), day, time(0))
    upcoming = ctx.session.exec(
        select(Appointment.id)
        .where(
            Appointment.series_id == row.id,
            col(Appointment.status).in_(CANCELLABLE_STATUSES),
            Appointment.starts_at >= max(start_of_day, ctx.clock.now()),
        )
        .order_by(Appointment.starts_at)
    ).all()
    cancelled = [
        appointments.cancel(ctx, appointment_id=appointment_id, reason=reason)
        for appointment_id in upcoming
    ]
    audit.record(
        ctx,
        action="appointment_series.cancel",
        patient_id=row.patient_id,
        detail={"series_id": row.id, "appointment_ids": [a.id for a in cancelled]},
    )
    return cancelled
