"""Patient statements as plain data: what a statement showed, and the
renderers that print it (`register_statement_renderers`: PDF for the office's
printer, CSV for print-and-mail vendors, from `pms_statements`).

A statement's view is stored with it as JSON when the run makes it, so it can
be printed again exactly as it was sent, whatever has been posted since.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

AGING_BUCKETS = ("0-30", "31-60", "61-90", "91-120", "120+")


@dataclass(frozen=True)
class StatementLine:
    service_date: str | None  # ISO date; None for a balance from a previous system
    description: str
    charge_cents: int
    insurance_paid_cents: int
    adjusted_cents: int
    patient_paid_cents: int
    balance_cents: int


@dataclass(frozen=True)
class StatementView:
    statement_id: int
    statement_date: str  # ISO date
    due_date: str
    practice_name: str
    practice_address: list[str]
    practice_phone: str | None
    account_number: str
    patient_name: str
    mail_to: list[str]  # name and address lines
    lines: list[StatementLine]
    aging: dict[str, int]  # bucket -> cents, by date of service
    balance_cents: int
    message: str = ""
    credit_cents: int = 0  # unapplied credit shown against the balance
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> StatementView:
        lines = [StatementLine(**line) for line in data.pop("lines")]
        return cls(lines=lines, **data)


class StatementRenderer(Protocol):
    """`name` is the format (pdf, csv); `render` turns statements into one file."""

    name: str
    extension: str

    def render(self, statements: list[StatementView]) -> bytes: ...
