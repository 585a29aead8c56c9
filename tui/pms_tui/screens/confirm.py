"""Asking before a filled-in form is thrown away."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from pms_tui.commands import PaletteCommand


class ConfirmDiscardScreen(ModalScreen[bool]):
    """Dismisses with True for "Discard" (key d) and False for "Keep editing"
    (the focused default, and escape): the safe answer is the easy one."""

    AUTO_FOCUS = "#discard-keep"
    BINDINGS = [
        Binding(
            "escape",
            "keep",
            "Keep editing",
            id="discard.keep",
            tooltip="Go back to the form; nothing is lost",
        ),
        Binding(
            "d",
            "discard",
            "Discard",
            id="discard.discard",
            tooltip="Leave the form and throw away what was typed",
        ),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="discard-box", classes="dialog"):
            yield Static("Discard changes?", classes="dialog-title")
            yield Static("The form has changes that are not saved.")
            with Horizontal(classes="buttons"):
                yield Button("Discard", id="discard-discard", variant="warning")
                yield Button("Keep editing", id="discard-keep", variant="primary")
        yield Footer()

    @on(Button.Pressed, "#discard-discard")
    def action_discard(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#discard-keep")
    def action_keep(self) -> None:
        self.dismiss(False)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(
                "Form: discard changes",
                "Leave the form and throw away what was typed (d)",
                self.action_discard,
            ),
            PaletteCommand("Form: keep editing", "Go back to the form (escape)", self.action_keep),
        ]
