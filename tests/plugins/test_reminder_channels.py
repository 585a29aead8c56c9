"""The built-in reminder channels against real servers on loopback: email to
aiosmtpd, SMS to an HTTP gateway (http.server in a thread), the CSV call list
on disk. What arrived is checked, not what was called."""

from __future__ import annotations

import base64
import csv
import json
import os
import stat
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from pms_reminders.call_list import CallListChannel, CallListWriter
from pms_reminders.email import EmailChannel
from pms_reminders.sms import SmsChannel
from sqlmodel import Session

from pms_core.models import Appointment
from pms_core.plugins import describe_plugins
from pms_core.services import reminders
from pms_core.services.reminders import (
    DeliveryError,
    OutgoingMessage,
    ReminderChannel,
    ReplyChannel,
)
from tests.core.test_reminders import (
    APPT_AT,
    CHICAGO,
    SENDER,
    SmtpServer,
    add_appointment,
    add_patient,
    add_rules,
    add_type,
    attempts,
    configure,
    free_port,
    send,
    stored,
)

MOBILE = "2175550123"


# --- a real HTTP SMS gateway on loopback ----------------------------------------------------
@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Gateway:
    """Answers POSTs with `answers` (status, document) in turn, then 201 with a
    message id; answers GETs (inbound replies) with `replies`."""

    answers: list[tuple[int, dict]] = field(default_factory=list)
    replies: list[dict] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status: int, doc) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self) -> Request:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(self.command, self.path, dict(self.headers), body)
                gateway.requests.append(request)
                return request

            def do_POST(self):
                self._record()
                if gateway.answers:
                    self._answer(*gateway.answers.pop(0))
                else:
                    self._answer(201, {"id": f"gw-{len(gateway.posts())}", "status": "queued"})

            def do_GET(self):
                self._record()
                self._answer(200, {"messages": gateway.replies})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1/messages"

    @property
    def inbound_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1/inbound?account=maple"

    def posts(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    gw = Gateway()
    yield gw
    gw.stop()


def configure_sms(uow, gateway: Gateway, **extra) -> None:
    configure(
        uow,
        **{
            "sms.url": gateway.url,
            "sms.username": "maple-acct",
            "sms.password": "gw-pass-1",
            "sms.from": "(217) 555-0100",
            **extra,
        },
    )


@pytest.fixture
def texted(engine, practice, uow, gateway):
    """A patient who prefers texts, an appointment and an sms rule due now."""
    patient = add_patient(engine, practice, mobile=MOBILE, preferred="sms")
    appt = add_appointment(engine, practice, patient, add_type(engine, practice))
    configure_sms(uow, gateway)
    add_rules(uow, ("sms", "72h"))
    return appt


def message(**overrides) -> OutgoingMessage:
    fields = dict(
        reminder_id=1,
        message_key="a1b2c3d4e5f6",
        recipient=MOBILE,
        subject="Appointment reminder",
        body="Hello Ana, see you Wednesday.",
        patient_id=7,
        patient_name="Ana Lindqvist",
        appointment_at=APPT_AT.astimezone(CHICAGO),
        location="Main Clinic",
    )
    return OutgoingMessage(**{**fields, **overrides})


SMS_SETTINGS = {
    "sms.url": None,
    "sms.username": None,
    "sms.password": None,
    "sms.token": None,
    "sms.from": "2175550100",
    "sms.body_format": "json",
    "sms.inbound_url": None,
    "sms.timeout": 5,
}


# --- the plugin ------------------------------------------------------------------------------
def test_the_channels_come_from_the_reminders_plugin_entry_point(pm):
    info = {p.name: p for p in describe_plugins(pm)}
    assert info["reminders"].module == "pms_reminders.plugin"
    assert info["reminders"].hooks == ["register_reminder_channels"]
    channels = reminders.reminder_channels(pm)
    assert sorted(channels) == ["call_list", "email", "sms"]
    assert all(isinstance(c, ReminderChannel) for c in channels.values())
    assert [n for n, c in channels.items() if isinstance(c, ReplyChannel)] == ["sms"]


# --- SMS ---------------------------------------------------------------------------------------
def test_a_text_reaches_the_gateway_with_its_reference_and_credentials(
    engine, practice, uow, gateway, texted
):
    assert send(uow).sent == 1
    [post] = gateway.posts()
    [reminder] = stored(engine)
    body = post.json()
    assert urlsplit(post.path).path == "/v1/messages"
    assert (body["to"], body["from"], body["reference"]) == (
        "+12175550123",
        "+12175550100",
        reminder.message_key,
    )
    assert body["body"] == (
        "Maple Family Medicine: reminder of your appointment on Wednesday, March 4 at "
        "10:00 AM, Main Clinic. Reply C to confirm or X to cancel."
    )
    assert post.headers["Idempotency-Key"] == reminder.message_key
    assert post.headers["Authorization"] == "Basic " + base64.b64encode(
        b"maple-acct:gw-pass-1"
    ).decode("ascii")
    assert (reminder.status, reminder.recipient, reminder.receipt) == ("sent", MOBILE, "gw-1")


def test_a_gateway_error_is_retried_and_delivered_once(
    engine, practice, uow, clock, gateway, texted
):
    gateway.answers = [(500, {"error": "internal"})]
    first = send(uow)
    assert (first.sent, first.retry) == (0, 1)
    clock.advance(timedelta(minutes=15))
    assert send(uow).sent == 1
    clock.advance(timedelta(hours=1))
    assert send(uow).sent == 0
    posts = gateway.posts()
    assert len(posts) == 2 and len({p.headers["Idempotency-Key"] for p in posts}) == 1
    assert [(a.outcome, a.error) for a in attempts(engine)] == [
        ("failed", "HTTP 500 from the SMS gateway"),
        ("delivered", None),
    ]


def test_a_refused_text_fails_once_and_is_not_retried(
    engine, practice, uow, clock, gateway, texted
):
    gateway.answers = [(400, {"error": "invalid number"})]
    assert send(uow).failed == 1
    for _ in range(3):
        clock.advance(timedelta(hours=2))
        send(uow)
    assert len(gateway.posts()) == 1
    [reminder] = stored(engine)
    assert (reminder.status, reminder.attempts) == ("failed", 1)


@pytest.mark.parametrize("status", [404, 415])
def test_a_gateway_that_does_not_know_the_url_or_body_format_is_retried_not_failed(
    engine, practice, uow, clock, gateway, texted, status
):
    # 404/415 say sms.url or sms.body_format is wrong, not that this text is:
    # once the admin fixes the setting, the reminder must still go.
    gateway.answers = [(status, {"error": "not here"})]
    first = send(uow)
    assert (first.retry, first.failed) == (1, 0)
    clock.advance(timedelta(minutes=15))
    assert send(uow).sent == 1 and len(gateway.posts()) == 2


def test_a_gateway_that_is_down_means_retry_for_every_text_without_a_storm():
    channel = SmsChannel()
    sender = channel.open({**SMS_SETTINGS, "sms.url": f"http://127.0.0.1:{free_port()}/send"})
    for key in ("k1", "k2"):
        with pytest.raises(DeliveryError) as down:
            sender.send(message(message_key=key))
        assert not down.value.permanent
        assert down.value.reason == "SMS gateway refused the connection"


def test_token_auth_and_a_form_body(gateway):
    sender = SmsChannel().open(
        {**SMS_SETTINGS, "sms.url": gateway.url, "sms.token": "tok-123", "sms.body_format": "form"}
    )
    assert sender.send(message()) == "gw-1"
    assert sender.send(message(message_key="second")) == "gw-2"
    sender.close()
    first, second = gateway.posts()
    assert first.headers["Authorization"] == "Bearer tok-123"
    assert first.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(first.body.decode()) == {
        "to": ["+12175550123"],
        "from": ["+12175550100"],
        "body": ["Hello Ana, see you Wednesday."],
        "reference": ["a1b2c3d4e5f6"],
    }
    assert second.headers["Idempotency-Key"] == "second"


def test_unconfigured_sms_is_retried_with_a_clear_reason(engine, practice, uow):
    patient = add_patient(engine, practice, mobile=MOBILE)
    add_appointment(engine, practice, patient, add_type(engine, practice))
    add_rules(uow, ("sms", "72h"))
    assert send(uow).retry == 1
    assert stored(engine)[0].last_error == "sms.url and sms.from not set (pms config set)"


def test_replies_from_the_gateway_confirm_and_cancel_once(engine, practice, uow, gateway):
    type_id = add_type(engine, practice)
    phones = ["2175550101", "2175550102"]
    appts = [
        add_appointment(
            engine,
            practice,
            add_patient(engine, practice, first=f"Txt{i}", mobile=p, preferred="sms"),
            type_id,
            APPT_AT + timedelta(hours=i),
        )
        for i, p in enumerate(phones)
    ]
    configure_sms(uow, gateway, **{"sms.inbound_url": gateway.inbound_url})
    add_rules(uow, ("sms", "72h"))
    assert send(uow).sent == 2
    gateway.replies = [
        {
            "id": "in-1",
            "from": "+12175550101",
            "text": "YES",
            "received_at": "2026-03-02T15:02:00Z",
        },
        {"id": "in-2", "from": "+12175550102", "text": "x", "received_at": "2026-03-02T15:03:00Z"},
        {"id": "in-3", "from": "+12175550102", "received_at": "garbled"},
    ]
    assert send(uow).replies == 2
    assert send(uow).replies == 0  # the gateway returns them again: nothing happens twice
    with Session(engine) as s:
        assert [s.get(Appointment, a).status for a in appts] == ["confirmed", "cancelled"]
    gets = [r for r in gateway.requests if r.method == "GET"]
    assert parse_qs(urlsplit(gets[0].path).query) == {"account": ["maple"]}
    # from an hour before the newest reply seen, so a late arrival is not missed
    assert parse_qs(urlsplit(gets[-1].path).query)["since"] == ["2026-03-02T14:03:00+00:00"]


# --- email -------------------------------------------------------------------------------------
EMAIL_SETTINGS = {
    "smtp.host": "127.0.0.1",
    "smtp.port": 25,
    "smtp.starttls": False,
    "smtp.ssl": False,
    "smtp.username": None,
    "smtp.password": None,
    "smtp.from": SENDER,
    "smtp.timeout": 5,
}


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


class LoginServer(SmtpServer):
    """Accepts AUTH LOGIN/PLAIN (without TLS, loopback only) and keeps the logins."""

    def __init__(self):
        super().__init__()
        self.logins: list[tuple[bytes, bytes]] = []

    def start(self):
        def authenticate(server, session, envelope, mechanism, auth_data):
            self.logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.password == b"mail-pass", handled=False)

        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=authenticate,
            auth_require_tls=False,
        )
        self._controller.start()
        return self


def test_email_logs_in_once_and_sends_many_messages_over_one_session():
    server = LoginServer().start()
    try:
        settings = {
            **EMAIL_SETTINGS,
            "smtp.port": server.port,
            "smtp.username": "maple",
            "smtp.password": "mail-pass",
        }
        sender = EmailChannel().open(settings)
        for n in range(3):
            sender.send(message(recipient=f"p{n}@example.com", message_key=f"key{n}"))
        sender.close()
        bad = EmailChannel().open({**settings, "smtp.password": "wrong"})
        with pytest.raises(DeliveryError, match="login refused") as refused:
            bad.send(message(recipient="p9@example.com"))
        assert not refused.value.permanent
    finally:
        server.stop()
    assert server.logins[0] == (b"maple", b"mail-pass")  # one login for the three messages
    assert set(server.logins[1:]) == {(b"maple", b"wrong")}
    assert [a.recipients for a in server.arrived] == [[f"p{n}@example.com"] for n in range(3)]
    assert [a.message["Message-ID"] for a in server.arrived] == [
        f"<key{n}@maple.example>" for n in range(3)
    ]


def test_email_with_accents_arrives_intact_and_nothing_reaches_the_headers(smtp):
    sender = EmailChannel().open(
        {
            **EMAIL_SETTINGS,
            "smtp.port": smtp.port,
            "smtp.from": "Clínica Maple <citas@maple.example>",
        }
    )
    sender.send(
        message(
            recipient="jose@example.com",
            subject="Cita: José\r\nBcc: evil@example.com",
            body="Hola José, ¿vienes?\n.\n" + "x" * 120,
        )
    )
    sender.close()
    [arrival] = smtp.arrived
    assert arrival.recipients == ["jose@example.com"] and arrival.message["Bcc"] is None
    assert arrival.message["Subject"] == "Cita: José Bcc: evil@example.com"
    assert arrival.message["From"] == "Clínica Maple <citas@maple.example>"
    assert arrival.message.get_content().splitlines() == ["Hola José, ¿vienes?", ".", "x" * 120]


@pytest.mark.parametrize(
    "reply,permanent", [("451 4.3.0 try later", False), ("550 5.1.1 no such user", True)]
)
def test_a_refused_recipient_is_permanent_only_for_5xx(smtp, reply, permanent):
    smtp.refuse["gone@example.com"] = reply
    sender = EmailChannel().open({**EMAIL_SETTINGS, "smtp.port": smtp.port})
    with pytest.raises(DeliveryError) as refused:
        sender.send(message(recipient="gone@example.com"))
    assert refused.value.permanent is permanent
    assert refused.value.reason == f"SMTP {reply[:3]}: recipient refused"
    sender.send(message(recipient="here@example.com"))  # the session is still usable
    sender.close()
    assert [a.recipients for a in smtp.arrived] == [["here@example.com"]]


def test_starttls_demanded_from_a_server_without_it_is_a_retry_not_a_plaintext_send(smtp):
    sender = EmailChannel().open({**EMAIL_SETTINGS, "smtp.port": smtp.port, "smtp.starttls": True})
    with pytest.raises(DeliveryError, match="does not offer STARTTLS") as refused:
        sender.send(message(recipient="ana@example.com"))
    assert not refused.value.permanent and smtp.arrived == []


def test_conflicting_tls_settings_are_reported():
    with pytest.raises(DeliveryError, match="both on"):
        EmailChannel().open({**EMAIL_SETTINGS, "smtp.ssl": True, "smtp.starttls": True})


# --- call list ---------------------------------------------------------------------------------
def test_the_call_list_is_private_safe_to_open_in_a_spreadsheet_and_has_each_call_once(
    engine, practice, uow, tmp_path
):
    calls = tmp_path / "calls"
    configure(uow, **{"reminders.call_list_dir": str(calls)})
    add_rules(uow, ("call_list", "72h"))
    type_id = add_type(engine, practice)
    add_appointment(
        engine,
        practice,
        add_patient(engine, practice, first="=HYPERLINK(1)", email=None, home="2175550199"),
        type_id,
    )
    add_appointment(engine, practice, add_patient(engine, practice, email=None), type_id)
    result = send(uow)
    assert (result.sent, result.skipped) == (1, 1)
    path = calls / "call-list-2026-03-04.csv"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(calls).st_mode) == 0o700
    with path.open(newline="") as fh:
        [row] = list(csv.DictReader(fh))
    reminder = next(r for r in stored(engine) if r.status == "sent")
    assert row["key"] == reminder.message_key
    assert row["patient_name"] == "'=HYPERLINK(1) Lindqvist"
    assert (row["phone"], row["appointment"]) == ("(217) 555-0199", "2026-03-04 10:00")
    assert row["message"].startswith("Appointment reminder: Wednesday, March 4 at 10:00 AM")
    skipped = next(r for r in stored(engine) if r.status == "skipped")
    assert skipped.skip_reason == "no phone on file"


def test_a_call_written_before_a_crash_is_not_written_again(tmp_path):
    CallListWriter(tmp_path).send(message())
    again = CallListWriter(tmp_path)  # a later run, after the lease expired
    again.send(message())
    again.send(message(message_key="other"))
    with (tmp_path / "call-list-2026-03-04.csv").open(newline="") as fh:
        assert [r["key"] for r in csv.DictReader(fh)] == ["a1b2c3d4e5f6", "other"]


def test_an_unwritable_call_list_is_retried(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    sender = CallListChannel().open({"reminders.call_list_dir": blocker / "calls"})
    with pytest.raises(DeliveryError, match="call list not written") as failed:
        sender.send(message())
    assert not failed.value.permanent


def test_received_at_without_a_zone_is_utc(gateway):
    gateway.replies = [{"id": "r1", "from": "2175550101", "body": "C", "date": "2026-03-02T15:00"}]
    [reply] = SmsChannel().fetch_replies(
        {**SMS_SETTINGS, "sms.inbound_url": gateway.inbound_url}, None
    )
    assert (reply.from_address, reply.text) == ("2175550101", "C")
    assert reply.received_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
