"""The possible-duplicate warning shown before registering a patient twice."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Static

from pms_tui.commands import PaletteCommand


class DuplicateScreen(ModalScreen[bool]):
    """Lists the existing patients with the same name and DOB; dismisses with True
    for "Register anyway" (key a) and False for "Cancel" (the focused default,
    and escape)."""

    AUTO_FOCUS = "#dup-cancel"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="duplicate.cancel", tooltip="Do not save"),
        # Deliberately not ctrl+s: a second ctrl+s must not save a duplicate.
        Binding(
            "a",
            "anyway",
            "Anyway",
            id="duplicate.anyway",
            tooltip="Save although it may be a duplicate",
        ),
    ]

    def __init__(self, matches, verb: str = "Register anyway") -> None:
        super().__init__()
        self.matches = list(matches)
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(id="dup-box", classes="dialog"):
            yield Static("Possible duplicate patient", classes="dialog-title")
            yield Static(
                "A patient with the same name and date of birth is already registered:",
            )
            table = DataTable(id="dup-matches", cursor_type="row", show_cursor=False)
            table.add_column("Id", key="id")
            table.add_column("Account", key="account")
            table.add_column("Name", key="name")
            table.add_column("DOB", key="dob")
            for m in self.matches:
                table.add_row(
                    str(m.patient_id), m.account_number, m.name, m.dob, key=str(m.patient_id)
                )
            yield table
            with Horizontal(classes="buttons"):
                yield Button(self.verb, id="dup-anyway", variant="warning")
                yield Button("Cancel", id="dup-cancel", variant="primary")
        yield Footer()

    @on(Button.Pressed, "#dup-anyway")
    def action_anyway(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#dup-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(
                f"Duplicate: {self.verb.lower()}",
                "Save although it may be a duplicate (a)",
                self.action_anyway,
            ),
            PaletteCommand("Duplicate: cancel", "Do not save (escape)", self.action_cancel),
        ]
