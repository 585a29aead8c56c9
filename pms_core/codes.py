"""Code sets a claim is checked against: ICD-10-CM, procedure code formats,
modifiers and place of service.

ICD-10-CM comes from the `simple-icd-10-cm` package (loaded on first use); a
code is billable when it is a leaf of the classification. CPT and HCPCS code
lists load from files (`pms codes import`) into the `procedure_code` table;
this module only knows their shapes. The modifier and place-of-service sets
below are the ones offices bill with every day; more modifiers can be imported.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

# CPT: five digits (Level I), four digits + F (Category II) or T (Category III).
# HCPCS Level II: a letter A-V and four digits.
_CPT = re.compile(r"^\d{5}$|^\d{4}[FT]$")
_HCPCS = re.compile(r"^[A-V]\d{4}$")


def procedure_kind(code: str) -> str | None:
    """ "cpt", "hcpcs", or None when `code` has neither shape."""
    if _CPT.match(code):
        return "cpt"
    if _HCPCS.match(code):
        return "hcpcs"
    return None


def normalize_icd10(code: str) -> str:
    """Upper case, without the dot and spaces: "e11.9" -> "E119"."""
    return code.replace(".", "").replace(" ", "").upper()


def icd10_display(code: str) -> str:
    """With the dot after the third character: "E119" -> "E11.9"."""
    code = normalize_icd10(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


class Icd10Entry(NamedTuple):
    billable: bool
    description: str


@cache
def _icd10() -> dict[str, Icd10Entry]:
    """Every ICD-10-CM category and subcategory (code without dot -> entry).

    Importing the package parses its whole classification (seconds), so the
    result is kept in the user cache directory under the package's version (a
    new release of the code set makes a new file); later processes read that."""
    from importlib.metadata import version

    from platformdirs import user_cache_dir

    cache_file = Path(user_cache_dir("pms", appauthor=False)) / (
        f"icd10cm-{version('simple-icd-10-cm')}.tsv"
    )
    try:
        table = {}
        for line in cache_file.read_text(encoding="utf-8").splitlines():
            code, billable, description = line.split("\t", 2)
            table[code] = Icd10Entry(billable == "1", description)
        if table:
            return table
    except (OSError, ValueError):
        pass
    import simple_icd_10_cm as source

    table = {}
    for dotted in source.get_all_codes(True):
        if source.is_category_or_subcategory(dotted):
            table[normalize_icd10(dotted)] = Icd10Entry(
                source.is_leaf(dotted), " ".join(source.get_description(dotted).split())
            )
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(f".{cache_file.name}.{os.getpid()}")
        tmp.write_text(
            "".join(f"{c}\t{int(e.billable)}\t{e.description}\n" for c, e in table.items()),
            encoding="utf-8",
        )
        os.replace(tmp, cache_file)
    except OSError:
        pass  # no writable cache: parse again next time
    return table


def icd10_status(code: str) -> str:
    """ "billable", "header" (valid but has more specific children: not billable),
    or "unknown". `code` with or without the dot."""
    entry = _icd10().get(normalize_icd10(code))
    if entry is None:
        return "unknown"
    return "billable" if entry.billable else "header"


def icd10_description(code: str) -> str | None:
    entry = _icd10().get(normalize_icd10(code))
    return entry.description if entry else None


@cache
def _icd10_index() -> list[tuple[str, str, str]]:
    """(code without dot, description, description folded) for every billable code."""
    return sorted(
        (code, e.description, e.description.lower()) for code, e in _icd10().items() if e.billable
    )


def search_icd10(text: str, limit: int = 25) -> list[tuple[str, str]]:
    """Billable ICD-10-CM codes matching `text`: a code prefix ("E11", "e11.6"), or
    words that all appear in the description ("diabetes kidney"). Returns
    (code without dot, description), codes in order."""
    text = text.strip()
    if not text:
        return []
    index = _icd10_index()
    prefix = normalize_icd10(text)
    if re.fullmatch(r"[A-Z][0-9][0-9A-Z]{0,5}", prefix):
        hits = [(c, d) for c, d, _ in index if c.startswith(prefix)]
        if hits:
            return hits[:limit]
    words = text.lower().split()
    return [(c, d) for c, d, folded in index if all(w in folded for w in words)][:limit]


# Modifiers: CPT Level I and the HCPCS Level II modifiers in everyday use.
BUILTIN_MODIFIERS: frozenset[str] = frozenset(
    """
    22 23 24 25 26 27 32 33 47 50 51 52 53 54 55 56 57 58 59 62 63 66 73 74 76 77 78 79
    80 81 82 90 91 92 93 95 96 97 99
    AA AD AE AF AG AH AI AJ AK AM AO AQ AR AS AT AZ BA BL BO BP BR BU CA CB CG CO CQ CR CS CT
    DA E1 E2 E3 E4 EA EB EC ED EE EJ EM EP ER ET EX EY F1 F2 F3 F4 F5 F6 F7 F8 F9 FA FB FC FP
    FQ FR FS FT FX FY G0 G1 G2 G3 G4 G5 G6 G7 G8 G9 GA GB GC GE GF GG GH GJ GK GL GM GN GO GP
    GQ GR GS GT GU GV GW GX GY GZ HA HB HC HD HE HF HG HH HI HJ HK HL HM HN HO HP HQ HR HS HT
    HU HV HW HX HY HZ J1 J2 J3 J4 JA JB JC JD JE JG JW JZ K0 K1 K2 K3 K4 KA KB KC KD KE KF KG
    KH KI KJ KK KL KM KN KO KP KQ KR KS KT KU KV KW KX KY KZ LC LD LL LM LR LS LT M2 MS NB NR
    NU P1 P2 P3 P4 P5 P6 PA PB PC PD PI PL PM PN PO PS PT Q0 Q1 Q2 Q3 Q4 Q5 Q6 Q7 Q8 Q9 QA QB
    QC QD QE QF QG QH QJ QK QL QM QN QP QQ QR QS QT QW QX QY QZ RA RB RC RD RE RI RR RT SA SB
    SC SD SE SF SG SH SJ SK SL SM SN SQ SS ST SU SV SW SY SZ T1 T2 T3 T4 T5 T6 T7 T8 T9 TA TB
    TC TD TE TF TG TH TJ TK TL TM TN TP TQ TR TS TT TU TV TW U1 U2 U3 U4 U5 U6 U7 U8 U9 UA UB
    UC UD UE UF UG UH UJ UK UN UP UQ UR US V1 V2 V3 V4 V5 V6 VM VP X1 X2 X3 X4 X5 XE XP XS XU
    """.split()  # noqa: SIM905 (a readable block of codes)
)

# CMS place of service codes.
PLACE_OF_SERVICE: dict[str, str] = {
    "01": "Pharmacy",
    "02": "Telehealth provided other than in patient's home",
    "03": "School",
    "04": "Homeless shelter",
    "05": "Indian Health Service free-standing facility",
    "06": "Indian Health Service provider-based facility",
    "07": "Tribal 638 free-standing facility",
    "08": "Tribal 638 provider-based facility",
    "09": "Prison/correctional facility",
    "10": "Telehealth provided in patient's home",
    "11": "Office",
    "12": "Home",
    "13": "Assisted living facility",
    "14": "Group home",
    "15": "Mobile unit",
    "16": "Temporary lodging",
    "17": "Walk-in retail health clinic",
    "18": "Place of employment/worksite",
    "19": "Off campus-outpatient hospital",
    "20": "Urgent care facility",
    "21": "Inpatient hospital",
    "22": "On campus-outpatient hospital",
    "23": "Emergency room - hospital",
    "24": "Ambulatory surgical center",
    "25": "Birthing center",
    "26": "Military treatment facility",
    "27": "Outreach site/street",
    "31": "Skilled nursing facility",
    "32": "Nursing facility",
    "33": "Custodial care facility",
    "34": "Hospice",
    "41": "Ambulance - land",
    "42": "Ambulance - air or water",
    "49": "Independent clinic",
    "50": "Federally qualified health center",
    "51": "Inpatient psychiatric facility",
    "52": "Psychiatric facility - partial hospitalization",
    "53": "Community mental health center",
    "54": "Intermediate care facility/individuals with intellectual disabilities",
    "55": "Residential substance abuse treatment facility",
    "56": "Psychiatric residential treatment center",
    "57": "Non-residential substance abuse treatment facility",
    "58": "Non-residential opioid treatment facility",
    "60": "Mass immunization center",
    "61": "Comprehensive inpatient rehabilitation facility",
    "62": "Comprehensive outpatient rehabilitation facility",
    "65": "End-stage renal disease treatment facility",
    "66": "Programs of all-inclusive care for the elderly (PACE) center",
    "71": "Public health clinic",
    "72": "Rural health clinic",
    "81": "Independent laboratory",
    "99": "Other place of service",
}

# NDC units of measure (CTP05-1).
NDC_UNITS = ("F2", "GR", "ME", "ML", "UN")
