"""Fixtures shared by every test.

`db_url` is parametrized over SQLite and PostgreSQL, so any test that uses it (or
`engine`, `practice`, `admin`...) runs on both. Each test gets its own database,
copied from a template migrated once per worker.

PostgreSQL comes from `PMS_TEST_POSTGRES_URL` when set; otherwise the fixtures
start a throwaway cluster when PostgreSQL's server binaries are on the machine;
otherwise the PostgreSQL cases skip with the reason. With
`PMS_REQUIRE_POSTGRES=1` (CI) an unavailable PostgreSQL fails the run instead.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from pms_core.audit import flush_reads
from pms_core.clock import FixedClock
from pms_core.context import unit_of_work
from pms_core.db import make_engine
from pms_core.migrations.runner import upgrade
from pms_core.plugins import get_plugin_manager
from tests.pgcluster import (
    PostgresUnavailable,
    PreparedCopies,
    ScratchDatabases,
    start_throwaway_cluster,
)

ENGINES = ["sqlite", "postgres"]


def pytest_configure(config):
    # Synthetic data only, but keep pyx12 and our own loggers quiet in test output.
    os.environ.setdefault("PMS_LOG_LEVEL", "WARNING")


# --- PostgreSQL server ----------------------------------------------------------
@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory):
    """A URL with rights to CREATE DATABASE, or a skip with the reason."""
    url = os.environ.get("PMS_TEST_POSTGRES_URL")
    cluster = None
    if not url:
        try:
            cluster = start_throwaway_cluster()
            url = cluster.url
        except PostgresUnavailable as exc:
            reason = f"PostgreSQL unavailable: {exc}"
            if os.environ.get("PMS_REQUIRE_POSTGRES") == "1":
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    yield url
    if cluster is not None:
        cluster.stop()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_template(pg_admin_url):
    """A migrated template database, created once per worker."""
    databases = ScratchDatabases(pg_admin_url)
    url = databases.create(f"pms_tmpl_{_worker()}")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield make_url(url).database
    databases.close()


@pytest.fixture(scope="session")
def pg_copies(pg_admin_url, pg_template):
    """Fresh copies of the template, made ahead of the tests that take them."""
    databases = ScratchDatabases(pg_admin_url)
    copies = PreparedCopies(databases, pg_template)
    yield copies
    copies.close()
    databases.close()  # drops every copy, taken or not


@pytest.fixture
def pg_databases(pg_admin_url):
    """Make scratch PostgreSQL databases (`.create(prefix)`); dropped after the test."""
    databases = ScratchDatabases(pg_admin_url)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite_template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path):
    """URL of a fresh, migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "pms.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    copies = request.getfixturevalue("pg_copies")
    url = copies.take()
    yield url
    copies.release(url)


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    flush_reads(eng)  # grouped read-audit commits still waiting for this database
    eng.dispose()


# --- a practice to work in --------------------------------------------------------
@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))


@pytest.fixture
def pm():
    return get_plugin_manager()


@pytest.fixture
def practice(engine):
    """A practice with one user per role; returns a `tests.helpers.PracticeFixture`."""
    from tests.helpers import make_practice

    return make_practice(engine)


@pytest.fixture
def uow(engine, practice, clock, pm):
    """`uow("biller")` opens a unit of work acting as that role's user."""

    def _open(role: str = "admin"):
        return unit_of_work(engine, user_id=practice.users[role], pm=pm, clock=clock)

    return _open


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    """Environment for CLI tests: a private token file, no inherited credentials
    or database URL. Returns the env dict to pass to `run_cli`."""
    token_file = tmp_path / "config" / "session.json"
    for var in ("PMS_USER", "PMS_PASSWORD", "PMS_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PMS_TOKEN_FILE", str(token_file))
    return {"PMS_TOKEN_FILE": str(token_file)}
