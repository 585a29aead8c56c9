"""The waitlist: patients waiting for a slot, and freed slots offered to them in order.

An entry waits for an appointment type, with a provider and location or "any",
preferred weekdays and a local time-of-day window, between an earliest and an
optional latest date. When a slot frees up (a cancellation, a reschedule),
`offer_freed_slot` offers it to every waiting entry that fits, in waitlist order
(oldest first, then by id), as ranked offers. The first offer accepted books the
slot through `appointments.book` and expires the others; a declined or expired
offer puts its entry back to waiting.

Entry statuses: waiting -> offered -> booked, or back to waiting; removed. An
entry holds at most one open offer at a time (only waiting entries are offered).
Offers whose slot has started without an answer are expired the next time a
slot is offered, so their entries wait again.

Locks: accepting takes the provider lock first (as booking does), so concurrent
accepts of one slot queue and the second one sees the slot taken. Offer rows are
always locked before entry rows (accept, decline, expiry, remove), so two desks
working on one entry queue instead of deadlocking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import col, select

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.models import (
    Appointment,
    AppointmentType,
    Location,
    Patient,
    Provider,
    WaitlistEntry,
    WaitlistOffer,
)
from pms_core.models.schedule import OFFER_STATUSES, WAITLIST_STATUSES
from pms_core.permissions import require
from pms_core.services import appointments
from pms_core.services.appointments import (
    allowed_providers,
    find_clashes,
    free_room,
    lock_resources,
    owned,
    parse_day,
    parse_time,
    practice_zone,
    to_local,
    type_not_allowed,
    within_availability,
)

# Why an entry left the waitlist without a booking; recorded in the audit log.
REMOVE_REASONS = ("booked_elsewhere", "patient_request", "no_longer_needed", "unreachable", "other")
NOTE_MAX = 200
# Listings are capped so one audit event can name every patient they show.
MAX_LIST = 500


@dataclass(frozen=True)
class OfferView:
    """An offer with the waitlist entry (patient, type) it was made to."""

    offer: WaitlistOffer
    entry: WaitlistEntry


class OfferNotBookable(Conflict):
    """Accepting an offer failed because its slot can no longer be booked (taken
    meanwhile, in the past...); nothing was written. `errors` are the reasons."""

    def __init__(self, offer_id: int, errors: list[FieldError]):
        self.errors = errors
        reasons = "; ".join(str(e) for e in errors)
        super().__init__(f"the slot of offer {offer_id} can no longer be booked: {reasons}")


# --- loading ------------------------------------------------------------------------
def _row(ctx: Context, model, row_id: int, *, for_update: bool = False):
    """This practice's entry or offer (locked and read fresh with `for_update`), or NotFound."""
    query = select(model).where(model.id == row_id, model.practice_id == ctx.practice_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = ctx.session.exec(query).first()
    if row is None:
        what = "waitlist entry" if model is WaitlistEntry else "waitlist offer"
        raise NotFound(f"{what} {row_id} not found")
    return row


def _slot_offers(ctx: Context, provider_id: int, starts_at: datetime, ends_at: datetime):
    """The query for every offer of one slot, by rank."""
    return (
        select(WaitlistOffer)
        .where(
            WaitlistOffer.practice_id == ctx.practice_id,
            WaitlistOffer.provider_id == provider_id,
            WaitlistOffer.starts_at == starts_at,
            WaitlistOffer.ends_at == ends_at,
        )
        .order_by(WaitlistOffer.rank, WaitlistOffer.id)
    )


def _offers_view(ctx: Context, offers: list[WaitlistOffer]) -> list[OfferView]:
    entry_ids = {o.entry_id for o in offers}
    entries = {
        e.id: e
        for e in ctx.session.exec(
            select(WaitlistEntry).where(col(WaitlistEntry.id).in_(entry_ids))
        ).all()
    }
    return [OfferView(o, entries[o.entry_id]) for o in offers]


# --- entries ------------------------------------------------------------------------
def _weekdays(value: str | None) -> tuple[str, FieldError | None]:
    """Digits 0-6 (Monday = 0), separators ignored, normalized sorted and unique."""
    text = "".join(c for c in (value or "") if c not in ", ")
    if any(c not in "0123456" for c in text):
        return "", FieldError(
            "preferred_weekdays", "weekdays", "must be weekday digits 0-6 (Monday = 0), e.g. 024"
        )
    return "".join(sorted(set(text))), None


def add_entry(
    ctx: Context,
    *,
    patient_id: int,
    appointment_type_id: int,
    earliest_date: date | str,
    latest_date: date | str | None = None,
    provider_id: int | None = None,
    location_id: int | None = None,
    preferred_weekdays: str = "",
    preferred_start: time | str | None = None,
    preferred_end: time | str | None = None,
    note: str | None = None,
) -> WaitlistEntry:
    """Put a patient on the waitlist for an appointment type.

    `provider_id`/`location_id` None mean any; `preferred_weekdays` is digits 0-6
    (Monday = 0), empty for any day; `preferred_start`/`preferred_end` bound the
    local time of day (either may be open). Refused with every problem listed: a
    deceased or inactive patient, an unknown or inactive type, provider or
    location, a provider who does not see the type, bad weekday digits, a window
    that ends before it starts, a latest date before the earliest or in the past,
    a note over 200 characters, or the patient already waiting for this type.
    """
    require(ctx, "schedule:write", action="waitlist.add", patient_id=patient_id)
    # Locked first, so two desks adding one patient queue and the second sees the first.
    lock_resources(ctx, provider_id=None, room_id=None, patient_id=patient_id)
    patient = ctx.session.get(Patient, patient_id)
    if patient is None or patient.practice_id != ctx.practice_id:
        raise NotFound(f"patient {patient_id} not found")
    errors: list[FieldError] = []
    if patient.deceased_date is not None:
        errors.append(FieldError("patient_id", "deceased", "the patient is marked deceased"))
    elif not patient.active:
        errors.append(FieldError("patient_id", "inactive", "the patient is inactive"))
    appt_type = owned(
        ctx, AppointmentType, appointment_type_id, "appointment_type_id", errors, active=True
    )
    if provider_id is not None:
        owned(ctx, Provider, provider_id, "provider_id", errors, active=True)
        allowed = allowed_providers(ctx, appointment_type_id) if appt_type else set()
        if allowed and provider_id not in allowed:
            errors.append(type_not_allowed(appointment_type_id))
    if location_id is not None:
        owned(ctx, Location, location_id, "location_id", errors, active=True)
    weekdays, err = _weekdays(preferred_weekdays)
    earliest_date, earliest_err = parse_day("earliest_date", earliest_date)
    latest_date, latest_err = parse_day("latest_date", latest_date)
    preferred_start, start_err = parse_time("preferred_start", preferred_start)
    preferred_end, end_err = parse_time("preferred_end", preferred_end)
    errors += [e for e in (err, earliest_err, latest_err, start_err, end_err) if e is not None]
    if preferred_start and preferred_end and preferred_start >= preferred_end:
        errors.append(
            FieldError("preferred_end", "before_start", "must be later than preferred_start")
        )
    if earliest_date is None and earliest_err is None:
        errors.append(FieldError("earliest_date", "required", "is required"))
    if latest_date is not None:
        if earliest_date is not None and latest_date < earliest_date:
            errors.append(FieldError("latest_date", "before_earliest", "is before earliest_date"))
        elif latest_date < ctx.today():
            errors.append(FieldError("latest_date", "past", "is in the past"))
    if note is not None and len(note) > NOTE_MAX:
        errors.append(FieldError("note", "too_long", f"is longer than {NOTE_MAX} characters"))
    if not errors:
        already = ctx.session.exec(
            select(WaitlistEntry.id).where(
                WaitlistEntry.patient_id == patient_id,
                WaitlistEntry.appointment_type_id == appointment_type_id,
                col(WaitlistEntry.status).in_(("waiting", "offered")),
            )
        ).first()
        if already is not None:
            errors.append(
                FieldError(
                    "patient_id",
                    "already_waiting",
                    f"the patient already waits for this type (entry {already})",
                )
            )
    if errors:
        raise ValidationError(errors)
    entry = WaitlistEntry(
        practice_id=ctx.practice_id,
        patient_id=patient_id,
        provider_id=provider_id,
        location_id=location_id,
        appointment_type_id=appointment_type_id,
        preferred_weekdays=weekdays,
        preferred_start=preferred_start,
        preferred_end=preferred_end,
        earliest_date=earliest_date,
        latest_date=latest_date,
        note=(note or "").strip() or None,
        created_by_id=ctx.user.id if ctx.user else None,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(entry)
    ctx.session.flush()
    audit.record(ctx, action="waitlist.add", patient_id=patient_id, detail={"entry_id": entry.id})
    return entry


def _list_errors(status: str, allowed: tuple[str, ...], limit: int) -> None:
    errors = []
    if status not in allowed:
        errors.append(FieldError("status", "choice", f"must be one of: {', '.join(allowed)}"))
    if not 1 <= limit <= MAX_LIST:
        errors.append(FieldError("limit", "range", f"must be from 1 to {MAX_LIST}"))
    if errors:
        raise ValidationError(errors)


def list_entries(
    ctx: Context, *, status: str = "waiting", limit: int = MAX_LIST
) -> list[WaitlistEntry]:
    """The first `limit` entries with that status, in waitlist order (oldest
    first, then id)."""
    require(ctx, "schedule:read", action="waitlist.list")
    _list_errors(status, WAITLIST_STATUSES, limit)
    entries = list(
        ctx.session.exec(
            select(WaitlistEntry)
            .where(WaitlistEntry.practice_id == ctx.practice_id, WaitlistEntry.status == status)
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
            .limit(limit)
        ).all()
    )
    audit.record_read(
        ctx,
        action="waitlist.list",
        detail={"status": status, "patient_ids": [e.patient_id for e in entries]},
    )
    return entries


def _end_offer(offer: WaitlistOffer, status: str, at: datetime) -> None:
    offer.status = status
    offer.decided_at = at


def _back_to_waiting(ctx: Context, offers: list[WaitlistOffer], status: str) -> None:
    """End open offers with `status` and put their entries back to waiting."""
    now = ctx.clock.now()
    for offer in offers:
        _end_offer(offer, status, now)
        entry = _row(ctx, WaitlistEntry, offer.entry_id, for_update=True)
        if entry.status == "offered":
            entry.status = "waiting"
    ctx.session.flush()


def remove_entry(ctx: Context, *, entry_id: int, reason: str) -> WaitlistEntry:
    """Take a waiting or offered entry off the waitlist; its open offer expires.
    `reason` is one of REMOVE_REASONS and is audited. Conflict for an entry that
    is already booked or removed."""
    require(ctx, "schedule:write", action="waitlist.remove")
    if reason not in REMOVE_REASONS:
        raise ValidationError(
            [FieldError("reason", "choice", f"must be one of: {', '.join(REMOVE_REASONS)}")]
        )
    offers_query = (
        select(WaitlistOffer)
        .where(
            WaitlistOffer.practice_id == ctx.practice_id,
            WaitlistOffer.entry_id == entry_id,
            WaitlistOffer.status == "open",
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    # Offers before the entry, as decline and accept lock them; read again once the
    # entry is locked, for an offer made while this waited for it.
    ctx.session.exec(offers_query).all()
    entry = _row(ctx, WaitlistEntry, entry_id, for_update=True)
    if entry.status not in ("waiting", "offered"):
        raise Conflict(f"waitlist entry {entry_id} is already {entry.status}")
    open_offers = ctx.session.exec(offers_query).all()
    now = ctx.clock.now()
    for offer in open_offers:
        _end_offer(offer, "expired", now)
    entry.status = "removed"
    ctx.session.flush()
    audit.record(
        ctx,
        action="waitlist.remove",
        patient_id=entry.patient_id,
        detail={"entry_id": entry.id, "reason": reason, "expired_offers": len(open_offers)},
    )
    return entry


# --- matching a free interval ---------------------------------------------------------
def _require_aware(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("starts_at and ends_at must be timezone-aware")


def _matching(
    ctx: Context,
    *,
    provider_id: int,
    location_id: int,
    starts_at: datetime,
    ends_at: datetime,
    lock: bool = False,
) -> list[WaitlistEntry]:
    _require_aware(starts_at, ends_at)
    if starts_at < ctx.clock.now() or ends_at <= starts_at:
        return []
    provider = ctx.session.get(Provider, provider_id)
    location = ctx.session.get(Location, location_id)
    if not (provider and provider.active and location and location.active):
        return []  # e.g. the provider left and their appointments are being cancelled
    zone = practice_zone(ctx)
    local_start = to_local(zone, starts_at)
    day = local_start.date()
    query = (
        select(WaitlistEntry, AppointmentType)
        .join(AppointmentType, AppointmentType.id == WaitlistEntry.appointment_type_id)
        .join(Patient, Patient.id == WaitlistEntry.patient_id)
        .where(
            WaitlistEntry.practice_id == ctx.practice_id,
            WaitlistEntry.status == "waiting",
            col(WaitlistEntry.provider_id).is_(None) | (WaitlistEntry.provider_id == provider_id),
            col(WaitlistEntry.location_id).is_(None) | (WaitlistEntry.location_id == location_id),
            WaitlistEntry.earliest_date <= day,
            col(WaitlistEntry.latest_date).is_(None) | (WaitlistEntry.latest_date >= day),
            col(AppointmentType.active).is_(True),
            col(Patient.active).is_(True),
            col(Patient.deceased_date).is_(None),
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    if lock:  # concurrent offers of other slots must not offer the same entry twice
        query = query.with_for_update(of=WaitlistEntry).execution_options(populate_existing=True)
    allowed: dict[int, set[int]] = {}  # by type: providers who see it (empty = all)
    available: dict[datetime, bool] = {}  # by end: still within availability?
    fits: list[WaitlistEntry] = []
    for entry, appt_type in ctx.session.exec(query).all():
        appt_end = starts_at + timedelta(minutes=appt_type.duration_minutes)
        if appt_end > ends_at:
            continue
        if entry.preferred_weekdays and str(day.weekday()) not in entry.preferred_weekdays:
            continue
        if entry.preferred_start is not None and local_start.time() < entry.preferred_start:
            continue
        if entry.preferred_end is not None:
            local_end = to_local(zone, appt_end)
            if local_end.date() != day or local_end.time() > entry.preferred_end:
                continue
        if appt_type.id not in allowed:
            allowed[appt_type.id] = allowed_providers(ctx, appt_type.id)
        if allowed[appt_type.id] and provider_id not in allowed[appt_type.id]:
            continue
        if appt_end not in available:  # time off or a block may have been added since
            available[appt_end] = within_availability(
                ctx,
                provider_id=provider_id,
                location_id=location_id,
                starts_at=starts_at,
                ends_at=appt_end,
            )
        if not available[appt_end]:
            continue
        if find_clashes(
            ctx,
            provider_id=None,
            room_id=None,
            patient_id=entry.patient_id,
            starts_at=starts_at,
            ends_at=appt_end,
        ):
            continue
        if appt_type.needs_room and (
            free_room(ctx, location_id=location_id, starts_at=starts_at, ends_at=appt_end) is None
        ):
            continue
        fits.append(entry)
    return fits


def matching_entries(
    ctx: Context, *, provider_id: int, location_id: int, starts_at: datetime, ends_at: datetime
) -> list[WaitlistEntry]:
    """Waiting entries that fit the free interval [starts_at, ends_at), in
    waitlist order (oldest first, then id). An entry fits when its provider and
    location are these or any; its type is active, the provider may see it and
    its length fits in the interval from `starts_at` (with a free room when the
    type needs one) and within the provider's availability as it is now (no
    exception added since); the local weekday and time of day are within its
    preferences; the local date is within earliest..latest; and its patient is
    active, not deceased and has no other appointment then. A past interval, or
    one of an inactive provider or location, fits nobody: whatever is offered
    can be booked."""
    require(ctx, "schedule:read", action="waitlist.match")
    entries = _matching(
        ctx, provider_id=provider_id, location_id=location_id, starts_at=starts_at, ends_at=ends_at
    )
    audit.record(
        ctx,
        action="waitlist.match",
        detail={"provider_id": provider_id, "patient_ids": [e.patient_id for e in entries]},
    )
    return entries


# --- offers -------------------------------------------------------------------------
def _expire_past_offers(ctx: Context) -> int:
    """Expire open offers whose slot has started; their entries wait again."""
    stale = list(
        ctx.session.exec(
            select(WaitlistOffer)
            .where(
                WaitlistOffer.practice_id == ctx.practice_id,
                WaitlistOffer.status == "open",
                WaitlistOffer.starts_at <= ctx.clock.now(),
            )
            .order_by(WaitlistOffer.id)
            .with_for_update()
        ).all()
    )
    _back_to_waiting(ctx, stale, "expired")
    return len(stale)


def offer_freed_slot(
    ctx: Context,
    *,
    provider_id: int,
    location_id: int,
    starts_at: datetime,
    ends_at: datetime,
    freed_by_appointment_id: int | None = None,
) -> list[WaitlistOffer]:
    """Offer a freed interval to every matching waiting entry (see
    `matching_entries`), in waitlist order: one open offer per entry, ranked
    from 1 (after the slot's earlier offers, if it was offered before); each
    entry becomes `offered`. Nothing is offered while the provider still has an
    active appointment in the interval (for example the other half of an
    overbooking). First expires offers whose slot has already started.

    Call it after the cancel or reschedule that freed the slot, in the same
    unit of work, so the offers exist exactly when the slot is free.
    """
    require(ctx, "schedule:write", action="waitlist.offer")
    _require_aware(starts_at, ends_at)
    errors: list[FieldError] = []
    owned(ctx, Provider, provider_id, "provider_id", errors)
    owned(ctx, Location, location_id, "location_id", errors)
    if ends_at <= starts_at:
        errors.append(FieldError("ends_at", "before_start", "must be later than starts_at"))
    if errors:
        raise ValidationError(errors)
    expired = _expire_past_offers(ctx)
    taken = find_clashes(
        ctx,
        provider_id=provider_id,
        room_id=None,
        patient_id=None,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    entries = (
        []
        if taken
        else _matching(
            ctx,
            provider_id=provider_id,
            location_id=location_id,
            starts_at=starts_at,
            ends_at=ends_at,
            lock=True,
        )
    )
    earlier = ctx.session.exec(_slot_offers(ctx, provider_id, starts_at, ends_at)).all()
    first_rank = max((o.rank for o in earlier), default=0) + 1
    now = ctx.clock.now()
    offers: list[WaitlistOffer] = []
    for rank, entry in enumerate(entries, start=first_rank):
        offer = WaitlistOffer(
            practice_id=ctx.practice_id,
            entry_id=entry.id,
            provider_id=provider_id,
            location_id=location_id,
            starts_at=starts_at,
            ends_at=ends_at,
            rank=rank,
            freed_by_appointment_id=freed_by_appointment_id,
            created_at=now,
        )
        ctx.session.add(offer)
        entry.status = "offered"
        offers.append(offer)
    ctx.session.flush()
    audit.record(
        ctx,
        action="waitlist.offer",
        detail={
            "provider_id": provider_id,
            "freed_by_appointment_id": freed_by_appointment_id,
            "offer_ids": [o.id for o in offers],
            "patient_ids": [e.patient_id for e in entries],
            "expired_offers": expired,
        },
    )
    return offers


def offers_for_slot(
    ctx: Context, *, provider_id: int, starts_at: datetime, ends_at: datetime
) -> list[OfferView]:
    """Every offer of one slot (any status), by rank."""
    require(ctx, "schedule:read", action="waitlist.offers")
    offers = list(ctx.session.exec(_slot_offers(ctx, provider_id, starts_at, ends_at)).all())
    views = _offers_view(ctx, offers)
    audit.record(
        ctx,
        action="waitlist.offers",
        detail={"provider_id": provider_id, "patient_ids": [v.entry.patient_id for v in views]},
    )
    return views


def list_offers(ctx: Context, *, status: str = "open", limit: int = MAX_LIST) -> list[OfferView]:
    """The first `limit` offers with that status, by slot start, then provider,
    then rank."""
    require(ctx, "schedule:read", action="waitlist.offers")
    _list_errors(status, OFFER_STATUSES, limit)
    offers = list(
        ctx.session.exec(
            select(WaitlistOffer)
            .where(WaitlistOffer.practice_id == ctx.practice_id, WaitlistOffer.status == status)
            .order_by(WaitlistOffer.starts_at, WaitlistOffer.provider_id, WaitlistOffer.rank)
            .limit(limit)
        ).all()
    )
    views = _offers_view(ctx, offers)
    audit.record(
        ctx,
        action="waitlist.offers",
        detail={"status": status, "patient_ids": [v.entry.patient_id for v in views]},
    )
    return views


def _open_offer(ctx: Context, offer_id: int) -> WaitlistOffer:
    offer = _row(ctx, WaitlistOffer, offer_id, for_update=True)
    if offer.status != "open":
        raise Conflict(f"waitlist offer {offer_id} is {offer.status}, not open")
    return offer


def accept_offer(ctx: Context, *, offer_id: int) -> Appointment:
    """Book the offer's slot for its entry's patient: the entry's type, starting
    at the offer's start, at the offer's provider and location (with the first
    free room when the type needs one). The entry becomes `booked` with the
    appointment, the offer `accepted`, and the slot's other open offers
    `expired` with their entries back to waiting.

    Conflict when the offer is not open; OfferNotBookable (a Conflict, with the
    reasons) when the slot can no longer be booked, e.g. someone booked it
    meanwhile. Either way nothing is written.
    """
    require(ctx, "schedule:write", action="waitlist.accept")
    provider_id = _row(ctx, WaitlistOffer, offer_id).provider_id
    lock_resources(ctx, provider_id=provider_id, room_id=None)
    offer = _open_offer(ctx, offer_id)
    entry = _row(ctx, WaitlistEntry, offer.entry_id, for_update=True)
    appt_type = ctx.session.get(AppointmentType, entry.appointment_type_id)
    appt_end = offer.starts_at + timedelta(minutes=appt_type.duration_minutes)
    room_id = None
    if appt_type.needs_room:
        room_id = free_room(
            ctx, location_id=offer.location_id, starts_at=offer.starts_at, ends_at=appt_end
        )
        if room_id is None:
            raise OfferNotBookable(
                offer_id, [FieldError("room_id", "none_free", "no room is free at that time")]
            )
    try:
        appt = appointments.book(
            ctx,
            patient_id=entry.patient_id,
            provider_id=offer.provider_id,
            location_id=offer.location_id,
            appointment_type_id=entry.appointment_type_id,
            starts_at=offer.starts_at,
            room_id=room_id,
        )
    except ValidationError as exc:
        raise OfferNotBookable(offer_id, exc.errors) from None
    now = ctx.clock.now()
    _end_offer(offer, "accepted", now)
    offer.appointment_id = appt.id
    entry.status = "booked"
    entry.booked_appointment_id = appt.id
    others = list(
        ctx.session.exec(
            _slot_offers(ctx, offer.provider_id, offer.starts_at, offer.ends_at)
            .where(WaitlistOffer.status == "open", WaitlistOffer.id != offer.id)
            .with_for_update()
        ).all()
    )
    _back_to_waiting(ctx, others, "expired")
    audit.record(
        ctx,
        action="waitlist.accept",
        patient_id=entry.patient_id,
        detail={
            "offer_id": offer.id,
            "entry_id": entry.id,
            "appointment_id": appt.id,
            "expired_offer_ids": [o.id for o in others],
        },
    )
    return appt


def decline_offer(ctx: Context, *, offer_id: int) -> WaitlistOffer:
    """The patient does not want the slot: the offer is declined and the entry
    waits again (for the next freed slot). Conflict when the offer is not open."""
    require(ctx, "schedule:write", action="waitlist.decline")
    offer = _open_offer(ctx, offer_id)
    _back_to_waiting(ctx, [offer], "declined")
    entry = _row(ctx, WaitlistEntry, offer.entry_id)
    audit.record(
        ctx,
        action="waitlist.decline",
        patient_id=entry.patient_id,
        detail={"offer_id": offer.id, "entry_id": entry.id},
    )
    return offer
