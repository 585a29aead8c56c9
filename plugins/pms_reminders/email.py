"""The email channel: reminders over SMTP with the standard library's smtplib.

One SMTP session carries every message of a run (login once, then one
MAIL/RCPT/DATA per message). The Message-ID is built from the reminder's
`message_key`, so a reminder sent again after a crash has the same Message-ID.

Errors are reported by SMTP code only (servers often echo the address in their
reply text). A refusal of the recipient or the message with a 5xx code is
permanent; 4xx codes, connection problems, timeouts and login failures are
retried later. When the server cannot be reached, the rest of the run's email
fails at once with the same reason instead of trying to connect for each message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email import quoprimime
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from pms_core.services.config import SettingSpec
from pms_core.services.reminders import DeliveryError, OutgoingMessage, PatientContact

SETTINGS = (
    SettingSpec("smtp.host", "text", "SMTP server host name"),
    SettingSpec("smtp.port", "int", "SMTP server port", default=587, minimum=1, maximum=65535),
    SettingSpec(
        "smtp.starttls", "bool", "upgrade the connection with STARTTLS before login", default=True
    ),
    SettingSpec(
        "smtp.ssl",
        "bool",
        "connect with TLS from the start (usually port 465) instead of STARTTLS",
        default=False,
    ),
    SettingSpec("smtp.username", "text", "SMTP login (unset: no login)"),
    SettingSpec("smtp.password", "text", "SMTP password"),
    SettingSpec(
        "smtp.from", "email", "sender, e.g. 'Maple Family Medicine <reminders@maple.example>'"
    ),
    SettingSpec(
        "smtp.timeout", "int", "seconds to wait for the server", default=30, minimum=1, maximum=30
    ),
)


def header_address(sender: str) -> str:
    """A From value with a non-ASCII display name as an RFC 2047 encoded word."""
    name, address = parseaddr(sender)
    return formataddr((name, address), "utf-8")


def build_message(
    from_header: str, recipient: str, subject: str, body: str, message_id: str
) -> bytes:
    """The message as sent: UTF-8 plain text, quoted-printable (readable, and safe
    for any line length), CRLF line ends, a non-ASCII subject as RFC 2047 encoded
    words. Assembled directly: the email package's object model costs more per
    message than the SMTP exchange itself. `from_header` comes from
    `header_address`; a line break in the subject becomes a space, so nothing
    can reach the headers."""
    subject = " ".join(subject.split())
    if not subject.isascii():
        subject = Header(subject, "utf-8").encode(linesep="\r\n")
    text = quoprimime.body_encode(body.encode("utf-8").decode("latin-1"), eol="\r\n")
    return (
        f"From: {from_header}\r\n"
        f"To: {recipient}\r\n"
        f"Subject: {subject}\r\n"
        f"Date: {formatdate()}\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        f"\r\n{text}\r\n"
    ).encode("ascii")


def _reason(exc: BaseException) -> str:
    """A short description of a failure that never includes the server's text."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}"
    if isinstance(exc, TimeoutError):
        return "SMTP server timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "SMTP server refused the connection"
    if isinstance(exc, ssl.SSLError):
        return "TLS error talking to the SMTP server"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "SMTP server closed the connection"
    return f"SMTP connection failed ({type(exc).__name__})"


class SmtpSender:
    """An SMTP session for one run, connected on the first message."""

    def __init__(self, settings: Mapping[str, Any]):
        self._host = settings["smtp.host"]
        self._port = settings["smtp.port"]
        self._starttls = settings["smtp.starttls"]
        self._ssl = settings["smtp.ssl"]
        self._username = settings["smtp.username"]
        self._password = settings["smtp.password"] or ""
        self._timeout = settings["smtp.timeout"]
        self._from = header_address(settings["smtp.from"])
        self._envelope_from = parseaddr(self._from)[1]
        self._domain = self._envelope_from.rpartition("@")[2]
        self._smtp: smtplib.SMTP | None = None
        self._down: DeliveryError | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._down is not None:
            raise self._down
        smtp, step = None, "connect"
        try:
            if self._ssl:
                smtp = smtplib.SMTP_SSL(
                    self._host,
                    self._port,
                    timeout=self._timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            smtp.ehlo()
            if self._starttls:
                step = "STARTTLS"
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self._username:
                step = "login"
                smtp.login(self._username, self._password)
        except smtplib.SMTPNotSupportedError:
            self._down = DeliveryError(f"the SMTP server does not offer {step}")
        except smtplib.SMTPAuthenticationError as exc:
            self._down = DeliveryError(f"SMTP {exc.smtp_code}: login refused")
        except (OSError, smtplib.SMTPException) as exc:
            self._down = DeliveryError(_reason(exc))
        if self._down is not None:
            if smtp is not None:
                smtp.close()
            raise self._down
        self._smtp = smtp
        return smtp

    def send(self, message: OutgoingMessage) -> str | None:
        message_id = f"<{message.message_key}@{self._domain}>"
        data = build_message(
            self._from, message.recipient, message.subject or "", message.body, message_id
        )
        smtp = self._smtp or self._connect()
        try:
            smtp.sendmail(self._envelope_from, [message.recipient], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise DeliveryError(f"SMTP {code}: recipient refused", permanent=code >= 500) from None
        except smtplib.SMTPDataError as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: message refused", permanent=exc.smtp_code >= 500
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}: sender refused") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()  # the session is unusable; the next message reconnects
            raise DeliveryError(_reason(exc)) from None
        return message_id

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


class EmailChannel:
    """Reminders by email to the patient's address on file."""

    name = "email"
    description = "email over SMTP (smtp.* settings)"
    settings = SETTINGS
    default_subject = "Appointment reminder: {date} at {time}"
    default_body = (
        "Hello {first_name},\n\n"
        "This is a reminder of your appointment with {provider} on {date} at {time} "
        "at {location}.\n\n"
        "If you cannot come, please call us to reschedule.\n\n"
        "{practice}\n"
    )
    reply_instructions = ""
    no_recipient_reason = "no email address on file"

    def recipient(self, contact: PatientContact) -> str | None:
        return contact.email or None

    def open(self, settings: Mapping[str, Any]) -> SmtpSender:
        missing = [k for k in ("smtp.host", "smtp.from") if not settings.get(k)]
        if missing:
            raise DeliveryError(f"{' and '.join(missing)} not set (pms config set)")
        if settings["smtp.ssl"] and settings["smtp.starttls"]:
            raise DeliveryError("smtp.ssl and smtp.starttls are both on; turn one off")
        return SmtpSender(settings)
