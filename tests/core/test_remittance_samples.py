"""Every public sample 835 imports with its outcome. The practice takes the
sample's payee identity (so the file is ours); the managed-care sample's two
claims are billed first, so that file is matched and posted line by line."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pms_core import ledger
from pms_core.ledger import Account
from pms_core.models import Claim, Practice, RemittanceClaim
from pms_core.services import claims, coverages, fees, remittance
from tests.billing_helpers import register, visit

SAMPLES = (
    Path(
        os.environ.get(
            "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
        )
    )
    / "835"
)
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no samples at {SAMPLES}")


def be_the_payee(engine, *, npi: str | None = None, tin: str | None = None) -> None:
    """Give the practice the sample payee's identifiers (written directly: the
    samples' identifiers are not real NPIs or EINs)."""
    with Session(engine) as s:
        practice = s.exec(select(Practice)).one()
        practice.group_npi = npi or practice.group_npi
        practice.tin = tin or practice.tin
        s.add(practice)
        s.commit()


def run(uow, name: str):
    with uow("biller") as ctx:
        return remittance.import_era(ctx, name=name, source=(SAMPLES / name).read_bytes())


def totals(engine, practice) -> dict[Account, int]:
    with Session(engine) as s:
        found = ledger.account_balances(s, practice.id)
    return {a: m.cents for a, m in found.items() if m.cents}


@pytest.mark.parametrize(
    "name, payee, claims_unmatched, cash, other",
    [
        ("lfh__cob-contractural-adjustment.835", {"tin": "3UR334563"}, 1, 3400, {}),
        ("lfh__secondary-payment.835", {"tin": "599944521"}, 2, 122200, {}),
        # PLB CV (capital passthrough) -1.27 adds to the payment
        ("lfh__demo.835", {"npi": "6543210903"}, 2, 15000000, {Account.ADJ_PROVIDER: -127}),
    ],
)
def test_a_sample_for_claims_we_never_billed_posts_to_unapplied_cash(
    engine, uow, practice, name, payee, claims_unmatched, cash, other
):
    be_the_payee(engine, **payee)
    outcome = run(uow, name)
    assert outcome.status == "posted", outcome
    (s,) = outcome.sets
    assert s.balanced and (s.matched, s.unmatched) == (0, claims_unmatched)
    assert totals(engine, practice) == {
        Account.CASH: cash,
        Account.UNAPPLIED: -(cash + sum(other.values())),
        **other,
    }
    with uow("biller") as ctx:
        assert len(remittance.list_unmatched(ctx)) == claims_unmatched


def test_the_managed_care_sample_matches_our_claims_and_posts_by_line(engine, uow, practice):
    be_the_payee(engine, npi="5544667733", tin="777667755")
    with uow("admin") as ctx:
        fees.import_fee_schedule(
            ctx,
            rows=[{"code": "99211", "amount": "800.00"}, {"code": "93555", "amount": "1200.00"}],
        )
        patient_id = register(ctx, "Testbudd", "Sampleton", "1960-02-02")
        coverages.add_coverage(
            ctx, patient_id=patient_id, payer_id=practice.payer_ids[0],
            member_id="33344555510", effective_date="2001-01-01",
        )  # fmt: skip
    for code, day in (("99211", date(2002, 3, 1)), ("93555", date(2002, 3, 10))):
        visit(uow, practice, patient_id, lines=((code, (), 1),), on=day)
    with uow("biller") as ctx:
        built = claims.build_claims(ctx).claims
    with Session(engine) as s:  # our claim numbers become the ones the sample quotes
        for claim, number in zip(
            sorted(built, key=lambda c: c.encounter_id), ("5554555444", "8765432112"), strict=True
        ):
            row = s.get(Claim, claim.id)
            row.claim_number = number
            s.add(row)
        s.commit()
    outcome = run(uow, "lfh__managed-care.835")
    assert outcome.status == "posted", outcome
    (s,) = outcome.sets
    assert (s.matched, s.unmatched, s.paid_cents, s.patient_resp_cents) == (2, 0, 94500, 90000)
    assert "BPR16 is not a valid date" in s.message  # the sample's BPR16 is 2000-23-16
    assert totals(engine, practice) == {
        Account.CASH: 94500,
        Account.AR_PATIENT: 90000,  # deductibles of 300.00 and 600.00
        Account.ADJ_CONTRACTUAL: 15500,  # CO-A2 50.00 and 55.00 (claim), CO-45 50.00 (line)
        Account.CHARGES: -200000,
    }
    with Session(engine) as s:
        assert {c.status for c in s.exec(select(Claim))} == {"paid"}
        assert {r.match_method for r in s.exec(select(RemittanceClaim))} == {"claim_number"}
