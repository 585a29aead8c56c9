"""The ledger on SQLite and PostgreSQL: balanced entries, reversals, derived
balances, append-only storage, and the permissioned, audited service seam."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from pms_core import audit, ledger
from pms_core.audit import flush_reads
from pms_core.clock import FixedClock
from pms_core.context import unit_of_work
from pms_core.errors import Conflict, LedgerError, NotFound, PermissionDenied
from pms_core.ledger import Account, Line
from pms_core.models import AuditEvent, Coverage, JournalEntry, Patient, Posting
from pms_core.money import Money
from pms_core.services import ledger as ledger_service
from tests.helpers import make_practice

DOS = date(2026, 2, 16)


def add_patients(engine, practice_id: int, count: int = 2, *, prefix: str = "T") -> list[int]:
    """Synthetic patients; returns their ids."""
    ids = []
    with Session(engine) as s:
        for i in range(count):
            patient = Patient(
                practice_id=practice_id,
                account_number=f"{prefix}{i + 1:05d}",
                first_name=f"Testfirst{chr(65 + i)}",
                last_name="Testpatient",
                dob=date(1980, 1, 1 + i),
                sex="F" if i % 2 else "M",
                address1="1 Synthetic St",
                city="Springfield",
                state="IL",
                zip="62701",
                search_first=f"testfirst{chr(97 + i)}",
                search_last="testpatient",
            )
            s.add(patient)
            s.flush()
            ids.append(patient.id)
        s.commit()
    return ids


def add_coverage(engine, practice_id: int, patient_id: int, payer_id: int) -> int:
    with Session(engine) as s:
        coverage = Coverage(
            practice_id=practice_id,
            patient_id=patient_id,
            payer_id=payer_id,
            member_id="XZ000000001",
            member_id_search="xz000000001",
            effective_date=date(2025, 1, 1),
        )
        s.add(coverage)
        s.commit()
        return coverage.id


def charge_lines(patient_id: int, amount: str, *, payer_id: int | None = None) -> list[Line]:
    """A charge: the patient (or their insurance, with a payer) owes `amount`."""
    m = Money.parse(amount)
    if payer_id is None:
        receivable = Line(Account.AR_PATIENT, m, patient_id=patient_id)
    else:
        receivable = Line(Account.AR_INSURANCE, m, patient_id=patient_id, payer_id=payer_id)
    return [receivable, Line(Account.CHARGES, -m, patient_id=patient_id)]


def payment_lines(patient_id: int, amount: str) -> list[Line]:
    """The patient pays `amount` at the desk."""
    m = Money.parse(amount)
    return [Line(Account.CASH, m), Line(Account.AR_PATIENT, -m, patient_id=patient_id)]


def counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        entries = conn.execute(text("SELECT COUNT(*) FROM journal_entry")).scalar_one()
        postings = conn.execute(text("SELECT COUNT(*) FROM posting")).scalar_one()
    return entries, postings


def postings_of(engine, entry_id: int) -> list[Posting]:
    with Session(engine) as s:
        return list(
            s.exec(select(Posting).where(Posting.entry_id == entry_id).order_by(Posting.id))
        )


@pytest.fixture
def patients(engine, practice):
    return add_patients(engine, practice.id)


# --- post --------------------------------------------------------------------------
def test_post_writes_one_balanced_entry_with_its_postings(engine, practice, patients, uow, clock):
    p = patients[0]
    with uow("biller") as ctx:
        entry = ledger.post(
            ctx,
            entry_date=DOS,
            kind="charge",
            lines=charge_lines(p, "125.00", payer_id=practice.payer_ids[0]),
            memo="office visit",
            reference="chg-1",
        )
    with Session(engine) as s:
        stored = s.get(JournalEntry, entry.id)
        assert stored.entry_date == DOS
        assert stored.posted_at == clock.now()
        assert stored.kind == "charge"
        assert stored.reference == "chg-1"
        assert stored.created_by_id == practice.users["biller"]
        assert stored.practice_id == practice.id
        assert stored.reverses_id is None
    rows = postings_of(engine, entry.id)
    assert [(r.account, r.amount_cents, r.patient_id, r.payer_id) for r in rows] == [
        ("ar:insurance", 12_500, p, practice.payer_ids[0]),
        ("revenue:charges", -12_500, p, None),
    ]
    assert sum(r.amount_cents for r in rows) == 0


def _bad_line_sets(p: int) -> dict[str, list]:
    ten = Money.parse("10.00")
    return {
        "unbalanced": [
            Line(Account.AR_PATIENT, ten, patient_id=p),
            Line(Account.CHARGES, -ten + Money(1)),
        ],
        "off_by_a_cent_over_three_lines": [
            Line(Account.AR_PATIENT, Money(333), patient_id=p),
            Line(Account.AR_PATIENT, Money(333), patient_id=p),
            Line(Account.CHARGES, Money(-667)),
        ],
        "single_line": [Line(Account.AR_PATIENT, ten, patient_id=p)],
        "zero_lines": [],
        "zero_amount_line": [
            Line(Account.AR_PATIENT, ten, patient_id=p),
            Line(Account.CHARGES, -ten),
            Line(Account.ADJ_OTHER, Money(0)),
        ],
        "unknown_account": [Line("ar:bogus", ten, patient_id=p), Line(Account.CHARGES, -ten)],
        "receivable_without_a_patient": [
            Line(Account.AR_PATIENT, ten),
            Line(Account.CHARGES, -ten),
        ],
        "insurance_receivable_without_a_payer": [
            Line(Account.AR_INSURANCE, ten, patient_id=p),
            Line(Account.CHARGES, -ten),
        ],
        "float_amount": [
            Line(Account.AR_PATIENT, 10.0, patient_id=p),
            Line(Account.CHARGES, -10.0),
        ],
        "beyond_the_sanity_bound": [
            Line(Account.AR_PATIENT, Money(ledger.MAX_POSTING_CENTS + 1), patient_id=p),
            Line(Account.CHARGES, Money(-(ledger.MAX_POSTING_CENTS + 1))),
        ],
        "patient_not_in_database": [
            Line(Account.AR_PATIENT, ten, patient_id=p + 10_000),
            Line(Account.CHARGES, -ten),
        ],
    }


@pytest.mark.parametrize("case", list(_bad_line_sets(0)))
def test_post_refuses_a_bad_entry_and_writes_nothing(engine, patients, uow, case):
    lines = _bad_line_sets(patients[0])[case]
    with uow("biller") as ctx, pytest.raises(LedgerError):
        ledger.post(ctx, entry_date=DOS, kind="charge", lines=lines)
        # refused before anything reached the session: this unit of work commits
    assert counts(engine) == (0, 0)


def test_post_refuses_bad_headers(engine, patients, uow):
    lines = charge_lines(patients[0], "10.00")
    bad = [
        dict(entry_date=datetime(2026, 2, 16, 9, 0, tzinfo=UTC), kind="charge"),
        dict(entry_date="2026-02-16", kind="charge"),
        dict(entry_date=DOS, kind=""),
        dict(entry_date=DOS, kind="k" * 31),
        dict(entry_date=DOS, kind="charge", memo="m" * 201),
        dict(entry_date=DOS, kind="charge", reference=""),
        dict(entry_date=DOS, kind="charge", reference="r" * 121),
    ]
    with uow("biller") as ctx:
        for kwargs in bad:
            with pytest.raises(LedgerError):
                ledger.post(ctx, lines=lines, **kwargs)
    assert counts(engine) == (0, 0)


def test_post_refuses_another_practices_patient_payer_or_coverage(engine, practice, patients, uow):
    other = make_practice(engine, name="Other Clinic", prefix="o_")
    (theirs,) = add_patients(engine, other.id, 1, prefix="O")
    mine = patients[0]
    ten = Money.parse("10.00")
    their_coverage = add_coverage(engine, other.id, theirs, other.payer_ids[0])
    my_coverage = add_coverage(engine, practice.id, mine, practice.payer_ids[0])
    cases = [
        [Line(Account.AR_PATIENT, ten, patient_id=theirs), Line(Account.CHARGES, -ten)],
        [
            Line(Account.AR_INSURANCE, ten, patient_id=mine, payer_id=other.payer_ids[0]),
            Line(Account.CHARGES, -ten),
        ],
        [
            Line(Account.AR_INSURANCE, ten, patient_id=mine, coverage_id=their_coverage),
            Line(Account.CHARGES, -ten),
        ],
        # my coverage, but named on another patient's line / with the other payer
        [
            Line(Account.AR_INSURANCE, ten, patient_id=patients[1], coverage_id=my_coverage),
            Line(Account.CHARGES, -ten),
        ],
        [
            Line(
                Account.AR_INSURANCE,
                ten,
                patient_id=mine,
                coverage_id=my_coverage,
                payer_id=practice.payer_ids[1],
            ),
            Line(Account.CHARGES, -ten),
        ],
    ]
    with uow("biller") as ctx:
        for lines in cases:
            with pytest.raises(LedgerError):
                ledger.post(ctx, entry_date=DOS, kind="charge", lines=lines)
        ok = ledger.post(
            ctx,
            entry_date=DOS,
            kind="charge",
            lines=[
                Line(
                    Account.AR_INSURANCE,
                    ten,
                    patient_id=mine,
                    coverage_id=my_coverage,
                    payer_id=practice.payer_ids[0],
                ),
                Line(Account.CHARGES, -ten, patient_id=mine),
            ],
        )
    assert counts(engine) == (1, 2)
    with Session(engine) as s:
        assert ledger.balance(s, practice.id, coverage_id=my_coverage) == ten
        assert s.get(JournalEntry, ok.id) is not None


def test_post_many_refuses_a_batch_naming_a_wrong_id_and_writes_none_of_it(
    engine, practice, patients, uow
):
    """The batch path checks ids in the database after its insert: a wrong one
    rolls the whole batch back, with the message `post` would give."""
    other = make_practice(engine, name="Other Clinic", prefix="o_")
    (theirs,) = add_patients(engine, other.id, 1, prefix="O")
    mine, my_other = patients
    ten = Money.parse("10.00")
    my_coverage = add_coverage(engine, practice.id, mine, practice.payer_ids[0])
    their_coverage = add_coverage(engine, other.id, theirs, other.payer_ids[0])
    good = ledger.Entry(DOS, "charge", charge_lines(mine, "25.00"), reference="batch-1")
    cases = {
        "patient": ([Line(Account.AR_PATIENT, ten, patient_id=theirs), Line(Account.CHARGES, -ten)],
                    f"patient {theirs} not found"),
        "missing": ([Line(Account.AR_PATIENT, ten, patient_id=987654), Line(Account.CHARGES, -ten)],
                    "patient 987654 not found"),
        "coverage": (
            [Line(Account.AR_INSURANCE, ten, patient_id=mine, coverage_id=their_coverage,
                  payer_id=practice.payer_ids[0]), Line(Account.CHARGES, -ten)],
            f"coverage {their_coverage} not found",
        ),
        "coverage of another patient": (
            [Line(Account.AR_INSURANCE, ten, patient_id=my_other, coverage_id=my_coverage,
                  payer_id=practice.payer_ids[0]), Line(Account.CHARGES, -ten)],
            f"entry 2, posting 1: coverage {my_coverage} is not patient {my_other}'s",
        ),
    }  # fmt: skip
    with uow("biller") as ctx:
        for lines, message in cases.values():
            with pytest.raises(LedgerError, match=message):
                ledger.post_many(ctx, [good, ledger.Entry(DOS, "charge", lines)])
        ids = ledger.post_many(ctx, [good])  # the transaction is still usable
    assert counts(engine) == (1, 2)
    with Session(engine) as s:
        assert [p.amount_cents for p in postings_of(engine, ids[0])] == [2500, -2500]
        assert ledger.patient_balance(s, practice.id, mine).patient == Money.parse("25.00")


def test_duplicate_reference_is_a_conflict_and_the_first_entry_stands(
    engine, practice, patients, uow
):
    p = patients[0]
    with uow("biller") as ctx:
        first = ledger.post(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(p, "80.00"), reference="era-77"
        )
    with uow("biller") as ctx:
        with pytest.raises(Conflict):
            ledger.post(
                ctx,
                entry_date=DOS,
                kind="charge",
                lines=charge_lines(p, "80.00"),
                reference="era-77",
            )
        # the transaction is still usable after the Conflict: a retried import can
        # skip the duplicate and carry on with the rest of its file
        ledger.post(ctx, entry_date=DOS, kind="charge", lines=charge_lines(p, "5.00"))
    assert counts(engine) == (2, 4)
    with Session(engine) as s:
        refs = s.exec(select(JournalEntry.id).where(JournalEntry.reference == "era-77")).all()
        assert refs == [first.id]
        assert ledger.patient_balance(s, practice.id, p).patient == Money.parse("85.00")


def test_references_and_balances_are_per_practice(engine, practice, patients, clock, pm):
    other = make_practice(engine, name="Other Clinic", prefix="o_")
    (theirs,) = add_patients(engine, other.id, 1, prefix="O")
    for user_id, patient_id, amount in (
        (practice.users["biller"], patients[0], "10.00"),
        (other.users["biller"], theirs, "7.50"),
    ):
        with unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx:
            ledger.post(
                ctx,
                entry_date=DOS,
                kind="charge",
                lines=charge_lines(patient_id, amount),
                reference="batch-1",  # the same reference, in two practices
            )
    assert counts(engine) == (2, 4)
    with Session(engine) as s:
        assert ledger.account_balances(s, practice.id) == {
            Account.AR_PATIENT: Money.parse("10.00"),
            Account.CHARGES: Money.parse("-10.00"),
        }
        assert ledger.balance(s, other.id, account=Account.AR_PATIENT) == Money.parse("7.50")
        assert ledger.patient_balance(s, practice.id, theirs).total == Money(0)


# --- reverse -------------------------------------------------------------------------
def test_reversal_is_dated_today_in_the_practice_time_zone_and_negates_each_posting(
    engine, practice, patients, pm
):
    p = patients[0]
    # 03:00 UTC on March 3 is 21:00 on March 2 in Chicago (CST, UTC-6)
    late_evening = FixedClock(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))
    biller = practice.users["biller"]
    with unit_of_work(engine, user_id=biller, pm=pm, clock=late_evening) as ctx:
        original = ledger.post(
            ctx,
            entry_date=date(2026, 1, 20),
            kind="charge",
            lines=[
                Line(
                    Account.AR_INSURANCE, Money(9_000), patient_id=p, payer_id=practice.payer_ids[0]
                ),
                Line(Account.AR_PATIENT, Money(2_000), patient_id=p),
                Line(
                    Account.CHARGES, Money(-11_000), patient_id=p, provider_id=practice.provider_id
                ),
            ],
        )
    with unit_of_work(engine, user_id=biller, pm=pm, clock=late_evening) as ctx:
        assert ctx.today() == date(2026, 3, 2)
        reversal = ledger.reverse(ctx, original.id, memo="posted to wrong patient")
    with Session(engine) as s:
        stored = s.get(JournalEntry, reversal.id)
        assert stored.entry_date == date(2026, 3, 2)  # not back-dated, not UTC's March 3
        assert stored.kind == "reversal"
        assert stored.reverses_id == original.id
        assert stored.memo == "posted to wrong patient"
        assert stored.posted_at == late_evening.now()

    def shape(rows):
        return [
            (r.account, r.amount_cents, r.patient_id, r.payer_id, r.provider_id, r.location_id)
            for r in rows
        ]

    original_rows = shape(postings_of(engine, original.id))
    assert shape(postings_of(engine, reversal.id)) == [
        (a, -amt, pat, pay, prov, loc) for a, amt, pat, pay, prov, loc in original_rows
    ]
    with Session(engine) as s:
        assert ledger.patient_balance(s, practice.id, p).total == Money(0)
        # before the reversal's date the charge still stands: history is not rewritten
        assert ledger.balance(
            s, practice.id, patient_id=p, account=Account.AR_PATIENT, as_of=date(2026, 3, 1)
        ) == Money(2_000)


def test_reversal_default_memo_names_the_entry(engine, patients, uow):
    with uow("biller") as ctx:
        original = ledger.post(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(patients[0], "1.00")
        )
        reversal = ledger.reverse(ctx, original.id)
    assert reversal.memo == f"reverses entry {original.id}"


def test_an_entry_cannot_be_reversed_twice_nor_a_reversal_reversed(engine, patients, uow):
    with uow("biller") as ctx:
        original = ledger.post(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(patients[0], "40.00")
        )
        reversal = ledger.reverse(ctx, original.id)
    with uow("biller") as ctx:
        with pytest.raises(Conflict):
            ledger.reverse(ctx, original.id)
        with pytest.raises(LedgerError):
            ledger.reverse(ctx, reversal.id)
        with pytest.raises(NotFound):
            ledger.reverse(ctx, reversal.id + 1000)
    assert counts(engine) == (2, 4)


def test_another_practices_entry_cannot_be_reversed(engine, practice, patients, clock, pm):
    other = make_practice(engine, name="Other Clinic", prefix="o_")
    (theirs,) = add_patients(engine, other.id, 1, prefix="O")
    with unit_of_work(engine, user_id=other.users["biller"], pm=pm, clock=clock) as ctx:
        their_entry = ledger.post(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(theirs, "9.00")
        )
    mine = unit_of_work(engine, user_id=practice.users["biller"], pm=pm, clock=clock)
    with mine as ctx, pytest.raises(NotFound):
        ledger.reverse(ctx, their_entry.id)
    assert counts(engine) == (1, 2)


# --- balances ----------------------------------------------------------------------------
def test_balances_are_sums_of_postings(engine, practice, patients, uow):
    alice, bob = patients
    acme = practice.payer_ids[0]
    with uow("biller") as ctx:
        # $150 visit: insurance expected to pay $120, patient owes a $30 copay
        ledger.post(
            ctx,
            entry_date=DOS,
            kind="charge",
            lines=[
                Line(Account.AR_INSURANCE, Money.parse("120.00"), patient_id=alice, payer_id=acme),
                Line(Account.AR_PATIENT, Money.parse("30.00"), patient_id=alice),
                Line(Account.CHARGES, Money.parse("-150.00"), patient_id=alice),
            ],
        )
        payment = ledger.post(
            ctx, entry_date=DOS, kind="payment", lines=payment_lines(alice, "30.00")
        )
        ledger.post(ctx, entry_date=DOS, kind="charge", lines=charge_lines(bob, "75.25"))
    with Session(engine) as s:
        assert ledger.patient_balance(s, practice.id, alice) == ledger.PatientBalance(
            patient=Money(0), insurance=Money.parse("120.00")
        )
        assert ledger.patient_balance(s, practice.id, bob).total == Money.parse("75.25")
        assert ledger.balance(s, practice.id, payer_id=acme) == Money.parse("120.00")
        assert ledger.balance(s, practice.id, account=Account.CASH) == Money.parse("30.00")
        trial = ledger.account_balances(s, practice.id)
        assert Money.sum(trial.values()) == Money(0)
        assert trial[Account.CHARGES] == Money.parse("-225.25")
    # the payment bounced: reverse it and alice owes the copay again
    with uow("biller") as ctx:
        ledger.reverse(ctx, payment.id, memo="returned check")
    with Session(engine) as s:
        assert ledger.patient_balance(s, practice.id, alice).patient == Money.parse("30.00")
        assert ledger.balance(s, practice.id, account=Account.CASH) == Money(0)
        assert Money.sum(ledger.account_balances(s, practice.id).values()) == Money(0)


# --- the database refuses edits ----------------------------------------------------------
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE posting SET amount_cents = 1 WHERE entry_id = :entry_id",
        "UPDATE posting SET patient_id = NULL WHERE entry_id = :entry_id",
        "DELETE FROM posting WHERE entry_id = :entry_id",
        "DELETE FROM posting",
        "UPDATE journal_entry SET entry_date = '2020-01-01' WHERE id = :entry_id",
        "UPDATE journal_entry SET memo = 'edited' WHERE id = :entry_id",
        "DELETE FROM journal_entry WHERE id = :entry_id",
    ],
)
def test_the_database_refuses_to_change_or_delete_ledger_rows(engine, patients, uow, statement):
    with uow("biller") as ctx:
        entry = ledger.post(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(patients[0], "60.00")
        )

    def snapshot():
        with engine.connect() as conn:
            e = conn.execute(
                text("SELECT id, entry_date, kind, memo FROM journal_entry ORDER BY id")
            ).all()
            p = conn.execute(
                text(
                    "SELECT id, entry_id, account, amount_cents, patient_id FROM posting ORDER BY id"
                )
            ).all()
        return e, p

    before = snapshot()
    assert len(before[1]) == 2
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement), {"entry_id": entry.id} if ":entry_id" in statement else {})
    assert snapshot() == before


def test_bulk_replace_and_truncate_cannot_bypass_append_only(engine, patients, uow):
    """SQLite's INSERT OR REPLACE deletes rows without DELETE triggers unless
    recursive triggers are on; PostgreSQL's TRUNCATE skips row triggers."""
    with uow("biller") as ctx:
        ledger.post(ctx, entry_date=DOS, kind="charge", lines=charge_lines(patients[0], "60.00"))
    if engine.dialect.name == "sqlite":
        statements = [
            "INSERT OR REPLACE INTO posting (id, entry_id, practice_id, account, amount_cents) "
            "SELECT id, entry_id, practice_id, account, 1 FROM posting",
            "REPLACE INTO journal_entry (id, practice_id, entry_date, posted_at, kind, memo) "
            "SELECT id, practice_id, entry_date, posted_at, kind, 'edited' FROM journal_entry",
        ]
    else:
        statements = ["TRUNCATE posting", "TRUNCATE journal_entry CASCADE", "TRUNCATE audit_event"]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        amounts = conn.execute(text("SELECT amount_cents FROM posting ORDER BY id")).scalars()
        assert list(amounts) == [6000, -6000]


def test_amounts_beyond_32_bits_are_stored_exactly(engine, practice, patients, uow):
    with uow("biller") as ctx:
        ledger.post(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(patients[0], "2500000.00")
        )
    with Session(engine) as s:
        balance = ledger.patient_balance(s, practice.id, patients[0]).total
    assert balance == Money.parse("2500000.00")


# --- the service seam: permissions and audit -----------------------------------------------
def _events(engine, action: str) -> list[AuditEvent]:
    assert flush_reads(engine)  # reads are audited in grouped commits
    with Session(engine) as s:
        return list(
            s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        )


@pytest.mark.parametrize("role", ["frontdesk", "manager", "auditor"])
def test_only_posting_roles_may_post_and_a_refusal_is_audited(
    engine, practice, patients, uow, role
):
    p = patients[0]
    with pytest.raises(PermissionDenied), uow(role) as ctx:
        ledger_service.post_entry(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(p, "20.00")
        )
    assert counts(engine) == (0, 0)
    (event,) = _events(engine, "ledger.post")
    assert event.outcome == "denied"
    assert event.user_id == practice.users[role]
    assert event.patient_id == p
    assert json.loads(event.detail) == {"permission": "ledger:post"}


def test_frontdesk_may_not_reverse(engine, practice, patients, uow):
    with uow("biller") as ctx:
        entry = ledger_service.post_entry(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(patients[0], "20.00")
        )
    with pytest.raises(PermissionDenied), uow("frontdesk") as ctx:
        ledger_service.reverse_entry(ctx, entry_id=entry.id)
    assert counts(engine) == (1, 2)
    (event,) = _events(engine, "ledger.reverse")
    assert (event.outcome, event.user_id) == ("denied", practice.users["frontdesk"])


def test_service_posts_reverses_and_reads_with_one_audit_event_each(
    engine, practice, patients, uow
):
    alice, bob = patients
    with uow("biller") as ctx:
        entry = ledger_service.post_entry(
            ctx, entry_date=DOS, kind="charge", lines=charge_lines(alice, "64.00"), reference="c-1"
        )
        # a deposit spanning two patients: no single patient on the event
        deposit = ledger_service.post_entry(
            ctx,
            entry_date=DOS,
            kind="payment",
            lines=[
                Line(Account.CASH, Money(500)),
                Line(Account.AR_PATIENT, Money(-200), patient_id=alice),
                Line(Account.AR_PATIENT, Money(-300), patient_id=bob),
            ],
        )
        # one patient's payment: the cash side names no patient, the event does
        payment = ledger_service.post_entry(
            ctx,
            entry_date=DOS,
            kind="payment",
            lines=[
                Line(Account.CASH, Money(1000)),
                Line(Account.AR_PATIENT, Money(-1000), patient_id=alice),
            ],
        )
    with uow("biller") as ctx:
        reversal = ledger_service.reverse_entry(ctx, entry_id=entry.id, memo="duplicate")
    with uow("frontdesk") as ctx:  # front desk may see a balance at check-in
        bal = ledger_service.patient_balance(ctx, patient_id=bob)
    assert bal == ledger.PatientBalance(patient=Money(-300), insurance=Money(0))

    posts = _events(engine, "ledger.post")
    assert [(e.outcome, e.patient_id, json.loads(e.detail)) for e in posts] == [
        ("ok", alice, {"entry_id": entry.id}),
        ("ok", None, {"entry_id": deposit.id}),
        ("ok", alice, {"entry_id": payment.id}),
    ]
    assert all(e.user_id == practice.users["biller"] for e in posts)
    (rev,) = _events(engine, "ledger.reverse")
    assert (rev.outcome, rev.patient_id, json.loads(rev.detail)) == (
        "ok",
        alice,
        {"entry_id": reversal.id, "reverses_id": entry.id},
    )
    (read,) = _events(engine, "ledger.read")
    assert (read.outcome, read.patient_id, read.user_id) == ("ok", bob, practice.users["frontdesk"])
    with Session(engine) as s:
        assert audit.verify(s).ok


def test_auditor_may_not_read_a_balance(engine, practice, patients, uow):
    with pytest.raises(PermissionDenied), uow("auditor") as ctx:
        ledger_service.patient_balance(ctx, patient_id=patients[0])
    (event,) = _events(engine, "ledger.read")
    assert (event.outcome, event.patient_id) == ("denied", patients[0])


def test_a_refused_entry_through_the_service_leaves_no_entry_and_no_ok_event(engine, patients, uow):
    with pytest.raises(LedgerError), uow("biller") as ctx:
        ledger_service.post_entry(
            ctx,
            entry_date=DOS,
            kind="charge",
            lines=[
                Line(Account.AR_PATIENT, Money(100), patient_id=patients[0]),
                Line(Account.CHARGES, Money(-99)),
            ],
        )
    assert counts(engine) == (0, 0)
    assert _events(engine, "ledger.post") == []


def test_balance_of_a_patient_in_another_practice_is_not_found(engine, practice, uow):
    other = make_practice(engine, name="Other Clinic", prefix="o_")
    (theirs,) = add_patients(engine, other.id, 1, prefix="O")
    with pytest.raises(NotFound), uow("biller") as ctx:
        ledger_service.patient_balance(ctx, patient_id=theirs)
