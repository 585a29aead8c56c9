"""The built-in claim scrub rules.

Each rule is a `pms_core.scrub.Rule`: a stable upper-case code, a one-line
description, and a check `(claim, context) -> list[Finding]`. Every finding of a
rule carries the rule's code; its severity is "error" (blocks submission) or
"warning". `Finding.field` is a path into the `ClaimView` with 0-based indexes
into its tuples (`lines[2].modifiers[1]` is the second modifier of the third line
in `claim.lines`); `Finding.line` is the service line's own number (LX01), and
messages speak of lines and diagnoses by their 1-based numbers ("line 3",
"diagnosis 2"), the way a biller sees them.

Messages name fields, codes and amounts, never PHI: no names, member ids, claim
(account) numbers, addresses, phones or dates (a date of service is as personal
as a date of birth). A code is echoed only when it has the shape of a code, so
free text typed into a code field is never repeated.

The rules run over every claim of a batch, so they are written for speed: code
sets are precomputed frozensets, str methods instead of regexes, the NPI check
digit, ICD-10-CM status and procedure-code shape are memoized per value, and a
clean claim allocates little more than the empty result lists.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import permutations

from pms_core.claimdata import (
    FREQ_CORRECTED,
    FREQ_VOID,
    INSTITUTIONAL,
    Address,
    ClaimView,
    MemberView,
    ProviderView,
)
from pms_core.codes import NDC_UNITS, PLACE_OF_SERVICE, icd10_status, procedure_kind
from pms_core.scrub import Finding, Rule, ScrubContext, Severity
from pms_core.validation import MAX_AGE_YEARS, US_STATES, npi_valid

ERROR = Severity.ERROR
WARNING = Severity.WARNING


# --- code sets -------------------------------------------------------------------
def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


DEFAULT_TIMELY_FILING_DAYS = 365
TIMELY_FILING_WARNING_DAYS = 30  # warn when this close to the limit
MAX_LINES = {"837P": 50, "837I": 999}
MAX_DIAGNOSES = {"837P": 12, "837I": 25}  # 837I: principal + 24 other (2 x HI*ABF)
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_CLAIM_NUMBER = 20  # CLM01: payers need only return 20 characters
MAX_REF = 50  # REF02 (line control number, payer claim number)

# SBR09 claim filing indicator codes (005010).
FILING_INDICATORS = _codes("11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ")
# SBR01 payer responsibility sequence codes.
RESPONSIBILITIES = _codes("A B C D E F G H P S T U")
SELF = "18"
# PAT01 (2000C): the patient's relationship to the subscriber when not the subscriber.
DEPENDENT_RELATIONSHIPS = _codes("01 19 20 21 39 40 53 G8")
# SBR02 of another subscriber (2320): self or any of the above.
OTHER_SUBSCRIBER_RELATIONSHIPS = DEPENDENT_RELATIONSHIPS | {SELF}
SEXES = frozenset("FMU")
UNIT_BASES = {"837P": frozenset({"UN", "MJ"}), "837I": frozenset({"UN", "DA"})}
FREQUENCIES = {
    "837P": frozenset({"1", "7", "8"}),
    "837I": frozenset({"0", "1", "2", "3", "4", "5", "7", "8"}),
}
FREQUENCY_NAMES = {FREQ_CORRECTED: "replacement", FREQ_VOID: "void"}
NDC_UNIT_SET = frozenset(NDC_UNITS)
PLACES_OF_SERVICE = frozenset(PLACE_OF_SERVICE)
# CL103 patient discharge status (NUBC).
PATIENT_STATUSES = _codes(
    """
    01 02 03 04 05 06 07 09 20 21 30 40 41 42 43 50 51 61 62 63 64 65 66 69 70
    81 82 83 84 85 86 87 88 89 90 91 92 93 94 95
    """
)
ADMISSION_TYPES = frozenset("123459")  # CL101
FACILITY_TYPES = frozenset("1234678")  # first digit of the type of bill
BILL_CLASSIFICATIONS = frozenset("123456789")
# Inpatient types of bill (hospital, swing bed, SNF, religious non-medical
# inpatient): CL101 admission type and DTP*435 admission date are required.
INPATIENT_BILL_TYPES = frozenset({"11", "18", "21", "41"})
# EIN prefixes the IRS assigns; anything else is likely a typo (or an SSN).
EIN_PREFIXES = _codes(
    """
    01 02 03 04 05 06 10 11 12 13 14 15 16 20 21 22 23 24 25 26 27 30 31 32 33
    34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 50 51 52 53 54 55 56 57 58 59 60
    61 62 63 64 65 66 67 68 71 72 73 74 75 76 77 80 81 82 83 84 85 86 87 88 90 91
    92 93 94 95 98 99
    """
)
PLACEHOLDER_TINS = frozenset([d * 9 for d in "0123456789"] + ["123456789", "987654321"])
PO_BOX_PHRASES = (" PO BOX ", " P O BOX ", " POST OFFICE BOX ", " POST BOX ", " LOCK BOX ")
PO_BOX_WORDS = ("POBOX", "LOCKBOX", "POSTOFFICEBOX")
X_MODIFIERS = frozenset({"XE", "XP", "XS", "XU"})

_TAXONOMY_MIDDLE = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# --- memoized lookups (values repeat heavily across a batch) ----------------------
_MEMO_LIMIT = 200_000
_npi_memo: dict[str, bool] = {}
_icd_memo: dict[str, str] = {}
_proc_memo: dict[str, str | None] = {}


def _npi_ok(npi: str) -> bool:
    ok = _npi_memo.get(npi)
    if ok is None:
        ok = npi_valid(npi)
        if len(_npi_memo) < _MEMO_LIMIT:
            _npi_memo[npi] = ok
    return ok


def _icd(code: str) -> str:
    status = _icd_memo.get(code)
    if status is None:
        status = icd10_status(code)
        if len(_icd_memo) < _MEMO_LIMIT:
            _icd_memo[code] = status
    return status


def _procedure_kind(code: str) -> str | None:
    try:
        return _proc_memo[code]
    except KeyError:
        kind = procedure_kind(code)
        if len(_proc_memo) < _MEMO_LIMIT:
            _proc_memo[code] = kind
        return kind


# --- helpers ----------------------------------------------------------------------
def _shown(code: str | None) -> str:
    """' (CODE)' when `code` has the shape of a short code (one or two upper-case
    letters or digits), else '': free text typed into a code field is never echoed."""
    if code and len(code) <= 2 and code.isascii() and code.isalnum() and code.upper() == code:
        return f" ({code})"
    return ""


def _shown_icd(code: str) -> str:
    """' (CODE)' when `code` has the shape of an ICD-10-CM code (letter, digit, ...)."""
    if (
        3 <= len(code) <= 7
        and code.isascii()
        and code.isalnum()
        and code.isupper()
        and code[0].isalpha()
        and code[1].isdigit()
    ):
        return f" ({code})"
    return ""


def _blank(value: str | None) -> bool:
    return not value or value.isspace()


def _digits(value: str, n: int) -> bool:
    return len(value) == n and value.isascii() and value.isdigit()


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _institutional(claim: ClaimView) -> bool:
    return claim.kind == INSTITUTIONAL


def _kind(claim: ClaimView) -> str:
    return "837I" if claim.kind == INSTITUTIONAL else "837P"


_Providers = tuple[tuple[str, ProviderView, int | None], ...]
# The providers of the last claim asked about: four rules walk the same claim's
# providers one after the other. A (claim, providers) pair, replaced whole.
_last_providers: tuple[ClaimView | None, _Providers] = (None, ())


def _providers(claim: ClaimView) -> _Providers:
    """(field path, provider, line number) for every provider on the claim."""
    global _last_providers
    last = _last_providers
    if last[0] is claim:
        return last[1]
    found = [("billing", claim.billing, None)]
    if claim.rendering is not None:
        found.append(("rendering", claim.rendering, None))
    if claim.referring is not None:
        found.append(("referring", claim.referring, None))
    if claim.facility is not None:
        found.append(("facility", claim.facility, None))
    inst = claim.institutional
    if inst is not None and inst.attending is not None:
        found.append(("institutional.attending", inst.attending, None))
    for i, line in enumerate(claim.lines):
        if line.rendering is not None:
            found.append((f"lines[{i}].rendering", line.rendering, line.line_number))
    result = tuple(found)
    _last_providers = (claim, result)
    return result


def _address_findings(
    out: list[Finding], code: str, addr: Address, path: str, *, what: str
) -> None:
    """Errors for an address the writer cannot put in N3/N4."""
    if _blank(addr.line1):
        out.append(Finding(code, ERROR, f"{path}.line1", f"{path}.line1 ({what}) is missing"))
    if _blank(addr.city):
        out.append(Finding(code, ERROR, f"{path}.city", f"{path}.city ({what}) is missing"))
    state = addr.state
    if state not in US_STATES:
        problem = "is missing" if _blank(state) else "is not a US state or territory code"
        out.append(Finding(code, ERROR, f"{path}.state", f"{path}.state ({what}) {problem}"))
    zip_code = addr.zip
    if not (zip_code and zip_code.isascii() and zip_code.isdigit() and len(zip_code) in (5, 9)):
        problem = "is missing" if _blank(zip_code) else "must be 5 or 9 digits"
        out.append(Finding(code, ERROR, f"{path}.zip", f"{path}.zip ({what}) {problem}"))


_po_box_memo: dict[str, bool] = {}


def _is_po_box(text: str | None) -> bool:
    if not text:
        return False
    found = _po_box_memo.get(text)
    if found is None:
        found = _po_box(text)
        if len(_po_box_memo) < _MEMO_LIMIT:
            _po_box_memo[text] = found
    return found


def _po_box(text: str) -> bool:
    words = text.upper().replace(".", " ").replace("-", " ").replace(",", " ").split()
    if not words:
        return False
    spaced = f" {' '.join(words)} "
    if any(p in spaced for p in PO_BOX_PHRASES):
        return True
    if any(w.startswith(PO_BOX_WORDS) for w in words):
        return True
    # "Box 123" at the start of the line
    return words[0] == "BOX" and len(words) > 1 and words[1][:1].isdigit()


# --- providers --------------------------------------------------------------------
_ROLE_NAMES = {
    "billing": "the billing provider",
    "rendering": "the rendering provider",
    "referring": "the referring provider",
    "facility": "the service facility",
    "institutional.attending": "the attending provider",
}


def _role(path: str, line: int | None) -> str:
    if line is not None:
        return f"line {line}'s rendering provider"
    return _ROLE_NAMES[path]


def check_npi_missing(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for path, provider, line in _providers(claim):
        if not _blank(provider.npi) or path == "facility":
            continue
        if path == "referring":
            out.append(
                Finding(
                    "NPI_MISSING",
                    WARNING,
                    "referring.npi",
                    "referring.npi is missing: most payers deny referred or ordered "
                    "services without the referring provider's NPI",
                )
            )
        else:
            out.append(
                Finding(
                    "NPI_MISSING",
                    ERROR,
                    f"{path}.npi",
                    f"{path}.npi is missing: {_role(path, line)} needs an NPI",
                    line,
                )
            )
    return out


def check_npi_check_digit(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for path, provider, line in _providers(claim):
        npi = provider.npi
        if npi is None or _npi_ok(npi):
            continue
        if not npi.strip():
            continue  # NPI_MISSING reports it
        problem = (
            "fails the NPI check digit (Luhn over 80840 + the first nine digits)"
            if _digits(npi, 10)
            else "must be 10 digits"
        )
        out.append(
            Finding(
                "NPI_CHECK_DIGIT",
                ERROR,
                f"{path}.npi",
                f"{path}.npi ({_role(path, line)}) {problem}",
                line,
            )
        )
    return out


def check_tin(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    tin = claim.billing.tin
    if (
        tin is not None
        and len(tin) == 9
        and tin[:2] in EIN_PREFIXES
        and tin.isdigit()
        and tin not in PLACEHOLDER_TINS
    ):
        return []
    if _blank(tin):
        message, severity = "billing.tin (the billing provider's EIN, REF*EI) is missing", ERROR
    elif not _digits(tin, 9):
        message, severity = "billing.tin must be 9 digits without a hyphen", ERROR
    elif tin in PLACEHOLDER_TINS:
        message, severity = "billing.tin is a placeholder, not a real tax id", ERROR
    else:
        message = (
            f"billing.tin starts with {tin[:2]}, a prefix the IRS does not assign to EINs: "
            "check it (an SSN belongs in REF*SY)"
        )
        severity = WARNING
    return [Finding("TIN_FORMAT", severity, "billing.tin", message)]


_taxonomy_memo: dict[str, bool] = {}


def _taxonomy_ok(value: str) -> bool:
    ok = _taxonomy_memo.get(value)
    if ok is None:
        ok = (
            len(value) == 10
            and value[9] == "X"
            and value[:3].isascii()
            and value[:3].isdigit()
            and all(c in _TAXONOMY_MIDDLE for c in value[3:9])
        )
        if len(_taxonomy_memo) < _MEMO_LIMIT:
            _taxonomy_memo[value] = ok
    return ok


def check_taxonomy(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for path, provider, line in _providers(claim):
        taxonomy = provider.taxonomy
        if taxonomy is None or _taxonomy_ok(taxonomy):
            continue
        out.append(
            Finding(
                "TAXONOMY_FORMAT",
                ERROR,
                f"{path}.taxonomy",
                f"{path}.taxonomy is not a provider taxonomy code "
                "(10 characters ending in X, e.g. 207Q00000X)",
                line,
            )
        )
    return out


def check_provider_entity(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for path, provider, line in _providers(claim):
        name = provider.name
        if _blank(name.last):
            out.append(
                Finding(
                    "PROVIDER_ENTITY",
                    ERROR,
                    f"{path}.name.last",
                    f"{path}.name.last (organization or last name of {_role(path, line)}) "
                    "is missing",
                    line,
                )
            )
        if path in ("referring", "institutional.attending") and name.first is None:
            out.append(
                Finding(
                    "PROVIDER_ENTITY",
                    ERROR,
                    f"{path}.name.first",
                    f"{_role(path, line)} must be a person (NM102 1): {path}.name.first is missing",
                )
            )
        elif path == "facility" and name.first is not None:
            out.append(
                Finding(
                    "PROVIDER_ENTITY",
                    ERROR,
                    "facility.name.first",
                    "the service facility must be an organization (NM102 2): "
                    "facility.name.first must be empty",
                )
            )
    return out


# --- addresses --------------------------------------------------------------------
def check_billing_address(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    addr = claim.billing.address
    if addr is None:
        return [
            Finding(
                "BILLING_ADDRESS",
                ERROR,
                "billing.address",
                "billing.address is missing: the billing provider needs a street address (N3/N4)",
            )
        ]
    out: list[Finding] = []
    _address_findings(out, "BILLING_ADDRESS", addr, "billing.address", what="billing provider")
    for part, text in (("line1", addr.line1), ("line2", addr.line2)):
        if _is_po_box(text):
            out.append(
                Finding(
                    "BILLING_ADDRESS",
                    ERROR,
                    f"billing.address.{part}",
                    f"billing.address.{part} is a PO box or lock box: the billing provider "
                    "address must be a street address (put a PO box in pay_to)",
                )
            )
    _zip_plus_four(out, "BILLING_ADDRESS", addr, "billing.address", "billing provider")
    return out


def _zip_plus_four(out: list[Finding], code: str, addr: Address, path: str, what: str) -> None:
    """The 5010 837 requires the full nine-digit ZIP for the billing provider and
    the service facility (2010AA / 2310C N403); the file fails validation without."""
    zip_code = addr.zip
    if zip_code and len(zip_code) == 5 and zip_code.isdigit():
        out.append(
            Finding(
                code,
                ERROR,
                f"{path}.zip",
                f"{path}.zip has 5 digits: the 837 requires the {what}'s ZIP+4 (9 digits)",
            )
        )


def check_addresses(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    member = claim.subscriber.member
    if member.address is not None:
        _address_findings(
            out, "ADDRESS", member.address, "subscriber.member.address", what="subscriber"
        )
    elif claim.patient is None:
        out.append(
            Finding(
                "ADDRESS",
                ERROR,
                "subscriber.member.address",
                "subscriber.member.address is missing: required when the patient is the "
                "subscriber (2010BA N3/N4)",
            )
        )
    patient = claim.patient
    if patient is not None:
        if patient.address is None:
            out.append(
                Finding(
                    "ADDRESS",
                    ERROR,
                    "patient.address",
                    "patient.address is missing: required when the patient is not the "
                    "subscriber (2010CA N3/N4)",
                )
            )
        else:
            _address_findings(out, "ADDRESS", patient.address, "patient.address", what="patient")
    facility = claim.facility
    if facility is not None:
        if facility.address is None:
            out.append(
                Finding(
                    "ADDRESS",
                    ERROR,
                    "facility.address",
                    "facility.address is missing: the service facility needs N3/N4",
                )
            )
        else:
            _address_findings(
                out, "ADDRESS", facility.address, "facility.address", what="service facility"
            )
            _zip_plus_four(out, "ADDRESS", facility.address, "facility.address", "service facility")
    if claim.pay_to is not None:
        _address_findings(out, "ADDRESS", claim.pay_to, "pay_to", what="pay-to address")
    if claim.payer.address is not None:
        _address_findings(out, "ADDRESS", claim.payer.address, "payer.address", what="payer")
    return out


# --- diagnoses --------------------------------------------------------------------
def check_icd10(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for i, code in enumerate(claim.diagnoses):
        if not (code.isascii() and code.isalnum() and code.isupper()):
            message = (
                f"diagnosis {i + 1} is not written as an ICD-10-CM code "
                "(upper-case letters and digits, no dot)"
            )
        else:
            status = _icd(code)
            if status == "billable":
                continue
            if status == "header":
                message = (
                    f"diagnosis {i + 1}{_shown_icd(code)} is not billable: it is a category "
                    "with more specific codes; use the most specific code"
                )
            else:
                message = f"diagnosis {i + 1}{_shown_icd(code)} is not an ICD-10-CM code"
        out.append(Finding("ICD10_CODE", ERROR, f"diagnoses[{i}]", message))
    return out


def check_diagnosis_count(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    n = len(claim.diagnoses)
    if n == 0:
        return [
            Finding(
                "DIAGNOSIS_COUNT",
                ERROR,
                "diagnoses",
                "the claim has no diagnosis: at least one ICD-10-CM code is required",
            )
        ]
    limit = MAX_DIAGNOSES[_kind(claim)]
    if n > limit:
        return [
            Finding(
                "DIAGNOSIS_COUNT",
                ERROR,
                f"diagnoses[{limit}]",
                f"the claim has {n} diagnoses; an {_kind(claim)} allows at most {limit}",
            )
        ]
    return []


def check_diagnosis_duplicate(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    diagnoses = claim.diagnoses
    if len(diagnoses) < 2 or len(set(diagnoses)) == len(diagnoses):
        return []
    out: list[Finding] = []
    first: dict[str, int] = {}
    for i, code in enumerate(diagnoses):
        if code in first:
            out.append(
                Finding(
                    "DIAGNOSIS_DUPLICATE",
                    ERROR,
                    f"diagnoses[{i}]",
                    f"diagnosis {i + 1}{_shown_icd(code)} repeats diagnosis {first[code] + 1}",
                )
            )
        else:
            first[code] = i
    return out


def check_principal_diagnosis(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    if not claim.diagnoses:
        return []
    code = claim.diagnoses[0]
    if code[:1] in ("V", "W", "X", "Y") and _icd(code) != "unknown":
        return [
            Finding(
                "DIAGNOSIS_PRINCIPAL",
                ERROR,
                "diagnoses[0]",
                f"diagnosis 1{_shown_icd(code)} is an external cause code (V00-Y99), which may "
                "not be the first-listed diagnosis: list the injury or condition first",
            )
        ]
    return []


_pointer_sets: dict[int, frozenset[tuple[int, ...]]] = {}


def _good_pointers(n: int) -> frozenset[tuple[int, ...]]:
    """Every valid pointer tuple for a claim with `n` diagnoses: 1 to 4 distinct
    pointers in 1..n, in any order (at most 13,344 tuples, for n = 12)."""
    good = _pointer_sets.get(n)
    if good is None:
        diagnoses = range(1, n + 1)
        good = frozenset(p for k in range(1, MAX_POINTERS + 1) for p in permutations(diagnoses, k))
        _pointer_sets[n] = good
    return good


def check_diagnosis_pointers(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    if _institutional(claim):
        return []  # SV2 has no diagnosis pointers
    out: list[Finding] = []
    n = min(len(claim.diagnoses), MAX_DIAGNOSES["837P"])
    good = _good_pointers(n)
    for i, line in enumerate(claim.lines):
        pointers = line.diagnosis_pointers
        if pointers in good:
            continue
        ln = line.line_number
        if not pointers:
            out.append(
                Finding(
                    "DIAGNOSIS_POINTER",
                    ERROR,
                    f"lines[{i}].diagnosis_pointers",
                    f"line {ln} has no diagnosis pointer: point at 1 to 4 of the claim's diagnoses",
                    ln,
                )
            )
            continue
        if len(pointers) > MAX_POINTERS:
            out.append(
                Finding(
                    "DIAGNOSIS_POINTER",
                    ERROR,
                    f"lines[{i}].diagnosis_pointers[{MAX_POINTERS}]",
                    f"line {ln} has {len(pointers)} diagnosis pointers; at most "
                    f"{MAX_POINTERS} are allowed",
                    ln,
                )
            )
        for j, pointer in enumerate(pointers):
            if not 1 <= pointer <= n:
                out.append(
                    Finding(
                        "DIAGNOSIS_POINTER",
                        ERROR,
                        f"lines[{i}].diagnosis_pointers[{j}]",
                        f"line {ln} diagnosis pointer {j + 1} ({pointer}) points at no "
                        f"diagnosis: the claim has {len(claim.diagnoses)}",
                        ln,
                    )
                )
        if len(pointers) > 1 and len(set(pointers)) != len(pointers):
            for j, pointer in enumerate(pointers):
                if 1 <= pointer <= n and pointer in pointers[:j]:
                    out.append(
                        Finding(
                            "DIAGNOSIS_POINTER",
                            ERROR,
                            f"lines[{i}].diagnosis_pointers[{j}]",
                            f"line {ln} points at diagnosis {pointer} more than once",
                            ln,
                        )
                    )
    return out


# --- procedures and modifiers -----------------------------------------------------
def check_procedure_code(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    known = context.procedure_codes
    institutional = _institutional(claim)
    for i, line in enumerate(claim.lines):
        code = line.code
        if not code:
            if not institutional:  # an 837I line may carry only a revenue code
                out.append(
                    Finding(
                        "PROCEDURE_CODE",
                        ERROR,
                        f"lines[{i}].code",
                        f"line {line.line_number} has no procedure code",
                        line.line_number,
                    )
                )
            continue
        if _procedure_kind(code) is None:
            message = (
                f"line {line.line_number} procedure code is not a CPT or HCPCS "
                "code (5 digits, 4 digits + F/T, or a letter A-V + 4 digits)"
            )
        elif known is not None and code not in known:
            message = (
                f"line {line.line_number} procedure code ({code}) is not in the "
                "practice's CPT/HCPCS code list"
            )
        else:
            continue
        out.append(Finding("PROCEDURE_CODE", ERROR, f"lines[{i}].code", message, line.line_number))
    return out


def check_modifiers(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    valid = context.modifiers
    for i, line in enumerate(claim.lines):
        modifiers = line.modifiers
        if not modifiers:
            continue
        ln = line.line_number
        if len(modifiers) > MAX_MODIFIERS:
            out.append(
                Finding(
                    "MODIFIER",
                    ERROR,
                    f"lines[{i}].modifiers[{MAX_MODIFIERS}]",
                    f"line {ln} has {len(modifiers)} modifiers; at most {MAX_MODIFIERS} "
                    "are allowed",
                    ln,
                )
            )
        for j, modifier in enumerate(modifiers):
            if modifier not in valid:
                out.append(
                    Finding(
                        "MODIFIER",
                        ERROR,
                        f"lines[{i}].modifiers[{j}]",
                        f"line {ln} modifier {j + 1}{_shown(modifier)} is not a known modifier",
                        ln,
                    )
                )
            elif modifier in modifiers[:j]:
                out.append(
                    Finding(
                        "MODIFIER",
                        ERROR,
                        f"lines[{i}].modifiers[{j}]",
                        f"line {ln} lists modifier {modifier} twice",
                        ln,
                    )
                )
    return out


def _combination(
    out: list[Finding],
    severity: Severity,
    index: int,
    line_number: int,
    modifiers: tuple[str, ...],
    pair: tuple[str, str],
    message: str,
) -> None:
    """A finding on the later modifier of `pair` (both are on the line)."""
    position = max(modifiers.index(pair[0]), modifiers.index(pair[1]))
    out.append(
        Finding(
            "MODIFIER_COMBINATION",
            severity,
            f"lines[{index}].modifiers[{position}]",
            f"line {line_number} {message}",
            line_number,
        )
    )


def check_modifier_combination(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for i, line in enumerate(claim.lines):
        modifiers = line.modifiers
        if len(modifiers) < 2:
            continue
        ln = line.line_number
        present = set(modifiers)
        if "26" in present and "TC" in present:
            _combination(
                out,
                ERROR,
                i,
                ln,
                modifiers,
                ("26", "TC"),
                "has both 26 (professional component) and TC (technical component): bill "
                "the global service without either, or the components on two lines",
            )
        if "LT" in present and "RT" in present:
            _combination(
                out,
                WARNING,
                i,
                ln,
                modifiers,
                ("LT", "RT"),
                "has both LT and RT: for a bilateral procedure use modifier 50 (or RT and "
                "LT on two lines, as the payer wants)",
            )
        if "50" in present and ("LT" in present or "RT" in present):
            side = "LT" if "LT" in present else "RT"
            _combination(
                out,
                WARNING,
                i,
                ln,
                modifiers,
                ("50", side),
                f"has 50 (bilateral) with {side}: 50 already means both sides",
            )
        if "59" in present and not present.isdisjoint(X_MODIFIERS):
            x = next(m for m in modifiers if m in X_MODIFIERS)
            _combination(
                out,
                WARNING,
                i,
                ln,
                modifiers,
                ("59", x),
                f"has both 59 and {x}: use the more specific X modifier alone",
            )
    return out


# --- dates ------------------------------------------------------------------------
def check_service_dates(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    today = context.today
    subscriber = claim.subscriber
    effective = subscriber.coverage_effective
    termination = subscriber.coverage_termination
    patient = claim.patient if claim.patient is not None else subscriber.member
    dob = patient.dob
    dob_path = "patient.dob" if claim.patient is not None else "subscriber.member.dob"
    dob_reported = False
    for i, line in enumerate(claim.lines):
        ln = line.line_number
        start = line.service_date
        end = line.service_date_end
        last = start if end is None else end
        if start > today:
            out.append(
                Finding(
                    "SERVICE_DATES",
                    ERROR,
                    f"lines[{i}].service_date",
                    f"line {ln} date of service is in the future",
                    ln,
                )
            )
        if end is not None:
            if end < start:
                out.append(
                    Finding(
                        "SERVICE_DATES",
                        ERROR,
                        f"lines[{i}].service_date_end",
                        f"line {ln} service end date is before its start date",
                        ln,
                    )
                )
            elif end > today and start <= today:
                out.append(
                    Finding(
                        "SERVICE_DATES",
                        ERROR,
                        f"lines[{i}].service_date_end",
                        f"line {ln} service end date is in the future",
                        ln,
                    )
                )
        if effective is not None and start < effective:
            out.append(
                Finding(
                    "SERVICE_DATES",
                    ERROR,
                    f"lines[{i}].service_date",
                    f"line {ln} date of service is before the coverage's effective date",
                    ln,
                )
            )
        if termination is not None and last > termination:
            field = "service_date" if start > termination else "service_date_end"
            out.append(
                Finding(
                    "SERVICE_DATES",
                    ERROR,
                    f"lines[{i}].{field}",
                    f"line {ln} date of service is after the coverage's termination date",
                    ln,
                )
            )
        if dob is not None and start < dob and not dob_reported:
            dob_reported = True
            out.append(
                Finding(
                    "SERVICE_DATES",
                    ERROR,
                    dob_path,
                    f"line {ln} date of service is before the patient's date of birth",
                    ln,
                )
            )
    return out


def _last_service(claim: ClaimView) -> tuple[date, str, int | None] | None:
    """The last date of service, its field path and its line number."""
    last: date | None = None
    path = ""
    number: int | None = None
    for i, line in enumerate(claim.lines):
        end = line.service_date_end
        if end is not None and end > line.service_date:
            if last is None or end > last:
                last, path, number = end, f"lines[{i}].service_date_end", line.line_number
        elif last is None or line.service_date > last:
            last, path, number = line.service_date, f"lines[{i}].service_date", line.line_number
    inst = claim.institutional
    if inst is not None and _institutional(claim) and (last is None or inst.statement_to > last):
        last, path, number = inst.statement_to, "institutional.statement_to", None
    return None if last is None else (last, path, number)


def check_timely_filing(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    found = _last_service(claim)
    if found is None:
        return []
    last, path, number = found
    submitted = context.first_submitted.get(claim.claim_id)
    counted_to = context.today if submitted is None else submitted
    days = (counted_to - last).days
    profile = context.profile
    limit = profile.timely_filing_days if profile is not None else DEFAULT_TIMELY_FILING_DAYS
    if days > limit:
        when = "at first submission" if submitted is not None else "today"
        return [
            Finding(
                "TIMELY_FILING",
                ERROR,
                path,
                f"the claim is {days} days past its last date of service {when}; the payer's "
                f"timely filing limit is {limit} days",
                number,
            )
        ]
    left = limit - days
    if submitted is None and left <= TIMELY_FILING_WARNING_DAYS:
        return [
            Finding(
                "TIMELY_FILING",
                WARNING,
                path,
                f"{left} days left to file: the payer's timely filing limit is {limit} days "
                "from the last date of service",
                number,
            )
        ]
    return []


def check_duplicate(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    others = context.duplicates.get(claim.claim_id)
    if not others:
        return []
    ids = ", ".join(str(c) for c in others)
    plural = "s" if len(others) > 1 else ""
    return [
        Finding(
            "DUPLICATE_CLAIM",
            WARNING,
            "claim_id",
            f"the claim may duplicate claim{plural} {ids}: same patient, payer, dates of "
            "service and procedure codes",
        )
    ]


# --- subscriber, patient, payer ---------------------------------------------------
def _demographics(
    out: list[Finding],
    code: str,
    member: MemberView,
    path: str,
    today: date,
    missing: Severity,
) -> None:
    name = member.name
    if _blank(name.last):
        out.append(Finding(code, ERROR, f"{path}.name.last", f"{path}.name.last is missing"))
    if _blank(name.first):
        out.append(Finding(code, ERROR, f"{path}.name.first", f"{path}.name.first is missing"))
    dob = member.dob
    if dob is None:
        out.append(Finding(code, missing, f"{path}.dob", f"{path}.dob is missing"))
    elif dob > today:
        out.append(Finding(code, ERROR, f"{path}.dob", f"{path}.dob is in the future"))
    elif today.year - dob.year > MAX_AGE_YEARS:
        out.append(
            Finding(
                code, ERROR, f"{path}.dob", f"{path}.dob is more than {MAX_AGE_YEARS} years ago"
            )
        )
    sex = member.sex
    if sex is None:
        out.append(Finding(code, missing, f"{path}.sex", f"{path}.sex is missing"))
    elif sex not in SEXES:
        out.append(Finding(code, ERROR, f"{path}.sex", f"{path}.sex must be F, M or U"))


def check_subscriber(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    subscriber = claim.subscriber
    member_id = subscriber.member_id
    if _blank(member_id):
        out.append(
            Finding(
                "SUBSCRIBER_DATA",
                ERROR,
                "subscriber.member_id",
                "subscriber.member_id is missing",
            )
        )
    elif not 2 <= len(member_id) <= 80:
        out.append(
            Finding(
                "SUBSCRIBER_DATA",
                ERROR,
                "subscriber.member_id",
                "subscriber.member_id must be 2 to 80 characters",
            )
        )
    # DMG is required for the subscriber when the subscriber is the patient; for a
    # dependant's claim payers still match on it, so it is worth a warning.
    missing = ERROR if claim.patient is None else WARNING
    _demographics(
        out, "SUBSCRIBER_DATA", subscriber.member, "subscriber.member", context.today, missing
    )
    if subscriber.claim_filing_indicator not in FILING_INDICATORS:
        out.append(
            Finding(
                "SUBSCRIBER_DATA",
                ERROR,
                "subscriber.claim_filing_indicator",
                f"subscriber.claim_filing_indicator{_shown(subscriber.claim_filing_indicator)} "
                "is not a claim filing indicator code (SBR09, e.g. CI, MB, MC, BL)",
            )
        )
    if subscriber.responsibility not in RESPONSIBILITIES:
        out.append(
            Finding(
                "SUBSCRIBER_DATA",
                ERROR,
                "subscriber.responsibility",
                f"subscriber.responsibility{_shown(subscriber.responsibility)} is not a payer "
                "responsibility code (SBR01: P, S, T, ...)",
            )
        )
    return out


def check_patient(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    if claim.patient is None:
        return []
    out: list[Finding] = []
    _demographics(out, "PATIENT_DATA", claim.patient, "patient", context.today, ERROR)
    return out


def check_relationship(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    relationship = claim.subscriber.relationship
    if claim.patient is None:
        if relationship == SELF:
            return []
        message = (
            f"subscriber.relationship{_shown(relationship)} must be 18 (self): the claim has "
            "no separate patient, so the patient is the subscriber"
        )
    else:
        if relationship in DEPENDENT_RELATIONSHIPS:
            return []
        if relationship == SELF:
            message = (
                "subscriber.relationship is 18 (self) but the claim has a separate patient: "
                "use the patient's relationship to the subscriber (01, 19, 20, 21, 39, 40, "
                "53, G8)"
            )
        else:
            message = (
                f"subscriber.relationship{_shown(relationship)} is not a patient relationship "
                "code (01 spouse, 19 child, 20 employee, 21 unknown, 39, 40, 53 life partner, "
                "G8 other)"
            )
    return [Finding("RELATIONSHIP", ERROR, "subscriber.relationship", message)]


def check_payer(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    payer = claim.payer
    if _blank(payer.payer_id):
        out.append(
            Finding(
                "PAYER_DATA",
                ERROR,
                "payer.payer_id",
                "payer.payer_id (the payer's EDI id) is missing",
            )
        )
    elif not 2 <= len(payer.payer_id) <= 80:
        out.append(
            Finding(
                "PAYER_DATA", ERROR, "payer.payer_id", "payer.payer_id must be 2 to 80 characters"
            )
        )
    if _blank(payer.name):
        out.append(Finding("PAYER_DATA", ERROR, "payer.name", "payer.name is missing"))
    return out


# --- claim header and lines -------------------------------------------------------
def check_claim_number(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    number = claim.claim_number
    if number and len(number) <= MAX_CLAIM_NUMBER and number.isascii() and number.isalnum():
        return []
    if _blank(number):
        message = "claim_number (CLM01, the patient control number) is missing"
    elif len(number) > MAX_CLAIM_NUMBER:
        message = (
            f"claim_number has {len(number)} characters; payers keep only "
            f"{MAX_CLAIM_NUMBER}, so it must be at most {MAX_CLAIM_NUMBER}"
        )
    else:
        message = "claim_number may hold only letters and digits"
    return [Finding("CLAIM_NUMBER", ERROR, "claim_number", message)]


def check_frequency(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    frequency = claim.frequency
    kind = _kind(claim)
    if frequency not in FREQUENCIES[kind]:
        allowed = ", ".join(sorted(FREQUENCIES[kind]))
        return [
            Finding(
                "CLAIM_FREQUENCY",
                ERROR,
                "frequency",
                f"frequency{_shown(frequency)} is not a claim frequency code for an {kind} "
                f"(CLM05-3: {allowed})",
            )
        ]
    number = claim.payer_claim_number
    if frequency in FREQUENCY_NAMES and _blank(number):
        return [
            Finding(
                "CLAIM_FREQUENCY",
                ERROR,
                "payer_claim_number",
                f"frequency {frequency} ({FREQUENCY_NAMES[frequency]}) needs "
                "payer_claim_number: the payer's claim number of the original claim (REF*F8)",
            )
        ]
    if number is not None and len(number) > MAX_REF:
        return [
            Finding(
                "CLAIM_FREQUENCY",
                ERROR,
                "payer_claim_number",
                f"payer_claim_number must be at most {MAX_REF} characters",
            )
        ]
    return []


def check_claim_total(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    total = claim.total_cents
    lines_total = sum(line.charge_cents for line in claim.lines)
    if total != lines_total:
        return [
            Finding(
                "CLAIM_TOTAL",
                ERROR,
                "total_cents",
                f"total_cents ({_money(total)}) does not equal the sum of the line charges "
                f"({_money(lines_total)})",
            )
        ]
    if total <= 0:
        return [
            Finding(
                "CLAIM_TOTAL",
                ERROR,
                "total_cents",
                f"total_cents ({_money(total)}) must be greater than zero",
            )
        ]
    return []


_THOUSANDTH = Decimal("0.001")
# Units every claim uses, known to be fine (Decimal comparisons are slow).
_GOOD_UNITS = frozenset(Decimal(n) for n in range(1, 100))


def check_line_amounts(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    kind = _kind(claim)
    bases = UNIT_BASES[kind]
    for i, line in enumerate(claim.lines):
        ln = line.line_number
        if line.charge_cents <= 0:
            out.append(
                Finding(
                    "LINE_AMOUNTS",
                    ERROR,
                    f"lines[{i}].charge_cents",
                    f"line {ln} charge ({_money(line.charge_cents)}) must be greater than zero",
                    ln,
                )
            )
        units = line.units
        if units in _GOOD_UNITS:
            pass
        elif not units > 0:
            out.append(
                Finding(
                    "LINE_AMOUNTS",
                    ERROR,
                    f"lines[{i}].units",
                    f"line {ln} units ({units}) must be greater than zero",
                    ln,
                )
            )
        elif units != units.to_integral_value() and units != units.quantize(_THOUSANDTH):
            out.append(
                Finding(
                    "LINE_AMOUNTS",
                    ERROR,
                    f"lines[{i}].units",
                    f"line {ln} units ({units}) may have at most 3 decimal places",
                    ln,
                )
            )
        if line.unit_basis not in bases:
            out.append(
                Finding(
                    "LINE_AMOUNTS",
                    ERROR,
                    f"lines[{i}].unit_basis",
                    f"line {ln} unit_basis{_shown(line.unit_basis)} must be "
                    f"{' or '.join(sorted(bases))} on an {kind}",
                    ln,
                )
            )
    return out


def check_service_lines(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    lines = claim.lines
    n = len(lines)
    if n == 0:
        return [Finding("SERVICE_LINES", ERROR, "lines", "the claim has no service lines")]
    out: list[Finding] = []
    kind = _kind(claim)
    limit = MAX_LINES[kind]
    if n > limit:
        out.append(
            Finding(
                "SERVICE_LINES",
                ERROR,
                f"lines[{limit}]",
                f"the claim has {n} service lines; an {kind} allows at most {limit}: split it",
            )
        )
    for i, line in enumerate(lines):
        if line.line_number != i + 1:
            out.append(
                Finding(
                    "SERVICE_LINES",
                    ERROR,
                    f"lines[{i}].line_number",
                    f"service line {i + 1} is numbered {line.line_number}: line numbers must "
                    "run 1, 2, 3, ... in order",
                    line.line_number,
                )
            )
        control = line.control_number
        if _blank(control) or len(control) > MAX_REF:
            problem = "is missing" if _blank(control) else f"is longer than {MAX_REF} characters"
            out.append(
                Finding(
                    "SERVICE_LINES",
                    ERROR,
                    f"lines[{i}].control_number",
                    f"line {line.line_number} control_number (REF*6R) {problem}",
                    line.line_number,
                )
            )
    if n > 1 and len({line.control_number for line in lines}) != n:
        seen: set[str] = set()
        for i, line in enumerate(lines):
            control = line.control_number
            if control in seen and not _blank(control):
                out.append(
                    Finding(
                        "SERVICE_LINES",
                        ERROR,
                        f"lines[{i}].control_number",
                        f"line {line.line_number} control_number repeats another line's: "
                        "the 835 could not be matched to its lines",
                        line.line_number,
                    )
                )
            seen.add(control)
    return out


def check_place_of_service(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    if _institutional(claim):
        return []  # an 837I carries the type of bill instead
    out: list[Finding] = []
    if claim.place_of_service not in PLACES_OF_SERVICE:
        out.append(
            Finding(
                "PLACE_OF_SERVICE",
                ERROR,
                "place_of_service",
                f"place_of_service{_shown(claim.place_of_service)} is not a CMS place of "
                "service code",
            )
        )
    for i, line in enumerate(claim.lines):
        pos = line.place_of_service
        if pos is not None and pos not in PLACES_OF_SERVICE:
            out.append(
                Finding(
                    "PLACE_OF_SERVICE",
                    ERROR,
                    f"lines[{i}].place_of_service",
                    f"line {line.line_number} place_of_service{_shown(pos)} is not a CMS "
                    "place of service code",
                    line.line_number,
                )
            )
    return out


def check_ndc(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    out: list[Finding] = []
    for i, line in enumerate(claim.lines):
        ndc = line.ndc
        quantity = line.ndc_quantity
        unit = line.ndc_unit
        if ndc is None and quantity is None and unit is None:
            continue
        ln = line.line_number
        path = f"lines[{i}]"
        if ndc is None:
            out.append(
                Finding(
                    "NDC",
                    ERROR,
                    f"{path}.ndc",
                    f"line {ln} has an NDC quantity or unit but no ndc",
                    ln,
                )
            )
            continue
        if not _digits(ndc, 11):
            out.append(
                Finding(
                    "NDC",
                    ERROR,
                    f"{path}.ndc",
                    f"line {ln} ndc must be 11 digits (5-4-2, zero-padded, no hyphens)",
                    ln,
                )
            )
        if quantity is None or not quantity > 0:
            problem = "is missing" if quantity is None else "must be greater than zero"
            out.append(
                Finding(
                    "NDC",
                    ERROR,
                    f"{path}.ndc_quantity",
                    f"line {ln} ndc_quantity {problem} (CTP04)",
                    ln,
                )
            )
        if unit not in NDC_UNIT_SET:
            problem = " is missing" if unit is None else f"{_shown(unit)} is not an NDC unit"
            out.append(
                Finding(
                    "NDC",
                    ERROR,
                    f"{path}.ndc_unit",
                    f"line {ln} ndc_unit{problem} (CTP05-1: {', '.join(NDC_UNITS)})",
                    ln,
                )
            )
    return out


# --- 837I -------------------------------------------------------------------------
def check_institutional(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    if not _institutional(claim):
        return []
    inst = claim.institutional
    if inst is None:
        return [
            Finding(
                "INSTITUTIONAL",
                ERROR,
                "institutional",
                "an 837I claim needs institutional data: type of bill, statement dates, "
                "patient status and the attending provider",
            )
        ]
    out: list[Finding] = []
    # "13", or with a leading zero and/or the frequency digit ("013", "0131"), as
    # the writer takes the first two significant digits for CLM05-1.
    raw = inst.type_of_bill
    tob = raw.lstrip("0")[:2] if 3 <= len(raw) <= 4 and raw[0] == "0" else raw[:2]
    if not (
        2 <= len(raw) <= 4
        and raw.isascii()
        and raw.isdigit()
        and tob[:1] in FACILITY_TYPES
        and tob[1:2] in BILL_CLASSIFICATIONS
    ):
        out.append(
            Finding(
                "INSTITUTIONAL",
                ERROR,
                "institutional.type_of_bill",
                f"institutional.type_of_bill{_shown(raw)} must be a facility type and bill "
                "classification (2 digits, e.g. 13 hospital outpatient)",
            )
        )
    if inst.statement_from > inst.statement_to:
        out.append(
            Finding(
                "INSTITUTIONAL",
                ERROR,
                "institutional.statement_to",
                "institutional.statement_to is before statement_from",
            )
        )
    if inst.statement_to > context.today:
        out.append(
            Finding(
                "INSTITUTIONAL",
                ERROR,
                "institutional.statement_to",
                "institutional.statement_to is in the future: bill after the period ends",
            )
        )
    if inst.patient_status not in PATIENT_STATUSES:
        out.append(
            Finding(
                "INSTITUTIONAL",
                ERROR,
                "institutional.patient_status",
                f"institutional.patient_status{_shown(inst.patient_status)} is not a patient "
                "discharge status code (CL103, e.g. 01 discharged home)",
            )
        )
    if inst.admission_type is not None and inst.admission_type not in ADMISSION_TYPES:
        out.append(
            Finding(
                "INSTITUTIONAL",
                ERROR,
                "institutional.admission_type",
                f"institutional.admission_type{_shown(inst.admission_type)} is not an "
                "admission type code (CL101: 1-5 or 9)",
            )
        )
    if tob in INPATIENT_BILL_TYPES:
        if inst.admission_type is None:
            out.append(
                Finding(
                    "INSTITUTIONAL",
                    ERROR,
                    "institutional.admission_type",
                    f"institutional.admission_type is missing: required on an inpatient "
                    f"claim (type of bill {tob})",
                )
            )
        if inst.admission_date is None:
            out.append(
                Finding(
                    "INSTITUTIONAL",
                    ERROR,
                    "institutional.admission_date",
                    f"institutional.admission_date is missing: required on an inpatient "
                    f"claim (type of bill {tob})",
                )
            )
    if inst.attending is None:
        out.append(
            Finding(
                "INSTITUTIONAL",
                ERROR,
                "institutional.attending",
                "institutional.attending is missing: an 837I needs the attending provider",
            )
        )
    first, through = inst.statement_from, inst.statement_to
    for i, line in enumerate(claim.lines):
        start = line.service_date
        last = start if line.service_date_end is None else line.service_date_end
        if start < first or last > through:
            out.append(
                Finding(
                    "INSTITUTIONAL",
                    ERROR,
                    f"lines[{i}].service_date",
                    f"line {line.line_number} date of service is outside the statement period",
                    line.line_number,
                )
            )
    return out


def check_revenue_code(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    if not _institutional(claim):
        return []
    out: list[Finding] = []
    for i, line in enumerate(claim.lines):
        code = line.revenue_code
        if code is not None and _digits(code, 4):
            continue
        problem = "is missing" if code is None else "must be 4 digits (e.g. 0450)"
        out.append(
            Finding(
                "REVENUE_CODE",
                ERROR,
                f"lines[{i}].revenue_code",
                f"line {line.line_number} revenue_code {problem}",
                line.line_number,
            )
        )
    return out


# --- coordination of benefits -----------------------------------------------------
def check_cob_data(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    others = claim.other_payers
    responsibility = claim.subscriber.responsibility
    if not others:
        if responsibility in ("S", "T"):
            return [
                Finding(
                    "COB_DATA",
                    ERROR,
                    "other_payers",
                    f"the claim bills a {'secondary' if responsibility == 'S' else 'tertiary'} "
                    "payer (subscriber.responsibility "
                    f"{responsibility}) but names no other payer (2320/2330)",
                )
            ]
        return []
    out: list[Finding] = []
    controls = {line.control_number for line in claim.lines}
    for k, other in enumerate(others):
        path = f"other_payers[{k}]"
        sub = other.subscriber
        if _blank(other.payer.payer_id):
            out.append(
                Finding(
                    "COB_DATA", ERROR, f"{path}.payer.payer_id", f"{path}.payer.payer_id is missing"
                )
            )
        if _blank(other.payer.name):
            out.append(
                Finding("COB_DATA", ERROR, f"{path}.payer.name", f"{path}.payer.name is missing")
            )
        if _blank(sub.member_id):
            out.append(
                Finding(
                    "COB_DATA",
                    ERROR,
                    f"{path}.subscriber.member_id",
                    f"{path}.subscriber.member_id is missing",
                )
            )
        if _blank(sub.member.name.last):
            out.append(
                Finding(
                    "COB_DATA",
                    ERROR,
                    f"{path}.subscriber.member.name.last",
                    f"{path}.subscriber.member.name.last is missing",
                )
            )
        if sub.responsibility not in RESPONSIBILITIES:
            out.append(
                Finding(
                    "COB_DATA",
                    ERROR,
                    f"{path}.subscriber.responsibility",
                    f"{path}.subscriber.responsibility{_shown(sub.responsibility)} is not a "
                    "payer responsibility code (SBR01)",
                )
            )
        elif sub.responsibility == responsibility:
            out.append(
                Finding(
                    "COB_DATA",
                    ERROR,
                    f"{path}.subscriber.responsibility",
                    f"{path}.subscriber.responsibility is {responsibility}, the same as this "
                    "claim's payer: each payer on a claim needs its own sequence",
                )
            )
        if sub.claim_filing_indicator not in FILING_INDICATORS:
            out.append(
                Finding(
                    "COB_DATA",
                    ERROR,
                    f"{path}.subscriber.claim_filing_indicator",
                    f"{path}.subscriber.claim_filing_indicator"
                    f"{_shown(sub.claim_filing_indicator)} is not a claim filing indicator code",
                )
            )
        if sub.relationship not in OTHER_SUBSCRIBER_RELATIONSHIPS:
            out.append(
                Finding(
                    "COB_DATA",
                    ERROR,
                    f"{path}.subscriber.relationship",
                    f"{path}.subscriber.relationship{_shown(sub.relationship)} is not an "
                    "individual relationship code",
                )
            )
        if (
            other.paid_cents is not None
            and other.adjudicated is None
            and not (other.line_adjudications)
        ):
            out.append(
                Finding(
                    "COB_DATA",
                    ERROR,
                    f"{path}.adjudicated",
                    f"{path}.adjudicated is missing: the adjudication date (DTP*573) is "
                    "required when the other payer's payment is reported without lines",
                )
            )
        for j, adjudication in enumerate(other.line_adjudications):
            if adjudication.line_control_number not in controls:
                out.append(
                    Finding(
                        "COB_DATA",
                        ERROR,
                        f"{path}.line_adjudications[{j}].line_control_number",
                        f"{path} line adjudication {j + 1} names a line control number that "
                        "is not on this claim",
                    )
                )
    return out


def check_cob_balance(claim: ClaimView, context: ScrubContext) -> list[Finding]:
    if not claim.other_payers:
        return []
    out: list[Finding] = []
    charges = {line.control_number: line for line in claim.lines}
    for k, other in enumerate(claim.other_payers):
        paid = other.paid_cents
        if paid is None:
            continue  # not adjudicated yet: nothing to balance
        path = f"other_payers[{k}]"
        claim_adjusted = sum(a.amount_cents for a in other.adjustments)
        line_adjusted = 0
        line_paid = 0
        for j, adjudication in enumerate(other.line_adjudications):
            adjusted = sum(a.amount_cents for a in adjudication.adjustments)
            line_adjusted += adjusted
            line_paid += adjudication.paid_cents
            line = charges.get(adjudication.line_control_number)
            if line is None:
                continue  # COB_DATA reports it
            if adjudication.paid_cents + adjusted != line.charge_cents:
                out.append(
                    Finding(
                        "COB_BALANCE",
                        ERROR,
                        f"{path}.line_adjudications[{j}]",
                        f"{path} line {line.line_number}: paid "
                        f"{_money(adjudication.paid_cents)} + adjustments {_money(adjusted)} "
                        f"does not equal the line charge {_money(line.charge_cents)}",
                        line.line_number,
                    )
                )
        if other.line_adjudications and line_paid - claim_adjusted != paid:
            out.append(
                Finding(
                    "COB_BALANCE",
                    ERROR,
                    f"{path}.paid_cents",
                    f"{path}.paid_cents ({_money(paid)}) does not equal the line payments "
                    f"({_money(line_paid)}) less the claim-level adjustments "
                    f"({_money(claim_adjusted)})",
                )
            )
        if paid + claim_adjusted + line_adjusted != claim.total_cents:
            out.append(
                Finding(
                    "COB_BALANCE",
                    ERROR,
                    f"{path}.paid_cents",
                    f"{path}: paid {_money(paid)} + adjustments "
                    f"{_money(claim_adjusted + line_adjusted)} does not equal the claim total "
                    f"{_money(claim.total_cents)}",
                )
            )
    return out


# --- the list ---------------------------------------------------------------------
BUILTIN_RULES: tuple[Rule, ...] = (
    Rule(
        "NPI_MISSING",
        "A required NPI (billing, rendering, attending) is missing",
        check_npi_missing,
    ),
    Rule(
        "NPI_CHECK_DIGIT", "An NPI is not 10 digits or fails its check digit", check_npi_check_digit
    ),
    Rule("TIN_FORMAT", "The billing provider's tax id is missing or malformed", check_tin),
    Rule("TAXONOMY_FORMAT", "A provider taxonomy code is malformed", check_taxonomy),
    Rule(
        "PROVIDER_ENTITY",
        "A provider's name or person/organization type is wrong for its role",
        check_provider_entity,
    ),
    Rule(
        "BILLING_ADDRESS",
        "The billing provider address is missing, incomplete or a PO box",
        check_billing_address,
    ),
    Rule(
        "ADDRESS",
        "A subscriber, patient, facility, pay-to or payer address is missing or incomplete",
        check_addresses,
    ),
    Rule("ICD10_CODE", "A diagnosis is not a billable ICD-10-CM code", check_icd10),
    Rule("DIAGNOSIS_COUNT", "The claim has no diagnosis or too many", check_diagnosis_count),
    Rule("DIAGNOSIS_DUPLICATE", "A diagnosis is listed twice", check_diagnosis_duplicate),
    Rule(
        "DIAGNOSIS_PRINCIPAL",
        "The first-listed diagnosis is an external cause code",
        check_principal_diagnosis,
    ),
    Rule(
        "DIAGNOSIS_POINTER",
        "An 837P line's diagnosis pointers are missing, too many, repeated or dangling",
        check_diagnosis_pointers,
    ),
    Rule("PROCEDURE_CODE", "A line's CPT/HCPCS code is malformed or unknown", check_procedure_code),
    Rule("MODIFIER", "A line's modifiers are unknown, repeated or more than four", check_modifiers),
    Rule(
        "MODIFIER_COMBINATION",
        "A line's modifiers contradict each other",
        check_modifier_combination,
    ),
    Rule(
        "SERVICE_DATES",
        "A date of service is in the future, reversed or outside the coverage",
        check_service_dates,
    ),
    Rule(
        "TIMELY_FILING",
        "The claim is past or near the payer's timely filing limit",
        check_timely_filing,
    ),
    Rule(
        "DUPLICATE_CLAIM",
        "Another live claim has the same patient, payer, dates and codes",
        check_duplicate,
    ),
    Rule(
        "SUBSCRIBER_DATA",
        "The subscriber's member id, name, demographics or SBR codes are incomplete",
        check_subscriber,
    ),
    Rule(
        "PATIENT_DATA",
        "The patient's (not the subscriber) name or demographics are incomplete",
        check_patient,
    ),
    Rule(
        "RELATIONSHIP",
        "The patient's relationship to the subscriber does not fit the claim",
        check_relationship,
    ),
    Rule("PAYER_DATA", "The payer's EDI id or name is missing", check_payer),
    Rule(
        "CLAIM_NUMBER",
        "The claim number (CLM01) is missing, too long or not alphanumeric",
        check_claim_number,
    ),
    Rule(
        "CLAIM_FREQUENCY",
        "The frequency code is invalid or a correction lacks the payer claim number",
        check_frequency,
    ),
    Rule(
        "CLAIM_TOTAL",
        "The claim total is not positive or not the sum of its lines",
        check_claim_total,
    ),
    Rule("LINE_AMOUNTS", "A line's charge, units or unit basis is invalid", check_line_amounts),
    Rule(
        "SERVICE_LINES",
        "The claim has no lines, too many, misnumbered lines or bad control numbers",
        check_service_lines,
    ),
    Rule("PLACE_OF_SERVICE", "A place of service code is not a CMS code", check_place_of_service),
    Rule("NDC", "A line's NDC, NDC quantity or unit is missing or malformed", check_ndc),
    Rule(
        "INSTITUTIONAL",
        "An 837I lacks or has invalid bill type, statement dates, status or attending",
        check_institutional,
    ),
    Rule(
        "REVENUE_CODE", "An 837I line's revenue code is missing or not 4 digits", check_revenue_code
    ),
    Rule("COB_DATA", "Other-payer (COB) data is missing or inconsistent", check_cob_data),
    Rule(
        "COB_BALANCE",
        "Other-payer payments and adjustments do not balance to the charges",
        check_cob_balance,
    ),
)
