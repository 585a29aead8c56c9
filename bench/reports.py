"""Reports benchmark (issue 7): A/R aging on 2,000,000 charges and 5,000,000
postings against one hand-written SQL aggregate computing the same buckets,
and the dashboard's first paint on that database.

    python -m bench.reports              # generate bench/data/reports.db, then measure
    python -m bench.reports --reuse      # measure the existing file again

The database: the scale generator's patients and coverages (50,000), then,
bulk-inserted with raw sqlite3 as `bench/generate.py` does, 700,000 posted
encounters over the last 400 days holding 2,000,000 charges (a charge entry
per encounter: insurance or patient A/R and revenue, two postings per charge),
and 500,000 payer payments on charges (cash and A/R credit): 5,000,000
postings in all.

Figures (see bench/README.md):
- aging: `reports.compute(ctx, "ar_aging", ...)` in a unit of work, as the CLI
  and the dashboard run it, against the same buckets from one hand-written SQL
  statement on a raw sqlite3 connection; best of 3 each, the results compared
  to the cent. Target: at most 1.5x.
- dashboard: a headless TUI signed in as the bench user opens the dashboard
  (F9): time to its first paint (the screen drawn: heading, tiles waiting for
  their figures; `call_after_refresh`), to the first tile's figure and to
  everything (figures, bars, trends). Target: first paint under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.generate import _timestamp
from bench.generate import generate as generate_patients
from bench.run import machine

DEFAULT_OUT = Path(__file__).parent / "data" / "reports.db"
ENCOUNTERS = 700_000
CHARGES = 2_000_000
PAYMENTS = 500_000
PATIENTS = 50_000
DAYS = 400
BATCH = 50_000
AGING_LIMIT = 1.5
PAINT_LIMIT_S = 1.0
CODES = (("99213", 12500), ("99214", 17500), ("36415", 1500), ("81002", 900), ("90471", 2500))


def generate(out: Path, seed: int = 7, log=print) -> None:
    started = time.perf_counter()
    generate_patients(out, patients=PATIENTS, seed=seed, intake=False, force=True, log=log)
    conn = sqlite3.connect(out, isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=OFF",
                   "cache_size=-524288", "temp_store=MEMORY"):  # fmt: skip
        conn.execute(f"PRAGMA {pragma}")
    practice_id = conn.execute("SELECT id FROM practice").fetchone()[0]
    providers = [r[0] for r in conn.execute("SELECT id FROM provider")]
    locations = [r[0] for r in conn.execute("SELECT id FROM location")]
    coverage = dict(
        conn.execute("SELECT patient_id, payer_id FROM coverage WHERE priority = 1").fetchall()
    )
    patients = [r[0] for r in conn.execute("SELECT id FROM patient")]
    rng = random.Random(seed)
    today = date.today()
    stamp = _timestamp(datetime.now(UTC))
    conn.execute("BEGIN")
    encounter_rows, charge_rows, entry_rows, posting_rows = [], [], [], []
    paid: list[tuple] = []  # (charge id, patient, payer, provider, location, amount, dos)
    charge_id = entry_id = posting_id = 0
    per_encounter = [CHARGES // ENCOUNTERS + (1 if n < CHARGES % ENCOUNTERS else 0)
                     for n in range(ENCOUNTERS)]  # fmt: skip

    def flush(force: bool = False) -> None:
        if force or len(posting_rows) >= BATCH:
            conn.executemany(
                "INSERT INTO encounter (id, practice_id, patient_id, provider_id, location_id, "
                "date_of_service, place_of_service, claim_kind, status, created_at, posted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, '11', '837P', 'posted', ?, ?)",
                encounter_rows,
            )
            conn.executemany(
                "INSERT INTO charge (id, practice_id, encounter_id, patient_id, line_number, code, "
                "units, unit_basis, unit_price_cents, amount_cents, diagnosis_pointers, "
                "service_date, status, created_at, posted_entry_id) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, 'UN', ?, ?, '1', ?, 'posted', ?, ?)",
                charge_rows,
            )
            conn.executemany(
                "INSERT INTO journal_entry (id, practice_id, entry_date, posted_at, kind, memo) "
                "VALUES (?, ?, ?, ?, ?, '')",
                entry_rows,
            )
            conn.executemany(
                "INSERT INTO posting (id, entry_id, practice_id, account, amount_cents, "
                "patient_id, coverage_id, payer_id, provider_id, location_id, charge_id, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                posting_rows,
            )
            for rows in (encounter_rows, charge_rows, entry_rows, posting_rows):
                rows.clear()

    for n in range(ENCOUNTERS):
        patient = rng.choice(patients)
        payer = coverage.get(patient)
        provider, location = rng.choice(providers), rng.choice(locations)
        dos = today - timedelta(days=rng.randrange(DAYS))
        entry_id += 1
        encounter_rows.append((n + 1, practice_id, patient, provider, location, dos.isoformat(),
                               stamp, stamp))  # fmt: skip
        entry_rows.append((entry_id, practice_id, dos.isoformat(), stamp, "charge"))
        for line in range(per_encounter[n]):
            code, cents = CODES[rng.randrange(len(CODES))]
            charge_id += 1
            charge_rows.append((charge_id, practice_id, n + 1, patient, line + 1, code, cents,
                                cents, dos.isoformat(), stamp, entry_id))  # fmt: skip
            account = "ar:insurance" if payer else "ar:patient"
            posting_id += 2
            posting_rows.append((posting_id - 1, entry_id, practice_id, account, cents, patient,
                                 payer, provider, location, charge_id, None))  # fmt: skip
            posting_rows.append((posting_id, entry_id, practice_id, "revenue:charges", -cents,
                                 patient, None, provider, location, charge_id, None))  # fmt: skip
            if payer and len(paid) < PAYMENTS * 3:
                paid.append((charge_id, patient, payer, provider, location, cents, dos))
        flush()
    for charge, patient, payer, provider, location, cents, dos in rng.sample(paid, PAYMENTS):
        day = min(today, dos + timedelta(days=rng.randint(10, 45)))
        amount = cents * rng.randint(50, 90) // 100
        entry_id += 1
        entry_rows.append((entry_id, practice_id, day.isoformat(), stamp, "era_payment"))
        posting_id += 2
        posting_rows.append((posting_id - 1, entry_id, practice_id, "cash", amount, patient,
                             payer, provider, location, charge, "paid"))  # fmt: skip
        posting_rows.append((posting_id, entry_id, practice_id, "ar:insurance", -amount, patient,
                             payer, provider, location, charge, "adjudicated"))  # fmt: skip
        flush()
    flush(force=True)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    log(f"generated {charge_id:,} charges, {posting_id:,} postings in "
        f"{time.perf_counter() - started:.0f} s")  # fmt: skip


HAND_SQL = """
SELECT CASE WHEN p.account = 'ar:patient' THEN NULL ELSE p.payer_id END AS grp,
       CASE WHEN COALESCE(c.service_date, u.since) >= :d30 THEN '0-30'
            WHEN COALESCE(c.service_date, u.since) >= :d60 THEN '31-60'
            WHEN COALESCE(c.service_date, u.since) >= :d90 THEN '61-90'
            WHEN COALESCE(c.service_date, u.since) >= :d120 THEN '91-120'
            ELSE '120+' END AS bucket,
       SUM(p.amount_cents)
FROM posting p
JOIN journal_entry e ON e.id = p.entry_id
LEFT JOIN charge c ON c.id = p.charge_id
LEFT JOIN (SELECT p2.patient_id, p2.account, MIN(e2.entry_date) AS since
           FROM posting p2 JOIN journal_entry e2 ON e2.id = p2.entry_id
           WHERE p2.practice_id = :practice AND p2.charge_id IS NULL
             AND p2.account IN ('ar:patient', 'ar:insurance') AND e2.entry_date <= :as_of
           GROUP BY p2.patient_id, p2.account) u
       ON p.charge_id IS NULL AND u.patient_id = p.patient_id AND u.account = p.account
WHERE p.practice_id = :practice AND p.account IN ('ar:patient', 'ar:insurance')
  AND e.entry_date <= :as_of
GROUP BY grp, bucket
"""


def hand_written(path: Path, practice_id: int, as_of: date) -> dict:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        limits = {f"d{n}": (as_of - timedelta(days=n)).isoformat() for n in (30, 60, 90, 120)}
        out: dict = {}
        for grp, bucket, cents in conn.execute(
            HAND_SQL, {"practice": practice_id, "as_of": as_of.isoformat(), **limits}
        ):
            out.setdefault(grp, {})[bucket] = cents
        return out
    finally:
        conn.close()


def best_of(rounds: int, fn):
    times, result = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def measure_aging(path: Path, user_id: int, practice_id: int) -> tuple[float, float]:
    from pms_core.context import unit_of_work
    from pms_core.db import make_engine
    from pms_core.plugins import get_plugin_manager
    from pms_core.services.reports import compute

    engine = make_engine(f"sqlite:///{path}")
    pm = get_plugin_manager()
    as_of = date.today()

    def ours():
        with unit_of_work(engine, user_id=user_id, pm=pm) as ctx:
            return compute(ctx, "ar_aging", {"as_of": str(as_of)})

    ours()  # warm the page cache for both
    t_ours, result = best_of(3, ours)
    t_hand, hand = best_of(3, lambda: hand_written(path, practice_id, as_of))
    names = {}
    with engine.connect() as conn:
        names = dict(conn.exec_driver_sql("SELECT id, name FROM payer").fetchall())
    for row in result.rows:
        key = (
            None
            if row["name"] == "Patient responsibility"
            else next(k for k, v in names.items() if v == row["name"])
        )
        for bucket in ("0-30", "31-60", "61-90", "91-120", "120+"):
            assert row[bucket] == hand.get(key, {}).get(bucket, 0), (row["name"], bucket)
    engine.dispose()
    print(f"  A/R total {result.totals['total'] / 100:,.2f} in {len(result.rows)} rows; "
          "same buckets to the cent")  # fmt: skip
    return t_ours, t_hand


def measure_dashboard(path: Path, user_id: int) -> dict:
    from pms_tui.app import PmsApp
    from pms_tui.screens.dashboard import DashboardScreen, TileView
    from pms_tui.screens.main import MainScreen

    from pms_core.db import make_engine
    from pms_core.plugins import get_plugin_manager

    engine = make_engine(f"sqlite:///{path}")
    app = PmsApp(engine, pm=get_plugin_manager(), user_id=user_id,
                 disable_idle_lock_for_testing=True)  # fmt: skip
    marks: dict = {}

    async def main():
        async with app.run_test(size=(140, 45)) as pilot:
            while not isinstance(app.screen, MainScreen):
                await pilot.pause(0.01)
            started = time.perf_counter()
            # not awaited: Pilot.press returns only once the app is idle, that is
            # once every figure is in
            pressing = asyncio.ensure_future(pilot.press("f9"))
            while not isinstance(app.screen, DashboardScreen):
                await asyncio.sleep(0.001)
            screen = app.screen

            def painted() -> None:
                marks.setdefault("first_paint", time.perf_counter() - started)

            screen.call_after_refresh(painted)  # runs once the screen has been drawn
            while True:
                views = list(screen.query(TileView))
                if views and any(v.tile for v in views) and "first_tile" not in marks:
                    marks["first_tile"] = time.perf_counter() - started
                if views and all(v.tile and v.tile.trend for v in views) and screen.aging:
                    marks["all"] = time.perf_counter() - started
                    break
                await asyncio.sleep(0.01)
            await pressing

    asyncio.run(main())
    engine.dispose()
    return marks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args(argv)
    m = machine()
    print(f"machine: {m['cpus']} CPUs, {m['cpu']}, {m['ram']} RAM, Python {m['python']}, "
          f"SQLite {m['sqlite']}, load average at start {m['load']}, CPU reference {m['speed']}")  # fmt: skip
    if not (args.reuse and args.out.exists()):
        generate(args.out)
    conn = sqlite3.connect(args.out)
    practice_id = conn.execute("SELECT id FROM practice").fetchone()[0]
    user_id = conn.execute("SELECT id FROM app_user WHERE role = 'biller'").fetchone()[0]
    counts = [
        conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("charge", "posting")
    ]
    conn.close()
    print(f"database: {counts[0]:,} charges, {counts[1]:,} postings ({args.out})")
    t_ours, t_hand = measure_aging(args.out, user_id, practice_id)
    ratio = t_ours / t_hand
    print(f"  ar_aging report {t_ours:.3f} s, hand-written SQL {t_hand:.3f} s: ratio "
          f"{ratio:.2f} (<= {AGING_LIMIT})  {'PASS' if ratio <= AGING_LIMIT else 'MISS'}")  # fmt: skip
    marks = measure_dashboard(args.out, user_id)
    paint = marks["first_paint"]
    print(f"  dashboard first paint {paint:.3f} s (< {PAINT_LIMIT_S} s)  "
          f"{'PASS' if paint < PAINT_LIMIT_S else 'MISS'}; first figure {marks['first_tile']:.2f} s, "
          f"all figures {marks['all']:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
