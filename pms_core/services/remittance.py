"""Remittance advice (835): import, balance, match and post, exactly once.

`import_era` streams a file through a remittance reader (`register_remit_readers`)
and handles each transaction set on its own, atomically (a savepoint per set):

1. **Payee.** A set for another payee (N1*PE names neither the practice's nor
   one of its providers' NPI, nor its TIN) is rejected.
2. **Once.** A set whose payer trace (TRN03 + TRN02) was posted before is a
   duplicate and adds nothing; the same file twice is refused by its hash.
3. **Balancing** before anything posts: each service line SVC02 - CAS = SVC03,
   each claim CLP03 - CAS = CLP04, and the set sum(CLP04) - sum(PLB) = BPR02.
   A set that does not balance is held, with each difference in its message.
4. **Matching**, claim by claim: our claim number (CLP01), then the payer's
   claim number (CLP07), then patient (member id) + date of service + billed
   amount; lines by our line control number (REF*6R, the charge id), then by
   code, modifiers and date, tolerating a dropped modifier or a code the payer
   changed (SVC06, or one line left on each side). A claim that cannot be
   matched is kept on the unmatched worklist with the reason; its payment is
   posted to unapplied cash, to be applied by `match_claim` later.
5. **Posting** (`ledger.post_many`), one journal entry per claim payment:
   the payer's payment to cash, contractual adjustments (CO), patient
   responsibility (PR) moved from insurance to patient A/R, other adjustments
   (OA, PI, CR); each posting carries its charge and its reason ("CO-45").
   A denied line (nothing paid, nothing to the patient) posts nothing: its
   balance stays with the payer for the denial worklist. Claim-level CAS are
   shared over the claim's lines in proportion to their charges, to the cent.
   Reversals (CLP02 22) post the same way with the payer's negative amounts.
   PLB adjustments go to practice-level accounts in one more entry.

An envelope error rejects the whole file and nothing of it posts. `dry_run`
does all of the above and rolls it back, returning what would have posted.
Messages and audit details carry ids, positions and codes, never PHI.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO, NamedTuple

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from pms_core import audit, ledger
from pms_core.context import Context
from pms_core.db import insert_plain, reserve_ids
from pms_core.edi import X12Error
from pms_core.errors import Conflict, FieldError, NotFound, PmsError, ValidationError
from pms_core.ledger import Account, Entry, Line
from pms_core.models import (
    Charge,
    Claim,
    ClaimEvent,
    ClaimLine,
    Coverage,
    InboundFile,
    Payer,
    Provider,
    Remittance,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceLine,
    RemittancePlb,
)
from pms_core.money import Money
from pms_core.permissions import require
from pms_core.plugins import contributions
from pms_core.remitdata import (
    PATIENT_RESPONSIBILITY,
    Adjustment,
    ProviderAdjustment,
    RemitClaim,
    RemitHeader,
    RemitLine,
    RemitReader,
    RemitSetEnd,
)

CHUNK = 500  # claim payments matched and posted together
_HEAD = 4096
GROUP_ACCOUNTS = {
    PATIENT_RESPONSIBILITY: Account.AR_PATIENT,
    "CO": Account.ADJ_CONTRACTUAL,
}
PLB_ACCOUNTS = {
    "L6": Account.INTEREST,
    "51": Account.INTEREST,
    "WO": Account.PAYER_OFFSETS,
    "WU": Account.PAYER_OFFSETS,
    "FB": Account.PAYER_OFFSETS,
    "72": Account.PAYER_OFFSETS,
    "OB": Account.PAYER_OFFSETS,
    "B3": Account.PAYER_OFFSETS,
}
FINAL_CLAIM_STATUSES = frozenset({"replaced", "voided", "closed"})
PRIOR_PAYER_CARC = "23"


class RemittanceError(PmsError):
    """A remittance file pms cannot take at all (not an 835, unreadable)."""


# --- what an import reports -----------------------------------------------------------
@dataclass
class PlannedPosting:
    """One posting that was (or, in a dry run, would be) written."""

    claim_number: str
    account: str
    amount_cents: int
    reason: str | None
    charge_id: int | None


@dataclass
class SetOutcome:
    """What became of one transaction set."""

    position: int
    set_control: str
    status: str  # posted, held, rejected, duplicate
    message: str = ""
    remittance_id: int | None = None
    trace_number: str = ""
    payment_cents: int = 0
    claims: int = 0
    matched: int = 0
    unmatched: int = 0
    paid_cents: int = 0
    adjusted_cents: int = 0
    patient_resp_cents: int = 0
    plb_cents: int = 0
    balanced: bool = True
    followup_claims: int = 0  # secondary (tertiary) claims built for what moved to that payer
    postings: list[PlannedPosting] = field(default_factory=list)


@dataclass
class EraOutcome:
    """What became of one file: `status` is posted, held, rejected, duplicate
    or mixed (sets with different outcomes); `sets` says per set."""

    name: str
    status: str
    message: str = ""
    inbound_file_id: int | None = None
    dry_run: bool = False
    sets: list[SetOutcome] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(s, attr) for s in self.sets)


# --- balancing --------------------------------------------------------------------------
def _sum(adjustments: Iterable[Adjustment]) -> int:
    return sum(a.amount_cents for a in adjustments)


def claim_imbalances(claim: RemitClaim) -> list[str]:
    """The balancing rules for one claim payment, as PHI-free messages."""
    found = []
    for line in claim.lines:
        expected = line.charge_cents - _sum(line.adjustments)
        if expected != line.paid_cents:
            found.append(
                f"segment {line.position} (SVC): SVC02 {Money(line.charge_cents)} - adjustments "
                f"{Money(_sum(line.adjustments))} = {Money(expected)}, but SVC03 is "
                f"{Money(line.paid_cents)} (difference {Money(expected - line.paid_cents)})"
            )
    adjusted = _sum(claim.adjustments) + sum(_sum(ln.adjustments) for ln in claim.lines)
    expected = claim.charge_cents - adjusted
    if expected != claim.paid_cents:
        found.append(
            f"segment {claim.position} (CLP): CLP03 {Money(claim.charge_cents)} - adjustments "
            f"{Money(adjusted)} = {Money(expected)}, but CLP04 is {Money(claim.paid_cents)} "
            f"(difference {Money(expected - claim.paid_cents)})"
        )
    return found


# --- matching lines ---------------------------------------------------------------------
class BilledLine(NamedTuple):
    """A line of one of our claims, with what posting needs to know of it."""

    charge_id: int
    charge_cents: int
    code: str
    modifiers: tuple[str, ...]
    service_date: date
    patient_id: int
    coverage_id: int
    payer_id: int
    provider_id: int
    location_id: int
    # The patient's next coverage on the date of service (a secondary after a
    # primary): the patient's share goes there first, not to the patient.
    next_coverage_id: int | None = None
    next_payer_id: int | None = None


def _same_day(line: RemitLine, billed: BilledLine) -> bool:
    return line.service_from is None or line.service_from == billed.service_date


def match_lines(
    lines: Sequence[RemitLine], billed: Sequence[BilledLine]
) -> tuple[list[tuple[RemitLine, BilledLine]], str | None]:
    """Pair each service line of a payment with one of our lines, or say why
    it cannot be. Tried in order: REF*6R (our charge id); the same code with
    the same modifiers and date; the code we billed (SVC06) or the same code
    with modifiers the payer dropped; and last, one line left on each side
    with the same date and charge (the payer changed the code)."""
    left = list(billed)
    pairs: list[tuple[RemitLine, BilledLine]] = []
    waiting: list[RemitLine] = []
    by_charge = {str(b.charge_id): b for b in billed}
    for line in lines:
        found = by_charge.get(line.control_number or "")
        if found is not None and found in left:
            left.remove(found)
            pairs.append((line, found))
        else:
            waiting.append(line)
    tests = (
        lambda ln, b: ln.procedure == b.code and ln.modifiers == b.modifiers,
        lambda ln, b: (
            (ln.original_procedure or ln.procedure) == b.code
            and set(ln.original_modifiers or ln.modifiers) <= set(b.modifiers)
        ),
    )
    for test in tests:
        still = []
        for line in waiting:
            found = next((b for b in left if test(line, b) and _same_day(line, b)), None)
            if found is None:
                still.append(line)
            else:
                left.remove(found)
                pairs.append((line, found))
        waiting = still
    if len(waiting) == 1 and len(left) == 1:
        line, only = waiting[0], left[0]
        if _same_day(line, only) and line.charge_cents == only.charge_cents:
            pairs.append((line, only))
            waiting = []
    if waiting:
        return [], (
            f"service line at segment {waiting[0].position} matches no line of the claim "
            "(control number, code, modifiers and date differ)"
        )
    return pairs, None


# --- posting ------------------------------------------------------------------------------
def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` cents in proportion to `weights`, exactly (largest remainder);
    equal shares when the weights sum to zero."""
    if not weights:
        return []
    weights = [abs(w) for w in weights]
    whole = sum(weights)
    if whole == 0:
        weights, whole = [1] * len(weights), len(weights)
    sign, total = (-1 if total < 0 else 1), abs(total)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -((total * weights[i]) % whole))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return [sign * s for s in shares]


def _account(group: str) -> Account:
    return GROUP_ACCOUNTS.get(group, Account.ADJ_OTHER)


@dataclass
class _LineResult:
    lines: list[Line]
    denied: bool


def line_postings(
    billed: BilledLine,
    paid_cents: int,
    adjustments: Sequence[Adjustment],
    *,
    source: Account = Account.CASH,
) -> _LineResult:
    """The postings for one adjudicated line: `paid_cents` to `source` (cash,
    or unapplied cash when a payment is matched later), each adjustment to
    its account, and the insurance A/R credited with their sum. A line with
    nothing paid and nothing for the patient is denied: only what moved
    (nothing, or PR) posts, so its balance stays with the payer."""
    # CARC 23 (impact of prior payers' adjudication) tells what the earlier
    # payers settled, which their own remittances posted: nothing moves for it.
    adjustments = [a for a in adjustments if a.amount_cents and a.reason != PRIOR_PAYER_CARC]
    patient_part = sum(a.amount_cents for a in adjustments if a.group == PATIENT_RESPONSIBILITY)
    denied = paid_cents == 0 and patient_part == 0 and bool(adjustments)
    patient, charge, payer = billed.patient_id, billed.charge_id, billed.payer_id
    provider, location = billed.provider_id, billed.location_id
    out: list[Line] = []
    moved = 0
    if paid_cents:
        out.append(
            Line(
                source, Money(paid_cents), patient, None, payer, provider, location, charge, "paid"
            )
        )
        moved += paid_cents
    for adj in adjustments:
        if denied and adj.group != PATIENT_RESPONSIBILITY:
            continue
        account, coverage_id, payer_id = _account(adj.group), None, payer
        if account == Account.AR_PATIENT:
            if billed.next_coverage_id is not None:  # the next payer is billed for it first
                account = Account.AR_INSURANCE
                coverage_id, payer_id = billed.next_coverage_id, billed.next_payer_id
            else:
                payer_id = None
        out.append(
            Line(account, Money(adj.amount_cents), patient, coverage_id, payer_id, provider,
                 location, charge, adj.label)
        )  # fmt: skip
        moved += adj.amount_cents
    if moved:
        out.append(
            Line(Account.AR_INSURANCE, Money(-moved), patient, billed.coverage_id, payer,
                 provider, location, charge, "adjudicated")
        )  # fmt: skip
    return _LineResult(out, denied)


def claim_postings(
    claim: RemitClaim,
    pairs: Sequence[tuple[RemitLine, BilledLine]],
    billed: Sequence[BilledLine],
    *,
    source: Account = Account.CASH,
) -> tuple[list[Line], dict[int, bool]]:
    """All postings of one matched claim payment, and which charges were denied.

    With service lines: each line as adjudicated, plus its share (by SVC02)
    of the claim-level adjustments, which also come out of its paid amount
    (CLP04 = sum(SVC03) - claim-level CAS). Without service lines (most
    institutional remits): CLP04 and each claim-level adjustment are shared
    over our lines in proportion to their charges."""
    claim_level = list(claim.adjustments)
    if pairs:
        units = [(b, ln.paid_cents, list(ln.adjustments), ln.charge_cents) for ln, b in pairs]
    else:
        paid = allocate(claim.paid_cents, [b.charge_cents for b in billed])
        units = [(b, paid[i], [], b.charge_cents) for i, b in enumerate(billed)]
    weights = [u[3] for u in units]
    shares_by_adj = [allocate(a.amount_cents, weights) for a in claim_level]
    lines: list[Line] = []
    denied: dict[int, bool] = {}
    for i, (b, paid, adjustments, _) in enumerate(units):
        shared = [
            Adjustment(a.group, a.reason, shares[i], a.quantity)
            for a, shares in zip(claim_level, shares_by_adj, strict=True)
            if shares[i]
        ]
        # With line detail, claim-level adjustments come out of the line's payment.
        paid_here = paid - (sum(s.amount_cents for s in shared) if pairs else 0)
        result = line_postings(b, paid_here, adjustments + shared, source=source)
        lines += result.lines
        denied[b.charge_id] = result.denied
    return lines, denied


def claim_status_after(claim: RemitClaim, denied: dict[int, bool]) -> str:
    """Where a claim stands after this payment: a reversal puts it back in
    adjudication; otherwise paid, partially paid or denied by its lines."""
    if claim.reversal:
        return "acknowledged"
    if denied and all(denied.values()):
        return "denied"
    if claim.status_code == "4" and not claim.paid_cents:
        return "denied"
    return "partially_paid" if any(denied.values()) else "paid"


# --- reading the file ---------------------------------------------------------------------
def remit_readers(ctx: Context) -> list[RemitReader]:
    return contributions(ctx.pm, "register_remit_readers")


def is_remittance(ctx: Context, head: bytes) -> bool:
    """Does a remittance reader take this file (judged by its first bytes)?"""
    return any(reader.recognizes(head[:_HEAD]) for reader in remit_readers(ctx))


def _reader_for(ctx: Context, head: bytes) -> RemitReader:
    for reader in remit_readers(ctx):
        if reader.recognizes(head):
            return reader
    raise RemittanceError("not a remittance file pms reads (an X12 835 interchange)")


def _digest_and_pack(source: BinaryIO) -> tuple[str, bytes]:
    """The file's SHA-256 and its zlib-compressed bytes, read in chunks."""
    digest, packer, packed = hashlib.sha256(), zlib.compressobj(6), []
    while block := source.read(1 << 20):
        digest.update(block)
        packed.append(packer.compress(block))
    packed.append(packer.flush())
    return digest.hexdigest(), b"".join(packed)


def inbound_content(inbound: InboundFile) -> bytes:
    """An inbound file's bytes as received."""
    return zlib.decompress(inbound.content) if inbound.compressed else inbound.content


# --- the import ----------------------------------------------------------------------------
def import_era(
    ctx: Context,
    *,
    name: str,
    source: BinaryIO | bytes,
    dry_run: bool = False,
    clearinghouse_id: int | None = None,
) -> EraOutcome:
    """Import one 835 file and post it (see the module docstring).

    `source` is the file's bytes or a seekable binary file (read twice: once
    to hash and keep it compressed, once to post it, never whole). Refused
    with RemittanceError when it is not an 835. The same file twice returns a
    `duplicate` outcome at once. Needs `payments:post`."""
    require(ctx, "payments:post", action="era.import")
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(bytes(source))
    head = source.read(_HEAD)
    source.seek(0)
    reader = _reader_for(ctx, head)
    digest, packed = _digest_and_pack(source)
    source.seek(0)
    earlier = ctx.session.exec(
        select(InboundFile.id, InboundFile.status).where(
            InboundFile.practice_id == ctx.practice_id, InboundFile.sha256 == digest
        )
    ).first()
    if earlier is not None:
        return EraOutcome(
            name, "duplicate",
            f"already imported as inbound file {earlier[0]} ({earlier[1]}); nothing added",
            inbound_file_id=earlier[0], dry_run=dry_run,
        )  # fmt: skip
    outer = ctx.session.begin_nested()
    inbound = _keep_file(ctx, name, digest, packed, clearinghouse_id, "received")
    outcome = EraOutcome(name, "posted", inbound_file_id=inbound.id, dry_run=dry_run)
    try:
        _post_file(ctx, inbound.id, reader.read(source), outcome, keep_postings=dry_run)
    except X12Error as exc:
        outer.rollback()
        outcome.sets = []
        outcome.status, outcome.message = "rejected", f"{exc}; nothing in the file was posted"
        if not dry_run:
            outcome.inbound_file_id = _keep_file(
                ctx, name, digest, packed, clearinghouse_id, "failed", outcome.message
            ).id
        _audit(ctx, outcome)
        return outcome
    statuses = {s.status for s in outcome.sets}
    outcome.status = statuses.pop() if len(statuses) == 1 else "mixed" if statuses else "rejected"
    if not outcome.sets:
        outcome.message = "the file holds no 835 transaction set"
    inbound.status = "processed" if outcome.status != "rejected" else "failed"
    inbound.message = outcome.message[:500]
    ctx.session.add(inbound)
    ctx.session.flush()
    if dry_run:
        outer.rollback()
        outcome.inbound_file_id = None
    else:
        outer.commit()
        _audit(ctx, outcome)
    return outcome


def _audit(ctx: Context, outcome: EraOutcome) -> None:
    audit.record(
        ctx,
        action="era.import",
        outcome="ok" if outcome.status != "rejected" else "failed",
        detail={
            "inbound_file_id": outcome.inbound_file_id,
            "status": outcome.status,
            "remittance_ids": [s.remittance_id for s in outcome.sets if s.remittance_id],
        },
    )


def _keep_file(
    ctx: Context, name: str, digest: str, packed: bytes, clearinghouse_id, status: str,
    message: str = "",
) -> InboundFile:  # fmt: skip
    """Store the file as received (compressed), with its status."""
    inbound = InboundFile(
        practice_id=ctx.practice_id,
        clearinghouse_id=clearinghouse_id,
        name=name[-200:],
        sha256=digest,
        kind="835",
        status=status,
        message=message[:500],
        content=packed,
        compressed=True,
        received_at=ctx.clock.now(),
    )
    ctx.session.add(inbound)
    ctx.session.flush()
    return inbound


def _post_file(ctx, inbound_id: int, items: Iterator, outcome: EraOutcome, keep_postings) -> None:
    poster: _SetPoster | None = None
    for item in items:
        if isinstance(item, RemitHeader):
            poster = _SetPoster(ctx, inbound_id, item, keep_postings)
        elif isinstance(item, RemitSetEnd):
            if poster is None:  # the header itself could not be read
                outcome.sets.append(_rejected_without_header(ctx, inbound_id, item))
            else:
                outcome.sets.append(poster.end(item))
            poster = None
        elif poster is not None:
            poster.claim(item)


def _problem_text(problem) -> str:
    if problem.position and problem.segment:
        return f"segment {problem.position} ({problem.segment}): {problem.message}"
    return problem.message


def _rejected_without_header(ctx, inbound_id: int, end: RemitSetEnd) -> SetOutcome:
    message = f"rejected: {_problem_text(end.problem)}"
    remittance = Remittance(
        practice_id=ctx.practice_id,
        inbound_file_id=inbound_id,
        position=end.position,
        set_control=end.set_control[:9],
        status="rejected",
        message=message,
        received_at=ctx.clock.now(),
        posted_by_id=ctx.user.id,
    )
    ctx.session.add(remittance)
    ctx.session.flush()
    return SetOutcome(end.position, end.set_control, "rejected", message, remittance.id)


class _SetPoster:
    """Posts one transaction set inside its own savepoint; on a problem, an
    imbalance or a duplicate trace it rolls the savepoint back and records
    the set with its status and message instead."""

    def __init__(self, ctx: Context, inbound_id: int, header: RemitHeader, keep: bool) -> None:
        self.ctx, self.inbound_id, self.header, self.keep = ctx, inbound_id, header, keep
        self.outcome = SetOutcome(
            header.position,
            header.set_control,
            "posted",
            trace_number=header.trace_number,
            payment_cents=header.payment_signed_cents,
        )
        self.savepoint = ctx.session.begin_nested()
        self.imbalances: list[str] = []
        self.pending: list[RemitClaim] = []
        self.followups: list[tuple[int, int]] = []  # (paid claim, next coverage)
        self.blocked = self._payee_problem() or self._duplicate()
        self.payer_id = self._payer_id()
        self.entry_date = header.payment_date or header.production_date or ctx.today()
        through = ledger.closed_through(ctx.session, ctx.practice_id)
        # Paid in a month already closed: held whole, not half posted (services.periods).
        self.closed = (
            f"held: paid {self.entry_date}, but the books are closed through {through}; "
            "reopen the month to post it (pms period reopen)"
            if through is not None and self.entry_date <= through
            else None
        )
        self.remittance = self._new_remittance("posting")  # "posted" once it has
        ctx.session.add(self.remittance)
        ctx.session.flush()

    # --- checks before anything posts --------------------------------------------------
    def _payee_problem(self) -> str | None:
        header, practice = self.header, self.ctx.practice()
        where = f"N1*PE of the set at segment {header.position}"
        ident = (header.payee_identifier or "").replace("-", "")
        if header.payee_qualifier == "XX" and ident:
            npis = {practice.group_npi} | set(
                self.ctx.session.exec(
                    select(Provider.npi).where(Provider.practice_id == practice.id)
                )
            )
            if ident not in npis:
                return f"for another payee: the NPI in {where} is not this practice's"
        if header.payee_qualifier == "FI" and ident and ident != practice.tin:
            return f"for another payee: the TIN in {where} is not this practice's"
        tin = (header.payee_tin or "").replace("-", "")
        if tin and tin != practice.tin:
            return "for another payee: REF*TJ of the payee is not this practice's TIN"
        return None

    def _duplicate(self) -> str | None:
        earlier = self.ctx.session.exec(
            select(Remittance.id).where(
                Remittance.practice_id == self.ctx.practice_id,
                Remittance.originator == self.header.originator[:10],
                Remittance.trace_number == self.header.trace_number[:50],
                Remittance.status == "posted",
            )
        ).first()
        if earlier is None:
            return None
        self.outcome.status = "duplicate"
        return f"this payer's trace number was posted before (remittance {earlier}); nothing added"

    def _payer_id(self) -> int | None:
        ident = self.header.payer_identifier
        if not ident:
            return None
        return self.ctx.session.exec(
            select(Payer.id).where(
                Payer.practice_id == self.ctx.practice_id, Payer.edi_payer_id == ident
            )
        ).first()

    def _new_remittance(self, status: str, message: str = "") -> Remittance:
        h = self.header
        return Remittance(
            practice_id=self.ctx.practice_id,
            inbound_file_id=self.inbound_id,
            position=h.position,
            set_control=h.set_control[:9],
            payer_id=self.payer_id,
            payer_name=h.payer_name[:60],
            payer_identifier=(h.payer_identifier or None) and h.payer_identifier[:80],
            originator=h.originator[:10],
            trace_number=h.trace_number[:50],
            handling=h.handling,
            method=h.method[:3],
            payment_cents=h.payment_signed_cents,
            payment_date=h.payment_date or h.production_date,
            payee_identifier=(h.payee_identifier or None) and h.payee_identifier[:80],
            status=status,
            message=message,
            received_at=self.ctx.clock.now(),
            posted_by_id=self.ctx.user.id,
        )

    # --- claims ----------------------------------------------------------------------
    def claim(self, claim: RemitClaim) -> None:
        o = self.outcome
        o.claims += 1
        o.paid_cents += claim.paid_cents
        for adj in [*claim.adjustments, *(a for ln in claim.lines for a in ln.adjustments)]:
            if adj.group == PATIENT_RESPONSIBILITY:
                o.patient_resp_cents += adj.amount_cents
            else:
                o.adjusted_cents += adj.amount_cents
        self.imbalances += claim_imbalances(claim)
        if self.blocked or self.imbalances or self.closed:
            self.pending.clear()
            return
        self.pending.append(claim)
        if len(self.pending) >= CHUNK:
            self._post_pending()

    def _post_pending(self) -> None:
        if self.pending:
            _ChunkPoster(self).post(self.pending)
            self.pending = []

    # --- the end of the set --------------------------------------------------------------
    def end(self, end: RemitSetEnd) -> SetOutcome:
        o, h = self.outcome, self.header
        plbs = end.provider_adjustments
        o.plb_cents = sum(p.amount_cents for p in plbs)
        expected = o.paid_cents - o.plb_cents
        if expected != h.payment_signed_cents:
            o.balanced = False
            self.imbalances.append(
                f"set at segment {h.position}: sum of CLP04 {Money(o.paid_cents)} - PLB "
                f"{Money(o.plb_cents)} = {Money(expected)}, but BPR02 is "
                f"{Money(h.payment_signed_cents)} (difference "
                f"{Money(expected - h.payment_signed_cents)})"
            )
        if end.problem is not None:
            return self._not_posted("rejected", f"rejected: {_problem_text(end.problem)}")
        if self.blocked:
            status = "duplicate" if o.status == "duplicate" else "rejected"
            return self._not_posted(status, self.blocked)
        if self.imbalances:
            o.balanced = False
            return self._not_posted("held", "held, does not balance: " + "; ".join(self.imbalances))
        if self.closed:
            return self._not_posted("held", self.closed)
        self._post_pending()
        self._post_plbs(plbs)
        if self.followups:  # drafts: scrubbed and submitted with the other claims
            from pms_core.services.claims import build_followup_claims

            o.followup_claims = len(build_followup_claims(self.ctx, self.followups))
        r = self.remittance
        r.claim_count, r.matched_count, r.unmatched_count = o.claims, o.matched, o.unmatched
        r.paid_cents, r.adjusted_cents = o.paid_cents, o.adjusted_cents
        r.patient_resp_cents, r.plb_cents = o.patient_resp_cents, o.plb_cents
        r.message, r.status = "; ".join(h.notes), "posted"
        self.ctx.session.add(r)
        try:
            self.ctx.session.flush()
        except IntegrityError:  # another import posted the same trace just now
            return self._not_posted(
                "duplicate", "this payer's trace number was just posted by another import"
            )
        self.savepoint.commit()
        o.remittance_id, o.message = r.id, r.message
        return o

    def _not_posted(self, status: str, message: str) -> SetOutcome:
        self.savepoint.rollback()
        remittance = self._new_remittance(status, message)
        self.ctx.session.add(remittance)
        self.ctx.session.flush()
        o = self.outcome
        o.status, o.message, o.remittance_id = status, message, remittance.id
        o.matched = o.unmatched = 0
        o.postings = []
        return o

    def _post_plbs(self, plbs: Sequence[ProviderAdjustment]) -> None:
        if not plbs:
            return
        session, rid = self.ctx.session, self.remittance.id
        session.execute(
            insert(RemittancePlb.__table__),
            [
                dict(
                    remittance_id=rid,
                    position=p.position,
                    provider_identifier=p.provider_identifier[:50],
                    fiscal_period_end=p.fiscal_period_end,
                    reason=p.reason,
                    reference=(p.reference or None) and p.reference[:50],
                    amount_cents=p.amount_cents,
                )
                for p in plbs
            ],
        )
        lines = []
        for p in plbs:
            if not p.amount_cents:
                continue
            reason = f"PLB-{p.reason}"
            account = PLB_ACCOUNTS.get(p.reason, Account.ADJ_PROVIDER)
            # A positive PLB amount is money the payer kept back from this payment.
            lines.append(
                Line(Account.CASH, Money(-p.amount_cents), payer_id=self.payer_id, reason=reason)
            )
            lines.append(
                Line(account, Money(p.amount_cents), payer_id=self.payer_id, reason=reason)
            )
        if lines:
            ledger.post_many(
                self.ctx,
                [
                    Entry(
                        self.entry_date,
                        "era_provider_adjustment",
                        lines,
                        memo=f"provider-level adjustments of remittance {rid}",
                        reference=f"era-plb:{rid}",
                    )
                ],
            )
            if self.keep:
                self.outcome.postings += [
                    PlannedPosting(
                        "(provider level)", str(ln.account), ln.amount.cents, ln.reason, None
                    )
                    for ln in lines
                ]


# --- one chunk of claim payments ---------------------------------------------------------------
@dataclass
class _Found:
    claim: Claim | None = None
    method: str | None = None
    reason: str = ""


class _ChunkPoster:
    """Matches and posts up to CHUNK claim payments with a handful of bulk
    queries and inserts."""

    def __init__(self, poster: _SetPoster) -> None:
        self.poster, self.ctx = poster, poster.ctx

    def post(self, payments: list[RemitClaim]) -> None:
        self.payments = payments
        found = self._match_claims(payments)
        billed = _billed_lines(self.ctx, [f.claim.id for f in found if f.claim is not None])
        entries: list[Entry] = []
        entry_of: list[int | None] = []
        line_charges: list[dict[int, int | None]] = []
        denials: list[dict[int, bool]] = []
        claim_moves = []
        rid = self.poster.remittance.id
        for payment, f in zip(payments, found, strict=True):
            charges: dict[int, int | None] = {}
            denied: dict[int, bool] = {}
            lines: list[Line] = []
            if f.claim is not None:
                ours = billed.get(f.claim.id, [])
                pairs, problem = match_lines(payment.lines, ours) if payment.lines else ([], None)
                if problem is None and not ours:
                    problem = f"claim {f.claim.id} has no posted lines to apply the payment to"
                if problem is not None:
                    f.claim, f.method, f.reason = None, None, problem
                else:
                    lines, denied = claim_postings(payment, pairs, ours)
                    charges = {id(ln): b.charge_id for ln, b in pairs}
            if f.claim is None and payment.paid_cents:
                lines = _unapplied(payment.paid_cents, self.poster.payer_id)
            if lines:
                entry_of.append(len(entries))
                entries.append(
                    Entry(
                        self.poster.entry_date,
                        "era_payment" if f.claim is not None else "era_unapplied",
                        lines,
                        memo=f"remittance {rid}, claim payment at segment {payment.position}",
                        reference=f"era:{rid}:{payment.position}",
                    )
                )
            else:
                entry_of.append(None)
            line_charges.append(charges)
            denials.append(denied)
            if f.claim is not None:
                claim_moves.append((f.claim, claim_status_after(payment, denied), payment))
        entry_ids = ledger.post_many(self.ctx, entries)
        o = self.poster.outcome
        for payment, f, slot in zip(payments, found, entry_of, strict=True):
            if f.claim is not None:
                o.matched += 1
            else:
                o.unmatched += 1
            if self.poster.keep and slot is not None:
                o.postings += [
                    PlannedPosting(
                        payment.claim_number,
                        str(ln.account),
                        ln.amount.cents,
                        ln.reason,
                        ln.charge_id,
                    )
                    for ln in entries[slot].lines
                ]
        self._store(payments, found, [entry_ids[s] if s is not None else None for s in entry_of],
                    line_charges, denials)  # fmt: skip
        paid_claims = [(c.id, c.coverage_id, payment) for c, _, payment in claim_moves]
        _move_claims(self.ctx, claim_moves, self.poster.inbound_id)
        self._follow_up(paid_claims, entries, entry_of)

    def _follow_up(self, paid_claims, entries: list[Entry], entry_of: list[int | None]) -> None:
        """Note the next payer (secondary, tertiary) to bill for the patient's
        share this payment moved to it; the set builds those claims at its end."""
        slots = {id(p): slot for p, slot in zip(self.payments, entry_of, strict=True)}
        for claim_id, coverage_id, payment in paid_claims:
            slot = slots[id(payment)]
            if payment.reversal or slot is None:
                continue
            moved: dict[int, int] = defaultdict(int)
            for line in entries[slot].lines:
                if line.account == Account.AR_INSURANCE and line.coverage_id != coverage_id:
                    moved[line.coverage_id] += line.amount.cents
            self.poster.followups += [(claim_id, cov) for cov, cents in moved.items() if cents > 0]

    # --- matching claims ------------------------------------------------------------------
    def _match_claims(self, payments: list[RemitClaim]) -> list[_Found]:
        session, pid = self.ctx.session, self.ctx.practice_id
        by_number: dict[str, Claim] = {}
        numbers = sorted({p.claim_number for p in payments})
        for c in session.exec(
            select(Claim).where(Claim.practice_id == pid, col(Claim.claim_number).in_(numbers))
        ):
            by_number[c.claim_number] = c
        payer_numbers = sorted({p.payer_claim_number for p in payments if p.payer_claim_number})
        by_payer_number: dict[str, list[Claim]] = defaultdict(list)
        if payer_numbers:
            for c in session.exec(
                select(Claim).where(
                    Claim.practice_id == pid, col(Claim.payer_claim_number).in_(payer_numbers)
                )
            ):
                by_payer_number[c.payer_claim_number].append(c)
        out = []
        for p in payments:
            f = _Found()
            claim = by_number.get(p.claim_number)
            if claim is not None:
                f.claim, f.method = claim, "claim_number"
            else:
                candidates = [
                    c for c in by_payer_number.get(p.payer_claim_number or "", [])
                    if c.status not in FINAL_CLAIM_STATUSES
                ]  # fmt: skip
                if len(candidates) == 1:
                    f.claim, f.method = candidates[0], "payer_claim_number"
                else:
                    f.claim, f.method, f.reason = self._by_patient(p)
            if f.claim is not None and self.poster.payer_id not in (None, f.claim.payer_id):
                f.claim, f.method = None, None
                f.reason = "the claim with this number was billed to another payer"
            out.append(f)
        return out

    def _by_patient(self, p: RemitClaim) -> tuple[Claim | None, str | None, str]:
        """Patient (member id with this payer) + date of service + billed amount."""
        day = p.service_from or next((ln.service_from for ln in p.lines if ln.service_from), None)
        if not p.member_id or day is None:
            return None, None, "no claim with this claim number or payer claim number"
        query = (
            select(Claim)
            .join(Coverage, Coverage.id == Claim.coverage_id)
            .where(
                Claim.practice_id == self.ctx.practice_id,
                Coverage.member_id == p.member_id.strip().upper(),
                Claim.service_from == day,
                Claim.total_cents == p.charge_cents,
                col(Claim.status).not_in(FINAL_CLAIM_STATUSES),
            )
        )
        if self.poster.payer_id is not None:
            query = query.where(Claim.payer_id == self.poster.payer_id)
        found = list(self.ctx.session.exec(query.limit(2)))
        if len(found) == 1:
            return found[0], "patient_date_amount", ""
        if found:
            return None, None, "several claims match the patient, date of service and amount"
        return (
            None,
            None,
            (
                "no claim with this claim number, payer claim number, or patient, date of service "
                "and amount"
            ),
        )

    # --- storing what was received ------------------------------------------------------------
    def _store(self, payments, found, entry_ids, line_charges, denials) -> None:
        session, ctx = self.ctx.session, self.ctx
        now = ctx.clock.now()
        rows = []
        for p, f, entry_id in zip(payments, found, entry_ids, strict=True):
            rows.append(
                dict(
                    practice_id=ctx.practice_id,
                    remittance_id=self.poster.remittance.id,
                    position=p.position,
                    claim_number=p.claim_number[:38],
                    status_code=p.status_code,
                    charge_cents=p.charge_cents,
                    paid_cents=p.paid_cents,
                    patient_resp_cents=p.patient_resp_cents,
                    filing_indicator=p.filing_indicator[:2],
                    payer_claim_number=(p.payer_claim_number or None) and p.payer_claim_number[:50],
                    frequency=p.frequency,
                    patient_last=(p.patient_last or None) and p.patient_last[:60],
                    patient_first=(p.patient_first or None) and p.patient_first[:35],
                    member_id=(p.member_id or None) and p.member_id[:80],
                    service_from=p.service_from,
                    service_to=p.service_to,
                    remarks=",".join(p.remarks)[:200],
                    status="posted" if f.claim is not None else "unmatched",
                    claim_id=f.claim.id if f.claim is not None else None,
                    match_method=f.method,
                    unmatched_reason=f.reason[:300],
                    entry_id=entry_id,
                    matched_at=now if f.claim is not None else None,
                    matched_by_id=ctx.user.id if f.claim is not None else None,
                )
            )
        claim_ids = _insert_with_ids(session, RemittanceClaim, rows)

        _store_lines(session, payments, claim_ids, line_charges, denials)


def _store_lines(session, payments, claim_ids, line_charges, denials) -> None:
    line_rows, owners = [], []
    for p, cid, charges, denied in zip(payments, claim_ids, line_charges, denials, strict=True):
        for ln in p.lines:
            charge_id = charges.get(id(ln))
            line_rows.append(
                dict(
                    remittance_claim_id=cid,
                    position=ln.position,
                    qualifier=ln.qualifier[:2],
                    procedure=ln.procedure[:48],
                    modifiers=",".join(ln.modifiers),
                    original_procedure=(ln.original_procedure or None)
                    and ln.original_procedure[:48],
                    original_modifiers=",".join(ln.original_modifiers),
                    charge_cents=ln.charge_cents,
                    paid_cents=ln.paid_cents,
                    allowed_cents=ln.allowed_cents,
                    units=ln.units,
                    service_from=ln.service_from,
                    service_to=ln.service_to,
                    control_number=(ln.control_number or None) and ln.control_number[:50],
                    remarks=",".join(ln.remarks)[:200],
                    charge_id=charge_id,
                    denied=bool(denied.get(charge_id)) if charge_id else False,
                )
            )
            owners.append((cid, ln))
    line_ids = _insert_with_ids(session, RemittanceLine, line_rows)
    adjustments = [
        _adjustment_row(cid, None, a)
        for p, cid in zip(payments, claim_ids, strict=True)
        for a in p.adjustments
    ]
    adjustments += [
        _adjustment_row(cid, lid, a)
        for (cid, ln), lid in zip(owners, line_ids, strict=True)
        for a in ln.adjustments
    ]
    if adjustments:
        insert_plain(session, RemittanceAdjustment.__table__, adjustments)


def _insert_with_ids(session, model, rows: list[dict]) -> list[int]:
    """Insert many rows in one executemany, with ids reserved beforehand, and
    return the ids in the rows' order."""
    ids = reserve_ids(session, model.__table__, len(rows))
    if rows:
        insert_plain(
            session, model.__table__, [dict(r, id=i) for r, i in zip(rows, ids, strict=True)]
        )
    return ids


def _adjustment_row(claim_row_id: int, line_row_id: int | None, a: Adjustment) -> dict:
    return dict(
        remittance_claim_id=claim_row_id,
        remittance_line_id=line_row_id,
        group_code=a.group,
        reason=a.reason[:5],
        amount_cents=a.amount_cents,
        quantity=a.quantity,
    )


def _unapplied(paid_cents: int, payer_id: int | None) -> list[Line]:
    return [
        Line(Account.CASH, Money(paid_cents), payer_id=payer_id, reason="unapplied"),
        Line(Account.UNAPPLIED, Money(-paid_cents), payer_id=payer_id, reason="unapplied"),
    ]


def _billed_lines(ctx: Context, claim_ids: list[int]) -> dict[int, list[BilledLine]]:
    """Our lines of these claims (posted charges only), in claim line order."""
    out: dict[int, list[BilledLine]] = defaultdict(list)
    if not claim_ids:
        return out
    query = (
        select(
            ClaimLine.claim_id,
            Charge.id,
            ClaimLine.charge_cents,
            Charge.code,
            Charge.modifier1,
            Charge.modifier2,
            Charge.modifier3,
            Charge.modifier4,
            Charge.service_date,
            Claim.patient_id,
            Claim.coverage_id,
            Claim.payer_id,
            Charge.rendering_provider_id,
            Claim.provider_id,
            Claim.location_id,
        )
        .join(Charge, Charge.id == ClaimLine.charge_id)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(col(ClaimLine.claim_id).in_(sorted(set(claim_ids))), Charge.status == "posted")
        .order_by(ClaimLine.claim_id, ClaimLine.line_number)
    )
    rows = ctx.session.execute(query).all()
    following = _next_coverages(ctx, {(r[0], r[9], r[10], r[8]) for r in rows})
    for row in rows:
        (claim_id, charge_id, cents, code, m1, m2, m3, m4, day, patient, coverage, payer,
         rendering, provider, location) = row  # fmt: skip
        next_coverage = following.get((claim_id, day))
        out[claim_id].append(
            BilledLine(
                charge_id=charge_id,
                charge_cents=cents,
                code=code,
                modifiers=tuple(m for m in (m1, m2, m3, m4) if m),
                service_date=day,
                patient_id=patient,
                coverage_id=coverage,
                payer_id=payer,
                provider_id=rendering or provider,
                location_id=location,
                next_coverage_id=next_coverage.id if next_coverage else None,
                next_payer_id=next_coverage.payer_id if next_coverage else None,
            )
        )
    return out


def _next_coverages(ctx: Context, lines: set[tuple]) -> dict[tuple, object]:
    """(claim id, service date) -> the patient's next coverage after the claim's
    own (by priority) in force on that date, for (claim id, patient id,
    coverage id, service date) tuples."""
    patients = sorted({p for _, p, _, _ in lines})
    by_patient: dict[int, list] = defaultdict(list)
    for start in range(0, len(patients), 2000):
        for c in ctx.session.execute(
            select(Coverage.id, Coverage.patient_id, Coverage.payer_id, Coverage.priority,
                   Coverage.effective_date, Coverage.termination_date)
            .where(col(Coverage.patient_id).in_(patients[start : start + 2000]),
                   col(Coverage.active).is_(True))
            .order_by(Coverage.patient_id, Coverage.priority)
        ):  # fmt: skip
            by_patient[c.patient_id].append(c)
    out = {}
    for claim_id, patient_id, coverage_id, day in lines:
        mine = next((c for c in by_patient[patient_id] if c.id == coverage_id), None)
        if mine is None:
            continue
        out[(claim_id, day)] = next(
            (
                c
                for c in by_patient[patient_id]
                if c.priority > mine.priority
                and c.effective_date <= day
                and (c.termination_date is None or c.termination_date >= day)
            ),
            None,
        )
    return out


def _move_claims(ctx: Context, moves, inbound_id: int | None) -> None:
    """Set each paid claim's status (and the payer's claim number it lacked),
    with a claim event saying why."""
    if not moves:
        return
    now = ctx.clock.now()
    updates, events = [], []
    for claim, status, payment in moves:
        values = {"id": claim.id, "status": status}
        if payment.payer_claim_number and not claim.payer_claim_number:
            values["payer_claim_number"] = payment.payer_claim_number[:50]
        updates.append(values)
        events.append(
            dict(
                claim_id=claim.id,
                at=now,
                user_id=ctx.user.id,
                from_status=claim.status,
                to_status=status,
                reason=f"835 claim payment at segment {payment.position}: "
                f"status {payment.status_code}, paid {Money(payment.paid_cents)}",
                batch_id=None,
                inbound_file_id=inbound_id,
            )
        )
    table = Claim.__table__
    for keys in ({"id", "status"}, {"id", "status", "payer_claim_number"}):
        group = [{f"b_{k}": v for k, v in u.items()} for u in updates if set(u) == keys]
        if group:
            values = {k: bindparam(f"b_{k}") for k in keys - {"id"}}
            ctx.session.execute(
                update(table).where(table.c.id == bindparam("b_id")).values(**values), group
            )
    insert_plain(ctx.session, ClaimEvent.__table__, events)
    ctx.session.expire_all()


# --- working what was not matched -----------------------------------------------------------
def _remit_claim_from_rows(ctx: Context, row: RemittanceClaim) -> RemitClaim:
    """Rebuild a claim payment as it was read, from what was stored."""
    lines = list(
        ctx.session.exec(
            select(RemittanceLine)
            .where(RemittanceLine.remittance_claim_id == row.id)
            .order_by(RemittanceLine.position)
        )
    )
    adjustments = list(
        ctx.session.exec(
            select(RemittanceAdjustment)
            .where(RemittanceAdjustment.remittance_claim_id == row.id)
            .order_by(RemittanceAdjustment.id)
        )
    )

    def adj(a: RemittanceAdjustment) -> Adjustment:
        return Adjustment(a.group_code, a.reason, a.amount_cents, a.quantity)

    def split(text: str) -> tuple[str, ...]:
        return tuple(m for m in text.split(",") if m)

    return RemitClaim(
        position=row.position,
        claim_number=row.claim_number,
        status_code=row.status_code,
        charge_cents=row.charge_cents,
        paid_cents=row.paid_cents,
        patient_resp_cents=row.patient_resp_cents,
        filing_indicator=row.filing_indicator,
        payer_claim_number=row.payer_claim_number,
        frequency=row.frequency,
        service_from=row.service_from,
        service_to=row.service_to,
        adjustments=[adj(a) for a in adjustments if a.remittance_line_id is None],
        lines=[
            RemitLine(
                position=ln.position,
                qualifier=ln.qualifier,
                procedure=ln.procedure,
                modifiers=split(ln.modifiers),
                charge_cents=ln.charge_cents,
                paid_cents=ln.paid_cents,
                original_procedure=ln.original_procedure,
                original_modifiers=split(ln.original_modifiers),
                service_from=ln.service_from,
                service_to=ln.service_to,
                control_number=ln.control_number,
                adjustments=[adj(a) for a in adjustments if a.remittance_line_id == ln.id],
            )
            for ln in lines
        ],
    )


def match_claim(ctx: Context, *, remittance_claim_id: int, claim_id: int) -> RemittanceClaim:
    """Apply an unmatched claim payment to one of our claims by hand: its
    payment leaves unapplied cash and posts to the claim's lines exactly as an
    automatic match would have. Needs `payments:post`."""
    require(ctx, "payments:post", action="era.match")
    row = ctx.session.get(RemittanceClaim, remittance_claim_id, with_for_update=True)
    if row is None or row.practice_id != ctx.practice_id:
        raise NotFound(f"remittance claim {remittance_claim_id} not found")
    if row.status != "unmatched":
        raise Conflict(f"remittance claim {remittance_claim_id} is already {row.status}")
    claim = ctx.session.get(Claim, claim_id)
    if claim is None or claim.practice_id != ctx.practice_id:
        raise NotFound(f"claim {claim_id} not found")
    remittance = ctx.session.get(Remittance, row.remittance_id)
    payment = _remit_claim_from_rows(ctx, row)
    ours = _billed_lines(ctx, [claim.id]).get(claim.id, [])
    if not ours:
        raise ValidationError([FieldError("claim", "no_lines", "the claim has no posted lines")])
    pairs, problem = match_lines(payment.lines, ours) if payment.lines else ([], None)
    if problem is not None:
        raise ValidationError([FieldError("lines", "unmatched", problem)])
    lines, denied = claim_postings(payment, pairs, ours, source=Account.UNAPPLIED)
    entry_id = None
    if lines:
        (entry_id,) = ledger.post_many(
            ctx,
            [
                Entry(
                    remittance.payment_date or ctx.today(),
                    "era_payment",
                    lines,
                    memo=f"remittance {remittance.id}, claim payment at segment {row.position}, "
                    "matched by hand",
                    reference=f"era-match:{row.id}",
                )
            ],
        )
    by_position = {ln.position: b.charge_id for ln, b in pairs}
    for line_row in ctx.session.exec(
        select(RemittanceLine).where(RemittanceLine.remittance_claim_id == row.id)
    ):
        line_row.charge_id = by_position.get(line_row.position)
        line_row.denied = bool(denied.get(line_row.charge_id))
        ctx.session.add(line_row)
    row.status, row.claim_id, row.match_method = "matched", claim.id, "manual"
    row.entry_id = entry_id or row.entry_id
    row.matched_at, row.matched_by_id = ctx.clock.now(), ctx.user.id
    ctx.session.add(row)
    ctx.session.flush()
    _move_claims(ctx, [(claim, claim_status_after(payment, denied), payment)], None)
    audit.record(
        ctx,
        action="era.match",
        patient_id=claim.patient_id,
        detail={"remittance_claim_id": row.id, "claim_id": claim.id, "entry_id": entry_id},
    )
    return ctx.session.get(RemittanceClaim, row.id)


# --- reading ----------------------------------------------------------------------------------
def list_remittances(ctx: Context, *, status: str | None = None, limit: int = 100):
    require(ctx, "claims:read", action="era.list")
    query = select(Remittance).where(Remittance.practice_id == ctx.practice_id)
    if status:
        query = query.where(Remittance.status == status)
    return list(ctx.session.exec(query.order_by(col(Remittance.id).desc()).limit(limit)))


def list_unmatched(ctx: Context, *, limit: int = 200) -> list[RemittanceClaim]:
    """Claim payments that matched no claim, oldest first: the worklist."""
    require(ctx, "claims:read", action="era.unmatched")
    rows = list(
        ctx.session.exec(
            select(RemittanceClaim)
            .where(
                RemittanceClaim.practice_id == ctx.practice_id,
                RemittanceClaim.status == "unmatched",
            )
            .order_by(RemittanceClaim.id)
            .limit(limit)
        )
    )
    audit.record_read(ctx, action="era.unmatched", detail={"rows": len(rows)})
    return rows


@dataclass
class RemittanceDetail:
    remittance: Remittance
    claims: list[RemittanceClaim]
    lines: dict[int, list[RemittanceLine]]  # by remittance claim id
    adjustments: dict[int, list[RemittanceAdjustment]]  # by remittance claim id
    plbs: list[RemittancePlb]


def get_remittance(ctx: Context, *, remittance_id: int) -> RemittanceDetail:
    require(ctx, "claims:read", action="era.show")
    remittance = ctx.session.get(Remittance, remittance_id)
    if remittance is None or remittance.practice_id != ctx.practice_id:
        raise NotFound(f"remittance {remittance_id} not found")
    claims = list(
        ctx.session.exec(
            select(RemittanceClaim)
            .where(RemittanceClaim.remittance_id == remittance_id)
            .order_by(RemittanceClaim.position)
        )
    )
    ids = [c.id for c in claims]
    lines: dict[int, list[RemittanceLine]] = defaultdict(list)
    adjustments: dict[int, list[RemittanceAdjustment]] = defaultdict(list)
    if ids:
        for ln in ctx.session.exec(
            select(RemittanceLine)
            .where(col(RemittanceLine.remittance_claim_id).in_(ids))
            .order_by(RemittanceLine.position)
        ):
            lines[ln.remittance_claim_id].append(ln)
        for a in ctx.session.exec(
            select(RemittanceAdjustment)
            .where(col(RemittanceAdjustment.remittance_claim_id).in_(ids))
            .order_by(RemittanceAdjustment.id)
        ):
            adjustments[a.remittance_claim_id].append(a)
    plbs = list(
        ctx.session.exec(
            select(RemittancePlb)
            .where(RemittancePlb.remittance_id == remittance_id)
            .order_by(RemittancePlb.id)
        )
    )
    audit.record_read(ctx, action="era.show", detail={"remittance_id": remittance_id})
    return RemittanceDetail(remittance, claims, lines, adjustments, plbs)
