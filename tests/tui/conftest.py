"""TUI test fixtures: a deterministic set of synthetic patients, an app factory,
and a SQLite-only practice for snapshot tests (same data every run)."""

from __future__ import annotations

import shutil

import pytest

from pms_core.db import make_engine
from tests.helpers import make_practice
from tests.tui.support import SeededData, seed_patients


@pytest.fixture
def seeded(engine, practice, clock, pm) -> SeededData:
    """The standard patients (Doe, Jane with coverage, intake and a balance; Doe,
    John; Garcia, Maria) in the `practice` fixture's practice, on both engines."""
    return seed_patients(engine, practice, clock, pm)


@pytest.fixture
def snap_engine(sqlite_template, tmp_path):
    """SQLite only: snapshots must be byte-for-byte stable."""
    path = tmp_path / "snap.db"
    shutil.copy(sqlite_template, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


@pytest.fixture
def snap_data(snap_engine, clock, pm) -> SeededData:
    practice = make_practice(snap_engine)
    return seed_patients(snap_engine, practice, clock, pm)
