"""Importing opening balances: what patients and payers owed in the previous
system, posted as ledger entries with their original dates.

Each row becomes one journal entry of kind `opening_balance`: the receivable
(`ar:patient`, or `ar:insurance` with the payer and the patient's coverage with
it) against `equity:opening`. A negative amount is a credit the patient has.
The entry's reference is built from the account number and the row's own
reference (or, without one, its date, responsibility, payer and amount), so
importing the same balances again posts nothing; postings are never edited, so
a balance already posted with another amount must be reversed first.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from pms_core.context import Context
from pms_core.db import chunked
from pms_core.imports import C_DATE, C_MONEY, ImportColumn, Plan, Row
from pms_core.ledger import Account, Entry, Line, closed_through, post_many
from pms_core.models import Coverage, JournalEntry, Posting
from pms_core.services.importers.common import PayerLookup, patients_by_account

KIND = "opening_balance"
COLUMNS = (
    ImportColumn("account_number", required=True, aliases=("account", "acct", "account_no")),
    ImportColumn(
        "amount", C_MONEY, required=True, aliases=("balance", "amount_due", "open_balance")
    ),
    ImportColumn(
        "date",
        C_DATE,
        required=True,
        aliases=("balance_date", "as_of", "service_date", "date_of_service", "dos"),
        help="the date the balance arose in the previous system",
    ),
    ImportColumn(
        "responsibility",
        aliases=("owed_by", "party", "balance_type"),
        help="patient (the default) or insurance",
    ),
    ImportColumn("payer", aliases=("payer_name", "insurance"), help="for insurance balances"),
    ImportColumn(
        "reference",
        aliases=("invoice", "invoice_number", "claim_number", "ref", "external_id"),
        help="the balance's id in the previous system",
    ),
)
_RESPONSIBILITY = {
    "patient": "patient",
    "pat": "patient",
    "p": "patient",
    "self": "patient",
    "insurance": "insurance",
    "ins": "insurance",
    "i": "insurance",
    "payer": "insurance",
}


class BalanceImport:
    kind = "balances"
    title = "Opening balances from the previous system (posted to the ledger)"
    columns = COLUMNS

    def start(self, ctx: Context) -> BalanceJob:
        return BalanceJob(ctx)


class BalanceJob:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.payers = PayerLookup(ctx)
        self.closed = closed_through(ctx.session, ctx.practice_id)
        self.records: dict[str, tuple[int, dict[str, Any]]] = {}
        self.entries: list[Entry] = []

    def check(self, row: Row) -> None:
        values = row.values
        amount, day = values.get("amount"), values.get("date")
        if amount is not None and amount.cents == 0:
            row.error("amount", "zero", "is zero: there is no balance to bring over")
        if day is not None and self.closed is not None and day <= self.closed:
            row.error(
                "date", "closed_period", f"is in a closed month (the books are closed "
                f"through {self.closed}); date the balance in an open month"
            )  # fmt: skip
        responsibility = _RESPONSIBILITY.get((values.get("responsibility") or "patient").lower())
        if responsibility is None:
            row.error("responsibility", "choice", "must be patient or insurance")
        payer_id = None
        if responsibility == "insurance":
            if values.get("payer") is None:
                row.error("payer", "required", "is required for an insurance balance")
            payer_id = self.payers.resolve(row, "payer", values.get("payer"))
        if row.errors:
            return
        account = values["account_number"]
        own = values.get("reference")
        reference = (
            f"opening:{account}:{own}"
            if own
            else f"opening:{account}:{day}:{responsibility}:{payer_id or ''}:{amount.cents}"
        )
        if len(reference) > 120:
            row.error("reference", "length", "is too long to keep as the entry's reference")
            return
        if reference in self.records:
            first = self.records[reference][0]
            row.error("reference", "duplicate_in_file", f"the same balance is on row {first}")
            return
        self.records[reference] = (
            row.number,
            {"account": account, "amount": amount, "date": day, "payer_id": payer_id},
        )

    def plan(self, error) -> Plan:
        plan = Plan()
        patients = patients_by_account(self.ctx, {r["account"] for _, r in self.records.values()})
        posted = self._posted(list(self.records))
        coverages = self._coverages(patients.values())
        for reference, (number, record) in self.records.items():
            patient_id = patients.get(record["account"])
            if patient_id is None:
                error(number, "account_number", "unknown", "no patient has this account number")
                continue
            if reference in posted:
                if posted[reference] != record["amount"].cents:
                    error(
                        number,
                        "amount",
                        "changed",
                        "differs from the balance already posted for this reference; postings "
                        "are never edited: reverse that entry first",
                    )
                else:
                    plan.unchanged += 1
                continue
            line = Line(Account.AR_PATIENT, record["amount"], patient_id=patient_id)
            if record["payer_id"] is not None:
                coverage_id = coverages.get((patient_id, record["payer_id"]))
                if coverage_id is None:
                    error(number, "payer", "no_coverage", "the patient has no coverage with it")
                    continue
                line = Line(
                    Account.AR_INSURANCE,
                    record["amount"],
                    patient_id=patient_id,
                    payer_id=record["payer_id"],
                    coverage_id=coverage_id,
                )
            self.entries.append(
                Entry(
                    entry_date=record["date"],
                    kind=KIND,
                    lines=[line, Line(Account.OPENING_BALANCE, -record["amount"])],
                    memo="balance from previous system",
                    reference=reference,
                )
            )
        plan.new = len(self.entries)
        return plan

    def _posted(self, references: list[str]) -> dict[str, int]:
        """The receivable amount (cents) already posted under each reference."""
        found: dict[str, int] = {}
        for chunk in chunked(references):
            query = (
                select(JournalEntry.reference, Posting.amount_cents)
                .join(Posting, col(Posting.entry_id) == JournalEntry.id)
                .where(
                    JournalEntry.practice_id == self.ctx.practice_id,
                    col(JournalEntry.reference).in_(chunk),
                    col(Posting.account).in_([Account.AR_PATIENT, Account.AR_INSURANCE]),
                )
            )
            for reference, cents in self.ctx.session.exec(query):
                found[reference] = found.get(reference, 0) + cents
        return found

    def _coverages(self, patient_ids) -> dict[tuple[int, int], int]:
        """(patient, payer) -> the coverage to carry an insurance balance: the
        active one with the highest priority (primary first)."""
        found: dict[tuple[int, int], int] = {}
        for chunk in chunked(sorted(patient_ids)):
            query = (
                select(Coverage.patient_id, Coverage.payer_id, Coverage.id)
                .where(col(Coverage.patient_id).in_(chunk), col(Coverage.active).is_(True))
                .order_by(col(Coverage.priority).desc())
            )
            for patient_id, payer_id, coverage_id in self.ctx.session.exec(query):
                found[(patient_id, payer_id)] = coverage_id
        return found

    def apply(self) -> None:
        post_many(self.ctx, self.entries)
