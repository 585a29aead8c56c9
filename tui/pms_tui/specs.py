"""What a plugin hands to `register_screens`: a screen for the command palette."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.screen import Screen


@dataclass(frozen=True)
class ScreenSpec:
    """A plugin-contributed screen.

    `title` is what the command palette lists (use "Category: action", e.g.
    "Reports: A/R aging"); `factory(app)` builds the screen when the user picks it;
    `permission` (a name from `pms_core.permissions.PERMISSIONS`) hides the entry
    from roles without it. Hiding is convenience only: the services the screen
    calls still check permissions.
    """

    title: str
    factory: Callable[[Any], Screen]
    description: str = ""
    permission: str | None = None


def collect_screen_specs(pm: Any) -> list[ScreenSpec]:
    """Every ScreenSpec the plugins register, in registration order. Anything that
    is not a ScreenSpec-like object (title + callable factory) is skipped."""
    specs: list[ScreenSpec] = []

    def register(spec: Any) -> None:
        title = getattr(spec, "title", None)
        factory = getattr(spec, "factory", None)
        if not isinstance(title, str) or not callable(factory):
            return
        if not isinstance(spec, ScreenSpec):
            spec = ScreenSpec(
                title=title,
                factory=factory,
                description=str(getattr(spec, "description", "") or ""),
                permission=getattr(spec, "permission", None),
            )
        specs.append(spec)

    if pm is not None:
        pm.hook.register_screens(register=register)
    return specs
