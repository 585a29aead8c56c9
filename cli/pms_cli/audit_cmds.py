"""`pms audit verify` and `pms audit log` (auditors and admins)."""

from __future__ import annotations

from datetime import date, datetime

import click

from pms_cli.output import emit, info
from pms_cli.state import AppState, pass_state
from pms_core.services import audit_log

COLUMNS = ("seq", "at", "username", "user_id", "action", "patient_id", "outcome", "detail")


class Anchor(click.ParamType):
    """SEQ:HASH, as printed by an earlier `pms audit verify`."""

    name = "SEQ:HASH"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        seq, sep, digest = str(value).partition(":")
        digest = digest.strip().lower()
        if (
            not sep
            or not seq.strip().isdigit()
            or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
        ):
            self.fail("expected SEQ:HASH, e.g. 42:<64 hex digits>", param, ctx)
        return int(seq), digest


class Since(click.ParamType):
    name = "DATE|DATETIME"

    def convert(self, value, param, ctx):
        if isinstance(value, date | datetime):
            return value
        try:
            return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            self.fail("expected a date (2026-03-01) or an ISO date-time", param, ctx)


@click.group("audit")
def audit_group() -> None:
    """The audit log: verify its hash chain, list events."""


@audit_group.command("verify")
@click.option(
    "--anchor",
    type=Anchor(),
    help="SEQ:HASH kept from an earlier verify; that event must still carry that hash.",
)
@pass_state
def verify_cmd(state: AppState, anchor: tuple[int, str] | None) -> None:
    """Check the audit hash chain. Exit 0 when intact, 1 listing each break."""
    with state.uow() as ctx:
        result = audit_log.verify_chain(ctx, anchor=anchor)
    if result.ok:
        click.echo(f"audit log intact: {result.events} events")
        click.echo(f"head hash: {result.head_hash}")
        click.echo(f"anchor: {result.events}:{result.head_hash}")
        info("keep the anchor outside this database; 'pms audit verify --anchor' checks it later")
        return
    for problem in result.problems:
        info(problem)
    raise click.ClickException(
        f"audit log verification FAILED: {len(result.problems)} problem(s) in {result.events} events"
    )


@audit_group.command("log")
@click.option("--limit", type=click.IntRange(1, audit_log.MAX_LIMIT), default=50, show_default=True)
@click.option("--user", "username", metavar="USERNAME", help="Only this user's events.")
@click.option("--patient", "patient_id", type=int, metavar="ID", help="Only this patient id.")
@click.option("--action", help="Only this action, or a prefix ending in '.' (e.g. auth.).")
@click.option("--since", type=Since(), help="Only events at or after this date/time (UTC).")
@pass_state
def log_cmd(
    state: AppState,
    limit: int,
    username: str | None,
    patient_id: int | None,
    action: str | None,
    since,
) -> None:
    """List audit events, newest first."""
    with state.uow() as ctx:
        rows = audit_log.list_events(
            ctx,
            limit=limit,
            username=username,
            patient_id=patient_id,
            action=action,
            since=since,
        )
    emit([r.as_dict() for r in rows], state.fmt, columns=COLUMNS)


def register(cli: click.Group) -> None:
    """Add this module's commands to the `pms` group."""
    cli.add_command(audit_group)
