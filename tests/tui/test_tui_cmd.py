"""`pms tui`: starts signed in from a `pms login` token, else at the sign-in screen."""

from __future__ import annotations

import pms_tui
from pms_cli.state import write_token

from pms_core.services import auth
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD


def _capture(monkeypatch) -> list[dict]:
    calls: list[dict] = []

    def fake_run_tui(engine, pm=None, user_id=None, **options):
        calls.append({"url": engine.url, "user_id": user_id, **options})

    monkeypatch.setattr(pms_tui, "run_tui", fake_run_tui)
    return calls


def test_tui_starts_signed_in_with_a_valid_token(db_url, engine, practice, cli_env, monkeypatch):
    calls = _capture(monkeypatch)
    result = auth.login(engine, username="frontdesk", password=PASSWORD)
    write_token(db_url, result.token, result.expires_at.isoformat())
    out = run_cli(["--db", db_url, "tui", "--idle-timeout", "60"], env=cli_env)
    assert out.exit_code == 0, out.stderr
    assert calls == [
        {"url": calls[0]["url"], "user_id": practice.users["frontdesk"], "idle_timeout": 60.0}
    ]


def test_tui_without_a_token_starts_at_sign_in(db_url, engine, practice, cli_env, monkeypatch):
    calls = _capture(monkeypatch)
    out = run_cli(["--db", db_url, "tui"], env=cli_env)
    assert out.exit_code == 0, out.stderr
    assert calls[0]["user_id"] is None and calls[0]["idle_timeout"] is None


def test_tui_with_a_corrupt_token_starts_at_sign_in(
    db_url, engine, practice, cli_env, monkeypatch, tmp_path
):
    calls = _capture(monkeypatch)
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "session.json").write_text("{not json")
    out = run_cli(["--db", db_url, "tui"], env=cli_env)
    assert out.exit_code == 0, out.stderr
    assert calls[0]["user_id"] is None
