"""The ledger's invariants: balanced entries, append-only postings, derived balances.

`post()` and `reverse()` are the only ways money enters the ledger. They check
the invariants but not permissions: the service that moves money (charges,
payments, remittance, `services.ledger`) checks its own permission and audits,
then calls these. Balances are always sums of postings; no balance is stored.

Sign convention: a posting's amount is a debit when positive and a credit when
negative. Receivables (`ar:*`) carry debit balances: a patient who owes $40
has an `ar:patient` balance of +40.00.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pms_core.db import chunked, insert_plain, reserve_ids
from pms_core.errors import Conflict, LedgerError, NotFound
from pms_core.models import (
    Charge,
    Coverage,
    JournalEntry,
    Location,
    Patient,
    Payer,
    PeriodClose,
    Posting,
    Provider,
)
from pms_core.money import Money

if TYPE_CHECKING:
    from pms_core.context import Context


class Account(StrEnum):
    """Chart of accounts. Extend by adding members; never rename one."""

    AR_PATIENT = "ar:patient"  # what patients owe
    AR_INSURANCE = "ar:insurance"  # what payers owe
    CHARGES = "revenue:charges"  # gross charges (credit)
    CASH = "cash"  # money received
    ADJ_CONTRACTUAL = "adjustment:contractual"
    ADJ_OTHER = "adjustment:other"
    ADJ_WRITE_OFF = "adjustment:write_off"
    REFUNDS = "refunds"
    UNAPPLIED = "liability:unapplied"  # money received not yet applied to a charge
    OPENING_BALANCE = "equity:opening"  # balances brought from a previous system
    INTEREST = "revenue:interest"  # prompt-pay interest a payer adds (PLB L6)
    PAYER_OFFSETS = "clearing:payer_offsets"  # recoupments and forward balances (PLB WO, FB)
    ADJ_PROVIDER = "adjustment:provider_level"  # other provider-level adjustments (PLB)


RECEIVABLES = (Account.AR_PATIENT, Account.AR_INSURANCE)

# A sanity bound far above any medical bill ($10 million on one posting), well
# inside the 64-bit column: a larger amount is a typo or a unit error.
MAX_POSTING_CENTS = 10_000_000_00
_KIND_MAX, _MEMO_MAX, _REFERENCE_MAX = 30, 200, 120


class Line(NamedTuple):
    """One posting to be written: a signed amount against an account, with the
    patient/coverage/payer/provider/location it belongs to (each optional).
    A named tuple: a remittance builds them by the hundred thousand."""

    account: Account
    amount: Money
    patient_id: int | None = None
    coverage_id: int | None = None
    payer_id: int | None = None
    provider_id: int | None = None
    location_id: int | None = None
    charge_id: int | None = None  # the service line this money belongs to
    reason: str | None = None  # why it moved, as a code: "CO-45", "PR-1", "PLB-L6"


@dataclass(frozen=True)
class Entry:
    """One journal entry to be written by `post_many`."""

    entry_date: date
    kind: str
    lines: Sequence[Line]
    memo: str = ""
    reference: str | None = None


def post(
    ctx: Context,
    *,
    entry_date: date,
    kind: str,
    lines: Sequence[Line],
    memo: str = "",
    reference: str | None = None,
) -> JournalEntry:
    """Write one balanced journal entry in the context's transaction.

    Refuses (LedgerError) an entry with fewer than two lines, a zero line, an
    amount beyond MAX_POSTING_CENTS, an unknown account, lines that do not sum to
    zero, a patient/coverage/payer/provider/location that is not this practice's
    (or a coverage that is not that line's patient's or payer's), an entry_date
    that is not a plain date or falls in a closed month (services.periods), or
    an empty or over-long kind/memo/reference.
    A `reference` already used in this practice raises Conflict, so retried
    imports cannot double-post; the transaction stays usable after that Conflict.
    Nothing is written when it refuses.
    """
    practice_id = _practice(ctx)
    lines = list(lines)
    _check_header(entry_date=entry_date, kind=kind, memo=memo, reference=reference)
    _check_lines(lines)
    _check_open(ctx, practice_id, entry_date)
    _check_dimensions(ctx.session, practice_id, lines)
    if reference is not None:
        existing = ctx.session.exec(
            select(JournalEntry.id).where(
                JournalEntry.practice_id == practice_id, JournalEntry.reference == reference
            )
        ).first()
        if existing is not None:
            raise Conflict(f"reference already used by journal entry {existing}")
    entry = JournalEntry(
        practice_id=practice_id,
        entry_date=entry_date,
        posted_at=ctx.clock.now(),
        kind=kind,
        memo=memo,
        reference=reference,
        created_by_id=ctx.user.id if ctx.user else None,
    )
    return _write(ctx.session, entry, lines)


def reverse(ctx: Context, entry_id: int, *, memo: str = "") -> JournalEntry:
    """Cancel an entry with a new one that negates each of its postings.

    The reversal is dated today (practice time zone), not back-dated. An entry can
    be reversed once; a reversal itself cannot be reversed (post a new entry).
    """
    practice_id = _practice(ctx)
    # Lock the original (PostgreSQL) so concurrent reversals queue; the unique
    # `reverses_id` is the backstop.
    original = ctx.session.get(JournalEntry, entry_id, with_for_update=True)
    if original is None or original.practice_id != practice_id:
        raise NotFound(f"journal entry {entry_id} not found")
    if original.reverses_id is not None:
        raise LedgerError(f"journal entry {entry_id} is itself a reversal")
    already = ctx.session.exec(
        select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id)
    ).first()
    if already is not None:
        raise Conflict(f"journal entry {entry_id} was already reversed by entry {already}")
    postings = ctx.session.exec(select(Posting).where(Posting.entry_id == entry_id)).all()
    lines = [
        Line(
            account=Account(p.account),
            amount=Money(-p.amount_cents),
            patient_id=p.patient_id,
            coverage_id=p.coverage_id,
            payer_id=p.payer_id,
            provider_id=p.provider_id,
            location_id=p.location_id,
            charge_id=p.charge_id,
            reason=p.reason,
        )
        for p in postings
    ]
    memo = memo or f"reverses entry {entry_id}"
    _check_header(entry_date=ctx.today(), kind="reversal", memo=memo, reference=None)
    _check_open(ctx, practice_id, ctx.today())
    entry = JournalEntry(
        practice_id=practice_id,
        entry_date=ctx.today(),
        posted_at=ctx.clock.now(),
        kind="reversal",
        memo=memo,
        created_by_id=ctx.user.id if ctx.user else None,
        reverses_id=entry_id,
    )
    return _write(ctx.session, entry, lines)


def post_many(ctx: Context, entries: Sequence[Entry]) -> list[int]:
    """Write many balanced entries in the context's transaction, with the same
    rules as `post`: each entry's own checked before anything is written, the
    ids its lines name checked by the database in one statement after the
    insert (in a savepoint: nothing stays when one is wrong). Returns the new
    entries' ids in order. For bulk work (remittances): one executemany for
    the entries and one for their postings."""
    practice_id = _practice(ctx)
    for n, entry in enumerate(entries, start=1):
        try:
            _check_header(
                entry_date=entry.entry_date,
                kind=entry.kind,
                memo=entry.memo,
                reference=entry.reference,
            )
            _check_lines(entry.lines)
        except LedgerError as exc:
            raise LedgerError(f"entry {n}: {exc}") from None
    if not entries:
        return []
    earliest = min(range(len(entries)), key=lambda i: entries[i].entry_date)
    try:
        _check_open(ctx, practice_id, entries[earliest].entry_date)
    except LedgerError as exc:
        raise LedgerError(f"entry {earliest + 1}: {exc}") from None
    lines = [line for e in entries for line in e.lines]
    references = [e.reference for e in entries if e.reference is not None]
    if len(set(references)) != len(references):
        raise Conflict("two entries of the batch have the same reference")
    for chunk in chunked(references, 2000):
        existing = ctx.session.exec(
            select(JournalEntry.id).where(
                JournalEntry.practice_id == practice_id, col(JournalEntry.reference).in_(chunk)
            )
        ).first()
        if existing is not None:
            raise Conflict(f"reference already used by journal entry {existing}")
    now, user_id = ctx.clock.now(), ctx.user.id if ctx.user else None
    ids = reserve_ids(ctx.session, JournalEntry.__table__, len(entries))
    entry_rows = [
        dict(
            id=entry_id,
            practice_id=practice_id,
            entry_date=e.entry_date,
            posted_at=now,
            kind=e.kind,
            memo=e.memo,
            reference=e.reference,
            created_by_id=user_id,
            reverses_id=None,
        )
        for entry_id, e in zip(ids, entries, strict=True)
    ]
    posting_rows = [
        _posting_row(entry_id, practice_id, line)
        for entry_id, e in zip(ids, entries, strict=True)
        for line in e.lines
    ]
    try:
        # The dimensions are checked by the database after the insert (one
        # statement instead of a query per kind of id), inside a savepoint:
        # on any doubt it is rolled back and the lines are checked one by one
        # for a message that names the posting.
        with ctx.session.begin_nested():
            insert_plain(ctx.session, JournalEntry.__table__, entry_rows)
            insert_plain(ctx.session, Posting.__table__, posting_rows)
            if _misplaced_posting(ctx.session, min(ids), max(ids)) is not None:
                raise _Misplaced
    except IntegrityError:
        _check_dimensions(ctx.session, practice_id, lines, _labels(entries))
        raise Conflict("an entry conflicts with an existing one (reference)") from None
    except _Misplaced:
        _check_dimensions(ctx.session, practice_id, lines, _labels(entries))
        raise LedgerError("a posting names an id of another practice") from None
    return ids


def _labels(entries: Sequence[Entry]) -> list[str]:
    return [
        f"entry {n}, posting {i}"
        for n, e in enumerate(entries, start=1)
        for i in range(1, len(e.lines) + 1)
    ]


class _Misplaced(Exception):
    """A posting names an id of another practice, or a coverage or charge
    that is not its patient's (or payer's): found by `_misplaced_posting`."""


# Postings of entries lo..hi whose ids are not of their practice, or whose
# coverage or charge is not their patient's (or their payer's).
_MISPLACED = text(
    """
    SELECT p.id FROM posting p
    LEFT JOIN patient pt ON pt.id = p.patient_id
    LEFT JOIN coverage cv ON cv.id = p.coverage_id
    LEFT JOIN payer py ON py.id = p.payer_id
    LEFT JOIN provider pr ON pr.id = p.provider_id
    LEFT JOIN location lc ON lc.id = p.location_id
    LEFT JOIN charge ch ON ch.id = p.charge_id
    WHERE p.entry_id BETWEEN :lo AND :hi AND (
        (p.patient_id IS NOT NULL AND (pt.practice_id IS NULL OR pt.practice_id <> p.practice_id))
     OR (p.coverage_id IS NOT NULL AND (cv.practice_id IS NULL OR cv.practice_id <> p.practice_id
         OR cv.patient_id <> p.patient_id OR cv.payer_id <> COALESCE(p.payer_id, cv.payer_id)))
     OR (p.payer_id IS NOT NULL AND (py.practice_id IS NULL OR py.practice_id <> p.practice_id))
     OR (p.provider_id IS NOT NULL AND (pr.practice_id IS NULL OR pr.practice_id <> p.practice_id))
     OR (p.location_id IS NOT NULL AND (lc.practice_id IS NULL OR lc.practice_id <> p.practice_id))
     OR (p.charge_id IS NOT NULL AND (ch.practice_id IS NULL OR ch.practice_id <> p.practice_id
         OR ch.patient_id <> p.patient_id))
    )
    LIMIT 1
    """
)


def _misplaced_posting(session: Session, lo: int, hi: int) -> int | None:
    return session.execute(_MISPLACED, {"lo": lo, "hi": hi}).scalar()


def _posting_row(entry_id: int, practice_id: int, line: Line) -> dict:
    return dict(
        entry_id=entry_id,
        practice_id=practice_id,
        account=line.account.value
        if type(line.account) is Account
        else Account(line.account).value,
        amount_cents=line.amount.cents,
        patient_id=line.patient_id,
        coverage_id=line.coverage_id,
        payer_id=line.payer_id,
        provider_id=line.provider_id,
        location_id=line.location_id,
        charge_id=line.charge_id,
        reason=line.reason,
    )


def _practice(ctx: Context) -> int:
    if ctx.practice_id is None:
        raise LedgerError("no practice selected for this ledger entry")
    return ctx.practice_id


def closed_through(session, practice_id: int) -> date | None:
    """The last day of the latest month closed and not reopened (the books are
    closed through it: services.periods), or None."""
    return session.exec(
        select(PeriodClose.closed_through)
        .where(PeriodClose.practice_id == practice_id, col(PeriodClose.reopened_at).is_(None))
        .order_by(col(PeriodClose.closed_through).desc())
        .limit(1)
    ).first()


def _check_open(ctx: Context, practice_id: int, entry_date: date) -> None:
    """Refuse an entry dated in a closed month."""
    through = closed_through(ctx.session, practice_id)
    if through is not None and entry_date <= through:
        raise LedgerError(
            f"the books are closed through {through}: an entry dated {entry_date} would change "
            "a closed month; date it in an open month (pms period list)"
        )


def _check_header(*, entry_date: date, kind: str, memo: str, reference: str | None) -> None:
    if isinstance(entry_date, datetime) or not isinstance(entry_date, date):
        raise LedgerError("entry_date must be a date (not a datetime)")
    if not kind or len(kind) > _KIND_MAX:
        raise LedgerError(f"kind must be 1 to {_KIND_MAX} characters")
    if len(memo) > _MEMO_MAX:
        raise LedgerError(f"memo is longer than {_MEMO_MAX} characters")
    if reference is not None and (not reference or len(reference) > _REFERENCE_MAX):
        raise LedgerError(f"reference must be 1 to {_REFERENCE_MAX} characters")


def _check_lines(lines: Sequence[Line]) -> None:
    if len(lines) < 2:
        raise LedgerError("an entry needs at least two postings")
    for i, line in enumerate(lines, start=1):
        if not isinstance(line.amount, Money):
            raise LedgerError(f"posting {i}: amount must be Money")
        if line.amount.cents == 0:
            raise LedgerError(f"posting {i}: amount is zero")
        if abs(line.amount.cents) > MAX_POSTING_CENTS:
            raise LedgerError(f"posting {i}: amount is larger than {Money(MAX_POSTING_CENTS)}")
        try:
            account = line.account if type(line.account) is Account else Account(line.account)
        except ValueError:
            raise LedgerError(f"posting {i}: unknown account {line.account!r}") from None
        # A receivable nobody owes would count in practice A/R but in no
        # patient's balance, statement or aging bucket.
        if account in RECEIVABLES and line.patient_id is None:
            raise LedgerError(f"posting {i}: {account} needs a patient")
        if account == Account.AR_INSURANCE and line.payer_id is None:
            raise LedgerError(f"posting {i}: {account} needs a payer")
        if line.coverage_id is not None and line.patient_id is None:
            raise LedgerError(f"posting {i}: a coverage line needs its patient")
        if line.charge_id is not None and line.patient_id is None:
            raise LedgerError(f"posting {i}: a charge line needs its patient")
    total = Money.sum(line.amount for line in lines)
    if total:
        raise LedgerError(f"entry does not balance: postings sum to {total}, not 0.00")


# Each dimension: the Line attribute, its table, and the columns the checks need.
_DIMENSIONS = (
    ("patient_id", Patient, ()),
    ("coverage_id", Coverage, ("patient_id", "payer_id")),
    ("payer_id", Payer, ()),
    ("provider_id", Provider, ()),
    ("location_id", Location, ()),
    ("charge_id", Charge, ("patient_id",)),
)


def _check_dimensions(
    session: Session, practice_id: int, lines: Sequence[Line], labels: Sequence[str] = ()
) -> None:
    """Every id a line names exists in this practice, and a line's coverage is its
    patient's and its payer's. One query per kind of id (and 2,000 ids), not per
    line, reading only the columns the checks need. A message names the line
    by its label ("entry 2, posting 1") or its position."""

    def where(i: int) -> str:
        return labels[i - 1] if labels else f"posting {i}"

    found: dict[str, dict[int, object]] = {}
    for attr, model, columns in _DIMENSIONS:
        ids = sorted({getattr(line, attr) for line in lines} - {None})
        found[attr] = {}
        for chunk in chunked(ids, 2000):
            query = select(model.id, *(getattr(model, c) for c in columns)).where(
                col(model.id).in_(chunk), model.practice_id == practice_id
            )
            found[attr].update((row.id, row) for row in session.execute(query))
        missing = [i for i in ids if i not in found[attr]]
        if missing:
            label = attr.removesuffix("_id")
            raise LedgerError(f"{label} {missing[0]} not found in this practice")
    for i, line in enumerate(lines, start=1):
        if line.charge_id is not None:
            charge = found["charge_id"][line.charge_id]
            if charge.patient_id != line.patient_id:
                raise LedgerError(
                    f"{where(i)}: charge {line.charge_id} is not patient {line.patient_id}'s"
                )
        if line.coverage_id is None:
            continue
        coverage = found["coverage_id"][line.coverage_id]
        if line.patient_id is not None and coverage.patient_id != line.patient_id:
            raise LedgerError(
                f"{where(i)}: coverage {line.coverage_id} is not patient {line.patient_id}'s"
            )
        if line.payer_id is not None and coverage.payer_id != line.payer_id:
            raise LedgerError(
                f"{where(i)}: coverage {line.coverage_id} is not with payer {line.payer_id}"
            )


def _write(session: Session, entry: JournalEntry, lines: Sequence[Line]) -> JournalEntry:
    try:
        # A savepoint: when a concurrent post wins the same reference or reversal,
        # the caller gets Conflict and its transaction stays usable (an importer
        # skips the duplicate and carries on).
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("entry conflicts with an existing one (reference or reversal)") from exc
    session.add_all(Posting(**_posting_row(entry.id, entry.practice_id, line)) for line in lines)
    session.flush()
    return entry


# --- balances: always derived from postings ------------------------------------
def balance(
    session: Session,
    practice_id: int,
    *,
    account: Account | None = None,
    patient_id: int | None = None,
    payer_id: int | None = None,
    coverage_id: int | None = None,
    as_of: date | None = None,
) -> Money:
    """Sum of postings matching every filter given (entries dated <= `as_of`)."""
    query = select(func.coalesce(func.sum(Posting.amount_cents), 0)).where(
        Posting.practice_id == practice_id
    )
    if account is not None:
        query = query.where(Posting.account == str(account))
    if patient_id is not None:
        query = query.where(Posting.patient_id == patient_id)
    if payer_id is not None:
        query = query.where(Posting.payer_id == payer_id)
    if coverage_id is not None:
        query = query.where(Posting.coverage_id == coverage_id)
    if as_of is not None:
        query = query.join(JournalEntry, JournalEntry.id == Posting.entry_id).where(
            JournalEntry.entry_date <= as_of
        )
    return Money(int(session.exec(query).one()))


def account_balances(
    session: Session, practice_id: int, *, patient_id: int | None = None
) -> dict[Account, Money]:
    """Balance of every account with postings (for one patient when given).
    Over the whole practice these sum to zero: that is the trial balance."""
    query = (
        select(Posting.account, func.sum(Posting.amount_cents))
        .where(Posting.practice_id == practice_id)
        .group_by(Posting.account)
    )
    if patient_id is not None:
        query = query.where(Posting.patient_id == patient_id)
    return {Account(acct): Money(int(total)) for acct, total in session.exec(query).all()}


@dataclass(frozen=True)
class PatientBalance:
    """What a patient's account stands at: owed by the patient, owed by insurance."""

    patient: Money
    insurance: Money

    @property
    def total(self) -> Money:
        return self.patient + self.insurance


def patient_balance(session: Session, practice_id: int, patient_id: int) -> PatientBalance:
    """The patient's `ar:patient` and `ar:insurance` balances, summed from postings
    (zero for a patient with none). No permission check: see `services.ledger`."""
    by_account = account_balances(session, practice_id, patient_id=patient_id)
    return PatientBalance(
        patient=by_account.get(Account.AR_PATIENT, Money(0)),
        insurance=by_account.get(Account.AR_INSURANCE, Money(0)),
    )
