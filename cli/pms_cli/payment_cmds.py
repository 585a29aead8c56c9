"""`pms denial list|resubmit|appeal|writeoff|transfer`,
`pms payment post|apply|refund|reverse|list|receipt` and `pms statement run|list|show`."""

from __future__ import annotations

import sys

import click

from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_core.money import Money
from pms_core.services import denials, payments


@click.group("denial")
def denial_group() -> None:
    """The denial worklist: denied charges still with the payer, and what to do about them."""


@denial_group.command("list")
@click.option("--payer", "payer_id", type=int)
@click.option("--reason", help="a CARC (50) or group and CARC (CO-50)")
@pass_state
def denial_list(state: AppState, payer_id, reason) -> None:
    """Open denials by payer and reason, largest open amount first."""
    with state.uow() as ctx:
        groups = denials.list_denials(ctx, payer_id=payer_id, reason=reason)
    emit(
        [
            {
                "payer": g.payer_name,
                "reason": g.reason,
                "why": g.words,
                "remittance_claim_id": d.remittance_claim_id,
                "charge_id": d.charge_id,
                "claim_id": d.claim_id,
                "claim": d.claim_number,
                "code": d.code,
                "service_date": d.service_date,
                "open": Money(d.open_cents),
                "remarks": "; ".join(f"{c}: {w}" for c, w in d.remarks),
                "timely_filing_by": d.timely_deadline,
                "appealed": d.appealed,
            }
            for g in groups
            for d in g.denials
        ],
        state.fmt,
    )


def _denial_command(name: str, action, text_option: str, help_text: str):
    @denial_group.command(name, help=help_text)
    @click.argument("remittance_claim_id", type=int)
    @click.argument("charge_id", type=int)
    @click.option(f"--{text_option}", "text", required=True)
    @pass_state
    def command(state: AppState, remittance_claim_id: int, charge_id: int, text: str) -> None:
        with state.uow() as ctx:
            result = action(
                ctx,
                remittance_claim_id=remittance_claim_id,
                charge_id=charge_id,
                **{text_option: text},
            )
        rows = result[0] if isinstance(result, tuple) else [result]
        emit(
            [{"action": r.action, "charge_id": r.charge_id, "entry_id": r.entry_id,
              "amount": Money(r.amount_cents), "note": r.note} for r in rows],
            state.fmt,
        )  # fmt: skip

    return command


_denial_command("appeal", denials.appeal, "note", "Record an appeal (the denial stays listed).")
_denial_command(
    "writeoff", denials.write_off, "reason", "Write off the open amount (needs ledger:writeoff)."
)
_denial_command("transfer", denials.transfer_to_patient, "note", "Make it the patient's to pay.")
_denial_command(
    "resubmit", denials.resubmit, "note", "Correct the claim (frequency 7) and send it again."
)


@click.group("payment")
def payment_group() -> None:
    """Patient payments and copays, credits, refunds, receipts."""


@payment_group.command("post")
@click.option("--patient", "patient_id", type=int, required=True)
@click.option("--amount", required=True)
@click.option("--method", type=click.Choice(payments.METHODS), required=True)
@click.option("--reference", help="check number, or the card terminal's approval reference")
@click.option("--processor", help="card processor (default: the only one installed)")
@click.option("--encounter", "encounter_ids", type=int, multiple=True, help="apply to these visits")
@click.option("--note", default="")
@pass_state
def payment_post(state: AppState, patient_id, amount, method, reference, processor,
                 encounter_ids, note) -> None:  # fmt: skip
    """Take a payment; prints the receipt."""
    with state.uow() as ctx:
        receipt = payments.post_payment(
            ctx, patient_id=patient_id, amount=amount, method=method, reference=reference,
            processor=processor, encounter_ids=list(encounter_ids) or None, note=note,
        )  # fmt: skip
    _emit_receipt(state, receipt)


def _emit_receipt(state: AppState, receipt: payments.Receipt) -> None:
    if state.fmt == "table":
        click.echo(receipt.text(), nl=False)
        return
    p = receipt.payment
    emit_record(
        {
            "payment_id": p.id,
            "receipt": p.receipt_number,
            "amount": Money(p.amount_cents),
            "method": p.method,
            "applied": Money(p.applied_cents),
            "credit": Money(receipt.credit_cents),
            "balance": Money(receipt.balance_cents),
        },
        state.fmt,
    )


@payment_group.command("apply")
@click.option("--patient", "patient_id", type=int, required=True)
@pass_state
def payment_apply(state: AppState, patient_id: int) -> None:
    """Apply the patient's credit to their open balances, oldest first."""
    with state.uow() as ctx:
        cents = payments.apply_credit(ctx, patient_id=patient_id)
    emit_record({"patient_id": patient_id, "applied": Money(cents)}, state.fmt)


@payment_group.command("refund")
@click.option("--patient", "patient_id", type=int, required=True)
@click.option("--amount", required=True)
@click.option("--method", type=click.Choice(payments.METHODS), required=True)
@click.option("--reason", required=True)
@click.option("--reference")
@pass_state
def payment_refund(state: AppState, patient_id, amount, method, reason, reference) -> None:
    """Refund part or all of a patient's credit (needs payments:refund)."""
    with state.uow() as ctx:
        p = payments.refund(ctx, patient_id=patient_id, amount=amount, method=method,
                            reason=reason, reference=reference)  # fmt: skip
    emit_record({"payment_id": p.id, "receipt": p.receipt_number, "refunded": Money(p.amount_cents)},
                state.fmt)  # fmt: skip


@payment_group.command("reverse")
@click.argument("payment_id", type=int)
@click.option("--reason", required=True)
@pass_state
def payment_reverse(state: AppState, payment_id: int, reason: str) -> None:
    """Reverse a payment that did not stand, such as a bounced check."""
    with state.uow() as ctx:
        p = payments.reverse_payment(ctx, payment_id=payment_id, reason=reason)
    emit_record({"payment_id": p.id, "reversed_by_entry": p.reversed_entry_id}, state.fmt)


@payment_group.command("list")
@click.option("--patient", "patient_id", type=int)
@pass_state
def payment_list(state: AppState, patient_id) -> None:
    """Payments and refunds, newest first."""
    with state.uow() as ctx:
        rows = payments.list_payments(ctx, patient_id=patient_id)
    emit(
        [
            {
                "id": p.id,
                "receipt": p.receipt_number,
                "patient_id": p.patient_id,
                "kind": p.kind,
                "method": p.method,
                "amount": Money(p.amount_cents),
                "applied": Money(p.applied_cents),
                "date": p.received_on,
                "reference": p.reference,
                "reversed": p.reversed_entry_id is not None,
            }
            for p in rows
        ],
        state.fmt,
    )


@payment_group.command("receipt")
@click.argument("payment_id", type=int)
@pass_state
def payment_receipt(state: AppState, payment_id: int) -> None:
    """Print a payment's receipt again."""
    with state.uow() as ctx:
        receipt = payments.get_receipt(ctx, payment_id=payment_id)
    _emit_receipt(state, receipt)


@click.group("statement")
def statement_group() -> None:
    """Patient statements: run, list, show, print."""


@statement_group.command("run")
@click.option("--date", "statement_date", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--min", "min_balance", default="5.00", show_default=True)
@click.option("--cycle", help="K/N: the K-th of N groups of patients (cycle billing)")
@click.option("--message", default="", help="a line printed on every statement")
@click.option(
    "-o", "--out", "out_dir", type=click.Path(file_okay=False), help="write PDF and CSV here"
)
@click.option("--dry-run", is_flag=True, help="list who would get a statement; record nothing")
@pass_state
def statement_run(state: AppState, statement_date, min_balance, cycle, message, out_dir,
                  dry_run: bool) -> None:  # fmt: skip
    """Make statements for patients who owe their own share (nothing pending with insurance)."""
    from pathlib import Path

    from pms_core.services import statements

    with state.uow() as ctx:
        result = statements.run_statements(
            ctx, statement_date=statement_date.date() if statement_date else None,
            min_balance=min_balance, cycle=cycle, dry_run=dry_run, message=message,
        )  # fmt: skip
        files = {}
        if result.run is not None and out_dir and result.statements:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            for fmt in ("pdf", "csv"):
                path = folder / f"statements-{result.run.id}.{fmt}"
                path.write_bytes(statements.render_run(ctx, run_id=result.run.id, fmt=fmt))
                files[fmt] = str(path)
    emit_record(
        {
            "run_id": result.run.id if result.run else None,
            "statements": len(result.statements),
            "total": Money(sum(v.balance_cents for v in result.statements)),
            "below_minimum": result.below_minimum,
            "insurance_pending": result.insurance_pending,
            **{f"{fmt}_file": path for fmt, path in files.items()},
        },
        state.fmt,
    )


@statement_group.command("list")
@pass_state
def statement_list(state: AppState) -> None:
    """Statement runs, newest first."""
    from pms_core.services import statements

    with state.uow() as ctx:
        runs = statements.list_runs(ctx)
    emit(
        [{"run_id": r.id, "date": r.statement_date, "statements": r.statement_count,
          "total": Money(r.total_cents), "min_balance": Money(r.min_balance_cents),
          "cycle": r.cycle} for r in runs],
        state.fmt,
    )  # fmt: skip


@statement_group.command("show")
@click.argument("run_id", type=int)
@click.option("--print", "print_format", type=click.Choice(["pdf", "csv"]),
              help="write the run in this format to stdout")  # fmt: skip
@pass_state
def statement_show(state: AppState, run_id: int, print_format) -> None:
    """The statements of a run as they were sent (or printed again with --print)."""
    from pms_core.services import statements

    with state.uow() as ctx:
        if print_format:
            sys.stdout.buffer.write(statements.render_run(ctx, run_id=run_id, fmt=print_format))
            return
        views = statements.run_views(ctx, run_id=run_id)
    emit(
        [{"statement_id": v.statement_id, "account": v.account_number, "patient": v.patient_name,
          "balance": Money(v.balance_cents), **{f"aging_{k}": Money(c) for k, c in v.aging.items()}}
         for v in views],
        state.fmt,
    )  # fmt: skip


def register(cli: click.Group) -> None:
    for group in (denial_group, payment_group, statement_group):
        cli.add_command(group)
