"""The denial worklist and its four actions, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from pms_core import ledger
from pms_core.errors import PermissionDenied
from pms_core.ledger import Account
from pms_core.models import Claim
from pms_core.services import claims, denials, remittance
from pms_core.services import ledger as ledger_service
from tests.billing_helpers import DOS, setup_billing, visit
from tests.x12_remits import PaidClaim, PaidLine, era_835


@pytest.fixture
def denied(uow, practice):
    """A visit (99213 $125, 36415 $15) whose lab line the payer denied (CO-50, N130)."""
    billing = setup_billing(uow, practice)
    visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 1)))
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
    paid = PaidClaim(claim.claim_number, "140.00", "100.00", lines=[
        PaidLine("99213", "125.00", "100.00", adjustments=[("CO", "45", "25.00")]),
        PaidLine("36415", "15.00", "0.00", adjustments=[("CO", "50", "15.00")],
                 remarks=("N130",))])  # fmt: skip
    with uow("biller") as ctx:
        assert remittance.import_era(ctx, name="r.835", source=era_835([paid])).status == "posted"
    return claim


def worklist(uow, role="biller", **kw):
    with uow(role) as ctx:
        return denials.list_denials(ctx, **kw)


def insurance_open(engine, practice) -> int:
    with Session(engine) as s:
        return ledger.balance(s, practice.id, account=Account.AR_INSURANCE).cents


def test_a_denied_line_is_listed_by_payer_and_reason_in_words(uow, practice, denied):
    (group,) = worklist(uow)
    assert (group.payer_name, group.reason, group.open_cents) == ("Acme Health Plan", "CO-50", 1500)
    assert group.words == "contractual obligation: not deemed medically necessary"
    (d,) = group.denials
    assert (d.claim_id, d.code, d.open_cents, d.service_date) == (denied.id, "36415", 1500, DOS)
    assert d.remarks == [("N130", "see the plan's benefit documents for coverage limits")]
    assert d.timely_deadline > DOS and d.appealed is None
    assert worklist(uow, reason="50") and worklist(uow, reason="CO-45") == []
    assert worklist(uow, payer_id=practice.payer_ids[1]) == []


def test_writing_off_needs_the_permission_and_a_reason(engine, uow, practice, denied):
    (d,) = worklist(uow)[0].denials
    with pytest.raises(PermissionDenied), uow("biller") as ctx:
        denials.write_off(ctx, remittance_claim_id=d.remittance_claim_id, charge_id=d.charge_id,
                          reason="small")  # fmt: skip
    with pytest.raises(denials.ValidationError), uow("manager") as ctx:
        denials.write_off(ctx, remittance_claim_id=d.remittance_claim_id, charge_id=d.charge_id,
                          reason="  ")  # fmt: skip
    with uow("manager") as ctx:
        denials.write_off(ctx, remittance_claim_id=d.remittance_claim_id, charge_id=d.charge_id,
                          reason="lab not covered; not worth an appeal")  # fmt: skip
    assert worklist(uow) == []
    assert insurance_open(engine, practice) == 0
    with Session(engine) as s:
        assert ledger.balance(s, practice.id, account=Account.ADJ_WRITE_OFF).cents == 1500


def test_moving_a_denial_to_the_patient(engine, uow, practice, denied):
    (d,) = worklist(uow)[0].denials
    with uow("biller") as ctx:
        denials.transfer_to_patient(ctx, remittance_claim_id=d.remittance_claim_id,
                                    charge_id=d.charge_id, note="non-covered lab, signed ABN")  # fmt: skip
        lines = ledger_service.ledger_lines(ctx, claim_id=denied.id)
    assert worklist(uow) == []
    with Session(engine) as s:
        assert ledger.balance(s, practice.id, account=Account.AR_PATIENT).cents == 1500
    why = [ln.reason_words for ln in lines if ln.account == "ar:patient"]
    assert why == ["denial moved to the patient (contractual obligation: not deemed medically "
                   "necessary)"]  # fmt: skip


def test_an_appeal_keeps_the_denial_on_the_list_marked(uow, denied, clock):
    (d,) = worklist(uow)[0].denials
    with uow("biller") as ctx:
        denials.appeal(ctx, remittance_claim_id=d.remittance_claim_id, charge_id=d.charge_id,
                       note="medical records sent")  # fmt: skip
    (again,) = worklist(uow)[0].denials
    assert again.appealed == date(2026, 3, 2)


def test_resubmitting_corrects_the_claim_and_leaves_the_balance_with_the_payer(
    engine, uow, practice, denied
):
    (d,) = worklist(uow)[0].denials
    with uow("biller") as ctx:
        _, built = denials.resubmit(ctx, remittance_claim_id=d.remittance_claim_id,
                                    charge_id=d.charge_id, note="added modifier 91")  # fmt: skip
    assert worklist(uow) == []
    assert insurance_open(engine, practice) == 1500
    with Session(engine) as s:
        assert s.get(Claim, denied.id).status == "replaced"
        assert s.get(Claim, built[0].id).frequency == "7"


def test_a_claim_denied_whole_lists_each_charge(uow, practice):
    billing = setup_billing(uow, practice)
    visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 1)))
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx).claims
    whole = PaidClaim(claim.claim_number, "140.00", "0.00", status="4",
                      adjustments=[("CO", "29", "140.00")])  # fmt: skip
    with uow("biller") as ctx:
        remittance.import_era(ctx, name="d.835", source=era_835([whole]))
    (group,) = worklist(uow)
    assert group.reason == "CO-29" and "timely filing" in group.words
    assert sorted(d.code for d in group.denials) == ["36415", "99213"]
    assert group.open_cents == 14000
