"""Pilot tests of the money screens (remittances, denials, a patient payment
and a patient's ledger), on SQLite and PostgreSQL, from the keyboard.

The clock stands at Monday 2026-03-02 09:00; the fee schedule is
`tests.billing_helpers.FEES` (99213 $125.00, 36415 $15.00).
"""

from __future__ import annotations

import pytest
from pms_tui.screens.main import MainScreen
from pms_tui.screens.money import (
    DenialsScreen,
    LedgerScreen,
    PaymentScreen,
    RemitPreviewScreen,
    RemitsScreen,
    TextPrompt,
)
from pms_tui.screens.patient import PatientScreen
from sqlmodel import Session, select
from textual.widgets import DataTable

from pms_core import ledger
from pms_core.ledger import Account
from pms_core.models import Claim, Payment
from pms_core.services import claims, remittance
from tests.billing_helpers import setup_billing, visit
from tests.tui.support import data_uow, notified, run, screen_text, type_text, wait_until
from tests.x12_remits import PaidClaim, PaidLine, era_835

SIZE = (110, 50)


@pytest.fixture
def billed(seeded):
    """Claimwell, Testana's visit (99213 $125, 36415 $15) on a built claim."""
    uow = data_uow(seeded)
    billing = setup_billing(uow, seeded.practice)
    visit(uow, seeded.practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 1)))
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
    return billing, claim


def rows(table: DataTable) -> list[list[str]]:
    return [
        [str(getattr(cell, "plain", cell)) for cell in table.get_row_at(i)]
        for i in range(table.row_count)
    ]


async def open_top(pilot, key: str, cls):
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, cls) and hasattr(app.screen, "rows"))
    return app.screen


def palette_reaches_every_key(app) -> bool:
    screen = app.screen
    actions = {b.action for b in type(screen).BINDINGS if screen.check_action(b.action, ())}
    offered = {
        c.callback.__name__.removeprefix("action_") for c in app.palette_commands(app.screen)
    }
    return actions <= offered


async def answer(pilot, text: str) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, TextPrompt))
    await type_text(pilot, text)
    await pilot.press("enter")


def test_import_a_remit_with_a_preview_then_match_an_unknown_payment_by_hand(
    seeded, billed, tmp_path
):
    billing, claim = billed
    paid = PaidClaim(claim.claim_number, "140.00", "100.00", lines=[
        PaidLine("99213", "125.00", "90.00", adjustments=[("CO", "45", "35.00")]),
        PaidLine("36415", "15.00", "10.00", adjustments=[("CO", "45", "5.00")])])  # fmt: skip
    stray = PaidClaim("LOST-7", "140.00", "100.00", adjustments=[("CO", "45", "40.00")],
                      member_id="NOBODY", payer_claim_number="PCN-LOST")  # fmt: skip
    first, second = tmp_path / "first.835", tmp_path / "second.835"
    first.write_bytes(era_835([paid]))
    second.write_bytes(era_835([stray], trace="EFT-LOST", interchange=777))

    async def main():
        app = seeded.app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_top(pilot, "f7", RemitsScreen)
            assert palette_reaches_every_key(app)
            table = screen.query_one("#rm-list", DataTable)
            for path in (first, second):
                await pilot.press("i")
                await answer(pilot, str(path))
                await wait_until(pilot, lambda: isinstance(app.screen, RemitPreviewScreen))
                shown = screen_text(app)
                assert "Set 0001: posted" in shown and "cash" in shown
                await pilot.press("y")
                await wait_until(pilot, lambda p=path: notified(app, f"{p.name}: posted"))
            await wait_until(pilot, lambda: table.row_count == 2)
            assert [r[5] for r in rows(table)] == ["posted", "posted"]
            # the payment that matched nothing, applied by hand
            await pilot.press("u")
            await wait_until(pilot, lambda: screen.unmatched and table.row_count == 1)
            assert rows(table)[0][0] == "LOST-7"
            await pilot.press("m")
            await answer(pilot, claim.claim_number)
            await wait_until(pilot, lambda: notified(app, "Payment applied to claim"))
            await wait_until(pilot, lambda: table.row_count == 0)

    run(main())
    with Session(seeded.engine) as s:
        assert ledger.balance(s, seeded.practice.id, account=Account.UNAPPLIED).cents == 0
        assert ledger.balance(s, seeded.practice.id, account=Account.CASH).cents == 20000
        assert s.get(Claim, claim.id).status == "paid"


def test_a_denial_is_moved_to_the_patient_and_write_off_is_not_offered_to_a_biller(
    seeded, billed, tmp_path
):
    billing, claim = billed
    denied = PaidClaim(claim.claim_number, "140.00", "100.00", lines=[
        PaidLine("99213", "125.00", "100.00", adjustments=[("CO", "45", "25.00")]),
        PaidLine("36415", "15.00", "0.00", adjustments=[("CO", "50", "15.00")])])  # fmt: skip
    with data_uow(seeded)("biller") as ctx:
        remittance.import_era(ctx, name="d.835", source=era_835([denied]))

    async def main():
        app = seeded.app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_top(pilot, "f8", DenialsScreen)
            assert palette_reaches_every_key(app)
            table = screen.query_one("#dn-list", DataTable)
            await wait_until(pilot, lambda: table.row_count == 1)
            (row,) = rows(table)
            assert row[1].startswith("CO-50 contractual") and row[5] == "$15.00"
            assert not screen.check_action("writeoff", ())
            await pilot.press("w")  # not offered: nothing opens
            await pilot.pause()
            assert app.screen is screen
            await pilot.press("t")
            await answer(pilot, "ABN signed")
            await wait_until(pilot, lambda: notified(app, "Now the patient's to pay"))
            await wait_until(pilot, lambda: table.row_count == 0)

    run(main())
    with Session(seeded.engine) as s:
        owed = ledger.patient_balance(s, seeded.practice.id, billing.patient_id)
    assert owed.patient.cents == 1500


def test_the_front_desk_takes_a_payment_and_the_ledger_explains_it(seeded, billed):
    billing, _ = billed
    patient_id = billing.patient_id

    async def main():
        app = seeded.app(role="frontdesk")
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            app.screen.open_patient(patient_id)
            await wait_until(pilot, lambda: isinstance(app.screen, PatientScreen)
                             and app.screen.record is not None)  # fmt: skip
            patient = app.screen
            await pilot.press("p")
            await wait_until(pilot, lambda: isinstance(app.screen, PaymentScreen))
            await type_text(pilot, "30.00")
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen.posted)
            assert "Cash payment    30.00" in screen_text(app)
            assert "credit on account    30.00" in screen_text(app)
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is patient)
            await pilot.press("l")
            await wait_until(pilot, lambda: isinstance(app.screen, LedgerScreen)
                             and app.screen.rows)  # fmt: skip
            explained = [r[5] for r in rows(app.screen.query_one("#lg-list", DataTable))]
            assert "patient payment (cash)" in explained
            assert "patient credit on account" in explained

    run(main())
    with Session(seeded.engine) as s:
        (payment,) = s.exec(select(Payment)).all()
    assert (payment.amount_cents, payment.method) == (3000, "cash")


def test_every_binding_of_the_money_screens_has_an_id_and_a_tooltip():
    for cls in (RemitsScreen, DenialsScreen, LedgerScreen, PaymentScreen, TextPrompt):
        for binding in cls.BINDINGS:
            assert binding.id, (cls.__name__, binding.key)
            assert binding.tooltip and binding.description, (cls.__name__, binding.key)
