"""`pms hl7 listen|drop|messages`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import click

from pms_core.services import interface


@click.group("hl7")
def hl7_group() -> None:
    """The EHR interface (HL7 v2): ADT, SIU and DFT in, with ACKs."""


@hl7_group.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2575, show_default=True, type=int)
@click.pass_obj
def hl7_listen(state, host, port) -> None:
    """Receive messages over MLLP until stopped (Ctrl+C), acting as the user
    logged in (PMS_USER/PMS_PASSWORD for a service)."""
    from pms_hl7.listener import Listener

    listener = Listener(
        state.engine(), user_id=state.acting_user_id(), pm=state.pm, host=host, port=port
    )
    click.echo(f"listening for HL7 over MLLP on {host}:{port}", err=True)
    try:
        asyncio.run(listener.serve_forever())
    except KeyboardInterrupt:
        click.echo(f"stopped after {listener.received} messages", err=True)


@hl7_group.command("drop")
@click.option("--inbox", required=True, type=click.Path(file_okay=False, exists=True))
@click.option("--outbox", required=True, type=click.Path(file_okay=False, exists=True))
@click.option("--watch", type=float, help="Keep looking every N seconds (else once).")
@click.pass_obj
def hl7_drop(state, inbox, outbox, watch) -> None:
    """File-drop mode for an EHR that writes files: apply each *.hl7 of the
    inbox, write its ACK to the outbox, move it to inbox/done/."""
    from pms_hl7.listener import process_folder

    while True:
        count = process_folder(
            state.engine(), user_id=state.acting_user_id(), pm=state.pm,
            inbox=Path(inbox), outbox=Path(outbox),
        )  # fmt: skip
        click.echo(f"{count} messages processed", err=True)
        if not watch:
            return
        time.sleep(watch)


@hl7_group.command("messages")
@click.option("--status", type=click.Choice(["applied", "pending", "rejected", "resolved"]))
@click.option("--limit", type=int, default=50, show_default=True)
@click.pass_obj
def hl7_messages(state, status, limit) -> None:
    """Messages received, newest first: type, control id, outcome and reason."""
    with state.uow() as ctx:
        rows = interface.list_messages(ctx, status=status, limit=limit)
    for m in rows:
        click.echo(
            f"{m.id:>7}  {m.received_at:%Y-%m-%d %H:%M}  {m.message_type:<8} "
            f"{m.control_id:<20} {m.status:<8} {m.ack_code or '':<2}  {m.reason}"
        )


@hl7_group.command("retry")
@click.argument("message_id", type=int)
@click.pass_obj
def hl7_retry(state, message_id) -> None:
    """Apply a pending message again, once what stopped it is fixed."""
    from pms_hl7.listener import reapply

    with state.uow() as ctx:
        message = reapply(ctx, message_id)
    click.echo(
        f"message {message.id}: {message.status}"
        + (f" ({message.reason})" if message.reason else "")
    )
    if message.status != "applied":
        raise SystemExit(1)


@hl7_group.command("resolve")
@click.argument("message_id", type=int)
@click.pass_obj
def hl7_resolve(state, message_id) -> None:
    """Take a pending message off the worklist: a person dealt with it."""
    with state.uow() as ctx:
        interface.resolve(ctx, message_id=message_id)
    click.echo(f"message {message_id}: resolved")
