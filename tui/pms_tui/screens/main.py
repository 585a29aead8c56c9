"""The main screen: patient search as you type, results in a table."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Label, Static
from textual.worker import get_current_worker

from pms_core.services.patients import SEARCH_LIMIT, PatientHit, find_patients
from pms_tui.commands import PaletteCommand
from pms_tui.format import fmt_date, fmt_phone, full_name

SEARCH_DEBOUNCE = 0.15
MATCHED = {
    "name": "name",
    "dob": "DOB",
    "phone": "phone",
    "account": "account",
    "member_id": "member id",
}


class MainScreen(Screen):
    """Type to search; Enter (or a row) opens the patient."""

    AUTO_FOCUS = "#search"
    BINDINGS = [
        Binding(
            "enter",
            "open_selected",
            "Open",
            id="main.open",
            tooltip="Open the highlighted patient",
            priority=True,
        ),
        Binding(
            "down",
            "focus_results",
            "Results",
            id="main.results",
            tooltip="Move from the search box to the results",
            show=False,
        ),
        Binding(
            "escape",
            "clear_search",
            "Clear",
            id="main.clear",
            tooltip="Clear the search and return to the search box",
        ),
    ]

    class SearchCompleted(Message):
        """A search finished; `text` is what was searched for."""

        def __init__(self, text: str, hits: list[PatientHit]) -> None:
            super().__init__()
            self.text = text
            self.hits = hits

    class SearchFailed(Message):
        def __init__(self, text: str, message: str) -> None:
            super().__init__()
            self.text = text
            self.message = message

    def __init__(self) -> None:
        super().__init__()
        self._debounce: Timer | None = None
        self._shown_text = ""  # the search text whose results the table shows
        self._open_when_ready = False  # Enter was pressed before the results came
        self.hits: list[PatientHit] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-bar"):
            yield Label("Find patient", id="search-label")
            yield Input(
                id="search",
                placeholder="last, first · name · DOB · phone · member id · account",
                max_length=80,
            )
        yield Static("Type a name, date of birth, phone, member id or account.", id="search-status")
        table = DataTable(id="results", cursor_type="row", zebra_stripes=True)
        table.add_column("Account", key="account")
        table.add_column("Name", key="name")
        table.add_column("DOB", key="dob")
        table.add_column("Sex", key="sex")
        table.add_column("Phone", key="phone")
        table.add_column("Matched on", key="matched")
        yield table
        yield Footer()

    # --- search -------------------------------------------------------------------
    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self._open_when_ready = False
        text = event.value
        if not text.strip():
            self.workers.cancel_group(self, "search")
            self._show([], "Type a name, date of birth, phone, member id or account.", text)
            return
        self._debounce = self.set_timer(
            SEARCH_DEBOUNCE, lambda: self.run_search(text, self.app.grant())
        )

    @work(thread=True, exclusive=True, group="search")
    def run_search(self, text: str, grant) -> None:
        """Search in a thread as `grant`; the result comes back as a
        SearchCompleted message."""
        from pms_tui.app import describe_error

        worker = get_current_worker()
        try:
            with self.app.uow(grant) as ctx:
                hits = find_patients(ctx, text=text)
        except Exception as exc:
            if not worker.is_cancelled:
                self.post_message(self.SearchFailed(text, describe_error(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.SearchCompleted(text, hits))

    def on_main_screen_search_completed(self, message: SearchCompleted) -> None:
        if message.text != self.query_one("#search", Input).value:
            return  # the user typed on; a newer search is coming
        hits = message.hits
        if not hits:
            status = "No patients match."
        elif len(hits) >= SEARCH_LIMIT:
            status = f"First {len(hits)} patients; type more to narrow the search."
        else:
            status = f"{len(hits)} patient{'s' if len(hits) != 1 else ''}."
        self._show(hits, status, message.text)
        if self._open_when_ready:
            self._open_when_ready = False
            # Only onto this screen: never over the lock screen, a form or the
            # palette that came up while the search ran.
            if hits and self.is_active:
                self.action_open_selected()

    def on_main_screen_search_failed(self, message: SearchFailed) -> None:
        if message.text == self.query_one("#search", Input).value:
            self._open_when_ready = False
            self._show([], message.message, message.text)

    def _show(self, hits: list[PatientHit], status: str, text: str) -> None:
        self.hits = hits
        self._shown_text = text
        table = self.query_one("#results", DataTable)
        table.clear()
        for hit in hits:
            table.add_row(
                hit.account_number,
                full_name(hit.last_name, hit.first_name),
                fmt_date(hit.dob),
                hit.sex,
                fmt_phone(hit.phone),
                ", ".join(MATCHED.get(m, m) for m in hit.matched),
                key=str(hit.id),
            )
        self.query_one("#search-status", Static).update(status)

    def on_screen_suspend(self) -> None:
        # Something covered this screen (lock, form, palette): an Enter typed
        # before it no longer means "open the result".
        self._open_when_ready = False

    # --- navigation ---------------------------------------------------------------
    def focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def selected_patient_id(self) -> int | None:
        table = self.query_one("#results", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def action_open_selected(self) -> None:
        """Open the highlighted row; right after typing, wait for the results of
        what was typed rather than open a row from an older search."""
        value = self.query_one("#search", Input).value
        if value.strip() and value != self._shown_text:
            self._open_when_ready = True
            return
        patient_id = self.selected_patient_id()
        if patient_id is None:
            self.notify("No patient selected: search first.", severity="warning")
            return
        self.open_patient(patient_id)

    def open_patient(self, patient_id: int) -> None:
        from pms_tui.screens.patient import PatientScreen

        self.app.push_screen(PatientScreen(patient_id))

    @on(DataTable.RowSelected, "#results")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_patient(int(event.row_key.value))

    def action_focus_results(self) -> None:
        table = self.query_one("#results", DataTable)
        if table.row_count:
            table.focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.focus()

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(
                "Patient: clear search",
                "Clear the search and return to the search box (escape)",
                self.action_clear_search,
            ),
            PaletteCommand(
                "Patient: go to results",
                "Move from the search box to the results (down)",
                self.action_focus_results,
            ),
        ]
