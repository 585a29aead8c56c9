"""Scale generator: a SQLite pms database with N synthetic patients and their coverages.

    python -m bench.generate --patients 1000000 --out bench/data/scale.db

The schema comes from the real migrations (`upgrade()`); the practice, payers and
a search user come from the real services. Patients, coverages and intake items are
then bulk-loaded with the raw sqlite3 connection: one transaction, `executemany` in
large batches, `synchronous=OFF` and `journal_mode=OFF` during the load, the
secondary indexes dropped first and recreated afterwards from the SQLAlchemy
metadata (same names and definitions as the models), then `ANALYZE`. The rows are
the ones the services would write: names folded into `search_first`/`search_last`
with `validation.fold`, member ids into `member_id_search` with `fold_member_id`,
dates and timestamps in SQLAlchemy's SQLite text formats.

The result is an ordinary pms database (WAL and the usual pragmas apply on the
next open). A `<out>.json` file next to it records what was generated and how long
it took; `bench/run.py` reads it.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex
from sqlmodel import Session, SQLModel

from pms_core import synthetic
from pms_core.db import make_engine
from pms_core.migrations.runner import upgrade
from pms_core.services.practice import (
    create_practice,
    get_setting,
    insert_location,
    insert_payer,
    insert_provider,
    set_setting,
)
from pms_core.services.users import create_user

DEFAULT_OUT = Path(__file__).parent / "data" / "scale.db"
BENCH_USER = "bench_biller"
BENCH_PASSWORD = "bench-password-1"
LIMIT_SECONDS = 120.0
BATCH = 20_000
# Tables bulk-loaded here; their secondary indexes are dropped during the load.
LOADED = ("patient", "coverage", "intake_item")

PATIENT_COLUMNS = (
    "id", "practice_id", "account_number", "first_name", "middle_name", "last_name",
    "suffix", "dob", "sex", "address1", "address2", "city", "state", "zip", "home_phone",
    "mobile_phone", "email", "preferred_contact", "guarantor_id", "guarantor_relationship",
    "search_first", "search_last", "active", "created_at", "updated_at",
)  # fmt: skip
COVERAGE_COLUMNS = (
    "practice_id", "patient_id", "payer_id", "priority", "member_id", "member_id_search",
    "group_number", "plan_name", "relationship", "subscriber_first_name",
    "subscriber_last_name", "subscriber_dob", "subscriber_sex", "effective_date",
    "termination_date", "copay_cents", "active", "created_at",
)  # fmt: skip
INTAKE_COLUMNS = (
    "practice_id", "patient_id", "kind", "description", "detail", "recorded_at",
    "recorded_by_id", "resolved_at",
)  # fmt: skip


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def sidecar(out: Path) -> Path:
    return out.with_name(out.name + ".json")


def _remove(out: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)


def _check_replaceable(out: Path, force: bool) -> None:
    """Only a previous scale database (or anything, with --force) is replaced."""
    if not out.exists() or force:
        return
    try:
        conn = sqlite3.connect(f"{out.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM setting WHERE key = 'bench_scale'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        row = None
    if not row:
        sys.exit(f"{out} exists and is not a bench scale database; use --force to replace it")


def _bootstrap(url: str, today: date) -> dict:
    """Schema, practice, payers and the search user, through the real code paths."""
    engine = make_engine(url, create_dirs=True)
    upgrade(engine)
    synth = synthetic.Synth(0, today=today)
    with Session(engine) as s:
        set_setting(s, "bench_scale", "true")
        practice = create_practice(
            s, group_npi=synth.npi("1"), **{**synthetic.DEMO_PRACTICE, "name": "Scale Test Clinic"}
        )
        for loc in synthetic.DEMO_LOCATIONS:
            insert_location(s, practice.id, npi=synth.npi("1"), **loc)
        for prov in synthetic.providers(synth):
            insert_provider(s, practice.id, **prov)
        payer_ids = {
            spec.key: insert_payer(s, practice.id, **synthetic.payer_fields(spec)).id
            for spec in synthetic.PAYERS
        }
        user = create_user(
            s,
            practice_id=practice.id,
            username=BENCH_USER,
            full_name="Bench Biller",
            role="biller",
            password=BENCH_PASSWORD,
        )
        ids = {"practice_id": practice.id, "user_id": user.id, "payer_ids": payer_ids}
        s.commit()
        assert get_setting(s, "demo") is None  # an ordinary database, not a demo
    engine.dispose()
    return ids


def _secondary_indexes(conn: sqlite3.Connection) -> dict[str, list]:
    """The models' indexes on the loaded tables, checked against the database."""
    in_db = {
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join('?' * len(LOADED))})",
            LOADED,
        )
    }
    in_models = {
        t: sorted(SQLModel.metadata.tables[t].indexes, key=lambda i: i.name) for t in LOADED
    }
    names = {i.name for idxs in in_models.values() for i in idxs}
    if names != in_db:
        raise SystemExit(
            f"migration and models disagree on indexes: only in db {sorted(in_db - names)}, "
            f"only in models {sorted(names - in_db)}"
        )
    return in_models


def _timestamp(dt: datetime) -> str:
    """A UTC time as SQLAlchemy's SQLite DateTime stores it (naive UTC text)."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _load(conn, n: int, seed: int, today: date, ids: dict, intake: bool, log) -> dict:
    practice_id, user_id, payer_ids = ids["practice_id"], ids["user_id"], ids["payer_ids"]
    stamp = _timestamp(datetime.now(UTC))
    synth = synthetic.Synth(seed, today=today)
    folded = synth.folded
    patient_sql = _insert_sql("patient", PATIENT_COLUMNS)
    coverage_sql = _insert_sql("coverage", COVERAGE_COLUMNS)
    intake_sql = _insert_sql("intake_item", INTAKE_COLUMNS)
    fold_member_id = synthetic.member_id_search
    patients: list[tuple] = []
    coverages: list[tuple] = []
    items: list[tuple] = []
    counts = {"patients": 0, "coverages": 0, "secondary": 0, "intake_items": 0}
    started = time.perf_counter()

    def flush() -> None:
        conn.executemany(patient_sql, patients)
        conn.executemany(coverage_sql, coverages)
        if items:
            conn.executemany(intake_sql, items)
        counts["coverages"] += len(coverages)
        counts["intake_items"] += len(items)
        patients.clear()
        coverages.clear()
        items.clear()

    for p in synth.patients(n):
        pid = p["key"]
        patients.append(
            (
                pid, practice_id, p["account_number"], p["first_name"], p["middle_name"],
                p["last_name"], p["suffix"], p["dob"].isoformat(), p["sex"], p["address1"],
                p["address2"], p["city"], p["state"], p["zip"], p["home_phone"],
                p["mobile_phone"], p["email"], p["preferred_contact"], p["guarantor_key"],
                p["guarantor_relationship"], folded(p["first_name"]), folded(p["last_name"]),
                1, stamp, stamp,
            )
        )  # fmt: skip
        for c in p["coverages"]:
            sub_dob = c["subscriber_dob"]
            coverages.append(
                (
                    practice_id, pid, payer_ids[c["payer"]], c["priority"], c["member_id"],
                    fold_member_id(c["member_id"]), c["group_number"], c["plan_name"],
                    c["relationship"], c["subscriber_first_name"], c["subscriber_last_name"],
                    sub_dob.isoformat() if sub_dob else None, c["subscriber_sex"],
                    c["effective_date"].isoformat(), None, c["copay_cents"], 1, stamp,
                )
            )  # fmt: skip
            counts["secondary"] += c["priority"] == 2
        if intake:
            for kind, desc, detail in p["intake"]:
                items.append((practice_id, pid, kind, desc, detail, stamp, user_id, None))
        if len(patients) >= BATCH:
            counts["patients"] += len(patients)
            flush()
            if counts["patients"] % 200_000 == 0:
                rate = counts["patients"] / (time.perf_counter() - started)
                log(f"  {counts['patients']:>9,} patients ({rate:,.0f}/s)")
    counts["patients"] += len(patients)
    flush()
    return counts


def generate(
    out: Path = DEFAULT_OUT,
    *,
    patients: int = 1_000_000,
    seed: int = 1,
    intake: bool = True,
    force: bool = False,
    log=print,
) -> dict:
    """Build the scale database at `out`; returns (and records next to it) the figures."""
    out = Path(out)
    _check_replaceable(out, force)
    _remove(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    today = date.today()
    phases: dict[str, float] = {}
    t0 = time.perf_counter()

    ids = _bootstrap(f"sqlite:///{out}", today)
    phases["schema_and_setup"] = time.perf_counter() - t0

    conn = sqlite3.connect(out, isolation_level=None)
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "locking_mode=EXCLUSIVE",
        "temp_store=MEMORY",
        "cache_size=-524288",  # 512 MiB
        "foreign_keys=OFF",
    ):
        conn.execute(f"PRAGMA {pragma}")
    indexes = _secondary_indexes(conn)
    conn.execute("BEGIN")
    for table_indexes in indexes.values():
        for index in table_indexes:
            conn.execute(f'DROP INDEX "{index.name}"')

    t = time.perf_counter()
    counts = _load(conn, patients, seed, today, ids, intake, log)
    phases["generate_and_insert"] = time.perf_counter() - t

    t = time.perf_counter()
    dialect = sqlite_dialect.dialect()
    for table_indexes in indexes.values():
        for index in table_indexes:
            conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
    phases["create_indexes"] = time.perf_counter() - t
    conn.execute("COMMIT")

    t = time.perf_counter()
    conn.execute("ANALYZE")
    phases["analyze"] = time.perf_counter() - t
    conn.execute("PRAGMA locking_mode=NORMAL")
    conn.execute("PRAGMA journal_mode=WAL")  # as every pms database is
    conn.close()
    seconds = time.perf_counter() - t0

    figures = {
        "out": str(out),
        "seed": seed,
        "today": today.isoformat(),
        **counts,
        "seconds": round(seconds, 2),
        "phases": {k: round(v, 2) for k, v in phases.items()},
        "limit_seconds": LIMIT_SECONDS,
        "user": BENCH_USER,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "size_bytes": out.stat().st_size,
    }
    sidecar(out).write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-intake", action="store_true", help="skip intake items")
    parser.add_argument("--force", action="store_true", help="replace any file at --out")
    args = parser.parse_args(argv)
    f = generate(
        args.out, patients=args.patients, seed=args.seed, intake=not args.no_intake,
        force=args.force,
    )  # fmt: skip
    print(
        f"{f['patients']:,} patients, {f['coverages']:,} coverages ({f['secondary']:,} "
        f"secondary), {f['intake_items']:,} intake items in {f['seconds']:.1f} s "
        f"(limit {LIMIT_SECONDS:.0f} s, ratio {f['seconds'] / LIMIT_SECONDS:.2f}) -> {f['out']}"
    )
    print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in f["phases"].items()))


if __name__ == "__main__":
    main()
