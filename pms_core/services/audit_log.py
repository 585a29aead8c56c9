"""Reading and verifying the audit log (`audit:read`).

Both are audited themselves: `audit.verify` and `audit.read`. The chain is
database-wide (one chain for every practice), so verification always covers
all of it; listings show this practice's events plus the events that belong to
no practice (failed logins with an unknown username).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import or_, select

from pms_core import audit
from pms_core.audit import VerifyResult
from pms_core.context import Context
from pms_core.errors import FieldError, NotFound, ValidationError
from pms_core.models import AuditEvent, User
from pms_core.permissions import require

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    user_id: int | None
    username: str | None
    action: str
    patient_id: int | None
    outcome: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "user_id": self.user_id,
            "username": self.username,
            "action": self.action,
            "patient_id": self.patient_id,
            "outcome": self.outcome,
            "detail": json.dumps(self.detail, sort_keys=True, separators=(",", ":")),
        }


def verify_chain(ctx: Context, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Walk the whole chain and report every break by event seq.

    `anchor` is a (seq, hash) pair kept outside the database from an earlier
    verification; when given, event `seq` must still carry that hash, which also
    catches a chain rewritten from scratch. The check is audited as
    `audit.verify` after it runs, so the result describes the chain as it was.
    """
    require(ctx, "audit:read", action="audit.verify")
    result = audit.verify(ctx.session)
    if anchor is not None:
        seq, expected = anchor
        stored = ctx.session.exec(select(AuditEvent.hash).where(AuditEvent.seq == seq)).first()
        problem = None
        if stored is None:
            problem = f"event seq {seq}: missing, but the anchor says it exists"
        elif stored != expected:
            problem = f"event seq {seq}: hash differs from the anchor (chain rewritten)"
        if problem:
            result = VerifyResult(
                ok=False,
                events=result.events,
                head_hash=result.head_hash,
                problems=[*result.problems, problem],
            )
    audit.record(
        ctx,
        action="audit.verify",
        detail={"events": result.events, "problems": len(result.problems)},
    )
    return result


def _detail(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"unreadable": True}  # a damaged row; `verify` reports it
    return value if isinstance(value, dict) else {"unreadable": True}


def _since(value: date | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def list_events(
    ctx: Context,
    *,
    limit: int = 100,
    user_id: int | None = None,
    username: str | None = None,
    patient_id: int | None = None,
    action: str | None = None,
    since: date | datetime | None = None,
) -> list[AuditRow]:
    """The newest events first, filtered by user (id or username), patient id,
    action (exact, or a prefix ending in "." such as "auth.") and time.

    Audited as `audit.read`, with the patient id when the listing was filtered
    by one.
    """
    require(ctx, "audit:read", action="audit.read", patient_id=patient_id)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError([FieldError("limit", "range", f"must be 1 to {MAX_LIMIT}")])
    if username is not None:
        found = ctx.session.exec(
            select(User.id).where(User.username == username, User.practice_id == ctx.practice_id)
        ).first()
        if found is None:
            raise NotFound(f"no user '{username}' in this practice")
        if user_id is not None and user_id != found:
            return []
        user_id = found
    query = (
        select(AuditEvent, User.username)
        .join(User, User.id == AuditEvent.user_id, isouter=True)
        .where(or_(AuditEvent.practice_id == ctx.practice_id, AuditEvent.practice_id.is_(None)))
    )
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    if action:
        if action.endswith("."):
            query = query.where(AuditEvent.action.startswith(action, autoescape=True))
        else:
            query = query.where(AuditEvent.action == action)
    start = _since(since)
    if start is not None:
        query = query.where(AuditEvent.at >= start)
    rows = ctx.session.exec(query.order_by(AuditEvent.seq.desc()).limit(limit)).all()
    result = [
        AuditRow(
            seq=e.seq,
            at=e.at,
            user_id=e.user_id,
            username=name,
            action=e.action,
            patient_id=e.patient_id,
            outcome=e.outcome,
            detail=_detail(e.detail),
        )
        for e, name in rows
    ]
    audit.record(ctx, action="audit.read", patient_id=patient_id, detail={"count": len(result)})
    return result
