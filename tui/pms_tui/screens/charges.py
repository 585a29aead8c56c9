"""Charge entry: one visit's date, provider and location, its diagnoses (looked
up by code or words) and its charge lines (CPT/HCPCS with modifiers, units and
diagnosis pointers), priced from the fee schedule as they are typed.

The form is held on the screen until ctrl+s: then `create_encounter` and one
`add_charge` per line run in one unit of work, so a refused line saves nothing
at all; every problem the services name comes back under its field (a line's
as "Line 2: ..."). ctrl+t posts the saved charges (`post_encounter`), saving
first when the form is not saved yet. Prices shown before saving come from
`price_service`, the same function `add_charge` prices with; the saved amounts
are the ones shown after saving.

Pointers are kept as the diagnosis codes a line points at, so removing or
moving a diagnosis keeps each line pointing at the same diagnoses; the numbers
are the diagnoses' positions at the time of saving.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from pms_core import codes
from pms_core.errors import FieldError, ValidationError
from pms_core.money import Money
from pms_core.services.charges import (
    MAX_DIAGNOSES,
    MAX_POINTERS,
    EncounterView,
    add_charge,
    create_encounter,
    get_encounter,
    line_amount,
    post_encounter,
    price_service,
    primary_coverage,
)
from pms_core.services.fees import search_procedures
from pms_core.services.patients import patient_summaries
from pms_core.services.practice import list_locations, list_payers, list_providers
from pms_core.validation import parse_date
from pms_tui.commands import PaletteCommand
from pms_tui.format import fmt_date, full_name, sentence
from pms_tui.screens.main import SEARCH_DEBOUNCE
from pms_tui.screens.schedule import binding_commands

DX_LIMIT = 30
CODE_LIMIT = 12
DX_WIDTH = 84  # description columns, so that the tables fit 110 columns
LINE_DESCRIPTION_WIDTH = 24


# --- what the form holds ------------------------------------------------------------
@dataclass
class DraftLine:
    """One charge line as typed (or, once saved, as the service stored it).
    `pointers` are diagnosis codes (no dot); `unit_price` None with `priced`
    means the fee schedule has no fee for it; `amount` is the saved total."""

    key: int
    code: str
    modifiers: tuple[str, ...] = ()
    units: str = "1"
    pointers: list[str] = field(default_factory=list)
    description: str = ""
    unit_price: Money | None = None
    priced: bool = False
    amount: Money | None = None
    status: str = ""

    def total(self) -> Money | None:
        """The saved amount, else the fee times the units (rounded once, half-up,
        as `add_charge` does); None while unknown."""
        if self.amount is not None:
            return self.amount
        if self.unit_price is None:
            return None
        try:
            units = Decimal(self.units.strip() or "1")
        except InvalidOperation:
            return None
        if not units.is_finite() or units <= 0:
            return None
        return line_amount(self.unit_price, units)


@dataclass(frozen=True)
class EntryChoices:
    """What the form needs from the database before typing starts."""

    patient: str  # "Doe, Jane (account 000001)"
    providers: tuple[tuple[int, str], ...]
    locations: tuple[tuple[int, str], ...]
    today: date
    payer: str | None  # the primary coverage's payer today, for the heading


@dataclass(frozen=True)
class Priced:
    """A procedure code's description and one unit's fee (None: no fee)."""

    description: str
    unit_price: Money | None


ENCOUNTER_FIELDS = {
    "date_of_service": ("e-dos", "Date of service"),
    "provider_id": ("e-provider", "Provider"),
    "location_id": ("e-location", "Location"),
    "diagnoses": ("e-dx", "Diagnoses"),
}
LINE_FIELDS = {
    "code": ("e-code", "Code"),
    "modifiers": ("e-modifiers", "Modifiers"),
    "units": ("e-units", "Units"),
    "pointers": ("e-pointers", "Pointers"),
}
_NUMBERED = re.compile(r"^(diagnosis|modifier|pointer) (\d+)$")
_CHARGE_FIELD = re.compile(r"^charge (\d+) (.+)$")


def split_codes(text: str) -> tuple[str, ...]:
    """ "25, 59" or "25 59" -> ("25", "59")."""
    return tuple(part.upper() for part in re.split(r"[,\s]+", text.strip()) if part)


def parse_pointers(text: str, diagnoses: int) -> tuple[list[int], str | None]:
    """Pointer numbers typed as "1 2", "1,3" or "12" (single digits run
    together); a two-digit number stands for itself only when that many
    diagnoses exist. Returns the numbers, or an error message."""
    numbers: list[int] = []
    for token in re.split(r"[,\s]+", text.strip()):
        if not token:
            continue
        if not token.isdigit():
            return [], f"{token} is not a number"
        if len(token) > 1 and not (token[0] != "0" and int(token) <= diagnoses):
            numbers += [int(d) for d in token]
        else:
            numbers.append(int(token))
    for n in numbers:
        if not 1 <= n <= diagnoses:
            have = f"there {'is' if diagnoses == 1 else 'are'} {diagnoses} diagnos"
            return [], f"no diagnosis {n}: {have}{'is' if diagnoses == 1 else 'es'}"
    if len(set(numbers)) != len(numbers):
        return [], "a diagnosis is listed twice"
    if len(numbers) > MAX_POINTERS:
        return [], f"at most {MAX_POINTERS} pointers"
    return numbers, None


def describe(field_name: str, message: str, labels: dict[str, tuple[str, str]]) -> str:
    """A service's FieldError as a line under its field."""
    if field_name in labels:
        return sentence(labels[field_name][1], message)
    m = _NUMBERED.match(field_name)
    if m:
        return f"{m[1].capitalize()} {m[2]}: {message}"
    return sentence(field_name.replace("_", " ").capitalize(), message)


def error_target(field_name: str) -> str | None:
    """Which error line (id) a line's FieldError belongs under."""
    if field_name in LINE_FIELDS:
        return LINE_FIELDS[field_name][0]
    m = _NUMBERED.match(field_name)
    if m and m[1] in ("modifier", "pointer"):
        return LINE_FIELDS[f"{m[1]}s"][0]
    return None


class _LinesRefused(Exception):
    """Raised inside the save's unit of work so that nothing is kept when a line
    is refused; carries (line number, FieldError) pairs."""

    def __init__(self, errors: list[tuple[int, FieldError]]) -> None:
        super().__init__("lines refused")
        self.errors = errors


class ChargeEntryScreen(Screen):
    """Enter one visit's charges for `patient_id`; from an appointment, its
    provider, location and date are the defaults and the encounter is linked
    to it. Dismisses with the saved encounter's id, or None."""

    AUTO_FOCUS = "#ce-dx-search"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="charges.save",
            tooltip="Save the encounter and its charges (as drafts)",
            priority=True,
        ),
        Binding(
            "ctrl+t",
            "post",
            "Post",
            id="charges.post",
            tooltip="Post the charges to the ledger (saves first)",
            priority=True,
        ),
        Binding(
            "down",
            "focus_matches",
            "Matches",
            id="charges.matches",
            tooltip="Move from a lookup box to its matches",
            show=False,
        ),
        Binding(
            "delete",
            "remove",
            "Remove",
            id="charges.remove",
            tooltip="Remove the highlighted diagnosis or charge line",
        ),
        Binding(
            "shift+up",
            "move_up",
            "Move up",
            id="charges.move_up",
            tooltip="Move the highlighted diagnosis (or line) up; the first diagnosis is principal",
            show=False,
        ),
        *(
            Binding(
                str(n % 10),
                f"toggle_pointer({n})",
                "Pointer",
                id=f"charges.pointer_{n}",
                tooltip=f"Point the highlighted line at diagnosis {n}, or stop pointing at it",
                key_display="1…0" if n == 1 else None,
                show=n == 1,
            )
            for n in range(1, 11)
        ),
        Binding(
            "escape",
            "cancel",
            "Back",
            id="charges.cancel",
            tooltip="Leave charge entry (asks before throwing away what is not saved)",
        ),
    ]

    class Loaded(Message):
        def __init__(self, choices: EntryChoices) -> None:
            super().__init__()
            self.choices = choices

    class LoadFailed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    class DiagnosesFound(Message):
        def __init__(self, text: str, hits: list[tuple[str, str]]) -> None:
            super().__init__()
            self.text = text
            self.hits = hits

    class ProceduresFound(Message):
        """The lookup for what the code box says: matching codes, and the fee
        of the code with these modifiers (None when it is not a whole code)."""

        def __init__(
            self,
            code: str,
            modifiers: tuple[str, ...],
            hits: list[tuple[str, str]],
            priced: Priced | None,
        ) -> None:
            super().__init__()
            self.code = code
            self.modifiers = modifiers
            self.hits = hits
            self.priced = priced

    class LinePriced(Message):
        def __init__(self, code: str, modifiers: tuple[str, ...], priced: Priced) -> None:
            super().__init__()
            self.code = code
            self.modifiers = modifiers
            self.priced = priced

    class Saved(Message):
        def __init__(self, view: EncounterView, posted: int | None) -> None:
            super().__init__()
            self.view = view
            self.posted = posted  # charges posted, when it was posted too

    class Invalid(Message):
        def __init__(
            self, errors: list[FieldError], line_errors: list[tuple[int, FieldError]]
        ) -> None:
            super().__init__()
            self.errors = errors
            self.line_errors = line_errors

    class Failed(Message):
        """Saving or posting failed for a reason that names no field."""

        def __init__(self, message: str, posting: bool = False) -> None:
            super().__init__()
            self.message = message
            self.posting = posting

    class LookupFailed(Message):
        """A code lookup or a price could not be read (the form keeps working)."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(
        self,
        patient_id: int,
        *,
        appointment_id: int | None = None,
        provider_id: int | None = None,
        location_id: int | None = None,
        date_of_service: date | None = None,
    ) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.appointment_id = appointment_id
        self._provider_id = provider_id
        self._location_id = location_id
        self._date_of_service = date_of_service
        self.choices: EntryChoices | None = None
        self.diagnoses: list[tuple[str, str]] = []  # (code without dot, description)
        self.lines: list[DraftLine] = []
        self.view: EncounterView | None = None  # once saved
        self.prices: dict[tuple[str, tuple[str, ...]], Priced] = {}
        self.dx_hits: list[tuple[str, str]] = []
        self.code_hits: list[tuple[str, str]] = []
        self._keys = itertools.count(1)
        self._dx_shown: str | None = None
        self._add_dx_when_ready = False
        self._dx_timer: Timer | None = None
        self._code_timer: Timer | None = None
        self._working = False
        self._initial: Any = None
        self._on_resume: list[Callable[[], Any]] = []

    # --- layout ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="ce-form"):
            yield Static("Loading…", id="ce-heading", classes="heading")
            yield Static("", id="ce-status", classes="form-error")
            with Horizontal(id="ce-visit"):
                with Vertical(classes="field"):
                    yield Label("Date of service *")
                    yield Input(id="ce-dos", placeholder="MM/DD/YYYY", max_length=10)
                    yield Static("", id="e-dos", classes="field-error")
                with Vertical(classes="field"):
                    yield Label("Provider *")
                    yield Select([], id="ce-provider", prompt="(choose)")
                    yield Static("", id="e-provider", classes="field-error")
                with Vertical(classes="field"):
                    yield Label("Location *")
                    yield Select([], id="ce-location", prompt="(choose)")
                    yield Static("", id="e-location", classes="field-error")
            yield Label(
                "Diagnoses: principal first; the numbers are what lines point at",
                classes="section",
            )
            yield Input(
                id="ce-dx-search",
                placeholder="ICD-10 code or words, e.g. E11.9 or diabetes kidney; Enter adds",
                max_length=60,
            )
            yield OptionList(id="ce-dx-hits")
            yield Static("", id="ce-dx-status", classes="hint")
            dx = DataTable(id="ce-dx", cursor_type="row", zebra_stripes=True)
            dx.add_column("#", key="n", width=2)
            dx.add_column("Code", key="code", width=8)
            dx.add_column("Description", key="description", width=DX_WIDTH)
            yield dx
            yield Static("", id="e-dx", classes="field-error")
            yield Label("Charge lines", classes="section")
            with Horizontal(id="ce-entry"):
                with Vertical(classes="field", id="ce-code-box"):
                    yield Label("Code *")
                    yield Input(id="ce-code", placeholder="CPT/HCPCS", max_length=5)
                with Vertical(classes="field"):
                    yield Label("Modifiers")
                    yield Input(id="ce-modifiers", placeholder="e.g. 25 59", max_length=11)
                with Vertical(classes="field"):
                    yield Label("Units")
                    yield Input(id="ce-units", value="1", max_length=9)
                with Vertical(classes="field"):
                    yield Label("Pointers")
                    yield Input(id="ce-pointers", placeholder="1 2 (default 1)", max_length=11)
            yield OptionList(id="ce-code-hits")
            yield Static("", id="ce-price", classes="hint")
            yield Static("", id="e-code", classes="field-error")
            yield Static("", id="e-modifiers", classes="field-error")
            yield Static("", id="e-units", classes="field-error")
            yield Static("", id="e-pointers", classes="field-error")
            lines = DataTable(id="ce-lines", cursor_type="row", zebra_stripes=True)
            for key, label, width in (
                ("n", "#", 2),
                ("code", "Code", 5),
                ("description", "Description", LINE_DESCRIPTION_WIDTH),
                ("modifiers", "Mod", 11),
                ("units", "Units", 5),
                ("pointers", "Dx", 7),
                ("fee", "Fee", 10),
                ("total", "Total", 10),
                ("status", "Status", 6),
            ):
                lines.add_column(label, key=key, width=width)
            yield lines
            yield Static("", id="ce-total")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#ce-dx-hits", OptionList).display = False
        self.query_one("#ce-code-hits", OptionList).display = False
        for static in self.query(".field-error, .hint, #ce-status").results(Static):
            static.display = False
        self._render_dx()
        self._render_lines()
        self._load(self.app.grant())

    # --- loading --------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="charges-load")
    def _load(self, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                (hit,) = patient_summaries(ctx, patient_ids=[self.patient_id]) or (None,)
                if hit is None:
                    raise LookupError
                today = ctx.today()
                coverage = primary_coverage(ctx, self.patient_id, self._date_of_service or today)
                payer = None
                if coverage is not None:
                    payer = next(
                        (p.name for p in list_payers(ctx) if p.id == coverage.payer_id), None
                    )
                choices = EntryChoices(
                    patient=f"{full_name(hit.last_name, hit.first_name)} "
                    f"(account {hit.account_number})",
                    providers=tuple(
                        (p.id, full_name(p.last_name, p.first_name)) for p in list_providers(ctx)
                    ),
                    locations=tuple((loc.id, loc.name) for loc in list_locations(ctx)),
                    today=today,
                    payer=payer,
                )
            codes.search_icd10("A00", 1)  # the code set loads once per process (~1 s)
        except LookupError:
            self.post_message(self.LoadFailed("Patient not found."))
        except Exception as exc:
            self.post_message(self.LoadFailed(describe_error(exc)))
        else:
            self.post_message(self.Loaded(choices))

    def on_charge_entry_screen_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#ce-heading", Static).update(message.message)

    def on_charge_entry_screen_loaded(self, message: Loaded) -> None:
        self.choices = c = message.choices
        for selector, options, wanted in (
            ("#ce-provider", c.providers, self._provider_id),
            ("#ce-location", c.locations, self._location_id),
        ):
            select = self.query_one(selector, Select)
            select.set_options([(name, row_id) for row_id, name in options])
            ids = [row_id for row_id, _ in options]
            # The appointment's (left blank when no longer active), else the first.
            chosen = (ids[0] if ids else None) if wanted is None else wanted
            if chosen in ids:
                select.value = chosen
        self.query_one("#ce-dos", Input).value = fmt_date(self._date_of_service or c.today)
        self._heading()
        self._initial = self._snapshot()

    def _heading(self) -> None:
        c = self.choices
        if c is None:
            return
        text = Text.assemble(("Charges", "bold"), f"  ·  {c.patient}")
        text.append(f"  ·  {c.payer}" if c.payer else "  ·  no coverage: self-pay")
        if self.appointment_id is not None:
            text.append("  ·  from the appointment")
        if self.view is not None:
            e = self.view.encounter
            text.append(f"  ·  encounter {e.id}: {e.status}", style="bold")
        self.query_one("#ce-heading", Static).update(text)

    def _say(self, selector: str, text: str | Text) -> None:
        """Put `text` in an error or hint line; an empty line takes no room."""
        static = self.query_one(selector, Static)
        static.update(text)
        static.display = bool(text)

    # --- the form's state -----------------------------------------------------------
    @property
    def saved(self) -> bool:
        return self.view is not None

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def _select(self, selector: str) -> int | None:
        widget = self.query_one(selector, Select)
        return None if widget.is_blank() else int(widget.value)

    def _snapshot(self) -> Any:
        return (
            self._value("#ce-dos"),
            self._select("#ce-provider"),
            self._select("#ce-location"),
            tuple(code for code, _ in self.diagnoses),
            tuple((ln.code, ln.modifiers, ln.units, tuple(ln.pointers)) for ln in self.lines),
            self._value("#ce-code"),
            self._value("#ce-modifiers"),
            self._value("#ce-pointers"),
        )

    def has_unsaved_input(self) -> bool:
        if self.saved or self._initial is None:
            return False
        return self._snapshot() != self._initial

    def pointer_numbers(self, line: DraftLine) -> list[int]:
        order = [code for code, _ in self.diagnoses]
        return [order.index(code) + 1 for code in line.pointers if code in order]

    # --- diagnoses ------------------------------------------------------------------
    @on(Input.Changed, "#ce-dx-search")
    def _dx_changed(self, event: Input.Changed) -> None:
        if self._dx_timer is not None:
            self._dx_timer.stop()
            self._dx_timer = None
        self._add_dx_when_ready = False
        text = event.value
        if not text.strip():
            self.workers.cancel_group(self, "dx-search")
            self._show_dx_hits(text, [])
            return
        self._dx_timer = self.set_timer(SEARCH_DEBOUNCE, lambda: self._search_dx(text))

    @work(thread=True, exclusive=True, group="dx-search")
    def _search_dx(self, text: str) -> None:
        """Code sets hold no patient data: no unit of work needed."""
        self.post_message(self.DiagnosesFound(text, codes.search_icd10(text, DX_LIMIT)))

    def on_charge_entry_screen_diagnoses_found(self, message: DiagnosesFound) -> None:
        if message.text == self._value("#ce-dx-search"):
            self._show_dx_hits(message.text, message.hits)

    def _show_dx_hits(self, text: str, hits: list[tuple[str, str]]) -> None:
        self._dx_shown = text
        self.dx_hits = hits
        options = self.query_one("#ce-dx-hits", OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{codes.icd10_display(code):<8} {description}", id=code)
            for code, description in hits
        )
        options.display = bool(hits)
        if hits:
            options.highlighted = 0
        if not text.strip():
            status = ""
        elif not hits:
            status = "No billable ICD-10-CM code matches."
        else:
            more = " (first ones; type more to narrow)" if len(hits) >= DX_LIMIT else ""
            status = f"{len(hits)} match{'es' if len(hits) != 1 else ''}{more}: "
            status += "Enter adds the highlighted one, down arrow moves to the list."
        self._say("#ce-dx-status", status)
        if self._add_dx_when_ready:
            self._add_dx_when_ready = False
            if hits:
                self._add_dx(hits[options.highlighted or 0])

    @on(Input.Submitted, "#ce-dx-search")
    def _dx_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.saved or not event.value.strip():
            return
        if self._dx_shown != event.value:
            self._add_dx_when_ready = True  # the search for what was typed is coming
        elif self.dx_hits:
            index = self.query_one("#ce-dx-hits", OptionList).highlighted or 0
            self._add_dx(self.dx_hits[index])

    @on(OptionList.OptionSelected, "#ce-dx-hits")
    def _dx_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        hit = next((h for h in self.dx_hits if h[0] == event.option_id), None)
        if hit is not None and not self.saved:
            self._add_dx(hit)

    def _add_dx(self, hit: tuple[str, str]) -> None:
        if any(code == hit[0] for code, _ in self.diagnoses):
            self._say("#e-dx", f"{codes.icd10_display(hit[0])} is already on the list.")
        elif len(self.diagnoses) >= MAX_DIAGNOSES:
            self._say("#e-dx", f"At most {MAX_DIAGNOSES} diagnoses.")
        else:
            self._say("#e-dx", "")
            self.diagnoses.append(hit)
            for line in self.lines:  # a line typed before any diagnosis points at the first
                if not line.pointers and len(self.diagnoses) == 1:
                    line.pointers.append(hit[0])
            self._render_dx()
            self._render_lines()
        search = self.query_one("#ce-dx-search", Input)
        search.value = ""
        search.focus()

    def _render_dx(self, cursor: int | None = None) -> None:
        table = self.query_one("#ce-dx", DataTable)
        table.clear()
        for n, (code, description) in enumerate(self.diagnoses, start=1):
            table.add_row(
                str(n), codes.icd10_display(code), _fit(description or "", DX_WIDTH), key=code
            )
        table.display = bool(self.diagnoses)
        if cursor is not None and self.diagnoses:
            table.move_cursor(row=min(cursor, len(self.diagnoses) - 1), animate=False)

    # --- charge lines ---------------------------------------------------------------
    @on(Input.Changed, "#ce-code, #ce-modifiers")
    def _code_changed(self, event: Input.Changed) -> None:
        if self._code_timer is not None:
            self._code_timer.stop()
            self._code_timer = None
        code = self._value("#ce-code").strip().upper()
        mods = split_codes(self._value("#ce-modifiers"))
        self._say("#e-code", "")
        if not code:
            self.workers.cancel_group(self, "code-lookup")
            self._show_code_hits([])
            self._say("#ce-price", "")
            return
        self._code_timer = self.set_timer(
            SEARCH_DEBOUNCE,
            lambda: self._lookup(code, mods, self._value("#ce-dos"), self.app.grant()),
        )

    @work(thread=True, exclusive=True, group="code-lookup")
    def _lookup(self, code: str, mods: tuple[str, ...], dos: str, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                hits = search_procedures(ctx, text=code, limit=CODE_LIMIT)
                priced = None
                if codes.procedure_kind(code) is not None:
                    priced = self._price(ctx, code, mods, dos, dict(hits).get(code, ""))
        except Exception as exc:
            self.post_message(self.LookupFailed(describe_error(exc)))
            return
        self.post_message(self.ProceduresFound(code, mods, hits, priced))

    def _price(self, ctx, code: str, mods: tuple[str, ...], dos: str, description: str) -> Priced:
        """The fee `add_charge` would use: the primary payer's on the date of
        service goes to the `price_service` plugins, else the practice schedule."""
        on, _ = parse_date("date_of_service", dos)
        coverage = primary_coverage(ctx, self.patient_id, on or ctx.today())
        payer_id = coverage.payer_id if coverage is not None else None
        return Priced(description, price_service(ctx, code, mods, payer_id))

    def on_charge_entry_screen_procedures_found(self, message: ProceduresFound) -> None:
        if message.priced is not None:
            self._priced(message.code, message.modifiers, message.priced)
        code = self._value("#ce-code").strip().upper()
        if message.code != code or message.modifiers != split_codes(self._value("#ce-modifiers")):
            return  # typed on; a newer lookup is coming
        exact = [h for h in message.hits if h[0] == code]
        self._show_code_hits([] if exact and len(message.hits) == 1 else message.hits)
        if message.priced is None:
            found = len(message.hits)
            self._say(
                "#ce-price",
                f"{found} code{'s' if found != 1 else ''} start with {code}: "
                "down arrow moves to them."
                if found
                else f"No code in the code list or fee schedule starts with {code}.",
            )
        elif not exact:
            self._say(
                "#ce-price",
                Text(f"{code} is not in the code list or the fee schedule.", style="yellow"),
            )
        elif message.priced.unit_price is None:
            self._say(
                "#ce-price",
                Text(f"{code}: no fee in the fee schedule; saving will refuse it.", style="yellow"),
            )
        else:
            described = f" {message.priced.description}" if message.priced.description else ""
            fee = message.priced.unit_price.format()
            self._say("#ce-price", f"{code}{described}  ·  fee {fee} a unit")

    def _show_code_hits(self, hits: list[tuple[str, str]]) -> None:
        self.code_hits = hits
        options = self.query_one("#ce-code-hits", OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{code}  {description or '(in the fee schedule)'}", id=code)
            for code, description in hits
        )
        options.display = bool(hits)
        if hits:
            options.highlighted = 0

    @on(OptionList.OptionSelected, "#ce-code-hits")
    def _code_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        code = self.query_one("#ce-code", Input)
        code.value = event.option_id or ""
        self._show_code_hits([])
        self.query_one("#ce-modifiers", Input).focus()

    @on(Input.Submitted, "#ce-code, #ce-modifiers, #ce-units, #ce-pointers")
    def _line_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_add_line()

    def action_add_line(self) -> bool:
        """Add what the code row says as a line (False when it cannot be added)."""
        if self.saved:
            return False
        code = self._value("#ce-code").strip().upper()
        if not code:
            self.query_one("#ce-code", Input).focus()
            return False
        numbers, problem = parse_pointers(self._value("#ce-pointers"), len(self.diagnoses))
        if problem is not None:
            self._say("#e-pointers", f"Pointers: {problem}")
            self.query_one("#ce-pointers", Input).focus()
            return False
        self._say("#e-pointers", "")
        pointers = [self.diagnoses[n - 1][0] for n in numbers]
        if not pointers and self.diagnoses:
            pointers = [self.diagnoses[0][0]]
        line = DraftLine(
            next(self._keys),
            code,
            split_codes(self._value("#ce-modifiers")),
            self._value("#ce-units").strip() or "1",
            pointers,
        )
        self.lines.append(line)
        known = self.prices.get((line.code, line.modifiers))
        if known is not None:
            self._apply_price(line, known)
        else:
            self._price_line(line.code, line.modifiers, self._value("#ce-dos"), self.app.grant())
        for selector, value in (
            ("#ce-code", ""),
            ("#ce-modifiers", ""),
            ("#ce-units", "1"),
            ("#ce-pointers", ""),
        ):
            self.query_one(selector, Input).value = value
        self._render_lines(cursor=len(self.lines) - 1)
        self.query_one("#ce-code", Input).focus()
        return True

    @work(thread=True, group="line-price")
    def _price_line(self, code: str, mods: tuple[str, ...], dos: str, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                hits = dict(search_procedures(ctx, text=code, limit=1))
                priced = self._price(ctx, code, mods, dos, hits.get(code, ""))
        except Exception as exc:
            self.post_message(self.LookupFailed(describe_error(exc)))
            return
        self.post_message(self.LinePriced(code, mods, priced))

    def on_charge_entry_screen_lookup_failed(self, message: LookupFailed) -> None:
        self._say("#ce-price", Text(f"No price: {message.message}", style="yellow"))

    def on_charge_entry_screen_line_priced(self, message: LinePriced) -> None:
        self._priced(message.code, message.modifiers, message.priced)

    def _priced(self, code: str, mods: tuple[str, ...], priced: Priced) -> None:
        self.prices[(code, mods)] = priced
        changed = False
        for line in self.lines:
            if (line.code, line.modifiers) == (code, mods) and not line.priced:
                self._apply_price(line, priced)
                changed = True
        if changed:
            self._render_lines()

    @staticmethod
    def _apply_price(line: DraftLine, priced: Priced) -> None:
        line.description = priced.description
        line.unit_price = priced.unit_price
        line.priced = True

    def _render_lines(self, cursor: int | None = None) -> None:
        table = self.query_one("#ce-lines", DataTable)
        if cursor is None and table.row_count:
            cursor = table.cursor_row
        table.clear()
        for n, line in enumerate(self.lines, start=1):
            if not line.priced:
                fee = Text("…", style="dim")
            elif line.unit_price is None:
                fee = Text("no fee", style="yellow")
            else:
                fee = Text(line.unit_price.format(), justify="right")
            total = line.total()
            table.add_row(
                str(n),
                line.code,
                _fit(line.description, LINE_DESCRIPTION_WIDTH),
                " ".join(line.modifiers),
                line.units,
                ",".join(str(p) for p in self.pointer_numbers(line)) or Text("none", "red"),
                fee,
                Text(total.format() if total is not None else "", justify="right"),
                line.status,
                key=str(line.key),
            )
        table.display = bool(self.lines)
        if cursor is not None and self.lines:
            table.move_cursor(row=min(cursor, len(self.lines) - 1), animate=False)
        totals = [line.total() for line in self.lines]
        known = Money.sum(t for t in totals if t is not None)
        missing = sum(1 for t in totals if t is None)
        text = Text.assemble(("Total ", "bold"), (known.format(), "bold"))
        count = len(self.lines)
        text.append(f"  ·  {count} line{'s' if count != 1 else ''}")
        if missing:
            text.append(f"  ·  {missing} not counted (no fee, or units not above 0)", "yellow")
        self.query_one("#ce-total", Static).update(text if self.lines else "")

    @on(DataTable.RowSelected, "#ce-lines")
    def _line_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit_line()

    def _current_line(self) -> int | None:
        table = self.query_one("#ce-lines", DataTable)
        if not self.lines or not (0 <= table.cursor_row < len(self.lines)):
            return None
        return table.cursor_row

    def action_edit_line(self) -> None:
        """Take the highlighted line back into the code row to change it."""
        index = self._current_line()
        if self.saved or index is None:
            return
        line = self.lines.pop(index)
        numbers = self.pointer_numbers(line)
        for selector, value in (
            ("#ce-code", line.code),
            ("#ce-modifiers", " ".join(line.modifiers)),
            ("#ce-units", line.units),
            ("#ce-pointers", " ".join(str(n) for n in numbers)),
        ):
            self.query_one(selector, Input).value = value
        self._render_lines()
        self.query_one("#ce-code", Input).focus()

    # --- keys on the lists ------------------------------------------------------------
    def _focused_table(self) -> str | None:
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id in ("ce-dx", "ce-lines"):
            return focused.id
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("remove", "move_up"):
            return not self.saved and self._focused_table() is not None
        if action == "toggle_pointer":
            return not self.saved and self._focused_table() == "ce-lines" and bool(self.lines)
        if action == "focus_matches":
            return self.focused is not None and self.focused.id in ("ce-dx-search", "ce-code")
        if action == "save":
            return self.app.may("charges:write") and not self.saved
        if action == "post":
            return self.app.may("charges:post") and (
                self.view is None or self.view.encounter.status != "posted"
            )
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def action_focus_matches(self) -> None:
        focused = self.focused
        target = {"ce-dx-search": "#ce-dx-hits", "ce-code": "#ce-code-hits"}.get(
            focused.id if focused is not None else ""
        )
        if target is not None:
            options = self.query_one(target, OptionList)
            if options.display and options.option_count:
                options.focus()

    def action_remove(self) -> None:
        which = self._focused_table()
        if self.saved or which is None:
            return
        table = self.query_one(f"#{which}", DataTable)
        row = table.cursor_row
        if which == "ce-dx" and 0 <= row < len(self.diagnoses):
            code, _ = self.diagnoses.pop(row)
            for line in self.lines:
                if code in line.pointers:
                    line.pointers.remove(code)
            self._render_dx(cursor=row)
            if not self.diagnoses:
                self.query_one("#ce-dx-search", Input).focus()
        elif which == "ce-lines" and 0 <= row < len(self.lines):
            self.lines.pop(row)
            if not self.lines:
                self.query_one("#ce-code", Input).focus()
        self._render_lines()

    def action_move_up(self) -> None:
        which = self._focused_table()
        if self.saved or which is None:
            return
        items = self.diagnoses if which == "ce-dx" else self.lines
        row = self.query_one(f"#{which}", DataTable).cursor_row
        if not 0 < row < len(items):
            return
        items[row - 1], items[row] = items[row], items[row - 1]
        if which == "ce-dx":
            self._render_dx(cursor=row - 1)
            self._render_lines()
        else:
            self._render_lines(cursor=row - 1)

    def action_toggle_pointer(self, n: int) -> None:
        """Point the highlighted line at diagnosis `n`, or stop pointing at it."""
        index = self._current_line()
        if self.saved or index is None:
            return
        if n > len(self.diagnoses):
            self.notify(f"There is no diagnosis {n}.", severity="warning")
            return
        line = self.lines[index]
        code = self.diagnoses[n - 1][0]
        if code in line.pointers:
            line.pointers.remove(code)
        elif len(line.pointers) >= MAX_POINTERS:
            self.notify(f"A line points at most at {MAX_POINTERS} diagnoses.", severity="warning")
            return
        else:
            line.pointers.append(code)
        self._render_lines()

    # --- saving and posting ---------------------------------------------------------
    def action_save(self) -> None:
        self._submit(post=False)

    def action_post(self) -> None:
        if self.view is not None:
            if self._working or self.view.encounter.status == "posted":
                return
            self._working = True
            self._say("#ce-status", "Posting…")
            self._post(self.view.encounter.id, self.app.grant())
            return
        self._submit(post=True)

    def _submit(self, *, post: bool) -> None:
        if self._working or self.saved or self.choices is None:
            return
        if self._value("#ce-code").strip() and not self.action_add_line():
            return  # the code row has a line that cannot be added yet: it says why
        self._clear_errors()
        self._working = True
        self._say("#ce-status", "Posting…" if post else "Saving…")
        dos = self._value("#ce-dos").strip()
        fields = dict(
            patient_id=self.patient_id,
            provider_id=self._select("#ce-provider"),
            location_id=self._select("#ce-location"),
            date_of_service=dos or None,
            appointment_id=self.appointment_id,
            diagnoses=[code for code, _ in self.diagnoses],
        )
        lines = [
            dict(
                code=line.code,
                modifiers=list(line.modifiers),
                units=line.units,
                pointers=self.pointer_numbers(line),
            )
            for line in self.lines
        ]
        self._save(fields, lines, post, self.app.grant())

    @work(thread=True, exclusive=True, group="charges-save")
    def _save(self, fields: dict[str, Any], lines: list[dict[str, Any]], post: bool, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                encounter = create_encounter(ctx, **fields)
                refused: list[tuple[int, FieldError]] = []
                for n, line in enumerate(lines, start=1):
                    try:
                        add_charge(ctx, encounter_id=encounter.id, **line)
                    except ValidationError as exc:
                        refused += [(n, error) for error in exc.errors]
                if refused:
                    raise _LinesRefused(refused)  # rolls the encounter back too
                posted = len(post_encounter(ctx, encounter_id=encounter.id)) if post else None
                view = get_encounter(ctx, encounter_id=encounter.id)
        except _LinesRefused as exc:
            self.post_message(self.Invalid([], exc.errors))
        except ValidationError as exc:
            self.post_message(self.Invalid(exc.errors, []))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc), posting=post))
        else:
            self.post_message(self.Saved(view, posted))

    @work(thread=True, exclusive=True, group="charges-save")
    def _post(self, encounter_id: int, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                posted = post_encounter(ctx, encounter_id=encounter_id)
                view = get_encounter(ctx, encounter_id=encounter_id)
        except ValidationError as exc:
            self.post_message(self.Invalid(exc.errors, []))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc), posting=True))
        else:
            self.post_message(self.Saved(view, len(posted)))

    def on_charge_entry_screen_failed(self, message: Failed) -> None:
        self._working = False
        verb = "Not posted" if message.posting else "Not saved"
        self._say("#ce-status", f"{verb}: {message.message}")

    def on_charge_entry_screen_invalid(self, message: Invalid) -> None:
        self._working = False
        self._show_errors(message.errors, message.line_errors)

    def on_charge_entry_screen_saved(self, message: Saved) -> None:
        self._working = False
        self.view = view = message.view
        self._clear_errors()
        self.lines = [
            DraftLine(
                next(self._keys),
                c.code,
                c.modifiers,
                _units(c.units),
                [view.diagnoses[p - 1][0] for p in c.pointers if 0 < p <= len(view.diagnoses)],
                self.lines[i].description if i < len(self.lines) else "",
                Money(c.unit_price_cents),
                True,
                Money(c.amount_cents),
                c.status,
            )
            for i, c in enumerate(view.charges)
        ]
        self.diagnoses = [(code, description or "") for code, description in view.diagnoses]
        for selector in ("#ce-dos", "#ce-provider", "#ce-location", "#ce-dx-search"):
            self.query_one(selector).disabled = True
        for selector in ("#ce-code", "#ce-modifiers", "#ce-units", "#ce-pointers"):
            self.query_one(selector).disabled = True
        self.query_one("#ce-dx-hits", OptionList).display = False
        self.query_one("#ce-code-hits", OptionList).display = False
        self._say("#ce-price", "")
        self._say("#ce-dx-status", "")
        self._render_dx()
        self._render_lines()
        self._heading()
        total = view.total.format()
        count = len(view.charges)
        if message.posted is not None:
            text = f"Posted {message.posted} charge{'s' if message.posted != 1 else ''} ({total})."
            status = text + " Escape goes back; `b` on the claims worklist (f6) bills them."
        else:
            text = f"Saved encounter {view.encounter.id}: {count} draft charge(s), {total}."
            status = text + " ctrl+t posts them."
        self._say("#ce-status", Text(status, style="bold green"))
        self.refresh_bindings()
        self.query_one("#ce-lines", DataTable).focus()
        self.app.notify(text)

    def _clear_errors(self) -> None:
        for static in self.query(".field-error").results(Static):
            static.update("")
            static.display = False
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")
        self._say("#ce-status", "")

    def _show_errors(
        self, errors: list[FieldError], line_errors: list[tuple[int, FieldError]]
    ) -> None:
        """Each problem under its field: the visit's under its fields, a line's
        under the code row's field it names ("Line 2: ..."); the rest on the
        status line. The first line with a problem is highlighted."""
        self._clear_errors()
        placed: dict[str, list[str]] = {}
        general: list[str] = []
        for error in errors:
            m = _CHARGE_FIELD.match(error.field)  # from posting: "charge 2 pointer 1"
            if m:
                line_errors = [*line_errors, (int(m[1]), replace(error, field=m[2]))]
                continue
            target = ENCOUNTER_FIELDS.get(error.field, (None,))[0]
            if target is None and error.field.startswith("diagnosis "):
                target = "e-dx"
            text = describe(error.field, error.message, ENCOUNTER_FIELDS)
            if target is None:
                general.append(text)
            else:
                placed.setdefault(target, []).append(text)
        first_line = None
        for n, error in line_errors:
            target = error_target(error.field)
            text = f"Line {n}: " + describe(error.field, error.message, LINE_FIELDS)
            if target is None:
                general.append(text)
            else:
                placed.setdefault(target, []).append(text)
            first_line = n if first_line is None else min(first_line, n)
        for target, texts in placed.items():
            self._say(f"#{target}", "\n".join(texts))
        count = len(errors) + len(line_errors)
        verb = "Not posted" if self.saved else "Not saved"
        status = f"{verb}: {count} problem{'s' if count != 1 else ''} to fix."
        if general:
            status += " " + "; ".join(general)
        self._say("#ce-status", status)
        widgets = {
            "e-dos": "#ce-dos",
            "e-provider": "#ce-provider",
            "e-location": "#ce-location",
            "e-dx": "#ce-dx-search",
        }
        first: Widget | None = None
        for target, selector in widgets.items():
            if target in placed:
                widget = self.query_one(selector)
                widget.add_class("-invalid")
                first = first or widget
        if first_line is not None and first_line <= len(self.lines):
            table = self.query_one("#ce-lines", DataTable)
            table.move_cursor(row=first_line - 1, animate=False)
            first = first or table
        if first is not None:
            first.focus()
            first.scroll_visible()

    # --- leaving --------------------------------------------------------------------
    def action_cancel(self) -> None:
        """Leave; with unsaved input only after "Discard" is confirmed."""
        from pms_tui.screens.confirm import ConfirmDiscardScreen

        result = self.view.encounter.id if self.view is not None else None
        if not self.has_unsaved_input():
            self.dismiss(result)
            return

        def decided(discard: bool | None) -> None:
            if discard:
                self.when_current(lambda: self.dismiss(None))

        self.app.push_screen(ConfirmDiscardScreen(), decided)

    def when_current(self, callback: Callable[[], Any]) -> None:
        """Now if this screen is on top, else when it is again."""
        if self.is_active:
            callback()
        else:
            self._on_resume.append(callback)

    def on_screen_resume(self) -> None:
        pending, self._on_resume = self._on_resume, []
        for callback in pending:
            self.when_current(callback)

    def palette_commands(self) -> list[PaletteCommand]:
        commands = binding_commands(self, "Charges")
        # One entry per pointer key would crowd the palette: the digits stay keys.
        commands = [c for c in commands if "toggle_pointer" not in _name(c.callback)]
        if self.check_action("toggle_pointer", ()):
            for n in range(1, min(len(self.diagnoses), 10) + 1):
                commands.append(
                    PaletteCommand(
                        f"Charges: toggle pointer {n}",
                        f"Point the highlighted line at diagnosis {n}, or stop ({n % 10})",
                        _pointer_command(self, n),
                    )
                )
        if not self.saved:
            commands += [
                PaletteCommand(
                    "Charges: add line",
                    "Add the code row as a charge line (enter in the code row)",
                    self.action_add_line,
                ),
                PaletteCommand(
                    "Charges: edit line",
                    "Take the highlighted line back into the code row (enter on the line)",
                    self.action_edit_line,
                ),
            ]
        return commands


def _name(callback: Callable[..., Any]) -> str:
    return getattr(callback, "__name__", "")


def _pointer_command(screen: ChargeEntryScreen, n: int) -> Callable[[], None]:
    def action_toggle_pointer() -> None:
        screen.action_toggle_pointer(n)

    return action_toggle_pointer


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _units(value: Decimal) -> str:
    """3.000 -> "3", 1.500 -> "1.5"."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
