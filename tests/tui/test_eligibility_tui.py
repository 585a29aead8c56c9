"""Pilot tests of eligibility in the TUI, on SQLite and PostgreSQL: the front
desk checks a patient's coverage from the patient screen and an appointment's
from the schedule, against the sandbox payer; a check that fails marks the
visit on the schedule."""

from __future__ import annotations

from pms_tui.screens.main import MainScreen
from pms_tui.screens.patient import PatientScreen
from sqlmodel import Session, select
from textual.widgets import DataTable

from pms_core.models import EligibilityCheck
from pms_core.services import submission
from tests.tui.support import data_uow, notified, run, seed_schedule, wait_until
from tests.tui.test_schedule_tui import cell, column_of, go_to, open_schedule, reloaded


def add_sandbox(seeded, tmp_path, **settings) -> None:
    with data_uow(seeded)("admin") as ctx:
        submission.add_clearinghouse(
            ctx, name="Sandbox", transport="sandbox",
            settings={"folder": str(tmp_path / "sandbox"), **settings},
            sender_id="PRACTICE01", receiver_id="SANDBOXCH", receiver_name="Sandbox",
            contact_name="Billing Office", contact_phone="2175550100", default=True,
        )  # fmt: skip


def checks(engine) -> list[EligibilityCheck]:
    with Session(engine) as s:
        return list(s.exec(select(EligibilityCheck).order_by(EligibilityCheck.id)))


def test_the_front_desk_checks_a_patients_coverage_from_the_patient_screen(seeded, tmp_path):
    add_sandbox(seeded, tmp_path)

    async def main():
        app = seeded.app(role="frontdesk")
        async with app.run_test(size=(120, 50)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            app.screen.open_patient(seeded.jane_id)
            await wait_until(pilot, lambda: isinstance(app.screen, PatientScreen)
                             and app.screen.record is not None)  # fmt: skip
            table = app.screen.query_one("#pt-eligibility", DataTable)
            assert str(table.get_row_at(0)[0]) == "(never checked)"
            await pilot.press("v")
            await wait_until(pilot, lambda: notified(app, "Eligibility: "))
            await wait_until(pilot, lambda: str(table.get_row_at(0)[0]) != "(never checked)")
            answer = str(getattr(table.get_row_at(0)[2], "plain", table.get_row_at(0)[2]))
            assert answer in ("active", "inactive")

    run(main())
    (check,) = checks(seeded.engine)
    assert (check.patient_id, check.mode) == (seeded.jane_id, "realtime")


def test_a_failed_check_from_the_schedule_marks_the_visit(seeded, tmp_path):
    sched = seed_schedule(seeded)
    add_sandbox(seeded, tmp_path, faults="timeout,timeout,timeout")

    async def main():
        app = seeded.app(role="frontdesk")
        async with app.run_test(size=(120, 50)) as pilot:
            screen = await open_schedule(pilot)
            rivera = column_of(screen, sched.rivera_id)
            go_to(screen, rivera, "10:00")  # Jane, booked
            assert cell(screen, rivera, "10:00").startswith("▌  Doe")
            await pilot.press("v")
            await wait_until(pilot, lambda: notified(app, "Eligibility: not verified"))
            await reloaded(
                pilot, screen, lambda: cell(screen, rivera, "10:00").startswith("▌  ?Doe")
            )

    run(main())
    (check,) = checks(seeded.engine)
    assert (check.status, check.appointment_id) == ("failed", sched.appointment_ids["jane_1000"])


def test_the_claim_detail_shows_the_payers_last_status_answer(seeded, tmp_path):
    from pms_tui.screens.claims import ClaimScreen

    from pms_core.services import claim_status
    from tests.core.test_claim_status import submitted_claim

    uow = data_uow(seeded)
    claim = submitted_claim(uow, seeded.engine, seeded.practice, tmp_path)
    with uow("biller") as ctx:
        claim_status.ask(ctx, claim_ids=[claim.id])

    async def main():
        app = seeded.app(role="biller")
        async with app.run_test(size=(120, 50)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            app.push_screen(ClaimScreen(claim.id))
            await wait_until(pilot, lambda: isinstance(app.screen, ClaimScreen)
                             and app.screen.page is not None)  # fmt: skip
            summary = str(app.screen.query_one("#cd-summary").render())
            assert "Status (277)" in summary and "answered, P1" in summary

    run(main())
