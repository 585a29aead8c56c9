"""`pms tui`: the terminal user interface."""

from __future__ import annotations

import click

from pms_cli.state import AppState, pass_state, read_token


def register(cli: click.Group) -> None:
    """Add this module's commands to the `pms` group."""
    cli.add_command(tui)


@click.command("tui")
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Lock the screen after this many idle seconds (0 = never; "
    "default: PMS_IDLE_TIMEOUT, else 300).",
)
@pass_state
def tui(state: AppState, idle_timeout: float | None) -> None:
    """Open the TUI: signed in when `pms login` left a valid token, else at the
    sign-in screen."""
    from pms_tui import run_tui

    from pms_core.services import auth

    engine = state.engine()
    token = read_token(state.url)
    user_id = auth.user_for_token(engine, token) if token else None
    run_tui(engine, state.pm, user_id, idle_timeout=idle_timeout)
