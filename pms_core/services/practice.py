"""The practice and what it bills with: locations, providers, payers.

`create_practice` and the `insert_*` functions are the set-up that `pms init`,
the demo and tests run before any user exists; everything a user does goes
through the permission-checked, audited `add_*` and `list_*` services.
Also database-wide settings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from pms_core import audit
from pms_core import validation as v
from pms_core.errors import FieldError, ValidationError
from pms_core.models import Location, Payer, Practice, Provider, Setting
from pms_core.permissions import require

if TYPE_CHECKING:
    from pms_core.context import Context


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


# X12 SBR09 claim filing indicator codes.
CLAIM_FILING_INDICATORS = (
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17",
    "AM",
    "BL",
    "CH",
    "CI",
    "DS",
    "FI",
    "HM",
    "LM",
    "MA",
    "MB",
    "MC",
    "OF",
    "TV",
    "VA",
    "WC",
    "ZZ",
)


def _insert(session: Session, model, practice_id: int, fields: dict, errors: list) -> Any:
    errors = [*errors, *v.too_long(fields, model)]
    if errors:
        raise ValidationError(errors)
    row = model(practice_id=practice_id, **fields)
    session.add(row)
    session.flush()
    return row


def _pos_error(value: str | None) -> FieldError | None:
    if value is not None and not re.fullmatch(r"\d{2}", value):
        return FieldError("default_pos", "pos", "must be a 2-digit place-of-service code")
    return None


def insert_location(session: Session, practice_id: int, **fields) -> Location:
    """Insert a location without a permission check (set-up before any user
    exists: `pms init`, the demo, tests). Users go through `add_location`."""
    return _insert(
        session,
        Location,
        practice_id,
        fields,
        v.collect(
            v.required(fields, "name", "address1", "city", "state", "zip"),
            v.npi_error("npi", fields.get("npi"), required=False),
            v.state_error("state", fields.get("state")),
            v.zip_error("zip", fields.get("zip")),
            _pos_error(fields.get("default_pos")),
        ),
    )


def provider_errors(fields: dict) -> list[FieldError]:
    """A provider's fields checked without the database (lengths aside)."""
    return v.collect(
        v.required(fields, "first_name", "last_name"),
        v.npi_error("npi", fields.get("npi")),
        v.taxonomy_error("taxonomy", fields.get("taxonomy")),
    )


def payer_errors(fields: dict) -> list[FieldError]:
    """A payer's fields checked without the database (lengths aside)."""
    return v.collect(
        v.required(fields, "name", "edi_payer_id"),
        v.choice_error(
            "claim_filing_indicator", fields.get("claim_filing_indicator"), CLAIM_FILING_INDICATORS
        ),
        v.state_error("state", fields.get("state")),
        v.zip_error("zip", fields.get("zip")),
    )


def insert_provider(session: Session, practice_id: int, **fields) -> Provider:
    """Insert a provider without a permission check; see `insert_location`."""
    return _insert(session, Provider, practice_id, fields, provider_errors(fields))


def insert_payer(session: Session, practice_id: int, **fields) -> Payer:
    """Insert a payer without a permission check; see `insert_location`."""
    return _insert(session, Payer, practice_id, fields, payer_errors(fields))


# --- the same, as services: permission-checked and audited ------------------------
def _add(ctx: Context, insert, kind: str, fields: dict) -> Any:
    require(ctx, "practice:manage", action=f"{kind}.create")
    row = insert(ctx.session, ctx.practice_id, **fields)
    audit.record(ctx, action=f"{kind}.create", detail={f"{kind}_id": row.id})
    return row


def add_location(ctx: Context, **fields) -> Location:
    return _add(ctx, insert_location, "location", fields)


def add_provider(ctx: Context, **fields) -> Provider:
    return _add(ctx, insert_provider, "provider", fields)


def add_payer(ctx: Context, **fields) -> Payer:
    return _add(ctx, insert_payer, "payer", fields)


def _list(ctx: Context, model, order) -> list:
    require(ctx, "patients:read", action=f"{model.__tablename__}.list")
    query = select(model).where(model.practice_id == ctx.practice_id, col(model.active).is_(True))
    return list(ctx.session.exec(query.order_by(*order)))


def list_locations(ctx: Context) -> list[Location]:
    return _list(ctx, Location, [Location.name])


def list_providers(ctx: Context) -> list[Provider]:
    return _list(ctx, Provider, [Provider.last_name, Provider.first_name])


def list_payers(ctx: Context) -> list[Payer]:
    """Payers of the practice, for choosing one at registration."""
    return _list(ctx, Payer, [Payer.name])


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
