"""`pms claim build|scrub|list|show|submit|status|correct|void|discard|x12|batches`,
`pms clearinghouse add|list|assign|poll` and `pms ack import|files|unmatched|resolve`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_core import codes
from pms_core.money import Money
from pms_core.services import claim_status, claims, submission


def _claim_ref(ctx, ref: str) -> int:
    """A claim given as its id, or as its 8-digit claim number (CLM01, "00000042")."""
    if ref.isdigit() and len(ref) < 8:
        return int(ref)
    return claims.get_claim(ctx, number=ref).claim.id


def _row(c) -> dict:
    return {
        "id": c.id,
        "claim_number": c.claim_number,
        "status": c.status,
        "kind": c.kind,
        "frequency": c.frequency,
        "patient_id": c.patient_id,
        "patient": c.patient_name,
        "payer": c.payer_name,
        "service_date": c.service_from,
        "total": Money(c.total_cents),
        "errors": c.error_count,
        "warnings": c.warning_count,
    }


@click.group("claim")
def claim_group() -> None:
    """Claims: build, scrub, submit, correct and void."""


@claim_group.command("build")
@click.option("--encounter", "encounter_ids", type=int, multiple=True)
@click.option("--patient", "patient_id", type=int)
@click.option("--scrub/--no-scrub", default=True, show_default=True, help="Scrub what was built.")
@pass_state
def claim_build(state: AppState, encounter_ids, patient_id, scrub: bool) -> None:
    """Build claims for posted charges no claim carries yet."""
    with state.uow() as ctx:
        result = claims.build_claims(
            ctx, encounter_ids=list(encounter_ids) or None, patient_id=patient_id
        )
        built = {c.id: c for c in result.claims}
        outcomes = (
            {o.claim_id: o for o in claims.scrub_claims(ctx, claim_ids=list(built))}
            if scrub and built
            else {}
        )
    emit(
        [
            {
                "id": c.id,
                "claim_number": c.claim_number,
                "patient_id": c.patient_id,
                "total": Money(c.total_cents),
                "status": outcomes[c.id].status if c.id in outcomes else c.status,
                "errors": sum(f.severity == "error" for f in outcomes[c.id].findings)
                if c.id in outcomes
                else None,
            }
            for c in built.values()
        ],
        state.fmt,
    )
    if result.self_pay_charges:
        click.echo(
            f"{len(result.self_pay_charges)} charge(s) have no coverage on their date: billed to "
            "the patient, no claim",
            err=True,
        )


def _findings_rows(outcomes) -> list[dict]:
    return [
        {
            "claim_number": o.claim_number,
            "status": o.status,
            "severity": str(f.severity),
            "code": f.code,
            "field": f.field,
            "line": f.line,
            "message": f.message,
        }
        for o in outcomes
        for f in o.findings
    ]


@claim_group.command("scrub")
@click.argument("refs", nargs=-1)
@pass_state
def claim_scrub(state: AppState, refs) -> None:
    """Scrub claims (default: every unsent one); list the findings."""
    with state.uow() as ctx:
        ids = [_claim_ref(ctx, r) for r in refs] or None
        outcomes = claims.scrub_claims(ctx, claim_ids=ids)
    emit(
        _findings_rows(outcomes),
        state.fmt,
        columns=["claim_number", "status", "severity", "code", "field", "line", "message"],
    )
    ready = sum(o.status == "ready" for o in outcomes)
    click.echo(
        f"{len(outcomes)} claim(s) scrubbed: {ready} ready, {len(outcomes) - ready} to fix",
        err=True,
    )


@claim_group.command("list")
@click.option("--worklist", type=click.Choice(list(claims.WORKLISTS)))
@click.option("--status")
@click.option("--patient", "patient_id", type=int)
@click.option("--payer", "payer_id", type=int)
@click.option("--limit", default=500, show_default=True)
@pass_state
def claim_list(state: AppState, **filters) -> None:
    """Claims of a worklist or status, newest first."""
    with state.uow() as ctx:
        rows = claims.list_claims(ctx, **filters)
    emit([_row(r) for r in rows], state.fmt)


@claim_group.command("counts")
@pass_state
def claim_counts(state: AppState) -> None:
    """How many claims each worklist holds."""
    with state.uow() as ctx:
        counts = claims.worklist_counts(ctx)
    emit([{"worklist": k, "claims": v} for k, v in counts.items()], state.fmt)


@claim_group.command("show")
@click.argument("ref")
@pass_state
def claim_show(state: AppState, ref: str) -> None:
    """A claim: lines, diagnoses, findings and history."""
    with state.uow() as ctx:
        detail = claims.get_claim(ctx, claim_id=_claim_ref(ctx, ref))
        checks = [_status_row(k) for k in claim_status.history(ctx, claim_id=detail.claim.id)]
    c, view = detail.claim, detail.view
    header = {
        "claim_number": c.claim_number,
        "id": c.id,
        "status": c.status,
        "kind": c.kind,
        "frequency": c.frequency,
        "payer": view.payer.name,
        "payer_claim_number": c.payer_claim_number,
        "patient_id": c.patient_id,
        "service_dates": f"{c.service_from} - {c.service_to}",
        "total": Money(c.total_cents),
        "diagnoses": ", ".join(codes.icd10_display(d) for d in view.diagnoses),
    }
    lines = [
        {
            "line": ln.line_number,
            "date": ln.service_date,
            "code": ln.code,
            "modifiers": ":".join(ln.modifiers),
            "units": str(ln.units.normalize()),
            "pointers": ",".join(str(p) for p in ln.diagnosis_pointers),
            "charge": Money(ln.charge_cents),
        }
        for ln in view.lines
    ]
    findings = [
        {
            "severity": f.severity,
            "code": f.code,
            "field": f.field,
            "line": f.line_number,
            "message": f.message,
        }
        for f in detail.findings
    ]
    events = [
        {
            "at": e.at,
            "from": e.from_status,
            "to": e.to_status,
            "by": detail.usernames.get(e.user_id, "system") if e.user_id else "system",
            "why": e.reason,
        }
        for e in detail.events
    ]
    if state.fmt in ("json", "jsonl"):
        record = {**header, "lines": lines, "findings": findings, "history": events}
        emit_record({**record, "status_checks": checks}, state.fmt)
        return
    emit_record(header, state.fmt)
    emit(lines, state.fmt, title="Lines")
    if findings:
        emit(findings, state.fmt, title="Findings")
    emit(events, state.fmt, title="History")
    if checks:
        emit(checks, state.fmt, title="Status checks (276/277)")


def _status_row(k) -> dict:
    return {
        "check": k.id,
        "claim_id": k.claim_id,
        "asked": k.asked_at,
        "mode": k.mode,
        "status": k.status,
        "category": k.category,
        "code": k.code,
        "paid": Money(k.paid_cents) if k.paid_cents is not None else None,
        "adjudicated": k.adjudicated,
        "answer": k.message,
    }


@claim_group.command("status")
@click.option("--claim", "refs", multiple=True, help="Ask about this claim (id or number).")
@click.option("--due", is_flag=True, help="Only list the claims due for a question.")
@click.option("--worklist", is_flag=True, help="Claims waiting past their payer's threshold.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Count days up to this date.")
@pass_state
def claim_status_cmd(state: AppState, refs, due: bool, worklist: bool, as_of) -> None:
    """Ask payers (276) about submitted claims with no adjudication after the
    days their payer profile says, and apply the answers (277): realtime when
    the clearinghouse can, else with the next poll. --worklist lists the
    claims stuck past that threshold."""
    day = as_of.date() if as_of else None
    with state.uow() as ctx:
        if worklist:
            rows = [
                {
                    "claim_id": f.claim_id, "claim_number": f.claim_number, "payer": f.payer_name,
                    "status": f.status, "total": Money(f.total_cents), "submitted": f.submitted,
                    "days": f.days_waiting, "threshold": f.inquiry_days,
                    "filing_deadline": f.timely_filing_deadline, "last_answer": f.last_answer,
                }
                for f in claim_status.followup_worklist(ctx, as_of=day)
            ]  # fmt: skip
        elif due:
            rows = [
                {"claim_id": c.id, "claim_number": c.claim_number, "status": c.status,
                 "submitted": c.submitted_at, "total": Money(c.total_cents)}
                for c in claim_status.due_claims(ctx, as_of=day)
            ]  # fmt: skip
        else:
            ids = [_claim_ref(ctx, r) for r in refs] or None
            rows = [_status_row(k) for k in claim_status.ask(ctx, claim_ids=ids, as_of=day)]
    emit(rows, state.fmt)
    if not (worklist or due) and not rows:
        click.echo("no claim is due for a status question", err=True)


@claim_group.command("x12")
@click.argument("ref")
@pass_state
def claim_x12(state: AppState, ref: str) -> None:
    """The X12 this claim went out as (its loops of the last batch file)."""
    with state.uow() as ctx:
        detail = claims.get_claim(ctx, claim_id=_claim_ref(ctx, ref))
    if detail.x12 is None:
        raise click.ClickException(f"claim {detail.claim.claim_number} has not been in a batch yet")
    click.echo(detail.x12)


@claim_group.command("submit")
@click.argument("refs", nargs=-1)
@click.option("--ready", "all_ready", is_flag=True, help="Submit every ready claim.")
@click.option("--no-send", is_flag=True, help="Build and validate the batch files only.")
@pass_state
def claim_submit(state: AppState, refs, all_ready: bool, no_send: bool) -> None:
    """Submit ready claims to their clearinghouses."""
    if not refs and not all_ready:
        raise click.UsageError("name claims to submit, or use --ready for all ready claims")
    with state.uow() as ctx:
        ids = [_claim_ref(ctx, r) for r in refs] or None
        results = submission.submit_claims(ctx, claim_ids=ids, send=not no_send)
    emit(
        [
            {
                "batch_id": r.batch_id,
                "clearinghouse": r.clearinghouse,
                "kind": r.kind,
                "file": r.file_name,
                "claims": r.claims,
                "status": r.status,
            }
            for r in results
        ],
        state.fmt,
    )
    problems = [(r, p) for r in results for p in r.problems]
    for r, p in problems[:50]:
        click.echo(f"batch {r.batch_id}: {p}", err=True)
    failed = [r for r in results if r.status in ("held", "failed")]
    if not results:
        click.echo("no ready claims", err=True)
    if failed:
        raise click.ClickException(
            f"{len(failed)} batch(es) not sent: "
            + "; ".join(
                f"batch {r.batch_id} {r.status}" + (f" ({r.error})" if r.error else "")
                for r in failed
            )
        )


def _correction(state, ref, payer_claim_number, reason, void: bool):
    with state.uow() as ctx:
        claim_id = _claim_ref(ctx, ref)
        if void:
            made = [
                claims.void_claim(
                    ctx, claim_id=claim_id, payer_claim_number=payer_claim_number, reason=reason
                )
            ]
        else:
            made = claims.correct_claim(
                ctx, claim_id=claim_id, payer_claim_number=payer_claim_number, reason=reason
            )
        emit(
            [
                {
                    "id": c.id,
                    "claim_number": c.claim_number,
                    "frequency": c.frequency,
                    "status": c.status,
                }
                for c in made
            ],
            state.fmt,
        )


@claim_group.command("correct")
@click.argument("ref")
@click.option("--payer-claim-number", help="The payer's number for the original, if not on file.")
@click.option("--reason", default="")
@pass_state
def claim_correct(state: AppState, ref, payer_claim_number, reason) -> None:
    """Replace a claim the payer has with a corrected one (frequency 7)."""
    _correction(state, ref, payer_claim_number, reason, void=False)


@claim_group.command("void")
@click.argument("ref")
@click.option("--payer-claim-number")
@click.option("--reason", default="")
@pass_state
def claim_void(state: AppState, ref, payer_claim_number, reason) -> None:
    """Ask the payer to cancel a claim (frequency 8)."""
    _correction(state, ref, payer_claim_number, reason, void=True)


@claim_group.command("discard")
@click.argument("ref")
@click.option("--reason", default="")
@pass_state
def claim_discard(state: AppState, ref, reason) -> None:
    """Drop a claim that was never sent; its charges can be billed again."""
    with state.uow() as ctx:
        c = claims.discard_claim(ctx, claim_id=_claim_ref(ctx, ref), reason=reason)
        emit_record({"claim_number": c.claim_number, "status": c.status}, state.fmt)


@claim_group.command("batches")
@click.option("--limit", default=50, show_default=True)
@pass_state
def claim_batches(state: AppState, limit: int) -> None:
    """Submission batches, newest first, with their problems when held."""
    with state.uow() as ctx:
        rows = submission.list_batches(ctx, limit=limit)
    emit(
        [
            {
                "id": b.id,
                "created": b.created_at,
                "kind": b.kind,
                "file": b.file_name,
                "isa13": b.interchange_control,
                "claims": b.claim_count,
                "total": Money(b.total_cents),
                "status": b.status,
                "problems": len(json.loads(b.problems)),
            }
            for b in rows
        ],
        state.fmt,
    )


# --- clearinghouses ------------------------------------------------------------------------
@click.group("clearinghouse")
def clearinghouse_group() -> None:
    """Where claims go and responses come from."""


@clearinghouse_group.command("add")
@click.argument("name")
@click.option("--transport", required=True, help="directory, sftp, or a plugin's.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="A transport setting.")
@click.option("--sender-id", required=True, help="ISA06: our id at the clearinghouse.")
@click.option("--sender-qualifier", default="ZZ", show_default=True)
@click.option("--receiver-id", required=True, help="ISA08: the clearinghouse's id.")
@click.option("--receiver-qualifier", default="ZZ", show_default=True)
@click.option("--receiver-name", required=True)
@click.option("--contact", "contact_name", required=True, help="Who they may call about files.")
@click.option("--phone", "contact_phone")
@click.option("--email", "contact_email")
@click.option("--test", "test_mode", is_flag=True, help="Mark files as test (ISA15 T).")
@click.option("--default", is_flag=True, help="Use for payers with no clearinghouse of their own.")
@pass_state
def clearinghouse_add(state: AppState, name, settings, test_mode, **fields) -> None:
    """Add a clearinghouse."""
    parsed = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        parsed[key.strip()] = value
    with state.uow() as ctx:
        row = submission.add_clearinghouse(
            ctx, name=name, settings=parsed, production=not test_mode, **fields
        )
        emit_record({"id": row.id, "name": row.name, "transport": row.transport}, state.fmt)


@clearinghouse_group.command("list")
@pass_state
def clearinghouse_list(state: AppState) -> None:
    """Clearinghouses and their settings (secrets are not shown)."""
    with state.uow() as ctx:
        rows = submission.list_clearinghouses(ctx)
    emit(
        [
            {
                "id": r.id,
                "name": r.name,
                "transport": r.transport,
                "settings": r.settings,
                "secrets": ", ".join(sorted(json.loads(r.secrets))) or None,
                "sender": f"{r.sender_qualifier}:{r.sender_id}",
                "receiver": f"{r.receiver_qualifier}:{r.receiver_id}",
                "default": r.is_default,
                "mode": "production" if r.production else "test",
            }
            for r in rows
        ],
        state.fmt,
    )


@clearinghouse_group.command("assign")
@click.argument("payer_id", type=int)
@click.argument("clearinghouse_id", type=int, required=False)
@pass_state
def clearinghouse_assign(state: AppState, payer_id, clearinghouse_id) -> None:
    """Send a payer's claims through a clearinghouse (none: the default)."""
    with state.uow() as ctx:
        submission.assign_payer(ctx, payer_id=payer_id, clearinghouse_id=clearinghouse_id)


def _outcome_rows(outcomes) -> list[dict]:
    return [
        {
            "file_id": o.inbound_file_id,
            "name": o.name,
            "kind": o.kind,
            "status": o.status,
            "accepted": o.accepted,
            "rejected": o.rejected,
            "unmatched": o.unmatched,
            "message": o.message,
        }
        for o in outcomes
    ]


@clearinghouse_group.command("poll")
@click.option("--clearinghouse", "clearinghouse_id", type=int)
@pass_state
def clearinghouse_poll(state: AppState, clearinghouse_id) -> None:
    """Fetch and apply response files (999, 277CA, TA1)."""
    with state.uow() as ctx:
        outcomes = submission.poll_clearinghouse(ctx, clearinghouse_id=clearinghouse_id)
    emit(_outcome_rows(outcomes), state.fmt)
    if any(o.status == "failed" for o in outcomes):
        raise click.ClickException(
            "some files could not be read: see 'pms ack files --status failed'"
        )


# --- acknowledgments ------------------------------------------------------------------------
@click.group("ack")
def ack_group() -> None:
    """Acknowledgments and other response files."""


@ack_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@pass_state
def ack_import(state: AppState, paths) -> None:
    """Apply response files received outside a clearinghouse connection."""
    outcomes = []
    for path in paths:
        with state.uow() as ctx:
            outcomes.append(
                submission.import_response(ctx, name=Path(path).name, data=Path(path).read_bytes())
            )
    emit(_outcome_rows(outcomes), state.fmt)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise click.ClickException(
            "; ".join(
                f"{o.name}: {o.message} (kept as inbound file {o.inbound_file_id})" for o in failed
            )
        )


@ack_group.command("files")
@click.option("--status", type=click.Choice(["processed", "failed", "unmatched"]))
@pass_state
def ack_files(state: AppState, status) -> None:
    """Response files received, newest first."""
    with state.uow() as ctx:
        rows = submission.list_inbound(ctx, status=status)
    emit(
        [
            {
                "id": f.id,
                "received": f.received_at,
                "name": f.name,
                "kind": f.kind,
                "status": f.status,
                "message": f.message,
            }
            for f in rows
        ],
        state.fmt,
    )


@ack_group.command("unmatched")
@pass_state
def ack_unmatched(state: AppState) -> None:
    """Verdicts that matched no batch or claim."""
    with state.uow() as ctx:
        rows = submission.list_unmatched(ctx)
    emit(
        [
            {
                "id": a.id,
                "file_id": a.inbound_file_id,
                "kind": a.kind,
                "reference": a.reference,
                "status": a.status,
                "codes": a.codes,
                "message": a.message,
            }
            for a in rows
        ],
        state.fmt,
    )


@ack_group.command("resolve")
@click.argument("ack_id", type=int)
@click.option("--claim", "claim_ref", help="Apply it to this claim (id or number).")
@pass_state
def ack_resolve(state: AppState, ack_id: int, claim_ref) -> None:
    """Settle an unmatched verdict: match it to a claim, or mark it looked at."""
    with state.uow() as ctx:
        claim_id = _claim_ref(ctx, claim_ref) if claim_ref else None
        submission.resolve_unmatched(ctx, acknowledgment_id=ack_id, claim_id=claim_id)
    click.echo(f"Resolved acknowledgment {ack_id}.", err=True)


def register(cli: click.Group) -> None:
    for group in (claim_group, clearinghouse_group, ack_group):
        cli.add_command(group)
