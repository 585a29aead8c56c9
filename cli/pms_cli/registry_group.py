"""A click group whose subcommands are what plugins registered (importers,
exporters): the group's own commands first, then one per registered item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from pms_cli.state import AppState


class RegistryGroup(click.Group):
    """`registry(pm)` gives the items by name; `make(name, item)` their command."""

    def __init__(
        self,
        *args,
        registry: Callable[[Any], dict[str, Any]],
        make: Callable[[str, Any], click.Command],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.registry = registry
        self.make = make

    def _items(self, ctx: click.Context) -> dict[str, Any]:
        state = ctx.find_object(AppState)
        return self.registry(state.pm) if state is not None else {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *self._items(ctx)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        item = self._items(ctx).get(name)
        return self.make(name, item) if item is not None else None
