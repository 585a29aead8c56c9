"""835 remittances: balanced before posting, matched to our claims, posted to
the ledger exactly once, atomically per transaction set. Both databases."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from pms_core import ledger
from pms_core.errors import Conflict, PermissionDenied
from pms_core.ledger import Account
from pms_core.models import (
    Claim,
    ClaimEvent,
    ClaimLine,
    JournalEntry,
    Posting,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from pms_core.services import claims, remittance
from tests.billing_helpers import setup_billing, visit
from tests.x12_remits import PaidClaim, PaidLine, era_835, transaction_set


@pytest.fixture
def billing(uow, practice):
    return setup_billing(uow, practice)


@pytest.fixture
def claim(uow, practice, billing):
    """A built claim for a visit with 99213 ($125.00) and 36415 ($15.00)."""
    visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 2)))
    with uow("biller") as ctx:
        built = claims.build_claims(ctx).claims
    return built[0]


def charge_ids(engine, claim_id: int) -> list[int]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(ClaimLine.charge_id)
                .where(ClaimLine.claim_id == claim_id)
                .order_by(ClaimLine.line_number)
            )
        )


def paid_in_full_ish(claim: Claim, ids: list[int], **kw) -> PaidClaim:
    """99213: paid 80.00, CO-45 25.00, PR-2 20.00; 36415: paid 9.00, CO-45 6.00."""
    return PaidClaim(
        claim.claim_number,
        "140.00",
        "89.00",
        patient_resp="20.00",
        lines=[
            PaidLine("99213", "125.00", "80.00", adjustments=[("CO", "45", "25.00"),
                     ("PR", "2", "20.00")], control=str(ids[0])),
            PaidLine("36415", "15.00", "9.00", adjustments=[("CO", "45", "6.00")],
                     control=str(ids[1])),
        ],
        **kw,
    )  # fmt: skip


def run(uow, data: bytes, *, dry_run=False, name="remit.835", role="biller"):
    with uow(role) as ctx:
        return remittance.import_era(ctx, name=name, source=data, dry_run=dry_run)


def balances(engine, practice, **filters) -> dict[Account, int]:
    with Session(engine) as s:
        totals = ledger.account_balances(s, practice.id, **filters)
    return {acct: money.cents for acct, money in totals.items() if money.cents}


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def claim_status(engine, claim_id: int) -> str:
    with Session(engine) as s:
        return s.get(Claim, claim_id).status


def test_a_primary_remittance_posts_payment_adjustments_and_patient_share(
    engine, uow, practice, billing, claim
):
    ids = charge_ids(engine, claim.id)
    outcome = run(uow, era_835([paid_in_full_ish(claim, ids)]))
    assert outcome.status == "posted", outcome
    (s,) = outcome.sets
    assert (s.claims, s.matched, s.unmatched) == (1, 1, 0)
    assert (s.paid_cents, s.adjusted_cents, s.patient_resp_cents) == (8900, 3100, 2000)
    patient = balances(engine, practice, patient_id=billing.patient_id)
    assert patient[Account.AR_PATIENT] == 2000
    assert Account.AR_INSURANCE not in patient  # the payer owes nothing more
    everything = balances(engine, practice)
    assert everything[Account.CASH] == 8900
    assert everything[Account.ADJ_CONTRACTUAL] == 3100
    assert sum(everything.values()) == 0
    with Session(engine) as s:
        stored = s.get(Claim, claim.id)
        assert stored.status == "paid"
        assert stored.payer_claim_number == "PCN-0001"
        reasons = {
            (p.charge_id, p.account, p.reason, p.amount_cents)
            for p in s.exec(select(Posting).where(Posting.reason.is_not(None)))
        }
        event = s.exec(select(ClaimEvent).where(ClaimEvent.to_status == "paid")).one()
    assert (ids[0], "ar:patient", "PR-2", 2000) in reasons
    assert (ids[0], "adjustment:contractual", "CO-45", 2500) in reasons
    assert (ids[1], "cash", "paid", 900) in reasons
    assert "paid 89.00" in event.reason


def test_the_same_era_twice_adds_nothing(engine, uow, practice, claim):
    data = era_835([paid_in_full_ish(claim, charge_ids(engine, claim.id))])
    assert run(uow, data).status == "posted"
    before = balances(engine, practice)
    again = run(uow, data)
    assert again.status == "duplicate" and "already imported" in again.message
    # The same payment in another interchange (a payer resending it) is a duplicate set.
    resent = run(uow, era_835([paid_in_full_ish(claim, charge_ids(engine, claim.id))],
                              interchange=999))  # fmt: skip
    assert resent.status == "duplicate"
    assert "posted before" in resent.sets[0].message
    assert balances(engine, practice) == before
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(JournalEntry)).one() == 2  # charge, payment


def test_a_dry_run_shows_each_posting_and_writes_nothing(engine, uow, practice, claim):
    ids = charge_ids(engine, claim.id)
    before = (
        count(engine, JournalEntry),
        count(engine, Remittance),
        count(engine, RemittanceClaim),
    )
    outcome = run(uow, era_835([paid_in_full_ish(claim, ids)]), dry_run=True)
    assert outcome.dry_run and outcome.status == "posted"
    postings = outcome.sets[0].postings
    assert sum(p.amount_cents for p in postings) == 0
    assert sum(p.amount_cents for p in postings if p.account == "cash") == 8900
    assert {(p.charge_id, p.reason) for p in postings if p.account == "ar:patient"} == {
        (ids[0], "PR-2")
    }
    after = (count(engine, JournalEntry), count(engine, Remittance), count(engine, RemittanceClaim))
    assert after == before
    assert claim_status(engine, claim.id) == "draft"
    assert run(uow, era_835([paid_in_full_ish(claim, ids)])).status == "posted"  # not a duplicate


def test_a_set_that_does_not_balance_is_held_with_the_difference(engine, uow, practice, claim):
    paid = paid_in_full_ish(claim, charge_ids(engine, claim.id))
    paid.paid = "88.00"  # CLP03 140.00 - 51.00 = 89.00
    outcome = run(uow, era_835([paid], payment="88.00"))
    assert outcome.status == "held"
    message = outcome.sets[0].message
    assert "CLP04 is 88.00 (difference 1.00)" in message and "segment" in message
    assert Account.CASH not in balances(engine, practice)
    with Session(engine) as s:
        held = s.exec(select(Remittance)).one()
    assert held.status == "held" and count(engine, RemittanceClaim) == 0
    # The whole set must balance too: BPR02 against the claim payments and PLB.
    wrong_total = run(uow, era_835([paid_in_full_ish(claim, charge_ids(engine, claim.id))],
                                   payment="90.00", trace="EFT0002"))  # fmt: skip
    assert wrong_total.status == "held"
    assert "BPR02 is 90.00 (difference -1.00)" in wrong_total.sets[0].message


def test_an_unknown_claim_waits_in_unapplied_cash_until_matched_by_hand(
    engine, uow, practice, billing, claim
):
    ids = charge_ids(engine, claim.id)
    stranger = paid_in_full_ish(claim, ids, payer_claim_number="PCN-UNKNOWN", member_id="NOPE1")
    stranger.claim_number = "99999999"
    for line in stranger.lines:
        line.control = None
    outcome = run(uow, era_835([stranger]))
    assert outcome.status == "posted" and outcome.sets[0].unmatched == 1
    assert balances(engine, practice)[Account.UNAPPLIED] == -8900
    with uow("biller") as ctx:
        (waiting,) = remittance.list_unmatched(ctx)
    assert "no claim with this claim number" in waiting.unmatched_reason
    with uow("biller") as ctx:
        remittance.match_claim(ctx, remittance_claim_id=waiting.id, claim_id=claim.id)
    after = balances(engine, practice)
    assert Account.UNAPPLIED not in after
    assert after[Account.CASH] == 8900 and after[Account.AR_PATIENT] == 2000
    assert claim_status(engine, claim.id) == "paid"
    with uow("biller") as ctx:
        assert remittance.list_unmatched(ctx) == []
        with pytest.raises(Conflict):
            remittance.match_claim(ctx, remittance_claim_id=waiting.id, claim_id=claim.id)


def test_claims_match_by_payer_claim_number_then_by_patient_date_and_amount(
    engine, uow, practice, billing, claim
):
    ids = charge_ids(engine, claim.id)
    by_member = paid_in_full_ish(claim, ids, payer_claim_number="PCN-NEW")
    by_member.claim_number = "LOST-1"
    outcome = run(uow, era_835([by_member]))
    with Session(engine) as s:
        row = s.exec(select(RemittanceClaim)).one()
    assert (row.claim_id, row.match_method) == (claim.id, "patient_date_amount")
    assert outcome.sets[0].matched == 1
    # The payer's claim number is now known: a reversal quoting only it finds the claim.
    reversal = PaidClaim("LOST-2", "-140.00", "-89.00", status="22", payer_claim_number="PCN-NEW",
                         member_id="OTHER", lines=[
                             PaidLine("99213", "-125.00", "-80.00", control=str(ids[0]),
                                      adjustments=[("CO", "45", "-25.00"), ("PR", "2", "-20.00")]),
                             PaidLine("36415", "-15.00", "-9.00", control=str(ids[1]),
                                      adjustments=[("CO", "45", "-6.00")])])  # fmt: skip
    run(uow, era_835([reversal], trace="EFT-REV"))
    with Session(engine) as s:
        methods = [
            r.match_method for r in s.exec(select(RemittanceClaim).order_by(RemittanceClaim.id))
        ]
    assert methods == ["patient_date_amount", "payer_claim_number"]
    assert balances(engine, practice) == {Account.AR_INSURANCE: 14000, Account.CHARGES: -14000}
    assert claim_status(engine, claim.id) == "acknowledged"


def test_a_reversal_and_its_corrected_payment_net_to_the_new_figures(
    engine, uow, practice, billing, claim
):
    ids = charge_ids(engine, claim.id)
    run(uow, era_835([paid_in_full_ish(claim, ids)]))
    reversal = PaidClaim(claim.claim_number, "-140.00", "-89.00", status="22", lines=[
        PaidLine("99213", "-125.00", "-80.00", control=str(ids[0]),
                 adjustments=[("CO", "45", "-25.00"), ("PR", "2", "-20.00")]),
        PaidLine("36415", "-15.00", "-9.00", control=str(ids[1]),
                 adjustments=[("CO", "45", "-6.00")])])  # fmt: skip
    corrected = PaidClaim(claim.claim_number, "140.00", "99.00", lines=[
        PaidLine("99213", "125.00", "90.00", control=str(ids[0]),
                 adjustments=[("CO", "45", "25.00"), ("PR", "3", "10.00")]),
        PaidLine("36415", "15.00", "9.00", control=str(ids[1]),
                 adjustments=[("CO", "45", "6.00")])])  # fmt: skip
    outcome = run(uow, era_835([reversal, corrected], trace="EFT-CORR"))
    assert outcome.status == "posted" and outcome.sets[0].payment_cents == 1000
    everything = balances(engine, practice)
    assert everything[Account.CASH] == 9900
    assert everything[Account.AR_PATIENT] == 1000
    assert everything[Account.ADJ_CONTRACTUAL] == 3100
    assert Account.AR_INSURANCE not in everything
    assert claim_status(engine, claim.id) == "paid"


def test_a_dropped_modifier_and_a_changed_code_still_match_their_lines(
    engine, uow, practice, billing
):
    visit(uow, practice, billing.patient_id, lines=(("99214", ("25",), 1), ("93000", (), 2)))
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
    ids = charge_ids(engine, claim.id)
    paid = PaidClaim(claim.claim_number, "240.00", "150.00", lines=[
        PaidLine("99214", "185.00", "120.00", adjustments=[("CO", "45", "65.00")]),  # 25 dropped
        PaidLine("93005", "55.00", "30.00", original="93000",
                 adjustments=[("CO", "45", "25.00")]),  # paid as another code
    ])  # fmt: skip
    assert run(uow, era_835([paid])).sets[0].matched == 1
    with Session(engine) as s:
        matched = {ln.procedure: ln.charge_id for ln in s.exec(select(RemittanceLine))}
    assert matched == {"99214": ids[0], "93005": ids[1]}


def test_a_denied_line_keeps_its_balance_with_the_payer(engine, uow, practice, billing, claim):
    ids = charge_ids(engine, claim.id)
    paid = PaidClaim(claim.claim_number, "140.00", "80.00", lines=[
        PaidLine("99213", "125.00", "80.00", control=str(ids[0]),
                 adjustments=[("CO", "45", "45.00")]),
        PaidLine("36415", "15.00", "0.00", control=str(ids[1]),
                 adjustments=[("CO", "50", "15.00")], remarks=("N130",)),
    ])  # fmt: skip
    outcome = run(uow, era_835([paid]))
    assert outcome.status == "posted"
    with Session(engine) as s:
        insurance = ledger.balance(s, practice.id, account=Account.AR_INSURANCE)
        denied = s.exec(select(RemittanceLine).where(RemittanceLine.denied)).one()
    assert insurance.cents == 1500  # the denied lab line, for the denial worklist
    assert denied.charge_id == ids[1] and denied.remarks == "N130"
    assert claim_status(engine, claim.id) == "partially_paid"


def test_claim_level_adjustments_are_shared_over_the_lines_to_the_cent(
    engine, uow, practice, billing, claim
):
    ids = charge_ids(engine, claim.id)
    # No service lines (as institutional remits often are): CLP04 and the claim's
    # CAS are spread over our lines by their charges (125 : 15).
    paid = PaidClaim(claim.claim_number, "140.00", "100.00",
                     adjustments=[("CO", "45", "30.01"), ("PR", "1", "9.99")])  # fmt: skip
    assert run(uow, era_835([paid])).status == "posted"
    with Session(engine) as s:
        rows = s.exec(select(Posting.charge_id, Posting.account, Posting.amount_cents)
                      .where(Posting.reason.is_not(None))).all()  # fmt: skip
    per_charge = {cid: sum(a for c, acct, a in rows if c == cid and acct == "ar:insurance")
                  for cid in ids}  # fmt: skip
    assert per_charge == {ids[0]: -12500, ids[1]: -1500}
    assert sum(a for _, acct, a in rows if acct == "cash") == 10000
    assert sum(a for _, acct, a in rows if acct == "adjustment:contractual") == 3001
    assert sum(a for _, acct, a in rows if acct == "ar:patient") == 999


def test_provider_level_adjustments_post_to_practice_accounts(engine, uow, practice, claim):
    data = era_835(
        [paid_in_full_ish(claim, charge_ids(engine, claim.id))],
        plb=[("L6:INTEREST", "-1.50"), ("WO:CLAIM-77", "10.00")],
    )
    outcome = run(uow, data)
    assert outcome.status == "posted"
    (s,) = outcome.sets
    assert (s.plb_cents, s.payment_cents) == (850, 8050)
    everything = balances(engine, practice)
    assert everything[Account.CASH] == 8050
    assert everything[Account.INTEREST] == -150
    assert everything[Account.PAYER_OFFSETS] == 1000


def test_an_era_for_another_payee_is_rejected(engine, uow, practice, claim):
    data = era_835([paid_in_full_ish(claim, charge_ids(engine, claim.id))], payee_npi="1999999984")
    outcome = run(uow, data)
    assert outcome.status == "rejected"
    assert "another payee" in outcome.sets[0].message
    assert Account.CASH not in balances(engine, practice)


def test_a_malformed_set_is_rejected_alone(engine, uow, practice, claim):
    ids = charge_ids(engine, claim.id)
    good = transaction_set([paid_in_full_ish(claim, ids)], control="0001", trace="EFT-A")
    bad = transaction_set([paid_in_full_ish(claim, ids)], control="0002", trace="EFT-B")
    bad = [s.replace("CAS*CO*45*6.00", "CAS*CO*45*6.005") for s in bad]
    outcome = run(uow, era_835(sets=[good, bad]))
    assert [s.status for s in outcome.sets] == ["posted", "rejected"]
    assert outcome.status == "mixed"
    message = outcome.sets[1].message
    assert "(CAS): CAS03 has fractions of a cent" in message and "segment" in message
    assert balances(engine, practice)[Account.CASH] == 8900  # the good set only


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda t: t.replace("IEA*1*000000301", "IEA*1*000000302"), "IEA02"),
        (lambda t: t[: t.index("SE*")], "truncated"),
    ],
)
def test_an_envelope_error_or_a_truncated_file_posts_nothing(
    engine, uow, practice, claim, damage, expected
):
    text = era_835([paid_in_full_ish(claim, charge_ids(engine, claim.id))]).decode()
    outcome = run(uow, damage(text).encode())
    assert outcome.status == "rejected"
    assert expected in outcome.message and "nothing in the file was posted" in outcome.message
    for secret in ("CLAIMWELL", "TESTANA", "ACM100200300"):
        assert secret not in outcome.message
    assert Account.CASH not in balances(engine, practice)
    assert count(engine, Remittance) == 0
    again = run(uow, damage(text).encode())  # the same broken file again
    assert again.status == "duplicate" and "(failed)" in again.message


def test_a_posting_interrupted_midway_leaves_nothing(engine, uow, practice, billing, monkeypatch):
    for _ in range(3):
        visit(uow, practice, billing.patient_id)
    with uow("biller") as ctx:
        built = claims.build_claims(ctx).claims
    assert len(built) == 3
    paid = [
        PaidClaim(c.claim_number, "125.00", "100.00", adjustments=[("CO", "45", "25.00")])
        for c in built
    ]
    monkeypatch.setattr(remittance, "CHUNK", 1)  # each claim posts on its own
    real = remittance._move_claims
    calls = []

    def crash_on_the_third(ctx, moves, inbound_id):
        calls.append(moves)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        real(ctx, moves, inbound_id)

    monkeypatch.setattr(remittance, "_move_claims", crash_on_the_third)
    with pytest.raises(RuntimeError):
        run(uow, era_835(paid))
    assert len(calls) == 3  # two claims had been posted when it stopped
    assert Account.CASH not in balances(engine, practice)
    assert count(engine, Remittance) == count(engine, RemittanceClaim) == 0
    monkeypatch.setattr(remittance, "_move_claims", real)
    assert run(uow, era_835(paid)).status == "posted"  # and it posts cleanly afterwards
    assert balances(engine, practice)[Account.CASH] == 30000


def test_not_an_835_is_refused_and_a_frontdesk_user_may_not_post(engine, uow, practice):
    with pytest.raises(remittance.RemittanceError, match="not a remittance"), uow("biller") as ctx:
        remittance.import_era(ctx, name="notes.txt", source=b"hello")
    with pytest.raises(PermissionDenied), uow("frontdesk") as ctx:
        remittance.import_era(ctx, name="x.835", source=era_835([]))


# --- secondary claims -------------------------------------------------------------------
def test_the_primary_remittance_bills_the_secondary_which_then_pays(
    engine, uow, practice, billing, claim, tmp_path
):
    """The patient's share after the primary goes to the secondary payer (not the
    patient); the secondary claim is built with the primary's adjudication and
    passes pyx12; the secondary's remittance leaves the patient their own share."""
    from pms_core.services import coverages, submission

    with uow("admin") as ctx:
        coverages.add_coverage(
            ctx, patient_id=billing.patient_id, payer_id=practice.payer_ids[1],
            member_id="LKS55500011", effective_date="2025-01-01", priority=2,
        )  # fmt: skip
        folders = {n: tmp_path / n for n in ("outbox", "inbox")}
        for folder in folders.values():
            folder.mkdir()
        submission.add_clearinghouse(
            ctx, name="Test Exchange", transport="directory",
            settings={k: str(v) for k, v in folders.items()}, sender_id="PRACTICE01",
            receiver_id="CLEARHOUSE", receiver_name="Test Exchange",
            contact_name="Billing Office", contact_phone="2175550100", default=True,
        )  # fmt: skip
    ids = charge_ids(engine, claim.id)
    outcome = run(uow, era_835([paid_in_full_ish(claim, ids)]))
    assert outcome.sets[0].followup_claims == 1
    patient = balances(engine, practice, patient_id=billing.patient_id)
    assert Account.AR_PATIENT not in patient  # not the patient's yet
    with Session(engine) as s:
        secondary = s.exec(select(Claim).where(Claim.prior_claim_id == claim.id)).one()
        owed = ledger.balance(s, practice.id, account=Account.AR_INSURANCE,
                              coverage_id=secondary.coverage_id)  # fmt: skip
    assert owed.cents == 2000 and secondary.payer_id == practice.payer_ids[1]
    assert secondary.status == "draft"  # scrubbed and sent with the other claims
    with uow("biller") as ctx:
        (scrubbed,) = claims.scrub_claims(ctx, claim_ids=[secondary.id])
        assert scrubbed.status == "ready", scrubbed.findings
        (batch,) = submission.submit_claims(ctx, claim_ids=[secondary.id])
    assert batch.status == "sent", batch.problems
    sent = (folders["outbox"] / batch.file_name).read_text()
    assert "SBR*S*18" in sent and "SBR*P*18" in sent  # our payer is second, the primary first
    assert "AMT*D*89~" in sent and "SVD*ACME1*80*HC:99213" in sent and "CAS*PR*2*20~" in sent

    second_paid = PaidClaim(secondary.claim_number, "140.00", "15.00", status="2",
                            payer_claim_number="LKS-77", member_id="LKS55500011",
                            adjustments=[("OA", "23", "120.00"), ("PR", "1", "5.00")])  # fmt: skip
    assert run(uow, era_835([second_paid], trace="EFT-SEC", payer_id="LKSD2")).status == "posted"
    patient = balances(engine, practice, patient_id=billing.patient_id)
    assert patient == {Account.AR_PATIENT: 500, Account.CASH: 10400, Account.CHARGES: -14000,
                       Account.ADJ_CONTRACTUAL: 3100}  # fmt: skip
    assert claim_status(engine, secondary.id) == "paid"
