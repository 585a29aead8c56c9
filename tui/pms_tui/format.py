"""Display formatting for values the services return (no business rules here)."""

from __future__ import annotations

from datetime import date, datetime, time

from rich.style import Style
from textual.color import Color, ColorParseError

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


def fmt_time(value: datetime | time | None) -> str:
    """24-hour HH:MM (how times are typed into the forms too); empty for None."""
    return value.strftime("%H:%M") if value else ""


def fmt_day(value: date) -> str:
    """ "Mon 03/02/2026": the weekday matters on a schedule."""
    return value.strftime("%a %m/%d/%Y")


def fmt_when(value: datetime | None) -> str:
    """ "Mon 03/02 10:30" for a local date and time; empty for None."""
    return value.strftime("%a %m/%d %H:%M") if value else ""


WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def fmt_weekdays(digits: str) -> str:
    """Weekday digits (Monday = 0) as "Mon Wed Fri"; "any day" when empty."""
    if not digits:
        return "any day"
    return " ".join(WEEKDAY_ABBREVIATIONS[int(d)] for d in digits)


def fmt_window(start: time | None, end: time | None) -> str:
    """A time-of-day window: "09:00-12:00", "after 09:00", "before 12:00", "any time"."""
    if start and end:
        return f"{fmt_time(start)}-{fmt_time(end)}"
    if start:
        return f"after {fmt_time(start)}"
    if end:
        return f"before {fmt_time(end)}"
    return "any time"


STATUS_LABELS = {
    "booked": "booked",
    "confirmed": "confirmed",
    "arrived": "checked in",
    "in_room": "in room",
    "completed": "checked out",
    "cancelled": "cancelled",
    "no_show": "no-show",
}
# A mark in front of the patient's name on the schedule, so a status can be read
# without color (and survives a monochrome terminal).
STATUS_MARKS = {
    "booked": " ",
    "confirmed": "✓",
    "arrived": "●",
    "in_room": "▶",
    "completed": "■",
    "cancelled": "–",
    "no_show": "✗",
}
OVERBOOKED_MARK = "⊕"
# A mark after the status when the visit's eligibility check found something
# to look at before the patient comes (see pms_core.services.eligibility).
ELIGIBILITY_MARKS = {"inactive": "!", "rejected": "!", "failed": "?", "changed": "Δ"}


def appointment_style(color: str, status: str) -> Style:
    """How an appointment cell looks: a dark tint of its type's color as the
    background, bold once the patient is here (arrived, in a room), dimmed when
    the visit is over, struck through when the patient did not come or it was
    cancelled. `color` is a CSS color name (the type's color); an unknown name
    draws as gray."""
    try:
        base = Color.parse(color)
    except ColorParseError:
        base = Color.parse("gray")
    hue, saturation, _ = base.hsl
    background = Color.from_hsl(hue, min(saturation, 0.65), 0.26)
    foreground = Color.parse("white")
    bold = status in ("arrived", "in_room")
    dim = status in ("completed", "no_show", "cancelled")
    if dim:
        background = Color.from_hsl(hue, min(saturation, 0.35), 0.17)
        foreground = Color.parse("#a0a0a0")
    return Style(
        color=foreground.rich_color,
        bgcolor=background.rich_color,
        bold=bold,
        strike=status in ("no_show", "cancelled"),
    )


def type_bar_style(color: str) -> Style:
    """The type's own color, for the bar at the left edge of an appointment."""
    try:
        return Style(color=Color.parse(color).rich_color)
    except ColorParseError:
        return Style(color="grey50")


_PREDICATES = ("is ", "are ", "must ", "may ", "cannot ", "has ", "needs ", "should ", "spans ")


def sentence(label: str, message: str) -> str:
    """A service's field message as a sentence under the field: "Time is in the
    past"; a message that is a sentence of its own ("the provider already has
    ...") is shown as one."""
    if message.startswith(_PREDICATES):
        return f"{label} {message}"
    return message[:1].upper() + message[1:]
