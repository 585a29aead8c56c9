"""The TA1, 999 and 277CA reader: the public samples and synthetic files, read
into `pms_core.edi` records with every code in words; other files are left to
other readers (None); broken ones are X12Errors that name a position and carry
no value from the file."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from pms_x12.acks import AckReader, read_acknowledgment

from pms_core.edi import ResponseFile, X12Error
from pms_core.plugins import get_plugin_manager

SAMPLES = Path(
    os.environ.get(
        "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
    )
)
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"X12 samples not found at {SAMPLES}"
)
FOLDERS = ["270", "271", "276", "277", "277CA", "835", "837I", "837P", "999"]
READER = AckReader()


def sample_files() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted(p for folder in FOLDERS for p in (SAMPLES / folder).glob("*") if p.is_file())


def sample(folder: str, name: str) -> bytes:
    return (SAMPLES / folder / name).read_bytes()


def isa(control: str = "000000777", version: str = "00501") -> str:
    return (
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*PRACTICE01     "
        f"*240102*1200*^*{version}*{control}*0*T*:"
    )


def interchange(*groups: tuple[str, str, str, list[str]], ta1: list[str] = (), control="000000777"):
    """An interchange with correct counts: each group is (GS01, GS08, ST01, body)."""
    segs = [isa(control), *ta1]
    for number, (fid, version, st01, body) in enumerate(groups, start=1):
        segs.append(f"GS*{fid}*CLEARINGHOUSE*PRACTICE01*20240102*1200*{number}*X*{version}")
        segs.append(f"ST*{st01}*{number:04d}*{version}")
        segs.extend(body)
        segs.append(f"SE*{len(body) + 2}*{number:04d}")
        segs.append(f"GE*1*{number}")
    segs.append(f"IEA*{len(groups)}*{control}")
    return "~\n".join(segs) + "~\n"


def read(text: str) -> ResponseFile:
    result = READER.read(text.encode())
    assert result is not None
    return result


def error(text: str | bytes) -> str:
    with pytest.raises(X12Error) as info:
        READER.read(text.encode() if isinstance(text, str) else text)
    return str(info.value)


# --- the samples -------------------------------------------------------------------------
ACK_SAMPLES = {
    "ims__x12_999_accepted.txt",
    "ims__x12_999_rejected.txt",
    "ims__x12_277CA_accepted.txt",
    "ims__x12_277CA_rejected.txt",
}


@needs_samples
@pytest.mark.parametrize(
    "path",
    [p for p in sample_files() if p.name not in ACK_SAMPLES],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_other_sample_is_left_to_another_reader(path):
    assert READER.read(path.read_bytes()) is None


@needs_samples
def test_the_rejected_999_sample_reads_as_a_rejected_837_set_with_its_error_in_words():
    result = READER.read(sample("999", "ims__x12_999_rejected.txt"))
    assert (result.kind, result.sender_id, result.receiver_id) == ("999", "EMEDNYBAT", "ETIN")
    assert result.interchange_control == 95832987
    assert result.interchange_acks == () and result.claims == ()
    (group,) = result.groups
    assert (group.functional_id, group.group_control, group.version) == ("HC", 28, "005010X223A2")
    assert group.status == "R"
    assert (group.sets_included, group.sets_received, group.sets_accepted) == (1, 1, 0)
    (ack,) = group.sets
    assert (ack.transaction_set_id, ack.control_number, ack.status) == ("837", "0028", "R")
    assert ack.rejected
    assert ack.syntax_codes == ("5",)
    (err,) = ack.errors
    assert (err.segment_id, err.segment_position, err.loop_id) == ("NM", 17, None)
    assert (err.element_position, err.code) == (None, "1")
    assert err.message == "segment ID not recognized"


@needs_samples
def test_the_accepted_999_sample_is_refused_for_its_iea02_mismatch():
    message = error(sample("999", "ims__x12_999_accepted.txt"))
    assert message == (
        "segment 10 (IEA): IEA02 000000001 does not match ISA13 000000286 (segment 1)"
    )


@needs_samples
def test_the_accepted_999_sample_with_its_iea02_corrected_reads_as_accepted():
    data = sample("999", "ims__x12_999_accepted.txt").replace(
        b"IEA*1*000000001", b"IEA*1*000000286"
    )
    result = READER.read(data)
    assert (result.kind, result.interchange_control) == ("999", 286)
    (group,) = result.groups
    assert (group.functional_id, group.group_control, group.status) == ("HC", 17456, "A")
    assert (group.sets_included, group.sets_received, group.sets_accepted) == (1, 1, 1)
    (ack,) = group.sets
    assert (ack.transaction_set_id, ack.control_number, ack.status) == ("837", "0001", "A")
    assert not ack.rejected and ack.errors == ()


@needs_samples
def test_the_accepted_277ca_sample_accepts_claim_5781():
    result = READER.read(sample("277CA", "ims__x12_277CA_accepted.txt"))
    assert (result.kind, result.interchange_control) == ("277CA", 14420)
    assert result.groups == ()
    (claim,) = result.claims
    assert claim.claim_number == "5781"
    assert claim.accepted
    assert claim.payer_claim_number == "1107000000014420"
    assert claim.clearinghouse_trace is None
    assert claim.total_cents == 12500
    assert claim.service_from == claim.service_to == date(1001, 1, 1)
    assert claim.position == 21
    (status,) = claim.statuses
    assert (status.category, status.code, status.entity) == ("A2", "20", None)
    assert status.effective == date(2011, 3, 11)
    assert status.message == (
        "A2: acknowledged: accepted into the adjudication system; 20: accepted for processing"
    )


@needs_samples
def test_the_rejected_277ca_sample_rejects_the_claim_for_the_billing_provider_npi():
    result = READER.read(sample("277CA", "ims__x12_277CA_rejected.txt"))
    (claim,) = result.claims
    assert claim.claim_number == "3920394930203"
    assert not claim.accepted
    assert claim.payer_claim_number == "1107000000001120"
    assert claim.total_cents == 19914
    assert (claim.service_from, claim.service_to) == (date(2009, 3, 11), date(2009, 3, 11))
    (status,) = claim.statuses
    assert (status.category, status.code, status.entity) == ("A7", "562", "85")
    assert status.message == (
        "A7: rejected for invalid information; 562: the entity's National Provider "
        "Identifier (NPI); entity 85: billing provider"
    )


@needs_samples
def test_the_reader_is_registered_through_the_plugin_hook():
    readers = []
    get_plugin_manager().hook.register_response_readers(register=readers.append)
    mine = [r for r in readers if isinstance(r, AckReader)]
    assert len(mine) == 1
    assert mine[0].name == "x12-acknowledgments"
    assert mine[0].read(sample("835", "lfh__demo.835")) is None


# --- TA1 ---------------------------------------------------------------------------------
def ta1_only(*ta1: str, control="000000777") -> str:
    return "~\n".join([isa(control), *ta1, f"IEA*0*{control}"]) + "~\n"


def test_a_ta1_file_reads_as_interchange_acks_with_the_note_in_words():
    result = read(ta1_only("TA1*000000905*240101*1159*R*022", "TA1*000000906*240101*1159*A*000"))
    assert result.kind == "TA1"
    assert result.interchange_control == 777
    assert result.groups == () and result.claims == ()
    rejected, accepted = result.interchange_acks
    assert (rejected.interchange_control, rejected.status, rejected.note_code) == (905, "R", "022")
    assert rejected.rejected
    assert rejected.note == "the control structure is not valid"
    assert not accepted.rejected and accepted.note == "no error"


def test_a_999_interchange_may_carry_a_ta1_too():
    body = ["AK1*HC*5*005010X222A1", "AK2*837*0001*005010X222A1", "IK5*A", "AK9*A*1*1*1"]
    result = read(
        interchange(("FA", "005010X231", "999", body), ta1=["TA1*000000905*240101*1159*E*000"])
    )
    assert result.kind == "999"
    (ta1,) = result.interchange_acks
    assert (ta1.interchange_control, ta1.status, ta1.rejected) == (905, "E", False)
    assert result.groups[0].sets[0].status == "A"


def test_a_ta1_interchange_before_a_999_interchange_in_one_file_reads_as_one_999():
    body = ["AK1*HC*5*005010X222A1", "AK2*837*0001*005010X222A1", "IK5*A", "AK9*A*1*1*1"]
    first = ta1_only("TA1*000000905*240101*1159*A*000", control="000000776")
    result = read(first + interchange(("FA", "005010X231A1", "999", body)))
    assert (result.kind, result.interchange_control) == ("999", 776)
    assert [a.interchange_control for a in result.interchange_acks] == [905]
    assert result.groups[0].group_control == 5


def test_a_ta1_with_an_unknown_status_is_an_error():
    assert error(ta1_only("TA1*000000905*240101*1159*Q*000")) == (
        "segment 2 (TA1): TA104 is not a valid code"
    )


# --- 999 -----------------------------------------------------------------------------------
def test_a_999_element_error_names_the_element_position_and_code_but_not_the_bad_value():
    body = [
        "AK1*HC*5*005010X222A1",
        "AK2*837*0001*005010X222A1",
        "IK3*NM1*14*2010BA*8",
        "CTX*SITUATIONAL TRIGGER*CLM*22**5:3",
        "IK4*3**1",
        "IK4*9:2*66*7*DOEJOHN",
        "IK5*R*5",
        "AK2*837*0002*005010X222A1",
        "IK5*E",
        "AK9*P*2*2*1*5",
    ]
    result = read(interchange(("FA", "005010X231A1", "999", body)))
    (group,) = result.groups
    assert group.status == "P"
    first, second = group.sets
    assert first.rejected and not second.rejected
    segment_err, missing, bad_code = first.errors
    assert (segment_err.segment_id, segment_err.segment_position, segment_err.loop_id) == (
        "NM1",
        14,
        "2010BA",
    )
    assert (segment_err.code, segment_err.element_position) == ("8", None)
    assert segment_err.message == "the segment has element errors (see the element errors)"
    assert (missing.element_position, missing.code) == ("3", "1")
    assert missing.message == "a required element is missing"
    assert (bad_code.element_position, bad_code.code) == ("9-2", "7")
    assert bad_code.message == "the code is not a valid value for this element"
    assert bad_code.segment_id == "NM1" and bad_code.segment_position == 14
    assert "DOEJOHN" not in repr(result)


def test_a_999_with_a_set_left_open_is_an_error():
    body = ["AK1*HC*5*005010X222A1", "AK2*837*0001*005010X222A1", "AK9*A*1*1*1"]
    assert error(interchange(("FA", "005010X231A1", "999", body))) == (
        "segment 6 (AK9): AK9 before the IK5 of the set acknowledged at segment 5"
    )


def test_a_999_group_number_that_is_not_a_number_is_an_error_without_the_value():
    body = ["AK1*HC*SMITH*005010X222A1", "AK9*A*0*0*0"]
    message = error(interchange(("FA", "005010X231A1", "999", body)))
    assert message == "segment 4 (AK1): AK102 is not a number"


def test_a_4010_997_is_refused_as_another_version():
    body = ["AK1*HC*5", "AK2*837*0001", "AK5*A", "AK9*A*1*1*1"]
    text = interchange(("FA", "004010X098A1", "997", body)).replace("*00501*", "*00401*")
    assert error(text) == "segment 1 (ISA): interchange version 00401 is not supported (00501 only)"


def test_a_999_of_an_unknown_version_is_refused_naming_both_labels():
    body = ["AK1*HC*5*005010X222A1", "AK9*A*0*0*0"]
    message = error(interchange(("FA", "005010X230", "999", body)))
    assert message == (
        "segment 2 (GS): version 005010X230 is not supported: 999 files are read as "
        "005010X231 or 005010X231A1"
    )


def test_a_997_inside_a_5010_group_is_refused():
    body = ["AK1*HC*5", "AK9*A*0*0*0"]
    assert error(interchange(("FA", "005010X231A1", "997", body))) == (
        "segment 3 (ST): ST01 is not 999 in this functional group"
    )


# --- 277CA ----------------------------------------------------------------------------------
def ca_body(*claims: list[str]) -> list[str]:
    head = [
        "BHT*0085*08*BATCH1*20240102*1200*TH",
        "HL*1**20*1",
        "NM1*PR*2*ACME HEALTH PLAN*****PI*12345",
        "TRN*1*777",
        "DTP*050*D8*20240102",
        "DTP*009*D8*20240102",
        "HL*2*1*21*1",
        "NM1*41*2*OUR PRACTICE*****46*SUB1",
        "TRN*2*BATCH1",
        "STC*A1:19:PR*20240102*WQ*350.10",
        "QTY*90*2",
        "AMT*YU*350.10",
        "HL*3*2*19*1",
        "NM1*85*2*OUR PRACTICE*****XX*1234567893",
        "TRN*1*0",
    ]
    out = list(head)
    for n, claim in enumerate(claims, start=4):
        out += [f"HL*{n}*3*PT", "NM1*QC*1*DOE*JANE****MI*MEMBER0001", *claim]
    return out


def ca(*claims: list[str]) -> str:
    return interchange(("HN", "005010X214", "277", ca_body(*claims)))


ACCEPTED_CLAIM = [
    "TRN*2*CLM-1001",
    "STC*A1:19:PR*20240102*WQ*100.10",
    "STC*A2:20*20240103*WQ*100.10",
    "REF*1K*PAYER-77",
    "REF*D9*CH-TRACE-5",
    "DTP*472*RD8*20231201-20231203",
]

LINE_REJECTED_CLAIM = [
    "TRN*2*CLM-1002",
    "STC*A3:21*20240102*U*250.00******A7:562:82*A8:145:82",
    "DTP*472*D8*20231205",
    "SVC*HC:99213:25*150.00****1",
    "STC*A3:454*20240102*U",
    "REF*FJ*LINE-1",
    "DTP*472*D8*20231205",
    "SVC*HC:85025*100.00****1",
    "STC*A2:20*20240102*WQ",
    "REF*FJ*LINE-2",
]


def test_a_277ca_claim_accepted_into_adjudication_with_trace_numbers_and_a_date_range():
    (claim,) = read(ca(ACCEPTED_CLAIM)).claims
    assert claim.claim_number == "CLM-1001"
    assert claim.accepted
    assert (claim.payer_claim_number, claim.clearinghouse_trace) == ("PAYER-77", "CH-TRACE-5")
    assert claim.total_cents == 10010
    assert (claim.service_from, claim.service_to) == (date(2023, 12, 1), date(2023, 12, 3))
    assert [(s.category, s.code, s.entity) for s in claim.statuses] == [
        ("A1", "19", "PR"),
        ("A2", "20", None),
    ]
    assert claim.statuses[0].message == (
        "A1: acknowledged: received (not yet accepted for adjudication); 19: the entity "
        "acknowledges receipt of the claim; entity PR: payer"
    )
    assert claim.statuses[1].effective == date(2024, 1, 3)


def test_a_277ca_rejection_reads_every_status_composite_and_the_line_acks():
    first, second = read(ca(ACCEPTED_CLAIM, LINE_REJECTED_CLAIM)).claims
    assert first.accepted
    assert second.claim_number == "CLM-1002"
    assert not second.accepted
    assert second.total_cents == 25000
    assert [(s.category, s.code, s.entity) for s in second.statuses] == [
        ("A3", "21", None),
        ("A7", "562", "82"),
        ("A8", "145", "82"),
    ]
    assert second.statuses[1].message == (
        "A7: rejected for invalid information; 562: the entity's National Provider "
        "Identifier (NPI); entity 82: rendering provider"
    )
    assert second.statuses[2].message.endswith(
        "145: the entity's specialty or taxonomy code; entity 82: rendering provider"
    )
    line1, line2 = second.lines
    assert (line1.control_number, line1.procedure_code) == ("LINE-1", "99213")
    assert [(s.category, s.code) for s in line1.statuses] == [("A3", "454")]
    assert line1.statuses[0].message == (
        "A3: acknowledged: returned as unprocessable (rejected); 454: procedure code for the "
        "services"
    )
    assert (line2.control_number, line2.procedure_code) == ("LINE-2", "85025")
    assert (second.service_from, second.service_to) == (date(2023, 12, 5), date(2023, 12, 5))


def test_a_claim_accepted_at_claim_level_but_rejected_on_a_line_is_not_accepted():
    claim = [
        "TRN*2*CLM-1003",
        "STC*A2:20*20240102*WQ*80",
        "SVC*HC:99213*80****1",
        "STC*A7:454*20240102*U",
        "REF*FJ*LINE-9",
    ]
    (ack,) = read(ca(claim)).claims
    assert not ack.accepted
    assert ack.total_cents == 8000


def test_unknown_status_codes_still_come_in_words():
    claim = ["TRN*2*CLM-1004", "STC*A1:199*20240102*WQ*1", "STC*P1:9999:XQ*20240102"]
    known_list, unknown = read(ca(claim)).claims[0].statuses
    assert known_list.message.endswith("199: status code 199")
    assert unknown.message == (
        "P1: pending: in process; 9999: status code 9999 (not in the claim status code list); "
        "entity XQ: entity XQ"
    )


def test_amounts_are_exact_cents_never_floats():
    claims = [
        [f"TRN*2*C{n}", f"STC*A2:20*20240102*WQ*{amount}"]
        for n, amount in enumerate(["0.1", "1234567.89", "-5", ".5", "19.90"])
    ]
    got = [c.total_cents for c in read(ca(*claims)).claims]
    assert got == [10, 123456789, -500, 50, 1990]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("TRN*2*CLM-1001", "TRN*2"), "segment 21 (TRN): TRN02 is missing"),
        (
            ("DTP*472*RD8*20231201-20231203", "DTP*472*D8*19730229"),
            "segment 26 (DTP): DTP03 is not a valid date (CCYYMMDD)",
        ),
        (
            ("DTP*472*RD8*20231201-20231203", "DTP*472*RD8*20231203-20231201"),
            "segment 26 (DTP): DTP03 ends before it starts",
        ),
        (
            ("STC*A2:20*20240103*WQ*100.10", "STC*A2:20*20240103*WQ*1O0.10"),
            "segment 23 (STC): STC04 is not a valid amount",
        ),
        (
            ("STC*A2:20*20240103*WQ*100.10", "STC*A2:20*20240103*WQ*100.105"),
            "segment 23 (STC): STC04 has fractions of a cent (more than two decimals)",
        ),
        (
            ("STC*A2:20*20240103*WQ*100.10", "STC*A2:SMITH*20240103"),
            "segment 23 (STC): STC01-2 is not a claim status code",
        ),
        (("STC*A2:20*20240103*WQ*100.10", "STC**20240103"), "segment 23 (STC): STC01 is missing"),
    ],
)
def test_a_broken_277ca_claim_is_an_error_naming_segment_and_element(change, expected):
    old, new = change
    claim = [new if s == old else s for s in ACCEPTED_CLAIM]
    message = error(ca(claim))
    assert message == expected
    for value in ("DOE", "JANE", "MEMBER0001", "SMITH", "19730229", "1O0.10", "CLM-1001"):
        assert value not in message


def test_a_277ca_claim_without_a_status_is_an_error():
    assert error(ca(["TRN*2*CLM-1005", "REF*1K*X"])) == (
        "segment 21 (TRN): the claim has no STC status"
    )


def test_a_277_claim_status_response_x212_is_left_to_another_reader():
    body = ["BHT*0010*08*X*20240102*1200*DG", "HL*1**20*1", "NM1*PR*2*PLAN*****PI*1"]
    assert READER.read(interchange(("HN", "005010X212", "277", body)).encode()) is None


# --- bad files --------------------------------------------------------------------------------
def test_an_empty_file_is_an_error_and_a_non_x12_file_is_not_ours():
    assert error(b"") == "the file is empty"
    assert READER.read(b"Dear provider, your batch was received.") is None


def test_bom_crlf_and_unusual_delimiters_read_the_same():
    text = ca(ACCEPTED_CLAIM).replace("~\n", "~")
    table = str.maketrans({"*": "|", ":": "}", "^": "!", "~": "\n"})
    weird = "\ufeff" + text.translate(table).replace("\n", "\r\n")
    assert read(weird).claims == read(text).claims


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9])
def test_a_truncated_acknowledgment_is_an_error(cut):
    text = ca(ACCEPTED_CLAIM)
    message = error(text[: int(len(text) * cut)])
    assert "truncated" in message or "missing" in message
    assert "segment" in message
    for value in ("DOE", "JANE", "MEMBER0001"):
        assert value not in message


def test_wrong_counts_in_an_acknowledgment_are_an_error():
    text = ca(ACCEPTED_CLAIM).replace("SE*25*0001", "SE*24*0001")
    assert error(text) == (
        "segment 27 (SE): SE count wrong: SE01 says 24 segments, the transaction set that "
        "began at segment 3 has 25"
    )


def test_a_functional_group_of_claims_inside_an_acknowledgment_interchange_is_an_error():
    ack = ("FA", "005010X231A1", "999", ["AK1*HC*5*005010X222A1", "AK9*A*0*0*0"])
    claim = ("HC", "005010X222A1", "837", ["BHT*0019*00*1*20240102*1200*CH"])
    assert error(interchange(ack, claim)).startswith("segment 8 (GS): this functional group")


def test_read_acknowledgment_accepts_text_too():
    assert read_acknowledgment(ca(ACCEPTED_CLAIM)).claims[0].claim_number == "CLM-1001"
