"""The X12 tokenizer: delimiters from the ISA, segments with positions, and the
envelope (nesting, counts, control numbers) checked as the file streams by.
Every error names a segment position and never quotes an element's value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pms_x12.segments import VERSIONS, EnvelopeError, X12Stream, transaction_kind

from pms_core.edi import X12Error

SAMPLES = Path(
    os.environ.get(
        "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
    )
)
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"X12 samples not found at {SAMPLES}"
)

FOLDERS = ["270", "271", "276", "277", "277CA", "835", "837I", "837P", "999"]


def sample_files() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for folder in FOLDERS for p in (SAMPLES / folder).glob("*") if p.is_file())


def sample(folder: str, name: str) -> bytes:
    return (SAMPLES / folder / name).read_bytes()


def segments_of(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def join(segs: list[str]) -> str:
    return "~".join(segs) + "~"


# A small synthetic 999: the envelope tests change one thing at a time.
ISA = (
    "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*PRACTICE01     "
    "*240102*1200*^*00501*000000042*0*T*:"
)
GOOD = [
    ISA,
    "GS*FA*CLEARINGHOUSE*PRACTICE01*20240102*1200*7*X*005010X231A1",
    "ST*999*0001*005010X231A1",
    "AK1*HC*1*005010X222A1",
    "AK2*837*0001*005010X222A1",
    "IK5*A",
    "AK9*A*1*1*1",
    "SE*6*0001",
    "GE*1*7",
    "IEA*1*000000042",
]

# Known envelope defects of the public samples (see their README).
KNOWN_PROBLEMS = {
    "ims__x12_valid.txt": "SE count wrong",
    "ims__x12_many_claims.txt": "SE count wrong",
    "ims__x12_bad_valid_code.txt": "SE count wrong",
    "ims__x223-test.txt": "SE count wrong",
    "ims__x12_999_accepted.txt": "IEA02 000000001 does not match ISA13 000000286",
    "ims__x12_277_x212.txt": "IEA02 842928883 does not match ISA13 000000001",
    "lfh__subscriber-health-benefit-check-error.271": "SE02 4323 does not match ST02 4321",
}


def problems(text: str | bytes) -> list[str]:
    stream = X12Stream(text, strict=False)
    for _ in stream:
        pass
    return [p.message for p in stream.problems]


def first_error(text: str | bytes) -> str:
    with pytest.raises(X12Error) as info:
        for _ in X12Stream(text):
            pass
    return str(info.value)


# --- the samples ---------------------------------------------------------------------
@needs_samples
@pytest.mark.parametrize("path", sample_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_sample_tokenizes_with_consecutive_positions_and_its_transaction_kind(path):
    stream = X12Stream(path.read_bytes(), strict=False)
    positions, kinds = [], set()
    for seg in stream:
        positions.append(seg.position)
        if seg.id == "ST":
            kinds.add(stream.envelope.kind)
    assert positions == list(range(1, len(positions) + 1))
    assert stream.segment_count == len(positions)
    assert kinds == {path.parent.name}
    expected = KNOWN_PROBLEMS.get(path.name)
    found = [p.message for p in stream.problems]
    if expected:
        assert len(found) == 1 and expected in found[0]
    else:
        assert found == []


@needs_samples
def test_the_envelope_values_are_read_from_isa_gs_and_st():
    stream = X12Stream(sample("277CA", "ims__x12_277CA_accepted.txt"))
    seen = {}
    for seg in stream:
        if seg.id == "ST":
            env = stream.envelope
            seen = {
                "ISA06": env.sender_id,
                "ISA08": env.receiver_id,
                "ISA13": env.control,
                "GS01": env.functional_id,
                "GS06": env.group_control,
                "GS08": env.group_version,
                "ST01": env.set_id,
                "ST03": env.set_version,
                "kind": env.kind,
            }
    assert seen == {
        "ISA06": "EMEDNYBAT",
        "ISA08": "ETIN",
        "ISA13": "000014420",
        "GS01": "HN",
        "GS06": "14420",
        "GS08": "005010X214",
        "ST01": "277",
        "ST03": "005010X214",
        "kind": "277CA",
    }


@needs_samples
def test_a_sample_with_a_pipe_component_separator_splits_its_composites():
    stream = X12Stream(sample("277CA", "ims__x12_277CA_rejected.txt"))
    assert stream.delimiters.component == "|"
    stc = [seg for seg in stream if seg.id == "STC"][-1]
    assert stc.components(1) == ["A7", "562", "85"]
    assert stc.get(1, 2) == "562"
    assert stc.ref(1, 2) == "STC01-2"


@needs_samples
def test_bom_crlf_and_unusual_delimiters_read_the_same_segments():
    original = sample("837P", "lfh__demo.example1.837").decode()
    assert not any(ch in original for ch in "|}!'")
    table = str.maketrans({"*": "|", ":": "}", "^": "!", "~": "'"})
    rewritten = original.translate(table).replace("'\n", "'\r\n")
    data = b"\xef\xbb\xbf" + rewritten.encode()
    stream = X12Stream(data)
    assert tuple(stream.delimiters) == ("|", "}", "!", "'")
    back = str.maketrans({"}": ":", "!": "^"})
    got = [(seg.position, [e.translate(back) for e in seg.elements]) for seg in stream]
    want = [(seg.position, seg.elements) for seg in X12Stream(original)]
    assert got == want
    assert len(got) == 44
    clm = [seg for seg in X12Stream(data) if seg.id == "CLM"][0]
    assert clm.components(5) == ["11", "B", "1"]


@needs_samples
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_line_break_as_segment_terminator_reads_the_same_segments(newline):
    original = sample("999", "ims__x12_999_rejected.txt").decode()
    text = original.replace("~\n", "~").replace("~", newline) + newline
    stream = X12Stream(text)
    assert stream.delimiters.segment == newline[0]
    assert [s.elements for s in stream] == [s.elements for s in X12Stream(original)]


def test_repetitions_are_split_by_isa11_and_u_means_none():
    text = join([*GOOD[:4], "AK2*837*0001*005010X222A1^X", *GOOD[5:]])
    ak2 = [s for s in X12Stream(text) if s.id == "AK2"][0]
    assert ak2.repetitions(3) == ["005010X222A1", "X"]
    old_style = join([ISA.replace("*^*", "*U*"), *GOOD[1:]])
    stream = X12Stream(old_style)
    assert stream.delimiters.repetition is None
    assert [s.repetitions(3) for s in stream if s.id == "AK2"] == [["005010X222A1"]]


def test_the_stream_yields_segments_before_it_reaches_a_late_error():
    text = join(GOOD[:-1] + ["IEA*1*000000099"])
    seen = []
    with pytest.raises(X12Error, match=r"segment 10 \(IEA\)"):
        for seg in X12Stream(text):
            seen.append(seg.id)
    assert seen[:9] == [s.split("*")[0] for s in GOOD[:9]]


def test_a_file_with_two_interchanges_reads_both():
    ta1 = [ISA, "TA1*000000041*240102*1159*A*000", "IEA*0*000000042"]
    second = [ISA.replace("000000042", "000000043"), *GOOD[1:-1], "IEA*1*000000043"]
    stream = X12Stream(join(ta1 + second))
    ids = [s.id for s in stream]
    assert ids[:4] == ["ISA", "TA1", "IEA", "ISA"]
    assert stream.envelope.control == "000000043"
    assert stream.envelope.interchanges == 2


# --- versions ----------------------------------------------------------------------------
def test_both_version_labels_in_use_are_known_per_transaction():
    assert VERSIONS["837P"] == ("005010X222A1", "005010X222A2")
    assert VERSIONS["837I"] == ("005010X223A2", "005010X223A3")
    assert VERSIONS["999"] == ("005010X231", "005010X231A1")
    assert VERSIONS["277CA"] == ("005010X214",)
    assert transaction_kind("HC", "837", "005010X223A3") == "837I"
    assert transaction_kind("HC", "837", "005010X222A2") == "837P"
    assert transaction_kind("HN", "277", "005010X214") == "277CA"
    assert transaction_kind("HN", "277", "005010X212") == "277"
    assert transaction_kind("FA", "997", "004010") == "997"


# --- bad input -----------------------------------------------------------------------------
def test_an_empty_file_is_an_error():
    assert first_error(b"") == "the file is empty"
    assert first_error("  \r\n") == "the file is empty"


def test_a_file_without_isa_is_an_error_at_segment_1():
    message = first_error("GS*FA*X*Y~")
    assert message.startswith("segment 1:") and "does not start with an ISA" in message


def test_an_isa_shorter_than_106_characters_is_an_error():
    message = first_error(ISA[:80])
    assert message.startswith("segment 1 (ISA):") and "shorter than 106" in message


def test_an_isa_with_unpadded_elements_is_an_error():
    message = first_error(join([ISA.replace("PRACTICE01     ", "PRACTICE01"), *GOOD[1:]]))
    assert "segment 1 (ISA)" in message and "16 fixed-width elements" in message


def test_a_segment_terminator_that_also_appears_inside_the_isa_is_an_error():
    text = join([ISA.replace("CLEARINGHOUSE  ", "CLEARING~HOUSE "), *GOOD[1:]])
    assert first_error(text) == (
        "segment 1 (ISA): the segment terminator also appears inside the ISA"
    )


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.8])
def test_a_file_cut_in_the_middle_is_an_error_naming_where_it_ends(cut):
    text = join(GOOD)
    message = first_error(text[: int(len(text) * cut)])
    assert "truncated" in message
    assert "segment " in message


def test_a_file_without_iea_names_the_interchange_start():
    message = first_error(join(GOOD[:-1]))
    assert "without the IEA" in message and "segment 1" in message


def test_a_missing_se_is_reported_at_the_ge():
    text = join([s for s in GOOD if not s.startswith("SE*")])
    assert first_error(text).startswith("segment 8 (GE): GE before the SE")


def test_a_missing_ge_is_reported_at_the_iea():
    text = join([s for s in GOOD if not s.startswith("GE*")])
    assert first_error(text).startswith("segment 9 (IEA): IEA before the GE")


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("SE*5*0001", "segment 8 (SE): SE count wrong: SE01 says 5 segments"),
        ("SE*6*0002", "segment 8 (SE): SE02 0002 does not match ST02 0001"),
        ("GE*2*7", "segment 9 (GE): GE count wrong: GE01 says 2 transaction sets"),
        ("GE*1*8", "segment 9 (GE): GE02 8 does not match GS06 7"),
        ("IEA*3*000000042", "segment 10 (IEA): IEA count wrong: IEA01 says 3"),
        ("IEA*1*000000043", "segment 10 (IEA): IEA02 000000043 does not match ISA13 000000042"),
        ("SE*six*0001", "segment 8 (SE): SE01 is not a number"),
    ],
)
def test_wrong_counts_and_control_numbers_name_the_trailer(bad, expected):
    trailer = bad.split("*")[0]
    text = join([bad if s.startswith(trailer + "*") else s for s in GOOD])
    assert first_error(text).startswith(expected)
    assert any(expected.split(": ", 1)[1] in p for p in problems(text))


def test_lenient_mode_collects_every_envelope_problem_and_keeps_reading():
    text = join([*GOOD[:7], "SE*9*0002", "GE*1*8", "IEA*1*000000042"])
    stream = X12Stream(text, strict=False)
    assert len(list(stream)) == 10
    assert [(p.position, p.segment, p.element) for p in stream.problems] == [
        (8, "SE", "01"),
        (8, "SE", "02"),
        (9, "GE", "02"),
    ]


def test_an_invalid_segment_identifier_is_an_error_without_its_text():
    text = join([*GOOD[:4], "smith*john", *GOOD[4:]])
    message = first_error(text)
    assert message.startswith("segment 5:")
    assert "smith" not in message.lower() and "john" not in message.lower()


def test_an_empty_segment_is_an_error():
    text = join(GOOD[:4]) + "~" + join(GOOD[4:])
    assert first_error(text).startswith("segment 5: empty segment")


def test_an_envelope_error_knows_its_position_segment_and_element():
    text = join([("SE*5*0001" if s.startswith("SE*") else s) for s in GOOD])
    with pytest.raises(EnvelopeError) as info:
        list(X12Stream(text))
    problem = info.value.problem()
    assert (problem.position, problem.segment, problem.element) == (8, "SE", "01")


@needs_samples
def test_error_messages_never_carry_patient_values():
    original = sample("837P", "lfh__demo.example1.837").decode()
    phi = ["SMITH", "JANE", "TED", "JS00111223333", "236 N MAIN", "19730501", "MIAMI"]
    segs = segments_of(original)
    variants = [
        join(segs[:25]),  # cut after the patient's demographics
        original[: original.index("SMITH") + 3],  # cut inside the patient's name
        join([s if not s.startswith("SE*") else "SE*39*0021" for s in segs]),
        join([s if not s.startswith("SE*") else "SE*40*SMITH" for s in segs]),
        join(segs[:22] + ["nm1*QC*1*SMITH*TED"] + segs[23:]),
    ]
    for text in variants:
        message = first_error(text)
        assert "segment" in message
        for value in phi:
            assert value not in message, (value, message)
        try:
            lenient = problems(text)
        except X12Error as exc:  # not readable even leniently: the same message
            lenient = [str(exc)]
        for message in lenient:
            for value in phi:
                assert value not in message, (value, message)
