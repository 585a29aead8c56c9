"""The pms_payments plugin: the built-in card "processor" for offices whose
card terminal stands apart from pms. The terminal takes the card; the desk
types the terminal's approval reference, which is all pms records."""

from __future__ import annotations

from typing import Any

from pms_core.hookspecs import hookimpl
from pms_core.money import Money
from pms_core.payments import ProcessorResult


class TerminalProcessor:
    name = "terminal"

    def take(self, amount: Money, *, reference: str | None) -> ProcessorResult:
        reference = (reference or "").strip()
        if not reference:
            return ProcessorResult(False, "", "type the terminal's approval reference")
        return ProcessorResult(True, reference)


@hookimpl
def register_payment_processors(register: Any) -> None:
    register(TerminalProcessor())
