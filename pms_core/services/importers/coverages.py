"""Importing insurance coverage: matched by patient account number, payer and
member id (case, spaces and dashes ignored), added or updated in place.

The same spreadsheet that brought the patients can bring their insurance: the
columns a coverage does not take are ignored. A priority two coverages would
hold over the same dates (one on file, or another row) is refused, as it is
when a coverage is added by hand.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, select

from pms_core import validation as v
from pms_core.context import Context
from pms_core.db import chunked, insert_plain, reserve_ids
from pms_core.imports import C_DATE, C_MONEY, ImportColumn, Plan, Row
from pms_core.models import Coverage
from pms_core.models.people import COVERAGE_PRIORITIES, SUBSCRIBER_RELATIONSHIPS
from pms_core.services.coverages import check_coverage_fields
from pms_core.services.importers.common import (
    PayerLookup,
    patients_by_account,
    report,
    sex,
    update_rows,
)

COLUMNS = (
    ImportColumn(
        "account_number", required=True, aliases=("account", "acct", "account_no", "acct_no")
    ),
    ImportColumn(
        "payer",
        required=True,
        aliases=(
            "payer_id",
            "payer_name",
            "insurance",
            "insurance_name",
            "carrier",
            "edi_payer_id",
        ),
        help="the payer's pms id, EDI payer id or name",
    ),
    ImportColumn(
        "member_id",
        required=True,
        aliases=("subscriber_id", "policy_number", "policy", "insurance_id", "member_number"),
    ),
    ImportColumn(
        "priority",
        aliases=("coverage_priority", "rank", "order"),
        help="primary/secondary/tertiary",
    ),
    ImportColumn("group_number", aliases=("group", "group_no", "group_id")),
    ImportColumn("plan_name", aliases=("plan",)),
    ImportColumn(
        "relationship",
        aliases=("relationship_to_subscriber", "subscriber_relationship"),
        help="self, spouse, child, other (or the X12 codes 18, 01, 19, G8)",
    ),
    ImportColumn("subscriber_first_name", aliases=("subscriber_first",)),
    ImportColumn("subscriber_last_name", aliases=("subscriber_last",)),
    ImportColumn("subscriber_dob", C_DATE, aliases=("subscriber_date_of_birth",)),
    ImportColumn("subscriber_sex", aliases=("subscriber_gender",)),
    ImportColumn(
        "effective_date",
        C_DATE,
        required=True,
        aliases=("effective", "eff_date", "start_date", "coverage_start"),
    ),
    ImportColumn("termination_date", C_DATE, aliases=("term_date", "end_date", "coverage_end")),
    ImportColumn("copay", C_MONEY, aliases=("copay_amount", "co_pay")),
)
_RELATIONSHIP_CODES = {code.lower(): name for name, code in SUBSCRIBER_RELATIONSHIPS.items()}
# Coverage columns a file may set, beside the key; `copay` is stored in cents.
_STORED = {
    "priority": "priority",
    "group_number": "group_number",
    "plan_name": "plan_name",
    "relationship": "relationship",
    "subscriber_first_name": "subscriber_first_name",
    "subscriber_last_name": "subscriber_last_name",
    "subscriber_dob": "subscriber_dob",
    "subscriber_sex": "subscriber_sex",
    "effective_date": "effective_date",
    "termination_date": "termination_date",
    "copay": "copay_cents",
    "member_id": "member_id",
}


def _relationship(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().lower()
    return _RELATIONSHIP_CODES.get(text, text)


class CoverageImport:
    kind = "coverages"
    title = "Insurance coverage, matched by account number, payer and member id"
    columns = COLUMNS

    def start(self, ctx: Context) -> CoverageJob:
        return CoverageJob(ctx)


class CoverageJob:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.today = ctx.today()
        self.payers = PayerLookup(ctx)
        # (account, payer id, folded member id) -> (row, values to store)
        self.records: dict[tuple[str, int, str], tuple[int, dict[str, Any]]] = {}
        self.new: list[dict[str, Any]] = []
        self.changes: list[tuple[int, dict[str, Any]]] = []

    def check(self, row: Row) -> None:
        values = row.values
        relationship = _relationship(values.get("relationship")) or "self"
        fields, errors = check_coverage_fields(
            self.today,
            member_id=values.get("member_id"),
            effective_date=values.get("effective_date"),
            priority=values.get("priority") or 1,
            relationship=relationship,
            subscriber_first_name=values.get("subscriber_first_name"),
            subscriber_last_name=values.get("subscriber_last_name"),
            subscriber_dob=values.get("subscriber_dob"),
            subscriber_sex=sex(values.get("subscriber_sex")),
            termination_date=values.get("termination_date"),
            copay=values.get("copay"),
        )
        report(row, errors)
        payer_id = self.payers.resolve(row, "payer", values.get("payer"))
        if row.errors:
            return
        full = {
            **fields,
            "relationship": relationship,
            "subscriber_sex": sex(values.get("subscriber_sex")),
            **{k: values.get(k) for k in ("group_number", "plan_name")},
            **{k: values.get(k) for k in ("subscriber_first_name", "subscriber_last_name")},
        }
        mapped = {_STORED[name] for name in values if name in _STORED}
        key = (values["account_number"], payer_id, v.fold_member_id(fields["member_id"]))
        if key in self.records:
            first = self.records[key][0]
            row.error("member_id", "duplicate_in_file", f"the same coverage is on row {first}")
            return
        self.records[key] = (row.number, full, mapped)

    def plan(self, error) -> Plan:
        plan = Plan()
        patients = patients_by_account(self.ctx, {k[0] for k in self.records})
        held = self._on_file(patients.values())
        # What each patient's coverages will be after the import, to check priorities.
        after: dict[int, dict[Any, tuple[int | None, int, date, date | None]]] = {}
        for patient_id, coverages in held.items():
            for c in coverages:
                if c.active:
                    after.setdefault(patient_id, {})[c.id] = (
                        None,
                        c.priority,
                        c.effective_date,
                        c.termination_date,
                    )
        pending: list[tuple[int, int, int, dict[str, Any], Coverage | None]] = []
        for (account, payer_id, member), (number, full, mapped) in self.records.items():
            patient_id = patients.get(account)
            if patient_id is None:
                error(number, "account_number", "unknown", "no patient has this account number")
                continue
            current = next(
                (
                    c
                    for c in held.get(patient_id, ())
                    if c.payer_id == payer_id and c.member_id_search == member
                ),
                None,
            )
            if current is not None:  # the columns the file does not have stay as they are
                full = {k: (full[k] if k in mapped else getattr(current, k)) for k in full}
            slot = current.id if current is not None else ("row", number)
            after.setdefault(patient_id, {})[slot] = (
                number,
                full["priority"],
                full["effective_date"],
                full["termination_date"],
            )
            pending.append((number, patient_id, payer_id, full, current))
        clashes = _priority_clashes(after)
        for number, patient_id, payer_id, full, current in pending:
            if number in clashes:
                level = COVERAGE_PRIORITIES[full["priority"]]
                error(
                    number,
                    "priority",
                    "taken",
                    f"the patient would have two {level} coverages for these dates "
                    f"({clashes[number]})",
                )
                continue
            if current is None:
                self.new.append({**full, "patient_id": patient_id, "payer_id": payer_id})
                continue
            changed = {k: val for k, val in full.items() if getattr(current, k) != val}
            if changed:
                if "member_id" in changed:
                    changed["member_id_search"] = v.fold_member_id(changed["member_id"])
                self.changes.append((current.id, changed))
            else:
                plan.unchanged += 1
        plan.new, plan.updated = len(self.new), len(self.changes)
        return plan

    def _on_file(self, patient_ids) -> dict[int, list[Coverage]]:
        found: dict[int, list[Coverage]] = {}
        for chunk in chunked(sorted(patient_ids)):
            for c in self.ctx.session.exec(
                select(Coverage).where(
                    Coverage.practice_id == self.ctx.practice_id,
                    col(Coverage.patient_id).in_(chunk),
                )
            ):
                found.setdefault(c.patient_id, []).append(c)
        return found

    def apply(self) -> None:
        ctx = self.ctx
        ids = reserve_ids(ctx.session, Coverage.__table__, len(self.new))
        now = ctx.clock.now()
        rows = [
            {
                **stored,
                "id": coverage_id,
                "practice_id": ctx.practice_id,
                "member_id_search": v.fold_member_id(stored["member_id"]),
                "active": True,
                "created_at": now,
            }
            for coverage_id, stored in zip(ids, self.new, strict=True)
        ]
        insert_plain(ctx.session, Coverage.__table__, rows)
        update_rows(ctx, Coverage.__table__, self.changes)


def _priority_clashes(after) -> dict[int, str]:
    """File rows whose coverage would share a priority and overlapping dates with
    another active coverage of the same patient: row -> what it clashes with."""
    clashes: dict[int, str] = {}
    for slots in after.values():
        items = list(slots.items())
        for i, (slot_a, (row_a, level_a, start_a, end_a)) in enumerate(items):
            for slot_b, (row_b, level_b, start_b, end_b) in items[i + 1 :]:
                if level_a != level_b or row_a is None and row_b is None:
                    continue
                if start_a is None or start_b is None:
                    continue
                if start_a <= (end_b or date.max) and start_b <= (end_a or date.max):
                    later, other, other_slot = (
                        (row_b, row_a, slot_a) if row_b is not None else (row_a, row_b, slot_b)
                    )
                    clashes.setdefault(
                        later, f"row {other}" if other is not None else f"coverage {other_slot}"
                    )
    return clashes
