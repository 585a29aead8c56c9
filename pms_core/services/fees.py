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


class FeeScheduleLoad:
    """A fee schedule file checked row by row, then planned and applied: the one
    path of `import_fee_schedule` and of the `feeschedule` importer. Errors
    name bare columns (code, modifier, amount, payer); callers add the row."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.by_key: dict[str, Payer] = {}
        for p in ctx.session.exec(select(Payer).where(Payer.practice_id == ctx.practice_id)):
            self.by_key[str(p.id)] = p
            self.by_key[p.edi_payer_id.upper()] = p
            self.by_key[p.name.upper()] = p
        self.valid_modifiers = known_modifiers(ctx)
        self.parsed: dict[tuple[int | None, str, str], tuple[int, int]] = {}
        self.items: list[tuple[int, str, str, int, FeeScheduleItem | None]] = []

    def check(self, n: int, row: Mapping[str, str]) -> list[FieldError]:
        errors: list[FieldError] = []
        code = _cell(row, "code", "cpt", "hcpcs", "procedure").upper()
        modifier = _cell(row, "modifier", "mod").upper()
        amount_text = _cell(row, "amount", "fee", "price", "charge")
        payer_text = _cell(row, "payer", "payer_id")
        if codes.procedure_kind(code) is None:
            errors.append(FieldError("code", "format", "not a CPT or HCPCS code"))
        if modifier and modifier not in self.valid_modifiers:
            errors.append(FieldError("modifier", "unknown", "not a valid modifier"))
        amount = None
        try:
            amount = Money.parse(amount_text)
            if amount.cents <= 0:
                errors.append(FieldError("amount", "range", "must be more than 0.00"))
        except MoneyError:
            errors.append(FieldError("amount", "format", "not an amount such as 125.00"))
        payer = None
        if payer_text:
            payer = self.by_key.get(payer_text.upper())
            if payer is None:
                errors.append(
                    FieldError("payer", "unknown", "no payer with that id, EDI id or name")
                )
        key = (payer.id if payer else None, code, modifier)
        if key in self.parsed:
            errors.append(
                FieldError(
                    "code",
                    "duplicate_in_file",
                    f"the same code, modifier and payer as row {self.parsed[key][0]}",
                )
            )
        elif not errors:
            self.parsed[key] = (n, amount.cents)
        return errors

    def plan(self) -> tuple[int, int, int]:
        """(added, updated, unchanged) if the checked rows were applied."""
        schedules: dict[int | None, FeeSchedule | None] = {
            payer_id: _schedule(self.ctx, payer_id, None, create=False)
            for payer_id in {k[0] for k in self.parsed}
        }
        existing: dict[tuple[int, str, str], FeeScheduleItem] = {}
        ids = [s.id for s in schedules.values() if s is not None]
        for item in self.ctx.session.exec(
            select(FeeScheduleItem).where(col(FeeScheduleItem.schedule_id).in_(ids))
        ):
            existing[(item.schedule_id, item.code, item.modifier)] = item
        counts = [0, 0, 0]
        for (payer_id, code, modifier), (_, cents) in self.parsed.items():
            schedule = schedules[payer_id]
            item = existing.get((schedule.id, code, modifier)) if schedule else None
            counts[0 if item is None else 1 if item.amount_cents != cents else 2] += 1
            self.items.append((payer_id, code, modifier, cents, item))
        return counts[0], counts[1], counts[2]

    def apply(self) -> None:
        now = self.ctx.clock.now()
        schedules = {
            payer_id: _schedule(self.ctx, payer_id, self.by_key.get(str(payer_id)))
            for payer_id in {i[0] for i in self.items}
        }
        for payer_id, code, modifier, cents, item in self.items:
            if item is None:
                self.ctx.session.add(
                    FeeScheduleItem(
                        schedule_id=schedules[payer_id].id,
                        code=code,
                        modifier=modifier,
                        amount_cents=cents,
                        updated_at=now,
                    )
                )
            elif item.amount_cents != cents:
                item.amount_cents = cents
                item.updated_at = now
                self.ctx.session.add(item)
        self.ctx.session.flush()


def import_fee_schedule(ctx: Context, *, rows: Sequence[Mapping[str, str]]) -> ImportResult:
    """Validate every row, then upsert all of them (`billing:setup`).

    `rows` are dicts keyed by lower-case column name (code, modifier, amount,
    payer); the first data row is row 2 (row 1 is the header)."""
    require(ctx, "billing:setup", action="feeschedule.import")
    load = FeeScheduleLoad(ctx)
    errors = [
        FieldError(f"row {n}: {e.field}", e.code, e.message)
        for n, row in enumerate(rows, start=2)
        for e in load.check(n, row)
    ]
    if not rows:
        errors.append(FieldError("file", "empty", "no rows"))
    if errors:
        raise ValidationError(errors)
    added, updated, unchanged = load.plan()
    load.apply()
    result = ImportResult(len(rows), added, updated, unchanged)
    audit.record(
        ctx,
        action="feeschedule.import",
        detail={"rows": result.rows, "added": added, "updated": updated},
    )
    return result


def _schedule(
    ctx: Context, payer_id: int | None, payer: Payer | None, *, create: bool = True
) -> FeeSchedule | None:
    query = select(FeeSchedule).where(FeeSchedule.practice_id == ctx.practice_id)
    query = query.where(
        col(FeeSchedule.payer_id).is_(None)
        if payer_id is None
        else FeeSchedule.payer_id == payer_id
    )
    schedule = ctx.session.exec(query.with_for_update()).first()
    if schedule is None and create:
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
