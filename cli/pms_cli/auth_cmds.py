"""`pms login`, `pms logout`, `pms whoami`.

`pms login` keeps a session token in a file only its owner can read (mode 0600)
until the shift ends; later commands run as that user. Jobs set PMS_USER and
PMS_PASSWORD instead.
"""

from __future__ import annotations

import os
from datetime import datetime

import click

from pms_cli.output import emit_record, info
from pms_cli.state import AppState, clear_token, pass_state, read_token, write_token
from pms_core.context import unit_of_work
from pms_core.errors import DatabaseError
from pms_core.services import auth


def _local(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M %Z")


@click.command("login")
@click.option("--username", "-u", help="Username (prompted when omitted).")
@pass_state
def login_cmd(state: AppState, username: str | None) -> None:
    """Log in; later commands run as you until the session expires (a shift)."""
    engine = state.engine()
    if not username:
        username = click.prompt("Username")
    password = click.prompt("Password", hide_input=True, default="", show_default=False)
    result = auth.login(engine, username=username, password=password)
    path = write_token(state.url, result.token, result.expires_at.isoformat())
    click.echo(f"Logged in as {result.username} ({result.role}) until {_local(result.expires_at)}.")
    info(f"session saved in {path}")


@click.command("logout")
@pass_state
def logout_cmd(state: AppState) -> None:
    """End the session saved by `pms login` and forget its token."""
    token = read_token(state.url)
    ended = False
    if token:
        try:
            ended = auth.logout(state.engine(), token)
        except DatabaseError as exc:  # still forget the token locally
            info(f"warning: the session could not be ended in the database: {exc}")
    clear_token()
    click.echo("Logged out." if ended else "Not logged in.")


@click.command("whoami")
@pass_state
def whoami_cmd(state: AppState) -> None:
    """Show who commands run as, and until when."""
    user_id = state.acting_user_id()
    expires = None
    via = "PMS_USER" if os.environ.get("PMS_USER") else "pms login"
    if via == "pms login":
        found = auth.token_session(state.engine(), read_token(state.url) or "")
        expires = _local(found.expires_at) if found else None
    with unit_of_work(state.engine(), user_id=user_id, pm=state.pm) as ctx:
        user = ctx.user
        record = {
            "username": user.username,
            "full_name": user.full_name,
            "role": user.role,
            "practice": ctx.practice().name,
            "via": via,
            "session_expires": expires,
        }
    emit_record(record, state.fmt)


def register(cli: click.Group) -> None:
    """Add this module's commands to the `pms` group."""
    cli.add_command(login_cmd)
    cli.add_command(logout_cmd)
    cli.add_command(whoami_cmd)
