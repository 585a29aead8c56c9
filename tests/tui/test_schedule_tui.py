"""Pilot tests of the schedule, waitlist and reminders screens, on SQLite and
PostgreSQL (the `engine` fixture), driven from the keyboard.

The clock stands at Monday 2026-03-02 09:00 in the practice's time zone
(America/Chicago); `seed_schedule` books the day described in its docstring.
Each test checks what the user sees and, after a change, the database.
"""

from __future__ import annotations

import threading
from datetime import UTC

import pytest
from pms_tui.screens.booking import BookScreen, CancelScreen, SlotFinderScreen
from pms_tui.screens.dashboard import DashboardScreen
from pms_tui.screens.lock import LockScreen
from pms_tui.screens.main import MainScreen
from pms_tui.screens.reminders import RemindersScreen
from pms_tui.screens.schedule import AppointmentScreen, RoomScreen, ScheduleScreen, WeekScreen
from pms_tui.screens.waitlist import AddEntryScreen, WaitlistScreen
from sqlmodel import Session, func, select
from textual.command import CommandPalette
from textual.widgets import Checkbox, DataTable, Input, OptionList, Select, Static

from pms_core.context import unit_of_work
from pms_core.models import Appointment, WaitlistEntry, WaitlistOffer
from pms_core.services import waitlist
from tests.helpers import PASSWORD
from tests.tui.support import (
    MONDAY,
    TUESDAY,
    appointment_row,
    appointments_of,
    local,
    notified,
    run,
    screen_text,
    seed_reminders,
    seed_schedule,
    seed_waitlist,
    type_text,
    wait_until,
)


@pytest.fixture
def sched(seeded):
    return seed_schedule(seeded)


def _static(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _loaded(app, cls) -> bool:
    return isinstance(app.screen, cls) and app.screen.grid is not None


async def opened(pilot, cls, focus: str | None = None):
    """Wait until a screen of `cls` is on top and mounted (and, with `focus`,
    that widget has the focus, so typing goes there); return it."""
    app = pilot.app

    def ready() -> bool:
        screen = app.screen
        if not (isinstance(screen, cls) and screen.is_mounted):
            return False
        return focus is None or (app.focused is not None and app.focused.id == focus)

    await wait_until(pilot, ready)
    return app.screen


async def open_schedule(pilot) -> ScheduleScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
    await pilot.press("f2")
    await wait_until(pilot, lambda: _loaded(app, ScheduleScreen))
    return app.screen


def column_of(screen, provider_id: int, day=None) -> int:
    return next(
        i
        for i, c in enumerate(screen.grid.columns)
        if c.provider_id == provider_id and (day is None or c.day == day)
    )


def cell(screen, column: int, hhmm: str) -> str:
    """What the slot at `hhmm` of `column` shows, as text."""
    hours, minutes = map(int, hhmm.split(":"))
    row = screen.grid.row_of(hours * 60 + minutes)
    table = screen.query_one("#grid", DataTable)
    return table.get_cell_at((row, column)).plain


def go_to(screen, column: int, hhmm: str) -> None:
    """Put the cursor on a slot (the tests then press the keys a user would)."""
    hours, minutes = map(int, hhmm.split(":"))
    row = screen.grid.row_of(hours * 60 + minutes)
    screen.query_one("#grid", DataTable).move_cursor(row=row, column=column)


async def reloaded(pilot, screen, predicate) -> None:
    """Wait until the schedule was read again and `predicate()` holds."""
    await wait_until(pilot, lambda: screen.is_current and screen.grid is not None and predicate())


def appointment_count(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Appointment)).one()


# --- the day view ---------------------------------------------------------------------
class TestDayView:
    def test_appointments_are_in_their_provider_column_and_local_time_row(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                assert [c.title for c in screen.grid.columns] == ["Chen, Dana", "Rivera, Alex"]
                rivera = column_of(screen, sched.rivera_id)
                chen = column_of(screen, sched.chen_id)
                # 10:00 in Chicago (16:00 UTC): its row is 10:00
                assert "Doe, Jane" in cell(screen, rivera, "10:00")
                assert "Office visit" in cell(screen, rivera, "10:15")
                assert cell(screen, rivera, "10:30").strip() == ""  # open again
                assert "Doe, Jane" not in cell(screen, chen, "10:00")
                assert cell(screen, chen, "10:30").startswith("▌✓ Doe, John")  # confirmed
                assert cell(screen, chen, "08:30").startswith("▌● Doe, Jane")  # checked in
                overbooked = cell(screen, rivera, "11:00")
                assert "⊕" in overbooked and "+1" in overbooked
                assert "Procedure · Exam 1" in cell(screen, chen, "13:15")
                assert "Blocked: Staff meeting" in cell(screen, chen, "15:00")
                assert set(cell(screen, rivera, "12:15")) == {"░"}  # lunch: unavailable
                assert cell(screen, chen, "12:15").strip() == ""  # Chen works through
                heading = _static(screen, "#schedule-heading")
                assert "Mon 03/02/2026" in heading and "(today)" in heading
                assert "7 appointments" in heading
                # the cursor starts at the current time
                assert screen.current()[1] == 9 * 60

        run(main())

    def test_day_keys_today_and_the_week_view(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                go_to(screen, column_of(screen, sched.rivera_id), "09:00")
                await pilot.press("right_square_bracket")
                await reloaded(pilot, screen, lambda: screen.day == TUESDAY)
                await wait_until(
                    pilot, lambda: "Tue 03/03/2026" in _static(screen, "#schedule-heading")
                )
                rivera = column_of(screen, sched.rivera_id)
                assert "Doe, Jane" in cell(screen, rivera, "09:00")
                assert screen.current()[0].provider_id == sched.rivera_id  # same column
                await pilot.press("left_square_bracket", "left_square_bracket")
                await wait_until(
                    pilot, lambda: "Sun 03/01/2026" in _static(screen, "#schedule-heading")
                )
                assert "no provider works" in _static(screen, "#schedule-heading")
                await pilot.press("t")
                await wait_until(
                    pilot, lambda: "Mon 03/02/2026  (today)" in _static(screen, "#schedule-heading")
                )
                # the highlighted provider's week
                go_to(screen, column_of(screen, sched.rivera_id), "10:00")
                await pilot.press("w")
                await wait_until(pilot, lambda: _loaded(app, WeekScreen))
                week = app.screen
                assert [c.day.isoformat() for c in week.grid.columns][:2] == [
                    "2026-03-02",
                    "2026-03-03",
                ]
                assert "Rivera, Alex" in _static(week, "#schedule-heading")
                assert "Doe, Jane" in cell(week, 1, "09:00")  # Tuesday
                assert "Doe, Jane" in cell(week, 0, "10:00")  # Monday
                assert (week.current()[0].day, week.current()[1]) == (MONDAY, 10 * 60)
                await pilot.press("right_square_bracket")
                await wait_until(
                    pilot, lambda: "week of Mon 03/09/2026" in _static(week, "#schedule-heading")
                )
                await pilot.press("t")
                await wait_until(
                    pilot, lambda: "week of Mon 03/02/2026" in _static(week, "#schedule-heading")
                )
                # w on Tuesday: the day view of Tuesday
                week.query_one("#grid", DataTable).move_cursor(column=1)
                await pilot.press("w")
                await wait_until(pilot, lambda: app.screen is screen)
                await reloaded(pilot, screen, lambda: screen.day == TUESDAY)

        run(main())

    def test_arrows_move_between_cells(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                go_to(screen, 0, "09:00")
                await pilot.press("right", "down", "down")
                column, minute, _ = screen.current()
                assert column.provider_id == sched.rivera_id and minute == 9 * 60 + 30

        run(main())


# --- booking --------------------------------------------------------------------------
class TestBooking:
    def test_book_from_an_empty_slot_with_inline_patient_search(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                rivera = column_of(screen, sched.rivera_id)
                go_to(screen, rivera, "14:00")
                await pilot.press("enter")
                dialog = await opened(pilot, BookScreen, focus="pp-search")
                assert "Rivera, Alex" in _static(dialog, "#book-when")
                assert "14:00" in _static(dialog, "#book-when")
                await type_text(pilot, "garcia")
                await pilot.press("enter")  # the first patient found, once found
                await wait_until(
                    pilot, lambda: "Patient: Garcia, Maria" in _static(dialog, "#pp-status")
                )
                type_select = dialog.query_one("#book-type", Select)
                await wait_until(pilot, lambda: type_select.has_focus)
                await pilot.press("enter")  # open the type list
                await type_text(pilot, "off")
                await pilot.press("enter")
                assert type_select.value == sched.visit_id
                await pilot.press("ctrl+s")
                await reloaded(
                    pilot, screen, lambda: "Garcia, Maria" in cell(screen, rivera, "14:00")
                )
                assert "Office visit" in cell(screen, rivera, "14:15")
            booked = appointments_of(seeded.engine, seeded.maria_id)[-1]
            assert booked.starts_at == local(MONDAY, "14:00").astimezone(UTC)
            assert booked.provider_id == sched.rivera_id
            assert booked.appointment_type_id == sched.visit_id
            assert booked.status == "booked" and not booked.overbooked

        run(main())

    def test_problems_are_shown_under_their_fields_and_nothing_is_booked(self, seeded, sched):
        async def main():
            app = seeded.app()
            before = appointment_count(seeded.engine)
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                go_to(screen, column_of(screen, sched.chen_id), "14:00")
                await pilot.press("enter")
                dialog = await opened(pilot, BookScreen, focus="pp-search")
                # Chen does not see Telehealth (a Rivera-only type)
                type_select = dialog.query_one("#book-type", Select)
                type_select.focus()
                await pilot.press("enter")
                await wait_until(pilot, lambda: "Procedure (60 min)" in screen_text(app))
                assert "Office visit (30 min)" in screen_text(app)
                assert "Telehealth" not in screen_text(app)
                await pilot.press("escape")
                dialog.query_one("#pp-search", Input).focus()
                await pilot.press("ctrl+s")
                await pilot.pause()
                assert "Choose a patient" in _static(dialog, "#e-book-patient")
                assert _static(dialog, "#e-book-type") == "Type is required"
                await type_text(pilot, "doe, jane")
                await pilot.press("enter")
                await wait_until(
                    pilot, lambda: "Patient: Doe, Jane" in _static(dialog, "#pp-status")
                )
                type_select.value = sched.procedure_id  # needs a room: none chosen
                await pilot.pause()
                assert dialog.query_one("#book-room-box").display
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: _static(dialog, "#e-book-room") != "")
                assert _static(dialog, "#e-book-room") == "This appointment type needs a room"
                assert "1 problem to fix" in _static(dialog, "#book-status")
                assert app.screen is dialog
                await pilot.press("escape")
                await wait_until(pilot, lambda: app.screen is screen)
            assert appointment_count(seeded.engine) == before

        run(main())

    def test_overbooking_is_an_explicit_choice_for_a_role_that_may(self, seeded, sched):
        async def main():
            app = seeded.app("frontdesk")
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                rivera = column_of(screen, sched.rivera_id)
                go_to(screen, rivera, "10:00")  # Jane's appointment
                await pilot.press("b")
                dialog = await opened(pilot, BookScreen, focus="pp-search")
                overbook = dialog.query_one("#book-overbook", Checkbox)
                assert overbook.display and not overbook.value
                await type_text(pilot, "garcia")
                await pilot.press("enter")
                await wait_until(pilot, lambda: "Garcia" in _static(dialog, "#pp-status"))
                dialog.query_one("#book-type", Select).value = sched.visit_id
                await pilot.press("ctrl+s")  # without ticking it: refused
                await wait_until(
                    pilot, lambda: "already has appointment" in _static(dialog, "#e-book-when")
                )
                assert overbook.has_focus
                await pilot.press("space")
                assert overbook.value
                await pilot.press("ctrl+s")
                await reloaded(pilot, screen, lambda: "+1" in cell(screen, rivera, "10:00"))
            at_ten = [
                a
                for a in appointments_of(seeded.engine, seeded.maria_id)
                if a.starts_at == local(MONDAY, "10:00").astimezone(UTC)
            ]
            assert len(at_ten) == 1 and at_ten[0].overbooked

        run(main())

    def test_a_role_that_may_not_overbook_is_not_offered_it(self, seeded, sched):
        async def main():
            app = seeded.app("biller")
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                go_to(screen, column_of(screen, sched.rivera_id), "10:00")
                await pilot.press("b")
                dialog = await opened(pilot, BookScreen, focus="pp-search")
                await type_text(pilot, "garcia")
                await pilot.press("enter")
                await wait_until(pilot, lambda: "Garcia" in _static(dialog, "#pp-status"))
                dialog.query_one("#book-type", Select).value = sched.visit_id
                await pilot.press("ctrl+s")
                await wait_until(
                    pilot, lambda: "already has appointment" in _static(dialog, "#e-book-when")
                )
                assert not dialog.query_one("#book-overbook", Checkbox).display

        run(main())


# --- appointment actions ------------------------------------------------------------------
class TestAppointmentActions:
    def test_check_in_no_show_and_cancel_with_a_reason(self, seeded, sched):
        ids = sched.appointment_ids

        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                rivera = column_of(screen, sched.rivera_id)
                chen = column_of(screen, sched.chen_id)
                go_to(screen, rivera, "10:00")
                await pilot.press("i")
                await reloaded(
                    pilot, screen, lambda: cell(screen, rivera, "10:00").startswith("▌●")
                )
                assert appointment_row(seeded.engine, ids["jane_1000"]).status == "arrived"
                # a no-show for one still to come is refused with the service's message
                go_to(screen, chen, "10:30")
                await pilot.press("n")
                await wait_until(pilot, lambda: notified(app, "has not started yet"))
                assert appointment_row(seeded.engine, ids["john_1030"]).status == "confirmed"
                # 08:00 has passed: a no-show
                go_to(screen, rivera, "08:00")
                await pilot.press("n")
                await reloaded(
                    pilot, screen, lambda: cell(screen, rivera, "08:00").startswith("▌✗")
                )
                assert appointment_row(seeded.engine, ids["maria_0800"]).status == "no_show"
                # cancel asks why; no reason, no cancellation
                go_to(screen, chen, "10:30")
                await pilot.press("x")
                dialog = await opened(pilot, CancelScreen, focus="cancel-reason")
                assert "Doe, John" in _static(dialog, "#cancel-summary")
                await pilot.press("enter")
                await wait_until(pilot, lambda: _static(dialog, "#e-cancel-reason") != "")
                assert _static(dialog, "#e-cancel-reason") == "Reason is required"
                await type_text(pilot, "patient request")
                await pilot.press("enter")
                await reloaded(
                    pilot, screen, lambda: "Doe, John" not in cell(screen, chen, "10:30")
                )
                cancelled = appointment_row(seeded.engine, ids["john_1030"])
                assert cancelled.status == "cancelled"
                assert cancelled.cancel_reason == "patient request"
                assert cancelled.cancelled_by_id == seeded.practice.users["biller"]

        run(main())

    def test_enter_on_an_appointment_lists_what_can_be_done_now(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                chen = column_of(screen, sched.chen_id)
                go_to(screen, chen, "08:30")  # Jane, checked in
                await pilot.press("enter")
                dialog = await opened(pilot, AppointmentScreen)
                await wait_until(
                    pilot, lambda: "Status: checked in" in _static(dialog, "#appt-detail")
                )
                actions = _static(dialog, "#appt-actions")
                assert "m Room" in actions and "o Check out" in actions and "x Cancel" in actions
                assert "i Check in" not in actions and "r Reschedule" not in actions
                # to a room: none was booked, so which one
                await pilot.press("m")
                await opened(pilot, RoomScreen)
                rooms = app.screen.query_one("#room-pick", OptionList)
                assert [str(rooms.get_option_at_index(i).prompt) for i in range(3)] == [
                    "Exam 1",
                    "Exam 2",
                    "No room",
                ]
                rooms.highlighted = 1
                await pilot.press("enter")
                await reloaded(pilot, screen, lambda: cell(screen, chen, "08:30").startswith("▌▶"))
                roomed = appointment_row(seeded.engine, sched.appointment_ids["jane_0830"])
                assert (roomed.status, roomed.room_id) == ("in_room", sched.room_ids["Exam 2"])
                assert "Office visit · Exam 2" in cell(screen, chen, "08:45")
                await pilot.press("o")  # check out, straight from the schedule
                await reloaded(pilot, screen, lambda: cell(screen, chen, "08:30").startswith("▌■"))
                assert (
                    appointment_row(seeded.engine, sched.appointment_ids["jane_0830"]).status
                    == "completed"
                )
                # two appointments in one slot: the dialog asks which
                go_to(screen, column_of(screen, sched.rivera_id), "11:00")
                await pilot.press("i")
                dialog = await opened(pilot, AppointmentScreen)
                await wait_until(pilot, lambda: "Doe, John" in _static(dialog, "#appt-detail"))
                await pilot.press("down")
                await wait_until(pilot, lambda: "Garcia, Maria" in _static(dialog, "#appt-detail"))
                assert "overbooked" in _static(dialog, "#appt-detail")
                await pilot.press("i")
                await wait_until(
                    pilot,
                    lambda: (
                        appointment_row(seeded.engine, sched.appointment_ids["maria_1100"]).status
                        == "arrived"
                    ),
                )
                assert (
                    appointment_row(seeded.engine, sched.appointment_ids["john_1100"]).status
                    == "booked"
                )

        run(main())

    def test_reschedule_through_the_slot_finder(self, seeded, sched):
        old_id = sched.appointment_ids["jane_1000"]

        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                go_to(screen, column_of(screen, sched.rivera_id), "10:00")
                await pilot.press("r")
                finder = await opened(pilot, SlotFinderScreen)
                assert "Reschedule Doe, Jane" in screen_text(app)
                table = finder.query_one("#sf-slots", DataTable)
                await wait_until(pilot, lambda: table.row_count > 0)  # searched at once
                assert table.get_row_at(0)[:3] == ["Mon 03/02/2026", "09:00", "Rivera, Alex"]
                # narrow it: Tuesday afternoon
                finder.query_one("#sf-from", Input).value = "03/03/2026"
                finder.query_one("#sf-after", Input).value = "13:00"
                finder.query_one("#sf-from", Input).focus()
                await pilot.press("enter")
                await wait_until(
                    pilot, lambda: table.row_count and table.get_row_at(0)[0] == "Tue 03/03/2026"
                )
                assert table.get_row_at(0)[1] == "13:00"
                assert table.has_focus
                await pilot.press("enter")
                await reloaded(pilot, screen, lambda: screen.day == TUESDAY)
                await wait_until(
                    pilot,
                    lambda: (
                        "Doe, Jane" in cell(screen, column_of(screen, sched.rivera_id), "13:00")
                    ),
                )
            old = appointment_row(seeded.engine, old_id)
            assert old.status == "cancelled" and old.cancel_reason == "rescheduled"
            new = appointments_of(seeded.engine, seeded.jane_id)[-1]
            assert new.rescheduled_from_id == old_id
            assert new.starts_at == local(TUESDAY, "13:00").astimezone(UTC)

        run(main())

    def test_the_slot_finder_books_through_the_book_dialog(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                await pilot.press("f")
                finder = await opened(pilot, SlotFinderScreen)
                finder.query_one("#sf-type", Select).value = sched.procedure_id
                finder.query_one("#sf-provider", Select).value = sched.chen_id
                finder.query_one("#sf-from", Input).focus()
                await pilot.press("enter")
                table = finder.query_one("#sf-slots", DataTable)
                await wait_until(pilot, lambda: table.row_count > 0)
                first = table.get_row_at(0)
                assert first[:3] == ["Mon 03/02/2026", "09:00", "Chen, Dana"]
                assert first[4] == "Exam 1"  # a procedure needs a room: the first free one
                await pilot.press("enter")
                dialog = await opened(pilot, BookScreen, focus="pp-search")
                assert dialog.query_one("#book-type", Select).value == sched.procedure_id
                assert dialog.query_one("#book-room", Select).value == sched.room_ids["Exam 1"]
                await type_text(pilot, "doe, john")
                await pilot.press("enter")
                await wait_until(pilot, lambda: "Doe, John" in _static(dialog, "#pp-status"))
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: app.screen is screen)
            booked = appointments_of(seeded.engine, seeded.john_id)[0]
            assert booked.starts_at == local(MONDAY, "09:00").astimezone(UTC)
            assert booked.room_id == sched.room_ids["Exam 1"]

        run(main())


# --- permissions, lock, palette ----------------------------------------------------------
class TestPermissionsLockPalette:
    def test_a_manager_sees_the_schedule_but_cannot_book_or_change_it(self, seeded, sched):
        async def main():
            app = seeded.app("manager")
            before = appointment_count(seeded.engine)
            async with app.run_test(size=(120, 50)) as pilot:
                # a manager starts on the dashboard; patient search is one Escape away
                await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen))
                await pilot.press("escape")
                screen = await open_schedule(pilot)
                rivera = column_of(screen, sched.rivera_id)
                assert "Doe, Jane" in cell(screen, rivera, "10:00")
                assert not screen.check_action("check_in", ())
                footer = screen_text(app)
                assert "Check in" not in footer and "Find slot" not in footer
                go_to(screen, rivera, "14:00")
                await pilot.press("enter")
                await wait_until(pilot, lambda: notified(app, "may not book"))
                await pilot.press("b", "f")
                await pilot.pause(0.2)
                assert app.screen is screen
                go_to(screen, rivera, "10:00")
                await pilot.press("i", "x")
                await pilot.pause(0.2)
                assert app.screen is screen
                titles = [c.title for c in app.palette_commands(screen)]
                assert "Schedule: week" in titles
                assert "Schedule: book" not in titles and "Schedule: check in" not in titles
                # the appointment opens read-only
                await pilot.press("enter")
                dialog = await opened(pilot, AppointmentScreen)
                await wait_until(
                    pilot, lambda: "Nothing can be done" in _static(dialog, "#appt-actions")
                )
            assert appointment_count(seeded.engine) == before
            assert (
                appointment_row(seeded.engine, sched.appointment_ids["jane_1000"]).status
                == "booked"
            )

        run(main())

    def test_function_keys_move_between_the_screens_but_keep_typed_input(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                go_to(screen, column_of(screen, sched.rivera_id), "14:00")
                await pilot.press("enter")
                await opened(pilot, BookScreen, focus="pp-search")
                await type_text(pilot, "gar")
                await pilot.press("f3")
                await wait_until(pilot, lambda: notified(app, "form first"))
                assert isinstance(app.screen, BookScreen)
                await pilot.press("escape", "f3")
                await wait_until(pilot, lambda: isinstance(app.screen, WaitlistScreen))
                await pilot.press("f4")
                await wait_until(pilot, lambda: isinstance(app.screen, RemindersScreen))
                await pilot.press("f2")
                await wait_until(pilot, lambda: _loaded(app, ScheduleScreen))
                assert [type(s).__name__ for s in app.screen_stack[-2:]] == [
                    "MainScreen",
                    "ScheduleScreen",
                ]
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))

        run(main())

    def test_an_auditor_has_no_schedule_keys(self, seeded, sched):
        async def main():
            app = seeded.app("auditor")
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("f2", "f3", "f4")
                await pilot.pause(0.2)
                assert isinstance(app.screen, MainScreen)
                titles = [c.title for c in app.palette_commands(app.screen)]
                assert not [t for t in titles if t.startswith("Schedule:")]

        run(main())

    def test_locking_hides_the_schedule_and_the_book_dialog(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                assert "Doe, Jane" in screen_text(app) and "Garcia, Maria" in screen_text(app)
                await pilot.press("ctrl+l")
                await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
                text = screen_text(app)
                assert "Doe" not in text and "Garcia" not in text and "Screen locked" in text
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.screen is screen)
                assert "Doe, Jane" in screen_text(app)
                # a dialog with a patient in it is hidden too
                go_to(screen, column_of(screen, sched.rivera_id), "14:00")
                await pilot.press("enter")
                await opened(pilot, BookScreen, focus="pp-search")
                await type_text(pilot, "garcia")
                await pilot.press("enter")
                await wait_until(pilot, lambda: "Garcia, Maria" in screen_text(app))
                app.action_lock()
                await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
                assert "Garcia" not in screen_text(app) and "Doe" not in screen_text(app)

        run(main())

    def test_a_booking_that_finishes_while_locked_waits_for_unlock(
        self, seeded, sched, monkeypatch
    ):
        from pms_tui.screens import booking

        release = threading.Event()
        real = booking.book

        def slow(ctx, **kwargs):
            assert release.wait(10)
            return real(ctx, **kwargs)

        monkeypatch.setattr(booking, "book", slow)

        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                rivera = column_of(screen, sched.rivera_id)
                go_to(screen, rivera, "14:00")
                await pilot.press("enter")
                dialog = await opened(pilot, BookScreen, focus="pp-search")
                await type_text(pilot, "garcia")
                await pilot.press("enter")
                await wait_until(pilot, lambda: "Garcia" in _static(dialog, "#pp-status"))
                dialog.query_one("#book-type", Select).value = sched.visit_id
                await pilot.press("ctrl+s")
                await pilot.press("ctrl+l")
                await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
                lock = app.screen
                release.set()
                await wait_until(pilot, lambda: _static(dialog, "#book-status") == "Booked.")
                await pilot.pause(0.2)
                assert app.screen is lock and "Garcia" not in screen_text(app)
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await reloaded(
                    pilot, screen, lambda: "Garcia, Maria" in cell(screen, rivera, "14:00")
                )
                assert notified(app, "Appointment booked.")

        run(main())

    def test_the_palette_opens_the_schedule_and_runs_its_actions(self, seeded, sched):
        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("ctrl+p")
                await wait_until(pilot, lambda: CommandPalette.is_open(app))
                await type_text(pilot, "schedule: day view")
                await pilot.pause(0.3)
                await pilot.press("enter")
                await wait_until(pilot, lambda: _loaded(app, ScheduleScreen))
                screen = app.screen
                go_to(screen, column_of(screen, sched.rivera_id), "10:00")
                await pilot.press("ctrl+p")
                await wait_until(pilot, lambda: CommandPalette.is_open(app))
                await type_text(pilot, "schedule: check in")
                await pilot.pause(0.3)
                await pilot.press("enter")
                await wait_until(
                    pilot,
                    lambda: (
                        appointment_row(seeded.engine, sched.appointment_ids["jane_1000"]).status
                        == "arrived"
                    ),
                )

        run(main())

    def test_every_key_has_a_palette_entry_on_the_new_screens(self, seeded, sched):
        seed_waitlist(seeded, sched)
        seen: set[str] = set()

        def check(app) -> None:
            from pms_tui.app import PmsApp

            screen = app.screen
            keys = {  # the screen's own keys and the app's (not Textual's tab etc.)
                b.action
                for cls in type(screen).__mro__
                if cls.__module__.startswith("pms_tui")
                for b in cls.__dict__.get("BINDINGS", [])
                if screen.check_action(b.action, ())
            }
            keys |= {b.action for b in PmsApp.BINDINGS if app.check_action(b.action, ())}
            commands = [*app.palette_commands(screen), *app.get_system_commands(screen)]
            offered = {
                getattr(c.callback, "__name__", "").removeprefix("action_") for c in commands
            }
            missing = keys - offered
            assert not missing, (type(screen).__name__, missing)
            seen.add(type(screen).__name__)

        async def main():
            app = seeded.app()
            async with app.run_test(size=(120, 50)) as pilot:
                screen = await open_schedule(pilot)
                check(app)
                go_to(screen, column_of(screen, sched.rivera_id), "10:00")
                await pilot.press("enter")
                await opened(pilot, AppointmentScreen)
                check(app)
                await pilot.press("x")
                await opened(pilot, CancelScreen, focus="cancel-reason")
                check(app)
                await pilot.press("escape")
                await pilot.press("b")
                await opened(pilot, BookScreen, focus="pp-search")
                check(app)
                await pilot.press("escape")
                await pilot.press("f")
                await opened(pilot, SlotFinderScreen)
                check(app)
                await pilot.press("escape")
                await pilot.press("w")
                await wait_until(pilot, lambda: _loaded(app, WeekScreen))
                check(app)
                await pilot.press("f3")
                await wait_until(pilot, lambda: isinstance(app.screen, WaitlistScreen))
                check(app)
                await pilot.press("a")
                await opened(pilot, AddEntryScreen, focus="pp-search")
                check(app)
                await pilot.press("escape")
                await pilot.press("f4")
                await wait_until(pilot, lambda: isinstance(app.screen, RemindersScreen))
                check(app)

        run(main())
        assert seen == {
            "ScheduleScreen",
            "AppointmentScreen",
            "CancelScreen",
            "BookScreen",
            "SlotFinderScreen",
            "WeekScreen",
            "WaitlistScreen",
            "AddEntryScreen",
            "RemindersScreen",
        }


# --- waitlist -----------------------------------------------------------------------------
class TestWaitlist:
    def test_add_a_patient_and_accept_an_offer(self, seeded, sched):
        ids = seed_waitlist(seeded, sched)

        async def main():
            app = seeded.app()
            async with app.run_test(size=(130, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("f3")
                await wait_until(pilot, lambda: isinstance(app.screen, WaitlistScreen))
                screen = app.screen
                entries = screen.query_one("#wl-entries", DataTable)
                offers = screen.query_one("#wl-offers", DataTable)
                await wait_until(pilot, lambda: entries.row_count == 2)
                assert entries.get_row_at(0)[:5] == [
                    "1",
                    "Doe, John",
                    "offered",
                    "Office visit",
                    "Any provider",
                ]
                row = entries.get_row_at(1)
                assert row[1:5] == ["Garcia, Maria", "waiting", "Office visit", "Rivera, Alex"]
                assert row[5:7] == ["Tue Thu", "after 13:00"]
                assert offers.get_row_at(0)[:3] == [
                    "Tue 03/03/2026 10:00",
                    "Rivera, Alex",
                    "Doe, John",
                ]
                # add Jane for a procedure, Mondays, in March
                await pilot.press("a")
                dialog = await opened(pilot, AddEntryScreen, focus="pp-search")
                assert dialog.query_one("#wl-earliest", Input).value == "03/02/2026"
                await type_text(pilot, "doe, jane")
                await pilot.press("enter")
                await wait_until(pilot, lambda: "Doe, Jane" in _static(dialog, "#pp-status"))
                dialog.query_one("#wl-type", Select).value = sched.procedure_id
                dialog.query_one("#wl-day-0", Checkbox).value = True
                dialog.query_one("#wl-latest", Input).value = "02/01/2026"  # before the earliest
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: _static(dialog, "#e-wl-dates") != "")
                assert "Until is before earliest_date" in _static(dialog, "#e-wl-dates")
                dialog.query_one("#wl-latest", Input).value = "03/31/2026"
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: app.screen is screen and entries.row_count == 3)
                assert entries.get_row_at(2)[1:4] == ["Doe, Jane", "waiting", "Procedure"]
                # the patient takes the offer
                offers.focus()
                await pilot.press("y")
                await wait_until(pilot, lambda: offers.row_count == 0 and entries.row_count == 2)
                assert notified(app, "Offer accepted: booked Tue 03/03/2026 10:00")
            with Session(seeded.engine) as s:
                jane = s.exec(
                    select(WaitlistEntry).where(WaitlistEntry.patient_id == seeded.jane_id)
                ).one()
                assert (jane.appointment_type_id, jane.preferred_weekdays) == (
                    sched.procedure_id,
                    "0",
                )
                offer = s.get(WaitlistOffer, ids["john_offer"])
                assert offer.status == "accepted"
                booked = s.get(Appointment, offer.appointment_id)
                assert booked.patient_id == seeded.john_id
                assert booked.starts_at == local(TUESDAY, "10:00").astimezone(UTC)
                assert s.get(WaitlistEntry, ids["john_entry"]).status == "booked"

        run(main())

    def test_a_cancellation_offers_the_time_to_the_waitlist(self, seeded, sched):
        ids = seed_waitlist(seeded, sched)
        with unit_of_work(
            seeded.engine,
            user_id=seeded.practice.users["frontdesk"],
            pm=seeded.pm,
            clock=seeded.clock,
        ) as ctx:
            waitlist.decline_offer(ctx, offer_id=ids["john_offer"])  # John waits again

        async def main():
            app = seeded.app()
            async with app.run_test(size=(130, 50)) as pilot:
                screen = await open_schedule(pilot)
                go_to(screen, column_of(screen, sched.rivera_id), "10:00")  # Jane, 10:00-10:30
                await pilot.press("x")
                await opened(pilot, CancelScreen, focus="cancel-reason")
                await type_text(pilot, "patient request")
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.screen is screen)
                await wait_until(pilot, lambda: notified(app, "offered to 1 waitlist patient"))
            with Session(seeded.engine) as s:
                offer = s.exec(select(WaitlistOffer).where(WaitlistOffer.status == "open")).one()
                # John (any provider) fits; Maria waits for Tuesday or Thursday afternoons
                assert offer.entry_id == ids["john_entry"]
                assert offer.starts_at == local(MONDAY, "10:00").astimezone(UTC)
                assert offer.freed_by_appointment_id == sched.appointment_ids["jane_1000"]

        run(main())

    def test_remove_asks_why(self, seeded, sched):
        ids = seed_waitlist(seeded, sched)

        async def main():
            app = seeded.app()
            async with app.run_test(size=(130, 50)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("f3")
                await wait_until(pilot, lambda: isinstance(app.screen, WaitlistScreen))
                entries = app.screen.query_one("#wl-entries", DataTable)
                await wait_until(pilot, lambda: entries.row_count == 2)
                await pilot.press("down", "x")
                await wait_until(pilot, lambda: "why?" in screen_text(app))
                await pilot.press("down", "enter")  # "The patient asked"
                await wait_until(pilot, lambda: entries.row_count == 1)
            with Session(seeded.engine) as s:
                assert s.get(WaitlistEntry, ids["maria_entry"]).status == "removed"

        run(main())


# --- reminders ----------------------------------------------------------------------------
class TestReminders:
    def test_filter_the_worklist_by_status(self, seeded, sched):
        seed_reminders(seeded, sched)

        async def main():
            app = seeded.app("frontdesk")
            async with app.run_test(size=(130, 40)) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                await pilot.press("f4")
                await wait_until(pilot, lambda: isinstance(app.screen, RemindersScreen))
                screen = app.screen
                table = screen.query_one("#rem-list", DataTable)
                await wait_until(pilot, lambda: table.row_count == 6)

                def rows():
                    return [
                        (
                            table.get_row_at(i)[1],
                            str(table.get_row_at(i)[3]),
                            table.get_row_at(i)[5],
                        )
                        for i in range(table.row_count)
                    ]

                assert rows()[0] == ("Garcia, Maria", "failed", "SMTP 550 mailbox unavailable")
                for key, expected in (
                    (
                        "f",
                        [
                            ("Garcia, Maria", "failed", "SMTP 550 mailbox unavailable"),
                            ("Garcia, Maria", "retry", "gateway answered 503"),
                        ],
                    ),
                    ("k", [("Garcia, Maria", "skipped", "no email address on file")]),
                    ("s", [("Doe, Jane", "sent", ""), ("Doe, John", "sent", "")]),
                    ("d", [("Doe, John", "pending", "")]),
                    ("c", [("Doe, John", "sent", "")]),  # John confirmed his 10:30
                ):
                    await pilot.press(key)
                    await pilot.pause()
                    assert rows() == expected, key
                assert table.get_row_at(0)[4] == "confirmed"
                assert "showing: confirmed (1 of 6)" in _static(screen, "#rem-heading")
                await pilot.press("a")
                await pilot.pause()
                assert table.row_count == 6
                await pilot.press("right_square_bracket")
                await wait_until(pilot, lambda: "Tue 03/03/2026" in _static(screen, "#rem-heading"))
                assert table.row_count == 0
                await pilot.press("t")
                await wait_until(pilot, lambda: table.row_count == 6)

        run(main())


def test_every_binding_of_the_new_screens_has_an_id_and_a_tooltip():
    from pms_tui.screens.booking import PatientPicker
    from pms_tui.screens.waitlist import RemoveReasonScreen

    classes = [
        ScheduleScreen,
        WeekScreen,
        AppointmentScreen,
        RoomScreen,
        BookScreen,
        SlotFinderScreen,
        CancelScreen,
        PatientPicker,
        WaitlistScreen,
        AddEntryScreen,
        RemoveReasonScreen,
        RemindersScreen,
    ]
    for cls in classes:
        for klass in cls.__mro__:
            if not klass.__module__.startswith("pms_tui"):
                continue
            for binding in klass.__dict__.get("BINDINGS", []):
                assert binding.id, (cls.__name__, binding.key)
                assert binding.tooltip and binding.description, (cls.__name__, binding.key)
