"""The audit log as a hash chain.

Each event's hash covers the previous event's hash and every field of the event,
so `verify()` detects a changed, deleted, inserted or reordered event. The head
row (`audit_head`) records the newest link: appends lock it (serializing writers
on PostgreSQL; SQLite already serializes with BEGIN IMMEDIATE) and `verify()`
checks it, which catches deleting the newest events. `verify()` returns the head
hash so an admin can keep it elsewhere: a chain rewritten from scratch by someone
with full database access is detected only against such an outside copy.

Events hold ids and counts, never PHI: `detail` is validated to hold only
numbers, booleans, short codes and lists of those.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from pms_core.models import AuditEvent, AuditHead

if TYPE_CHECKING:
    from pms_core.context import Context

GENESIS = "0" * 64
OUTCOMES = ("ok", "denied", "failed")


def _event_hash(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        [
            prev_hash,
            event.seq,
            event.at.isoformat(),
            event.practice_id,
            event.user_id,
            event.action,
            event.patient_id,
            event.outcome,
            event.detail,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _check_detail(detail: dict[str, Any]) -> str:
    def ok(v: Any) -> bool:
        if v is None or isinstance(v, bool | int):
            return True
        if isinstance(v, str):  # codes such as a permission or a format, not free text
            return len(v) <= 60 and all(c.isalnum() or c in ":_-./" for c in v)
        if isinstance(v, list):
            return all(ok(x) for x in v)
        return False

    for key, value in detail.items():
        if not ok(value):
            raise ValueError(f"audit detail {key!r} must be ids, counts or codes")
    return json.dumps(detail, sort_keys=True, separators=(",", ":"))


def append(
    session: Session,
    *,
    at,
    action: str,
    outcome: str = "ok",
    user_id: int | None = None,
    practice_id: int | None = None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the chain inside `session`'s transaction."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:  # created by the first migration; gone means tampering
        raise RuntimeError("the audit chain's head row is missing; run 'pms audit verify'")
    event = AuditEvent(
        seq=head.seq + 1,
        at=at.astimezone(UTC),
        practice_id=practice_id,
        user_id=user_id,
        action=action,
        patient_id=patient_id,
        outcome=outcome,
        detail=_check_detail(detail or {}),
        prev_hash=head.hash,
        hash="",
    )
    event.hash = _event_hash(head.hash, event)
    session.add(event)
    head.seq, head.hash = event.seq, event.hash
    session.flush()
    return event


def record(
    ctx: Context,
    *,
    action: str,
    outcome: str = "ok",
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Audit an action by the context's user, in the context's transaction."""
    return append(
        ctx.session,
        at=ctx.clock.now(),
        action=action,
        outcome=outcome,
        user_id=ctx.user.id if ctx.user else None,
        practice_id=ctx.practice_id,
        patient_id=patient_id,
        detail=detail,
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    head_hash: str
    problems: list[str]


def verify(session: Session) -> VerifyResult:
    """Walk the chain in sequence order and report every break, by event seq.

    The head is read first under a shared lock (PostgreSQL; SQLite transactions
    are already exclusive), so no event can be appended while the chain is walked
    and the walk ends exactly where the head says, unless someone tampered.
    Events are streamed, not loaded at once.
    """
    head = session.exec(
        select(AuditHead).where(AuditHead.id == 1).with_for_update(read=True)
    ).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    problems: list[str] = []
    prev_hash, expected_seq, count = GENESIS, 1, 0
    rows = session.exec(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    )
    for event in rows:
        count += 1
        if event.seq != expected_seq:
            problems.append(f"event seq {event.seq}: expected seq {expected_seq} (gap or reorder)")
        if event.prev_hash != prev_hash:
            problems.append(f"event seq {event.seq}: does not link to the event before it")
        if _event_hash(event.prev_hash, event) != event.hash:
            problems.append(f"event seq {event.seq}: contents changed since it was written")
        prev_hash, expected_seq = event.hash, event.seq + 1
        session.expunge(event)
    if (head_seq, head_hash) != (expected_seq - 1, prev_hash):
        problems.append(
            f"chain ends at seq {expected_seq - 1} but the head records seq {head_seq}"
            " (newest events deleted or head altered)"
        )
    return VerifyResult(ok=not problems, events=count, head_hash=head_hash, problems=problems)
