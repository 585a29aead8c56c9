"""What a claim says, as plain data: the contract between the claim services in
the core and the plugins that scrub claims and write them as X12.

The core builds these views from the database in bulk (`services.claims`); a
scrub rule reads one `ClaimView` and returns findings; a claim writer turns an
`InterchangeView` into one X12 file. Nothing here touches the database, so rules
and writers are pure functions that a test can feed by hand.

Conventions: amounts are integer cents; dates are `datetime.date`; codes are
stored the way X12 wants them (ICD-10-CM without the dot, NPI as 10 digits, ZIP
as 5 or 9 digits, phone as 10 digits). Optional data is None, never "".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

PROFESSIONAL = "837P"
INSTITUTIONAL = "837I"
CLAIM_KINDS = (PROFESSIONAL, INSTITUTIONAL)

# Claim frequency (CLM05-3): original, corrected (replacement) and void.
FREQ_ORIGINAL, FREQ_CORRECTED, FREQ_VOID = "1", "7", "8"

# Payer responsibility sequence (SBR01) by coverage priority.
RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    zip: str  # 5 or 9 digits
    line2: str | None = None


@dataclass(frozen=True, slots=True)
class PersonName:
    last: str
    first: str | None = None  # None for an organization
    middle: str | None = None
    suffix: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderView:
    """A billing, rendering, referring or attending provider, or a facility.

    `name.first` is None for an organization (NM102 = 2)."""

    name: PersonName
    npi: str | None
    taxonomy: str | None = None
    tin: str | None = None  # billing provider only: EIN, 9 digits
    address: Address | None = None
    phone: str | None = None

    @property
    def is_person(self) -> bool:
        return self.name.first is not None


@dataclass(frozen=True, slots=True)
class MemberView:
    """The subscriber (2010BA) or the patient when not the subscriber (2010CA).
    The 837 carries the subscriber's address and DMG only when the subscriber is
    the patient; the writer leaves them out otherwise."""

    name: PersonName
    dob: date | None
    sex: str | None  # F, M or U
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class SubscriberView:
    """The insured and the coverage this claim bills (SBR, 2010BA, 2010BB)."""

    member: MemberView
    member_id: str
    group_number: str | None
    plan_name: str | None
    responsibility: str  # SBR01: P, S or T
    claim_filing_indicator: str  # SBR09: CI, MB, MC, BL, HM, ...
    # X12 individual relationship code of the patient to the subscriber
    # (18 self, 01 spouse, 19 child, G8 other).
    relationship: str
    coverage_effective: date | None = None
    coverage_termination: date | None = None


@dataclass(frozen=True, slots=True)
class PayerView:
    name: str
    payer_id: str  # the EDI payer id (NM109 with qualifier PI)
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class LineView:
    """One service line (2400): SV1 for 837P, SV2 for 837I."""

    line_number: int  # LX01, 1..50 (837P) / 1..999 (837I)
    control_number: str  # REF*6R: our line item control number, echoed on the 835
    code: str  # CPT/HCPCS; "" on an 837I line billed by revenue code alone
    modifiers: tuple[str, ...]  # up to four
    charge_cents: int
    units: Decimal
    unit_basis: str  # UN units, MJ minutes
    service_date: date
    service_date_end: date | None = None
    place_of_service: str | None = None  # only when it differs from the claim's
    diagnosis_pointers: tuple[int, ...] = ()  # 1-based into ClaimView.diagnoses, up to four
    ndc: str | None = None  # 11 digits, no hyphens
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None  # F2, GR, ME, ML, UN
    rendering: ProviderView | None = None  # only when it differs from the claim's
    revenue_code: str | None = None  # 837I: four digits
    charge_id: int | None = None  # ours; not written to X12


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A CAS adjustment from another payer's adjudication."""

    group: str  # CO, PR, OA, PI, CR
    reason: str  # CARC
    amount_cents: int
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """How another payer adjudicated one of this claim's lines (2430 SVD/CAS/DTP)."""

    line_control_number: str  # which LineView (its control_number)
    paid_cents: int
    code: str  # the procedure code as paid
    modifiers: tuple[str, ...]
    units: Decimal
    adjudicated: date
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherPayerView:
    """Another coverage of the patient (2320 / 2330A / 2330B): on a secondary
    claim, the primary, with what it paid once its remittance is in."""

    subscriber: SubscriberView
    payer: PayerView
    paid_cents: int | None = None  # AMT*D, when adjudicated
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    adjudicated: date | None = None  # DTP*573 (2330B), when adjudicated
    payer_claim_number: str | None = None  # REF*F8 (2330B)
    line_adjudications: tuple[LineAdjudication, ...] = ()


@dataclass(frozen=True, slots=True)
class InstitutionalView:
    """What an outpatient 837I adds to a claim."""

    # Facility type code + classification, e.g. "13" (hospital outpatient); the
    # writer also reads "131"/"0131" and takes the frequency from the claim.
    type_of_bill: str
    statement_from: date
    statement_to: date
    admission_type: str | None  # CL101, for inpatient; None for outpatient
    admission_source: str | None
    patient_status: str  # CL103, e.g. "01" discharged home
    attending: ProviderView | None
    admission_date: date | None = None


@dataclass(frozen=True, slots=True)
class ClaimView:
    """Everything an 837 claim (2300 and below) and the scrub rules need."""

    claim_id: int
    claim_number: str  # CLM01, our patient control number (max 20 characters)
    kind: str  # PROFESSIONAL or INSTITUTIONAL
    frequency: str  # FREQ_ORIGINAL, FREQ_CORRECTED, FREQ_VOID
    total_cents: int
    place_of_service: str  # CLM05-1 (837P); for 837I see institutional.type_of_bill
    billing: ProviderView
    subscriber: SubscriberView
    payer: PayerView
    patient: MemberView | None  # None when the patient is the subscriber
    diagnoses: tuple[str, ...]  # ICD-10-CM without dots, up to 12; first is principal
    lines: tuple[LineView, ...]
    rendering: ProviderView | None = None  # 2310B (837P)
    referring: ProviderView | None = None  # 2310A (837P)
    facility: ProviderView | None = None  # 2310C / 2310E: where, when not the billing address
    pay_to: Address | None = None  # 2010AB, when payments go elsewhere
    payer_claim_number: str | None = None  # REF*F8: the original's, for frequency 7 and 8
    prior_authorization: str | None = None  # REF*G1
    onset_date: date | None = None
    institutional: InstitutionalView | None = None
    other_payers: tuple[OtherPayerView, ...] = ()
    # Context for scrub rules (not written to X12):
    patient_id: int | None = None
    payer_db_id: int | None = None
    coverage_id: int | None = None
    provider_signature_on_file: bool = True
    assignment_of_benefits: bool = True
    release_of_information: str = "Y"  # CLM09: Y or I


@dataclass(frozen=True, slots=True)
class Party:
    """An interchange or group party: ISA qualifier + id, and the GS code."""

    qualifier: str  # ISA05/ISA07, e.g. "ZZ" or "30"
    id: str  # ISA06/ISA08, up to 15 characters
    gs_code: str  # GS02/GS03
    name: str  # NM1*41 submitter / NM1*40 receiver name


@dataclass(frozen=True, slots=True)
class TransactionView:
    """One transaction set (ST..SE): the claims of one billing provider."""

    control_number: str  # ST02, 4-9 digits
    claims: tuple[ClaimView, ...]
    reference: str  # BHT03, our batch reference


@dataclass(frozen=True, slots=True)
class InterchangeView:
    """One file: ISA/GS envelopes around the transaction sets of one receiver."""

    kind: str  # PROFESSIONAL or INSTITUTIONAL
    sender: Party
    receiver: Party
    submitter_contact: str  # PER*IC name
    submitter_phone: str | None
    submitter_email: str | None
    interchange_control: int  # ISA13, 1..999999999
    group_control: int  # GS06
    created: datetime  # ISA09/10, GS04/05, BHT04/05 (practice local time)
    transactions: tuple[TransactionView, ...]
    production: bool = True  # ISA15 P or T
    acknowledgment_requested: bool = True  # ISA14
    separators: dict[str, str] = field(
        default_factory=lambda: {"segment": "~", "element": "*", "component": ":", "repeat": "^"}
    )
