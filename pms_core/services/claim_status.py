"""Claim status (276/277): ask payers about submitted claims that have no
adjudication yet, apply what they say, and keep the claims that are stuck on
a follow-up worklist.

- `due_claims` are the claims waiting on the payer (submitted, accepted by
  the clearinghouse, or acknowledged by the payer) for longer than their
  payer profile's `status_inquiry_days`, not asked about in the last
  RECHECK_DAYS days.
- `ask` builds one 276 per clearinghouse and payer: answered at once when
  the transport has `realtime()`, else sent as a batch whose 277 comes with
  the next poll (`import_answers`, called by the poll's routing).
- Each 277 answer is kept on its check with every STC in words. A rejection
  (category A3, A6, A7, A8) moves the claim to rejected; A1/A2 moves a claim
  the payer had not acknowledged to acknowledged; anything else (pending,
  finalized: the 835 will post it) is recorded on the claim's history without
  moving it. An answer about a claim nobody asked about is kept on the
  unmatched acknowledgment list.
- `followup_worklist` lists every claim waiting past its profile's threshold,
  oldest first, with its last status answer and its timely-filing deadline.
Messages carry ids and codes, never PHI.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select

from pms_core import audit
from pms_core.context import Context
from pms_core.edi import X12Error
from pms_core.eligdata import StatusAnswer, StatusFormat, StatusInquiry, StatusRequest
from pms_core.errors import Conflict, NotFound, PmsError
from pms_core.models import Acknowledgment, Claim, ClaimStatusCheck, Clearinghouse, Coverage, Payer
from pms_core.permissions import require
from pms_core.plugins import contributions
from pms_core.scrub import profile_for
from pms_core.services import exchange
from pms_core.services.claims import payer_profiles, transition
from pms_core.transport import OutboundFile, TransportError

WAITING = ("submitted", "accepted", "acknowledged")
RECHECK_DAYS = 7
DEFAULT_INQUIRY_DAYS = 30
REJECTED_CATEGORIES = ("A3", "A6", "A7", "A8")
ACCEPTED_CATEGORIES = ("A1", "A2")


class ClaimStatusError(PmsError):
    """The question could not be asked (no format)."""


def formats(pm) -> list[StatusFormat]:
    return contributions(pm, "register_status_formats")


def read_answers(pm, data: bytes) -> list[StatusAnswer] | None:
    """Every answer in a 277 file (None: not one; X12Error: unreadable)."""
    for fmt in formats(pm):
        answers = fmt.read(data)
        if answers is not None:
            return answers
    return None


def _waiting(ctx: Context) -> list[tuple[Claim, Payer]]:
    rows = ctx.session.exec(
        select(Claim, Payer)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(
            Claim.practice_id == ctx.practice_id,
            col(Claim.status).in_(WAITING),
            col(Claim.submitted_at).is_not(None),
        )
        .order_by(Claim.submitted_at, Claim.id)
    )
    return list(rows)


def _last_checks(ctx: Context, claim_ids: list[int]) -> dict[int, ClaimStatusCheck]:
    last: dict[int, ClaimStatusCheck] = {}
    for start in range(0, len(claim_ids), 2000):
        for check in ctx.session.exec(
            select(ClaimStatusCheck)
            .where(col(ClaimStatusCheck.claim_id).in_(claim_ids[start : start + 2000]))
            .order_by(ClaimStatusCheck.id)
        ):
            last[check.claim_id] = check
    return last


@dataclass
class _Overdue:
    claim: Claim
    payer: Payer
    sent: date  # submitted, in the practice's time zone
    inquiry_days: int
    filing_days: int
    last_check: ClaimStatusCheck | None


def _overdue(ctx: Context, today: date) -> list[_Overdue]:
    """Claims waiting on the payer for at least their profile's inquiry days
    (in submission order), with their profile's limits and last question."""
    profiles = payer_profiles(ctx)
    waiting = _waiting(ctx)
    last = _last_checks(ctx, [c.id for c, _ in waiting])
    out = []
    for claim, payer in waiting:
        profile = profile_for(profiles, payer.edi_payer_id)
        inquiry = profile.status_inquiry_days if profile else DEFAULT_INQUIRY_DAYS
        sent = claim.submitted_at.astimezone(ctx.zone()).date()
        if (today - sent).days >= inquiry:
            filing = profile.timely_filing_days if profile else 365
            out.append(_Overdue(claim, payer, sent, inquiry, filing, last.get(claim.id)))
    return out


def due_claims(ctx: Context, *, as_of: date | None = None) -> list[Claim]:
    """Claims waiting on the payer past their profile's inquiry days, not
    asked about in the last RECHECK_DAYS days (see the module docstring)."""
    require(ctx, "claims:read", action="claim_status.due")
    today = as_of or ctx.today()
    due = []
    for o in _overdue(ctx, today):
        check = o.last_check
        if check is not None and (
            check.status == "pending"
            or (today - check.asked_at.astimezone(ctx.zone()).date()).days < RECHECK_DAYS
        ):
            continue
        due.append(o.claim)
    return due


@dataclass
class _Asked:
    check: ClaimStatusCheck
    claim: Claim


def ask(
    ctx: Context, *, claim_ids: Sequence[int] | None = None, as_of: date | None = None
) -> list[ClaimStatusCheck]:
    """Ask about `claim_ids` (each must be waiting on the payer), or about
    every due claim. Returns the checks, answered or pending."""
    require(ctx, "claims:submit", action="claim_status.ask")
    if claim_ids is None:
        claims = due_claims(ctx, as_of=as_of)
    else:
        claims = []
        for claim_id in claim_ids:
            claim = ctx.session.get(Claim, claim_id)
            if claim is None or claim.practice_id != ctx.practice_id:
                raise NotFound(f"claim {claim_id} not found")
            if claim.status not in WAITING:
                raise Conflict(
                    f"claim {claim_id} is {claim.status}: only a claim waiting on the payer "
                    "(submitted, accepted, acknowledged) can be asked about"
                )
            claims.append(claim)
    found = formats(ctx.pm)
    if claims and not found:
        raise ClaimStatusError("no plugin provides a claim status format (276/277)")
    groups: dict[tuple[int | None, int], list[_Asked]] = defaultdict(list)
    checks: list[ClaimStatusCheck] = []
    for claim in claims:
        payer = ctx.session.get(Payer, claim.payer_id)
        clearinghouse = exchange.clearinghouse_for(ctx, payer)
        check = _new_check(ctx, claim, clearinghouse)
        checks.append(check)
        if clearinghouse is None:
            _fail(ctx, check, exchange.no_clearinghouse(payer))
            continue
        groups[(clearinghouse.id, payer.id)].append(_Asked(check, claim))
    for (clearinghouse_id, payer_id), group in groups.items():
        _send(ctx, found[0], ctx.session.get(Clearinghouse, clearinghouse_id),
              ctx.session.get(Payer, payer_id), group)  # fmt: skip
    audit.record(
        ctx,
        action="claim_status.ask",
        detail={
            "claim_ids": [c.claim_id for c in checks],
            "answered": sum(1 for c in checks if c.status == "answered"),
            "pending": sum(1 for c in checks if c.status == "pending"),
            "failed": sum(1 for c in checks if c.status == "failed"),
        },
    )
    return checks


def _new_check(ctx: Context, claim: Claim, clearinghouse: Clearinghouse | None):
    check = ClaimStatusCheck(
        practice_id=ctx.practice_id,
        claim_id=claim.id,
        clearinghouse_id=clearinghouse.id if clearinghouse else None,
        trace=f"new-{uuid.uuid4().hex[:24]}",
        mode="batch",
        asked_at=ctx.clock.now(),
        asked_by_id=ctx.user.id if ctx.user else None,
    )
    ctx.session.add(check)
    ctx.session.flush()
    check.trace = f"S{check.id:09d}"
    ctx.session.add(check)
    ctx.session.flush()
    return check


def _request(
    ctx: Context, clearinghouse: Clearinghouse, payer: Payer, group: list[_Asked]
) -> StatusRequest:
    practice = ctx.practice()
    inquiries = []
    for a in group:
        subscriber, dependent = exchange.people(ctx, ctx.session.get(Coverage, a.claim.coverage_id))
        inquiries.append(
            StatusInquiry(
                trace=a.check.trace,
                claim_number=a.claim.claim_number,
                subscriber=subscriber,
                total_cents=a.claim.total_cents,
                service_from=a.claim.service_from,
                service_to=a.claim.service_to,
                payer_claim_number=a.claim.payer_claim_number,
                dependent=dependent,
            )
        )
    return StatusRequest(
        payer_name=payer.name,
        payer_id=payer.edi_payer_id,
        receiver_name=practice.name,
        receiver_id=clearinghouse.sender_id,  # our id with the clearinghouse
        provider_name=practice.name,
        provider_npi=practice.group_npi,
        claims=tuple(inquiries),
    )


def _send(ctx, fmt: StatusFormat, clearinghouse: Clearinghouse, payer: Payer, group) -> None:
    from pms_core.services.submission import SubmissionError, open_transport

    content = fmt.write(
        _request(ctx, clearinghouse, payer, group),
        sender_id=clearinghouse.sender_id,
        receiver_id=clearinghouse.receiver_id,
        control=exchange.take_control(ctx, clearinghouse),
        created=ctx.clock.now().astimezone(ctx.zone()),
        production=clearinghouse.production,
    )
    try:
        transport = open_transport(ctx, clearinghouse)
    except SubmissionError as exc:
        for a in group:
            _fail(ctx, a.check, f"not asked: {exc}")
        return
    try:
        if callable(getattr(transport, "realtime", None)):
            got = exchange.ask_realtime(
                transport, content, lambda data: read_answers(ctx.pm, data), "277"
            )
            if got.answers is None:
                for a in group:
                    a.check.mode = "realtime"
                    _fail(ctx, a.check, got.problem)
                return
            inbound = exchange.keep_file(
                ctx, f"277-{group[0].check.trace}.x12", got.data, clearinghouse.id, "277"
            )
            for a in group:
                a.check.mode = "realtime"
            _apply_all(ctx, got.answers, inbound.id, {a.check.trace: a.check for a in group})
            return
        name = f"276-{group[0].check.trace}.x12"
        try:
            transport.submit([OutboundFile(name, content)])
        except TransportError as exc:
            for a in group:
                _fail(ctx, a.check, f"not delivered to {clearinghouse.name!r}: {exc}")
            return
        for a in group:
            a.check.message = f"sent in {name}; the answer comes with the next poll"
            ctx.session.add(a.check)
        ctx.session.flush()
    finally:
        transport.close()


def _fail(ctx: Context, check: ClaimStatusCheck, message: str) -> None:
    check.status = "failed"
    check.message = message[:2000]
    check.answered_at = ctx.clock.now()
    ctx.session.add(check)
    ctx.session.flush()


# --- answers ----------------------------------------------------------------------------
def import_answers(
    ctx: Context, *, name: str, data: bytes, clearinghouse_id: int | None = None
) -> exchange.AnswerFileOutcome | None:
    """A 277 file from a poll: each answer completes the pending check that
    asked it (by trace, else the pending check of its claim number); the
    rest go to the unmatched acknowledgment list. None when the file is not
    a 277; one that cannot be read is kept, marked failed."""
    try:
        answers = read_answers(ctx.pm, data)
    except X12Error as exc:
        return exchange.unreadable(ctx, name, data, clearinghouse_id, "277", exc)
    if answers is None:
        return None
    inbound = exchange.keep_file(ctx, name, data, clearinghouse_id, "277")
    pending = {
        c.trace: c
        for c in ctx.session.exec(
            select(ClaimStatusCheck).where(
                ClaimStatusCheck.practice_id == ctx.practice_id,
                ClaimStatusCheck.status == "pending",
            )
        )
    }
    out = exchange.AnswerFileOutcome(inbound.id)
    out.applied, out.unmatched = _apply_all(ctx, answers, inbound.id, pending)
    out.message = f"{out.applied} claim status answers applied, {out.unmatched} unmatched"
    inbound.message = out.message
    ctx.session.add(inbound)
    ctx.session.flush()
    return out


def _apply_all(ctx, answers, inbound_id: int, checks: dict[str, ClaimStatusCheck]):
    by_claim_number = {}
    if checks:
        claims = {
            c.id: c
            for c in ctx.session.exec(
                select(Claim).where(col(Claim.id).in_([c.claim_id for c in checks.values()]))
            )
        }
        by_claim_number = {claims[c.claim_id].claim_number: c for c in checks.values()}
    applied = unmatched = 0
    for answer in answers:
        check = checks.pop(answer.trace or "", None) or by_claim_number.get(answer.claim_number)
        if check is None or check.status != "pending":
            unmatched += 1
            ctx.session.add(
                Acknowledgment(
                    practice_id=ctx.practice_id,
                    inbound_file_id=inbound_id,
                    kind="277",
                    reference=(answer.claim_number or answer.trace or "")[:50],
                    status="unmatched",
                    message="a claim status answer about a claim no pending question asked",
                )
            )
            continue
        _apply(ctx, check, answer, inbound_id)
        applied += 1
    for check in checks.values():  # asked, but the answer said nothing of it
        if check.status == "pending" and check.mode == "realtime":
            _fail(ctx, check, "the payer's answer says nothing about this claim")
    ctx.session.flush()
    return applied, unmatched


def _apply(ctx: Context, check: ClaimStatusCheck, answer: StatusAnswer, inbound_id: int) -> None:
    claim = ctx.session.get(Claim, check.claim_id)
    first = answer.statuses[0] if answer.statuses else None
    check.status = "answered"
    check.answered_at = ctx.clock.now()
    check.inbound_file_id = inbound_id
    check.category = first.category[:3] if first else None
    check.code = (first.code or None) and first.code[:5] if first else None
    check.payer_claim_number = (answer.payer_claim_number or None) and answer.payer_claim_number[
        :50
    ]
    check.paid_cents, check.adjudicated = answer.paid_cents, answer.adjudicated
    check.check_number = (answer.check_number or None) and answer.check_number[:16]
    check.message = "; ".join(s.message for s in answer.statuses) or "no status given"
    ctx.session.add(check)
    if check.payer_claim_number and not claim.payer_claim_number:
        claim.payer_claim_number = check.payer_claim_number
    reason = f"277 claim status ({check.category}): {check.message}"
    if check.category in REJECTED_CATEGORIES:
        transition(ctx, claim, "rejected", reason, inbound_file_id=inbound_id)
    elif check.category in ACCEPTED_CATEGORIES and claim.status in ("submitted", "accepted"):
        transition(ctx, claim, "acknowledged", reason, inbound_file_id=inbound_id)
    else:
        transition(ctx, claim, claim.status, reason, inbound_file_id=inbound_id)
    ctx.session.flush()


# --- reading ----------------------------------------------------------------------------
@dataclass
class FollowUp:
    claim_id: int
    claim_number: str
    payer_id: int
    payer_name: str
    status: str
    total_cents: int
    submitted: date
    days_waiting: int
    inquiry_days: int
    timely_filing_deadline: date
    last_check_id: int | None
    last_answer: str


def followup_worklist(ctx: Context, *, as_of: date | None = None) -> list[FollowUp]:
    """Claims waiting on the payer past their profile's inquiry days, the
    longest waiting first, with their last status answer."""
    require(ctx, "claims:read", action="claim_status.worklist")
    today = as_of or ctx.today()
    rows = []
    for o in _overdue(ctx, today):
        c, check = o.claim, o.last_check
        rows.append(
            FollowUp(
                c.id, c.claim_number, o.payer.id, o.payer.name, c.status, c.total_cents,
                o.sent, (today - o.sent).days, o.inquiry_days,
                c.service_to + timedelta(days=o.filing_days),
                check.id if check else None,
                (f"{check.status}: {check.message}" if check else "never asked"),
            )
        )  # fmt: skip
    rows.sort(key=lambda r: (-r.days_waiting, r.claim_id))
    return rows


def history(ctx: Context, *, claim_id: int) -> list[ClaimStatusCheck]:
    """A claim's status checks, newest first."""
    require(ctx, "claims:read", action="claim_status.read")
    claim = ctx.session.get(Claim, claim_id)
    if claim is None or claim.practice_id != ctx.practice_id:
        raise NotFound(f"claim {claim_id} not found")
    return list(
        ctx.session.exec(
            select(ClaimStatusCheck)
            .where(ClaimStatusCheck.claim_id == claim_id)
            .order_by(col(ClaimStatusCheck.id).desc())
        )
    )
