"""Appointments: booking, and the rule that a provider or room is never double-booked.

How double-booking is prevented, on both engines: a booking first locks the
provider's row (and the room's, and the patient's) and only then looks for
overlapping appointments and writes. On PostgreSQL the lock is `SELECT ... FOR
UPDATE`, so two front-desk users booking the same provider queue on that row, and
the second one's overlap check (a new statement under READ COMMITTED) sees the
first one's appointment. On SQLite every transaction begins IMMEDIATE
(pms_core.db), so writers are already serialized. Locks are always taken in one
order: the appointment row being changed (status changes, reschedule), then the
provider, the room, the patient, and the audit head last (pms_core.audit), so
two desks cannot deadlock.

Times: appointments are stored in UTC; availability templates are local
wall-clock times of the practice's time zone (see models.schedule).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, func, or_, type_coerce
from sqlmodel import col, select

from pms_core import audit
from pms_core import validation as v
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.models import (
    Appointment,
    AppointmentSeries,
    AppointmentType,
    AppointmentTypeProvider,
    AvailabilityException,
    AvailabilityTemplate,
    Location,
    Patient,
    Provider,
    ProviderScheduleSettings,
    Room,
)
from pms_core.models.schedule import ACTIVE_STATUSES, APPOINTMENT_STATUSES
from pms_core.permissions import require

# No appointment is longer than this (appointment types are at most 720 minutes);
# it bounds the index range of overlap queries.
MAX_APPOINTMENT = timedelta(hours=12)
DEFAULT_OVERBOOK_LIMIT = 2


# --- time ---------------------------------------------------------------------------
def practice_zone(ctx: Context) -> ZoneInfo:
    return ctx.zone()


def local_to_utc(zone: ZoneInfo, day: date, at: time) -> datetime | None:
    """The UTC instant of wall-clock `at` on `day` in `zone`, or None when that
    wall-clock time does not exist (it falls in a spring-forward gap). An
    ambiguous time (the repeated hour in autumn) is its first occurrence."""
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def to_local(zone: ZoneInfo, instant: datetime) -> datetime:
    return instant.astimezone(zone)


def wall_to_utc(zone: ZoneInfo, day: date, at: time) -> datetime:
    """The first instant at which the wall clock reads `at` on `day`: for window
    edges and day bounds, which must always be some instant. That is
    `local_to_utc`, except for a time in a spring-forward gap, which is the moment
    the clocks jumped over it: a window from 02:30 opens, and one until 02:30
    closes, when 02:00 became 03:00 (a local midnight that does not exist is the
    jump to 01:00)."""
    instant = local_to_utc(zone, day, at)
    if instant is not None:
        return instant
    wall = datetime.combine(day, at)
    # Read with the offset after the change `at` is before the jump, with the one
    # before it after the jump; the jump is the first second in between past `at`.
    before = int(datetime.combine(day, at, tzinfo=zone).replace(fold=1).timestamp())
    after = int(datetime.combine(day, at, tzinfo=zone).timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def local_day_bounds(zone: ZoneInfo, first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight starting `first` and ending `last`."""
    return wall_to_utc(zone, first, time(0)), wall_to_utc(zone, last + timedelta(days=1), time(0))


def template_window(zone: ZoneInfo, day: date, template: AvailabilityTemplate):
    """The (start, end) UTC instants of a template's window on `day`. The window
    keeps its wall-clock times across daylight-saving changes."""
    return wall_to_utc(zone, day, template.start_time), wall_to_utc(zone, day, template.end_time)


def template_applies(template: AvailabilityTemplate, day: date) -> bool:
    return (
        template.weekday == day.weekday()
        and template.effective_from <= day
        and (template.effective_to is None or day <= template.effective_to)
    )


# --- parsing what people type (CLI, TUI) --------------------------------------------
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def parse_time(field: str, value: time | str | None) -> tuple[time | None, FieldError | None]:
    """Accept a time or "HH:MM" (24-hour, optional ":SS"); None/blank is None."""
    if value is None or isinstance(value, time):
        return value, None
    text = str(value).strip()
    if not text:
        return None, None
    m = _TIME.fullmatch(text)
    try:
        if m:
            return time(int(m[1]), int(m[2]), int(m[3] or 0)), None
    except ValueError:
        pass
    return None, FieldError(field, "time", "is not a valid time (HH:MM, 24-hour)")


def parse_day(field: str, value: date | str | None) -> tuple[date | None, FieldError | None]:
    """Accept a date, "YYYY-MM-DD" or "MM/DD/YYYY"; a datetime is refused."""
    if isinstance(value, datetime):
        return None, FieldError(field, "date", "must be a date, not a date and time")
    return v.parse_date(field, value)


def required_day(field: str, value: date | str | None, errors: list[FieldError]) -> date | None:
    """`parse_day` for a date that must be given: a bad or missing one is added
    to `errors` and None returned."""
    day, err = parse_day(field, value)
    if day is None:
        errors.append(err or FieldError(field, "required", "is required"))
    return day


def parse_local_datetime(
    zone: ZoneInfo, field: str, value: datetime | date | str | None, *, end_of_day: bool = False
) -> tuple[datetime | None, FieldError | None]:
    """A UTC instant from an aware datetime, a naive one (practice wall-clock
    time), "YYYY-MM-DD HH:MM" (wall-clock, or with a UTC offset) or a bare date
    (local midnight starting that day, or ending it with `end_of_day`). A
    wall-clock time that does not exist (spring-forward gap) is an error."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            return None, FieldError(
                field, "datetime", "is not a valid date and time (YYYY-MM-DD HH:MM)"
            )
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end_of_day else value
        return wall_to_utc(zone, day, time(0)), None
    if value.tzinfo is not None:
        return value.astimezone(UTC), None
    instant = local_to_utc(zone, value.date(), value.time())
    if instant is None:
        return None, FieldError(
            field, "nonexistent", "does not exist on that day (daylight-saving change)"
        )
    return instant, None


# --- the practice's rows ------------------------------------------------------------
_INACTIVE = {
    Patient: "the patient is inactive",
    Provider: "the provider is inactive",
    Location: "the location is inactive",
    AppointmentType: "the type is inactive",
    Room: "the room is inactive",
}


def owned(
    ctx: Context, model, row_id: int | None, field: str, errors: list[FieldError], *, active=False
):
    """This practice's row of `model`, or None with a not_found error added to
    `errors`. With `active=True` an inactive row adds an inactive error (and is
    still returned, so the caller can check more)."""
    row = ctx.session.get(model, row_id) if row_id is not None else None
    if row is None or row.practice_id != ctx.practice_id:
        errors.append(FieldError(field, "not_found", f"{row_id} is not one of this practice's"))
        return None
    if active and not row.active:
        errors.append(FieldError(field, "inactive", _INACTIVE[model]))
    return row


def allowed_providers(ctx: Context, appointment_type_id: int) -> set[int]:
    """The providers allowed to see an appointment type; empty means every provider."""
    return set(
        ctx.session.exec(
            select(AppointmentTypeProvider.provider_id).where(
                AppointmentTypeProvider.appointment_type_id == appointment_type_id
            )
        ).all()
    )


def type_not_allowed(appointment_type_id: int) -> FieldError:
    return FieldError(
        "provider_id",
        "type_not_allowed",
        f"the provider does not see appointment type {appointment_type_id}",
    )


# --- conflicts ----------------------------------------------------------------------
@dataclass(frozen=True)
class Clash:
    """Why a time cannot be booked: `kind` is provider, room or patient."""

    kind: str
    appointment_id: int

    def __str__(self) -> str:
        return f"the {self.kind} already has appointment {self.appointment_id} at that time"


def lock_resources(
    ctx: Context, *, provider_id: int | None, room_id: int | None, patient_id: int | None = None
) -> None:
    """Take the booking locks (provider, then room, then patient; None = not
    needed) for the rest of the transaction."""
    if ctx.session.get_bind().dialect.name == "sqlite":
        return  # BEGIN IMMEDIATE already holds the database's write lock
    for model, row_id in ((Provider, provider_id), (Room, room_id), (Patient, patient_id)):
        if row_id is not None:
            ctx.session.exec(select(model.id).where(model.id == row_id).with_for_update())


def _overlapping(starts_at: datetime, ends_at: datetime, exclude_id: int | None):
    """Active appointments overlapping [starts_at, ends_at); back to back is no overlap."""
    query = select(Appointment).where(
        col(Appointment.status).in_(ACTIVE_STATUSES),
        Appointment.starts_at < ends_at,
        Appointment.starts_at > starts_at - MAX_APPOINTMENT,
        Appointment.ends_at > starts_at,
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return query


def find_clashes(
    ctx: Context,
    *,
    provider_id: int | None,
    room_id: int | None,
    patient_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
    exclude_id: int | None = None,
) -> list[Clash]:
    """Active appointments that overlap [starts_at, ends_at) for the provider, the
    room or the patient (None = not asked). Overbooked appointments count: a slot
    with an overbook is still taken."""
    clashes: list[Clash] = []
    base = _overlapping(starts_at, ends_at, exclude_id)
    for kind, column, value in (
        ("provider", Appointment.provider_id, provider_id),
        ("room", Appointment.room_id, room_id),
        ("patient", Appointment.patient_id, patient_id),
    ):
        if value is None:
            continue
        for appt in ctx.session.exec(base.where(column == value).order_by(Appointment.starts_at)):
            clashes.append(Clash(kind, appt.id))
    return clashes


def free_room(
    ctx: Context, *, location_id: int, starts_at: datetime, ends_at: datetime
) -> int | None:
    """The first active room at the location (by name) free for the interval."""
    rooms = ctx.session.exec(
        select(Room.id)
        .where(
            Room.practice_id == ctx.practice_id,
            Room.location_id == location_id,
            col(Room.active).is_(True),
        )
        .order_by(Room.name, Room.id)
    ).all()
    for room_id in rooms:
        clashes = find_clashes(
            ctx,
            provider_id=None,
            room_id=room_id,
            patient_id=None,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        if not clashes:
            return room_id
    return None


# --- availability -------------------------------------------------------------------
def within_availability(
    ctx: Context,
    *,
    provider_id: int,
    location_id: int,
    starts_at: datetime,
    ends_at: datetime,
) -> bool:
    """True when [starts_at, ends_at) lies inside one of the provider's template
    windows at the location on that local date and touches no exception."""
    zone = practice_zone(ctx)
    day = to_local(zone, starts_at).date()
    templates = ctx.session.exec(
        select(AvailabilityTemplate).where(
            AvailabilityTemplate.provider_id == provider_id,
            AvailabilityTemplate.location_id == location_id,
            AvailabilityTemplate.weekday == day.weekday(),
            AvailabilityTemplate.effective_from <= day,
        )
    ).all()
    windows = (template_window(zone, day, t) for t in templates if template_applies(t, day))
    inside = any(start <= starts_at and ends_at <= end for start, end in windows)
    return inside and not blocking_exceptions(
        ctx, provider_id=provider_id, location_id=location_id, starts_at=starts_at, ends_at=ends_at
    )


def exceptions_between(ctx: Context, start: datetime, end: datetime) -> list[AvailabilityException]:
    """The practice's exceptions overlapping [start, end), in time order."""
    return list(
        ctx.session.exec(
            select(AvailabilityException)
            .where(
                AvailabilityException.practice_id == ctx.practice_id,
                AvailabilityException.starts_at < end,
                AvailabilityException.ends_at > start,
            )
            .order_by(AvailabilityException.starts_at, AvailabilityException.id)
        )
    )


def _applies(exception, provider_id: int, location_id: int | None) -> bool:
    """A None provider or location on an exception means all of them."""
    return exception.provider_id in (None, provider_id) and exception.location_id in (
        None,
        location_id,
    )


def blocking_exceptions(
    ctx: Context, *, provider_id: int, location_id: int, starts_at: datetime, ends_at: datetime
) -> list[AvailabilityException]:
    """Exceptions (holidays, blocks, time off) that overlap the interval and apply
    to this provider at this location."""
    return [
        e
        for e in exceptions_between(ctx, starts_at, ends_at)
        if _applies(e, provider_id, location_id)
    ]


# --- booking ------------------------------------------------------------------------
def overbook_limit(ctx: Context, provider_id: int) -> int:
    settings = ctx.session.get(ProviderScheduleSettings, provider_id)
    return settings.overbook_limit_per_day if settings else DEFAULT_OVERBOOK_LIMIT


def _overbooks_that_day(
    ctx: Context, provider_id: int, starts_at: datetime, exclude_id: int | None
) -> int:
    """The provider's active overbooks on the local day of `starts_at`, leaving out
    `exclude_id` (the appointment being moved, which is cancelled by the move)."""
    zone = practice_zone(ctx)
    day = to_local(zone, starts_at).date()
    day_start, day_end = local_day_bounds(zone, day, day)
    query = select(func.count()).where(
        Appointment.provider_id == provider_id,
        col(Appointment.overbooked).is_(True),
        col(Appointment.status).in_(ACTIVE_STATUSES),
        Appointment.starts_at >= day_start,
        Appointment.starts_at < day_end,
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return ctx.session.exec(query).one()


def check_booking(
    ctx: Context,
    *,
    patient_id: int,
    provider_id: int,
    location_id: int,
    appointment_type_id: int,
    starts_at: datetime,
    room_id: int | None = None,
    overbook: bool = False,
    exclude_id: int | None = None,
    allow_past: bool = False,
) -> tuple[datetime, list[FieldError]]:
    """Every reason the booking cannot be made, as field errors (empty = bookable),
    and the end time. `exclude_id` is an appointment being moved: it neither
    clashes nor counts as an overbook. Call after `lock_resources` so the answer
    holds until commit."""
    errors: list[FieldError] = []
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be timezone-aware")
    patient = owned(ctx, Patient, patient_id, "patient_id", errors)
    if patient is not None and patient.deceased_date is not None:
        errors.append(FieldError("patient_id", "deceased", "the patient is marked deceased"))
    elif patient is not None and not patient.active:
        errors.append(FieldError("patient_id", "inactive", _INACTIVE[Patient]))
    owned(ctx, Provider, provider_id, "provider_id", errors, active=True)
    owned(ctx, Location, location_id, "location_id", errors, active=True)
    appt_type = owned(
        ctx, AppointmentType, appointment_type_id, "appointment_type_id", errors, active=True
    )
    room = None if room_id is None else owned(ctx, Room, room_id, "room_id", errors, active=True)
    ends_at = starts_at + timedelta(minutes=appt_type.duration_minutes if appt_type else 15)
    if appt_type is not None:
        allowed = allowed_providers(ctx, appt_type.id)
        if allowed and provider_id not in allowed:
            errors.append(type_not_allowed(appt_type.id))
        if appt_type.needs_room and room_id is None:
            errors.append(FieldError("room_id", "required", "this appointment type needs a room"))
    if room is not None and room.location_id != location_id:
        errors.append(FieldError("room_id", "wrong_location", "the room is at another location"))
    if not allow_past and starts_at < ctx.clock.now():
        errors.append(FieldError("starts_at", "past", "is in the past"))
    if errors:
        return ends_at, errors
    if not within_availability(
        ctx, provider_id=provider_id, location_id=location_id, starts_at=starts_at, ends_at=ends_at
    ):
        errors.append(
            FieldError(
                "starts_at",
                "unavailable",
                "is outside the provider's availability at this location",
            )
        )
    clashes = find_clashes(
        ctx,
        provider_id=provider_id,
        room_id=room_id,
        patient_id=patient_id,
        starts_at=starts_at,
        ends_at=ends_at,
        exclude_id=exclude_id,
    )
    for clash in clashes:
        # Overbooking may double the provider, never the room or the patient.
        if clash.kind == "provider" and overbook:
            continue
        errors.append(FieldError("starts_at", f"{clash.kind}_busy", str(clash)))
    if overbook:
        limit = overbook_limit(ctx, provider_id)
        if not any(c.kind == "provider" for c in clashes):
            errors.append(
                FieldError("overbook", "not_needed", "the slot is free; book it without overbook")
            )
        elif _overbooks_that_day(ctx, provider_id, starts_at, exclude_id) >= limit:
            errors.append(
                FieldError(
                    "overbook",
                    "limit",
                    f"provider {provider_id} has reached the daily overbook limit ({limit})",
                )
            )
    return ends_at, errors


def _link_errors(
    ctx: Context, patient_id: int, series_id: int | None, rescheduled_from_id: int | None
) -> list[FieldError]:
    """A booking may name the series it belongs to, or the appointment it
    replaces, only when that is this practice's and the same patient's."""
    errors: list[FieldError] = []
    for field_name, model, row_id, what in (
        ("series_id", AppointmentSeries, series_id, "series"),
        ("rescheduled_from_id", Appointment, rescheduled_from_id, "appointment"),
    ):
        if row_id is None:
            continue
        row = owned(ctx, model, row_id, field_name, errors)
        if row is not None and row.patient_id != patient_id:
            errors.append(
                FieldError(field_name, "other_patient", f"{what} {row_id} is another patient's")
            )
    return errors


def book(
    ctx: Context,
    *,
    patient_id: int,
    provider_id: int,
    location_id: int,
    appointment_type_id: int,
    starts_at: datetime,
    room_id: int | None = None,
    overbook: bool = False,
    note: str | None = None,
    series_id: int | None = None,
    rescheduled_from_id: int | None = None,
) -> Appointment:
    """Book an appointment, or raise ValidationError with every reason it cannot be.

    Refused: a time in the past, outside the provider's availability at the
    location, overlapping another active appointment of the provider, the room or
    the patient; an inactive provider, location, type or room, a deceased or
    inactive patient; a `series_id` or `rescheduled_from_id` that is not this
    patient's. `overbook=True` (permission schedule:overbook) books over the
    provider's other appointment on purpose, up to the provider's daily limit;
    it never doubles a room or a patient.
    """
    _require_booking(ctx, "appointment.book", patient_id, overbook)
    lock_resources(ctx, provider_id=provider_id, room_id=room_id, patient_id=patient_id)
    ends_at, errors = check_booking(
        ctx,
        patient_id=patient_id,
        provider_id=provider_id,
        location_id=location_id,
        appointment_type_id=appointment_type_id,
        starts_at=starts_at,
        room_id=room_id,
        overbook=overbook,
    )
    if note is not None and len(note) > 200:
        errors.append(FieldError("note", "too_long", "is longer than 200 characters"))
    errors += _link_errors(ctx, patient_id, series_id, rescheduled_from_id)
    if errors:
        raise ValidationError(errors)
    appt = _insert_appointment(
        ctx,
        patient_id=patient_id,
        provider_id=provider_id,
        location_id=location_id,
        room_id=room_id,
        appointment_type_id=appointment_type_id,
        series_id=series_id,
        rescheduled_from_id=rescheduled_from_id,
        starts_at=starts_at,
        ends_at=ends_at,
        overbooked=overbook,
        note=(note or "").strip() or None,
    )
    audit.record(
        ctx,
        action="appointment.book",
        patient_id=patient_id,
        detail={"appointment_id": appt.id, "provider_id": provider_id, "overbooked": overbook},
    )
    ctx.notify("appointment_booked", appointment_id=appt.id)
    return appt


def _require_booking(ctx: Context, action: str, patient_id: int | None, overbook: bool) -> None:
    """schedule:write, and schedule:overbook for an overbook. The overbook
    permission is checked first: it is the one a refused overbook lacks."""
    if overbook:
        require(ctx, "schedule:overbook", action="appointment.overbook", patient_id=patient_id)
    require(ctx, "schedule:write", action=action, patient_id=patient_id)


def _insert_appointment(
    ctx: Context, *, starts_at: datetime, ends_at: datetime, **fields
) -> Appointment:
    now = ctx.clock.now()
    appt = Appointment(
        practice_id=ctx.practice_id,
        starts_at=starts_at.astimezone(UTC),
        ends_at=ends_at.astimezone(UTC),
        created_by_id=ctx.user.id if ctx.user else None,
        created_at=now,
        updated_at=now,
        **fields,
    )
    ctx.session.add(appt)
    ctx.session.flush()
    return appt


def get_appointment(ctx: Context, *, appointment_id: int) -> Appointment:
    require(ctx, "schedule:read", action="appointment.read")
    appt = ctx.session.get(Appointment, appointment_id)
    if appt is None or appt.practice_id != ctx.practice_id:
        raise NotFound(f"appointment {appointment_id} not found")
    audit.record_read(
        ctx,
        action="appointment.read",
        patient_id=appt.patient_id,
        detail={"appointment_id": appt.id},
    )
    return appt


def _locked_appointment(ctx: Context, appointment_id: int) -> Appointment:
    """The appointment, locked for the rest of the transaction (FOR UPDATE on
    PostgreSQL; SQLite's write lock is already held), read fresh from the database."""
    appt = ctx.session.exec(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if appt is None or appt.practice_id != ctx.practice_id:
        raise NotFound(f"appointment {appointment_id} not found")
    return appt


# --- status flow --------------------------------------------------------------------
# The one table of legal moves. A patient may be checked in without having
# confirmed, and checked out without being roomed (small offices skip rooming);
# an arrived patient who leaves unseen is cancelled.
TRANSITIONS: dict[str, frozenset[str]] = {
    "booked": frozenset({"confirmed", "arrived", "cancelled", "no_show"}),
    "confirmed": frozenset({"arrived", "cancelled", "no_show"}),
    "arrived": frozenset({"in_room", "completed", "cancelled"}),
    "in_room": frozenset({"completed"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "no_show": frozenset(),
}
_STAMPS = {
    "confirmed": "confirmed_at",
    "arrived": "arrived_at",
    "in_room": "roomed_at",
    "completed": "completed_at",
    "cancelled": "cancelled_at",
    "no_show": "no_show_at",
}
_BEING = {"in_room": "in a room", "no_show": "a no-show"}  # "appointment 7 is ..."
_DOING = {
    "confirmed": "confirmed",
    "arrived": "checked in",
    "in_room": "roomed",
    "completed": "checked out",
    "cancelled": "cancelled",
    "no_show": "marked a no-show",
}


def _for_transition(ctx: Context, appointment_id: int, to: str) -> Appointment:
    """The locked appointment, or Conflict naming its status when it cannot move to `to`."""
    appt = _locked_appointment(ctx, appointment_id)
    if to not in TRANSITIONS[appt.status]:
        raise Conflict(
            f"appointment {appt.id} is {_BEING.get(appt.status, appt.status)}; it cannot be {_DOING[to]}"
        )
    return appt


def _move(ctx: Context, appt: Appointment, to: str, action: str) -> Appointment:
    """Set the new status and its timestamp, audit, and queue the notify hook."""
    previous, now = appt.status, ctx.clock.now()
    appt.status = to
    setattr(appt, _STAMPS[to], now)
    appt.updated_at = now
    ctx.session.add(appt)
    ctx.session.flush()
    audit.record(
        ctx,
        action=action,
        patient_id=appt.patient_id,
        detail={"appointment_id": appt.id, "from_status": previous, "to_status": to},
    )
    if to == "cancelled":
        ctx.notify("appointment_cancelled", appointment_id=appt.id)
    else:
        ctx.notify("appointment_status_changed", appointment_id=appt.id, status=to)
    return appt


def confirm(ctx: Context, *, appointment_id: int) -> Appointment:
    """The patient confirmed they are coming (booked -> confirmed)."""
    require(ctx, "schedule:write", action="appointment.confirm")
    appt = _for_transition(ctx, appointment_id, "confirmed")
    return _move(ctx, appt, "confirmed", "appointment.confirm")


def check_in(ctx: Context, *, appointment_id: int) -> Appointment:
    """The patient is at the desk (booked/confirmed -> arrived). Only on the
    appointment's own day (practice time zone): checking in next week's visit is
    a slip of the keyboard."""
    require(ctx, "schedule:write", action="appointment.check_in")
    appt = _for_transition(ctx, appointment_id, "arrived")
    day = to_local(practice_zone(ctx), appt.starts_at).date()
    if day != ctx.today():
        raise Conflict(
            f"appointment {appt.id} is on {day.isoformat()}, not today; "
            "only today's appointments can be checked in"
        )
    return _move(ctx, appt, "arrived", "appointment.check_in")


def room_patient(ctx: Context, *, appointment_id: int, room_id: int | None = None) -> Appointment:
    """The patient is taken to a room (arrived -> in_room): `room_id`, or the
    booked room when None (or no room at all). The room must not be occupied by
    a patient still in it; a room other than the booked one must also be at the
    appointment's location, active, and not booked by another appointment at
    this time. The room is locked before it is looked at, so two desks rooming
    two patients into one room queue and the second is refused."""
    require(ctx, "schedule:write", action="appointment.room")
    appt = _for_transition(ctx, appointment_id, "in_room")
    target = room_id if room_id is not None else appt.room_id
    other_room = target is not None and target != appt.room_id
    errors: list[FieldError] = []
    if other_room:
        room = owned(ctx, Room, target, "room_id", errors, active=True)
        if room is not None and room.location_id != appt.location_id:
            errors.append(
                FieldError("room_id", "wrong_location", "the room is at another location")
            )
    if target is not None and not errors:
        lock_resources(ctx, provider_id=appt.provider_id, room_id=target)
        clash = (
            ctx.session.exec(
                _overlapping(appt.starts_at, appt.ends_at, appt.id).where(
                    Appointment.room_id == target
                )
            ).first()
            if other_room
            else None
        )
        occupant = ctx.session.exec(
            select(Appointment.id).where(
                Appointment.room_id == target,
                Appointment.status == "in_room",
                Appointment.id != appt.id,
            )
        ).first()
        if clash is not None:
            errors.append(FieldError("room_id", "room_busy", str(Clash("room", clash.id))))
        elif occupant is not None:
            errors.append(
                FieldError("room_id", "occupied", f"the room is occupied by appointment {occupant}")
            )
    if errors:
        raise ValidationError(errors)
    appt.room_id = target
    return _move(ctx, appt, "in_room", "appointment.room")


def check_out(ctx: Context, *, appointment_id: int) -> Appointment:
    """The visit is over (arrived/in_room -> completed)."""
    require(ctx, "schedule:write", action="appointment.check_out")
    appt = _for_transition(ctx, appointment_id, "completed")
    return _move(ctx, appt, "completed", "appointment.check_out")


def mark_no_show(ctx: Context, *, appointment_id: int) -> Appointment:
    """The patient did not come (booked/confirmed -> no_show); only once the
    start time has passed."""
    require(ctx, "schedule:write", action="appointment.no_show")
    appt = _for_transition(ctx, appointment_id, "no_show")
    if appt.starts_at > ctx.clock.now():
        raise Conflict(
            f"appointment {appt.id} has not started yet; "
            "it can be marked a no-show once its start time has passed"
        )
    return _move(ctx, appt, "no_show", "appointment.no_show")


CANCEL_REASON_MAX = Appointment.__table__.columns["cancel_reason"].type.length


def cancel(ctx: Context, *, appointment_id: int, reason: str) -> Appointment:
    """Cancel (booked/confirmed, or arrived and left unseen -> cancelled) with a
    reason; who and when are recorded. The time is free again at once, and is
    offered to the matching waitlist entries in order (waitlist.offer_freed_slot)."""
    require(ctx, "schedule:write", action="appointment.cancel")
    if v.blank(reason):
        raise ValidationError([FieldError("reason", "required", "is required")])
    if len(reason.strip()) > CANCEL_REASON_MAX:
        raise ValidationError(
            [FieldError("reason", "too_long", f"must be at most {CANCEL_REASON_MAX} characters")]
        )
    appt = _for_transition(ctx, appointment_id, "cancelled")
    appt.cancel_reason = reason.strip()
    appt.cancelled_by_id = ctx.user.id if ctx.user else None
    _move(ctx, appt, "cancelled", "appointment.cancel")
    _offer_to_waitlist(ctx, appt)
    return appt


def _offer_to_waitlist(ctx: Context, freed: Appointment) -> None:
    """A cancelled or moved appointment's time is offered to the waitlist in the
    same transaction, so the offers exist exactly when the time is free. Time
    already begun is not offered. Called after the move's audit event: the audit
    head lock it holds until commit makes two desks freeing overlapping time (the
    two halves of an overbooking) queue, so the second sees the time free."""
    from pms_core.services import waitlist  # waitlist books through this module

    if freed.starts_at > ctx.clock.now():
        waitlist.offer_freed_slot(
            ctx,
            provider_id=freed.provider_id,
            location_id=freed.location_id,
            starts_at=freed.starts_at,
            ends_at=freed.ends_at,
            freed_by_appointment_id=freed.id,
        )


# --- reschedule ---------------------------------------------------------------------
RESCHEDULABLE = ("booked", "confirmed")


def reschedule(
    ctx: Context,
    *,
    appointment_id: int,
    starts_at: datetime,
    provider_id: int | None = None,
    location_id: int | None = None,
    room_id: int | None = None,
    overbook: bool = False,
) -> Appointment:
    """Move a booked or confirmed appointment; returns the new appointment.

    One transaction: the new time is checked like a booking (the old appointment
    neither clashes nor counts toward the overbook limit, so moving 10 minutes
    later works), then the old one is cancelled with reason "rescheduled" and the
    new one, linked by `rescheduled_from_id`, is booked (status booked: it needs
    confirming again). Provider and location default to the old ones; the room
    defaults to the old one while the location stays the same.
    """
    _require_booking(ctx, "appointment.reschedule", None, overbook)
    old = _locked_appointment(ctx, appointment_id)
    if old.status not in RESCHEDULABLE:
        raise Conflict(
            f"appointment {old.id} is {_BEING.get(old.status, old.status)}; "
            "only booked or confirmed appointments can be rescheduled"
        )
    provider_id = provider_id if provider_id is not None else old.provider_id
    location_id = location_id if location_id is not None else old.location_id
    if room_id is None and location_id == old.location_id:
        room_id = old.room_id
    lock_resources(ctx, provider_id=provider_id, room_id=room_id, patient_id=old.patient_id)
    ends_at, errors = check_booking(
        ctx,
        patient_id=old.patient_id,
        provider_id=provider_id,
        location_id=location_id,
        appointment_type_id=old.appointment_type_id,
        starts_at=starts_at,
        room_id=room_id,
        overbook=overbook,
        exclude_id=old.id,
    )
    if (starts_at, provider_id, location_id, room_id) == (
        old.starts_at,
        old.provider_id,
        old.location_id,
        old.room_id,
    ):
        errors.append(FieldError("starts_at", "unchanged", "is the appointment's current time"))
    if errors:
        raise ValidationError(errors)
    now = ctx.clock.now()
    old.status, old.cancel_reason = "cancelled", "rescheduled"
    old.cancelled_at = old.updated_at = now
    old.cancelled_by_id = ctx.user.id if ctx.user else None
    ctx.session.add(old)
    new = _insert_appointment(
        ctx,
        patient_id=old.patient_id,
        provider_id=provider_id,
        location_id=location_id,
        room_id=room_id,
        appointment_type_id=old.appointment_type_id,
        series_id=old.series_id,
        rescheduled_from_id=old.id,
        starts_at=starts_at,
        ends_at=ends_at,
        overbooked=overbook,
        note=old.note,
    )
    audit.record(
        ctx,
        action="appointment.reschedule",
        patient_id=old.patient_id,
        detail={
            "appointment_id": new.id,
            "previous_appointment_id": old.id,
            "provider_id": provider_id,
            "overbooked": overbook,
        },
    )
    _offer_to_waitlist(ctx, old)
    ctx.notify("appointment_rescheduled", appointment_id=new.id, previous_appointment_id=old.id)
    return new


# --- open slots ---------------------------------------------------------------------
SLOT_STEP = timedelta(minutes=15)  # the grid slots start on, from each window's start
DEFAULT_SEARCH_DAYS = 90
MAX_SEARCH_DAYS = 366
MAX_SLOTS = 200
SEARCH_CHUNK_DAYS = 7  # appointments are fetched a week at a time


@dataclass(frozen=True)
class Slot:
    """An open time that `book()` accepts as is (with `room_id` when the type
    needs a room). Times are UTC."""

    starts_at: datetime
    ends_at: datetime
    provider_id: int
    location_id: int
    room_id: int | None


class _Busy:
    """Busy time as sorted, merged intervals, so an overlap test is one binary search."""

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]):
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []
        for start, end in sorted(intervals):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        # The last interval starting before `end` is the only one that can reach past `start`.
        i = bisect_left(self.starts, end) - 1
        return i >= 0 and self.ends[i] > start


def _naive_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)


def _naive_wall(zone: ZoneInfo, naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _grid(zone: ZoneInfo, day: date, template: _Template, length: timedelta):
    """(start, end, wall start, wall end) of each candidate in the template's window
    on `day`: every SLOT_STEP of real time from the window's start, wholly inside
    the window. Across a daylight-saving change the steps run on in real time: no
    start falls in the hour that is skipped, and the hour that repeats gets its
    starts twice (before and after the change). Start and end are naive UTC; wall
    times are naive practice time."""
    window_start, window_end = template_window(zone, day, template)
    offset = window_start.astimezone(zone).utcoffset()
    steady = offset == window_end.astimezone(zone).utcoffset()  # no change inside
    start, last = _naive_utc(window_start), _naive_utc(window_end) - length
    while start <= last:
        end = start + length
        if steady:
            yield start, end, start + offset, end + offset
        else:
            yield start, end, _naive_wall(zone, start), _naive_wall(zone, end)
        start += SLOT_STEP


def _slot_providers(
    ctx: Context, appt_type: AppointmentType, provider_id: int | None, errors: list[FieldError]
) -> list[int]:
    """The provider asked for (checked), or every active provider allowed for the type."""
    allowed = allowed_providers(ctx, appt_type.id)
    if provider_id is None:
        active = ctx.session.exec(
            select(Provider.id).where(
                Provider.practice_id == ctx.practice_id, col(Provider.active).is_(True)
            )
        ).all()
        return [p for p in active if not allowed or p in allowed]
    provider = owned(ctx, Provider, provider_id, "provider_id", errors, active=True)
    if provider is not None and allowed and provider_id not in allowed:
        errors.append(type_not_allowed(appt_type.id))
    return [provider_id]


def _search_range(
    date_from: date | str, date_to: date | str | None, errors: list[FieldError]
) -> tuple[date | None, date | None]:
    """Parse an inclusive local date range (date_to may be None) and check it."""
    first = required_day("date_from", date_from, errors)
    last, err = parse_day("date_to", date_to)
    errors.extend(v.collect(err))
    if first is not None and last is not None:
        if last < first:
            errors.append(FieldError("date_to", "before_start", "is before date_from"))
        elif (last - first).days >= MAX_SEARCH_DAYS:
            errors.append(
                FieldError("date_to", "range_too_long", f"spans more than {MAX_SEARCH_DAYS} days")
            )
    return first, last


def find_slots(
    ctx: Context,
    *,
    appointment_type_id: int,
    provider_id: int | None = None,
    location_id: int | None = None,
    date_from: date | str,
    date_to: date | str | None = None,
    window_start: time | str | None = None,
    window_end: time | str | None = None,
    limit: int = 20,
) -> list[Slot]:
    """The first `limit` open slots for an appointment type, in time order.

    `provider_id` None searches every active provider allowed for the type;
    `location_id` None every active location. Dates are local and inclusive;
    `date_to` defaults to DEFAULT_SEARCH_DAYS days from `date_from`. `window_start`
    and `window_end` keep slots within a local time of day.

    A slot starts on the SLOT_STEP grid from a template window's start, lies
    wholly in the window, touches no exception, overlaps no active appointment of
    the provider (at any location), for a type that needs a room has a free room
    at the location (the first by name is chosen), and is not in the past: `book()`
    accepts it as it is. A template keeps its wall-clock times across
    daylight-saving changes (see `_grid` for the night of the change).

    Templates and exceptions are read once; appointments a week at a time via
    the (provider_id, starts_at) index, stopping once `limit` slots are found.
    Not audited: it reads no patient data.
    """
    require(ctx, "schedule:read", action="appointment.slots")
    errors: list[FieldError] = []
    first, last = _search_range(date_from, date_to, errors)
    if first is not None and last is None:
        last = first + timedelta(days=DEFAULT_SEARCH_DAYS - 1)
    day_from, err = parse_time("window_start", window_start)
    errors.extend(v.collect(err))
    day_until, err = parse_time("window_end", window_end)
    errors.extend(v.collect(err))
    if day_from and day_until and day_until <= day_from:
        errors.append(FieldError("window_end", "before_start", "must be after window_start"))
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SLOTS:
        errors.append(FieldError("limit", "range", f"must be a number from 1 to {MAX_SLOTS}"))
    appt_type = owned(
        ctx, AppointmentType, appointment_type_id, "appointment_type_id", errors, active=True
    )
    if location_id is not None:
        owned(ctx, Location, location_id, "location_id", errors, active=True)
    providers = _slot_providers(ctx, appt_type, provider_id, errors) if appt_type else []
    if errors:
        raise ValidationError(errors)
    zone = practice_zone(ctx)
    now = ctx.clock.now()
    first = max(first, to_local(zone, now).date())
    if not providers or last < first:
        return []
    return _SlotSearch(
        ctx, zone, appt_type, providers, location_id, first, last, day_from, day_until, now
    ).run(limit)


class _Template(NamedTuple):
    """The columns of an AvailabilityTemplate the search needs, as a plain tuple
    (read once per candidate window, ORM attribute access would dominate)."""

    provider_id: int
    location_id: int
    weekday: int
    start_time: time
    end_time: time
    effective_from: date
    effective_to: date | None


def _templates(
    ctx: Context,
    provider_ids: Iterable[int],
    first: date,
    last: date,
    location_id: int | None,
) -> list[_Template]:
    """The providers' templates in effect on some day of first..last at an active
    location (`location_id` None = any), by provider and start time."""
    query = (
        select(*(getattr(AvailabilityTemplate, f) for f in _Template._fields))
        .join(Location, Location.id == AvailabilityTemplate.location_id)
        .where(
            AvailabilityTemplate.practice_id == ctx.practice_id,
            col(AvailabilityTemplate.provider_id).in_(sorted(provider_ids)),
            AvailabilityTemplate.effective_from <= last,
            or_(
                col(AvailabilityTemplate.effective_to).is_(None),
                AvailabilityTemplate.effective_to >= first,
            ),
            col(Location.active).is_(True),
        )
        .order_by(AvailabilityTemplate.provider_id, AvailabilityTemplate.start_time)
    )
    if location_id is not None:
        query = query.where(AvailabilityTemplate.location_id == location_id)
    return [_Template(*row) for row in ctx.session.exec(query)]


@dataclass
class _SlotSearch:
    """One find_slots call: templates, exceptions and rooms read once, then
    appointments a week at a time.

    Inside, instants are naive UTC, the database's own representation: busy
    times are read without the per-row conversion to aware datetimes, which is
    most of the cost of scanning busy weeks. Slots are made aware on the way out.
    """

    ctx: Context
    zone: ZoneInfo
    appt_type: AppointmentType
    provider_ids: list[int]
    location_id: int | None
    first: date
    last: date
    day_from: time | None
    day_until: time | None
    now: datetime
    _blocked: dict[tuple[int, int], _Busy] = field(default_factory=dict)

    def run(self, limit: int) -> list[Slot]:
        session = self.ctx.session
        self.templates: dict[int, list[_Template]] = defaultdict(list)
        for t in _templates(self.ctx, self.provider_ids, self.first, self.last, self.location_id):
            self.templates[t.weekday].append(t)
        if not self.templates:
            return []
        start, end = local_day_bounds(self.zone, self.first, self.last)
        self.exceptions = session.exec(
            select(
                AvailabilityException.provider_id,
                AvailabilityException.location_id,
                type_coerce(AvailabilityException.starts_at, DateTime),
                type_coerce(AvailabilityException.ends_at, DateTime),
            ).where(
                AvailabilityException.practice_id == self.ctx.practice_id,
                AvailabilityException.starts_at < end,
                AvailabilityException.ends_at > start,
            )
        ).all()
        self.rooms: dict[int, list[int]] = defaultdict(list)
        if self.appt_type.needs_room:
            for room_id, location_id in session.exec(
                select(Room.id, Room.location_id)
                .where(Room.practice_id == self.ctx.practice_id, col(Room.active).is_(True))
                .order_by(Room.name, Room.id)
            ):
                self.rooms[location_id].append(room_id)
        slots: list[Slot] = []
        day = self.first
        while day <= self.last and len(slots) < limit:
            chunk_last = min(day + timedelta(days=SEARCH_CHUNK_DAYS - 1), self.last)
            slots.extend(self._open_slots(day, chunk_last))
            day = chunk_last + timedelta(days=1)
        return slots[:limit]

    def _blocked_for(self, provider_id: int, location_id: int) -> _Busy:
        key = (provider_id, location_id)
        if key not in self._blocked:
            self._blocked[key] = _Busy(
                (s, e)
                for p, loc, s, e in self.exceptions
                if p in (None, provider_id) and loc in (None, location_id)
            )
        return self._blocked[key]

    def _candidates(self, first: date, last: date) -> list[tuple[datetime, datetime, int, int]]:
        """(start, end, provider, location) on the days: in a window, on the grid,
        not past, within the time of day, clear of exceptions."""
        length = timedelta(minutes=self.appt_type.duration_minutes)
        now, day_from = _naive_utc(self.now), self.day_from
        out = []
        day = first
        while day <= last:
            until = datetime.combine(day, self.day_until) if self.day_until else None
            for t in self.templates.get(day.weekday(), ()):
                if not template_applies(t, day):
                    continue
                if self.appt_type.needs_room and not self.rooms[t.location_id]:
                    continue
                provider_id, location_id = t.provider_id, t.location_id
                blocked = self._blocked_for(provider_id, location_id)
                for start, end, wall, wall_end in _grid(self.zone, day, t, length):
                    if start < now or (day_from and wall.time() < day_from):
                        continue
                    if until is not None and wall_end > until:
                        continue  # not `break`: wall times repeat on an autumn night
                    if not blocked.overlaps(start, end):
                        out.append((start, end, provider_id, location_id))
            day += timedelta(days=1)
        return out

    def _busy(self, column, ids: set[int], first: date, last: date) -> dict[int, _Busy]:
        """Active appointments per provider (or room) on the local days, via the
        (column, starts_at) index."""
        start, end = local_day_bounds(self.zone, first, last)
        # Core, through the session's connection and transaction: plain rows, no ORM layer.
        rows = (
            self.ctx.session.connection()
            .execute(
                select(
                    column,
                    type_coerce(Appointment.starts_at, DateTime),
                    type_coerce(Appointment.ends_at, DateTime),
                ).where(
                    col(column).in_(sorted(ids)),
                    col(Appointment.status).in_(ACTIVE_STATUSES),
                    Appointment.starts_at > start - MAX_APPOINTMENT,
                    Appointment.starts_at < end,
                )
            )
            .all()
        )
        grouped: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        for key, s, e in rows:
            grouped[key].append((s, e))
        return {key: _Busy(grouped[key]) for key in ids}

    def _open_slots(self, first: date, last: date) -> list[Slot]:
        candidates = self._candidates(first, last)
        if not candidates:
            return []
        taken = self._busy(Appointment.provider_id, {c[2] for c in candidates}, first, last)
        candidates = [c for c in candidates if not taken[c[2]].overlaps(c[0], c[1])]
        room_busy: dict[int, _Busy] = {}
        if self.appt_type.needs_room and candidates:
            room_ids = {r for c in candidates for r in self.rooms[c[3]]}
            room_busy = self._busy(Appointment.room_id, room_ids, first, last)
        slots = []
        for start, end, provider_id, location_id in sorted(candidates):
            room_id = None
            if self.appt_type.needs_room:
                free = (r for r in self.rooms[location_id] if not room_busy[r].overlaps(start, end))
                room_id = next(free, None)
                if room_id is None:
                    continue
            slots.append(
                Slot(
                    start.replace(tzinfo=UTC),
                    end.replace(tzinfo=UTC),
                    provider_id,
                    location_id,
                    room_id,
                )
            )
        return slots


# --- what a schedule screen shows ---------------------------------------------------
class AppointmentRow(NamedTuple):
    """One appointment as a schedule or list shows it. `starts_at`/`ends_at` are
    UTC, `local_start`/`local_end` the practice's wall-clock time. A NamedTuple:
    a day view builds thousands, and `_asdict()` serves listings."""

    appointment_id: int
    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    local_end: datetime
    provider_id: int
    provider_name: str
    location_id: int
    location_name: str
    room_id: int | None
    room_name: str | None
    appointment_type_id: int
    type_name: str
    color: str
    status: str
    patient_id: int
    patient_name: str  # "Last, First"
    overbooked: bool
    note: str | None
    # The latest eligibility answer for the visit, worst coverage first: inactive,
    # rejected, failed, changed, pending, active; None when never checked.
    eligibility: str | None = None


@dataclass(frozen=True)
class ScheduleWindow:
    """Time a provider is available at a location (template window minus exceptions)."""

    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    local_end: datetime
    location_id: int


@dataclass(frozen=True)
class ScheduleBlock:
    """An exception (holiday, block, time off) shown on a provider's day."""

    exception_id: int
    kind: str
    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    local_end: datetime
    location_id: int | None
    reason: str | None


@dataclass
class ProviderDay:
    """One provider's column for one day."""

    provider_id: int
    provider_name: str
    day: date
    windows: list[ScheduleWindow] = field(default_factory=list)
    blocks: list[ScheduleBlock] = field(default_factory=list)
    appointments: list[AppointmentRow] = field(default_factory=list)


@dataclass
class DayView:
    day: date
    location_id: int | None
    columns: list[ProviderDay]

    @property
    def appointments(self) -> list[AppointmentRow]:
        """Every appointment of the day, all columns together, in time order."""
        rows = [a for c in self.columns for a in c.appointments]
        return sorted(rows, key=lambda a: (a.starts_at, a.provider_name, a.appointment_id))


@dataclass
class WeekView:
    provider_id: int
    provider_name: str
    week_start: date  # a Monday
    days: list[ProviderDay]


def _name(last: str, first: str) -> str:
    return f"{last}, {first}"


@dataclass
class _Names:
    """The practice's small tables as lookups, read once per call (four short
    queries) instead of joined into every appointment row."""

    providers: dict[int, str]
    active_providers: set[int]
    locations: dict[int, str]
    rooms: dict[int, str]
    types: dict[int, tuple[str, str]]  # id -> (name, color)

    @classmethod
    def load(cls, ctx: Context) -> _Names:
        run, practice = ctx.session.exec, ctx.practice_id
        providers = run(
            select(Provider.id, Provider.last_name, Provider.first_name, Provider.active).where(
                Provider.practice_id == practice
            )
        ).all()
        return cls(
            providers={pid: _name(last, first) for pid, last, first, _ in providers},
            active_providers={pid for pid, _, _, active in providers if active},
            locations=dict(
                run(
                    select(Location.id, Location.name).where(Location.practice_id == practice)
                ).all()
            ),
            rooms=dict(run(select(Room.id, Room.name).where(Room.practice_id == practice)).all()),
            types={
                tid: (name, color)
                for tid, name, color in run(
                    select(AppointmentType.id, AppointmentType.name, AppointmentType.color).where(
                        AppointmentType.practice_id == practice
                    )
                )
            },
        )


def _appointment_rows(
    ctx: Context, zone: ZoneInfo, names: _Names, conditions: list
) -> list[AppointmentRow]:
    """Appointment rows in time order, in one query (no per-row queries). Times
    are read as stored (naive UTC) and converted once per distinct instant: a
    day of 50 providers has thousands of rows but few distinct times."""
    query = (
        select(
            Appointment.id,
            type_coerce(Appointment.starts_at, DateTime),
            type_coerce(Appointment.ends_at, DateTime),
            Appointment.provider_id,
            Appointment.location_id,
            Appointment.room_id,
            Appointment.appointment_type_id,
            Appointment.status,
            Appointment.patient_id,
            Patient.last_name,
            Patient.first_name,
            Appointment.overbooked,
            Appointment.note,
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Appointment.practice_id == ctx.practice_id, *conditions)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    instants: dict[datetime, tuple[datetime, datetime]] = {}

    def aware(stored: datetime) -> tuple[datetime, datetime]:
        if stored not in instants:
            utc = stored.replace(tzinfo=UTC)
            instants[stored] = (utc, utc.astimezone(zone))
        return instants[stored]

    rows = []
    for (
        appt_id,
        starts,
        ends,
        pid,
        lid,
        rid,
        tid,
        status,
        patient_id,
        last,
        first,
        *rest,
    ) in ctx.session.connection().execute(query):
        (starts_at, local_start), (ends_at, local_end) = aware(starts), aware(ends)
        rows.append(
            AppointmentRow(
                appt_id,
                starts_at,
                ends_at,
                local_start,
                local_end,
                pid,
                names.providers[pid],
                lid,
                names.locations[lid],
                rid,
                names.rooms.get(rid),
                tid,
                *names.types[tid],
                status,
                patient_id,
                _name(last, first),
                *rest,
            )
        )
    if rows:
        from pms_core.services.eligibility import appointment_marks

        marks = appointment_marks(ctx, [r.appointment_id for r in rows])
        if marks:
            rows = [r._replace(eligibility=marks.get(r.appointment_id)) for r in rows]
    return rows


def _shown_patients(rows: Iterable[AppointmentRow]) -> list[int]:
    """The patients a read showed, for its audit event."""
    return sorted({r.patient_id for r in rows})


def list_appointments(
    ctx: Context,
    *,
    date_from: date | str,
    date_to: date | str | None = None,
    provider_id: int | None = None,
    location_id: int | None = None,
    status: str | None = None,
) -> list[AppointmentRow]:
    """Appointments starting on local dates `date_from`..`date_to` (inclusive;
    one day when `date_to` is None), in time order, of every status unless
    `status` is given. One audit event with the count and the patients shown."""
    require(ctx, "schedule:read", action="appointment.list")
    errors: list[FieldError] = []
    first, last = _search_range(date_from, date_to, errors)
    errors.extend(v.collect(v.choice_error("status", status, APPOINTMENT_STATUSES)))
    if errors:
        raise ValidationError(errors)
    zone = practice_zone(ctx)
    start, end = local_day_bounds(zone, first, last or first)
    conditions = [Appointment.starts_at >= start, Appointment.starts_at < end]
    if provider_id is not None:
        conditions.append(Appointment.provider_id == provider_id)
    if location_id is not None:
        conditions.append(Appointment.location_id == location_id)
    if status is not None:
        conditions.append(Appointment.status == status)
    rows = _appointment_rows(ctx, zone, _Names.load(ctx), conditions)
    rows.sort(key=lambda r: (r.starts_at, r.provider_name, r.appointment_id))
    audit.record_read(
        ctx,
        action="appointment.list",
        detail={"results": len(rows), "patient_ids": _shown_patients(rows)},
    )
    return rows


def _subtract(
    start: datetime, end: datetime, cuts: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """[start, end) minus the cut intervals, as the pieces left in order."""
    pieces = [(start, end)]
    for cut_start, cut_end in sorted(cuts):
        left = []
        for s, e in pieces:
            if cut_end <= s or cut_start >= e:
                left.append((s, e))
                continue
            if s < cut_start:
                left.append((s, cut_start))
            if cut_end < e:
                left.append((cut_end, e))
        pieces = left
    return pieces


def _provider_days(
    ctx: Context,
    zone: ZoneInfo,
    days: list[date],
    provider_ids: list[int] | None,
    location_id: int | None,
) -> tuple[dict[int, str], dict[tuple[int, date], ProviderDay]]:
    """Provider names, and a ProviderDay per (provider, day) that has a window, a
    block or an appointment. `provider_ids` None = all providers. The same seven
    queries whatever the number of providers or appointments: the four lookups
    of _Names, templates, exceptions, appointments. Cancelled appointments are
    left out."""
    names = _Names.load(ctx)
    wanted = set(provider_ids) if provider_ids is not None else set(names.providers)
    first, last = days[0], days[-1]
    templates = _templates(ctx, wanted & names.active_providers, first, last, location_id)
    start, end = local_day_bounds(zone, first, last)
    exceptions = exceptions_between(ctx, start, end)
    conditions = [
        Appointment.starts_at >= start,
        Appointment.starts_at < end,
        Appointment.status != "cancelled",
    ]
    if provider_ids is not None:
        conditions.append(col(Appointment.provider_id).in_(sorted(wanted)))
    if location_id is not None:
        conditions.append(Appointment.location_id == location_id)
    rows = _appointment_rows(ctx, zone, names, conditions)

    out: dict[tuple[int, date], ProviderDay] = {}

    def column(pid: int, day: date) -> ProviderDay:
        if (pid, day) not in out:
            out[pid, day] = ProviderDay(pid, names.providers[pid], day)
        return out[pid, day]

    for row in rows:
        column(row.provider_id, row.local_start.date()).appointments.append(row)
    todays: dict[date, list[AvailabilityException]] = {}
    for day in days:
        day_start, day_end = local_day_bounds(zone, day, day)
        todays[day] = [e for e in exceptions if e.starts_at < day_end and e.ends_at > day_start]
        for t in templates:
            if not template_applies(t, day):
                continue
            cuts = [
                (e.starts_at, e.ends_at)
                for e in todays[day]
                if _applies(e, t.provider_id, t.location_id)
            ]
            column(t.provider_id, day).windows.extend(
                ScheduleWindow(s, e, s.astimezone(zone), e.astimezone(zone), t.location_id)
                for s, e in _subtract(*template_window(zone, day, t), cuts)
            )
    for (pid, day), provider_day in out.items():
        places = {location_id} if location_id else {w.location_id for w in provider_day.windows}
        provider_day.blocks.extend(
            ScheduleBlock(
                e.id,
                e.kind,
                e.starts_at,
                e.ends_at,
                e.starts_at.astimezone(zone),
                e.ends_at.astimezone(zone),
                e.location_id,
                e.reason,
            )
            for e in todays[day]
            if e.provider_id in (None, pid) and e.location_id in (None, *places)
        )
    return names.providers, out


def day_view(
    ctx: Context,
    *,
    day: date | str,
    location_id: int | None = None,
    provider_ids: list[int] | None = None,
) -> DayView:
    """The schedule of one local day, a column per provider: their available
    windows (exceptions cut out), the exceptions, and the appointments (not the
    cancelled ones). Columns are `provider_ids` in that order, or every provider
    with a window or an appointment that day (at `location_id` when given), by
    name. One audit event with the count of appointments and the patients shown."""
    require(ctx, "schedule:read", action="schedule.day_view")
    errors: list[FieldError] = []
    the_day = required_day("day", day, errors)
    if errors:
        raise ValidationError(errors)
    zone = practice_zone(ctx)
    names, by_key = _provider_days(ctx, zone, [the_day], provider_ids, location_id)
    unknown = [pid for pid in provider_ids or () if pid not in names]
    if unknown:
        raise ValidationError(
            [
                FieldError("provider_ids", "not_found", f"{pid} is not one of this practice's")
                for pid in unknown
            ]
        )
    if provider_ids is not None:
        columns = [
            by_key.get((pid, the_day)) or ProviderDay(pid, names[pid], the_day)
            for pid in provider_ids
        ]
    else:
        columns = sorted(by_key.values(), key=lambda c: (c.provider_name, c.provider_id))
    shown = [a for c in columns for a in c.appointments]
    audit.record_read(
        ctx,
        action="schedule.day_view",
        detail={
            "results": len(shown),
            "providers": len(columns),
            "patient_ids": _shown_patients(shown),
        },
    )
    return DayView(the_day, location_id, columns)


def provider_week(ctx: Context, *, provider_id: int, week_of: date | str) -> WeekView:
    """One provider's week (Monday to Sunday) containing `week_of`: a ProviderDay
    per day, at every location. One audit event with the count of appointments
    and the patients shown."""
    require(ctx, "schedule:read", action="schedule.week_view")
    errors: list[FieldError] = []
    day = required_day("week_of", week_of, errors)
    owned(ctx, Provider, provider_id, "provider_id", errors)
    if errors:
        raise ValidationError(errors)
    zone = practice_zone(ctx)
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    names, by_key = _provider_days(ctx, zone, days, [provider_id], None)
    columns = [
        by_key.get((provider_id, d)) or ProviderDay(provider_id, names[provider_id], d)
        for d in days
    ]
    shown = [a for c in columns for a in c.appointments]
    audit.record_read(
        ctx,
        action="schedule.week_view",
        detail={
            "results": len(shown),
            "provider_id": provider_id,
            "patient_ids": _shown_patients(shown),
        },
    )
    return WeekView(provider_id, names[provider_id], monday, columns)
