"""Imports benchmark (issue 8): 100,000 synthetic patients and their coverages
imported from XLSX, against openpyxl alone iterating the same files.

    python -m bench.imports                 # 100,000 patients
    python -m bench.imports --patients 20000 --profile

Two workbooks, as an office's previous system exports them: patients.xlsx (one
row per patient: account number, names, DOB, sex, address, phones, email) and
coverages.xlsx (one row per coverage: account number, payer EDI id, member id,
priority, group, plan, relationship, the subscriber for dependents, effective
date, copay). Dates are date cells, ZIP codes text.

- **peer**: openpyxl opens each file read-only (`data_only=True`, as the
  importer does) and iterates every row with `values_only=True`; best of two
  runs, one before and one after ours.
- **ours**: `services.imports.run_import` for patients, then coverages, each in
  its own unit of work as the admin, exactly as `pms import` calls it: read,
  map, convert, check every row, plan against the database, apply, audit,
  commit; into a fresh SQLite database (WAL, synchronous=FULL as pms runs).

Target: ours at most 2x the peer.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlmodel import Session

from bench.run import machine
from pms_core import synthetic
from pms_core.clock import FixedClock
from pms_core.context import unit_of_work
from pms_core.db import make_engine, remove_sqlite_files
from pms_core.migrations.runner import upgrade
from pms_core.plugins import get_plugin_manager
from pms_core.services import imports
from pms_core.services.practice import create_practice, insert_location, insert_payer
from pms_core.services.users import create_user

DATA = Path(__file__).parent / "data"
TODAY = date(2026, 12, 1)
LIMIT = 2.0
PATIENT_HEADER = (
    "Account", "First Name", "Middle Name", "Last Name", "DOB", "Sex", "Address",
    "Address 2", "City", "State", "Zip", "Home Phone", "Mobile Phone", "Email",
)  # fmt: skip
COVERAGE_HEADER = (
    "Account", "Payer ID", "Member ID", "Priority", "Group", "Plan", "Relationship",
    "Subscriber First", "Subscriber Last", "Subscriber DOB", "Subscriber Sex",
    "Effective Date", "Copay",
)  # fmt: skip


def write_files(n: int, seed: int) -> tuple[Path, Path, int]:
    """patients.xlsx and coverages.xlsx for `n` synthetic patients (write-only
    workbooks: the files are written streaming). Returns the coverage count."""
    synth = synthetic.Synth(seed, today=TODAY, unique=True)
    edi = {spec.key: spec.edi_payer_id for spec in synthetic.PAYERS}
    patients_book, coverages_book = Workbook(write_only=True), Workbook(write_only=True)
    patients, coverages = patients_book.create_sheet(), coverages_book.create_sheet()
    patients.append(PATIENT_HEADER)
    coverages.append(COVERAGE_HEADER)
    covered = 0
    for i, p in enumerate(synth.patients(n), start=1):
        account = f"OLD{i:07d}"
        patients.append(
            (account, p["first_name"], p["middle_name"], p["last_name"], p["dob"], p["sex"],
             p["address1"], p["address2"], p["city"], p["state"], p["zip"], p["home_phone"],
             p["mobile_phone"], p["email"])
        )  # fmt: skip
        for c in p["coverages"]:
            coverages.append(
                (account, edi[c["payer"]], c["member_id"], c["priority"], c["group_number"],
                 c["plan_name"], c["relationship"], c["subscriber_first_name"],
                 c["subscriber_last_name"], c["subscriber_dob"], c["subscriber_sex"],
                 c["effective_date"], f"{c['copay_cents'] / 100:.2f}")
            )  # fmt: skip
            covered += 1
    DATA.mkdir(exist_ok=True)
    paths = DATA / "import-patients.xlsx", DATA / "import-coverages.xlsx"
    patients_book.save(paths[0])
    coverages_book.save(paths[1])
    return paths[0], paths[1], covered


def iterate(paths) -> float:
    """The peer: openpyxl read-only, every row's values."""
    started = time.perf_counter()
    for path in paths:
        book = load_workbook(path, read_only=True, data_only=True)
        for _ in book.worksheets[0].iter_rows(values_only=True):
            pass
        book.close()
    return time.perf_counter() - started


def fresh_database() -> tuple[str, int]:
    path = DATA / "imports.db"
    remove_sqlite_files(path)
    url = f"sqlite:///{path}"
    engine = make_engine(url, create_dirs=True)
    upgrade(engine)
    synth = synthetic.Synth(0, today=TODAY)
    with Session(engine) as s:
        practice = create_practice(s, group_npi=synth.npi("1"), **synthetic.DEMO_PRACTICE)
        insert_location(s, practice.id, npi=synth.npi("1"), **synthetic.DEMO_LOCATIONS[0])
        for spec in synthetic.PAYERS:
            insert_payer(s, practice.id, **synthetic.payer_fields(spec))
        user = create_user(
            s, practice_id=practice.id, username="bench-admin", full_name="Bench Admin",
            role="admin", password="bench-password-1",
        )  # fmt: skip
        s.commit()
        user_id = user.id
    engine.dispose()
    return url, user_id


def ours(url: str, user_id: int, paths, profiler=None) -> tuple[float, list]:
    engine = make_engine(url)
    pm = get_plugin_manager()
    clock = FixedClock(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    reports = []
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for kind, path in zip(("patients", "coverages"), paths, strict=True):
        with unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx:
            reports.append(imports.run_import(ctx, kind=kind, path=path))
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, reports


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    m = machine()
    print(
        f"machine: {m['cpus']} CPUs, {m['cpu']}, {m['ram']} RAM, Python {m['python']}, "
        f"SQLite {m['sqlite']}, load average at start {m['load']}, CPU reference {m['speed']}"
    )
    started = time.perf_counter()
    *paths, covered = write_files(args.patients, args.seed)
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in paths)
    print(f"wrote {args.patients:,} patients and {covered:,} coverages ({sizes}) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    peer_before = iterate(paths)
    url, user_id = fresh_database()
    profiler = cProfile.Profile() if args.profile else None
    seconds, reports = ours(url, user_id, paths, profiler)
    peer_after = iterate(paths)
    peer = min(peer_before, peer_after)
    for r in reports:
        assert r.applied, (r.kind, r.error_count, r.errors[:5], len(r.plan.duplicates))
    ratio = seconds / peer
    print("\n(x) import 100,000 patients with coverages from XLSX" if args.patients == 100_000
          else f"\n(x) import {args.patients:,} patients with coverages from XLSX")  # fmt: skip
    for r in reports:
        print(f"  {r.kind:10} rows {r.rows:,}: new {r.plan.new:,}, updated {r.plan.updated:,}")
    print(f"  pms import (both files)      {seconds:7.2f} s")
    print(f"  openpyxl iteration (peer)    {peer:7.2f} s   (runs {peer_before:.2f} s, "
          f"{peer_after:.2f} s)")  # fmt: skip
    print(f"  ratio {ratio:.2f} (<= {LIMIT})  {'PASS' if ratio <= LIMIT else 'MISS'}")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
