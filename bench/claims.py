"""Charges and claims benchmark: 10,000 claims of 4 lines from posted charges to 837P.

    python -m bench.claims                  # generate bench/data/claims.db, then measure
    python -m bench.claims --reuse          # measure again (on a fresh copy of it)
    python -m bench.claims --db postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.claims --profile        # also a cProfile of our phases (a second pass)

Figures (see bench/README.md), all as ratios against pyx12's validation of the
same file, measured once in the same run:

(g) build and write the 837P: `build_claims` (claims from the posted charges),
    `load_claim_views` (bulk) and the 837P writer (`pms_x12.claims837.PROFESSIONAL`)
    on an `InterchangeView` made the way `submission._build_batch` makes one (one
    interchange, one transaction set), without the clearinghouse and transport;
    total <= 10% of pyx12's time;
(h) `scrub_claims` over the same claims with every built-in rule (from the
    `pms_scrubber` plugin through the plugin manager), findings stored; <= 20%;
(i) the file passes `pms_x12.validate.validate_file` with zero findings.

Build and scrub run in real units of work as a logged-in biller, committed.

The data: the schema from the migrations; the practice, locations, providers,
payers and the biller through the real services; the fee schedules through
`fees.import_fee_schedule`; patients and coverages (dependents on a parent's
plan, secondary coverages) from `pms_core.synthetic`, bulk-inserted. Encounters
of 4 charge lines with realistic codes are planned per patient; SERVICE_POSTED
of them (covering every payer, place of service and kind of line) go through
`create_encounter`, `add_charge` and `post_encounter`, the rest are bulk-inserted (encounter, diagnoses, charges, the journal entry and
its postings) with the rows `_posted_rows` computes, and the generator stops
unless those rows equal, column by column, what the services wrote for the
service-posted encounters. The base database is never measured on: each run
works on a copy (`claims-run.db`, or a PostgreSQL database made from it as a
template, dropped after the run), so `--reuse` always starts from posted
charges and no claims.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import random
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bench.run import figure, machine
from pms_core import synthetic
from pms_core.db import make_engine, normalize_url
from pms_core.migrations.runner import upgrade
from pms_core.models import (
    Charge,
    Coverage,
    Encounter,
    EncounterDiagnosis,
    FeeSchedule,
    FeeScheduleItem,
    JournalEntry,
    Patient,
    Posting,
)
from pms_core.services.practice import (
    create_practice,
    get_setting,
    insert_location,
    insert_payer,
    insert_provider,
    set_setting,
)
from pms_core.services.users import create_user

DATA = Path(__file__).parent / "data"
DEFAULT_OUT = DATA / "claims.db"
TIN = "364419263"
PG_BASE = "pms_bench_claims"
PG_RUN = "pms_bench_claims_run"
SETTING = "bench_claims"
USER = "bench_claims_biller"
PASSWORD = "bench-password-1"
BUILD_SHARE = 0.10  # (g): build + views + write <= 10% of pyx12
SCRUB_SHARE = 0.20  # (h): scrub <= 20% of pyx12
SERVICE_POSTED = 25  # encounters posted through the services (and checked against)
DAYS = 60  # dates of service within the last 60 days
REPEATS = 3  # views + write are read-only: timed this many times, median shown
ZONE = ZoneInfo(synthetic.DEMO_PRACTICE["time_zone"])

# --- codes and prices ---------------------------------------------------------------
# Practice default fees (what is charged), in cents; (code, modifier) for a
# modifier-specific price.
FEES: dict[str | tuple[str, str], int] = {
    "99212": 8500, "99213": 12500, "99214": 18000, "99215": 25000,
    ("99213", "25"): 13000, ("99214", "25"): 18500,
    "99391": 17500, "99392": 19000, "99393": 18500, "99394": 20000,
    "99395": 21500, "99396": 23000, "99397": 25000,
    "36415": 1500, "80053": 4200, "80061": 3800, "83036": 2900, "85025": 2400,
    "84443": 3500, "82043": 2200, "81002": 1250, "81003": 1400, "87880": 3200,
    "87804": 3600, "94640": 3800, "96372": 4000, "96110": 2000,
    "90460": 3200, "90471": 3000, "90686": 3300, "90700": 5200, "90707": 9800,
    "90713": 4600, "90716": 16500,
    "J1030": 900, "J1885": 333, "J3301": 650,
    "20610": 14500, "73562": 9500, "11102": 16000, "17110": 15000, "69210": 8500,
    "93000": 5500, "97110": 4800, "97112": 5000, "97140": 4500, "97530": 5200,
}  # fmt: skip
# Contracted share of the default fee, for the payers that have a schedule.
CONTRACTS = {"medicare": 55, "medicaid": 45, "lakeshore": 80, "riverbend": 75}
# A biller types diagnoses with the dot; each must be billable ICD-10-CM.
CHRONIC = (
    "E11.9", "E11.65", "E11.22", "I10", "E78.5", "E03.9", "E66.01", "N18.30", "K21.9", "F41.9",
    "F32.9", "G47.00", "J45.20", "E55.9", "D64.9", "R73.03", "I48.91",
)  # fmt: skip
ACUTE = ("J06.9", "J02.9", "J01.90", "J20.9", "J18.9", "H66.91", "H66.92", "N39.0", "R05.1",
         "B34.9", "J40", "J30.1")  # fmt: skip
SYMPTOMS = ("R50.9", "R05.1", "R52", "R06.02")
KNEE = {"M17.11": "RT", "M17.12": "LT", "M25.561": "RT", "M25.562": "LT"}
THERAPY = ("M54.50", "M62.81", "S39.012A", "M79.641")
PROCEDURE_DX = {
    "11102": ("L82.1", "L82.0"),
    "17110": ("B07.9",),
    "69210": ("H61.21", "H61.22"),
    "93000": ("R07.89", "I48.91"),
}
DRUGS = {  # code: (NDC, quantity, unit)
    "J1030": ("00009307301", Decimal("1"), "ML"),
    "J1885": ("00409379501", Decimal("1"), "ML"),
    "J3301": ("00003029305", Decimal("1"), "ML"),
}
VISIT_WEIGHTS = {"chronic": 35, "acute": 25, "preventive": 15, "joint": 8, "procedure": 10,
                 "therapy": 7}  # fmt: skip


def _money_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def fee_rows() -> list[dict[str, str]]:
    """The fee schedule file's rows: the default schedule and four payer contracts."""
    rows = []
    for key, cents in FEES.items():
        code, modifier = key if isinstance(key, tuple) else (key, "")
        rows.append({"code": code, "modifier": modifier, "amount": _money_text(cents)})
        for payer, share in CONTRACTS.items():
            contracted = (cents * share + 50) // 100
            rows.append(
                {
                    "code": code,
                    "modifier": modifier,
                    "amount": _money_text(contracted),
                    "payer": synthetic.PAYER_BY_KEY[payer].edi_payer_id,
                }
            )
    return rows


# --- the plan: encounters as a biller would enter them ---------------------------------
@dataclass(frozen=True)
class LinePlan:
    code: str
    modifiers: tuple[str, ...] = ()
    units: Decimal = Decimal(1)
    pointers: tuple[int, ...] = (1,)
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    rendering_provider_id: int | None = None


@dataclass(frozen=True)
class VisitPlan:
    patient_id: int
    coverage_id: int
    payer_id: int
    provider_id: int
    location_id: int
    place_of_service: str
    dos: date
    diagnoses: tuple[str, ...]  # as typed: with the dot
    lines: tuple[LinePlan, ...]
    referring: tuple[str, str, str] | None = None  # NPI, last, first
    prior_authorization: str | None = None
    onset_date: date | None = None


@dataclass
class Member:
    """What planning needs of a patient: age, its primary coverage."""

    patient_id: int
    dob: date
    coverage_id: int
    payer_id: int
    effective: date
    dates: set[date] = field(default_factory=set)


def _pointers(rng: random.Random, n_dx: int, first: int = 1, most: int = 4) -> tuple[int, ...]:
    """1 to 4 distinct diagnosis pointers, starting with `first`."""
    k = rng.randint(1, min(most, n_dx))
    others = [p for p in range(1, n_dx + 1) if p != first]
    return (first, *rng.sample(others, k - 1))


def _drug_line(rng: random.Random, code: str, pointers: tuple[int, ...]) -> LinePlan:
    ndc, quantity, unit = DRUGS[code]
    units = Decimal(rng.choice((1, 1, 2)))
    return LinePlan(code, (), units, pointers, ndc, quantity * units, unit)


def _visit(rng: random.Random, kind: str, age: int) -> tuple[list[str], list[LinePlan]]:
    """Diagnoses (principal first) and four service lines of one kind of visit."""
    if kind == "chronic":
        dx = rng.sample(CHRONIC, rng.randint(1, 5))
        n = len(dx)
        em = rng.choices(("99213", "99214", "99215"), (45, 45, 10))[0]
        labs = rng.sample(("36415", "80053", "80061", "83036", "85025", "84443", "82043"), 3)
        lines = [LinePlan(em, (), pointers=_pointers(rng, n))]
        lines += [LinePlan(c, (), pointers=_pointers(rng, n, rng.randint(1, n), 2)) for c in labs]
    elif kind == "acute":
        dx = [rng.choice(ACUTE)]
        dx += [c for c in rng.sample(SYMPTOMS, rng.randint(0, 2)) if c not in dx]
        n = len(dx)
        em = rng.choices(("99212", "99213", "99214"), (20, 55, 25))[0]
        if rng.random() < 0.35:  # an injection: E/M with 25, administration and the drug
            drug = rng.choice(tuple(DRUGS))
            test = rng.choice(("87880", "87804", "81003"))
            lines = [
                LinePlan(em, ("25",) if em != "99212" else (), pointers=_pointers(rng, n)),
                LinePlan("96372", (), pointers=(1,)),
                _drug_line(rng, drug, (1,)),
                LinePlan(test, (), pointers=_pointers(rng, n, 1, 2)),
            ]
        else:
            tests = rng.sample(("87880", "87804", "81003", "94640", "85025", "36415"), 3)
            lines = [LinePlan(em, (), pointers=_pointers(rng, n))]
            lines += [LinePlan(c, (), pointers=_pointers(rng, n, 1, 2)) for c in tests]
    elif kind == "preventive" and age < 18:
        dx = [rng.choice(("Z00.129", "Z00.121")), "Z23"]
        em = "99391" if age < 1 else "99392" if age < 5 else "99393" if age < 12 else "99394"
        vaccines = rng.sample(("90707", "90716", "90686", "90700", "90713"), 2)
        lines = [LinePlan(em, (), pointers=(1,)), LinePlan("90460", (), pointers=(2,))]
        lines += [LinePlan(c, (), pointers=(2,)) for c in vaccines]
    elif kind == "preventive":
        dx = [rng.choice(("Z00.00", "Z00.01")), "Z23"]
        dx += rng.sample(CHRONIC, rng.randint(0, 2))
        em = "99395" if age < 40 else "99396" if age < 65 else "99397"
        lab = rng.choice(("80061", "36415", "83036"))
        lines = [
            LinePlan(em, (), pointers=_pointers(rng, len(dx), 1, 3) if len(dx) > 2 else (1,)),
            LinePlan("90471", (), pointers=(2,)),
            LinePlan("90686", (), pointers=(2,)),
            LinePlan(lab, (), pointers=(3,) if len(dx) > 2 else (1,)),
        ]
    elif kind == "joint":
        knee = rng.choice(tuple(KNEE))
        side = KNEE[knee]
        dx = [knee] + rng.sample(("E66.9", "I10", "M79.641"), rng.randint(0, 2))
        n = len(dx)
        em = rng.choice(("99213", "99214"))
        lines = [
            LinePlan(em, ("25",), pointers=_pointers(rng, n)),
            LinePlan("20610", (side,), pointers=(1,)),
            _drug_line(rng, "J1030", (1,)),
            LinePlan("73562", (side,), pointers=(1,)),
        ]
    elif kind == "procedure":
        procs = rng.sample(tuple(PROCEDURE_DX), 3)
        dx = [rng.choice(PROCEDURE_DX[p]) for p in procs]
        n = len(dx)
        lines = [LinePlan("99213", ("25",), pointers=_pointers(rng, n))]
        for k, code in enumerate(procs, start=1):
            mods: tuple[str, ...] = ()
            if code == "69210":
                mods = ("RT",) if dx[k - 1].endswith("1") else ("LT",)
            elif code == "17110" and "11102" in procs:
                mods = (rng.choice(("59", "XS")),)
            lines.append(LinePlan(code, mods, pointers=(k,)))
    else:  # therapy
        dx = rng.sample(THERAPY, rng.randint(1, 3))
        n = len(dx)
        codes = rng.sample(("97110", "97112", "97140", "97530"), 4)
        lines = []
        for code in codes:
            mods = ("59", "GP") if code == "97140" and rng.random() < 0.5 else ("GP",)
            units = Decimal(rng.choice((1, 2, 2, 3)))
            lines.append(LinePlan(code, mods, units, _pointers(rng, n, 1, 2)))
    return dx, lines


def plan_visits(
    rng: random.Random,
    count: int,
    members: list[Member],
    providers: list[tuple[int, str, str]],
    locations: list[tuple[int, str]],
    today: date,
) -> list[VisitPlan]:
    """`count` encounters on random patients (never two on one patient's day),
    dated within the last DAYS days and inside the patient's coverage."""
    peds = [p for p, tax, _ in providers if tax == "208000000X"]
    adults = [p for p, tax, _ in providers if tax != "208000000X"]
    kinds = tuple(VISIT_WEIGHTS)
    weights = tuple(VISIT_WEIGHTS.values())
    first_day = today - timedelta(days=DAYS - 1)
    out = []
    while len(out) < count:
        m = rng.choice(members)
        start = max(first_day, m.effective, m.dob)
        dos = start + timedelta(days=rng.randint(0, (today - start).days))
        if dos in m.dates:
            continue
        m.dates.add(dos)
        age = dos.year - m.dob.year - ((dos.month, dos.day) < (m.dob.month, m.dob.day))
        kind = rng.choices(kinds, weights)[0]
        if age < 18 and kind not in ("acute", "preventive"):
            kind = rng.choice(("acute", "preventive"))
        dx, lines = _visit(rng, kind, age)
        provider_id = rng.choice(peds if age < 18 and peds else adults)
        if rng.random() < 0.03:  # a line rendered by a colleague (2420A)
            k = rng.randrange(1, len(lines))
            other = rng.choice([p for p in adults if p != provider_id])
            line = lines[k]
            lines[k] = LinePlan(**{**line.__dict__, "rendering_provider_id": other})
        walk_in = kind == "acute" and rng.random() < 0.5
        location_id, pos = locations[2] if walk_in else rng.choices(locations[:2], (70, 30))[0]
        referring = None
        if kind in ("procedure", "therapy", "joint") and rng.random() < 0.5:
            sex = rng.choice("FM")
            first = rng.choice(synthetic.FEMALE_FIRST if sex == "F" else synthetic.MALE_FIRST)
            referring = (synth_npi(rng), rng.choice(synthetic.LAST_NAMES), first)
        onset = None
        if kind in ("acute", "joint", "therapy") and rng.random() < 0.4:
            onset = max(m.dob, dos - timedelta(days=rng.randint(1, 30)))
        auth = f"PA{rng.randrange(10**8):08d}" if kind == "therapy" and rng.random() < 0.5 else None
        out.append(
            VisitPlan(
                m.patient_id, m.coverage_id, m.payer_id, provider_id, location_id, pos, dos,
                tuple(dx), tuple(lines), referring, auth, onset,
            )
        )  # fmt: skip
    return out


def synth_npi(rng: random.Random) -> str:
    from pms_core.validation import npi_check_digit

    nine = "1" + "".join(str(rng.randrange(10)) for _ in range(8))
    return nine + npi_check_digit(nine)


# --- the rows the services write ---------------------------------------------------
def _times(cents: int, quantity: Decimal) -> int:
    """`charges._times`: price x quantity, rounded once, half-up, to the cent."""
    return int((Decimal(cents) * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _price(fees: dict, payer_id: int | None, code: str, modifiers: tuple[str, ...]) -> int | None:
    """`charges._schedule_price`: the code with its first modifier, then the code."""
    for modifier in ([modifiers[0]] if modifiers else []) + [""]:
        cents = fees.get((payer_id, code, modifier))
        if cents is not None:
            return cents
    return None


def _normalize_icd10(code: str) -> str:
    return code.replace(".", "").replace(" ", "").upper()


@dataclass
class Ids:
    encounter: int
    entry: int
    charge: int
    posting: int


def _posted_rows(
    plan: VisitPlan, ids: Ids, fees: dict, practice_id: int, user_id: int, now: datetime
) -> dict[str, list[dict]]:
    """The rows create_encounter, add_charge and post_encounter write for `plan`
    (audit events aside), with the ids given."""
    enc_id, entry_id = ids.encounter, ids.entry
    referring_npi, referring_last, referring_first = plan.referring or (None, None, None)
    encounter = {
        "id": enc_id, "practice_id": practice_id, "patient_id": plan.patient_id,
        "appointment_id": None, "provider_id": plan.provider_id,
        "location_id": plan.location_id, "date_of_service": plan.dos,
        "place_of_service": plan.place_of_service, "claim_kind": "837P",
        "referring_npi": referring_npi, "referring_last_name": referring_last,
        "referring_first_name": referring_first,
        "prior_authorization": plan.prior_authorization, "onset_date": plan.onset_date,
        "type_of_bill": None, "statement_to": None, "patient_status": None,
        "attending_provider_id": None, "admission_date": None, "admission_type": None,
        "admission_source": None, "status": "posted", "created_by_id": user_id,
        "created_at": now, "posted_at": now,
    }  # fmt: skip
    diagnoses = [
        {"encounter_id": enc_id, "position": n, "code": _normalize_icd10(code)}
        for n, code in enumerate(plan.diagnoses, start=1)
    ]
    charges, postings = [], []
    for n, line in enumerate(plan.lines, start=1):
        charge_id = ids.charge
        ids.charge += 1
        mods = line.modifiers
        unit_price = _price(fees, None, line.code, mods)
        expected = _price(fees, plan.payer_id, line.code, mods)
        amount = _times(unit_price, line.units)
        rendering = line.rendering_provider_id
        if rendering == plan.provider_id:
            rendering = None
        charges.append(
            {
                "id": charge_id, "practice_id": practice_id, "encounter_id": enc_id,
                "patient_id": plan.patient_id, "line_number": n, "code": line.code,
                "modifier1": mods[0] if len(mods) > 0 else None,
                "modifier2": mods[1] if len(mods) > 1 else None,
                "modifier3": mods[2] if len(mods) > 2 else None,
                "modifier4": mods[3] if len(mods) > 3 else None,
                "units": line.units, "unit_basis": "UN", "unit_price_cents": unit_price,
                "amount_cents": amount,
                "expected_cents": _times(expected, line.units) if expected is not None else None,
                "diagnosis_pointers": ",".join(str(p) for p in line.pointers),
                "service_date": plan.dos, "service_date_end": None, "place_of_service": None,
                "ndc": line.ndc, "ndc_quantity": line.ndc_quantity,
                "ndc_unit": line.ndc_unit if line.ndc else None,
                "rendering_provider_id": rendering, "revenue_code": None, "status": "posted",
                "posted_entry_id": entry_id, "void_entry_id": None, "created_at": now,
            }
        )  # fmt: skip
        common = {
            "entry_id": entry_id, "practice_id": practice_id, "patient_id": plan.patient_id,
            "provider_id": line.rendering_provider_id or plan.provider_id,
            "location_id": plan.location_id, "charge_id": charge_id, "reason": None,
        }  # fmt: skip
        postings.append(
            {"id": ids.posting, **common, "account": "ar:insurance", "amount_cents": amount,
             "coverage_id": plan.coverage_id, "payer_id": plan.payer_id}
        )  # fmt: skip
        postings.append(
            {"id": ids.posting + 1, **common, "account": "revenue:charges",
             "amount_cents": -amount, "coverage_id": None, "payer_id": None}
        )  # fmt: skip
        ids.posting += 2
    entry = {
        "id": entry_id, "practice_id": practice_id, "entry_date": plan.dos, "posted_at": now,
        "kind": "charge", "memo": f"charges of encounter {enc_id}", "reference": None,
        "created_by_id": user_id, "reverses_id": None,
    }  # fmt: skip
    ids.encounter += 1
    ids.entry += 1
    return {
        "journal_entry": [entry],
        "encounter": [encounter],
        "encounter_diagnosis": diagnoses,
        "charge": charges,
        "posting": postings,
    }


# Insert order (foreign keys) and the model of each table.
POSTED_TABLES = {
    "journal_entry": JournalEntry,
    "encounter": Encounter,
    "encounter_diagnosis": EncounterDiagnosis,
    "charge": Charge,
    "posting": Posting,
}
TIMESTAMPS = {"created_at", "posted_at"}


def _post_through_services(engine, user_id: int, plan: VisitPlan) -> int:
    """One encounter as a biller enters it: open, four charges, post; one unit of work."""
    from pms_core.context import unit_of_work
    from pms_core.services import charges

    with unit_of_work(engine, user_id=user_id) as ctx:
        enc = charges.create_encounter(
            ctx,
            patient_id=plan.patient_id,
            provider_id=plan.provider_id,
            location_id=plan.location_id,
            date_of_service=plan.dos,
            diagnoses=list(plan.diagnoses),
            referring_npi=plan.referring[0] if plan.referring else None,
            referring_last_name=plan.referring[1] if plan.referring else None,
            referring_first_name=plan.referring[2] if plan.referring else None,
            prior_authorization=plan.prior_authorization,
            onset_date=plan.onset_date,
        )
        for line in plan.lines:
            charges.add_charge(
                ctx,
                encounter_id=enc.id,
                code=line.code,
                modifiers=list(line.modifiers),
                units=line.units,
                pointers=line.pointers,
                ndc=line.ndc,
                ndc_quantity=line.ndc_quantity,
                ndc_unit=line.ndc_unit,
                rendering_provider_id=line.rendering_provider_id,
            )
        charges.post_encounter(ctx, encounter_id=enc.id)
        return enc.id


def _service_sample(plans: list[VisitPlan], k: int) -> list[int]:
    """Indexes of `k` plans that between them have every payer, place of service
    and kind of line (NDC, units, two modifiers, another rendering provider, a
    referring provider, a prior authorization, an onset date)."""
    features = [
        lambda p: any(ln.ndc for ln in p.lines),
        lambda p: any(ln.units > 1 for ln in p.lines),
        lambda p: any(len(ln.modifiers) > 1 for ln in p.lines),
        lambda p: any(ln.rendering_provider_id for ln in p.lines),
        lambda p: p.referring is not None,
        lambda p: p.prior_authorization is not None,
        lambda p: p.onset_date is not None,
    ]
    for payer in sorted({p.payer_id for p in plans}):
        features.append(lambda p, payer=payer: p.payer_id == payer)
    for pos in sorted({p.place_of_service for p in plans}):
        features.append(lambda p, pos=pos: p.place_of_service == pos)
    chosen: list[int] = []
    for feature in features:
        if not any(feature(plans[i]) for i in chosen):
            found = next((i for i, p in enumerate(plans) if feature(p)), None)
            if found is not None:
                chosen.append(found)
    chosen += [i for i in range(len(plans)) if i not in chosen][: max(0, k - len(chosen))]
    return sorted(chosen[:k] if len(chosen) > k else chosen)


def _check_against_services(conn, plans, encounter_ids, fees, practice_id, user_id) -> int:
    """The bulk rows of the service-posted encounters equal the services' rows
    (every column; timestamps only need to be there). Returns the rows compared."""
    compared = 0
    for plan, enc_id in zip(plans, encounter_ids, strict=True):
        charge_rows = conn.execute(
            select(Charge.__table__).where(Charge.encounter_id == enc_id).order_by(Charge.id)
        ).mappings()
        charge_rows = [dict(r) for r in charge_rows]
        entry_id = charge_rows[0]["posted_entry_id"]
        first_posting = conn.execute(
            select(func.min(Posting.id)).where(Posting.entry_id == entry_id)
        ).scalar_one()
        ids = Ids(enc_id, entry_id, charge_rows[0]["id"], first_posting)
        expected = _posted_rows(plan, ids, fees, practice_id, user_id, datetime.now(UTC))
        actual = {
            "journal_entry": [JournalEntry.id == entry_id],
            "encounter": [Encounter.id == enc_id],
            "encounter_diagnosis": [EncounterDiagnosis.encounter_id == enc_id],
            "charge": [Charge.encounter_id == enc_id],
            "posting": [Posting.entry_id == entry_id],
        }
        for table, where in actual.items():
            model = POSTED_TABLES[table]
            order = model.position if table == "encounter_diagnosis" else model.id
            rows = [
                dict(r)
                for r in conn.execute(
                    select(model.__table__).where(*where).order_by(order)
                ).mappings()
            ]
            want = expected[table]
            if len(rows) != len(want):
                sys.exit(f"bulk rows differ from the services': {table} of encounter {enc_id}")
            for got, row in zip(rows, want, strict=True):
                for column, value in row.items():
                    ok = got[column] is not None if column in TIMESTAMPS else got[column] == value
                    if not ok:
                        sys.exit(
                            f"bulk rows differ from the services': {table}.{column} of "
                            f"encounter {enc_id} (service {got[column]!r}, bulk {value!r})"
                        )
                if set(got) != set(row):
                    sys.exit(f"bulk rows miss columns of {table}: {set(got) ^ set(row)}")
                compared += 1
    return compared


# --- generation --------------------------------------------------------------------------
def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _ours_sqlite(path: Path) -> bool:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM setting WHERE key = ?", (SETTING,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return row is not None


def _pg_url(server: str, database: str) -> str:
    return make_url(normalize_url(server)).set(database=database).render_as_string(False)


def _pg_admin(server: str, *statements: str) -> None:
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        admin.dispose()


def _read_info(url: str) -> dict | None:
    try:
        engine = make_engine(url)
        try:
            with Session(engine) as s:
                value = get_setting(s, SETTING)
        finally:
            engine.dispose()
    except Exception:
        return None
    return json.loads(value) if value else None


def _bootstrap(engine, today: date) -> dict:
    """Schema, practice, locations, providers, payers and the biller: real code paths."""
    upgrade(engine)
    synth = synthetic.Synth(0, today=today)
    with Session(engine) as s:
        practice = create_practice(
            s,
            group_npi=synth.npi("1"),
            # The demo's TIN starts with 07, a prefix the IRS does not assign: every
            # claim would carry a TIN_FORMAT warning.
            **{**synthetic.DEMO_PRACTICE, "name": "Claims Bench Family Medicine", "tin": TIN},
        )
        locations = []
        for loc in synthetic.DEMO_LOCATIONS:
            row = insert_location(s, practice.id, npi=synth.npi("1"), **loc)
            locations.append((row.id, row.default_pos))
        providers = []
        for prov in synthetic.providers(synth):
            row = insert_provider(s, practice.id, **prov)
            providers.append((row.id, row.taxonomy, row.npi))
        payers = {
            spec.key: insert_payer(s, practice.id, **synthetic.payer_fields(spec)).id
            for spec in synthetic.PAYERS
        }
        user = create_user(
            s,
            practice_id=practice.id,
            username=USER,
            full_name="Bench Claims Biller",
            role="biller",
            password=PASSWORD,
        )
        s.commit()
        return {
            "practice_id": practice.id,
            "user_id": user.id,
            "payers": payers,
            "providers": providers,
            "locations": locations,
        }


def _load_patients(conn, n: int, seed: int, today: date, ids: dict, now: datetime) -> dict:
    """`n` synthetic patients and their coverages, bulk-inserted as the patient and
    coverage services store them (folded search columns, member_id_search)."""
    synth = synthetic.Synth(seed, today=today, local_places=synthetic.LOCAL_PLACES)
    practice_id, payers = ids["practice_id"], ids["payers"]
    patients, coverages, members = [], [], []
    counts = {"patients": 0, "coverages": 0, "secondary": 0, "dependents": 0}
    for p in synth.patients(n):
        pid = p["key"]
        patients.append(
            {
                "id": pid, "practice_id": practice_id, "account_number": p["account_number"],
                "first_name": p["first_name"], "middle_name": p["middle_name"],
                "last_name": p["last_name"], "suffix": p["suffix"], "dob": p["dob"],
                "sex": p["sex"], "address1": p["address1"], "address2": p["address2"],
                "city": p["city"], "state": p["state"], "zip": p["zip"],
                "home_phone": p["home_phone"], "mobile_phone": p["mobile_phone"],
                "email": p["email"], "preferred_contact": p["preferred_contact"],
                "guarantor_id": p["guarantor_key"],
                "guarantor_relationship": p["guarantor_relationship"],
                "search_first": synth.folded(p["first_name"]),
                "search_last": synth.folded(p["last_name"]), "active": True,
                "deceased_date": None, "created_at": now, "updated_at": now,
            }
        )  # fmt: skip
        for c in p["coverages"]:
            coverage_id = len(coverages) + 1
            coverages.append(
                {
                    "id": coverage_id, "practice_id": practice_id, "patient_id": pid,
                    "payer_id": payers[c["payer"]], "priority": c["priority"],
                    "member_id": c["member_id"],
                    "member_id_search": synthetic.member_id_search(c["member_id"]),
                    "group_number": c["group_number"], "plan_name": c["plan_name"],
                    "relationship": c["relationship"],
                    "subscriber_first_name": c["subscriber_first_name"],
                    "subscriber_last_name": c["subscriber_last_name"],
                    "subscriber_dob": c["subscriber_dob"], "subscriber_sex": c["subscriber_sex"],
                    "effective_date": c["effective_date"], "termination_date": None,
                    "copay_cents": c["copay_cents"], "active": True, "created_at": now,
                }
            )  # fmt: skip
            counts["secondary"] += c["priority"] == 2
            if c["priority"] == 1:
                counts["dependents"] += c["relationship"] != "self"
                members.append(
                    Member(pid, p["dob"], coverage_id, payers[c["payer"]], c["effective_date"])
                )
    conn.execute(insert(Patient), patients)
    conn.execute(insert(Coverage), coverages)
    counts["patients"], counts["coverages"] = len(patients), len(coverages)
    return {"counts": counts, "members": members}


def _fees(conn, practice_id: int) -> dict[tuple[int | None, str, str], int]:
    """Every price of the practice's schedules as import_fee_schedule stored them."""
    rows = conn.execute(
        select(
            FeeSchedule.payer_id,
            FeeScheduleItem.code,
            FeeScheduleItem.modifier,
            FeeScheduleItem.amount_cents,
        )
        .join(FeeSchedule, FeeSchedule.id == FeeScheduleItem.schedule_id)
        .where(FeeSchedule.practice_id == practice_id)
    )
    return {(payer, code, mod): cents for payer, code, mod, cents in rows}


def _max_id(conn, model) -> int:
    return conn.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()


PHASES = {
    "setup": "setup (services)",
    "patients": "patients and coverages (bulk)",
    "services": "encounters through the services",
    "bulk": "encounters, charges, ledger (bulk)",
    "analyze": "analyze",
}


def generate(url: str, *, claims: int, seed: int, log=print) -> dict:
    """Build the base database at `url` (empty, or one this function built)."""
    from pms_core.context import unit_of_work
    from pms_core.plugins import get_plugin_manager
    from pms_core.services import fees as fee_service

    today = datetime.now(ZONE).date()
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    engine = make_engine(url, create_dirs=True)
    ids = _bootstrap(engine, today)
    practice_id, user_id = ids["practice_id"], ids["user_id"]
    if get_plugin_manager().hook.price_service.get_hookimpls():
        sys.exit("a price_service plugin is installed: the bulk rows price from the fee schedule")
    with unit_of_work(engine, user_id=user_id) as ctx:
        fee_service.import_fee_schedule(ctx, rows=fee_rows())
    phases["setup"] = time.perf_counter() - t0

    t = time.perf_counter()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        loaded = _load_patients(conn, claims, seed, today, ids, now)
    rng = random.Random(seed)
    plans = plan_visits(rng, claims, loaded["members"], ids["providers"], ids["locations"], today)
    phases["patients"] = time.perf_counter() - t

    # Some encounters through the services, one unit of work each: every payer
    # (contracted or not) and every kind of line, then the first ones.
    t = time.perf_counter()
    chosen = _service_sample(plans, SERVICE_POSTED)
    sample = [plans[i] for i in chosen]
    service_ids = [_post_through_services(engine, user_id, plan) for plan in sample]
    service_seconds = time.perf_counter() - t
    phases["services"] = service_seconds

    t = time.perf_counter()
    rows: dict[str, list[dict]] = {table: [] for table in POSTED_TABLES}
    with engine.begin() as conn:
        fees = _fees(conn, practice_id)
        compared = _check_against_services(conn, sample, service_ids, fees, practice_id, user_id)
        next_ids = Ids(
            _max_id(conn, Encounter) + 1,
            _max_id(conn, JournalEntry) + 1,
            _max_id(conn, Charge) + 1,
            _max_id(conn, Posting) + 1,
        )
        now = datetime.now(UTC)
        chosen_set = set(chosen)
        for plan in (p for i, p in enumerate(plans) if i not in chosen_set):
            for table, table_rows in _posted_rows(
                plan, next_ids, fees, practice_id, user_id, now
            ).items():
                rows[table] += table_rows
        for table, model in POSTED_TABLES.items():
            for start in range(0, len(rows[table]), 20_000):
                conn.execute(insert(model), rows[table][start : start + 20_000])
        if engine.dialect.name == "postgresql":
            for table in ("patient", "coverage", "encounter", "journal_entry", "charge",
                          "posting"):  # fmt: skip
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    phases["bulk"] = time.perf_counter() - t

    t = time.perf_counter()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    phases["analyze"] = time.perf_counter() - t

    info = {
        "claims": claims,
        "seed": seed,
        "today": today.isoformat(),
        "user_id": user_id,
        **loaded["counts"],
        "encounters": len(plans),
        "charges": sum(len(p.lines) for p in plans),
        "service_posted": len(sample),
        "service_ms_per_encounter": round(service_seconds / max(1, len(sample)) * 1000, 1),
        "rows_checked_against_services": compared,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 1),
        "phases": {k: round(v, 2) for k, v in phases.items()},
    }
    with Session(engine) as s:
        set_setting(s, SETTING, json.dumps(info, separators=(",", ":")))  # <= 500 characters
        s.commit()
    engine.dispose()
    log(
        f"generated {claims:,} posted encounters of 4 charges for {info['patients']:,} patients "
        f"({info['coverages']:,} coverages, {info['secondary']:,} secondary, "
        f"{info['dependents']:,} dependents) in {info['seconds']:.1f} s"
    )
    log("  " + ", ".join(f"{PHASES[k]} {v:.1f} s" for k, v in info["phases"].items()))
    log(
        f"  {len(sample)} encounters through the services at "
        f"{info['service_ms_per_encounter']:.0f} ms each (all {claims:,} would take "
        f"~{info['service_ms_per_encounter'] * claims / 1000:.0f} s); the bulk rows equal "
        f"theirs ({compared} rows compared)"
    )
    return info


# --- the working copy -------------------------------------------------------------------
def prepare(args) -> tuple[str, dict, str]:
    """(working database URL, the base's info, a description): generate the base
    unless --reuse finds one with the same claim count, then copy it."""
    if args.db:
        base_url = _pg_url(args.db, PG_BASE)
        run_url = _pg_url(args.db, PG_RUN)
        info = _read_info(base_url) if args.reuse else None
        if info is None or info["claims"] != args.claims:
            _pg_admin(
                args.db,
                f"DROP DATABASE IF EXISTS {PG_RUN} WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {PG_BASE} WITH (FORCE)",
                f"CREATE DATABASE {PG_BASE}",
            )
            info = generate(base_url, claims=args.claims, seed=args.seed)
        _pg_admin(
            args.db,
            f"DROP DATABASE IF EXISTS {PG_RUN} WITH (FORCE)",
            f"CREATE DATABASE {PG_RUN} TEMPLATE {PG_BASE}",
        )
        return run_url, info, f"postgresql {PG_RUN} (a copy of {PG_BASE})"
    base: Path = args.out
    run = base.with_name(base.stem + "-run" + base.suffix)
    info = _read_info(f"sqlite:///{base}") if args.reuse and base.exists() else None
    if info is None or info["claims"] != args.claims:
        if base.exists() and not _ours_sqlite(base) and not args.force:
            sys.exit(f"{base} exists and is not a claims bench database; use --force")
        _remove(base)
        info = generate(f"sqlite:///{base}", claims=args.claims, seed=args.seed)
    _remove(run)
    src = sqlite3.connect(base)
    dst = sqlite3.connect(run)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return f"sqlite:///{run}", info, f"sqlite {run} (a copy of {base})"


class ShiftedClock:
    """The system clock, moved back whole days so that "today" in the practice is
    the day the base was generated (its dates of service are within DAYS of it)."""

    def __init__(self, days: int):
        self.shift = timedelta(days=days)

    def now(self) -> datetime:
        return datetime.now(UTC) - self.shift


# --- measuring -------------------------------------------------------------------------------
def interchange(views: dict, claim_ids: list[int], created: datetime, control: int = 1):
    """An InterchangeView as `submission._build_batch` makes one: one interchange,
    one transaction set "0001" with every claim, BHT03 "B<control>"; the parties
    are a clearinghouse's (here constants, no clearinghouse row)."""
    from pms_core.claimdata import InterchangeView, Party, TransactionView

    return InterchangeView(
        kind="837P",
        sender=Party("ZZ", "PRAIRIEOAK01", "PRAIRIEOAK01", "Claims Bench Family Medicine"),
        receiver=Party("ZZ", "BENCHCLEAR", "BENCHCLEAR", "Bench Clearinghouse"),
        submitter_contact="Bench Claims Biller",
        submitter_phone="2175550100",
        submitter_email=None,
        interchange_control=control,
        group_control=control,
        created=created,
        transactions=(TransactionView("0001", tuple(views[c] for c in claim_ids), f"B{control}"),),
        production=True,
    )


def _profiled(profiler: cProfile.Profile | None, fn, *args, **kwargs):
    if profiler is None:
        return fn(*args, **kwargs)
    profiler.enable()
    try:
        return fn(*args, **kwargs)
    finally:
        profiler.disable()


class Timers:
    """Wall time and calls of some functions while a phase runs, without a
    profiler: each (owner, attribute) is replaced by a timing wrapper and put
    back afterwards. A nested call of the same function counts once."""

    def __init__(self, targets: dict[str, tuple[object, str]]):
        self.targets = targets
        self.spent: dict[str, float] = dict.fromkeys(targets, 0.0)
        self.calls: dict[str, int] = dict.fromkeys(targets, 0)
        self._saved: list[tuple[object, str, object]] = []

    def wrap(self, label: str, fn):
        self.spent.setdefault(label, 0.0)
        self.calls.setdefault(label, 0)
        depth = [0]

        def timed(*args, **kwargs):
            if depth[0]:
                return fn(*args, **kwargs)
            depth[0] += 1
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                self.spent[label] += time.perf_counter() - t
                self.calls[label] += 1

        return timed

    def __enter__(self) -> Timers:
        for label, (owner, attr) in self.targets.items():
            self._saved.append((owner, attr, vars(owner).get(attr, _MISSING)))
            setattr(owner, attr, self.wrap(label, getattr(owner, attr)))
        return self

    def __exit__(self, *exc) -> None:
        for owner, attr, original in reversed(self._saved):
            if original is _MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)
        self._saved.clear()

    def lines(self, total: float) -> list[str]:
        return [
            f"{label:<44} {self.spent[label]:7.2f} s  {self.spent[label] / total:4.0%}  "
            f"({self.calls[label]:,} calls)"
            for label in self.spent
        ]


_MISSING = object()


def run_phases(url: str, user_id: int, clock, *, repeats: int, profile: bool) -> dict:
    """build -> scrub -> views + write (as `pms claim build`, `scrub`, `submit`)."""
    from pms_x12.claims837 import PROFESSIONAL

    import pms_core.audit as audit_module
    import pms_core.services.claims as claims_module
    from pms_core.context import unit_of_work
    from pms_core.plugins import get_plugin_manager
    from pms_core.services.claims import build_claims, load_claim_views, scrub_claims, scrub_rules

    engine = make_engine(url)
    pm = get_plugin_manager()
    profilers = {k: cProfile.Profile() for k in ("build", "scrub", "views", "write")}
    if not profile:
        profilers = dict.fromkeys(profilers)
    out: dict = {}

    # Where the time goes, without a profiler (and not while one runs).
    build_targets = {
        "primary coverages (bulk read)": (claims_module, "_primary_coverages"),
        "_insert_claims (bulk writes)": (claims_module, "_insert_claims"),
        "audit event": (audit_module, "record"),
    }
    build_timers = Timers({} if profile else build_targets)
    t0 = time.perf_counter()
    with unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx:
        with build_timers:
            result = _profiled(profilers["build"], build_claims, ctx)
        t1 = time.perf_counter()
    out["build"] = time.perf_counter() - t0
    out["build_commit"] = time.perf_counter() - t1
    out["build_timers"] = build_timers
    claim_ids = sorted(c.id for c in result.claims)
    out["claims"] = len(claim_ids)
    out["self_pay"] = len(result.self_pay_charges)

    scrub_targets = {
        "load_claim_views": (claims_module, "load_claim_views"),
        "_duplicates": (claims_module, "_duplicates"),
        "_record_moves (claim_event rows)": (claims_module, "_record_moves"),
        "audit event": (audit_module, "record"),
    }
    scrub_timers = Timers({} if profile else scrub_targets)
    original_rules = claims_module.scrub_rules
    t0 = time.perf_counter()
    with unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx:
        if not profile:
            claims_module.scrub_rules = lambda c: [
                scrub_timers.wrap("the rules themselves", rule) for rule in original_rules(c)
            ]
        try:
            with scrub_timers:
                outcomes = _profiled(profilers["scrub"], scrub_claims, ctx)
        finally:
            claims_module.scrub_rules = original_rules
        t1 = time.perf_counter()
        out["rules"] = len(scrub_rules(ctx))
    out["scrub"] = time.perf_counter() - t0
    out["scrub_commit"] = time.perf_counter() - t1
    out["scrub_timers"] = scrub_timers
    out["ready"] = sum(o.status == "ready" for o in outcomes)
    out["scrubbed"] = len(outcomes) - out["ready"]
    findings = [f for o in outcomes for f in o.findings]
    out["errors"] = sum(f.severity == "error" for f in findings)
    out["warnings"] = len(findings) - out["errors"]
    out["finding_codes"] = sorted({f.code for f in findings})

    views_s, write_s = [], []
    content = ""
    for n in range(repeats):
        with unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx:
            t0 = time.perf_counter()
            views = _profiled(profilers["views"] if n == 0 else None, load_claim_views, ctx,
                              claim_ids)  # fmt: skip
            views_s.append(time.perf_counter() - t0)
            created = ctx.clock.now().astimezone(ctx.zone())
        ic = interchange(views, claim_ids, created)
        t0 = time.perf_counter()
        content = _profiled(profilers["write"] if n == 0 else None, PROFESSIONAL.write, ic)
        write_s.append(time.perf_counter() - t0)
        del views, ic
    out["views_runs"], out["write_runs"] = views_s, write_s
    out["views"], out["write"] = statistics.median(views_s), statistics.median(write_s)
    out["content"] = content
    out["profiles"] = profilers if profile else {}
    engine.dispose()
    return out


def validate(path: Path) -> dict:
    """`validate_file` once, with the pyx12 part timed on its own."""
    import pms_x12.validate as xv

    original = xv._pyx12
    spent: dict[str, float] = {}

    def timed(content: str):
        t = time.perf_counter()
        try:
            return original(content)
        finally:
            spent["pyx12"] = time.perf_counter() - t

    xv._pyx12 = timed
    try:
        t = time.perf_counter()
        report = xv.validate_file(path)
        total = time.perf_counter() - t
    finally:
        xv._pyx12 = original
    return {"total": total, "pyx12": spent.get("pyx12", 0.0), "findings": report.findings}


def print_profile(name: str, profiler: cProfile.Profile, top: int = 18) -> None:
    for order in ("tottime", "cumulative"):
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(order)
        stats.print_stats(top)
        body = buf.getvalue()
        start = body.find("   ncalls")
        print(f"\n--- profile: {name}, by {order} ---")
        print(body[start:].rstrip() if start >= 0 else body.rstrip())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.claims", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--claims", type=int, default=10_000, help="posted encounters = claims")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated base database")
    parser.add_argument("--db", help="a PostgreSQL server URL (default: SQLite in bench/data)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the SQLite base file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="replace any file at --out")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, profile build, scrub, views and write on a new copy",
    )
    args = parser.parse_args(argv)

    m = machine()
    print(
        f"machine: {m['cpus']} CPUs, {m['cpu']}, {m['ram']} RAM, Python {m['python']}, "
        f"SQLite {m['sqlite']}, load average at start {m['load']}"
    )
    url, info, where = prepare(args)
    base_day = date.fromisoformat(info["today"])
    shift = (datetime.now(ZONE).date() - base_day).days
    clock = ShiftedClock(shift)
    print(f"database: {where}; generated {info['generated_at']}")
    print(
        f"  {info['encounters']:,} posted encounters, {info['charges']:,} charges, "
        f"{info['patients']:,} patients ({info['secondary']:,} with secondary coverage, "
        f"{info['dependents']:,} dependents); {info['service_posted']} encounters posted "
        f"through the services ({info['service_ms_per_encounter']:.0f} ms each), the rest bulk"
    )
    print(
        f"  clock: practice today {base_day}"
        + (f" (system clock moved back {shift} days)" if shift else "")
    )

    r = run_phases(url, info["user_id"], clock, repeats=REPEATS, profile=False)
    x12_path = DATA / "claims-pg-837p.x12" if args.db else args.out.with_suffix(".837p.x12")
    x12_path.parent.mkdir(parents=True, exist_ok=True)
    x12_path.write_text(r["content"], encoding="utf-8")
    segments = r["content"].count("~")
    size_mb = len(r["content"]) / 1e6
    print(f"  load average before pyx12 {machine()['load']}")
    v = validate(x12_path)
    from pms_x12.claims837 import _semantic_problems

    own = _semantic_problems(r["content"], "005010X222A1")

    peer = v["pyx12"]
    total = r["build"] + r["views"] + r["write"]
    print(f"\n(g) build and write 837P: {r['claims']:,} claims x 4 lines from posted charges")
    figure(f"build_claims ({r['claims']:,} claims)", f"{r['build']:.2f} s",
           f"commit {r['build_commit']:.2f} s", None, None)  # fmt: skip
    print("    where build_claims' time goes (wall time, nested rows indented):")
    for line in r["build_timers"].lines(r["build"]):
        print(f"      {line}")
    figure("load_claim_views (bulk)", f"{r['views']:.2f} s",
           "runs " + " / ".join(f"{x:.2f}" for x in r["views_runs"]), None, None)  # fmt: skip
    figure("837P writer", f"{r['write']:.2f} s",
           "runs " + " / ".join(f"{x:.2f}" for x in r["write_runs"]), None, None)  # fmt: skip
    figure("  writer throughput", f"{segments / r['write']:,.0f} seg/s",
           f"{segments:,} segments, {size_mb:.1f} MB", None, None)  # fmt: skip
    figure("build + views + write", f"{total:.2f} s", f"<= {BUILD_SHARE:.0%} of pyx12",
           total / (BUILD_SHARE * peer), total <= BUILD_SHARE * peer)  # fmt: skip
    figure("pyx12 validation (peer)", f"{peer:.2f} s", f"{segments / peer:,.0f} seg/s",
           None, None)  # fmt: skip
    figure("  validate_file in all", f"{v['total']:.2f} s", "(+ envelope, balancing)",
           None, None)  # fmt: skip

    print(f"\n(h) scrub {r['claims']:,} claims, {r['rules']} built-in rules")
    figure("scrub_claims", f"{r['scrub']:.2f} s", f"<= {SCRUB_SHARE:.0%} of pyx12",
           r["scrub"] / (SCRUB_SHARE * peer), r["scrub"] <= SCRUB_SHARE * peer)  # fmt: skip
    print(
        f"    commit {r['scrub_commit']:.2f} s; ready {r['ready']:,}, with errors "
        f"{r['scrubbed']:,}; findings: {r['errors']} errors, {r['warnings']} warnings"
        + (f" ({', '.join(r['finding_codes'])})" if r["finding_codes"] else "")
    )
    print("    where scrub_claims' time goes (wall time):")
    for line in r["scrub_timers"].lines(r["scrub"]):
        print(f"      {line}")

    print(f"\n(i) pyx12 validation of the {r['claims']:,}-claim file ({x12_path})")
    errors = len(v["findings"])
    figure("validate_file findings", f"{errors}", "0", None, errors == 0)
    for finding in v["findings"][:10]:
        print(f"    {finding}")
    print(f"    the writer's own checks (beyond pyx12): {len(own)} problems")
    for problem in own[:5]:
        print(f"    {problem}")
    print(f"  load average at the end {machine()['load']}")

    if args.profile:
        print("\nprofiling on a new copy (times inflated by the profiler)")
        url, _info, _where = prepare(argparse.Namespace(**{**vars(args), "reuse": True}))
        p = run_phases(url, info["user_id"], clock, repeats=1, profile=True)
        for name, profiler in p["profiles"].items():
            print_profile(f"{name} ({p[name]:.2f} s under the profiler)", profiler)
    if args.db:  # the base stays for --reuse; the working copy goes
        _pg_admin(args.db, f"DROP DATABASE IF EXISTS {PG_RUN} WITH (FORCE)")


if __name__ == "__main__":
    main()
