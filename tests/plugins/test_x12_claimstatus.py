"""The 276 writer and 277 reader (005010X212): every public sample, our own
inquiries read back, statuses in words, and broken input."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pytest
from pms_x12.claimstatus import read_276, read_277, write_276
from pms_x12.segments import X12Stream

from pms_core.edi import X12Error
from pms_core.eligdata import Person, StatusInquiry, StatusRequest

SAMPLES = Path(
    os.environ.get(
        "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
    )
)
pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"no samples at {SAMPLES}")


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


def test_the_ims_277_is_refused_for_its_envelope_and_read_when_mended():
    data = (SAMPLES / "277" / "ims__x12_277_x212.txt").read_bytes()
    with pytest.raises(X12Error, match="IEA02"):
        read_277(data)  # a defect of the sample: IEA02 is not its ISA13
    mended = data.replace(b"IEA*1*842928883", b"IEA*1*000000001")
    answers = read_277(mended)
    assert len(answers) >= 3 and {a.statuses[0].category for a in answers} == {"A1"}
    assert answers[0].claim_number == "12345" and answers[0].total_cents == 60000


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


def test_a_broken_status_names_the_segment_and_element():
    text = (SAMPLES / "277" / "lfh__demo.277").read_text()
    with pytest.raises(X12Error) as caught:
        read_277(text.replace("STC*F0:3*20050915**7599.00*7599.00",
                              "STC*F0:3*20050915**7599.001*7599.00"))  # fmt: skip
    assert "(STC): STC04 has fractions of a cent" in str(caught.value)
    assert "JONES" not in str(caught.value)
