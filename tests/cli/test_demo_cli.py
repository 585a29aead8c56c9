"""`pms demo`: build, refuse, replace, and hand over to the TUI."""

from __future__ import annotations

import sys
import types

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from pms_core.db import make_engine
from pms_core.models import Coverage, Location, Patient, Payer, Practice, Provider, User
from pms_core.passwords import verify_password
from pms_core.services import auth
from pms_core.services.practice import is_demo_database
from tests.cli_helpers import run_cli
from tests.helpers import make_practice

N = 30


@pytest.fixture(params=["sqlite", "postgres"])
def new_url(request, tmp_path):
    """URL of a database with nothing in it: a SQLite file in a directory that does
    not exist yet, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'pms.db'}"
        return
    yield request.getfixturevalue("pg_databases").create("pms_demo")


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as s:
        out = {
            m.__tablename__: s.exec(select(func.count()).select_from(m)).one()[0]
            for m in (Practice, Location, Provider, Payer, Patient, Coverage, User)
        }
        out["demo"] = is_demo_database(s)
    engine.dispose()
    return out


def names(url: str) -> list[tuple]:
    engine = make_engine(url)
    with Session(engine) as s:
        rows = s.exec(select(Patient.last_name, Patient.first_name).order_by(Patient.id)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_demo_builds_and_reports_on_stderr(new_url, cli_env):
    result = run_cli(
        ["--db", new_url, "demo", "--patients", str(N), "--days", "4", "--no-tui"], env=cli_env
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "Built the demo database" in result.stderr
    assert f"patients   {N}" in result.stderr
    assert "payers 12" in result.stderr
    assert "password: demo" in result.stderr
    assert "days of practice life with the sandbox payer" in result.stderr
    c = counts(new_url)
    assert (c["practice"], c["location"], c["payer"], c["patient"], c["app_user"]) == (
        1,
        3,
        12,
        N,
        5,
    )
    assert c["demo"] and c["coverage"] > N and c["provider"] >= 5
    engine = make_engine(new_url)
    with Session(engine) as s:
        users = s.exec(select(User.username, User.password_hash)).all()
    engine.dispose()
    assert {u for u, _ in users} == {"admin", "biller", "frontdesk", "manager", "auditor"}
    assert all(verify_password(h, "demo") for _, h in users)
    # and the biller can work with it right away
    last_name = names(new_url)[0][0]
    found = run_cli(
        ["--db", new_url, "--format", "json", "patient", "find", last_name[:3]],
        env={**cli_env, "PMS_USER": "biller", "PMS_PASSWORD": "demo"},
    )
    assert found.exit_code == 0, found.stderr
    assert last_name in found.stdout


def test_existing_demo_needs_force_and_force_replaces_it(new_url, cli_env):
    assert (
        run_cli(
            ["--db", new_url, "demo", "--patients", "8", "--days", "0", "--no-tui"], env=cli_env
        ).exit_code
        == 0
    )
    first = names(new_url)

    again = run_cli(
        ["--db", new_url, "demo", "--patients", "8", "--days", "0", "--no-tui"], env=cli_env
    )
    assert again.exit_code == 1
    assert "already holds a demo database; use --force to replace it" in again.stderr
    assert "Traceback" not in again.stderr
    assert names(new_url) == first

    replaced = run_cli(
        [
            "--db",
            new_url,
            "demo",
            "--seed",
            "2",
            "--patients",
            "6",
            "--days",
            "0",
            "--force",
            "--no-tui",
        ],
        env=cli_env,
    )
    assert replaced.exit_code == 0, replaced.stderr
    assert "Replaced the demo database" in replaced.stderr
    second = names(new_url)
    assert len(second) == 6 and second != first[:6]
    assert counts(new_url)["practice"] == 1


def test_same_seed_gives_the_same_patients(new_url, cli_env, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    for url in (new_url, other):
        r = run_cli(
            ["--db", url, "demo", "--seed", "5", "--patients", "12", "--days", "0", "--no-tui"],
            env=cli_env,
        )
        assert r.exit_code == 0, r.stderr
    assert names(new_url) == names(other)


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_a_real_database_is_refused_and_left_alone(db_url, cli_env, force):
    engine = make_engine(db_url)
    make_practice(engine)
    engine.dispose()
    before = counts(db_url)
    result = run_cli(
        ["--db", db_url, "demo", "--patients", "5", "--days", "0", "--no-tui", *force], env=cli_env
    )
    assert result.exit_code == 1
    assert "not a demo; the demo never overwrites it" in result.stderr
    assert "Traceback" not in result.stderr
    assert counts(db_url) == before and not before["demo"]


def test_default_database_location_is_created(tmp_path, cli_env, monkeypatch):
    path = tmp_path / "nested" / "dir" / "pms.db"
    monkeypatch.setenv("PMS_DATABASE_URL", f"sqlite:///{path}")
    result = run_cli(
        ["demo", "--patients", "3", "--days", "0", "--no-tui"],
        env={**cli_env, "PMS_DATABASE_URL": f"sqlite:///{path}"},
    )
    assert result.exit_code == 0, result.stderr
    assert path.exists() and str(path) in result.stderr


def test_demo_opens_the_tui_as_biller_with_a_shift_session(new_url, cli_env, monkeypatch):
    calls = []
    fake = types.ModuleType("pms_tui")
    fake.run_tui = lambda engine, pm, user_id=None, token=None: calls.append(
        (user_id, auth.user_for_token(engine, token))
    )
    monkeypatch.setitem(sys.modules, "pms_tui", fake)
    result = run_cli(["--db", new_url, "demo", "--patients", "3", "--days", "0"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    engine = make_engine(new_url)
    with Session(engine) as s:
        biller = s.exec(select(User.id).where(User.username == "biller")).one()[0]
    engine.dispose()
    assert calls == [(biller, biller)]  # the token is a live session for the biller


def test_bad_patient_count_is_a_usage_error(tmp_path, cli_env):
    url = f"sqlite:///{tmp_path / 'pms.db'}"
    result = run_cli(["--db", url, "demo", "--patients", "-1", "--no-tui"], env=cli_env)
    assert result.exit_code == 2
    assert not (tmp_path / "pms.db").exists()
