"""Helpers for driving the TUI in tests. All data is synthetic."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pms_tui.app import PmsApp
from sqlalchemy import func
from sqlmodel import Session, select

from pms_core.clock import FixedClock
from pms_core.context import unit_of_work
from pms_core.ledger import Account, Line
from pms_core.models import Appointment, Claim, Coverage, Patient, Reminder, ReminderRule
from pms_core.money import Money
from pms_core.services import appointments, auth, schedule_setup, waitlist
from pms_core.services.coverages import add_coverage
from pms_core.services.ledger import post_entry
from pms_core.services.patients import IntakeInput, register_patient
from pms_core.services.practice import add_provider
from pms_core.validation import npi_check_digit
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


def notified(app, text: str) -> bool:
    """Whether a notification holding `text` is up (Pilot does not draw toasts,
    so they are not in `screen_text`)."""
    return any(text in str(n.message) for n in app._notifications)


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


def no_blink(app) -> None:
    """Stop cursor blinking so screenshots do not depend on timing."""
    from textual.widgets import Input

    for screen in app.screen_stack:
        for widget in screen.query(Input):
            widget.cursor_blink = False


# --- the schedule -------------------------------------------------------------------
CHICAGO = ZoneInfo("America/Chicago")
MONDAY = date(2026, 3, 2)  # today by the test clock (15:00 UTC = 09:00 in Chicago)
TUESDAY = date(2026, 3, 3)


def local(day: date, hhmm: str) -> datetime:
    """An aware datetime for a wall-clock time in the practice's zone."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=CHICAGO)


@dataclass
class ScheduleSeed:
    """The schedule `seed_schedule` builds; appointment ids by name."""

    rivera_id: int
    chen_id: int
    location_id: int
    visit_id: int  # "Office visit", 30 minutes, blue
    procedure_id: int  # "Procedure", 60 minutes, orange, needs a room
    telehealth_id: int  # "Telehealth", 15 minutes, cyan, Rivera only
    room_ids: dict[str, int]
    appointment_ids: dict[str, int] = field(default_factory=dict)


def seed_schedule(data: SeededData) -> ScheduleSeed:
    """A day of scheduling on Monday 2026-03-02, through the services.

    Providers: Rivera, Alex (the fixture's; weekdays 08:00-12:00 and 13:00-17:00)
    and Chen, Dana (weekdays 08:00-17:00, a staff meeting block 15:00-16:00 on
    Monday). Rooms Exam 1 and Exam 2 at the Main Clinic. Appointments:

    - maria_0800: Garcia, Maria with Rivera at 08:00 (before the clock: booked)
    - jane_0830: Doe, Jane with Chen at 08:30, checked in
    - jane_1000: Doe, Jane with Rivera at 10:00, booked
    - john_1030: Doe, John with Chen at 10:30, confirmed
    - john_1100: Doe, John with Rivera at 11:00, and maria_1100 overbooked over it
    - maria_1300: Garcia, Maria with Chen at 13:00, a procedure in Exam 1
    - jane_tuesday: Doe, Jane with Rivera on Tuesday at 09:00
    """
    practice, engine, pm = data.practice, data.engine, data.pm
    early = FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))  # 06:00 Monday in Chicago
    with unit_of_work(engine, user_id=practice.users["admin"], pm=pm, clock=data.clock) as ctx:
        first_nine = "156789012"
        chen = add_provider(
            ctx,
            npi=first_nine + npi_check_digit(first_nine),
            taxonomy="207Q00000X",
            first_name="Dana",
            last_name="Chen",
        )
        hours = {
            practice.provider_id: (("08:00", "12:00"), ("13:00", "17:00")),
            chen.id: (("08:00", "17:00"),),
        }
        for provider_id, windows in hours.items():
            for weekday in range(5):
                for start, end in windows:
                    schedule_setup.add_availability(
                        ctx,
                        provider_id=provider_id,
                        location_id=practice.location_id,
                        weekday=weekday,
                        start_time=start,
                        end_time=end,
                        effective_from="2026-03-01",
                    )
        schedule_setup.add_exception(
            ctx,
            kind="block",
            provider_id=chen.id,
            starts_at=local(MONDAY, "15:00"),
            ends_at=local(MONDAY, "16:00"),
            reason="Staff meeting",
        )
        visit = schedule_setup.add_appointment_type(ctx, name="Office visit", duration_minutes=30)
        procedure = schedule_setup.add_appointment_type(
            ctx, name="Procedure", duration_minutes=60, color="orange", needs_room=True
        )
        telehealth = schedule_setup.add_appointment_type(
            ctx,
            name="Telehealth",
            duration_minutes=15,
            color="cyan",
            provider_ids=[practice.provider_id],
        )
        rooms = {
            name: schedule_setup.add_room(ctx, location_id=practice.location_id, name=name).id
            for name in ("Exam 1", "Exam 2")
        }
    seed = ScheduleSeed(
        practice.provider_id,
        chen.id,
        practice.location_id,
        visit.id,
        procedure.id,
        telehealth.id,
        rooms,
    )
    bookings = (
        ("maria_0800", data.maria_id, seed.rivera_id, MONDAY, "08:00", visit.id, {}),
        ("jane_0830", data.jane_id, seed.chen_id, MONDAY, "08:30", visit.id, {}),
        ("jane_1000", data.jane_id, seed.rivera_id, MONDAY, "10:00", visit.id, {}),
        ("john_1030", data.john_id, seed.chen_id, MONDAY, "10:30", visit.id, {}),
        ("john_1100", data.john_id, seed.rivera_id, MONDAY, "11:00", visit.id, {}),
        (
            "maria_1100",
            data.maria_id,
            seed.rivera_id,
            MONDAY,
            "11:00",
            visit.id,
            {"overbook": True},
        ),
        (
            "maria_1300",
            data.maria_id,
            seed.chen_id,
            MONDAY,
            "13:00",
            procedure.id,
            {"room_id": rooms["Exam 1"]},
        ),
        ("jane_tuesday", data.jane_id, seed.rivera_id, TUESDAY, "09:00", visit.id, {}),
    )
    with unit_of_work(engine, user_id=practice.users["frontdesk"], pm=pm, clock=early) as ctx:
        for name, patient_id, provider_id, day, at, type_id, extra in bookings:
            seed.appointment_ids[name] = appointments.book(
                ctx,
                patient_id=patient_id,
                provider_id=provider_id,
                location_id=practice.location_id,
                appointment_type_id=type_id,
                starts_at=local(day, at),
                **extra,
            ).id
        appointments.check_in(ctx, appointment_id=seed.appointment_ids["jane_0830"])
        appointments.confirm(ctx, appointment_id=seed.appointment_ids["john_1030"])
    return seed


def appointment_row(engine, appointment_id: int) -> Appointment:
    with Session(engine) as s:
        return s.get(Appointment, appointment_id)


def appointments_of(engine, patient_id: int) -> list[Appointment]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(Appointment)
                .where(Appointment.patient_id == patient_id)
                .order_by(Appointment.starts_at, Appointment.id)
            )
        )


def seed_waitlist(data: SeededData, seed: ScheduleSeed) -> dict[str, int]:
    """Two waitlist entries and one open offer, through the services: John waits
    for an office visit with any provider (first in line: same time, lower id), Maria for Rivera on
    Tuesdays and Thursdays after 13:00; Rivera's Tuesday 10:00-10:30 is freed and
    offered (to John, the only one it fits). Returns the ids by name."""
    with unit_of_work(
        data.engine, user_id=data.practice.users["frontdesk"], pm=data.pm, clock=data.clock
    ) as ctx:
        john = waitlist.add_entry(
            ctx,
            patient_id=data.john_id,
            appointment_type_id=seed.visit_id,
            earliest_date=MONDAY,
            latest_date="2026-03-31",
        )
        maria = waitlist.add_entry(
            ctx,
            patient_id=data.maria_id,
            appointment_type_id=seed.visit_id,
            provider_id=seed.rivera_id,
            preferred_weekdays="13",
            preferred_start="13:00",
            earliest_date=MONDAY,
            note="prefers afternoons",
        )
        offers = waitlist.offer_freed_slot(
            ctx,
            provider_id=seed.rivera_id,
            location_id=seed.location_id,
            starts_at=local(TUESDAY, "10:00"),
            ends_at=local(TUESDAY, "10:30"),
        )
    return {"john_entry": john.id, "maria_entry": maria.id, "john_offer": offers[0].id}


def seed_reminders(data: SeededData, seed: ScheduleSeed) -> dict[str, int]:
    """Reminder rows in every state a worklist shows, for Monday's appointments
    (built directly: the sending itself has its own tests). Returns ids by name."""
    now = data.clock.now()
    rows = (
        # name, appointment, channel, status, attempts, reason, sent
        ("jane_sent", "jane_1000", "email", "sent", 1, None, now - timedelta(hours=20)),
        ("john_sent", "john_1030", "sms", "sent", 1, None, now - timedelta(hours=20)),
        ("john_pending", "john_1100", "sms", "pending", 0, None, None),
        ("maria_retry", "maria_1100", "sms", "retry", 1, "gateway answered 503", None),
        ("maria_failed", "maria_0800", "email", "failed", 5, "SMTP 550 mailbox unavailable", None),
        ("maria_skipped", "maria_1300", "email", "skipped", 0, "no email address on file", None),
    )
    ids: dict[str, int] = {}
    with Session(data.engine) as s:
        rules = {}
        for channel in ("email", "sms"):
            rule = ReminderRule(practice_id=data.practice.id, channel=channel, offset_minutes=1440)
            s.add(rule)
            s.flush()
            rules[channel] = rule.id
        for name, appt, channel, status, attempts, reason, sent in rows:
            appt_row = s.get(Appointment, seed.appointment_ids[appt])
            due = appt_row.starts_at - timedelta(hours=24)
            reminder = Reminder(
                practice_id=data.practice.id,
                appointment_id=appt_row.id,
                rule_id=rules[channel],
                channel=channel,
                appointment_starts_at=appt_row.starts_at,
                due_at=due,
                next_attempt_at=due if status != "retry" else now + timedelta(minutes=10),
                status=status,
                attempts=attempts,
                message_key=f"key-{name}",
                skip_reason=reason if status == "skipped" else None,
                last_error=reason if status in ("retry", "failed") else None,
                sent_at=sent,
                created_at=now - timedelta(days=1),
            )
            s.add(reminder)
            s.flush()
            ids[name] = reminder.id
        s.commit()
    return ids


# --- billing ------------------------------------------------------------------------
def data_uow(data: SeededData):
    """`uow(role)` for the seeded practice (what tests.billing_helpers expects)."""

    def _open(role: str = "admin"):
        return unit_of_work(
            data.engine, user_id=data.practice.users[role], pm=data.pm, clock=data.clock
        )

    return _open


@dataclass
class ClaimsSeed:
    """What `seed_claims` made: the billing patients and claim ids by name."""

    billing: object  # tests.billing_helpers.Billing
    claim_ids: dict[str, int]
    numbers: dict[str, str]


def seed_claims(data: SeededData, outbox) -> ClaimsSeed:
    """Claims in several worklists, through the services (the fee schedule and
    patients of `tests.billing_helpers.setup_billing`; visits on 2026-02-20):

    - sent: Claimwell, Testana 93000, submitted to a directory clearinghouse
      (`outbox`) and acknowledged by a 277CA with payer claim number PCN-5521
    - rejected: Claimwell, Testana 97110, submitted with it and rejected by the
      277CA (no payer claim number on file)
    - ready: Claimwell, Testana 99213 + 36415 (E11.9, I10), scrubbed clean
    - errors: Claimwell, Testkid 99213, scrubbed with the subscriber's member id
      and birth date missing (changed behind the services' back)
    - draft: Doe, Jane 99214-25, built and not scrubbed
    """
    from pms_core.services import claims, submission
    from tests.billing_helpers import setup_billing, visit
    from tests.x12_responses import ClaimVerdict, ack_277ca, ack_999

    uow = data_uow(data)
    practice = data.practice
    billing = setup_billing(uow, practice)
    with uow("admin") as ctx:
        folders = {name: outbox / name for name in ("outbox", "inbox", "archive")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        submission.add_clearinghouse(
            ctx,
            name="Test Exchange",
            transport="directory",
            settings={k: str(v) for k, v in folders.items()},
            sender_id="PRACTICE01",
            receiver_id="CLEARHOUSE",
            receiver_name="Test Exchange",
            contact_name="Billing Office",
            contact_phone="2175550100",
            default=True,
        )
    ids: dict[str, int] = {}
    visit(uow, practice, billing.patient_id, lines=(("93000", (), 1),))
    visit(uow, practice, billing.patient_id, lines=(("97110", (), 1),))
    with uow("biller") as ctx:
        sent, rejected = claims.build_claims(ctx).claims
        claims.scrub_claims(ctx, claim_ids=[sent.id, rejected.id])
        ids.update(sent=sent.id, rejected=rejected.id)
    with uow("biller") as ctx:
        (result,) = submission.submit_claims(ctx, claim_ids=[sent.id, rejected.id])
        assert result.status == "sent", result
        submission.import_response(ctx, name="batch.999", data=ack_999(1, {"0001": "A"}))
        verdicts = [
            ClaimVerdict(sent.claim_number, True, "55", "PCN-5521"),
            ClaimVerdict(rejected.claim_number, False, "48"),
        ]
        submission.import_response(ctx, name="claims.277", data=ack_277ca(verdicts))
    visit(
        uow,
        practice,
        billing.patient_id,
        lines=(("99213", (), (1, 2)), ("36415", (), 1)),
    )
    visit(uow, practice, billing.dependent_id)
    visit(uow, practice, data.jane_id, lines=(("99214", ("25",), 1),), diagnoses=("I10",))
    with uow("biller") as ctx:
        ready, kid, jane = claims.build_claims(ctx).claims
        ids.update(ready=ready.id, errors=kid.id, draft=jane.id)
    with Session(data.engine) as s:
        coverage = s.get(Coverage, kid.coverage_id)
        coverage.subscriber_dob, coverage.member_id = None, ""
        s.add(coverage)
        s.commit()
    with uow("biller") as ctx:
        claims.scrub_claims(ctx, claim_ids=[ready.id, kid.id])
    with Session(data.engine) as s:
        numbers = {name: s.get(Claim, claim_id).claim_number for name, claim_id in ids.items()}
    return ClaimsSeed(billing, ids, numbers)
