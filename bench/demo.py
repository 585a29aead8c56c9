"""`pms demo` benchmark (issue 6): the default demo (500 patients, 60 days of
practice life against the sandbox payer) built into a fresh SQLite file, timed
as `pms demo --no-tui` runs it, against the 60 s limit.

    python -m bench.demo [--patients 500] [--days 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.run import machine
from pms_core.db import make_engine
from pms_core.plugins import get_plugin_manager
from pms_core.services.demo import DEFAULT_DAYS, DEFAULT_PATIENTS, build_demo

LIMIT_S = 60.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.demo")
    parser.add_argument("--patients", type=int, default=DEFAULT_PATIENTS)
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    args = parser.parse_args(argv)
    m = machine()
    print(
        f"machine: {m['cpus']} CPUs, {m['cpu']}, {m['ram']} RAM, Python {m['python']}, "
        f"SQLite {m['sqlite']}, load average at start {m['load']}, CPU reference {m['speed']}"
    )
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'demo.db'}")
        started = time.perf_counter()
        s = build_demo(engine, patients=args.patients, days=args.days, pm=get_plugin_manager())
        seconds = time.perf_counter() - started
        engine.dispose()
    b = s.billing
    print(f"demo: {s.patients} patients, {args.days} days: {s.appointments} appointments, "
          f"{s.encounters} visits charged, {s.claims} claims, {b.eligibility_checks} eligibility "
          f"checks, {b.remittances} remittances, {b.secondary_claims} secondary claims, "
          f"{b.patient_payments} desk payments, {b.statements} statements")  # fmt: skip
    verdict = "PASS" if seconds < LIMIT_S else "MISS"
    print(
        f"  built in {seconds:.1f} s (< {LIMIT_S:.0f} s), ratio {seconds / LIMIT_S:.2f}  {verdict}"
    )


if __name__ == "__main__":
    main()
