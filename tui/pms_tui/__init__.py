"""pms in the terminal (Textual). `run_tui` is the entry point other parts call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pms_tui.specs import ScreenSpec

if TYPE_CHECKING:
    import pluggy
    from sqlalchemy import Engine

    from pms_core.clock import Clock

__all__ = ["PmsApp", "ScreenSpec", "run_tui"]


def run_tui(
    engine: Engine,
    pm: pluggy.PluginManager | None = None,
    user_id: int | None = None,
    *,
    token: str | None = None,
    on_logout: Callable[[], Any] | None = None,
    idle_timeout: float | None = None,
    clock: Clock | None = None,
) -> None:
    """Run the TUI until the user quits.

    Signed in with `token` (a session token; checked before every unit of work,
    so it expires like a shift) or as `user_id` (`pms demo` opens it as
    `biller`), else at the sign-in screen. `on_logout` runs when the user logs
    out of the `token` session (the CLI deletes its token file). `idle_timeout`
    can only shorten the idle lock (see `pms_tui.idle.idle_timeout_policy`).

    While the app runs, the root logger writes to Textual's log instead of the
    terminal (a log line on stderr would be drawn over the screen).
    """
    from pms_tui.app import PmsApp, TuiLogHandler
    from pms_tui.idle import idle_timeout_policy

    app = PmsApp(
        engine,
        pm=pm,
        user_id=user_id,
        token=token,
        on_logout=on_logout,
        idle_timeout=idle_timeout_policy(idle_timeout),
        clock=clock,
    )
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [TuiLogHandler(app)]
    try:
        app.run()
    finally:
        root.handlers = saved


def __getattr__(name: str) -> Any:
    if name == "PmsApp":
        from pms_tui.app import PmsApp

        return PmsApp
    raise AttributeError(name)
