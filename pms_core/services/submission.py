"""Clearinghouses, claim submission and what comes back.

`submit_claims` turns ready claims into one X12 interchange per clearinghouse
and claim kind, with control numbers taken once under a row lock; the file is
validated by the writer (pyx12 in `pms_x12`) before it may leave, and a batch
that fails validation is held with its problems, nothing sent. Sending happens
after the batch is committed and outside any transaction; only a transport
that reports success marks the claims submitted. A transport failure (server
down, unknown host key) leaves them ready for a later retry.

`poll_clearinghouse` and `import_response` store each inbound file whole (once:
by its SHA-256) and apply it: TA1, 999 and 277CA verdicts are matched to the
batches, transaction sets and claims they answer. A rejection moves the claim
to the "rejected" worklist with the error in words; an acceptance moves it
forward; a verdict that matches nothing is kept on the unmatched list. A file
that cannot be read is kept, marked failed with the reason, and changes
nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlmodel import col, select

from pms_core import audit
from pms_core import validation as v
from pms_core.claimdata import InterchangeView, Party, TransactionView
from pms_core.context import Context
from pms_core.db import chunked
from pms_core.edi import ClaimWriter, ResponseFile, ResponseReader, X12Error, X12Problem
from pms_core.errors import Conflict, FieldError, NotFound, PmsError, ValidationError
from pms_core.models import (
    Acknowledgment,
    BatchClaim,
    Claim,
    ClaimFinding,
    Clearinghouse,
    InboundFile,
    Payer,
    SubmissionBatch,
)
from pms_core.permissions import require
from pms_core.plugins import contributions
from pms_core.services import claim_status, eligibility, remittance
from pms_core.services.claims import load_claim_views, transition
from pms_core.transport import InboundFile as RemoteFile
from pms_core.transport import OutboundFile, Transport, TransportError, TransportType

# Where a claim may go next on an acknowledgment, by its current status.
_ACCEPTABLE = {"submitted": "accepted"}
_ACKNOWLEDGEABLE = ("submitted", "accepted", "rejected")
_REJECTABLE = ("submitted", "accepted", "acknowledged")


class SubmissionError(PmsError):
    """Sending failed: nothing was marked submitted; the message says why."""


# --- clearinghouses -----------------------------------------------------------------
def transport_types(ctx: Context) -> dict[str, TransportType]:
    return {t.name: t for t in contributions(ctx.pm, "register_clearinghouses")}


def add_clearinghouse(
    ctx: Context,
    *,
    name: str,
    transport: str,
    settings: Mapping[str, str],
    sender_id: str,
    receiver_id: str,
    receiver_name: str,
    submitter_name: str | None = None,
    contact_name: str,
    contact_phone: str | None = None,
    contact_email: str | None = None,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    production: bool = True,
    default: bool = False,
) -> Clearinghouse:
    """Add a clearinghouse (`practice:manage`). Settings are checked against the
    transport's declared settings; secret ones are kept apart and never shown."""
    require(ctx, "practice:manage", action="clearinghouse.create")
    types = transport_types(ctx)
    errors: list[FieldError] = []
    kind = types.get(transport)
    if kind is None:
        errors.append(
            FieldError("transport", "unknown", f"one of: {', '.join(sorted(types)) or '(none)'}")
        )
    plain, secret = {}, {}
    if kind is not None:
        for key, value in settings.items():
            spec = kind.setting(key)
            if spec is None:
                errors.append(FieldError(f"setting {key}", "unknown", f"{transport} has no {key}"))
            elif spec.secret:
                secret[key] = value
            else:
                plain[key] = value
        for spec in kind.settings:
            if spec.required and not settings.get(spec.name) and spec.default is None:
                errors.append(FieldError(f"setting {spec.name}", "required", spec.description))
    for field_name, value, size in (
        ("sender_id", sender_id, 15),
        ("receiver_id", receiver_id, 15),
    ):
        if not value or len(value) > size or not all(c.isalnum() or c in " -." for c in value):
            errors.append(FieldError(field_name, "format", f"1 to {size} letters and digits"))
    for field_name, value in (
        ("sender_qualifier", sender_qualifier),
        ("receiver_qualifier", receiver_qualifier),
    ):
        if value not in ("01", "14", "20", "27", "28", "29", "30", "33", "ZZ"):
            errors.append(FieldError(field_name, "choice", "an ISA id qualifier such as ZZ or 30"))
    if contact_phone:
        err = v.phone_error("contact_phone", contact_phone)
        errors += [err] if err else []
    if not (contact_name or "").strip():
        errors.append(FieldError("contact_name", "required", "who the clearinghouse may call"))
    if not contact_phone and not contact_email:
        errors.append(
            FieldError("contact_phone", "required", "a phone or an email (the 837 submitter PER)")
        )
    if ctx.session.exec(
        select(Clearinghouse.id).where(
            Clearinghouse.practice_id == ctx.practice_id, Clearinghouse.name == name
        )
    ).first():
        errors.append(FieldError("name", "taken", f"a clearinghouse named {name!r} exists"))
    if errors:
        raise ValidationError(errors)
    if default:
        for other in ctx.session.exec(
            select(Clearinghouse).where(Clearinghouse.practice_id == ctx.practice_id)
        ):
            other.is_default = False
            ctx.session.add(other)
    row = Clearinghouse(
        practice_id=ctx.practice_id,
        name=name,
        transport=transport,
        settings=json.dumps(plain, sort_keys=True),
        secrets=json.dumps(secret, sort_keys=True),
        sender_qualifier=sender_qualifier,
        sender_id=sender_id,
        receiver_qualifier=receiver_qualifier,
        receiver_id=receiver_id,
        receiver_name=receiver_name,
        submitter_name=submitter_name or ctx.practice().name,
        contact_name=contact_name.strip(),
        contact_phone=v.normalize_phone(contact_phone) if contact_phone else None,
        contact_email=contact_email or None,
        production=production,
        is_default=default,
    )
    errors = v.too_long(
        {
            k: getattr(row, k)
            for k in ("name", "receiver_name", "submitter_name", "contact_name", "contact_email")
        },
        Clearinghouse,
    )
    if errors:
        raise ValidationError(errors)
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx, action="clearinghouse.create", detail={"clearinghouse_id": row.id})
    return row


def list_clearinghouses(ctx: Context) -> list[Clearinghouse]:
    require(ctx, "claims:read", action="clearinghouse.list")
    return list(
        ctx.session.exec(
            select(Clearinghouse)
            .where(Clearinghouse.practice_id == ctx.practice_id)
            .order_by(Clearinghouse.name)
        )
    )


def assign_payer(ctx: Context, *, payer_id: int, clearinghouse_id: int | None) -> Payer:
    """Send a payer's claims through a clearinghouse (None: the default one)."""
    require(ctx, "practice:manage", action="payer.clearinghouse")
    payer = ctx.session.get(Payer, payer_id)
    if payer is None or payer.practice_id != ctx.practice_id:
        raise NotFound(f"payer {payer_id} not found")
    if clearinghouse_id is not None:
        _clearinghouse(ctx, clearinghouse_id)
    payer.clearinghouse_id = clearinghouse_id
    ctx.session.add(payer)
    ctx.session.flush()
    audit.record(
        ctx,
        action="payer.clearinghouse",
        detail={"payer_id": payer_id, "clearinghouse_id": clearinghouse_id},
    )
    return payer


def _clearinghouse(ctx: Context, clearinghouse_id: int, *, lock: bool = False) -> Clearinghouse:
    row = ctx.session.get(Clearinghouse, clearinghouse_id, with_for_update=lock or None)
    if row is None or row.practice_id != ctx.practice_id:
        raise NotFound(f"clearinghouse {clearinghouse_id} not found")
    return row


def open_transport(ctx: Context, clearinghouse: Clearinghouse) -> Transport:
    kind = transport_types(ctx).get(clearinghouse.transport)
    if kind is None:
        raise SubmissionError(
            f"clearinghouse {clearinghouse.name!r}: no plugin provides the "
            f"{clearinghouse.transport!r} transport"
        )
    settings = {s.name: s.default for s in kind.settings if s.default is not None}
    settings.update(json.loads(clearinghouse.settings))
    settings.update(json.loads(clearinghouse.secrets))
    try:
        return kind.open(settings)
    except (TransportError, ValueError) as exc:
        raise SubmissionError(f"clearinghouse {clearinghouse.name!r}: {exc}") from None


# --- submission ----------------------------------------------------------------------
@dataclass
class BatchResult:
    batch_id: int
    clearinghouse: str
    kind: str
    file_name: str
    claims: int
    status: str  # sent, held, failed
    problems: list[str] = field(default_factory=list)
    error: str | None = None


def claim_writers(ctx: Context) -> dict[str, ClaimWriter]:
    return {w.kind: w for w in contributions(ctx.pm, "register_claim_writers")}


def submit_claims(
    ctx: Context, *, claim_ids: Sequence[int] | None = None, send: bool = True
) -> list[BatchResult]:
    """Submit ready claims (all of them, or `claim_ids`): one batch per
    clearinghouse and claim kind. Held batches (validation problems) send
    nothing. With `send=False` batches are built and validated only."""
    require(ctx, "claims:submit", action="claim.submit")
    query = select(Claim).where(Claim.practice_id == ctx.practice_id, Claim.status == "ready")
    claims: list[Claim] = []
    if claim_ids is None:
        claims = list(ctx.session.exec(query.order_by(Claim.id).with_for_update()))
    else:
        for chunk in chunked(list(claim_ids), 2000):
            claims += ctx.session.exec(
                query.where(col(Claim.id).in_(chunk)).with_for_update()
            ).all()
        missing = set(claim_ids) - {c.id for c in claims}
        if missing:
            raise Conflict(f"claim id {min(missing)} is not ready (scrub it first) or not found")
    if not claims:
        return []
    payers = {
        p.id: p
        for p in ctx.session.exec(
            select(Payer).where(col(Payer.id).in_(list({c.payer_id for c in claims})))
        )
    }
    default = ctx.session.exec(
        select(Clearinghouse).where(
            Clearinghouse.practice_id == ctx.practice_id,
            col(Clearinghouse.is_default).is_(True),
            col(Clearinghouse.active).is_(True),
        )
    ).first()
    groups: dict[tuple[int, str], list[Claim]] = defaultdict(list)
    for claim in claims:
        target = payers[claim.payer_id].clearinghouse_id or (default.id if default else None)
        if target is None:
            raise ValidationError(
                [
                    FieldError(
                        "clearinghouse",
                        "missing",
                        f"payer {claim.payer_id} has no clearinghouse and the practice has no "
                        "default; add one with 'pms clearinghouse add --default'",
                    )
                ]
            )
        groups[(target, claim.kind)].append(claim)
    writers = claim_writers(ctx)
    prepared = []
    for (clearinghouse_id, kind), group in sorted(groups.items()):
        writer = writers.get(kind)
        if writer is None:
            raise SubmissionError(f"no plugin writes {kind} claims (is pms_x12 installed?)")
        prepared.append(
            _build_batch(ctx, _clearinghouse(ctx, clearinghouse_id, lock=True), kind, group, writer)
        )
    # The batches (and their control numbers) are kept whatever happens next.
    ctx.session.commit()
    results = []
    for batch, group, clearinghouse in prepared:
        result = BatchResult(
            batch.id,
            clearinghouse.name,
            batch.kind,
            batch.file_name,
            len(group),
            batch.status,
            problems=[str(p) for p in json.loads(batch.problems)],
        )
        if batch.status == "built" and send:
            result.error = _send(ctx, batch, clearinghouse)
            result.status = batch.status
        results.append(result)
    audit.record(
        ctx,
        action="claim.submit",
        detail={
            "batch_ids": [r.batch_id for r in results],
            "claims": sum(r.claims for r in results if r.status == "sent"),
        },
    )
    return results


def _build_batch(
    ctx: Context, clearinghouse: Clearinghouse, kind: str, claims: list[Claim], writer: ClaimWriter
) -> tuple[SubmissionBatch, list[Claim], Clearinghouse]:
    control = clearinghouse.next_control
    clearinghouse.next_control = control + 1 if control < 999_999_999 else 1
    ctx.session.add(clearinghouse)
    views = load_claim_views(ctx, [c.id for c in claims])
    now = ctx.clock.now()
    set_control = "0001"
    interchange = InterchangeView(
        kind=kind,
        sender=Party(
            clearinghouse.sender_qualifier,
            clearinghouse.sender_id,
            clearinghouse.sender_id,
            clearinghouse.submitter_name,
        ),
        receiver=Party(
            clearinghouse.receiver_qualifier,
            clearinghouse.receiver_id,
            clearinghouse.receiver_id,
            clearinghouse.receiver_name,
        ),
        submitter_contact=clearinghouse.contact_name,
        submitter_phone=clearinghouse.contact_phone,
        submitter_email=clearinghouse.contact_email,
        interchange_control=control,
        group_control=control,
        created=now.astimezone(ctx.zone()),
        transactions=(
            TransactionView(set_control, tuple(views[c.id] for c in claims), f"B{control}"),
        ),
        production=clearinghouse.production,
    )
    found: list[X12Problem] = []
    try:
        content = writer.write(interchange)
        found = writer.validate(content)
    except (ValueError, X12Error) as exc:
        content = ""
        found = [X12Problem(None, None, None, "write", f"file could not be written: {exc}")]
    problems = [str(p) for p in found]
    batch = SubmissionBatch(
        practice_id=ctx.practice_id,
        clearinghouse_id=clearinghouse.id,
        kind=kind,
        interchange_control=control,
        group_control=control,
        file_name=f"{kind}_{clearinghouse.sender_id.strip()}_{control:09d}.x12".replace(" ", ""),
        content=content,
        status="held" if problems else "built",
        problems=json.dumps(problems),
        claim_count=len(claims),
        total_cents=sum(c.total_cents for c in claims),
        created_by_id=ctx.user.id if ctx.user else None,
        created_at=now,
    )
    ctx.session.add(batch)
    ctx.session.flush()
    ctx.session.add_all(
        BatchClaim(batch_id=batch.id, claim_id=c.id, set_control=set_control) for c in claims
    )
    if found:
        _hold(ctx, batch, claims, content, found)
    ctx.session.flush()
    return batch, claims, clearinghouse


def _hold(ctx, batch, claims: list[Claim], content: str, found: list[X12Problem]) -> None:
    """A batch that failed validation: each problem becomes a finding of the
    claim it is in (a problem outside every claim's loops, of all of them), and
    those claims go back to the scrub-errors worklist to be fixed."""
    owners = _claim_owners(content)
    per_claim: dict[str, list[X12Problem]] = defaultdict(list)
    numbers = [c.claim_number for c in claims]
    for problem in found:
        owner = owners(problem.position)
        for number in [owner] if owner else numbers:
            per_claim[number].append(problem)
    for claim in claims:
        mine = per_claim.get(claim.claim_number, [])
        if not mine:
            transition(
                ctx,
                claim,
                claim.status,
                f"batch {batch.id} held for other claims' problems",
                batch_id=batch.id,
            )
            continue
        ctx.session.add_all(
            ClaimFinding(
                claim_id=claim.id,
                code="X12_VALIDATION",
                severity="error",
                field=":".join(x for x in (p.segment, p.element) if x) or "file",
                message=str(p)[:300],
            )
            for p in mine
        )
        claim.error_count += len(mine)
        transition(
            ctx,
            claim,
            "scrubbed",
            f"batch {batch.id} held: the file failed validation ({len(mine)} problem(s) in this claim)",
            batch_id=batch.id,
        )


def _claim_owners(content: str):
    """position -> the claim number (CLM01) a segment position belongs to, or
    None for the envelope, headers and billing provider loops (all claims).

    A claim owns its CLM segment and what follows up to the next HL, and the
    subscriber/patient HL loops just before it."""
    if len(content) < 106:
        return lambda position: None
    element, terminator = content[3], content[105]
    first_subscriber = None
    claims_at: list[tuple[int, str]] = []
    hls: list[int] = []
    position = 0
    for segment in content.split(terminator):
        segment = segment.strip()
        if not segment:
            continue
        position += 1
        parts = segment.split(element, 4)
        if parts[0] == "HL":
            hls.append(position)
            if len(parts) > 3 and parts[3] == "22" and first_subscriber is None:
                first_subscriber = position
        elif parts[0] == "CLM" and len(parts) > 1:
            claims_at.append((position, parts[1]))

    def owner(position: int | None) -> str | None:
        if position is None or first_subscriber is None or position < first_subscriber:
            return None
        before = [(at, n) for at, n in claims_at if at <= position]
        after = [(at, n) for at, n in claims_at if at > position]
        if before and not any(before[-1][0] < h <= position for h in hls):
            return before[-1][1]  # inside that claim's 2300/2400 loops
        return after[0][1] if after else None  # a subscriber/patient loop before its claim

    return owner


def _send(ctx: Context, batch: SubmissionBatch, clearinghouse: Clearinghouse) -> str | None:
    """Deliver one built batch; on success mark it and its claims submitted.
    Returns the failure message, or None."""
    error = None
    try:
        transport = open_transport(ctx, clearinghouse)
        try:
            transport.submit([OutboundFile(batch.file_name, batch.content.encode("ascii"))])
        finally:
            transport.close()
    except (TransportError, SubmissionError) as exc:
        error = str(exc)
    except Exception as exc:  # a transport plugin's own failure: its message may hold anything
        error = f"the {clearinghouse.transport} transport failed ({type(exc).__name__})"
    batch = ctx.session.get(SubmissionBatch, batch.id, with_for_update=True)
    now = ctx.clock.now()
    claims = list(
        ctx.session.exec(
            select(Claim)
            .join(BatchClaim, BatchClaim.claim_id == Claim.id)
            .where(BatchClaim.batch_id == batch.id)
            .with_for_update()
        )
    )
    if error is not None:
        batch.status = "failed"
        batch.problems = json.dumps([f"not delivered: {error}"])
        for claim in claims:
            transition(
                ctx,
                claim,
                claim.status,
                f"batch {batch.id} not delivered: {error}"[:500],
                batch_id=batch.id,
            )
    else:
        batch.status = "sent"
        batch.sent_at = now
        for claim in claims:
            claim.submitted_at = now
            claim.first_submitted_at = claim.first_submitted_at or now
            claim.submission_count += 1
            claim.last_batch_id = batch.id
            transition(
                ctx,
                claim,
                "submitted",
                f"sent in batch {batch.id} ({batch.file_name}) to {clearinghouse.name}",
                batch_id=batch.id,
            )
    ctx.session.add(batch)
    ctx.session.commit()
    return error


def list_batches(ctx: Context, *, limit: int = 100) -> list[SubmissionBatch]:
    require(ctx, "claims:read", action="batch.list")
    return list(
        ctx.session.exec(
            select(SubmissionBatch)
            .where(SubmissionBatch.practice_id == ctx.practice_id)
            .order_by(col(SubmissionBatch.id).desc())
            .limit(limit)
        )
    )


# --- responses --------------------------------------------------------------------------
@dataclass
class FileOutcome:
    inbound_file_id: int
    name: str
    kind: str | None
    status: str  # processed, failed, duplicate
    message: str
    accepted: int = 0
    rejected: int = 0
    unmatched: int = 0


def response_readers(ctx: Context) -> list[ResponseReader]:
    return contributions(ctx.pm, "register_response_readers")


def import_response(
    ctx: Context, *, name: str, data: bytes, clearinghouse_id: int | None = None
) -> FileOutcome:
    """Store one response file (once, by content) and apply it."""
    require(ctx, "claims:write", action="response.import")
    outcome = _store_and_apply(ctx, name, data, clearinghouse_id)
    audit.record(
        ctx,
        action="response.import",
        detail={"inbound_file_id": outcome.inbound_file_id, "status": outcome.status},
    )
    return outcome


def poll_clearinghouse(ctx: Context, *, clearinghouse_id: int | None = None) -> list[FileOutcome]:
    """Fetch every waiting response from one clearinghouse (or each active one),
    store and apply each file in its own transaction, then remove it from the
    clearinghouse's inbox. A file that fails to apply is kept marked failed."""
    require(ctx, "claims:submit", action="clearinghouse.poll")
    query = select(Clearinghouse).where(
        Clearinghouse.practice_id == ctx.practice_id, col(Clearinghouse.active).is_(True)
    )
    if clearinghouse_id is not None:
        query = query.where(Clearinghouse.id == clearinghouse_id)
    targets = list(ctx.session.exec(query.order_by(Clearinghouse.id)))
    if clearinghouse_id is not None and not targets:
        raise NotFound(f"clearinghouse {clearinghouse_id} not found")
    outcomes: list[FileOutcome] = []
    for clearinghouse in targets:
        transport = open_transport(ctx, clearinghouse)
        try:
            try:
                waiting = transport.poll()
            except TransportError as exc:
                raise SubmissionError(f"clearinghouse {clearinghouse.name!r}: {exc}") from None
            stored: list[RemoteFile] = []
            for remote in waiting:
                outcomes.append(_route(ctx, remote, clearinghouse.id))
                ctx.session.commit()
                stored.append(remote)
            if stored:
                try:
                    transport.acknowledge(stored)
                except TransportError as exc:
                    raise SubmissionError(
                        f"clearinghouse {clearinghouse.name!r}: files stored but not removed "
                        f"from its inbox ({exc}); the next poll skips them"
                    ) from None
        finally:
            transport.close()
    audit.record(
        ctx,
        action="clearinghouse.poll",
        detail={"files": len(outcomes), "inbound_file_ids": [o.inbound_file_id for o in outcomes]},
    )
    return outcomes


def _route(ctx: Context, remote: RemoteFile, clearinghouse_id: int) -> FileOutcome:
    """A remittance (835) is imported and posted, eligibility (271) and claim
    status (277) answers complete their checks; anything else is a response."""
    for kind, service in (("271", eligibility), ("277", claim_status)):
        answers = service.import_answers(
            ctx, name=remote.name, data=remote.content, clearinghouse_id=clearinghouse_id
        )
        if answers is not None:
            return FileOutcome(
                answers.inbound_file_id, remote.name, kind, answers.status, answers.message
            )
    if not remittance.is_remittance(ctx, remote.content):
        return _store_and_apply(ctx, remote.name, remote.content, clearinghouse_id)
    try:
        era = remittance.import_era(
            ctx, name=remote.name, source=remote.content, clearinghouse_id=clearinghouse_id
        )
    except remittance.RemittanceError as exc:
        return FileOutcome(0, remote.name, "835", "failed", str(exc))
    return FileOutcome(era.inbound_file_id or 0, remote.name, "835", era.status, era.message)


def _store_and_apply(
    ctx: Context, name: str, data: bytes, clearinghouse_id: int | None
) -> FileOutcome:
    digest = hashlib.sha256(data).hexdigest()
    existing = ctx.session.exec(
        select(InboundFile).where(
            InboundFile.practice_id == ctx.practice_id, InboundFile.sha256 == digest
        )
    ).first()
    if existing is not None:
        return FileOutcome(
            existing.id,
            name,
            existing.kind,
            "duplicate",
            f"already received as inbound file {existing.id} ({existing.status})",
        )
    inbound = InboundFile(
        practice_id=ctx.practice_id,
        clearinghouse_id=clearinghouse_id,
        name=name[-200:],
        sha256=digest,
        status="received",
        content=data,
        received_at=ctx.clock.now(),
    )
    ctx.session.add(inbound)
    ctx.session.flush()
    try:
        response = _read(ctx, data)
        with ctx.session.begin_nested():
            outcome = _apply(ctx, inbound, response)
    except X12Error as exc:
        inbound.status = "failed"
        inbound.message = str(exc)[:500]
        ctx.session.add(inbound)
        ctx.session.flush()
        return FileOutcome(inbound.id, name, inbound.kind, "failed", inbound.message)
    inbound.kind = response.kind
    inbound.status = "processed" if outcome.accepted + outcome.rejected else "unmatched"
    inbound.message = outcome.message[:500]
    outcome.status = inbound.status
    ctx.session.add(inbound)
    ctx.session.flush()
    return outcome


def _read(ctx: Context, data: bytes) -> ResponseFile:
    for reader in response_readers(ctx):
        response = reader.read(data)
        if response is not None:
            return response
    raise X12Error("not a response file pms reads (TA1, 999 or 277CA)")


def _apply(ctx: Context, inbound: InboundFile, response: ResponseFile) -> FileOutcome:
    out = FileOutcome(inbound.id, inbound.name, response.kind, "processed", "")
    batches = _batches_for(ctx, response, inbound.clearinghouse_id)

    def record(kind, reference, status, codes, message, *, batch=None, claim=None) -> None:
        ctx.session.add(
            Acknowledgment(
                practice_id=ctx.practice_id,
                inbound_file_id=inbound.id,
                kind=kind,
                reference=str(reference)[:50],
                status=status,
                codes=codes[:200],
                message=message,
                batch_id=batch.id if batch else None,
                claim_id=claim.id if claim else None,
                matched=batch is not None or claim is not None,
            )
        )
        if batch is None and claim is None:
            out.unmatched += 1

    for ta1 in response.interchange_acks:
        batch = batches.get(("isa", ta1.interchange_control))
        status = {"A": "accepted", "E": "accepted_with_errors"}.get(ta1.status, "rejected")
        record("TA1", ta1.interchange_control, status, ta1.note_code, ta1.note, batch=batch)
        if batch is None:
            continue
        if ta1.rejected:
            batch.status = "rejected"
            ctx.session.add(batch)
            for claim in _batch_claims(ctx, batch):
                _reject(
                    ctx,
                    claim,
                    f"interchange {batch.interchange_control} rejected (TA1): {ta1.note}",
                    inbound,
                    batch,
                )
                out.rejected += 1
        else:
            out.accepted += 1

    for group in response.groups:
        batch = batches.get(("gs", group.group_control))
        record(
            "999",
            group.group_control,
            _group_status(group.status),
            group.status,
            f"functional group {group.group_control}: {_group_status(group.status)}",
            batch=batch,
        )
        if batch is None:
            continue
        by_set: dict[str, list[Claim]] = defaultdict(list)
        for claim, set_control in _batch_claims(ctx, batch, with_sets=True):
            by_set[set_control].append(claim)
        answered = set()
        for set_ack in group.sets:
            claims = by_set.get(set_ack.control_number.lstrip("0") or "0") or by_set.get(
                set_ack.control_number, []
            )
            message = _set_message(set_ack)
            record(
                "999-set",
                f"{group.group_control}/{set_ack.control_number}",
                "rejected" if set_ack.rejected else "accepted",
                ",".join(e.code for e in set_ack.errors) or set_ack.status,
                message,
                batch=batch if claims else None,
            )
            for claim in claims:
                answered.add(claim.id)
                if set_ack.rejected:
                    _reject(
                        ctx,
                        claim,
                        f"999 rejected transaction set {set_ack.control_number}: {message}",
                        inbound,
                        batch,
                    )
                    out.rejected += 1
                else:
                    _advance(
                        ctx,
                        claim,
                        "accepted",
                        f"999 accepted transaction set {set_ack.control_number}",
                        inbound,
                        batch,
                    )
                    out.accepted += 1
        if group.status in ("R", "M", "W", "X"):
            for claims in by_set.values():
                for claim in claims:
                    if claim.id not in answered:
                        _reject(
                            ctx,
                            claim,
                            f"999 rejected functional group {group.group_control}",
                            inbound,
                            batch,
                        )
                        out.rejected += 1
        batch.status = {"A": "accepted", "E": "accepted", "P": "partially_accepted"}.get(
            group.status, "rejected"
        )
        ctx.session.add(batch)

    numbers = [c.claim_number for c in response.claims]
    claims_by_number: dict[str, Claim] = {}
    for chunk in chunked(numbers, 2000):
        for claim in ctx.session.exec(
            select(Claim)
            .where(Claim.practice_id == ctx.practice_id, col(Claim.claim_number).in_(chunk))
            .with_for_update()
        ):
            claims_by_number[claim.claim_number] = claim
    for ack in response.claims:
        claim = claims_by_number.get(ack.claim_number)
        words = "; ".join(s.message for s in ack.statuses)
        codes = ",".join(
            ":".join(p for p in (s.category, s.code, s.entity) if p) for s in ack.statuses
        )
        record(
            "277CA",
            ack.claim_number,
            "accepted" if ack.accepted else "rejected",
            codes,
            words,
            claim=claim,
        )
        if claim is None:
            continue
        if ack.payer_claim_number:
            claim.payer_claim_number = ack.payer_claim_number[:50]
        if ack.accepted:
            _advance(ctx, claim, "acknowledged", f"277CA accepted: {words}", inbound, None)
            out.accepted += 1
        else:
            _reject(ctx, claim, f"277CA rejected: {words}", inbound, None)
            out.rejected += 1

    ctx.session.flush()
    parts = []
    if out.accepted:
        parts.append(f"{out.accepted} accepted")
    if out.rejected:
        parts.append(f"{out.rejected} rejected")
    if out.unmatched:
        parts.append(f"{out.unmatched} matched nothing (see the unmatched list)")
    out.message = f"{response.kind}: " + (", ".join(parts) or "nothing to apply")
    if not out.accepted and not out.rejected:
        out.message = (
            f"{response.kind}: matches no batch or claim of this practice; kept on the "
            "unmatched list"
        )
    return out


def _group_status(code: str) -> str:
    return {
        "A": "accepted",
        "E": "accepted with errors",
        "P": "partially accepted",
        "R": "rejected",
        "M": "rejected (message authentication failed)",
        "W": "rejected (assurance failed)",
        "X": "rejected (content could not be analyzed)",
    }.get(code, f"status {code}")


def _set_message(set_ack) -> str:
    if not set_ack.errors:
        return _group_status(set_ack.status)
    parts = []
    for e in set_ack.errors[:10]:
        where = " ".join(
            p
            for p in (
                f"segment {e.segment_id}" if e.segment_id else "",
                f"#{e.segment_position}" if e.segment_position else "",
                f"loop {e.loop_id}" if e.loop_id else "",
                f"element {e.element_position}" if e.element_position else "",
            )
            if p
        )
        parts.append(f"{where}: {e.message} ({e.code})" if where else f"{e.message} ({e.code})")
    return "; ".join(parts)


def _batches_for(
    ctx: Context, response: ResponseFile, clearinghouse_id: int | None
) -> dict[tuple[str, int], SubmissionBatch]:
    """Our batches a response may answer, by ISA13 and by GS06."""
    controls = {a.interchange_control for a in response.interchange_acks} | {
        g.group_control for g in response.groups
    }
    if not controls:
        return {}
    query = select(SubmissionBatch).where(
        SubmissionBatch.practice_id == ctx.practice_id,
        col(SubmissionBatch.status).not_in(("held",)),
        or_controls(controls),
    )
    if clearinghouse_id is not None:
        query = query.where(SubmissionBatch.clearinghouse_id == clearinghouse_id)
    out = {}
    for batch in ctx.session.exec(query.order_by(SubmissionBatch.id).with_for_update()):
        out[("isa", batch.interchange_control)] = batch
        out[("gs", batch.group_control)] = batch
    return out


def or_controls(controls: set[int]):
    from sqlalchemy import or_

    values = sorted(controls)
    return or_(
        col(SubmissionBatch.interchange_control).in_(values),
        col(SubmissionBatch.group_control).in_(values),
    )


def _batch_claims(ctx: Context, batch: SubmissionBatch, *, with_sets: bool = False):
    rows = ctx.session.exec(
        select(Claim, BatchClaim.set_control)
        .join(BatchClaim, BatchClaim.claim_id == Claim.id)
        .where(BatchClaim.batch_id == batch.id)
        .order_by(Claim.id)
        .with_for_update()
    ).all()
    if with_sets:
        return [(c, s.lstrip("0") or "0") for c, s in rows]
    return [c for c, _ in rows]


def _reject(ctx, claim: Claim, reason: str, inbound: InboundFile, batch) -> None:
    if claim.status in _REJECTABLE:
        transition(
            ctx,
            claim,
            "rejected",
            reason,
            batch_id=batch.id if batch else None,
            inbound_file_id=inbound.id,
        )
    else:  # already further along (or already rejected): keep the verdict as history
        transition(
            ctx,
            claim,
            claim.status,
            f"(not applied: claim is {claim.status}) {reason}"[:500],
            batch_id=batch.id if batch else None,
            inbound_file_id=inbound.id,
        )


def _advance(ctx, claim: Claim, to_status: str, reason: str, inbound: InboundFile, batch) -> None:
    allowed = _ACCEPTABLE.get(claim.status) == to_status or (
        to_status == "acknowledged" and claim.status in _ACKNOWLEDGEABLE
    )
    transition(
        ctx,
        claim,
        to_status if allowed else claim.status,
        reason if allowed else f"(not applied: claim is {claim.status}) {reason}"[:500],
        batch_id=batch.id if batch else None,
        inbound_file_id=inbound.id,
    )


# --- worklists ----------------------------------------------------------------------------
def list_unmatched(ctx: Context, *, limit: int = 200) -> list[Acknowledgment]:
    """Verdicts that matched no batch or claim and nobody has resolved yet."""
    require(ctx, "claims:read", action="ack.unmatched")
    return list(
        ctx.session.exec(
            select(Acknowledgment)
            .where(
                Acknowledgment.practice_id == ctx.practice_id,
                col(Acknowledgment.matched).is_(False),
                col(Acknowledgment.resolved_at).is_(None),
            )
            .order_by(col(Acknowledgment.id).desc())
            .limit(limit)
        )
    )


def resolve_unmatched(
    ctx: Context, *, acknowledgment_id: int, claim_id: int | None = None
) -> Acknowledgment:
    """Settle an unmatched verdict: match it to a claim by hand (applying it), or
    just mark it looked at."""
    require(ctx, "claims:write", action="ack.resolve")
    ack = ctx.session.get(Acknowledgment, acknowledgment_id, with_for_update=True)
    if ack is None or ack.practice_id != ctx.practice_id or ack.matched:
        raise NotFound(f"unmatched acknowledgment {acknowledgment_id} not found")
    if ack.resolved_at is not None:
        raise Conflict(f"acknowledgment {acknowledgment_id} was already resolved")
    if claim_id is not None:
        claim = ctx.session.get(Claim, claim_id, with_for_update=True)
        if claim is None or claim.practice_id != ctx.practice_id:
            raise NotFound(f"claim id {claim_id} not found")
        inbound = ctx.session.get(InboundFile, ack.inbound_file_id)
        reason = f"matched by hand to {ack.kind} {ack.reference}: {ack.message}"[:500]
        if ack.status == "rejected":
            _reject(ctx, claim, reason, inbound, None)
        elif ack.kind == "277CA":
            _advance(ctx, claim, "acknowledged", reason, inbound, None)
        else:
            _advance(ctx, claim, "accepted", reason, inbound, None)
        ack.claim_id = claim.id
        ack.matched = True
    ack.resolved_at = ctx.clock.now()
    ack.resolved_by_id = ctx.user.id if ctx.user else None
    ctx.session.add(ack)
    ctx.session.flush()
    audit.record(
        ctx,
        action="ack.resolve",
        detail={"acknowledgment_id": ack.id, "claim_id": claim_id},
    )
    return ack


def list_inbound(ctx: Context, *, status: str | None = None, limit: int = 100) -> list[InboundFile]:
    require(ctx, "claims:read", action="inbound.list")
    query = select(InboundFile).where(InboundFile.practice_id == ctx.practice_id)
    if status is not None:
        query = query.where(InboundFile.status == status)
    return list(ctx.session.exec(query.order_by(col(InboundFile.id).desc()).limit(limit)))
