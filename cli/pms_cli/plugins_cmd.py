"""`pms plugins list`."""

from __future__ import annotations

from dataclasses import asdict

import click

from pms_cli.output import emit
from pms_cli.state import AppState, pass_state
from pms_core.plugins import describe_plugins


@click.group("plugins")
def plugins_group() -> None:
    """Installed plugins."""


@plugins_group.command("list")
@pass_state
def list_(state: AppState) -> None:
    """Each loaded plugin and the hooks it implements. Plugins that failed to load
    are reported on stderr (never in this output)."""
    rows = [asdict(p) for p in describe_plugins(state.pm)]
    if state.fmt == "table":
        rows = [{**r, "hooks": ", ".join(r["hooks"])} for r in rows]
    emit(rows, state.fmt, columns=["name", "module", "version", "hooks"])


def register(cli: click.Group) -> None:
    cli.add_command(plugins_group)
