"""Pilot tests of the dashboard, on SQLite and PostgreSQL, from the keyboard:
a manager starts on it, every figure opens the list behind it, the filters
and the tile choice work and the choice is kept.

The clock stands at Monday 2026-03-02 09:00; the dashboard's default range is
the 30 days up to it (2026-02-01 to 2026-03-02). The practice has one visit (99213 $125.00, 36415
$15.00) whose remittance of 2026-02-27 paid the first line and denied the
second (CO-50), and one no-show.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pms_tui.screens.claims import ClaimScreen
from pms_tui.screens.dashboard import (
    DashboardScreen,
    ReportScreen,
    TileChooser,
    TileView,
    tile_value,
)
from textual.widgets import DataTable

from pms_core.services import claims, dashboard, remittance
from tests.billing_helpers import setup_billing, visit
from tests.core.test_reminders import add_appointment, add_type
from tests.tui.support import data_uow, run, screen_text, wait_until
from tests.x12_remits import PaidClaim, PaidLine, era_835

SIZE = (140, 45)


@pytest.fixture
def office(seeded):
    return _office(seeded)


def _office(seeded):
    """The visit, its remittance and the no-show (see the module docstring)."""
    uow = data_uow(seeded)
    billing = setup_billing(uow, seeded.practice)
    visit(uow, seeded.practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 1)))
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
    denied = PaidClaim(claim.claim_number, "140.00", "100.00", lines=[
        PaidLine("99213", "125.00", "100.00", adjustments=[("CO", "45", "25.00")]),
        PaidLine("36415", "15.00", "0.00", adjustments=[("CO", "50", "15.00")])])  # fmt: skip
    data = era_835([denied]).replace(b"20260305", b"20260227").replace(b"20260304", b"20260227")
    with uow("biller") as ctx:
        assert remittance.import_era(ctx, name="d.835", source=data).status == "posted"
    add_appointment(
        seeded.engine, seeded.practice, seeded.john_id, add_type(seeded.engine, seeded.practice),
        datetime(2026, 2, 24, 16, tzinfo=UTC), status="no_show",
    )  # fmt: skip
    return claim


def expected_tiles(seeded) -> dict[str, str]:
    with data_uow(seeded)("manager") as ctx:
        filters = dashboard.default_filters(ctx)
        return {key: tile_value(dashboard.tile(ctx, key, filters)) for key in dashboard.TILES}


def filled(screen) -> bool:
    """Every tile shows its figure and its trend, and the aging bars are drawn."""
    views = list(screen.query(TileView))
    aging = list(screen.query("#dash-aging").results(DataTable))
    return (
        bool(views)
        and all(v.tile is not None and v.tile.trend and v.is_mounted for v in views)
        and bool(aging)
        and aging[0].row_count == 5
    )


def cells(table: DataTable, row: int) -> list[str]:
    return [str(getattr(c, "plain", c)) for c in table.get_row_at(row)]


def test_a_manager_starts_on_the_dashboard_and_drills_into_every_figure(seeded, office):
    expected = expected_tiles(seeded)
    assert expected["denial_rate"] == "50.00%" and expected["no_show_rate"] == "100.00%"

    async def main():
        app = seeded.app("manager")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            screen = app.screen
            await wait_until(pilot, lambda: filled(screen))
            shown = {
                v.key: str(v.query_one(".tile-value").render()) for v in screen.query(TileView)
            }
            assert shown == expected
            assert "2026-02-01 to 2026-03-02" in screen_text(app)
            # a tile opens its list: the no-show rate, the no-shows
            screen.query_one("#tile-no_show_rate", TileView).focus()
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
            report = app.screen
            await wait_until(pilot, lambda: report.result is not None)
            assert report.result.name == "appointment_list" and len(report.result.rows) == 1
            await pilot.press("escape")
            # an aging bar opens the charges of its bucket
            aging = screen.query_one("#dash-aging", DataTable)
            aging.focus()
            assert cells(aging, 0)[0] == "0-30"
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
            await wait_until(pilot, lambda: app.screen.result is not None)
            assert app.screen.result.name == "open_items"
            assert {r["bucket"] for r in app.screen.result.rows} == {"0-30"}
            await pilot.press("escape")
            # a denial reason opens the denied lines, and a line its claim
            reasons = screen.query_one("#dash-reasons", DataTable)
            assert cells(reasons, 0)[:2] == ["CO-50", "1"]
            reasons.focus()
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
            lines = app.screen
            await wait_until(pilot, lambda: lines.result is not None)
            assert [r["code"] for r in lines.result.rows] == ["36415"]
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ClaimScreen))
            assert app.screen.claim_id == office.id

    run(main())


def test_filters_move_the_range_and_narrow_to_a_provider(seeded, office):
    async def main():
        app = seeded.app("manager")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            screen = app.screen
            await wait_until(pilot, lambda: filled(screen))
            await pilot.press("slash")
            start = screen.query_one("#dash-from")
            assert start.has_focus
            start.value = "2026-02-01"
            screen.query_one("#dash-to").value = "2026-02-28"
            screen.query_one("#dash-provider").value = seeded.practice.provider_id
            await pilot.press("enter")
            await wait_until(pilot, lambda: screen.filters.date_from == date(2026, 2, 1))
            await wait_until(pilot, lambda: filled(screen))
            assert screen.filters.provider_id == seeded.practice.provider_id
            assert "2026-02-01 to 2026-02-28   Rivera, Alex" in screen_text(app)
            await pilot.press("left_square_bracket")
            await wait_until(pilot, lambda: screen.filters.date_from == date(2026, 1, 4))
            await wait_until(pilot, lambda: filled(screen))
            denial = screen.query_one("#tile-denial_rate", TileView)
            assert tile_value(denial.tile) == "-"  # nothing adjudicated in January
            # an empty range is refused with a message, the figures stay
            await pilot.press("slash")
            screen.query_one("#dash-from").value = "2026-03-01"
            screen.query_one("#dash-to").value = "2026-02-01"
            await pilot.press("enter")
            assert "The start is after the end." in screen_text(app)

    run(main())


def test_tiles_are_chosen_and_ordered_and_the_choice_is_kept(seeded, office):
    async def main():
        app = seeded.app("manager")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            screen = app.screen
            await wait_until(pilot, lambda: filled(screen))
            await pilot.press("o")
            await wait_until(pilot, lambda: isinstance(app.screen, TileChooser))
            await pilot.press("space")  # hide A/R days
            await pilot.press("down", "right_square_bracket")  # net collection rate after denials
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            await wait_until(
                pilot, lambda: [v.key for v in screen.query(TileView)][:2]
                == ["denial_rate", "net_collection_rate"],
            )  # fmt: skip

    run(main())
    with data_uow(seeded)("manager") as ctx:
        assert dashboard.chosen_tiles(ctx) == [
            "denial_rate", "net_collection_rate", "no_show_rate", "collected_today",
            "collected_month",
        ]  # fmt: skip

    async def again():
        app = seeded.app("manager")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            screen = app.screen
            await wait_until(pilot, lambda: filled(screen))
            assert [v.key for v in screen.query(TileView)][0] == "denial_rate"
            assert "A/R days" not in screen_text(app)

    run(again())


def test_the_biller_opens_it_with_f9_and_the_front_desk_cannot(seeded, office):
    async def main():
        app = seeded.app("biller")
        async with app.run_test(size=SIZE) as pilot:
            from pms_tui.screens.main import MainScreen

            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("f9")
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        desk = seeded.app("frontdesk")
        async with desk.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(desk.screen, MainScreen))
            assert desk.check_action("dashboard", ()) is False
            await pilot.press("f9")
            await pilot.pause()
            assert isinstance(desk.screen, MainScreen)

    run(main())


class TestDashboardSnapshot:
    """The manager's first screen, drawn (SQLite, fixed data and clock). Update
    with `pytest tests/tui/test_dashboard_tui.py --snapshot-update` and look at
    the SVG before committing it."""

    def test_the_dashboard(self, snap_data, snap_compare):
        _office(snap_data)

        async def run_before(pilot):
            app = pilot.app
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
            await wait_until(pilot, lambda: filled(app.screen))
            app.screen.query_one("#tile-ar_days", TileView).focus()  # the same focus every run
            await pilot.wait_for_scheduled_animations()
            await pilot.pause()

        assert snap_compare(snap_data.app("manager"), terminal_size=SIZE, run_before=run_before)
