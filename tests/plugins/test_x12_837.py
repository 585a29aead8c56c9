"""The 837P and 837I writers: every file they write passes pyx12 with zero errors,
and says what a biller expects to read in it. Synthetic data only."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from pms_x12.claims837 import INSTITUTIONAL, PROFESSIONAL, _amount, _decimal

from pms_core import claimdata as cd
from pms_core.edi import X12Problem
from pms_core.validation import npi_check_digit


# --- a small factory ----------------------------------------------------------------
def npi(nine: str) -> str:
    return nine + npi_check_digit(nine)


def addr(line1="100 TEST WAY", city="SPRINGFIELD", state="IL", zip="627011234", line2=None):
    return cd.Address(line1=line1, city=city, state=state, zip=zip, line2=line2)


BILLING_ORG = cd.ProviderView(
    name=cd.PersonName("Maple Family Medicine"),
    npi=npi("123456789"),
    taxonomy="207Q00000X",
    tin="123456789",
    address=addr(),
    phone="2175550100",
)
BILLING_PERSON = cd.ProviderView(
    name=cd.PersonName("Testdoc", "Alma", "Q", "MD"),
    npi=npi("198765432"),
    taxonomy="207R00000X",
    tin="987654321",
    address=addr("200 CLINIC RD"),
)
RENDERING = cd.ProviderView(
    name=cd.PersonName("Renderer", "Rita"), npi=npi("155555555"), taxonomy="207Q00000X"
)
OTHER_RENDERING = cd.ProviderView(
    name=cd.PersonName("Nurse", "Nora"), npi=npi("166666666"), taxonomy="363LF0000X"
)
REFERRING = cd.ProviderView(name=cd.PersonName("Referrer", "Ron"), npi=npi("177777777"))
FACILITY = cd.ProviderView(
    name=cd.PersonName("Maple Outpatient Annex"),
    npi=npi("188888888"),
    address=addr("300 ANNEX BLVD", zip="627029876"),
)
PAYER = cd.PayerView("Synthetic Health Plan", "SYN01", addr("PO BOX 1", "CHICAGO", "IL", "60601"))
PRIMARY_PAYER = cd.PayerView("Primary Test Mutual", "PTM22")

SUBSCRIBER_MEMBER = cd.MemberView(
    name=cd.PersonName("Doe", "Jane", "A"), dob=date(1980, 5, 17), sex="F", address=addr()
)
CHILD = cd.MemberView(
    name=cd.PersonName("Doe", "Jimmy"), dob=date(2015, 2, 3), sex="M", address=addr()
)


def subscriber(responsibility="P", relationship="18", **kw):
    base = dict(
        member=SUBSCRIBER_MEMBER,
        member_id="XYZ123456789",
        group_number="GRP001",
        plan_name=None,
        responsibility=responsibility,
        claim_filing_indicator="CI",
        relationship=relationship,
    )
    base.update(kw)
    return cd.SubscriberView(**base)


def line(n=1, code="99213", charge=12550, **kw):
    base = dict(
        line_number=n,
        control_number=f"L{n:04d}",
        code=code,
        modifiers=(),
        charge_cents=charge,
        units=Decimal("1"),
        unit_basis="UN",
        service_date=date(2024, 3, 4),
        diagnosis_pointers=(1,),
    )
    base.update(kw)
    return cd.LineView(**base)


def claim(claim_id=1, lines=None, **kw):
    lines = lines if lines is not None else (line(),)
    base = dict(
        claim_id=claim_id,
        claim_number=f"C{claim_id:06d}",
        kind=cd.PROFESSIONAL,
        frequency=cd.FREQ_ORIGINAL,
        total_cents=sum(ln.charge_cents for ln in lines),
        place_of_service="11",
        billing=BILLING_ORG,
        subscriber=subscriber(),
        payer=PAYER,
        patient=None,
        diagnoses=("E119", "I10"),
        lines=tuple(lines),
    )
    base.update(kw)
    return cd.ClaimView(**base)


def outpatient(claim_id=1, lines=None, **kw):
    lines = lines or (
        line(1, "99283", 45000, revenue_code="0450"),
        line(2, "85025", 3000, revenue_code="0300"),
    )
    base = dict(
        kind=cd.INSTITUTIONAL,
        place_of_service="",
        institutional=cd.InstitutionalView(
            type_of_bill="13",
            statement_from=date(2024, 3, 4),
            statement_to=date(2024, 3, 4),
            admission_type=None,
            admission_source=None,
            patient_status="01",
            attending=RENDERING,
        ),
        diagnoses=("R079", "I10", "E119"),
    )
    base.update(kw)
    return claim(claim_id, lines, **base)


def interchange(*claims, kind=cd.PROFESSIONAL, transactions=None, **kw):
    transactions = transactions or (cd.TransactionView("0001", tuple(claims), "BATCH1"),)
    base = dict(
        kind=kind,
        sender=cd.Party("ZZ", "PMSTEST", "PMSTEST", "Maple Billing Office"),
        receiver=cd.Party("ZZ", "SANDBOXCH", "SANDBOXCH", "Sandbox Clearinghouse"),
        submitter_contact="Billing Desk",
        submitter_phone="2175550199",
        submitter_email=None,
        interchange_control=42,
        group_control=7,
        created=datetime(2024, 3, 5, 9, 7),
        transactions=tuple(transactions),
    )
    base.update(kw)
    return cd.InterchangeView(**base)


def write_valid(ic: cd.InterchangeView) -> str:
    """Write and judge: pyx12 (and our own checks) must find nothing."""
    writer = INSTITUTIONAL if ic.kind == cd.INSTITUTIONAL else PROFESSIONAL
    text = writer.write(ic)
    problems = writer.validate(text)
    assert problems == [], "\n".join(map(str, problems))
    for seg in segments(text)[1:]:  # ISA ends with its component separator
        assert not seg.endswith(("*", ":")), seg
    return text


def segments(text: str) -> list[str]:
    return [s for s in text.split("~") if s]


def find(text: str, prefix: str) -> list[str]:
    return [s for s in segments(text) if s.startswith(prefix)]


def after(text: str, prefix: str, count: int) -> list[str]:
    segs = segments(text)
    k = next(n for n, s in enumerate(segs) if s.startswith(prefix))
    return segs[k : k + count]


# --- 837P ---------------------------------------------------------------------------
def test_subscriber_is_the_patient():
    text = write_valid(interchange(claim()))
    assert find(text, "HL*") == ["HL*1**20*1", "HL*2*1*22*0"]
    assert find(text, "SBR") == ["SBR*P*18*GRP001******CI"]
    assert after(text, "NM1*IL", 4) == [
        "NM1*IL*1*DOE*JANE*A***MI*XYZ123456789",
        "N3*100 TEST WAY",
        "N4*SPRINGFIELD*IL*627011234",
        "DMG*D8*19800517*F",
    ]
    assert find(text, "CLM") == ["CLM*C000001*125.5***11:B:1*Y*A*Y*Y"]
    assert find(text, "HI") == ["HI*ABK:E119*ABF:I10"]
    assert after(text, "LX", 4) == [
        "LX*1",
        "SV1*HC:99213*125.5*UN*1***1",
        "DTP*472*D8*20240304",
        "REF*6R*L0001",
    ]
    assert not find(text, "HL*3") and not find(text, "PAT")


def test_dependent_patient_gets_a_2000c_loop():
    c = claim(patient=CHILD, subscriber=subscriber(relationship="19"))
    text = write_valid(interchange(c))
    assert find(text, "HL*") == ["HL*1**20*1", "HL*2*1*22*1", "HL*3*2*23*0"]
    assert find(text, "SBR") == ["SBR*P**GRP001******CI"]
    # The subscriber's address and demographics go only with the patient (RFI 2281).
    assert after(text, "NM1*IL", 2)[1].startswith("NM1*PR")
    assert after(text, "HL*3", 6) == [
        "HL*3*2*23*0",
        "PAT*19",
        "NM1*QC*1*DOE*JIMMY",
        "N3*100 TEST WAY",
        "N4*SPRINGFIELD*IL*627011234",
        "DMG*D8*20150203*M",
    ]
    assert after(text, "DMG*D8*2015", 2)[1].startswith("CLM*")


def test_plan_name_only_without_group_number():
    c = claim(subscriber=subscriber(group_number=None, plan_name="Gold Plan"))
    text = write_valid(interchange(c))
    assert find(text, "SBR") == ["SBR*P*18**GOLD PLAN*****CI"]


def _secondary(line_level: bool) -> cd.ClaimView:
    lines = (line(1, "99214", 20000), line(2, "36415", 2500, diagnosis_pointers=(2,)))
    primary = cd.OtherPayerView(
        subscriber=subscriber(member_id="PRI555", group_number="PG9", responsibility="P"),
        payer=PRIMARY_PAYER,
        paid_cents=13000,
        adjustments=()
        if line_level
        else (
            cd.Adjustment("CO", "45", 7000),
            cd.Adjustment("PR", "2", 2500),
        ),
        adjudicated=date(2024, 3, 20),
        payer_claim_number="PTMCLM0001",
        line_adjudications=(
            cd.LineAdjudication(
                "L0001",
                11000,
                "99214",
                (),
                Decimal("1"),
                date(2024, 3, 20),
                (cd.Adjustment("CO", "45", 6000), cd.Adjustment("PR", "2", 3000)),
            ),
            cd.LineAdjudication(
                "L0002",
                2000,
                "36415",
                (),
                Decimal("1"),
                date(2024, 3, 20),
                (cd.Adjustment("CO", "45", 500),),
            ),
        )
        if line_level
        else (),
    )
    return claim(
        lines=lines,
        subscriber=subscriber(responsibility="S", member_id="SEC777"),
        other_payers=(primary,),
    )


def test_secondary_claim_with_line_level_primary_adjudication():
    text = write_valid(interchange(_secondary(line_level=True)))
    assert find(text, "SBR*S*18") == ["SBR*S*18*GRP001******CI"]
    assert after(text, "SBR*P", 6) == [
        "SBR*P*18*PG9******CI",
        "AMT*D*130",
        "OI***Y***Y",
        "NM1*IL*1*DOE*JANE*A***MI*PRI555",
        "N3*100 TEST WAY",
        "N4*SPRINGFIELD*IL*627011234",
    ]
    assert after(text, "NM1*PR*2*PRIMARY", 2) == [
        "NM1*PR*2*PRIMARY TEST MUTUAL*****PI*PTM22",
        "REF*F8*PTMCLM0001",  # no 2330B DTP*573: the dates are on the lines
    ]
    assert after(text, "SVD", 5) == [
        "SVD*PTM22*110*HC:99214**1",
        "CAS*CO*45*60",
        "CAS*PR*2*30",
        "DTP*573*D8*20240320",
        "AMT*EAF*30",
    ]
    assert find(text, "SVD") == ["SVD*PTM22*110*HC:99214**1", "SVD*PTM22*20*HC:36415**1"]
    segs = segments(text)
    cob = segs[segs.index("SBR*P*18*PG9******CI") : segs.index("LX*1")]
    assert not [s for s in cob if s.startswith("AMT*EAF")]  # liability goes on the lines


def test_secondary_claim_with_claim_level_primary_adjudication():
    text = write_valid(interchange(_secondary(line_level=False)))
    assert after(text, "SBR*P", 5) == [
        "SBR*P*18*PG9******CI",
        "CAS*CO*45*70",
        "CAS*PR*2*25",
        "AMT*D*130",
        "AMT*EAF*25",
    ]
    assert after(text, "NM1*PR*2*PRIMARY", 3)[1:] == ["DTP*573*D8*20240320", "REF*F8*PTMCLM0001"]
    assert not find(text, "SVD")


@pytest.mark.parametrize("frequency", [cd.FREQ_CORRECTED, cd.FREQ_VOID])
def test_corrected_and_void_claims_carry_the_payer_claim_number(frequency):
    c = claim(frequency=frequency, payer_claim_number="PAYER-ICN-1", prior_authorization="AUTH9")
    text = write_valid(interchange(c))
    assert find(text, "CLM")[0].split("*")[5] == f"11:B:{frequency}"
    assert after(text, "REF*G1", 2) == ["REF*G1*AUTH9", "REF*F8*PAYER-ICN-1"]


def test_original_claim_never_carries_a_payer_claim_number():
    text = write_valid(interchange(claim(payer_claim_number="PAYER-ICN-1")))
    assert not find(text, "REF*F8")


def test_referring_rendering_and_service_facility():
    c = claim(
        referring=REFERRING,
        rendering=RENDERING,
        facility=FACILITY,
        onset_date=date(2024, 2, 28),
    )
    text = write_valid(interchange(c))
    assert after(text, "CLM", 3)[1:] == ["DTP*431*D8*20240228", "HI*ABK:E119*ABF:I10"]
    assert after(text, "NM1*DN", 6) == [
        f"NM1*DN*1*REFERRER*RON****XX*{REFERRING.npi}",
        f"NM1*82*1*RENDERER*RITA****XX*{RENDERING.npi}",
        "PRV*PE*PXC*207Q00000X",
        f"NM1*77*2*MAPLE OUTPATIENT ANNEX*****XX*{FACILITY.npi}",
        "N3*300 ANNEX BLVD",
        "N4*SPRINGFIELD*IL*627029876",
    ]


def test_rendering_same_as_billing_is_not_repeated():
    same = replace(RENDERING, npi=BILLING_ORG.npi)
    text = write_valid(interchange(claim(rendering=same)))
    assert not find(text, "NM1*82")


def test_line_level_rendering_only_where_it_differs():
    lines = (
        line(1),
        line(2, "99497", 9000, rendering=OTHER_RENDERING),
        line(3, "99498", 8000, rendering=RENDERING),  # the claim's: not repeated
    )
    text = write_valid(interchange(claim(lines=lines, rendering=RENDERING)))
    assert len(find(text, "NM1*82")) == 2
    assert after(text, "REF*6R*L0002", 3)[1:] == [
        f"NM1*82*1*NURSE*NORA****XX*{OTHER_RENDERING.npi}",
        "PRV*PE*PXC*363LF0000X",
    ]
    assert segments(text)[-4].startswith("REF*6R*L0003")


def test_ndc_drug_line():
    lines = (
        line(1, "96372", 2500),
        line(
            2,
            "J1885",
            1820,
            units=Decimal("2"),
            ndc="00409379601",
            ndc_quantity=Decimal("2.0"),
            ndc_unit="ML",
        ),
    )
    text = write_valid(interchange(claim(lines=lines)))
    assert after(text, "SV1*HC:J1885", 5) == [
        "SV1*HC:J1885*18.2*UN*2***1",
        "DTP*472*D8*20240304",
        "REF*6R*L0002",
        "LIN**N4*00409379601",
        "CTP****2*ML",
    ]


def test_four_modifiers_four_pointers_line_place_of_service_and_date_range():
    dx = ("E119", "I10", "E785", "Z7984")
    ln = line(
        modifiers=("25", "59", "GT", "95"),
        diagnosis_pointers=(1, 2, 3, 4),
        units=Decimal("1.50"),
        unit_basis="MJ",
        place_of_service="02",
        service_date_end=date(2024, 3, 6),
    )
    same_pos = line(2, place_of_service="11", charge=99)
    text = write_valid(interchange(claim(lines=(ln, same_pos), diagnoses=dx)))
    sv1 = find(text, "SV1")
    assert sv1 == [
        "SV1*HC:99213:25:59:GT:95*125.5*MJ*1.5*02**1:2:3:4",
        "SV1*HC:99213*0.99*UN*1***1",
    ]
    assert find(text, "DTP*472")[0] == "DTP*472*RD8*20240304-20240306"
    assert find(text, "CLM")[0].startswith("CLM*C000001*126.49***11:B:1")


def test_twelve_diagnoses():
    dx = (
        "E119",
        "I10",
        "E785",
        "Z7984",
        "M545",
        "J449",
        "N183",
        "E039",
        "K219",
        "F419",
        "G4733",
        "R51",
    )
    text = write_valid(interchange(claim(diagnoses=dx)))
    hi = find(text, "HI")
    assert len(hi) == 1
    assert hi[0] == "HI*ABK:E119*" + "*".join(f"ABF:{c}" for c in dx[1:])


def test_many_claims_in_many_transaction_sets():
    first = (
        claim(1),
        claim(2, patient=CHILD, subscriber=subscriber(relationship="19")),
        claim(3, lines=(line(1), line(2, "99214", 20000))),
    )
    second = (claim(4, billing=BILLING_PERSON), claim(5, billing=BILLING_PERSON))
    ic = interchange(
        transactions=(
            cd.TransactionView("0001", first, "B1"),
            cd.TransactionView("0002", second, "B2"),
        )
    )
    text = write_valid(ic)
    segs = segments(text)
    assert len(segs[0]) == 105  # ISA is fixed width (106 with its terminator)
    assert segs[0].startswith(
        "ISA*00*          *00*          *ZZ*PMSTEST        *ZZ*SANDBOXCH      *"
    )
    assert segs[0].endswith("*240305*0907*^*00501*000000042*1*P*:")
    assert segs[1] == "GS*HC*PMSTEST*SANDBOXCH*20240305*0907*7*X*005010X222A1"
    assert segs[-2:] == ["GE*2*7", "IEA*1*000000042"]
    # HL numbering restarts in each set and follows parent/child order.
    st_at = [k for k, s in enumerate(segs) if s.startswith("ST*")]
    se_at = [k for k, s in enumerate(segs) if s.startswith("SE*")]
    hls = [[s for s in segs[a:b] if s.startswith("HL*")] for a, b in zip(st_at, se_at, strict=True)]
    assert hls[0] == [
        "HL*1**20*1",
        "HL*2*1*22*0",
        "HL*3*1*22*1",
        "HL*4*3*23*0",
        "HL*5*1*22*0",
    ]
    assert hls[1] == ["HL*1**20*1", "HL*2*1*22*0", "HL*3*1*22*0"]
    for a, b in zip(st_at, se_at, strict=True):
        control = segs[a].split("*")[2]
        assert segs[b] == f"SE*{b - a + 1}*{control}"
    assert find(text, "BHT") == [
        "BHT*0019*00*B1*20240305*0907*CH",
        "BHT*0019*00*B2*20240305*0907*CH",
    ]
    assert len(find(text, "CLM")) == 5


def test_organization_and_person_billing_provider():
    org = write_valid(interchange(claim()))
    assert after(org, "HL*1", 7) == [
        "HL*1**20*1",
        "PRV*BI*PXC*207Q00000X",
        f"NM1*85*2*MAPLE FAMILY MEDICINE*****XX*{BILLING_ORG.npi}",
        "N3*100 TEST WAY",
        "N4*SPRINGFIELD*IL*627011234",
        "REF*EI*123456789",
        "PER*IC**TE*2175550100",
    ]
    person = write_valid(interchange(claim(billing=BILLING_PERSON)))
    assert find(person, "NM1*85") == [f"NM1*85*1*TESTDOC*ALMA*Q**MD*XX*{BILLING_PERSON.npi}"]
    assert not find(person, "PER*IC**")


def test_pay_to_address():
    c = claim(pay_to=addr("PO BOX 900", "PEORIA", "IL", "61601"))
    text = write_valid(interchange(c))
    assert after(text, "PER*IC**TE", 4)[1:] == ["NM1*87*2", "N3*PO BOX 900", "N4*PEORIA*IL*61601"]


def test_claims_with_another_pay_to_start_a_new_billing_provider_level():
    moved = claim(2, pay_to=addr("PO BOX 900", "PEORIA", "IL", "61601"))
    text = write_valid(interchange(claim(1), moved))
    assert find(text, "HL*") == ["HL*1**20*1", "HL*2*1*22*0", "HL*3**20*1", "HL*4*3*22*0"]


def test_text_is_made_x12_safe():
    member = cd.MemberView(
        name=cd.PersonName("o'bri*en~", "José:", "Ñ", None),
        dob=date(1970, 1, 2),
        sex=None,
        address=addr("12 Main St\nApt 4^B", city="Saint-Jérôme", zip="62701"),
    )
    long_org = replace(
        BILLING_ORG, name=cd.PersonName("Very Long Organization Name " * 4), phone=None
    )
    c = claim(
        subscriber=subscriber(member=member, member_id="AB*12:34~"),
        claim_number="CLM~7*",
        billing=long_org,
    )
    text = write_valid(interchange(c))
    assert find(text, "NM1*IL") == ["NM1*IL*1*O'BRIEN*JOSE*N***MI*AB1234"]
    assert after(text, "NM1*IL", 4)[1:] == [
        "N3*12 MAIN ST APT 4B",
        "N4*SAINT-JEROME*IL*62701",
        "DMG*D8*19700102*U",
    ]
    assert find(text, "CLM")[0].startswith("CLM*CLM7*")
    name = find(text, "NM1*85")[0].split("*")[3]
    assert len(name) == 60 and name == name.strip() and name.isupper()


def test_other_separators():
    seps = {"segment": "~\n", "element": "|", "component": ">", "repeat": "!"}
    c = claim(lines=(line(modifiers=("25",)),), subscriber=subscriber(member_id="A|B>1"))
    text = PROFESSIONAL.write(interchange(c, separators=seps))
    assert PROFESSIONAL.validate(text) == []
    assert text.splitlines()[0].endswith("|00501|000000042|1|P|>~")
    assert "|!|00501|" in text.splitlines()[0]
    assert "SV1|HC>99213>25|125.5|UN|1|||1~" in text.splitlines()
    assert "NM1|IL|1|DOE|JANE|A|||MI|AB1~" in text.splitlines()


# --- 837I ---------------------------------------------------------------------------
def test_outpatient_institutional_claim():
    c = outpatient(referring=REFERRING, facility=FACILITY, prior_authorization="PA77")
    text = write_valid(interchange(c, kind=cd.INSTITUTIONAL))
    assert find(text, "GS")[0].endswith("*X*005010X223A2")
    assert find(text, "ST")[0] == "ST*837*0001*005010X223A2"
    assert after(text, "CLM", 9) == [
        "CLM*C000001*480***13:A:1**A*Y*Y",
        "DTP*434*RD8*20240304-20240304",
        "CL1***01",
        "REF*G1*PA77",
        "HI*ABK:R079",
        "HI*ABF:I10*ABF:E119",
        f"NM1*71*1*RENDERER*RITA****XX*{RENDERING.npi}",
        "PRV*AT*PXC*207Q00000X",
        f"NM1*77*2*MAPLE OUTPATIENT ANNEX*****XX*{FACILITY.npi}",
    ]
    assert find(text, "NM1*DN") == [f"NM1*DN*1*REFERRER*RON****XX*{REFERRING.npi}"]
    assert find(text, "SV2") == ["SV2*0450*HC:99283*450*UN*1", "SV2*0300*HC:85025*30*UN*1"]
    assert find(text, "DTP*472") == ["DTP*472*D8*20240304"] * 2


def test_institutional_dependent_admission_onset_and_secondary():
    ins = cd.InstitutionalView(
        type_of_bill="0131",
        statement_from=date(2024, 3, 1),
        statement_to=date(2024, 3, 2),
        admission_type="1",
        admission_source="7",
        patient_status="01",
        attending=RENDERING,
        admission_date=date(2024, 3, 1),
    )
    lines = (
        line(1, "99284", 60000, revenue_code="0450"),
        line(2, "", 20000, revenue_code="0762", units=Decimal("8"), rendering=OTHER_RENDERING),
    )
    primary = cd.OtherPayerView(
        subscriber=subscriber(member_id="PRI555"),
        payer=PRIMARY_PAYER,
        paid_cents=50000,
        adjudicated=date(2024, 3, 20),
        line_adjudications=(
            cd.LineAdjudication(
                "L0001",
                40000,
                "99284",
                (),
                Decimal("1"),
                date(2024, 3, 20),
                (cd.Adjustment("CO", "45", 15000), cd.Adjustment("PR", "3", 5000)),
            ),
            cd.LineAdjudication(
                "L0002",
                10000,
                "",
                (),
                Decimal("8"),
                date(2024, 3, 20),
                (cd.Adjustment("CO", "45", 10000),),
            ),
        ),
    )
    c = outpatient(
        lines=lines,
        institutional=ins,
        patient=CHILD,
        subscriber=subscriber(relationship="19", responsibility="S"),
        onset_date=date(2024, 2, 29),
        other_payers=(primary,),
        frequency=cd.FREQ_CORRECTED,
        payer_claim_number="ICN42",
    )
    text = write_valid(interchange(c, kind=cd.INSTITUTIONAL))
    assert find(text, "HL*") == ["HL*1**20*1", "HL*2*1*22*1", "HL*3*2*23*0"]
    assert after(text, "CLM", 5) == [
        "CLM*C000001*800***13:A:7**A*Y*Y",
        "DTP*434*RD8*20240301-20240302",
        "DTP*435*D8*20240301",
        "CL1*1*7*01",
        "REF*F8*ICN42",
    ]
    assert find(text, "HI*BH") == ["HI*BH:11:D8:20240229"]
    assert find(text, "SVD") == ["SVD*PTM22*400*HC:99284*0450*1", "SVD*PTM22*100**0762*8"]
    assert find(text, "SV2*0762") == ["SV2*0762**200*UN*8"]
    assert find(text, "NM1*82") == [f"NM1*82*1*NURSE*NORA****XX*{OTHER_RENDERING.npi}"]


# --- values -------------------------------------------------------------------------
def test_amounts_and_quantities():
    assert [_amount(c) for c in (12550, 12500, 99, 0, 5, 100000001, -250)] == [
        "125.5",
        "125",
        "0.99",
        "0",
        "0.05",
        "1000000.01",
        "-2.5",
    ]
    with pytest.raises(TypeError):
        _amount(125.5)
    assert [_decimal(Decimal(v)) for v in ("1", "2.0", "1.50", "10", "100", "0.25")] == [
        "1",
        "2",
        "1.5",
        "10",
        "100",
        "0.25",
    ]


# --- refusals and problems ---------------------------------------------------------
def test_writers_are_claim_writers_of_their_kind():
    assert (PROFESSIONAL.kind, INSTITUTIONAL.kind) == (cd.PROFESSIONAL, cd.INSTITUTIONAL)
    for writer in (PROFESSIONAL, INSTITUTIONAL):
        assert callable(writer.write) and callable(writer.validate)


def test_writer_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="837I"):
        PROFESSIONAL.write(interchange(claim(), kind=cd.INSTITUTIONAL))
    with pytest.raises(ValueError, match="claim 1 is 837P"):
        INSTITUTIONAL.write(interchange(claim(), kind=cd.INSTITUTIONAL))
    with pytest.raises(ValueError, match="ISA06"):
        PROFESSIONAL.write(
            interchange(claim(), sender=cd.Party("ZZ", "X" * 16, "PMS", "Maple Billing Office"))
        )
    with pytest.raises(ValueError, match="separators"):
        PROFESSIONAL.write(
            interchange(claim(), separators={"segment": "~", "element": "~", "component": ":"})
        )


def test_broken_claim_is_reported_by_position_without_values(caplog, capsys):
    bad_rendering = replace(RENDERING, npi="123456789")  # nine digits
    bad_billing = replace(BILLING_ORG, address=addr("PO Box 12", city="Q", zip="62701"))
    c = claim(
        rendering=bad_rendering,
        billing=bad_billing,
        total_cents=99999,  # not the sum of the lines
        frequency=cd.FREQ_CORRECTED,  # and no payer claim number
        subscriber=subscriber(member=replace(SUBSCRIBER_MEMBER, sex="X")),
    )
    caplog.set_level(logging.DEBUG)
    text = PROFESSIONAL.write(interchange(c))
    problems = PROFESSIONAL.validate(text)
    assert all(isinstance(p, X12Problem) for p in problems)
    by_code = {p.code: p for p in problems}
    segs = segments(text)

    def position(prefix: str) -> int:
        return next(k for k, s in enumerate(segs, 1) if s.startswith(prefix))

    assert by_code["NPI"].position == position("NM1*82")
    assert by_code["NPI"].element == "09"
    assert by_code["ZIP"].position == position("N4*Q*")
    assert by_code["PO-BOX"].position == position("N3*PO BOX")
    assert by_code["balance"].position == position("CLM*")  # CLM02 != sum of the lines
    assert by_code["F8"].position == position("CLM*")
    # pyx12's own findings: the one-letter city and the bad gender code.
    pyx12 = [p for p in problems if p.code not in ("NPI", "ZIP", "PO-BOX", "balance", "F8")]
    assert {(p.segment, p.position) for p in pyx12} >= {
        ("N4", position("N4*Q*")),
        ("DMG", position("DMG*")),
    }
    out = capsys.readouterr()
    shown = "\n".join(map(str, problems)) + caplog.text + out.out + out.err
    for value in ("123456789", "RENDERER", "DOE", "JANE", "PO BOX 12", "19800517", "XYZ123456789"):
        assert value not in shown


def test_unbalanced_secondary_is_reported():
    c = _secondary(line_level=True)
    primary = c.other_payers[0]
    short = replace(primary, paid_cents=primary.paid_cents - 1)
    text = PROFESSIONAL.write(interchange(replace(c, other_payers=(short,))))
    problems = PROFESSIONAL.validate(text)
    assert [(p.segment, p.code) for p in problems] == [("AMT", "COB")]


def test_validate_reports_a_file_of_the_other_kind():
    text = INSTITUTIONAL.write(interchange(outpatient(), kind=cd.INSTITUTIONAL))
    assert any(p.code == "version" for p in PROFESSIONAL.validate(text))
