"""Display formatting for values the services return (no business rules here)."""

from __future__ import annotations

from datetime import date

from pms_core.money import Money


def fmt_date(value: date | None) -> str:
    """US office style, MM/DD/YYYY; empty for None."""
    return value.strftime("%m/%d/%Y") if value else ""


def fmt_phone(value: str | None) -> str:
    """(555) 123-4567 for a 10-digit phone; anything else as stored."""
    if not value:
        return ""
    if len(value) == 10 and value.isdigit():
        return f"({value[:3]}) {value[3:6]}-{value[6:]}"
    return value


def fmt_zip(value: str | None) -> str:
    if value and len(value) == 9 and value.isdigit():
        return f"{value[:5]}-{value[5:]}"
    return value or ""


def fmt_money(value: Money | None) -> str:
    return value.format() if value is not None else ""


def full_name(last: str, first: str, middle: str | None = None, suffix: str | None = None) -> str:
    """ "Last, First M. Suffix"."""
    name = f"{last}, {first}"
    if middle:
        name += f" {middle}"
    if suffix:
        name += f" {suffix}"
    return name
