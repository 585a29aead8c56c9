"""The TUI session: the lock holds back everything but itself, the session
follows the real one (token, disabled user), logging out ends it, the idle lock
cannot be switched off, and log lines never land on the screen. SQLite and
PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import pms_tui
import pytest
from pms_tui.app import SESSION_ENDED, PmsApp, TuiLogHandler
from pms_tui.idle import IDLE_ENV, IDLE_LIMIT, MIN_IDLE_TIMEOUT, idle_timeout_policy
from pms_tui.screens import main as main_screen
from pms_tui.screens.lock import LockScreen
from pms_tui.screens.login import LoginScreen
from pms_tui.screens.main import MainScreen
from pms_tui.screens.patient import PatientScreen
from pms_tui.screens.register import RegisterScreen
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from pms_core.context import unit_of_work
from pms_core.errors import AuthError
from pms_core.services import auth
from pms_core.services.users import set_disabled
from tests.helpers import PASSWORD
from tests.tui.support import run, screen_text, type_text, wait_until


def _static(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.fixture
def held_search(monkeypatch):
    """Searches wait until `release.set()`: results arrive when the test says."""
    release = threading.Event()
    real = main_screen.find_patients

    def slow(ctx, **kwargs):
        assert release.wait(10)
        return real(ctx, **kwargs)

    monkeypatch.setattr(main_screen, "find_patients", slow)
    return release


def _toasts(app) -> list[str]:
    return [n.message for n in app._notifications]


# --- 1. nothing opens over the lock screen --------------------------------------
class TestNothingOverTheLock:
    def test_a_late_search_result_does_not_open_the_patient_over_the_lock(
        self, seeded, held_search
    ):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                main_ = app.screen
                await type_text(pilot, "garcia")
                await pilot.press("enter")  # before the results: "open when ready"
                await pilot.press("ctrl+l")
                await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
                held_search.set()
                await wait_until(pilot, lambda: bool(main_.hits))
                await pilot.pause(0.2)
                assert isinstance(app.screen, LockScreen)
                assert not any(isinstance(s, PatientScreen) for s in app.screen_stack)
                assert "Garcia" not in screen_text(app)
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.screen is main_)
                await pilot.pause(0.2)
                assert app.screen is main_  # the result is listed, not opened

        run(main())

    def test_a_late_search_result_does_not_open_over_the_registration_form(
        self, seeded, held_search
    ):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 40)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                main_ = app.screen
                await type_text(pilot, "garcia")
                await pilot.press("enter")
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                form = app.screen
                held_search.set()
                await wait_until(pilot, lambda: bool(main_.hits))
                await pilot.pause(0.2)
                assert app.screen is form

        run(main())

    def test_screens_and_notifications_wait_for_unlock(self, seeded):
        class Other(Screen):
            def compose(self):
                yield Static("other screen", id="other")

        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+l")
                await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
                lock = app.screen
                app.push_screen(Other())
                app.switch_screen(Other())
                app.notify("Registered patient P0000042.")
                app.pop_screen()  # a stray dismiss() must not remove the lock
                await pilot.pause(0.2)
                assert app.screen is lock
                assert not _toasts(app) and "P0000042" not in screen_text(app)
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, Other))
                await wait_until(pilot, lambda: _toasts(app) == ["Registered patient P0000042."])
                assert not any(isinstance(s, LockScreen) for s in app.screen_stack)

        run(main())


# --- 2. the lock screen's log-out button --------------------------------------
def test_the_lock_screen_log_out_button_returns_to_sign_in(seeded):
    async def main():
        app = seeded.app()
        async with app.run_test(size=(110, 30)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
            await pilot.click("#lock-logout")
            await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
            assert app.session_user is None and len(app.screen_stack) == 2
            await type_text(pilot, "biller")  # and the app still answers
            assert app.screen.query_one("#username", Input).value == "biller"

    run(main())


# --- 3. the session follows the real one ---------------------------------------
async def _search_until_signed_out(pilot, app) -> None:
    app.screen.query_one("#search", Input).focus()
    await type_text(pilot, "doe")
    await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
    assert app.session_user is None and len(app.screen_stack) == 2
    assert _static(app.screen, "#login-error") == SESSION_ENDED


class TestSessionFollowsTheRealOne:
    def test_a_disabled_user_is_signed_out_at_the_next_action(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                admin = seeded.practice.users["admin"]
                with unit_of_work(seeded.engine, user_id=admin, clock=seeded.clock) as ctx:
                    set_disabled(ctx, username="biller")
                await _search_until_signed_out(pilot, app)

        run(main())

    def test_a_token_revoked_elsewhere_signs_out_at_the_next_action(self, seeded):
        async def main():
            app, token = seeded.token_app()
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                assert app.session_user.username == "biller"
                auth.logout(seeded.engine, token)  # `pms logout` in another terminal
                await _search_until_signed_out(pilot, app)

        run(main())

    def test_a_token_that_expires_during_the_session_signs_out(self, seeded):
        from datetime import timedelta

        async def main():
            app, _ = seeded.token_app()
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                seeded.clock.advance(timedelta(hours=auth.SHIFT_HOURS + 1))
                await _search_until_signed_out(pilot, app)

        run(main())

    def test_an_expired_token_at_start_opens_sign_in(self, seeded):
        async def main():
            app, token = seeded.token_app()
            auth.logout(seeded.engine, token)
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
                assert app.session_user is None

        run(main())

    def test_ctrl_o_revokes_the_token_and_runs_on_logout_once(self, seeded):
        calls: list[str] = []

        async def main():
            app, token = seeded.token_app(on_logout=lambda: calls.append("cleared"))
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+o")
                await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
                assert auth.user_for_token(seeded.engine, token) is None
                assert calls == ["cleared"]
                # A sign-in here gets its own token; logging out of it revokes
                # that one and leaves the CLI's token file alone.
                await type_text(pilot, "biller")
                await pilot.press("enter")
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                own = app.grant().token
                assert (
                    own
                    and auth.user_for_token(seeded.engine, own, seeded.clock)
                    == (seeded.practice.users["biller"])
                )
                await pilot.press("ctrl+o")
                await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
                assert auth.user_for_token(seeded.engine, own, seeded.clock) is None
                assert calls == ["cleared"]

        run(main())

    def test_work_dispatched_for_one_session_never_runs_for_the_next(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                old = app.grant()
                await pilot.press("ctrl+o")
                await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
                await type_text(pilot, "frontdesk")
                await pilot.press("enter")
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                with pytest.raises(AuthError), app.uow(old):
                    pass
                await pilot.pause(0.2)
                # refusing the stale grant did not end the new session
                assert app.session_user.username == "frontdesk"
                assert isinstance(app.screen, MainScreen)

        run(main())


# --- 5. the idle lock cannot be switched off ------------------------------------
def test_idle_timeout_settings_can_only_shorten_the_lock(monkeypatch):
    monkeypatch.delenv(IDLE_ENV, raising=False)
    assert idle_timeout_policy() == IDLE_LIMIT == 300
    for raw, expected in [("90", 90), ("0", 300), ("-5", 300), ("3", 10), ("9999", 300)]:
        monkeypatch.setenv(IDLE_ENV, raw)
        assert idle_timeout_policy() == expected, raw
    monkeypatch.setenv(IDLE_ENV, "soon")
    assert idle_timeout_policy() == 300
    assert idle_timeout_policy(30) == 30  # the option wins over the environment
    assert idle_timeout_policy(0) == 300
    assert idle_timeout_policy(1) == MIN_IDLE_TIMEOUT


def test_the_app_follows_the_policy_and_refuses_no_timeout(engine, monkeypatch):
    monkeypatch.setenv(IDLE_ENV, "0")
    assert PmsApp(engine).idle_timeout == IDLE_LIMIT
    assert PmsApp(engine, idle_timeout=10_000).idle_timeout == IDLE_LIMIT
    with pytest.raises(ValueError):
        PmsApp(engine, idle_timeout=0)
    assert PmsApp(engine, disable_idle_lock_for_testing=True).idle_timeout is None


@dataclass
class Runs:
    """What `run_tui` started, with the root logger's handlers while it ran."""

    apps: list[PmsApp] = field(default_factory=list)
    handlers: list[logging.Handler] = field(default_factory=list)


def _capture_run(monkeypatch) -> Runs:
    runs = Runs()

    def fake_run(self, *args, **kwargs):
        runs.apps.append(self)
        runs.handlers = logging.getLogger().handlers[:]
        logging.getLogger("pms_core.somewhere").error("a log line while the TUI runs")

    monkeypatch.setattr(PmsApp, "run", fake_run)
    return runs


def test_run_tui_clamps_the_idle_timeout(engine, monkeypatch):
    runs = _capture_run(monkeypatch)
    monkeypatch.setenv(IDLE_ENV, "0")
    pms_tui.run_tui(engine)
    pms_tui.run_tui(engine, idle_timeout=1)
    assert [a.idle_timeout for a in runs.apps] == [IDLE_LIMIT, MIN_IDLE_TIMEOUT]


# --- 8. log lines go to Textual's log, not over the screen ---------------------
def test_run_tui_routes_logging_away_from_the_terminal(engine, monkeypatch, capsys):
    root = logging.getLogger()
    before = root.handlers[:]
    stream = logging.StreamHandler()  # what `pms` installs: stderr
    root.handlers = [stream]
    try:
        runs = _capture_run(monkeypatch)
        pms_tui.run_tui(engine)
        assert len(runs.handlers) == 1 and isinstance(runs.handlers[0], TuiLogHandler)
        assert root.handlers == [stream]  # restored afterwards
    finally:
        root.handlers = before
    assert "a log line while the TUI runs" not in capsys.readouterr().err


def test_log_records_from_worker_threads_stay_off_the_screen(seeded, capsys):
    async def main():
        app = seeded.app()
        root = logging.getLogger()
        before = root.handlers[:]
        root.handlers = [TuiLogHandler(app)]
        try:
            async with app.run_test() as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                worker = app.run_worker(
                    lambda: logging.getLogger("pms_tui.x").error("from a thread"), thread=True
                )
                await worker.wait()
        finally:
            root.handlers = before

    run(main())
    assert "from a thread" not in capsys.readouterr().err


def test_results_table_is_untouched_by_the_lock(seeded):
    """The lock hides the results and unlocking brings them back unchanged."""

    async def main():
        app = seeded.app()
        async with app.run_test(size=(110, 30)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await type_text(pilot, "doe")
            table = app.screen.query_one("#results", DataTable)
            await wait_until(pilot, lambda: table.row_count == 2)
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
            await type_text(pilot, PASSWORD)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            assert table.row_count == 2

    run(main())
