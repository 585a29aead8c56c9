"""Importing providers (matched by NPI) and payers (matched by EDI payer id).

A practice has tens of these, not thousands: rows are written through the ORM.
As with patients, only the columns the file has are written.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from pms_core import validation as v
from pms_core.context import Context
from pms_core.imports import ImportColumn, Plan, Row
from pms_core.models import Payer, Provider
from pms_core.services.importers.common import report
from pms_core.services.practice import payer_errors, provider_errors


class _KeyedJob:
    """Rows matched to records by one key column; subclasses say which model,
    which key, and how a row is checked."""

    model: Any
    key: str

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.records: dict[str, tuple[int, dict[str, Any]]] = {}
        self.new: list[dict[str, Any]] = []
        self.changes: list[tuple[Any, dict[str, Any]]] = []

    def errors(self, data: dict[str, Any]) -> list:
        raise NotImplementedError

    def normalize(self, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def check(self, row: Row) -> None:
        data = self.normalize(dict(row.values))
        full = {name: None for name in (c.name for c in self.columns)} | data
        report(row, [*self.errors(full), *v.too_long(data, self.model)])
        key = (data.get(self.key) or "").upper()
        if key in self.records:
            row.error(self.key, "duplicate_in_file", f"is also on row {self.records[key][0]}")
        if not row.errors:
            self.records[key] = (row.number, data)

    def plan(self, error) -> Plan:
        plan = Plan()
        on_file: dict[str, list[Any]] = {}
        for record in self.ctx.session.exec(
            select(self.model).where(self.model.practice_id == self.ctx.practice_id)
        ):
            on_file.setdefault(getattr(record, self.key).upper(), []).append(record)
        for key, (number, data) in self.records.items():
            found = on_file.get(key, [])
            if len(found) > 1:
                error(number, self.key, "ambiguous", "two or more records on file have this key")
            elif not found:
                self.new.append(data)
            elif changed := {k: val for k, val in data.items() if getattr(found[0], k) != val}:
                self.changes.append((found[0], changed))
            else:
                plan.unchanged += 1
        plan.new, plan.updated = len(self.new), len(self.changes)
        return plan

    def apply(self) -> None:
        for data in self.new:
            self.ctx.session.add(self.model(practice_id=self.ctx.practice_id, **data))
        for record, changed in self.changes:
            for name, value in changed.items():
                setattr(record, name, value)
            self.ctx.session.add(record)
        self.ctx.session.flush()


PROVIDER_COLUMNS = (
    ImportColumn("npi", required=True, aliases=("provider_npi", "individual_npi")),
    ImportColumn("first_name", required=True, aliases=("first",)),
    ImportColumn("last_name", required=True, aliases=("last",)),
    ImportColumn("taxonomy", required=True, aliases=("taxonomy_code", "specialty_taxonomy")),
    ImportColumn("credential", aliases=("credentials", "degree", "title")),
)


class ProviderJob(_KeyedJob):
    model = Provider
    key = "npi"
    columns = PROVIDER_COLUMNS

    def normalize(self, data):
        if data.get("taxonomy"):
            data["taxonomy"] = data["taxonomy"].upper()
        return data

    def errors(self, data):
        return provider_errors(data)


class ProviderImport:
    kind = "providers"
    title = "Rendering and billing providers, matched by NPI"
    columns = PROVIDER_COLUMNS

    def start(self, ctx: Context) -> ProviderJob:
        return ProviderJob(ctx)


PAYER_COLUMNS = (
    ImportColumn(
        "edi_payer_id", required=True, aliases=("payer_id", "edi_id", "electronic_payer_id")
    ),
    ImportColumn("name", required=True, aliases=("payer_name", "payer", "insurance_name")),
    ImportColumn(
        "claim_filing_indicator", aliases=("filing_indicator", "sbr09"), help="CI, MB, MC, BL, ..."
    ),
    ImportColumn("address1", aliases=("address", "street", "address_1")),
    ImportColumn("address2", aliases=("address_2",)),
    ImportColumn("city"),
    ImportColumn("state"),
    ImportColumn("zip", aliases=("zip_code", "postal_code")),
    ImportColumn("phone", aliases=("telephone",)),
)


class PayerJob(_KeyedJob):
    model = Payer
    key = "edi_payer_id"
    columns = PAYER_COLUMNS

    def normalize(self, data):
        for name in ("claim_filing_indicator", "state"):
            if data.get(name):
                data[name] = data[name].upper()
        if data.get("zip") and v.zip_error("zip", data["zip"]) is None:
            data["zip"] = v.normalize_zip(data["zip"])
        if data.get("phone") and v.phone_error("phone", data["phone"]) is None:
            data["phone"] = v.normalize_phone(data["phone"])
        if "claim_filing_indicator" in data and data["claim_filing_indicator"] is None:
            data["claim_filing_indicator"] = "CI"
        return data

    def errors(self, data):
        return [*payer_errors(data), *v.collect(v.phone_error("phone", data.get("phone")))]


class PayerImport:
    kind = "payers"
    title = "Payers, matched by EDI payer id"
    columns = PAYER_COLUMNS

    def start(self, ctx: Context) -> PayerJob:
        return PayerJob(ctx)
