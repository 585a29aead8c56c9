"""The waitlist: who waits for a slot, in waitlist order, and the open offers of
freed slots. Add a patient (found by inline search), take one off with a
reason, accept an offer (books it) or decline it (the patient waits again).
The waitlist service decides who fits which slot and in what order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from pms_core.errors import FieldError, ValidationError
from pms_core.services.appointments import to_local
from pms_core.services.patients import patient_summaries
from pms_core.services.waitlist import (
    REMOVE_REASONS,
    accept_offer,
    add_entry,
    decline_offer,
    list_entries,
    list_offers,
    remove_entry,
)
from pms_tui.commands import PaletteCommand
from pms_tui.format import (
    WEEKDAY_ABBREVIATIONS,
    fmt_date,
    fmt_day,
    fmt_time,
    fmt_weekdays,
    fmt_window,
    full_name,
)
from pms_tui.screens.booking import (
    Choices,
    FinishWhenCurrent,
    PatientPicker,
    PatientSearching,
    load_choices,
    select_value,
    show_field_errors,
)
from pms_tui.screens.schedule import binding_commands

REASON_LABELS = {
    "booked_elsewhere": "Booked another way",
    "patient_request": "The patient asked",
    "no_longer_needed": "No longer needed",
    "unreachable": "Could not reach the patient",
    "other": "Other",
}
assert set(REASON_LABELS) == set(REMOVE_REASONS)


@dataclass(frozen=True)
class EntryRow:
    entry_id: int
    patient: str
    type_name: str
    provider: str
    location: str
    days: str
    times: str
    earliest: str
    latest: str
    status: str
    note: str


@dataclass(frozen=True)
class OfferRow:
    offer_id: int
    slot: str
    provider: str
    patient: str
    type_name: str
    rank: int


class WaitlistScreen(Screen):
    """Entries (waiting, or offered a slot) above, open offers below."""

    AUTO_FOCUS = "#wl-entries"
    BINDINGS = [
        Binding("a", "add", "Add", id="waitlist.add", tooltip="Put a patient on the waitlist"),
        Binding(
            "x",
            "remove",
            "Remove",
            id="waitlist.remove",
            tooltip="Take the highlighted entry off the waitlist (asks why)",
        ),
        Binding(
            "y",
            "accept",
            "Accept offer",
            id="waitlist.accept",
            tooltip="The patient takes the highlighted offer: book it",
        ),
        Binding(
            "d",
            "decline",
            "Decline offer",
            id="waitlist.decline",
            tooltip="The patient does not want the highlighted offer",
        ),
        Binding(
            "f5",
            "reload",
            "Reload",
            id="waitlist.reload",
            tooltip="Read the waitlist again",
            show=False,
        ),
        Binding("escape", "back", "Back", id="waitlist.back", tooltip="Back to patient search"),
    ]
    WRITE_ACTIONS = frozenset({"add", "remove", "accept", "decline"})

    class Loaded(Message):
        def __init__(
            self, choices: Choices, today: date, entries: list[EntryRow], offers: list[OfferRow]
        ) -> None:
            super().__init__()
            self.choices = choices
            self.today = today
            self.entries = entries
            self.offers = offers

    class LoadFailed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class ChangeFailed(Message):
        """An action was refused or failed; `message` is safe to show."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class Changed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self) -> None:
        super().__init__()
        self.choices: Choices | None = None
        self.today: date | None = None
        self.entries: list[EntryRow] = []
        self.offers: list[OfferRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="wl-heading", classes="heading")
        entries = DataTable(id="wl-entries", cursor_type="row", zebra_stripes=True)
        for key, label in (
            ("position", "#"),
            ("patient", "Patient"),
            ("status", "Status"),
            ("type", "Type"),
            ("provider", "Provider"),
            ("days", "Days"),
            ("times", "Times"),
            ("earliest", "From"),
            ("latest", "Until"),
            ("location", "Location"),
            ("note", "Note"),
        ):
            entries.add_column(label, key=key)
        yield entries
        yield Label("Open offers of freed slots", classes="section")
        offers = DataTable(id="wl-offers", cursor_type="row", zebra_stripes=True)
        for key, label in (
            ("slot", "Slot"),
            ("provider", "Provider"),
            ("patient", "Patient"),
            ("type", "Type"),
            ("rank", "Rank"),
        ):
            offers.add_column(label, key=key)
        yield offers
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.WRITE_ACTIONS:
            return self.app.may("schedule:write")
        return True

    # --- loading --------------------------------------------------------------------
    def load(self) -> None:
        self._load(self.app.grant(), self.choices)

    @work(thread=True, exclusive=True, group="waitlist-load")
    def _load(self, grant, choices: Choices | None) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                choices = choices or load_choices(ctx)
                today = ctx.today()
                entries = list_entries(ctx, status="waiting") + list_entries(ctx, status="offered")
                entries.sort(key=lambda e: (e.created_at, e.id))
                offers = list_offers(ctx, status="open")
                patient_ids = list(
                    dict.fromkeys(
                        [e.patient_id for e in entries] + [o.entry.patient_id for o in offers]
                    )
                )
                names = (
                    {
                        hit.id: full_name(hit.last_name, hit.first_name)
                        for hit in patient_summaries(ctx, patient_ids=patient_ids)
                    }
                    if patient_ids
                    else {}
                )
        except Exception as exc:
            self.post_message(self.LoadFailed(describe_error(exc)))
            return

        def type_name(type_id: int) -> str:
            found = choices.type(type_id)
            return found.name if found else f"type {type_id}"

        entry_rows = [
            EntryRow(
                e.id,
                names.get(e.patient_id, f"patient {e.patient_id}"),
                type_name(e.appointment_type_id),
                choices.provider_name(e.provider_id),
                choices.location_name(e.location_id),
                fmt_weekdays(e.preferred_weekdays),
                fmt_window(e.preferred_start, e.preferred_end),
                fmt_date(e.earliest_date),
                fmt_date(e.latest_date),
                e.status,
                e.note or "",
            )
            for e in entries
        ]
        offer_rows = []
        for view in offers:
            start = to_local(choices.zone, view.offer.starts_at)
            offer_rows.append(
                OfferRow(
                    view.offer.id,
                    f"{fmt_day(start.date())} {fmt_time(start)}",
                    choices.provider_name(view.offer.provider_id),
                    names.get(view.entry.patient_id, f"patient {view.entry.patient_id}"),
                    type_name(view.entry.appointment_type_id),
                    view.offer.rank,
                )
            )
        self.post_message(self.Loaded(choices, today, entry_rows, offer_rows))

    def on_waitlist_screen_loaded(self, message: Loaded) -> None:
        self.choices, self.today = message.choices, message.today
        self.entries, self.offers = message.entries, message.offers
        table = self.query_one("#wl-entries", DataTable)
        row = table.cursor_row
        table.clear()
        for position, e in enumerate(self.entries, start=1):
            table.add_row(
                str(position),
                e.patient,
                e.status,
                e.type_name,
                e.provider,
                e.days,
                e.times,
                e.earliest,
                e.latest,
                e.location,
                e.note,
                key=str(e.entry_id),
            )
        table.move_cursor(row=min(row, max(0, table.row_count - 1)))
        offers = self.query_one("#wl-offers", DataTable)
        offers.clear()
        for o in self.offers:
            offers.add_row(
                o.slot, o.provider, o.patient, o.type_name, str(o.rank), key=str(o.offer_id)
            )
        waiting = sum(1 for e in self.entries if e.status == "waiting")
        self.query_one("#wl-heading", Static).update(
            Text.assemble(
                ("Waitlist", "bold"),
                f"   {len(self.entries)} on the list ({waiting} waiting, "
                f"{len(self.entries) - waiting} offered a slot)   "
                f"{len(self.offers)} open offer{'s' if len(self.offers) != 1 else ''}",
            )
        )

    def on_waitlist_screen_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#wl-heading", Static).update(message.message)

    def on_waitlist_screen_change_failed(self, message: ChangeFailed) -> None:
        self.notify(message.message, severity="error", timeout=8)
        self.load()

    def on_waitlist_screen_changed(self, message: Changed) -> None:
        self.notify(message.text)
        self.load()

    # --- actions --------------------------------------------------------------------
    def _highlighted(self, table_id: str) -> int | None:
        table = self.query_one(table_id, DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value)

    def action_add(self) -> None:
        if self.choices is None:
            return
        self.app.push_screen(AddEntryScreen(self.choices, self.today), self._added)

    def _added(self, entry_id: int | None) -> None:
        if entry_id is not None:
            self.notify("Added to the waitlist.")
            self.load()

    def action_remove(self) -> None:
        entry_id = self._highlighted("#wl-entries")
        if entry_id is None:
            self.notify("No waitlist entry to remove.", severity="warning")
            return

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self._run("remove", entry_id, reason, self.app.grant())

        self.app.push_screen(RemoveReasonScreen(), chosen)

    def action_accept(self) -> None:
        offer_id = self._highlighted("#wl-offers")
        if offer_id is None:
            self.notify("No open offer to accept.", severity="warning")
            return
        self._run("accept", offer_id, None, self.app.grant())

    def action_decline(self) -> None:
        offer_id = self._highlighted("#wl-offers")
        if offer_id is None:
            self.notify("No open offer to decline.", severity="warning")
            return
        self._run("decline", offer_id, None, self.app.grant())

    @work(thread=True, group="waitlist-change")
    def _run(self, action: str, row_id: int, reason: str | None, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                if action == "remove":
                    remove_entry(ctx, entry_id=row_id, reason=reason)
                    text = "Taken off the waitlist."
                elif action == "accept":
                    appt = accept_offer(ctx, offer_id=row_id)
                    start = to_local(self.choices.zone, appt.starts_at)
                    text = f"Offer accepted: booked {fmt_day(start.date())} {fmt_time(start)}."
                else:
                    decline_offer(ctx, offer_id=row_id)
                    text = "Offer declined; the patient waits for the next slot."
        except Exception as exc:
            self.post_message(self.ChangeFailed(describe_error(exc)))
        else:
            self.post_message(self.Changed(text))

    def action_reload(self) -> None:
        """Read everything again, the practice's types and providers too."""
        self._load(self.app.grant(), None)

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Waitlist")


class RemoveReasonScreen(ModalScreen[str | None]):
    """Why the entry leaves the waitlist; dismisses with the reason code."""

    AUTO_FOCUS = "#wl-reasons"
    BINDINGS = [
        Binding("escape", "close", "Close", id="wl-reason.close", tooltip="Keep the entry"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="wl-reason-box", classes="dialog"):
            yield Static("Take off the waitlist: why?", classes="dialog-title")
            yield OptionList(
                *(Option(REASON_LABELS[code], id=code) for code in REMOVE_REASONS),
                id="wl-reasons",
            )
        yield Footer(compact=True)

    @on(OptionList.OptionSelected, "#wl-reasons")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_id)

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Waitlist")


ENTRY_FIELDS = {
    "patient_id": ("e-wl-patient", "Patient"),
    "appointment_type_id": ("e-wl-type", "Type"),
    "provider_id": ("e-wl-type", "Provider"),
    "location_id": ("e-wl-type", "Location"),
    "preferred_weekdays": ("e-wl-days", "Days"),
    "preferred_start": ("e-wl-times", "After"),
    "preferred_end": ("e-wl-times", "Before"),
    "earliest_date": ("e-wl-dates", "From"),
    "latest_date": ("e-wl-dates", "Until"),
    "note": ("e-wl-note", "Note"),
}


class AddEntryScreen(PatientSearching, FinishWhenCurrent, ModalScreen[int | None]):
    """Put a patient on the waitlist; dismisses with the new entry's id."""

    AUTO_FOCUS = "#pp-search"
    BINDINGS = [
        Binding(
            "ctrl+s", "add", "Add", id="wl-add.add", tooltip="Add to the waitlist", priority=True
        ),
        Binding("escape", "close", "Cancel", id="wl-add.cancel", tooltip="Close without adding"),
    ]

    class Added(Message):
        def __init__(self, entry_id: int) -> None:
            super().__init__()
            self.entry_id = entry_id

    class Invalid(Message):
        def __init__(self, errors: list[FieldError]) -> None:
            super().__init__()
            self.errors = errors

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, choices: Choices, today: date | None = None) -> None:
        super().__init__()
        self.choices = choices
        self.today = today
        self._saving = False

    def compose(self) -> ComposeResult:
        c = self.choices
        with VerticalScroll(id="wl-add-box", classes="dialog"):
            yield Static("Add to the waitlist", classes="dialog-title")
            yield Label("Patient *")
            yield PatientPicker(id="wl-patient")
            yield Static("", id="e-wl-patient", classes="field-error")
            with Horizontal(classes="wl-row"):
                with Vertical(classes="field"):
                    yield Label("Type *")
                    yield Select([(t.name, t.id) for t in c.types], id="wl-type", prompt="(choose)")
                with Vertical(classes="field"):
                    yield Label("Provider")
                    yield Select(
                        [(name, pid) for pid, name in c.providers],
                        id="wl-provider",
                        prompt="Any provider",
                    )
                with Vertical(classes="field"):
                    yield Label("Location")
                    yield Select(
                        [(name, lid) for lid, name in c.locations],
                        id="wl-location",
                        prompt="Any location",
                    )
            yield Static("", id="e-wl-type", classes="field-error")
            yield Label("Days (none ticked = any day)")
            with Horizontal(id="wl-days"):
                for digit, name in enumerate(WEEKDAY_ABBREVIATIONS):
                    yield Checkbox(name, id=f"wl-day-{digit}", compact=True)
            yield Static("", id="e-wl-days", classes="field-error")
            with Horizontal(classes="wl-row"):
                for field_id, label, hint in (
                    ("wl-after", "After", "HH:MM"),
                    ("wl-before", "Before", "HH:MM"),
                    ("wl-earliest", "From date *", "MM/DD/YYYY"),
                    ("wl-latest", "Until", "MM/DD/YYYY"),
                ):
                    with Vertical(classes="field"):
                        yield Label(label)
                        value = fmt_date(self.today) if field_id == "wl-earliest" else ""
                        yield Input(value, id=field_id, placeholder=hint, max_length=10)
            yield Static("", id="e-wl-times", classes="field-error")
            yield Static("", id="e-wl-dates", classes="field-error")
            yield Label("Note")
            yield Input(id="wl-note", max_length=200, placeholder="optional")
            yield Static("", id="e-wl-note", classes="field-error")
            yield Static("", id="wl-status", classes="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Add", id="wl-ok", variant="primary")
                yield Button("Cancel", id="wl-close")
        yield Footer(compact=True)

    def on_patient_picker_chosen(self, message: PatientPicker.Chosen) -> None:
        self.query_one("#e-wl-patient", Static).update("")
        self.query_one("#wl-type", Select).focus()

    def has_unsaved_input(self) -> bool:
        return bool(self.query_one(PatientPicker).text.strip())

    @on(Button.Pressed, "#wl-ok")
    def action_add(self) -> None:
        if self._saving:
            return
        picker = self.query_one(PatientPicker)
        type_id = select_value(self.query_one("#wl-type", Select))
        missing = []
        if picker.chosen is None:
            missing.append(
                FieldError("patient_id", "required", "Choose a patient: type a name, then Enter.")
            )
        if type_id is None:
            missing.append(FieldError("appointment_type_id", "required", "is required"))
        if missing:
            show_field_errors(self, missing, ENTRY_FIELDS, "wl-status")
            return

        def text(field_id: str) -> str | None:
            return self.query_one(f"#{field_id}", Input).value.strip() or None

        fields: dict[str, Any] = dict(
            patient_id=picker.chosen.id,
            appointment_type_id=type_id,
            provider_id=select_value(self.query_one("#wl-provider", Select)),
            location_id=select_value(self.query_one("#wl-location", Select)),
            preferred_weekdays="".join(
                str(d) for d in range(7) if self.query_one(f"#wl-day-{d}", Checkbox).value
            ),
            preferred_start=text("wl-after"),
            preferred_end=text("wl-before"),
            earliest_date=text("wl-earliest"),
            latest_date=text("wl-latest"),
            note=text("wl-note"),
        )
        self._saving = True
        self.query_one("#wl-status", Static).update("Adding…")
        self._add(fields, self.app.grant())

    @work(thread=True, exclusive=True, group="waitlist-add")
    def _add(self, fields: dict[str, Any], grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                entry_id = add_entry(ctx, **fields).id
        except ValidationError as exc:
            self.post_message(self.Invalid(exc.errors))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc)))
        else:
            self.post_message(self.Added(entry_id))

    def on_add_entry_screen_invalid(self, message: Invalid) -> None:
        self._saving = False
        show_field_errors(self, message.errors, ENTRY_FIELDS, "wl-status")

    def on_add_entry_screen_failed(self, message: Failed) -> None:
        self._saving = False
        self.query_one("#wl-status", Static).update(f"Not added: {message.message}")

    def on_add_entry_screen_added(self, message: Added) -> None:
        self._saving = False
        self.query_one("#wl-status", Static).update("Added.")
        self.finish(message.entry_id)

    @on(Button.Pressed, "#wl-close")
    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Waitlist")
