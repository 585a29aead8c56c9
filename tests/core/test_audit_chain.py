"""The audit hash chain detects a changed, deleted, inserted or reordered event.

audit_event rows are protected by triggers against UPDATE and DELETE; each tamper
test first drops them, as an attacker with DBA rights would, and then edits the
table directly with SQL.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from pms_core import audit
from pms_core.errors import PermissionDenied
from pms_core.models import AuditEvent, AuditHead
from pms_core.services import audit_log, coverages, patients

EVENTS = 6  # events written by `chain`


# --- tamper tools (shared with tests/cli/test_audit_cli.py) ----------------------
def drop_append_only_triggers(engine: Engine) -> None:
    """Remove audit_event's append-only protection, as a DBA could."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event"))


def tamper(engine: Engine, *statements: str, **params) -> None:
    drop_append_only_triggers(engine)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def insert_event(engine: Engine, row: dict, prev_hash: str) -> None:
    """Insert a forged event, hashed and linked the way pms_core.audit would."""
    with Session(engine) as s:
        s.add(AuditEvent(**row, prev_hash=prev_hash, hash=forged_hash(prev_hash, row)))
        s.commit()


def verify(engine: Engine) -> audit.VerifyResult:
    with Session(engine) as s:
        return audit.verify(s)


def forged_hash(prev_hash: str, row: dict) -> str:
    """What an attacker who read pms_core.audit would compute for a forged row."""
    event = AuditEvent(**row, prev_hash=prev_hash, hash="")
    return audit._event_hash(prev_hash, event)


@pytest.fixture
def chain(engine, uow):
    """A chain of EVENTS events, each written in its own transaction."""
    for i in range(EVENTS):
        with uow("admin") as ctx:
            audit.record(ctx, action="user.list", detail={"n": i})
    result = verify(engine)
    assert result.ok and result.events == EVENTS
    return result


def problems_for(result: audit.VerifyResult, seq: int) -> list[str]:
    return [p for p in result.problems if p.startswith(f"event seq {seq}:")]


# --- the append-only guard itself ---------------------------------------------------
def test_audit_rows_cannot_be_changed_or_deleted_through_the_database(engine, chain):
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET outcome = 'denied' WHERE seq = 2"))
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq = 2"))
    assert verify(engine).ok


# --- intact --------------------------------------------------------------------------
def test_an_intact_chain_verifies(engine, chain):
    with Session(engine) as s:
        last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        head = s.get(AuditHead, 1)
    assert chain.ok and chain.problems == []
    assert chain.events == EVENTS == last.seq == head.seq
    assert chain.head_hash == last.hash == head.hash


def test_an_empty_chain_verifies(engine):
    result = verify(engine)
    assert result.ok and result.events == 0 and result.head_hash == audit.GENESIS


# --- each kind of tampering -------------------------------------------------------------
def test_a_changed_event_is_detected(engine, chain):
    tamper(engine, "UPDATE audit_event SET outcome = 'denied' WHERE seq = 3")
    result = verify(engine)
    assert not result.ok
    assert problems_for(result, 3) == ["event seq 3: contents changed since it was written"]
    assert all(p.startswith("event seq 3:") for p in result.problems)


def test_a_changed_event_with_a_recomputed_hash_is_detected(engine, chain):
    with Session(engine) as s:
        e = s.exec(select(AuditEvent).where(AuditEvent.seq == 3)).one()
        keys = ("seq", "at", "practice_id", "user_id", "patient_id", "detail")
        row = {k: getattr(e, k) for k in keys}
        new_hash = forged_hash(e.prev_hash, {**row, "action": "user.list", "outcome": "denied"})
    tamper(
        engine,
        "UPDATE audit_event SET outcome = 'denied', hash = :h WHERE seq = 3",
        h=new_hash,
    )
    result = verify(engine)
    assert not result.ok
    # event 3 now hashes correctly, but event 4 no longer links to it
    assert problems_for(result, 3) == []
    assert problems_for(result, 4) == ["event seq 4: does not link to the event before it"]


def test_a_deleted_middle_event_is_detected(engine, chain):
    tamper(engine, "DELETE FROM audit_event WHERE seq = 3")
    result = verify(engine)
    assert not result.ok
    assert any("expected seq 3" in p for p in problems_for(result, 4))
    assert any("does not link" in p for p in problems_for(result, 4))


def test_a_deleted_newest_event_is_detected(engine, chain):
    tamper(engine, "DELETE FROM audit_event WHERE seq = :s", s=EVENTS)
    result = verify(engine)
    assert not result.ok
    assert len(result.problems) == 1
    assert f"ends at seq {EVENTS - 1}" in result.problems[0]
    assert f"head records seq {EVENTS}" in result.problems[0]


def test_deleting_every_event_is_detected(engine, chain):
    tamper(engine, "DELETE FROM audit_event")
    result = verify(engine)
    assert not result.ok and result.events == 0


def test_an_inserted_event_is_detected(engine, chain):
    """A forged event slipped in between seq 2 and 3, hashed correctly and linked
    to seq 2, with the later events renumbered to make room."""
    with Session(engine) as s:
        e2 = s.exec(select(AuditEvent).where(AuditEvent.seq == 2)).one()
        row = dict(
            seq=3,
            at=e2.at,
            practice_id=e2.practice_id,
            user_id=e2.user_id,
            action="user.list",
            patient_id=None,
            outcome="ok",
            detail='{"n":2}',
        )
    tamper(
        engine,
        "UPDATE audit_event SET seq = seq + 1000 WHERE seq >= 3",
        "UPDATE audit_event SET seq = seq - 999 WHERE seq >= 1000",
    )
    insert_event(engine, row, e2.hash)
    result = verify(engine)
    assert not result.ok
    assert problems_for(result, 3) == []  # the forgery itself is well formed
    assert problems_for(result, 4)  # but what followed no longer fits
    assert any("head records" in p for p in result.problems)


def test_an_event_appended_behind_the_heads_back_is_detected(engine, chain):
    with Session(engine) as s:
        last = s.exec(select(AuditEvent).where(AuditEvent.seq == EVENTS)).one()
    row = dict(
        seq=EVENTS + 1,
        at=last.at,
        practice_id=last.practice_id,
        user_id=last.user_id,
        action="user.list",
        patient_id=None,
        outcome="ok",
        detail='{"n":2}',
    )
    insert_event(engine, row, last.hash)  # an INSERT needs no trigger removed
    result = verify(engine)
    assert not result.ok
    assert any("head records" in p for p in result.problems)


def test_reordered_events_are_detected(engine, chain):
    tamper(
        engine,
        "UPDATE audit_event SET seq = -1 WHERE seq = 3",
        "UPDATE audit_event SET seq = 3 WHERE seq = 4",
        "UPDATE audit_event SET seq = 4 WHERE seq = -1",
    )
    result = verify(engine)
    assert not result.ok
    assert problems_for(result, 3) and problems_for(result, 4)


# --- the service ---------------------------------------------------------------------------
def test_verify_chain_needs_audit_read_and_is_audited(engine, chain, uow):
    with uow("auditor") as ctx:
        result = audit_log.verify_chain(ctx)
    assert result.ok and result.events == EVENTS
    with pytest.raises(PermissionDenied), uow("biller") as ctx:
        audit_log.verify_chain(ctx)
    with Session(engine) as s:
        tail = s.exec(select(AuditEvent).where(AuditEvent.seq > EVENTS)).all()
    assert [(e.action, e.outcome) for e in tail] == [
        ("audit.verify", "ok"),
        ("audit.verify", "denied"),
    ]
    assert json.loads(tail[0].detail) == {"events": EVENTS, "problems": 0}
    assert verify(engine).ok


def test_an_anchor_catches_a_chain_rewritten_from_scratch(engine, chain, uow):
    anchor = (chain.events, chain.head_hash)
    with uow("auditor") as ctx:
        assert audit_log.verify_chain(ctx, anchor=anchor).ok
    with uow("auditor") as ctx:
        wrong = audit_log.verify_chain(ctx, anchor=(chain.events, "0" * 64))
        missing = audit_log.verify_chain(ctx, anchor=(10_000, chain.head_hash))
    assert not wrong.ok and "chain rewritten" in wrong.problems[-1]
    assert not missing.ok and "event seq 10000: missing" in missing.problems[-1]


# --- no PHI in the audit log -----------------------------------------------------------------
PHI = dict(
    first_name="Quintessa",
    last_name="Vandermolen",
    dob="1971-09-23",
    sex="F",
    address1="4417 Juniperberry Court",
    city="Springfield",
    state="IL",
    zip="62711",
    mobile_phone="(217) 555-0199",
    email="q.vandermolen@example.com",
)
MEMBER_ID = "ZXQ987654321"


def test_no_phi_reaches_any_audit_column(engine, practice, uow):
    with uow("frontdesk") as ctx:
        patient = patients.register_patient(
            ctx,
            intake=[patients.IntakeInput("allergy", "sulfa drugs", "rash")],
            **PHI,
        )
    with uow("frontdesk") as ctx:
        coverages.add_coverage(
            ctx,
            patient_id=patient.id,
            payer_id=practice.payer_ids[0],
            member_id=MEMBER_ID,
            effective_date="2025-01-01",
        )
    with uow("frontdesk") as ctx:
        for query in ("Vandermolen", "vandermolen, quin", "1971-09-23", "2175550199", MEMBER_ID):
            patients.find_patients(ctx, text=query)
        patients.get_patient(ctx, patient_id=patient.id)
    with pytest.raises(PermissionDenied), uow("auditor") as ctx:
        patients.find_patients(ctx, text="Vandermolen")
    assert audit.flush_reads(engine)

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_event")).mappings().all()
    assert {"patient.create", "coverage.create", "patient.search", "patient.read"} <= {
        r["action"] for r in rows
    }
    assert any(r["patient_id"] == patient.id for r in rows)
    dob = date(1971, 9, 23)
    needles = [
        "quintessa",
        "vandermolen",
        "1971-09-23",
        "19710923",
        "09/23/1971",
        "9/23/1971",
        dob.isoformat(),
        "juniperberry",
        "5550199",
        "q.vandermolen",
        MEMBER_ID.lower(),
        "sulfa",
    ]
    for row in rows:
        flat = " ".join(str(v) for v in row.values()).lower()
        for needle in needles:
            assert needle not in flat, f"audit event {row['seq']} holds PHI ({needle!r})"
    # the detail column holds only JSON ids, counts and codes
    for row in rows:
        assert isinstance(json.loads(row["detail"]), dict)
    assert verify(engine).ok
