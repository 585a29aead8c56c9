"""Posting, reversing and reading the ledger as a user: permission, then audit.

Thin wrappers over `pms_core.ledger`, which holds every business rule (balanced
entries, reversals, derived balances). Each function checks its permission first
(a refusal is audited as "denied" and raises PermissionDenied), does the work in
the context's transaction, and records one audit event holding ids only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select

from pms_core import audit, ledger
from pms_core.context import Context
from pms_core.errors import NotFound
from pms_core.models import JournalEntry, Patient, Posting
from pms_core.money import Money
from pms_core.permissions import require


def _shared_patient(patient_ids: Sequence[int | None]) -> int | None:
    """The one patient the entry concerns (lines without a patient, such as the
    cash side of a payment, do not count), or None when it concerns several."""
    distinct = set(patient_ids) - {None}
    return distinct.pop() if len(distinct) == 1 else None


def post_entry(
    ctx: Context,
    *,
    entry_date: date,
    kind: str,
    lines: Sequence[ledger.Line],
    memo: str = "",
    reference: str | None = None,
) -> JournalEntry:
    """Post one balanced entry (`ledger:post`); see `pms_core.ledger.post` for the rules.

    Audited as `ledger.post` with the new entry's id, and with the patient when
    every line names the same one.
    """
    lines = list(lines)
    patient_id = _shared_patient([line.patient_id for line in lines])
    require(ctx, "ledger:post", action="ledger.post", patient_id=patient_id)
    entry = ledger.post(
        ctx, entry_date=entry_date, kind=kind, lines=lines, memo=memo, reference=reference
    )
    audit.record(ctx, action="ledger.post", patient_id=patient_id, detail={"entry_id": entry.id})
    return entry


def reverse_entry(ctx: Context, *, entry_id: int, memo: str = "") -> JournalEntry:
    """Reverse an entry (`ledger:post`); see `pms_core.ledger.reverse` for the rules.

    Audited as `ledger.reverse` with the reversal's id and the reversed entry's id,
    and with the patient when every posting names the same one.
    """
    require(ctx, "ledger:post", action="ledger.reverse")
    reversal = ledger.reverse(ctx, entry_id, memo=memo)
    patient_ids = ctx.session.exec(
        select(Posting.patient_id).where(Posting.entry_id == reversal.id)
    ).all()
    audit.record(
        ctx,
        action="ledger.reverse",
        patient_id=_shared_patient(patient_ids),
        detail={"entry_id": reversal.id, "reverses_id": entry_id},
    )
    return reversal


def patient_balance(ctx: Context, *, patient_id: int) -> ledger.PatientBalance:
    """What one patient's account stands at (`ledger:read`), audited as `ledger.read`.

    Raises NotFound for a patient that is not in this practice.
    """
    require(ctx, "ledger:read", action="ledger.read", patient_id=patient_id)
    patient = ctx.session.get(Patient, patient_id)
    if patient is None or patient.practice_id != ctx.practice_id:
        raise NotFound(f"patient {patient_id} not found")
    result = ledger.patient_balance(ctx.session, ctx.practice_id, patient_id)
    audit.record_read(ctx, action="ledger.read", patient_id=patient_id)
    return result


@dataclass(frozen=True)
class LedgerLine:
    """One posting, explained: its entry, account, amount, the charge it
    belongs to and why it moved (a CAS group and CARC in words)."""

    entry_id: int
    entry_date: date
    kind: str
    memo: str
    account: str
    amount: Money
    charge_id: int | None
    code: str | None  # the charge's procedure code
    reason: str | None
    reason_words: str


def ledger_lines(
    ctx: Context, *, patient_id: int | None = None, claim_id: int | None = None
) -> list[LedgerLine]:
    """Every posting of a patient, or of the charges on one claim, oldest
    first, each with its reason in words (`ledger:read`, audited as a read)."""
    from pms_core.adjustment_codes import posting_reason_words
    from pms_core.models import Charge, Claim, ClaimLine

    if (patient_id is None) == (claim_id is None):
        raise ValueError("give exactly one of patient_id and claim_id")
    if claim_id is not None:
        claim = ctx.session.get(Claim, claim_id)
        if claim is None or claim.practice_id != ctx.practice_id:
            raise NotFound(f"claim {claim_id} not found")
        patient_id = claim.patient_id
    require(ctx, "ledger:read", action="ledger.read", patient_id=patient_id)
    patient = ctx.session.get(Patient, patient_id)
    if patient is None or patient.practice_id != ctx.practice_id:
        raise NotFound(f"patient {patient_id} not found")
    query = (
        select(JournalEntry, Posting, Charge.code)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .outerjoin(Charge, Charge.id == Posting.charge_id)
        .where(Posting.practice_id == ctx.practice_id, Posting.patient_id == patient_id)
    )
    if claim_id is not None:
        charge_ids = select(ClaimLine.charge_id).where(ClaimLine.claim_id == claim_id)
        query = query.where(col(Posting.charge_id).in_(charge_ids))
    rows = ctx.session.exec(query.order_by(JournalEntry.entry_date, JournalEntry.id, Posting.id))
    out = [
        LedgerLine(
            entry.id,
            entry.entry_date,
            entry.kind,
            entry.memo,
            posting.account,
            Money(posting.amount_cents),
            posting.charge_id,
            code,
            posting.reason,
            posting_reason_words(posting.reason, ctx.session),
        )
        for entry, posting, code in rows
    ]
    audit.record_read(
        ctx, action="ledger.read", patient_id=patient_id, detail={"claim_id": claim_id}
    )
    return out
