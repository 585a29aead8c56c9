"""The revenue cycle against the sandbox payer, on SQLite and PostgreSQL:
claims submitted, acknowledged (999, 277CA), adjudicated days later (835)
and posted, secondary claims sent and paid; then the books are checked, and
pyx12 judges everything the sandbox sent."""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import timedelta

from pms_x12.validate import validate_text
from sqlalchemy import func
from sqlmodel import Session, select

from pms_core import ledger
from pms_core.models import (
    Claim,
    InboundFile,
    JournalEntry,
    Posting,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceLine,
)
from pms_core.services import claims, coverages, eligibility, submission
from tests.billing_helpers import register, setup_billing, visit

WAITING = {"submitted", "accepted", "acknowledged"}


def add_sandbox(uow, tmp_path) -> None:
    with uow("admin") as ctx:
        submission.add_clearinghouse(
            ctx, name="Sandbox", transport="sandbox",
            settings={"folder": str(tmp_path / "sandbox"), "seed": "7"},
            sender_id="PRACTICE01", receiver_id="SANDBOXCH", receiver_name="Sandbox",
            contact_name="Billing Office", contact_phone="2175550100", default=True,
        )  # fmt: skip


def submit_ready(uow) -> None:
    with uow("biller") as ctx:
        claims.scrub_claims(ctx)
        submission.submit_claims(ctx)


def poll(uow):
    with uow("biller") as ctx:
        return submission.poll_clearinghouse(ctx)


def days_pass(uow, clock, coverage_id: int, days: int) -> None:
    """Time passes; a question dated today moves the sandbox's calendar on."""
    clock.advance(timedelta(days=days))
    with uow("frontdesk") as ctx:
        eligibility.check_coverage(ctx, coverage_id=coverage_id)


def counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (
            s.exec(select(func.count()).select_from(JournalEntry)).one(),
            s.exec(select(func.count()).select_from(Posting)).one(),
        )


def test_claims_go_round_the_cycle_and_the_books_balance(uow, engine, practice, clock, tmp_path):
    billing = setup_billing(uow, practice)
    with uow("admin") as ctx:  # a patient with a secondary payer too
        both = register(ctx, "Testboth", "Twopayers", "1961-07-09")
        primary = coverages.add_coverage(
            ctx, patient_id=both, payer_id=practice.payer_ids[0], member_id="ACM55501",
            effective_date="2025-01-01",
        )  # fmt: skip
        coverages.add_coverage(
            ctx, patient_id=both, payer_id=practice.payer_ids[1], member_id="LKS77702",
            effective_date="2025-01-01", priority=2,
        )  # fmt: skip
    add_sandbox(uow, tmp_path)
    for patient in (billing.patient_id, billing.dependent_id, both, both, billing.patient_id):
        visit(uow, practice, patient, lines=(("99213", (), 1), ("36415", (), 1)))
    with uow("biller") as ctx:
        built = claims.build_claims(ctx).claims
    submit_ready(uow)
    kinds = sorted(o.kind for o in poll(uow))
    assert kinds == ["277CA", "999"]

    days_pass(uow, clock, primary.id, 10)
    outcomes = poll(uow)
    assert [o.kind for o in outcomes] == ["835"] and outcomes[0].status == "posted"
    submit_ready(uow)  # the secondary claims the primary's remittance called for
    poll(uow)
    days_pass(uow, clock, primary.id, 10)
    poll(uow)

    before = counts(engine)
    assert poll(uow) == []  # polling again changes nothing
    assert counts(engine) == before

    # everything the sandbox sent back passes pyx12 (it has maps for these)
    with Session(engine) as s:
        received = list(s.exec(select(InboundFile).where(
            InboundFile.kind.in_(("999", "277CA", "835")))))  # fmt: skip
    assert {f.kind for f in received} == {"999", "277CA", "835"}
    for f in received:
        text = zlib.decompress(f.content) if f.compressed else f.content
        report = validate_text(text)
        assert report.findings == [], (f.kind, [str(x) for x in report.findings])

    with Session(engine) as s:
        all_claims = list(s.exec(select(Claim)))
        statuses = {c.id: c.status for c in all_claims}
        # no claim is lost: each one was answered
        assert {c.id for c in built} <= set(statuses)
        assert not WAITING & set(statuses.values()), statuses
        secondaries = [c for c in all_claims if c.prior_claim_id is not None]
        assert secondaries, "the patient with two payers got a secondary claim"

        # every claim payment: charge = paid + adjustments (patient share included)
        for rc in s.exec(select(RemittanceClaim)):
            lines = list(s.exec(select(RemittanceLine).where(
                RemittanceLine.remittance_claim_id == rc.id)))  # fmt: skip
            adjusted = sum(a.amount_cents for a in s.exec(select(RemittanceAdjustment).where(
                RemittanceAdjustment.remittance_claim_id == rc.id)))  # fmt: skip
            assert rc.charge_cents == rc.paid_cents + adjusted, rc.claim_number
            assert sum(ln.charge_cents for ln in lines) == rc.charge_cents

        # the ledger balances, and each patient's balance is the sum of their postings
        assert s.exec(select(func.sum(Posting.amount_cents))).one() == 0
        by_patient = defaultdict(int)
        for p in s.exec(select(Posting).where(Posting.account.in_(("ar:patient",)))):
            by_patient[p.patient_id] += p.amount_cents
        for patient_id, cents in by_patient.items():
            assert ledger.patient_balance(s, practice.id, patient_id).patient.cents == cents
        # what the payers still owe is only what they denied or have not paid yet
        for c in all_claims:
            owed = s.exec(select(func.coalesce(func.sum(Posting.amount_cents), 0)).where(
                Posting.account == "ar:insurance", Posting.coverage_id == c.coverage_id,
                Posting.charge_id.in_(select(RemittanceLine.charge_id).join(
                    RemittanceClaim).where(RemittanceClaim.claim_id == c.id)),
            )).one()  # fmt: skip
            if c.status == "paid":
                assert owed == 0, (c.claim_number, owed)
