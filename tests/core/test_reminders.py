"""Appointment reminders: policy, quiet hours, sending exactly once, retries,
crash recovery, replies, templates. Email goes to a real SMTP server on loopback
(aiosmtpd); every database test runs on SQLite and PostgreSQL.

The builders and servers here are also used by tests/plugins/test_reminder_channels.py
and tests/cli/test_remind_cli.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from pms_core.audit import flush_reads
from pms_core.context import unit_of_work
from pms_core.errors import NotFound, PermissionDenied, ValidationError
from pms_core.hookspecs import hookimpl
from pms_core.models import (
    Appointment,
    AppointmentType,
    AuditEvent,
    AvailabilityTemplate,
    Patient,
    Reminder,
    ReminderAttempt,
    ReminderReply,
)
from pms_core.plugins import get_plugin_manager
from pms_core.services import appointments, config, reminders
from pms_core.services.reminders import (
    DeliveryError,
    InboundReply,
    QuietHours,
    send_time,
)

CHICAGO = ZoneInfo("America/Chicago")
SENDER = "Maple Family Medicine <reminders@maple.example>"
# The practice fixture's clock: 2026-03-02 15:00 UTC = 09:00 in Chicago.
APPT_AT = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)  # Wednesday 10:00 Chicago


# --- a real SMTP server ----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Arrival:
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    """aiosmtpd on loopback. `delay` slows each DATA (to make runs overlap);
    `refuse` maps an address to the reply its RCPT gets."""

    port: int = field(default_factory=free_port)
    delay: float = 0.0
    refuse: dict[str, str] = field(default_factory=dict)
    arrived: list[Arrival] = field(default_factory=list)
    _controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.arrived.append(Arrival(list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> SmtpServer:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> list[str]:
        return [a.message["Message-ID"] for a in self.arrived]


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


# --- builders ----------------------------------------------------------------------------
def add_type(engine, practice, name: str = "Office visit", minutes: int = 30) -> int:
    with Session(engine) as s:
        row = AppointmentType(practice_id=practice.id, name=name, duration_minutes=minutes)
        s.add(row)
        s.commit()
        return row.id


_accounts = iter(range(1, 10**6))


def add_patient(
    engine,
    practice,
    *,
    first: str = "Ana",
    last: str = "Lindqvist",
    email: str | None = "ana.l@example.com",
    mobile: str | None = None,
    home: str | None = None,
    preferred: str = "email",
) -> int:
    with Session(engine) as s:
        row = Patient(
            practice_id=practice.id,
            account_number=f"R{next(_accounts):07d}",
            first_name=first,
            last_name=last,
            dob=date(1979, 4, 12),
            sex="F",
            address1="4 Synthetic Ave",
            city="Springfield",
            state="IL",
            zip="62701",
            email=email,
            mobile_phone=mobile,
            home_phone=home,
            preferred_contact=preferred,
            search_first=first.lower(),
            search_last=last.lower(),
        )
        s.add(row)
        s.commit()
        return row.id


def add_appointment(
    engine, practice, patient_id: int, type_id: int, starts_at: datetime = APPT_AT, **fields
) -> int:
    """An appointment row inserted directly (where booking rules are beside the point)."""
    with Session(engine) as s:
        row = Appointment(
            practice_id=practice.id,
            patient_id=patient_id,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            appointment_type_id=type_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            **fields,
        )
        s.add(row)
        s.commit()
        return row.id


def configure(uow, **settings) -> None:
    with uow("admin") as ctx:
        for key, value in settings.items():
            config.set_setting(ctx, key=key, value=str(value))


def configure_smtp(uow, port: int, **extra) -> None:
    configure(
        uow,
        **{
            "smtp.host": "127.0.0.1",
            "smtp.port": port,
            "smtp.starttls": "false",
            "smtp.from": SENDER,
            **extra,
        },
    )


def add_rules(uow, *rules: tuple, appointment_type_id: int | None = None) -> None:
    with uow("admin") as ctx:
        for channel, offset in rules:
            reminders.add_rule(
                ctx, channel=channel, offset=offset, appointment_type_id=appointment_type_id
            )


def send(uow, role: str = "admin", **kwargs) -> reminders.SendResult:
    with uow(role) as ctx:
        return reminders.send_due(ctx, **kwargs)


def stored(engine) -> list[Reminder]:
    with Session(engine) as s:
        return list(s.exec(select(Reminder).order_by(Reminder.id)))


def attempts(engine, reminder_id: int | None = None) -> list[ReminderAttempt]:
    with Session(engine) as s:
        query = select(ReminderAttempt).order_by(ReminderAttempt.id)
        if reminder_id is not None:
            query = query.where(ReminderAttempt.reminder_id == reminder_id)
        return list(s.exec(query))


def events(engine, action: str) -> list[AuditEvent]:
    assert flush_reads(engine)  # reads are audited in grouped commits
    with Session(engine) as s:
        return list(
            s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        )


@pytest.fixture
def visit(engine, practice):
    """An appointment type and a patient with an email address."""
    return add_type(engine, practice), add_patient(engine, practice)


# --- a channel written for these tests, through the same hook as any plugin -------------
class Textline:
    """A reply-capable channel that keeps what it sends and answers with `inbox`."""

    name = "textline"
    description = "test channel"
    settings = ()
    default_subject = None
    default_body = "{practice}: {first_name}, see you {date} at {time}. {reply}"
    reply_instructions = "Reply C or X."
    no_recipient_reason = "no mobile phone on file"

    def __init__(self):
        self.sent = []
        self.inbox: list[InboundReply] = []

    def recipient(self, contact):
        return contact.mobile_phone

    def open(self, settings):
        channel = self

        class _Sender:
            def send(self, message):
                channel.sent.append(message)
                return f"tl-{len(channel.sent)}"

            def close(self):
                pass

        return _Sender()

    def fetch_replies(self, settings, since):
        return list(self.inbox)


class ChannelPlugin:
    def __init__(self, *channels):
        self.channels = channels

    @hookimpl
    def register_reminder_channels(self, register):
        for channel in self.channels:
            register(channel)


@pytest.fixture
def textline(engine, practice, clock):
    """(channel, uow) where uow opens units of work whose plugins include the channel."""
    channel = Textline()
    pm = get_plugin_manager(extra=(ChannelPlugin(channel),))

    def _open(role: str = "admin"):
        return unit_of_work(engine, user_id=practice.users[role], pm=pm, clock=clock)

    return channel, _open


# --- quiet hours (no database) -----------------------------------------------------------
QUIET = QuietHours(time(21), time(8), CHICAGO)
EARLY = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)  # planned well ahead


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    "starts,offset,now,expected,why",
    [
        (local(2026, 3, 4, 10, 0), 1440, EARLY, local(2026, 3, 3, 10, 0), "outside quiet hours"),
        (local(2026, 3, 4, 7, 0), 1440, EARLY, local(2026, 3, 3, 8, 0), "later: 23h notice"),
        (local(2026, 3, 4, 9, 0), 120, EARLY, local(2026, 3, 4, 8, 0), "later: 1h of 2h"),
        (local(2026, 3, 4, 8, 30), 120, EARLY, local(2026, 3, 3, 20, 30), "earlier: 30m too few"),
        (local(2026, 3, 4, 8, 30), 120, local(2026, 3, 3, 23, 0), local(2026, 3, 4, 8, 0), "late"),
        (local(2026, 3, 4, 7, 30), 120, local(2026, 3, 3, 23, 0), None, "no time left"),
        (local(2026, 3, 4, 7, 0), 600, local(2026, 3, 4, 9, 0), local(2026, 3, 3, 21, 0), "over"),
    ],
)
def test_quiet_hours_move_a_reminder_to_an_allowed_time(starts, offset, now, expected, why):
    assert send_time(starts, offset, QUIET, now) == expected, why


def test_quiet_hours_follow_the_wall_clock_across_daylight_saving():
    # Clocks spring forward on 2026-03-08: quiet hours still end at 08:00 local (CDT).
    at = send_time(local(2026, 3, 9, 7, 0), 1440, QUIET, EARLY)
    assert at == local(2026, 3, 8, 8, 0) and at.astimezone(UTC).hour == 13


def test_equal_start_and_end_means_no_quiet_hours():
    none = QuietHours(QUIET.end, QUIET.end, CHICAGO)
    assert send_time(local(2026, 3, 4, 3, 0), 60, none, EARLY) == local(2026, 3, 4, 2, 0)


def test_offsets_are_read_like_people_write_them():
    assert [reminders.parse_offset(x) for x in ("72h", "2h", "30m", "1d", "1h30m", 90)] == [
        4320,
        120,
        30,
        1440,
        90,
        90,
    ]
    assert [reminders.parse_offset(x) for x in ("", "0h", "-2h", "2 weeks", "31d", True)] == [
        None
    ] * 6
    assert reminders.format_offset(4320) == "72h" and reminders.format_offset(90) == "1h30m"


def test_only_a_bare_keyword_counts_as_an_answer():
    assert [reminders.interpret(t) for t in ("C", "yes!", " Confirm. ", "x", "Cancel")] == [
        "confirm",
        "confirm",
        "confirm",
        "cancel",
        "cancel",
    ]
    assert reminders.interpret("No problem, see you then") == "unknown"


# --- sending -----------------------------------------------------------------------------
def test_a_due_email_reminder_arrives_once_without_dob_or_visit_reason(
    engine, practice, uow, smtp, visit
):
    type_id, patient_id = visit
    appt_id = add_appointment(engine, practice, patient_id, type_id, note="follow-up chest pain")
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))

    first = send(uow)
    again = send(uow)

    assert (first.planned, first.sent, again.planned, again.sent) == (1, 1, 0, 0)
    assert len(smtp.arrived) == 1
    arrival = smtp.arrived[0]
    [reminder] = stored(engine)
    assert reminder.appointment_id == appt_id and reminder.status == "sent"
    assert arrival.recipients == ["ana.l@example.com"]
    assert arrival.message["To"] == "ana.l@example.com"
    assert arrival.message["From"] == SENDER
    assert arrival.message["Message-ID"] == f"<{reminder.message_key}@maple.example>"
    assert arrival.message["Subject"] == "Appointment reminder: Wednesday, March 4 at 10:00 AM"
    body = arrival.message.get_content()
    assert "Hello Ana" in body and "Main Clinic" in body and "Alex Rivera, MD" in body
    for phi in ("1979", "04/12", "chest pain", "Lindqvist", "follow-up"):
        assert phi not in body and phi not in arrival.message["Subject"]
    [attempt] = attempts(engine, reminder.id)
    assert attempt.outcome == "delivered" and attempt.receipt == arrival.message["Message-ID"]
    [run, _] = events(engine, "reminder.send")
    assert json.loads(run.detail)["sent"] == 1 and "example.com" not in run.detail


def test_the_smtp_server_down_means_retry_later_and_nothing_lost_or_doubled(
    engine, practice, uow, clock, visit
):
    type_id, patient_id = visit
    add_appointment(engine, practice, patient_id, type_id)
    server = SmtpServer()  # not started: its port refuses connections
    configure_smtp(uow, server.port)
    add_rules(uow, ("email", "72h"))

    down = send(uow)
    [reminder] = stored(engine)
    assert (down.sent, down.retry) == (0, 1)
    assert reminder.status == "retry" and reminder.attempts == 1
    assert reminder.next_attempt_at == clock.now() + timedelta(minutes=15)
    assert reminder.last_error == "SMTP server refused the connection"
    assert send(uow).retry == 0  # not due again yet

    server.start()
    try:
        clock.advance(timedelta(minutes=15))
        back = send(uow)
        assert back.sent == 1 and len(server.arrived) == 1
        clock.advance(timedelta(hours=1))
        assert send(uow).sent == 0 and len(server.arrived) == 1
    finally:
        server.stop()
    assert [a.outcome for a in attempts(engine)] == ["failed", "delivered"]
    assert stored(engine)[0].status == "sent"


def test_failed_deliveries_back_off_then_give_up(engine, practice, uow, clock, visit):
    type_id, patient_id = visit
    add_appointment(engine, practice, patient_id, type_id)
    configure_smtp(uow, free_port(), **{"reminders.max_attempts": 3})
    add_rules(uow, ("email", "72h"))
    waits = []
    for _ in range(3):
        send(uow)
        reminder = stored(engine)[0]
        if reminder.status == "retry":
            waits.append(reminder.next_attempt_at - clock.now())
            clock.set(reminder.next_attempt_at)
    assert waits == [timedelta(minutes=15), timedelta(minutes=30)]
    assert reminder.status == "failed" and reminder.attempts == 3
    clock.advance(timedelta(hours=2))
    assert send(uow).failed == 0 and len(attempts(engine)) == 3


def test_a_refused_recipient_fails_at_once_without_naming_the_address(
    engine, practice, uow, smtp, visit
):
    type_id, patient_id = visit
    add_appointment(engine, practice, patient_id, type_id)
    smtp.refuse["ana.l@example.com"] = "550 5.1.1 <ana.l@example.com>: mailbox unavailable"
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    result = send(uow)
    [reminder] = stored(engine)
    assert (result.failed, reminder.status, reminder.attempts) == (1, "failed", 1)
    assert reminder.last_error == "SMTP 550: recipient refused"
    assert smtp.arrived == []


def test_two_overlapping_runs_deliver_each_reminder_exactly_once(
    engine, practice, uow, smtp, visit
):
    type_id, _ = visit
    for i in range(24):
        patient = add_patient(engine, practice, first=f"Pat{i}", email=f"pat{i}@example.com")
        add_appointment(engine, practice, patient, type_id, APPT_AT + timedelta(minutes=20 * i))
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    smtp.delay = 0.03  # each message takes a while, so the runs' batches interleave
    results, errors = [], []

    def run():
        try:
            results.append(send(uow, batch_size=3))
        except Exception as exc:  # surfaced below with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(r.sent for r in results)[0] > 0, "the runs did not overlap"
    assert sum(r.sent for r in results) == 24
    assert len(smtp.arrived) == 24 and len(set(smtp.message_ids())) == 24
    assert {r.status for r in stored(engine)} == {"sent"}
    assert len(attempts(engine)) == 24


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in pms catches it."""


class CrashAfterDelivery:
    """The real email channel, except that the run dies right after the server
    accepted the message (before the outcome could be recorded)."""

    def __init__(self):
        from pms_reminders.email import EmailChannel

        self._email = EmailChannel()
        self.name = "email"

    def __getattr__(self, attr):
        return getattr(self._email, attr)

    def open(self, settings):
        sender = self._email.open(settings)

        class _Dying:
            def send(self, message):
                sender.send(message)
                raise Crash()

            def close(self):
                sender.close()

        return _Dying()


def test_a_run_that_dies_after_delivering_is_resent_with_the_same_message_id_after_the_lease(
    engine, practice, uow, smtp, clock, visit
):
    type_id, patient_id = visit
    add_appointment(engine, practice, patient_id, type_id)
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    dying = get_plugin_manager(
        load_entry_points=False, extra=(ChannelPlugin(CrashAfterDelivery()),)
    )
    with (
        pytest.raises(Crash),
        unit_of_work(engine, user_id=practice.users["admin"], pm=dying, clock=clock) as ctx,
    ):
        reminders.send_due(ctx)
    [claimed] = stored(engine)
    assert claimed.status == "sending" and len(smtp.arrived) == 1

    assert send(uow).sent == 0  # the lease still holds: nobody else sends it
    clock.advance(reminders.LEASE + timedelta(seconds=1))
    assert send(uow).sent == 1

    first, second = smtp.message_ids()
    assert first == second == f"<{claimed.message_key}@maple.example>"
    assert [a.outcome for a in attempts(engine)] == ["delivered"]
    assert stored(engine)[0].status == "sent"


def test_an_appointment_cancelled_while_its_batch_is_being_sent_is_not_reminded(
    engine, practice, clock, visit
):
    """The front desk cancels a visit while a slow run is delivering the batch
    that holds its reminder: the run looks again before sending it."""
    type_id, _ = visit
    appts = [
        add_appointment(
            engine,
            practice,
            add_patient(engine, practice, first=f"Batch{i}", mobile=f"217555010{i}"),
            type_id,
            APPT_AT + timedelta(hours=i),
        )
        for i in range(2)
    ]
    channel = Textline()
    pm = get_plugin_manager(extra=(ChannelPlugin(channel),))

    def open_uow(role: str = "admin"):
        return unit_of_work(engine, user_id=practice.users[role], pm=pm, clock=clock)

    with open_uow() as ctx:
        reminders.add_rule(ctx, channel="textline", offset="72h")
    slow_send = channel.open({}).send

    def send_slowly(message):  # the gateway takes 30 s; meanwhile the desk cancels
        receipt = slow_send(message)
        clock.advance(timedelta(seconds=30))
        if len(channel.sent) == 1:
            with open_uow("frontdesk") as desk:
                appointments.cancel(desk, appointment_id=appts[1], reason="patient called")
        return receipt

    channel.open = lambda settings: type(
        "Slow", (), {"send": staticmethod(send_slowly), "close": lambda self: None}
    )()
    with open_uow() as ctx:
        result = reminders.send_due(ctx)
    assert [m.recipient for m in channel.sent] == ["2175550100"]
    assert (result.sent, result.cancelled) == (1, 1)
    by_appt = {r.appointment_id: r for r in stored(engine)}
    assert (by_appt[appts[0]].status, by_appt[appts[1]].status) == ("sent", "cancelled")


def test_a_slow_channel_releases_what_it_cannot_send_within_its_lease(
    engine, practice, uow, smtp, visit
):
    type_id, _ = visit
    for i in range(3):
        patient = add_patient(engine, practice, first=f"Slow{i}", email=f"slow{i}@example.com")
        add_appointment(engine, practice, patient, type_id, APPT_AT + timedelta(hours=i))
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    result = send(uow, lease=timedelta(0))  # no time at all: nothing may be sent
    assert (result.sent, result.released) == (0, 3)
    assert {r.status for r in stored(engine)} == {"pending"} and smtp.arrived == []
    assert send(uow).sent == 3


def test_nothing_is_sent_during_quiet_hours(engine, practice, uow, smtp, clock, visit):
    type_id, patient_id = visit
    add_appointment(engine, practice, patient_id, type_id)
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    clock.set(local(2026, 3, 2, 22, 30))
    night = send(uow)
    assert night.quiet_hours and night.sent == 0 and smtp.arrived == []
    clock.set(local(2026, 3, 3, 8, 0))
    assert send(uow).sent == 1


def test_a_reminder_due_in_quiet_hours_is_planned_for_their_end(engine, practice, uow, visit):
    type_id, patient_id = visit
    add_appointment(engine, practice, patient_id, type_id, local(2026, 3, 4, 7, 0))
    add_rules(uow, ("email", "24h"))
    send(uow, limit=0)  # plan only
    [reminder] = stored(engine)
    assert reminder.next_attempt_at == local(2026, 3, 3, 8, 0)


def test_appointment_type_rules_replace_the_practice_rules(engine, practice, uow):
    office, procedure = add_type(engine, practice), add_type(engine, practice, "Procedure", 60)
    patient = add_patient(engine, practice, mobile="2175550123")
    office_appt = add_appointment(engine, practice, patient, office)
    procedure_appt = add_appointment(engine, practice, patient, procedure, APPT_AT + timedelta(1))
    add_rules(uow, ("email", "72h"))
    add_rules(uow, ("call_list", "48h"), appointment_type_id=procedure)

    send(uow, limit=0)
    planned = {(r.appointment_id, r.channel, r.status) for r in stored(engine)}
    assert planned == {(office_appt, "email", "pending"), (procedure_appt, "call_list", "pending")}

    with uow("admin") as ctx:
        [type_rule] = [r for r in reminders.list_rules(ctx) if r.appointment_type_id]
        reminders.deactivate_rule(ctx, rule_id=type_rule.id)
    result = send(uow, limit=0)
    now = {(r.appointment_id, r.channel, r.status) for r in stored(engine)}
    assert result.cancelled == 1
    assert (procedure_appt, "call_list", "cancelled") in now
    assert (procedure_appt, "email", "pending") in now  # the practice's rule applies again


def test_a_rescheduled_appointment_gets_a_fresh_reminder_and_the_stale_one_is_cancelled(
    engine, practice, uow, smtp, clock, visit
):
    type_id, patient_id = visit
    with Session(engine) as s:
        for weekday in range(5):
            s.add(
                AvailabilityTemplate(
                    practice_id=practice.id,
                    provider_id=practice.provider_id,
                    location_id=practice.location_id,
                    weekday=weekday,
                    start_time=time(8),
                    end_time=time(17),
                    effective_from=date(2026, 1, 1),
                )
            )
        s.commit()
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "48h"))
    where = dict(provider_id=practice.provider_id, location_id=practice.location_id)
    with uow("frontdesk") as ctx:
        old = appointments.book(
            ctx, patient_id=patient_id, appointment_type_id=type_id, starts_at=APPT_AT, **where
        )
    send(uow)
    with uow("frontdesk") as ctx:
        new = appointments.reschedule(
            ctx, appointment_id=old.id, starts_at=APPT_AT + timedelta(hours=4)
        )
    moved = send(uow)
    by_appt = {r.appointment_id: r for r in stored(engine)}
    assert moved.cancelled == 1 and by_appt[old.id].status == "cancelled"
    assert by_appt[new.id].status == "pending"

    clock.set(new.starts_at - timedelta(hours=48))  # both reminders' times have come
    assert send(uow).sent == 1
    [arrival] = smtp.arrived
    assert "Wednesday, March 4 at 2:00 PM" in arrival.message.get_content()


def test_an_appointment_moved_in_place_is_reminded_for_its_new_time(
    engine, practice, uow, smtp, visit
):
    type_id, patient_id = visit
    appt_id = add_appointment(engine, practice, patient_id, type_id, APPT_AT + timedelta(days=1))
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    send(uow, limit=0)
    with Session(engine) as s:
        appt = s.get(Appointment, appt_id)
        appt.starts_at, appt.ends_at = APPT_AT, APPT_AT + timedelta(minutes=30)
        s.add(appt)
        s.commit()
    result = send(uow)
    assert (result.cancelled, result.planned, result.sent) == (1, 1, 1)
    assert len(smtp.arrived) == 1
    statuses = sorted((r.appointment_starts_at == APPT_AT, r.status) for r in stored(engine))
    assert statuses == [(False, "cancelled"), (True, "sent")]


def test_a_cancelled_appointments_reminder_is_not_sent(engine, practice, uow, smtp, clock, visit):
    type_id, patient_id = visit
    appt_id = add_appointment(engine, practice, patient_id, type_id)
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "48h"))
    assert send(uow).planned == 1
    with uow("frontdesk") as ctx:
        appointments.cancel(ctx, appointment_id=appt_id, reason="patient called")
    clock.set(APPT_AT - timedelta(hours=48))
    result = send(uow)
    assert (result.sent, result.cancelled) == (0, 1)
    assert stored(engine)[0].status == "cancelled" and smtp.arrived == []


def test_a_reminder_whose_appointment_already_started_is_not_sent(
    engine, practice, uow, smtp, clock, visit
):
    type_id, patient_id = visit
    add_appointment(engine, practice, patient_id, type_id)
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "2h"))
    clock.set(APPT_AT - timedelta(hours=3))
    assert send(uow).planned == 1
    clock.set(APPT_AT + timedelta(minutes=1))  # no run from the reminder's time until now
    result = send(uow)
    [reminder] = stored(engine)
    assert (result.sent, result.skipped, reminder.status) == (0, 1, "skipped")
    assert reminder.skip_reason == "the appointment started before it could be sent"


@pytest.mark.parametrize(
    "patient,reason",
    [
        (dict(email=None), "no email address on file"),
        (dict(preferred="none"), "patient asked not to be contacted"),
    ],
)
def test_a_patient_without_a_usable_contact_is_skipped_with_a_reason(
    engine, practice, uow, smtp, patient, reason
):
    type_id = add_type(engine, practice)
    add_appointment(engine, practice, add_patient(engine, practice, **patient), type_id)
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    assert send(uow).skipped == 1
    [reminder] = stored(engine)
    assert (reminder.status, reminder.skip_reason) == ("skipped", reason)
    assert [(a.outcome, a.error) for a in attempts(engine)] == [("skipped", reason)]
    with uow("frontdesk") as ctx:
        [view] = reminders.list_reminders(ctx, status="skipped")
    assert view.reason == reason and smtp.arrived == []


def test_a_late_booking_gets_one_text_not_one_per_overdue_rule(engine, practice, textline):
    channel, open_uow = textline
    type_id = add_type(engine, practice)
    patient = add_patient(engine, practice, mobile="2175550123")
    add_appointment(engine, practice, patient, type_id, datetime(2026, 3, 2, 16, 30, tzinfo=UTC))
    with open_uow() as ctx:
        reminders.add_rule(ctx, channel="textline", offset="24h")
        reminders.add_rule(ctx, channel="textline", offset="2h")
    with open_uow() as ctx:
        result = reminders.send_due(ctx)
    assert (result.sent, result.skipped) == (1, 1) and len(channel.sent) == 1
    skipped = [r for r in stored(engine) if r.status == "skipped"]
    assert skipped[0].skip_reason == "superseded by a later reminder"


# --- replies ---------------------------------------------------------------------------
def test_replies_confirm_or_cancel_and_a_reply_seen_twice_does_nothing(engine, practice, textline):
    channel, open_uow = textline
    type_id = add_type(engine, practice)
    phones = ["2175550101", "2175550102", "2175550103"]
    appts = [
        add_appointment(
            engine,
            practice,
            add_patient(engine, practice, first=f"Reply{i}", mobile=phone),
            type_id,
            APPT_AT + timedelta(hours=i),
        )
        for i, phone in enumerate(phones)
    ]
    with open_uow() as ctx:
        reminders.add_rule(ctx, channel="textline", offset="72h")
    with open_uow() as ctx:
        assert reminders.send_due(ctx).sent == 3
    at = datetime(2026, 3, 2, 15, 5, tzinfo=UTC)
    channel.inbox = [
        InboundReply("m1", phones[0], "C", at),
        InboundReply("m2", phones[1], "Cancel", at),
        InboundReply("m3", phones[2], "what time again?", at),
        InboundReply("m4", "2175559999", "YES", at),
    ]
    with open_uow() as ctx:
        result = reminders.process_replies(ctx)
    assert (result.confirmed, result.cancelled, result.unknown, result.unmatched) == (1, 1, 1, 1)
    with Session(engine) as s:
        confirmed, cancelled, untouched = (s.get(Appointment, a) for a in appts)
        assert confirmed.status == "confirmed"
        assert (cancelled.status, cancelled.cancel_reason) == (
            "cancelled",
            "patient replied cancel",
        )
        assert untouched.status == "booked"
        replies = {r.external_id: r for r in s.exec(select(ReminderReply))}
    assert {k: r.intent for k, r in replies.items()} == {
        "m1": "confirm",
        "m2": "cancel",
        "m3": "unknown",
        "m4": "confirm",
    }
    assert replies["m3"].appointment_id == appts[2] and replies["m4"].appointment_id is None

    with open_uow() as ctx:  # the gateway hands the same replies over again
        again = reminders.send_due(ctx)
    assert again.replies == 0
    with Session(engine) as s:
        assert len(s.exec(select(ReminderReply)).all()) == 4
    assert len(events(engine, "appointment.cancel")) == 1


@pytest.mark.parametrize(
    "failure",
    [DeliveryError("HTTP 503 from the SMS gateway (replies)"), KeyError("messages")],
    ids=["unreachable", "broken"],
)
def test_a_reply_channel_that_fails_does_not_stop_sending(engine, practice, textline, failure):
    channel, open_uow = textline

    def down(settings, since):
        raise failure

    channel.fetch_replies = down
    type_id = add_type(engine, practice)
    add_appointment(engine, practice, add_patient(engine, practice, mobile="2175550123"), type_id)
    with open_uow() as ctx:
        reminders.add_rule(ctx, channel="textline", offset="72h")
    with open_uow() as ctx:
        result = reminders.send_due(ctx)
    assert result.sent == 1 and result.replies_unreachable == ["textline"]


# --- rules and templates --------------------------------------------------------------------
def test_rules_are_checked(engine, practice, uow):
    other = add_type(engine, practice, "Physical", 45)
    with uow("admin") as ctx:
        reminders.add_rule(ctx, channel="email", offset="72h")
    with pytest.raises(ValidationError) as bad, uow("admin") as ctx:
        reminders.add_rule(ctx, channel="pigeon", offset="soon", appointment_type_id=99999)
    assert {(e.field, e.code) for e in bad.value.errors} == {
        ("channel", "unknown_channel"),
        ("offset", "offset"),
        ("appointment_type_id", "not_found"),
    }
    with pytest.raises(ValidationError, match="already does this"), uow("admin") as ctx:
        reminders.add_rule(ctx, channel="email", offset="3d")
    with uow("admin") as ctx:
        reminders.add_rule(ctx, channel="email", offset="72h", appointment_type_id=other)
        assert [(r.offset, r.appointment_type) for r in reminders.list_rules(ctx)] == [
            ("72h", None),
            ("72h", "Physical"),
        ]
    with pytest.raises(NotFound), uow("admin") as ctx:
        reminders.deactivate_rule(ctx, rule_id=99999)


def test_a_template_with_anything_but_the_allowed_placeholders_is_refused(engine, practice, uow):
    with pytest.raises(ValidationError) as bad, uow("admin") as ctx:
        reminders.set_template(
            ctx,
            channel="email",
            subject="Visit for {reason}",
            body="Dear {first_name} ({dob}), {first_name.__class__} {time!r}",
        )
    message = str(bad.value)
    for placeholder in ("{reason}", "{dob}", "{first_name.__class__}", "{time!r}"):
        assert placeholder in message
    assert bad.value.fields == {"subject", "body"}
    with pytest.raises(ValidationError, match="unmatched"), uow("admin") as ctx:
        reminders.set_template(ctx, channel="sms", body="Hi {first_name")
    with pytest.raises(ValidationError, match="no subject"), uow("admin") as ctx:
        reminders.set_template(ctx, channel="sms", subject="Hi", body="Hi {first_name}")


def test_an_edited_template_is_what_patients_get(engine, practice, uow, smtp, visit):
    type_id, patient_id = visit
    appt_id = add_appointment(engine, practice, patient_id, type_id)
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    with uow("admin") as ctx:
        reminders.set_template(
            ctx,
            channel="email",
            subject="See you {date}",
            body="{first_name}: {time} at {location} ({practice}). {{Bring your card}}",
        )
    with uow("frontdesk") as ctx:
        [email] = [
            p for p in reminders.preview(ctx, appointment_id=appt_id) if p.channel == "email"
        ]
        assert reminders.get_template(ctx, channel="email").custom
    expected = "Ana: 10:00 AM at Main Clinic (Maple Family Medicine). {Bring your card}"
    assert (email.recipient, email.subject, email.body) == (
        "ana.l@example.com",
        "See you Wednesday, March 4",
        expected,
    )
    assert smtp.arrived == []  # a preview sends nothing
    send(uow)
    assert smtp.arrived[0].message.get_content().strip() == expected
    assert len(events(engine, "reminder.preview")) == 1


def test_the_built_in_templates_use_only_allowed_placeholders(pm):
    for channel in reminders.reminder_channels(pm).values():
        assert reminders.template_errors("body", channel.default_body) == []
        assert reminders.template_errors("subject", channel.default_subject) == []


# --- permissions and audit ---------------------------------------------------------------
def test_front_desk_sees_reminders_but_only_an_admin_sends_or_changes_them(
    engine, practice, uow, visit
):
    with uow("frontdesk") as ctx:
        assert reminders.list_reminders(ctx) == []
        assert reminders.get_template(ctx, channel="sms").body
    for call in (
        lambda ctx: reminders.send_due(ctx),
        lambda ctx: reminders.add_rule(ctx, channel="email", offset="2h"),
        lambda ctx: reminders.set_template(ctx, channel="sms", body="{first_name}"),
    ):
        with pytest.raises(PermissionDenied, match="reminders:send"), uow("frontdesk") as ctx:
            call(ctx)
    assert len(events(engine, "reminder.list")) == 1


def test_a_dry_run_counts_what_is_due_and_changes_nothing(engine, practice, uow, smtp, visit):
    type_id, patient_id = visit
    add_appointment(engine, practice, patient_id, type_id)
    configure_smtp(uow, smtp.port)
    add_rules(uow, ("email", "72h"))
    result = send(uow, dry_run=True)
    assert (result.due, result.planned, result.sent) == (1, 1, 0)
    assert stored(engine) == [] and smtp.arrived == []
    assert json.loads(events(engine, "reminder.send")[0].detail) == {"dry_run": True, "due": 1}
