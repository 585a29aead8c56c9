"""Pilot tests of the billing screens (charge entry, the claims worklist and a
claim's detail), on SQLite and PostgreSQL, driven from the keyboard.

The clock stands at Monday 2026-03-02 09:00 in the practice's time zone; the
fee schedule is `tests.billing_helpers.FEES` (99213 $125.00, 36415 $15.00).
`seed_claims` puts claims in several worklists (see its docstring). Each test
checks what the biller sees and what the database holds afterwards.
"""

from __future__ import annotations

import pytest
from pms_tui.screens.charges import ChargeEntryScreen
from pms_tui.screens.claims import ClaimChangeScreen, ClaimScreen, ClaimsScreen, ConfirmScreen
from pms_tui.screens.confirm import ConfirmDiscardScreen
from pms_tui.screens.lock import LockScreen
from pms_tui.screens.main import MainScreen
from pms_tui.screens.patient import PatientScreen
from sqlmodel import Session, func, select
from textual.widgets import DataTable, Input, Select, Static

from pms_core.ledger import Account
from pms_core.models import Charge, Claim, Encounter, EncounterDiagnosis, Posting
from tests.billing_helpers import setup_billing, visit
from tests.helpers import PASSWORD
from tests.tui.support import (
    data_uow,
    notified,
    run,
    screen_text,
    seed_claims,
    seed_schedule,
    type_text,
    wait_until,
)

SIZE = (110, 50)
E119 = "Type 2 diabetes mellitus without complications"


@pytest.fixture
def billing(seeded):
    """The seeded patients plus the fee schedule (and the Claimwell patients)."""
    return setup_billing(data_uow(seeded), seeded.practice)


@pytest.fixture
def claims_seed(seeded, tmp_path):
    return seed_claims(seeded, tmp_path / "exchange")


@pytest.fixture
def ui_data(snap_data):
    """SQLite only, for what does not depend on the database (roles, the lock,
    the palette); the screens' work runs on both engines in the tests above."""
    return snap_data


@pytest.fixture
def ui_claims(ui_data, tmp_path):
    return seed_claims(ui_data, tmp_path / "exchange")


def _static(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _rows(table: DataTable) -> list[list[str]]:
    return [
        [str(getattr(cell, "plain", cell)) for cell in table.get_row_at(i)]
        for i in range(table.row_count)
    ]


async def open_charges(pilot, patient_id: int) -> ChargeEntryScreen:
    """From the patient's record, `c`; wait until the form is ready to type in."""
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
    app.screen.open_patient(patient_id)
    await wait_until(
        pilot, lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None
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
    return app.screen


async def add_diagnosis(pilot, screen: ChargeEntryScreen, text: str) -> None:
    count = len(screen.diagnoses)
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: len(screen.diagnoses) == count + 1)


async def open_claims(pilot) -> ClaimsScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
    await pilot.press("f6")
    await wait_until(pilot, lambda: isinstance(app.screen, ClaimsScreen) and app.screen.loaded)
    return app.screen


async def show_worklist(pilot, screen: ClaimsScreen, key: str, rows: int) -> DataTable:
    table = screen.query_one("#cl-list", DataTable)
    await pilot.press(key)
    await wait_until(pilot, lambda: screen.rows is not None and table.row_count == rows)
    return table


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def claim_row(engine, claim_id: int) -> Claim:
    with Session(engine) as s:
        return s.get(Claim, claim_id)


# --- charge entry -----------------------------------------------------------------------
class TestChargeEntry:
    def test_words_code_and_pointer_keys_then_save_and_post_write_the_ledger(self, seeded, billing):
        async def main():
            app = seeded.app()
            async with app.run_test(size=SIZE) as pilot:
                screen = await open_charges(pilot, seeded.jane_id)
                assert "Doe, Jane" in _static(screen, "#ce-heading")
                assert "Acme Health Plan" in _static(screen, "#ce-heading")
                # a diagnosis by words, with its description; another by code
                await type_text(pilot, "2 diabetes without compl")
                await wait_until(pilot, lambda: screen.dx_hits[:1] == [("E119", E119)])
                assert E119 in screen_text(app)
                await pilot.press("enter")
                await wait_until(pilot, lambda: len(screen.diagnoses) == 1)
                await add_diagnosis(pilot, screen, "i10")
                dx = screen.query_one("#ce-dx", DataTable)
                assert _rows(dx) == [
                    ["1", "E11.9", E119],
                    ["2", "I10", "Essential (primary) hypertension"],
                ]
                # tab to the code row; an unknown code is refused under the code field
                await pilot.press("tab", "tab")
                assert app.focused.id == "ce-code"
                await type_text(pilot, "99999")
                await wait_until(
                    pilot, lambda: "not in the code list" in _static(screen, "#ce-price")
                )
                await pilot.press("enter", "ctrl+s")
                await wait_until(pilot, lambda: "Not saved" in _static(screen, "#ce-status"))
                assert _static(screen, "#e-code") == (
                    "Line 1: 99999 is not in the practice's code list or fee schedule"
                )
                assert count(seeded.engine, Encounter) == 0  # nothing half-saved
                # enter on the line takes it back into the code row to fix it
                lines = screen.query_one("#ce-lines", DataTable)
                assert app.focused is lines
                await pilot.press("enter")
                assert app.focused.id == "ce-code" and not screen.lines
                await pilot.press("ctrl+u")
                await type_text(pilot, "99213")
                await wait_until(pilot, lambda: "$125.00 a unit" in _static(screen, "#ce-price"))
                await pilot.press("enter")
                await type_text(pilot, "36415")
                await pilot.press("enter")
                await wait_until(pilot, lambda: all(line.priced for line in screen.lines))
                assert [r[1] for r in _rows(lines)] == ["99213", "36415"]
                assert "Total $140.00" in _static(screen, "#ce-total")
                # to the lines; on line 1, key 2 points it at the second diagnosis too
                await pilot.press("tab", "tab", "tab", "tab")
                assert app.focused is lines
                await pilot.press("up", "2")
                assert [r[5] for r in _rows(lines)] == ["1,2", "1"]
                await pilot.press("ctrl+s")
                await wait_until(pilot, lambda: screen.saved)
                assert "Saved encounter" in _static(screen, "#ce-status")
                await pilot.press("ctrl+t")
                await wait_until(pilot, lambda: "Posted 2 charges" in _static(screen, "#ce-status"))
                assert [r[-1] for r in _rows(lines)] == ["posted", "posted"]
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, PatientScreen))

        run(main())
        with Session(seeded.engine) as s:
            (encounter,) = s.exec(select(Encounter)).all()
            dx = s.exec(
                select(EncounterDiagnosis.code)
                .where(EncounterDiagnosis.encounter_id == encounter.id)
                .order_by(EncounterDiagnosis.position)
            ).all()
            charges = s.exec(select(Charge).order_by(Charge.line_number)).all()
            postings = s.exec(
                select(Posting).where(Posting.charge_id.in_([c.id for c in charges]))
            ).all()
        assert (encounter.patient_id, encounter.status) == (seeded.jane_id, "posted")
        assert encounter.date_of_service.isoformat() == "2026-03-02"
        assert dx == ["E119", "I10"]
        assert [(c.code, c.diagnosis_pointers, c.amount_cents, c.status) for c in charges] == [
            ("99213", "1,2", 12500, "posted"),
            ("36415", "1", 1500, "posted"),
        ]
        by_account: dict[str, int] = {}
        for p in postings:
            by_account[p.account] = by_account.get(p.account, 0) + p.amount_cents
        assert by_account == {Account.AR_INSURANCE.value: 14000, Account.CHARGES.value: -14000}

    def test_e_on_an_appointment_enters_the_visits_charges(self, ui_data):
        from tests.tui.test_schedule_tui import column_of, go_to, open_schedule

        sched = seed_schedule(ui_data)
        setup_billing(data_uow(ui_data), ui_data.practice)
        appointment_id = sched.appointment_ids["jane_0830"]  # with Chen, checked in

        async def main():
            app = ui_data.app()
            async with app.run_test(size=SIZE) as pilot:
                schedule = await open_schedule(pilot)
                go_to(schedule, column_of(schedule, sched.chen_id), "08:30")
                await pilot.press("e")
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
                assert "from the appointment" in _static(form, "#ce-heading")
                assert form.query_one("#ce-provider", Select).value == sched.chen_id
                assert form.query_one("#ce-dos", Input).value == "03/02/2026"
                await add_diagnosis(pilot, form, "E11.9")
                await pilot.press("tab", "tab")
                await type_text(pilot, "99213")
                await pilot.press("enter", "ctrl+s")
                await wait_until(pilot, lambda: form.saved)

        run(main())
        with Session(ui_data.engine) as s:
            (encounter,) = s.exec(select(Encounter)).all()
        assert (encounter.appointment_id, encounter.provider_id) == (appointment_id, sched.chen_id)


# --- claims -----------------------------------------------------------------------------
class TestClaims:
    def test_worklists_with_counts_build_scrub_to_ready_and_submit_from_the_keyboard(
        self, seeded, claims_seed
    ):
        ids = claims_seed.claim_ids
        billing = claims_seed.billing
        uow = data_uow(seeded)
        visit(uow, seeded.practice, billing.dependent_id, lines=(("81002", (), 1),))
        visit(uow, seeded.practice, billing.self_pay_id)  # no coverage: no claim

        async def main():
            app = seeded.app()
            async with app.run_test(size=SIZE) as pilot:
                screen = await open_claims(pilot)
                tabs = _static(screen, "#cl-tabs")
                for shown in ("All 5", "Draft 1", "Scrub errors 1", "Ready 1", "Submitted 1"):
                    assert shown in tabs
                assert "Rejected 1" in tabs and "Paid 0" in tabs
                assert screen.query_one("#cl-list", DataTable).row_count == 5
                # b bills the posted charges no claim carries yet
                await pilot.press("b")
                await wait_until(pilot, lambda: "Draft 2" in _static(screen, "#cl-tabs"))
                assert notified(app, "Built 1 claim from posted charges. 1 self-pay charge")
                # the draft worklist; s scrubs the highlighted claim: it moves to ready
                table = await show_worklist(pilot, screen, "1", rows=2)
                assert [row[1] for row in _rows(table)] == ["Claimwell, Testkid", "Doe, Jane"]
                await pilot.press("down", "s")
                await wait_until(pilot, lambda: table.row_count == 1)
                assert "Draft 1" in _static(screen, "#cl-tabs")
                assert "Ready 2" in _static(screen, "#cl-tabs")
                assert claim_row(seeded.engine, ids["draft"]).status == "ready"
                table = await show_worklist(pilot, screen, "3", rows=2)
                # u asks first, then submits every ready claim
                await pilot.press("u")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
                assert "Submit the 2 ready claims now?" in screen_text(app)
                await pilot.press("y")
                await wait_until(pilot, lambda: notified(app, "Sent 2 claims to Test Exchange"))
                await wait_until(pilot, lambda: table.row_count == 0)
                assert "Submitted 3" in _static(screen, "#cl-tabs")

        run(main())
        for name in ("draft", "ready"):
            assert claim_row(seeded.engine, ids[name]).status == "submitted"

    def test_the_detail_shows_findings_history_and_x12_then_correct_and_void_from_the_keyboard(
        self, seeded, claims_seed
    ):
        ids, numbers = claims_seed.claim_ids, claims_seed.numbers
        made: dict[str, int] = {}

        async def opened(pilot, claim_id: int) -> ClaimScreen:
            app = pilot.app
            await pilot.press("enter")
            await wait_until(
                pilot,
                lambda: (
                    isinstance(app.screen, ClaimScreen)
                    and app.screen.page is not None
                    and app.screen.claim_id == claim_id
                ),
            )
            return app.screen

        async def main():
            app = seeded.app()
            async with app.run_test(size=SIZE) as pilot:
                screen = await open_claims(pilot)
                # a claim with scrub errors: its findings and history
                await show_worklist(pilot, screen, "2", rows=1)
                detail = await opened(pilot, ids["errors"])
                findings = _rows(detail.query_one("#cd-findings", DataTable))
                assert "subscriber.member_id" in {row[1] for row in findings}
                assert findings[0][0] == "error"
                history = _rows(detail.query_one("#cd-history", DataTable))
                assert [row[1:4] for row in history] == [
                    ["(new)", "draft", "biller"],
                    ["draft", "scrub errors", "biller"],
                ]
                assert "Claimwell, Testkid" in _static(detail, "#cd-summary")
                assert "Not sent yet" in _static(detail, "#cd-x12")
                assert not detail.check_action("correct", ()) and detail.check_action("scrub", ())
                # the acknowledged claim: the X12 it went out as, the payer's claim number
                await pilot.press("escape")
                await show_worklist(pilot, screen, "4", rows=1)
                detail = await opened(pilot, ids["sent"])
                x12 = _static(detail, "#cd-x12")
                assert f"CLM*{numbers['sent']}*55" in x12 and "SV1*HC:93000" in x12
                assert "PCN-5521" in _static(detail, "#cd-summary")
                statuses = [row[2] for row in _rows(detail.query_one("#cd-history", DataTable))]
                assert statuses == ["draft", "ready", "submitted", "accepted", "acknowledged"]
                assert not detail.check_action("discard", ())
                # c: a corrected claim takes its place, quoting the payer's number
                await pilot.press("c")
                await wait_until(pilot, lambda: isinstance(app.screen, ClaimChangeScreen))
                assert "on file: PCN-5521" in screen_text(app)
                await type_text(pilot, "units")
                await pilot.press("enter")
                await wait_until(
                    pilot,
                    lambda: (
                        app.screen is detail
                        and detail.page is not None
                        and detail.claim_id != ids["sent"]
                    ),
                )
                assert notified(app, "Corrected claim")
                assert "corrected" in _static(detail, "#cd-heading")
                assert "PCN-5521" in _static(detail, "#cd-summary")
                corrected = detail.claim_id
                # the rejected claim: no payer claim number on file, so the void asks for it
                await pilot.press("escape")
                await show_worklist(pilot, screen, "5", rows=1)
                detail = await opened(pilot, ids["rejected"])
                await pilot.press("v")
                await wait_until(
                    pilot,
                    lambda: (
                        isinstance(app.screen, ClaimChangeScreen)
                        and app.focused is not None
                        and app.focused.id == "chg-number"
                    ),
                )
                dialog = app.screen
                await pilot.press("tab")
                await type_text(pilot, "twice")
                await pilot.press("enter")
                await wait_until(
                    pilot, lambda: "is not on file" in _static(dialog, "#e-chg-number")
                )
                await pilot.press("shift+tab")
                await type_text(pilot, "P778")
                await pilot.press("ctrl+s")
                await wait_until(
                    pilot,
                    lambda: (
                        app.screen is detail
                        and detail.page is not None
                        and detail.claim_id != ids["rejected"]
                    ),
                )
                assert "void" in _static(detail, "#cd-heading")
                made.update(corrected=corrected, void=detail.claim_id)

        run(main())
        assert claim_row(seeded.engine, ids["sent"]).status == "replaced"
        new = claim_row(seeded.engine, made["corrected"])
        assert (new.frequency, new.payer_claim_number, new.original_claim_id) == (
            "7",
            "PCN-5521",
            ids["sent"],
        )
        assert claim_row(seeded.engine, ids["rejected"]).status == "voided"
        void = claim_row(seeded.engine, made["void"])
        assert (void.frequency, void.payer_claim_number, void.original_claim_id) == (
            "8",
            "P778",
            ids["rejected"],
        )
        assert numbers["rejected"] != void.claim_number


# --- roles, lock, palette -----------------------------------------------------------------
class TestRolesLockPalette:
    def test_a_frontdesk_user_is_offered_neither_claims_nor_charges(self, ui_data):
        async def main():
            app = ui_data.app("frontdesk")
            async with app.run_test(size=SIZE) as pilot:
                await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
                assert "Claims" not in screen_text(app)
                await pilot.press("f6")
                await pilot.pause(0.2)
                assert isinstance(app.screen, MainScreen)
                titles = [c.title for c in app.palette_commands(app.screen)]
                assert not [t for t in titles if t.startswith(("Claims", "Charges"))]
                app.screen.open_patient(ui_data.jane_id)
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, PatientScreen) and app.screen.record is not None,
                )
                assert not app.screen.check_action("charges", ())
                await pilot.press("c")
                await pilot.pause(0.2)
                assert isinstance(app.screen, PatientScreen)

        run(main())

    def test_typed_charges_are_kept_from_the_function_keys_and_the_lock_hides_claims(
        self, ui_data, ui_claims
    ):
        async def main():
            app = ui_data.app()
            async with app.run_test(size=SIZE) as pilot:
                form = await open_charges(pilot, ui_data.jane_id)
                await add_diagnosis(pilot, form, "E11.9")
                await pilot.press("f6")
                await wait_until(pilot, lambda: notified(app, "form first"))
                assert app.screen is form
                # escape asks before throwing the input away
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDiscardScreen))
                await pilot.press("d")
                await wait_until(pilot, lambda: isinstance(app.screen, PatientScreen))
                await pilot.press("f6")
                await wait_until(
                    pilot, lambda: isinstance(app.screen, ClaimsScreen) and app.screen.loaded
                )
                screen = app.screen
                assert "Claimwell, Testana" in screen_text(app)
                await pilot.press("ctrl+l")
                await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
                text = screen_text(app)
                assert "Claimwell" not in text and "Doe" not in text and "Screen locked" in text
                await type_text(pilot, PASSWORD)
                await pilot.press("enter")
                await wait_until(pilot, lambda: app.screen is screen)
                assert "Claimwell, Testana" in screen_text(app)

        run(main())

    def test_every_key_has_a_palette_entry_on_the_billing_screens(self, ui_data, ui_claims):
        seen: set[str] = set()

        def check(app) -> None:
            from pms_tui.app import PmsApp

            screen = app.screen
            keys = {  # the screen's own keys and the app's, without parameters
                b.action.split("(")[0]
                for cls in type(screen).__mro__
                if cls.__module__.startswith("pms_tui")
                for b in cls.__dict__.get("BINDINGS", [])
                if screen.check_action(b.action.split("(")[0], ())
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
            app = ui_data.app()
            async with app.run_test(size=SIZE) as pilot:
                screen = await open_claims(pilot)
                check(app)
                await pilot.press("u")
                await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
                check(app)
                await pilot.press("escape")
                await show_worklist(pilot, screen, "4", rows=1)
                await pilot.press("enter")
                await wait_until(
                    pilot, lambda: isinstance(app.screen, ClaimScreen) and app.screen.page
                )
                check(app)
                await pilot.press("v")
                await wait_until(pilot, lambda: isinstance(app.screen, ClaimChangeScreen))
                check(app)
                await pilot.press("escape", "escape", "escape")
                form = await open_charges(pilot, ui_data.jane_id)
                check(app)
                await add_diagnosis(pilot, form, "E11.9")
                await pilot.press("tab", "tab")
                await type_text(pilot, "99213")
                await pilot.press("enter")
                form.query_one("#ce-lines", DataTable).focus()
                await pilot.pause()
                check(app)
                assert "Charges: toggle pointer 1" in [
                    c.title for c in app.palette_commands(app.screen)
                ]

        run(main())
        assert seen == {
            "ClaimsScreen",
            "ConfirmScreen",
            "ClaimScreen",
            "ClaimChangeScreen",
            "ChargeEntryScreen",
        }


def test_every_binding_of_the_billing_screens_has_an_id_and_a_tooltip():
    for cls in (ChargeEntryScreen, ClaimsScreen, ClaimScreen, ClaimChangeScreen, ConfirmScreen):
        for binding in cls.BINDINGS:
            assert binding.id, (cls.__name__, binding.key)
            assert binding.tooltip and binding.description, (cls.__name__, binding.key)
