"""The 270 and 271 writers and readers (005010X279A1): every public sample, a
round trip of our own inquiries, benefits in words, broken input, and the
sandbox payer's 271s read back as they were written."""

from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pms_x12.eligibility import (
    ELIGIBILITY,
    FOLLOW_UP,
    REJECT_REASONS,
    read_270,
    read_271,
    write_270,
    write_271,
)
from pms_x12.segments import X12Stream

from pms_core.edi import X12Error
from pms_core.eligdata import Benefit, EligibilityAnswer, EligibilityInquiry, Person, Rejection

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


# --- the 271 writer (the sandbox payer's side) ------------------------------------------
SUBSCRIBER = Person("Testpatient", "Ann", date(1980, 4, 12), "F", "XZ0000001")
KID = Person("Testpatient", "Tim", date(2015, 6, 1), "M")
ASKED = EligibilityInquiry(
    trace="E000000007", originator="1999999999", payer_name="Sandbox Health Plan",
    payer_id="SBX01", provider_name="Maple Family Medicine", provider_npi="1234567893",
    subscriber=SUBSCRIBER, service_date=date(2026, 3, 2), service_types=("30", "98"),
)  # fmt: skip
PHI = ("TESTPATIENT", "Testpatient", "XZ0000001", "1980")


def benefit(code: str, types: tuple[str, ...] = ("30",), **kw) -> Benefit:
    return Benefit(code, ELIGIBILITY[code], types, **kw)


def rejection(loop: str, code: str, action: str) -> Rejection:
    return Rejection(loop, code, REJECT_REASONS[code], action, FOLLOW_UP[action])


def answer(inquiry: EligibilityInquiry = ASKED, **kw) -> EligibilityAnswer:
    """An answer to `inquiry` with its trace, payer and member ids (as read back)."""
    fields = dict(trace=inquiry.trace, payer_id=inquiry.payer_id,
                  member_id=inquiry.subscriber.member_id, dependent=False)  # fmt: skip
    return EligibilityAnswer(**{**fields, **kw})


def round_trip(answers, inquiries) -> tuple[str, list[EligibilityAnswer]]:
    text = write_271(answers, inquiries=inquiries, sender_id="SANDBOX", receiver_id="PRACTICE01",
                     control=21, created=datetime(2026, 3, 2, 9, 30))  # fmt: skip
    assert [s.id for s in X12Stream(text)][-1] == "IEA"  # envelope, SE/GE/IEA counts
    read = [dataclasses.replace(a, rejections=[dataclasses.replace(r, position=None)
                                               for r in a.rejections]) for a in read_271(text)]  # fmt: skip
    return text, read


FULL = answer(
    active=True, plan_name="SILVER PPO", coverage_from=date(2026, 1, 1),
    coverage_to=date(2026, 12, 31),
    benefits=[
        benefit("1", ("30", "98"), coverage_level="IND", plan_name="SILVER PPO"),
        benefit("C", coverage_level="IND", period="calendar year", amount_cents=150000,
                in_network=True),
        benefit("C", coverage_level="IND", period="remaining", amount_cents=60001,
                in_network=True),
        benefit("C", coverage_level="IND", period="calendar year", amount_cents=300000,
                in_network=False),
        benefit("A", ("98",), coverage_level="IND", percent=Decimal("0.20"), in_network=True),
        benefit("B", ("98",), coverage_level="IND", period="visit", amount_cents=2500,
                in_network=True, messages=("COPAY WAIVED FOR PREVENTIVE VISITS",)),
        benefit("G", coverage_level="IND", period="calendar year", amount_cents=600000,
                in_network=True),
        benefit("G", coverage_level="IND", period="remaining", amount_cents=420050,
                in_network=True),
    ],
)  # fmt: skip


def test_a_subscriber_answer_to_our_own_270_reads_back_as_written():
    sent = write_270(ASKED, sender_id="PRACTICE01", receiver_id="SANDBOX", control=20,
                     created=datetime(2026, 3, 2, 9, 0))  # fmt: skip
    inquiries = read_270(sent)  # what the sandbox payer sees
    text, (back,) = round_trip([FULL], inquiries)
    assert back == FULL
    assert (back.active, back.plan_name, back.coverage_to) == (True, "SILVER PPO",
                                                               date(2026, 12, 31))  # fmt: skip
    assert back.deductible_cents() == 150000 and back.deductible_cents(remaining=True) == 60001
    assert back.deductible_cents(in_network=False) == 300000
    assert back.out_of_pocket_cents() == 600000
    assert back.out_of_pocket_cents(remaining=True) == 420050
    assert back.coinsurance("98") == Decimal("0.2") and back.copay_cents("98") == 2500
    segments = text.split("~")
    for expected in (
        "BHT*0022*11*E000000007*20260302*0930", "TRN*2*E000000007*1999999999",
        "NM1*IL*1*TESTPATIENT*ANN****MI*XZ0000001", "DTP*346*D8*20260101",
        "DTP*347*D8*20261231", "EB*1*IND*30^98**SILVER PPO", "EB*C*IND*30***29*600.01*****Y",
        "EB*C*IND*30***23*3000*****N", "EB*A*IND*98*****0.20****Y",
        "MSG*COPAY WAIVED FOR PREVENTIVE VISITS",
    ):  # fmt: skip
        assert expected in segments


def test_a_dependent_answer_reads_back_as_one_answer_about_the_dependent():
    asked = dataclasses.replace(ASKED, dependent=KID)
    written = answer(asked, dependent=True, active=True, plan_name="FAMILY HMO",
                     coverage_from=date(2025, 7, 1),
                     benefits=[benefit("1", plan_name="FAMILY HMO", coverage_level="FAM")])  # fmt: skip
    text, (back,) = round_trip([written], [asked])
    assert back == written and back.member_id == "XZ0000001"  # the subscriber's id
    assert "HL*3*2*22*1~NM1*IL*1*TESTPATIENT*ANN****MI*XZ0000001~DMG*D8*19800412*F~" \
           "HL*4*3*23*0~TRN*2*E000000007*1999999999~NM1*03*1*TESTPATIENT*TIM~" in text  # fmt: skip


def test_inactive_coverage_reads_back_inactive_with_its_end_date():
    written = answer(active=False, coverage_from=date(2024, 1, 1), coverage_to=date(2025, 12, 31),
                     benefits=[benefit("6", plan_name="BRONZE EPO")])  # fmt: skip
    text, (back,) = round_trip([written], [ASKED])
    assert back == written and back.active is False and back.plan_name is None
    assert "EB*6**30**BRONZE EPO" in text


@pytest.mark.parametrize("dependent", [None, KID])
def test_an_invalid_member_id_is_rejected_at_the_subscriber_level(dependent):
    asked = dataclasses.replace(ASKED, dependent=dependent)
    written = answer(asked, rejections=[rejection("subscriber", "72", "C")])
    text, (back,) = round_trip([written], [asked])
    assert back == written and back.active is None and not back.dependent
    assert "MI*XZ0000001~AAA*N**72*C~DMG*D8*19800412*F~" in text  # no dependent loop
    (r,) = back.rejections
    assert (r.reason, r.action) == ("invalid or missing subscriber/insured id",
                                    "correct and resubmit")  # fmt: skip


@pytest.mark.parametrize("dependent", [None, KID])
def test_unable_to_respond_now_is_rejected_at_the_payer_level_and_keeps_the_trace(dependent):
    asked = dataclasses.replace(ASKED, dependent=dependent)
    written = answer(asked, dependent=dependent is not None,
                     rejections=[rejection("payer", "42", "R")])  # fmt: skip
    text, (back,) = round_trip([written], [asked])
    assert back == written and back.trace == "E000000007"  # still one answer, with its trace
    assert "NM1*PR*2*SANDBOX HEALTH PLAN*****PI*SBX01~AAA*Y**42*R~HL*2*1*21*1" in text


def test_several_inquiries_of_one_270_are_answered_in_one_271():
    other = Person("Testpatient", "Bea", date(1975, 2, 3), "F", "XZ0000002")
    asked = [
        ASKED,
        dataclasses.replace(ASKED, trace="E000000008", subscriber=other, dependent=KID),
        dataclasses.replace(ASKED, trace="E000000009", subscriber=dataclasses.replace(
            other, member_id="XZ0000003")),
        dataclasses.replace(ASKED, trace="E000000010", provider_name="Oak Street Clinic",
                            provider_npi="1245319599"),
        dataclasses.replace(ASKED, trace="E000000011"),
    ]  # fmt: skip
    written = [
        FULL,
        answer(asked[1], member_id="XZ0000002", dependent=True, active=False,
               benefits=[benefit("6")]),
        answer(asked[2], member_id="XZ0000003", rejections=[rejection("subscriber", "75", "C")]),
        answer(asked[3], rejections=[rejection("provider", "51", "C")]),
        answer(asked[4], active=True, benefits=[benefit("1")]),
    ]  # fmt: skip
    text, back = round_trip(written, asked)
    assert back == written  # each rejection stays with the answer it belongs to
    assert [a.trace for a in back][1:] == ["E000000008", "E000000009", "E000000010", "E000000011"]
    hls = [seg.split("*")[3] for seg in text.split("~") if seg.startswith("HL*")]
    assert hls == ["20", "21", "22", "22", "23", "22", "21", "22", "21", "22"]
    assert "NM1*1P*2*OAK STREET CLINIC*****XX*1245319599~AAA*N**51*C~" in text


def test_the_same_answers_under_one_payer_share_its_loop_and_its_rejection():
    second = dataclasses.replace(ASKED, trace="E000000008")
    written = [answer(rejections=[rejection("payer", "42", "R")]),
               answer(second, rejections=[rejection("payer", "42", "R")])]  # fmt: skip
    text, back = round_trip(written, [ASKED, second])
    assert back == written and text.count("AAA*Y**42*R") == 1 and text.count("**20*1") == 1


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(trace=None), "answer 1 has no trace (TRN02)"),
        (dict(trace="E000000999"), "answer 1 does not echo its inquiry's trace"),
        (dict(dependent=True), "answer 1 is about a dependent, but its inquiry asks about none"),
        (dict(active=True), "answer 1: active is True but its benefits say None"),
        (dict(active=True, plan_name="GOLD", benefits=[benefit("1", plan_name="SILVER")]),
         "answer 1: plan_name is not the plan (EB05)"),
        (dict(benefits=[benefit("C", period="fortnight")]), "answer 1, benefit 1: EB06"),
        (dict(benefits=[benefit("C", amount_cents=150.5)]), "answer 1, benefit 1: EB07"),
        (dict(benefits=[benefit("C", amount_cents=-100)]), "answer 1, benefit 1: EB07"),
        (dict(benefits=[benefit("A", percent=Decimal("20"))]), "answer 1, benefit 1: EB08"),
        (dict(benefits=[benefit("A", ("3*0",))]), "answer 1, benefit 1: EB03"),
        (dict(benefits=[Benefit("ZZ", "?", ("30",))]), "answer 1, benefit 1: EB01"),
        (dict(rejections=[Rejection("subscriber", "99", "?", "C", "?")]),
         "answer 1, rejection 1: AAA03"),
        (dict(rejections=[Rejection("subscriber", "72", "?", "Q", "?")]),
         "answer 1, rejection 1: AAA04"),
        (dict(rejections=[rejection("dependent", "64", "C")]),
         "answer 1, rejection 1: its loop is not payer, provider or subscriber"),
        (dict(coverage_from=date(2026, 2, 1), coverage_to=date(2026, 1, 1)),
         "answer 1: coverage_from is after coverage_to"),
    ],
)  # fmt: skip
def test_the_271_writer_refuses_nonsense_naming_the_answer_not_the_person(change, message):
    with pytest.raises(ValueError) as caught:
        write_271([answer(**change)], inquiries=[ASKED], sender_id="S", receiver_id="R",
                  control=1, created=datetime(2026, 3, 2, 9, 0))  # fmt: skip
    assert message in str(caught.value)
    assert not any(value in str(caught.value) for value in PHI)


def test_the_271_writer_wants_one_answer_per_inquiry_and_a_member_id():
    kw = dict(sender_id="S", receiver_id="R", control=1, created=datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValueError, match="2 answers for 1 inquiries"):
        write_271([answer(), answer()], inquiries=[ASKED], **kw)
    with pytest.raises(ValueError, match="at least one answer"):
        write_271([], inquiries=[], **kw)
    nobody = dataclasses.replace(ASKED, subscriber=dataclasses.replace(SUBSCRIBER, member_id=None))
    with pytest.raises(ValueError, match="answer 1 has no member id"):
        write_271([answer(nobody, member_id=None)], inquiries=[nobody], **kw)


def test_names_with_accents_are_written_in_x12s_basic_characters():
    from datetime import UTC, date, datetime

    from pms_x12.eligibility import read_270, write_270

    from pms_core.eligdata import EligibilityInquiry, Person

    inquiry = EligibilityInquiry(
        "E000000001", "1999999999", "ACME", "ACME1", "CLÍNICA", "1245319599",
        Person("MUÑOZ", "JOSÉ", date(1980, 1, 2), "M", "XZ0000001"), date(2026, 3, 2),
    )  # fmt: skip
    text = write_270(inquiry, sender_id="S", receiver_id="R", control=1,
                     created=datetime(2026, 3, 2, tzinfo=UTC))  # fmt: skip
    assert text.isascii()
    (back,) = read_270(text)
    assert (back.subscriber.last_name, back.subscriber.first_name) == ("MUNOZ", "JOSE")
