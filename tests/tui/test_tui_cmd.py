"""`pms tui`: starts from a `pms login` token (checked by the TUI before every
action), else at the sign-in screen; the idle lock can only be shortened."""

from __future__ import annotations

import pms_tui
from pms_cli import tui_cmd
from pms_cli.state import read_token, token_path, write_token
from pms_tui import idle

from pms_core.services import auth
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD


def _capture(monkeypatch) -> list[dict]:
    calls: list[dict] = []

    def fake_run_tui(engine, pm=None, user_id=None, **options):
        calls.append({"url": engine.url, "user_id": user_id, **options})

    monkeypatch.setattr(pms_tui, "run_tui", fake_run_tui)
    return calls


def test_tui_starts_from_the_login_token(db_url, engine, practice, cli_env, monkeypatch):
    calls = _capture(monkeypatch)
    result = auth.login(engine, username="frontdesk", password=PASSWORD)
    write_token(db_url, result.token, result.expires_at.isoformat())
    out = run_cli(["--db", db_url, "tui", "--idle-timeout", "60"], env=cli_env)
    assert out.exit_code == 0, out.stderr
    [call] = calls
    assert call["token"] == result.token and call["user_id"] is None
    assert call["idle_timeout"] == 60.0
    # Logging out in the TUI deletes the token file, unless a newer
    # `pms login` replaced it meanwhile.
    assert callable(call["on_logout"])
    write_token(db_url, "a-newer-token", result.expires_at.isoformat())
    call["on_logout"]()
    assert read_token(db_url) == "a-newer-token"
    write_token(db_url, result.token, result.expires_at.isoformat())
    call["on_logout"]()
    assert not token_path().exists()


def test_tui_without_a_token_starts_at_sign_in(db_url, engine, practice, cli_env, monkeypatch):
    calls = _capture(monkeypatch)
    out = run_cli(["--db", db_url, "tui"], env=cli_env)
    assert out.exit_code == 0, out.stderr
    assert calls[0]["token"] is None and calls[0]["on_logout"] is None
    assert calls[0]["idle_timeout"] is None  # the TUI applies the policy


def test_tui_with_a_corrupt_token_starts_at_sign_in(
    db_url, engine, practice, cli_env, monkeypatch, tmp_path
):
    calls = _capture(monkeypatch)
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "session.json").write_text("{not json")
    out = run_cli(["--db", db_url, "tui"], env=cli_env)
    assert out.exit_code == 0, out.stderr
    assert calls[0]["token"] is None


def test_the_idle_lock_cannot_be_turned_off_or_lengthened(
    db_url, engine, practice, cli_env, monkeypatch
):
    calls = _capture(monkeypatch)
    for value in ("0", "5", "301"):
        out = run_cli(["--db", db_url, "tui", "--idle-timeout", value], env=cli_env)
        assert out.exit_code == 2, (value, out.stderr)
    assert calls == []
    assert (tui_cmd.MIN_IDLE_TIMEOUT, tui_cmd.IDLE_LIMIT) == (
        idle.MIN_IDLE_TIMEOUT,
        idle.IDLE_LIMIT,
    )
