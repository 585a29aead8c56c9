"""The schedule: the day view (a column per provider, a row per 15 minutes of
the day's working hours) and one provider's week (a column per day), worked
from the keyboard: book in an empty slot; confirm, check in, room, check out,
mark a no-show, cancel or reschedule an appointment.

The screens lay out what `day_view` / `provider_week` return on a grid
(`build_grid`, placement only) and hand every action to its service in a
worker. The services decide: a refusal comes back as its message (free of
patient data by contract) in a notification, and the schedule is read again
after every change. Keys a role may not use are hidden, which is convenience
only; the services check the permission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from pms_core.money import Money
from pms_core.services.appointments import (
    RESCHEDULABLE,
    TRANSITIONS,
    AppointmentRow,
    ProviderDay,
    ScheduleBlock,
    check_in,
    check_out,
    confirm,
    day_view,
    mark_no_show,
    provider_week,
    room_patient,
    to_local,
)
from pms_tui.commands import PaletteCommand
from pms_tui.format import (
    ELIGIBILITY_MARKS,
    OVERBOOKED_MARK,
    STATUS_LABELS,
    STATUS_MARKS,
    appointment_style,
    fmt_day,
    fmt_money,
    fmt_time,
    type_bar_style,
)
from pms_tui.screens.booking import (
    BookRequest,
    BookScreen,
    CancelScreen,
    Choices,
    FinderRequest,
    SlotChoice,
    SlotFinderScreen,
    load_choices,
    offered_text,
    reschedule_to,
)

# [ and ] show in the footer as one entry.
DAY_KEYS = Binding.Group("Day", compact=True)
WEEK_KEYS = Binding.Group("Week", compact=True)
SLOT_MINUTES = 15
DEFAULT_HOURS = (8 * 60, 17 * 60)  # shown when a day has no hours and no appointments
UNAVAILABLE = Style(color="grey23")
BLOCKED = Style(color="grey70", bgcolor="#3b2323", italic=True)
BLOCK_LABELS = {"holiday": "Holiday", "block": "Blocked", "time_off": "Time off"}
LEGEND = (
    f"{STATUS_MARKS['confirmed']} confirmed  {STATUS_MARKS['arrived']} checked in  "
    f"{STATUS_MARKS['in_room']} in room  {STATUS_MARKS['completed']} checked out  "
    f"{STATUS_MARKS['no_show']} no-show  {OVERBOOKED_MARK} overbooked  ░ unavailable  "
    # the coverage marks, explained in the appointment dialog (enter)
    f"{ELIGIBILITY_MARKS['inactive']}{ELIGIBILITY_MARKS['changed']}"
    f"{ELIGIBILITY_MARKS['failed']} coverage"
)


# --- the grid: where each appointment, window and block goes -------------------------
@dataclass
class GridCell:
    """One 15-minute slot of one column: the appointments in it (the regular one
    first, overbookings after), whether it is open (inside an available window),
    the block (holiday, block, time off) over it, and the window's location."""

    appointments: list[AppointmentRow] = field(default_factory=list)
    open: bool = False
    block: ScheduleBlock | None = None
    location_id: int | None = None


@dataclass(frozen=True)
class GridColumn:
    title: str
    provider_id: int
    day: date


@dataclass
class ScheduleGrid:
    """Columns of 15-minute slots from `first_minute` (minutes after local
    midnight); `cells[row][column]`."""

    columns: list[GridColumn]
    first_minute: int
    cells: list[list[GridCell]]

    @property
    def rows(self) -> int:
        return len(self.cells)

    def minute(self, row: int) -> int:
        return self.first_minute + row * SLOT_MINUTES

    def time_of(self, row: int) -> time:
        minute = self.minute(row)
        return time(minute // 60, minute % 60)

    def row_of(self, minute: int) -> int:
        """The row holding `minute`, kept on the grid."""
        return max(0, min(self.rows - 1, (minute - self.first_minute) // SLOT_MINUTES))

    def find(self, appointment_id: int) -> tuple[int, int] | None:
        """(row, column) where the appointment starts on the grid."""
        for row, cells in enumerate(self.cells):
            for column, cell in enumerate(cells):
                if any(a.appointment_id == appointment_id for a in cell.appointments):
                    return row, column
        return None


def minute_of(day: date, local: datetime) -> int:
    """Minutes from `day`'s local midnight to `local`, kept within the day."""
    minutes = (local.date() - day).days * 1440 + local.hour * 60 + local.minute
    return max(0, min(1440, minutes))


def build_grid(days: list[ProviderDay], titles: list[str]) -> ScheduleGrid:
    """Lay out provider days (one per column) on 15-minute rows spanning every
    window and appointment of them (DEFAULT_HOURS when there is neither).
    Blocks are drawn where they fall on those rows."""
    starts, ends = [], []
    for pd in days:
        for item in (*pd.windows, *pd.appointments):
            starts.append(minute_of(pd.day, item.local_start))
            ends.append(minute_of(pd.day, item.local_end))
    first, last = (min(starts), max(ends)) if starts else DEFAULT_HOURS
    first -= first % SLOT_MINUTES
    last += -last % SLOT_MINUTES
    rows = max(1, (last - first) // SLOT_MINUTES)
    cells = [[GridCell() for _ in days] for _ in range(rows)]
    for column, pd in enumerate(days):

        def span(start: datetime, end: datetime, day: date = pd.day) -> tuple[int, int]:
            return minute_of(day, start), minute_of(day, end)

        for row in range(rows):
            slot_start = first + row * SLOT_MINUTES
            slot_end = slot_start + SLOT_MINUTES
            cell = cells[row][column]
            for window in pd.windows:
                w_start, w_end = span(window.local_start, window.local_end)
                if w_start <= slot_start and slot_end <= w_end:
                    cell.open, cell.location_id = True, window.location_id
            for block in pd.blocks:
                b_start, b_end = span(block.local_start, block.local_end)
                if b_start < slot_end and b_end > slot_start:
                    cell.block = block
            for appt in pd.appointments:
                a_start, a_end = span(appt.local_start, appt.local_end)
                if a_start < slot_end and max(a_end, a_start + 1) > slot_start:
                    cell.appointments.append(appt)
            cell.appointments.sort(key=lambda a: (a.overbooked, a.starts_at, a.appointment_id))
    columns = [
        GridColumn(title, pd.provider_id, pd.day) for title, pd in zip(titles, days, strict=True)
    ]
    return ScheduleGrid(columns, first, cells)


def _fit(text: str, width: int) -> str:
    return text[: width - 1] + "…" if len(text) > width else text.ljust(width)


def cell_text(grid: ScheduleGrid, row: int, column: int, width: int) -> Text:
    """What a slot shows. An appointment: a bar in its type's color, then on its
    first row the status mark and the patient, on its second the type and room,
    on a tinted background (`appointment_style`); a slot holding more than one
    (an overbooking) is marked and counts the others. A block shows its kind;
    time outside the provider's hours is shaded; an open slot is blank."""
    cell = grid.cells[row][column]
    day = grid.columns[column].day
    slot_start = grid.minute(row)
    if cell.appointments:
        first = cell.appointments[0]
        style = appointment_style(first.color, first.status)
        first_row = grid.row_of(minute_of(day, first.local_start))
        one_row = minute_of(day, first.local_end) - slot_start <= SLOT_MINUTES
        overlap = len(cell.appointments) > 1
        if row == first_row:
            label = STATUS_MARKS.get(first.status, " ") + (OVERBOOKED_MARK if overlap else " ")
            label += ELIGIBILITY_MARKS.get(first.eligibility or "", "")
            label += first.patient_name + (f" · {first.type_name}" if one_row else "")
        elif row == first_row + 1:
            label = "  " + first.type_name + (f" · {first.room_name}" if first.room_name else "")
        else:
            label = " " + (OVERBOOKED_MARK if overlap else "")
        suffix = f" +{len(cell.appointments) - 1}" if overlap else ""
        text = Text("▌", type_bar_style(first.color) + Style(bgcolor=style.bgcolor))
        text.append(_fit(label, width - 1 - len(suffix)) + suffix, style)
        return text
    if cell.block is not None:
        block = cell.block
        starts_here = row == 0 or grid.cells[row - 1][column].block is not block
        label = BLOCK_LABELS.get(block.kind, block.kind)
        if block.reason:
            label += f": {block.reason}"
        return Text(_fit(" " + label if starts_here else "", width), BLOCKED)
    if cell.open:
        return Text(" " * width)
    return Text("░" * width, UNAVAILABLE)


# --- appointment actions --------------------------------------------------------------
@dataclass(frozen=True)
class AppointmentAction:
    """A thing to do with an appointment: its action name, key, label, what the
    notification says afterwards, and the status it moves to (None: reschedule)."""

    name: str
    key: str
    label: str
    done: str
    to_status: str | None
    tooltip: str
    show: bool = True

    def possible(self, status: str) -> bool:
        """Whether the status flow (`TRANSITIONS`) allows it from `status`."""
        if self.to_status is None:
            return status in RESCHEDULABLE
        return self.to_status in TRANSITIONS.get(status, ())


ACTIONS = (
    AppointmentAction("check_in", "i", "Check in", "Checked in", "arrived", "The patient is here"),
    AppointmentAction(
        "cancel", "x", "Cancel", "Cancelled", "cancelled", "Cancel the appointment (asks why)"
    ),
    AppointmentAction(
        "no_show", "n", "No-show", "Marked a no-show", "no_show", "The patient did not come"
    ),
    AppointmentAction(
        "reschedule", "r", "Reschedule", "Rescheduled", None, "Move it to another open slot"
    ),
    AppointmentAction(
        "confirm", "c", "Confirm", "Confirmed", "confirmed", "The patient confirmed", show=False
    ),
    AppointmentAction(
        "room", "m", "Room", "Roomed", "in_room", "Take the patient to a room", show=False
    ),
    AppointmentAction(
        "check_out", "o", "Check out", "Checked out", "completed", "The visit is over", show=False
    ),
)
ACTION_BY_NAME = {a.name: a for a in ACTIONS}
STATUS_SERVICES = {
    "confirm": confirm,
    "check_in": check_in,
    "check_out": check_out,
    "no_show": mark_no_show,
}
WRITE_ACTIONS = frozenset({"book", "find_slot", *ACTION_BY_NAME})
# An appointment's visit can be billed unless it did not take place.
NOT_SEEN = frozenset({"cancelled", "no_show"})


def _charges_binding(prefix: str) -> Binding:
    return Binding(
        "e",
        "charges",
        "Charges",
        id=f"{prefix}.charges",
        tooltip="Enter charges for the appointment's visit",
        show=False,
    )


def _eligibility_binding(prefix: str) -> Binding:
    return Binding(
        "v",
        "eligibility",
        "Eligibility",
        id=f"{prefix}.eligibility",
        tooltip="Ask the payer now whether the patient's coverage is in force for the visit",
        show=False,
    )


ELIGIBILITY_WORDS = {
    "active": "active",
    "changed": "active, but changed since the last check",
    "inactive": "NOT in force",
    "rejected": "the payer could not answer (see the patient)",
    "failed": "not verified: no answer (see the patient)",
    "pending": "asked, waiting for the payer",
}


def check_summary(check) -> str:
    """One eligibility check in a few words, for a notification."""
    text = ELIGIBILITY_WORDS.get(check.status, check.status)
    if check.status == "active":
        if check.plan_name:
            text += f", {check.plan_name}"
        if check.copay_cents is not None:
            text += f", copay {fmt_money(Money(check.copay_cents))}"
        if check.changes:
            text += f" (changed: {check.changes.replace(',', ', ')})"
    elif check.message:
        text += f": {check.message}"
    return text


def may_enter_charges(app, row: AppointmentRow) -> bool:
    return app.may("charges:write") and row.status not in NOT_SEEN


def _action_bindings(prefix: str) -> list[Binding]:
    return [
        Binding(a.key, a.name, a.label, id=f"{prefix}.{a.name}", tooltip=a.tooltip, show=a.show)
        for a in ACTIONS
    ]


def appointment_summary(row: AppointmentRow) -> str:
    return (
        f"{row.patient_name} · {row.type_name} · {fmt_day(row.local_start.date())} "
        f"{fmt_time(row.local_start)} with {row.provider_name}"
    )


def binding_commands(screen: Screen, category: str) -> list[PaletteCommand]:
    """A palette command for every key of `screen` (its class's and inherited
    bindings; not Textual's own, such as tab) that `check_action` allows now:
    "Category: description"."""
    commands = []
    seen: set[str] = set()
    for cls in reversed(type(screen).__mro__):
        for binding in cls.__dict__.get("BINDINGS", []):
            if not hasattr(screen, f"action_{binding.action}") or binding.action in seen:
                continue
            if not screen.check_action(binding.action, ()):
                continue
            seen.add(binding.action)
            key = binding.key_display or binding.key
            commands.append(
                PaletteCommand(
                    f"{category}: {binding.description.lower()}",
                    f"{binding.tooltip} ({key})",
                    getattr(screen, f"action_{binding.action}"),
                )
            )
    return commands


class AppointmentScreen(ModalScreen[tuple[str, int] | None]):
    """An appointment's details and the actions possible now (by the status flow
    and the role). With several appointments in one slot, the arrows pick one.
    Dismisses with (action name, appointment id), or None."""

    BINDINGS = [
        *_action_bindings("appointment"),
        _charges_binding("appointment"),
        _eligibility_binding("appointment"),
        Binding("escape", "close", "Close", id="appointment.close", tooltip="Back to the schedule"),
    ]

    def __init__(self, rows: list[AppointmentRow]) -> None:
        super().__init__()
        self.rows = rows
        self.index = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="appt-box", classes="dialog"):
            yield Static("Appointment", classes="dialog-title")
            if len(self.rows) > 1:
                yield OptionList(
                    *(
                        Option(f"{fmt_time(r.local_start)} {r.patient_name} · {r.type_name}")
                        for r in self.rows
                    ),
                    id="appt-pick",
                )
            yield Static("", id="appt-detail")
            yield Static("", id="appt-actions")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()

    @on(OptionList.OptionHighlighted, "#appt-pick")
    def _picked(self, event: OptionList.OptionHighlighted) -> None:
        self.index = event.option_index
        self._show()

    @property
    def row(self) -> AppointmentRow:
        return self.rows[self.index]

    def _show(self) -> None:
        r = self.row
        lines = [
            Text(r.patient_name, style="bold"),
            Text(
                f"{r.type_name} · {fmt_day(r.local_start.date())} "
                f"{fmt_time(r.local_start)}-{fmt_time(r.local_end)}"
            ),
            Text(
                f"{r.provider_name} · {r.location_name}"
                + (f" · {r.room_name}" if r.room_name else "")
            ),
            Text(
                f"Status: {STATUS_LABELS.get(r.status, r.status)}"
                + ("  (overbooked)" if r.overbooked else "")
            ),
        ]
        if r.note:
            lines.append(Text(f"Note: {r.note}"))
        if r.eligibility:
            lines.append(Text(f"Coverage: {ELIGIBILITY_WORDS.get(r.eligibility, r.eligibility)}"))
        self.query_one("#appt-detail", Static).update(Text("\n").join(lines))
        possible = [a for a in ACTIONS if self.check_action(a.name, ())]
        help_text = "   ".join(f"{a.key} {a.label}" for a in possible)
        if self.check_action("charges", ()):
            help_text += ("   " if help_text else "") + "e Charges"
        if self.check_action("eligibility", ()):
            help_text += ("   " if help_text else "") + "v Eligibility"
        self.query_one("#appt-actions", Static).update(
            help_text or "Nothing can be done with this appointment now."
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ACTION_BY_NAME:
            return self.app.may("schedule:write") and ACTION_BY_NAME[action].possible(
                self.row.status
            )
        if action == "charges":
            return may_enter_charges(self.app, self.row)
        if action == "eligibility":
            return self.app.may("eligibility:check") and self.row.status not in NOT_SEEN
        return True

    def _choose(self, name: str) -> None:
        self.dismiss((name, self.row.appointment_id))

    def action_check_in(self) -> None:
        self._choose("check_in")

    def action_cancel(self) -> None:
        self._choose("cancel")

    def action_no_show(self) -> None:
        self._choose("no_show")

    def action_reschedule(self) -> None:
        self._choose("reschedule")

    def action_confirm(self) -> None:
        self._choose("confirm")

    def action_room(self) -> None:
        self._choose("room")

    def action_check_out(self) -> None:
        self._choose("check_out")

    def action_charges(self) -> None:
        self._choose("charges")

    def action_eligibility(self) -> None:
        self._choose("eligibility")

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Appointment")


@dataclass(frozen=True)
class RoomPick:
    room_id: int | None  # None: no room


class RoomScreen(ModalScreen[RoomPick | None]):
    """Which room to take the patient to (the appointment booked none)."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="room.close", tooltip="Do not room the patient"),
    ]

    def __init__(self, rooms: list[tuple[int, str]]) -> None:
        super().__init__()
        self.rooms = rooms

    def compose(self) -> ComposeResult:
        with Vertical(id="room-box", classes="dialog"):
            yield Static("Take the patient to", classes="dialog-title")
            yield OptionList(
                *(Option(name, id=str(room_id)) for room_id, name in self.rooms),
                Option("No room", id="none"),
                id="room-pick",
            )
        yield Footer(compact=True)

    @on(OptionList.OptionSelected, "#room-pick")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option_id
        self.dismiss(RoomPick(None if chosen == "none" else int(chosen)))

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Room")


# --- the views ------------------------------------------------------------------------
class ScheduleView(Screen):
    """What the day and the week views share: the grid, booking and the
    appointment actions. A subclass says what to read (`fetch`) and what to do
    when the data is back."""

    AUTO_FOCUS = "#grid"
    CATEGORY = "Schedule"
    COLUMN_WIDTH = 26
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open",
            id="schedule.open_slot",
            tooltip="Book the highlighted empty slot, or open the appointment in it",
            priority=True,
        ),
        *_action_bindings("schedule"),
        _charges_binding("schedule"),
        _eligibility_binding("schedule"),
        Binding(
            "b",
            "book",
            "Book",
            id="schedule.book",
            tooltip="Book in the highlighted slot (also over an appointment)",
            show=False,
        ),
        Binding(
            "f",
            "find_slot",
            "Find slot",
            id="schedule.find_slot",
            tooltip="Find open slots by type, provider, dates and time of day",
        ),
        Binding(
            "f5",
            "reload",
            "Reload",
            id="schedule.reload",
            tooltip="Read the schedule again",
            show=False,
        ),
    ]

    class Loaded(Message):
        def __init__(
            self, request: Any, choices: Choices, grid: ScheduleGrid, heading: str, now: datetime
        ) -> None:
            super().__init__()
            self.request = request
            self.choices = choices
            self.grid = grid
            self.heading = heading
            self.now = now

    class LoadFailed(Message):
        def __init__(self, request: Any, message: str) -> None:
            super().__init__()
            self.request = request
            self.message = message

    class Changed(Message):
        """An action went through: what to tell the user and what to show next."""

        def __init__(
            self, text: str, appointment_id: int | None = None, day: date | None = None
        ) -> None:
            super().__init__()
            self.text = text
            self.appointment_id = appointment_id
            self.day = day

    class ChangeFailed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self) -> None:
        super().__init__()
        self.choices: Choices | None = None
        self.grid: ScheduleGrid | None = None
        self.now: datetime | None = None
        self._select_appointment: int | None = None
        self._keep: tuple[int, date | None, int] | None = None  # (provider, day, minute)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="schedule-heading", classes="heading")
        yield DataTable(
            id="grid",
            cursor_type="cell",
            cell_padding=0,
            cursor_background_priority="css",
            cursor_foreground_priority="css",
        )
        yield Static(LEGEND, id="schedule-legend")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    # --- loading --------------------------------------------------------------------
    def request(self) -> Any:
        """What to read (compared when the data arrives: only the latest counts)."""
        raise NotImplementedError

    def fetch(self, ctx, request: Any, today: date, choices: Choices):
        """(provider days, column titles, heading) for `request`, read in a worker."""
        raise NotImplementedError

    def load(self) -> None:
        """Read the schedule (again), in a worker, as the session of right now."""
        self._load(self.app.grant(), self.request(), self.choices)

    @work(thread=True, exclusive=True, group="schedule-load")
    def _load(self, grant, request: Any, choices: Choices | None) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                choices = choices or load_choices(ctx)
                now = to_local(choices.zone, ctx.clock.now())
                days, titles, heading = self.fetch(ctx, request, now.date(), choices)
        except Exception as exc:
            self.post_message(self.LoadFailed(request, describe_error(exc)))
            return
        self.post_message(self.Loaded(request, choices, build_grid(days, titles), heading, now))

    def on_schedule_view_load_failed(self, message: LoadFailed) -> None:
        if message.request == self.request():
            self.query_one("#schedule-heading", Static).update(message.message)

    def on_schedule_view_loaded(self, message: Loaded) -> None:
        if message.request != self.request():
            return  # the user moved on; a newer read is coming
        self.choices, self.now = message.choices, message.now
        self.loaded(message)
        self.query_one("#schedule-heading", Static).update(message.heading)
        self._fill(message.grid)

    def loaded(self, message: Loaded) -> None:
        """Hook for a subclass: the data for `message.request` is in."""

    def _fill(self, grid: ScheduleGrid) -> None:
        previous = self.current()
        if previous is not None and self._keep is None:
            column, minute, _ = previous
            self._keep = (column.provider_id, column.day, minute)
        self.grid = grid
        table = self.query_one("#grid", DataTable)
        table.clear(columns=True)
        for index, column in enumerate(grid.columns):
            table.add_column(
                Text(_fit(" " + column.title, self.COLUMN_WIDTH), style="bold"),
                width=self.COLUMN_WIDTH,
                key=str(index),
            )
        now_row = self._now_row(grid)
        for row in range(grid.rows):
            at = grid.time_of(row)
            label = Text(("▸" if row == now_row else " ") + fmt_time(at) + " ")
            if at.minute:
                label.stylize("dim")
            table.add_row(
                *(
                    cell_text(grid, row, column, self.COLUMN_WIDTH)
                    for column in range(len(grid.columns))
                ),
                key=str(row),
                label=label,
            )
        self._place_cursor(grid, now_row)

    def _now_row(self, grid: ScheduleGrid) -> int | None:
        if self.now is None:
            return None
        minute = self.now.hour * 60 + self.now.minute
        for column in grid.columns:
            if column.day == self.now.date() and grid.first_minute <= minute < grid.minute(
                grid.rows
            ):
                return grid.row_of(minute)
        return None

    def _place_cursor(self, grid: ScheduleGrid, now_row: int | None) -> None:
        """Keep the cursor where the user was (same provider/day and time), on
        an appointment just booked or moved, else on the current time."""
        table = self.query_one("#grid", DataTable)
        if not grid.columns:
            return
        target: tuple[int, int] | None = None
        if self._select_appointment is not None:
            target = grid.find(self._select_appointment)
        if target is None and self._keep is not None:
            provider_id, day, minute = self._keep
            same = [
                i
                for i, c in enumerate(grid.columns)
                if (c.provider_id, c.day) == (provider_id, day)
            ]
            moved = [i for i, c in enumerate(grid.columns) if self.same_column(c, provider_id, day)]
            target = (grid.row_of(minute), (same or moved or [0])[0])
        if target is None:
            target = (now_row or 0, 0)
        self._select_appointment, self._keep = None, None
        table.move_cursor(row=target[0], column=target[1], animate=False)

    def same_column(self, column: GridColumn, provider_id: int, day: date | None) -> bool:
        """Whether `column` stands where (provider, day) stood before a move."""
        return column.provider_id == provider_id

    def current(self) -> tuple[GridColumn, int, GridCell] | None:
        """The highlighted slot: its column, its minute of the day, its cell."""
        grid = self.grid
        if grid is None or not grid.columns:
            return None
        table = self.query_one("#grid", DataTable)
        row, column = table.cursor_coordinate
        if not (0 <= row < grid.rows and 0 <= column < len(grid.columns)):
            return None
        return grid.columns[column], grid.minute(row), grid.cells[row][column]

    # --- opening a slot -------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS:
            return self.app.may("schedule:write")
        if action == "charges":
            return self.app.may("charges:write")
        return True

    def action_open(self) -> None:
        """Enter: the appointment in the slot, or book the empty slot."""
        current = self.current()
        if current is None:
            return
        _, _, cell = current
        if cell.appointments:
            self.app.push_screen(AppointmentScreen(cell.appointments), self._chosen)
        elif not self.app.may("schedule:write"):
            self.notify("Your role may not book appointments.", severity="warning")
        elif cell.block is not None:
            label = BLOCK_LABELS.get(cell.block.kind, cell.block.kind)
            self.notify(f"{label}: this time cannot be booked.", severity="warning")
        else:
            self.action_book()

    def _chosen(self, choice: tuple[str, int] | None) -> None:
        if choice is None or self.grid is None:
            return
        name, appointment_id = choice
        row = next(
            (
                a
                for cells in self.grid.cells
                for cell in cells
                for a in cell.appointments
                if a.appointment_id == appointment_id
            ),
            None,
        )
        if row is not None:  # else the schedule was read again without it meanwhile
            self.act(name, row)

    def action_book(self) -> None:
        """Book in the highlighted slot; over an appointment only as an overbooking."""
        current = self.current()
        if current is None or self.choices is None:
            return
        column, minute, cell = current
        location_id = cell.location_id or self.default_location()
        if location_id is None:
            self.notify("Choose a slot within the provider's hours.", severity="warning")
            return
        starts_at = datetime.combine(
            column.day, time(minute // 60, minute % 60), tzinfo=self.choices.zone
        )
        request = BookRequest(
            provider_id=column.provider_id,
            location_id=location_id,
            starts_at=starts_at,
            taken=bool(cell.appointments),
        )
        self.app.push_screen(BookScreen(request, self.choices), self._booked)

    def default_location(self) -> int | None:
        """The location to book at when the slot lies outside every window."""
        if self.choices is not None and len(self.choices.locations) == 1:
            return self.choices.locations[0][0]
        return None

    def _booked(self, appointment_id: int | None) -> None:
        if appointment_id is None:
            return
        self.notify("Appointment booked.")
        self._select_appointment = appointment_id
        self.load()

    def action_find_slot(self) -> None:
        """The slot finder; a chosen slot opens the book dialog for it."""
        if self.choices is None:
            return
        current = self.current()
        request = FinderRequest(
            date_from=self.finder_start(),
            provider_id=current[0].provider_id if current else None,
        )
        self.app.push_screen(SlotFinderScreen(request, self.choices), self._slot_for_booking)

    def finder_start(self) -> date:
        """The first day the slot finder searches: the day in view, never before today."""
        current = self.current()
        today = self.now.date()
        return max(current[0].day, today) if current else today

    def _slot_for_booking(self, slot: SlotChoice | None) -> None:
        if slot is None or self.choices is None:
            return
        request = BookRequest(
            provider_id=slot.provider_id,
            location_id=slot.location_id,
            starts_at=slot.local_start,
            appointment_type_id=slot.appointment_type_id,
            room_id=slot.room_id,
        )
        self.app.push_screen(BookScreen(request, self.choices), self._booked)

    # --- appointment actions ----------------------------------------------------------
    def _target(self) -> AppointmentRow | None:
        """The appointment in the highlighted slot; with several there, the
        appointment dialog opens to choose (None here)."""
        current = self.current()
        if current is None:
            return None
        appointments = current[2].appointments
        if not appointments:
            self.notify("No appointment here: move to one first.", severity="warning")
            return None
        if len(appointments) > 1:
            self.app.push_screen(AppointmentScreen(appointments), self._chosen)
            return None
        return appointments[0]

    def act(self, name: str, row: AppointmentRow) -> None:
        """Do action `name` to the appointment `row`; dialogs first where needed."""
        if name == "cancel":
            self.app.push_screen(
                CancelScreen(row.appointment_id, appointment_summary(row)), self._cancelled
            )
        elif name == "reschedule":
            self._reschedule(row)
        elif name == "charges":
            self._enter_charges(row)
        elif name == "eligibility":
            self._check_eligibility(row, self.app.grant())
        elif name == "room" and row.room_id is None and self.choices is not None:
            rooms = [(r.id, r.name) for r in self.choices.rooms_at(row.location_id)]

            def picked(pick: RoomPick | None) -> None:
                if pick is not None:
                    self._change(name, row, self.app.grant(), pick.room_id)

            if rooms:
                self.app.push_screen(RoomScreen(rooms), picked)
            else:
                picked(RoomPick(None))
        else:
            self._change(name, row, self.app.grant(), None)

    def _act_on_target(self, name: str) -> None:
        row = self._target()
        if row is not None:
            self.act(name, row)

    def action_check_in(self) -> None:
        self._act_on_target("check_in")

    def action_cancel(self) -> None:
        self._act_on_target("cancel")

    def action_no_show(self) -> None:
        self._act_on_target("no_show")

    def action_reschedule(self) -> None:
        self._act_on_target("reschedule")

    def action_confirm(self) -> None:
        self._act_on_target("confirm")

    def action_room(self) -> None:
        self._act_on_target("room")

    def action_check_out(self) -> None:
        self._act_on_target("check_out")

    def action_charges(self) -> None:
        self._act_on_target("charges")

    def action_eligibility(self) -> None:
        self._act_on_target("eligibility")

    @work(thread=True, group="schedule-change")
    def _check_eligibility(self, row: AppointmentRow, grant) -> None:
        """Ask the payers about the visit's coverages (a realtime check can take
        seconds: a worker); the schedule is read again with the new mark."""
        from pms_core.services.eligibility import check_appointment
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                checks = check_appointment(ctx, appointment_id=row.appointment_id)
        except Exception as exc:
            self.post_message(self.ChangeFailed(describe_error(exc)))
            return
        said = "; ".join(check_summary(c) for c in checks) or "no coverage in force to check"
        self.post_message(self.Changed(f"Eligibility: {said}.", row.appointment_id))

    def _enter_charges(self, row: AppointmentRow) -> None:
        """Charge entry for the appointment's visit: its patient, provider,
        location and day; the encounter is linked to the appointment."""
        from pms_tui.screens.charges import ChargeEntryScreen

        if not may_enter_charges(self.app, row):
            self.notify(
                "A cancelled or missed appointment has no visit to bill.", severity="warning"
            )
            return
        self.app.push_screen(
            ChargeEntryScreen(
                row.patient_id,
                appointment_id=row.appointment_id,
                provider_id=row.provider_id,
                location_id=row.location_id,
                date_of_service=row.local_start.date(),
            )
        )

    @work(thread=True, group="schedule-change")
    def _change(self, name: str, row: AppointmentRow, grant, room_id: int | None) -> None:
        """A status change (confirm, check in, room, check out, no-show)."""
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                if name == "room":
                    room_patient(ctx, appointment_id=row.appointment_id, room_id=room_id)
                else:
                    STATUS_SERVICES[name](ctx, appointment_id=row.appointment_id)
        except Exception as exc:
            self.post_message(self.ChangeFailed(describe_error(exc)))
            return
        text = f"{ACTION_BY_NAME[name].done}: {row.patient_name} ({fmt_time(row.local_start)})."
        self.post_message(self.Changed(text, row.appointment_id))

    def _cancelled(self, text: str | None) -> None:
        if text is not None:
            self.notify(text)
            self.load()

    def _reschedule(self, row: AppointmentRow) -> None:
        if self.choices is None:
            return
        request = FinderRequest(
            date_from=self.finder_start(),
            appointment_type_id=row.appointment_type_id,
            provider_id=row.provider_id,
            location_id=row.location_id,
            rescheduling=appointment_summary(row),
        )

        def chosen(slot: SlotChoice | None) -> None:
            if slot is not None:
                self._move(row, slot, self.app.grant())

        self.app.push_screen(SlotFinderScreen(request, self.choices), chosen)

    @work(thread=True, group="schedule-change")
    def _move(self, row: AppointmentRow, slot: SlotChoice, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                moved = reschedule_to(ctx, row, slot)
        except Exception as exc:
            self.post_message(self.ChangeFailed(describe_error(exc)))
            return
        text = (
            f"Rescheduled to {fmt_day(moved.local_start.date())} {fmt_time(moved.local_start)}."
            + offered_text(moved.offered)
        )
        self.post_message(self.Changed(text, moved.appointment_id, moved.local_start.date()))

    def on_schedule_view_changed(self, message: Changed) -> None:
        self.notify(message.text)
        self._select_appointment = message.appointment_id
        if message.day is not None:
            self.show_day(message.day)
        self.load()

    def on_schedule_view_change_failed(self, message: ChangeFailed) -> None:
        self.notify(message.message, severity="error", timeout=8)
        self.load()

    def show_day(self, day: date) -> None:
        """Hook: move the view to show `day` (an appointment moved there)."""

    # --- other keys -------------------------------------------------------------------
    def action_reload(self) -> None:
        """Read everything again, the practice's types, rooms and providers too."""
        self._load(self.app.grant(), self.request(), None)

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, self.CATEGORY)


class ScheduleScreen(ScheduleView):
    """The day view: a column per provider working that day (or with
    appointments), at every location or one (l cycles)."""

    BINDINGS = [
        Binding(
            "left_square_bracket",
            "previous_day",
            "Previous day",
            id="schedule.previous_day",
            tooltip="The day before",
            key_display="[",
            group=DAY_KEYS,
        ),
        Binding(
            "right_square_bracket",
            "next_day",
            "Next day",
            id="schedule.next_day",
            tooltip="The day after",
            key_display="]",
            group=DAY_KEYS,
        ),
        Binding("t", "today", "Today", id="schedule.today", tooltip="Back to today"),
        Binding(
            "w",
            "week",
            "Week",
            id="schedule.week",
            tooltip="The highlighted provider's week",
        ),
        Binding(
            "l",
            "location",
            "Location",
            id="schedule.location",
            tooltip="Show one location after another, then all",
            show=False,
        ),
        Binding("escape", "back", "Back", id="schedule.back", tooltip="Back to patient search"),
    ]

    def __init__(self, day: date | None = None, location_id: int | None = None) -> None:
        super().__init__()
        self.day = day  # None until the first read says which day is today
        self.location_id = location_id

    def request(self) -> tuple[date | None, int | None]:
        return (self.day, self.location_id)

    def fetch(self, ctx, request, today: date, choices: Choices):
        day, location_id = request
        view = day_view(ctx, day=day or today, location_id=location_id)
        titles = [column.provider_name for column in view.columns]
        count = len(view.appointments)
        where = choices.location_name(location_id) if location_id else "All locations"
        heading = (
            f"{fmt_day(view.day)}{'  (today)' if view.day == today else ''}  ·  {where}  ·  "
            f"{count} appointment{'s' if count != 1 else ''}"
        )
        if not view.columns:
            heading += "  ·  no provider works this day"
        return view.columns, titles, heading

    def loaded(self, message) -> None:
        if self.day is None:
            self.day = message.now.date()

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
        if self.now is not None:
            self._go(self.now.date())

    def show_day(self, day: date) -> None:
        self.day = day

    def action_location(self) -> None:
        if self.choices is None:
            return
        order = [None, *(lid for lid, _ in self.choices.locations)]
        self.location_id = order[(order.index(self.location_id) + 1) % len(order)]
        self.load()

    def action_week(self) -> None:
        current = self.current()
        if current is None:
            self.notify("No provider to show: move to a provider's column.", severity="warning")
            return
        column, minute, _ = current
        self.app.push_screen(
            WeekScreen(column.provider_id, column.day, minute), self._back_from_week
        )

    def _back_from_week(self, day: date | None) -> None:
        if day is not None and day != self.day:
            self._go(day)
        else:
            self.load()  # the week may have changed it

    def action_back(self) -> None:
        self.dismiss()


class WeekScreen(ScheduleView):
    """One provider's week, Monday to Sunday, a column per day. Dismisses with
    the day to show in the day view (w), or None (escape)."""

    BINDINGS = [
        Binding(
            "left_square_bracket",
            "previous_week",
            "Previous week",
            id="week.previous_week",
            tooltip="The week before",
            key_display="[",
            group=WEEK_KEYS,
        ),
        Binding(
            "right_square_bracket",
            "next_week",
            "Next week",
            id="week.next_week",
            tooltip="The week after",
            key_display="]",
            group=WEEK_KEYS,
        ),
        Binding("t", "this_week", "This week", id="week.this_week", tooltip="Back to this week"),
        Binding(
            "w",
            "day_view",
            "Day view",
            id="week.day_view",
            tooltip="The day view of the highlighted day",
        ),
        Binding("escape", "back", "Back", id="week.back", tooltip="Back to the day view"),
    ]

    COLUMN_WIDTH = 14  # seven days side by side

    def __init__(self, provider_id: int, day: date, minute: int | None = None) -> None:
        """The week of `day`; the cursor starts on `day` at `minute` when given."""
        super().__init__()
        self.provider_id = provider_id
        self.week_of = day - timedelta(days=day.weekday())
        if minute is not None:
            self._keep = (provider_id, day, minute)

    def request(self) -> tuple[int, date]:
        return (self.provider_id, self.week_of)

    def fetch(self, ctx, request, today: date, choices: Choices):
        provider_id, week_of = request
        week = provider_week(ctx, provider_id=provider_id, week_of=week_of)
        titles = [
            day.day.strftime("%a %m/%d") + (" •" if day.day == today else "") for day in week.days
        ]
        count = sum(len(day.appointments) for day in week.days)
        heading = (
            f"{week.provider_name}  ·  week of {fmt_day(week.week_start)}  ·  "
            f"{count} appointment{'s' if count != 1 else ''}"
        )
        return week.days, titles, heading

    def same_column(self, column: GridColumn, provider_id: int, day: date | None) -> bool:
        return day is not None and column.day.weekday() == day.weekday()

    def _go(self, week_of: date) -> None:
        self.week_of = week_of
        self.load()

    def action_previous_week(self) -> None:
        self._go(self.week_of - timedelta(days=7))

    def action_next_week(self) -> None:
        self._go(self.week_of + timedelta(days=7))

    def action_this_week(self) -> None:
        if self.now is not None:
            today = self.now.date()
            self._go(today - timedelta(days=today.weekday()))

    def show_day(self, day: date) -> None:
        self.week_of = day - timedelta(days=day.weekday())

    def action_day_view(self) -> None:
        current = self.current()
        self.dismiss(current[0].day if current else None)

    def action_back(self) -> None:
        self.dismiss(None)
