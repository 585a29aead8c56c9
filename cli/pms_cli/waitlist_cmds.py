"""`pms waitlist add|list|remove|offer|offers|accept|decline`.

Patients wait for an appointment type (a provider and location, or any); when
time frees up, `pms waitlist offer` offers it to the entries that fit, in
waitlist order, and the desk records each patient's answer with `accept` (which
books the slot) or `decline`. Times are the practice's local wall-clock time.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import click

from pms_cli.appt import OFFER_COLUMNS, appointment_record, local_text, offer_rows, parse_times
from pms_cli.output import emit, emit_record, info
from pms_cli.state import AppState, pass_state
from pms_core.models import WaitlistEntry
from pms_core.models.schedule import OFFER_STATUSES, WAITLIST_STATUSES
from pms_core.services import waitlist
from pms_core.services.appointments import practice_zone
from pms_core.services.schedule_setup import WEEKDAYS

ENTRY_COLUMNS = (
    "id",
    "patient_id",
    "type_id",
    "provider_id",
    "location_id",
    "days",
    "from",
    "to",
    "earliest",
    "latest",
    "status",
    "booked_appointment_id",
    "added",
    "note",
)


def _weekday_digits(text: str | None) -> str:
    """ "mon,wed" or "0,2" or "02" as the service's digits (Monday = 0). Anything
    else is passed on unchanged, for the service to refuse by field name."""
    out = []
    for part in re.split(r"[,\s]+", (text or "").strip()):
        name = part.lower()
        digit = next(
            (str(n) for n, day in enumerate(WEEKDAYS) if len(name) >= 3 and day.startswith(name)),
            None,
        )
        out.append(digit or part)
    return "".join(out)


def _day_names(digits: str) -> str:
    return ",".join(WEEKDAYS[int(d)][:3] for d in digits)


def _entry_row(zone: ZoneInfo, entry: WaitlistEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "patient_id": entry.patient_id,
        "type_id": entry.appointment_type_id,
        "provider_id": entry.provider_id,
        "location_id": entry.location_id,
        "days": _day_names(entry.preferred_weekdays),
        "from": entry.preferred_start.strftime("%H:%M") if entry.preferred_start else None,
        "to": entry.preferred_end.strftime("%H:%M") if entry.preferred_end else None,
        "earliest": entry.earliest_date,
        "latest": entry.latest_date,
        "status": entry.status,
        "booked_appointment_id": entry.booked_appointment_id,
        "added": local_text(zone, entry.created_at),
        "note": entry.note,
    }


@click.group("waitlist")
def waitlist_group() -> None:
    """Patients waiting for a slot, and freed slots offered to them in order."""


@waitlist_group.command("add")
@click.option("--patient", "patient_id", type=int, required=True)
@click.option("--type", "appointment_type_id", type=int, required=True)
@click.option("--provider", "provider_id", type=int, help="Only this provider (default: any).")
@click.option("--location", "location_id", type=int, help="Only this location (default: any).")
@click.option("--earliest", "earliest_date", metavar="YYYY-MM-DD", help="Default: today.")
@click.option("--latest", "latest_date", metavar="YYYY-MM-DD", help="Default: no limit.")
@click.option("--days", metavar="mon,wed|0,2", help="Preferred weekdays (default: any).")
@click.option("--from", "preferred_start", metavar="HH:MM", help="Not starting before.")
@click.option("--to", "preferred_end", metavar="HH:MM", help="Finished by.")
@click.option("--note")
@pass_state
def add_cmd(app: AppState, days: str | None, earliest_date: str | None, **options) -> None:
    """Put a patient on the waitlist for an appointment type; prints the entry."""
    with app.uow() as ctx:
        entry = waitlist.add_entry(
            ctx,
            preferred_weekdays=_weekday_digits(days),
            earliest_date=earliest_date or ctx.today(),
            **options,
        )
        row = _entry_row(practice_zone(ctx), entry)
    emit_record(row, app.fmt)


@waitlist_group.command("list")
@click.option(
    "--status", type=click.Choice(WAITLIST_STATUSES), default="waiting", show_default=True
)
@click.option("--limit", type=int, default=waitlist.MAX_LIST, show_default=True)
@pass_state
def list_cmd(app: AppState, status: str, limit: int) -> None:
    """Entries in waitlist order (first added first)."""
    with app.uow() as ctx:
        entries = waitlist.list_entries(ctx, status=status, limit=limit)
        zone = practice_zone(ctx)
    emit([_entry_row(zone, e) for e in entries], app.fmt, columns=ENTRY_COLUMNS)


@waitlist_group.command("remove")
@click.argument("entry_id", type=int)
@click.option("--reason", type=click.Choice(waitlist.REMOVE_REASONS), required=True)
@pass_state
def remove_cmd(app: AppState, entry_id: int, reason: str) -> None:
    """Take an entry off the waitlist; an open offer to it expires."""
    with app.uow() as ctx:
        entry = waitlist.remove_entry(ctx, entry_id=entry_id, reason=reason)
        row = _entry_row(practice_zone(ctx), entry)
    emit_record(row, app.fmt)


@waitlist_group.command("offer")
@click.option("--provider", "provider_id", type=int, required=True)
@click.option("--location", "location_id", type=int, required=True)
@click.option("--start", "start", required=True, metavar='"YYYY-MM-DD HH:MM"')
@click.option("--end", "end", required=True, metavar='"YYYY-MM-DD HH:MM"')
@click.option(
    "--freed-by", "freed_by_appointment_id", type=int, help="The appointment that freed it."
)
@pass_state
def offer_cmd(
    app: AppState, start: str, end: str, provider_id: int, location_id: int, **options
) -> None:
    """Offer a freed slot to every waiting entry that fits, in waitlist order;
    prints the offers made, rank 1 first. Nothing is offered while the provider
    still has an appointment in that time."""
    with app.uow() as ctx:
        times = parse_times(ctx, starts_at=start, ends_at=end)
        starts_at, ends_at = times["starts_at"], times["ends_at"]
        offers = waitlist.offer_freed_slot(
            ctx,
            provider_id=provider_id,
            location_id=location_id,
            starts_at=starts_at,
            ends_at=ends_at,
            **options,
        )
        made = {o.id for o in offers}
        views = waitlist.offers_for_slot(
            ctx, provider_id=provider_id, starts_at=starts_at, ends_at=ends_at
        )
        rows = offer_rows(practice_zone(ctx), [v for v in views if v.offer.id in made])
    emit(rows, app.fmt, columns=OFFER_COLUMNS)
    if not rows:
        info("no waiting entry fits this slot; nothing was offered")


@waitlist_group.command("offers")
@click.option("--status", type=click.Choice(OFFER_STATUSES), default="open", show_default=True)
@click.option("--limit", type=int, default=waitlist.MAX_LIST, show_default=True)
@pass_state
def offers_cmd(app: AppState, status: str, limit: int) -> None:
    """Offers by slot time, then rank (open ones by default)."""
    with app.uow() as ctx:
        views = waitlist.list_offers(ctx, status=status, limit=limit)
        rows = offer_rows(practice_zone(ctx), views)
    emit(rows, app.fmt, columns=OFFER_COLUMNS)


@waitlist_group.command("accept")
@click.argument("offer_id", type=int)
@pass_state
def accept_cmd(app: AppState, offer_id: int) -> None:
    """The patient takes the offered slot: books it (the slot's other offers
    expire); prints the appointment."""
    with app.uow() as ctx:
        appt = waitlist.accept_offer(ctx, offer_id=offer_id)
        record = {"offer_id": offer_id, **appointment_record(practice_zone(ctx), appt)}
    emit_record(record, app.fmt)


@waitlist_group.command("decline")
@click.argument("offer_id", type=int)
@pass_state
def decline_cmd(app: AppState, offer_id: int) -> None:
    """The patient does not want the slot; the entry waits again."""
    with app.uow() as ctx:
        offer = waitlist.decline_offer(ctx, offer_id=offer_id)
    emit_record({"id": offer.id, "status": offer.status, "entry_id": offer.entry_id}, app.fmt)


def register(cli: click.Group) -> None:
    cli.add_command(waitlist_group)
