"""`pms tui`: the terminal user interface."""

from __future__ import annotations

import click

from pms_cli.state import AppState, clear_token, pass_state, read_token

# Kept in step with pms_tui.idle (not imported here: that would load the TUI
# package for every `pms` command). A test checks they agree.
MIN_IDLE_TIMEOUT = 10.0
IDLE_LIMIT = 300.0


def register(cli: click.Group) -> None:
    """Add this module's commands to the `pms` group."""
    cli.add_command(tui)


@click.command("tui")
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=MIN_IDLE_TIMEOUT, max=IDLE_LIMIT),
    default=None,
    metavar="SECONDS",
    help=f"Lock the screen sooner: after this many idle seconds "
    f"({MIN_IDLE_TIMEOUT:g} to {IDLE_LIMIT:g}; default: PMS_IDLE_TIMEOUT, else {IDLE_LIMIT:g}). "
    "The lock cannot be turned off.",
)
@pass_state
def tui(state: AppState, idle_timeout: float | None) -> None:
    """Open the TUI: signed in when `pms login` left a valid token, else at the
    sign-in screen. The TUI checks the token before every action, so it ends with
    the shift; logging out in the TUI ends the `pms login` session too."""
    from pms_tui import run_tui

    engine = state.engine()
    token = read_token(state.url)
    on_logout = None
    if token is not None:

        def on_logout() -> None:
            # Only if the file still holds this session (not a newer `pms login`).
            if read_token(state.url) == token:
                clear_token()

    run_tui(engine, state.pm, token=token, on_logout=on_logout, idle_timeout=idle_timeout)
