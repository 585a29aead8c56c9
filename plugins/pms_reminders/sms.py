"""The SMS channel: text messages through an HTTP gateway, shaped like the common
SMS APIs, using only the standard library (http.client keeps one connection open
for the whole run).

Sending: `POST sms.url` with a JSON (`sms.body_format json`, the default) or form
body `{"to": "+12175550123", "from": sms.from, "body": ..., "reference": key}`
and the headers `Idempotency-Key: key` and `Authorization` (`Bearer sms.token`
when a token is set, else Basic `sms.username`/`sms.password`). `key` is the
reminder's message key, the same on every retry. A 2xx answer is delivered; its
JSON message id (`id`, `sid`, `message_id`, ...) is kept as the receipt. A 4xx
answer refuses this message for good, except 401/403 (credentials), 404/405/415
(a wrong `sms.url` or `sms.body_format`: every text would fail alike, and must
still go once the setting is fixed), 408 and 429 (try later); 5xx answers,
timeouts and connection errors are retried later.

Replies: `GET sms.inbound_url?since=ISO-8601` answers JSON, either a list or
`{"messages": [...]}`, of `{"id", "from", "text" (or "body"), "received_at"}`.
Messages go only to the patient's mobile phone.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from pms_core import validation as v
from pms_core.services.config import SettingSpec
from pms_core.services.reminders import (
    DeliveryError,
    InboundReply,
    OutgoingMessage,
    PatientContact,
)

SETTINGS = (
    SettingSpec("sms.url", "url", "gateway URL messages are POSTed to"),
    SettingSpec("sms.username", "text", "gateway account (Basic auth)"),
    SettingSpec("sms.password", "text", "gateway password (Basic auth)"),
    SettingSpec("sms.token", "text", "gateway API token (Bearer auth; used instead of Basic)"),
    SettingSpec("sms.from", "phone", "sending number or short code"),
    SettingSpec(
        "sms.body_format",
        "choice",
        "request body: json or form",
        default="json",
        choices=("json", "form"),
    ),
    SettingSpec("sms.inbound_url", "url", "gateway URL replies are fetched from (GET, JSON)"),
    SettingSpec(
        "sms.timeout", "int", "seconds to wait for the gateway", default=15, minimum=1, maximum=60
    ),
)
# 4xx answers that say "not now" or "not with these settings", not "never".
RETRYABLE_4XX = frozenset({401, 403, 404, 405, 408, 415, 429})
RECEIPT_KEYS = ("id", "sid", "message_id", "messageId", "message-id")


def e164(phone: str) -> str:
    """A stored 10-digit US number (or a longer international one) as +E.164."""
    digits = v.digits(phone)
    return f"+1{digits}" if len(digits) == 10 else f"+{digits}"


def stored_phone(address: str) -> str:
    """A gateway's sender number in the form patients' phones are stored (10
    digits for US numbers), so replies match the reminder's recipient."""
    return v.normalize_phone(address) or ""


def _auth_header(settings: Mapping[str, Any]) -> dict[str, str]:
    if settings.get("sms.token"):
        return {"Authorization": f"Bearer {settings['sms.token']}"}
    if settings.get("sms.username"):
        pair = f"{settings['sms.username']}:{settings.get('sms.password') or ''}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return {}


def _receipt(data: bytes) -> str | None:
    try:
        doc = json.loads(data or b"null")
    except ValueError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list) and doc["messages"]:
        doc = doc["messages"][0]
    if isinstance(doc, dict):
        for key in RECEIPT_KEYS:
            if doc.get(key) not in (None, ""):
                return str(doc[key])[:120]
    return None


class HttpClient:
    """Requests to one gateway over one kept-alive connection."""

    def __init__(self, url: str, settings: Mapping[str, Any]):
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = settings["sms.timeout"]
        self._headers = {"Accept": "application/json", **_auth_header(settings)}
        self._conn: http.client.HTTPConnection | None = None
        self._down: DeliveryError | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._down is not None:
            raise self._down
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        try:
            conn.connect()
        except ConnectionRefusedError:
            self._down = DeliveryError("SMS gateway refused the connection")
        except TimeoutError:
            self._down = DeliveryError("SMS gateway timed out")
        except OSError as exc:
            self._down = DeliveryError(f"SMS gateway unreachable ({type(exc).__name__})")
        if self._down is not None:
            conn.close()
            raise self._down
        self._conn = conn
        return conn

    def request(
        self, method: str, *, body: bytes | None = None, headers=None, query: str = ""
    ) -> tuple[int, bytes]:
        """(status, body). A kept-alive connection the gateway closed meanwhile is
        reopened once; the idempotency key makes that repeat harmless."""
        path = self._path + (("&" if "?" in self._path else "?") + query if query else "")
        for reused in (self._conn is not None, False):
            conn = self._conn or self._connect()
            try:
                conn.request(method, path, body=body, headers={**self._headers, **(headers or {})})
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused:
                    continue
                raise DeliveryError("SMS gateway closed the connection") from None
            except TimeoutError:
                self.close()
                raise DeliveryError("SMS gateway timed out") from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise DeliveryError(f"SMS gateway error ({type(exc).__name__})") from None
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class SmsSender:
    def __init__(self, settings: Mapping[str, Any]):
        self._client = HttpClient(settings["sms.url"], settings)
        self._from = settings["sms.from"]
        self._form = settings["sms.body_format"] == "form"

    def send(self, message: OutgoingMessage) -> str | None:
        fields = {
            "to": e164(message.recipient),
            "from": e164(self._from) if len(self._from) >= 10 else self._from,
            "body": message.body,
            "reference": message.message_key,
        }
        if self._form:
            body, kind = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        else:
            body, kind = json.dumps(fields).encode(), "application/json"
        status, data = self._client.request(
            "POST",
            body=body,
            headers={"Content-Type": kind, "Idempotency-Key": message.message_key},
        )
        if 200 <= status < 300:
            return _receipt(data) or f"HTTP {status}"
        permanent = 400 <= status < 500 and status not in RETRYABLE_4XX
        raise DeliveryError(f"HTTP {status} from the SMS gateway", permanent=permanent)

    def close(self) -> None:
        self._client.close()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class SmsChannel:
    """Text-message reminders to the patient's mobile phone, with replies."""

    name = "sms"
    description = "text messages through an HTTP SMS gateway (sms.* settings)"
    settings = SETTINGS
    default_subject = None
    default_body = (
        "{practice}: reminder of your appointment on {date} at {time}, {location}. {reply}"
    )
    reply_instructions = "Reply C to confirm or X to cancel."
    no_recipient_reason = "no mobile phone on file"

    def recipient(self, contact: PatientContact) -> str | None:
        return contact.mobile_phone or None

    def open(self, settings: Mapping[str, Any]) -> SmsSender:
        missing = [k for k in ("sms.url", "sms.from") if not settings.get(k)]
        if missing:
            raise DeliveryError(f"{' and '.join(missing)} not set (pms config set)")
        return SmsSender(settings)

    def fetch_replies(
        self, settings: Mapping[str, Any], since: datetime | None
    ) -> list[InboundReply]:
        """Replies from `sms.inbound_url` (none when it is not set). Malformed
        entries are ignored; each entry's id makes processing it twice harmless."""
        if not settings.get("sms.inbound_url"):
            return []
        client = HttpClient(settings["sms.inbound_url"], settings)
        try:
            query = urlencode({"since": since.astimezone(UTC).isoformat()}) if since else ""
            status, data = client.request("GET", query=query)
        finally:
            client.close()
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status} from the SMS gateway (replies)")
        try:
            doc = json.loads(data)
        except ValueError:
            raise DeliveryError("SMS gateway replies are not JSON") from None
        items = doc.get("messages") if isinstance(doc, dict) else doc
        replies = []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            received = _parse_time(item.get("received_at") or item.get("date"))
            sender = stored_phone(str(item.get("from") or ""))
            text = item.get("text", item.get("body"))
            if item.get("id") in (None, "") or not sender or received is None or text is None:
                continue
            replies.append(InboundReply(str(item["id"]), sender, str(text), received))
        return replies
