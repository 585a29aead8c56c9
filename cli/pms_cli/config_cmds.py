"""`pms config set|get|list|unset`: per-practice settings (SMTP, SMS gateway,
reminder quiet hours...). Secrets are never printed back."""

from __future__ import annotations

import click

from pms_cli.output import emit, emit_record
from pms_cli.state import AppState, pass_state
from pms_core.services import config

COLUMNS = ("key", "value", "default", "description")


def _record(view: config.SettingView) -> dict:
    return {"key": view.key, "value": view.value, "default": view.default}


@click.group("config")
def config_group() -> None:
    """Practice settings (admin)."""


@config_group.command("set")
@click.argument("key")
@click.argument("value", required=False)
@pass_state
def set_cmd(app: AppState, key: str, value: str | None) -> None:
    """Set KEY to VALUE. Leave VALUE out to be asked for it without echo (for
    passwords and tokens: a value on the command line stays in shell history);
    '-' reads it from the first line of stdin."""
    if value is None:
        value = click.prompt(key, hide_input=True)
    elif value == "-":
        value = click.get_text_stream("stdin").readline().rstrip("\r\n")
    with app.uow() as ctx:
        view = config.set_setting(ctx, key=key, value=value)
    emit_record(_record(view), app.fmt)


@config_group.command("get")
@click.argument("key")
@pass_state
def get_cmd(app: AppState, key: str) -> None:
    """Show one setting (a secret shows as '(set)')."""
    with app.uow() as ctx:
        view = config.get_setting(ctx, key=key)
    emit_record(_record(view), app.fmt)


@config_group.command("unset")
@click.argument("key")
@pass_state
def unset_cmd(app: AppState, key: str) -> None:
    """Remove the practice's value for KEY; its default applies again."""
    with app.uow() as ctx:
        view = config.unset_setting(ctx, key=key)
    emit_record(_record(view), app.fmt)


@config_group.command("list")
@pass_state
def list_cmd(app: AppState) -> None:
    """Every setting with its value (secrets masked) or default."""
    with app.uow() as ctx:
        views = config.list_settings(ctx)
    rows = [{**_record(v), "description": v.description} for v in views]
    emit(rows, app.fmt, columns=COLUMNS)


def register(cli: click.Group) -> None:
    cli.add_command(config_group)
