"""Patient registration, search and the patient record.

Every read and write of a patient is permission-checked and audited here. Search
terms are never written to the audit log (they are names and birth dates); the
event records how many patients were returned and their ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any
from uuid import uuid4

from sqlalchemy import Integer, bindparam, literal_column
from sqlmodel import col, select

from pms_core import audit
from pms_core import validation as v
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.ledger import PatientBalance, patient_balance
from pms_core.models import Coverage, IntakeItem, Patient, Payer
from pms_core.models.people import CONTACT_CHANNELS, INTAKE_KINDS, SEXES
from pms_core.permissions import require, role_allows

SEARCH_LIMIT = 50
# Fields a caller may set; anything else is a programming error, not user input.
PATIENT_FIELDS = (
    "account_number",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "dob",
    "sex",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "home_phone",
    "mobile_phone",
    "email",
    "preferred_contact",
    "guarantor_id",
    "guarantor_relationship",
    "deceased_date",
)
REQUIRED = ("first_name", "last_name", "dob", "sex", "address1", "city", "state", "zip")


class PossibleDuplicate(Conflict):
    """A patient with the same name and date of birth is already registered.
    Carries their ids; the caller asks a person and retries with allow_duplicate."""

    def __init__(self, patient_ids: list[int]):
        self.patient_ids = patient_ids
        ids = ", ".join(str(i) for i in patient_ids)
        super().__init__(f"possible duplicate of patient id {ids} (same name and date of birth)")


@dataclass(frozen=True)
class IntakeInput:
    kind: str
    description: str
    detail: str | None = None


# --- validation -----------------------------------------------------------------
def clean_patient_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Trim text, upper-case state, normalize phones and ZIP; parse a text DOB."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in PATIENT_FIELDS:
            raise TypeError(f"unknown patient field {key!r}")
        if isinstance(value, str):
            value = value.strip() or None
        out[key] = value
    for key in ("home_phone", "mobile_phone"):
        if out.get(key) and v.phone_error(key, out[key]) is None:
            out[key] = v.normalize_phone(out[key])
    if out.get("zip") and v.zip_error("zip", out["zip"]) is None:
        out["zip"] = v.normalize_zip(out["zip"])
    if out.get("state"):
        out["state"] = out["state"].upper()
    if out.get("sex"):
        out["sex"] = out["sex"].upper()
    if out.get("email"):
        out["email"] = out["email"].lower()
    return out


# What a preferred contact channel needs on file: (fields, any one will do; message).
_CHANNEL_NEEDS = {
    "sms": (("mobile_phone",), "is required when the preferred contact is sms"),
    "email": (("email",), "is required when the preferred contact is email"),
    "phone": (
        ("home_phone", "mobile_phone"),
        "a home or mobile phone is required when the preferred contact is phone",
    ),
}


def patient_errors(data: dict[str, Any], today: date) -> list[FieldError]:
    """Every problem with a patient's cleaned fields (`clean_patient_fields`),
    as registration sees them; a text DOB or date of death in `data` is
    replaced by the date it parses to. Does not look at the database."""
    errors = v.required(data, *REQUIRED)
    dob = data.get("dob")
    if isinstance(dob, str):
        dob, err = v.parse_date("dob", dob)
        if err:
            errors.append(err)
        else:
            data["dob"] = dob
    if dob is not None and "dob" not in {e.field for e in errors}:
        errors = v.collect(errors, v.dob_error("dob", dob, today))
    deceased = data.get("deceased_date")
    if isinstance(deceased, str):
        deceased, err = v.parse_date("deceased_date", deceased)
        errors = v.collect(errors, err)
        data["deceased_date"] = deceased
    if deceased is not None:
        if deceased > today:
            errors.append(FieldError("deceased_date", "future", "is in the future"))
        elif isinstance(dob, date) and deceased < dob:
            errors.append(FieldError("deceased_date", "before_dob", "is before the date of birth"))
    errors = v.collect(
        errors,
        v.choice_error("sex", data.get("sex"), SEXES),
        v.state_error("state", data.get("state")),
        v.zip_error("zip", data.get("zip")),
        v.phone_error("home_phone", data.get("home_phone")),
        v.phone_error("mobile_phone", data.get("mobile_phone")),
        v.email_error("email", data.get("email")),
        v.choice_error("preferred_contact", data.get("preferred_contact"), CONTACT_CHANNELS),
    )
    channel = data.get("preferred_contact")
    if channel in _CHANNEL_NEEDS:
        fields, message = _CHANNEL_NEEDS[channel]
        if not any(data.get(f) for f in fields):
            errors.append(FieldError(fields[0], f"required_for_{channel}", message))
    for name in ("first_name", "last_name"):
        if data.get(name) and not v.fold(data[name]):
            errors.append(FieldError(name, "format", "must contain letters"))
    bad = {e.field for e in errors}  # a malformed value is not also reported as long
    return errors + [e for e in v.too_long(data, Patient) if e.field not in bad]


def _validate(ctx: Context, data: dict[str, Any], intake: list[IntakeInput]) -> list[FieldError]:
    errors = patient_errors(data, ctx.today())
    if data.get("guarantor_id") is not None:
        guarantor = ctx.session.get(Patient, data["guarantor_id"])
        if guarantor is None or guarantor.practice_id != ctx.practice_id:
            errors.append(
                FieldError("guarantor_id", "not_found", "is not a patient of this practice")
            )
    return errors + _intake_errors(intake)


def _intake_errors(intake: list[IntakeInput]) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, item in enumerate(intake, start=1):
        errors = v.collect(errors, v.choice_error(f"intake[{i}].kind", item.kind, INTAKE_KINDS))
        if v.blank(item.description):
            errors.append(FieldError(f"intake[{i}].description", "required", "is required"))
        for e in v.too_long({"description": item.description, "detail": item.detail}, IntakeItem):
            errors.append(FieldError(f"intake[{i}].{e.field}", e.code, e.message))
    return errors


def _search_names(patient: Patient) -> None:
    patient.search_first = v.fold(patient.first_name)
    patient.search_last = v.fold(patient.last_name)


# --- writes -----------------------------------------------------------------------
def find_duplicates(
    ctx: Context, *, first_name: str, last_name: str, dob: date, exclude_id: int | None = None
) -> list[int]:
    """Ids of patients in this practice with the same (folded) name and DOB."""
    require(ctx, "patients:read", action="patient.duplicate_check")
    return _duplicates(ctx, first_name, last_name, dob, exclude_id)


def _duplicates(ctx, first_name, last_name, dob, exclude_id=None) -> list[int]:
    query = select(Patient.id).where(
        Patient.practice_id == ctx.practice_id,
        Patient.search_last == v.fold(last_name),
        Patient.search_first == v.fold(first_name),
        Patient.dob == dob,
    )
    if exclude_id is not None:
        query = query.where(Patient.id != exclude_id)
    return list(ctx.session.exec(query.order_by(Patient.id)))


def _refuse_taken_account(ctx: Context, account: str) -> None:
    taken = ctx.session.exec(
        select(Patient.id).where(
            Patient.practice_id == ctx.practice_id, Patient.account_number == account
        )
    ).first()
    if taken is not None:
        raise ValidationError([FieldError("account_number", "duplicate", "is already in use")])


def _add_intake_row(ctx: Context, patient_id: int, item: IntakeInput) -> IntakeItem:
    row = IntakeItem(
        practice_id=ctx.practice_id,
        patient_id=patient_id,
        kind=item.kind,
        description=item.description.strip(),
        detail=item.detail,
        recorded_at=ctx.clock.now(),
        recorded_by_id=ctx.user.id,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def register_patient(
    ctx: Context, *, intake: list[IntakeInput] = (), allow_duplicate: bool = False, **fields: Any
) -> Patient:
    """Register a patient with the intake history they reported.

    Raises ValidationError listing every bad field (nothing is saved), and
    PossibleDuplicate when a patient with the same name and DOB exists unless
    `allow_duplicate`. Without an account number one is assigned ("P" + id).
    """
    require(ctx, "patients:write", action="patient.create")
    data = {
        "preferred_contact": "sms" if fields.get("mobile_phone") else "phone",
        **clean_patient_fields(fields),
    }
    intake = list(intake)
    errors = _validate(ctx, data, intake)
    if errors:
        raise ValidationError(errors)
    if not allow_duplicate:
        dupes = _duplicates(ctx, data["first_name"], data["last_name"], data["dob"])
        if dupes:
            raise PossibleDuplicate(dupes)
    account = data.pop("account_number", None)
    if account:
        _refuse_taken_account(ctx, account)
    patient = Patient(
        practice_id=ctx.practice_id,
        account_number=account or f"tmp-{uuid4().hex[:16]}",
        search_first="",
        search_last="",
        **data,
    )
    _search_names(patient)
    ctx.session.add(patient)
    ctx.session.flush()
    if not account:
        patient.account_number = f"P{patient.id:07d}"
    for item in intake:
        _add_intake_row(ctx, patient.id, item)
    audit.record(
        ctx, action="patient.create", patient_id=patient.id, detail={"intake_items": len(intake)}
    )
    ctx.notify("patient_registered", patient_id=patient.id)
    return patient


def update_patient(
    ctx: Context, *, patient_id: int, allow_duplicate: bool = False, **changes: Any
) -> Patient:
    """Change demographics; the whole record is validated as it would be after
    the change. Audits and notifies with the names of the fields that changed."""
    require(ctx, "patients:write", action="patient.update", patient_id=patient_id)
    patient = _load(ctx, patient_id, for_update=True)
    cleaned = clean_patient_fields(changes)
    current = {name: getattr(patient, name) for name in PATIENT_FIELDS}
    merged = {**current, **cleaned}
    errors = _validate(ctx, merged, [])
    if not merged.get("account_number"):
        errors.append(FieldError("account_number", "required", "is required"))
    if errors:
        raise ValidationError(errors)
    changed = sorted(k for k in cleaned if merged[k] != current[k])
    if not changed:
        return patient
    if "account_number" in changed:
        _refuse_taken_account(ctx, merged["account_number"])
    if not allow_duplicate and {"first_name", "last_name", "dob"} & set(changed):
        dupes = _duplicates(
            ctx, merged["first_name"], merged["last_name"], merged["dob"], exclude_id=patient.id
        )
        if dupes:
            raise PossibleDuplicate(dupes)
    for name in changed:
        setattr(patient, name, merged[name])
    _search_names(patient)
    patient.updated_at = ctx.clock.now()
    ctx.session.add(patient)
    ctx.session.flush()
    audit.record(ctx, action="patient.update", patient_id=patient.id, detail={"fields": changed})
    ctx.notify("patient_updated", patient_id=patient.id, fields=changed)
    return patient


def add_intake_item(
    ctx: Context, *, patient_id: int, kind: str, description: str, detail: str | None = None
) -> IntakeItem:
    require(ctx, "patients:write", action="patient.intake", patient_id=patient_id)
    _load(ctx, patient_id)
    item = IntakeInput(kind=kind, description=description, detail=detail)
    errors = _intake_errors([item])
    if errors:
        raise ValidationError(errors)
    row = _add_intake_row(ctx, patient_id, item)
    audit.record(
        ctx, action="patient.intake", patient_id=patient_id, detail={"intake_item_id": row.id}
    )
    return row


# --- reads ------------------------------------------------------------------------
def _load(ctx: Context, patient_id: int, *, for_update: bool = False) -> Patient:
    query = select(Patient).where(Patient.id == patient_id, Patient.practice_id == ctx.practice_id)
    if for_update:
        query = query.with_for_update()
    patient = ctx.session.exec(query).first()
    if patient is None:
        raise NotFound(f"patient {patient_id} not found")
    return patient


@dataclass(frozen=True)
class CoverageView:
    coverage: Coverage
    payer_name: str


@dataclass(frozen=True)
class PatientRecord:
    """What the patient screen shows. `balance` is None when the role may not
    read the ledger."""

    patient: Patient
    coverages: list[CoverageView]
    intake: list[IntakeItem]
    balance: PatientBalance | None = None
    guarantor_name: str | None = None


def get_patient(ctx: Context, *, patient_id: int) -> PatientRecord:
    require(ctx, "patients:read", action="patient.read", patient_id=patient_id)
    patient = _load(ctx, patient_id)
    rows = ctx.session.exec(
        select(Coverage, Payer.name)
        .join(Payer, Payer.id == Coverage.payer_id)
        .where(Coverage.patient_id == patient_id)
        .order_by(Coverage.active.desc(), Coverage.priority, Coverage.id)
    ).all()
    intake = list(
        ctx.session.exec(
            select(IntakeItem).where(IntakeItem.patient_id == patient_id).order_by(IntakeItem.id)
        )
    )
    balance = None
    if role_allows(ctx.user.role, "ledger:read"):
        balance = patient_balance(ctx.session, ctx.practice_id, patient_id)
    guarantor_name = None
    if patient.guarantor_id:
        g = ctx.session.get(Patient, patient.guarantor_id)
        guarantor_name = f"{g.last_name}, {g.first_name}" if g else None
    audit.record_read(ctx, action="patient.read", patient_id=patient_id)
    return PatientRecord(
        patient=patient,
        coverages=[CoverageView(c, n) for c, n in rows],
        intake=intake,
        balance=balance,
        guarantor_name=guarantor_name,
    )


@dataclass(frozen=True)
class PatientHit:
    """One search result row."""

    id: int
    account_number: str
    last_name: str
    first_name: str
    dob: date
    sex: str
    phone: str | None
    matched: list[str] = field(default_factory=list)


_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}/\d{1,2}/\d{4}$")


@dataclass(frozen=True)
class SearchStep:
    """One indexed lookup of a search: `label` is what a hit matched on (name,
    dob, phone, account, member_id), `lookup` names the prepared condition in
    `LOOKUPS`, `params` are its bound values."""

    label: str
    lookup: str
    params: dict[str, Any]


def _prefix(prefix: str, name: str = "") -> dict[str, str]:
    """Bounds of "starts with `prefix`" as an index range (folded values are [a-z0-9])."""
    return {f"{name}lo": prefix, f"{name}hi": prefix[:-1] + chr(ord(prefix[-1]) + 1)}


def _in_range(column, name: str = ""):
    return (column >= bindparam(f"{name}lo")) & (column < bindparam(f"{name}hi"))


def _unindexed(column):
    """The column as an expression no index can serve: with two name prefixes the
    planner must drive the query by the last-name index, not scan every
    matching first name (measured in bench/README.md)."""
    return column.concat(literal_column("''"))


# Each lookup's condition, with bound parameters: the statements are built once
# and reused, so a keystroke costs one index range query and no SQL building.
LOOKUPS: dict[str, Any] = {
    "last": lambda: _in_range(Patient.search_last),
    "first": lambda: _in_range(Patient.search_first),
    "last_first": lambda: (
        _in_range(Patient.search_last) & _in_range(_unindexed(Patient.search_first), "first_")
    ),
    "dob": lambda: Patient.dob == bindparam("dob"),
    "home_phone": lambda: _in_range(Patient.home_phone),
    "mobile_phone": lambda: _in_range(Patient.mobile_phone),
    "account": lambda: _in_range(Patient.account_number),
    "member_id": lambda: _in_range(Coverage.member_id_search),
}


def search_plan(text: str) -> list[SearchStep]:
    """The indexed lookups one search text turns into.

    - a date (1990-04-12 or 4/12/1990): date of birth
    - "last, first" (each a prefix): that name order
    - two words: either order, last+first or first+last
    - digits and phone punctuation only: phone prefix (3+ digits), account
      number and member id prefix
    - one word of letters: last-name prefix, first-name prefix
    - one word with digits: account-number and member-id prefix
    """
    text = text.strip()
    if not text:
        return []
    if _DATE_TEXT.match(text):
        parsed, err = v.parse_date("dob", text)
        return [SearchStep("dob", "dob", {"dob": parsed})] if parsed and not err else []
    if re.fullmatch(r"[\d\s().+\-]+", text):  # phone-like: digits and phone punctuation
        numbers = v.digits(text)
        plan: list[SearchStep] = []
        if len(numbers) >= 3:
            phone = v.normalize_phone(text) if len(numbers) == 11 else numbers
            plan += [
                SearchStep("phone", "home_phone", _prefix(phone)),
                SearchStep("phone", "mobile_phone", _prefix(phone)),
            ]
        return plan + _identifier_plan(text)
    if "," in text:
        last, _, first = text.partition(",")
        last_f, first_f = v.fold(last), v.fold(first)
        if not last_f:
            return []
        if first_f:
            return [SearchStep("name", "last_first", _prefix(last_f) | _prefix(first_f, "first_"))]
        return [SearchStep("name", "last", _prefix(last_f))]
    words = [v.fold(w) for w in text.split()]
    words = [w for w in words if w]
    if len(words) >= 2:
        a, b = words[0], words[-1]
        return [
            SearchStep("name", "last_first", _prefix(a) | _prefix(b, "first_")),
            SearchStep("name", "last_first", _prefix(b) | _prefix(a, "first_")),
        ]
    if not words:
        return []
    word = words[0]
    if word.isalpha():
        return [
            SearchStep("name", "last", _prefix(word)),
            SearchStep("name", "first", _prefix(word)),
        ]
    return _identifier_plan(text)


def _identifier_plan(text: str) -> list[SearchStep]:
    """Account-number and member-id prefix lookups for text with digits in it."""
    plan = [SearchStep("account", "account", _prefix(text))]
    member = v.fold_member_id(text)
    if member:
        plan.append(SearchStep("member_id", "member_id", _prefix(member)))
    return plan


_HIT_COLUMNS = (
    Patient.id,
    Patient.account_number,
    Patient.last_name,
    Patient.first_name,
    Patient.dob,
    Patient.sex,
    Patient.mobile_phone,
    Patient.home_phone,
)


@cache
def _search_statement(lookup: str, include_inactive: bool):
    """The prepared query for one lookup: this practice's patients (with their
    coverage for member ids), at most `:limit`, only what a result row shows."""
    query = select(*_HIT_COLUMNS)
    if lookup == "member_id":
        query = query.join(Coverage, Coverage.patient_id == Patient.id).where(
            Coverage.practice_id == bindparam("practice_id")
        )
    query = query.where(Patient.practice_id == bindparam("practice_id"), LOOKUPS[lookup]())
    if not include_inactive:
        query = query.where(col(Patient.active).is_(True))
    return query.limit(bindparam("limit", type_=Integer))


def find_patients(
    ctx: Context, *, text: str, limit: int = SEARCH_LIMIT, include_inactive: bool = False
) -> list[PatientHit]:
    """Typeahead search by name, DOB, phone, member id or account number.

    Each lookup is a separate index range query, merged here, so every branch
    stays an index scan on both engines. Results are sorted by name and DOB.
    The queries run on the session's connection without the ORM (nothing is
    loaded into the session), and the search is audited as a read.
    """
    require(ctx, "patients:read", action="patient.search")
    rows: dict[int, tuple] = {}
    matched: dict[int, list[str]] = {}
    connection = ctx.session.connection()
    for step in search_plan(text):
        params = {**step.params, "practice_id": ctx.practice_id, "limit": limit}
        for row in connection.execute(_search_statement(step.lookup, include_inactive), params):
            labels = matched.get(row[0])
            if labels is None:
                rows[row[0]] = tuple(row)
                matched[row[0]] = [step.label]
            elif step.label not in labels:
                labels.append(step.label)
    # (id, account, last, first, dob, sex, mobile, home), as _HIT_COLUMNS
    best = sorted(rows.values(), key=lambda r: (r[2].lower(), r[3].lower(), r[4], r[0]))[:limit]
    hits = [
        PatientHit(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or r[7], matched[r[0]]) for r in best
    ]
    audit.record_read(
        ctx,
        action="patient.search",
        detail={"results": len(hits), "patient_ids": [h.id for h in hits]},
    )
    return hits


def patient_summaries(ctx: Context, *, patient_ids: list[int]) -> list[PatientHit]:
    """Name, DOB, account and phone of the given patients of this practice, in the
    order asked (unknown ids are left out): what a duplicate warning or a pick
    list shows, without loading whole records. One audit event for all of them."""
    require(ctx, "patients:read", action="patient.summary")
    rows = ctx.session.exec(
        select(*_HIT_COLUMNS).where(
            Patient.practice_id == ctx.practice_id, col(Patient.id).in_(patient_ids)
        )
    ).all()
    by_id = {
        r.id: PatientHit(
            r.id,
            r.account_number,
            r.last_name,
            r.first_name,
            r.dob,
            r.sex,
            r.mobile_phone or r.home_phone,
        )
        for r in rows
    }
    hits = [by_id[i] for i in patient_ids if i in by_id]
    audit.record_read(ctx, action="patient.summary", detail={"patient_ids": [h.id for h in hits]})
    return hits


__all__ = [
    "CoverageView",
    "IntakeInput",
    "PatientHit",
    "PatientRecord",
    "PossibleDuplicate",
    "add_intake_item",
    "find_duplicates",
    "find_patients",
    "get_patient",
    "patient_summaries",
    "register_patient",
    "search_plan",
    "update_patient",
]
