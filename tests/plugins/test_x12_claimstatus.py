"""The 276 and 277 writers and readers (005010X212): every public sample, our
own inquiries read back, statuses in words, broken input, and the sandbox
payer's 277s read back as they were written."""

from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime
from pathlib import Path

import pytest
from pms_x12.claimstatus import read_276, read_277, write_276, write_277
from pms_x12.segments import X12Stream

from pms_core.edi import ClaimStatus, X12Error
from pms_core.eligdata import Person, StatusAnswer, StatusInquiry, StatusRequest

SAMPLES = Path(
    os.environ.get(
        "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
    )
)
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no samples at {SAMPLES}")


@needs_samples
@pytest.mark.parametrize("name", ["lfh__demo.277", "lfh__claim-level-status.277"])
def test_the_lfh_277s_give_each_claim_its_status_in_words(name):
    pending, finalized, denied = read_277((SAMPLES / "277" / name).read_bytes())
    assert (pending.trace, pending.claim_number, pending.payer_claim_number) == (
        "ABCXYZ1", "SM123456", "05347006051",
    )  # fmt: skip
    assert pending.statuses[0].category == "P3" and "pending" in pending.statuses[0].message
    assert (pending.service_from, pending.service_to) == (date(2005, 8, 31), date(2005, 9, 6))
    assert (finalized.total_cents, finalized.paid_cents) == (759900, 759900)
    assert "finalized" in finalized.statuses[0].message
    (line,) = denied.lines
    assert line[0] == "99203" and line[1][0].category == "F2"
    assert "denied" in denied.statuses[0].message and "patient" in denied.statuses[0].message


@needs_samples
def test_the_ims_277_is_refused_for_its_envelope_and_read_when_mended():
    data = (SAMPLES / "277" / "ims__x12_277_x212.txt").read_bytes()
    with pytest.raises(X12Error, match="IEA02"):
        read_277(data)  # a defect of the sample: IEA02 is not its ISA13
    mended = data.replace(b"IEA*1*842928883", b"IEA*1*000000001")
    answers = read_277(mended)
    assert len(answers) >= 3 and {a.statuses[0].category for a in answers} == {"A1"}
    assert answers[0].claim_number == "12345" and answers[0].total_cents == 60000


@needs_samples
@pytest.mark.parametrize(
    "name, count", [("lfh__demo.276", 3), ("lfh__provider-level-status.276", 2)]
)
def test_the_276_samples_read_back(name, count):
    found = read_276((SAMPLES / "276" / name).read_bytes())
    assert len(found) == count
    assert (found[0].claim_number, found[0].total_cents) == ("SM123456", 851388)
    assert found[-1].dependent is not None and found[-1].dependent.first_name == "JOSEPH"


def test_our_276_is_well_formed_and_reads_back():
    request = StatusRequest(
        payer_name="Acme Health Plan", payer_id="ACME1", receiver_name="Maple Family Medicine",
        receiver_id="PRACTICE01", provider_name="Maple Family Medicine",
        provider_npi="1234567893",
        claims=(
            StatusInquiry("STS-1", "00000042", Person("Claimwell", "Testana", date(1980, 4, 12),
                          "F", "ACM100200300"), 14000, date(2026, 2, 20), date(2026, 2, 20),
                          payer_claim_number="PCN-1"),
            StatusInquiry("STS-2", "00000043", Person("Claimwell", "Testana",
                          member_id="ACM100200300"), 12550, date(2026, 2, 1), date(2026, 2, 3),
                          dependent=Person("Claimwell", "Testkid", date(2015, 6, 1), "M")),
        ),
    )  # fmt: skip
    text = write_276(request, sender_id="PRACTICE01", receiver_id="CLEARHOUSE", control=9,
                     created=datetime(2026, 3, 2, 9, 0))  # fmt: skip
    assert [s.id for s in X12Stream(text)][-1] == "IEA"
    assert "AMT*T3*125.50~" in text and "DTP*472*RD8*20260201-20260203" in text
    first, second = read_276(text)
    assert (first.trace, first.claim_number, first.payer_claim_number, first.total_cents) == (
        "STS-1", "00000042", "PCN-1", 14000,
    )  # fmt: skip
    assert second.dependent.first_name == "TESTKID" and second.service_to == date(2026, 2, 3)


@needs_samples
def test_a_broken_status_names_the_segment_and_element():
    text = (SAMPLES / "277" / "lfh__demo.277").read_text()
    with pytest.raises(X12Error) as caught:
        read_277(text.replace("STC*F0:3*20050915**7599.00*7599.00",
                              "STC*F0:3*20050915**7599.001*7599.00"))  # fmt: skip
    assert "(STC): STC04 has fractions of a cent" in str(caught.value)
    assert "JONES" not in str(caught.value)


# --- the 277 writer (the sandbox payer's side) ------------------------------------------
SUBSCRIBER = Person("Testpatient", "Ann", date(1980, 4, 12), "F", "XZ0000001")
ASKED = StatusRequest(
    payer_name="Sandbox Health Plan", payer_id="SBX01", receiver_name="Maple Family Medicine",
    receiver_id="PRACTICE01", provider_name="Maple Family Medicine", provider_npi="1234567893",
    claims=(
        StatusInquiry("S000000001", "00000042", SUBSCRIBER, 14000, date(2026, 2, 20),
                      date(2026, 2, 20), payer_claim_number="SBX-PCN-1"),
        StatusInquiry("S000000002", "00000043", SUBSCRIBER, 9000, date(2026, 2, 24),
                      date(2026, 2, 24)),
        StatusInquiry("S000000003", "00000044", SUBSCRIBER, 12550, date(2026, 2, 1),
                      date(2026, 2, 3), dependent=Person("Testpatient", "Tim", date(2015, 6, 1))),
    ),
)  # fmt: skip
PHI = ("TESTPATIENT", "Testpatient", "XZ0000001", "1980")


def status(code: str, effective: date) -> ClaimStatus:
    """ "F1:65" or "F2:88:QC" as a ClaimStatus (the words are the reader's)."""
    category, number, entity = (code.split(":") + [None, None])[:3]
    return ClaimStatus(category, number, entity, "", effective)


def plain(answer: StatusAnswer) -> tuple:
    """What a round trip keeps: every field, statuses without their words."""

    def codes(statuses):
        return [(s.category, s.code, s.entity, s.effective) for s in statuses]

    lines = [(ln[0], codes(ln[1]), ln[2]) for ln in answer.lines]
    return (answer.trace, answer.claim_number, answer.payer_claim_number,
            codes(answer.statuses), answer.total_cents, answer.paid_cents, answer.adjudicated,
            answer.check_number, answer.service_from, answer.service_to, lines)  # fmt: skip


PAID = StatusAnswer(
    "S000000001", "00000042", payer_claim_number="SBX-PCN-1",
    statuses=[status("F1:65", date(2026, 3, 1))], total_cents=14000, paid_cents=11201,
    adjudicated=date(2026, 3, 1), check_number="CHK000123", service_from=date(2026, 2, 20),
    service_to=date(2026, 2, 20),
)  # fmt: skip
PENDING = StatusAnswer("S000000002", None, statuses=[status("P1:20", date(2026, 3, 2))])
DENIED = StatusAnswer(
    "S000000003", "00000044", payer_claim_number="SBX-PCN-3",
    statuses=[status("F2:88:QC", date(2026, 3, 1)), status("F2:21", date(2026, 3, 1)),
              status("F0:3", date(2026, 3, 2))],
    total_cents=12550, paid_cents=0, adjudicated=date(2026, 3, 1),
    service_from=date(2026, 2, 1), service_to=date(2026, 2, 3),
    lines=[("99213", [status("F2:88:QC", date(2026, 3, 1))], "1", 12550, 0)],
)  # fmt: skip


def write(answers, request=ASKED) -> str:
    return write_277(answers, request=request, sender_id="SANDBOX", receiver_id="PRACTICE01",
                     control=31, created=datetime(2026, 3, 2, 10, 15))  # fmt: skip


def test_a_paid_a_pending_and_a_denied_claim_read_back_as_written():
    sent = write_276(ASKED, sender_id="PRACTICE01", receiver_id="SANDBOX", control=30,
                     created=datetime(2026, 3, 2, 9, 0))  # fmt: skip
    request = dataclasses.replace(ASKED, claims=tuple(read_276(sent)))  # what the sandbox sees
    text = write([PAID, PENDING, DENIED], request)
    assert [s.id for s in X12Stream(text)][-1] == "IEA"  # envelope, SE/GE/IEA counts
    paid, pending, denied = read_277(text)
    assert plain(paid) == plain(PAID) and plain(denied) == plain(DENIED)
    # what the pending answer left out is the claim's, as asked
    assert plain(pending) == plain(dataclasses.replace(
        PENDING, claim_number="00000043", total_cents=9000, service_from=date(2026, 2, 24),
        service_to=date(2026, 2, 24)))  # fmt: skip
    assert "finalized: paid" in paid.statuses[0].message
    assert "denied" in denied.statuses[0].message and "patient" in denied.statuses[0].message
    segments = text.split("~")
    for expected in (
        "BHT*0010*08*S000000001*20260302*1015*DG", "TRN*2*S000000001",
        "STC*F1:65*20260301**140*112.01*20260301*CHK*20260301*CHK000123", "REF*1K*SBX-PCN-1",
        "REF*EJ*00000042", "DTP*472*D8*20260220", "STC*P1:20*20260302**90",
        "STC*F2:88:QC*20260301**125.50*0*20260301****F2:21",
        "STC*F0:3*20260302**125.50*0*20260301",
        "HL*7*6*23", "NM1*QC*1*TESTPATIENT*TIM", "DTP*472*RD8*20260201-20260203",
        "SVC*HC:99213*125.50*0", "STC*F2:88:QC*20260301", "REF*FJ*1",
    ):  # fmt: skip
        assert expected in segments


def test_more_than_three_statuses_of_a_day_take_more_than_one_stc():
    day = date(2026, 3, 1)
    many = dataclasses.replace(PENDING, statuses=[status(f"P3:{c}", day) for c in (21, 33, 35, 39)])
    text = write([PAID, many, DENIED])
    assert "STC*P3:21*20260301**90******P3:33*P3:35~STC*P3:39*20260301**90~" in text
    assert plain(read_277(text)[1])[3] == [("P3", c, None, day) for c in ("21", "33", "35", "39")]


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(trace=None), "answer 2 has no trace (TRN02)"),
        (dict(trace="S000000001"), "answer 2 does not echo its claim's trace"),
        (dict(statuses=[]), "answer 2 has no status (STC)"),
        (dict(statuses=[status("P1:20", None)]), "answer 2, status 1: STC02"),
        (dict(statuses=[status("p1:20", date(2026, 3, 2))]), "answer 2, status 1: STC01-1"),
        (dict(statuses=[status("P1:2O", date(2026, 3, 2))]), "answer 2, status 1: STC01-2"),
        (dict(total_cents=90.0), "answer 2: STC04 (total) must be whole cents"),
        (dict(paid_cents=-1), "answer 2: STC05 (paid) must be whole cents"),
        (dict(check_number="CHK1"), "answer 2: a check number (STC09) needs the adjudication"),
        (dict(check_number="C" * 17, adjudicated=date(2026, 3, 2)), "1 to 16 characters"),
        (dict(service_from=date(2026, 3, 1)), "answer 2: the service dates (DTP*472) are out"),
        (dict(lines=[("99213", [status("P1:20", date(2026, 3, 2))], "1")]),
         "answer 2, line 1: a line is (code, statuses, control, charge, paid)"),
        (dict(lines=[("992*13", [status("P1:20", date(2026, 3, 2))], "1", 9000, 0)]),
         "answer 2, line 1: SVC01-2"),
        (dict(lines=[("99213", [], "1", 9000, 0)]), "answer 2, line 1 has no status"),
        (dict(lines=[("99213", [status("P1:20", date(2026, 3, 2))], "1", 9000, None)]),
         "answer 2, line 1: SVC02 and SVC03"),
    ],
)  # fmt: skip
def test_the_277_writer_refuses_nonsense_naming_the_answer_not_the_patient(change, message):
    with pytest.raises(ValueError) as caught:
        write([PAID, dataclasses.replace(PENDING, **change), DENIED])
    assert message in str(caught.value)
    assert not any(value in str(caught.value) for value in PHI)


def test_the_277_writer_wants_one_answer_per_claim_and_a_member_id():
    with pytest.raises(ValueError, match="2 answers for 3 claims"):
        write([PAID, PENDING])
    nobody = dataclasses.replace(SUBSCRIBER, member_id=None)
    request = dataclasses.replace(ASKED, claims=(dataclasses.replace(ASKED.claims[0],
                                                                     subscriber=nobody),))  # fmt: skip
    with pytest.raises(ValueError, match="answer 1: the subscriber has no member id"):
        write([PAID], request)
