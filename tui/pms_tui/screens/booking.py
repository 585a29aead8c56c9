"""Booking dialogs: book (with inline patient search), the slot finder (also
used to reschedule) and the cancel-reason dialog; and what they share with the
schedule and waitlist screens: the practice's choices (providers, locations,
appointment types, rooms), read once per screen, and the inline patient picker.

The dialogs gather input; the services (`appointments.book`, `find_slots`,
`cancel`, `reschedule`) decide, and answer with every problem by field, shown
under its field. Service calls run in thread workers acting as the session of
the moment the key was pressed (`app.grant()`, `app.uow(grant)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Input,
    Label,
    OptionList,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from pms_core.errors import FieldError, ValidationError
from pms_core.services.appointments import (
    book,
    cancel,
    find_slots,
    practice_zone,
    reschedule,
    to_local,
)
from pms_core.services.patients import SEARCH_LIMIT, PatientHit, find_patients
from pms_core.services.practice import list_locations, list_providers
from pms_core.services.schedule_setup import list_appointment_types, list_rooms
from pms_core.services.waitlist import offers_for_slot
from pms_tui.commands import PaletteCommand
from pms_tui.format import fmt_date, fmt_day, fmt_time, full_name, sentence
from pms_tui.screens.main import SEARCH_DEBOUNCE


# --- the practice's choices ---------------------------------------------------------
@dataclass(frozen=True)
class TypeChoice:
    id: int
    name: str
    minutes: int
    color: str
    needs_room: bool
    provider_ids: tuple[int, ...]  # who sees it; empty = every provider

    def seen_by(self, provider_id: int | None) -> bool:
        """Whether `provider_id` sees this type (None: any provider)."""
        return provider_id is None or not self.provider_ids or provider_id in self.provider_ids


@dataclass(frozen=True)
class RoomChoice:
    id: int
    name: str
    location_id: int


@dataclass(frozen=True)
class Choices:
    """The practice's active providers, locations, appointment types and rooms
    (for pickers and names), and its time zone."""

    providers: tuple[tuple[int, str], ...]
    locations: tuple[tuple[int, str], ...]
    types: tuple[TypeChoice, ...]
    rooms: tuple[RoomChoice, ...]
    zone: ZoneInfo

    def provider_name(self, provider_id: int | None) -> str:
        """The provider's name; "Any provider" for None (inactive ones by id)."""
        if provider_id is None:
            return "Any provider"
        return dict(self.providers).get(provider_id, f"provider {provider_id}")

    def location_name(self, location_id: int | None) -> str:
        """The location's name; "Any location" for None (inactive ones by id)."""
        if location_id is None:
            return "Any location"
        return dict(self.locations).get(location_id, f"location {location_id}")

    def type(self, type_id: int | None) -> TypeChoice | None:
        return next((t for t in self.types if t.id == type_id), None)

    def rooms_at(self, location_id: int) -> list[RoomChoice]:
        return [r for r in self.rooms if r.location_id == location_id]


def load_choices(ctx) -> Choices:
    """Read the choices (four short, unaudited lists without patient data)."""
    types = tuple(
        TypeChoice(
            view.appointment_type.id,
            view.appointment_type.name,
            view.appointment_type.duration_minutes,
            view.appointment_type.color,
            view.appointment_type.needs_room,
            tuple(view.provider_ids),
        )
        for view in list_appointment_types(ctx)
    )
    return Choices(
        providers=tuple((p.id, full_name(p.last_name, p.first_name)) for p in list_providers(ctx)),
        locations=tuple((loc.id, loc.name) for loc in list_locations(ctx)),
        types=types,
        rooms=tuple(RoomChoice(r.id, r.name, r.location_id) for r in list_rooms(ctx)),
        zone=practice_zone(ctx),
    )


def select_value(select: Select) -> Any:
    """A Select's value, None when blank."""
    return None if select.is_blank() else select.value


def show_field_errors(
    screen, errors: list[FieldError], fields: dict[str, tuple[str, str]], status_id: str
) -> None:
    """Put each FieldError under its field (`fields` maps a service field name to
    (error Static id, label)); the rest go to the status line `status_id`."""
    for static in screen.query(".field-error").results(Static):
        static.update("")
    placed: dict[str, list[str]] = {}
    general: list[str] = []
    for error in errors:
        if error.field in fields:
            target, label = fields[error.field]
            placed.setdefault(target, []).append(sentence(label, error.message))
        else:
            general.append(sentence(error.field.replace("_", " ").capitalize(), error.message))
    for target, texts in placed.items():
        screen.query_one(f"#{target}", Static).update("\n".join(texts))
    count = len(errors)
    status = f"{count} problem{'s' if count != 1 else ''} to fix."
    if general:
        status += " " + "; ".join(general)
    screen.query_one(f"#{status_id}", Static).update(status)


class FinishWhenCurrent:
    """For a dialog whose result comes back from a worker: it is dismissed only
    as the top screen. A result that arrives under the command palette or the
    lock screen waits until the dialog is on top again; `dismiss` there would
    take away the screen above it instead."""

    _finished: tuple[Any] | None = None

    def finish(self, result: Any) -> None:
        if self.is_active:
            self.dismiss(result)
        else:
            self._finished = (result,)

    def on_screen_resume(self) -> None:
        if self._finished is not None:
            (result,), self._finished = self._finished, None
            self.dismiss(result)


# --- the inline patient picker ------------------------------------------------------
class PatientsFound(Message):
    """A patient search (for a PatientPicker) finished."""

    def __init__(self, text: str, hits: list[PatientHit] | None, status: str) -> None:
        super().__init__()
        self.text = text
        self.hits = hits
        self.status = status


def hit_label(hit: PatientHit) -> str:
    return f"{full_name(hit.last_name, hit.first_name)}  ·  DOB {fmt_date(hit.dob)}  ·  {hit.account_number}"


class PatientPicker(Vertical):
    """Find a patient as you type: the search box, the hits below it (down
    arrow to reach them, Enter to choose; Enter in the box chooses the first),
    and the chosen patient. Posts `Search` (debounced) for its screen to run
    and `Chosen`; shows what `show_hits` hands it."""

    BINDINGS = [
        Binding(
            "down",
            "focus_hits",
            "Results",
            id="picker.results",
            tooltip="Move from the search box to the patients found",
            show=False,
        ),
    ]

    class Search(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Chosen(Message):
        def __init__(self, patient_id: int) -> None:
            super().__init__()
            self.patient_id = patient_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._debounce: Timer | None = None
        self._shown_text: str | None = None
        self._choose_when_ready = False
        self.hits: list[PatientHit] = []
        self.chosen: PatientHit | None = None

    def compose(self) -> ComposeResult:
        yield Input(
            id="pp-search", placeholder="last, first · DOB · phone · account", max_length=80
        )
        yield OptionList(id="pp-hits")
        yield Static("Type a name, date of birth, phone or account.", id="pp-status")

    def on_mount(self) -> None:
        self.query_one("#pp-hits", OptionList).display = False

    @property
    def text(self) -> str:
        return self.query_one("#pp-search", Input).value

    @on(Input.Changed, "#pp-search")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self.chosen = None
        self._choose_when_ready = False
        text = event.value
        if not text.strip():
            self.show_hits(text, [], "Type a name, date of birth, phone or account.")
            return
        self._debounce = self.set_timer(
            SEARCH_DEBOUNCE, lambda: self.post_message(self.Search(text))
        )

    def show_hits(self, text: str, hits: list[PatientHit] | None, status: str) -> None:
        """Show the result of searching `text` (ignored once the box says
        something else); None hits = the search failed, `status` says why."""
        if text != self.text:
            return
        self._shown_text = text
        self.hits = hits or []
        options = self.query_one("#pp-hits", OptionList)
        options.clear_options()
        options.add_options(Option(hit_label(h), id=str(h.id)) for h in self.hits)
        options.display = bool(self.hits)
        if self.hits:
            options.highlighted = 0
        self.query_one("#pp-status", Static).update(status)
        if self._choose_when_ready:
            self._choose_when_ready = False
            if self.hits:
                self.choose(self.hits[0])

    @on(Input.Submitted, "#pp-search")
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in the box: the first patient found for what was typed (once
        that search is back)."""
        event.stop()
        if not self.text.strip():
            return
        if self._shown_text != self.text:
            self._choose_when_ready = True
        elif self.hits:
            self.choose(self.hits[0])

    @on(OptionList.OptionSelected, "#pp-hits")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        hit = next((h for h in self.hits if str(h.id) == event.option_id), None)
        if hit is not None:
            self.choose(hit)

    def choose(self, hit: PatientHit) -> None:
        self.chosen = hit
        options = self.query_one("#pp-hits", OptionList)
        options.display = False
        self.query_one("#pp-status", Static).update(f"Patient: {hit_label(hit)}")
        self.post_message(self.Chosen(hit.id))

    def action_focus_hits(self) -> None:
        options = self.query_one("#pp-hits", OptionList)
        if options.display and options.option_count:
            options.focus()


class PatientSearching:
    """For a screen with a PatientPicker: runs its searches in a worker (as the
    main screen's search does) and hands the hits back to it."""

    def on_patient_picker_search(self, message: PatientPicker.Search) -> None:
        self._search_patients(message.text, self.app.grant())

    @work(thread=True, exclusive=True, group="patient-search")
    def _search_patients(self, text: str, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                hits = find_patients(ctx, text=text)
        except Exception as exc:
            self.post_message(PatientsFound(text, None, describe_error(exc)))
            return
        if not hits:
            status = "No patients match."
        elif len(hits) >= SEARCH_LIMIT:
            status = f"First {len(hits)} patients; type more to narrow the search."
        else:
            status = "Arrows and Enter choose the patient."
        self.post_message(PatientsFound(text, hits, status))

    def on_patients_found(self, message: PatientsFound) -> None:
        self.query_one(PatientPicker).show_hits(message.text, message.hits, message.status)


# --- book ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BookRequest:
    """Where and when to book: the provider, location and local start of the
    chosen slot; `taken` when the provider already has an appointment in it
    (overbooking is offered then); a type and room already chosen (slot finder)."""

    provider_id: int
    location_id: int
    starts_at: datetime  # aware, practice time
    taken: bool = False
    appointment_type_id: int | None = None
    room_id: int | None = None


BOOK_FIELDS = {
    "patient_id": ("e-book-patient", "Patient"),
    "appointment_type_id": ("e-book-type", "Type"),
    "room_id": ("e-book-room", "Room"),
    "note": ("e-book-note", "Note"),
    "overbook": ("e-book-overbook", "Overbook"),
    "starts_at": ("e-book-when", "Time"),
    "provider_id": ("e-book-when", "Provider"),
    "location_id": ("e-book-when", "Location"),
}


class BookScreen(PatientSearching, FinishWhenCurrent, ModalScreen[int | None]):
    """Book an appointment in a chosen slot; dismisses with the new
    appointment's id, or None when cancelled. Overbooking is a checkbox, shown
    only to a role that may overbook and only when the slot is taken."""

    AUTO_FOCUS = "#pp-search"
    BINDINGS = [
        Binding("ctrl+s", "book", "Book", id="book.book", tooltip="Book it", priority=True),
        Binding("escape", "close", "Cancel", id="book.cancel", tooltip="Close without booking"),
    ]

    class Booked(Message):
        def __init__(self, appointment_id: int) -> None:
            super().__init__()
            self.appointment_id = appointment_id

    class Invalid(Message):
        def __init__(self, errors: list[FieldError]) -> None:
            super().__init__()
            self.errors = errors

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, request: BookRequest, choices: Choices) -> None:
        super().__init__()
        self.request = request
        self.choices = choices
        self._booking = False

    def compose(self) -> ComposeResult:
        r, c = self.request, self.choices
        types = [t for t in c.types if t.seen_by(r.provider_id)]
        with Vertical(id="book-box", classes="dialog"):
            yield Static("Book an appointment", classes="dialog-title")
            yield Static(
                f"{c.provider_name(r.provider_id)}  ·  {fmt_day(r.starts_at.date())} "
                f"{fmt_time(r.starts_at)}  ·  {c.location_name(r.location_id)}",
                id="book-when",
            )
            yield Static("", id="e-book-when", classes="field-error")
            yield Label("Patient *")
            yield PatientPicker(id="book-patient")
            yield Static("", id="e-book-patient", classes="field-error")
            with Horizontal(id="book-row"):
                with Vertical(classes="field"):
                    yield Label("Type *")
                    yield Select(
                        [(f"{t.name} ({t.minutes} min)", t.id) for t in types],
                        id="book-type",
                        prompt="(choose)",
                        value=r.appointment_type_id
                        if any(t.id == r.appointment_type_id for t in types)
                        else Select.NULL,
                    )
                    yield Static("", id="e-book-type", classes="field-error")
                with Vertical(classes="field", id="book-room-box"):
                    yield Label("Room *")
                    rooms = c.rooms_at(r.location_id)
                    yield Select(
                        [(room.name, room.id) for room in rooms],
                        id="book-room",
                        prompt="(choose)",
                        value=r.room_id if any(x.id == r.room_id for x in rooms) else Select.NULL,
                    )
                    yield Static("", id="e-book-room", classes="field-error")
            yield Label("Note")
            yield Input(id="book-note", max_length=200, placeholder="optional")
            yield Static("", id="e-book-note", classes="field-error")
            yield Checkbox(
                "Overbook: book over the provider's other appointment", id="book-overbook"
            )
            yield Static("", id="e-book-overbook", classes="field-error")
            yield Static("", id="book-status", classes="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Book", id="book-ok", variant="primary")
                yield Button("Cancel", id="book-close")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_room()
        self.query_one("#book-overbook", Checkbox).display = self._may_overbook(self.request.taken)

    def _may_overbook(self, taken: bool) -> bool:
        return taken and self.app.may("schedule:overbook")

    @on(Select.Changed, "#book-type")
    def _show_room(self) -> None:
        chosen = self.choices.type(select_value(self.query_one("#book-type", Select)))
        self.query_one("#book-room-box").display = bool(chosen and chosen.needs_room)

    def on_patient_picker_chosen(self, message: PatientPicker.Chosen) -> None:
        self.query_one("#e-book-patient", Static).update("")
        self.query_one("#book-type", Select).focus()

    def has_unsaved_input(self) -> bool:
        picker = self.query_one(PatientPicker)
        return bool(picker.text.strip() or self.query_one("#book-note", Input).value.strip())

    # --- booking ------------------------------------------------------------------
    @on(Input.Submitted, "#book-note")
    @on(Button.Pressed, "#book-ok")
    def action_book(self) -> None:
        if self._booking:
            return
        picker = self.query_one(PatientPicker)
        type_select = self.query_one("#book-type", Select)
        missing = []
        if picker.chosen is None:
            missing.append(
                FieldError("patient_id", "required", "Choose a patient: type a name, then Enter.")
            )
        if type_select.is_blank():
            missing.append(FieldError("appointment_type_id", "required", "is required"))
        if missing:
            show_field_errors(self, missing, BOOK_FIELDS, "book-status")
            return
        appt_type = self.choices.type(type_select.value)
        room = select_value(self.query_one("#book-room", Select))
        self._booking = True
        self.query_one("#book-status", Static).update("Booking…")
        self._book(
            dict(
                patient_id=picker.chosen.id,
                provider_id=self.request.provider_id,
                location_id=self.request.location_id,
                appointment_type_id=appt_type.id,
                starts_at=self.request.starts_at,
                room_id=room if appt_type.needs_room else None,
                overbook=self.query_one("#book-overbook", Checkbox).value,
                note=self.query_one("#book-note", Input).value.strip() or None,
            ),
            self.app.grant(),
        )

    @work(thread=True, exclusive=True, group="book")
    def _book(self, fields: dict[str, Any], grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                appointment_id = book(ctx, **fields).id
        except ValidationError as exc:
            self.post_message(self.Invalid(exc.errors))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc)))
        else:
            self.post_message(self.Booked(appointment_id))

    def on_book_screen_invalid(self, message: Invalid) -> None:
        self._booking = False
        show_field_errors(self, message.errors, BOOK_FIELDS, "book-status")
        busy = any(e.code == "provider_busy" for e in message.errors)
        overbook = self.query_one("#book-overbook", Checkbox)
        if busy and self._may_overbook(True):
            overbook.display = True
            self.query_one("#e-book-overbook", Static).update(
                "The slot is taken. Tick Overbook (space) to book over it."
            )
            overbook.focus()

    def on_book_screen_failed(self, message: Failed) -> None:
        self._booking = False
        self.query_one("#book-status", Static).update(f"Not booked: {message.message}")

    def on_book_screen_booked(self, message: Booked) -> None:
        self._booking = False
        self.query_one("#book-status", Static).update("Booked.")
        self.finish(message.appointment_id)

    @on(Button.Pressed, "#book-close")
    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("Book: book", "Book the appointment (ctrl+s)", self.action_book),
            PaletteCommand("Book: cancel", "Close without booking (escape)", self.action_close),
        ]


# --- the slot finder ----------------------------------------------------------------
@dataclass(frozen=True)
class SlotChoice:
    """An open slot the finder listed (times aware; `local_start` in practice time)."""

    starts_at: datetime
    local_start: datetime
    provider_id: int
    location_id: int
    room_id: int | None
    appointment_type_id: int


@dataclass(frozen=True)
class FinderRequest:
    """What the finder starts with. `appointment_type_id` is fixed when
    rescheduling (`rescheduling` names the appointment being moved)."""

    date_from: date
    appointment_type_id: int | None = None
    provider_id: int | None = None
    location_id: int | None = None
    rescheduling: str | None = None


FINDER_FIELDS = {
    "appointment_type_id": ("e-sf-type", "Type"),
    "provider_id": ("e-sf-type", "Provider"),
    "location_id": ("e-sf-type", "Location"),
    "date_from": ("e-sf-dates", "From"),
    "date_to": ("e-sf-dates", "To"),
    "window_start": ("e-sf-dates", "After"),
    "window_end": ("e-sf-dates", "Before"),
}
SLOT_LIMIT = 50


class SlotFinderScreen(ModalScreen[SlotChoice | None]):
    """Open slots for a type, a provider (or any), a location (or any), a date
    range and a time-of-day window; Enter on a slot dismisses with it."""

    AUTO_FOCUS = "#sf-type"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "search",
            "Search",
            id="finder.search",
            tooltip="Find open slots",
            priority=True,
        ),
        Binding("escape", "close", "Close", id="finder.close", tooltip="Close without choosing"),
    ]

    class Found(Message):
        def __init__(self, slots: list[SlotChoice]) -> None:
            super().__init__()
            self.slots = slots

    class Invalid(Message):
        def __init__(self, errors: list[FieldError]) -> None:
            super().__init__()
            self.errors = errors

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, request: FinderRequest, choices: Choices) -> None:
        super().__init__()
        self.request = request
        self.choices = choices
        self.slots: list[SlotChoice] = []
        self.searching = False

    def compose(self) -> ComposeResult:
        r, c = self.request, self.choices
        with Vertical(id="sf-box", classes="dialog"):
            if r.rescheduling:
                yield Static(f"Reschedule {r.rescheduling}", classes="dialog-title")
            else:
                yield Static("Find a slot", classes="dialog-title")
            with Horizontal(classes="sf-row"):
                with Vertical(classes="field"):
                    yield Label("Type *")
                    yield Select(
                        [(t.name, t.id) for t in c.types],
                        id="sf-type",
                        prompt="(choose)",
                        value=r.appointment_type_id
                        if c.type(r.appointment_type_id)
                        else Select.NULL,
                        disabled=r.rescheduling is not None,
                    )
                with Vertical(classes="field"):
                    yield Label("Provider")
                    yield Select(
                        list((name, pid) for pid, name in c.providers),
                        id="sf-provider",
                        prompt="Any provider",
                        value=r.provider_id if r.provider_id in dict(c.providers) else Select.NULL,
                    )
                with Vertical(classes="field"):
                    yield Label("Location")
                    yield Select(
                        list((name, lid) for lid, name in c.locations),
                        id="sf-location",
                        prompt="Any location",
                        value=r.location_id if r.location_id in dict(c.locations) else Select.NULL,
                    )
            yield Static("", id="e-sf-type", classes="field-error")
            with Horizontal(classes="sf-row"):
                for field_id, label, value, hint in (
                    ("sf-from", "From date *", fmt_date(r.date_from), "MM/DD/YYYY"),
                    ("sf-to", "To date", "", "90 days on"),
                    ("sf-after", "After", "", "HH:MM"),
                    ("sf-before", "Before", "", "HH:MM"),
                ):
                    with Vertical(classes="field"):
                        yield Label(label)
                        yield Input(value, id=field_id, placeholder=hint, max_length=10)
            yield Static("", id="e-sf-dates", classes="field-error")
            yield Static("Enter in a field searches; Enter on a slot chooses it.", id="sf-status")
            table = DataTable(id="sf-slots", cursor_type="row", zebra_stripes=True)
            table.add_column("Day", key="day")
            table.add_column("Time", key="time")
            table.add_column("Provider", key="provider")
            table.add_column("Location", key="location")
            table.add_column("Room", key="room")
            yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.request.rescheduling is not None:
            self.query_one("#sf-from", Input).focus()
        if self.request.appointment_type_id is not None:
            self.action_search()

    @on(Input.Submitted)
    def action_search(self) -> None:
        if self.searching:
            return
        type_id = select_value(self.query_one("#sf-type", Select))
        if type_id is None:
            show_field_errors(
                self,
                [FieldError("appointment_type_id", "required", "is required")],
                FINDER_FIELDS,
                "sf-status",
            )
            return
        self.searching = True
        self.query_one("#sf-status", Static).update("Searching…")
        self._find(
            dict(
                appointment_type_id=type_id,
                provider_id=select_value(self.query_one("#sf-provider", Select)),
                location_id=select_value(self.query_one("#sf-location", Select)),
                date_from=self.query_one("#sf-from", Input).value.strip(),
                date_to=self.query_one("#sf-to", Input).value.strip() or None,
                window_start=self.query_one("#sf-after", Input).value.strip() or None,
                window_end=self.query_one("#sf-before", Input).value.strip() or None,
                limit=SLOT_LIMIT,
            ),
            self.app.grant(),
        )

    @work(thread=True, exclusive=True, group="find-slots")
    def _find(self, criteria: dict[str, Any], grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                zone = practice_zone(ctx)
                slots = [
                    SlotChoice(
                        s.starts_at,
                        to_local(zone, s.starts_at),
                        s.provider_id,
                        s.location_id,
                        s.room_id,
                        criteria["appointment_type_id"],
                    )
                    for s in find_slots(ctx, **criteria)
                ]
        except ValidationError as exc:
            self.post_message(self.Invalid(exc.errors))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc)))
        else:
            self.post_message(self.Found(slots))

    def on_slot_finder_screen_invalid(self, message: Invalid) -> None:
        self.searching = False
        show_field_errors(self, message.errors, FINDER_FIELDS, "sf-status")

    def on_slot_finder_screen_failed(self, message: Failed) -> None:
        self.searching = False
        self.query_one("#sf-status", Static).update(message.message)

    def on_slot_finder_screen_found(self, message: Found) -> None:
        self.searching = False
        for static in self.query(".field-error").results(Static):
            static.update("")
        self.slots = message.slots
        table = self.query_one("#sf-slots", DataTable)
        table.clear()
        c = self.choices
        for i, slot in enumerate(self.slots):
            room = next((r.name for r in c.rooms if r.id == slot.room_id), "")
            table.add_row(
                fmt_day(slot.local_start.date()),
                fmt_time(slot.local_start),
                c.provider_name(slot.provider_id),
                c.location_name(slot.location_id),
                room,
                key=str(i),
            )
        if not self.slots:
            status = "No open slots: widen the dates, the time of day or the provider."
        elif len(self.slots) >= SLOT_LIMIT:
            status = f"First {len(self.slots)} open slots. Enter on a slot chooses it."
        else:
            count = len(self.slots)
            status = f"{count} open slot{'s' if count != 1 else ''}. Enter on a slot chooses it."
        self.query_one("#sf-status", Static).update(status)
        if self.slots:
            table.focus()

    @on(DataTable.RowSelected, "#sf-slots")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.dismiss(self.slots[int(event.row_key.value)])

    def action_choose(self) -> None:
        """Choose the highlighted slot."""
        table = self.query_one("#sf-slots", DataTable)
        if self.slots and table.row_count:
            self.dismiss(self.slots[table.cursor_row])

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("Slots: search", "Find open slots (ctrl+s)", self.action_search),
            PaletteCommand(
                "Slots: choose", "Choose the highlighted slot (enter)", self.action_choose
            ),
            PaletteCommand("Slots: close", "Close without choosing (escape)", self.action_close),
        ]


# --- cancel and reschedule ----------------------------------------------------------
def offers_of_freed_time(
    ctx, *, appointment_id: int, provider_id: int, starts_at: datetime, ends_at: datetime
) -> int:
    """How many waitlist entries the time of a cancelled or moved appointment
    was offered to (the appointment services offer it when they free it)."""
    views = offers_for_slot(ctx, provider_id=provider_id, starts_at=starts_at, ends_at=ends_at)
    return sum(1 for view in views if view.offer.freed_by_appointment_id == appointment_id)


def offered_text(count: int) -> str:
    if not count:
        return ""
    return f" The time was offered to {count} waitlist patient{'s' if count != 1 else ''}."


@dataclass(frozen=True)
class Rescheduled:
    appointment_id: int
    local_start: datetime
    offered: int


def reschedule_to(ctx, old, slot: SlotChoice) -> Rescheduled:
    """Move the appointment `old` (an AppointmentRow) to `slot` (its old time
    goes to the waitlist)."""
    new = reschedule(
        ctx,
        appointment_id=old.appointment_id,
        starts_at=slot.starts_at,
        provider_id=slot.provider_id,
        location_id=slot.location_id,
        room_id=slot.room_id,
    )
    offered = offers_of_freed_time(
        ctx,
        appointment_id=old.appointment_id,
        provider_id=old.provider_id,
        starts_at=old.starts_at,
        ends_at=old.ends_at,
    )
    return Rescheduled(new.id, to_local(practice_zone(ctx), new.starts_at), offered)


class CancelScreen(FinishWhenCurrent, ModalScreen[str | None]):
    """Ask why, then cancel the appointment (the service offers its time to the
    waitlist); dismisses with what to tell the user, or None if not cancelled."""

    AUTO_FOCUS = "#cancel-reason"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "cancel_appointment",
            "Cancel appointment",
            id="cancel.confirm",
            tooltip="Cancel the appointment with this reason",
            priority=True,
        ),
        Binding(
            "escape", "keep", "Keep it", id="cancel.keep", tooltip="Close; nothing is cancelled"
        ),
    ]

    class Done(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Failed(Message):
        def __init__(self, message: str, field: bool) -> None:
            super().__init__()
            self.message = message
            self.field = field

    def __init__(self, appointment_id: int, summary: str) -> None:
        super().__init__()
        self.appointment_id = appointment_id
        self.summary = summary
        self._working = False

    def compose(self) -> ComposeResult:
        with Vertical(id="cancel-box", classes="dialog"):
            yield Static("Cancel appointment", classes="dialog-title")
            yield Static(self.summary, id="cancel-summary")
            yield Label("Reason *")
            yield Input(
                id="cancel-reason",
                max_length=80,
                placeholder="e.g. patient request, provider out, weather",
            )
            yield Static("", id="e-cancel-reason", classes="field-error")
            yield Static(
                "Enter (or ctrl+s) cancels the appointment; escape keeps it.", id="cancel-status"
            )
        yield Footer(compact=True)

    @on(Input.Submitted, "#cancel-reason")
    def action_cancel_appointment(self) -> None:
        if self._working:
            return
        self._working = True
        self._cancel(self.query_one("#cancel-reason", Input).value, self.app.grant())

    @work(thread=True, exclusive=True, group="cancel")
    def _cancel(self, reason: str, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                appt = cancel(ctx, appointment_id=self.appointment_id, reason=reason)
                offered = offers_of_freed_time(
                    ctx,
                    appointment_id=appt.id,
                    provider_id=appt.provider_id,
                    starts_at=appt.starts_at,
                    ends_at=appt.ends_at,
                )
        except ValidationError as exc:
            text = "; ".join(sentence("Reason", e.message) for e in exc.errors)
            self.post_message(self.Failed(text, True))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc), False))
        else:
            self.post_message(self.Done("Appointment cancelled." + offered_text(offered)))

    def on_cancel_screen_failed(self, message: Failed) -> None:
        self._working = False
        target = "#e-cancel-reason" if message.field else "#cancel-status"
        self.query_one(target, Static).update(message.message)

    def on_cancel_screen_done(self, message: Done) -> None:
        self._working = False
        self.query_one("#cancel-status", Static).update("Cancelled.")
        self.finish(message.text)

    def action_keep(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(
                "Cancel: cancel appointment",
                "Cancel the appointment with this reason (ctrl+s)",
                self.action_cancel_appointment,
            ),
            PaletteCommand(
                "Cancel: keep it", "Close; nothing is cancelled (escape)", self.action_keep
            ),
        ]
