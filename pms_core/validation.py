"""Field checks and normalizers shared by services and importers.

Each `*_error` function returns a FieldError or None, so a service can collect
every problem of a form at once (`collect`) and report them together. Messages
name the field and the rule, never the value: values may be PHI.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pms_core.errors import FieldError

US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "PR",
        "VI",
        "GU",
        "AS",
        "MP",
        "AA",
        "AE",
        "AP",
    ]
)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_TAXONOMY = re.compile(r"^\d{3}[A-Z0-9]{6}X$")
MAX_AGE_YEARS = 130


def collect(*items: FieldError | Iterable[FieldError] | None) -> list[FieldError]:
    """Flatten FieldErrors, lists of them and Nones into one list."""
    out: list[FieldError] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, FieldError):
            out.append(item)
        else:
            out.extend(item)
    return out


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def too_long(fields: dict[str, Any], table) -> list[FieldError]:
    """Text longer than its column allows, judged by the table's own column
    lengths (PostgreSQL would refuse it, SQLite would silently keep it)."""
    errors = []
    for name, value in fields.items():
        column = table.__table__.columns.get(name)
        limit = getattr(getattr(column, "type", None), "length", None)
        if isinstance(value, str) and limit and len(value) > limit:
            errors.append(FieldError(name, "too_long", f"must be at most {limit} characters"))
    return errors


def required(fields: dict[str, Any], *names: str) -> list[FieldError]:
    return [FieldError(n, "required", "is required") for n in names if blank(fields.get(n))]


# --- normalizers ----------------------------------------------------------------
def digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def normalize_phone(value: str | None) -> str | None:
    """10-digit NANP number, dropping a leading country code 1; None when blank."""
    if blank(value):
        return None
    d = digits(value)
    if len(d) == 11 and d.startswith("1"):
        d = d[1:]
    return d


def normalize_zip(value: str | None) -> str | None:
    return digits(value) if not blank(value) else None


def fold(value: str | None) -> str:
    """Lower-case letters and digits only, accents removed: "O'Brien-Núñez" -> "obriennunez".

    The same folding is applied to stored names and to what is typed in search.
    """
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).lower()


def fold_member_id(value: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value or "").upper()


# --- checks ---------------------------------------------------------------------
def npi_valid(npi: str) -> bool:
    """Luhn check over "80840" + the first nine digits, as CMS defines it."""
    if not re.fullmatch(r"\d{10}", npi or ""):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi[:9])):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10 == int(npi[9])


def npi_check_digit(first_nine: str) -> str:
    """The tenth digit that makes `first_nine` a valid NPI (for generators)."""
    for d in "0123456789":
        if npi_valid(first_nine + d):
            return d
    raise ValueError("no check digit")  # unreachable for nine digits


def npi_error(field: str, value: str | None, *, required: bool = True) -> FieldError | None:
    if blank(value):
        return FieldError(field, "required", "is required") if required else None
    if not re.fullmatch(r"\d{10}", value):
        return FieldError(field, "npi_format", "must be 10 digits")
    if not npi_valid(value):
        return FieldError(field, "npi_check_digit", "fails the NPI check digit")
    return None


def tin_error(field: str, value: str | None) -> FieldError | None:
    if blank(value):
        return FieldError(field, "required", "is required")
    if not re.fullmatch(r"\d{9}", digits(value)) or re.search(r"[^\d-]", value):
        return FieldError(field, "tin_format", "must be 9 digits (e.g. 12-3456789)")
    return None


def taxonomy_error(field: str, value: str | None) -> FieldError | None:
    if blank(value):
        return FieldError(field, "required", "is required")
    if not _TAXONOMY.match(value):
        return FieldError(field, "taxonomy_format", "must be a 10-character taxonomy code")
    return None


def state_error(field: str, value: str | None) -> FieldError | None:
    if blank(value):
        return None  # required() reports missing values
    if value.upper() not in US_STATES:
        return FieldError(field, "state", "is not a US state or territory code")
    return None


def zip_error(field: str, value: str | None) -> FieldError | None:
    if blank(value):
        return None
    if re.search(r"[^\d\- ]", value) or len(digits(value)) not in (5, 9):
        return FieldError(field, "zip", "must be a 5- or 9-digit ZIP code")
    return None


def phone_error(field: str, value: str | None) -> FieldError | None:
    if blank(value):
        return None
    if re.search(r"[^\d\s().+\-]", value):
        return FieldError(field, "phone", "may hold only digits, spaces and ( ) - +")
    d = normalize_phone(value)
    if len(d) != 10 or d[0] in "01" or d[3] in "01":
        return FieldError(field, "phone", "must be a 10-digit US phone number")
    return None


def email_error(field: str, value: str | None) -> FieldError | None:
    if blank(value):
        return None
    if not _EMAIL.match(value.strip()):
        return FieldError(field, "email", "is not a valid email address")
    return None


def dob_error(field: str, value: date | None, today: date) -> FieldError | None:
    if value is None:
        return FieldError(field, "required", "is required")
    if not isinstance(value, date):
        return FieldError(field, "date", "must be a date (YYYY-MM-DD)")
    if value > today:
        return FieldError(field, "dob_future", "is in the future")
    if today.year - value.year > MAX_AGE_YEARS:
        return FieldError(field, "dob_range", f"is more than {MAX_AGE_YEARS} years ago")
    return None


def parse_date(field: str, value: str | date | None) -> tuple[date | None, FieldError | None]:
    """Accept a date, "YYYY-MM-DD" or "MM/DD/YYYY"."""
    if value is None or isinstance(value, date):
        return value, None
    text = value.strip()
    if not text:
        return None, None
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        if m:
            return date(int(m[3]), int(m[1]), int(m[2])), None
        return date.fromisoformat(text), None
    except ValueError:
        return None, FieldError(field, "date", "is not a valid date (YYYY-MM-DD or MM/DD/YYYY)")


def time_zone_error(field: str, value: str | None) -> FieldError | None:
    try:
        ZoneInfo(value or "")
    except (ZoneInfoNotFoundError, ValueError):
        return FieldError(field, "time_zone", "is not a known time zone (e.g. America/Chicago)")
    return None


def choice_error(field: str, value: str | None, allowed: Iterable[str]) -> FieldError | None:
    allowed = tuple(allowed)
    if blank(value):
        return None
    if value not in allowed:
        return FieldError(field, "choice", f"must be one of: {', '.join(allowed)}")
    return None
