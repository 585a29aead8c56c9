"""The reminder outbox: reminders written to files instead of delivered.

With `reminders.outbox_dir` set, no reminder leaves the machine. Each channel's
messages are appended to `<dir>/<channel>/YYYY-MM-DD.jsonl` (the local day of
the run that sent them), one JSON object per message: `key`, `reminder_id`,
`patient_id`, `to`, `subject`, `body` and `appointment` (local ISO time); and
the replies of a channel that takes replies are read from
`<dir>/<channel>/replies.jsonl` (one `{"id", "from", "text", "received_at"}`
per line) instead of its gateway. For training rooms, the demo, and trying a
template before patients see it: everything else about sending (planning,
quiet hours, exactly once, replies confirming or cancelling) works as usual.

The files hold PHI (names in bodies, addresses): directories are created 0700
and files 0600. A message whose key is already in the day's file is not written
again (a run that stopped after writing it). Lines are not synced to disk one
by one: an outbox is for practice, not for patients.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime
from pathlib import Path

from pms_core.services.reminders import DeliveryError, InboundReply, OutgoingMessage

log = logging.getLogger(__name__)

SETTING = "reminders.outbox_dir"
REPLIES = "replies.jsonl"


def message_file(directory: Path, channel: str, day: date) -> Path:
    return directory / channel / f"{day:%Y-%m-%d}.jsonl"


class OutboxSender:
    """A Sender that appends each message to the channel's file for `day`."""

    def __init__(self, directory: Path, channel: str, day: date):
        self.path = message_file(directory, channel, day)
        self._keys: set[str] | None = None

    def _written_keys(self) -> set[str]:
        if self._keys is None:
            self._keys = set()
            if self.path.exists():
                with self.path.open(encoding="utf-8") as fh:
                    for line in fh:
                        try:
                            self._keys.add(json.loads(line)["key"])
                        except (ValueError, KeyError, TypeError):
                            continue  # a line cut short by a crash: its message goes again
        return self._keys

    def send(self, message: OutgoingMessage) -> str | None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            keys = self._written_keys()
            if message.message_key not in keys:
                line = json.dumps(
                    {
                        "key": message.message_key,
                        "reminder_id": message.reminder_id,
                        "patient_id": message.patient_id,
                        "to": message.recipient,
                        "subject": message.subject,
                        "body": message.body,
                        "appointment": message.appointment_at.isoformat(timespec="minutes"),
                    },
                    ensure_ascii=False,
                )
                flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
                fd = os.open(self.path, flags, 0o600)
                try:
                    os.write(fd, (line + "\n").encode("utf-8"))
                finally:
                    os.close(fd)
                keys.add(message.message_key)
        except OSError as exc:
            raise DeliveryError(f"outbox not written ({type(exc).__name__})") from None
        return f"{self.path.name}:{message.message_key}"

    def close(self) -> None:
        """Nothing stays open: each message is written as it comes."""


def read_replies(directory: Path, channel: str, since: datetime | None) -> list[InboundReply]:
    """The replies in the channel's replies file received at or after `since`
    (all of them when None). A line that is not a reply is skipped and logged
    by its line number."""
    path = directory / channel / REPLIES
    if not path.exists():
        return []
    replies: list[InboundReply] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                reply = InboundReply(
                    external_id=str(item["id"]),
                    from_address=str(item["from"]),
                    text=str(item["text"]),
                    received_at=datetime.fromisoformat(item["received_at"]),
                )
                if reply.received_at.tzinfo is None:
                    raise ValueError("received_at has no time zone")
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("%s line %d is not a reply: %s", path.name, number, type(exc).__name__)
                continue
            if since is None or reply.received_at >= since:
                replies.append(reply)
    return replies


__all__ = ["OutboxSender", "SETTING", "message_file", "read_replies"]
