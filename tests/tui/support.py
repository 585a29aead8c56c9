"""Helpers for driving the TUI in tests. All data is synthetic."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pms_tui.app import PmsApp
from sqlalchemy import func
from sqlmodel import Session, select

from pms_core.context import unit_of_work
from pms_core.ledger import Account, Line
from pms_core.models import Patient
from pms_core.money import Money
from pms_core.services import auth
from pms_core.services.coverages import add_coverage
from pms_core.services.ledger import post_entry
from pms_core.services.patients import IntakeInput, register_patient
from tests.helpers import PASSWORD, PracticeFixture


@dataclass
class SeededData:
    engine: object
    practice: PracticeFixture
    clock: object
    pm: object
    jane_id: int
    john_id: int
    maria_id: int

    def app(self, role: str | None = "biller", **options) -> PmsApp:
        """An app signed in as `role` (None: at the login screen); idle lock off
        unless `idle_timeout` is given."""
        if "idle_timeout" not in options:
            options.setdefault("disable_idle_lock_for_testing", True)
        user_id = self.practice.users[role] if role else None
        return PmsApp(self.engine, pm=self.pm, user_id=user_id, clock=self.clock, **options)

    def token_app(self, role: str = "biller", **options) -> tuple[PmsApp, str]:
        """An app started from a session token of `role` (as `pms tui` after
        `pms login`), and that token."""
        result = auth.login(
            self.engine, username=role, password=PASSWORD, clock=self.clock, issue_token=True
        )
        return self.app(role=None, token=result.token, **options), result.token


def seed_patients(engine, practice: PracticeFixture, clock, pm) -> SeededData:
    """Three patients, registered through the services, always the same."""
    user_id = practice.users["biller"]
    with unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx:
        jane = register_patient(
            ctx,
            first_name="Jane",
            last_name="Doe",
            dob="1980-04-12",
            sex="F",
            address1="12 Elm Street",
            city="Springfield",
            state="IL",
            zip="62704",
            mobile_phone="217-555-0142",
            email="jane.doe@example.com",
            intake=[
                IntakeInput("allergy", "Penicillin"),
                IntakeInput("condition", "Asthma"),
            ],
        )
        john = register_patient(
            ctx,
            first_name="John",
            last_name="Doe",
            dob="1975-09-30",
            sex="M",
            address1="12 Elm Street",
            city="Springfield",
            state="IL",
            zip="62704",
            home_phone="217-555-0199",
        )
        maria = register_patient(
            ctx,
            first_name="Maria",
            last_name="Garcia",
            dob="1990-01-05",
            sex="F",
            address1="40 Oak Avenue",
            city="Springfield",
            state="IL",
            zip="62701",
            mobile_phone="217-555-0123",
        )
        coverage = add_coverage(
            ctx,
            patient_id=jane.id,
            payer_id=practice.payer_ids[0],
            member_id="ACM123456",
            group_number="GRP-77",
            effective_date="2025-01-01",
            copay="25.00",
        )
        post_entry(
            ctx,
            entry_date=date(2026, 3, 1),
            kind="charge",
            memo="office visit",
            lines=[
                Line(Account.AR_PATIENT, Money(2500), patient_id=jane.id),
                Line(
                    Account.AR_INSURANCE,
                    Money(10000),
                    patient_id=jane.id,
                    coverage_id=coverage.id,
                    payer_id=practice.payer_ids[0],
                ),
                Line(Account.CHARGES, Money(-12500), patient_id=jane.id),
            ],
        )
        ids = (jane.id, john.id, maria.id)
    return SeededData(engine, practice, clock, pm, *ids)


def patient_count(engine, practice_id: int) -> int:
    with Session(engine) as s:
        return s.exec(
            select(func.count()).select_from(Patient).where(Patient.practice_id == practice_id)
        ).one()


def run(coro) -> None:
    """Run an async Pilot scenario from a plain (sync) pytest test."""
    asyncio.run(coro)


async def wait_until(pilot, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `predicate()` holds (workers, timers, messages)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {getattr(predicate, '__name__', '')}")
        await pilot.pause(0.05)
    await pilot.pause()


def screen_text(app) -> str:
    """Everything visible on the terminal right now, as plain text."""
    svg = app.export_screenshot()
    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", "", p) for p in parts)).replace("\xa0", " ")


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


def no_blink(app) -> None:
    """Stop cursor blinking so screenshots do not depend on timing."""
    from textual.widgets import Input

    for screen in app.screen_stack:
        for widget in screen.query(Input):
            widget.cursor_blink = False
