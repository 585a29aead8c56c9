"""The payer's side of the exchange (pms_x12.payer_side): the 837s our writer
produces are read back claim by claim; every 999, 277CA and 835 written
passes pyx12 (and our own envelope and balancing checks) and reads back
through our own readers with the same claim numbers, statuses and amounts.
Synthetic data only."""

from __future__ import annotations

import io
import os
import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pms_x12.acks import read_acknowledgment
from pms_x12.payer_side import (
    ACCEPTED,
    INVALID_BILLING_NPI,
    INVALID_MEMBER_ID,
    INVALID_PROCEDURE_CODE,
    OUT_OF_BALANCE,
    AdjudicatedClaim,
    AdjudicatedLine,
    Adjustment,
    BankAccount,
    ClaimVerdict,
    ElementError,
    GroupVerdict,
    LineVerdict,
    Payer,
    ProviderLevelAdjustment,
    Remittance,
    ResponseEnvelope,
    SegmentError,
    SetVerdict,
    Status,
    SubmittedClaim,
    group_verdicts,
    read_837,
    reversal,
    write_277ca,
    write_835,
    write_999,
)
from pms_x12.remit835 import read_835
from pms_x12.validate import validate_text

from pms_core import claimdata as cd
from pms_core.edi import X12Error
from pms_core.remitdata import RemitClaim, RemitHeader, RemitSetEnd
from tests.plugins.test_x12_837 import (
    BILLING_PERSON,
    CHILD,
    PAYER,
    _secondary,
    claim,
    interchange,
    line,
    outpatient,
    subscriber,
    write_valid,
)

SAMPLES = Path(
    os.environ.get(
        "PMS_X12_SAMPLES", Path(__file__).resolve().parents[3] / "shared" / "x12-samples"
    )
)
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"X12 samples not found at {SAMPLES}"
)

ENVELOPE = ResponseEnvelope(
    sender=cd.Party("ZZ", "SANDBOXPAYER", "SANDBOXPAYER", "Sandbox Health Plan"),
    receiver=cd.Party("ZZ", "PMSTEST", "PMSTEST", "Maple Billing Office"),
    control=9001,
    created=datetime(2024, 3, 6, 8, 30),
)
SANDBOX = Payer(
    name="Sandbox Health Plan",
    payer_id="SYN01",
    tin="391234567",
    address=cd.Address("1 PAYER PLAZA", "CHICAGO", "IL", "606010001"),
    phone="8005550100",
)
PAYER_BANK = BankAccount("011000015", "100200300")
PAYEE_BANK = BankAccount("021000021", "400500600")
PHI = ("DOE", "JANE", "JIMMY", "XYZ123456789")  # the synthetic patients' names and member id


def valid(text: str) -> str:
    """pyx12 and our envelope and balancing checks find nothing."""
    report = validate_text(text)
    assert report.findings == [], "\n".join(map(str, report.findings))
    return text


def segments(text: str) -> list[str]:
    return [s for s in text.split("~") if s]


def find(text: str, prefix: str) -> list[str]:
    return [s for s in segments(text) if s.startswith(prefix)]


def without(text: str, *prefixes: str) -> str:
    """`text` without the segments starting with `prefixes` (SE count mended)."""
    segs = [s for s in segments(text) if not s.startswith(prefixes)]
    st = next(n for n, s in enumerate(segs) if s.startswith("ST*"))
    se = next(n for n, s in enumerate(segs) if s.startswith("SE*"))
    segs[se] = re.sub(r"^SE\*\d+", f"SE*{se - st + 1}", segs[se])
    return "~".join(segs) + "~"


def submitted() -> list[SubmittedClaim]:
    """Three professional claims of two billing providers in two transaction
    sets: the subscriber as patient, a dependent with a modifier line, and a
    replacement claim."""
    first = cd.TransactionView(
        "0001",
        (
            claim(1),
            claim(
                2,
                patient=CHILD,
                subscriber=subscriber(relationship="19"),
                lines=(line(1, "99214", 20000), line(2, "36415", 2500, modifiers=("25", "59"))),
            ),
        ),
        "BATCH1",
    )
    second = cd.TransactionView(
        "0002",
        (claim(3, billing=BILLING_PERSON, frequency="7", payer_claim_number="SBXPCN0042"),),
        "BATCH1",
    )
    return read_837(write_valid(interchange(transactions=(first, second))))


# --- read_837 -----------------------------------------------------------------------------
def test_read_837_reads_back_what_our_professional_writer_wrote():
    own, dependent, replacement = submitted()
    env = own.envelope
    assert (env.kind, env.version, env.functional_id) == ("837P", "005010X222A1", "HC")
    assert (env.interchange_control, env.group_control, env.set_control) == (42, 7, "0001")
    assert (env.sender_id, env.receiver_id, env.reference) == ("PMSTEST", "SANDBOXCH", "BATCH1")
    assert (env.submitter_id, env.submitter_name) == ("PMSTEST", "MAPLE BILLING OFFICE")
    assert env.receiver_code == "SANDBOXCH"
    assert dependent.envelope is env  # one envelope per transaction set
    assert replacement.envelope.set_control == "0002"

    assert (own.claim_number, own.total_cents, own.frequency, own.facility_code) == (
        "C000001", 12550, "1", "11",
    )  # fmt: skip
    assert (own.payer_id, own.member_id, own.dependent) == ("SYN01", "XYZ123456789", False)
    assert (own.responsibility, own.filing_indicator) == ("P", "CI")
    assert own.patient == cd.PersonName("DOE", "JANE", "A")
    assert own.payer_claim_number is None
    assert (own.billing.name.last, own.billing.npi, own.billing.tin) == (
        "MAPLE FAMILY MEDICINE", "1234567893", "123456789",
    )  # fmt: skip
    assert own.billing.address.zip == "627011234"
    (only,) = own.lines
    assert (only.line_number, only.qualifier, only.code, only.modifiers) == (1, "HC", "99213", ())
    assert (only.charge_cents, only.units, only.control_number) == (12550, Decimal(1), "L0001")
    assert (only.service_from, only.service_to) == (date(2024, 3, 4), date(2024, 3, 4))
    assert (own.service_from, own.service_to) == (date(2024, 3, 4), date(2024, 3, 4))

    assert (dependent.dependent, dependent.member_id) == (True, "XYZ123456789")
    assert dependent.patient == cd.PersonName("DOE", "JIMMY")
    assert dependent.total_cents == 22500
    assert [(ln.code, ln.modifiers, ln.charge_cents) for ln in dependent.lines] == [
        ("99214", (), 20000), ("36415", ("25", "59"), 2500),
    ]  # fmt: skip

    assert (replacement.frequency, replacement.payer_claim_number) == ("7", "SBXPCN0042")
    assert replacement.billing.name == cd.PersonName("TESTDOC", "ALMA", "Q", "MD")


def test_read_837_reads_an_institutional_replacement_claim():
    text = write_valid(
        interchange(
            outpatient(1),
            outpatient(2, frequency="7", payer_claim_number="SBXPCN0007"),
            kind=cd.INSTITUTIONAL,
        )
    )
    original, corrected = read_837(text)
    assert original.kind == "837I" and original.envelope.version == "005010X223A2"
    assert (original.facility_code, original.frequency, original.total_cents) == ("13", "1", 48000)
    assert [(ln.revenue_code, ln.code, ln.charge_cents, ln.control_number) for ln in original.lines] == [
        ("0450", "99283", 45000, "L0001"), ("0300", "85025", 3000, "L0002"),
    ]  # fmt: skip
    assert (corrected.frequency, corrected.payer_claim_number) == ("7", "SBXPCN0007")


def test_read_837_keeps_the_other_payers_loops_out_of_a_secondary_claim():
    (secondary,) = read_837(write_valid(interchange(_secondary(line_level=True))))
    # The 2330B NM1*PR and REF*F8 are the primary payer's, not this claim's.
    assert (secondary.payer_id, secondary.payer_claim_number) == (PAYER.payer_id, None)
    assert (secondary.member_id, secondary.responsibility) == ("SEC777", "S")  # not PRI555
    assert [ln.control_number for ln in secondary.lines] == ["L0001", "L0002"]


LFH_SAMPLES = {
    "837P/lfh__demo.837": [("26463774", 10000, True, 4)],
    "837P/lfh__demo.example1.837": [("26463774", 10000, True, 4)],
    "837P/lfh__demo.cob.example3.A.837": [("26407789", 7904, True, 3)],
    "837P/lfh__demo.ambulance.example5.837": [("051068", 76650, False, 4)],
    "837P/lfh__demo.drug.example10.2.837": [("CLMNO12345", 223293, False, 6)],
    "837I/lfh__demo.837i": [("756048Q", 8993, False, 2)],
    "837I/lfh__two-claims-single-provider.837i": [
        ("756048Q", 8995, False, 2),
        ("756049Q", 5000, False, 1),
    ],
}


@needs_samples
@pytest.mark.parametrize("name", sorted(LFH_SAMPLES))
def test_read_837_reads_the_public_samples(name):
    claims = read_837((SAMPLES / name).read_bytes())
    found = [(c.claim_number, c.total_cents, c.dependent, len(c.lines)) for c in claims]
    assert found == LFH_SAMPLES[name]
    for c in claims:
        assert c.kind == name[:4]
        assert c.total_cents == sum(ln.charge_cents for ln in c.lines)
        assert c.payer_id and c.member_id and c.billing.npi


@needs_samples
def test_read_837_reads_the_ims_sample_once_its_se_count_is_mended():
    text = (SAMPLES / "837P" / "ims__x12_valid.txt").read_text()
    with pytest.raises(X12Error, match=r"^segment 36 \(SE\): SE count wrong"):
        read_837(text)
    claims = read_837(text.replace("SE*25*", "SE*34*"))
    assert [(c.claim_number, c.total_cents, len(c.lines)) for c in claims] == [
        ("A37YH556", 50000, 1), ("A37YH667", 50000, 1),
    ]  # fmt: skip
    assert {(c.envelope.interchange_control, c.envelope.set_control) for c in claims} == {
        (905, "987654")
    }


@needs_samples
@pytest.mark.parametrize(
    "name, message",
    [
        ("837P/ims__x12_bad_valid_code.txt", r"^segment 18 \(HL\): subscriber level"),
        # Its composites use ">" while ISA16 declares ":".
        ("837I/lfh__ppo-repriced-claim.837i", r"^segment 26 \(CLM\): CLM05-3 is missing$"),
    ],
)
def test_read_837_refuses_the_broken_samples_by_position(name, message):
    with pytest.raises(X12Error, match=message):
        read_837((SAMPLES / name).read_bytes())


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("CLM*C000001*125.5*", "CLM*C000001*125.555*", r"\(CLM\): CLM02 has fractions of a cent"),
        ("SV1*HC:99213*125.5*UN*1", "SV1*HC:99213*125.5*UN*", r"\(SV1\): SV104 is missing"),
        ("NM1*IL*1*DOE*JANE*A***MI*XYZ123456789", "NM1*IL*1*DOE*JANE*A***MI*",
         r"\(NM1\): NM109 is missing"),
        ("DTP*472*D8*20240304", "DTP*472*D8*20241304", r"\(DTP\): DTP03 is not a valid date"),
        ("GS*HC*", "GS*HP*", r"\(GS\): GS01 is not HC"),
        ("*005010X222A1", "*004010X098A1", r"\(ST\): the 837 version"),
    ],
)  # fmt: skip
def test_read_837_names_the_segment_and_element_never_the_value(old, new, message):
    text = write_valid(interchange(claim()))
    with pytest.raises(X12Error, match=message) as info:
        read_837(text.replace(old, new))
    assert not any(value in str(info.value) for value in PHI)


def test_read_837_refuses_a_claim_without_service_lines():
    text = without(write_valid(interchange(claim())), "LX*", "SV1*", "DTP*472", "REF*6R")
    with pytest.raises(X12Error, match=r"^segment 24 \(CLM\): the claim has no service lines"):
        read_837(text)


# --- 999 ----------------------------------------------------------------------------------
def test_an_accepting_999_passes_pyx12_and_reads_back_set_by_set():
    claims = submitted()
    text = valid(write_999(ENVELOPE, group_verdicts(claims)))
    assert find(text, "AK1") == ["AK1*HC*7*005010X222A1"]
    ack = read_acknowledgment(text)
    assert (ack.kind, ack.sender_id, ack.receiver_id, ack.interchange_control) == (
        "999", "SANDBOXPAYER", "PMSTEST", 9001,
    )  # fmt: skip
    (group,) = ack.groups
    assert (group.group_control, group.status, group.version) == (7, "A", "005010X222A1")
    assert (group.sets_included, group.sets_received, group.sets_accepted) == (2, 2, 2)
    assert [(s.control_number, s.status) for s in group.sets] == [("0001", "A"), ("0002", "A")]


def test_a_999_rejecting_one_set_says_where_and_reads_back_partially_accepted():
    error = SegmentError(
        "NM1",
        position=17,
        loop_id="2010",
        elements=(ElementError(9, "7", reference="67"),),
        claim_number="C000001",
    )
    verdicts = group_verdicts(submitted(), {"0001": [error]})
    text = valid(write_999(ENVELOPE, verdicts))
    assert find(text, "IK3") == ["IK3*NM1*17*2010*8"]
    assert find(text, "CTX") == ["CTX*CLM01:C000001"]
    assert find(text, "IK4") == ["IK4*9*67*7"]
    assert find(text, "IK5") == ["IK5*R*5", "IK5*A"]
    assert find(text, "AK9") == ["AK9*P*2*2*1"]
    (group,) = read_acknowledgment(text).groups
    assert group.status == "P"
    rejected, accepted = group.sets
    assert (rejected.control_number, rejected.rejected, rejected.syntax_codes) == (
        "0001",
        True,
        ("5",),
    )
    assert [(e.segment_id, e.segment_position, e.element_position, e.code) for e in rejected.errors] == [
        ("NM1", 17, None, "8"), ("NM1", 17, "9", "7"),
    ]  # fmt: skip
    assert (accepted.control_number, accepted.rejected) == ("0002", False)


def test_a_999_can_reject_a_set_for_its_trailer_alone_and_a_whole_group():
    verdict = GroupVerdict(
        12, "005010X223A2", (SetVerdict("0001", syntax_codes=("4",), version="005010X223A2"),)
    )
    text = valid(write_999(ENVELOPE, [verdict]))
    assert find(text, "IK5") == ["IK5*R*4"] and find(text, "AK9") == ["AK9*R*1*1*0"]
    (group,) = read_acknowledgment(text).groups
    assert (group.group_control, group.status, group.sets[0].syntax_codes) == (12, "R", ("4",))


@pytest.mark.parametrize(
    "groups, message",
    [
        ([], "at least one functional group"),
        ([GroupVerdict(1, "005010X222A1", ())], "has no transaction sets"),
        (
            [GroupVerdict(1, "005010X222A1", (SetVerdict("1", (SegmentError("NM1", 5, loop_id="2010BA"),)),))],
            "IK303 is longer than 4 characters",
        ),
        ([GroupVerdict(1, "005010X222A1", (SetVerdict("1*2"),))], "AK202 is missing or has characters"),
    ],
)  # fmt: skip
def test_write_999_refuses_what_it_cannot_write(groups, message):
    with pytest.raises(ValueError, match=message):
        write_999(ENVELOPE, groups)


# --- 277CA --------------------------------------------------------------------------------
def verdict(c: SubmittedClaim, **kw) -> ClaimVerdict:
    base = dict(
        claim_number=c.claim_number,
        total_cents=c.total_cents,
        patient=c.patient,
        member_id=c.member_id,
        billing=c.billing,
        service_from=c.service_from,
        service_to=c.service_to,
    )
    base.update(kw)
    return ClaimVerdict(**base)


def write_ca(claims: list[ClaimVerdict]) -> str:
    return write_277ca(
        ENVELOPE,
        payer=SANDBOX,
        claims=claims,
        batch="BATCH1",
        received=date(2024, 3, 5),
        processed=date(2024, 3, 6),
    )


def test_a_277ca_accepting_and_rejecting_claims_passes_pyx12_and_reads_back():
    own, dependent, replacement = submitted()
    bad_line = dependent.lines[1]
    claims = [
        verdict(own, payer_claim_number="SBXPCN0001", clearinghouse_trace="CH0001"),
        verdict(
            dependent,
            statuses=(INVALID_MEMBER_ID,),
            lines=(
                LineVerdict(
                    bad_line.code,
                    bad_line.charge_cents,
                    bad_line.units,
                    (INVALID_PROCEDURE_CODE,),
                    bad_line.service_from,
                    control_number=bad_line.control_number,
                    modifiers=bad_line.modifiers,
                ),
            ),
        ),
        verdict(replacement, statuses=(ACCEPTED,), payer_claim_number="SBXPCN0043"),
    ]
    text = valid(write_ca(claims))
    # One provider level per billing provider; our claim number is the 2200D TRN02.
    assert find(text, "HL*") == ["HL*1**20*1", "HL*2*1*21*1", "HL*3*2*19*1", "HL*4*3*PT",
                                 "HL*5*3*PT", "HL*6*2*19*1", "HL*7*6*PT"]  # fmt: skip
    assert find(text, "TRN*2") == [
        "TRN*2*BATCH1",
        "TRN*2*C000001",
        "TRN*2*C000002",
        "TRN*2*C000003",
    ]
    assert find(text, "STC*A7") == ["STC*A7:164:IL*20240306*U*225", "STC*A7:454*20240306*U"]
    assert find(text, "QTY") == ["QTY*90*2", "QTY*AA*1", "QTY*QA*1", "QTY*QC*1", "QTY*QA*1"]
    assert find(text, "AMT*YY") == ["AMT*YY*225", "AMT*YY*225"]

    ack = read_acknowledgment(text)
    assert (ack.kind, ack.interchange_control) == ("277CA", 9001)
    found = [(c.claim_number, c.accepted, c.payer_claim_number, c.total_cents) for c in ack.claims]
    assert found == [
        ("C000001", True, "SBXPCN0001", 12550),
        ("C000002", False, None, 22500),
        ("C000003", True, "SBXPCN0043", 12550),
    ]
    first, second, _ = ack.claims
    assert [(s.category, s.code, s.entity) for s in first.statuses] == [("A2", "20", None)]
    assert (first.clearinghouse_trace, first.service_from) == ("CH0001", date(2024, 3, 4))
    assert [(s.category, s.code, s.entity) for s in second.statuses] == [("A7", "164", "IL")]
    (line_ack,) = second.lines
    assert (line_ack.control_number, line_ack.procedure_code) == ("L0002", "36415")
    assert [(s.category, s.code) for s in line_ack.statuses] == [("A7", "454")]


def test_a_277ca_rejecting_every_claim_with_several_statuses_passes_pyx12():
    claims = [
        verdict(
            c,
            statuses=(INVALID_MEMBER_ID, INVALID_BILLING_NPI, Status("A7", "187"), OUT_OF_BALANCE),
        )
        for c in submitted()[:1]
    ] + [
        verdict(c, statuses=(Status("A3", "33", "IL"),), service_to=date(2024, 3, 9))
        for c in read_837(write_valid(interchange(outpatient(5), kind=cd.INSTITUTIONAL)))
    ]
    text = valid(write_ca(claims))
    assert find(text, "STC*A1:19:PR") == [
        "STC*A1:19:PR*20240306*U*605.5", "STC*A1:19:PR**U*605.5",
    ]  # fmt: skip
    # Three statuses per STC (STC01, STC10, STC11), then another STC.
    assert find(text, "STC*A7") == [
        "STC*A7:164:IL*20240306*U*125.5******A7:562:85*A7:187",
        "STC*A7:400*20240306*U*125.5",
    ]
    assert find(text, "DTP*472*RD8") == ["DTP*472*RD8*20240304-20240309"]
    first, second = read_acknowledgment(text).claims
    assert not first.accepted and not second.accepted
    assert [s.code for s in first.statuses] == ["164", "562", "187", "400"]
    assert (second.claim_number, second.total_cents, second.service_to) == (
        "C000005", 48000, date(2024, 3, 9),
    )  # fmt: skip


def test_write_277ca_refuses_a_claim_neither_accepted_nor_rejected_without_naming_people():
    (c, *_) = submitted()
    with pytest.raises(ValueError, match=r"claim 1 \(C000001\) is neither accepted") as info:
        write_ca([verdict(c, statuses=(Status("P1", "20"),))])
    assert not any(value in str(info.value) for value in PHI)
    with pytest.raises(ValueError, match="a line is listed only to reject it"):
        write_ca([verdict(c, statuses=(INVALID_MEMBER_ID,), lines=(
            LineVerdict("99213", 12550, Decimal(1), (ACCEPTED,)),
        ))])  # fmt: skip
    with pytest.raises(ValueError, match="billing provider NPI"):
        write_ca([verdict(c, billing=replace(c.billing, npi=None))])


# --- 835 ----------------------------------------------------------------------------------
def paid_claim(c: SubmittedClaim, payer_claim_number: str) -> AdjudicatedClaim:
    """Primary payment: each line allowed at 80%, a PR-1 deductible of 20.00
    on the first line, the rest of the allowed paid; CO-45 for the difference."""
    lines = []
    deductible = 2000
    for ln in c.lines:
        allowed = ln.charge_cents * 8 // 10
        patient = min(deductible, allowed)
        deductible -= patient
        adjustments = (Adjustment("CO", "45", ln.charge_cents - allowed),)
        if patient:
            adjustments += (Adjustment("PR", "1", patient),)
        lines.append(
            AdjudicatedLine(
                ln.code,
                ln.charge_cents,
                allowed - patient,
                ln.service_from,
                units=ln.units,
                modifiers=ln.modifiers,
                control_number=ln.control_number,
                allowed_cents=allowed,
                adjustments=adjustments,
            )
        )
    return AdjudicatedClaim(
        c.claim_number,
        "1",
        c.total_cents,
        sum(ln.paid_cents for ln in lines),
        payer_claim_number,
        c.patient,
        c.member_id,
        filing_indicator="HM",
        lines=tuple(lines),
    )


def denied_claim(c: SubmittedClaim) -> AdjudicatedClaim:
    """Denied as not medically necessary (CO-50, N115) with a CO-97 bundled line (M15)."""
    first, *rest = c.lines
    lines = [
        AdjudicatedLine(first.code, first.charge_cents, 0, first.service_from,
                        control_number=first.control_number,
                        adjustments=(Adjustment("CO", "50", first.charge_cents),), remarks=("N115",)),
    ] + [
        AdjudicatedLine(ln.code, ln.charge_cents, 0, ln.service_from, modifiers=ln.modifiers,
                        control_number=ln.control_number,
                        adjustments=(Adjustment("CO", "97", ln.charge_cents),), remarks=("M15",))
        for ln in rest
    ]  # fmt: skip
    return AdjudicatedClaim(
        c.claim_number, "4", c.total_cents, 0, "SBXPCN0002", c.patient, c.member_id,
        lines=tuple(lines),
    )  # fmt: skip


def remittance(claims, plb=(), **kw) -> Remittance:
    base = dict(
        payer=SANDBOX,
        payee=submitted()[0].billing,
        payment_cents=sum(c.paid_cents for c in claims) - sum(p.amount_cents for p in plb),
        method="ACH",
        payment_date=date(2024, 3, 20),
        trace_number="SBXEFT0001",
        claims=tuple(claims),
        provider_adjustments=tuple(plb),
        production_date=date(2024, 3, 19),
        payer_account=PAYER_BANK,
        payee_account=PAYEE_BANK,
    )
    base.update(kw)
    return Remittance(**base)


def read_back(text: str) -> tuple[RemitHeader, list[RemitClaim], RemitSetEnd]:
    header, *claims, end = read_835(io.BytesIO(text.encode()))
    assert end.problem is None
    return header, claims, end


def test_an_835_with_payments_a_denial_a_takeback_and_interest_passes_pyx12_and_reads_back():
    own, dependent, replacement = submitted()
    first = paid_claim(own, "SBXPCN0001")
    corrected = replace(
        paid_claim(replacement, "SBXPCN0043"), adjustments=(Adjustment("PR", "3", 1500),)
    )
    corrected = replace(corrected, paid_cents=corrected.paid_cents - 1500)  # a PR-3 copay
    claims = [first, denied_claim(dependent), reversal(first), corrected]
    plb = [ProviderLevelAdjustment("L6", -137), ProviderLevelAdjustment("WO", 2500, "SBXPCN0099")]
    text = valid(write_835(ENVELOPE, remittance(claims, plb)))

    assert find(text, "BPR") == [
        "BPR*I*41.77*C*ACH*CCP*01*011000015*DA*100200300*1391234567**01*021000021*DA*400500600"
        "*20240320"
    ]
    assert find(text, "CLP") == [
        "CLP*C000001*1*125.5*80.4*20*HM*SBXPCN0001*11*1",
        "CLP*C000002*4*225*0*0*12*SBXPCN0002*11*1",
        "CLP*C000001*22*-125.5*-80.4*-20*HM*SBXPCN0001*11*1",
        "CLP*C000003*1*125.5*65.4*35*HM*SBXPCN0043*11*1",
    ]
    assert find(text, "LQ") == ["LQ*HE*N115", "LQ*HE*M15"]
    assert find(text, "PLB") == ["PLB*1234567893*20241231*L6*-1.37*WO:SBXPCN0099*25"]

    header, found, end = read_back(text)
    assert (header.payment_cents, header.method, header.trace_number) == (4177, "ACH", "SBXEFT0001")
    assert (header.payer_identifier, header.payee_identifier, header.payee_tin) == (
        "SYN01", "1234567893", "123456789",
    )  # fmt: skip
    assert [(c.claim_number, c.status_code, c.charge_cents, c.paid_cents, c.patient_resp_cents)
            for c in found] == [
        ("C000001", "1", 12550, 8040, 2000),
        ("C000002", "4", 22500, 0, 0),
        ("C000001", "22", -12550, -8040, -2000),
        ("C000003", "1", 12550, 6540, 3500),
    ]  # fmt: skip
    paid, denied, taken_back, _ = found
    (line,) = paid.lines
    assert (line.control_number, line.allowed_cents, line.service_from) == (
        "L0001", 10040, date(2024, 3, 4),
    )  # fmt: skip
    assert [(a.label, a.amount_cents) for a in line.adjustments] == [
        ("CO-45", 2510),
        ("PR-1", 2000),
    ]
    assert [(ln.procedure, ln.modifiers, ln.remarks, [a.label for a in ln.adjustments])
            for ln in denied.lines] == [
        ("99214", (), ["N115"], ["CO-50"]), ("36415", ("25", "59"), ["M15"], ["CO-97"]),
    ]  # fmt: skip
    assert [(a.label, a.amount_cents) for a in taken_back.lines[0].adjustments] == [
        ("CO-45", -2510), ("PR-1", -2000),
    ]  # fmt: skip
    assert [(p.reason, p.reference, p.amount_cents) for p in end.provider_adjustments] == [
        ("L6", None, -137), ("WO", "SBXPCN0099", 2500),
    ]  # fmt: skip
    # The rule every 835 keeps: sum(CLP04) - sum(PLB) = BPR02.
    total = sum(c.paid_cents for c in found) - sum(p.amount_cents for p in end.provider_adjustments)
    assert total == header.payment_cents


def test_an_institutional_835_by_check_with_claim_level_adjustments_passes_pyx12():
    (c,) = read_837(write_valid(interchange(outpatient(1), kind=cd.INSTITUTIONAL)))
    lines = (
        AdjudicatedLine("99283", 45000, 30000, date(2024, 3, 4), revenue_code="0450",
                        control_number="L0001", adjustments=(Adjustment("CO", "45", 15000),)),
        AdjudicatedLine("", 3000, 3000, date(2024, 3, 4), service_to=date(2024, 3, 5),
                        revenue_code="0300", control_number="L0002"),
    )  # fmt: skip
    claim_ = AdjudicatedClaim(
        c.claim_number, "1", 48000, 28000, "SBXPCN0100", c.patient, c.member_id,
        filing_indicator="MC", facility_code="13", lines=lines,
        adjustments=(Adjustment("PR", "2", 5000, Decimal(1)),),
    )  # fmt: skip
    text = valid(write_835(ENVELOPE, remittance([claim_], method="CHK", trace_number="CHK10001")))
    assert find(text, "BPR") == ["BPR*I*280*C*CHK************20240320"]
    assert find(text, "SVC") == ["SVC*HC:99283*450*300*0450*1", "SVC*NU:0300*30*30**1"]
    assert find(text, "DTM*15") == ["DTM*150*20240304", "DTM*151*20240305"]
    _, (found,), _ = read_back(text)
    assert (found.facility_type, found.patient_resp_cents) == ("13", 5000)
    assert [(a.label, a.amount_cents, a.quantity) for a in found.adjustments] == [
        ("PR-2", 5000, Decimal(1)),
    ]  # fmt: skip
    assert [(ln.qualifier, ln.procedure, ln.revenue_code) for ln in found.lines] == [
        ("HC", "99283", "0450"), ("NU", "0300", None),
    ]  # fmt: skip


def test_an_835_that_pays_nothing_is_a_non_payment_notice():
    (_, dependent, _) = submitted()
    text = valid(write_835(ENVELOPE, remittance([denied_claim(dependent)], method="NON")))
    assert find(text, "BPR") == ["BPR*H*0*C*NON************20240320"]
    header, (found,), _ = read_back(text)
    assert (header.handling, header.method, header.payment_cents) == ("H", "NON", 0)
    assert (found.status_code, found.paid_cents) == ("4", 0)


def test_reversal_negates_every_amount_and_keeps_the_claim_balanced():
    own = paid_claim(submitted()[0], "SBXPCN0001")
    back = reversal(own)
    assert (back.status, back.charge_cents, back.paid_cents) == ("22", -12550, -8040)
    assert back.patient_responsibility_cents == -own.patient_responsibility_cents
    assert back.lines[0].allowed_cents == -10040
    assert reversal(back).lines == own.lines  # twice is the original's amounts again


def _unbalanced_line(c: AdjudicatedClaim) -> AdjudicatedClaim:
    line = replace(c.lines[0], paid_cents=c.lines[0].paid_cents + 1)
    return replace(c, lines=(line,), paid_cents=c.paid_cents + 1)


@pytest.mark.parametrize(
    "change, message",
    [
        (_unbalanced_line, r"claim 1 \(C000001\) line 1 does not balance: SVC02"),
        (lambda c: replace(c, paid_cents=c.paid_cents - 1), r"\(C000001\) does not balance: CLP03"),
        (lambda c: replace(c, status="4"), r"a denied claim \(CLP02 4\) pays nothing"),
        (lambda c: replace(c, status="22"), "a reversal .* carries negative amounts"),
        (lambda c: replace(c, status="99"), "CLP02 is not a claim status code"),
        (lambda c: replace(c, filing_indicator="CI"), "CLP06 is not an 835 claim filing"),
        (lambda c: replace(c, adjustments=(Adjustment("CR", "45", 0),)), "CAS group must be"),
    ],
)
def test_write_835_refuses_a_claim_that_does_not_balance_or_make_sense(change, message):
    claim_ = change(paid_claim(submitted()[0], "SBXPCN0001"))
    with pytest.raises(ValueError, match=message) as info:
        write_835(ENVELOPE, remittance([claim_]))
    assert not any(value in str(info.value) for value in PHI)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(payment_cents=8039), r"payment does not balance: .* are not BPR02 \(80.39\)"),
        (dict(method="NON"), "NON pays nothing"),
        (dict(payee_account=None), "needs the payer's and the payee's bank accounts"),
        (dict(method="WIRE"), "must be ACH, CHK or NON"),
        (dict(payee=replace(submitted()[0].billing, npi=None)), "payee NPI is missing"),
    ],
)
def test_write_835_refuses_a_payment_that_does_not_balance_or_cannot_be_made(options, message):
    claims = [paid_claim(submitted()[0], "SBXPCN0001")]
    with pytest.raises(ValueError, match=message):
        write_835(ENVELOPE, remittance(claims, **options))


def test_write_835_refuses_a_net_takeback_and_a_zero_ach_payment():
    own = paid_claim(submitted()[0], "SBXPCN0001")
    with pytest.raises(ValueError, match="BPR02 cannot be negative"):
        write_835(ENVELOPE, remittance([reversal(own)]))
    denied = denied_claim(submitted()[1])
    with pytest.raises(ValueError, match="a zero payment is sent with method NON"):
        write_835(ENVELOPE, remittance([denied]))


# --- pyx12 is a real judge of these files --------------------------------------------------
def test_pyx12_finds_a_missing_required_segment_in_each_response():
    own, *_ = submitted()
    files = {
        "IK5": write_999(ENVELOPE, group_verdicts([own])),
        "STC*A2": write_ca([verdict(own, payer_claim_number="SBXPCN0001")]),
        "NM1*QC": write_835(ENVELOPE, remittance([paid_claim(own, "SBXPCN0001")])),
    }
    for prefix, text in files.items():
        valid(text)
        report = validate_text(without(text, prefix))
        assert not report.valid, prefix
