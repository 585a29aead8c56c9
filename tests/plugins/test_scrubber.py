"""The built-in scrub rules of pms_scrubber, one broken field at a time.

The factories build clean synthetic claims (an 837P where the patient is the
subscriber, a dependant's 837P, an outpatient 837I, a secondary 837P with the
primary's adjudication, a claim to the example Medicare profile);
`dataclasses.replace` breaks one thing, and the test checks that exactly the
expected findings come back: code, severity, field path and line.

Every name, date of birth, member id, address and phone here is invented; `PHI`
lists them so a test can check that no finding message repeats one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pms_scrubber.rules import BUILTIN_RULES

from pms_core.claimdata import (
    INSTITUTIONAL,
    PROFESSIONAL,
    Address,
    Adjustment,
    ClaimView,
    InstitutionalView,
    LineAdjudication,
    LineView,
    MemberView,
    OtherPayerView,
    PayerView,
    PersonName,
    ProviderView,
    SubscriberView,
)
from pms_core.codes import search_icd10
from pms_core.scrub import Finding, PayerProfile, ScrubContext
from pms_core.validation import npi_check_digit

TODAY = date(2025, 3, 14)
DOS = date(2025, 3, 3)


def make_npi(first_nine: str) -> str:
    return first_nine + npi_check_digit(first_nine)


BILLING_NPI = make_npi("123456789")
RENDERING_NPI = make_npi("198765432")
REFERRING_NPI = make_npi("145678901")
FACILITY_NPI = make_npi("176543210")
ATTENDING_NPI = make_npi("134679258")

SUBSCRIBER_LAST, SUBSCRIBER_FIRST = "Quillfeather", "Ottoline"
SUBSCRIBER_DOB = date(1961, 7, 23)
MEMBER_ID = "XJH482913057"
HOME = Address("417 Brambleton Way", "Fernhollow", "IL", "627041234", line2="Apt 9C")
PATIENT_LAST, PATIENT_FIRST = "Quillfeather", "Wendeline"
PATIENT_DOB = date(2012, 11, 5)
PROVIDER_PHONE = "2175550142"
CLAIM_NUMBER = "C1000234"
MBI = "1EG4TE5MK73"  # CMS's published example MBI: the shape, no one's number

PHI = (
    SUBSCRIBER_LAST,
    SUBSCRIBER_FIRST,
    PATIENT_FIRST,
    MEMBER_ID,
    MBI,
    CLAIM_NUMBER,
    HOME.line1,
    HOME.city,
    HOME.zip,
    HOME.zip[:5],
    PROVIDER_PHONE,
    "Hawthorne",
    "Beatrix",
    *(
        fmt.format(d)
        for d in (SUBSCRIBER_DOB, PATIENT_DOB, DOS)
        for fmt in ("{:%Y-%m-%d}", "{:%Y%m%d}", "{:%m/%d/%Y}", "{:%m/%d}")
    ),
)


def line(number: int, code: str, cents: int, pointers: tuple[int, ...], **changes) -> LineView:
    return replace(
        LineView(
            line_number=number,
            control_number=f"101-{number}",
            code=code,
            modifiers=(),
            charge_cents=cents,
            units=Decimal(1),
            unit_basis="UN",
            service_date=DOS,
            diagnosis_pointers=pointers,
        ),
        **changes,
    )


def professional(**changes) -> ClaimView:
    """A clean 837P: the patient is the subscriber, four lines, two diagnoses."""
    lines = (
        line(1, "99214", 15000, (1, 2), modifiers=("25",)),
        line(2, "36415", 2500, (1,)),
        line(3, "81003", 1200, (1,)),
        line(4, "93000", 4500, (2,)),
    )
    claim = ClaimView(
        claim_id=101,
        claim_number=CLAIM_NUMBER,
        kind=PROFESSIONAL,
        frequency="1",
        total_cents=sum(x.charge_cents for x in lines),
        place_of_service="11",
        billing=ProviderView(
            name=PersonName("Maple Grove Family Medicine"),
            npi=BILLING_NPI,
            taxonomy="207Q00000X",
            tin="364821907",
            address=Address("1200 Orchard Street", "Fernhollow", "IL", "627011200"),
            phone=PROVIDER_PHONE,
        ),
        subscriber=SubscriberView(
            member=MemberView(
                PersonName(SUBSCRIBER_LAST, SUBSCRIBER_FIRST), SUBSCRIBER_DOB, "F", HOME
            ),
            member_id=MEMBER_ID,
            group_number="GRP7731",
            plan_name="Example PPO",
            responsibility="P",
            claim_filing_indicator="CI",
            relationship="18",
            coverage_effective=date(2024, 1, 1),
        ),
        payer=PayerView(
            "Example Health Plan", "EXHP01", Address("PO Box 9000", "Springfield", "IL", "62794")
        ),
        patient=None,
        diagnoses=("E119", "I10"),
        lines=lines,
        rendering=ProviderView(
            PersonName("Hawthorne", "Beatrix"), RENDERING_NPI, taxonomy="207Q00000X"
        ),
        referring=ProviderView(PersonName("Larkspur", "Edmund"), REFERRING_NPI),
        facility=ProviderView(
            PersonName("Maple Grove Annex"),
            FACILITY_NPI,
            address=Address("1210 Orchard Street", "Fernhollow", "IL", "627011210"),
        ),
        patient_id=7,
        payer_db_id=3,
        coverage_id=11,
    )
    return replace(claim, **changes)


def dependant(**changes) -> ClaimView:
    """A clean 837P for the subscriber's child."""
    claim = professional()
    claim = replace(
        claim,
        patient=MemberView(PersonName(PATIENT_LAST, PATIENT_FIRST), PATIENT_DOB, "F", HOME),
        subscriber=replace(claim.subscriber, relationship="19"),
    )
    return replace(claim, **changes)


def institutional(**changes) -> ClaimView:
    """A clean outpatient 837I (type of bill 13)."""
    lines = (
        line(1, "80053", 9000, (), revenue_code="0301"),
        line(2, "99283", 42000, (), revenue_code="0450"),
        line(3, "", 3000, (), revenue_code="0250"),
    )
    claim = professional(
        kind=INSTITUTIONAL,
        lines=lines,
        total_cents=sum(x.charge_cents for x in lines),
        rendering=None,
        referring=None,
        facility=None,
        institutional=InstitutionalView(
            type_of_bill="13",
            statement_from=DOS,
            statement_to=DOS,
            admission_type=None,
            admission_source=None,
            patient_status="01",
            attending=ProviderView(PersonName("Hawthorne", "Beatrix"), ATTENDING_NPI),
        ),
    )
    return replace(claim, **changes)


def medicare(**changes) -> ClaimView:
    """A clean 837P to the example Medicare profile."""
    claim = professional()
    claim = replace(
        claim,
        payer=PayerView("Example Medicare Part B", "EXMCR1"),
        subscriber=replace(claim.subscriber, member_id=MBI, claim_filing_indicator="MB"),
    )
    return replace(claim, **changes)


def with_line(claim: ClaimView, index: int, **changes) -> ClaimView:
    """`claim` with line `index` (0-based) changed; the total follows the charges."""
    lines = list(claim.lines)
    lines[index] = replace(lines[index], **changes)
    return replace(claim, lines=tuple(lines), total_cents=sum(x.charge_cents for x in lines))


def with_lines(claim: ClaimView, lines) -> ClaimView:
    lines = tuple(lines)
    return replace(claim, lines=lines, total_cents=sum(x.charge_cents for x in lines))


def scrub(claim: ClaimView, context: ScrubContext | None = None, rules=BUILTIN_RULES):
    context = context or ScrubContext(today=TODAY)
    findings: list[Finding] = []
    for rule in rules:
        for finding in rule(claim, context):
            assert finding.code == rule.code, (finding, rule.code)
            findings.append(finding)
    return findings


def keys(findings) -> set[tuple]:
    """(code, severity, field, line) of each finding."""
    return {(f.code, str(f.severity), f.field, f.line) for f in findings}


def with_dos(claim: ClaimView, start: date, end: date | None = None) -> ClaimView:
    lines = tuple(replace(x, service_date=start, service_date_end=end) for x in claim.lines)
    claim = replace(claim, lines=lines)
    if claim.institutional is not None:
        inst = replace(claim.institutional, statement_from=start, statement_to=end or start)
        claim = replace(claim, institutional=inst)
    return claim


def billing(**changes) -> ProviderView:
    return replace(professional().billing, **changes)


def billing_address(**changes) -> ProviderView:
    return billing(address=replace(professional().billing.address, **changes))


def subscriber(claim: ClaimView | None = None, **changes) -> SubscriberView:
    return replace((claim or professional()).subscriber, **changes)


def member(claim: ClaimView | None = None, **changes) -> SubscriberView:
    sub = (claim or professional()).subscriber
    return replace(sub, member=replace(sub.member, **changes))


def patient(**changes) -> MemberView:
    return replace(dependant().patient, **changes)


def institutional_data(**changes) -> InstitutionalView:
    return replace(institutional().institutional, **changes)


def secondary(**other_changes) -> ClaimView:
    """A clean secondary 837P: the primary paid 150.00 of 232.00, lines balanced."""
    claim = professional()
    primary_sub = replace(claim.subscriber, responsibility="P", claim_filing_indicator="MB")
    adjudications = tuple(
        LineAdjudication(
            line_control_number=x.control_number,
            paid_cents=paid,
            code=x.code,
            modifiers=x.modifiers,
            units=x.units,
            adjudicated=TODAY,
            adjustments=(Adjustment("CO", "45", x.charge_cents - paid - pr),)
            + ((Adjustment("PR", "2", pr),) if pr else ()),
        )
        for x, paid, pr in zip(claim.lines, (9000, 1500, 800, 2700), (2000, 0, 0, 500), strict=True)
    )
    other = OtherPayerView(
        subscriber=primary_sub,
        payer=PayerView("Example Primary Plan", "EXPRI9"),
        paid_cents=14000,
        adjustments=(),
        line_adjudications=adjudications,
    )
    other = replace(other, **other_changes)
    return replace(
        claim,
        subscriber=replace(claim.subscriber, responsibility="S"),
        other_payers=(other,),
    )


E, W = "error", "warning"
THIRTEEN_DIAGNOSES = tuple(
    [
        "E119",
        "I10",
        "Z23",
        "J069",
        "R69",
        "Z0000",
        "E1165",
        "M5450",
        "E785",
        "K219",
        "F329",
        "G4700",
        "N390",
    ]
)
NDC = {"ndc": "00409488001", "ndc_quantity": Decimal(2), "ndc_unit": "ML"}
BAD_NPI = BILLING_NPI[:9] + str((int(BILLING_NPI[9]) + 1) % 10)

# (claim, expected (code, severity, field, line) of every finding)
CASES = [
    # --- NPI
    pytest.param(
        lambda: professional(billing=billing(npi=BAD_NPI)),
        {("NPI_CHECK_DIGIT", E, "billing.npi", None)},
        id="billing NPI failing the check digit is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing(npi="123456789")),
        {("NPI_CHECK_DIGIT", E, "billing.npi", None)},
        id="billing NPI of nine digits is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing(npi=None)),
        {("NPI_MISSING", E, "billing.npi", None)},
        id="missing billing NPI is an error",
    ),
    pytest.param(
        lambda: professional(rendering=replace(professional().rendering, npi=BAD_NPI)),
        {("NPI_CHECK_DIGIT", E, "rendering.npi", None)},
        id="claim rendering NPI failing the check digit is an error",
    ),
    pytest.param(
        lambda: professional(rendering=replace(professional().rendering, npi=None)),
        {("NPI_MISSING", E, "rendering.npi", None)},
        id="rendering provider without NPI is an error",
    ),
    pytest.param(
        lambda: with_line(
            professional(), 2, rendering=ProviderView(PersonName("Hale", "Orin"), BAD_NPI)
        ),
        {("NPI_CHECK_DIGIT", E, "lines[2].rendering.npi", 3)},
        id="line rendering NPI failing the check digit is an error on that line",
    ),
    pytest.param(
        lambda: with_line(
            professional(), 2, rendering=ProviderView(PersonName("Hale", "Orin"), None)
        ),
        {("NPI_MISSING", E, "lines[2].rendering.npi", 3)},
        id="line rendering provider without NPI is an error on that line",
    ),
    pytest.param(
        lambda: professional(referring=replace(professional().referring, npi=BAD_NPI)),
        {("NPI_CHECK_DIGIT", E, "referring.npi", None)},
        id="referring NPI failing the check digit is an error",
    ),
    pytest.param(
        lambda: professional(referring=replace(professional().referring, npi=None)),
        {("NPI_MISSING", W, "referring.npi", None)},
        id="referring provider without NPI is a warning",
    ),
    pytest.param(
        lambda: professional(facility=replace(professional().facility, npi=BAD_NPI)),
        {("NPI_CHECK_DIGIT", E, "facility.npi", None)},
        id="facility NPI failing the check digit is an error",
    ),
    pytest.param(
        lambda: institutional(
            institutional=institutional_data(
                attending=ProviderView(PersonName("Hawthorne", "Beatrix"), BAD_NPI)
            )
        ),
        {("NPI_CHECK_DIGIT", E, "institutional.attending.npi", None)},
        id="attending NPI failing the check digit is an error",
    ),
    pytest.param(
        lambda: institutional(
            institutional=institutional_data(
                attending=ProviderView(PersonName("Hawthorne", "Beatrix"), None)
            )
        ),
        {("NPI_MISSING", E, "institutional.attending.npi", None)},
        id="attending provider without NPI is an error",
    ),
    # --- TIN
    pytest.param(
        lambda: professional(billing=billing(tin=None)),
        {("TIN_FORMAT", E, "billing.tin", None)},
        id="missing billing TIN is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing(tin="36-4821907")),
        {("TIN_FORMAT", E, "billing.tin", None)},
        id="TIN with a hyphen is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing(tin="000000000")),
        {("TIN_FORMAT", E, "billing.tin", None)},
        id="all-zero TIN is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing(tin="123456789")),
        {("TIN_FORMAT", E, "billing.tin", None)},
        id="sequential placeholder TIN is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing(tin="074821907")),
        {("TIN_FORMAT", W, "billing.tin", None)},
        id="TIN with a prefix the IRS never assigns is a warning",
    ),
    # --- taxonomy and provider entity
    pytest.param(
        lambda: professional(billing=billing(taxonomy="207Q0000X")),
        {("TAXONOMY_FORMAT", E, "billing.taxonomy", None)},
        id="malformed billing taxonomy is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing(name=PersonName(""))),
        {("PROVIDER_ENTITY", E, "billing.name.last", None)},
        id="billing provider without a name is an error",
    ),
    pytest.param(
        lambda: professional(referring=ProviderView(PersonName("Fernhill Clinic"), REFERRING_NPI)),
        {("PROVIDER_ENTITY", E, "referring.name.first", None)},
        id="referring provider that is an organization is an error",
    ),
    pytest.param(
        lambda: professional(facility=replace(professional().facility, name=PersonName("A", "B"))),
        {("PROVIDER_ENTITY", E, "facility.name.first", None)},
        id="service facility that is a person is an error",
    ),
    pytest.param(
        lambda: institutional(
            institutional=institutional_data(
                attending=ProviderView(PersonName("Fernhill Clinic"), ATTENDING_NPI)
            )
        ),
        {("PROVIDER_ENTITY", E, "institutional.attending.name.first", None)},
        id="attending provider that is an organization is an error",
    ),
    # --- billing address
    pytest.param(
        lambda: professional(billing=billing(address=None)),
        {("BILLING_ADDRESS", E, "billing.address", None)},
        id="missing billing address is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing_address(line1="PO Box 1200")),
        {("BILLING_ADDRESS", E, "billing.address.line1", None)},
        id="billing address that is a PO box is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing_address(line1="P.O. Box 12")),
        {("BILLING_ADDRESS", E, "billing.address.line1", None)},
        id="billing address that is a dotted P.O. box is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing_address(line2="Lockbox 4410")),
        {("BILLING_ADDRESS", E, "billing.address.line2", None)},
        id="billing address with a lock box on line 2 is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing_address(zip="62701")),
        {("BILLING_ADDRESS", E, "billing.address.zip", None)},
        id="billing ZIP of 5 digits is an error (the 837 requires ZIP+4)",
    ),
    pytest.param(
        lambda: professional(billing=billing_address(zip="6270")),
        {("BILLING_ADDRESS", E, "billing.address.zip", None)},
        id="billing ZIP of 4 digits is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing_address(state="XX")),
        {("BILLING_ADDRESS", E, "billing.address.state", None)},
        id="billing address with an unknown state is an error",
    ),
    pytest.param(
        lambda: professional(billing=billing_address(city=" ")),
        {("BILLING_ADDRESS", E, "billing.address.city", None)},
        id="billing address without a city is an error",
    ),
    # --- other addresses
    pytest.param(
        lambda: professional(subscriber=member(address=None)),
        {("ADDRESS", E, "subscriber.member.address", None)},
        id="subscriber who is the patient without an address is an error",
    ),
    pytest.param(
        lambda: dependant(patient=patient(address=None)),
        {("ADDRESS", E, "patient.address", None)},
        id="patient who is not the subscriber without an address is an error",
    ),
    pytest.param(
        lambda: dependant(patient=patient(address=replace(HOME, zip="627"))),
        {("ADDRESS", E, "patient.address.zip", None)},
        id="patient address with a short ZIP is an error",
    ),
    pytest.param(
        lambda: professional(facility=replace(professional().facility, address=None)),
        {("ADDRESS", E, "facility.address", None)},
        id="service facility without an address is an error",
    ),
    pytest.param(
        lambda: professional(
            facility=replace(
                professional().facility,
                address=replace(professional().facility.address, zip="62701"),
            )
        ),
        {("ADDRESS", E, "facility.address.zip", None)},
        id="service facility ZIP of 5 digits is an error (the 837 requires ZIP+4)",
    ),
    pytest.param(
        lambda: professional(pay_to=Address("PO Box 55", "Fernhollow", "IL", "")),
        {("ADDRESS", E, "pay_to.zip", None)},
        id="pay-to address without a ZIP is an error",
    ),
    pytest.param(
        lambda: professional(
            payer=replace(professional().payer, address=Address("1 Main", "", "IL", "62794"))
        ),
        {("ADDRESS", E, "payer.address.city", None)},
        id="payer address without a city is an error",
    ),
    # --- diagnoses
    pytest.param(
        lambda: professional(diagnoses=("E11", "I10")),
        {("ICD10_CODE", E, "diagnoses[0]", None)},
        id="diagnosis that is a category header is not billable",
    ),
    pytest.param(
        lambda: professional(diagnoses=("E119", "ZZZ99")),
        {("ICD10_CODE", E, "diagnoses[1]", None)},
        id="unknown diagnosis code is an error",
    ),
    pytest.param(
        lambda: professional(diagnoses=("E11.9", "I10")),
        {("ICD10_CODE", E, "diagnoses[0]", None)},
        id="diagnosis written with a dot is an error",
    ),
    pytest.param(
        lambda: professional(diagnoses=("E119", "I10", "E119")),
        {("DIAGNOSIS_DUPLICATE", E, "diagnoses[2]", None)},
        id="repeated diagnosis is an error on the repeat",
    ),
    pytest.param(
        lambda: professional(diagnoses=THIRTEEN_DIAGNOSES),
        {("DIAGNOSIS_COUNT", E, "diagnoses[12]", None)},
        id="thirteen diagnoses on an 837P is an error",
    ),
    pytest.param(
        lambda: institutional(diagnoses=tuple(c for c, _ in search_icd10("E11", 26))),
        {("DIAGNOSIS_COUNT", E, "diagnoses[25]", None)},
        id="twenty-six diagnoses on an 837I is an error",
    ),
    pytest.param(
        lambda: professional(diagnoses=("W010XXA", "S72001A")),
        {("DIAGNOSIS_PRINCIPAL", E, "diagnoses[0]", None)},
        id="external cause code listed first is an error",
    ),
    # --- procedures
    pytest.param(
        lambda: with_line(professional(), 0, code="9921"),
        {("PROCEDURE_CODE", E, "lines[0].code", 1)},
        id="procedure code of four digits is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, code=""),
        {("PROCEDURE_CODE", E, "lines[1].code", 2)},
        id="837P line without a procedure code is an error",
    ),
    # --- modifiers
    pytest.param(
        lambda: with_line(professional(), 0, modifiers=("25", "ZQ")),
        {("MODIFIER", E, "lines[0].modifiers[1]", 1)},
        id="unknown modifier is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, modifiers=("59", "76", "77", "91", "GA")),
        {("MODIFIER", E, "lines[1].modifiers[4]", 2)},
        id="five modifiers on a line is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 0, modifiers=("25", "25")),
        {("MODIFIER", E, "lines[0].modifiers[1]", 1)},
        id="the same modifier twice on a line is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 3, modifiers=("TC", "26")),
        {("MODIFIER_COMBINATION", E, "lines[3].modifiers[1]", 4)},
        id="26 and TC on one line is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 3, modifiers=("RT", "LT")),
        {("MODIFIER_COMBINATION", W, "lines[3].modifiers[1]", 4)},
        id="LT and RT on one line is a warning",
    ),
    pytest.param(
        lambda: with_line(professional(), 3, modifiers=("RT", "50")),
        {("MODIFIER_COMBINATION", W, "lines[3].modifiers[1]", 4)},
        id="50 with RT on one line is a warning",
    ),
    pytest.param(
        lambda: with_line(professional(), 3, modifiers=("XS", "59")),
        {("MODIFIER_COMBINATION", W, "lines[3].modifiers[1]", 4)},
        id="59 with an X modifier on one line is a warning",
    ),
    # --- diagnosis pointers
    pytest.param(
        lambda: with_line(professional(), 1, diagnosis_pointers=()),
        {("DIAGNOSIS_POINTER", E, "lines[1].diagnosis_pointers", 2)},
        id="837P line without a diagnosis pointer is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, diagnosis_pointers=(2, 3)),
        {("DIAGNOSIS_POINTER", E, "lines[1].diagnosis_pointers[1]", 2)},
        id="pointer past the last diagnosis is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, diagnosis_pointers=(0,)),
        {("DIAGNOSIS_POINTER", E, "lines[1].diagnosis_pointers[0]", 2)},
        id="pointer zero is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, diagnosis_pointers=(1, 2, 1)),
        {("DIAGNOSIS_POINTER", E, "lines[1].diagnosis_pointers[2]", 2)},
        id="repeated pointer on a line is an error",
    ),
    pytest.param(
        lambda: with_line(
            professional(diagnoses=THIRTEEN_DIAGNOSES[:5]), 1, diagnosis_pointers=(1, 2, 3, 4, 5)
        ),
        {("DIAGNOSIS_POINTER", E, "lines[1].diagnosis_pointers[4]", 2)},
        id="five pointers on a line is an error",
    ),
    # --- dates of service
    pytest.param(
        lambda: with_line(professional(), 0, service_date=TODAY + timedelta(days=1)),
        {("SERVICE_DATES", E, "lines[0].service_date", 1)},
        id="date of service in the future is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 0, service_date_end=DOS - timedelta(days=1)),
        {("SERVICE_DATES", E, "lines[0].service_date_end", 1)},
        id="service end date before its start is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 0, service_date_end=TODAY + timedelta(days=2)),
        {("SERVICE_DATES", E, "lines[0].service_date_end", 1)},
        id="service end date in the future is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=subscriber(coverage_effective=DOS + timedelta(days=1))),
        {("SERVICE_DATES", E, f"lines[{i}].service_date", i + 1) for i in range(4)},
        id="date of service before coverage starts is an error on each line",
    ),
    pytest.param(
        lambda: with_line(
            professional(subscriber=subscriber(coverage_termination=DOS - timedelta(days=1))),
            1,
            service_date=DOS - timedelta(days=5),
        ),
        {("SERVICE_DATES", E, f"lines[{i}].service_date", i + 1) for i in (0, 2, 3)},
        id="date of service after coverage ends is an error on those lines only",
    ),
    pytest.param(
        lambda: with_line(
            professional(subscriber=subscriber(coverage_termination=DOS)),
            0,
            service_date_end=DOS + timedelta(days=2),
        ),
        {("SERVICE_DATES", E, "lines[0].service_date_end", 1)},
        id="service range running past coverage end is an error on its end date",
    ),
    pytest.param(
        lambda: dependant(patient=patient(dob=DOS + timedelta(days=4))),
        {("SERVICE_DATES", E, "patient.dob", 1)},
        id="date of service before the patient's birth is an error",
    ),
    # --- subscriber, patient, relationship, payer
    pytest.param(
        lambda: professional(subscriber=subscriber(member_id="")),
        {("SUBSCRIBER_DATA", E, "subscriber.member_id", None)},
        id="missing member id is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=subscriber(member_id="X")),
        {("SUBSCRIBER_DATA", E, "subscriber.member_id", None)},
        id="one-character member id is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=member(name=PersonName(SUBSCRIBER_LAST))),
        {("SUBSCRIBER_DATA", E, "subscriber.member.name.first", None)},
        id="subscriber without a first name is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=member(name=PersonName(" ", SUBSCRIBER_FIRST))),
        {("SUBSCRIBER_DATA", E, "subscriber.member.name.last", None)},
        id="subscriber without a last name is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=member(dob=None)),
        {("SUBSCRIBER_DATA", E, "subscriber.member.dob", None)},
        id="subscriber who is the patient without a date of birth is an error",
    ),
    pytest.param(
        lambda: dependant(subscriber=member(dependant(), dob=None)),
        {("SUBSCRIBER_DATA", W, "subscriber.member.dob", None)},
        id="subscriber of a dependant without a date of birth is a warning",
    ),
    pytest.param(
        lambda: professional(subscriber=member(sex=None)),
        {("SUBSCRIBER_DATA", E, "subscriber.member.sex", None)},
        id="subscriber who is the patient without sex is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=member(sex="X")),
        {("SUBSCRIBER_DATA", E, "subscriber.member.sex", None)},
        id="subscriber sex other than F M U is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=member(dob=date(1880, 1, 1))),
        {("SUBSCRIBER_DATA", E, "subscriber.member.dob", None)},
        id="subscriber born more than 130 years ago is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=subscriber(claim_filing_indicator="ZX")),
        {("SUBSCRIBER_DATA", E, "subscriber.claim_filing_indicator", None)},
        id="unknown claim filing indicator is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=subscriber(responsibility="Q")),
        {("SUBSCRIBER_DATA", E, "subscriber.responsibility", None)},
        id="unknown payer responsibility is an error",
    ),
    pytest.param(
        lambda: dependant(patient=patient(dob=None)),
        {("PATIENT_DATA", E, "patient.dob", None)},
        id="patient who is not the subscriber without a date of birth is an error",
    ),
    pytest.param(
        lambda: dependant(patient=patient(sex=None)),
        {("PATIENT_DATA", E, "patient.sex", None)},
        id="patient who is not the subscriber without sex is an error",
    ),
    pytest.param(
        lambda: dependant(patient=patient(dob=TODAY + timedelta(days=1))),
        {("PATIENT_DATA", E, "patient.dob", None), ("SERVICE_DATES", E, "patient.dob", 1)},
        id="patient date of birth in the future is an error (and after the service)",
    ),
    pytest.param(
        lambda: dependant(patient=patient(name=PersonName(PATIENT_LAST))),
        {("PATIENT_DATA", E, "patient.name.first", None)},
        id="patient without a first name is an error",
    ),
    pytest.param(
        lambda: professional(subscriber=subscriber(relationship="19")),
        {("RELATIONSHIP", E, "subscriber.relationship", None)},
        id="relationship other than 18 when the patient is the subscriber is an error",
    ),
    pytest.param(
        lambda: dependant(subscriber=subscriber(dependant(), relationship="18")),
        {("RELATIONSHIP", E, "subscriber.relationship", None)},
        id="relationship 18 with a separate patient is an error",
    ),
    pytest.param(
        lambda: dependant(subscriber=subscriber(dependant(), relationship="99")),
        {("RELATIONSHIP", E, "subscriber.relationship", None)},
        id="unknown relationship code is an error",
    ),
    pytest.param(
        lambda: professional(payer=replace(professional().payer, payer_id="")),
        {("PAYER_DATA", E, "payer.payer_id", None)},
        id="missing payer id is an error",
    ),
    pytest.param(
        lambda: professional(payer=replace(professional().payer, name="")),
        {("PAYER_DATA", E, "payer.name", None)},
        id="missing payer name is an error",
    ),
    # --- claim header
    pytest.param(
        lambda: professional(claim_number=""),
        {("CLAIM_NUMBER", E, "claim_number", None)},
        id="missing claim number is an error",
    ),
    pytest.param(
        lambda: professional(claim_number="C" * 21),
        {("CLAIM_NUMBER", E, "claim_number", None)},
        id="claim number of 21 characters is an error",
    ),
    pytest.param(
        lambda: professional(claim_number="C-1000234"),
        {("CLAIM_NUMBER", E, "claim_number", None)},
        id="claim number with punctuation is an error",
    ),
    pytest.param(
        lambda: professional(frequency="7"),
        {("CLAIM_FREQUENCY", E, "payer_claim_number", None)},
        id="replacement claim without the payer claim number is an error",
    ),
    pytest.param(
        lambda: professional(frequency="8", payer_claim_number=" "),
        {("CLAIM_FREQUENCY", E, "payer_claim_number", None)},
        id="void claim with a blank payer claim number is an error",
    ),
    pytest.param(
        lambda: professional(frequency="3"),
        {("CLAIM_FREQUENCY", E, "frequency", None)},
        id="interim frequency on an 837P is an error",
    ),
    pytest.param(
        lambda: professional(total_cents=professional().total_cents + 1),
        {("CLAIM_TOTAL", E, "total_cents", None)},
        id="claim total not equal to the line charges is an error",
    ),
    # --- lines
    pytest.param(
        lambda: with_line(professional(), 1, charge_cents=0),
        {("LINE_AMOUNTS", E, "lines[1].charge_cents", 2)},
        id="line charge of zero is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, units=Decimal(0)),
        {("LINE_AMOUNTS", E, "lines[1].units", 2)},
        id="line with zero units is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, units=Decimal("1.2345")),
        {("LINE_AMOUNTS", E, "lines[1].units", 2)},
        id="units with four decimal places is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, unit_basis="DA"),
        {("LINE_AMOUNTS", E, "lines[1].unit_basis", 2)},
        id="days as unit basis on an 837P is an error",
    ),
    pytest.param(
        lambda: with_line(institutional(), 1, unit_basis="MJ"),
        {("LINE_AMOUNTS", E, "lines[1].unit_basis", 2)},
        id="minutes as unit basis on an 837I is an error",
    ),
    pytest.param(
        lambda: with_lines(
            professional(),
            (line(n, "36415", 1000, (1,), control_number=f"L{n}") for n in range(1, 52)),
        ),
        {("SERVICE_LINES", E, "lines[50]", None)},
        id="51 lines on an 837P is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 2, line_number=4),
        {("SERVICE_LINES", E, "lines[2].line_number", 4)},
        id="line numbers out of sequence is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 2, control_number="101-1"),
        {("SERVICE_LINES", E, "lines[2].control_number", 3)},
        id="line control number repeated is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 2, control_number=""),
        {("SERVICE_LINES", E, "lines[2].control_number", 3)},
        id="line without a control number is an error",
    ),
    pytest.param(
        lambda: professional(place_of_service="00"),
        {("PLACE_OF_SERVICE", E, "place_of_service", None)},
        id="unknown claim place of service is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 0, place_of_service="77"),
        {("PLACE_OF_SERVICE", E, "lines[0].place_of_service", 1)},
        id="unknown line place of service is an error",
    ),
    # --- NDC
    pytest.param(
        lambda: with_line(professional(), 1, **NDC | {"ndc_quantity": None}),
        {("NDC", E, "lines[1].ndc_quantity", 2)},
        id="NDC without a quantity is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, **NDC | {"ndc_quantity": Decimal(0)}),
        {("NDC", E, "lines[1].ndc_quantity", 2)},
        id="NDC quantity of zero is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, **NDC | {"ndc_unit": "XX"}),
        {("NDC", E, "lines[1].ndc_unit", 2)},
        id="NDC with an unknown unit is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, **NDC | {"ndc_unit": None}),
        {("NDC", E, "lines[1].ndc_unit", 2)},
        id="NDC without a unit is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, **NDC | {"ndc": "0409-4888-01"}),
        {("NDC", E, "lines[1].ndc", 2)},
        id="NDC with hyphens is an error",
    ),
    pytest.param(
        lambda: with_line(professional(), 1, **NDC | {"ndc": None}),
        {("NDC", E, "lines[1].ndc", 2)},
        id="NDC quantity without an NDC is an error",
    ),
    # --- 837I
    pytest.param(
        lambda: institutional(institutional=None),
        {("INSTITUTIONAL", E, "institutional", None)},
        id="837I without institutional data is an error",
    ),
    pytest.param(
        lambda: institutional(institutional=institutional_data(type_of_bill="03")),
        {("INSTITUTIONAL", E, "institutional.type_of_bill", None)},
        id="type of bill with no facility type is an error",
    ),
    pytest.param(
        lambda: institutional(institutional=institutional_data(patient_status="00")),
        {("INSTITUTIONAL", E, "institutional.patient_status", None)},
        id="unknown patient status is an error",
    ),
    pytest.param(
        lambda: institutional(institutional=institutional_data(admission_type="7")),
        {("INSTITUTIONAL", E, "institutional.admission_type", None)},
        id="unknown admission type is an error",
    ),
    pytest.param(
        lambda: institutional(institutional=institutional_data(type_of_bill="11")),
        {
            ("INSTITUTIONAL", E, "institutional.admission_type", None),
            ("INSTITUTIONAL", E, "institutional.admission_date", None),
        },
        id="inpatient bill type without admission type and date is an error",
    ),
    pytest.param(
        lambda: institutional(institutional=institutional_data(attending=None)),
        {("INSTITUTIONAL", E, "institutional.attending", None)},
        id="837I without an attending provider is an error",
    ),
    pytest.param(
        lambda: institutional(
            institutional=institutional_data(statement_to=DOS - timedelta(days=1))
        ),
        {
            ("INSTITUTIONAL", E, "institutional.statement_to", None),
            *{("INSTITUTIONAL", E, f"lines[{i}].service_date", i + 1) for i in range(3)},
        },
        id="statement period ending before it starts is an error",
    ),
    pytest.param(
        lambda: institutional(
            institutional=institutional_data(statement_to=TODAY + timedelta(days=1))
        ),
        {("INSTITUTIONAL", E, "institutional.statement_to", None)},
        id="statement period ending in the future is an error",
    ),
    pytest.param(
        lambda: with_line(institutional(), 1, service_date=DOS - timedelta(days=1)),
        {("INSTITUTIONAL", E, "lines[1].service_date", 2)},
        id="837I line dated outside the statement period is an error",
    ),
    pytest.param(
        lambda: with_line(institutional(), 0, revenue_code=None),
        {("REVENUE_CODE", E, "lines[0].revenue_code", 1)},
        id="837I line without a revenue code is an error",
    ),
    pytest.param(
        lambda: with_line(institutional(), 0, revenue_code="450"),
        {("REVENUE_CODE", E, "lines[0].revenue_code", 1)},
        id="revenue code of three digits is an error",
    ),
    # --- coordination of benefits
    pytest.param(
        lambda: professional(subscriber=subscriber(responsibility="S")),
        {("COB_DATA", E, "other_payers", None)},
        id="secondary claim without the primary payer is an error",
    ),
    pytest.param(
        lambda: secondary(payer=PayerView("Example Primary Plan", "")),
        {("COB_DATA", E, "other_payers[0].payer.payer_id", None)},
        id="other payer without a payer id is an error",
    ),
    pytest.param(
        lambda: secondary(subscriber=subscriber(responsibility="S")),
        {("COB_DATA", E, "other_payers[0].subscriber.responsibility", None)},
        id="other payer with the claim payer's responsibility is an error",
    ),
    pytest.param(
        lambda: secondary(line_adjudications=(), adjustments=(Adjustment("CO", "45", 9200),)),
        {("COB_DATA", E, "other_payers[0].adjudicated", None)},
        id="claim-level other payer payment without an adjudication date is an error",
    ),
    pytest.param(
        lambda: secondary(
            line_adjudications=(
                replace(
                    secondary().other_payers[0].line_adjudications[0], line_control_number="ZZ"
                ),
                *secondary().other_payers[0].line_adjudications[1:],
            )
        ),
        {("COB_DATA", E, "other_payers[0].line_adjudications[0].line_control_number", None)},
        id="line adjudication for a line not on the claim is an error",
    ),
    pytest.param(
        lambda: secondary(
            line_adjudications=(
                secondary().other_payers[0].line_adjudications[0],
                replace(secondary().other_payers[0].line_adjudications[1], paid_cents=1400),
                *secondary().other_payers[0].line_adjudications[2:],
            ),
            paid_cents=13900,
        ),
        {
            ("COB_BALANCE", E, "other_payers[0].line_adjudications[1]", 2),
            ("COB_BALANCE", E, "other_payers[0].paid_cents", None),
        },
        id="other payer line payment and adjustments not balancing to the charge is an error",
    ),
    pytest.param(
        lambda: secondary(paid_cents=14100),
        {("COB_BALANCE", E, "other_payers[0].paid_cents", None)},
        id="other payer claim payment not equal to its line payments is an error",
    ),
    pytest.param(
        lambda: secondary(
            line_adjudications=(),
            adjudicated=TODAY,
            adjustments=(Adjustment("CO", "45", 5000),),
        ),
        {("COB_BALANCE", E, "other_payers[0].paid_cents", None)},
        id="claim-level other payer payment and adjustments not balancing is an error",
    ),
]


@pytest.mark.parametrize(("build", "expected"), CASES)
def test_one_broken_field_gives_exactly_its_findings(build, expected):
    assert keys(scrub(build())) == expected


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(professional, id="837P, patient is the subscriber"),
        pytest.param(dependant, id="837P for a dependant"),
        pytest.param(institutional, id="outpatient 837I"),
        pytest.param(secondary, id="secondary 837P with the primary's line adjudication"),
        pytest.param(
            lambda: secondary(
                line_adjudications=(),
                adjudicated=TODAY,
                adjustments=(Adjustment("CO", "45", 9200),),
            ),
            id="secondary 837P with the primary's claim-level adjudication",
        ),
        pytest.param(
            lambda: secondary(paid_cents=None, line_adjudications=()),
            id="secondary 837P, primary not adjudicated yet",
        ),
        pytest.param(medicare, id="837P to the example Medicare payer"),
    ],
)
def test_clean_claim_gives_no_findings(build):
    assert scrub(build()) == []


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: professional(facility=None), id="no service facility"),
        pytest.param(
            lambda: professional(facility=replace(professional().facility, npi=None)),
            id="service facility without an NPI",
        ),
        pytest.param(lambda: professional(referring=None), id="no referring provider"),
        pytest.param(
            lambda: professional(billing=billing_address(line1="25 Boxwood Lane")),
            id="street named Box-something is not a PO box",
        ),
        pytest.param(
            lambda: professional(pay_to=Address("PO Box 55", "Fernhollow", "IL", "627015555")),
            id="pay-to address may be a PO box",
        ),
        pytest.param(
            lambda: dependant(subscriber=member(dependant(), address=None)),
            id="subscriber address may be absent when the patient is a dependant",
        ),
        pytest.param(
            lambda: professional(diagnoses=THIRTEEN_DIAGNOSES[:12]),
            id="twelve diagnoses on an 837P",
        ),
        pytest.param(
            lambda: institutional(diagnoses=THIRTEEN_DIAGNOSES),
            id="thirteen diagnoses on an 837I",
        ),
        pytest.param(
            lambda: with_line(professional(), 3, modifiers=("26",)), id="26 alone on a line"
        ),
        pytest.param(
            lambda: with_line(professional(), 3, modifiers=("XS",)), id="an X modifier alone"
        ),
        pytest.param(
            lambda: with_line(professional(), 1, units=Decimal("1.5")),
            id="fractional units with one decimal",
        ),
        pytest.param(
            lambda: with_line(professional(), 1, code="J1100", **NDC),
            id="HCPCS drug code with a complete NDC",
        ),
        pytest.param(
            lambda: with_line(professional(), 0, service_date_end=DOS + timedelta(days=2)),
            id="service date range ending in the past",
        ),
        pytest.param(
            lambda: professional(frequency="7", payer_claim_number="EX2025030400017"),
            id="replacement claim with the payer claim number",
        ),
        pytest.param(
            lambda: professional(claim_number="C" * 20), id="claim number of 20 characters"
        ),
        pytest.param(lambda: institutional(frequency="3"), id="interim frequency on an 837I"),
        pytest.param(
            lambda: institutional(institutional=institutional_data(type_of_bill="0131")),
            id="type of bill written with a leading zero and the frequency digit",
        ),
        pytest.param(
            lambda: institutional(institutional=institutional_data(type_of_bill="131")),
            id="type of bill written with the frequency digit",
        ),
        pytest.param(
            lambda: institutional(
                institutional=institutional_data(
                    type_of_bill="11", admission_type="3", admission_date=DOS
                )
            ),
            id="inpatient 837I with admission type and date",
        ),
        pytest.param(
            lambda: with_lines(
                institutional(),
                (line(n, "36415", 1000, (), revenue_code="0300") for n in range(1, 60)),
            ),
            id="59 lines on an 837I",
        ),
        pytest.param(
            lambda: professional(billing=billing(tin="990123456")),
            id="TIN with an assigned prefix",
        ),
        pytest.param(
            lambda: dependant(patient=patient(sex="U")),
            id="patient sex unknown (U)",
        ),
    ],
)
def test_valid_variants_give_no_findings(build):
    assert scrub(build()) == []


def test_imported_modifier_is_accepted_when_the_context_knows_it():
    claim = with_line(professional(), 0, modifiers=("25", "ZQ"))
    context = ScrubContext(today=TODAY, modifiers=ScrubContext(today=TODAY).modifiers | {"ZQ"})
    assert scrub(claim, context) == []


def test_procedure_code_must_be_in_the_practice_code_list_when_one_is_loaded():
    claim = professional()
    known = frozenset({"99214", "36415", "81003"})
    findings = scrub(claim, ScrubContext(today=TODAY, procedure_codes=known))
    assert keys(findings) == {("PROCEDURE_CODE", E, "lines[3].code", 4)}
    assert "93000" in findings[0].message
    everything = known | {"93000"}
    assert scrub(claim, ScrubContext(today=TODAY, procedure_codes=everything)) == []


def test_837i_line_may_have_a_revenue_code_without_a_procedure_code():
    claim = institutional()
    assert claim.lines[2].code == ""
    assert scrub(claim) == []


def test_837i_lines_need_no_diagnosis_pointers_and_ignore_place_of_service():
    claim = institutional(place_of_service="00")
    assert all(not x.diagnosis_pointers for x in claim.lines)
    assert scrub(claim) == []


def test_claim_without_diagnoses_is_an_error_and_every_pointer_dangles():
    findings = keys(scrub(professional(diagnoses=())))
    assert ("DIAGNOSIS_COUNT", E, "diagnoses", None) in findings
    assert {f[0] for f in findings} == {"DIAGNOSIS_COUNT", "DIAGNOSIS_POINTER"}


def test_claim_without_lines_is_an_error():
    findings = keys(scrub(with_lines(professional(), ())))
    assert findings == {
        ("SERVICE_LINES", E, "lines", None),
        ("CLAIM_TOTAL", E, "total_cents", None),
    }


def test_header_diagnosis_message_names_the_code_and_the_fix():
    (finding,) = scrub(professional(diagnoses=("E11", "I10")))
    assert "diagnosis 1 (E11) is not billable" in finding.message


def test_duplicate_claim_is_a_warning_naming_the_other_claim_ids():
    context = ScrubContext(today=TODAY, duplicates={101: (88, 93), 5: (6,)})
    (finding,) = scrub(professional(), context)
    assert keys([finding]) == {("DUPLICATE_CLAIM", W, "claim_id", None)}
    assert "88" in finding.message and "93" in finding.message


def test_duplicates_of_other_claims_do_not_flag_this_one():
    context = ScrubContext(today=TODAY, duplicates={5: (6,), 101: ()})
    assert scrub(professional(), context) == []


# --- timely filing -------------------------------------------------------------


def test_claim_past_the_timely_filing_limit_is_an_error():
    claim = with_dos(
        professional(subscriber=subscriber(coverage_effective=None)), TODAY - timedelta(days=366)
    )
    (finding,) = scrub(claim)
    assert keys([finding]) == {("TIMELY_FILING", E, "lines[0].service_date", 1)}
    assert "366 days" in finding.message and "365" in finding.message


def test_claim_on_the_last_day_of_the_limit_is_only_a_warning():
    claim = with_dos(
        professional(subscriber=subscriber(coverage_effective=None)), TODAY - timedelta(days=365)
    )
    (finding,) = scrub(claim)
    assert keys([finding]) == {("TIMELY_FILING", W, "lines[0].service_date", 1)}
    assert "0 days left" in finding.message


def test_claim_within_30_days_of_the_limit_is_a_warning():
    claim = with_dos(professional(), TODAY - timedelta(days=335))
    assert keys(scrub(claim)) == {("TIMELY_FILING", W, "lines[0].service_date", 1)}
    assert scrub(with_dos(professional(), TODAY - timedelta(days=334))) == []


def test_timely_filing_counts_from_the_last_date_of_service():
    claim = with_line(
        with_dos(
            professional(subscriber=subscriber(coverage_effective=None)),
            TODAY - timedelta(days=400),
        ),
        2,
        service_date_end=TODAY - timedelta(days=300),
    )
    assert scrub(claim) == []
    claim = with_line(claim, 2, service_date_end=TODAY - timedelta(days=340))
    assert keys(scrub(claim)) == {("TIMELY_FILING", W, "lines[2].service_date_end", 3)}


def test_timely_filing_counts_to_the_first_submission_when_there_was_one():
    claim = with_dos(
        professional(subscriber=subscriber(coverage_effective=None)), TODAY - timedelta(days=500)
    )
    submitted = {101: TODAY - timedelta(days=200)}  # 300 days after the service
    assert scrub(claim, ScrubContext(today=TODAY, first_submitted=submitted)) == []
    late = {101: TODAY - timedelta(days=100)}  # 400 days after the service
    findings = scrub(claim, ScrubContext(today=TODAY, first_submitted=late))
    assert keys(findings) == {("TIMELY_FILING", E, "lines[0].service_date", 1)}


def test_claim_first_submitted_in_time_gets_no_near_limit_warning():
    claim = with_dos(professional(), TODAY - timedelta(days=400))
    submitted = {101: TODAY - timedelta(days=50)}  # 350 days after the service
    assert scrub(claim, ScrubContext(today=TODAY, first_submitted=submitted)) == []


def test_timely_filing_uses_the_profile_limit():
    profile = PayerProfile("Example 90-day plan", frozenset({"EXHP01"}), timely_filing_days=90)
    claim = with_dos(professional(), TODAY - timedelta(days=100))
    assert keys(scrub(claim, ScrubContext(today=TODAY, profile=profile))) == {
        ("TIMELY_FILING", E, "lines[0].service_date", 1)
    }
    assert scrub(claim) == []


def test_institutional_timely_filing_counts_from_the_statement_through_date():
    claim = with_dos(institutional(), TODAY - timedelta(days=370))
    claim = replace(
        claim, institutional=replace(claim.institutional, statement_to=TODAY - timedelta(days=360))
    )
    assert keys(scrub(claim)) == {("TIMELY_FILING", W, "institutional.statement_to", None)}


# --- no PHI in messages --------------------------------------------------------


def broken_everywhere() -> ClaimView:
    """A dependant's claim with nearly every field wrong, PHI-looking values in code fields."""
    claim = dependant(
        claim_number=CLAIM_NUMBER + "-" + CLAIM_NUMBER,
        frequency="7",
        place_of_service=MEMBER_ID,
        diagnoses=(MEMBER_ID, "E11", "E11", HOME.zip, "e11.9"),
        billing=billing(
            npi=BAD_NPI,
            tin=PROVIDER_PHONE,
            taxonomy=SUBSCRIBER_LAST,
            address=Address("PO Box " + HOME.zip, HOME.city, "ZZ", "123"),
        ),
        rendering=ProviderView(PersonName("Hawthorne", "Beatrix"), None),
        referring=ProviderView(PersonName("Hawthorne"), "12345"),
        facility=ProviderView(PersonName("Hawthorne", "Beatrix"), BAD_NPI, address=None),
        pay_to=Address(HOME.line1, HOME.city, HOME.state, HOME.line1),
        patient=patient(dob=TODAY + timedelta(days=3), sex=SUBSCRIBER_FIRST, address=None),
        subscriber=replace(
            dependant().subscriber,
            member_id=MEMBER_ID,
            relationship=MEMBER_ID,
            claim_filing_indicator=SUBSCRIBER_LAST,
            responsibility="S",
            coverage_effective=TODAY,
            coverage_termination=DOS - timedelta(days=30),
            member=replace(
                dependant().subscriber.member,
                dob=None,
                sex=None,
                address=replace(HOME, state=SUBSCRIBER_FIRST),
            ),
        ),
    )
    claim = with_line(
        claim,
        0,
        code=MEMBER_ID,
        modifiers=(SUBSCRIBER_FIRST, "26", "TC", "26", "LT", "RT"),
        diagnosis_pointers=(9, 9, 1, 2, 3),
        units=Decimal(0),
        unit_basis=PATIENT_FIRST,
        ndc=MEMBER_ID,
        ndc_unit=HOME.zip,
        place_of_service=HOME.zip,
        control_number=MEMBER_ID,
        service_date=TODAY + timedelta(days=2),
    )
    return with_line(claim, 1, charge_cents=-5, control_number=MEMBER_ID, line_number=7)


def test_no_finding_message_repeats_phi():
    findings = scrub(broken_everywhere(), ScrubContext(today=TODAY, duplicates={101: (102,)}))
    assert len({f.code for f in findings}) >= 20
    for finding in findings:
        for value in PHI:
            assert value.lower() not in finding.message.lower(), (finding, value)
            assert value.lower() not in finding.field.lower(), (finding, value)
