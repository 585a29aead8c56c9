"""Scheduling benchmark: 50 providers, two years of appointments (~1,000,000).

    python -m bench.schedule              # generate bench/data/schedule.db, then measure
    python -m bench.schedule --reuse      # measure the existing database again

Figures (see bench/README.md):

(d) slot finder: the first 20 open slots for one provider over the next 90 days,
    through the real `find_slots` service in a real unit of work as a logged-in
    front-desk user; p95 vs 20 ms;
(e) day view: every appointment of one day for all 50 providers, through the real
    `day_view` service; p95 vs 50 ms.

The generator builds the schema with the migrations and the practice, locations,
providers, appointment types, availability and the user with the real code
paths; patients (20,000) and appointments are bulk-loaded with raw sqlite3 as in
bench/generate.py, indexes dropped during the load and rebuilt from the models.
Each provider works 07:00-12:00 and 12:30-19:30 on weekdays (practice time zone);
days from a year ago to today are ~97% booked, future days from ~95% falling to
~60% a year out, so the slot finder has to look past the busy weeks.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex
from sqlmodel import Session, SQLModel

from bench.generate import _load, _remove, _timestamp
from bench.run import machine
from pms_core import synthetic
from pms_core.db import make_engine
from pms_core.migrations.runner import upgrade
from pms_core.models import AppointmentType, AvailabilityTemplate
from pms_core.services.practice import (
    create_practice,
    insert_location,
    insert_payer,
    insert_provider,
    set_setting,
)
from pms_core.services.users import create_user

DEFAULT_OUT = Path(__file__).parent / "data" / "schedule.db"
USER = "bench_frontdesk"
PASSWORD = "bench-password-1"
PROVIDERS = 50
PATIENTS = 20_000
SLOT_P95_MS = 20.0
DAY_P95_MS = 50.0
WINDOWS = ((dtime(7), dtime(12)), (dtime(12, 30), dtime(19, 30)))
TYPES = (
    ("Quick check", 10, 0.40),
    ("Follow-up", 15, 0.40),
    ("New patient", 30, 0.15),
    ("Procedure", 60, 0.05),
)
APPOINTMENT_COLUMNS = (
    "practice_id", "patient_id", "provider_id", "location_id", "appointment_type_id",
    "starts_at", "ends_at", "status", "overbooked", "created_at", "updated_at",
)  # fmt: skip


def _bootstrap(out: Path, today: date) -> dict:
    engine = make_engine(f"sqlite:///{out}", create_dirs=True)
    upgrade(engine)
    synth = synthetic.Synth(0, today=today)
    with Session(engine) as s:
        set_setting(s, "bench_scale", "true")
        practice = create_practice(
            s, group_npi=synth.npi("1"), **{**synthetic.DEMO_PRACTICE, "name": "Scale Schedule"}
        )
        locations = [
            insert_location(s, practice.id, npi=synth.npi("1"), **loc).id
            for loc in synthetic.DEMO_LOCATIONS
        ]
        base = synthetic.providers(synth)
        providers = []
        for n in range(PROVIDERS):
            fields = {**base[n % len(base)], "npi": synth.npi("1")}
            providers.append(insert_provider(s, practice.id, **fields).id)
        payer_ids = {
            spec.key: insert_payer(s, practice.id, **synthetic.payer_fields(spec)).id
            for spec in synthetic.PAYERS
        }
        types = []
        for name, minutes, _share in TYPES:
            t = AppointmentType(practice_id=practice.id, name=name, duration_minutes=minutes)
            s.add(t)
            s.flush()
            types.append((t.id, minutes))
        year_ago = today - timedelta(days=366)
        for n, provider_id in enumerate(providers):
            for weekday in range(5):
                for start, end in WINDOWS:
                    s.add(
                        AvailabilityTemplate(
                            practice_id=practice.id,
                            provider_id=provider_id,
                            location_id=locations[n % len(locations)],
                            weekday=weekday,
                            start_time=start,
                            end_time=end,
                            effective_from=year_ago,
                        )
                    )
        user = create_user(
            s,
            practice_id=practice.id,
            username=USER,
            full_name="Bench Frontdesk",
            role="frontdesk",
            password=PASSWORD,
        )
        s.commit()
        ids = {
            "practice_id": practice.id,
            "user_id": user.id,
            "payer_ids": payer_ids,
            "providers": providers,
            "locations": locations,
            "types": types,
            "zone": practice.time_zone,
        }
    engine.dispose()
    return ids


def _fill(days_ahead: int) -> float:
    if days_ahead <= 0:
        return 0.97
    return max(0.60, 0.95 - 0.35 * days_ahead / 365)


def _appointments(ids: dict, today: date, rng: random.Random):
    """Rows for every provider's day from a year ago to a year ahead."""
    zone = ZoneInfo(ids["zone"])
    stamp = _timestamp(datetime.now(UTC))
    weights = [share for _n, _m, share in TYPES]
    practice_id = ids["practice_id"]
    for day_offset in range(-365, 366):
        day = today + timedelta(days=day_offset)
        if day.weekday() >= 5:
            continue
        fill = _fill(day_offset)
        for n, provider_id in enumerate(ids["providers"]):
            location_id = ids["locations"][n % len(ids["locations"])]
            for start, end in WINDOWS:
                at = datetime.combine(day, start, tzinfo=zone)
                stop = datetime.combine(day, end, tzinfo=zone)
                while at < stop:
                    type_id, minutes = rng.choices(ids["types"], weights)[0]
                    finish = at + timedelta(minutes=minutes)
                    if finish > stop:
                        type_id, minutes = ids["types"][0]
                        finish = at + timedelta(minutes=minutes)
                    if rng.random() < fill:
                        if day_offset < 0:
                            status = rng.choices(["completed", "no_show"], [0.95, 0.05])[0]
                        else:
                            status = rng.choice(["booked", "confirmed"])
                        yield (
                            practice_id, rng.randint(1, PATIENTS), provider_id, location_id,
                            type_id, _timestamp(at), _timestamp(finish), status, 0, stamp, stamp,
                        )  # fmt: skip
                    at = finish


def generate(out: Path, *, seed: int = 1, log=print) -> dict:
    _remove(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    today = date.today()
    t0 = time.perf_counter()
    ids = _bootstrap(out, today)
    conn = sqlite3.connect(out, isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-524288"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("BEGIN")
    indexes = sorted(SQLModel.metadata.tables["appointment"].indexes, key=lambda i: i.name)
    for index in indexes:
        conn.execute(f'DROP INDEX "{index.name}"')
    _load(conn, PATIENTS, seed, today, ids, False, log)
    sql = (
        f"INSERT INTO appointment ({', '.join(APPOINTMENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(APPOINTMENT_COLUMNS))})"
    )
    rng = random.Random(seed)
    batch: list[tuple] = []
    count = 0
    for row in _appointments(ids, today, rng):
        batch.append(row)
        if len(batch) >= 20_000:
            conn.executemany(sql, batch)
            count += len(batch)
            batch.clear()
    conn.executemany(sql, batch)
    count += len(batch)
    for index in indexes:
        conn.execute(str(CreateIndex(index).compile(dialect=sqlite_dialect.dialect())))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    log(f"generated {count:,} appointments in {time.perf_counter() - t0:.1f} s")
    return {"appointments": count}


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def measure(out: Path, *, runs: int, seed: int) -> None:
    from pms_core.context import unit_of_work
    from pms_core.plugins import get_plugin_manager
    from pms_core.services import appointments

    raw = sqlite3.connect(f"{out.resolve().as_uri()}?mode=ro", uri=True)
    user_id = raw.execute("SELECT id FROM app_user WHERE username = ?", (USER,)).fetchone()[0]
    providers = [r[0] for r in raw.execute("SELECT id FROM provider ORDER BY id")]
    types = [r[0] for r in raw.execute("SELECT id FROM appointment_type ORDER BY id")]
    count = raw.execute("SELECT count(*) FROM appointment").fetchone()[0]
    raw.close()
    engine = make_engine(f"sqlite:///{out}")
    pm = get_plugin_manager()
    rng = random.Random(seed)
    today = date.today()

    def slots(provider_id: int, type_id: int) -> int:
        with unit_of_work(engine, user_id=user_id, pm=pm) as ctx:
            return len(
                appointments.find_slots(
                    ctx,
                    appointment_type_id=type_id,
                    provider_id=provider_id,
                    date_from=today,
                    date_to=today + timedelta(days=90),
                    limit=20,
                )
            )

    def day(d: date) -> int:
        with unit_of_work(engine, user_id=user_id, pm=pm) as ctx:
            return len(appointments.day_view(ctx, day=d).appointments)

    for _ in range(20):  # warm-up
        slots(rng.choice(providers), rng.choice(types))
        day(today + timedelta(days=rng.randint(-30, 30)))

    slot_ms, found = [], []
    for _ in range(runs):
        provider_id, type_id = rng.choice(providers), rng.choice(types)
        t = time.perf_counter()
        found.append(slots(provider_id, type_id))
        slot_ms.append((time.perf_counter() - t) * 1000)
    day_ms, rows = [], []
    for _ in range(runs):
        d = today + timedelta(days=rng.randint(-60, 60))
        t = time.perf_counter()
        rows.append(day(d))
        day_ms.append((time.perf_counter() - t) * 1000)

    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()))
    print(f"{count:,} appointments, {len(providers)} providers; {runs} calls each")
    for name, values, limit, extra in (
        ("(d) find_slots, first 20 over 90 days", slot_ms, SLOT_P95_MS,
         f"slots found: min {min(found)}, median {statistics.median(found):.0f}"),
        ("(e) day_view, all providers", day_ms, DAY_P95_MS,
         f"appointments per day: median {statistics.median(rows):.0f}"),
    ):  # fmt: skip
        p50, p95 = _pct(values, 50), _pct(values, 95)
        verdict = "PASS" if p95 <= limit else "MISS"
        print(
            f"  {name:<40} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  <= {limit:.0f} ms  "
            f"ratio {p95 / limit:.2f}  {verdict}   ({extra})"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--reuse", action="store_true", help="measure the existing database")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not args.reuse:
        generate(args.out, seed=args.seed)
    measure(args.out, runs=args.runs, seed=args.seed)


if __name__ == "__main__":
    main()
