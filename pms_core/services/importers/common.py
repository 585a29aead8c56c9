"""What the built-in importers share: looking records up by their natural keys
in bulk, and reporting a service's field errors against a row."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from pms_core.context import Context
from pms_core.db import chunked
from pms_core.errors import FieldError
from pms_core.imports import Row
from pms_core.models import Patient, Payer

SEX_WORDS = {"f": "F", "female": "F", "m": "M", "male": "M", "u": "U", "unknown": "U"}


def report(row: Row, errors: Iterable[FieldError], rename: dict[str, str] | None = None) -> None:
    """Report a service's FieldErrors against `row`, under the importer's column
    names (`rename` maps service field names to them); a column whose cell could
    not be read was reported already and is not reported again."""
    rename = rename or {}
    for e in errors:
        column = rename.get(e.field, e.field)
        if column not in row.failed:
            row.error(column, e.code, e.message)


def sex(value: str | None) -> str | None:
    """ "Female", "f", "F" -> "F"; anything unknown is returned as it is (and refused
    by validation with the allowed values)."""
    if value is None:
        return None
    return SEX_WORDS.get(value.strip().lower(), value)


class PayerLookup:
    """A practice's payers by database id, EDI payer id or exact name (case
    ignored), as an office's file names them. A key two payers share is
    ambiguous and resolves to neither."""

    def __init__(self, ctx: Context) -> None:
        self.by_key: dict[str, int | None] = {}
        for payer in ctx.session.exec(select(Payer).where(Payer.practice_id == ctx.practice_id)):
            for key in {str(payer.id), payer.edi_payer_id.upper(), payer.name.upper()}:
                self.by_key[key] = None if key in self.by_key else payer.id

    def resolve(self, row: Row, column: str, text: str | None) -> int | None:
        """The payer's id, or None after reporting the problem on `row`."""
        if text is None:
            return None
        key = text.strip().upper()
        if key not in self.by_key:
            row.error(column, "unknown", "no payer with that id, EDI payer id or name")
            return None
        payer_id = self.by_key[key]
        if payer_id is None:
            row.error(column, "ambiguous", "two or more payers have that EDI payer id or name")
        return payer_id


def patients_by_account(ctx: Context, accounts: Iterable[str]) -> dict[str, int]:
    """Patient ids by account number, for the accounts that exist."""
    found: dict[str, int] = {}
    for chunk in chunked(sorted(set(accounts))):
        found.update(
            ctx.session.exec(
                select(Patient.account_number, Patient.id).where(
                    Patient.practice_id == ctx.practice_id, col(Patient.account_number).in_(chunk)
                )
            ).all()
        )
    return found


def update_rows(ctx: Context, table, changes: list[tuple[int, dict]]) -> None:
    """Apply (id, {column: value}) changes, one executemany per set of columns."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for row_id, values in changes:
        groups.setdefault(tuple(sorted(values)), []).append({"_id": row_id, **values})
    for names, params in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in names})
        )
        ctx.session.connection().execute(statement, params)
