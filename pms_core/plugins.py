"""The plugin manager factory.

There is no module-global manager: every caller (CLI run, TUI, test) builds a
fresh one with `get_plugin_manager()`. Built-in plugins are listed in
`DEFAULT_PLUGINS` and written exactly like third-party ones; third-party
plugins come from the `pms` entry-point group. A plugin that fails to import
or register is recorded in `pm.pms_load_errors` (and reported on stderr by the
CLI); the rest keep working. `check_pending()` makes a misspelled hook fail loudly.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from pms_core import hookspecs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "pms"

# Built-ins that are not registered through entry points (first-party plugins in
# plugins/ are registered through the "pms" entry-point group in pyproject.toml).
DEFAULT_PLUGINS: tuple[str, ...] = ()


@dataclass(frozen=True)
class PluginLoadError:
    name: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} failed to load: {self.error}"


def get_plugin_manager(
    *, load_entry_points: bool = True, extra: tuple[object, ...] = ()
) -> pluggy.PluginManager:
    """A new manager with the hookspecs, the default plugins, entry-point plugins
    and `extra` plugin objects (for tests and embedding)."""
    pm = pluggy.PluginManager("pms")
    pm.add_hookspecs(hookspecs)
    errors: list[PluginLoadError] = []
    versions: dict[str, str] = {}
    for dotted in DEFAULT_PLUGINS:
        _register(pm, dotted, lambda d=dotted: importlib.import_module(d), errors)
    if load_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            if _register(pm, ep.name, ep.load, errors) and ep.dist is not None:
                versions[ep.name] = ep.dist.version
    for plugin in extra:
        pm.register(plugin)
    pm.pms_load_errors = errors  # type: ignore[attr-defined]
    pm.pms_versions = versions  # type: ignore[attr-defined]
    pm.check_pending()
    return pm


def _register(pm, name, load, errors: list[PluginLoadError]) -> bool:
    try:
        pm.register(load(), name=name)
    except Exception as exc:  # any import/registration failure is reported, not fatal
        errors.append(PluginLoadError(name, f"{type(exc).__name__}: {exc}"))
        log.warning("plugin %s failed to load: %s", name, type(exc).__name__)
        return False
    return True


def contributions(pm: pluggy.PluginManager, hook: str) -> list:
    """Everything the plugins contribute through a `register_*` hook (each
    calls ``register(item)``), in registration order."""
    found: list = []
    getattr(pm.hook, hook)(register=found.append)
    return found


def load_errors(pm: pluggy.PluginManager) -> list[PluginLoadError]:
    return list(getattr(pm, "pms_load_errors", []))


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    hooks: list[str]
    version: str | None


def describe_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Each loaded plugin with the hooks it implements, sorted by name."""
    versions = getattr(pm, "pms_versions", {})
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        out.append(
            PluginInfo(
                name=name,
                module=getattr(plugin, "__name__", type(plugin).__name__),
                hooks=hooks,
                version=versions.get(name),
            )
        )
    return sorted(out, key=lambda p: p.name)


_CONTRIBUTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def collect(hook, what: str, key: str = "name") -> dict[str, Any]:
    """The contributions of a `register_*` hook by their `key` attribute. One
    plugin's failure to register is logged and the others still count; an
    unusable name is skipped; of two with one name the first registered wins."""
    found: dict[str, Any] = {}

    def register(item) -> None:
        name = getattr(item, key, None) or ""
        if not _CONTRIBUTION_NAME.match(name):
            log.warning("a %s with an unusable name was not registered", what)
            return
        found.setdefault(name, item)

    for impl in hook.get_hookimpls():
        try:
            impl.function(register=register)
        except Exception as exc:
            log.error("plugin %s could not register %ss: %s", impl.plugin_name, what, type(exc))
    return found
