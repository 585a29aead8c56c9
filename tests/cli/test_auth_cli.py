"""`pms login`, `pms logout`, `pms whoami`, and PMS_USER/PMS_PASSWORD, on both engines."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from pms_core.db import make_engine
from pms_core.services import auth
from pms_core.services.auth import LOGIN_FAILED
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD


def token_file(cli_env) -> Path:
    return Path(cli_env["PMS_TOKEN_FILE"])


def pms(db_url, cli_env, *args, input=None, **env):
    return run_cli(["--db", db_url, *args], env={**cli_env, **env}, input=input)


def cli_login(db_url, cli_env, username="biller", password=PASSWORD):
    return pms(db_url, cli_env, "login", "--username", username, input=f"{password}\n")


def whoami(db_url, cli_env, **env):
    return pms(db_url, cli_env, "--format", "json", "whoami", **env)


def test_login_writes_a_private_token_file_and_later_commands_run_as_that_user(
    db_url, practice, cli_env
):
    result = cli_login(db_url, cli_env)
    assert result.exit_code == 0, result.stderr
    assert "Logged in as biller (biller) until" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    path = token_file(cli_env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert set(saved) == {"db", "token", "expires_at"}
    assert saved["token"] and PASSWORD not in path.read_text()
    # the database is identified by a hash: a PostgreSQL URL may carry a password
    assert db_url not in path.read_text() and len(saved["db"]) == 64

    me = whoami(db_url, cli_env)
    assert me.exit_code == 0, me.stderr
    info = json.loads(me.stdout)
    assert info["username"] == "biller" and info["role"] == "biller"
    assert info["via"] == "pms login" and info["session_expires"]
    # the biller may not list users: the command really runs as the biller
    denied = pms(db_url, cli_env, "user", "list")
    assert denied.exit_code == 1 and "may not" in denied.stderr


def test_login_prompts_for_the_username_when_not_given(db_url, practice, cli_env):
    result = pms(db_url, cli_env, "login", input=f"manager\n{PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(whoami(db_url, cli_env).stdout)["username"] == "manager"


def test_login_again_replaces_the_session(db_url, practice, cli_env):
    assert cli_login(db_url, cli_env).exit_code == 0
    assert cli_login(db_url, cli_env, "manager").exit_code == 0
    assert json.loads(whoami(db_url, cli_env).stdout)["username"] == "manager"
    assert pms(db_url, cli_env, "user", "list").exit_code == 0


def test_a_loose_token_file_is_tightened_to_0600(db_url, practice, cli_env):
    path = token_file(cli_env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    os.chmod(path, 0o644)
    assert cli_login(db_url, cli_env).exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_logout_revokes_the_session_and_removes_the_file(db_url, practice, cli_env):
    assert cli_login(db_url, cli_env).exit_code == 0
    token = json.loads(token_file(cli_env).read_text())["token"]
    result = pms(db_url, cli_env, "logout")
    assert result.exit_code == 0 and "Logged out." in result.stdout
    assert not token_file(cli_env).exists()
    engine = make_engine(db_url)
    try:
        assert auth.user_for_token(engine, token) is None  # revoked in the database
    finally:
        engine.dispose()
    me = whoami(db_url, cli_env)
    assert me.exit_code == 1 and "not logged in" in me.stderr
    again = pms(db_url, cli_env, "logout")
    assert again.exit_code == 0 and "Not logged in." in again.stdout


@pytest.mark.parametrize(
    "username,password",
    [("biller", "wrong-password"), ("no-such-user", PASSWORD), ("biller", "")],
    ids=["wrong-password", "unknown-user", "empty-password"],
)
def test_a_failed_login_exits_1_with_the_generic_message(
    db_url, practice, cli_env, username, password
):
    result = cli_login(db_url, cli_env, username, password)
    assert result.exit_code == 1
    assert LOGIN_FAILED in result.stderr
    assert "Traceback" not in result.stderr
    assert not token_file(cli_env).exists()


@pytest.mark.parametrize(
    "content",
    [b"\x00\xff garbage", b"", b"[1, 2]", b'{"db": 1}', b'{"db": "%s", "token": "forged"}'],
    ids=["binary", "empty", "list", "wrong-types", "forged-token"],
)
def test_a_corrupt_token_file_means_logged_out(db_url, practice, cli_env, content):
    path = token_file(cli_env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.replace(b"%s", db_url.encode()))
    result = whoami(db_url, cli_env)
    assert result.exit_code == 1
    assert "not logged in" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_token_for_another_database_is_not_used(db_url, practice, cli_env, tmp_path):
    assert cli_login(db_url, cli_env).exit_code == 0
    saved = json.loads(token_file(cli_env).read_text())
    saved["db"] = "sqlite:///" + str(tmp_path / "other.db")
    token_file(cli_env).write_text(json.dumps(saved))
    result = whoami(db_url, cli_env)
    assert result.exit_code == 1 and "not logged in" in result.stderr


def test_an_expired_session_means_logged_out(db_url, practice, cli_env):
    assert cli_login(db_url, cli_env).exit_code == 0
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE auth_token SET expires_at = created_at"))
    finally:
        engine.dispose()
    result = whoami(db_url, cli_env)
    assert result.exit_code == 1 and "not logged in" in result.stderr


def test_pms_user_and_password_work_without_a_token(db_url, practice, cli_env):
    result = whoami(db_url, cli_env, PMS_USER="manager", PMS_PASSWORD=PASSWORD)
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["username"] == "manager" and info["via"] == "PMS_USER"
    assert not token_file(cli_env).exists()
    listed = pms(db_url, cli_env, "user", "list", PMS_USER="manager", PMS_PASSWORD=PASSWORD)
    assert listed.exit_code == 0, listed.stderr


def test_pms_user_with_a_wrong_password_exits_1_generically(db_url, practice, cli_env):
    result = whoami(db_url, cli_env, PMS_USER="manager", PMS_PASSWORD="nope-nope")
    assert result.exit_code == 1
    assert LOGIN_FAILED in result.stderr
    assert "nope-nope" not in result.stderr


def test_pms_user_takes_precedence_over_a_saved_login(db_url, practice, cli_env):
    assert cli_login(db_url, cli_env).exit_code == 0
    result = whoami(db_url, cli_env, PMS_USER="auditor", PMS_PASSWORD=PASSWORD)
    assert json.loads(result.stdout)["username"] == "auditor"
