"""Snapshot tests of the billing screens (SQLite only, fixed data and clock:
Monday 2026-03-02 09:00 in Chicago; claims from `seed_claims`). Each waits
until every read it shows is in (no pending price, no loading text) and stops
the cursor blinking. Update with
`pytest tests/tui/test_billing_snapshots.py --snapshot-update` and look at the
SVGs before committing them."""

from __future__ import annotations

import pytest
from pms_tui.screens.charges import ChargeEntryScreen
from pms_tui.screens.claims import ClaimScreen, ClaimsScreen
from pms_tui.screens.main import MainScreen
from pms_tui.screens.patient import PatientScreen
from textual.widgets import DataTable

from tests.billing_helpers import setup_billing
from tests.tui.support import data_uow, no_blink, seed_claims, type_text, wait_until

SIZE = (110, 40)


@pytest.fixture
def billing_data(snap_data):
    return snap_data


class TestBillingSnapshots:
    def test_charge_entry_with_two_lines(self, billing_data, snap_compare):
        data = billing_data
        setup_billing(data_uow(data), data.practice)

        async def run_before(pilot):
            app = pilot.app
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            app.screen.open_patient(data.jane_id)
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
            )
            await pilot.press("c")
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, ChargeEntryScreen)
                    and app.screen.choices is not None
                    and app.focused is not None
                    and app.focused.id == "ce-dx-search"
                ),
            )
            form = app.screen
            for n, text in enumerate(("E11.9", "I10"), start=1):
                await type_text(pilot, text)
                await pilot.press("enter")
                await wait_until(pilot, lambda n=n: len(form.diagnoses) == n)
            await pilot.press("tab", "tab")
            for code, pointers in (("99213", "1 2"), ("36415", "")):
                await type_text(pilot, code)
                await pilot.press("tab", "tab", "tab")
                await type_text(pilot, pointers)
                await pilot.press("enter")
            await wait_until(
                pilot, lambda: len(form.lines) == 2 and all(line.priced for line in form.lines)
            )
            await pilot.press("tab", "tab", "tab", "tab")
            await wait_until(pilot, lambda: app.focused is form.query_one("#ce-lines"))
            no_blink(app)
            await pilot.pause()

        assert snap_compare(data.app(), terminal_size=SIZE, run_before=run_before)

    def test_claims_worklist(self, billing_data, snap_compare, tmp_path):
        seed_claims(billing_data, tmp_path / "exchange")

        async def run_before(pilot):
            app = pilot.app
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("f6")
            await wait_until(
                pilot, lambda: isinstance(app.screen, ClaimsScreen) and app.screen.loaded
            )
            table = app.screen.query_one("#cl-list", DataTable)
            await wait_until(pilot, lambda: table.row_count == 5)

        assert snap_compare(billing_data.app(), terminal_size=SIZE, run_before=run_before)

    def test_rejected_claim_detail(self, billing_data, snap_compare, tmp_path):
        seed = seed_claims(billing_data, tmp_path / "exchange")

        async def run_before(pilot):
            app = pilot.app
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("f6")
            await wait_until(
                pilot, lambda: isinstance(app.screen, ClaimsScreen) and app.screen.loaded
            )
            screen = app.screen
            table = screen.query_one("#cl-list", DataTable)
            await pilot.press("5")
            await wait_until(pilot, lambda: screen.worklist == "rejected" and table.row_count == 1)
            await pilot.press("enter")
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, ClaimScreen)
                    and app.screen.page is not None
                    and app.screen.claim_id == seed.claim_ids["rejected"]
                ),
            )

        assert snap_compare(billing_data.app(), terminal_size=(110, 50), run_before=run_before)
