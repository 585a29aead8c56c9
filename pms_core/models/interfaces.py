"""Data coming in from other systems: file imports, the messages exchanged
with the EHR (HL7 v2), and the links that tie pms patients to the EHR's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
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


class PatientLink(SQLModel, table=True):
    """A pms patient's identifier in another system: `system` "ehr" and the
    EHR's patient id (PID-3), so its messages find the patient."""

    __tablename__ = "patient_link"
    __table_args__ = (
        UniqueConstraint("practice_id", "system", "external_id", name="uq_patient_link"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    patient_id: int = Field(foreign_key="patient.id", index=True)
    system: str = Field(max_length=20)
    external_id: str = Field(max_length=60)
    created_at: datetime = Field(sa_type=UTCDateTime)


class InterfaceMessage(SQLModel, table=True):
    """One HL7 message received from or queued for the EHR, with what became of it.

    Inbound: `applied` (ACK AA), `pending` (AE: valid, but a person must act,
    e.g. charges for a patient pms does not know; it stays in the worklist until
    resolved) or `rejected` (AR: not a message pms can take). Outbound: `queued`
    until sent and acknowledged (`sent`), retried with `attempts` and
    `next_attempt_at`; `failed` after the last attempt. `reason` names the
    problem without PHI; `payload` is the message itself (PHI, as any record)."""

    __tablename__ = "interface_message"
    __table_args__ = (
        Index("ix_interface_message_status", "practice_id", "direction", "status", "id"),
        Index("ix_interface_message_control", "practice_id", "direction", "control_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    direction: str = Field(max_length=3)  # in, out
    channel: str = Field(default="mllp", max_length=10)  # mllp, file
    message_type: str = Field(max_length=12)  # ADT^A08
    control_id: str = Field(default="", max_length=50)  # MSH-10
    status: str = Field(max_length=10)
    ack_code: str | None = Field(default=None, max_length=2)
    reason: str = Field(default="", max_length=300)
    patient_id: int | None = Field(default=None, foreign_key="patient.id")
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by_id: int | None = Field(default=None, foreign_key="app_user.id")
