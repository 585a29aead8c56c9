"""Snapshot tests of the schedule screens (SQLite only, fixed data and clock:
Monday 2026-03-02 09:00 in Chicago, the day `seed_schedule` books). Update with
`pytest tests/tui/test_schedule_snapshots.py --snapshot-update` and look at the
SVGs before committing them."""

from __future__ import annotations

from pms_tui.screens.main import MainScreen
from pms_tui.screens.reminders import RemindersScreen
from pms_tui.screens.schedule import ScheduleScreen, WeekScreen
from pms_tui.screens.waitlist import WaitlistScreen
from textual.widgets import DataTable

from tests.tui.support import (
    seed_reminders,
    seed_schedule,
    seed_waitlist,
    wait_until,
)

SIZE = (110, 40)


async def _grid_drawn(pilot, screen) -> None:
    """Wait until the schedule's grid is on the screen with its times.

    Textual's DataTable sometimes never draws the row labels (the times) of
    rows filled right after `clear(columns=True)`: it learns that a row has a
    label only when it measures new rows while idle, and that step can be
    skipped. Seen on this screen under load before and after the eligibility
    marks; a reload (f5) draws them. The snapshot is of the drawn grid."""
    for attempt in range(3):
        await wait_until(pilot, lambda: screen.grid is not None)
        try:
            await wait_until(pilot, lambda: "08:00" in pilot.app.export_screenshot(), timeout=3)
            return
        except AssertionError:
            if attempt == 2:
                raise
            screen.grid = None
            await pilot.press("f5")


async def _schedule(pilot) -> ScheduleScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
    await pilot.press("f2")
    await wait_until(
        pilot, lambda: isinstance(app.screen, ScheduleScreen) and app.screen.grid is not None
    )
    await _grid_drawn(pilot, app.screen)
    return app.screen


class TestScheduleSnapshots:
    def test_day_view(self, snap_data, snap_compare):
        seed_schedule(snap_data)

        async def run_before(pilot):
            await _schedule(pilot)

        assert snap_compare(snap_data.app(), terminal_size=SIZE, run_before=run_before)

    def test_week_view(self, snap_data, snap_compare):
        seed_schedule(snap_data)

        async def run_before(pilot):
            await _schedule(pilot)
            await pilot.press("right", "w")  # Rivera's week
            await wait_until(
                pilot,
                lambda: isinstance(pilot.app.screen, WeekScreen) and pilot.app.screen.grid,
            )
            await _grid_drawn(pilot, pilot.app.screen)

        assert snap_compare(snap_data.app(), terminal_size=SIZE, run_before=run_before)

    def test_waitlist(self, snap_data, snap_compare):
        seed_waitlist(snap_data, seed_schedule(snap_data))

        async def run_before(pilot):
            app = pilot.app
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("f3")
            await wait_until(pilot, lambda: isinstance(app.screen, WaitlistScreen))
            entries = app.screen.query_one("#wl-entries", DataTable)
            await wait_until(pilot, lambda: entries.row_count == 2)

        assert snap_compare(snap_data.app(), terminal_size=SIZE, run_before=run_before)

    def test_reminders_worklist(self, snap_data, snap_compare):
        seed_reminders(snap_data, seed_schedule(snap_data))

        async def run_before(pilot):
            app = pilot.app
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("f4")
            await wait_until(pilot, lambda: isinstance(app.screen, RemindersScreen))
            table = app.screen.query_one("#rem-list", DataTable)
            await wait_until(pilot, lambda: table.row_count == 6)

        assert snap_compare(snap_data.app("frontdesk"), terminal_size=SIZE, run_before=run_before)
