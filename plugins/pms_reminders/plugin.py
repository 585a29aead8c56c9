"""The pms_reminders plugin: registers the built-in reminder channels."""

from __future__ import annotations

from pms_core.hookspecs import hookimpl
from pms_reminders.call_list import CallListChannel
from pms_reminders.email import EmailChannel
from pms_reminders.sms import SmsChannel


@hookimpl
def register_reminder_channels(register) -> None:
    register(EmailChannel())
    register(SmsChannel())
    register(CallListChannel())
