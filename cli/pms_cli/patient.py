"""Commands: placeholder until written."""

import click


def register(cli: click.Group) -> None:
    """Add this module's commands to the `pms` group."""
