"""Data coming in from other systems: file imports (and, with them, the
records that tie pms to an office's previous system and its EHR)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime


class ImportRun(SQLModel, table=True):
    """One applied import: which kind, the file's SHA-256 (the same file again is
    recognised), and what it did. Dry runs are audited, not recorded here."""

    __tablename__ = "import_run"
    __table_args__ = (Index("ix_import_run_sha256", "practice_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    kind: str = Field(max_length=40)
    sha256: str = Field(max_length=64)
    rows: int
    added: int
    updated: int
    unchanged: int
    imported_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    imported_at: datetime = Field(sa_type=UTCDateTime)
