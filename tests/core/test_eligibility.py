"""Eligibility (270/271) through the sandbox payer, on SQLite and PostgreSQL:
realtime and batch checks, the night-before sweep, history with what changed,
and the failures that must never touch the coverage on file."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from pms_sandbox_payer.payer import answer_inquiry
from pms_x12.eligibility import write_271
from sqlmodel import Session, select

from pms_core.eligdata import Benefit, EligibilityAnswer, EligibilityInquiry, Person
from pms_core.errors import PermissionDenied
from pms_core.models import Acknowledgment, Clearinghouse, Coverage, EligibilityCheck
from pms_core.services import coverages, eligibility, schedule_setup, submission
from tests.billing_helpers import setup_billing
from tests.core.test_appointments import TUESDAY, at, make_booked

DOS = date(2026, 3, 2)  # the test clock's today


def add_sandbox(uow, tmp_path, **settings) -> int:
    with uow("admin") as ctx:
        return submission.add_clearinghouse(
            ctx,
            name="Sandbox",
            transport="sandbox",
            settings={"folder": str(tmp_path / "sandbox"), **settings},
            sender_id="PRACTICE01",
            receiver_id="SANDBOXCH",
            receiver_name="Sandbox Clearinghouse",
            contact_name="Billing Office",
            contact_phone="2175550100",
            default=True,
        ).id


@pytest.fixture
def billing(uow, practice):
    return setup_billing(uow, practice)


def coverage_row(engine, coverage_id: int) -> dict:
    with Session(engine) as s:
        return s.get(Coverage, coverage_id).model_dump()


def expected(engine, check: EligibilityCheck, seed: str = "1"):
    """What the sandbox payer decided about this check's member (its own rules)."""
    with Session(engine) as s:
        member = s.get(Coverage, check.coverage_id).member_id
    inquiry = EligibilityInquiry(
        check.trace, "1", "P", "ACME1", "Clinic", "1", Person("A", "B", member_id=member),
        check.service_date, tuple(check.service_types.split(",")),
    )  # fmt: skip
    return answer_inquiry(inquiry, seed)


def test_a_realtime_check_records_the_payers_answer(uow, engine, billing, tmp_path):
    add_sandbox(uow, tmp_path)
    with uow("frontdesk") as ctx:
        check = eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)
    want = expected(engine, check)
    assert (check.mode, check.attempts, check.service_date) == ("realtime", 1, DOS)
    assert check.status == ("active" if want.active else "inactive")
    assert check.plan_name == want.plan_name
    assert check.coverage_from == date(2026, 1, 1)
    if want.active:
        assert check.copay_cents is None  # asked for 30: the copay is for office visits (98)
        assert check.coinsurance == want.coinsurance()
        assert check.deductible_cents == want.deductible_cents()
        assert check.deductible_remaining_cents == want.deductible_cents(remaining=True)
        assert check.out_of_pocket_remaining_cents == want.out_of_pocket_cents(remaining=True)
    assert check.changes == "" and check.inbound_file_id is not None
    with uow("frontdesk") as ctx:
        [again] = eligibility.history(ctx, coverage_id=billing.coverage_id)
        rows = eligibility.benefit_rows(ctx, check_id=check.id)
    assert again.id == check.id
    assert {r["benefit"] for r in rows} >= {"active coverage" if want.active else "inactive"}


def test_service_types_come_from_the_appointment_type(uow, engine, practice, tmp_path):
    booked = make_booked(uow, practice)
    add_sandbox(uow, tmp_path)
    with uow("admin") as ctx:
        office = schedule_setup.add_appointment_type(
            ctx, name="Sick visit", duration_minutes=20, service_types="98, 30"
        )
        cov = coverages.add_coverage(
            ctx, patient_id=booked.patient_ids[0], payer_id=practice.payer_ids[0],
            member_id="SBX7700123", effective_date="2025-01-01",
        )  # fmt: skip
    with uow("frontdesk") as ctx:
        appt = booked.book(ctx, starts_at=at(TUESDAY, "10:00"), appointment_type_id=office.id)
        [check] = eligibility.check_appointment(ctx, appointment_id=appt.id)
    want = expected(engine, check)
    assert (check.service_types, check.service_date, check.appointment_id) == (
        "98,30", TUESDAY, appt.id,
    )  # fmt: skip
    assert check.coverage_id == cov.id
    if want.active:  # the office visit copay is the one asked about
        assert check.copay_cents == want.copay_cents("98")
    with uow("frontdesk") as ctx:
        marks = eligibility.latest_for_appointments(ctx, [appt.id])
    assert [c.id for c in marks[appt.id]] == [check.id]


def test_a_bad_service_type_is_refused_by_name(uow):
    from pms_core.errors import ValidationError

    with uow("admin") as ctx, pytest.raises(ValidationError) as info:
        schedule_setup.add_appointment_type(
            ctx, name="Odd", duration_minutes=20, service_types="98,X!"
        )
    assert [(e.field, e.code) for e in info.value.errors] == [("service_types", "invalid")]


def test_what_changed_since_the_last_check_is_flagged(uow, engine, billing, tmp_path):
    ch = add_sandbox(uow, tmp_path)
    with uow("frontdesk") as ctx:
        first = eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)
        same = eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)
    assert same.changes == ""
    # another seed: the payer's records for this member are not the same any more
    seed = next(
        str(n) for n in range(2, 200)
        if expected(engine, first, str(n)).plan_name != expected(engine, first, "1").plan_name
    )  # fmt: skip
    with Session(engine) as s:
        row = s.get(Clearinghouse, ch)
        row.settings = json.dumps({**json.loads(row.settings), "seed": seed})
        s.add(row)
        s.commit()
    with uow("frontdesk") as ctx:
        changed = eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)
    assert "plan" in changed.changed
    with uow("frontdesk") as ctx:
        assert [c.id for c in eligibility.history(ctx, coverage_id=billing.coverage_id)] == [
            changed.id, same.id, first.id,
        ]  # fmt: skip


def test_an_invalid_member_id_is_rejected_with_the_reason_and_follow_up(
    uow, engine, practice, billing, tmp_path
):
    add_sandbox(uow, tmp_path)
    with uow("admin") as ctx:
        bad = coverages.add_coverage(
            ctx, patient_id=billing.self_pay_id, payer_id=practice.payer_ids[1],
            member_id="X1", effective_date="2025-01-01",
        )  # fmt: skip
    with uow("frontdesk") as ctx:
        check = eligibility.check_coverage(ctx, coverage_id=bad.id)
    assert check.status == "rejected"
    assert "invalid or missing subscriber/insured id (AAA 72" in check.message
    assert "correct and resubmit" in check.message
    assert "X1" not in check.message


@pytest.mark.parametrize("faults", ["timeout,timeout,timeout", "garbage,garbage,timeout"])
def test_a_clearinghouse_that_never_answers_fails_the_check_and_nothing_else(
    uow, engine, billing, tmp_path, faults
):
    add_sandbox(uow, tmp_path, faults=faults)
    before = coverage_row(engine, billing.coverage_id)
    with uow("frontdesk") as ctx:
        check = eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)
    assert (check.status, check.attempts) == ("failed", 3)
    assert "tried 3 times" in check.message and "coverage on file is unchanged" in check.message
    assert coverage_row(engine, billing.coverage_id) == before
    with uow("frontdesk") as ctx:  # the faults are spent: the next check is answered
        assert eligibility.check_coverage(ctx, coverage_id=billing.coverage_id).status in (
            "active", "inactive",
        )  # fmt: skip


def test_one_timeout_is_retried(uow, engine, billing, tmp_path):
    add_sandbox(uow, tmp_path, faults="timeout")
    with uow("frontdesk") as ctx:
        check = eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)
    assert check.attempts == 2 and check.status in ("active", "inactive")


def test_batch_checks_are_answered_by_the_next_poll_once(uow, engine, billing, tmp_path):
    add_sandbox(uow, tmp_path, realtime="no")
    with uow("frontdesk") as ctx:
        check = eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)
    assert (check.status, check.mode) == ("pending", "batch")
    with uow("biller") as ctx:
        [outcome] = submission.poll_clearinghouse(ctx)
    assert (outcome.kind, outcome.status) == ("271", "processed")
    with Session(engine) as s:
        done = s.get(EligibilityCheck, check.id)
        assert done.status in ("active", "inactive") and done.answered_at is not None
    with uow("biller") as ctx:
        assert submission.poll_clearinghouse(ctx) == []  # nothing waits any more


def test_an_answer_nobody_asked_or_about_another_member(uow, engine, billing, tmp_path, pm):
    add_sandbox(uow, tmp_path, realtime="no")
    with uow("frontdesk") as ctx:
        check = eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)
    before = coverage_row(engine, billing.coverage_id)
    active = [Benefit("1", "active coverage", ("30",))]
    other = EligibilityAnswer(check.trace, "ACME1", "ZZ999999999", False, True, benefits=active)
    stray = EligibilityAnswer("E999999999", "ACME1", "ZZ999999998", False, True, benefits=active)
    data = _answer_file([other, stray])
    with uow("biller") as ctx:
        outcome = eligibility.import_answers(ctx, name="271-stray.x12", data=data)
    assert (outcome.applied, outcome.unmatched) == (1, 1)
    with Session(engine) as s:
        done = s.get(EligibilityCheck, check.id)
        assert done.status == "failed"
        assert "different member" in done.message
        [ack] = s.exec(select(Acknowledgment).where(Acknowledgment.kind == "271")).all()
        assert (ack.reference, ack.status, ack.matched) == ("E999999999", "unmatched", False)
    assert coverage_row(engine, billing.coverage_id) == before


def _answer_file(answers) -> bytes:
    inquiries = [
        EligibilityInquiry(a.trace, "1999999999", "ACME", "ACME1", "CLINIC", "1245319599",
                           Person("TESTPATIENT", "TESTA", member_id=a.member_id), DOS)
        for a in answers
    ]  # fmt: skip
    return write_271(
        answers, inquiries=inquiries, sender_id="SANDBOXCH", receiver_id="PRACTICE01",
        control=77, created=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    ).encode("ascii")  # fmt: skip


def test_the_sweep_checks_every_appointment_of_the_day(uow, engine, practice, tmp_path):
    booked = make_booked(uow, practice)
    add_sandbox(uow, tmp_path)
    with uow("admin") as ctx:
        for i, patient_id in enumerate(booked.patient_ids[:2]):
            coverages.add_coverage(
                ctx, patient_id=patient_id, payer_id=practice.payer_ids[0],
                member_id=f"SBX55000{i}1", effective_date="2025-01-01",
            )  # fmt: skip
    with uow("frontdesk") as ctx:
        a = booked.book(ctx, starts_at=at(TUESDAY, "09:00"), patient=0)
        b = booked.book(ctx, starts_at=at(TUESDAY, "10:00"), patient=1)
        booked.book(ctx, starts_at=at(TUESDAY, "11:00"), patient=2)  # self-pay: nothing to ask
    with uow("frontdesk") as ctx:
        result = eligibility.sweep(ctx, day=TUESDAY)
    assert result.appointments == 3
    assert sorted(c.appointment_id for c in result.checks) == [a.id, b.id]
    assert all(c.status in ("active", "inactive") for c in result.checks)


def test_an_auditor_may_not_check(uow, billing):
    with uow("auditor") as ctx, pytest.raises(PermissionDenied):
        eligibility.check_coverage(ctx, coverage_id=billing.coverage_id)


def test_an_inactive_member_is_answered_inactive_with_the_end_of_coverage(
    uow, engine, practice, billing, tmp_path
):
    add_sandbox(uow, tmp_path)
    inquiry = EligibilityInquiry("T", "1", "P", "ACME1", "C", "1", Person("A", "B"), DOS)
    member = next(
        m for m in (f"INACT{n:05d}" for n in range(500))
        if answer_inquiry(replace(inquiry, subscriber=Person("A", "B", member_id=m)), "1").active
        is False
    )  # fmt: skip
    with uow("admin") as ctx:
        cov = coverages.add_coverage(
            ctx, patient_id=billing.self_pay_id, payer_id=practice.payer_ids[1],
            member_id=member, effective_date="2025-01-01",
        )  # fmt: skip
    with uow("frontdesk") as ctx:
        check = eligibility.check_coverage(ctx, coverage_id=cov.id)
    assert (check.status, check.active) == ("inactive", False)
    assert check.coverage_to == DOS - timedelta(days=1)
    assert check.plan_name is None and check.copay_cents is None


def test_an_unreadable_271_from_a_poll_is_kept_marked_failed(uow, engine, billing, tmp_path):
    from pms_core.models import InboundFile

    answer = EligibilityAnswer("E000000001", "ACME1", "ZZ1", False, True,
                               benefits=[Benefit("1", "active coverage", ("30",))])  # fmt: skip
    good = _answer_file([answer]).decode()
    broken = good.replace("SE*", "SE*9", 1).encode()  # the set's segment count is wrong
    with uow("biller") as ctx:
        outcome = eligibility.import_answers(ctx, name="271-broken.x12", data=broken)
    assert outcome.status == "failed" and "SE01" in outcome.message
    with Session(engine) as s:
        kept = s.get(InboundFile, outcome.inbound_file_id)
        assert (kept.kind, kept.status, kept.content) == ("271", "failed", broken)
