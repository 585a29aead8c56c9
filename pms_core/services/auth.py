"""Logging in and out, and turning a session token back into a user.

These run before anyone is logged in, so they take an engine instead of a
Context and manage their own transactions. Every attempt is audited
(`auth.login`, outcome ok/failed) and the event is committed even when the login
fails; the event holds the user id when the username is known, never the typed
username or password.

Every refusal raises AuthError with the same message (LOGIN_FAILED), whether the
username is unknown, the password wrong, the account disabled or locked, so the
message tells a guesser nothing. Unknown usernames are verified against a dummy
hash so they take as long as a wrong password. Five consecutive failures lock
the account for LOCK_MINUTES; while it is locked even the right password fails.

A session token is `secrets.token_urlsafe(32)`; only its SHA-256 is stored. It
expires after a shift (SHIFT_HOURS, or `PMS_SESSION_HOURS`), on logout, and
stops working at once when its user is disabled.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, or_
from sqlmodel import Session, select

from pms_core import audit
from pms_core.clock import Clock, SystemClock
from pms_core.errors import AuthError
from pms_core.models import AuthToken, User
from pms_core.passwords import hash_password, needs_rehash, verify_password

MAX_FAILURES = 5
LOCK_MINUTES = 15
SHIFT_HOURS = 12.0
SESSION_HOURS_ENV = "PMS_SESSION_HOURS"

LOGIN_FAILED = "login failed: wrong username or password, or the account is locked or disabled"


@dataclass(frozen=True)
class LoginResult:
    user_id: int
    token: str | None
    expires_at: datetime | None
    username: str = ""
    full_name: str = ""
    role: str = ""


@dataclass(frozen=True)
class TokenSession:
    user_id: int
    expires_at: datetime


def session_hours() -> float:
    """How long a login lasts: `PMS_SESSION_HOURS` when set (a positive number),
    else SHIFT_HOURS."""
    raw = os.environ.get(SESSION_HOURS_ENV, "").strip()
    if not raw:
        return SHIFT_HOURS
    try:
        hours = float(raw)
    except ValueError:
        raise AuthError(f"{SESSION_HOURS_ENV} must be a number of hours") from None
    if not 0 < hours <= 24 * 30:
        raise AuthError(f"{SESSION_HOURS_ENV} must be between 0 and 720 hours")
    return hours


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    engine: Engine,
    *,
    username: str,
    password: str,
    clock: Clock | None = None,
    issue_token: bool = True,
    shift_hours: float | None = None,
) -> LoginResult:
    """Check a username and password; on success optionally issue a session token.

    Raises AuthError(LOGIN_FAILED) for every kind of refusal. `shift_hours`
    defaults to `session_hours()`.
    """
    clock = clock or SystemClock()
    username = (username or "").strip()
    with Session(engine, expire_on_commit=False) as session:
        now = clock.now()
        user = None
        if username:
            # Locked so that concurrent attempts count every failure (PostgreSQL);
            # SQLite transactions already begin IMMEDIATE.
            user = session.exec(
                select(User).where(User.username == username).with_for_update()
            ).first()
        # Always verify, also for an unknown user (against a dummy hash), so every
        # refusal takes about as long as a wrong password.
        password_ok = verify_password(user.password_hash if user else None, password or "")
        reason = _refusal(user, password_ok, now)
        if reason is not None:
            audit.append(
                session,
                at=now,
                action="auth.login",
                outcome="failed",
                user_id=user.id if user else None,
                practice_id=user.practice_id if user else None,
                detail={"reason": reason},
            )
            session.commit()
            raise AuthError(LOGIN_FAILED)

        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.add(user)
        token = expires_at = None
        if issue_token:
            token = secrets.token_urlsafe(32)
            hours = shift_hours if shift_hours is not None else session_hours()
            expires_at = now + timedelta(hours=hours)
            # Housekeeping: this user's sessions that can no longer be used.
            session.exec(
                delete(AuthToken).where(
                    AuthToken.user_id == user.id,
                    or_(AuthToken.expires_at <= now, AuthToken.revoked_at.is_not(None)),
                )
            )
            session.add(
                AuthToken(
                    user_id=user.id,
                    token_hash=token_hash(token),
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        audit.append(
            session,
            at=now,
            action="auth.login",
            outcome="ok",
            user_id=user.id,
            practice_id=user.practice_id,
            detail={"token": issue_token},
        )
        session.commit()
        return LoginResult(
            user_id=user.id,
            token=token,
            expires_at=expires_at,
            username=user.username,
            full_name=user.full_name,
            role=user.role,
        )


def _refusal(user: User | None, password_ok: bool, now: datetime) -> str | None:
    """Why this attempt is refused (an audit code), or None to let it in.
    Updates the user's failure counter and lock."""
    if user is None:
        return "unknown_user"
    if user.locked_until is not None:
        if user.locked_until > now:
            return "locked"  # not counted: the lock is not extended by more guesses
        user.locked_until = None  # the lock has run out: a fresh set of attempts
        user.failed_logins = 0
    if not password_ok:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            return "bad_password_locked"
        return "bad_password"
    if user.disabled:
        return "disabled"
    return None


def token_session(engine: Engine, token: str, clock: Clock | None = None) -> TokenSession | None:
    """The session behind `token`, or None when the token is unknown, expired or
    revoked, or its user is disabled."""
    if not token:
        return None
    now = (clock or SystemClock()).now()
    with Session(engine) as session:
        row = session.exec(
            select(AuthToken.user_id, AuthToken.expires_at)
            .join(User, User.id == AuthToken.user_id)
            .where(
                AuthToken.token_hash == token_hash(token),
                AuthToken.revoked_at.is_(None),
                AuthToken.expires_at > now,
                User.disabled.is_(False),
            )
        ).first()
    if row is None:
        return None
    return TokenSession(user_id=row[0], expires_at=row[1])


def user_for_token(engine: Engine, token: str, clock: Clock | None = None) -> int | None:
    """The user id a valid session token belongs to, else None."""
    found = token_session(engine, token, clock)
    return found.user_id if found else None


def logout(engine: Engine, token: str, clock: Clock | None = None) -> bool:
    """Revoke a session token; True when a live session was ended. Audited as
    `auth.logout`."""
    if not token:
        return False
    now = (clock or SystemClock()).now()
    with Session(engine) as session:
        row = session.exec(
            select(AuthToken).where(AuthToken.token_hash == token_hash(token)).with_for_update()
        ).first()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now
        session.add(row)
        user = session.get(User, row.user_id)
        audit.append(
            session,
            at=now,
            action="auth.logout",
            user_id=row.user_id,
            practice_id=user.practice_id if user else None,
        )
        session.commit()
        return True


def revoke_user_sessions(session: Session, user_id: int, now: datetime) -> int:
    """Revoke every live session of a user inside `session`'s transaction (used
    when a user is disabled); returns how many were revoked."""
    rows = session.exec(
        select(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
        session.add(row)
    return len(rows)
