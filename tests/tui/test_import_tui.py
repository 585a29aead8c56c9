"""Pilot test of the import screen, on SQLite and PostgreSQL: an admin checks a
file, sees its bad rows by row and column, fixes it, checks again and applies it;
a biller is not offered the screen."""

from __future__ import annotations

from pms_tui.screens.claims import ConfirmScreen
from pms_tui.screens.imports import ImportScreen
from pms_tui.screens.main import MainScreen
from textual.widgets import DataTable, Select

from tests.core.test_imports import HEADER, ROWS, write_csv
from tests.tui.support import (
    no_blink,
    notified,
    patient_count,
    run,
    screen_text,
    type_text,
    wait_until,
)

SIZE = (120, 40)


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def test_an_admin_checks_a_file_fixes_it_and_imports_it(seeded, tmp_path):
    path = tmp_path / "patients.csv"
    write_csv(path, [HEADER, ROWS[0], "A9,Al,Bo,1980-13-01,F,1 A St,Springfield,IL,62701,,"])
    before = patient_count(seeded.engine, seeded.practice.id)

    async def main():
        app = seeded.app("admin")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            assert "Data: import" in [c.title for c in app.palette_commands(app.screen)]
            await app.action_imports()
            await wait_until(pilot, lambda: isinstance(app.screen, ImportScreen))
            screen = app.screen
            screen.query_one("#import-kind", Select).value = "patients"
            screen.query_one("#import-path").focus()
            await type_text(pilot, str(path))
            assert not screen.check_action("apply", ())
            await pilot.press("f5")
            await wait_until(pilot, lambda: "problems in 1 rows" in screen_text(app))
            table = screen.query_one("#import-problems", DataTable)
            assert table_rows(table) == [["3", "DOB", "date", "is not a real date"]]
            assert not screen.check_action("apply", ())

            write_csv(path, [HEADER, *ROWS])
            await pilot.press("f5")
            await wait_until(pilot, lambda: "The file is good" in screen_text(app))
            assert "3 new" in screen_text(app) and table.row_count == 0
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_until(pilot, lambda: notified(app, "Imported: 3 rows"))
            assert not screen.check_action("apply", ())  # done: a new check first

    run(main())
    assert patient_count(seeded.engine, seeded.practice.id) == before + 3


def test_a_biller_is_not_offered_imports(seeded):
    async def main():
        app = seeded.app("biller")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            assert "Data: import" not in [c.title for c in app.palette_commands(app.screen)]
            await app.action_imports()
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)

    run(main())


class TestImportSnapshot:
    def test_a_checked_file_with_bad_rows(self, snap_data, snap_compare, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)  # the path typed is the same on every run
        write_csv(
            tmp_path / "patients.csv",
            [HEADER, ROWS[0], "A9,Al,Bo,1980-13-01,X,1 A St,Springfield,IL,62701,,"],
        )

        async def run_before(pilot):
            app = pilot.app
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await app.action_imports()
            await wait_until(pilot, lambda: isinstance(app.screen, ImportScreen))
            app.screen.query_one("#import-kind", Select).value = "patients"
            app.screen.query_one("#import-path").focus()
            await type_text(pilot, "patients.csv")
            await pilot.press("f5")
            await wait_until(pilot, lambda: "problems in 1 rows" in screen_text(app))
            no_blink(app)

        assert snap_compare(snap_data.app("admin"), terminal_size=SIZE, run_before=run_before)
