"""The 835 reader: samples, delimiters and line breaks, streaming, and a
broken set that is rejected alone while the file reads on."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from pms_x12.remit835 import RemitReader835, read_835

from pms_core.edi import X12Error
from pms_core.remitdata import RemitClaim, RemitHeader, RemitSetEnd
from tests.x12_remits import PaidClaim, PaidLine, era_835, transaction_set

SAMPLES = Path(
    os.environ.get(
        "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
    )
)


def items(data: bytes) -> list:
    return list(read_835(io.BytesIO(data)))


def claims_of(found) -> list[RemitClaim]:
    return [i for i in found if isinstance(i, RemitClaim)]


PAID = PaidClaim(
    "00000042",
    "140.00",
    "89.00",
    patient_resp="20.00",
    lines=[
        PaidLine("99213", "125.00", "80.00", modifiers=("25",), control="7",
                 adjustments=[("CO", "45", "25.00"), ("PR", "2", "20.00")], remarks=("N130",)),
        PaidLine("36415", "15.00", "9.00", adjustments=[("CO", "45", "6.00")], original="36416"),
    ],
)  # fmt: skip


def test_a_claim_payment_is_read_with_lines_adjustments_and_remarks():
    header, claim, end = items(era_835([PAID], plb=[("L6:X1", "-1.50")]))
    assert isinstance(header, RemitHeader) and isinstance(end, RemitSetEnd)
    assert (header.payment_cents, header.trace_number, header.payer_identifier) == (
        9050, "EFT0001", "ACME1",
    )  # fmt: skip
    assert (header.payee_qualifier, header.payee_identifier, header.payee_tin) == (
        "XX", "1234567893", "364512987",
    )  # fmt: skip
    assert (claim.claim_number, claim.charge_cents, claim.paid_cents) == ("00000042", 14000, 8900)
    first, second = claim.lines
    assert (first.procedure, first.modifiers, first.control_number) == ("99213", ("25",), "7")
    assert [(a.group, a.reason, a.amount_cents) for a in first.adjustments] == [
        ("CO", "45", 2500), ("PR", "2", 2000),
    ]  # fmt: skip
    assert first.remarks == ["N130"] and second.original_procedure == "36416"
    assert [(p.reason, p.reference, p.amount_cents) for p in end.provider_adjustments] == [
        ("L6", "X1", -150)
    ]
    assert end.problem is None


def test_other_delimiters_line_breaks_and_a_byte_order_mark_read_the_same():
    plain = era_835([PAID])
    other = plain.replace(b"*", b"|").replace(b"~\n", b"\r\n").replace(b":", b">")
    other = b"\xef\xbb\xbf" + other
    assert claims_of(items(other)) == claims_of(items(plain))


def test_a_broken_set_is_rejected_alone_and_the_next_set_is_read():
    bad = transaction_set([PAID], control="0001")
    bad = [s.replace("CLP*00000042", "CLP*") for s in bad]
    good = transaction_set([PAID], control="0002", trace="EFT0002")
    found = items(era_835(sets=[bad, good]))
    ends = [i for i in found if isinstance(i, RemitSetEnd)]
    assert "CLP01 is missing" in ends[0].problem.message
    assert ends[0].problem.segment == "CLP" and ends[0].problem.position
    assert ends[1].problem is None and len(claims_of(found)) == 1


def test_an_envelope_error_raises_and_names_no_values():
    data = era_835([PAID]).replace(b"SE*", b"SE*99", 1)
    with pytest.raises(X12Error, match="SE count wrong") as caught:
        items(data)
    assert "CLAIMWELL" not in str(caught.value)


def test_a_large_file_streams_in_bounded_memory(monkeypatch):
    """Three times the claims, about the same peak: the file is never held whole
    (it is read a chunk at a time, here 64 KB, and one claim payment is kept)."""
    import tracemalloc

    import pms_x12.segments

    monkeypatch.setattr(pms_x12.segments, "_CHUNK", 1 << 16)

    def peak(n: int) -> int:
        source = io.BytesIO(era_835([PAID] * n))
        tracemalloc.start()
        count = sum(1 for i in read_835(source) if isinstance(i, RemitClaim))
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == n
        return top

    small, large = peak(2_000), peak(6_000)
    assert large < small * 1.3, (small, large)


def test_the_reader_recognizes_835s_only():
    reader = RemitReader835()
    assert reader.recognizes(era_835([PAID]))
    assert not reader.recognizes(b"ISA*00*" + b" " * 200)
    assert not reader.recognizes(b"hello")


@pytest.mark.skipif(not (SAMPLES / "835").is_dir(), reason="no samples")
@pytest.mark.parametrize(
    "name, claims, paid",
    [
        ("lfh__cob-contractural-adjustment.835", 1, 3400),
        ("lfh__demo.835", 2, 14999873),
        ("lfh__managed-care.835", 2, 94500),
        ("lfh__secondary-payment.835", 2, 122200),
    ],
)
def test_every_sample_reads(name, claims, paid):
    found = items((SAMPLES / "835" / name).read_bytes())
    assert len(claims_of(found)) == claims
    assert sum(c.paid_cents for c in claims_of(found)) == paid
    assert all(i.problem is None for i in found if isinstance(i, RemitSetEnd))


def test_the_remittances_the_tests_post_are_valid_835s_for_pyx12():
    from pms_x12.validate import validate_text

    report = validate_text(era_835([PAID], plb=[("L6:X1", "-1.50")]).decode())
    assert report.findings == []
