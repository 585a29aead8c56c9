"""`pms import` end to end, on SQLite and PostgreSQL: the columns an importer
takes, a dry run, the report of a bad file (exit 1, nothing written), the
import, the runs, and an import killed mid-way leaving the database as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import func, select

from pms_core.models import Patient
from tests.cli_helpers import run_cli
from tests.core.test_imports import HEADER, ROWS, write_csv
from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def pms(db_url, cli_env, *args, role="admin", fmt="table"):
    env = {**cli_env, "PMS_USER": role, "PMS_PASSWORD": PASSWORD}
    return run_cli(["--db", db_url, "--format", fmt, *args], env=env)


def patients_on_file(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Patient)).scalar_one()


def test_columns_lists_what_an_importer_takes(db_url, cli_env, practice):
    result = pms(db_url, cli_env, "import", "columns", "patients", fmt="json")
    assert result.exit_code == 0, result.stderr
    columns = {c["column"]: c for c in json.loads(result.stdout)}
    assert columns["account_number"]["required"] == "yes"
    assert "date_of_birth" in columns["dob"]["also recognised"]
    help_text = pms(db_url, cli_env, "import", "--help").stdout
    for kind in ("patients", "coverages", "appointments", "balances", "feeschedule"):
        assert kind in help_text


def test_dry_run_then_import_then_runs(db_url, cli_env, practice, engine, tmp_path):
    path = write_csv(tmp_path / "p.csv", [HEADER, *ROWS])

    dry = pms(db_url, cli_env, "import", "patients", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "dry run: the file is good" in dry.stderr
    assert "new" in dry.stdout and patients_on_file(engine) == 0

    done = pms(db_url, cli_env, "import", "patients", str(path), fmt="json")
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["new"], report["applied"], report["error_count"]) == (3, True, 0)
    assert report["errors"] == []
    assert patients_on_file(engine) == 3

    runs = json.loads(pms(db_url, cli_env, "import", "runs", fmt="json").stdout)
    assert [(r["kind"], r["new"]) for r in runs] == [("patients", 3)]


def test_a_bad_file_exits_1_with_the_rows_and_writes_nothing(
    db_url, cli_env, practice, engine, tmp_path
):
    path = write_csv(
        tmp_path / "p.csv",
        [HEADER, ROWS[0], "A9,Al,Bo,1980-13-01,F,1 A St,Springfield,IL,62701,,"],
    )
    result = pms(db_url, cli_env, "import", "patients", str(path))
    assert result.exit_code == 1
    assert "not applied: 1 rows have errors" in result.stderr
    assert "DOB" in result.stdout and "is not a real date" in result.stdout
    assert patients_on_file(engine) == 0

    missing = write_csv(tmp_path / "m.csv", ["Acct,First Name", "A1,Al"])
    result = pms(db_url, cli_env, "import", "patients", str(missing))
    assert result.exit_code == 1 and "the file has no column for it" in result.stderr

    biller = pms(db_url, cli_env, "import", "patients", str(path), role="biller")
    assert biller.exit_code == 1 and "(data:import)" in biller.stderr


_KILLED_CHILD = """
import sys, time
from pathlib import Path
import pms_core.services.importers.patients as patients
from pms_cli.main import main

real = patients.insert_plain

def insert_then_hang(*args, **kwargs):
    real(*args, **kwargs)  # the rows are written inside the open transaction...
    Path(sys.argv[1]).write_text("inserted")
    time.sleep(120)  # ...and the process is killed before it commits

patients.insert_plain = insert_then_hang
main(sys.argv[2:])
"""


def test_an_import_killed_mid_way_leaves_the_database_as_it_was(
    db_url, cli_env, practice, engine, tmp_path
):
    path = write_csv(tmp_path / "p.csv", [HEADER, *ROWS])
    marker = tmp_path / "inserted"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(_KILLED_CHILD))
    env = {**os.environ, **cli_env, "PMS_USER": "admin", "PMS_PASSWORD": PASSWORD}
    child = subprocess.Popen(
        [sys.executable, str(script), str(marker), "--db", db_url, "import", "patients", str(path)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the import never reached its insert"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stderr.close()

    assert patients_on_file(engine) == 0
    again = pms(db_url, cli_env, "import", "patients", str(path))
    assert again.exit_code == 0, again.stderr
    assert patients_on_file(engine) == 3
