"""Pilot tests of the TUI shell, on SQLite and PostgreSQL (the `engine` fixture).

Each test drives the app with keys and checks what the user would see, plus the
database where a form promises that nothing (or something) was saved.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from pms_tui import ScreenSpec
from pms_tui.screens.confirm import ConfirmDiscardScreen
from pms_tui.screens.duplicate import DuplicateScreen
from pms_tui.screens.lock import LockScreen
from pms_tui.screens.login import LoginScreen
from pms_tui.screens.main import MainScreen
from pms_tui.screens.patient import PatientScreen
from pms_tui.screens.register import RegisterScreen
from textual import work
from textual.command import CommandList, CommandPalette
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static
from textual.worker import WorkerFailed

from pms_core.hookspecs import hookimpl
from pms_core.plugins import get_plugin_manager
from pms_core.services.auth import LOGIN_FAILED
from tests.helpers import PASSWORD
from tests.tui.support import patient_count, run, screen_text, type_text, wait_until


def _static(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _search(pilot, text: str, rows: int) -> DataTable:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
    app.screen.query_one("#search", Input).focus()
    await type_text(pilot, text)
    table = app.screen.query_one("#results", DataTable)
    await wait_until(pilot, lambda: table.row_count == rows)
    return table


# --- login ------------------------------------------------------------------------
class TestLogin:
    def test_login_with_the_right_password_opens_the_main_screen(self, seeded):
        async def main():
            app = seeded.app(role=None)
            async with app.run_test() as pilot:
                assert isinstance(app.screen, LoginScreen)
                await type_text(pilot, "biller")
                await pilot.press("enter")  # moves to the password
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                assert app.session_user.username == "biller"
                assert app.title == "Maple Family Medicine"
                assert app.sub_title == "biller (biller)"
                text = screen_text(app)
                assert "Maple Family Medicine" in text and "biller (biller)" in text

        run(main())

    def test_wrong_password_shows_the_generic_message_and_stays(self, seeded):
        async def main():
            app = seeded.app(role=None)
            async with app.run_test() as pilot:
                login = app.screen
                for username in ("biller", "nobody"):
                    login.query_one("#username", Input).value = username
                    login.query_one("#password", Input).focus()
                    await type_text(pilot, "wrong-password-1")
                    await pilot.press("enter")
                    await wait_until(pilot, lambda: LOGIN_FAILED in _static(login, "#login-error"))
                    assert isinstance(app.screen, LoginScreen)
                    assert app.session_user is None
                    assert login.query_one("#password", Input).value == ""
                    login.query_one("#login-error", Static).update("")

        run(main())

    def test_palette_and_session_keys_do_nothing_before_login(self, seeded):
        async def main():
            app = seeded.app(role=None)
            async with app.run_test() as pilot:
                for key in ("ctrl+p", "ctrl+n", "ctrl+f", "ctrl+l"):
                    await pilot.press(key)
                    await pilot.pause()
                    assert isinstance(app.screen, LoginScreen), key

        run(main())


# --- search and detail ----------------------------------------------------------
class TestSearchAndDetail:
    def test_typing_a_name_lists_matching_patients(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                table = await _search(pilot, "doe", rows=2)
                names = [table.get_row_at(i)[1] for i in range(table.row_count)]
                assert names == ["Doe, Jane", "Doe, John"]
                assert table.get_row_at(0)[2] == "04/12/1980"
                assert "2 patients." in _static(app.screen, "#search-status")
                # "last, first" narrows it to one
                await type_text(pilot, ", ja")
                await wait_until(pilot, lambda: table.row_count == 1)
                assert table.get_row_at(0)[0] == f"P{seeded.jane_id:07d}"

        run(main())

    def test_no_match_and_clearing_the_search(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test() as pilot:
                await _search(pilot, "zzzz", rows=0)
                await wait_until(
                    pilot, lambda: "No patients match" in _static(app.screen, "#search-status")
                )
                await pilot.press("escape")
                assert app.screen.query_one("#search", Input).value == ""

        run(main())

    def test_enter_opens_detail_with_coverage_intake_and_balance(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 40)) as pilot:
                await _search(pilot, "doe, jane", rows=1)
                await pilot.press("enter")
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                screen = app.screen
                coverages = screen.query_one("#pt-coverages", DataTable)
                row = coverages.get_row_at(0)
                assert row[:4] == ["primary", "Acme Health Plan", "ACM123456", "GRP-77"]
                assert row[4] == "01/01/2025" and row[6] == "$25.00"
                intake = screen.query_one("#pt-intake", DataTable)
                kinds = sorted(intake.get_row_at(i)[0] for i in range(intake.row_count))
                assert kinds == ["Allergy", "Condition"]
                balance = _static(screen, "#pt-balance")
                assert "$25.00" in balance and "$100.00" in balance and "$125.00" in balance
                assert "(217) 555-0142" in _static(screen, "#pt-demographics")
                await pilot.press("escape")
                assert isinstance(app.screen, MainScreen)

        run(main())

    def test_results_table_enter_opens_the_highlighted_row(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await _search(pilot, "doe", rows=2)
                await pilot.press("down")  # into the table
                await pilot.press("down")  # second row: John
                await pilot.press("enter")
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                assert app.screen.patient_id == seeded.john_id
                assert "not available" not in _static(app.screen, "#pt-balance")

        run(main())

    def test_enter_right_after_typing_opens_the_result_of_what_was_typed(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await _search(pilot, "doe", rows=2)  # an older result is on screen
                await pilot.press("escape")
                await type_text(pilot, "garcia")
                await pilot.press("enter")  # before the debounce fires
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                assert app.screen.patient_id == seeded.maria_id

        run(main())

    def test_palette_open_selected_opens_the_highlighted_patient(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await _search(pilot, "doe", rows=2)
                await pilot.press("ctrl+p")
                await wait_until(pilot, lambda: CommandPalette.is_open(app))
                await type_text(pilot, "open selected")
                await pilot.pause(0.3)
                await pilot.press("enter")
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                assert app.screen.patient_id == seeded.jane_id

        run(main())

    def test_typing_posts_a_search_completed_message_for_the_final_text(self, seeded):
        completed: list[MainScreen.SearchCompleted] = []

        def hook(message):
            if isinstance(message, MainScreen.SearchCompleted):
                completed.append(message)

        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30), message_hook=hook) as pilot:
                await _search(pilot, "doe", rows=2)

        run(main())
        assert completed and completed[-1].text == "doe"
        assert [h.id for h in completed[-1].hits] == [seeded.jane_id, seeded.john_id]
        assert len(completed) <= 3  # debounced: never more than one per keystroke

    def test_ctrl_f_from_detail_returns_to_search(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await _search(pilot, "doe", rows=2)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, PatientScreen))
                await pilot.press("ctrl+f")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                assert app.screen.query_one("#search", Input).has_focus

        run(main())

    def test_balance_shows_not_available_when_the_service_gives_none(self, seeded, monkeypatch):
        import dataclasses

        from pms_tui.screens import patient as patient_screen

        real = patient_screen.get_patient

        def without_balance(ctx, *, patient_id):
            return dataclasses.replace(real(ctx, patient_id=patient_id), balance=None)

        monkeypatch.setattr(patient_screen, "get_patient", without_balance)

        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                app.screen.open_patient(seeded.jane_id)
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                assert "not available" in _static(app.screen, "#pt-balance")
                assert "$125.00" not in screen_text(app)

        run(main())

    def test_auditor_search_is_refused_with_a_message(self, seeded):
        async def main():
            app = seeded.app(role="auditor")
            async with app.run_test(size=(110, 30)) as pilot:
                await _search(pilot, "doe", rows=0)
                await wait_until(pilot, lambda: "may not" in _static(app.screen, "#search-status"))

        run(main())


# --- registration ---------------------------------------------------------------
def _fill(screen, **values) -> None:
    for name, value in values.items():
        widget = screen.query_one(f"#f-{name}")
        widget.value = value


GOOD = dict(
    first_name="Ana",
    last_name="Lopez",
    dob="07/04/1985",
    address1="9 Birch Road",
    city="Springfield",
    state="IL",
    zip="62702",
    mobile_phone="(217) 555-0177",
)


class TestRegistration:
    def test_bad_input_shows_each_error_under_its_field_and_saves_nothing(self, seeded):
        async def main():
            app = seeded.app()
            before = patient_count(seeded.engine, seeded.practice.id)
            async with app.run_test(size=(110, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                form = app.screen
                assert form.query_one("#f-first_name", Input).has_focus
                await pilot.press("tab")  # middle name
                await pilot.press("tab")  # last name
                await type_text(pilot, "Lopez")
                _fill(form, dob="13/45/1985", state="ZZ", zip="12", email="not-an-email")
                form.query_one("#i-allergy").text = "Latex\n\n"
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: _static(form, "#e-first_name") != "")
                assert _static(form, "#e-first_name") == "First name is required"
                assert "Date of birth is not a valid date" in _static(form, "#e-dob")
                assert _static(form, "#e-state").startswith("State ")
                assert _static(form, "#e-zip").startswith("ZIP ")
                assert _static(form, "#e-email").startswith("Email ")
                assert _static(form, "#e-sex").startswith("Sex ")
                assert _static(form, "#e-last_name") == ""
                assert "Not saved" in _static(form, "#form-status")
                assert form.query_one("#f-first_name", Input).has_focus
                assert form.query_one("#f-dob", Input).has_class("-invalid")
                # the user can leave with escape (and "discard"); nothing was written
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscardScreen))
                await pilot.press("d")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            assert patient_count(seeded.engine, seeded.practice.id) == before

        run(main())

    def test_good_input_registers_with_intake_and_opens_the_patient(self, seeded):
        async def main():
            app = seeded.app()
            before = patient_count(seeded.engine, seeded.practice.id)
            async with app.run_test(size=(110, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                form = app.screen
                _fill(form, sex="F", **GOOD)
                form.query_one("#i-medication").text = "Albuterol inhaler\nIbuprofen"
                form.query_one("#i-previous_provider").text = "Dr. Smith, Riverside Clinic"
                await pilot.press("ctrl+s")
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                record = app.screen.record
                assert record.patient.last_name == "Lopez"
                assert record.patient.mobile_phone == "2175550177"
                assert sorted(i.description for i in record.intake) == [
                    "Albuterol inhaler",
                    "Dr. Smith, Riverside Clinic",
                    "Ibuprofen",
                ]
            assert patient_count(seeded.engine, seeded.practice.id) == before + 1

        run(main())

    def test_duplicate_warning_then_register_anyway_saves(self, seeded):
        async def main():
            app = seeded.app()
            before = patient_count(seeded.engine, seeded.practice.id)
            async with app.run_test(size=(110, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                form = app.screen
                _fill(
                    form,
                    **{**GOOD, "first_name": "jane", "last_name": "DOE", "dob": "1980-04-12"},
                    sex="F",
                )
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: isinstance(app.screen, DuplicateScreen))
                table = app.screen.query_one("#dup-matches", DataTable)
                assert table.row_count == 1
                assert table.get_row_at(0)[:3] == [
                    str(seeded.jane_id),
                    f"P{seeded.jane_id:07d}",
                    "Doe, Jane",
                ]
                assert patient_count(seeded.engine, seeded.practice.id) == before
                # Cancel first: back on the form, still nothing saved
                await pilot.press("escape")
                await wait_until(pilot, lambda: app.screen is form)
                assert "possible duplicate" in _static(form, "#form-status")
                assert patient_count(seeded.engine, seeded.practice.id) == before
                # Then save again and choose "Register anyway"
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: isinstance(app.screen, DuplicateScreen))
                await pilot.press("a")  # "Register anyway", keyboard only
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                assert app.screen.patient_id not in (seeded.jane_id,)
            assert patient_count(seeded.engine, seeded.practice.id) == before + 1

        run(main())

    def test_ctrl_f_does_not_throw_away_a_half_filled_form(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                await type_text(pilot, "Ana")
                await pilot.press("ctrl+f")
                await pilot.pause()
                assert isinstance(app.screen, RegisterScreen)
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscardScreen))
                await pilot.press("d")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))

        run(main())

    def test_edit_changes_demographics(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                app.screen.open_patient(seeded.maria_id)
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                detail = app.screen
                await pilot.press("e")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                form = app.screen
                assert form.query_one("#f-dob", Input).value == "01/05/1990"
                assert not form.has_unsaved_input()
                _fill(form, city="Chatham", zip="62629")
                assert form.has_unsaved_input()
                await pilot.press("ctrl+s")
                await wait_until(
                    pilot,
                    lambda: app.screen is detail and detail.record.patient.city == "Chatham",
                )

        run(main())


# --- idle lock ------------------------------------------------------------------
class TestIdleLock:
    def test_idle_lock_hides_phi_and_unlocks_with_the_password(self, seeded):
        async def main():
            # A long timeout while the search runs (a loaded machine may take
            # seconds), then a short one so the app goes idle right after it.
            app = seeded.app(idle_timeout=60.0)
            async with app.run_test(size=(110, 30)) as pilot:
                await _search(pilot, "garcia", rows=1)
                assert "Garcia, Maria" in screen_text(app)
                app.idle_timeout = 1.0
                await wait_until(pilot, lambda: isinstance(app.screen, LockScreen), timeout=10)
                app.idle_timeout = 60.0  # the unlock below must not race a second lock
                lock = app.screen
                text = screen_text(app)
                assert "Garcia" not in text and "0123" not in text
                assert "Screen locked" in text
                # nothing else is reachable while locked
                for key in ("ctrl+p", "ctrl+f", "ctrl+n", "escape"):
                    await pilot.press(key)
                    await pilot.pause()
                    assert app.screen is lock, key
                await type_text(pilot, "not-my-password")
                await pilot.press("enter")
                await wait_until(pilot, lambda: LOGIN_FAILED in _static(lock, "#lock-error"))
                assert app.screen is lock and "Garcia" not in screen_text(app)
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                assert "Garcia, Maria" in screen_text(app)
                assert app.screen.query_one("#search", Input).value == "garcia"

        run(main())

    def test_ctrl_l_locks_and_log_out_returns_to_sign_in(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 30)) as pilot:
                await _search(pilot, "doe", rows=2)
                await pilot.press("ctrl+l")
                await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
                assert "Doe" not in screen_text(app)
                await pilot.press("ctrl+o")
                await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
                assert app.session_user is None
                assert len(app.screen_stack) == 2  # the default screen and the login
                assert "Doe" not in screen_text(app)

        run(main())

    def test_a_result_that_arrives_while_locked_waits_for_unlock(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                form = app.screen
                _fill(form, sex="F", **GOOD)
                app.action_lock()
                await pilot.pause()
                form.action_save()
                await wait_until(pilot, lambda: "Saved" in _static(form, "#form-status"))
                assert isinstance(app.screen, LockScreen)
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, PatientScreen))

        run(main())


# --- command palette ------------------------------------------------------------
class ReportsPlugin:
    @hookimpl
    def register_screens(self, register):
        from textual.screen import Screen
        from textual.widgets import Static as S

        class ReportScreen(Screen):
            def compose(self):
                yield S("Test report", id="report")

        register(
            ScreenSpec(
                title="Reports: test report",
                description="A report from a plugin",
                factory=lambda app: ReportScreen(),
            )
        )
        register(
            ScreenSpec(
                title="Admin: secret tool",
                description="Only for roles that manage users",
                factory=lambda app: ReportScreen(),
                permission="users:manage",
            )
        )


def _palette_prompts(app) -> list[str]:
    command_list = app.screen.query_one(CommandList)
    return [
        str(command_list.get_option_at_index(i).prompt).split("\n")[0]
        for i in range(command_list.option_count)
    ]


class TestCommandPalette:
    ACTIONS = [
        "Patient: search",
        "Patient: register",
        "Patient: open selected",
        "Session: lock",
        "Session: log out",
    ]

    def test_palette_lists_every_action_and_plugin_screens(self, seeded):
        seeded.pm = get_plugin_manager(load_entry_points=False, extra=(ReportsPlugin(),))

        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 40)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+p")
                await wait_until(pilot, lambda: CommandPalette.is_open(app))
                await wait_until(pilot, lambda: len(_palette_prompts(app)) >= len(self.ACTIONS))
                prompts = " | ".join(_palette_prompts(app))
                for title in [*self.ACTIONS, "Reports: test report"]:
                    assert title in prompts
                assert "Admin: secret tool" not in prompts  # biller may not manage users
                assert "Screenshot" not in prompts  # it would write PHI to a file
                await type_text(pilot, "test report")
                await pilot.pause(0.3)
                await pilot.press("enter")
                await wait_until(pilot, lambda: bool(app.screen.query("#report")))

        run(main())

    def test_palette_register_opens_the_form(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 40)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+p")
                await wait_until(pilot, lambda: CommandPalette.is_open(app))
                await type_text(pilot, "patient: register")
                await pilot.pause(0.3)
                await pilot.press("enter")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))

        run(main())

    def test_every_binding_has_an_id_and_a_tooltip(self):
        from pms_tui.app import PmsApp

        classes = [
            PmsApp,
            LoginScreen,
            MainScreen,
            PatientScreen,
            RegisterScreen,
            DuplicateScreen,
            LockScreen,
        ]
        for cls in classes:
            for binding in cls.BINDINGS:
                assert binding.id, (cls.__name__, binding.key)
                assert binding.tooltip and binding.description, (cls.__name__, binding.key)


class Boom(RuntimeError):
    pass


def test_a_crash_report_names_the_error_type_but_not_its_message_or_locals(seeded, capsys):
    """Textual's crash report shows local variables; ours names the type only."""

    async def main():
        app = seeded.app()
        async with app.run_test() as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            secret = "Doe, Jane 04/12/1980"
            try:
                raise Boom(secret)
            except Boom as exc:
                app._handle_exception(exc)
            await pilot.pause()

    with pytest.raises(Boom):  # run_test re-raises it for the test framework
        asyncio.run(main())
    report = capsys.readouterr().err
    assert "Boom" in report and "unexpected error" in report
    assert "Doe" not in report and "1980" not in report


# --- a crashed worker ---------------------------------------------------------
class CrashingScreen(Screen):
    """Runs a thread worker that raises with patient data in its message."""

    def compose(self):
        yield Static("crash test")

    def on_mount(self) -> None:
        self.crash()

    @work(thread=True)
    def crash(self) -> None:
        record = {"name": "Doe, Jane", "dob": "04/12/1980"}  # a local the report must not show
        raise Boom(f"cannot process {record['name']} {record['dob']}")


def test_a_crashed_worker_is_reported_by_type_and_place_only(seeded, capsys):
    async def main():
        app = seeded.app()
        async with app.run_test() as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            app.push_screen(CrashingScreen())
            await pilot.pause(1)

    with pytest.raises(WorkerFailed):  # run_test re-raises it for the test framework
        asyncio.run(main())
    report = capsys.readouterr().err
    assert "tests.tui.test_tui.Boom" in report and "unexpected error" in report
    assert f"{__file__}:" in report and "in crash" in report  # file:line of the raise
    assert "Doe" not in report and "1980" not in report and "record" not in report


# --- saving under the palette ---------------------------------------------------
def test_a_save_that_finishes_under_the_palette_waits_for_the_form(seeded, monkeypatch):
    from pms_tui.screens import register as register_screen

    release = threading.Event()
    real = register_screen.register_patient

    def slow(ctx, **kwargs):
        assert release.wait(10)
        return real(ctx, **kwargs)

    monkeypatch.setattr(register_screen, "register_patient", slow)

    async def main():
        app = seeded.app()
        async with app.run_test(size=(110, 50)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
            form = app.screen
            _fill(form, sex="F", **GOOD)
            await pilot.press("ctrl+s")
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: CommandPalette.is_open(app))
            palette = app.screen
            release.set()
            await wait_until(pilot, lambda: "Saved" in _static(form, "#form-status"))
            await pilot.pause(0.2)
            assert app.screen is palette  # not replaced by the new patient
            await pilot.press("escape")
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
            )
            assert app.screen.record.patient.last_name == "Lopez"
            assert not any(isinstance(s, RegisterScreen) for s in app.screen_stack)

    run(main())


# --- leaving a filled-in form ---------------------------------------------------
class TestDiscardConfirm:
    def test_escape_on_a_filled_form_asks_and_keeps_editing_by_default(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                form = app.screen
                await type_text(pilot, "Ana")
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscardScreen))
                assert app.focused.id == "discard-keep"
                assert "Discard changes?" in screen_text(app)
                await pilot.press("enter")  # the focused default: keep editing
                await wait_until(pilot, lambda: app.screen is form)
                assert form.query_one("#f-first_name", Input).value == "Ana"
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscardScreen))
                await pilot.press("escape")  # escape keeps editing too
                await wait_until(pilot, lambda: app.screen is form)
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscardScreen))
                await pilot.press("d")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))

        run(main())

    def test_escape_on_an_untouched_form_leaves_at_once(self, seeded):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(110, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+n")
                await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))

        run(main())


# --- the duplicate dialog reads summaries ---------------------------------------
def test_the_duplicate_dialog_reads_the_candidates_in_one_summary(seeded):
    from sqlmodel import Session, select

    from pms_core.audit import flush_reads
    from pms_core.models import AuditEvent

    def actions() -> list[str]:
        flush_reads()  # read events join the chain in grouped commits
        with Session(seeded.engine) as s:
            return list(s.exec(select(AuditEvent.action).order_by(AuditEvent.seq)))

    async def main():
        app = seeded.app()
        async with app.run_test(size=(110, 50)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
            before = len(actions())
            _fill(
                app.screen,
                **{**GOOD, "first_name": "Jane", "last_name": "Doe", "dob": "1980-04-12"},
                sex="F",
            )
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, DuplicateScreen))
            table = app.screen.query_one("#dup-matches", DataTable)
            assert table.get_row_at(0)[2:] == ["Doe, Jane", "04/12/1980"]
            new = actions()[before:]
            assert new.count("patient.summary") == 1
            assert "patient.read" not in new

    run(main())


# --- a broken plugin ------------------------------------------------------------
class BrokenPlugin:
    @hookimpl
    def register_screens(self, register):
        register(ScreenSpec(title="Broken: half", factory=lambda app: None))
        raise RuntimeError("Doe, Jane 04/12/1980")


def test_a_broken_plugin_loses_only_its_own_screens(seeded, capsys):
    seeded.pm = get_plugin_manager(load_entry_points=False, extra=(ReportsPlugin(), BrokenPlugin()))
    name = seeded.pm.get_name(
        next(p for p in seeded.pm.get_plugins() if isinstance(p, BrokenPlugin))
    )

    async def main():
        app = seeded.app()
        async with app.run_test(size=(110, 40)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            titles = [c.title for c in app.palette_commands(app.screen)]
            assert "Reports: test report" in titles
            assert "Broken: half" not in titles

    run(main())
    err = capsys.readouterr().err
    assert f"plugin {name} screens failed: RuntimeError" in err
    assert "Doe" not in err


# --- the palette reaches every key ----------------------------------------------
def _action_name(callback) -> str:
    return getattr(callback, "__name__", "").removeprefix("action_")


def _palette_actions(app) -> set[str]:
    screen = app.screen
    if isinstance(screen, CommandPalette):
        raise AssertionError("palette open")
    names = {_action_name(c.callback) for c in app.palette_commands(screen)}
    names |= {_action_name(c.callback) for c in app.get_system_commands(screen)}
    return names


def _binding_actions(app) -> set[str]:
    from pms_tui.app import PmsApp

    return {b.action for b in [*PmsApp.BINDINGS, *type(app.screen).BINDINGS]}


def test_every_key_has_a_palette_entry_on_every_screen(seeded):
    """Each screen's keys (and the app's) can be reached from the command palette,
    except on the sign-in and lock screens, where the palette is closed by design."""
    seen: set[type] = set()

    def check(app) -> None:
        missing = _binding_actions(app) - _palette_actions(app)
        assert not missing, (type(app.screen).__name__, missing)
        seen.add(type(app.screen))

    async def main():
        app = seeded.app()
        async with app.run_test(size=(110, 50)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            check(app)
            app.screen.open_patient(seeded.jane_id)
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
            )
            check(app)
            await pilot.press("escape")
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
            check(app)
            _fill(
                app.screen,
                **{**GOOD, "first_name": "Jane", "last_name": "Doe", "dob": "1980-04-12"},
                sex="F",
            )
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, DuplicateScreen))
            check(app)
            await pilot.press("escape")
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscardScreen))
            check(app)
            await pilot.press("d")
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
            assert app.palette_commands(app.screen) == []  # closed while locked
            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen))
            assert app.palette_commands(app.screen) == []  # closed before sign-in

    run(main())
    assert seen == {
        MainScreen,
        PatientScreen,
        RegisterScreen,
        DuplicateScreen,
        ConfirmDiscardScreen,
    }


def test_duplicate_dialog_choices_are_in_the_palette(seeded):
    async def main():
        app = seeded.app()
        async with app.run_test(size=(110, 50)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            before = patient_count(seeded.engine, seeded.practice.id)
            await pilot.press("ctrl+n")
            await wait_until(pilot, lambda: isinstance(app.screen, RegisterScreen))
            _fill(
                app.screen,
                **{**GOOD, "first_name": "Jane", "last_name": "Doe", "dob": "1980-04-12"},
                sex="F",
            )
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(app.screen, DuplicateScreen))
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: CommandPalette.is_open(app))
            await type_text(pilot, "duplicate: register anyway")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_until(
                pilot,
                lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
            )
            assert patient_count(seeded.engine, seeded.practice.id) == before + 1

    run(main())
