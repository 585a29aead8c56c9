"""Card payment processors as plain data: what a processor plugin gives the
core (`register_payment_processors`).

A processor takes a card payment through whatever device or gateway it
drives and answers with its own reference for the transaction. pms never sees
or stores a card number: the reference is all it keeps, and a reference or
note that looks like a card number is refused before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from pms_core.money import Money

_DIGIT_RUN = re.compile(r"(?:\d[ -]?){13,19}")


@dataclass(frozen=True)
class ProcessorResult:
    approved: bool
    reference: str  # the processor's transaction reference (never a card number)
    message: str = ""  # why it was declined, in words


class PaymentProcessor(Protocol):
    """`name` identifies it (`pms payment post --processor NAME`); `take`
    charges `amount` and returns the result; `reference` is what the desk
    typed, such as the terminal's approval code, when the processor needs it."""

    name: str

    def take(self, amount: Money, *, reference: str | None) -> ProcessorResult: ...


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def looks_like_card_number(text: str | None) -> bool:
    """True when `text` holds 13-19 digits (spaces or dashes between them
    allowed) that pass the Luhn check, as every card number does."""
    for match in _DIGIT_RUN.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return True
    return False
