"""`pms init` and `pms db upgrade`, and how every command treats a database that
is missing, unreadable or from a newer pms."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from pms_core.db import make_engine
from pms_core.migrations.runner import head_revision
from tests.cli_helpers import run_cli

ADMIN_PASSWORD = "first-admin-pass-1"
INIT_ARGS = [
    "init",
    "--practice-name",
    "Cedar Ridge Clinic",
    "--npi",
    "1234567893",
    "--tin",
    "123456789",
    "--taxonomy",
    "207Q00000X",
    "--address",
    "200 Test Ave",
    "--city",
    "Springfield",
    "--state",
    "IL",
    "--zip",
    "62701",
    "--time-zone",
    "America/Chicago",
    "--admin-username",
    "boss",
    "--admin-name",
    "Test Boss",
]


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request, tmp_path):
    """A database pms has never seen: a SQLite path in a directory that does not
    exist yet, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new' / 'dir' / 'pms.db'}"
        return
    yield request.getfixturevalue("pg_databases").create("pms_init")


def pms(url, cli_env, *args, input=None, **env):
    return run_cli(["--db", url, *args], env={**cli_env, **env}, input=input)


def init(url, cli_env, *extra, password=ADMIN_PASSWORD):
    return pms(url, cli_env, *INIT_ARGS, *extra, input=f"{password}\n{password}\n")


def as_boss(password=ADMIN_PASSWORD):
    return {"PMS_USER": "boss", "PMS_PASSWORD": password}


def tables(url) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


def assert_clean_failure(result, *needles):
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr, result.stderr


# --- pms init ------------------------------------------------------------------------------
def test_init_creates_a_usable_database_with_its_admin(fresh_url, cli_env):
    result = init(fresh_url, cli_env)
    assert result.exit_code == 0, result.stderr
    assert "Created pms database" in result.stdout and "boss" in result.stdout
    assert ADMIN_PASSWORD not in result.stdout + result.stderr
    me = pms(fresh_url, cli_env, "--format", "json", "whoami", **as_boss())
    assert me.exit_code == 0, me.stderr
    info = json.loads(me.stdout)
    assert (info["username"], info["role"], info["practice"]) == (
        "boss",
        "admin",
        "Cedar Ridge Clinic",
    )
    # the admin can log in interactively and manage users at once
    login = pms(fresh_url, cli_env, "login", "--username", "boss", input=f"{ADMIN_PASSWORD}\n")
    assert login.exit_code == 0, login.stderr
    added = pms(
        fresh_url,
        cli_env,
        "user",
        "add",
        "clerk",
        "--role",
        "frontdesk",
        "--name",
        "Test Clerk",
        "--password-stdin",
        input="clerk-password-1\n",
    )
    assert added.exit_code == 0, added.stderr
    verify = pms(fresh_url, cli_env, "audit", "verify")
    assert verify.exit_code == 0 and "intact" in verify.stdout


def test_a_second_init_refuses_and_changes_nothing(fresh_url, cli_env):
    assert init(fresh_url, cli_env).exit_code == 0
    again = init(fresh_url, cli_env, password="another-password-2")
    assert_clean_failure(again, "already has a pms schema", "nothing was changed")
    assert pms(fresh_url, cli_env, "whoami", **as_boss()).exit_code == 0
    assert pms(fresh_url, cli_env, "whoami", **as_boss("another-password-2")).exit_code == 1


def test_init_on_an_already_migrated_database_refuses(db_url, cli_env):
    result = init(db_url, cli_env)
    assert_clean_failure(result, "already has a pms schema")


@pytest.mark.parametrize(
    "extra,password,field",
    [
        (["--npi", "1234567890"], ADMIN_PASSWORD, "group_npi"),
        (["--zip", "123"], ADMIN_PASSWORD, "zip"),
        (["--state", "ZZ"], ADMIN_PASSWORD, "state"),
        (["--time-zone", "Mars/Olympus"], ADMIN_PASSWORD, "time_zone"),
        ([], "short", "password"),
        (["--admin-username", "bad name!"], ADMIN_PASSWORD, "username"),
    ],
    ids=["npi", "zip", "state", "time-zone", "short-password", "username"],
)
def test_init_with_bad_input_names_the_field_and_leaves_nothing(
    fresh_url, cli_env, extra, password, field
):
    result = init(fresh_url, cli_env, *extra, password=password)
    assert_clean_failure(result, field)
    if fresh_url.startswith("sqlite"):
        assert not os.path.exists(make_url(fresh_url).database)
    else:
        assert tables(fresh_url) == []
    # and a corrected retry works on the same database
    assert init(fresh_url, cli_env).exit_code == 0


def test_init_reads_the_admin_password_from_stdin(fresh_url, cli_env):
    result = pms(fresh_url, cli_env, *INIT_ARGS, "--admin-password-stdin", input="piped-pass-1\n")
    assert result.exit_code == 0, result.stderr
    assert pms(fresh_url, cli_env, "whoami", **as_boss("piped-pass-1")).exit_code == 0


def test_init_with_mismatched_passwords_creates_nothing(tmp_path, cli_env):
    url = f"sqlite:///{tmp_path / 'pms.db'}"
    result = pms(url, cli_env, *INIT_ARGS, input="first-pass-1\nsecond-pass-2\n")
    assert result.exit_code != 0
    assert not (tmp_path / "pms.db").exists()


def test_init_without_required_options_is_a_usage_error(tmp_path, cli_env):
    result = pms(f"sqlite:///{tmp_path / 'pms.db'}", cli_env, "init", input="")
    assert result.exit_code == 2
    assert "--practice-name" in result.stderr
    assert not (tmp_path / "pms.db").exists()


def test_init_refuses_a_file_that_is_not_a_database(tmp_path, cli_env):
    path = tmp_path / "notes.db"
    path.write_bytes(os.urandom(4096))
    before = path.read_bytes()
    result = init(f"sqlite:///{path}", cli_env)
    assert_clean_failure(result, "is not a SQLite database")
    assert path.read_bytes() == before


def test_init_refuses_a_non_empty_foreign_database(tmp_path, cli_env):
    path = tmp_path / "other.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    result = init(f"sqlite:///{path}", cli_env)
    assert_clean_failure(result, "not empty")
    assert tables(f"sqlite:///{path}") == ["invoices"]


def test_init_on_a_missing_postgres_database_is_a_clear_error(pg_admin_url, cli_env):
    url = make_url(pg_admin_url).set(database=f"pms_absent_{uuid.uuid4().hex[:8]}")
    result = init(url.render_as_string(hide_password=False), cli_env)
    assert_clean_failure(result, "cannot connect to PostgreSQL database", "does not exist")


# --- pms db upgrade ----------------------------------------------------------------------------
def test_db_upgrade_is_idempotent(fresh_url, cli_env):
    assert init(fresh_url, cli_env).exit_code == 0
    for _ in range(2):
        result = pms(fresh_url, cli_env, "db", "upgrade")
        assert result.exit_code == 0, result.stderr
        assert f"up to date (schema {head_revision()})" in result.stdout
    assert pms(fresh_url, cli_env, "whoami", **as_boss()).exit_code == 0


def test_db_upgrade_on_a_database_without_a_schema_points_to_init(fresh_url, cli_env):
    if fresh_url.startswith("sqlite"):
        path = make_url(fresh_url).database
        os.makedirs(os.path.dirname(path))
        open(path, "wb").close()  # an empty file is an empty SQLite database
    result = pms(fresh_url, cli_env, "db", "upgrade")
    assert_clean_failure(result, "no pms schema", "pms init")


# --- databases that cannot be used ---------------------------------------------------------------
COMMANDS = [["whoami"], ["user", "list"], ["audit", "verify"], ["db", "upgrade"]]
IDS = ["whoami", "user-list", "audit-verify", "db-upgrade"]


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_missing_sqlite_file_is_a_clear_error(tmp_path, cli_env, command):
    path = tmp_path / "absent.db"
    result = pms(f"sqlite:///{path}", cli_env, *command, **as_boss())
    assert_clean_failure(result, "no database at", str(path))
    assert not path.exists()  # never created silently


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path, cli_env, command):
    path = tmp_path / "random.db"
    path.write_bytes(os.urandom(8192))
    before = path.read_bytes()
    result = pms(f"sqlite:///{path}", cli_env, *command, **as_boss())
    assert_clean_failure(result)
    assert "database" in result.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_database_from_a_newer_pms_is_refused(db_url, practice, cli_env, command):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    env = {"PMS_USER": "admin", "PMS_PASSWORD": "irrelevant"}
    result = pms(db_url, cli_env, *command, **env)
    assert_clean_failure(result, "newer than this pms", "9999")
