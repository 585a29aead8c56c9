"""Money as integer cents.

Every amount in pms is a `Money`: an immutable count of cents. It is parsed exactly
from text ("1,234.50", "-12", "$0.07") and never from a float, because a float
cannot hold most cent values exactly. Rates use `Decimal` and round once, half-up,
at the end (`Money.percent`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

# ASCII digits and spaces only (re.ASCII): "١٢٣" is not an amount we accept.
_AMOUNT = re.compile(
    r"""^\s*
    (?P<paren>\()?\s*
    (?P<sign>[-+])?\s*
    \$?\s*
    (?P<whole>\d{1,3}(?:,\d{3})+|\d+)?
    (?:\.(?P<frac>\d{0,2}))?
    \s*(?P<close>\))?\s*\Z""",
    re.VERBOSE | re.ASCII,
)


class MoneyError(ValueError):
    """Text that is not an exact amount of money."""


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """An exact amount in integer cents. Arithmetic only with Money and int."""

    cents: int

    def __post_init__(self) -> None:
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise TypeError("Money holds integer cents; use Money.parse() for text")

    # -- construction -------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse "123.45", "-1.5", "$1,234.00", "(12.00)", ".5" exactly.

        Accepts an optional sign or accounting parentheses (not both), an optional
        "$", ASCII digits grouped by commas in threes (or not grouped at all) and up
        to two decimal places. More than two decimal places is an error, never a
        rounding: an amount that does not fit in cents is not money we can post.
        Anything else (a float, "", "abc", "1,23.00") raises TypeError/MoneyError.
        """
        if not isinstance(text, str):
            raise TypeError("Money.parse takes text; floats are never accepted")
        m = _AMOUNT.match(text)
        if not m or (m.group("whole") is None and not m.group("frac")):
            raise MoneyError("not an amount of money (expected e.g. 123.45)")
        if bool(m.group("paren")) != bool(m.group("close")):
            raise MoneyError("unbalanced parentheses in amount")
        whole = int((m.group("whole") or "0").replace(",", ""))
        frac = (m.group("frac") or "").ljust(2, "0")
        cents = whole * 100 + int(frac)
        negative = m.group("sign") == "-" or bool(m.group("paren"))
        if m.group("paren") and m.group("sign") == "-":
            raise MoneyError("amount has both a minus sign and parentheses")
        return cls(-cents if negative else cents)

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def sum(cls, amounts: Iterable[Money]) -> Money:
        return cls(sum(a.cents for a in amounts))

    # -- arithmetic -----------------------------------------------------------
    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.cents - other.cents)

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def __abs__(self) -> Money:
        return Money(abs(self.cents))

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.cents * factor)

    __rmul__ = __mul__

    def __bool__(self) -> bool:
        return self.cents != 0

    def percent(self, rate: Decimal) -> Money:
        """This amount times `rate` (0.2 for 20%), rounded once, half-up, to the cent.

        Half-up means half a cent rounds away from zero (-0.5 cent -> -1 cent). The
        product is computed exactly, whatever the number of digits in `rate`, so the
        one rounding is the only one.
        """
        if not isinstance(rate, Decimal):
            raise TypeError("rates are Decimal")
        if not rate.is_finite():
            raise ValueError("rate must be a finite number")
        digits = len(str(abs(self.cents))) + len(rate.as_tuple().digits)
        with localcontext() as dc:
            dc.prec = max(28, digits + abs(rate.as_tuple().exponent) + 2)
            value = (Decimal(self.cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return Money(int(value))

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split into parts proportional to integer `weights`, losing no cent.

        Largest-remainder method: each part gets its floor share, and the cents left
        over go to the parts with the largest remainders (earlier parts win ties).
        """
        if any(isinstance(w, bool) or not isinstance(w, int) for w in weights):
            raise TypeError("allocate weights are integers")
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError("allocate needs non-negative weights with a positive sum")
        total = sum(weights)
        sign = -1 if self.cents < 0 else 1
        cents = abs(self.cents)
        shares = [cents * w // total for w in weights]
        remainders = [cents * w % total for w in weights]
        left = cents - sum(shares)
        order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
        for i in order[:left]:
            shares[i] += 1
        return [Money(sign * s) for s in shares]

    # -- text -------------------------------------------------------------------
    def __str__(self) -> str:
        """Plain decimal text, the inverse of parse: "-1234.50"."""
        sign = "-" if self.cents < 0 else ""
        whole, frac = divmod(abs(self.cents), 100)
        return f"{sign}{whole}.{frac:02d}"

    def format(self) -> str:
        """Display text with a currency sign and grouping: "-$1,234.50"."""
        sign = "-" if self.cents < 0 else ""
        whole, frac = divmod(abs(self.cents), 100)
        return f"{sign}${whole:,}.{frac:02d}"

    def __repr__(self) -> str:
        return f"Money('{self}')"
