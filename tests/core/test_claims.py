"""Claims: building from posted charges, splitting, scrubbing, corrections,
voids and the claim's history, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from pms_core.errors import Conflict, PermissionDenied, ValidationError
from pms_core.models import Claim, ClaimEvent, ClaimFinding, ClaimLine, Coverage
from pms_core.services import charges, claims
from tests.billing_helpers import setup_billing, visit


@pytest.fixture
def billing(uow, practice):
    return setup_billing(uow, practice)


def build(uow, **kw):
    with uow("biller") as ctx:
        return claims.build_claims(ctx, **kw)


def scrub(uow, ids=None):
    with uow("biller") as ctx:
        return claims.scrub_claims(ctx, claim_ids=ids)


def history(engine, claim_id) -> list[tuple[str | None, str]]:
    with Session(engine) as s:
        return [
            (e.from_status, e.to_status)
            for e in s.exec(
                select(ClaimEvent).where(ClaimEvent.claim_id == claim_id).order_by(ClaimEvent.id)
            )
        ]


def test_a_claim_bills_an_encounters_posted_charges_to_the_primary_coverage(
    engine, uow, practice, billing
):
    visit(
        uow,
        practice,
        billing.patient_id,
        lines=(("99213", (), (1, 2)), ("36415", (), 2)),
        diagnoses=("E11.9", "I10", "R51.9"),
    )
    (claim,) = build(uow).claims
    assert (claim.coverage_id, claim.payer_id, claim.status) == (
        billing.coverage_id,
        billing.payer_id,
        "draft",
    )
    assert claim.total_cents == 14000 and claim.claim_number == f"{claim.id:08d}"
    with uow("biller") as ctx:
        detail = claims.get_claim(ctx, claim_id=claim.id)
    # R51.9 is pointed at by no charge, so the claim lists only what its lines use
    assert detail.view.diagnoses == ("E119", "I10")
    assert [line.diagnosis_pointers for line in detail.view.lines] == [(1, 2), (2,)]
    assert detail.view.patient is None  # the patient is the subscriber
    assert detail.view.subscriber.relationship == "18"
    assert history(engine, claim.id) == [("", "draft")]
    assert build(uow).claims == []  # nothing left to bill


def test_a_dependent_is_billed_under_the_subscriber(uow, practice, billing):
    visit(uow, practice, billing.dependent_id)
    (claim,) = build(uow).claims
    with uow("biller") as ctx:
        view = claims.get_claim(ctx, claim_id=claim.id).view
    assert view.patient is not None and view.patient.name.first == "Testkid"
    assert view.subscriber.member.name.first == "Testana"
    assert view.subscriber.relationship == "19"


def test_self_pay_charges_get_no_claim(uow, practice, billing):
    visit(uow, practice, billing.self_pay_id)
    result = build(uow)
    assert result.claims == [] and len(result.self_pay_charges) == 1


def test_more_than_fifty_lines_split_into_two_claims(engine, uow, practice, billing):
    lines = tuple(("97110", (), 1) for _ in range(53))
    enc = visit(uow, practice, billing.patient_id, lines=lines)
    built = build(uow, encounter_ids=[enc]).claims
    with Session(engine) as s:
        counts = [
            len(s.exec(select(ClaimLine).where(ClaimLine.claim_id == c.id)).all()) for c in built
        ]
    assert counts == [50, 3]
    assert sum(c.total_cents for c in built) == 53 * 4800


def test_a_clean_claim_scrubs_ready_and_a_broken_one_lists_what_to_fix(
    engine, uow, practice, billing
):
    visit(uow, practice, billing.patient_id)
    visit(uow, practice, billing.dependent_id)
    good, kid = build(uow).claims
    # break the dependent's subscriber data behind the services' back
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE coverage SET subscriber_dob = NULL, member_id = '' WHERE id = :id"),
            {"id": kid.coverage_id},
        )
    outcomes = {o.claim_id: o for o in scrub(uow)}
    assert outcomes[good.id].status == "ready" and outcomes[good.id].findings == []
    bad = outcomes[kid.id]
    assert bad.status == "scrubbed"
    assert "subscriber.member_id" in {f.field for f in bad.findings}
    with Session(engine) as s:
        stored = s.exec(select(ClaimFinding).where(ClaimFinding.claim_id == kid.id)).all()
        row = s.get(Claim, kid.id)
    assert {f.field for f in stored} == {f.field for f in bad.findings}
    assert row.error_count >= 1
    assert all("ACM1002" not in f.message for f in stored)  # no member ids in messages
    # fixed, scrubbed again: the findings are replaced, the claim is ready
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE coverage SET subscriber_dob = '1980-04-12', member_id = 'ACM9' WHERE id = :id"
            ),
            {"id": kid.coverage_id},
        )
    assert [o.status for o in scrub(uow, [kid.id])] == ["ready"]
    assert history(engine, kid.id) == [("", "draft"), ("draft", "scrubbed"), ("scrubbed", "ready")]


def test_the_same_visit_billed_twice_is_flagged_as_a_duplicate(uow, practice, billing):
    visit(uow, practice, billing.patient_id)
    visit(uow, practice, billing.patient_id)
    first, second = build(uow).claims
    outcomes = {o.claim_id: o for o in scrub(uow)}
    (dupe,) = [f for f in outcomes[second.id].findings if f.code == "DUPLICATE_CLAIM"]
    assert str(first.id) in dupe.message


def _sent(engine, claim_id, payer_number="PAYER123"):
    """Pretend the claim went out and the payer acknowledged it."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE claim SET status = 'acknowledged', payer_claim_number = :n WHERE id = :id"
            ),
            {"id": claim_id, "n": payer_number},
        )


def test_a_correction_replaces_the_claim_with_the_encounters_current_charges(
    engine, uow, practice, billing
):
    enc = visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 1)))
    (original,) = build(uow).claims
    with uow("biller") as ctx, pytest.raises(Conflict, match="does not have it"):
        claims.correct_claim(ctx, claim_id=original.id)
    _sent(engine, original.id)
    with Session(engine) as s:
        lab = s.exec(
            select(ClaimLine.charge_id).where(
                ClaimLine.claim_id == original.id, ClaimLine.line_number == 2
            )
        ).one()
    with uow("biller") as ctx:
        charges.void_charge(ctx, charge_id=lab, reason="not performed")
        (corrected,) = claims.correct_claim(ctx, claim_id=original.id, reason="lab not done")
    assert (corrected.frequency, corrected.payer_claim_number) == ("7", "PAYER123")
    assert corrected.total_cents == 12500 and corrected.encounter_id == enc
    with Session(engine) as s:
        assert s.get(Claim, original.id).status == "replaced"
    with uow("biller") as ctx:
        assert claims.get_claim(ctx, claim_id=corrected.id).view.payer_claim_number == "PAYER123"
    assert build(uow).claims == []  # the corrected claim carries the charge now


def test_a_correction_needs_the_payers_claim_number(engine, uow, practice, billing):
    visit(uow, practice, billing.patient_id)
    (original,) = build(uow).claims
    _sent(engine, original.id, payer_number=None)
    with uow("biller") as ctx, pytest.raises(ValidationError, match="payer_claim_number"):
        claims.correct_claim(ctx, claim_id=original.id)
    with uow("biller") as ctx:
        (corrected,) = claims.correct_claim(ctx, claim_id=original.id, payer_claim_number="X77")
    assert corrected.payer_claim_number == "X77"


def test_a_void_repeats_the_original_lines_and_voids_it(engine, uow, practice, billing):
    visit(uow, practice, billing.patient_id)
    (original,) = build(uow).claims
    _sent(engine, original.id)
    with uow("biller") as ctx:
        void = claims.void_claim(ctx, claim_id=original.id, reason="wrong patient")
    assert (void.frequency, void.total_cents, void.payer_claim_number) == (
        "8",
        original.total_cents,
        "PAYER123",
    )
    with Session(engine) as s:
        assert s.get(Claim, original.id).status == "voided"
    with uow("biller") as ctx, pytest.raises(Conflict, match="itself a void"):
        claims.void_claim(ctx, claim_id=void.id)
    # The charge is still posted and billed by no live claim: the next build bills it again.
    assert len(build(uow).claims) == 1


def test_an_unsent_claim_can_be_discarded_and_rebuilt(engine, uow, practice, billing):
    visit(uow, practice, billing.patient_id)
    (claim,) = build(uow).claims
    with uow("biller") as ctx:
        claims.discard_claim(ctx, claim_id=claim.id, reason="coverage was wrong")
    (again,) = build(uow).claims
    assert again.id != claim.id
    _sent(engine, again.id)
    with uow("biller") as ctx, pytest.raises(Conflict, match="only an unsent claim"):
        claims.discard_claim(ctx, claim_id=again.id)


def test_worklists_count_and_list_claims_by_status(engine, uow, practice, billing):
    visit(uow, practice, billing.patient_id)
    visit(uow, practice, billing.dependent_id)
    first, second = build(uow).claims
    scrub(uow)
    with engine.begin() as conn:
        conn.execute(text("UPDATE claim SET status = 'rejected' WHERE id = :id"), {"id": second.id})
    with uow("manager") as ctx:
        counts = claims.worklist_counts(ctx)
        ready = claims.list_claims(ctx, worklist="ready")
        rejected = claims.list_claims(ctx, worklist="rejected")
    assert (counts["ready"], counts["rejected"], counts["draft"]) == (1, 1, 0)
    assert [r.id for r in ready] == [first.id] and [r.id for r in rejected] == [second.id]
    assert rejected[0].patient_name == "Claimwell, Testkid"
    with uow("manager") as ctx, pytest.raises(PermissionDenied, match="claims:write"):
        claims.build_claims(ctx)


def test_claim_history_is_append_only(engine, uow, practice, billing):
    visit(uow, practice, billing.patient_id)
    build(uow)
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017 (the database refuses)
        conn.execute(text("UPDATE claim_event SET reason = 'edited'"))
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017
        conn.execute(text("DELETE FROM claim_event"))


def test_a_claim_for_a_coverage_on_the_date_of_service_only(engine, uow, practice, billing):
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE coverage SET termination_date = '2026-01-31' WHERE id = :id"),
            {"id": billing.coverage_id},
        )
    visit(uow, practice, billing.patient_id)  # 2026-02-20: after the coverage ended
    with Session(engine) as s:
        assert s.get(Coverage, billing.coverage_id).termination_date is not None
    result = build(uow)
    assert result.claims == [] and len(result.self_pay_charges) == 1
