"""Claims: build them from posted charges, scrub them, correct and void them,
and read them (worklists, detail, history).

A claim bills one encounter's posted charges to the patient's primary
coverage on the date of service. It holds at most 50 lines (837P; 999 for an
837I) and 12 diagnoses; each line points at up to four of the claim's own
diagnoses. Every status change is a `claim_event` (who, when, from, to, why)
and a `claim_status_changed` notification.

Scrubbing runs every rule plugins registered (and the payer profile's own) over
plain `ClaimView`s built in bulk, stores the findings, and moves each claim to
"ready" (no errors) or "scrubbed" (errors to fix).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import String, bindparam, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from pms_core import audit
from pms_core.claimdata import (
    FREQ_CORRECTED,
    FREQ_ORIGINAL,
    FREQ_VOID,
    RESPONSIBILITY,
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
from pms_core.context import Context
from pms_core.db import chunked, insert_plain
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.models import (
    BatchClaim,
    Charge,
    Claim,
    ClaimDiagnosis,
    ClaimEvent,
    ClaimFinding,
    ClaimLine,
    Coverage,
    Encounter,
    EncounterDiagnosis,
    Location,
    Patient,
    Payer,
    Practice,
    Provider,
    SubmissionBatch,
    User,
)
from pms_core.models.people import SUBSCRIBER_RELATIONSHIPS
from pms_core.permissions import require
from pms_core.plugins import contributions
from pms_core.scrub import Finding, PayerProfile, ScrubContext, Severity, profile_for
from pms_core.services import charges as charge_service

MAX_LINES = {"837P": 50, "837I": 999}
MAX_DIAGNOSES = 12
# Claims whose charges count as billed: every status but these.
NOT_LIVE = ("replaced", "voided", "discarded")
SENT = ("submitted", "accepted", "acknowledged", "denied", "partially_paid", "paid", "closed")
UNSENT = ("draft", "scrubbed", "ready")  # may be scrubbed again or discarded
CORRECTABLE = (*SENT, "rejected")  # the payer has it: correct or void it, never discard
# Worklists by name: the statuses each shows.
WORKLISTS: dict[str, tuple[str, ...]] = {
    "draft": ("draft",),
    "scrub_errors": ("scrubbed",),
    "ready": ("ready",),
    "submitted": ("submitted", "accepted", "acknowledged"),
    "rejected": ("rejected",),
    "denied": ("denied",),
    "paid": ("partially_paid", "paid", "closed"),
}
_CHUNK = 2000  # ids per IN (...) list


# --- transitions ----------------------------------------------------------------------
def transition(
    ctx: Context,
    claim: Claim,
    to_status: str,
    reason: str = "",
    *,
    batch_id: int | None = None,
    inbound_file_id: int | None = None,
) -> None:
    """Move a claim to `to_status`, recording the event and queueing the notice.
    The caller has checked permission and that the move makes sense."""
    previous = claim.status
    claim.status = to_status
    ctx.session.add(claim)
    ctx.session.add(
        ClaimEvent(
            claim_id=claim.id,
            at=ctx.clock.now(),
            user_id=ctx.user.id if ctx.user else None,
            from_status=previous,
            to_status=to_status,
            reason=reason[:500],
            batch_id=batch_id,
            inbound_file_id=inbound_file_id,
        )
    )
    if previous != to_status:
        ctx.notify("claim_status_changed", claim_id=claim.id, status=to_status, previous=previous)


def _record_moves(ctx: Context, moves: list[tuple[int, str, str, str]]) -> None:
    """Bulk form of `transition` for claims already updated in the database:
    one event per (claim id, from, to, reason), written in one statement."""
    if not moves:
        return
    now, user_id = ctx.clock.now(), ctx.user.id if ctx.user else None
    _db(ctx).execute(
        insert(ClaimEvent.__table__),
        [
            {
                "claim_id": claim_id,
                "at": now,
                "user_id": user_id,
                "from_status": previous,
                "to_status": to_status,
                "reason": reason[:500],
                "batch_id": None,
                "inbound_file_id": None,
            }
            for claim_id, previous, to_status, reason in moves
        ],
    )
    for claim_id, previous, to_status, _ in moves:
        if previous != to_status:
            ctx.notify(
                "claim_status_changed", claim_id=claim_id, status=to_status, previous=previous
            )


# --- building -------------------------------------------------------------------------
@dataclass(frozen=True)
class BuiltClaim:
    """A claim just built (what callers need of it, without loading it)."""

    id: int
    claim_number: str
    kind: str
    frequency: str
    encounter_id: int
    patient_id: int
    coverage_id: int
    payer_id: int
    total_cents: int
    payer_claim_number: str | None
    status: str = "draft"


@dataclass(frozen=True)
class BuildResult:
    claims: list[BuiltClaim]
    self_pay_charges: list[int]  # posted charges with no coverage on their date: no claim


_C = Charge.__table__.c
_LINE_COLUMNS = (
    _C.id,
    _C.encounter_id,
    _C.line_number,
    _C.amount_cents,
    _C.diagnosis_pointers,
    _C.service_date,
    _C.service_date_end,
)


def build_claims(
    ctx: Context, *, encounter_ids: Sequence[int] | None = None, patient_id: int | None = None
) -> BuildResult:
    """Build claims for posted charges that no live claim carries yet, per
    encounter, billed to the primary coverage on the date of service. An
    encounter's charges are split over several claims when they exceed the line
    limit (or, defensively, 12 diagnoses). Charges with no coverage are self-pay
    and get no claim. The encounters are locked first, so two billers building
    at once cannot bill a charge twice. Everything is read and written in bulk."""
    require(ctx, "claims:write", action="claim.build", patient_id=patient_id)
    billed = (
        select(ClaimLine.charge_id)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(
            Claim.practice_id == ctx.practice_id,
            col(Claim.status).not_in(NOT_LIVE),
            Claim.frequency != FREQ_VOID,
        )
    )
    unbilled = select(*_LINE_COLUMNS).where(
        _C.practice_id == ctx.practice_id, _C.status == "posted", _C.id.not_in(billed)
    )
    if encounter_ids is not None:
        unbilled = unbilled.where(_C.encounter_id.in_(list(encounter_ids)))
    if patient_id is not None:
        unbilled = unbilled.where(_C.patient_id == patient_id)
    candidates = sorted(set(_db(ctx).execute(select(unbilled.subquery().c.encounter_id)).scalars()))
    encounters: dict[int, object] = {}
    lines: dict[int, list] = defaultdict(list)
    for chunk in chunked(candidates, _CHUNK):
        e = Encounter.__table__.c
        locked = select(
            e.id, e.patient_id, e.provider_id, e.location_id, e.date_of_service, e.claim_kind
        ).where(e.id.in_(chunk))
        for row in _db(ctx).execute(locked.order_by(e.id).with_for_update()).all():
            encounters[row.id] = row
        # Read again under the lock: what another build took meanwhile is gone.
        for row in (
            _db(ctx)
            .execute(
                unbilled.where(_C.encounter_id.in_(chunk)).order_by(_C.encounter_id, _C.line_number)
            )
            .all()
        ):
            lines[row.encounter_id].append(row)
    coverages = _primary_coverages(ctx, {e.patient_id for e in encounters.values()})
    groups, self_pay = [], []
    for encounter_id, charges in lines.items():
        encounter = encounters[encounter_id]
        coverage = _coverage_on(coverages.get(encounter.patient_id, ()), encounter.date_of_service)
        if coverage is None:
            self_pay += [c.id for c in charges]
        else:
            groups.append((encounter, coverage, charges))
    built = _insert_claims(ctx, groups, FREQ_ORIGINAL)
    audit.record(
        ctx,
        action="claim.build",
        patient_id=patient_id,
        detail={"claim_ids": [c.id for c in built][:500], "claims": len(built)},
    )
    return BuildResult(built, self_pay)


def build_followup_claims(ctx: Context, followups: Sequence[tuple[int, int]]) -> list[BuiltClaim]:
    """For each (adjudicated claim id, next coverage id): a claim of the same
    charges billed to that coverage (a secondary after a primary, a tertiary
    after a secondary), following the first through `prior_claim_id` so that
    its 837 carries the earlier payers' adjudication (2320/2330B, 2430). A claim
    that already has a live follow-up gets no second one. No permission check:
    remittance posting builds these, and checked its own."""
    table = Claim.__table__.c
    prior_ids = sorted({p for p, _ in followups})
    taken: set[int] = set()
    for chunk in chunked(prior_ids, _CHUNK):
        taken |= set(
            _db(ctx)
            .execute(
                select(table.prior_claim_id).where(
                    table.prior_claim_id.in_(chunk), table.status.not_in(NOT_LIVE)
                )
            )
            .scalars()
        )
    todo = [(p, cov) for p, cov in dict(followups).items() if p not in taken]
    if not todo:
        return []
    priors = _rows(ctx, Claim, [p for p, _ in todo])
    coverages = _rows(ctx, Coverage, [cov for _, cov in todo])
    encounters = _rows(ctx, Encounter, [c.encounter_id for c in priors.values()])
    charges: dict[int, list] = defaultdict(list)
    for chunk in chunked([p for p, _ in todo], _CHUNK):
        for row in _db(ctx).execute(
            select(_CL.claim_id, *_LINE_COLUMNS)
            .join_from(ClaimLine.__table__, Charge.__table__, _C.id == _CL.charge_id)
            .where(_CL.claim_id.in_(chunk), _C.status == "posted")
            .order_by(_CL.claim_id, _CL.line_number)
        ):
            charges[row.claim_id].append(row)
    todo = [(p, cov) for p, cov in todo if charges[p]]
    groups = [(encounters[priors[p].encounter_id], coverages[cov], charges[p]) for p, cov in todo]
    built = _insert_claims(ctx, groups, FREQ_ORIGINAL)
    # Each prior claim's lines fit one claim again (they did before).
    _db(ctx).execute(
        update(Claim.__table__)
        .where(table.id == bindparam("b_id"))
        .values(prior_claim_id=bindparam("b_prior")),
        [{"b_id": b.id, "b_prior": p} for b, (p, _) in zip(built, todo, strict=True)],
    )
    return built


def _primary_coverages(ctx: Context, patient_ids: set[int]) -> dict[int, list]:
    """Active primary coverages of these patients, newest first."""
    table = Coverage.__table__.c
    out: dict[int, list] = defaultdict(list)
    for chunk in chunked(sorted(patient_ids), _CHUNK):
        for row in (
            _db(ctx)
            .execute(
                select(
                    table.id,
                    table.patient_id,
                    table.payer_id,
                    table.effective_date,
                    table.termination_date,
                )
                .where(
                    table.practice_id == ctx.practice_id,
                    table.patient_id.in_(chunk),
                    table.priority == 1,
                    table.active.is_(True),
                )
                .order_by(table.patient_id, table.effective_date.desc())
            )
            .all()
        ):
            out[row.patient_id].append(row)
    return out


def _coverage_on(coverages, on: date):
    """The first of `coverages` in force on a date (same rule as
    `charges.primary_coverage`)."""
    return next(
        (
            c
            for c in coverages
            if c.effective_date <= on and (c.termination_date is None or c.termination_date >= on)
        ),
        None,
    )


def _insert_claims(
    ctx: Context,
    groups: list[tuple[object, object, list]],
    frequency: str,
    *,
    original: Claim | None = None,
    payer_claim_number: str | None = None,
) -> list[BuiltClaim]:
    """Claims for (encounter, coverage, charge lines) groups: each group packed
    into claims of at most MAX_LINES lines and 12 diagnoses, all written with a
    handful of statements."""
    diagnoses: dict[int, list[str]] = defaultdict(list)
    dx_table = EncounterDiagnosis.__table__.c
    for chunk in chunked(sorted({e.id for e, _, _ in groups}), _CHUNK):
        for encounter_id, code in _db(ctx).execute(
            select(dx_table.encounter_id, dx_table.code)
            .where(dx_table.encounter_id.in_(chunk))
            .order_by(dx_table.encounter_id, dx_table.position)
        ):
            diagnoses[encounter_id].append(code)
    now, user_id = ctx.clock.now(), ctx.user.id if ctx.user else None
    temporary = uuid4().hex[:8]  # unique placeholder numbers until the ids are known
    specs = []  # (claim row, its diagnoses, its lines as (charge, pointers))
    for encounter, coverage, charges in groups:
        dx = diagnoses[encounter.id]
        packs: list[tuple[list, list[str]]] = []
        for charge in charges:
            codes = [dx[int(p) - 1] for p in charge.diagnosis_pointers.split(",") if p]
            if packs:
                current, current_dx = packs[-1]
                merged = current_dx + [c for c in codes if c not in current_dx]
                if len(current) < MAX_LINES[encounter.claim_kind] and len(merged) <= MAX_DIAGNOSES:
                    current.append((charge, codes))
                    current_dx[:] = merged
                    continue
            packs.append(([(charge, codes)], list(dict.fromkeys(codes))))
        for pack, claim_dx in packs:
            claim_dx.sort(key=dx.index)  # principal first: the encounter's order
            row = {
                "practice_id": ctx.practice_id,
                "claim_number": f"t{temporary}{len(specs)}",  # the id-based number is set below
                "kind": encounter.claim_kind,
                "frequency": frequency,
                "original_claim_id": original.id if original else None,
                "payer_claim_number": payer_claim_number,
                "encounter_id": encounter.id,
                "patient_id": encounter.patient_id,
                "coverage_id": coverage.id,
                "payer_id": coverage.payer_id,
                "provider_id": encounter.provider_id,
                "location_id": encounter.location_id,
                "status": "draft",
                "total_cents": sum(c.amount_cents for c, _ in pack),
                "service_from": min(c.service_date for c, _ in pack),
                "service_to": max(c.service_date_end or c.service_date for c, _ in pack),
                "error_count": 0,
                "warning_count": 0,
                "submission_count": 0,
                "created_by_id": user_id,
                "created_at": now,
            }
            specs.append((row, claim_dx, pack))
    if not specs:
        return []
    table = Claim.__table__
    ids = (
        _db(ctx)
        .execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [row for row, _, _ in specs],
        )
        .scalars()
        .all()
    )
    padded = (
        func.printf("%08d", table.c.id)
        if ctx.session.get_bind().dialect.name == "sqlite"
        else func.lpad(
            func.cast(table.c.id, String),
            func.greatest(8, func.length(func.cast(table.c.id, String))),
            "0",
        )
    )
    for chunk in chunked(ids, _CHUNK):  # the claim number is the id, zero-padded to 8 digits
        _db(ctx).execute(update(table).where(table.c.id.in_(chunk)).values(claim_number=padded))
    insert_plain(
        ctx.session,
        ClaimDiagnosis.__table__,
        [
            {"claim_id": i, "position": n, "code": code}
            for i, (_, claim_dx, _) in zip(ids, specs, strict=True)
            for n, code in enumerate(claim_dx, start=1)
        ],
    )
    insert_plain(
        ctx.session,
        ClaimLine.__table__,
        [
            {
                "claim_id": i,
                "line_number": n,
                "charge_id": charge.id,
                "diagnosis_pointers": ",".join(str(claim_dx.index(c) + 1) for c in codes),
                "charge_cents": charge.amount_cents,
            }
            for i, (_, claim_dx, pack) in zip(ids, specs, strict=True)
            for n, (charge, codes) in enumerate(pack, start=1)
        ],
    )
    reason = _build_reason(frequency, original)
    _record_moves(ctx, [(i, "", "draft", reason) for i in ids])
    return [
        BuiltClaim(
            id=i,
            claim_number=f"{i:08d}",
            kind=row["kind"],
            frequency=frequency,
            encounter_id=row["encounter_id"],
            patient_id=row["patient_id"],
            coverage_id=row["coverage_id"],
            payer_id=row["payer_id"],
            total_cents=row["total_cents"],
            payer_claim_number=payer_claim_number,
        )
        for i, (row, _, _) in zip(ids, specs, strict=True)
    ]


def _build_reason(frequency: str, original: Claim | None) -> str:
    if frequency == FREQ_CORRECTED:
        return f"corrected claim for claim {original.claim_number}"
    if frequency == FREQ_VOID:
        return f"void of claim {original.claim_number}"
    return "built from posted charges"


# --- correct, void, discard ---------------------------------------------------------------
def correct_claim(
    ctx: Context, *, claim_id: int, payer_claim_number: str | None = None, reason: str = ""
) -> list[BuiltClaim]:
    """Replace a claim the payer has (frequency 7): new claims from the
    encounter's current posted charges, quoting the payer's claim number of the
    original. The original becomes "replaced"."""
    original = _claim(ctx, claim_id, lock=True)
    require(ctx, "claims:write", action="claim.correct", patient_id=original.patient_id)
    number = _payer_number(original, payer_claim_number)
    encounter = ctx.session.get(Encounter, original.encounter_id, with_for_update=True)
    lines = list(
        ctx.session.exec(
            select(Charge)
            .where(Charge.encounter_id == encounter.id, Charge.status == "posted")
            .order_by(Charge.line_number)
        )
    )
    if not lines:
        raise Conflict(
            f"encounter {encounter.id} has no posted charges left; void claim "
            f"{original.claim_number} instead"
        )
    coverage = ctx.session.get(Coverage, original.coverage_id)
    new = _insert_claims(
        ctx,
        [(encounter, coverage, lines)],
        FREQ_CORRECTED,
        original=original,
        payer_claim_number=number,
    )
    original.payer_claim_number = number
    transition(
        ctx,
        original,
        "replaced",
        f"replaced by claim {new[0].claim_number}" + (f": {reason}" if reason else ""),
    )
    audit.record(
        ctx,
        action="claim.correct",
        patient_id=original.patient_id,
        detail={"claim_id": original.id, "new_claim_ids": [c.id for c in new]},
    )
    return new


def void_claim(
    ctx: Context, *, claim_id: int, payer_claim_number: str | None = None, reason: str = ""
) -> BuiltClaim:
    """Ask the payer to cancel a claim it has (frequency 8): a new claim with the
    original's lines, quoting its payer claim number. The original becomes
    "voided"."""
    original = _claim(ctx, claim_id, lock=True)
    require(ctx, "claims:write", action="claim.void", patient_id=original.patient_id)
    number = _payer_number(original, payer_claim_number)
    encounter = ctx.session.get(Encounter, original.encounter_id)
    lines = [
        ctx.session.get(Charge, charge_id)
        for charge_id in ctx.session.exec(
            select(ClaimLine.charge_id)
            .where(ClaimLine.claim_id == original.id)
            .order_by(ClaimLine.line_number)
        )
    ]
    coverage = ctx.session.get(Coverage, original.coverage_id)
    (void,) = _insert_claims(
        ctx, [(encounter, coverage, lines)], FREQ_VOID, original=original, payer_claim_number=number
    )
    original.payer_claim_number = number
    transition(
        ctx,
        original,
        "voided",
        f"void claim {void.claim_number} made" + (f": {reason}" if reason else ""),
    )
    audit.record(
        ctx,
        action="claim.void",
        patient_id=original.patient_id,
        detail={"claim_id": original.id, "void_claim_id": void.id},
    )
    return void


def discard_claim(ctx: Context, *, claim_id: int, reason: str = "") -> Claim:
    """Drop a claim that was never sent (draft, scrubbed or ready): its charges
    become unbilled again, so the next build bills them afresh."""
    claim = _claim(ctx, claim_id, lock=True)
    require(ctx, "claims:write", action="claim.discard", patient_id=claim.patient_id)
    if claim.status not in UNSENT:
        raise Conflict(
            f"claim {claim.claim_number} is {claim.status}; only an unsent claim can be discarded"
        )
    transition(ctx, claim, "discarded", reason or "discarded before submission")
    audit.record(
        ctx, action="claim.discard", patient_id=claim.patient_id, detail={"claim_id": claim.id}
    )
    return claim


def _payer_number(original: Claim, given: str | None) -> str:
    if original.frequency == FREQ_VOID:
        raise Conflict(f"claim {original.claim_number} is itself a void")
    if original.status not in CORRECTABLE:
        raise Conflict(
            f"claim {original.claim_number} is {original.status}: the payer does not have it; "
            "fix it and scrub again, or discard it"
        )
    number = (given or original.payer_claim_number or "").strip()
    if not number:
        raise ValidationError(
            [
                FieldError(
                    "payer_claim_number",
                    "required",
                    f"the payer's claim number for claim {original.claim_number} is not on file; "
                    "give it (from the 277CA or the remittance)",
                )
            ]
        )
    if len(number) > 50:
        raise ValidationError([FieldError("payer_claim_number", "length", "at most 50 characters")])
    return number


# --- views ----------------------------------------------------------------------------------
def _db(ctx: Context):
    """The session's connection: bulk reads and writes of plain rows go through
    it, skipping the ORM's result machinery (same transaction)."""
    return ctx.session.connection()


def _rows(ctx: Context, model, ids: Iterable[int]) -> dict[int, object]:
    """Rows of `model`'s table by id, as plain rows (attribute access, no ORM),
    without the bookkeeping timestamps no claim needs."""
    table = model.__table__
    columns = [c for c in table.c if c.name not in ("created_at", "updated_at", "posted_at")]
    out: dict[int, object] = {}
    for chunk in chunked(sorted(set(ids)), _CHUNK):
        for row in _db(ctx).execute(select(*columns).where(table.c.id.in_(chunk))).all():
            out[row.id] = row
    return out


_CL = ClaimLine.__table__.c
_VIEW_LINE_COLUMNS = (
    _CL.claim_id,
    _CL.line_number,
    _CL.diagnosis_pointers.label("claim_pointers"),
    _CL.charge_cents,
    _C.id.label("charge_id"),
    _C.code,
    _C.modifier1,
    _C.modifier2,
    _C.modifier3,
    _C.modifier4,
    _C.units,
    _C.unit_basis,
    _C.service_date,
    _C.service_date_end,
    _C.place_of_service,
    _C.ndc,
    _C.ndc_quantity,
    _C.ndc_unit,
    _C.rendering_provider_id,
    _C.revenue_code,
)


def _address(row) -> Address | None:
    if not row.address1:
        return None
    return Address(row.address1, row.city, row.state, row.zip, row.address2 or None)


def _provider(p: Provider) -> ProviderView:
    return ProviderView(PersonName(p.last_name, p.first_name), p.npi, p.taxonomy)


def load_claim_views(ctx: Context, claim_ids: Sequence[int]) -> dict[int, ClaimView]:
    """ClaimViews for `claim_ids`, loaded in bulk (a few queries per 2,000 claims,
    never one per claim). No permission check: callers check theirs."""
    claims = _rows(ctx, Claim, claim_ids)
    if not claims:
        return {}
    practice = ctx.session.get(Practice, ctx.practice_id)
    billing = ProviderView(
        PersonName(practice.name),
        practice.group_npi,
        practice.taxonomy,
        tin=practice.tin,
        address=_address(practice),
        phone=practice.phone,
    )
    lines_by_claim: dict[int, list] = defaultdict(list)
    dx_by_claim: dict[int, list[str]] = defaultdict(list)
    dx_table = ClaimDiagnosis.__table__.c
    for chunk in chunked(list(claims), _CHUNK):
        for row in (
            _db(ctx)
            .execute(
                select(*_VIEW_LINE_COLUMNS)
                .join_from(ClaimLine.__table__, Charge.__table__, _C.id == _CL.charge_id)
                .where(_CL.claim_id.in_(chunk))
                .order_by(_CL.claim_id, _CL.line_number)
            )
            .all()
        ):
            lines_by_claim[row[0]].append(row)
        for claim_id, code in _db(ctx).execute(
            select(dx_table.claim_id, dx_table.code)
            .where(dx_table.claim_id.in_(chunk))
            .order_by(dx_table.claim_id, dx_table.position)
        ):
            dx_by_claim[claim_id].append(code)
    encounters = _rows(ctx, Encounter, (c.encounter_id for c in claims.values()))
    patients = _rows(ctx, Patient, (c.patient_id for c in claims.values()))
    coverages = _rows(ctx, Coverage, (c.coverage_id for c in claims.values()))
    others = _coverages_by_patient(ctx, {c.patient_id for c in claims.values()})
    payer_ids = {c.payer_id for c in claims.values()}
    payer_ids |= {o.payer_id for covs in others.values() for o in covs}
    payers = _rows(ctx, Payer, payer_ids)
    provider_ids = {c.provider_id for c in claims.values()}
    provider_ids |= {e.attending_provider_id for e in encounters.values()} - {None}
    provider_ids |= {ln.rendering_provider_id for ls in lines_by_claim.values() for ln in ls}
    provider_ids -= {None}
    providers = {pid: _provider(p) for pid, p in _rows(ctx, Provider, provider_ids).items()}
    locations = _rows(ctx, Location, (c.location_id for c in claims.values()))
    payer_views = {pid: _payer(p) for pid, p in payers.items()}
    facilities = {lid: _facility(loc, practice) for lid, loc in locations.items()}
    units = {row.charge_id: row.units for ls in lines_by_claim.values() for row in ls}
    adjudicated = _adjudications(ctx, claims.values(), units)
    views = {}
    for claim in claims.values():
        encounter = encounters[claim.encounter_id]
        patient = patients[claim.patient_id]
        coverage = coverages[claim.coverage_id]
        payer = payers[claim.payer_id]
        rendering = providers[claim.provider_id]
        views[claim.id] = ClaimView(
            claim_id=claim.id,
            claim_number=claim.claim_number,
            kind=claim.kind,
            frequency=claim.frequency,
            total_cents=claim.total_cents,
            place_of_service=encounter.place_of_service,
            billing=billing,
            subscriber=_subscriber(coverage, patient, payer),
            payer=payer_views[claim.payer_id],
            patient=None if coverage.relationship == "self" else _member(patient),
            diagnoses=tuple(dx_by_claim[claim.id]),
            lines=tuple(_line(ln, providers, claim.provider_id) for ln in lines_by_claim[claim.id]),
            rendering=rendering if claim.kind == "837P" else None,
            referring=_referring(encounter),
            facility=facilities[claim.location_id],
            payer_claim_number=claim.payer_claim_number
            if claim.frequency in (FREQ_CORRECTED, FREQ_VOID)
            else None,
            prior_authorization=encounter.prior_authorization,
            onset_date=encounter.onset_date,
            institutional=_institutional(encounter, claim, providers),
            other_payers=tuple(
                OtherPayerView(
                    _subscriber(o, patient, payers[o.payer_id]),
                    payer_views[o.payer_id],
                    **adjudicated.get((claim.id, o.id), {}),
                )
                for o in others.get(claim.patient_id, ())
                if o.id != coverage.id
                and o.effective_date <= claim.service_from
                and (o.termination_date is None or o.termination_date >= claim.service_from)
            ),
            patient_id=claim.patient_id,
            payer_db_id=claim.payer_id,
            coverage_id=claim.coverage_id,
        )
    return views


def _adjudications(ctx: Context, claims: Iterable, units: dict) -> dict[tuple[int, int], dict]:
    """(claim id, other coverage id) -> what that coverage's payer decided, for
    claims that follow others (`prior_claim_id`, walked back to the primary):
    the OtherPayerView fields from the latest posted remittance of each earlier
    claim (a reversal does not count), with its lines' adjudication (2430)."""
    from pms_core.models import Remittance, RemittanceAdjustment, RemittanceClaim, RemittanceLine

    chains: dict[int, list[int]] = {}
    known = {c.id: c for c in claims}
    step = {c.id: c.prior_claim_id for c in claims if c.prior_claim_id}
    for claim_id in step:
        chain, at = [], step[claim_id]
        while at is not None and at not in chain:
            if at not in known:
                known.update(_rows(ctx, Claim, [at]))
            chain.append(at)
            at = known[at].prior_claim_id if at in known else None
        chains[claim_id] = chain
    earlier = sorted({i for chain in chains.values() for i in chain})
    if not earlier:
        return {}
    latest: dict[int, RemittanceClaim] = {}
    for chunk in chunked(earlier, _CHUNK):
        for row in ctx.session.exec(
            sa_select(RemittanceClaim)
            .where(
                RemittanceClaim.claim_id.in_(chunk),
                RemittanceClaim.status.in_(("posted", "matched")),
                RemittanceClaim.status_code != "22",
            )
            .order_by(RemittanceClaim.id)
        ).scalars():
            latest[row.claim_id] = row
    rows = {r.id: r for r in latest.values()}
    dates = dict(
        ctx.session.execute(
            sa_select(Remittance.id, Remittance.payment_date).where(
                Remittance.id.in_({r.remittance_id for r in rows.values()})
            )
        ).all()
    )
    lines: dict[int, list] = defaultdict(list)
    adjustments: dict[tuple[int, int | None], list[Adjustment]] = defaultdict(list)
    for chunk in chunked(sorted(rows), _CHUNK):
        for ln in ctx.session.exec(
            sa_select(RemittanceLine)
            .where(RemittanceLine.remittance_claim_id.in_(chunk))
            .order_by(RemittanceLine.position)
        ).scalars():
            lines[ln.remittance_claim_id].append(ln)
        for a in ctx.session.exec(
            sa_select(RemittanceAdjustment)
            .where(RemittanceAdjustment.remittance_claim_id.in_(chunk))
            .order_by(RemittanceAdjustment.id)
        ).scalars():
            adjustments[(a.remittance_claim_id, a.remittance_line_id)].append(
                Adjustment(a.group_code, a.reason, a.amount_cents, a.quantity)
            )
    out: dict[tuple[int, int], dict] = {}
    for claim_id, chain in chains.items():
        for prior_id in chain:
            remit = latest.get(prior_id)
            if remit is None:
                continue
            day = dates.get(remit.remittance_id) or remit.matched_at.date()
            out[(claim_id, known[prior_id].coverage_id)] = dict(
                paid_cents=remit.paid_cents,
                adjustments=tuple(adjustments[(remit.id, None)]),
                adjudicated=day,
                payer_claim_number=remit.payer_claim_number,
                line_adjudications=tuple(
                    LineAdjudication(
                        line_control_number=str(ln.charge_id),
                        paid_cents=ln.paid_cents,
                        code=ln.procedure,
                        modifiers=tuple(m for m in ln.modifiers.split(",") if m),
                        units=ln.units
                        if ln.units is not None
                        else units.get(ln.charge_id, Decimal(1)),
                        adjudicated=day,
                        adjustments=tuple(adjustments[(remit.id, ln.id)]),
                    )
                    for ln in lines[remit.id]
                    if ln.charge_id is not None
                ),
            )
    return out


def _coverages_by_patient(ctx: Context, patient_ids: set[int]) -> dict[int, list]:
    """Every active coverage of these patients, by patient, in priority order."""
    table = Coverage.__table__.c
    out: dict[int, list] = defaultdict(list)
    for chunk in chunked(sorted(patient_ids), _CHUNK):
        columns = [c for c in Coverage.__table__.c if c.name != "created_at"]
        for row in (
            _db(ctx)
            .execute(
                select(*columns)
                .where(table.patient_id.in_(chunk), table.active.is_(True))
                .order_by(table.patient_id, table.priority)
            )
            .all()
        ):
            out[row.patient_id].append(row)
    return out


def _member(p: Patient) -> MemberView:
    return MemberView(
        PersonName(p.last_name, p.first_name, p.middle_name, p.suffix), p.dob, p.sex, _address(p)
    )


def _subscriber(coverage: Coverage, patient: Patient, payer: Payer) -> SubscriberView:
    if coverage.relationship == "self":
        member = _member(patient)
    else:
        member = MemberView(
            PersonName(coverage.subscriber_last_name or "", coverage.subscriber_first_name),
            coverage.subscriber_dob,
            coverage.subscriber_sex,
            None,
        )
    return SubscriberView(
        member=member,
        member_id=coverage.member_id,
        group_number=coverage.group_number,
        plan_name=coverage.plan_name,
        responsibility=RESPONSIBILITY.get(coverage.priority, "T"),
        claim_filing_indicator=payer.claim_filing_indicator,
        relationship=SUBSCRIBER_RELATIONSHIPS.get(coverage.relationship, "G8"),
        coverage_effective=coverage.effective_date,
        coverage_termination=coverage.termination_date,
    )


def _payer(payer: Payer) -> PayerView:
    return PayerView(payer.name, payer.edi_payer_id, _address(payer))


def _referring(encounter: Encounter) -> ProviderView | None:
    if not encounter.referring_npi:
        return None
    return ProviderView(
        PersonName(encounter.referring_last_name or "", encounter.referring_first_name),
        encounter.referring_npi,
    )


def _facility(location: Location, practice: Practice) -> ProviderView | None:
    """The service location, when it is not the billing provider's address."""
    if (location.address1, location.zip) == (practice.address1, practice.zip):
        return None
    return ProviderView(PersonName(location.name), location.npi, address=_address(location))


def _institutional(encounter: Encounter, claim: Claim, providers) -> InstitutionalView | None:
    if claim.kind != "837I":
        return None
    return InstitutionalView(
        type_of_bill=encounter.type_of_bill or "",
        statement_from=claim.service_from,
        statement_to=max(claim.service_to, encounter.statement_to or claim.service_to),
        admission_type=encounter.admission_type,
        admission_source=encounter.admission_source,
        patient_status=encounter.patient_status or "",
        attending=providers.get(encounter.attending_provider_id),
        admission_date=encounter.admission_date,
    )


def _line(row, providers, claim_provider_id) -> LineView:
    """A claim line (a row of `_VIEW_LINE_COLUMNS`) as the 837 sees it."""
    (
        _,
        line_number,
        pointers,
        charge_cents,
        charge_id,
        code,
        m1,
        m2,
        m3,
        m4,
        units,
        unit_basis,
        service_date,
        service_date_end,
        place_of_service,
        ndc,
        ndc_quantity,
        ndc_unit,
        rendering_id,
        revenue_code,
    ) = row
    return LineView(
        line_number=line_number,
        control_number=str(charge_id),
        code=code,
        modifiers=tuple(m for m in (m1, m2, m3, m4) if m),
        charge_cents=charge_cents,
        units=units,
        unit_basis=unit_basis,
        service_date=service_date,
        service_date_end=service_date_end,
        place_of_service=place_of_service,
        diagnosis_pointers=tuple(map(int, pointers.split(","))) if pointers else (),
        ndc=ndc,
        ndc_quantity=ndc_quantity,
        ndc_unit=ndc_unit,
        rendering=providers[rendering_id]
        if rendering_id and rendering_id != claim_provider_id
        else None,
        revenue_code=revenue_code,
        charge_id=charge_id,
    )


# --- scrubbing ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScrubOutcome:
    claim_id: int
    claim_number: str
    status: str
    findings: list[Finding]


def scrub_rules(ctx: Context) -> list:
    return contributions(ctx.pm, "register_scrub_rules")


def payer_profiles(ctx: Context) -> list[PayerProfile]:
    return contributions(ctx.pm, "register_payer_profiles")


def scrub_claims(ctx: Context, *, claim_ids: Sequence[int] | None = None) -> list[ScrubOutcome]:
    """Scrub the given claims (default: every draft, scrubbed and ready claim)
    with every registered rule, store the findings, and move each claim to
    "ready" or "scrubbed". A claim already sent is not scrubbed again. The
    claims are locked, read and written in bulk."""
    require(ctx, "claims:write", action="claim.scrub")
    table = Claim.__table__
    query = select(table).where(table.c.practice_id == ctx.practice_id, table.c.status.in_(UNSENT))
    claims: list = []
    if claim_ids is None:
        claims = list(_db(ctx).execute(query.order_by(table.c.id).with_for_update()))
    else:
        for chunk in chunked(sorted(set(claim_ids)), _CHUNK):
            claims += (
                _db(ctx)
                .execute(query.where(table.c.id.in_(chunk)).order_by(table.c.id).with_for_update())
                .all()
            )
        missing = set(claim_ids) - {c.id for c in claims}
        if missing:
            raise NotFound(
                f"claim id {min(missing)} not found or not scrubbable (only unsent claims are)"
            )
    if not claims:
        return []
    views = load_claim_views(ctx, [c.id for c in claims])
    rules = scrub_rules(ctx)
    profiles = payer_profiles(ctx)
    base = ScrubContext(
        today=ctx.today(),
        duplicates=_duplicates(ctx, claims),
        first_submitted=_first_submitted(ctx, claims),
        modifiers=charge_service.known_modifiers(ctx),
        procedure_codes=charge_service.known_procedure_codes(ctx),
    )
    contexts: dict[str, ScrubContext] = {}
    outcomes, finding_rows, updates, moves = [], [], [], []
    now = ctx.clock.now()
    for claim in claims:
        view = views[claim.id]
        context = contexts.get(view.payer.payer_id)
        if context is None:
            profile = profile_for(profiles, view.payer.payer_id)
            context = contexts[view.payer.payer_id] = replace(base, profile=profile)
        found: list[Finding] = []
        for rule in rules:
            found.extend(rule(view, context))
        if context.profile is not None:
            for rule in context.profile.rules:
                found.extend(rule(view, context))
        errors = sum(1 for f in found if f.severity == Severity.ERROR)
        to_status = "scrubbed" if errors else "ready"
        updates.append(
            {
                "claim_id": claim.id,
                "status": to_status,
                "errors": errors,
                "warnings": len(found) - errors,
                "at": now,
            }
        )
        if to_status != claim.status:
            moves.append(
                (
                    claim.id,
                    claim.status,
                    to_status,
                    f"scrubbed: {errors} error(s), {len(found) - errors} warning(s)",
                )
            )
        finding_rows += [
            {
                "claim_id": claim.id,
                "code": f.code[:40],
                "severity": str(f.severity),
                "field": f.field[:80],
                "message": f.message[:300],
                "line_number": f.line,
            }
            for f in found
        ]
        outcomes.append(ScrubOutcome(claim.id, claim.claim_number, to_status, found))
    findings = ClaimFinding.__table__
    for chunk in chunked([c.id for c in claims], _CHUNK):
        _db(ctx).execute(findings.delete().where(findings.c.claim_id.in_(chunk)))
    if finding_rows:
        _db(ctx).execute(insert(findings), finding_rows)
    _db(ctx).execute(
        update(table)
        .where(table.c.id == bindparam("claim_id"))
        .values(
            status=bindparam("status"),
            error_count=bindparam("errors"),
            warning_count=bindparam("warnings"),
            scrubbed_at=bindparam("at"),
        ),
        updates,
    )
    _record_moves(ctx, moves)
    ctx.session.expire_all()  # Claim objects loaded earlier in this session are stale now
    audit.record(
        ctx,
        action="claim.scrub",
        detail={
            "claims": len(outcomes),
            "ready": sum(o.status == "ready" for o in outcomes),
            "claim_ids": [o.claim_id for o in outcomes][:500],
        },
    )
    return outcomes


def _duplicates(ctx: Context, claims: list) -> dict[int, tuple[int, ...]]:
    """Claim id -> other live claims (not replaced/voided/discarded, not voids) of
    the same patient and payer with the same date of service and codes."""
    keys: dict[int, tuple] = {}
    codes: dict[int, list[str]] = defaultdict(list)
    ids = [c.id for c in claims]
    patients = sorted({c.patient_id for c in claims})
    table = Claim.__table__.c
    candidates: list = []
    for chunk in chunked(patients, _CHUNK):
        candidates += (
            _db(ctx)
            .execute(
                select(table.id, table.patient_id, table.payer_id, table.service_from).where(
                    table.practice_id == ctx.practice_id,
                    table.patient_id.in_(chunk),
                    table.status.not_in(NOT_LIVE),
                    table.frequency == FREQ_ORIGINAL,
                )
            )
            .all()
        )
    by_id = {c.id: c for c in candidates}
    for chunk in chunked(sorted(by_id), _CHUNK):
        for claim_id, code in _db(ctx).execute(
            sa_select(ClaimLine.claim_id, Charge.code)
            .join(Charge, Charge.id == ClaimLine.charge_id)
            .where(ClaimLine.claim_id.in_(chunk))
        ):
            codes[claim_id].append(code)
    for c in candidates:
        keys[c.id] = (c.patient_id, c.payer_id, c.service_from, tuple(sorted(codes[c.id])))
    groups: dict[tuple, list[int]] = defaultdict(list)
    for claim_id, key in keys.items():
        groups[key].append(claim_id)
    out = {}
    for claim_id in ids:
        key = keys.get(claim_id)
        if key is None:
            continue
        others = tuple(i for i in groups[key] if i != claim_id)
        if others:
            out[claim_id] = others
    return out


def _first_submitted(ctx: Context, claims: list) -> dict[int, date]:
    """For timely filing: when the claim, or the original it corrects, first went out."""
    out = {}
    originals = _rows(ctx, Claim, (c.original_claim_id for c in claims if c.original_claim_id))
    zone = ctx.zone()
    for claim in claims:
        first = claim.first_submitted_at
        original = originals.get(claim.original_claim_id)
        if original is not None and original.first_submitted_at is not None:
            first = original.first_submitted_at
        if first is not None:
            out[claim.id] = first.astimezone(zone).date()
    return out


# --- reading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClaimRow:
    id: int
    claim_number: str
    status: str
    kind: str
    frequency: str
    patient_id: int
    account_number: str
    patient_name: str
    payer_name: str
    service_from: date
    total_cents: int
    error_count: int
    warning_count: int
    submitted_at: datetime | None


def list_claims(
    ctx: Context,
    *,
    worklist: str | None = None,
    status: str | None = None,
    patient_id: int | None = None,
    payer_id: int | None = None,
    limit: int = 500,
) -> list[ClaimRow]:
    """Claims of a worklist (see WORKLISTS) or status, newest first."""
    require(ctx, "claims:read", action="claim.list", patient_id=patient_id)
    if worklist is not None and worklist not in WORKLISTS:
        raise ValidationError([FieldError("worklist", "choice", f"one of {', '.join(WORKLISTS)}")])
    query = (
        select(Claim, Patient.account_number, Patient.last_name, Patient.first_name, Payer.name)
        .join(Patient, Patient.id == Claim.patient_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(Claim.practice_id == ctx.practice_id)
    )
    if worklist is not None:
        query = query.where(col(Claim.status).in_(WORKLISTS[worklist]))
    if status is not None:
        query = query.where(Claim.status == status)
    if patient_id is not None:
        query = query.where(Claim.patient_id == patient_id)
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    rows = [
        ClaimRow(
            c.id,
            c.claim_number,
            c.status,
            c.kind,
            c.frequency,
            c.patient_id,
            account,
            f"{last}, {first}",
            payer,
            c.service_from,
            c.total_cents,
            c.error_count,
            c.warning_count,
            c.submitted_at,
        )
        for c, account, last, first, payer in ctx.session.exec(
            query.order_by(col(Claim.id).desc()).limit(limit)
        )
    ]
    audit.record_read(
        ctx,
        action="claim.list",
        patient_id=patient_id,
        detail={"patient_ids": sorted({r.patient_id for r in rows})[:500], "results": len(rows)},
    )
    return rows


def worklist_counts(ctx: Context) -> dict[str, int]:
    """How many claims each worklist holds (no PHI: not audited as a read)."""
    require(ctx, "claims:read", action="claim.counts")
    counts = dict(
        ctx.session.exec(
            select(Claim.status, func.count())
            .where(Claim.practice_id == ctx.practice_id)
            .group_by(Claim.status)
        ).all()
    )
    return {name: sum(counts.get(s, 0) for s in statuses) for name, statuses in WORKLISTS.items()}


@dataclass(frozen=True)
class ClaimDetail:
    claim: Claim
    view: ClaimView
    findings: list[ClaimFinding]
    events: list[ClaimEvent]
    batches: list[SubmissionBatch]
    x12: str | None  # this claim's part of the last file it went out in
    usernames: dict[int, str]  # who acted in `events`, by user id


def get_claim(
    ctx: Context, *, claim_id: int | None = None, number: str | None = None
) -> ClaimDetail:
    """A claim with its lines, findings, history and the X12 it went out as."""
    if number is not None:
        found = ctx.session.exec(
            select(Claim.id).where(
                Claim.practice_id == ctx.practice_id, Claim.claim_number == number
            )
        ).first()
        if found is None:
            raise NotFound(f"claim {number} not found")
        claim_id = found
    claim = _claim(ctx, claim_id)
    require(ctx, "claims:read", action="claim.read", patient_id=claim.patient_id)
    view = load_claim_views(ctx, [claim.id])[claim.id]
    findings = list(
        ctx.session.exec(
            select(ClaimFinding).where(ClaimFinding.claim_id == claim.id).order_by(ClaimFinding.id)
        )
    )
    events = list(
        ctx.session.exec(
            select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)
        )
    )
    batches = list(
        ctx.session.exec(
            select(SubmissionBatch)
            .join(BatchClaim, BatchClaim.batch_id == SubmissionBatch.id)
            .where(BatchClaim.claim_id == claim.id)
            .order_by(SubmissionBatch.id)
        )
    )
    user_ids = sorted({e.user_id for e in events} - {None})
    usernames = dict(
        ctx.session.exec(select(User.id, User.username).where(col(User.id).in_(user_ids))).all()
    )
    sent = [b for b in batches if b.status != "held"] or batches
    x12 = claim_segments(sent[-1].content, claim.claim_number) if sent else None
    audit.record_read(
        ctx, action="claim.read", patient_id=claim.patient_id, detail={"claim_id": claim.id}
    )
    return ClaimDetail(claim, view, findings, events, batches, x12, usernames)


def claim_segments(content: str, claim_number: str) -> str | None:
    """The segments of one claim in an 837 file: its subscriber (and patient)
    HL loops and its 2300 loop with lines, one segment per line."""
    if len(content) < 106:
        return None
    element, terminator = content[3], content[105]
    segments = [s.strip() for s in content.split(terminator) if s.strip()]
    start = next(
        (i for i, s in enumerate(segments) if s.startswith(f"CLM{element}{claim_number}{element}")),
        None,
    )
    if start is None:
        return None
    first = start
    for i in range(start - 1, -1, -1):  # back to the subscriber HL (level 22)
        parts = segments[i].split(element)
        if parts[0] == "HL":
            first = i
            if len(parts) > 3 and parts[3] in ("22", "20"):
                break
    end = len(segments)
    for i in range(start + 1, len(segments)):
        tag = segments[i].split(element, 1)[0]
        if tag in ("CLM", "HL", "SE"):
            end = i
            break
    return "\n".join(s + terminator for s in segments[first:end])


def _claim(ctx: Context, claim_id: int | None, *, lock: bool = False) -> Claim:
    claim = ctx.session.get(Claim, claim_id, with_for_update=lock or None) if claim_id else None
    if claim is None or claim.practice_id != ctx.practice_id:
        raise NotFound(f"claim id {claim_id} not found")
    return claim


__all__ = [
    "WORKLISTS",
    "BuildResult",
    "ClaimDetail",
    "ClaimRow",
    "ScrubOutcome",
    "build_claims",
    "correct_claim",
    "discard_claim",
    "get_claim",
    "list_claims",
    "load_claim_views",
    "scrub_claims",
    "transition",
    "void_claim",
    "worklist_counts",
]
