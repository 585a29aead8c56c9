"""`pms appt slots|book|list|show|reschedule|cancel|noshow|checkin|room|checkout|confirm|recur`.

Times are typed and shown in the practice's local wall-clock time: `--at
"2026-03-03 09:00"`, `--date 2026-03-03`, `--between 08:00-12:00`. Records
printed after a change carry the appointment's id. Bad input is refused by the
services with every problem named by field (exit 1); see `pms_cli.main`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from pms_cli.output import emit, emit_record, info
from pms_cli.state import AppState, pass_state
from pms_core.context import Context
from pms_core.errors import FieldError, ValidationError
from pms_core.models import Appointment
from pms_core.models.schedule import APPOINTMENT_STATUSES
from pms_core.services import appointments, series, waitlist
from pms_core.services.appointments import parse_local_datetime, practice_zone

LIST_COLUMNS = (
    "id",
    "start",
    "end",
    "provider_id",
    "provider",
    "location_id",
    "location",
    "room_id",
    "room",
    "type_id",
    "type",
    "status",
    "patient_id",
    "patient",
    "overbooked",
)
# A terminal is narrow: the table folds times, flags and ids into fewer columns.
TABLE_COLUMNS = ("id", "when", "provider", "location", "room", "type", "status", "patient")
SLOT_COLUMNS = ("start", "end", "provider_id", "location_id", "room_id")
OCCURRENCE_COLUMNS = ("number", "date", "start", "outcome", "appointment_id", "codes", "reasons")
OFFER_COLUMNS = (
    "id",
    "rank",
    "status",
    "start",
    "end",
    "provider_id",
    "location_id",
    "entry_id",
    "patient_id",
    "type_id",
    "appointment_id",
)
# The CLI spells the rule with a hyphen, like every other option value.
RULES = {"weekly": "weekly", "monthly-weekday": "monthly_weekday"}


# --- shared with the schedule and waitlist commands -----------------------------------
def local_text(zone: ZoneInfo, instant: datetime | None) -> str | None:
    """An instant as the practice's wall-clock "YYYY-MM-DD HH:MM" (what --at takes)."""
    return None if instant is None else instant.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def parse_times(ctx: Context, **texts: str) -> dict[str, datetime]:
    """UTC instants of typed local "YYYY-MM-DD HH:MM" values, by field name;
    ValidationError naming every one that is not a time (or does not exist that
    day, in a daylight-saving gap)."""
    zone, instants, errors = practice_zone(ctx), {}, []
    for field, text in texts.items():
        instant, error = parse_local_datetime(zone, field, text)
        if error is None and instant is None:
            error = FieldError(field, "required", "is required")
        if error is not None:
            errors.append(error)
        instants[field] = instant
    if errors:
        raise ValidationError(errors)
    return instants


def appointment_record(zone: ZoneInfo, appt: Appointment) -> dict[str, Any]:
    """The fields a desk checks after a change, times local."""
    return {
        "id": appt.id,
        "status": appt.status,
        "start": local_text(zone, appt.starts_at),
        "end": local_text(zone, appt.ends_at),
        "patient_id": appt.patient_id,
        "provider_id": appt.provider_id,
        "location_id": appt.location_id,
        "room_id": appt.room_id,
        "type_id": appt.appointment_type_id,
        "overbooked": appt.overbooked,
    }


def offer_rows(zone: ZoneInfo, views: list[waitlist.OfferView]) -> list[dict[str, Any]]:
    return [
        {
            "id": v.offer.id,
            "rank": v.offer.rank,
            "status": v.offer.status,
            "start": local_text(zone, v.offer.starts_at),
            "end": local_text(zone, v.offer.ends_at),
            "provider_id": v.offer.provider_id,
            "location_id": v.offer.location_id,
            "entry_id": v.entry.id,
            "patient_id": v.entry.patient_id,
            "type_id": v.entry.appointment_type_id,
            "appointment_id": v.offer.appointment_id,
        }
        for v in views
    ]


def _offers_made(ctx: Context, freed: Appointment) -> list[dict[str, Any]]:
    """The waitlist offers that cancelling or moving `freed` made (the services
    offer a freed time to the waitlist in the same transaction)."""
    views = waitlist.offers_for_slot(
        ctx, provider_id=freed.provider_id, starts_at=freed.starts_at, ends_at=freed.ends_at
    )
    made = [v for v in views if v.offer.freed_by_appointment_id == freed.id]
    return offer_rows(practice_zone(ctx), made)


def _emit_with_offers(app: AppState, record: dict[str, Any], offers: list[dict]) -> None:
    """The changed appointment, and who its freed time was offered to."""
    emit_record({**record, "offer_ids": [o["id"] for o in offers]}, app.fmt)
    if app.fmt == "table" and offers:
        click.echo()
        emit(offers, app.fmt, columns=OFFER_COLUMNS, title="freed time offered to the waitlist")


# --- commands -----------------------------------------------------------------------
@click.group("appt")
def appt_group() -> None:
    """Appointments: find slots, book, list, and the day's status changes."""


@appt_group.command("slots")
@click.option("--type", "appointment_type_id", type=int, required=True, help="Appointment type id.")
@click.option("--provider", "provider_id", type=int, help="Only this provider (default: any).")
@click.option("--location", "location_id", type=int, help="Only this location (default: any).")
@click.option("--from", "date_from", required=True, metavar="YYYY-MM-DD", help="First day.")
@click.option(
    "--to",
    "date_to",
    metavar="YYYY-MM-DD",
    help=f"Last day (default: {appointments.DEFAULT_SEARCH_DAYS} days).",
)
@click.option("--between", metavar="HH:MM-HH:MM", help="Only starts in this local time of day.")
@click.option("--limit", type=int, default=20, show_default=True)
@pass_state
def slots_cmd(app: AppState, between: str | None, **options) -> None:
    """The first open slots for an appointment type, in time order; each one can
    be booked as shown."""
    window_start = window_end = None
    if between is not None:
        window_start, sep, window_end = between.partition("-")
        if not sep:
            raise ValidationError(
                [FieldError("between", "format", "use HH:MM-HH:MM, e.g. 08:00-12:00")]
            )
    with app.uow() as ctx:
        found = appointments.find_slots(
            ctx, window_start=window_start, window_end=window_end, **options
        )
        zone = practice_zone(ctx)
    rows = [
        {
            "start": local_text(zone, s.starts_at),
            "end": local_text(zone, s.ends_at),
            "provider_id": s.provider_id,
            "location_id": s.location_id,
            "room_id": s.room_id,
        }
        for s in found
    ]
    emit(rows, app.fmt, columns=SLOT_COLUMNS)
    if not rows:
        info("no open slots in that range")


@appt_group.command("book")
@click.option("--patient", "patient_id", type=int, required=True)
@click.option("--provider", "provider_id", type=int, required=True)
@click.option("--location", "location_id", type=int, required=True)
@click.option("--type", "appointment_type_id", type=int, required=True)
@click.option("--at", "at", required=True, metavar='"YYYY-MM-DD HH:MM"', help="Local start.")
@click.option("--room", "room_id", type=int, help="Room (required by types that need one).")
@click.option(
    "--overbook",
    is_flag=True,
    help="Book over the provider's other appointment on purpose (needs permission; "
    "counts against the provider's daily limit).",
)
@click.option("--note", help="Short note for the schedule (no clinical detail).")
@pass_state
def book_cmd(app: AppState, at: str, **options) -> None:
    """Book an appointment; prints it with its id."""
    with app.uow() as ctx:
        appt = appointments.book(ctx, **parse_times(ctx, starts_at=at), **options)
        record = appointment_record(practice_zone(ctx), appt)
    emit_record(record, app.fmt)


@appt_group.command("list")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="One day (default: today).")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="First day of a range.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Last day (default: the --from day).")
@click.option("--provider", "provider_id", type=int)
@click.option("--location", "location_id", type=int)
@click.option("--status", type=click.Choice(APPOINTMENT_STATUSES))
@pass_state
def list_cmd(
    app: AppState, day: str | None, date_from: str | None, date_to: str | None, **filters
) -> None:
    """Appointments by local start time, cancelled ones included unless --status
    says otherwise."""
    if day is not None and (date_from is not None or date_to is not None):
        raise click.UsageError("give --date, or --from/--to, not both")
    if date_to is not None and date_from is None:
        raise click.UsageError("--to needs --from")
    with app.uow() as ctx:
        first = day or date_from or ctx.today()
        rows = appointments.list_appointments(ctx, date_from=first, date_to=date_to, **filters)
    if app.fmt == "table":
        emit([_table_row(r) for r in rows], app.fmt, columns=TABLE_COLUMNS)
        return
    emit(
        [
            {
                "id": r.appointment_id,
                "start": r.local_start.strftime("%Y-%m-%d %H:%M"),
                "end": r.local_end.strftime("%Y-%m-%d %H:%M"),
                "provider_id": r.provider_id,
                "provider": r.provider_name,
                "location_id": r.location_id,
                "location": r.location_name,
                "room_id": r.room_id,
                "room": r.room_name,
                "type_id": r.appointment_type_id,
                "type": r.type_name,
                "status": r.status,
                "patient_id": r.patient_id,
                "patient": r.patient_name,
                "overbooked": r.overbooked,
            }
            for r in rows
        ],
        app.fmt,
        columns=LIST_COLUMNS,
    )


def _table_row(r: appointments.AppointmentRow) -> dict[str, Any]:
    end = "%H:%M" if r.local_end.date() == r.local_start.date() else "%Y-%m-%d %H:%M"
    return {
        "id": r.appointment_id,
        "when": f"{r.local_start:%Y-%m-%d %H:%M}-{r.local_end.strftime(end)}",
        "provider": r.provider_name,
        "location": r.location_name,
        "room": r.room_name,
        "type": r.type_name,
        "status": f"{r.status} (overbooked)" if r.overbooked else r.status,
        "patient": f"{r.patient_name} ({r.patient_id})",
    }


@appt_group.command("show")
@click.argument("appointment_id", type=int)
@pass_state
def show_cmd(app: AppState, appointment_id: int) -> None:
    """One appointment: times, status with when each step happened, links."""
    with app.uow() as ctx:
        appt = appointments.get_appointment(ctx, appointment_id=appointment_id)
        zone = practice_zone(ctx)
    emit_record(
        {
            **appointment_record(zone, appt),
            "note": appt.note,
            "series_id": appt.series_id,
            "rescheduled_from_id": appt.rescheduled_from_id,
            "cancel_reason": appt.cancel_reason,
            "booked_at": local_text(zone, appt.created_at),
            "confirmed_at": local_text(zone, appt.confirmed_at),
            "arrived_at": local_text(zone, appt.arrived_at),
            "roomed_at": local_text(zone, appt.roomed_at),
            "completed_at": local_text(zone, appt.completed_at),
            "cancelled_at": local_text(zone, appt.cancelled_at),
            "no_show_at": local_text(zone, appt.no_show_at),
        },
        app.fmt,
    )


@appt_group.command("reschedule")
@click.argument("appointment_id", type=int)
@click.option("--at", "at", required=True, metavar='"YYYY-MM-DD HH:MM"', help="New local start.")
@click.option("--provider", "provider_id", type=int, help="New provider (default: the same).")
@click.option("--location", "location_id", type=int, help="New location (default: the same).")
@click.option("--room", "room_id", type=int, help="New room (default: the same).")
@click.option("--overbook", is_flag=True, help="Book over another appointment on purpose.")
@pass_state
def reschedule_cmd(app: AppState, appointment_id: int, at: str, **options) -> None:
    """Move a booked or confirmed appointment. The old one is cancelled
    ("rescheduled") and a new one booked; prints the new one with its id, and
    the waitlist entries the old time was offered to."""
    with app.uow() as ctx:
        new = appointments.reschedule(
            ctx, appointment_id=appointment_id, **parse_times(ctx, starts_at=at), **options
        )
        record = {
            **appointment_record(practice_zone(ctx), new),
            "rescheduled_from_id": new.rescheduled_from_id,
        }
        old = appointments.get_appointment(ctx, appointment_id=appointment_id)
        offers = _offers_made(ctx, old)
    _emit_with_offers(app, record, offers)


@appt_group.command("cancel")
@click.argument("appointment_id", type=int)
@click.option("--reason", required=True, help="Why (kept with who and when).")
@pass_state
def cancel_cmd(app: AppState, appointment_id: int, reason: str) -> None:
    """Cancel an appointment. Its time is free at once and offered to the
    waitlist entries it fits, in order; prints the appointment and those offers."""
    with app.uow() as ctx:
        appt = appointments.cancel(ctx, appointment_id=appointment_id, reason=reason)
        record = {**appointment_record(practice_zone(ctx), appt), "cancel_reason": reason}
        offers = _offers_made(ctx, appt)
    _emit_with_offers(app, record, offers)


def _status_command(name: str, service, help_text: str) -> None:
    @appt_group.command(name, help=help_text)
    @click.argument("appointment_id", type=int)
    @pass_state
    def command(app: AppState, appointment_id: int) -> None:
        with app.uow() as ctx:
            appt = service(ctx, appointment_id=appointment_id)
            record = appointment_record(practice_zone(ctx), appt)
        emit_record(record, app.fmt)


_status_command("confirm", appointments.confirm, "The patient confirmed (booked -> confirmed).")
_status_command(
    "checkin",
    appointments.check_in,
    "The patient is at the desk (-> arrived); only on the appointment's day.",
)
_status_command(
    "checkout", appointments.check_out, "The visit is over (arrived/in room -> completed)."
)
_status_command(
    "noshow",
    appointments.mark_no_show,
    "The patient did not come (-> no_show); once the start time has passed.",
)


@appt_group.command("room")
@click.argument("appointment_id", type=int)
@click.option("--room", "room_id", type=int, help="Room id (default: the booked room).")
@pass_state
def room_cmd(app: AppState, appointment_id: int, room_id: int | None) -> None:
    """Take an arrived patient to a room (arrived -> in room)."""
    with app.uow() as ctx:
        appt = appointments.room_patient(ctx, appointment_id=appointment_id, room_id=room_id)
        record = appointment_record(practice_zone(ctx), appt)
    emit_record(record, app.fmt)


# --- recurring series -----------------------------------------------------------------
def _occurrence_rows(
    zone: ZoneInfo, booked: list[Appointment], occurrences: list[series.Occurrence]
) -> list[dict[str, Any]]:
    """One row per date of the series, in date order: booked (with the
    appointment id), free (in a preview) or conflict (with every reason)."""
    rows: list[dict[str, Any]] = [
        {
            "date": appt.starts_at.astimezone(zone).date().isoformat(),
            "start": local_text(zone, appt.starts_at),
            "outcome": "booked",
            "appointment_id": appt.id,
            "codes": "",
            "reasons": "",
        }
        for appt in booked
    ]
    rows += [
        {
            "date": o.day.isoformat(),
            "start": local_text(zone, o.starts_at),
            "outcome": "free" if o.bookable else "conflict",
            "appointment_id": None,
            "codes": ",".join(p.code for p in o.problems),
            "reasons": "; ".join(str(p) for p in o.problems),
        }
        for o in occurrences
    ]
    rows.sort(key=lambda r: r["date"])
    return [{"number": n, **row} for n, row in enumerate(rows, start=1)]


@appt_group.command("recur")
@click.option("--patient", "patient_id", type=int, required=True)
@click.option("--provider", "provider_id", type=int, required=True)
@click.option("--location", "location_id", type=int, required=True)
@click.option("--type", "appointment_type_id", type=int, required=True)
@click.option("--first-date", "first_date", required=True, metavar="YYYY-MM-DD")
@click.option("--time", "local_start", required=True, metavar="HH:MM", help="Local start time.")
@click.option(
    "--rule",
    type=click.Choice(list(RULES)),
    required=True,
    help="weekly: on the first date's weekday; monthly-weekday: on its nth weekday "
    "(e.g. the 2nd Tuesday).",
)
@click.option(
    "--every", "interval", type=int, default=1, show_default=True, help="Every N weeks/months."
)
@click.option("--until", metavar="YYYY-MM-DD", help="Last date (or give --count).")
@click.option("--count", type=int, help="How many occurrences (or give --until).")
@click.option("--room", "room_id", type=int)
@click.option("--preview", is_flag=True, help="Show the dates and their conflicts; book nothing.")
@click.option("--all-or-nothing", is_flag=True, help="Book nothing (exit 1) if any date conflicts.")
@pass_state
def recur_cmd(app: AppState, rule: str, preview: bool, all_or_nothing: bool, **options) -> None:
    """Book a recurring series at the same local time on every date.

    Prints one row per date: booked (with the appointment id), or conflict with
    every reason (busy, outside hours, past, a time that does not exist on a
    daylight-saving night). Conflicting dates are never skipped silently; they
    are not booked, are reported in the output, and the command still exits 0
    once the series exists, so a script books the free dates and a person
    resolves the rest. It exits 1 (nothing booked) when no date is free, or with
    --all-or-nothing when any date conflicts. --preview writes nothing.
    """
    with app.uow() as ctx:
        zone = practice_zone(ctx)
        if preview:
            plan = series.plan_series(ctx, rule=RULES[rule], **options)
            series_id, description, booked, others = None, plan.description, [], plan.occurrences
        else:
            result = series.create_series(
                ctx, rule=RULES[rule], all_or_nothing=all_or_nothing, **options
            )
            series_id, description = result.series.id, result.description
            booked, others = result.booked, result.conflicts
    rows = _occurrence_rows(zone, booked, others)
    conflicts = [r for r in rows if r["outcome"] == "conflict"]
    if app.fmt in ("json", "jsonl"):
        emit_record(
            {
                "series_id": series_id,
                "preview": preview,
                "rule": description,
                "booked": len(booked),
                "conflicts": len(conflicts),
                "occurrences": rows,
            },
            app.fmt,
        )
    elif app.fmt == "csv":
        emit(
            [{**r, "series_id": series_id} for r in rows],
            app.fmt,
            columns=("series_id", *OCCURRENCE_COLUMNS),
        )
    else:
        head = "preview, nothing booked" if preview else f"series {series_id}"
        click.echo(f"{head}: {description}; {len(rows)} dates, {len(conflicts)} conflicting")
        emit(rows, app.fmt, columns=[c for c in OCCURRENCE_COLUMNS if c != "codes"])
    if conflicts:
        dates = ", ".join(r["date"] for r in conflicts)
        verb = "conflict" if preview else "conflict and were not booked"
        info(f"{len(conflicts)} of {len(rows)} dates {verb}: {dates}")


def register(cli: click.Group) -> None:
    cli.add_command(appt_group)
