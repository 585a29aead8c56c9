"""Login, lockout, session tokens and logout, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlmodel import Session, select

from pms_core import audit
from pms_core.errors import AuthError
from pms_core.models import AuditEvent, AuthToken, User
from pms_core.services import auth
from pms_core.services.users import set_disabled
from tests.helpers import PASSWORD


def login(engine, clock, username="biller", password=PASSWORD, **kw):
    return auth.login(engine, username=username, password=password, clock=clock, **kw)


def refusal(engine, clock, username="biller", password=PASSWORD) -> str:
    with pytest.raises(AuthError) as info:
        login(engine, clock, username, password)
    return str(info.value)


def user_row(engine, user_id) -> User:
    with Session(engine) as s:
        return s.get(User, user_id)


def events(engine, action="auth.login") -> list[AuditEvent]:
    with Session(engine) as s:
        return list(
            s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        )


# --- passwords -------------------------------------------------------------------
def test_passwords_are_stored_as_argon2id_hashes(engine, practice):
    with engine.connect() as conn:
        hashes = [h for (h,) in conn.execute(text("SELECT password_hash FROM app_user"))]
    assert len(hashes) == 5
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)


def test_weaker_hash_is_upgraded_on_login(engine, practice, clock):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with Session(engine) as s:
        user = s.get(User, practice.users["biller"])
        user.password_hash = weak
        s.add(user)
        s.commit()
    login(engine, clock)
    stored = user_row(engine, practice.users["biller"]).password_hash
    assert stored != weak and stored.startswith("$argon2id$") and "m=65536" in stored
    assert login(engine, clock).user_id == practice.users["biller"]


# --- a good login ----------------------------------------------------------------
def test_login_issues_a_shift_long_token_storing_only_its_hash(engine, practice, clock):
    result = login(engine, clock)
    assert result.user_id == practice.users["biller"]
    assert result.role == "biller" and result.username == "biller"
    assert result.expires_at == clock.now() + timedelta(hours=auth.SHIFT_HOURS)
    with Session(engine) as s:
        rows = s.exec(select(AuthToken)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(result.token.encode()).hexdigest()
    assert rows[0].token_hash != result.token
    assert auth.user_for_token(engine, result.token, clock) == result.user_id
    assert user_row(engine, result.user_id).last_login_at == clock.now()


def test_login_without_token_stores_none(engine, practice, clock):
    result = login(engine, clock, issue_token=False)
    assert result.token is None and result.expires_at is None
    with Session(engine) as s:
        assert s.exec(select(AuthToken)).all() == []


def test_session_hours_come_from_the_environment(engine, practice, clock, monkeypatch):
    monkeypatch.setenv(auth.SESSION_HOURS_ENV, "2")
    result = login(engine, clock)
    assert result.expires_at == clock.now() + timedelta(hours=2)
    monkeypatch.setenv(auth.SESSION_HOURS_ENV, "soon")
    with pytest.raises(AuthError, match=auth.SESSION_HOURS_ENV):
        login(engine, clock)


# --- refusals ----------------------------------------------------------------------
def test_every_refusal_has_the_same_message(engine, practice, clock):
    unknown = refusal(engine, clock, username="nobody-here")
    wrong = refusal(engine, clock, username="manager", password="not-the-password")
    empty = refusal(engine, clock, username="", password="")
    with Session(engine) as s:
        s.get(User, practice.users["frontdesk"]).disabled = True
        s.commit()
    disabled = refusal(engine, clock, username="frontdesk")  # right password
    for _ in range(auth.MAX_FAILURES):
        refusal(engine, clock, username="biller", password="guess")
    locked = refusal(engine, clock, username="biller")  # right password
    assert {unknown, wrong, empty, disabled, locked} == {auth.LOGIN_FAILED}
    for word in ("nobody-here", "manager", "frontdesk", "biller"):
        assert word not in auth.LOGIN_FAILED


def test_five_failures_lock_the_account_even_for_the_right_password(engine, practice, clock):
    biller = practice.users["biller"]
    for _ in range(auth.MAX_FAILURES - 1):
        refusal(engine, clock, password="guess")
    assert user_row(engine, biller).locked_until is None
    refusal(engine, clock, password="guess")  # the fifth
    locked = user_row(engine, biller)
    assert locked.failed_logins == auth.MAX_FAILURES
    assert locked.locked_until == clock.now() + timedelta(minutes=auth.LOCK_MINUTES)
    refusal(engine, clock)  # right password, still refused
    clock.advance(timedelta(minutes=auth.LOCK_MINUTES) - timedelta(seconds=1))
    refusal(engine, clock)
    # attempts while locked do not extend the lock
    assert user_row(engine, biller).locked_until == locked.locked_until
    clock.advance(timedelta(seconds=1))
    assert login(engine, clock).user_id == biller
    after = user_row(engine, biller)
    assert after.failed_logins == 0 and after.locked_until is None


def test_a_success_resets_the_failure_count(engine, practice, clock):
    for _ in range(auth.MAX_FAILURES - 1):
        refusal(engine, clock, password="guess")
    login(engine, clock)
    for _ in range(auth.MAX_FAILURES - 1):
        refusal(engine, clock, password="guess")
    assert login(engine, clock).user_id == practice.users["biller"]  # not locked


def test_after_a_lock_runs_out_there_are_five_fresh_attempts(engine, practice, clock):
    for _ in range(auth.MAX_FAILURES):
        refusal(engine, clock, password="guess")
    clock.advance(timedelta(minutes=auth.LOCK_MINUTES))
    refusal(engine, clock, password="guess")
    assert user_row(engine, practice.users["biller"]).locked_until is None
    assert login(engine, clock).user_id == practice.users["biller"]


def test_enabling_a_user_lifts_the_lock(engine, practice, clock, uow):
    for _ in range(auth.MAX_FAILURES):
        refusal(engine, clock, password="guess")
    with uow("admin") as ctx:
        set_disabled(ctx, username="biller", disabled=False)
    assert login(engine, clock).user_id == practice.users["biller"]


def test_failed_logins_are_audited_and_committed(engine, practice, clock):
    refusal(engine, clock, username="ghost-user", password="typed-secret-1")
    refusal(engine, clock, username="biller", password="typed-secret-2")
    login(engine, clock)
    logged = events(engine)
    assert [(e.outcome, e.user_id) for e in logged] == [
        ("failed", None),
        ("failed", practice.users["biller"]),
        ("ok", practice.users["biller"]),
    ]
    assert [json.loads(e.detail)["reason"] for e in logged[:2]] == ["unknown_user", "bad_password"]
    assert all(e.at == clock.now() for e in logged)
    with engine.connect() as conn:
        dump = repr(conn.execute(text("SELECT * FROM audit_event")).all())
    for typed in ("ghost-user", "typed-secret-1", "typed-secret-2", PASSWORD):
        assert typed not in dump
    with Session(engine) as s:
        assert audit.verify(s).ok


def test_locked_and_disabled_refusals_are_audited_with_their_reason(engine, practice, clock):
    with Session(engine) as s:
        s.get(User, practice.users["frontdesk"]).disabled = True
        s.commit()
    refusal(engine, clock, username="frontdesk")
    for _ in range(auth.MAX_FAILURES + 1):
        refusal(engine, clock, password="guess")
    reasons = [json.loads(e.detail)["reason"] for e in events(engine)]
    assert reasons == ["disabled"] + ["bad_password"] * 4 + ["bad_password_locked", "locked"]


# --- sessions ------------------------------------------------------------------------
def test_token_expires_after_the_shift(engine, practice, clock):
    token = login(engine, clock).token
    clock.advance(timedelta(hours=auth.SHIFT_HOURS) - timedelta(seconds=1))
    assert auth.user_for_token(engine, token, clock) == practice.users["biller"]
    clock.advance(timedelta(seconds=1))
    assert auth.user_for_token(engine, token, clock) is None


def test_unknown_and_garbage_tokens_are_nobody(engine, practice, clock):
    login(engine, clock)
    for token in ("", "garbage", "x" * 500, "\x00\xff"):
        assert auth.user_for_token(engine, token, clock) is None


def test_disabled_users_token_stops_working_and_stays_dead(engine, practice, clock, uow):
    token = login(engine, clock).token
    with uow("admin") as ctx:
        set_disabled(ctx, username="biller")
    assert auth.user_for_token(engine, token, clock) is None
    with uow("admin") as ctx:
        set_disabled(ctx, username="biller", disabled=False)
    assert auth.user_for_token(engine, token, clock) is None  # revoked, not just hidden
    assert auth.user_for_token(engine, login(engine, clock).token, clock) is not None


def test_disabled_flag_alone_stops_a_token(engine, practice, clock):
    token = login(engine, clock).token
    with Session(engine) as s:
        s.get(User, practice.users["biller"]).disabled = True
        s.commit()
    assert auth.user_for_token(engine, token, clock) is None


def test_logout_revokes_the_token_and_is_audited(engine, practice, clock):
    token = login(engine, clock).token
    other = login(engine, clock, username="manager").token
    assert auth.logout(engine, token, clock) is True
    assert auth.user_for_token(engine, token, clock) is None
    assert auth.user_for_token(engine, other, clock) == practice.users["manager"]
    assert auth.logout(engine, token, clock) is False  # already ended
    assert auth.logout(engine, "garbage", clock) is False
    logouts = events(engine, "auth.logout")
    assert [(e.user_id, e.outcome) for e in logouts] == [(practice.users["biller"], "ok")]
