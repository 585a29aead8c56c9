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

PHI reads (a search, a record or a schedule shown) are committed in groups.
`record_read()` keeps the event, stamped with the time of the read, on the
context; when the unit of work commits, it goes to this process's
`ReadAuditWriter` for the engine, which appends waiting reads to the chain in
one transaction at most `LINGER` seconds later (and at exit). A typeahead search
so costs the user no durable write of its own, while every read still lands in
the chain, in the order it was made. The price is a window: a process killed
outright (power loss, SIGKILL) in those `LINGER` seconds loses those read
events. Writes, logins, refusals and everything else stay in the caller's own
transaction. Never flush from inside a unit of work: on SQLite the caller
holds the write lock the writer needs.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, bindparam, insert, update
from sqlmodel import Session, select

from pms_core.models import AuditEvent, AuditHead

if TYPE_CHECKING:
    from pms_core.context import Context

log = logging.getLogger(__name__)

GENESIS = "0" * 64
OUTCOMES = ("ok", "denied", "failed")


def _event_hash(prev_hash: str, event: AuditEvent | dict[str, Any]) -> str:
    """The link's hash; `event` an AuditEvent or a row of its columns."""
    get = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
    body = json.dumps(
        [
            prev_hash,
            get("seq"),
            get("at").isoformat(),
            get("practice_id"),
            get("user_id"),
            get("action"),
            get("patient_id"),
            get("outcome"),
            get("detail"),
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
    at: datetime,
    action: str,
    outcome: str = "ok",
    user_id: int | None = None,
    practice_id: int | None = None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one event to the chain inside `session`'s transaction."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    pending = PendingEvent(
        at.astimezone(UTC), action, outcome, user_id, practice_id, patient_id,
        _check_detail(detail or {}),
    )  # fmt: skip
    _append_all(session, [pending])


@dataclass(frozen=True)
class PendingEvent:
    """An event checked and stamped, not yet in the chain."""

    at: datetime
    action: str
    outcome: str
    user_id: int | None
    practice_id: int | None
    patient_id: int | None
    detail: str  # checked, canonical JSON


_HEAD_FOR_UPDATE = (
    select(AuditHead.__table__.c.seq, AuditHead.__table__.c.hash)
    .where(AuditHead.__table__.c.id == 1)
    .with_for_update()
)
_INSERT_EVENT = insert(AuditEvent.__table__)
_MOVE_HEAD = (
    update(AuditHead.__table__)
    .where(AuditHead.__table__.c.id == 1)
    .values(seq=bindparam("seq"), hash=bindparam("hash"))
)


def _append_all(session: Session, pending: list[PendingEvent]) -> None:
    """Link `pending` to the chain in order, under one lock on the head.

    Plain INSERT and UPDATE statements on the session's connection, not ORM
    objects: every write and read of the practice appends here, and the ORM's
    handling of one event cost more than the action it audited. The session's
    other pending changes are flushed first, so an event never names a row not
    yet written."""
    session.flush()
    conn = session.connection()
    head = conn.execute(_HEAD_FOR_UPDATE).first()
    if head is None:  # created by the first migration; gone means tampering
        raise RuntimeError("the audit chain's head row is missing; run 'pms audit verify'")
    seq, link = head
    rows = []
    for p in pending:
        seq += 1
        row = {
            "seq": seq,
            "at": p.at,
            "practice_id": p.practice_id,
            "user_id": p.user_id,
            "action": p.action,
            "patient_id": p.patient_id,
            "outcome": p.outcome,
            "detail": p.detail,
            "prev_hash": link,
        }
        row["hash"] = link = _event_hash(link, row)
        rows.append(row)
    conn.execute(_INSERT_EVENT, rows)
    conn.execute(_MOVE_HEAD, {"seq": seq, "hash": link})


def record(
    ctx: Context,
    *,
    action: str,
    outcome: str = "ok",
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit an action by the context's user, in the context's transaction."""
    append(
        ctx.session,
        at=ctx.clock.now(),
        action=action,
        outcome=outcome,
        user_id=ctx.user.id if ctx.user else None,
        practice_id=ctx.practice_id,
        patient_id=patient_id,
        detail=detail,
    )


def record_read(
    ctx: Context,
    *,
    action: str,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit a PHI read by the context's user. The event is checked and stamped
    now and joins the chain in a group after the unit of work commits (see the
    module docstring); a read in a unit of work that rolls back is not kept,
    as with `record`."""
    ctx.queue_read(
        PendingEvent(
            ctx.clock.now().astimezone(UTC),
            action,
            "ok",
            ctx.user.id if ctx.user else None,
            ctx.practice_id,
            patient_id,
            _check_detail(detail or {}),
        )
    )


# --- grouped commits of read events ------------------------------------------
LINGER = 0.25  # seconds a read may wait for others to share its commit
MAX_GROUP = 500
_IDLE_EXIT = 5.0  # an idle writer thread ends; the next read starts another


class ReadAuditWriter:
    """Appends the read events of one engine to the chain in groups, from a
    background thread. `flush()` waits until everything submitted is written."""

    def __init__(self, engine: Engine):
        # Weak, so an engine nobody uses any more can go; the thread holds it
        # strongly while it runs.
        self._engine = weakref.ref(engine)
        self._cond = threading.Condition()
        self._queue: deque[PendingEvent] = deque()
        self._in_flight = 0
        self._flushers = 0
        self._thread: threading.Thread | None = None

    def submit(self, events: list[PendingEvent]) -> None:
        with self._cond:
            self._queue.extend(events)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pms-read-audit", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until every submitted event is in the chain; False on timeout
        (the database stayed locked or unreachable; the events are kept)."""
        with self._cond:
            self._flushers += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: not self._queue and not self._in_flight, timeout)
            finally:
                self._flushers -= 1

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def _next_group(self) -> list[PendingEvent] | None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._queue, _IDLE_EXIT):
                self._thread = None  # idle: end; submit() starts a new thread
                return None
            deadline = time.monotonic() + LINGER
            while len(self._queue) < MAX_GROUP and not self._flushers:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            group = [self._queue.popleft() for _ in range(min(MAX_GROUP, len(self._queue)))]
            self._in_flight = len(group)
            return group

    def _run(self) -> None:
        engine = self._engine()
        failures = 0
        while (group := self._next_group()) is not None:
            ok = engine is not None and self._write(engine, group)
            with self._cond:
                self._in_flight = 0
                if not ok:
                    self._queue.extendleft(reversed(group))
                self._cond.notify_all()
            failures = 0 if ok else failures + 1
            if failures:
                time.sleep(min(0.5 * 2**failures, 30.0))

    @staticmethod
    def _write(engine: Engine, group: list[PendingEvent]) -> bool:
        try:
            with Session(engine) as session:
                _append_all(session, group)
                session.commit()
            return True
        except Exception as exc:  # kept and retried; the message may quote values
            log.error(
                "could not write %d read audit event(s): %s; retrying",
                len(group),
                type(exc).__name__,
            )
            return False


_writers: weakref.WeakKeyDictionary[Engine, ReadAuditWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def read_writer(engine: Engine) -> ReadAuditWriter:
    """This process's writer for `engine` (one per engine)."""
    with _writers_lock:
        writer = _writers.get(engine)
        if writer is None:
            writer = _writers[engine] = ReadAuditWriter(engine)
        return writer


def flush_reads(engine: Engine | None = None, *, timeout: float = 60.0) -> bool:
    """Write the read events waiting for `engine` (every engine when None) now.
    Call it outside any unit of work: before reading the audit log, before
    disposing of an engine, at the end of a command."""
    with _writers_lock:
        writers = [_writers.get(engine)] if engine is not None else list(_writers.values())
    return all(w.flush(timeout) for w in writers if w is not None)


@atexit.register
def _flush_at_exit() -> None:
    with _writers_lock:
        writers = list(_writers.values())
    for writer in writers:
        if not writer.flush(timeout=30.0):
            log.error("%d read audit event(s) could not be written before exit", writer.pending())


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
