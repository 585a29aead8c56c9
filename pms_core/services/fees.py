"""Fee schedules and code lists, loaded from files.

The CLI (or an importer plugin) reads a CSV or XLSX file into rows of text by
column name; these services validate every row first and apply the file only
when no row is wrong, in the caller's transaction. Errors name the row number
and the column, never a cell's value beyond a code.

A fee schedule row: code, modifier (optional), amount, payer (optional: the
payer's database id, EDI payer id or exact name; blank for the practice's
default schedule, which sets what is charged; a payer's schedule holds its
contracted amounts). Re-importing updates amounts in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlmodel import col, select

from pms_core import audit, codes
from pms_core.context import Context
from pms_core.errors import FieldError, ValidationError
from pms_core.models import CodeEntry, FeeSchedule, FeeScheduleItem, Payer
from pms_core.money import Money, MoneyError
from pms_core.permissions import require
from pms_core.services.charges import known_modifiers

CODE_SETS = ("cpt", "hcpcs", "modifier", "carc", "rarc")
# What a code of each list looks like (CPT and HCPCS: `codes.procedure_kind`).
_CODE_FORMS = {
    "modifier": re.compile(r"[A-Z0-9]{2}"),
    "carc": re.compile(r"[A-Z]{0,2}[0-9]{0,3}"),
    "rarc": re.compile(r"[A-Z]{1,2}[0-9]{1,4}"),
}
DEFAULT_SCHEDULE = "Practice default"


@dataclass(frozen=True)
class ImportResult:
    rows: int
    added: int
    updated: int
    unchanged: int


def _cell(row: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def import_fee_schedule(ctx: Context, *, rows: Sequence[Mapping[str, str]]) -> ImportResult:
    """Validate every row, then upsert all of them (`billing:setup`).

    `rows` are dicts keyed by lower-case column name (code, modifier, amount,
    payer); the first data row is row 2 (row 1 is the header)."""
    require(ctx, "billing:setup", action="feeschedule.import")
    payers = list(ctx.session.exec(select(Payer).where(Payer.practice_id == ctx.practice_id)))
    by_key: dict[str, Payer] = {}
    for p in payers:
        by_key[str(p.id)] = p
        by_key[p.edi_payer_id.upper()] = p
        by_key[p.name.upper()] = p
    valid_modifiers = known_modifiers(ctx)
    errors: list[FieldError] = []
    parsed: dict[tuple[int | None, str, str], int] = {}
    for n, row in enumerate(rows, start=2):
        code = _cell(row, "code", "cpt", "hcpcs", "procedure").upper()
        modifier = _cell(row, "modifier", "mod").upper()
        amount_text = _cell(row, "amount", "fee", "price", "charge")
        payer_text = _cell(row, "payer", "payer_id")
        if codes.procedure_kind(code) is None:
            errors.append(FieldError(f"row {n}: code", "format", "not a CPT or HCPCS code"))
        if modifier and modifier not in valid_modifiers:
            errors.append(FieldError(f"row {n}: modifier", "unknown", "not a valid modifier"))
        try:
            amount = Money.parse(amount_text)
            if amount.cents <= 0:
                errors.append(FieldError(f"row {n}: amount", "range", "must be more than 0.00"))
        except MoneyError:
            errors.append(FieldError(f"row {n}: amount", "format", "not an amount such as 125.00"))
            amount = None
        payer = None
        if payer_text:
            payer = by_key.get(payer_text.upper())
            if payer is None:
                errors.append(
                    FieldError(
                        f"row {n}: payer", "unknown", "no payer with that id, EDI id or name"
                    )
                )
        key = (payer.id if payer else None, code, modifier)
        if key in parsed:
            errors.append(
                FieldError(
                    f"row {n}", "duplicate", "the same code, modifier and payer as an earlier row"
                )
            )
        if amount is not None:
            parsed[key] = amount.cents
    if not rows:
        errors.append(FieldError("file", "empty", "no rows"))
    if errors:
        raise ValidationError(errors)

    schedules: dict[int | None, FeeSchedule] = {}
    for payer_id in {k[0] for k in parsed}:
        schedules[payer_id] = _schedule(ctx, payer_id, by_key.get(str(payer_id)))
    existing: dict[tuple[int, str, str], FeeScheduleItem] = {}
    for item in ctx.session.exec(
        select(FeeScheduleItem).where(
            col(FeeScheduleItem.schedule_id).in_([s.id for s in schedules.values()])
        )
    ):
        existing[(item.schedule_id, item.code, item.modifier)] = item
    added = updated = unchanged = 0
    now = ctx.clock.now()
    for (payer_id, code, modifier), cents in parsed.items():
        schedule_id = schedules[payer_id].id
        item = existing.get((schedule_id, code, modifier))
        if item is None:
            ctx.session.add(
                FeeScheduleItem(
                    schedule_id=schedule_id,
                    code=code,
                    modifier=modifier,
                    amount_cents=cents,
                    updated_at=now,
                )
            )
            added += 1
        elif item.amount_cents != cents:
            item.amount_cents = cents
            item.updated_at = now
            ctx.session.add(item)
            updated += 1
        else:
            unchanged += 1
    ctx.session.flush()
    result = ImportResult(len(rows), added, updated, unchanged)
    audit.record(
        ctx,
        action="feeschedule.import",
        detail={"rows": result.rows, "added": added, "updated": updated},
    )
    return result


def _schedule(ctx: Context, payer_id: int | None, payer: Payer | None) -> FeeSchedule:
    query = select(FeeSchedule).where(FeeSchedule.practice_id == ctx.practice_id)
    query = query.where(
        col(FeeSchedule.payer_id).is_(None)
        if payer_id is None
        else FeeSchedule.payer_id == payer_id
    )
    schedule = ctx.session.exec(query.with_for_update()).first()
    if schedule is None:
        name = DEFAULT_SCHEDULE if payer is None else f"{payer.name} contract"[:60]
        schedule = FeeSchedule(
            practice_id=ctx.practice_id, name=name, payer_id=payer_id, created_at=ctx.clock.now()
        )
        ctx.session.add(schedule)
        ctx.session.flush()
    return schedule


@dataclass(frozen=True)
class FeeRow:
    schedule: str
    payer_id: int | None
    code: str
    modifier: str
    amount_cents: int


def list_fees(
    ctx: Context, *, payer_id: int | None = None, code: str | None = None
) -> list[FeeRow]:
    """Fee schedule items, by schedule then code (`charges:write` or `billing:setup`)."""
    from pms_core.permissions import role_allows

    if not (ctx.user and role_allows(ctx.user.role, "charges:write")):
        require(ctx, "billing:setup", action="feeschedule.list")
    query = (
        select(FeeSchedule.name, FeeSchedule.payer_id, FeeScheduleItem)
        .join(FeeSchedule, FeeSchedule.id == FeeScheduleItem.schedule_id)
        .where(FeeSchedule.practice_id == ctx.practice_id)
    )
    if payer_id is not None:
        query = query.where(FeeSchedule.payer_id == payer_id)
    if code is not None:
        query = query.where(FeeScheduleItem.code == code.upper())
    rows = ctx.session.exec(
        query.order_by(FeeSchedule.name, FeeScheduleItem.code, FeeScheduleItem.modifier)
    ).all()
    return [FeeRow(name, pid, i.code, i.modifier, i.amount_cents) for name, pid, i in rows]


def import_codes(ctx: Context, *, code_set: str, rows: Sequence[Mapping[str, str]]) -> ImportResult:
    """Load a code list (cpt, hcpcs, modifier, carc or rarc: columns code,
    description) into
    the database-wide code table; re-importing updates descriptions."""
    require(ctx, "billing:setup", action="codes.import")
    if code_set not in CODE_SETS:
        raise ValidationError([FieldError("code_set", "choice", f"one of {', '.join(CODE_SETS)}")])
    errors: list[FieldError] = []
    parsed: dict[str, str] = {}
    for n, row in enumerate(rows, start=2):
        code = _cell(row, "code", code_set).upper()
        description = " ".join(_cell(row, "description", "short_description", "name").split())
        form = _CODE_FORMS.get(code_set)
        ok = bool(code) and (
            bool(form.fullmatch(code)) if form else codes.procedure_kind(code) == code_set
        )
        if not ok:
            errors.append(FieldError(f"row {n}: code", "format", f"not a {code_set} code"))
        if len(description) > 250:
            errors.append(FieldError(f"row {n}: description", "length", "at most 250 characters"))
        if code in parsed:
            errors.append(FieldError(f"row {n}: code", "duplicate", "listed on an earlier row"))
        parsed[code] = description
    if not rows:
        errors.append(FieldError("file", "empty", "no rows"))
    if errors:
        raise ValidationError(errors)
    existing = {
        e.code: e for e in ctx.session.exec(select(CodeEntry).where(CodeEntry.code_set == code_set))
    }
    added = updated = unchanged = 0
    for code, description in parsed.items():
        entry = existing.get(code)
        if entry is None:
            ctx.session.add(CodeEntry(code_set=code_set, code=code, description=description))
            added += 1
        elif (entry.description, entry.active) != (description, True):
            entry.description, entry.active = description, True
            ctx.session.add(entry)
            updated += 1
        else:
            unchanged += 1
    ctx.session.flush()
    audit.record(
        ctx,
        action="codes.import",
        detail={"code_set": code_set, "rows": len(rows), "added": added, "updated": updated},
    )
    return ImportResult(len(rows), added, updated, unchanged)


def search_procedures(ctx: Context, *, text: str, limit: int = 25) -> list[tuple[str, str]]:
    """CPT/HCPCS codes by code prefix or words of the description, from imported
    lists and the practice's fee schedule (codes without a description then)."""
    text = text.strip().upper()
    if not text:
        return []
    found: dict[str, str] = {}
    query = select(CodeEntry.code, CodeEntry.description).where(
        col(CodeEntry.code_set).in_(("cpt", "hcpcs")), col(CodeEntry.active)
    )
    if codes.procedure_kind(text.ljust(5, "0")[:5]) is not None or text[:1].isdigit():
        query = query.where(col(CodeEntry.code).startswith(text))
    else:
        for word in text.lower().split():
            query = query.where(col(CodeEntry.description).ilike(f"%{word}%"))
    for code, description in ctx.session.exec(query.order_by(CodeEntry.code).limit(limit)):
        found[code] = description
    if len(found) < limit and (text[:1].isdigit() or len(text) <= 5):
        for code in ctx.session.exec(
            select(FeeScheduleItem.code)
            .join(FeeSchedule, FeeSchedule.id == FeeScheduleItem.schedule_id)
            .where(
                FeeSchedule.practice_id == ctx.practice_id,
                col(FeeScheduleItem.code).startswith(text),
            )
            .distinct()
            .order_by(FeeScheduleItem.code)
            .limit(limit)
        ):
            found.setdefault(code, "")
    return sorted(found.items())[:limit]
