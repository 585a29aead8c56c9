"""Setting up the schedule: rooms, appointment types, provider availability
(weekly templates and their exceptions) and each provider's overbook limit.

Changes need `schedule:manage` and are audited; lists need `schedule:read`
(they hold no patient data and are not audited). Times of day and dates are
accepted as `time`/`date` objects or as text ("08:00", "2026-03-02"); bad text
is reported as a FieldError like any other problem.

Availability templates are never edited: a changed schedule is the old template
ended (`end_availability`) and a new one added, so past weeks keep the hours
they really had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import func
from sqlmodel import col, select

from pms_core import audit
from pms_core import validation as v
from pms_core.context import Context
from pms_core.errors import FieldError, NotFound, ValidationError
from pms_core.models import (
    AppointmentType,
    AppointmentTypeProvider,
    AvailabilityException,
    AvailabilityTemplate,
    Location,
    Provider,
    ProviderScheduleSettings,
    Room,
)
from pms_core.models.schedule import EXCEPTION_KINDS
from pms_core.permissions import require
from pms_core.services.appointments import (
    exceptions_between,
    local_day_bounds,
    lock_resources,
    owned,
    parse_day,
    parse_local_datetime,
    parse_time,
    practice_zone,
    required_day,
)

# Named colors the TUI can draw (each is a Textual/CSS color name).
COLORS = (
    "blue",
    "green",
    "red",
    "yellow",
    "magenta",
    "cyan",
    "orange",
    "purple",
    "teal",
    "pink",
    "gray",
    "brown",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_OVERBOOK_PER_DAY = 20


def _name_errors(field: str, name: str | None, model) -> list[FieldError]:
    if v.blank(name):
        return [FieldError(field, "required", "is required")]
    return v.too_long({field: name.strip()}, model)


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)


# --- rooms --------------------------------------------------------------------------
def add_room(ctx: Context, *, location_id: int, name: str) -> Room:
    """A room (or other bookable resource) at a location; names are unique per
    location, ignoring case."""
    require(ctx, "schedule:manage", action="room.create")
    errors: list[FieldError] = []
    owned(ctx, Location, location_id, "location_id", errors, active=True)
    errors += _name_errors("name", name, Room)
    if not errors:
        taken = ctx.session.exec(
            select(Room.id).where(
                Room.location_id == location_id, func.lower(Room.name) == name.strip().lower()
            )
        ).first()
        if taken is not None:
            errors.append(FieldError("name", "taken", f"room {taken} at this location has it"))
    _raise(errors)
    room = Room(practice_id=ctx.practice_id, location_id=location_id, name=name.strip())
    ctx.session.add(room)
    ctx.session.flush()
    audit.record(ctx, action="room.create", detail={"room_id": room.id, "location_id": location_id})
    return room


def list_rooms(ctx: Context, *, location_id: int | None = None) -> list[Room]:
    """Active rooms, by location and name."""
    require(ctx, "schedule:read", action="room.list")
    query = select(Room).where(Room.practice_id == ctx.practice_id, col(Room.active).is_(True))
    if location_id is not None:
        query = query.where(Room.location_id == location_id)
    return list(ctx.session.exec(query.order_by(Room.location_id, Room.name)))


# --- appointment types --------------------------------------------------------------
@dataclass(frozen=True)
class AppointmentTypeView:
    """An appointment type with the providers allowed to see it (empty = all)."""

    appointment_type: AppointmentType
    provider_ids: tuple[int, ...]


def add_appointment_type(
    ctx: Context,
    *,
    name: str,
    duration_minutes: int,
    color: str = "blue",
    needs_room: bool = False,
    provider_ids: tuple[int, ...] | list[int] = (),
    service_types: str = "30",
) -> AppointmentType:
    """An appointment type: a unique name, 1-720 minutes, a color from COLORS,
    whether it needs a room, the providers who see it (none = every provider),
    and the X12 service types its eligibility checks ask about ("98,30")."""
    from pms_core.services.eligibility import service_type_errors

    require(ctx, "schedule:manage", action="appointment_type.create")
    errors = _name_errors("name", name, AppointmentType) + service_type_errors(service_types)
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        errors.append(FieldError("duration_minutes", "number", "must be a whole number"))
    elif not 1 <= duration_minutes <= 720:
        errors.append(FieldError("duration_minutes", "range", "must be 1 to 720 minutes"))
    errors = v.collect(errors, v.choice_error("color", color, COLORS))
    if v.blank(color):
        errors.append(FieldError("color", "required", "is required"))
    provider_ids = tuple(dict.fromkeys(provider_ids))
    for pid in provider_ids:
        owned(ctx, Provider, pid, "provider_ids", errors, active=True)
    if not v.blank(name) and "name" not in {e.field for e in errors}:
        taken = ctx.session.exec(
            select(AppointmentType.id).where(
                AppointmentType.practice_id == ctx.practice_id,
                func.lower(AppointmentType.name) == name.strip().lower(),
            )
        ).first()
        if taken is not None:
            errors.append(FieldError("name", "taken", f"appointment type {taken} has it"))
    _raise(errors)
    appt_type = AppointmentType(
        practice_id=ctx.practice_id,
        name=name.strip(),
        duration_minutes=duration_minutes,
        color=color,
        needs_room=bool(needs_room),
        service_types=",".join(c.strip().upper() for c in service_types.split(",") if c.strip())
        or "30",
    )
    ctx.session.add(appt_type)
    ctx.session.flush()
    for pid in provider_ids:
        ctx.session.add(AppointmentTypeProvider(appointment_type_id=appt_type.id, provider_id=pid))
    ctx.session.flush()
    audit.record(
        ctx,
        action="appointment_type.create",
        detail={"appointment_type_id": appt_type.id, "provider_ids": list(provider_ids)},
    )
    return appt_type


def list_appointment_types(ctx: Context) -> list[AppointmentTypeView]:
    """Active appointment types by name, each with its allowed providers."""
    require(ctx, "schedule:read", action="appointment_type.list")
    types = list(
        ctx.session.exec(
            select(AppointmentType)
            .where(
                AppointmentType.practice_id == ctx.practice_id,
                col(AppointmentType.active).is_(True),
            )
            .order_by(AppointmentType.name)
        )
    )
    allowed: dict[int, list[int]] = {t.id: [] for t in types}
    for type_id, pid in ctx.session.exec(
        select(AppointmentTypeProvider.appointment_type_id, AppointmentTypeProvider.provider_id)
        .where(col(AppointmentTypeProvider.appointment_type_id).in_(list(allowed)))
        .order_by(AppointmentTypeProvider.provider_id)
    ):
        allowed[type_id].append(pid)
    return [AppointmentTypeView(t, tuple(allowed[t.id])) for t in types]


# --- availability -------------------------------------------------------------------
def _weekday(value: int | str | None) -> tuple[int | None, FieldError | None]:
    """0-6 (Monday = 0), or a day name or its first three letters."""
    bad = FieldError("weekday", "weekday", "must be 0-6 (Monday = 0) or a day name")
    if isinstance(value, bool) or value is None:
        return None, FieldError("weekday", "required", "is required") if value is None else bad
    if isinstance(value, int):
        return (value, None) if 0 <= value <= 6 else (None, bad)
    text = str(value).strip().lower()
    if text.isdigit():
        return _weekday(int(text))
    for n, day_name in enumerate(WEEKDAYS):
        if len(text) >= 3 and day_name.startswith(text):
            return n, None
    return None, bad


def _required(field: str, value, err: FieldError | None) -> FieldError | None:
    if err is None and value is None:
        return FieldError(field, "required", "is required")
    return err


def add_availability(
    ctx: Context,
    *,
    provider_id: int,
    location_id: int,
    weekday: int | str,
    start_time: time | str,
    end_time: time | str,
    effective_from: date | str,
    effective_to: date | str | None = None,
) -> AvailabilityTemplate:
    """The provider works at the location on `weekday` from `start_time` to
    `end_time` (practice wall-clock time) between the effective dates (inclusive;
    open-ended without `effective_to`).

    Refused: an inactive or unknown provider or location, a bad weekday or time,
    an end not after the start, an end date before the start date, and a window
    that overlaps one of the provider's other templates on the same weekday in
    overlapping dates, at any location (a provider is in one place at a time).
    """
    require(ctx, "schedule:manage", action="availability.create")
    errors: list[FieldError] = []
    owned(ctx, Provider, provider_id, "provider_id", errors, active=True)
    owned(ctx, Location, location_id, "location_id", errors, active=True)
    day, err = _weekday(weekday)
    errors = v.collect(errors, err)
    start, err = parse_time("start_time", start_time)
    errors = v.collect(errors, _required("start_time", start, err))
    end, err = parse_time("end_time", end_time)
    errors = v.collect(errors, _required("end_time", end, err))
    if start and end and end <= start:
        errors.append(FieldError("end_time", "before_start", "must be after the start time"))
    first = required_day("effective_from", effective_from, errors)
    last, err = parse_day("effective_to", effective_to)
    errors = v.collect(errors, err)
    if first and last and last < first:
        errors.append(FieldError("effective_to", "before_start", "is before effective_from"))
    _raise(errors)
    # Serialize with other changes to this provider's schedule before looking for overlaps.
    lock_resources(ctx, provider_id=provider_id, room_id=None)
    for other in ctx.session.exec(
        select(AvailabilityTemplate).where(
            AvailabilityTemplate.provider_id == provider_id,
            AvailabilityTemplate.weekday == day,
            AvailabilityTemplate.start_time < end,
            AvailabilityTemplate.end_time > start,
        )
    ):
        if other.effective_from <= (last or date.max) and first <= (other.effective_to or date.max):
            errors.append(
                FieldError("start_time", "overlap", f"overlaps availability template {other.id}")
            )
    _raise(errors)
    template = AvailabilityTemplate(
        practice_id=ctx.practice_id,
        provider_id=provider_id,
        location_id=location_id,
        weekday=day,
        start_time=start,
        end_time=end,
        effective_from=first,
        effective_to=last,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(template)
    ctx.session.flush()
    audit.record(
        ctx,
        action="availability.create",
        detail={"template_id": template.id, "provider_id": provider_id},
    )
    return template


def list_availability(
    ctx: Context, *, provider_id: int | None = None
) -> list[AvailabilityTemplate]:
    """Templates, ended ones included (their dates say so), by provider, weekday
    and time."""
    require(ctx, "schedule:read", action="availability.list")
    query = select(AvailabilityTemplate).where(AvailabilityTemplate.practice_id == ctx.practice_id)
    if provider_id is not None:
        query = query.where(AvailabilityTemplate.provider_id == provider_id)
    return list(
        ctx.session.exec(
            query.order_by(
                AvailabilityTemplate.provider_id,
                AvailabilityTemplate.weekday,
                AvailabilityTemplate.start_time,
                AvailabilityTemplate.effective_from,
            )
        )
    )


def end_availability(
    ctx: Context, *, template_id: int, effective_to: date | str
) -> AvailabilityTemplate:
    """End a template on `effective_to` (its last day). A template can only be
    ended earlier, never extended or started later: history stays as it was.
    Appointments already booked after the end stay booked."""
    require(ctx, "schedule:manage", action="availability.end")
    template = ctx.session.get(AvailabilityTemplate, template_id)
    if template is None or template.practice_id != ctx.practice_id:
        raise NotFound(f"availability template {template_id} not found")
    errors: list[FieldError] = []
    last = required_day("effective_to", effective_to, errors)
    if last is not None:
        if last < template.effective_from:
            errors.append(
                FieldError("effective_to", "before_start", "is before the template's first day")
            )
        elif template.effective_to is not None and last > template.effective_to:
            errors.append(
                FieldError(
                    "effective_to",
                    "already_ended",
                    f"the template already ends on {template.effective_to.isoformat()}",
                )
            )
    _raise(errors)
    lock_resources(ctx, provider_id=template.provider_id, room_id=None)
    template.effective_to = last
    ctx.session.add(template)
    ctx.session.flush()
    audit.record(
        ctx,
        action="availability.end",
        detail={"template_id": template.id, "provider_id": template.provider_id},
    )
    return template


# --- exceptions ---------------------------------------------------------------------
def add_exception(
    ctx: Context,
    *,
    kind: str,
    starts_at: datetime | date | str | None = None,
    ends_at: datetime | date | str | None = None,
    day: date | str | None = None,
    provider_id: int | None = None,
    location_id: int | None = None,
    reason: str | None = None,
) -> AvailabilityException:
    """Take time out of availability: a holiday, block or time off, for one
    provider or everyone (`provider_id` None), at one location or all.

    Give `starts_at` and `ends_at` (aware datetimes, practice wall-clock naive
    datetimes or "YYYY-MM-DD HH:MM"; a bare date starts at its local midnight,
    and as `ends_at` runs through the end of that day), or `day` for a whole
    local day. Stored in UTC. Appointments already booked in the time stay booked.
    """
    require(ctx, "schedule:manage", action="availability_exception.create")
    zone = practice_zone(ctx)
    errors = v.collect(
        FieldError("kind", "required", "is required") if v.blank(kind) else None,
        v.choice_error("kind", kind, EXCEPTION_KINDS),
    )
    if day is not None:
        if starts_at is not None or ends_at is not None:
            errors.append(FieldError("day", "conflict", "give either day or starts_at/ends_at"))
        the_day = required_day("day", day, errors)
        start, end = local_day_bounds(zone, the_day, the_day) if the_day else (None, None)
    else:
        start, err = parse_local_datetime(zone, "starts_at", starts_at)
        errors = v.collect(errors, _required("starts_at", start, err))
        end, err = parse_local_datetime(zone, "ends_at", ends_at, end_of_day=True)
        errors = v.collect(errors, _required("ends_at", end, err))
    if start and end and end <= start:
        errors.append(FieldError("ends_at", "before_start", "must be after starts_at"))
    if provider_id is not None:
        owned(ctx, Provider, provider_id, "provider_id", errors, active=True)
    if location_id is not None:
        owned(ctx, Location, location_id, "location_id", errors, active=True)
    errors += v.too_long({"reason": (reason or "").strip()}, AvailabilityException)
    _raise(errors)
    exception = AvailabilityException(
        practice_id=ctx.practice_id,
        provider_id=provider_id,
        location_id=location_id,
        kind=kind,
        starts_at=start,
        ends_at=end,
        reason=(reason or "").strip() or None,
        created_by_id=ctx.user.id if ctx.user else None,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(exception)
    ctx.session.flush()
    audit.record(
        ctx,
        action="availability_exception.create",
        detail={
            "exception_id": exception.id,
            "kind": kind,
            "provider_id": provider_id,
            "location_id": location_id,
        },
    )
    return exception


def list_exceptions(
    ctx: Context, *, date_from: date | str, date_to: date | str
) -> list[AvailabilityException]:
    """Exceptions touching the local dates `date_from`..`date_to` (inclusive), in time order."""
    require(ctx, "schedule:read", action="availability_exception.list")
    errors: list[FieldError] = []
    first = required_day("date_from", date_from, errors)
    last = required_day("date_to", date_to, errors)
    if first and last and last < first:
        errors.append(FieldError("date_to", "before_start", "is before date_from"))
    _raise(errors)
    return exceptions_between(ctx, *local_day_bounds(practice_zone(ctx), first, last))


# --- overbooking --------------------------------------------------------------------
def set_overbook_limit(ctx: Context, *, provider_id: int, per_day: int) -> ProviderScheduleSettings:
    """How many overbooked appointments the provider may have in one day
    (0 = none; the default without a setting is appointments.DEFAULT_OVERBOOK_LIMIT)."""
    require(ctx, "schedule:manage", action="provider.overbook_limit")
    errors: list[FieldError] = []
    owned(ctx, Provider, provider_id, "provider_id", errors, active=True)
    if isinstance(per_day, bool) or not isinstance(per_day, int):
        errors.append(FieldError("per_day", "number", "must be a whole number"))
    elif not 0 <= per_day <= MAX_OVERBOOK_PER_DAY:
        errors.append(FieldError("per_day", "range", f"must be 0 to {MAX_OVERBOOK_PER_DAY}"))
    _raise(errors)
    settings = ctx.session.get(ProviderScheduleSettings, provider_id)
    if settings is None:
        settings = ProviderScheduleSettings(provider_id=provider_id, practice_id=ctx.practice_id)
    settings.overbook_limit_per_day = per_day
    ctx.session.add(settings)
    ctx.session.flush()
    audit.record(
        ctx,
        action="provider.overbook_limit",
        detail={"provider_id": provider_id, "per_day": per_day},
    )
    return settings
