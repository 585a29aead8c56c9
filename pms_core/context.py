"""The Context every service takes first, and the unit of work that makes one.

A service is `fn(ctx, *, ...)`. The caller (CLI, TUI, a plugin, a test) opens a
unit of work; it commits when the block ends without an exception and rolls back
otherwise. Notify hooks queued with `ctx.notify()` run after the commit, so a
plugin never sees data that was rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pluggy
from sqlalchemy import Engine, bindparam
from sqlmodel import Session, select

from pms_core import audit
from pms_core.audit import PendingEvent
from pms_core.clock import Clock, SystemClock
from pms_core.errors import FieldError, ValidationError
from pms_core.models import Practice, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who is acting in a unit of work, as read when it opened: what permission
    checks and audit events need, without an ORM row in the session."""

    id: int
    practice_id: int
    username: str
    full_name: str
    role: str
    disabled: bool


_ACTOR_QUERY = select(
    User.id, User.practice_id, User.username, User.full_name, User.role, User.disabled
).where(User.id == bindparam("user_id"))


def load_actor(session: Session, user_id: int) -> Actor | None:
    """The user as an Actor (one indexed read, no ORM loading), or None."""
    row = session.connection().execute(_ACTOR_QUERY, {"user_id": user_id}).first()
    return Actor(*row) if row is not None else None


@dataclass
class Context:
    session: Session
    user: Actor | None
    pm: pluggy.PluginManager
    clock: Clock
    practice_id: int | None = None
    _pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False)
    _reads: list[PendingEvent] = field(default_factory=list, repr=False)
    _zone: ZoneInfo | None = field(default=None, repr=False)

    def queue_read(self, event: PendingEvent) -> None:
        """Keep a read audit event until the unit of work commits (see `audit`)."""
        self._reads.append(event)

    def submit_reads(self) -> None:
        """Hand the reads of a committed unit of work to the grouped writer."""
        reads, self._reads = self._reads, []
        if reads:
            audit.read_writer(self.session.get_bind()).submit(reads)

    def notify(self, hook: str, **kwargs: Any) -> None:
        """Queue a notify hook (e.g. "patient_registered") to run after commit."""
        self._pending.append((hook, kwargs))

    def practice(self) -> Practice:
        if self.practice_id is None:
            raise LookupError("no practice selected")
        return self.session.get(Practice, self.practice_id)

    def zone(self) -> ZoneInfo:
        """The practice's time zone (UTC when there is no practice), read once per
        unit of work: a change of zone applies from the next one. A stored name
        this machine does not know (a typo made outside pms, or missing tz data)
        is a clear error naming the field, not a traceback."""
        if self._zone is None:
            self._zone = self._read_zone()
        return self._zone

    def _read_zone(self) -> ZoneInfo:
        practice = self.session.get(Practice, self.practice_id) if self.practice_id else None
        if practice is None:
            return ZoneInfo("UTC")
        try:
            return ZoneInfo(practice.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                [
                    FieldError(
                        "time_zone",
                        "time_zone",
                        f"practice {practice.id}'s time zone {practice.time_zone!r} is not a "
                        "known IANA time zone (e.g. America/Chicago)",
                    )
                ]
            ) from None

    def today(self) -> date:
        """Today's date in the practice's time zone (UTC when there is none)."""
        return self.clock.now().astimezone(self.zone()).date()

    def discard_notifications(self) -> None:
        self._pending.clear()

    def run_notifications(self) -> None:
        """Run queued notify hooks after the commit. Each hook may use
        `ctx.session`: what it writes is committed when it returns and rolled back
        when it raises. A failing plugin never undoes the committed work; it is
        logged by hook name and exception type only (its message may hold PHI)."""
        pending, self._pending = self._pending, []
        try:
            for hook, kwargs in pending:
                try:
                    getattr(self.pm.hook, hook)(ctx=self, **kwargs)
                    self.session.commit()
                except Exception as exc:
                    self.session.rollback()
                    log.error("notify hook %s raised %s", hook, type(exc).__name__)
        finally:
            self.session.close()


@contextmanager
def unit_of_work(
    engine: Engine,
    *,
    user_id: int | None = None,
    pm: pluggy.PluginManager | None = None,
    clock: Clock | None = None,
    practice_id: int | None = None,
) -> Iterator[Context]:
    """Open a session, yield a Context, commit on success, then run notifications.

    The practice defaults to the acting user's practice.
    """
    if pm is None:
        from pms_core.plugins import get_plugin_manager

        pm = get_plugin_manager()
    session = Session(engine, expire_on_commit=False)
    try:
        user = load_actor(session, user_id) if user_id is not None else None
        if practice_id is None and user is not None:
            practice_id = user.practice_id
        ctx = Context(
            session=session, user=user, pm=pm, clock=clock or SystemClock(), practice_id=practice_id
        )
        yield ctx
        session.commit()
        ctx.submit_reads()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    ctx.run_notifications()
