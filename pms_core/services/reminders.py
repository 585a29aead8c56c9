"""Appointment reminders: policy, templates, sending exactly once, and replies.

**Policy.** A practice has reminder rules ("email 72h before", "sms 2h before");
rules of an appointment type replace the practice's default rules for that type.
Reminders keep quiet hours in the practice's time zone (`reminders.quiet_start`
to `reminders.quiet_end`, default 21:00-08:00; nothing is ever sent inside them):
a reminder due inside quiet hours goes

1. when those quiet hours end, if it then still gives at least half the notice its
   rule asks for (a 24h reminder due at 07:00 goes at 08:00, 23h ahead);
2. otherwise 30 minutes before those quiet hours began, so it still arrives well
   before the appointment (a 2h reminder for an 08:30 appointment with quiet
   hours 21:00-08:00 goes at 20:30 the evening before: at 08:00 it would give
   30 minutes' notice);
3. when that moment has already passed (the appointment was booked during the
   quiet hours), when the quiet hours end if that is still before the
   appointment; otherwise it is skipped ("quiet hours last until the appointment").

When two reminders on the same channel for one appointment are due at once (a
late booking, or runs stopped for a day), only the later one is sent; the other
is skipped as superseded, so a patient never gets two texts in a row.

**Sending** (`send_due`, what `pms remind send` runs from cron) works in phases,
each its own short transaction, so that two overlapping runs never send a
reminder twice and a failed delivery is retried without duplicating one that
was delivered:

- *plan*: insert the reminders owed for booked/confirmed appointments in the
  coming window (idempotent: unique per appointment, rule and start time, and
  inserted with ON CONFLICT DO NOTHING); cancel pending ones whose appointment
  was cancelled, moved, or whose rule no longer applies.
- *claim*: take a batch of due rows (pending/retry whose time has come, or
  `sending` whose lease expired) by setting status `sending`, a fresh
  `claim_token` and `claimed_until`; PostgreSQL uses FOR UPDATE SKIP LOCKED,
  SQLite's BEGIN IMMEDIATE serializes claims. Rows that cannot be sent (no
  contact, appointment gone or started) are settled here.
- *deliver*: outside any transaction, one connection per channel for the whole
  run. A run stops delivering a batch when half its lease has passed and
  releases the rest, so another run never takes over a row still being sent.
  Every RECHECK it reads the appointments of what is left again and withdraws
  (cancels) the reminders of any cancelled or moved since the claim.
- *record*: per message one attempt row and the new status (sent, retry with a
  backed-off `next_attempt_at`, failed after `reminders.max_attempts` or on a
  permanent refusal), guarded by the claim token: only the run holding the claim
  finishes a row.

The one crash window: a run that dies after a message was delivered but before
it was recorded leaves the row `sending`; after the lease expires another run
sends it again. The message carries the same idempotency key both times
(`Reminder.message_key`: the email Message-ID, the SMS client reference and
Idempotency-Key header, the call list's key column), so the receiver can drop
the repeat.

**Replies** (`process_replies`, also run by `send_due`): channels that receive
messages return them; a reply is matched to the latest reminder sent to that
address for an upcoming appointment. C/YES/CONFIRM confirms, X/CANCEL/NO cancels
(reason "patient replied cancel"), anything else is kept as "unknown" for staff.
Each reply is stored once (unique per channel and external id): a reply seen
twice does nothing the second time.

**Outbox.** With `reminders.outbox_dir` set, messages are written to files
and replies read from a file instead (reminder_outbox): training and the demo.

Audit: one event per run with counts; listings and previews (PHI) are audited.
"""

from __future__ import annotations

import logging
import re
import string
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from pms_core import audit
from pms_core import validation as v
from pms_core.context import Context
from pms_core.db import chunked
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.models import (
    Appointment,
    AppointmentType,
    Location,
    MessageTemplate,
    Patient,
    Practice,
    Provider,
    Reminder,
    ReminderAttempt,
    ReminderReply,
    ReminderRule,
)
from pms_core.models.base import UTCDateTime
from pms_core.models.reminders import REMINDER_STATUSES
from pms_core.permissions import require
from pms_core.services import appointments
from pms_core.services.config import SettingSpec, effective_settings, known_settings

log = logging.getLogger(__name__)

# Appointments that are still owed reminders.
REMINDABLE = ("booked", "confirmed")
MAX_OFFSET_MINUTES = 30 * 24 * 60
BATCH_SIZE = 500
# A run stops starting sends at half its lease; one send takes at most about ten
# round trips of the channel's timeout (SMTP: 10 x smtp.timeout <= 300 s), so a
# send started before half time ends well before the lease runs out and no
# other run can take the row over while it is still being sent.
LEASE = timedelta(minutes=15)
# While a batch is delivered, its remaining appointments are looked at again this
# often: one cancelled or moved since the claim is withdrawn, not reminded.
RECHECK = timedelta(seconds=10)
# How long before quiet hours a reminder moved earlier goes (rule 2 above).
BEFORE_QUIET = timedelta(minutes=30)
MAX_RETRY_WAIT_MINUTES = 6 * 60
# Reminders are planned for appointments up to the longest rule plus this ahead
# (quiet hours can move a reminder earlier than its rule by less than a day);
# replies are matched to appointments in the same window.
PLAN_SLACK = timedelta(days=1)
# Replies are fetched from a little before the newest one seen: a reply that
# reached the gateway late is still picked up (repeats are recognized by id).
REPLY_OVERLAP = timedelta(hours=1)

PLACEHOLDERS = ("first_name", "date", "time", "location", "practice", "provider", "reply")
CONFIRM_WORDS = frozenset({"C", "Y", "YES", "CONFIRM", "CONFIRMED"})
CANCEL_WORDS = frozenset({"X", "N", "NO", "CANCEL"})
CANCEL_REASON = "patient replied cancel"


# --- the channel protocol ------------------------------------------------------------
@dataclass(frozen=True)
class PatientContact:
    """What a channel may use to reach the patient."""

    email: str | None
    mobile_phone: str | None
    home_phone: str | None


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered reminder, handed to a channel's sender.

    `message_key` is stable across retries of the same reminder: send it as the
    message's idempotency key so a receiver can drop a repeat. `patient_name`,
    `appointment_at` (local time) and `location` are for channels that people read
    from (the call list); channels that message the patient send `subject`/`body`.
    """

    reminder_id: int
    message_key: str
    recipient: str
    subject: str | None
    body: str
    patient_id: int
    patient_name: str
    appointment_at: datetime
    location: str


@dataclass(frozen=True)
class InboundReply:
    """A message a patient sent back. `from_address` is in the form the channel's
    `recipient()` returns (so it matches the reminder's recipient); `received_at`
    is timezone-aware."""

    external_id: str
    from_address: str
    text: str
    received_at: datetime


class DeliveryError(Exception):
    """A delivery (or reply fetch) that did not work. `reason` is short and holds
    no PHI (a status code, "connection refused", never an address). `permanent`
    means retrying cannot help (the receiver refused this message); anything
    else (server down, timeout, bad credentials) is retried later."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason[:200]
        self.permanent = permanent


class Sender(Protocol):
    """An open channel for one run: sends many messages over one connection."""

    def send(self, message: OutgoingMessage) -> str | None:
        """Deliver one message; return a receipt (the receiver's message id) or
        None; raise DeliveryError when it was not delivered."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ReminderChannel(Protocol):
    """A way to deliver reminders, contributed by `register_reminder_channels`.

    - `name`: short code used by rules and templates ("email", "sms").
    - `settings`: the `pms config` keys the channel reads (SettingSpec).
    - `default_subject` / `default_body`: the built-in template (placeholders of
      PLACEHOLDERS only); `default_subject` None when the channel has no subject.
    - `reply_instructions`: what `{reply}` renders to ("" when it takes no replies).
    - `recipient(contact)`: the address to use, or None; then the reminder is
      skipped with `no_recipient_reason` (no PHI, e.g. "no email address on file").
    - `open(settings)`: a Sender for this run; connect lazily. `settings` maps
      every known key to its typed value (secrets included).
    """

    name: str
    description: str
    settings: tuple[SettingSpec, ...]
    default_subject: str | None
    default_body: str
    reply_instructions: str
    no_recipient_reason: str

    def recipient(self, contact: PatientContact) -> str | None: ...

    def open(self, settings: Mapping[str, Any]) -> Sender: ...


@runtime_checkable
class ReplyChannel(Protocol):
    """A channel that also receives patients' replies."""

    def fetch_replies(
        self, settings: Mapping[str, Any], since: datetime | None
    ) -> list[InboundReply]:
        """Replies received since `since` (None: all the receiver still has).
        Returning some twice is harmless. Raise DeliveryError when unreachable
        (any other exception is logged by its type and treated alike)."""
        ...


def reminder_channels(pm) -> dict[str, ReminderChannel]:
    """Registered channels by name. A plugin whose registration raises is logged
    (by plugin name and exception type) and skipped; the first of two channels
    with one name wins."""
    found: dict[str, ReminderChannel] = {}

    def register(channel: ReminderChannel) -> None:
        if channel.name in found:
            log.warning("reminder channel %s registered twice; the first is used", channel.name)
            return
        found[channel.name] = channel

    for impl in pm.hook.register_reminder_channels.get_hookimpls():
        try:
            impl.function(register=register)
        except Exception as exc:
            log.error("plugin %s could not register channels: %s", impl.plugin_name, type(exc))
    return found


def _channel_error(channels: Mapping[str, ReminderChannel], name: str | None, field: str):
    if name not in channels:
        known = ", ".join(sorted(channels)) or "none installed"
        return FieldError(field, "unknown_channel", f"must be a reminder channel ({known})")
    return None


# --- rules ---------------------------------------------------------------------------
def parse_offset(value: int | str | None) -> int | None:
    """Minutes before the appointment from 90, "72h", "2h", "30m", "1d" or "1h30m";
    None when it is not a positive time of at most 30 days."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        minutes = value
    else:
        text = value.strip().lower().replace(" ", "")
        m = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?", text)
        if text.isdigit():
            minutes = int(text)
        elif text and m:
            days, hours, mins = (int(g or 0) for g in m.groups())
            minutes = days * 1440 + hours * 60 + mins
        else:
            return None
    return minutes if 0 < minutes <= MAX_OFFSET_MINUTES else None


def format_offset(minutes: int) -> str:
    """72h, 30m, 1h30m: how rules are shown."""
    hours, mins = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{mins}m" if mins or not hours else "")


@dataclass(frozen=True)
class RuleView:
    id: int
    channel: str
    offset: str
    offset_minutes: int
    appointment_type_id: int | None
    appointment_type: str | None
    active: bool


def _rule_view(rule: ReminderRule, type_name: str | None) -> RuleView:
    return RuleView(
        id=rule.id,
        channel=rule.channel,
        offset=format_offset(rule.offset_minutes),
        offset_minutes=rule.offset_minutes,
        appointment_type_id=rule.appointment_type_id,
        appointment_type=type_name,
        active=rule.active,
    )


def add_rule(
    ctx: Context,
    *,
    channel: str,
    offset: int | str,
    appointment_type_id: int | None = None,
) -> RuleView:
    """Send on `channel` `offset` before the appointment ("72h", "2h", "30m" or
    minutes). With `appointment_type_id` the rule belongs to that type, and that
    type's rules replace the practice's default rules for its appointments."""
    require(ctx, "reminders:send", action="reminder_rule.create")
    errors = v.collect(_channel_error(reminder_channels(ctx.pm), channel, "channel"))
    minutes = parse_offset(offset)
    if minutes is None:
        errors.append(
            FieldError("offset", "offset", "must be a time before the visit like 72h, 2h or 30m")
        )
    type_name = None
    if appointment_type_id is not None:
        appt_type = ctx.session.get(AppointmentType, appointment_type_id)
        if appt_type is None or appt_type.practice_id != ctx.practice_id:
            errors.append(
                FieldError("appointment_type_id", "not_found", "is not a type of this practice")
            )
        else:
            type_name = appt_type.name
    if not errors:
        same = ctx.session.exec(
            select(ReminderRule.id).where(
                ReminderRule.practice_id == ctx.practice_id,
                ReminderRule.appointment_type_id == appointment_type_id,
                ReminderRule.channel == channel,
                ReminderRule.offset_minutes == minutes,
                col(ReminderRule.active).is_(True),
            )
        ).first()
        if same is not None:
            errors.append(FieldError("offset", "duplicate", f"rule {same} already does this"))
    if errors:
        raise ValidationError(errors)
    rule = ReminderRule(
        practice_id=ctx.practice_id,
        appointment_type_id=appointment_type_id,
        channel=channel,
        offset_minutes=minutes,
    )
    ctx.session.add(rule)
    ctx.session.flush()
    audit.record(ctx, action="reminder_rule.create", detail={"rule_id": rule.id})
    return _rule_view(rule, type_name)


def list_rules(ctx: Context, *, include_inactive: bool = False) -> list[RuleView]:
    """The practice's rules: defaults first, then per appointment type, longest first."""
    require(ctx, "reminders:read", action="reminder_rule.list")
    query = (
        select(ReminderRule, AppointmentType.name)
        .join(
            AppointmentType,
            AppointmentType.id == ReminderRule.appointment_type_id,
            isouter=True,
        )
        .where(ReminderRule.practice_id == ctx.practice_id)
    )
    if not include_inactive:
        query = query.where(col(ReminderRule.active).is_(True))
    rows = ctx.session.exec(query).all()
    views = [_rule_view(rule, name) for rule, name in rows]
    return sorted(
        views,
        key=lambda r: (r.appointment_type or "", -r.offset_minutes, r.channel, r.id),
    )


def deactivate_rule(ctx: Context, *, rule_id: int) -> RuleView:
    """Stop a rule. Its reminders not yet sent are cancelled by the next run."""
    require(ctx, "reminders:send", action="reminder_rule.deactivate")
    rule = ctx.session.get(ReminderRule, rule_id)
    if rule is None or rule.practice_id != ctx.practice_id:
        raise NotFound(f"reminder rule {rule_id} not found")
    rule.active = False
    ctx.session.add(rule)
    ctx.session.flush()
    audit.record(ctx, action="reminder_rule.deactivate", detail={"rule_id": rule.id})
    type_name = None
    if rule.appointment_type_id is not None:
        type_name = ctx.session.get(AppointmentType, rule.appointment_type_id).name
    return _rule_view(rule, type_name)


# --- templates -----------------------------------------------------------------------
@dataclass(frozen=True)
class TemplateView:
    channel: str
    subject: str | None
    body: str
    custom: bool


def template_errors(field_name: str, text: str | None) -> list[FieldError]:
    """Problems with a template text: a placeholder other than PLACEHOLDERS (named,
    so the user sees which one), a format spec or conversion, unmatched braces."""
    try:
        parts = list(string.Formatter().parse(text or ""))
    except ValueError:
        return [
            FieldError(
                field_name,
                "braces",
                "has an unmatched { or } (write {{ or }} for a literal brace)",
            )
        ]
    refused: list[str] = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            if shown not in refused:
                refused.append(shown)
    if not refused:
        return []
    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    return [
        FieldError(
            field_name,
            "placeholder",
            f"may not use {', '.join(refused)}; a reminder may only contain {allowed}",
        )
    ]


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill a template checked by `template_errors`."""
    return text.format_map(values)


def _template(ctx: Context, channel: ReminderChannel) -> TemplateView:
    row = ctx.session.exec(
        select(MessageTemplate).where(
            MessageTemplate.practice_id == ctx.practice_id,
            MessageTemplate.channel == channel.name,
        )
    ).first()
    if row is None:
        return TemplateView(channel.name, channel.default_subject, channel.default_body, False)
    return TemplateView(channel.name, row.subject, row.body, True)


def set_template(
    ctx: Context, *, channel: str, body: str, subject: str | None = None
) -> TemplateView:
    """Replace the practice's template for `channel`. Refused with the offending
    placeholders named when the text uses anything but PLACEHOLDERS: a reminder
    never carries the visit reason, date of birth or other details."""
    require(ctx, "reminders:send", action="reminder_template.set")
    channels = reminder_channels(ctx.pm)
    errors = v.collect(_channel_error(channels, channel, "channel"))
    subject = (subject or "").strip() or None
    if v.blank(body):
        errors.append(FieldError("body", "required", "is required"))
    errors += template_errors("body", body)
    errors += v.too_long({"body": body, "subject": subject}, MessageTemplate)
    if channel in channels and channels[channel].default_subject is not None:
        if subject is None:
            errors.append(FieldError("subject", "required", f"is required for {channel}"))
        errors += template_errors("subject", subject)
    elif subject is not None:
        errors.append(FieldError("subject", "not_used", f"{channel} messages have no subject"))
    if errors:
        raise ValidationError(errors)
    row = ctx.session.exec(
        select(MessageTemplate).where(
            MessageTemplate.practice_id == ctx.practice_id, MessageTemplate.channel == channel
        )
    ).first()
    if row is None:
        row = MessageTemplate(practice_id=ctx.practice_id, channel=channel, body=body)
    row.subject, row.body, row.updated_at = subject, body, ctx.clock.now()
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx, action="reminder_template.set", detail={"channel": channel})
    return TemplateView(channel, subject, body, True)


def get_template(ctx: Context, *, channel: str) -> TemplateView:
    """The template `channel` uses: the practice's own, else the built-in one."""
    require(ctx, "reminders:read", action="reminder_template.read")
    channels = reminder_channels(ctx.pm)
    error = _channel_error(channels, channel, "channel")
    if error:
        raise ValidationError([error])
    return _template(ctx, channels[channel])


# --- quiet hours and due times ----------------------------------------------------------
@dataclass(frozen=True)
class QuietHours:
    """Local wall-clock [start, end) in `zone`, wrapping midnight when start > end;
    no quiet hours when start == end."""

    start: time
    end: time
    zone: ZoneInfo

    def around(self, instant: datetime) -> tuple[datetime, datetime] | None:
        """The quiet period (UTC start, end) that contains `instant`, or None."""
        if self.start == self.end:
            return None
        local = instant.astimezone(self.zone)
        at, day = local.time(), local.date()
        if self.start < self.end:
            if not self.start <= at < self.end:
                return None
            first, last = day, day
        elif at >= self.start:
            first, last = day, day + timedelta(days=1)
        elif at < self.end:
            first, last = day - timedelta(days=1), day
        else:
            return None
        return (
            appointments.wall_to_utc(self.zone, first, self.start),
            appointments.wall_to_utc(self.zone, last, self.end),
        )


def send_time(
    starts_at: datetime, offset_minutes: int, quiet: QuietHours, now: datetime
) -> datetime | None:
    """When a reminder `offset_minutes` before `starts_at` goes, keeping quiet
    hours (the rules in the module docstring); None when it cannot go at all."""
    offset = timedelta(minutes=offset_minutes)
    due = starts_at - offset
    period = quiet.around(due)
    if period is None:
        return due
    quiet_start, quiet_end = period
    if now >= quiet_end:
        return due  # those quiet hours are over: it is overdue and goes at once
    if quiet_end <= starts_at - offset / 2:
        return quiet_end
    if now < quiet_start:
        return quiet_start - BEFORE_QUIET
    if quiet_end < starts_at:
        return quiet_end
    return None


@dataclass(frozen=True)
class _Policy:
    quiet: QuietHours
    max_attempts: int
    retry_minutes: int


def _policy(ctx: Context, settings: Mapping[str, Any]) -> _Policy:
    return _Policy(
        quiet=QuietHours(
            settings["reminders.quiet_start"],
            settings["reminders.quiet_end"],
            appointments.practice_zone(ctx),
        ),
        max_attempts=settings["reminders.max_attempts"],
        retry_minutes=settings["reminders.retry_minutes"],
    )


def _settings(ctx: Context) -> dict[str, Any]:
    return effective_settings(ctx.session, ctx.practice_id, known_settings(ctx.pm))


# --- plan ------------------------------------------------------------------------------
def _rules_by_type(ctx: Context) -> tuple[list[ReminderRule], dict[int, list[ReminderRule]]]:
    rules = ctx.session.exec(
        select(ReminderRule).where(
            ReminderRule.practice_id == ctx.practice_id, col(ReminderRule.active).is_(True)
        )
    ).all()
    defaults = [r for r in rules if r.appointment_type_id is None]
    by_type: dict[int, list[ReminderRule]] = defaultdict(list)
    for rule in rules:
        if rule.appointment_type_id is not None:
            by_type[rule.appointment_type_id].append(rule)
    return defaults, by_type


def _insert_new(ctx: Context, rows: list[dict[str, Any]]) -> int:
    """Insert reminder rows, ignoring any another run inserted first; the count
    actually inserted."""
    if not rows:
        return 0
    if ctx.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = (
        dialect_insert(Reminder.__table__)
        .on_conflict_do_nothing(
            index_elements=["appointment_id", "rule_id", "appointment_starts_at"]
        )
        .execution_options(preserve_rowcount=True)
    )
    # A plain executemany (no RETURNING): psycopg pipelines it, where a multi-row
    # INSERT .. RETURNING costs more to build and parse than to run. Both drivers
    # report the rows actually inserted as the rowcount of an executemany.
    return ctx.session.execute(stmt, rows).rowcount


def _set_status(ctx: Context, ids: list[int], **values: Any) -> None:
    """Update pending/retry rows only: a row another run has claimed meanwhile is
    that run's to finish."""
    for chunk in chunked(ids):
        ctx.session.execute(
            update(Reminder)
            .where(col(Reminder.id).in_(chunk), col(Reminder.status).in_(("pending", "retry")))
            .values(**values)
        )


def _plan(ctx: Context, now: datetime, policy: _Policy) -> tuple[int, int, int]:
    """Insert owed reminders, cancel stale ones, skip superseded ones.
    Returns (planned, cancelled, superseded)."""
    defaults, by_type = _rules_by_type(ctx)
    rules = [*defaults, *(r for rs in by_type.values() for r in rs)]
    applicable: dict[int | None, set[int]] = {None: {r.id for r in defaults}}
    for type_id, type_rules in by_type.items():
        applicable[type_id] = {r.id for r in type_rules}

    def rules_for(type_id: int) -> list[ReminderRule]:
        return by_type.get(type_id, defaults)

    new_rows: list[dict[str, Any]] = []
    if rules:
        horizon = now + timedelta(minutes=max(r.offset_minutes for r in rules)) + PLAN_SLACK
        window = (
            Appointment.practice_id == ctx.practice_id,
            col(Appointment.status).in_(REMINDABLE),
            Appointment.starts_at > now,
            Appointment.starts_at <= horizon,
        )
        appts = ctx.session.exec(
            select(Appointment.id, Appointment.starts_at, Appointment.appointment_type_id).where(
                *window
            )
        ).all()
        owed = set(
            ctx.session.exec(
                select(Reminder.appointment_id, Reminder.rule_id, Reminder.appointment_starts_at)
                .join(Appointment, Appointment.id == Reminder.appointment_id)
                .where(*window)
            ).all()
        )
        for appt_id, starts_at, type_id in appts:
            for rule in rules_for(type_id):
                if (appt_id, rule.id, starts_at) in owed:
                    continue
                at = send_time(starts_at, rule.offset_minutes, policy.quiet, now)
                new_rows.append(
                    {
                        "practice_id": ctx.practice_id,
                        "appointment_id": appt_id,
                        "rule_id": rule.id,
                        "channel": rule.channel,
                        "appointment_starts_at": starts_at,
                        "due_at": at or starts_at - timedelta(minutes=rule.offset_minutes),
                        "next_attempt_at": at or now,
                        "status": "pending" if at else "skipped",
                        "skip_reason": None if at else "quiet hours last until the appointment",
                        "attempts": 0,
                        "message_key": uuid4().hex,
                        "created_at": now,
                    }
                )
    planned = _insert_new(ctx, new_rows)

    # Comparisons are made by the database: loading every waiting row's times
    # into Python would cost more than the rest of the plan.
    waiting = ctx.session.exec(
        select(
            Reminder.id,
            Reminder.appointment_id,
            Reminder.rule_id,
            Reminder.channel,
            Appointment.status,
            Appointment.appointment_type_id,
            (Appointment.starts_at != Reminder.appointment_starts_at).label("moved"),
            (Reminder.next_attempt_at <= now).label("due"),
        )
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .where(
            Reminder.practice_id == ctx.practice_id,
            col(Reminder.status).in_(("pending", "retry")),
        )
        .order_by(Reminder.appointment_id, Reminder.channel, Reminder.due_at, Reminder.id)
    ).all()
    stale: list[int] = []
    superseded: list[int] = []
    latest_due: dict[tuple[int, str], int] = {}  # rows come in due order: the last one wins
    for rid, appt_id, rule_id, channel, status, type_id, moved, due in waiting:
        if (
            status not in REMINDABLE
            or moved
            or rule_id not in applicable.get(type_id, applicable[None])
        ):
            stale.append(rid)
        elif due:
            earlier = latest_due.get((appt_id, channel))
            if earlier is not None:
                superseded.append(earlier)
            latest_due[(appt_id, channel)] = rid
    _set_status(ctx, stale, status="cancelled", claim_token=None, claimed_until=None)
    _set_status(ctx, superseded, status="skipped", skip_reason="superseded by a later reminder")
    return planned, len(stale), len(superseded)


# --- claim ----------------------------------------------------------------------------
@dataclass
class _Claimed:
    reminder_id: int
    channel: str
    previous_status: str
    attempts: int
    message: OutgoingMessage


@dataclass
class _Settled:
    """A claimed reminder that ends without a delivery."""

    reminder_id: int
    status: str  # cancelled, skipped or failed
    reason: str | None
    attempt: bool  # write a "skipped" attempt row


def _due_clause(now: datetime):
    return or_(
        and_(col(Reminder.status).in_(("pending", "retry")), Reminder.next_attempt_at <= now),
        and_(Reminder.status == "sending", Reminder.claimed_until < now),
    )


def _display_time(local: datetime) -> str:
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def _provider_name(first: str, last: str, credential: str | None) -> str:
    return f"{first} {last}" + (f", {credential}" if credential else "")


@dataclass(frozen=True)
class _Rendering:
    """What a run renders with: the practice, its zone and each channel's template."""

    practice: str
    zone: ZoneInfo
    templates: dict[str, TemplateView]

    def message(
        self,
        channel: ReminderChannel,
        *,
        reminder_id: int,
        message_key: str,
        recipient: str,
        patient_id: int,
        first_name: str,
        last_name: str,
        starts_at: datetime,
        location: str,
        provider: str,
    ) -> OutgoingMessage:
        local = starts_at.astimezone(self.zone)
        values = {
            "first_name": first_name,
            "date": f"{local:%A}, {local:%B} {local.day}",
            "time": _display_time(local),
            "location": location,
            "practice": self.practice,
            "provider": provider,
            "reply": channel.reply_instructions,
        }
        template = self.templates[channel.name]
        return OutgoingMessage(
            reminder_id=reminder_id,
            message_key=message_key,
            recipient=recipient,
            subject=render(template.subject, values) if template.subject else None,
            body=render(template.body, values).strip(),
            patient_id=patient_id,
            patient_name=f"{first_name} {last_name}",
            appointment_at=local,
            location=location,
        )


def _rendering(ctx: Context, channels: Mapping[str, ReminderChannel]) -> _Rendering:
    practice = ctx.session.get(Practice, ctx.practice_id)
    return _Rendering(
        practice=practice.name,
        zone=ZoneInfo(practice.time_zone),
        templates={name: _template(ctx, ch) for name, ch in channels.items()},
    )


def _contact_problem(patient_active: bool, deceased: date | None, preferred: str) -> str | None:
    if deceased is not None or not patient_active:
        return "patient is inactive or deceased"
    if preferred == "none":
        return "patient asked not to be contacted"
    return None


def _claim(
    ctx: Context,
    *,
    now: datetime,
    size: int,
    lease: timedelta,
    channels: Mapping[str, ReminderChannel],
    rendering: _Rendering,
) -> tuple[str, list[_Claimed], list[_Settled]]:
    """Claim up to `size` due reminders for this run (caller commits). Returns
    the claim token, the messages to deliver and the rows settled without one."""
    token = uuid4().hex
    picked = ctx.session.exec(
        select(Reminder.id, Reminder.status)
        .where(
            Reminder.practice_id == ctx.practice_id,
            col(Reminder.channel).in_(list(channels)),
            _due_clause(now),
        )
        .order_by(Reminder.next_attempt_at, Reminder.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    ).all()
    if not picked:
        return token, [], []
    previous = dict(picked)
    ids = list(previous)
    ctx.session.execute(
        update(Reminder)
        .where(col(Reminder.id).in_(ids))
        .values(status="sending", claim_token=token, claimed_until=now + lease)
    )
    rows = ctx.session.exec(
        select(
            Reminder.id,
            Reminder.channel,
            Reminder.attempts,
            Reminder.message_key,
            Appointment.status,
            (Appointment.starts_at != Reminder.appointment_starts_at).label("moved"),
            (Appointment.starts_at <= now).label("started"),
            Appointment.starts_at,
            Patient.id,
            Patient.first_name,
            Patient.last_name,
            Patient.email,
            Patient.mobile_phone,
            Patient.home_phone,
            Patient.preferred_contact,
            Patient.active,
            Patient.deceased_date,
            Location.name,
            Provider.first_name,
            Provider.last_name,
            Provider.credential,
        )
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Location, Location.id == Appointment.location_id)
        .join(Provider, Provider.id == Appointment.provider_id)
        .where(col(Reminder.id).in_(ids))
        .order_by(Reminder.next_attempt_at, Reminder.id)
    ).all()
    claimed: list[_Claimed] = []
    settled: list[_Settled] = []
    for row in rows:
        (rid, channel_name, attempts, key, appt_status, moved, started) = row[:7]
        (starts_at, patient_id, first, last, email, mobile, home, preferred) = row[7:15]
        active, deceased, location, prov_first, prov_last, credential = row[15:]
        channel = channels[channel_name]
        if appt_status not in REMINDABLE or moved:
            settled.append(_Settled(rid, "cancelled", None, attempt=False))
            continue
        if started:
            reason = "the appointment started before it could be sent"
            settled.append(_Settled(rid, "failed" if attempts else "skipped", reason, True))
            continue
        recipient = None
        problem = _contact_problem(active, deceased, preferred)
        if problem is None:
            recipient = channel.recipient(PatientContact(email, mobile, home))
            problem = None if recipient else channel.no_recipient_reason
        if problem:
            settled.append(_Settled(rid, "skipped", problem, attempt=True))
            continue
        claimed.append(
            _Claimed(
                reminder_id=rid,
                channel=channel_name,
                previous_status=previous[rid],
                attempts=attempts,
                message=rendering.message(
                    channel,
                    reminder_id=rid,
                    message_key=key,
                    recipient=recipient,
                    patient_id=patient_id,
                    first_name=first,
                    last_name=last,
                    starts_at=starts_at,
                    location=location,
                    provider=_provider_name(prov_first, prov_last, credential),
                ),
            )
        )
    _settle(ctx, settled, now)
    return token, claimed, settled


def _settle(ctx: Context, settled: list[_Settled], now: datetime) -> None:
    if not settled:
        return
    table = Reminder.__table__
    ctx.session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            status=bindparam("b_status"),
            skip_reason=bindparam("b_reason"),
            claim_token=None,
            claimed_until=None,
        ),
        [{"b_id": s.reminder_id, "b_status": s.status, "b_reason": s.reason} for s in settled],
    )
    attempts = [
        {
            "practice_id": ctx.practice_id,
            "reminder_id": s.reminder_id,
            "attempted_at": now,
            "outcome": "skipped",
            "error": s.reason,
        }
        for s in settled
        if s.attempt
    ]
    if attempts:
        ctx.session.execute(insert(ReminderAttempt.__table__), attempts)


# --- deliver and record -------------------------------------------------------------------
@dataclass
class _Outcome:
    claimed: _Claimed
    delivered: bool = False
    released: bool = False
    withdrawn: bool = False
    receipt: str | None = None
    error: str | None = None
    permanent: bool = False


class _Senders:
    """One open Sender per channel for the whole run, opened on first use; the
    outbox's (reminder_outbox) when `reminders.outbox_dir` is set."""

    def __init__(
        self, channels: Mapping[str, ReminderChannel], settings: Mapping[str, Any], day: date
    ):
        self._channels, self._settings, self._day = channels, settings, day
        self._open: dict[str, Sender | DeliveryError] = {}

    def _open_sender(self, channel: str) -> Sender:
        outbox = self._settings.get("reminders.outbox_dir")
        if outbox:
            from pms_core.services.reminder_outbox import OutboxSender

            return OutboxSender(Path(outbox), channel, self._day)
        return self._channels[channel].open(self._settings)

    def send(self, message: OutgoingMessage, channel: str) -> str | None:
        if channel not in self._open:
            try:
                self._open[channel] = self._open_sender(channel)
            except DeliveryError as exc:
                self._open[channel] = exc  # e.g. not configured: every message fails alike
        sender = self._open[channel]
        if isinstance(sender, DeliveryError):
            raise sender
        return sender.send(message)

    def close(self) -> None:
        for sender in self._open.values():
            if not isinstance(sender, DeliveryError):
                try:
                    sender.close()
                except Exception as exc:  # closing must not lose what was recorded
                    log.warning("closing a reminder channel failed: %s", type(exc).__name__)


def _still_owed(ctx: Context, ids: list[int]) -> set[int]:
    """Those of `ids` whose appointment is still booked or confirmed at the time
    the reminder was planned for (its own short transaction)."""
    owed = set(
        ctx.session.exec(
            select(Reminder.id)
            .join(Appointment, Appointment.id == Reminder.appointment_id)
            .where(
                col(Reminder.id).in_(ids),
                col(Appointment.status).in_(REMINDABLE),
                Appointment.starts_at == Reminder.appointment_starts_at,
            )
        ).all()
    )
    ctx.session.commit()
    return owed


def _deliver(
    ctx: Context, claimed: list[_Claimed], senders: _Senders, deadline: datetime
) -> list[_Outcome]:
    """Send each message in turn; past `deadline` (half the lease) the rest are
    released rather than risk sending what another run may take over. Every
    RECHECK the rest's appointments are read again, and a reminder whose
    appointment was cancelled or moved meanwhile is withdrawn."""
    outcomes: list[_Outcome] = []
    checked_at, gone = ctx.clock.now(), set()
    for i, item in enumerate(claimed):
        outcome = _Outcome(item)
        outcomes.append(outcome)
        now = ctx.clock.now()
        if now >= deadline:
            outcome.released = True
            continue
        if now - checked_at >= RECHECK:
            rest = [c.reminder_id for c in claimed[i:]]
            gone = set(rest) - _still_owed(ctx, rest)
            checked_at = now
        if item.reminder_id in gone:
            outcome.withdrawn = True
            continue
        try:
            outcome.receipt = senders.send(item.message, item.channel)
            outcome.delivered = True
        except DeliveryError as exc:
            outcome.error, outcome.permanent = exc.reason, exc.permanent
        except Exception as exc:  # a broken channel fails its messages, not the run
            log.error("reminder channel %s raised %s", item.channel, type(exc).__name__)
            outcome.error = f"channel error ({type(exc).__name__})"
    return outcomes


def _record(
    ctx: Context, token: str, outcomes: list[_Outcome], policy: _Policy, now: datetime
) -> dict[str, int]:
    """Write each outcome: an attempt row for every delivery tried, and the new
    status for rows this run still holds (claim token unchanged)."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "released": 0, "cancelled": 0}
    if not outcomes:
        return counts
    ids = [o.claimed.reminder_id for o in outcomes]
    held: set[int] = set()
    for chunk in chunked(ids):
        held.update(
            ctx.session.exec(
                select(Reminder.id)
                .where(
                    col(Reminder.id).in_(chunk),
                    Reminder.claim_token == token,
                    Reminder.status == "sending",
                )
                .with_for_update()
            ).all()
        )
    updates: list[dict[str, Any]] = []
    releases: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for o in outcomes:
        c = o.claimed
        if o.withdrawn:
            if c.reminder_id in held:
                releases.append({"b_id": c.reminder_id, "b_status": "cancelled"})
                counts["cancelled"] += 1
            continue
        if o.released:
            if c.reminder_id in held:
                status = c.previous_status
                if status == "sending":  # taken over from a run that died
                    status = "retry" if c.attempts else "pending"
                releases.append({"b_id": c.reminder_id, "b_status": status})
                counts["released"] += 1
            continue
        attempts.append(
            {
                "practice_id": ctx.practice_id,
                "reminder_id": c.reminder_id,
                "attempted_at": now,
                "outcome": "delivered" if o.delivered else "failed",
                "receipt": (o.receipt or None) and o.receipt[:120],
                "error": o.error,
            }
        )
        if c.reminder_id not in held:
            continue  # the lease ran out and another run took it over
        tries = c.attempts + 1
        if o.delivered:
            status, next_at = "sent", None
        elif o.permanent or tries >= policy.max_attempts:
            status, next_at = "failed", None
        else:
            status = "retry"
            wait = min(policy.retry_minutes * 2 ** (tries - 1), MAX_RETRY_WAIT_MINUTES)
            next_at = now + timedelta(minutes=wait)
        counts[status] += 1
        updates.append(
            {
                "b_id": c.reminder_id,
                "b_status": status,
                "b_attempts": tries,
                "b_next": next_at,
                "b_receipt": (o.receipt or None) and o.receipt[:120],
                "b_error": o.error,
                "b_sent": now if o.delivered else None,
                "b_recipient": c.message.recipient,
            }
        )
    table = Reminder.__table__
    if updates:
        ctx.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.claim_token == token)
            .values(
                status=bindparam("b_status"),
                attempts=bindparam("b_attempts"),
                next_attempt_at=func.coalesce(
                    bindparam("b_next", type_=UTCDateTime()), table.c.next_attempt_at
                ),
                receipt=bindparam("b_receipt"),
                last_error=bindparam("b_error"),
                sent_at=bindparam("b_sent", type_=UTCDateTime()),
                recipient=bindparam("b_recipient"),
                claim_token=None,
                claimed_until=None,
            ),
            updates,
        )
    if releases:
        ctx.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.claim_token == token)
            .values(status=bindparam("b_status"), claim_token=None, claimed_until=None),
            releases,
        )
    if attempts:
        ctx.session.execute(insert(ReminderAttempt.__table__), attempts)
    return counts


# --- the run ---------------------------------------------------------------------------
@dataclass
class SendResult:
    """What one `send_due` run did. `due` is what a dry run found ready to send;
    `quiet_hours` says the run stopped sending because it is inside quiet hours;
    `replies_unreachable` names channels whose replies could not be fetched."""

    planned: int = 0
    cancelled: int = 0
    sent: int = 0
    retry: int = 0
    skipped: int = 0
    failed: int = 0
    released: int = 0
    replies: int = 0
    due: int = 0
    dry_run: bool = False
    quiet_hours: bool = False
    replies_unreachable: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            k: getattr(self, k)
            for k in ("planned", "cancelled", "sent", "retry", "skipped", "failed", "replies")
        }


def _chosen_channels(ctx: Context, channels: Sequence[str] | None):
    registered = reminder_channels(ctx.pm)
    if not channels:
        return registered
    errors = [e for name in channels if (e := _channel_error(registered, name, "channel"))]
    if errors:
        raise ValidationError(errors)
    return {name: registered[name] for name in channels}


def send_due(
    ctx: Context,
    *,
    limit: int | None = None,
    channels: Sequence[str] | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    lease: timedelta = LEASE,
) -> SendResult:
    """Process replies, plan, then send every due reminder exactly once (see the
    module docstring for the phases and the one crash window).

    Commits as it goes: each phase and each batch is its own transaction, and
    nothing is held open while messages are delivered. `limit` caps how many
    reminders this run takes; `channels` restricts it to those channels.
    `dry_run` plans, counts what is due and writes nothing but the audit event.
    """
    require(ctx, "reminders:send", action="reminder.send")
    chosen = _chosen_channels(ctx, channels)
    settings = _settings(ctx)
    policy = _policy(ctx, settings)
    result = SendResult(dry_run=dry_run)
    if dry_run:
        now = ctx.clock.now()
        result.planned, result.cancelled, superseded = _plan(ctx, now, policy)
        result.skipped = superseded
        result.due = ctx.session.exec(
            select(func.count())
            .select_from(Reminder)
            .where(
                Reminder.practice_id == ctx.practice_id,
                col(Reminder.channel).in_(list(chosen)),
                _due_clause(now),
            )
        ).one()
        result.quiet_hours = policy.quiet.around(now) is not None
        ctx.session.rollback()
        audit.record(ctx, action="reminder.send", detail={"dry_run": True, "due": result.due})
        return result

    replies = _process_replies(ctx, chosen, settings)
    result.replies, result.replies_unreachable = replies.processed, replies.unreachable
    ctx.session.commit()
    now = ctx.clock.now()
    result.planned, result.cancelled, result.skipped = _plan(ctx, now, policy)
    ctx.session.commit()
    senders = _Senders(chosen, settings, now.astimezone(policy.quiet.zone).date())
    rendering = _rendering(ctx, chosen)
    remaining = limit if limit is not None else float("inf")
    try:
        while remaining > 0:
            now = ctx.clock.now()
            if policy.quiet.around(now) is not None:  # checked per batch: a run may be long
                result.quiet_hours = True
                break
            token, claimed, settled = _claim(
                ctx,
                now=now,
                size=int(min(batch_size, remaining)),
                lease=lease,
                channels=chosen,
                rendering=rendering,
            )
            ctx.session.commit()
            if not claimed and not settled:
                break
            remaining -= len(claimed) + len(settled)
            for s in settled:  # cancelled, skipped or failed: each a count of the result
                setattr(result, s.status, getattr(result, s.status) + 1)
            outcomes = _deliver(ctx, claimed, senders, now + lease / 2)
            counts = _record(ctx, token, outcomes, policy, ctx.clock.now())
            ctx.session.commit()
            result.sent += counts["sent"]
            result.retry += counts["retry"]
            result.failed += counts["failed"]
            result.released += counts["released"]
            result.cancelled += counts["cancelled"]
            if counts["released"]:
                break  # delivery is too slow for the lease; leave the rest to the next run
    finally:
        senders.close()
    audit.record(ctx, action="reminder.send", detail=result.counts())
    return result


# --- replies ----------------------------------------------------------------------------
@dataclass
class ReplyResult:
    processed: int = 0
    confirmed: int = 0
    cancelled: int = 0
    unknown: int = 0
    unmatched: int = 0
    duplicates: int = 0
    unreachable: list[str] = field(default_factory=list)


def interpret(text: str) -> str:
    """confirm, cancel or unknown. Only a message that is just the keyword counts:
    "No problem, see you then" is not a cancellation."""
    word = re.sub(r"[^A-Z]", "", (text or "").upper())
    if word in CONFIRM_WORDS:
        return "confirm"
    if word in CANCEL_WORDS:
        return "cancel"
    return "unknown"


def _apply_reply(
    ctx: Context, channel: str, reply: InboundReply, result: ReplyResult, horizon: timedelta
) -> None:
    now = ctx.clock.now()
    intent = interpret(reply.text)
    match = ctx.session.exec(
        select(Reminder.id, Appointment.id, Appointment.status)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .where(
            Appointment.practice_id == ctx.practice_id,
            col(Appointment.status).in_(REMINDABLE),
            Appointment.starts_at > now,
            Appointment.starts_at <= now + horizon,
            Reminder.channel == channel,
            Reminder.status == "sent",
            Reminder.recipient == reply.from_address,
        )
        .order_by(col(Reminder.sent_at).desc(), col(Reminder.id).desc())
        .limit(1)
    ).first()
    reminder_id, appointment_id, appt_status = match or (None, None, None)
    row = ReminderReply(
        practice_id=ctx.practice_id,
        channel=channel,
        external_id=reply.external_id[:120],
        reminder_id=reminder_id,
        appointment_id=appointment_id,
        received_at=reply.received_at,
        intent=intent,
        result="needs staff review",
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(row)
            ctx.session.flush()
    except IntegrityError:
        result.duplicates += 1
        return
    result.processed += 1
    if appointment_id is None:
        result.unmatched += 1
        row.result = "no upcoming appointment reminded at this address"
    elif intent == "unknown":
        result.unknown += 1
    elif intent == "confirm" and appt_status == "confirmed":
        row.result = "already confirmed"
    else:
        try:
            if intent == "confirm":
                appointments.confirm(ctx, appointment_id=appointment_id)
                row.result, result.confirmed = "confirmed", result.confirmed + 1
            else:
                appointments.cancel(ctx, appointment_id=appointment_id, reason=CANCEL_REASON)
                row.result, result.cancelled = "cancelled", result.cancelled + 1
        except Conflict as exc:
            row.result = str(exc)[:120]
    ctx.session.add(row)
    ctx.session.flush()


def _process_replies(
    ctx: Context, channels: Mapping[str, ReminderChannel], settings: Mapping[str, Any]
) -> ReplyResult:
    result = ReplyResult()
    longest = ctx.session.exec(
        select(func.max(ReminderRule.offset_minutes)).where(
            ReminderRule.practice_id == ctx.practice_id, col(ReminderRule.active).is_(True)
        )
    ).one()
    horizon = timedelta(minutes=longest or 0) + PLAN_SLACK
    for name, channel in channels.items():
        if not isinstance(channel, ReplyChannel):
            continue
        newest = ctx.session.exec(
            select(func.max(ReminderReply.received_at)).where(
                ReminderReply.practice_id == ctx.practice_id, ReminderReply.channel == name
            )
        ).one()
        since = newest - REPLY_OVERLAP if newest else None
        try:
            if settings.get("reminders.outbox_dir"):
                from pms_core.services.reminder_outbox import read_replies

                replies = read_replies(Path(settings["reminders.outbox_dir"]), name, since)
            else:
                replies = channel.fetch_replies(settings, since)
        except Exception as exc:  # a broken reply channel must not stop the sending
            reason = exc.reason if isinstance(exc, DeliveryError) else type(exc).__name__
            log.warning("replies on %s not fetched: %s", name, reason)
            result.unreachable.append(name)
            continue
        seen = _stored_replies(ctx, name, [r.external_id[:120] for r in replies])
        for reply in replies:
            if reply.external_id[:120] in seen:  # fetched again (the overlap)
                result.duplicates += 1
                continue
            _apply_reply(ctx, name, reply, result, horizon)
            ctx.session.commit()
    return result


def _stored_replies(ctx: Context, channel: str, external_ids: list[str]) -> set[str]:
    """Which of these replies are already stored: a fetch repeats the last
    REPLY_OVERLAP's, and trying each again only to hit the unique key costs a
    savepoint apiece."""
    seen: set[str] = set()
    for chunk in chunked(external_ids):
        seen.update(
            ctx.session.exec(
                select(ReminderReply.external_id).where(
                    ReminderReply.practice_id == ctx.practice_id,
                    ReminderReply.channel == channel,
                    col(ReminderReply.external_id).in_(chunk),
                )
            )
        )
    return seen


def process_replies(ctx: Context, *, channels: Sequence[str] | None = None) -> ReplyResult:
    """Fetch and act on patients' replies (also part of every `send_due` run).
    Confirming and cancelling go through the appointment services, so they are
    checked and audited as if staff did them."""
    require(ctx, "reminders:send", action="reminder.replies")
    chosen = _chosen_channels(ctx, channels)
    result = _process_replies(ctx, chosen, _settings(ctx))
    audit.record(
        ctx,
        action="reminder.replies",
        detail={
            "processed": result.processed,
            "confirmed": result.confirmed,
            "cancelled": result.cancelled,
            "unknown": result.unknown,
            "unmatched": result.unmatched,
        },
    )
    return result


# --- lists and preview -------------------------------------------------------------------
@dataclass(frozen=True)
class ReminderView:
    """A reminder as the reminders list/screen shows it (times local)."""

    id: int
    appointment_id: int
    patient_id: int
    patient: str
    channel: str
    appointment_at: datetime
    due_at: datetime
    status: str
    attempts: int
    reason: str | None
    sent_at: datetime | None


def list_reminders(
    ctx: Context,
    *,
    status: str | None = None,
    day: date | str | None = None,
    limit: int = 500,
) -> list[ReminderView]:
    """Reminders by appointment time, optionally one status and the appointments
    of one local day. `reason` is why it was skipped or the last delivery error."""
    require(ctx, "reminders:read", action="reminder.list")
    errors = v.collect(v.choice_error("status", status, REMINDER_STATUSES))
    day, err = v.parse_date("date", day)
    errors = v.collect(errors, err)
    if errors:
        raise ValidationError(errors)
    zone = appointments.practice_zone(ctx)
    query = (
        select(Reminder, Appointment.patient_id, Patient.first_name, Patient.last_name)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(Reminder.practice_id == ctx.practice_id)
    )
    if status:
        query = query.where(Reminder.status == status)
    if day:
        start, end = appointments.local_day_bounds(zone, day, day)
        query = query.where(
            Reminder.appointment_starts_at >= start, Reminder.appointment_starts_at < end
        )
    rows = ctx.session.exec(
        query.order_by(Reminder.appointment_starts_at, Reminder.due_at, Reminder.id).limit(limit)
    ).all()
    views = [
        ReminderView(
            id=r.id,
            appointment_id=r.appointment_id,
            patient_id=patient_id,
            patient=f"{last}, {first}",
            channel=r.channel,
            appointment_at=r.appointment_starts_at.astimezone(zone),
            due_at=r.due_at.astimezone(zone),
            status=r.status,
            attempts=r.attempts,
            reason=r.skip_reason or r.last_error,
            sent_at=r.sent_at.astimezone(zone) if r.sent_at else None,
        )
        for r, patient_id, first, last in rows
    ]
    audit.record_read(ctx, action="reminder.list", detail={"results": len(views)})
    return views


@dataclass(frozen=True)
class Preview:
    """What `channel` would send for an appointment: the message, or why not."""

    channel: str
    recipient: str | None
    skip_reason: str | None
    subject: str | None
    body: str


def preview(ctx: Context, *, appointment_id: int) -> list[Preview]:
    """The rendered reminder on each installed channel, without sending anything."""
    require(ctx, "reminders:read", action="reminder.preview")
    appt = ctx.session.get(Appointment, appointment_id)
    if appt is None or appt.practice_id != ctx.practice_id:
        raise NotFound(f"appointment {appointment_id} not found")
    patient = ctx.session.get(Patient, appt.patient_id)
    location = ctx.session.get(Location, appt.location_id)
    provider = ctx.session.get(Provider, appt.provider_id)
    channels = reminder_channels(ctx.pm)
    rendering = _rendering(ctx, channels)
    contact = PatientContact(patient.email, patient.mobile_phone, patient.home_phone)
    previews = []
    for name, channel in sorted(channels.items()):
        problem = _contact_problem(patient.active, patient.deceased_date, patient.preferred_contact)
        recipient = None if problem else channel.recipient(contact)
        message = rendering.message(
            channel,
            reminder_id=0,
            message_key="",
            recipient=recipient or "",
            patient_id=patient.id,
            first_name=patient.first_name,
            last_name=patient.last_name,
            starts_at=appt.starts_at,
            location=location.name,
            provider=_provider_name(provider.first_name, provider.last_name, provider.credential),
        )
        previews.append(
            Preview(
                channel=name,
                recipient=recipient,
                skip_reason=problem or (None if recipient else channel.no_recipient_reason),
                subject=message.subject,
                body=message.body,
            )
        )
    audit.record(
        ctx,
        action="reminder.preview",
        patient_id=patient.id,
        detail={"appointment_id": appt.id},
    )
    return previews
