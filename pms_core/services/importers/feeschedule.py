"""Importing a fee schedule through the import engine: the same checks and
upsert as `pms feeschedule import` (`services.fees.FeeScheduleLoad`), with the
engine's row report."""

from __future__ import annotations

from pms_core.context import Context
from pms_core.imports import ImportColumn, Plan, Row
from pms_core.permissions import require
from pms_core.services.fees import FeeScheduleLoad

COLUMNS = (
    ImportColumn("code", required=True, aliases=("cpt", "hcpcs", "procedure", "procedure_code")),
    ImportColumn("modifier", aliases=("mod",)),
    ImportColumn("amount", required=True, aliases=("fee", "price", "charge")),
    ImportColumn("payer", aliases=("payer_id",), help="blank: the practice's own fees"),
)


class FeeScheduleImport:
    kind = "feeschedule"
    title = "Fees (the practice's) and payers' contracted amounts, by code and modifier"
    columns = COLUMNS

    def start(self, ctx: Context) -> FeeScheduleJob:
        require(ctx, "billing:setup", action="feeschedule.import")
        return FeeScheduleJob(ctx)


class FeeScheduleJob:
    def __init__(self, ctx: Context) -> None:
        self.load = FeeScheduleLoad(ctx)

    def check(self, row: Row) -> None:
        text = {k: ("" if val is None else str(val)) for k, val in row.values.items()}
        for e in self.load.check(row.number, text):
            if e.field not in row.failed:
                row.error(e.field, e.code, e.message)

    def plan(self, error) -> Plan:
        added, updated, unchanged = self.load.plan()
        return Plan(new=added, updated=updated, unchanged=unchanged)

    def apply(self) -> None:
        self.load.apply()
