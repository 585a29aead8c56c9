"""pms in the terminal (Textual). `run_tui` is the entry point other parts call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pms_tui.specs import ScreenSpec

if TYPE_CHECKING:
    import pluggy
    from sqlalchemy import Engine

__all__ = ["PmsApp", "ScreenSpec", "run_tui"]


def run_tui(
    engine: Engine,
    pm: pluggy.PluginManager | None = None,
    user_id: int | None = None,
    **options: Any,
) -> None:
    """Run the TUI until the user quits: signed in as `user_id` when given (the
    `pms demo` command opens it as `biller`), else at the login screen.
    `options` go to `PmsApp` (`idle_timeout`, `clock`)."""
    from pms_tui.app import PmsApp

    PmsApp(engine, pm=pm, user_id=user_id, **options).run()


def __getattr__(name: str) -> Any:
    if name == "PmsApp":
        from pms_tui.app import PmsApp

        return PmsApp
    raise AttributeError(name)
