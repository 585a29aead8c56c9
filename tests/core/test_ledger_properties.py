"""Random sequences of ledger work against a real database, checked after every step.

A hypothesis state machine posts random balanced entries over a few accounts,
patients and payers, reverses random entries, moves the clock, and tries entries
and reversals the ledger must refuse. After every step it checks, on SQLite and on
PostgreSQL:

- every entry's postings sum to zero, and so does the whole ledger;
- every entry's postings are exactly the lines that were posted (a pure-Python
  model), and every patient's and account's balance equals the model's;
- no posting or entry written earlier has changed or disappeared;
- an entry and its reversal net to zero, line by line, and the reversal is dated
  the practice's today.

One database (and practice) serves every example of a test; each example starts
its model from what the database already holds and compares from there.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import Session

from pms_core import ledger
from pms_core.context import unit_of_work
from pms_core.errors import Conflict, LedgerError, NotFound
from pms_core.ledger import Account, Line
from pms_core.models import JournalEntry, Posting
from pms_core.money import Money
from tests.core.test_ledger import add_patients

ACCOUNTS = [
    Account.AR_PATIENT,
    Account.AR_INSURANCE,
    Account.CHARGES,
    Account.CASH,
    Account.ADJ_CONTRACTUAL,
    Account.UNAPPLIED,
]
REFUSALS = [
    "unbalanced",
    "one_line",
    "zero_line",
    "unknown_account",
    "used_reference",
    "reverse_twice",
    "reverse_a_reversal",
    "missing_entry",
]
AMOUNTS = st.integers(min_value=-5_000_000, max_value=5_000_000).filter(bool)

# A posting as the model sees it: (account, cents, patient_id, payer_id).
Row = tuple[str, int, int | None, int | None]


def _rows_of(lines: list[Line]) -> Counter[Row]:
    return Counter((str(li.account), li.amount.cents, li.patient_id, li.payer_id) for li in lines)


@st.composite
def balanced_lines(draw, patients: list[int], payers: list[int]) -> list[Line]:
    """1-4 random nonzero lines, closed by one line that makes them sum to zero."""

    def line(amount: Money) -> Line:
        # receivables always name who owes them (the ledger refuses them otherwise)
        account = draw(st.sampled_from(ACCOUNTS))
        receivable = account in (Account.AR_PATIENT, Account.AR_INSURANCE)
        patient = draw(st.sampled_from(patients if receivable else [None, *patients]))
        payer = draw(st.sampled_from(payers)) if account == Account.AR_INSURANCE else None
        return Line(account, amount, patient_id=patient, payer_id=payer)

    n = draw(st.integers(min_value=1, max_value=4))
    lines = [line(Money(draw(AMOUNTS))) for _ in range(n)]
    total = Money.sum(li.amount for li in lines)
    if total:
        lines.append(line(-total))
    return draw(st.permutations(lines))


class LedgerMachine(RuleBasedStateMachine):
    # set by the test before running: one database and practice per test function
    engine = None
    practice = None
    patients: list[int] = []
    clock = None
    pm = None

    def __init__(self):
        super().__init__()
        self.model: dict[int, Counter[Row]] = {}  # entry id -> its postings
        self.reverses: dict[int, int] = {}  # reversal id -> original id
        self.dates: dict[int, date] = {}
        # What this example wrote. Steps choose only among these, never among what
        # earlier examples left in the database, so that the same choices replay
        # the same steps (hypothesis requires it to shrink).
        self.own: set[int] = set()
        self.own_references: list[str] = []
        self.snapshot: dict[int, tuple] = {}  # posting id -> every column
        self.entry_snapshot: dict[int, tuple] = {}

    # -- plumbing ------------------------------------------------------------------
    def uow(self):
        return unit_of_work(
            self.engine, user_id=self.practice.users["biller"], pm=self.pm, clock=self.clock
        )

    def read_db(self) -> tuple[dict[int, tuple], dict[int, tuple]]:
        """Every posting and entry of the practice, every column (Core, not ORM:
        this runs after every step, shrinking included)."""
        p, e = Posting.__table__.c, JournalEntry.__table__.c
        with self.engine.connect() as conn:
            postings = {
                row[0]: tuple(row[1:])
                for row in conn.execute(
                    sa.select(
                        p.id,
                        p.entry_id,
                        p.practice_id,
                        p.account,
                        p.amount_cents,
                        p.patient_id,
                        p.payer_id,
                        p.coverage_id,
                        p.provider_id,
                        p.location_id,
                    ).where(p.practice_id == self.practice.id)
                )
            }
            entries = {
                row[0]: tuple(row[1:])
                for row in conn.execute(
                    sa.select(
                        e.id, e.entry_date, e.posted_at, e.kind, e.memo, e.reference, e.reverses_id
                    ).where(e.practice_id == self.practice.id)
                )
            }
        return postings, entries

    def expected_balances(self) -> dict[tuple[int | None, str], int]:
        totals: dict[tuple[int | None, str], int] = defaultdict(int)
        for rows in self.model.values():
            for (account, cents, patient_id, _payer), n in rows.items():
                totals[(patient_id, account)] += cents * n
        return totals

    def open_entries(self) -> list[int]:
        """Entries that may still be reversed: not reversals, not yet reversed."""
        reversed_ = set(self.reverses.values())
        return sorted(e for e in self.own if e not in self.reverses and e not in reversed_)

    def own_reversals(self) -> list[int]:
        return sorted(e for e in self.own if e in self.reverses)

    # -- steps ---------------------------------------------------------------------------
    @initialize()
    def load_what_the_database_holds(self):
        postings, entries = self.read_db()
        for entry_id, row in entries.items():
            self.model[entry_id] = Counter()
            self.dates[entry_id] = row[0]
            if row[5] is not None:
                self.reverses[entry_id] = row[5]
        for entry_id, _pr, account, cents, patient, payer, *_ in postings.values():
            self.model[entry_id][(account, cents, patient, payer)] += 1
        self.snapshot, self.entry_snapshot = postings, entries

    def _post(self, data, days_ago: int, reference: str | None) -> None:
        lines = data.draw(balanced_lines(self.patients, self.practice.payer_ids))
        entry_date = self.clock.now().date() - timedelta(days=days_ago)
        with self.uow() as ctx:
            entry = ledger.post(
                ctx, entry_date=entry_date, kind="charge", lines=lines, reference=reference
            )
        assert entry.id not in self.model
        self.model[entry.id] = _rows_of(lines)
        self.own.add(entry.id)
        self.dates[entry.id] = entry_date
        if reference:
            self.own_references.append(reference)

    @rule(data=st.data(), days_ago=st.integers(min_value=0, max_value=400))
    def post_a_balanced_entry(self, data, days_ago):
        self._post(data, days_ago, None)

    @rule(data=st.data(), days_ago=st.integers(min_value=0, max_value=400))
    def post_a_balanced_entry_with_a_reference(self, data, days_ago):
        self._post(data, days_ago, f"prop-{uuid.uuid4().hex}")

    @precondition(lambda self: self.open_entries())
    @rule(data=st.data())
    def reverse_an_entry(self, data):
        original = data.draw(st.sampled_from(self.open_entries()))
        with self.uow() as ctx:
            today = ctx.today()
            reversal = ledger.reverse(ctx, original)
        negated = Counter()
        for (account, cents, patient, payer), n in self.model[original].items():
            negated[(account, -cents, patient, payer)] += n
        self.model[reversal.id] = negated
        self.reverses[reversal.id] = original
        self.own.add(reversal.id)
        self.dates[reversal.id] = today

    @rule(data=st.data(), how=st.sampled_from(REFUSALS))
    def attempt_what_the_ledger_must_refuse(self, data, how):
        """One refused attempt; the invariant then checks it wrote nothing."""
        if how == "used_reference" and not self.own_references:
            how = "missing_entry"
        if how in ("reverse_twice", "reverse_a_reversal") and not self.own_reversals():
            how = "missing_entry"
        lines = list(data.draw(balanced_lines(self.patients, self.practice.payer_ids)))
        first, reference = lines[0], None
        if how == "unbalanced":
            cent = data.draw(st.sampled_from([Money(1), Money(-1)]))
            # (if that makes the line zero, it is refused as a zero line instead)
            lines[0] = Line(
                first.account,
                first.amount + cent,
                patient_id=first.patient_id,
                payer_id=first.payer_id,
            )
        elif how == "one_line":
            lines = lines[:1]
        elif how == "zero_line":
            lines.insert(data.draw(st.integers(0, len(lines))), Line(Account.CASH, Money(0)))
        elif how == "unknown_account":
            lines[0] = Line(
                "ar:nonexistent", first.amount, patient_id=first.patient_id, payer_id=first.payer_id
            )
        elif how == "used_reference":
            reference = data.draw(st.sampled_from(self.own_references))

        if how in ("unbalanced", "one_line", "zero_line", "unknown_account", "used_reference"):
            error = Conflict if how == "used_reference" else LedgerError
            with pytest.raises(error), self.uow() as ctx:
                ledger.post(
                    ctx,
                    entry_date=self.clock.now().date(),
                    kind="charge",
                    lines=lines,
                    reference=reference,
                )
            return
        if how == "missing_entry":
            target = max(self.model, default=0) + data.draw(st.integers(1, 1000))
            error = NotFound
        else:
            reversal = data.draw(st.sampled_from(self.own_reversals()))
            if how == "reverse_twice":
                target, error = self.reverses[reversal], Conflict
            else:
                target, error = reversal, LedgerError
        with pytest.raises(error), self.uow() as ctx:
            ledger.reverse(ctx, target)

    @rule(hours=st.integers(min_value=1, max_value=30))
    def time_passes(self, hours):
        self.clock.advance(timedelta(hours=hours))

    # -- checks after every step ------------------------------------------------------------
    @invariant()
    def ledger_matches_the_model_and_nothing_earlier_changed(self):
        postings, entries = self.read_db()

        # nothing written earlier changed or went away
        for posting_id, row in self.snapshot.items():
            assert postings.get(posting_id) == row, f"posting {posting_id} changed"
        for entry_id, row in self.entry_snapshot.items():
            assert entries.get(entry_id) == row, f"entry {entry_id} changed"

        # the database holds exactly the model's entries and postings: refused
        # attempts wrote nothing
        by_entry: dict[int, Counter[Row]] = defaultdict(Counter)
        for entry_id, _pr, account, cents, patient, payer, *_ in postings.values():
            by_entry[entry_id][(account, cents, patient, payer)] += 1
        assert set(entries) == set(self.model)
        assert dict(by_entry) == {e: rows for e, rows in self.model.items() if rows}

        # every entry balances; the whole ledger balances
        for entry_id, rows in by_entry.items():
            assert sum(c * n for (_a, c, _p, _y), n in rows.items()) == 0, entry_id
            assert sum(rows.values()) >= 2
        assert sum(row[3] for row in postings.values()) == 0

        # reversals: linked, dated when made, netting to zero line by line
        for reversal, original in self.reverses.items():
            assert entries[reversal][5] == original
            assert entries[reversal][0] == self.dates[reversal]
            net = Counter()
            for (a, c, p, y), n in by_entry[original].items():
                net[(a, c, p, y)] += n
            for (a, c, p, y), n in by_entry[reversal].items():
                net[(a, -c, p, y)] -= n
            assert not +net and not -net
        for entry_id, row in entries.items():
            if entry_id not in self.reverses:
                assert row[0] == self.dates[entry_id]

        # derived balances equal the model's
        expected = self.expected_balances()
        with Session(self.engine) as s:
            trial = ledger.account_balances(s, self.practice.id)
            for account in ACCOUNTS:
                want = sum(c for (_p, a), c in expected.items() if a == account)
                assert trial.get(account, Money(0)) == Money(want), account
                assert ledger.balance(s, self.practice.id, account=account) == Money(want)
            assert Money.sum(trial.values()) == Money(0)
            for patient in self.patients:
                by_account = ledger.account_balances(s, self.practice.id, patient_id=patient)
                for account in ACCOUNTS:
                    want = Money(expected.get((patient, str(account)), 0))
                    assert by_account.get(account, Money(0)) == want, (patient, account)
                pb = ledger.patient_balance(s, self.practice.id, patient)
                assert pb.patient == Money(expected.get((patient, "ar:patient"), 0))
                assert pb.insurance == Money(expected.get((patient, "ar:insurance"), 0))

        self.snapshot, self.entry_snapshot = postings, entries


def test_random_ledger_work_keeps_every_invariant(engine, practice, clock, pm):
    LedgerMachine.engine = engine
    LedgerMachine.practice = practice
    LedgerMachine.patients = add_patients(engine, practice.id, 3)
    LedgerMachine.clock = clock
    LedgerMachine.pm = pm
    try:
        run_state_machine_as_test(
            LedgerMachine,
            settings=settings(
                max_examples=25,
                stateful_step_count=20,
                deadline=None,
                # no "explain" phase: it traces every line SQLAlchemy runs, which turns
                # a failure report into minutes
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        LedgerMachine.engine = LedgerMachine.practice = LedgerMachine.clock = None
