"""Insurance coverage: adding a payer's coverage to a patient, and listing it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, select

from pms_core import audit
from pms_core import validation as v
from pms_core.context import Context
from pms_core.errors import FieldError, NotFound, ValidationError
from pms_core.models import Coverage, Patient, Payer
from pms_core.models.people import COVERAGE_PRIORITIES, SEXES, SUBSCRIBER_RELATIONSHIPS
from pms_core.money import Money, MoneyError
from pms_core.permissions import require
from pms_core.services.patients import CoverageView

PRIORITY_BY_NAME = {name: n for n, name in COVERAGE_PRIORITIES.items()}


def _priority(value: int | str) -> int | None:
    if isinstance(value, int):
        return value if value in COVERAGE_PRIORITIES else None
    text = str(value).strip().lower()
    return int(text) if text in ("1", "2", "3") else PRIORITY_BY_NAME.get(text)


def _overlaps(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return a_start <= (b_end or date.max) and b_start <= (a_end or date.max)


def check_coverage_fields(
    today: date,
    *,
    member_id: str | None,
    effective_date: date | str | None,
    priority: int | str | None = 1,
    relationship: str | None = "self",
    subscriber_first_name: str | None = None,
    subscriber_last_name: str | None = None,
    subscriber_dob: date | str | None = None,
    subscriber_sex: str | None = None,
    termination_date: date | str | None = None,
    copay: Money | str | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """A coverage's own fields checked without the database: returns the parsed
    values (priority as 1-3, member id trimmed, the dates, subscriber DOB,
    copay in cents) and every problem found."""
    errors: list[FieldError] = []
    level = _priority(priority if priority is not None else 1)
    if level is None:
        errors.append(FieldError("priority", "choice", "must be primary, secondary or tertiary"))
    if v.blank(member_id):
        errors.append(FieldError("member_id", "required", "is required"))
    effective, err = v.parse_date("effective_date", effective_date)
    errors = v.collect(errors, err)
    if effective is None and err is None:
        errors.append(FieldError("effective_date", "required", "is required"))
    termination, err = v.parse_date("termination_date", termination_date)
    errors = v.collect(errors, err)
    if effective and termination and termination < effective:
        errors.append(
            FieldError("termination_date", "before_effective", "is before the effective date")
        )
    errors = v.collect(
        errors, v.choice_error("relationship", relationship, SUBSCRIBER_RELATIONSHIPS)
    )
    sub_dob, err = v.parse_date("subscriber_dob", subscriber_dob)
    errors = v.collect(errors, err)
    if relationship != "self":
        sub = {
            "subscriber_first_name": subscriber_first_name,
            "subscriber_last_name": subscriber_last_name,
            "subscriber_dob": sub_dob,
            "subscriber_sex": subscriber_sex,
        }
        errors = v.collect(errors, v.required(sub, *sub))
        errors = v.collect(errors, v.choice_error("subscriber_sex", subscriber_sex, SEXES))
        if sub_dob:
            errors = v.collect(errors, v.dob_error("subscriber_dob", sub_dob, today))
    copay_money = Money(0)
    if isinstance(copay, Money):
        copay_money = copay
    elif not v.blank(copay):
        try:
            copay_money = Money.parse(copay)
        except MoneyError:
            errors.append(FieldError("copay", "money", "is not an amount (e.g. 25.00)"))
    if copay_money.cents < 0:
        errors.append(FieldError("copay", "negative", "cannot be negative"))
    fields = {
        "priority": level,
        "member_id": (member_id or "").strip(),
        "effective_date": effective,
        "termination_date": termination,
        "subscriber_dob": sub_dob,
        "copay_cents": copay_money.cents,
    }
    return fields, errors


def add_coverage(
    ctx: Context,
    *,
    patient_id: int,
    payer_id: int,
    member_id: str,
    effective_date: date | str,
    priority: int | str = 1,
    group_number: str | None = None,
    plan_name: str | None = None,
    relationship: str = "self",
    subscriber_first_name: str | None = None,
    subscriber_last_name: str | None = None,
    subscriber_dob: date | str | None = None,
    subscriber_sex: str | None = None,
    termination_date: date | str | None = None,
    copay: Money | str | None = None,
) -> Coverage:
    """Add coverage at a priority (primary/secondary/tertiary or 1-3).

    Refused with every problem listed: unknown payer, a priority already held by
    another coverage whose dates overlap, termination before effective date,
    missing subscriber details when the subscriber is not the patient, bad copay.
    """
    require(ctx, "coverages:write", action="coverage.create", patient_id=patient_id)
    patient = ctx.session.get(Patient, patient_id)
    if patient is None or patient.practice_id != ctx.practice_id:
        raise NotFound(f"patient {patient_id} not found")
    errors: list[FieldError] = []
    payer = ctx.session.get(Payer, payer_id)
    if payer is None or payer.practice_id != ctx.practice_id:
        errors.append(FieldError("payer_id", "not_found", "is not a payer of this practice"))
    fields, field_errors = check_coverage_fields(
        ctx.today(),
        member_id=member_id,
        effective_date=effective_date,
        priority=priority,
        relationship=relationship,
        subscriber_first_name=subscriber_first_name,
        subscriber_last_name=subscriber_last_name,
        subscriber_dob=subscriber_dob,
        subscriber_sex=subscriber_sex,
        termination_date=termination_date,
        copay=copay,
    )
    errors += field_errors
    level, effective, termination = (
        fields["priority"],
        fields["effective_date"],
        fields["termination_date"],
    )
    if not errors and level is not None:
        held = ctx.session.exec(
            select(Coverage).where(
                Coverage.patient_id == patient_id,
                Coverage.priority == level,
                col(Coverage.active).is_(True),
            )
        ).all()
        if any(
            _overlaps(effective, termination, c.effective_date, c.termination_date) for c in held
        ):
            errors.append(
                FieldError(
                    "priority",
                    "taken",
                    f"the patient already has "
                    f"{COVERAGE_PRIORITIES[level]} coverage for these dates",
                )
            )
    if errors:
        raise ValidationError(errors)
    coverage = Coverage(
        practice_id=ctx.practice_id,
        patient_id=patient_id,
        payer_id=payer_id,
        member_id_search=v.fold_member_id(member_id),
        group_number=(group_number or "").strip() or None,
        plan_name=plan_name,
        relationship=relationship,
        subscriber_first_name=subscriber_first_name,
        subscriber_last_name=subscriber_last_name,
        subscriber_sex=subscriber_sex,
        created_at=ctx.clock.now(),
        **fields,
    )
    ctx.session.add(coverage)
    ctx.session.flush()
    audit.record(
        ctx,
        action="coverage.create",
        patient_id=patient_id,
        detail={"coverage_id": coverage.id, "payer_id": payer_id},
    )
    ctx.notify("coverage_added", patient_id=patient_id, coverage_id=coverage.id)
    return coverage


def list_coverages(
    ctx: Context,
    *,
    patient_id: int,
    include_inactive: bool = False,
) -> list[CoverageView]:
    require(ctx, "patients:read", action="coverage.list", patient_id=patient_id)
    patient = ctx.session.get(Patient, patient_id)
    if patient is None or patient.practice_id != ctx.practice_id:
        raise NotFound(f"patient {patient_id} not found")
    query = (
        select(Coverage, Payer.name)
        .join(Payer, Payer.id == Coverage.payer_id)
        .where(Coverage.patient_id == patient_id)
        .order_by(Coverage.priority, Coverage.id)
    )
    if not include_inactive:
        query = query.where(Coverage.active == True)  # noqa: E712
    rows = ctx.session.exec(query).all()
    audit.record_read(
        ctx, action="coverage.list", patient_id=patient_id, detail={"results": len(rows)}
    )
    return [CoverageView(c, name) for c, name in rows]


def coverage_row(view: CoverageView) -> dict[str, Any]:
    """A flat dict for listings (CLI/TUI)."""
    c = view.coverage
    return {
        "id": c.id,
        "priority": COVERAGE_PRIORITIES[c.priority],
        "payer": view.payer_name,
        "member_id": c.member_id,
        "group_number": c.group_number,
        "relationship": c.relationship,
        "effective_date": c.effective_date,
        "termination_date": c.termination_date,
        "copay": Money(c.copay_cents),
    }
