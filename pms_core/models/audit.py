"""The audit log: a hash chain over every PHI read and write, login and export."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime


class AuditEvent(SQLModel, table=True):
    """One audited action. `detail` is JSON holding ids and counts only, no PHI.

    `hash` = SHA-256 over `prev_hash` and this row's fields (see
    `pms_core.audit`), so any changed, deleted, inserted or reordered row breaks
    the chain.
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    at: datetime = Field(sa_type=UTCDateTime)
    practice_id: int | None = Field(default=None, index=True)
    user_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=60)
    patient_id: int | None = Field(default=None, index=True)
    outcome: str = Field(max_length=20)
    detail: str = Field(default="{}", max_length=4000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's newest link (one row, id 1). Appends lock it, which serializes
    writers, and `verify` compares it with the last event so that deleting the
    newest events is detected too."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    hash: str = Field(max_length=64)
