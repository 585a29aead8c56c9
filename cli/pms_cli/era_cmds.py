"""`pms era import|list|show|unmatched|match` and `pms ledger show`."""

from __future__ import annotations

from pathlib import Path

import click

from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_core.adjustment_codes import adjustment_words, rarc_words
from pms_core.money import Money
from pms_core.services import ledger as ledger_service
from pms_core.services import remittance


@click.group("era")
def era_group() -> None:
    """Remittance advice (835): import and post, list, show, work unmatched payments."""


def _set_rows(name: str, outcome: remittance.EraOutcome) -> list[dict]:
    rows = []
    for s in outcome.sets or [None]:
        rows.append(
            {
                "file": name,
                "set": s.set_control if s else "",
                "status": s.status if s else outcome.status,
                "claims": s.claims if s else 0,
                "matched": s.matched if s else 0,
                "unmatched": s.unmatched if s else 0,
                "paid": Money(s.paid_cents) if s else None,
                "adjusted": Money(s.adjusted_cents) if s else None,
                "patient_resp": Money(s.patient_resp_cents) if s else None,
                "plb": Money(s.plb_cents) if s else None,
                "payment": Money(s.payment_cents) if s else None,
                "balanced": s.balanced if s else None,
                "remittance_id": s.remittance_id if s else None,
                "message": (s.message if s else "") or outcome.message,
            }
        )
    return rows


@era_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would post; write nothing.")
@pass_state
def era_import(state: AppState, paths, dry_run: bool) -> None:
    """Import 835 files and post them. Per file and set: posted, held (does not
    balance), rejected or duplicate, with claims matched and unmatched, paid,
    adjusted, patient responsibility and PLB. Exit 1 when any set was not posted."""
    rows, postings, refused = [], [], []
    for path in paths:
        name = Path(path).name
        with state.uow() as ctx, open(path, "rb") as source:
            try:
                outcome = remittance.import_era(ctx, name=name, source=source, dry_run=dry_run)
            except remittance.RemittanceError as exc:
                refused.append(f"{name}: {exc}")
                continue
        rows += _set_rows(name, outcome)
        if outcome.status not in ("posted",):
            refused.append(f"{name}: {outcome.status}")
        for s in outcome.sets:
            postings += [
                {
                    "file": name,
                    "claim": p.claim_number,
                    "charge_id": p.charge_id,
                    "account": p.account,
                    "amount": Money(p.amount_cents),
                    "reason": p.reason,
                }
                for p in s.postings
            ]
    if rows:
        emit(rows, state.fmt, title="dry run: nothing was written" if dry_run else None)
    if dry_run and postings:
        emit(postings, state.fmt, title="would post")
    if refused:
        raise click.ClickException("not posted: " + "; ".join(refused))


@era_group.command("list")
@click.option("--status", type=click.Choice(["posted", "held", "rejected", "duplicate"]))
@click.option("--limit", default=100, show_default=True)
@pass_state
def era_list(state: AppState, status, limit: int) -> None:
    """Remittances received, newest first."""
    with state.uow() as ctx:
        found = remittance.list_remittances(ctx, status=status, limit=limit)
    emit(
        [
            {
                "id": r.id,
                "status": r.status,
                "payer": r.payer_name,
                "trace": r.trace_number,
                "date": r.payment_date,
                "payment": Money(r.payment_cents),
                "claims": r.claim_count,
                "unmatched": r.unmatched_count,
                "message": r.message,
            }
            for r in found
        ],
        state.fmt,
        columns=["id", "status", "payer", "trace", "date", "payment", "claims", "unmatched",
                 "message"],
    )  # fmt: skip


@era_group.command("show")
@click.argument("remittance_id", type=int)
@pass_state
def era_show(state: AppState, remittance_id: int) -> None:
    """One remittance: each claim payment, its lines and every adjustment in words."""
    with state.uow() as ctx:
        d = remittance.get_remittance(ctx, remittance_id=remittance_id)
        rows = []
        for c in d.claims:
            claim_adjustments = [a for a in d.adjustments[c.id] if a.remittance_line_id is None]
            rows.append(_payment_row(ctx, c, None, claim_adjustments))
            for ln in d.lines[c.id]:
                line_adjustments = [a for a in d.adjustments[c.id] if a.remittance_line_id == ln.id]
                rows.append(_payment_row(ctx, c, ln, line_adjustments))
        r = d.remittance
        header = {
            "id": r.id,
            "status": r.status,
            "payer": r.payer_name,
            "trace": r.trace_number,
            "payment": Money(r.payment_cents),
            "date": r.payment_date,
            "paid": Money(r.paid_cents),
            "adjusted": Money(r.adjusted_cents),
            "patient_resp": Money(r.patient_resp_cents),
            "plb": Money(r.plb_cents),
            "message": r.message,
        }
        plbs = [
            {"reason": p.reason, "reference": p.reference, "amount": Money(p.amount_cents)}
            for p in d.plbs
        ]
    emit_record(header, state.fmt)
    emit(rows, state.fmt, title="claim payments")
    if plbs:
        emit(plbs, state.fmt, title="provider-level adjustments")


def _payment_row(ctx, c, line, adjustments) -> dict:
    words = "; ".join(
        f"{a.group_code}-{a.reason} {Money(a.amount_cents)} "
        f"({adjustment_words(a.group_code, a.reason, ctx.session)})"
        for a in adjustments
    )
    remarks = (line.remarks if line else c.remarks) or ""
    if remarks:
        codes = set(remarks.split(","))
        words += ("; " if words else "") + "; ".join(
            f"{k}: {v}" for k, v in sorted(rarc_words(codes, ctx.session).items())
        )
    return {
        "claim": c.claim_number,
        "status": c.status if line is None else ("denied" if line.denied else ""),
        "claim_id": c.claim_id if line is None else None,
        "line": "" if line is None else f"{line.procedure} {line.modifiers}".strip(),
        "charge_id": None if line is None else line.charge_id,
        "billed": Money((line or c).charge_cents),
        "paid": Money((line or c).paid_cents),
        "adjustments": words,
        "unmatched_reason": c.unmatched_reason if line is None else "",
    }


@era_group.command("unmatched")
@pass_state
def era_unmatched(state: AppState) -> None:
    """Claim payments that matched no claim: match them with `pms era match`."""
    with state.uow() as ctx:
        rows = remittance.list_unmatched(ctx)
    emit(
        [
            {
                "id": r.id,
                "remittance_id": r.remittance_id,
                "claim_number": r.claim_number,
                "payer_claim_number": r.payer_claim_number,
                "patient": ", ".join(p for p in (r.patient_last, r.patient_first) if p),
                "member_id": r.member_id,
                "service_date": r.service_from,
                "billed": Money(r.charge_cents),
                "paid": Money(r.paid_cents),
                "reason": r.unmatched_reason,
            }
            for r in rows
        ],
        state.fmt,
    )


@era_group.command("match")
@click.argument("remittance_claim_id", type=int)
@click.argument("claim_id", type=int)
@pass_state
def era_match(state: AppState, remittance_claim_id: int, claim_id: int) -> None:
    """Apply an unmatched claim payment to claim CLAIM_ID (moves it out of unapplied cash)."""
    with state.uow() as ctx:
        row = remittance.match_claim(
            ctx, remittance_claim_id=remittance_claim_id, claim_id=claim_id
        )
        emit_record(
            {
                "id": row.id,
                "status": row.status,
                "claim_id": row.claim_id,
                "entry_id": row.entry_id,
            },
            state.fmt,
        )


@click.group("ledger")
def ledger_group() -> None:
    """The ledger: every posting, explained."""


@ledger_group.command("show")
@click.option("--patient", "patient_id", type=int)
@click.option("--claim", "claim_id", type=int)
@pass_state
def ledger_show(state: AppState, patient_id, claim_id) -> None:
    """Postings of a patient or of one claim's charges, with each reason in words."""
    if (patient_id is None) == (claim_id is None):
        raise click.UsageError("give one of --patient ID and --claim ID")
    with state.uow() as ctx:
        lines = ledger_service.ledger_lines(ctx, patient_id=patient_id, claim_id=claim_id)
    emit(
        [
            {
                "entry": ln.entry_id,
                "date": ln.entry_date,
                "kind": ln.kind,
                "account": ln.account,
                "amount": ln.amount,
                "charge_id": ln.charge_id,
                "code": ln.code,
                "reason": ln.reason,
                "why": ln.reason_words,
            }
            for ln in lines
        ],
        state.fmt,
        columns=[
            "entry",
            "date",
            "kind",
            "account",
            "amount",
            "charge_id",
            "code",
            "reason",
            "why",
        ],
    )


def register(cli: click.Group) -> None:
    cli.add_command(era_group)
    cli.add_command(ledger_group)
