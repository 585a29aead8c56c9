"""The call-list channel: reminders for staff to phone, as CSV rows.

Each reminder appends a row to `call-list-YYYY-MM-DD.csv` (the appointment's
local date) in `reminders.call_list_dir`: key, patient id, name, phone,
appointment time, location and the rendered message. Staff need the name to
make the call, so the file is PHI: it is created with mode 0600 in a directory
created 0700, and a cell starting with = + - @ (or a tab/carriage return) is
prefixed with ' so a spreadsheet never runs it as a formula. A row whose key is
already in the file is not written again (a run that crashed after writing it).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pms_core.reports import neutralize as formula_safe
from pms_core.services.config import SettingSpec
from pms_core.services.reminders import DeliveryError, OutgoingMessage, PatientContact

SETTINGS = (
    SettingSpec(
        "reminders.call_list_dir",
        "path",
        "directory the phone call list (CSV, mode 0600) is written to",
    ),
)
COLUMNS = ("key", "patient_id", "patient_name", "phone", "appointment", "location", "message")


def neutralize(cell: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (None as empty)."""
    return "" if cell is None else formula_safe(cell)


def _phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else digits


class CallListWriter:
    def __init__(self, directory: Path):
        self._dir = directory
        self._keys: dict[Path, set[str]] = {}

    def _existing_keys(self, path: Path) -> set[str]:
        if path not in self._keys:
            keys: set[str] = set()
            if path.exists():
                with path.open(newline="", encoding="utf-8") as fh:
                    keys = {row.get("key", "") for row in csv.DictReader(fh)}
            self._keys[path] = keys
        return self._keys[path]

    def send(self, message: OutgoingMessage) -> str | None:
        path = self._dir / f"call-list-{message.appointment_at:%Y-%m-%d}.csv"
        try:
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            keys = self._existing_keys(path)
            if message.message_key in keys:
                return path.name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
            try:
                os.fchmod(fd, 0o600)
                buffer = io.StringIO()
                writer = csv.writer(buffer, lineterminator="\r\n")
                if os.fstat(fd).st_size == 0:
                    writer.writerow(COLUMNS)
                writer.writerow(
                    neutralize(cell)
                    for cell in (
                        message.message_key,
                        message.patient_id,
                        message.patient_name,
                        _phone(message.recipient),
                        f"{message.appointment_at:%Y-%m-%d %H:%M}",
                        message.location,
                        message.body,
                    )
                )
                os.write(fd, buffer.getvalue().encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise DeliveryError(f"call list not written ({type(exc).__name__})") from None
        keys.add(message.message_key)
        return path.name

    def close(self) -> None:
        """Nothing stays open: each row is written and synced as it comes."""


class CallListChannel:
    """A CSV list of reminder calls for the front desk to make."""

    name = "call_list"
    description = "CSV call list for staff to phone (reminders.call_list_dir)"
    settings = SETTINGS
    default_subject = None
    default_body = "Appointment reminder: {date} at {time} at {location} with {provider}."
    reply_instructions = ""
    no_recipient_reason = "no phone on file"

    def recipient(self, contact: PatientContact) -> str | None:
        return contact.mobile_phone or contact.home_phone or None

    def open(self, settings: Mapping[str, Any]) -> CallListWriter:
        directory = settings.get("reminders.call_list_dir")
        if not directory:
            raise DeliveryError("reminders.call_list_dir not set (pms config set)")
        return CallListWriter(Path(directory))
