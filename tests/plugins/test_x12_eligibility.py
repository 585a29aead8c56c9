"""The 270 writer and 271 reader (005010X279A1): every public sample, a round
trip of our own inquiries, benefits in words, and broken input."""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pms_x12.eligibility import read_270, read_271, write_270
from pms_x12.segments import X12Stream

from pms_core.edi import X12Error
from pms_core.eligdata import EligibilityInquiry, Person

SAMPLES = Path(
    os.environ.get(
        "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
    )
)
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no samples at {SAMPLES}")


def sample(folder: str, name: str) -> bytes:
    return (SAMPLES / folder / name).read_bytes()


@needs_samples
def test_the_subscriber_sample_is_active_with_its_plan_dates_and_copays():
    (a,) = read_271(sample("271", "lfh__demo.271"))
    assert (a.active, a.plan_name, a.coverage_from, a.dependent) == (
        True, "GOLD 123 PLAN", date(2006, 1, 1), False,
    )  # fmt: skip
    assert (a.trace, a.payer_id, a.member_id) == ("93175-012547", "841610001", "123456789")
    assert a.copay_cents("98") == 1000 and a.copay_cents("98", in_network=False) == 3000
    assert [b.kind for b in a.benefits][:2] == ["active coverage", "primary care provider"]


@needs_samples
def test_the_dependent_sample_answers_for_the_dependent():
    (a,) = read_271(sample("271", "lfh__dependent-health-benefit-check.271"))
    assert a.dependent and a.active and a.member_id == "123456789"


@needs_samples
def test_the_error_sample_is_refused_for_its_envelope_and_read_when_mended():
    data = sample("271", "lfh__subscriber-health-benefit-check-error.271")
    with pytest.raises(X12Error, match="SE02 4323 does not match ST02 4321"):
        read_271(data)  # a defect of the sample: its SE02 is not its ST02
    (a,) = read_271(data.replace(b"SE*8*4323", b"SE*8*4321"))
    (r,) = a.rejections
    assert (r.loop, r.code, r.reason, r.action) == (
        "provider", "50", "provider ineligible for inquiries", "resubmission not allowed",
    )  # fmt: skip
    assert a.active is None


@needs_samples
@pytest.mark.parametrize(
    "name, member, dependent",
    [("lfh__demo.270", "11122333301", None), ("lfh__dependent-health-benefit-check.270",
                                              "11122333301", ("SMITH", "MARY", date(1978, 10, 14)))],
)  # fmt: skip
def test_the_270_samples_read_back(name, member, dependent):
    (q,) = read_270(sample("270", name))
    assert q.subscriber.member_id == member and q.service_types == ("30",)
    assert q.service_date == date(2006, 5, 1)
    got = q.dependent and (q.dependent.last_name, q.dependent.first_name, q.dependent.birth_date)
    assert got == dependent


INQUIRY = EligibilityInquiry(
    trace="ELG-42-7",
    originator="1364512987",
    payer_name="Acme Health Plan",
    payer_id="ACME1",
    provider_name="Maple Family Medicine",
    provider_npi="1234567893",
    subscriber=Person("Claimwell", "Testana", date(1980, 4, 12), "F", "ACM100200300"),
    service_date=date(2026, 3, 2),
    service_types=("30", "98"),
)


@pytest.mark.parametrize("dependent", [None, Person("Claimwell", "Testkid", date(2015, 6, 1), "M")])
def test_our_inquiries_are_well_formed_and_read_back_the_same(dependent):
    inquiry = EligibilityInquiry(**{**INQUIRY.__dict__, "dependent": dependent})
    text = write_270(inquiry, sender_id="PRACTICE01", receiver_id="CLEARHOUSE", control=17,
                     created=datetime(2026, 3, 1, 18, 5))  # fmt: skip
    assert [s.id for s in X12Stream(text)][-1] == "IEA"  # the envelope checks pass
    assert "EQ*30^98" in text and "DTP*291*D8*20260302" in text
    (back,) = read_270(text)
    assert back.subscriber.member_id == "ACM100200300"
    assert (back.trace, back.service_date, back.service_types) == ("ELG-42-7", date(2026, 3, 2),
                                                                  ("30", "98"))  # fmt: skip
    if dependent is None:
        assert back.dependent is None and back.subscriber.birth_date == date(1980, 4, 12)
    else:
        assert (back.dependent.first_name, back.dependent.birth_date) == ("TESTKID",
                                                                          date(2015, 6, 1))  # fmt: skip


def answer_271(*eb: str, extra: tuple[str, ...] = ()) -> str:
    body = [
        "ST*271*0001*005010X279A1", "BHT*0022*11*ELG-42-7*20260302*0900", "HL*1**20*1",
        "NM1*PR*2*ACME HEALTH PLAN*****PI*ACME1", "HL*2*1*21*1",
        "NM1*1P*2*MAPLE FAMILY MEDICINE*****XX*1234567893", "HL*3*2*22*0",
        "TRN*2*ELG-42-7*1364512987", "NM1*IL*1*CLAIMWELL*TESTANA****MI*ACM100200300",
        "DMG*D8*19800412*F", "DTP*346*D8*20250101", *extra, *eb,
    ]  # fmt: skip
    body.append(f"SE*{len(body) + 1}*0001")
    return "~".join([
        "ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*PRACTICE01     *260302*0900*^*"
        "00501*000000005*0*P*:", "GS*HB*CLEARHOUSE*PRACTICE01*20260302*0900*5*X*005010X279A1",
        *body, "GE*1*5", "IEA*1*000000005", ""])  # fmt: skip


def test_deductibles_coinsurance_and_out_of_pocket_in_and_out_of_network():
    (a,) = read_271(answer_271(
        "EB*1*IND*30**SILVER PPO",
        "EB*C*IND*30***23*1500.00*****Y", "EB*C*IND*30***29*600.00*****Y",
        "EB*C*IND*30***23*3000.00*****N",
        "EB*A*IND*98*****0.20****Y", "EB*B*IND*98***27*25.00****Y",
        "EB*G*IND*30***23*6000.00*****Y", "EB*G*IND*30***29*4200.00*****Y",
        "MSG*COPAY WAIVED FOR PREVENTIVE VISITS",
    ))  # fmt: skip
    assert (a.active, a.plan_name, a.coverage_from) == (True, "SILVER PPO", date(2025, 1, 1))
    assert a.deductible_cents() == 150000 and a.deductible_cents(remaining=True) == 60000
    assert a.deductible_cents(in_network=False) == 300000
    assert a.coinsurance("98") == Decimal("0.20") and a.copay_cents("98") == 2500
    assert a.out_of_pocket_cents(remaining=True) == 420000
    assert a.benefits[-1].messages == ("COPAY WAIVED FOR PREVENTIVE VISITS",)


def test_an_inactive_answer_and_a_subscriber_rejection():
    (inactive,) = read_271(answer_271("EB*6**30", extra=("DTP*347*D8*20251231",)))
    assert inactive.active is False and inactive.coverage_to == date(2025, 12, 31)
    (rejected,) = read_271(answer_271(extra=("AAA*Y**72*C",)))
    (r,) = rejected.rejections
    assert (r.loop, r.reason, r.action) == (
        "subscriber", "invalid or missing subscriber/insured id", "correct and resubmit",
    )  # fmt: skip


@pytest.mark.parametrize(
    "broken, expected",
    [
        ("EB*B*IND*98***27*25.005", "(EB): EB07 has fractions of a cent"),
        ("EB*A*IND*98*****0.2O", "(EB): EB08 is not a number"),
        ("EB**IND*98", "(EB): EB01 is missing"),
    ],
)
def test_a_broken_benefit_names_the_segment_and_element_not_the_value(broken, expected):
    with pytest.raises(X12Error) as caught:
        read_271(answer_271(broken))
    assert expected in str(caught.value)
    assert "CLAIMWELL" not in str(caught.value) and "ACM100200300" not in str(caught.value)


def test_a_270_is_not_read_as_a_271():
    text = write_270(INQUIRY, sender_id="A", receiver_id="B", control=1,
                     created=datetime(2026, 3, 1, 9, 0))  # fmt: skip
    with pytest.raises(X12Error, match="not a 271"):
        read_271(text)
