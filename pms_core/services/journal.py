"""The ledger's daily summary for the practice's accounting software:
`pms export journal --from --to --format csv|beancount`.

Each day's postings are summed by account and by what moved them: charges,
patient payments by method (cash, check, card), payer payments by deposit (the
835's payment method and trace number, which is what the bank shows),
adjustments by kind, refunds, opening balances. Every journal entry balances,
so every day does: the summary is checked before it is written, and a day that
does not balance stops the export (it would mean a damaged ledger).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO

from sqlalchemy import select

from pms_core import audit
from pms_core.context import Context
from pms_core.db import chunked
from pms_core.errors import FieldError, LedgerError, ValidationError
from pms_core.ledger import Account
from pms_core.models import JournalEntry, Payment, Posting, Remittance, RemittanceClaim
from pms_core.money import Money
from pms_core.permissions import require

FORMATS = ("csv", "beancount")
_ERA_REFERENCE = re.compile(r"era(?:-plb)?:(\d+)(?::\d+)?")  # era:<remittance>:<position>
_ERA_MATCH = re.compile(r"era-match:(\d+)")
_BPR_METHODS = {"ACH": "EFT", "CHK": "check", "FWT": "wire", "BOP": "financial institution"}
# Accounting-software names for the chart of accounts (beancount style).
BEANCOUNT_ACCOUNTS = {
    Account.AR_PATIENT: "Assets:Receivable:Patients",
    Account.AR_INSURANCE: "Assets:Receivable:Insurance",
    Account.CHARGES: "Income:Charges",
    Account.CASH: "Assets:Cash",
    Account.ADJ_CONTRACTUAL: "Income:Adjustments:Contractual",
    Account.ADJ_OTHER: "Income:Adjustments:Other",
    Account.ADJ_WRITE_OFF: "Income:Adjustments:Write-Off",
    Account.REFUNDS: "Liabilities:Refunds",
    Account.UNAPPLIED: "Liabilities:Unapplied",
    Account.OPENING_BALANCE: "Equity:Opening-Balances",
    Account.INTEREST: "Income:Interest",
    Account.PAYER_OFFSETS: "Liabilities:Payer-Offsets",
    Account.ADJ_PROVIDER: "Income:Adjustments:Provider-Level",
}


@dataclass(frozen=True)
class JournalLine:
    day: date
    account: str
    source: str  # what moved the money: "charge", "patient card", "insurance EFT 1234"
    debit_cents: int
    credit_cents: int
    entries: int


def _sources(ctx: Context, entry_ids_by_era: dict[int, set[int]]) -> dict[int, str]:
    """entry id -> "insurance EFT <trace>" for entries that posted an 835."""
    found: dict[int, str] = {}
    for chunk in chunked(sorted(entry_ids_by_era)):
        for rid, method, trace in ctx.session.execute(
            select(Remittance.id, Remittance.method, Remittance.trace_number).where(
                Remittance.id.in_(chunk)
            )
        ):
            label = f"insurance {_BPR_METHODS.get(method, method or 'payment')} {trace}".strip()
            for entry_id in entry_ids_by_era[rid]:
                found[entry_id] = label
    return found


def daily_journal(ctx: Context, date_from: date, date_to: date) -> list[JournalLine]:
    """The summary lines of every day from `date_from` to `date_to`, by day,
    account and source (`ledger:read`)."""
    require(ctx, "ledger:read", action="journal.export")
    if date_from > date_to:
        raise ValidationError([FieldError("from", "after_to", "is after --to")])
    query = (
        select(
            JournalEntry.id, JournalEntry.entry_date, JournalEntry.kind, JournalEntry.reference,
            Posting.account, Posting.amount_cents, Payment.method,
        )
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .outerjoin(Payment, Payment.entry_id == JournalEntry.id)
        .where(
            JournalEntry.practice_id == ctx.practice_id,
            JournalEntry.entry_date >= date_from,
            JournalEntry.entry_date <= date_to,
        )
        .order_by(JournalEntry.entry_date, JournalEntry.id)
    )  # fmt: skip
    rows = list(ctx.session.execute(query.execution_options(yield_per=5000)))
    by_era: dict[int, set[int]] = defaultdict(set)
    matched: dict[int, set[int]] = defaultdict(set)  # remittance claim id -> entry ids
    for entry_id, _, _, reference, *_ in rows:
        if reference and (m := _ERA_REFERENCE.fullmatch(reference)):
            by_era[int(m[1])].add(entry_id)
        elif reference and (m := _ERA_MATCH.fullmatch(reference)):
            matched[int(m[1])].add(entry_id)
    for chunk in chunked(sorted(matched)):
        for claim_row, rid in ctx.session.execute(
            select(RemittanceClaim.id, RemittanceClaim.remittance_id).where(
                RemittanceClaim.id.in_(chunk)
            )
        ):
            by_era[rid] |= matched[claim_row]
    era_source = _sources(ctx, by_era)
    sums: dict[tuple, list] = {}
    for entry_id, day, kind, _, account, cents, method in rows:
        if entry_id in era_source and account == Account.CASH:
            source = era_source[entry_id]
        elif method and account == Account.CASH:
            source = f"{'refund' if kind == 'patient_refund' else 'patient'} {method}"
        else:
            source = kind
        total = sums.setdefault((day, account, source), [0, 0, set()])
        total[0 if cents > 0 else 1] += abs(cents)
        total[2].add(entry_id)
    lines = [
        JournalLine(day, account, source, debit, credit, len(entries))
        for (day, account, source), (debit, credit, entries) in sorted(sums.items())
    ]
    _check_balanced(lines)
    return lines


def _check_balanced(lines: list[JournalLine]) -> None:
    days: dict[date, int] = defaultdict(int)
    for line in lines:
        days[line.day] += line.debit_cents - line.credit_cents
    for day, difference in sorted(days.items()):
        if difference:
            raise LedgerError(f"the ledger does not balance on {day} (off by {Money(difference)})")


def write_csv(lines: list[JournalLine], out: IO) -> None:
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["date", "account", "source", "debit", "credit", "entries"])
    for line in lines:
        writer.writerow(
            [line.day.isoformat(), line.account, line.source,
             Money(line.debit_cents) if line.debit_cents else "",
             Money(line.credit_cents) if line.credit_cents else "", line.entries]
        )  # fmt: skip


def beancount_account(account: str, source: str) -> str:
    """The beancount account of a summary line; cash is kept apart by source
    (Assets:Cash:Patient-Card, Assets:Cash:Insurance-EFT) so a deposit shows."""
    name = BEANCOUNT_ACCOUNTS.get(account)
    if name is None:
        name = "Equity:Unmapped:" + "-".join(
            w.title() for w in re.findall(r"[A-Za-z0-9]+", account)
        )
    if account == Account.CASH:
        words = source.split()[:2]
        name += ":" + "-".join(w[:1].upper() + w[1:] for w in words if w)
    return name


def write_beancount(lines: list[JournalLine], out: IO, *, currency: str = "USD") -> None:
    """One balanced transaction per day; the accounts opened on the first day."""
    if not lines:
        return
    first = lines[0].day
    accounts = sorted({beancount_account(ln.account, ln.source) for ln in lines})
    out.write(f'option "operating_currency" "{currency}"\n\n')
    for name in accounts:
        out.write(f"{first.isoformat()} open {name} {currency}\n")
    for day, group in _by_day(lines):
        out.write(f'\n{day.isoformat()} * "pms" "Daily summary {day.isoformat()}"\n')
        for ln in group:
            cents = ln.debit_cents - ln.credit_cents
            if not cents:
                continue
            out.write(
                f"  {beancount_account(ln.account, ln.source):<44} {Money(cents)} {currency}\n"
            )
            source = ln.source.replace('"', "'")
            out.write(f'    source: "{source}"\n')


def _by_day(lines: list[JournalLine]) -> Iterator[tuple[date, list[JournalLine]]]:
    group: list[JournalLine] = []
    for line in lines:
        if group and group[0].day != line.day:
            yield group[0].day, group
            group = []
        group.append(line)
    if group:
        yield group[0].day, group


def export_journal(ctx: Context, *, date_from: date, date_to: date, fmt: str, out: IO) -> int:
    """Write the daily summary in `fmt` to `out`; returns the number of days.
    Audited with the dates and the format."""
    if fmt not in FORMATS:
        raise ValidationError(
            [FieldError("format", "choice", f"must be one of {', '.join(FORMATS)}")]
        )
    lines = daily_journal(ctx, date_from, date_to)
    (write_csv if fmt == "csv" else write_beancount)(lines, out)
    days = len({ln.day for ln in lines})
    audit.record(
        ctx,
        action="export.journal",
        detail={
            "format": fmt,
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "days": days,
        },
    )
    return days
