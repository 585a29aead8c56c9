"""`pms user add|list|disable|enable` on both engines."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from pms_core.db import make_engine
from pms_core.errors import AuthError
from pms_core.models import AuditEvent, User
from pms_core.services import auth
from pms_core.services.auth import LOGIN_FAILED
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD

NEW_PASSWORD = "new-user-pass-1"


def pms(db_url, cli_env, *args, input=None, role="admin"):
    env = {**cli_env, "PMS_USER": role, "PMS_PASSWORD": PASSWORD}
    return run_cli(["--db", db_url, *args], env=env, input=input)


def add(db_url, cli_env, username="carol", *extra, input=None, role="admin"):
    args = ["user", "add", username, "--role", "frontdesk", "--name", "Carol Tester", *extra]
    return pms(db_url, cli_env, *args, input=input, role=role)


@pytest.fixture
def db(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def stored_user(engine, username) -> User | None:
    with Session(engine) as s:
        return s.exec(select(User).where(User.username == username)).first()


def listing(db_url, cli_env, role="admin") -> dict[str, dict]:
    result = pms(db_url, cli_env, "--format", "json", "user", "list", role=role)
    assert result.exit_code == 0, result.stderr
    return {row["username"]: row for row in json.loads(result.stdout)}


# --- add ------------------------------------------------------------------------------------
def test_add_prompts_twice_for_a_hidden_password(db_url, practice, cli_env, db):
    result = add(db_url, cli_env, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert "Added user carol (frontdesk)" in result.stdout
    assert NEW_PASSWORD not in result.stdout + result.stderr  # never echoed
    user = stored_user(db, "carol")
    assert user.full_name == "Carol Tester" and user.role == "frontdesk"
    assert user.password_hash.startswith("$argon2id$")
    assert auth.login(db, username="carol", password=NEW_PASSWORD, issue_token=False)
    with Session(db) as s:
        created = s.exec(select(AuditEvent).where(AuditEvent.action == "user.create")).one()
    assert json.loads(created.detail) == {"target_user_id": user.id, "role": "frontdesk"}


def test_add_asks_again_when_the_two_entries_differ(db_url, practice, cli_env, db):
    typed = f"{NEW_PASSWORD}\nsomething-else-2\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    result = add(db_url, cli_env, input=typed)
    assert result.exit_code == 0, result.stderr
    assert "do not match" in result.stdout + result.stderr
    assert auth.login(db, username="carol", password=NEW_PASSWORD, issue_token=False)


def test_add_with_mismatched_passwords_and_no_retry_adds_nobody(db_url, practice, cli_env, db):
    result = add(db_url, cli_env, input=f"{NEW_PASSWORD}\nsomething-else-2\n")
    assert result.exit_code == 1
    assert stored_user(db, "carol") is None


def test_add_reads_the_password_from_stdin(db_url, practice, cli_env, db):
    result = add(db_url, cli_env, "carol", "--password-stdin", input=f"{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert auth.login(db, username="carol", password=NEW_PASSWORD, issue_token=False)


@pytest.mark.parametrize(
    "username,password,field",
    [
        ("carol", "short", "password"),
        ("carol", "", "password"),
        ("bad name!", NEW_PASSWORD, "username"),
        ("x" * 41, NEW_PASSWORD, "username"),
    ],
    ids=["short-password", "empty-password", "bad-username", "long-username"],
)
def test_bad_input_names_the_field_and_adds_nobody(
    db_url, practice, cli_env, db, username, password, field
):
    result = add(db_url, cli_env, username, "--password-stdin", input=f"{password}\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and field in result.stderr
    assert stored_user(db, username) is None


def test_a_taken_username_is_refused(db_url, practice, cli_env):
    result = add(db_url, cli_env, "biller", "--password-stdin", input=f"{NEW_PASSWORD}\n")
    assert result.exit_code == 1 and "taken" in result.stderr


def test_an_unknown_role_is_a_usage_error(db_url, practice, cli_env):
    result = pms(db_url, cli_env, "user", "add", "carol", "--role", "janitor", "--name", "C")
    assert result.exit_code == 2


def test_only_admins_add_users(db_url, practice, cli_env, db):
    result = add(
        db_url, cli_env, "carol", "--password-stdin", input=f"{NEW_PASSWORD}\n", role="manager"
    )
    assert result.exit_code == 1 and "may not" in result.stderr
    assert stored_user(db, "carol") is None


# --- list -------------------------------------------------------------------------------------
def test_list_shows_every_user_with_role_and_status(db_url, practice, cli_env):
    users = listing(db_url, cli_env)
    assert set(users) == {"admin", "biller", "frontdesk", "manager", "auditor"}
    assert users["biller"]["role"] == "biller" and users["biller"]["status"] == "active"
    assert "password_hash" not in users["biller"]
    assert users["admin"]["last_login_at"]  # PMS_USER logged the admin in


def test_list_in_every_format(db_url, practice, cli_env):
    for fmt, marker in (("table", "frontdesk"), ("csv", "username,full_name"), ("jsonl", '"')):
        result = pms(db_url, cli_env, "--format", fmt, "user", "list")
        assert result.exit_code == 0 and marker in result.stdout


def test_managers_may_list_but_frontdesk_may_not(db_url, practice, cli_env):
    assert listing(db_url, cli_env, role="manager")
    denied = pms(db_url, cli_env, "user", "list", role="frontdesk")
    assert denied.exit_code == 1 and "users:read" in denied.stderr


# --- disable / enable ------------------------------------------------------------------------------
def test_disable_ends_sessions_and_blocks_login_enable_restores(db_url, practice, cli_env, db):
    token = auth.login(db, username="biller", password=PASSWORD).token
    result = pms(db_url, cli_env, "user", "disable", "biller")
    assert result.exit_code == 0 and "Disabled user biller" in result.stdout
    assert auth.user_for_token(db, token) is None
    assert listing(db_url, cli_env)["biller"]["status"] == "disabled"
    refused = run_cli(
        ["--db", db_url, "login", "--username", "biller"], env=cli_env, input=f"{PASSWORD}\n"
    )
    assert refused.exit_code == 1 and LOGIN_FAILED in refused.stderr

    result = pms(db_url, cli_env, "user", "enable", "biller")
    assert result.exit_code == 0 and "Enabled user biller" in result.stdout
    assert listing(db_url, cli_env)["biller"]["status"] == "active"
    assert auth.user_for_token(db, token) is None  # the old session stays ended
    assert auth.login(db, username="biller", password=PASSWORD, issue_token=False)


def test_a_locked_user_is_listed_as_locked_and_enable_unlocks(db_url, practice, cli_env, db):
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(AuthError):
            auth.login(db, username="biller", password="guess", issue_token=False)
    assert listing(db_url, cli_env)["biller"]["status"] == "locked"
    assert pms(db_url, cli_env, "user", "enable", "biller").exit_code == 0
    assert listing(db_url, cli_env)["biller"]["status"] == "active"


def test_disable_refuses_yourself_unknown_users_and_non_admins(db_url, practice, cli_env):
    own = pms(db_url, cli_env, "user", "disable", "admin")
    assert own.exit_code == 1 and "your own account" in own.stderr
    unknown = pms(db_url, cli_env, "user", "disable", "nobody")
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.stderr
    denied = pms(db_url, cli_env, "user", "disable", "biller", role="biller")
    assert denied.exit_code == 1 and "users:manage" in denied.stderr
