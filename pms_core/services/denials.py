"""The denial worklist: charges a payer denied whose balance is still with it.

A denial is a charge of a posted claim payment that the payer paid nothing for
and left nothing to the patient (`remittance_line.denied`), or every charge of
a claim the payer denied whole without line detail (CLP02 4). It stays on the
list while the payer's coverage still carries a balance for that charge and no
biller has resolved it: written it off, moved it to the patient, or corrected
and resubmitted the claim. An appeal keeps it on the list, marked appealed.

Reasons are the CARC and RARC in words; the timely-filing deadline is the date
of service plus the payer profile's limit (`register_payer_profiles`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from pms_core import audit, ledger
from pms_core.adjustment_codes import adjustment_words, rarc_words
from pms_core.context import Context
from pms_core.errors import Conflict, FieldError, NotFound, ValidationError
from pms_core.ledger import Account, Entry, Line
from pms_core.models import (
    Charge,
    Claim,
    ClaimLine,
    DenialAction,
    Payer,
    Posting,
    Remittance,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceLine,
)
from pms_core.money import Money
from pms_core.permissions import require
from pms_core.scrub import profile_for

RESOLVING = ("writeoff", "transfer", "resubmit")


@dataclass
class Denial:
    remittance_claim_id: int
    charge_id: int
    claim_id: int
    claim_number: str
    patient_id: int
    payer_id: int
    payer_name: str
    code: str
    service_date: date
    billed_cents: int
    open_cents: int  # what the payer's coverage still carries for the charge
    reason: str  # the main CARC: "CO-50"
    reasons: list[tuple[str, int, str]]  # (group-CARC, amount, words)
    remarks: list[tuple[str, str]]  # (RARC, words)
    denied_on: date | None
    timely_deadline: date
    appealed: date | None = None


@dataclass
class DenialGroup:
    payer_name: str
    reason: str
    words: str
    denials: list[Denial] = field(default_factory=list)

    @property
    def open_cents(self) -> int:
        return sum(d.open_cents for d in self.denials)


def _insurance_open(ctx: Context, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(charge id, coverage id) -> the insurance A/R balance still open."""
    if not pairs:
        return {}
    charge_ids = sorted({c for c, _ in pairs})
    rows = ctx.session.exec(
        select(Posting.charge_id, Posting.coverage_id, func.sum(Posting.amount_cents))
        .where(
            Posting.practice_id == ctx.practice_id,
            Posting.account == Account.AR_INSURANCE.value,
            col(Posting.charge_id).in_(charge_ids),
        )
        .group_by(Posting.charge_id, Posting.coverage_id)
    ).all()
    return {(c, cov): int(total) for c, cov, total in rows if (c, cov) in pairs}


def _candidates(ctx: Context) -> list[tuple[RemittanceClaim, int, int | None, str]]:
    """(claim payment, charge id, remittance line id or None, the line's RARCs)
    of every denial."""
    out = []
    lines = ctx.session.exec(
        select(RemittanceClaim, RemittanceLine.charge_id, RemittanceLine.id, RemittanceLine.remarks)
        .join(RemittanceLine, RemittanceLine.remittance_claim_id == RemittanceClaim.id)
        .where(
            RemittanceClaim.practice_id == ctx.practice_id,
            col(RemittanceClaim.claim_id).is_not(None),
            col(RemittanceLine.denied),
            col(RemittanceLine.charge_id).is_not(None),
        )
    ).all()
    out += list(lines)
    whole = ctx.session.exec(
        select(RemittanceClaim, ClaimLine.charge_id)
        .join(ClaimLine, ClaimLine.claim_id == RemittanceClaim.claim_id)
        .where(
            RemittanceClaim.practice_id == ctx.practice_id,
            RemittanceClaim.status_code == "4",
            RemittanceClaim.paid_cents == 0,
            ~select(RemittanceLine.id)
            .where(RemittanceLine.remittance_claim_id == RemittanceClaim.id)
            .exists(),
        )
    ).all()
    out += [(rc, charge_id, None, "") for rc, charge_id in whole]
    return out


def list_denials(
    ctx: Context, *, payer_id: int | None = None, reason: str | None = None
) -> list[DenialGroup]:
    """Open denials grouped by payer and main reason, largest open amount first."""
    require(ctx, "claims:read", action="denial.list")
    from pms_core.services.claims import payer_profiles

    candidates = _candidates(ctx)
    claims = {
        c.id: c
        for c in ctx.session.exec(
            select(Claim).where(col(Claim.id).in_({rc.claim_id for rc, *_ in candidates}))
        )
    }
    actions: dict[tuple[int, int], list[DenialAction]] = defaultdict(list)
    for a in ctx.session.exec(
        select(DenialAction).where(DenialAction.practice_id == ctx.practice_id)
    ):
        actions[(a.remittance_claim_id, a.charge_id)].append(a)
    open_amounts = _insurance_open(
        ctx, {(charge_id, claims[rc.claim_id].coverage_id) for rc, charge_id, *_ in candidates}
    )
    payers = {p.id: p for p in ctx.session.exec(select(Payer))}
    charges = {
        c.id: c
        for c in ctx.session.exec(
            select(Charge).where(col(Charge.id).in_({cid for _, cid, *_ in candidates}))
        )
    }
    adjustments = _adjustments(ctx, {rc.id for rc, *_ in candidates})
    remits = {
        r.id: r
        for r in ctx.session.exec(
            select(Remittance).where(
                col(Remittance.id).in_({rc.remittance_id for rc, *_ in candidates})
            )
        )
    }
    profiles = payer_profiles(ctx)
    groups: dict[tuple[str, str], DenialGroup] = {}
    for rc, charge_id, line_id, line_remarks in candidates:
        claim = claims[rc.claim_id]
        done = actions[(rc.id, charge_id)]
        open_cents = open_amounts.get((charge_id, claim.coverage_id), 0)
        if open_cents <= 0 or any(a.action in RESOLVING for a in done):
            continue
        if payer_id is not None and claim.payer_id != payer_id:
            continue
        own = adjustments.get((rc.id, line_id), []) or adjustments.get((rc.id, None), [])
        reasons = [
            (f"{a.group_code}-{a.reason}", a.amount_cents,
             adjustment_words(a.group_code, a.reason, ctx.session))
            for a in own
        ]  # fmt: skip
        main = max(reasons, key=lambda r: r[1])[0] if reasons else "none"
        if reason is not None and main != reason and main.split("-")[-1] != reason:
            continue
        payer = payers[claim.payer_id]
        profile = profile_for(profiles, payer.edi_payer_id)
        days = profile.timely_filing_days if profile else 365
        charge = charges[charge_id]
        remark_codes = {r for r in f"{rc.remarks},{line_remarks}".split(",") if r}
        denial = Denial(
            remittance_claim_id=rc.id,
            charge_id=charge_id,
            claim_id=claim.id,
            claim_number=claim.claim_number,
            patient_id=claim.patient_id,
            payer_id=claim.payer_id,
            payer_name=payer.name,
            code=charge.code,
            service_date=charge.service_date,
            billed_cents=charge.amount_cents,
            open_cents=open_cents,
            reason=main,
            reasons=reasons,
            remarks=sorted(rarc_words(remark_codes, ctx.session).items()),
            denied_on=remits[rc.remittance_id].payment_date,
            timely_deadline=(charge.service_date_end or charge.service_date) + timedelta(days=days),
            appealed=max((a.at.date() for a in done if a.action == "appeal"), default=None),
        )
        key = (payer.name, main)
        group = groups.get(key)
        if group is None:
            words = reasons[[r[0] for r in reasons].index(main)][2] if reasons else ""
            group = groups[key] = DenialGroup(payer.name, main, words)
        group.denials.append(denial)
    audit.record_read(ctx, action="denial.list", detail={"groups": len(groups)})
    return sorted(groups.values(), key=lambda g: (-g.open_cents, g.payer_name, g.reason))


def _adjustments(ctx: Context, claim_row_ids: set[int]) -> dict[tuple, list]:
    out: dict[tuple, list] = defaultdict(list)
    if not claim_row_ids:
        return out
    for a in ctx.session.exec(
        select(RemittanceAdjustment)
        .where(col(RemittanceAdjustment.remittance_claim_id).in_(claim_row_ids))
        .order_by(RemittanceAdjustment.id)
    ):
        if a.group_code != "PR":
            out[(a.remittance_claim_id, a.remittance_line_id)].append(a)
    return out


# --- working a denial ----------------------------------------------------------------------
def _denial(ctx: Context, remittance_claim_id: int, charge_id: int) -> Denial:
    for group in list_denials(ctx):
        for d in group.denials:
            if (d.remittance_claim_id, d.charge_id) == (remittance_claim_id, charge_id):
                return d
    raise NotFound(f"no open denial of charge {charge_id} in claim payment {remittance_claim_id}")


def _note(text: str, label: str) -> str:
    text = " ".join((text or "").split())
    if not text or len(text) > 300:
        raise ValidationError([FieldError(label, "required", "1 to 300 characters")])
    return text


def _record(ctx: Context, d: Denial, action: str, note: str, amount=0, entry_id=None):
    row = DenialAction(
        practice_id=ctx.practice_id,
        remittance_claim_id=d.remittance_claim_id,
        charge_id=d.charge_id,
        action=action,
        note=note,
        amount_cents=amount,
        entry_id=entry_id,
        user_id=ctx.user.id,
        at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(
        ctx,
        action=f"denial.{action}",
        patient_id=d.patient_id,
        detail={"denial_action_id": row.id, "charge_id": d.charge_id, "entry_id": entry_id},
    )
    return row


def appeal(ctx: Context, *, remittance_claim_id: int, charge_id: int, note: str):
    """Record that the denial was appealed (it stays on the list, marked)."""
    require(ctx, "claims:write", action="denial.appeal")
    note = _note(note, "note")
    return _record(ctx, _denial(ctx, remittance_claim_id, charge_id), "appeal", note)


def _move_open_balance(
    ctx: Context, remittance_claim_id: int, charge_id: int, action: str, to: Account, note: str
) -> DenialAction:
    """Post the denied charge's open insurance balance to `to` (the patient, or
    a write-off) and record the `action` with the entry."""
    d = _denial(ctx, remittance_claim_id, charge_id)
    claim = ctx.session.get(Claim, d.claim_id)
    common = dict(
        patient_id=d.patient_id, charge_id=d.charge_id, reason=f"{action}:{d.reason}"[:20]
    )
    lines = [
        Line(Account.AR_INSURANCE, Money(-d.open_cents), coverage_id=claim.coverage_id,
             payer_id=claim.payer_id, **common),
        Line(to, Money(d.open_cents), **({} if to == Account.AR_PATIENT else
                                          {"payer_id": claim.payer_id}), **common),
    ]  # fmt: skip
    memo = f"denied charge {d.charge_id}: {note}"[:200]
    (entry_id,) = ledger.post_many(ctx, [Entry(ctx.today(), f"denial_{action}", lines, memo)])
    return _record(ctx, d, action, note, d.open_cents, entry_id)


def write_off(ctx: Context, *, remittance_claim_id: int, charge_id: int, reason: str):
    """Write off what the payer still carries for a denied charge, with the
    reason (`ledger:writeoff`)."""
    require(ctx, "ledger:writeoff", action="denial.writeoff")
    reason = _note(reason, "reason")
    return _move_open_balance(
        ctx, remittance_claim_id, charge_id, "writeoff", Account.ADJ_WRITE_OFF, reason
    )


def transfer_to_patient(ctx: Context, *, remittance_claim_id: int, charge_id: int, note: str):
    """Make a denied charge the patient's to pay (`payments:post`)."""
    require(ctx, "payments:post", action="denial.transfer")
    note = _note(note, "note")
    return _move_open_balance(
        ctx, remittance_claim_id, charge_id, "transfer", Account.AR_PATIENT, note
    )


def resubmit(ctx: Context, *, remittance_claim_id: int, charge_id: int, note: str):
    """Correct the denied claim and send it again (a frequency-7 replacement
    quoting the payer's claim number), leaving the balance with the payer."""
    from pms_core.services import claims as claim_service

    require(ctx, "claims:write", action="denial.resubmit")
    note = _note(note, "note")
    d = _denial(ctx, remittance_claim_id, charge_id)
    claim = ctx.session.get(Claim, d.claim_id)
    if claim.status == "replaced":
        raise Conflict(f"claim {claim.id} was already replaced by a correction")
    built = claim_service.correct_claim(ctx, claim_id=claim.id, reason=note)
    text = f"{note} (corrected claim {built[0].id})"[:300]
    same_claim = [
        other
        for group in list_denials(ctx)
        for other in group.denials
        if other.remittance_claim_id == remittance_claim_id
    ]  # every denied charge of the claim goes out again with it
    rows = [_record(ctx, other, "resubmit", text) for other in same_claim or [d]]
    return rows, built
