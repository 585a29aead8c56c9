"""Importing patients: matched by account number, added or updated in place.

Only the columns the file has are written: a file of account numbers and
phones updates phones and nothing else. A new row with the same name and date
of birth as a patient already on file (or as an earlier row) is a possible
duplicate: the import stops for a person to decide (fix the account number to
update that patient, or import with duplicates allowed).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from pms_core import validation as v
from pms_core.context import Context
from pms_core.db import chunked, insert_plain, reserve_ids
from pms_core.imports import C_DATE, ImportColumn, Plan, PossibleDuplicate, Row
from pms_core.models import Patient
from pms_core.services.importers.common import report, sex, update_rows
from pms_core.services.patients import clean_patient_fields, patient_errors

COLUMNS = (
    ImportColumn(
        "account_number",
        required=True,
        aliases=("account", "acct", "account_no", "acct_no", "patient_account", "chart_number"),
        help="the patient's account number in the previous system (the key)",
    ),
    ImportColumn("first_name", required=True, aliases=("first", "fname", "given_name")),
    ImportColumn("middle_name", aliases=("middle", "mi", "middle_initial")),
    ImportColumn("last_name", required=True, aliases=("last", "lname", "surname", "family_name")),
    ImportColumn("suffix"),
    ImportColumn(
        "dob", C_DATE, required=True, aliases=("date_of_birth", "birth_date", "birthdate")
    ),
    ImportColumn("sex", required=True, aliases=("gender",), help="F, M, U (or the words)"),
    ImportColumn(
        "address1", required=True, aliases=("address", "street", "address_1", "address_line_1")
    ),
    ImportColumn("address2", aliases=("address_2", "address_line_2")),
    ImportColumn("city", required=True),
    ImportColumn("state", required=True),
    ImportColumn("zip", required=True, aliases=("zip_code", "zipcode", "postal_code")),
    ImportColumn("home_phone", aliases=("phone", "home", "telephone")),
    ImportColumn("mobile_phone", aliases=("mobile", "cell", "cell_phone")),
    ImportColumn("email", aliases=("email_address", "e_mail")),
    ImportColumn("preferred_contact", help="sms, email, phone, mail or none"),
    ImportColumn("deceased_date", C_DATE, aliases=("date_of_death",)),
)
_FIELDS = tuple(c.name for c in COLUMNS)


def _default_contact(data: dict[str, Any]) -> str:
    """The channel a new patient is reached by when the file does not say."""
    for channel, field in (("sms", "mobile_phone"), ("phone", "home_phone"), ("email", "email")):
        if data.get(field):
            return channel
    return "mail"


class PatientImport:
    kind = "patients"
    title = "Patients (demographics), matched by account number"
    columns = COLUMNS

    def start(self, ctx: Context) -> PatientJob:
        return PatientJob(ctx)


class PatientJob:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.today = ctx.today()
        self.records: dict[str, tuple[int, dict[str, Any]]] = {}
        self.new: list[dict[str, Any]] = []
        self.changes: list[tuple[int, dict[str, Any]]] = []

    def check(self, row: Row) -> None:
        data = {name: row.values[name] for name in _FIELDS if name in row.values}
        if data.get("sex"):
            data["sex"] = sex(data["sex"])
        zip_code = data.get("zip")
        if zip_code and zip_code.isdigit() and len(zip_code) in (3, 4):
            data["zip"] = zip_code.zfill(5)  # a spreadsheet dropped the leading zeros
        data = clean_patient_fields(data)
        checked = data if "preferred_contact" in data else {
            **data, "preferred_contact": _default_contact(data)
        }  # fmt: skip
        report(row, patient_errors(checked, self.today))
        account = data.get("account_number")
        if account in self.records:
            first = self.records[account][0]
            row.error("account_number", "duplicate_in_file", f"is also on row {first}")
        if not row.errors:
            self.records[account] = (row.number, data)

    def plan(self, error) -> Plan:
        plan = Plan()
        existing = self._existing(list(self.records))
        new_rows: list[tuple[int, dict[str, Any]]] = []
        for account, (number, data) in self.records.items():
            current = existing.get(account)
            if current is None:
                data.setdefault("preferred_contact", _default_contact(data))
                new_rows.append((number, data))
                continue
            changed = {k: val for k, val in data.items() if current[k] != val}
            if not changed:
                plan.unchanged += 1
                continue
            merged = {**current, **data}
            merged.pop("id")
            errors = patient_errors(merged, self.today)
            for e in errors:  # the row passed alone: this rule breaks with what is on file
                error(number, e.field, e.code, e.message)
            if not errors:
                changed.update(search_first=v.fold(merged["first_name"]))
                changed.update(search_last=v.fold(merged["last_name"]))
                self.changes.append((current["id"], changed))
        plan.updated = len(self.changes)
        plan.duplicates = self._duplicates(new_rows)
        plan.new = len(new_rows)
        self.new = [data for _, data in new_rows]
        return plan

    def _existing(self, accounts: list[str]) -> dict[str, dict[str, Any]]:
        table = Patient.__table__
        picked = [table.c.id, *(table.c[name] for name in _FIELDS)]
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunked(accounts):
            query = select(*picked).where(
                table.c.practice_id == self.ctx.practice_id, table.c.account_number.in_(chunk)
            )
            for record in self.ctx.session.execute(query).mappings():
                found[record["account_number"]] = dict(record)
        return found

    def _duplicates(self, rows: list[tuple[int, dict[str, Any]]]) -> list[PossibleDuplicate]:
        """New rows whose folded name and DOB match a patient on file or an
        earlier new row."""

        def key(first: str, last: str, dob) -> tuple:
            return (v.fold(first), v.fold(last), dob)

        on_file: dict[tuple, list[int]] = {}
        for chunk in chunked(sorted({data["dob"] for _, data in rows})):
            query = select(
                Patient.id, Patient.search_first, Patient.search_last, Patient.dob
            ).where(Patient.practice_id == self.ctx.practice_id, col(Patient.dob).in_(chunk))
            for patient_id, first, last, dob in self.ctx.session.exec(query):
                on_file.setdefault((first, last, dob), []).append(patient_id)
        seen: dict[tuple, int] = {}
        found: list[PossibleDuplicate] = []
        for number, data in rows:
            k = key(data["first_name"], data["last_name"], data["dob"])
            if k in on_file or k in seen:
                found.append(PossibleDuplicate(number, tuple(on_file.get(k, ())), seen.get(k)))
            seen.setdefault(k, number)
        return found

    def apply(self) -> None:
        ctx = self.ctx
        now = ctx.clock.now()
        ids = reserve_ids(ctx.session, Patient.__table__, len(self.new))
        template = {name: None for name in _FIELDS}
        rows = [
            {
                **template,
                **data,
                "id": patient_id,
                "practice_id": ctx.practice_id,
                "search_first": v.fold(data["first_name"]),
                "search_last": v.fold(data["last_name"]),
                "guarantor_id": None,
                "guarantor_relationship": None,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for patient_id, data in zip(ids, self.new, strict=True)
        ]
        insert_plain(ctx.session, Patient.__table__, rows)
        update_rows(
            ctx, Patient.__table__, [(i, {**c, "updated_at": now}) for i, c in self.changes]
        )
