"""`pms user add|list|disable|enable`: staff users (admins manage, managers list)."""

from __future__ import annotations

import sys

import click

from pms_cli.output import emit
from pms_cli.state import AppState, pass_state
from pms_core.context import unit_of_work
from pms_core.permissions import ROLES
from pms_core.services import users

COLUMNS = ("username", "full_name", "role", "status", "last_login_at")


def read_password_stdin() -> str:
    """The first line of stdin, without its line ending."""
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


@click.group("user")
def user_group() -> None:
    """Staff users and their roles."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The user's role.")
@click.option("--name", "full_name", required=True, help="Full name, as shown to staff.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@pass_state
def add_cmd(
    state: AppState, username: str, role: str, full_name: str, password_stdin: bool
) -> None:
    """Add a staff user (you are asked for their password twice)."""
    user_id = state.acting_user_id()  # before asking: no point typing it if refused
    if password_stdin:
        password = read_password_stdin()
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with unit_of_work(state.engine(), user_id=user_id, pm=state.pm) as ctx:
        user = users.add_user(
            ctx, username=username, full_name=full_name, role=role, password=password
        )
    click.echo(f"Added user {user.username} ({user.role}).")


@user_group.command("list")
@pass_state
def list_cmd(state: AppState) -> None:
    """List this practice's users."""
    with state.uow() as ctx:
        now = ctx.clock.now()
        rows = [
            {
                "username": u.username,
                "full_name": u.full_name,
                "role": u.role,
                "status": users.user_status(u, now),
                "last_login_at": u.last_login_at,
            }
            for u in users.list_users(ctx)
        ]
    emit(rows, state.fmt, columns=COLUMNS)


@user_group.command("disable")
@click.argument("username")
@pass_state
def disable_cmd(state: AppState, username: str) -> None:
    """Disable a user: they cannot log in and their sessions end at once."""
    with state.uow() as ctx:
        users.set_disabled(ctx, username=username, disabled=True)
    click.echo(f"Disabled user {username}.")


@user_group.command("enable")
@click.argument("username")
@pass_state
def enable_cmd(state: AppState, username: str) -> None:
    """Enable a disabled user again (also lifts a lock from failed logins)."""
    with state.uow() as ctx:
        users.set_disabled(ctx, username=username, disabled=False)
    click.echo(f"Enabled user {username}.")


def register(cli: click.Group) -> None:
    """Add this module's commands to the `pms` group."""
    cli.add_command(user_group)
