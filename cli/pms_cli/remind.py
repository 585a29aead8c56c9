"""`pms remind send|list|preview|rule|template`: appointment reminders.

`pms remind send` is meant for cron (every few minutes, with PMS_USER and
PMS_PASSWORD of an admin account): it sends each due reminder exactly once even
when two runs overlap, and processes patients' replies.
"""

from __future__ import annotations

from pathlib import Path

import click

from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_core.context import unit_of_work
from pms_core.models.reminders import REMINDER_STATUSES
from pms_core.services import reminders

LIST_COLUMNS = (
    "id",
    "appointment_id",
    "patient_id",
    "patient",
    "channel",
    "appointment_at",
    "due_at",
    "status",
    "attempts",
    "reason",
    "sent_at",
)
RULE_COLUMNS = ("id", "channel", "offset", "appointment_type_id", "appointment_type")


@click.group("remind")
def remind_group() -> None:
    """Appointment reminders: send, list, preview; rules and templates."""


@remind_group.command("send")
@click.option("--limit", type=click.IntRange(min=0), help="Send at most N reminders this run.")
@click.option(
    "--channel", "channels", multiple=True, help="Only this channel (repeatable), e.g. email."
)
@click.option("--dry-run", is_flag=True, help="Count what is due; send and change nothing.")
@pass_state
def send_cmd(app: AppState, limit: int | None, channels: tuple[str, ...], dry_run: bool) -> None:
    """Send due reminders and process replies; prints what the run did."""
    user_id = app.acting_user_id()
    with unit_of_work(app.engine(), user_id=user_id, pm=app.pm) as ctx:
        result = reminders.send_due(ctx, limit=limit, channels=channels or None, dry_run=dry_run)
    record = (
        {"due": result.due, "planned": result.planned, "cancelled": result.cancelled}
        if dry_run
        else result.counts()
    )
    emit_record(record, app.fmt)
    if result.quiet_hours:
        click.echo("quiet hours: nothing is sent until they end", err=True)
    for channel in result.replies_unreachable:
        click.echo(f"warning: replies on {channel} could not be fetched; see the log", err=True)


@remind_group.command("list")
@click.option("--status", type=click.Choice(REMINDER_STATUSES), help="Only this status.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Only appointments on this day.")
@click.option("--limit", type=click.IntRange(min=1), default=500, show_default=True)
@pass_state
def list_cmd(app: AppState, status: str | None, day: str | None, limit: int) -> None:
    """Reminders by appointment time, with why any was skipped or failed."""
    with app.uow() as ctx:
        views = reminders.list_reminders(ctx, status=status, day=day, limit=limit)
    emit([v.__dict__ for v in views], app.fmt, columns=LIST_COLUMNS)


@remind_group.command("preview")
@click.option("--appointment", "appointment_id", type=int, required=True)
@pass_state
def preview_cmd(app: AppState, appointment_id: int) -> None:
    """Show the reminder each channel would send for an appointment (sends nothing)."""
    with app.uow() as ctx:
        previews = reminders.preview(ctx, appointment_id=appointment_id)
    if app.fmt != "table":
        emit([p.__dict__ for p in previews], app.fmt)
        return
    for p in previews:
        click.echo(f"== {p.channel} -> {p.recipient or 'not sent: ' + (p.skip_reason or '')}")
        if p.subject:
            click.echo(f"Subject: {p.subject}")
        click.echo(p.body)
        click.echo()


# --- rules ----------------------------------------------------------------------------
@remind_group.group("rule")
def rule_group() -> None:
    """When reminders go: per practice, or per appointment type."""


@rule_group.command("add")
@click.option("--channel", required=True, help="email, sms, call_list, ...")
@click.option("--before", "offset", required=True, help="How long before: 72h, 2h, 30m, 1d.")
@click.option(
    "--type",
    "appointment_type_id",
    type=int,
    help="Only for this appointment type (its rules replace the practice's for it).",
)
@pass_state
def rule_add(app: AppState, channel: str, offset: str, appointment_type_id: int | None) -> None:
    """Add a reminder rule."""
    with app.uow() as ctx:
        rule = reminders.add_rule(
            ctx, channel=channel, offset=offset, appointment_type_id=appointment_type_id
        )
    emit_record({k: getattr(rule, k) for k in RULE_COLUMNS}, app.fmt)


@rule_group.command("list")
@pass_state
def rule_list(app: AppState) -> None:
    """The active rules."""
    with app.uow() as ctx:
        rules = reminders.list_rules(ctx)
    emit([r.__dict__ for r in rules], app.fmt, columns=RULE_COLUMNS)


@rule_group.command("remove")
@click.argument("rule_id", type=int)
@pass_state
def rule_remove(app: AppState, rule_id: int) -> None:
    """Stop a rule; its reminders not yet sent are cancelled by the next run."""
    with app.uow() as ctx:
        reminders.deactivate_rule(ctx, rule_id=rule_id)
    click.echo(f"Removed reminder rule {rule_id}.")


# --- templates ------------------------------------------------------------------------
@remind_group.group("template")
def template_group() -> None:
    """The text each channel sends."""


@template_group.command("set")
@click.option("--channel", required=True)
@click.option("--subject", help="Subject line (email).")
@click.option("--body", help="Message text.")
@click.option(
    "--body-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Text file."
)
@pass_state
def template_set(
    app: AppState, channel: str, subject: str | None, body: str | None, body_file: Path | None
) -> None:
    """Replace a channel's template. Placeholders: {first_name} {date} {time}
    {location} {practice} {provider} {reply}; nothing else is allowed."""
    if (body is None) == (body_file is None):
        raise click.UsageError("give exactly one of --body and --body-file")
    text = body if body is not None else body_file.read_text(encoding="utf-8")
    with app.uow() as ctx:
        reminders.set_template(ctx, channel=channel, subject=subject, body=text)
    click.echo(f"Saved the {channel} template.")


@template_group.command("show")
@click.option("--channel", required=True)
@pass_state
def template_show(app: AppState, channel: str) -> None:
    """Show a channel's template (the built-in one until it is changed)."""
    with app.uow() as ctx:
        view = reminders.get_template(ctx, channel=channel)
    emit_record(view.__dict__, app.fmt)


def register(cli: click.Group) -> None:
    cli.add_command(remind_group)
