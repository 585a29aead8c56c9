"""What a plugin hands to `register_screens`: a screen for the command palette."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    calls still check permissions. A screen that reads data captures
    `app.grant()` when it starts a worker and opens `app.uow(grant)` in it.
    """

    title: str
    factory: Callable[[Any], Screen]
    description: str = ""
    permission: str | None = None


@dataclass
class CollectedSpecs:
    """The screens the plugins registered, and one line per plugin that failed
    (`plugin <name> screens failed: <ExceptionType>`, no message: it may hold PHI)."""

    specs: list[ScreenSpec] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _as_spec(spec: Any) -> ScreenSpec | None:
    title = getattr(spec, "title", None)
    factory = getattr(spec, "factory", None)
    if not isinstance(title, str) or not callable(factory):
        return None
    if isinstance(spec, ScreenSpec):
        return spec
    return ScreenSpec(
        title=title,
        factory=factory,
        description=str(getattr(spec, "description", "") or ""),
        permission=getattr(spec, "permission", None),
    )


def collect_screen_specs(pm: Any) -> CollectedSpecs:
    """Every ScreenSpec the plugins register, in hook call order. Anything that is
    not a ScreenSpec-like object (title + callable factory) is skipped.

    Each plugin's hook is called on its own, so one that raises loses only its
    own screens (none of them, not half) and is listed in `problems`."""
    collected = CollectedSpecs()
    if pm is None:
        return collected
    # pluggy calls implementations last-registered first; keep that order.
    for impl in reversed(pm.hook.register_screens.get_hookimpls()):
        if getattr(impl, "hookwrapper", False) or getattr(impl, "wrapper", False):
            continue
        mine: list[ScreenSpec] = []

        def register(spec: Any, mine: list[ScreenSpec] = mine) -> None:
            converted = _as_spec(spec)
            if converted is not None:
                mine.append(converted)

        arguments = {"register": register}
        try:
            impl.function(*[arguments[name] for name in impl.argnames])
        except Exception as exc:
            collected.problems.append(
                f"plugin {impl.plugin_name} screens failed: {type(exc).__name__}"
            )
            continue
        collected.specs.extend(mine)
    return collected
