"""The reminders worklist: one day's appointment reminders and where each one
stands (pending, sent, retrying, failed, skipped with the reason, cancelled),
with the appointment's own status beside it (confirmed or cancelled, e.g. by
the patient's reply). Keys filter by status; [ and ] move by day.

Read-only: sending is `pms remind send`, run from cron.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from pms_core.services.appointments import list_appointments
from pms_core.services.reminders import ReminderView, list_reminders
from pms_tui.commands import PaletteCommand
from pms_tui.format import STATUS_LABELS, fmt_day, fmt_time, fmt_when
from pms_tui.screens.schedule import DAY_KEYS, binding_commands


@dataclass(frozen=True)
class ReminderFilter:
    """A worklist filter: the reminder statuses it shows, or the appointment
    statuses (for confirmed and cancelled appointments)."""

    label: str
    statuses: frozenset[str] = frozenset()
    appointment_statuses: frozenset[str] = frozenset()

    def keeps(self, reminder: ReminderView, appointment_status: str | None) -> bool:
        if not self.statuses and not self.appointment_statuses:
            return True
        return reminder.status in self.statuses or appointment_status in self.appointment_statuses


FILTERS = {
    "all": ReminderFilter("all"),
    "due": ReminderFilter("due", frozenset({"pending", "sending"})),
    "sent": ReminderFilter("sent", frozenset({"sent"})),
    "failed": ReminderFilter("failed or retrying", frozenset({"retry", "failed"})),
    "skipped": ReminderFilter("skipped", frozenset({"skipped"})),
    "cancelled": ReminderFilter(
        "cancelled", frozenset({"cancelled"}), frozenset({"cancelled", "no_show"})
    ),
    "confirmed": ReminderFilter("confirmed", appointment_statuses=frozenset({"confirmed"})),
}
STATUS_STYLES = {
    "sent": "green",
    "retry": "yellow",
    "failed": "bold red",
    "skipped": "dim",
    "cancelled": "dim",
}


class RemindersScreen(Screen):
    """One day's reminders (by appointment time); a key per filter."""

    AUTO_FOCUS = "#rem-list"
    BINDINGS = [
        Binding("a", "show_all", "All", id="reminders.all", tooltip="Every reminder of the day"),
        Binding("d", "show_due", "Due", id="reminders.due", tooltip="Reminders not sent yet"),
        Binding("s", "show_sent", "Sent", id="reminders.sent", tooltip="Reminders delivered"),
        Binding(
            "f",
            "show_failed",
            "Failed",
            id="reminders.failed",
            tooltip="Deliveries that failed or wait for a retry",
        ),
        Binding(
            "k",
            "show_skipped",
            "Skipped",
            id="reminders.skipped",
            tooltip="Reminders that could not be sent, with the reason",
        ),
        Binding(
            "c",
            "show_confirmed",
            "Confirmed",
            id="reminders.confirmed",
            tooltip="Appointments the patient confirmed",
        ),
        Binding(
            "x",
            "show_cancelled",
            "Cancelled",
            id="reminders.cancelled",
            tooltip="Reminders or appointments that were cancelled",
        ),
        Binding(
            "left_square_bracket",
            "previous_day",
            "Previous day",
            id="reminders.previous_day",
            tooltip="The day before",
            key_display="[",
            group=DAY_KEYS,
        ),
        Binding(
            "right_square_bracket",
            "next_day",
            "Next day",
            id="reminders.next_day",
            tooltip="The day after",
            key_display="]",
            group=DAY_KEYS,
        ),
        Binding("t", "today", "Today", id="reminders.today", tooltip="Back to today"),
        Binding(
            "f5",
            "reload",
            "Reload",
            id="reminders.reload",
            tooltip="Read the reminders again",
            show=False,
        ),
        Binding("escape", "back", "Back", id="reminders.back", tooltip="Back to patient search"),
    ]

    class Loaded(Message):
        def __init__(
            self,
            day: date | None,
            today: date,
            shown_day: date,
            reminders: list[ReminderView],
            appointment_statuses: dict[int, str],
        ) -> None:
            super().__init__()
            self.day = day
            self.today = today
            self.shown_day = shown_day
            self.reminders = reminders
            self.appointment_statuses = appointment_statuses

    class LoadFailed(Message):
        def __init__(self, day: date | None, message: str) -> None:
            super().__init__()
            self.day = day
            self.message = message

    def __init__(self, day: date | None = None) -> None:
        super().__init__()
        self.day = day  # None until the first read says which day is today
        self.today: date | None = None
        self.filter = "all"
        self.reminders: list[ReminderView] = []
        self.appointment_statuses: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="rem-heading", classes="heading")
        yield Static("", id="rem-counts")
        table = DataTable(id="rem-list", cursor_type="row", zebra_stripes=True)
        for key, label in (
            ("at", "Appt"),
            ("patient", "Patient"),
            ("channel", "Channel"),
            ("status", "Reminder"),
            ("appointment", "Appointment"),
            ("reason", "Reason"),
            ("due", "Due"),
            ("sent", "Sent"),
            ("tries", "Tries"),
        ):
            table.add_column(label, key=key)
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    # --- loading --------------------------------------------------------------------
    def load(self) -> None:
        self._load(self.app.grant(), self.day, self.app.may("schedule:read"))

    @work(thread=True, exclusive=True, group="reminders-load")
    def _load(self, grant, day: date | None, with_appointments: bool) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                today = ctx.today()
                shown = day or today
                reminders = list_reminders(ctx, day=shown)
                statuses = (
                    {a.appointment_id: a.status for a in list_appointments(ctx, date_from=shown)}
                    if with_appointments and reminders
                    else {}
                )
        except Exception as exc:
            self.post_message(self.LoadFailed(day, describe_error(exc)))
            return
        self.post_message(self.Loaded(day, today, shown, reminders, statuses))

    def on_reminders_screen_load_failed(self, message: LoadFailed) -> None:
        if message.day == self.day:
            self.query_one("#rem-heading", Static).update(message.message)

    def on_reminders_screen_loaded(self, message: Loaded) -> None:
        if message.day != self.day:
            return  # the user moved to another day; that read is coming
        self.day, self.today = message.shown_day, message.today
        self.reminders = message.reminders
        self.appointment_statuses = message.appointment_statuses
        self._show()

    def _show(self) -> None:
        chosen = FILTERS[self.filter]
        shown = [
            r
            for r in self.reminders
            if chosen.keeps(r, self.appointment_statuses.get(r.appointment_id))
        ]
        table = self.query_one("#rem-list", DataTable)
        table.clear()
        for r in shown:
            appointment_status = self.appointment_statuses.get(r.appointment_id)
            table.add_row(
                fmt_time(r.appointment_at),
                r.patient,
                r.channel,
                Text(r.status, style=STATUS_STYLES.get(r.status, "")),
                STATUS_LABELS.get(appointment_status, appointment_status or ""),
                r.reason or "",
                fmt_when(r.due_at),
                fmt_when(r.sent_at),
                str(r.attempts),
                key=str(r.id),
            )
        today = "  (today)" if self.day == self.today else ""
        self.query_one("#rem-heading", Static).update(
            Text.assemble(
                ("Reminders", "bold"),
                f" for appointments on {fmt_day(self.day)}{today}   showing: {chosen.label}"
                f" ({len(shown)} of {len(self.reminders)})",
            )
        )
        if self.reminders:
            counts = "   ".join(
                f"{FILTERS[name].label}: {self._count(name)}"
                for name in ("due", "sent", "failed", "skipped", "confirmed", "cancelled")
            )
        else:
            counts = (
                "No reminders for this day's appointments; "
                "`pms remind send` plans them as their time nears."
            )
        self.query_one("#rem-counts", Static).update(counts)

    def _count(self, name: str) -> int:
        chosen = FILTERS[name]
        return sum(
            1
            for r in self.reminders
            if chosen.keeps(r, self.appointment_statuses.get(r.appointment_id))
        )

    # --- keys -----------------------------------------------------------------------
    def _filter(self, name: str) -> None:
        self.filter = name
        self._show()

    def action_show_all(self) -> None:
        self._filter("all")

    def action_show_due(self) -> None:
        self._filter("due")

    def action_show_sent(self) -> None:
        self._filter("sent")

    def action_show_failed(self) -> None:
        self._filter("failed")

    def action_show_skipped(self) -> None:
        self._filter("skipped")

    def action_show_confirmed(self) -> None:
        self._filter("confirmed")

    def action_show_cancelled(self) -> None:
        self._filter("cancelled")

    def _go(self, day: date) -> None:
        self.day = day
        self.load()

    def action_previous_day(self) -> None:
        if self.day is not None:
            self._go(self.day - timedelta(days=1))

    def action_next_day(self) -> None:
        if self.day is not None:
            self._go(self.day + timedelta(days=1))

    def action_today(self) -> None:
        if self.today is not None:
            self._go(self.today)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Reminders")
