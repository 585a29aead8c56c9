"""The pms_reminders plugin: registers the built-in reminder channels.

The channel modules are imported when the hook is called, not when pms starts:
every start of the TUI and the CLI loads this plugin, few of them send reminders."""

from __future__ import annotations

from pms_core.hookspecs import hookimpl


@hookimpl
def register_reminder_channels(register) -> None:
    from pms_reminders.call_list import CallListChannel
    from pms_reminders.email import EmailChannel
    from pms_reminders.sms import SmsChannel

    register(EmailChannel())
    register(SmsChannel())
    register(CallListChannel())
