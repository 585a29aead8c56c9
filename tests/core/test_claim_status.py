"""Claim status (276/277) through the sandbox payer, on SQLite and PostgreSQL:
which claims are due a question, realtime and batch answers, rejections that
move a claim, answers nobody asked for, and the follow-up worklist."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pms_x12.claimstatus import write_277
from sqlmodel import Session, select

from pms_core.edi import ClaimStatus
from pms_core.eligdata import Person, StatusAnswer, StatusInquiry, StatusRequest
from pms_core.errors import Conflict
from pms_core.models import Acknowledgment, Claim, ClaimEvent, ClaimStatusCheck
from pms_core.services import claim_status, claims, submission
from tests.billing_helpers import setup_billing, visit

TODAY = date(2026, 3, 2)  # the test clock
LATER = TODAY + timedelta(days=31)  # past the default 30 inquiry days


def add_sandbox(uow, tmp_path, **settings) -> int:
    with uow("admin") as ctx:
        return submission.add_clearinghouse(
            ctx, name="Sandbox", transport="sandbox",
            settings={"folder": str(tmp_path / "sandbox"), **settings},
            sender_id="PRACTICE01", receiver_id="SANDBOXCH", receiver_name="Sandbox",
            contact_name="Billing Office", contact_phone="2175550100", default=True,
        ).id  # fmt: skip


def submitted_claim(uow, engine, practice, tmp_path, **settings) -> Claim:
    billing = setup_billing(uow, practice)
    add_sandbox(uow, tmp_path, **settings)
    visit(uow, practice, billing.patient_id)
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
        claims.scrub_claims(ctx)
        (batch,) = submission.submit_claims(ctx)
    assert batch.status == "sent"
    return claim_row(engine, claim.id)


def claim_row(engine, claim_id: int) -> Claim:
    with Session(engine) as s:
        return s.get(Claim, claim_id)


def test_a_claim_is_due_after_its_payers_days_and_answered_in_real_time(
    uow, engine, practice, tmp_path, clock
):
    claim = submitted_claim(uow, engine, practice, tmp_path)
    with uow("biller") as ctx:
        assert claim_status.due_claims(ctx, as_of=TODAY + timedelta(days=29)) == []
        assert [c.id for c in claim_status.due_claims(ctx, as_of=LATER)] == [claim.id]
    clock.advance(timedelta(days=31))
    with uow("biller") as ctx:
        (check,) = claim_status.ask(ctx)
    assert (check.mode, check.status, check.category, check.code) == (
        "realtime", "answered", "P1", "20",
    )  # fmt: skip
    assert "pending" in check.message.lower()
    assert claim_row(engine, claim.id).status == "submitted"  # pending moves nothing
    with Session(engine) as s:
        reasons = [
            e.reason for e in s.exec(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id))
        ]
    assert any(r.startswith("277 claim status (P1)") for r in reasons)
    with uow("biller") as ctx:
        assert claim_status.due_claims(ctx) == []  # asked today: not again this week
        assert claim_status.due_claims(ctx, as_of=LATER + timedelta(days=7))[0].id == claim.id
        assert [k.id for k in claim_status.history(ctx, claim_id=claim.id)] == [check.id]


def test_a_claim_the_payer_never_received_lands_on_the_worklist(uow, engine, practice, tmp_path):
    claim = submitted_claim(uow, engine, practice, tmp_path)
    (tmp_path / "sandbox" / "claims-desk.json").unlink()  # the payer lost it
    with uow("biller") as ctx:
        (check,) = claim_status.ask(ctx, claim_ids=[claim.id])
        (row,) = claim_status.followup_worklist(ctx, as_of=LATER)
    assert (check.category, check.code) == ("A4", "35")
    assert "not found" in check.message.lower()
    assert (row.claim_id, row.days_waiting, row.inquiry_days) == (claim.id, 31, 30)
    assert row.last_answer.startswith("answered: ") and "not found" in row.last_answer.lower()
    assert row.timely_filing_deadline == claim.service_to + timedelta(days=365)


def test_batch_questions_are_answered_by_the_next_poll_once(uow, engine, practice, tmp_path):
    claim = submitted_claim(uow, engine, practice, tmp_path, realtime="no")
    with uow("biller") as ctx:
        (check,) = claim_status.ask(ctx, claim_ids=[claim.id])
    assert (check.mode, check.status) == ("batch", "pending")
    with uow("biller") as ctx:
        outcomes = submission.poll_clearinghouse(ctx)
    kinds = sorted((o.kind, o.status) for o in outcomes)  # with the 837's 999 and 277CA
    assert kinds == [("277", "processed"), ("277CA", "processed"), ("999", "processed")]
    with Session(engine) as s:
        assert s.get(ClaimStatusCheck, check.id).category == "P1"
    with uow("biller") as ctx:
        assert submission.poll_clearinghouse(ctx) == []


def _answer_file(inquiries, statuses) -> bytes:
    request = StatusRequest("SANDBOX PAYER", "SANDBOX1", "CLINIC", "PRACTICE01", "CLINIC",
                            "1245319599", tuple(inquiries))  # fmt: skip
    answers = [StatusAnswer(q.trace, q.claim_number, statuses=[s]) for q, s in zip(
        inquiries, statuses, strict=True)]  # fmt: skip
    return write_277(answers, request=request, sender_id="SANDBOXCH", receiver_id="PRACTICE01",
                     control=9, created=datetime(2026, 4, 2, tzinfo=UTC)).encode("ascii")  # fmt: skip


def test_a_rejection_moves_the_claim_and_a_stranger_goes_unmatched(uow, engine, practice, tmp_path):
    claim = submitted_claim(uow, engine, practice, tmp_path, realtime="no")
    with uow("biller") as ctx:
        (check,) = claim_status.ask(ctx, claim_ids=[claim.id])
    someone = Person("TESTPATIENT", "TESTA", member_id="XZ0000001")
    ours = StatusInquiry(check.trace, claim.claim_number, someone, claim.total_cents,
                         claim.service_from, claim.service_to)  # fmt: skip
    stranger = StatusInquiry("S999999999", "99999999", someone, 1000, TODAY, TODAY)
    data = _answer_file(
        [ours, stranger],
        [
            ClaimStatus("A7", "164", "IL", "rejected", TODAY),
            ClaimStatus("P1", "20", "PR", "", TODAY),
        ],
    )
    with uow("biller") as ctx:
        outcome = claim_status.import_answers(ctx, name="277-test.x12", data=data)
    assert (outcome.applied, outcome.unmatched) == (1, 1)
    assert claim_row(engine, claim.id).status == "rejected"
    with Session(engine) as s:
        done = s.get(ClaimStatusCheck, check.id)
        assert (done.status, done.category, done.code) == ("answered", "A7", "164")
        [ack] = s.exec(select(Acknowledgment).where(Acknowledgment.kind == "277")).all()
        assert (ack.reference, ack.status) == ("99999999", "unmatched")
    with uow("biller") as ctx:  # a rejected claim is not waiting on the payer any more
        assert claim_status.followup_worklist(ctx, as_of=LATER) == []


def test_only_claims_waiting_on_the_payer_can_be_asked_about(uow, practice, tmp_path):
    billing = setup_billing(uow, practice)
    add_sandbox(uow, tmp_path)
    visit(uow, practice, billing.patient_id)
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
        with pytest.raises(Conflict, match="is draft"):
            claim_status.ask(ctx, claim_ids=[claim.id])
