"""Setting up a practice: the bootstrap that `pms init` and `pms demo` run before
any user exists, and database-wide settings."""

from __future__ import annotations

from sqlmodel import Session

from pms_core import validation as v
from pms_core.errors import ValidationError
from pms_core.models import Location, Payer, Practice, Provider, Setting


def create_practice(session: Session, **fields) -> Practice:
    """Insert a practice after validating its identifiers and address."""
    errors = v.collect(
        v.required(fields, "name", "address1", "city", "state", "zip"),
        v.npi_error("group_npi", fields.get("group_npi")),
        v.tin_error("tin", fields.get("tin")),
        v.taxonomy_error("taxonomy", fields.get("taxonomy")),
        v.state_error("state", fields.get("state")),
        v.zip_error("zip", fields.get("zip")),
        v.time_zone_error("time_zone", fields.get("time_zone", "America/New_York")),
    )
    if errors:
        raise ValidationError(errors)
    practice = Practice(**fields)
    session.add(practice)
    session.flush()
    return practice


def add_location(session: Session, practice_id: int, **fields) -> Location:
    errors = v.collect(
        v.required(fields, "name", "address1", "city", "state", "zip"),
        v.npi_error("npi", fields.get("npi"), required=False),
        v.state_error("state", fields.get("state")),
        v.zip_error("zip", fields.get("zip")),
    )
    if errors:
        raise ValidationError(errors)
    location = Location(practice_id=practice_id, **fields)
    session.add(location)
    session.flush()
    return location


def add_provider(session: Session, practice_id: int, **fields) -> Provider:
    errors = v.collect(
        v.required(fields, "first_name", "last_name"),
        v.npi_error("npi", fields.get("npi")),
        v.taxonomy_error("taxonomy", fields.get("taxonomy")),
    )
    if errors:
        raise ValidationError(errors)
    provider = Provider(practice_id=practice_id, **fields)
    session.add(provider)
    session.flush()
    return provider


def add_payer(session: Session, practice_id: int, **fields) -> Payer:
    errors = v.collect(v.required(fields, "name", "edi_payer_id"))
    if errors:
        raise ValidationError(errors)
    payer = Payer(practice_id=practice_id, **fields)
    session.add(payer)
    session.flush()
    return payer


def get_setting(session: Session, key: str) -> str | None:
    row = session.get(Setting, key)
    return row.value if row else None


def set_setting(session: Session, key: str, value: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
    session.flush()


def is_demo_database(session: Session) -> bool:
    """Demo databases allow the well-known demo passwords; real ones never do."""
    return get_setting(session, "demo") == "true"
