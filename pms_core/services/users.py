"""Staff users: adding, listing and disabling them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from pms_core import audit
from pms_core import validation as v
from pms_core.context import Context
from pms_core.errors import AuthError, Conflict, FieldError, NotFound, ValidationError
from pms_core.models import User
from pms_core.passwords import MIN_LENGTH, hash_password
from pms_core.permissions import ROLES, require
from pms_core.services.auth import revoke_user_sessions
from pms_core.services.practice import is_demo_database

DEMO_PASSWORD = "demo"


def _check(session: Session, *, username: str, full_name: str, role: str, password: str) -> None:
    errors = v.collect(
        v.required(
            {"username": username, "full_name": full_name, "role": role, "password": password},
            "username",
            "full_name",
            "role",
            "password",
        ),
        v.choice_error("role", role, ROLES),
    )
    if username and not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        errors.append(FieldError("username", "format", "may hold letters, digits, . _ -"))
    if username and len(username) > 40:
        errors.append(FieldError("username", "too_long", "must be at most 40 characters"))
    if full_name and len(full_name) > 80:
        errors.append(FieldError("full_name", "too_long", "must be at most 80 characters"))
    demo_ok = password == DEMO_PASSWORD and is_demo_database(session)
    if password and len(password) < MIN_LENGTH and not demo_ok:
        errors.append(
            FieldError("password", "too_short", f"must be at least {MIN_LENGTH} characters")
        )
    if errors:
        raise ValidationError(errors)
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise Conflict(f"username '{username}' is taken")


def create_user(
    session: Session, *, practice_id: int, username: str, full_name: str, role: str, password: str
) -> User:
    """Insert a user without a permission check: for `pms init` and the demo, which
    run before any user exists. Everything else goes through `add_user`."""
    _check(session, username=username, full_name=full_name, role=role, password=password)
    user = User(
        practice_id=practice_id,
        username=username,
        full_name=full_name,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    return user


def add_user(ctx: Context, *, username: str, full_name: str, role: str, password: str) -> User:
    require(ctx, "users:manage", action="user.create")
    user = create_user(
        ctx.session,
        practice_id=ctx.practice_id,
        username=username,
        full_name=full_name,
        role=role,
        password=password,
    )
    audit.record(ctx, action="user.create", detail={"target_user_id": user.id, "role": role})
    return user


def list_users(ctx: Context) -> list[User]:
    require(ctx, "users:read", action="user.list")
    return list(
        ctx.session.exec(
            select(User).where(User.practice_id == ctx.practice_id).order_by(User.username)
        )
    )


def user_status(user: User, now: datetime) -> str:
    """ "disabled", "locked" (too many failed logins, until the lock runs out) or "active"."""
    if user.disabled:
        return "disabled"
    if user.locked_until is not None and user.locked_until > now:
        return "locked"
    return "active"


def set_disabled(ctx: Context, *, username: str, disabled: bool = True) -> User:
    """Disable (or re-enable) a user.

    Disabling revokes the user's sessions, so they stop working at once and do
    not come back when the user is enabled again; a user cannot disable
    themselves. Enabling also lifts a lock left by failed logins.
    """
    action = "user.disable" if disabled else "user.enable"
    require(ctx, "users:manage", action=action)
    user = ctx.session.exec(
        select(User)
        .where(User.username == username, User.practice_id == ctx.practice_id)
        .with_for_update()
    ).first()
    if user is None:
        raise NotFound(f"no user '{username}' in this practice")
    if disabled and user.id == ctx.user.id:
        raise Conflict("you cannot disable your own account")
    detail: dict[str, int | bool] = {"target_user_id": user.id}
    user.disabled = disabled
    if disabled:
        detail["sessions_revoked"] = revoke_user_sessions(ctx.session, user.id, ctx.clock.now())
    else:
        detail["unlocked"] = user.locked_until is not None
        user.failed_logins = 0
        user.locked_until = None
    ctx.session.add(user)
    audit.record(ctx, action=action, detail=detail)
    return user


@dataclass(frozen=True)
class SessionInfo:
    """Who is signed in, for a header or `pms whoami`."""

    user_id: int
    username: str
    full_name: str
    role: str
    practice_id: int
    practice_name: str


def session_info(ctx: Context) -> SessionInfo:
    """The acting user and their practice. Needs a signed-in, enabled user."""
    if ctx.user is None or ctx.user.disabled:
        raise AuthError("not logged in; run 'pms login' or set PMS_USER/PMS_PASSWORD")
    practice = ctx.practice()
    return SessionInfo(
        ctx.user.id,
        ctx.user.username,
        ctx.user.full_name,
        ctx.user.role,
        practice.id,
        practice.name,
    )
