"""The pms_hl7 plugin: `pms hl7 listen|drop|messages`."""

from __future__ import annotations

from pms_core.hookspecs import hookimpl


@hookimpl
def register_commands(cli) -> None:
    from pms_hl7.commands import hl7_group

    cli.add_command(hl7_group)
