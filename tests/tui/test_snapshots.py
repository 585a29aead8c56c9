"""Snapshot tests of the main screens (SQLite only, fixed data and clock, so the
SVGs are the same on every run). Update with `pytest tests/tui --snapshot-update`
and look at the SVGs before committing them."""

from __future__ import annotations

from pms_tui.screens.lock import LockScreen
from pms_tui.screens.main import MainScreen
from pms_tui.screens.patient import PatientScreen
from pms_tui.screens.register import RegisterScreen
from textual.widgets import DataTable, Input

from tests.tui.support import no_blink, type_text, wait_until

SIZE = (110, 34)


async def _signed_in(pilot) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, MainScreen))


async def _search_doe(pilot) -> None:
    await _signed_in(pilot)
    await type_text(pilot, "doe")
    table = pilot.app.screen.query_one("#results", DataTable)
    await wait_until(pilot, lambda: table.row_count == 2)


class TestLoginSnapshot:
    def test_login_screen(self, snap_data, snap_compare):
        async def run_before(pilot):
            await wait_until(pilot, lambda: pilot.app.screen.query("#username"))
            no_blink(pilot.app)

        assert snap_compare(snap_data.app(role=None), terminal_size=SIZE, run_before=run_before)


class TestMainSnapshot:
    def test_main_screen_with_results(self, snap_data, snap_compare):
        async def run_before(pilot):
            await _search_doe(pilot)
            no_blink(pilot.app)

        assert snap_compare(snap_data.app(), terminal_size=SIZE, run_before=run_before)


class TestPatientSnapshot:
    def test_patient_detail(self, snap_data, snap_compare):
        async def run_before(pilot):
            await _search_doe(pilot)
            await pilot.press("enter")
            app = pilot.app
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
            )
            # The tables size their columns to their rows on the next refresh:
            # wait for it, so the snapshot never catches the headers alone.
            tables = [app.screen.query_one(f"#pt-{t}", DataTable) for t in ("coverages", "intake")]
            await wait_until(pilot, lambda: all(t.row_count for t in tables))
            await pilot.pause(0.1)
            await pilot.pause()

        assert snap_compare(snap_data.app(), terminal_size=SIZE, run_before=run_before)


class TestRegistrationSnapshot:
    def test_registration_form_with_errors(self, snap_data, snap_compare):
        async def run_before(pilot):
            app = pilot.app
            await _signed_in(pilot)
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
            form = app.screen
            form.query_one("#f-last_name", Input).value = "Lopez"
            form.query_one("#f-dob", Input).value = "13/45/1985"
            form.query_one("#f-state", Input).value = "ZZ"
            await pilot.press("ctrl+s")
            await wait_until(
                pilot, lambda: "Not saved" in str(form.query_one("#form-status").render())
            )
            no_blink(app)

        assert snap_compare(snap_data.app(), terminal_size=(110, 44), run_before=run_before)


class TestLockSnapshot:
    def test_lock_screen(self, snap_data, snap_compare):
        async def run_before(pilot):
            await _search_doe(pilot)
            pilot.app.action_lock()
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, LockScreen))
            no_blink(pilot.app)

        assert snap_compare(snap_data.app(), terminal_size=SIZE, run_before=run_before)
