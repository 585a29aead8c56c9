"""The demo practice behind `pms demo`.

`build_demo()` fills an empty database with a practice, its locations, providers
and payers, synthetic patients with coverage and intake, opening balances, a
schedule (see demo_schedule.py), and one user per role with the password "demo". The database is marked as a demo first: that mark is what
allows the well-known password, and what lets a later `--force` replace it.

Patients and coverages go through the real services (`register_patient`,
`add_coverage`) acting as the demo front-desk user, so the demo holds exactly what
registration at the desk would store, audit trail included.

Safety: a database that holds anything but a demo is never touched. Without
`force`, an existing demo is not replaced either.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import pluggy
from sqlalchemy import Engine, func, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from pms_core import synthetic
from pms_core.audit import flush_reads
from pms_core.clock import Clock, FixedClock, SystemClock
from pms_core.context import unit_of_work
from pms_core.db import display_url, remove_sqlite_files, sqlite_path
from pms_core.errors import Conflict, DatabaseError
from pms_core.ledger import Account, Line
from pms_core.migrations.runner import upgrade
from pms_core.models import Claim
from pms_core.money import Money
from pms_core.services.config import set_setting as set_config
from pms_core.services.coverages import add_coverage
from pms_core.services.demo_billing import BillingOffice, BillingSummary
from pms_core.services.demo_schedule import build_schedule
from pms_core.services.ledger import post_entry
from pms_core.services.patients import IntakeInput, register_patient
from pms_core.services.practice import (
    create_practice,
    insert_location,
    insert_payer,
    insert_provider,
    set_setting,
)
from pms_core.services.users import DEMO_PASSWORD, create_user

# username -> role; each user is named after their role.
DEMO_USERS = ("admin", "biller", "frontdesk", "manager", "auditor")
DEFAULT_PATIENTS = 500
DEFAULT_DAYS = 60  # days of practice life simulated before today
MAX_DAYS = 366
_BATCH = 250  # patients per transaction

# What a database holds, as far as the demo is concerned.
EMPTY, DEMO, PMS, OTHER = "empty", "demo", "pms", "other"


@dataclass(frozen=True)
class DemoSummary:
    """What `build_demo` built."""

    database: str
    seed: int
    practice_id: int
    practice_name: str
    locations: int
    providers: int
    payers: int
    patients: int
    coverages: int
    with_secondary: int
    dependents: int
    intake_items: int
    opening_balances: int = 0
    appointments: int = 0
    reminders_sent: int = 0  # written to `outbox` (reminders.outbox_dir)
    reminder_replies: int = 0
    outbox: str = ""
    encounters: int = 0
    claims: int = 0
    claims_submitted: int = 0
    billing: BillingSummary | None = None  # the days of practice life simulated
    days: int = 0
    users: dict[str, int] = field(default_factory=dict)
    replaced: bool = False
    seconds: float = 0.0


def describe(engine: Engine) -> str:
    """Where the database is, for messages: the file, or the URL without password."""
    path = _sqlite_file(engine)
    return str(path) if path is not None else display_url(str(engine.url))


def _sqlite_file(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    return sqlite_path(engine.url.render_as_string(hide_password=False))


def database_state(engine: Engine) -> str:
    """EMPTY (nothing there, or a pms schema nobody has used yet), DEMO, PMS (a pms
    database in use that is not a demo) or OTHER (something else, or unreadable).

    A SQLite file is inspected read-only, so a file we refuse to touch is left
    exactly as it was.
    """
    path = _sqlite_file(engine)
    if path is not None:
        if not path.exists() or path.stat().st_size == 0:
            return EMPTY
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                return _classify(
                    lambda sql: conn.execute(sql).fetchall(),
                    {
                        r[0]
                        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                    },
                )
            finally:
                conn.close()
        except sqlite3.Error:
            return OTHER
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            return _classify(lambda sql: conn.execute(text(sql)).fetchall(), tables)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"the database at {describe(engine)} could not be opened") from exc


def _classify(query: Callable[[str], list], tables: set[str]) -> str:
    if not tables:
        return EMPTY
    if "setting" in tables and query("SELECT value FROM setting WHERE key = 'demo'") == [("true",)]:
        return DEMO
    if {"alembic_version", "practice", "app_user"} <= tables:
        used = query("SELECT (SELECT COUNT(*) FROM practice) + (SELECT COUNT(*) FROM app_user)")
        return PMS if used[0][0] else EMPTY
    return PMS if "alembic_version" in tables else OTHER


def _refuse(engine: Engine, state: str, force: bool) -> None:
    where = describe(engine)
    if state == PMS:
        raise Conflict(
            f"{where} holds a pms database that is not a demo; the demo never overwrites "
            "it (build the demo into another database with --db)"
        )
    if state == OTHER:
        raise Conflict(
            f"{where} is not empty and is not a pms demo database; the demo will not "
            "overwrite it (build the demo into another database with --db)"
        )
    if state == DEMO and not force:
        raise Conflict(f"{where} already holds a demo database; use --force to replace it")


def _wipe(engine: Engine) -> None:
    """Remove a demo database so it can be built again."""
    engine.dispose()
    path = _sqlite_file(engine)
    if path is not None:
        remove_sqlite_files(path)
        return
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        conn.execute(text("GRANT USAGE ON SCHEMA public TO PUBLIC"))
    engine.dispose()


def build_demo(
    engine: Engine,
    *,
    seed: int = 1,
    patients: int = DEFAULT_PATIENTS,
    force: bool = False,
    pm: pluggy.PluginManager | None = None,
    clock: Clock | None = None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    days: int = DEFAULT_DAYS,
) -> DemoSummary:
    """Build the demo practice into `engine`'s database (migrating it first).

    The same `seed` gives the same practice, people and coverage; ages and coverage
    dates are relative to `today` (default: today in the practice's time zone, from
    `clock`), so the data is identical for the same seed and day.

    Raises Conflict when the database holds anything but a demo, and when it holds
    a demo and `force` is false. `progress(done, total)` is called after each batch
    of patients. `days` of practice life before today are simulated (see
    demo_schedule and demo_billing): visits, eligibility, claims, the sandbox
    payer's answers and remits, payments and statements.
    """
    if patients < 0:
        raise ValueError("patients must be zero or more")
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 0 to {MAX_DAYS}")
    started = time.perf_counter()
    state = database_state(engine)
    _refuse(engine, state, force)
    replaced = state == DEMO
    if replaced:
        _wipe(engine)
    path = _sqlite_file(engine)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    upgrade(engine)

    if pm is None:
        from pms_core.plugins import get_plugin_manager

        pm = get_plugin_manager()
    # One "now" for the whole build: a build that runs over midnight must not
    # see today's appointments turn into yesterday's halfway through.
    clock = FixedClock((clock or SystemClock()).now())
    tz = ZoneInfo(synthetic.DEMO_PRACTICE["time_zone"])
    today = today or clock.now().astimezone(tz).date()
    synth = synthetic.Synth(seed, today=today, local_places=synthetic.LOCAL_PLACES, unique=True)

    with Session(engine) as s:
        # The demo mark comes first: it is what allows the "demo" passwords below.
        set_setting(s, "demo", "true")
        practice = create_practice(s, group_npi=synth.npi("1"), **synthetic.DEMO_PRACTICE)
        practice_id, practice_name = practice.id, practice.name
        for loc in synthetic.DEMO_LOCATIONS:
            insert_location(s, practice_id, npi=synth.npi("1"), **loc)
        providers = synthetic.providers(synth)
        for prov in providers:
            insert_provider(s, practice_id, **prov)
        payer_ids = {
            spec.key: insert_payer(s, practice_id, **synthetic.payer_fields(spec)).id
            for spec in synthetic.PAYERS
        }
        users: dict[str, int] = {}
        for role in DEMO_USERS:
            sex = synth.rng.choice("FM")
            full_name = f"{synth.first_name(sex)} {synth.last_name()}"
            users[role] = create_user(
                s,
                practice_id=practice_id,
                username=role,
                full_name=full_name,
                role=role,
                password=DEMO_PASSWORD,
            ).id
        s.commit()

    counts = {"patients": 0, "coverages": 0, "secondary": 0, "dependents": 0, "intake": 0}
    ids: dict[int, int] = {}  # synthetic key -> patient id
    primary: dict[int, tuple[int, int]] = {}  # patient id -> (coverage id, payer id)
    stream = synth.patients(patients)
    while counts["patients"] < patients:
        batch = list(islice(stream, _BATCH))
        with unit_of_work(engine, user_id=users["frontdesk"], pm=pm, clock=clock) as ctx:
            for p in batch:
                _register(ctx, p, ids, payer_ids, counts, primary)
        if progress is not None:
            progress(counts["patients"], patients)
    with unit_of_work(engine, user_id=users["biller"], pm=pm, clock=clock) as ctx:
        counts["opening"] = _opening_balances(ctx, synth.rng, today, sorted(ids.values()), primary)
    outbox = _demo_folder(engine, "outbox")
    with unit_of_work(engine, user_id=users["admin"], pm=pm, clock=clock) as ctx:
        set_config(ctx, key="reminders.outbox_dir", value=str(outbox))
    office = BillingOffice(
        engine, users=users, payer_ids=payer_ids, rng=synth.rng, pm=pm, zone=tz,
        folder=_demo_folder(engine, "clearinghouse"),
    )  # fmt: skip
    office.setup(today - timedelta(days=days + 7))
    schedule = None
    if ids:
        schedule = build_schedule(
            engine,
            users=users,
            patient_ids=sorted(ids.values()),
            today=today,
            zone=tz,
            rng=synth.rng,
            pm=pm,
            clock=clock,
            days_back=days,
            before_day=office.morning,
            after_day=office.evening,
            outbox=outbox,
        )
    office.finish(today, clock)
    # The reads the simulation audited (schedules shown, ...) are in the chain
    # before the build returns: a caller may drop the database right after.
    flush_reads(engine)
    billing = office.summary
    with Session(engine) as s:
        billing.secondary_claims = s.exec(
            select(func.count()).select_from(Claim).where(col(Claim.prior_claim_id).is_not(None))
        ).one()

    return DemoSummary(
        database=describe(engine),
        seed=seed,
        practice_id=practice_id,
        practice_name=practice_name,
        locations=len(synthetic.DEMO_LOCATIONS),
        providers=len(providers),
        payers=len(payer_ids),
        patients=counts["patients"],
        coverages=counts["coverages"],
        with_secondary=counts["secondary"],
        dependents=counts["dependents"],
        intake_items=counts["intake"],
        opening_balances=counts["opening"],
        appointments=schedule.appointments if schedule else 0,
        reminders_sent=schedule.reminders_sent if schedule else 0,
        reminder_replies=schedule.replies if schedule else 0,
        outbox=str(outbox),
        encounters=billing.encounters,
        claims=billing.claims,
        claims_submitted=billing.submitted,
        billing=billing,
        days=days,
        users=users,
        replaced=replaced,
        seconds=time.perf_counter() - started,
    )


def _demo_folder(engine: Engine, name: str) -> Path:
    """Where the demo's files of one kind go (`name`: the clearinghouse's
    folders, the reminder outbox): beside a SQLite database file, else in the
    user data directory under the database's name. Emptied first: what is there
    belongs to a demo this build replaces (its batch numbers start again at 1,
    and a file of the same name is never overwritten)."""
    path = _sqlite_file(engine)
    if path is not None:
        folder = path.parent / f"{path.stem}-{name}"
    else:
        from platformdirs import user_data_dir

        url = engine.url
        database = "-".join(str(p) for p in (url.host, url.port, url.database) if p)
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in database)
        folder = Path(user_data_dir("pms", appauthor=False)) / f"demo-{name}-{safe}"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def _opening_balances(
    ctx, rng, today: date, patient_ids: list[int], primary: dict[int, tuple[int, int]]
) -> int:
    """Balances brought over from the practice's previous system, posted through the
    ledger service like an import would: about a third of patients owe something
    themselves, about a fifth have a claim balance still open with their primary
    payer. Returns the number of entries posted."""
    posted = 0
    for patient_id in patient_ids:
        lines = []
        if rng.random() < 0.33:
            owed = Money(rng.randrange(10_00, 400_00, 5))
            lines.append(Line(Account.AR_PATIENT, owed, patient_id=patient_id))
        if patient_id in primary and rng.random() < 0.2:
            coverage_id, payer_id = primary[patient_id]
            owed = Money(rng.randrange(50_00, 1_500_00, 5))
            lines.append(
                Line(
                    Account.AR_INSURANCE,
                    owed,
                    patient_id=patient_id,
                    payer_id=payer_id,
                    coverage_id=coverage_id,
                )
            )
        if not lines:
            continue
        total = Money.sum(line.amount for line in lines)
        lines.append(Line(Account.OPENING_BALANCE, -total))
        post_entry(
            ctx,
            entry_date=today - timedelta(days=rng.randrange(5, 150)),
            kind="opening_balance",
            lines=lines,
            memo="balance from previous system",
        )
        posted += 1
    return posted


def _register(
    ctx,
    p: dict,
    ids: dict[int, int],
    payer_ids: dict[str, int],
    counts,
    primary: dict[int, tuple[int, int]],
) -> None:
    patient = register_patient(
        ctx,
        intake=[IntakeInput(kind, desc, detail) for kind, desc, detail in p["intake"]],
        guarantor_id=ids.get(p["guarantor_key"]),
        **synthetic.patient_fields(p),
    )
    ids[p["key"]] = patient.id
    counts["patients"] += 1
    counts["intake"] += len(p["intake"])
    for cov in p["coverages"]:
        fields = {k: v for k, v in cov.items() if k not in ("payer", "copay_cents")}
        coverage = add_coverage(
            ctx,
            patient_id=patient.id,
            payer_id=payer_ids[cov["payer"]],
            copay=Money(cov["copay_cents"]),
            **fields,
        )
        if cov["priority"] == 1:
            primary[patient.id] = (coverage.id, coverage.payer_id)
        counts["coverages"] += 1
        counts["secondary"] += cov["priority"] == 2
    if any(c["relationship"] != "self" for c in p["coverages"]):
        counts["dependents"] += 1


__all__ = ["DEMO_USERS", "DemoSummary", "build_demo", "database_state", "describe"]
