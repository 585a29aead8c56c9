"""The demo practice: what it holds, determinism, and never overwriting real data."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from pms_core import audit, ledger
from pms_core import validation as v
from pms_core.db import make_engine
from pms_core.errors import Conflict
from pms_core.models import (
    Appointment,
    AppointmentSeries,
    AppointmentType,
    Claim,
    Coverage,
    Encounter,
    IntakeItem,
    Location,
    Patient,
    Payer,
    Practice,
    Provider,
    Reminder,
    ReminderReply,
    ReminderRule,
    User,
    WaitlistEntry,
)
from pms_core.money import Money
from pms_core.passwords import verify_password
from pms_core.services.demo import DEMO, EMPTY, OTHER, PMS, build_demo, database_state
from pms_core.services.practice import is_demo_database
from pms_core.synthetic import LOCAL_PLACES, Synth, member_id_search, search_columns
from tests.helpers import make_practice

N = 40
SSN_LIKE = re.compile(r"\d{3}-?\d{2}-?\d{4}")


@pytest.fixture(params=["sqlite", "postgres"])
def new_db(request, tmp_path):
    """`new_db()` returns the URL of a new database with nothing in it (no schema):
    a SQLite file that does not exist yet (nor its directory), or a new PostgreSQL
    database."""
    if request.param == "postgres":
        databases = request.getfixturevalue("pg_databases")
        return lambda: databases.create("pms_demo")
    return lambda: f"sqlite:///{tmp_path / uuid.uuid4().hex[:8] / 'pms.db'}"


def build(url: str, clock, **kw):
    """A demo with a short history unless the test asks for more days."""
    engine = make_engine(url)
    kw.setdefault("days", 5)
    try:
        return build_demo(engine, clock=clock, **kw)
    finally:
        engine.dispose()


def count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()[0]


# What must be identical between two builds with the same seed (timestamps that come
# from the system clock and salted password hashes excepted).
SNAPSHOT_SKIP = {
    "practice": (),
    "location": (),
    "provider": (),
    "payer": (),
    "patient": ("created_at", "updated_at"),
    "coverage": (),
    "intake_item": (),
    "app_user": ("password_hash", "created_at"),
    "journal_entry": (),
    "posting": (),
}


def snapshot(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            for name, skip in SNAPSHOT_SKIP.items():
                table = SQLModel.metadata.tables[name]
                cols = [c for c in table.columns if c.name not in skip]
                out[name] = [tuple(r) for r in conn.execute(select(*cols).order_by(table.c.id))]
    finally:
        engine.dispose()
    return out


def test_demo_practice_has_what_the_desk_expects(new_db, clock):
    url = new_db()
    summary = build(url, clock, patients=N)
    assert (summary.locations, summary.providers, summary.payers, summary.patients) == (3, 6, 12, N)
    engine = make_engine(url)
    with Session(engine) as s:
        assert is_demo_database(s)
        assert count(s, Practice) == 1
        assert count(s, Location) == 3
        assert count(s, Provider) == summary.providers
        payers = s.exec(select(Payer)).scalars().all()
        assert len(payers) == 12
        assert {p.claim_filing_indicator for p in payers} == {"CI", "MB", "MC", "BL", "HM"}
        assert len({p.edi_payer_id for p in payers}) == 12
        patients = s.exec(select(Patient)).scalars().all()
        coverages = s.exec(select(Coverage)).scalars().all()
        assert len(patients) == N and len(coverages) == summary.coverages
        assert count(s, IntakeItem) == summary.intake_items > 0

        # every patient has a primary; some have a secondary; dependents name the subscriber
        by_patient: dict[int, list[Coverage]] = {}
        for c in coverages:
            by_patient.setdefault(c.patient_id, []).append(c)
        assert all(1 in {c.priority for c in by_patient.get(p.id, [])} for p in patients)
        assert 0 < summary.with_secondary == sum(c.priority == 2 for c in coverages)
        dependents = [c for c in coverages if c.relationship != "self"]
        assert {c.relationship for c in dependents} <= {"spouse", "child"} and dependents
        assert all(
            c.subscriber_last_name and c.subscriber_dob and c.subscriber_sex for c in dependents
        )

        # minors have an adult guarantor who is a patient of the practice
        today = date(2026, 3, 2)
        minors = [p for p in patients if (today - p.dob).days < 18 * 365]
        assert minors
        for p in minors:
            guarantor = s.get(Patient, p.guarantor_id)
            assert guarantor is not None and (today - guarantor.dob).days >= 18 * 365
            assert p.guarantor_relationship == "parent"

        # stored exactly as the services store them
        for p in patients:
            assert (p.search_first, p.search_last) == (v.fold(p.first_name), v.fold(p.last_name))
            assert 0 <= (today - p.dob).days < 96 * 366
        assert all(c.member_id_search == v.fold_member_id(c.member_id) for c in coverages)

        # identifiers that pass their checks; contact data that cannot reach anyone
        npis = [s.exec(select(Practice.group_npi)).one()[0]]
        npis += [n for n in s.exec(select(Provider.npi)).scalars()]
        npis += [n for n in s.exec(select(Location.npi)).scalars()]
        assert all(v.npi_valid(n) for n in npis)
        phones = [x for p in patients for x in (p.home_phone, p.mobile_phone) if x]
        assert phones and all(re.fullmatch(r"[2-9]\d{2}55501\d{2}", x) for x in phones)
        emails = [p.email for p in patients if p.email]
        assert emails and all(re.search(r"@example\.(com|org|net)$", e) for e in emails)

        # nothing that looks like a social security number, anywhere
        assert not any("ssn" in c.name for c in Patient.__table__.columns)
        for row in [*patients, *coverages]:
            for value in row.model_dump().values():
                assert not (isinstance(value, str) and SSN_LIKE.fullmatch(value)), value

        # one user per role, each logs in with "demo"
        users = s.exec(select(User)).scalars().all()
        assert sorted((u.username, u.role) for u in users) == sorted(
            (r, r) for r in ("admin", "biller", "frontdesk", "manager", "auditor")
        )
        assert all(verify_password(u.password_hash, "demo") for u in users)
        assert summary.users == {u.username: u.id for u in users}

        # registered through the services: audited, and the chain holds
        assert audit.verify(s).ok
        actions = s.exec(text("SELECT action, COUNT(*) FROM audit_event GROUP BY action")).all()
        assert dict(actions)["patient.create"] == N

        # opening balances from the "previous system", posted through the ledger
        entries = dict(s.exec(text("SELECT kind, COUNT(*) FROM journal_entry GROUP BY kind")).all())
        assert entries["opening_balance"] == summary.opening_balances
        assert entries["charge"] == summary.encounters  # one entry per visit charged
        assert set(entries) <= {
            "opening_balance", "charge", "era_payment", "era_unapplied",
            "era_provider_adjustment", "patient_payment",
        }  # fmt: skip
        assert 0 < summary.opening_balances < N
        totals = ledger.account_balances(s, summary.practice_id)
        assert Money.sum(totals.values()) == Money(0)
        assert totals[ledger.Account.AR_PATIENT].cents > 0
        assert totals[ledger.Account.AR_INSURANCE].cents > 0
        assert dict(actions)["ledger.post"] == summary.opening_balances

        # a schedule around today, booked and worked through the services
        assert summary.appointments == count(s, Appointment) > 0
        assert dict(actions)["appointment.book"] == summary.appointments
        assert count(s, AppointmentType) == 5 and count(s, ReminderRule) == 2
        past = s.exec(select(Appointment).where(Appointment.starts_at < clock.now())).scalars()
        past = past.all()
        future = s.exec(select(Appointment).where(Appointment.starts_at > clock.now())).scalars()
        future = future.all()
        assert past and {a.status for a in past} <= {
            "completed",
            "no_show",
            "cancelled",
            "arrived",
            "in_room",
        }
        assert future and {a.status for a in future} <= {"booked", "confirmed", "cancelled"}
        assert count(s, AppointmentSeries) == 1 and count(s, WaitlistEntry) >= 1

        # reminders went to the outbox beside the database, never to a patient,
        # and the patients who answered "C" confirmed their visits
        outbox = Path(summary.outbox)
        assert outbox.parent == Path(url.removeprefix("sqlite:///")).parent or "postgres" in url
        sent = s.exec(select(Reminder).where(Reminder.status == "sent")).scalars().all()
        assert summary.reminders_sent == len(sent) > 0
        written = [
            json.loads(line)["key"]
            for path in outbox.glob("*/*.jsonl")
            if path.name != "replies.jsonl"
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        assert sorted(written) == sorted(r.message_key for r in sent)
        replies = s.exec(select(ReminderReply)).scalars().all()
        assert summary.reminder_replies >= len(replies) > 0
        confirmed = [a for a in [*past, *future] if a.confirmed_at is not None]
        assert len(confirmed) == sum(r.result == "confirmed" for r in replies) > 0

        # every visit seen is charged and billed; those before today went to the
        # sandbox payer, which answered them (see the revenue cycle test below)
        completed = [a for a in past if a.status == "completed"]
        assert summary.encounters == len(completed) == count(s, Encounter) > 0
        claims = s.exec(select(Claim)).scalars().all()
        assert len(claims) == summary.claims >= summary.encounters
        assert summary.claims_submitted > 0 and summary.billing.eligibility_checks > 0
    engine.dispose()


def test_same_seed_builds_identical_data_and_another_seed_differs(new_db, clock):
    first, second, other = new_db(), new_db(), new_db()
    build(first, clock, seed=7, patients=N)
    build(second, clock, seed=7, patients=N)
    build(other, clock, seed=8, patients=N)
    a, b, c = snapshot(first), snapshot(second), snapshot(other)
    assert a == b
    assert len(a["patient"]) == N
    assert a["patient"] != c["patient"] and a["coverage"] != c["coverage"]


def test_an_existing_demo_is_replaced_only_with_force(new_db, clock):
    url = new_db()
    build(url, clock, seed=1, patients=10)
    with pytest.raises(Conflict, match="already holds a demo database; use --force"):
        build(url, clock, seed=2, patients=5)
    summary = build(url, clock, seed=2, patients=5, force=True)
    assert summary.replaced and summary.patients == 5
    engine = make_engine(url)
    with Session(engine) as s:
        assert count(s, Practice) == 1 and count(s, Patient) == 5
        assert audit.verify(s).ok
        assert is_demo_database(s)
    engine.dispose()


def _sqlite_bytes(url: str) -> str:
    return hashlib.sha256(Path(make_url(url).database).read_bytes()).hexdigest()


def _contents(engine) -> tuple:
    with Session(engine) as s:
        return (
            count(s, Practice),
            count(s, User),
            count(s, Patient),
            s.exec(text("SELECT COUNT(*) FROM setting")).one()[0],
        )


@pytest.mark.parametrize("force", [False, True])
def test_a_real_database_is_never_overwritten(engine, db_url, clock, force):
    make_practice(engine)
    before = _contents(engine)
    engine.dispose()
    file_before = _sqlite_bytes(db_url) if db_url.startswith("sqlite") else None
    assert database_state(engine) == PMS
    with pytest.raises(Conflict, match="not a demo; the demo never overwrites it"):
        build_demo(engine, clock=clock, patients=5, force=force)
    assert _contents(engine) == before
    if file_before is not None:
        assert _sqlite_bytes(db_url) == file_before
    with Session(engine) as s:
        assert not is_demo_database(s)


@pytest.mark.parametrize("content", ["foreign", "garbage"])
def test_a_file_that_is_not_pms_is_left_alone(tmp_path, clock, content):
    path = tmp_path / "other.db"
    if content == "foreign":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO recipes (name) VALUES ('soup')")
        conn.commit()
        conn.close()
    else:
        path.write_bytes(b"not a database, just some notes\n" * 100)
    before = path.read_bytes()
    engine = make_engine(f"sqlite:///{path}")
    assert database_state(engine) == OTHER
    for force in (False, True):
        with pytest.raises(Conflict, match="is not empty and is not a pms demo database"):
            build_demo(engine, clock=clock, patients=5, force=force)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_a_migrated_but_unused_database_counts_as_empty(engine, clock):
    assert database_state(engine) == EMPTY
    summary = build_demo(engine, clock=clock, patients=5, days=0)
    assert summary.patients == 5 and not summary.replaced
    assert database_state(engine) == DEMO


def test_synthetic_stream_is_deterministic_and_folds_like_the_services():
    def people(seed: int) -> list[dict]:
        synth = Synth(seed, today=date(2026, 3, 2), local_places=LOCAL_PLACES, unique=True)
        return list(synth.patients(300))

    a, b, c = people(3), people(3), people(4)
    assert a == b and a != c
    assert [p["key"] for p in a] == list(range(1, 301))
    keys = {p["key"] for p in a}
    assert all(p["guarantor_key"] in keys for p in a if p["guarantor_key"])
    assert all(p["guarantor_key"] < p["key"] for p in a if p["guarantor_key"])
    assert len({(v.fold(p["first_name"]), v.fold(p["last_name"]), p["dob"]) for p in a}) == 300
    for p in a:
        assert search_columns(p) == (v.fold(p["first_name"]), v.fold(p["last_name"]))
        for cov in p["coverages"]:
            assert member_id_search(cov["member_id"]) == v.fold_member_id(cov["member_id"])
            assert not re.fullmatch(r"\d{9}", cov["member_id"])


def test_the_demo_runs_the_revenue_cycle_and_the_books_balance(new_db, clock, pm):
    """Three weeks of practice life against the sandbox payer (smaller than the
    real demo), then the books: every claim payment balances, patient balances
    are their postings, no claim waits on the payer past its adjudication
    window, and a second poll changes nothing."""
    from collections import defaultdict
    from datetime import timedelta

    from pms_core.context import unit_of_work
    from pms_core.models import JournalEntry, Posting, RemittanceAdjustment, RemittanceClaim
    from pms_core.services import submission

    url = new_db()
    summary = build(url, clock, patients=60, days=21)
    b = summary.billing
    assert b.eligibility_checks and b.remittances and b.patient_payments and b.responses
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            claims = s.exec(select(Claim)).scalars().all()
            statuses = {c.status for c in claims}
            assert statuses & {"paid", "partially_paid"}, statuses
            # the sandbox answers within 3 to 9 days: nothing sent before that still waits
            stale = clock.now() - timedelta(days=12)
            assert not [
                c.id for c in claims
                if c.status in ("submitted", "accepted", "acknowledged") and c.submitted_at < stale
            ]  # fmt: skip
            for rc in s.exec(select(RemittanceClaim)).scalars():
                adjusted = s.exec(
                    select(func.coalesce(func.sum(RemittanceAdjustment.amount_cents), 0)).where(
                        RemittanceAdjustment.remittance_claim_id == rc.id
                    )
                ).one()[0]
                assert rc.charge_cents == rc.paid_cents + adjusted, rc.claim_number
            assert s.exec(select(func.sum(Posting.amount_cents))).one()[0] == 0
            owed = defaultdict(int)
            for account, patient_id, cents in s.exec(
                select(Posting.account, Posting.patient_id, Posting.amount_cents).where(
                    Posting.account.in_(("ar:patient", "ar:insurance"))
                )
            ):
                owed[(account, patient_id)] += cents
            for (account, patient_id), cents in owed.items():
                balance = ledger.patient_balance(s, summary.practice_id, patient_id)
                shown = balance.patient if account == "ar:patient" else balance.insurance
                assert shown.cents == cents, (account, patient_id)

        def poll():
            user = summary.users["biller"]
            with unit_of_work(engine, user_id=user, pm=pm, clock=clock) as ctx:
                return submission.poll_clearinghouse(ctx)

        def entries():
            with Session(engine) as s:
                return s.exec(select(func.count()).select_from(JournalEntry)).one()[0]

        poll()
        before = entries()
        assert poll() == [] and entries() == before
        check_reports_against_the_books(engine, summary, pm, clock)
    finally:
        engine.dispose()


def check_reports_against_the_books(engine, summary, pm, clock):
    """Every built-in report runs on the simulated office, and its totals
    equal the same figures counted straight from the tables."""
    from pms_core.context import unit_of_work
    from pms_core.models import (
        Claim,
        ClaimEvent,
        JournalEntry,
        Posting,
        Remittance,
        RemittanceClaim,
        RemittanceLine,
    )
    from pms_core.services import reports

    today = clock.now().date()
    since = today.replace(day=1) - timedelta(days=62)

    def run(name, **params):
        with unit_of_work(engine, user_id=summary.users["manager"], pm=pm, clock=clock) as ctx:
            return reports.run_report(ctx, name, {k: str(v) for k, v in params.items()})

    month = today.replace(day=1) - timedelta(days=1)  # last month, whole
    first = month.replace(day=1)
    aging = [run("ar_aging", basis=basis).totals for basis in ("service", "submission")]
    by_patient = run("ar_aging", by="patient").totals
    balances = run("patient_balances").rows[0]
    close = run("month_end", month=f"{month:%Y-%m}").totals
    collected = run("collections", date_from=since, date_to=today).totals
    denials = run("denials", date_from=since).totals
    denials_by = [run("denials", date_from=since, by=by).totals for by in ("payer", "provider")]
    first_pass = run("first_pass", date_from=today - timedelta(days=400)).totals
    performance = run("payer_performance", date_from=since).totals
    volume = run("appointments").totals
    effect = {r["group"]: r for r in run("reminder_effect", date_from=since).rows}

    with Session(engine) as s:

        def postings(*accounts, first=date(1900, 1, 1), last=today):
            return s.exec(
                select(func.coalesce(func.sum(Posting.amount_cents), 0))
                .join(JournalEntry, JournalEntry.id == Posting.entry_id)
                .where(
                    Posting.account.in_(accounts),
                    JournalEntry.entry_date >= first,
                    JournalEntry.entry_date <= last,
                )
            ).one()[0]

        for totals in (*aging, by_patient):
            assert totals["total"] == postings("ar:patient", "ar:insurance") != 0
        assert balances["patient_ar"] == postings("ar:patient")
        assert close["charges"] == -postings("revenue:charges", first=first, last=month) > 0
        assert close["payments"] - close["refunds"] == postings("cash", first=first, last=month)
        assert close["contractual"] == postings("adjustment:contractual", first=first, last=month)
        assert collected["charges"] == -postings("revenue:charges", first=since)
        assert collected["payments"] - collected["refunds"] == postings("cash", first=since)

        lines = s.exec(
            select(RemittanceLine.denied)
            .join(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
            .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
            .where(
                Remittance.status == "posted",
                RemittanceClaim.status_code != "22",
                Remittance.payment_date >= since,
            )
        ).all()
        assert (denials["adjudicated"], denials["denied"]) == (
            len(lines),
            sum(1 for (d,) in lines if d),
        )
        assert denials["adjudicated"] > 0
        assert [t["denied"] for t in denials_by] == [denials["denied"]] * 2
        sent = s.exec(
            select(Claim.id).where(Claim.frequency == "1", Claim.first_submitted_at.is_not(None))
        ).all()
        assert first_pass["submitted"] == len(sent)
        rejected = s.exec(
            select(func.count(func.distinct(ClaimEvent.claim_id))).where(
                ClaimEvent.to_status == "rejected"
            )
        ).one()[0]
        assert first_pass["rejected"] == rejected
        assert first_pass["clean"] + first_pass["rejected"] + first_pass["denied"] == len(sent)
        # the sandbox pays 3 to 9 of its days after receipt
        assert performance["claims"] > 0 and 3 <= performance["avg_days"] <= performance["p90_days"]
        assert performance["p90_days"] <= 12
        assert volume["appointments"] > 0
        assert effect["Confirmed"]["appointments"] > 0
