"""Reading single elements of a segment: required values, codes, numbers,
exact amounts and dates, each failing with an X12Error that names the
segment position and the element, never the value."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from pms_core.edi import X12Error
from pms_x12.segments import Segment

CODE = re.compile(r"[A-Z0-9]{1,3}")
STATUS_CODE = re.compile(r"\d{1,4}")
CONTROL = re.compile(r"[A-Za-z0-9]{1,30}")


def fail(seg: Segment, message: str, element: int | None = None) -> X12Error:
    return seg.error(message, element=f"{element:02d}" if element else None)


def required(seg: Segment, index: int, component: int | None = None) -> str:
    value = seg.get(index, component).strip()
    if not value:
        raise fail(seg, f"{seg.ref(index, component)} is missing", index)
    return value


def number(seg: Segment, index: int, *, required: bool = True) -> int | None:
    value = seg.get(index).strip()
    if not value:
        if required:
            raise fail(seg, f"{seg.ref(index)} is missing", index)
        return None
    if not value.isdigit():
        raise fail(seg, f"{seg.ref(index)} is not a number", index)
    return int(value)


def code(seg: Segment, index: int, table: dict[str, str] | None = None, **kw) -> str:
    value = seg.get(index, kw.get("component")).strip()
    if table is not None and value in table and CODE.fullmatch(value):
        return value
    ref = seg.ref(index, kw.get("component"))
    if not value:
        if kw.get("required", True):
            raise fail(seg, f"{ref} is missing", index)
        return ""
    if not CODE.fullmatch(value) or (table is not None and value not in table):
        raise fail(seg, f"{ref} is not a valid code", index)
    return value


def control(seg: Segment, index: int) -> str:
    value = required(seg, index)
    if not CONTROL.fullmatch(value):
        raise fail(seg, f"{seg.ref(index)} is not a valid control number", index)
    return value


def parse_date(seg: Segment, index: int, text: str) -> date:
    if len(text) == 8 and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
    raise fail(seg, f"{seg.ref(index)} is not a valid date (CCYYMMDD)", index)


def decimal(seg: Segment, index: int) -> Decimal | None:
    """A decimal number (a quantity, a percent), exactly; None when empty."""
    text = seg.get(index).strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise fail(seg, f"{seg.ref(index)} is not a number", index) from None
    if not value.is_finite():
        raise fail(seg, f"{seg.ref(index)} is not a number", index)
    return value


def cents(seg: Segment, index: int, component: int | None = None) -> int | None:
    """An amount as exact integer cents (read from the decimal text, never
    through a float); None when the element is empty."""
    text = seg.get(index, component).strip()
    if not text:
        return None
    negative = text[0] == "-"
    whole, _, fraction = (text[1:] if negative else text).partition(".")
    if len(fraction) == 2 and text.isascii() and whole.isdigit() and fraction.isdigit():
        value = int(whole) * 100 + int(fraction)  # the usual "123.45"
        return -value if negative else value
    if not (
        (whole or fraction)
        and (not whole or (whole.isascii() and whole.isdigit()))
        and (not fraction or (fraction.isascii() and fraction.isdigit()))
    ):
        raise fail(seg, f"{seg.ref(index, component)} is not a valid amount", index)
    if len(fraction) > 2:
        if fraction[2:].strip("0"):
            raise fail(
                seg,
                f"{seg.ref(index, component)} has fractions of a cent (more than two decimals)",
                index,
            )
        fraction = fraction[:2]
    value = int(whole or "0") * 100 + int(fraction.ljust(2, "0"))
    return -value if negative else value
