"""`pms schedule room|type|hours|exception|overbook-limit`: setting up the schedule.

Scriptable, so an admin can lay out a practice's schedule in one shell script:
rooms per location, appointment types, each provider's weekly hours with the
dates they hold, holidays and time off, and how many overbookings a provider
takes a day. Times of day and dates are the practice's local wall-clock time.
Changes need the schedule:manage permission (admin, manager).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from pms_cli.appt import local_text
from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_core.models import AvailabilityException, AvailabilityTemplate
from pms_core.models.schedule import EXCEPTION_KINDS
from pms_core.services import schedule_setup
from pms_core.services.appointments import parse_day, practice_zone

TEMPLATE_COLUMNS = (
    "id",
    "provider_id",
    "location_id",
    "weekday",
    "from",
    "to",
    "effective_from",
    "effective_to",
)
EXCEPTION_COLUMNS = ("id", "kind", "start", "end", "provider_id", "location_id", "reason")
EXCEPTION_LIST_DAYS = 365  # `exception list` without --to: a year from --from


@click.group("schedule")
def schedule_group() -> None:
    """Set up the schedule: rooms, appointment types, hours, exceptions, overbooking."""


# --- rooms --------------------------------------------------------------------------
@schedule_group.group("room")
def room_group() -> None:
    """Rooms (and other bookable resources) per location."""


@room_group.command("add")
@click.argument("name")
@click.option("--location", "location_id", type=int, required=True)
@pass_state
def room_add(app: AppState, name: str, location_id: int) -> None:
    """Add a room at a location."""
    with app.uow() as ctx:
        room = schedule_setup.add_room(ctx, location_id=location_id, name=name)
    emit_record({"id": room.id, "location_id": room.location_id, "name": room.name}, app.fmt)


@room_group.command("list")
@click.option("--location", "location_id", type=int, help="Only this location.")
@pass_state
def room_list(app: AppState, location_id: int | None) -> None:
    """Active rooms by location and name."""
    with app.uow() as ctx:
        rooms = schedule_setup.list_rooms(ctx, location_id=location_id)
    emit(
        [{"id": r.id, "location_id": r.location_id, "name": r.name} for r in rooms],
        app.fmt,
        columns=("id", "location_id", "name"),
    )


# --- appointment types --------------------------------------------------------------
def _type_row(view: schedule_setup.AppointmentTypeView) -> dict[str, Any]:
    t = view.appointment_type
    return {
        "id": t.id,
        "name": t.name,
        "minutes": t.duration_minutes,
        "color": t.color,
        "needs_room": t.needs_room,
        "providers": ",".join(map(str, view.provider_ids)) or "all",
    }


@schedule_group.group("type")
def type_group() -> None:
    """Appointment types: length, color, room, which providers see them."""


@type_group.command("add")
@click.argument("name")
@click.option("--minutes", "duration_minutes", type=int, required=True, help="1 to 720.")
@click.option(
    "--color",
    default="blue",
    show_default=True,
    help=f"One of: {', '.join(schedule_setup.COLORS)}.",
)
@click.option("--needs-room", is_flag=True, help="Each booking needs a room.")
@click.option(
    "--provider",
    "provider_ids",
    type=int,
    multiple=True,
    help="A provider who sees this type; repeat for more (default: every provider).",
)
@pass_state
def type_add(app: AppState, provider_ids: tuple[int, ...], **options) -> None:
    """Add an appointment type."""
    with app.uow() as ctx:
        t = schedule_setup.add_appointment_type(ctx, provider_ids=provider_ids, **options)
        row = _type_row(schedule_setup.AppointmentTypeView(t, tuple(dict.fromkeys(provider_ids))))
    emit_record(row, app.fmt)


@type_group.command("list")
@pass_state
def type_list(app: AppState) -> None:
    """Active appointment types by name."""
    with app.uow() as ctx:
        views = schedule_setup.list_appointment_types(ctx)
    emit([_type_row(v) for v in views], app.fmt)


# --- availability -------------------------------------------------------------------
def _template_row(t: AvailabilityTemplate) -> dict[str, Any]:
    return {
        "id": t.id,
        "provider_id": t.provider_id,
        "location_id": t.location_id,
        "weekday": schedule_setup.WEEKDAYS[t.weekday][:3],
        "from": t.start_time.strftime("%H:%M"),
        "to": t.end_time.strftime("%H:%M"),
        "effective_from": t.effective_from,
        "effective_to": t.effective_to,
    }


@schedule_group.group("hours")
def hours_group() -> None:
    """Providers' weekly hours per location (availability templates).

    A template is never edited: to change hours, end the old template and add
    a new one, so past weeks keep the hours they really had."""


@hours_group.command("add")
@click.option("--provider", "provider_id", type=int, required=True)
@click.option("--location", "location_id", type=int, required=True)
@click.option("--weekday", required=True, metavar="mon..sun|0-6", help="Monday = 0.")
@click.option("--from", "start_time", required=True, metavar="HH:MM")
@click.option("--to", "end_time", required=True, metavar="HH:MM")
@click.option("--effective-from", metavar="YYYY-MM-DD", help="First day (default: today).")
@click.option("--effective-to", metavar="YYYY-MM-DD", help="Last day (default: open-ended).")
@pass_state
def hours_add(app: AppState, effective_from: str | None, **options) -> None:
    """The provider works at the location on this weekday, these hours."""
    with app.uow() as ctx:
        t = schedule_setup.add_availability(
            ctx, effective_from=effective_from or ctx.today(), **options
        )
    emit_record(_template_row(t), app.fmt)


@hours_group.command("list")
@click.option("--provider", "provider_id", type=int, help="Only this provider.")
@pass_state
def hours_list(app: AppState, provider_id: int | None) -> None:
    """Templates by provider, weekday and time; ended ones show their last day."""
    with app.uow() as ctx:
        templates = schedule_setup.list_availability(ctx, provider_id=provider_id)
    emit([_template_row(t) for t in templates], app.fmt, columns=TEMPLATE_COLUMNS)


@hours_group.command("end")
@click.argument("template_id", type=int)
@click.option("--effective-to", required=True, metavar="YYYY-MM-DD", help="Its last day.")
@pass_state
def hours_end(app: AppState, template_id: int, effective_to: str) -> None:
    """End a template on a day (earlier only; booked appointments stay)."""
    with app.uow() as ctx:
        t = schedule_setup.end_availability(ctx, template_id=template_id, effective_to=effective_to)
    emit_record(_template_row(t), app.fmt)


# --- exceptions ---------------------------------------------------------------------
def _exception_row(zone: ZoneInfo, e: AvailabilityException) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "start": local_text(zone, e.starts_at),
        "end": local_text(zone, e.ends_at),
        "provider_id": e.provider_id,
        "location_id": e.location_id,
        "reason": e.reason,
    }


@schedule_group.group("exception")
def exception_group() -> None:
    """Holidays, blocks and time off, taken out of the hours."""


@exception_group.command("add")
@click.option("--kind", required=True, type=click.Choice(EXCEPTION_KINDS))
@click.option("--day", metavar="YYYY-MM-DD", help="A whole local day (or --start/--end).")
@click.option("--start", "starts_at", metavar='"YYYY-MM-DD HH:MM"')
@click.option("--end", "ends_at", metavar='"YYYY-MM-DD HH:MM"')
@click.option("--provider", "provider_id", type=int, help="Only this provider (default: all).")
@click.option("--location", "location_id", type=int, help="Only this location (default: all).")
@click.option("--reason", help="Shown on the schedule, e.g. 'staff meeting'.")
@pass_state
def exception_add(app: AppState, **options) -> None:
    """Take time out of availability. Appointments already booked then stay booked."""
    with app.uow() as ctx:
        e = schedule_setup.add_exception(ctx, **options)
        zone = practice_zone(ctx)
    emit_record(_exception_row(zone, e), app.fmt)


@exception_group.command("list")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Default: today.")
@click.option(
    "--to",
    "date_to",
    metavar="YYYY-MM-DD",
    help=f"Default: {EXCEPTION_LIST_DAYS} days after --from.",
)
@pass_state
def exception_list(app: AppState, date_from: str | None, date_to: str | None) -> None:
    """Exceptions touching the days, in time order (an empty provider or
    location means all)."""
    with app.uow() as ctx:
        first = date_from or ctx.today()
        last = date_to
        if last is None:
            day, _ = parse_day("date_from", first)  # a bad --from is the service's to report
            last = day + timedelta(days=EXCEPTION_LIST_DAYS) if day else first
        found = schedule_setup.list_exceptions(ctx, date_from=first, date_to=last)
        zone = practice_zone(ctx)
    emit([_exception_row(zone, e) for e in found], app.fmt, columns=EXCEPTION_COLUMNS)


# --- overbooking --------------------------------------------------------------------
@schedule_group.command("overbook-limit")
@click.option("--provider", "provider_id", type=int, required=True)
@click.option("--per-day", type=int, required=True, help="Overbookings a day (0 = none).")
@pass_state
def overbook_limit(app: AppState, provider_id: int, per_day: int) -> None:
    """Set how many overbooked appointments a provider may have in one day."""
    with app.uow() as ctx:
        settings = schedule_setup.set_overbook_limit(ctx, provider_id=provider_id, per_day=per_day)
    emit_record(
        {"provider_id": settings.provider_id, "per_day": settings.overbook_limit_per_day},
        app.fmt,
    )


def register(cli: click.Group) -> None:
    cli.add_command(schedule_group)
