"""The pms Textual application: session, navigation, idle lock and the palette.

The App owns the engine and the signed-in user. Every action opens its own short
unit of work (`app.uow()`), usually in a thread worker, so no database session
lives across screens. Screens receive data objects from the services and post
messages; the rules live in `pms_core.services`.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import monotonic
from typing import Any

import pluggy
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from pms_core.clock import Clock
from pms_core.context import Context, unit_of_work
from pms_core.errors import AuthError, PmsError
from pms_core.permissions import role_allows
from pms_tui.commands import PaletteCommand, PmsCommands
from pms_tui.specs import ScreenSpec, collect_screen_specs

log = logging.getLogger(__name__)

IDLE_ENV = "PMS_IDLE_TIMEOUT"
DEFAULT_IDLE_TIMEOUT = 300.0


def idle_timeout_from_env(default: float = DEFAULT_IDLE_TIMEOUT) -> float | None:
    """Seconds of no input before the screen locks: `PMS_IDLE_TIMEOUT`, else
    `default`. Zero or a negative number turns the lock off; junk means default."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        log.warning("%s is not a number; using %s seconds", IDLE_ENV, default)
        return default
    return value if value > 0 else None


def describe_error(exc: BaseException) -> str:
    """A message safe to show: business errors carry PHI-free text by contract;
    anything else is named by type only (driver errors can quote values)."""
    if isinstance(exc, PmsError):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        return f"Database error ({type(exc).__name__}). Try again or ask your administrator."
    log.error("unexpected %s in the TUI", type(exc).__name__)
    return f"Unexpected error ({type(exc).__name__})."


@dataclass(frozen=True)
class SessionUser:
    """Who is signed in, for the header and the lock screen."""

    user_id: int
    username: str
    full_name: str
    role: str
    practice_name: str

    def may(self, permission: str) -> bool:
        try:
            return role_allows(self.role, permission)
        except KeyError:
            return False


class PmsApp(App[None]):
    """pms in the terminal. Start signed in with `user_id`, else at the login screen."""

    CSS_PATH = "app.tcss"
    TITLE = "pms"
    SUB_TITLE = "Sign in"
    COMMANDS = App.COMMANDS | {PmsCommands}
    BINDINGS = [
        Binding(
            "ctrl+f",
            "search",
            "Search",
            id="patient.search",
            tooltip="Go to patient search",
            priority=True,
        ),
        Binding(
            "ctrl+n",
            "register",
            "Register",
            id="patient.register",
            tooltip="Register a new patient",
            priority=True,
        ),
        Binding(
            "ctrl+l",
            "lock",
            "Lock",
            id="session.lock",
            tooltip="Lock the screen now; patient data stays hidden until the password is typed",
            priority=True,
        ),
        Binding(
            "ctrl+o",
            "logout",
            "Log out",
            id="session.logout",
            tooltip="Log out and return to the sign-in screen",
            show=False,
            priority=True,
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            id="app.quit",
            tooltip="Quit pms",
            show=False,
            priority=True,
        ),
    ]
    # Actions that need a signed-in, unlocked session.
    _SESSION_ACTIONS = frozenset({"search", "register", "lock", "open_selected", "command_palette"})

    def __init__(
        self,
        engine: Engine,
        *,
        pm: pluggy.PluginManager | None = None,
        user_id: int | None = None,
        idle_timeout: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        if pm is None:
            from pms_core.plugins import get_plugin_manager

            pm = get_plugin_manager()
        self.engine = engine
        self.pm = pm
        self.clock = clock
        self.idle_timeout = idle_timeout if idle_timeout is not None else idle_timeout_from_env()
        if self.idle_timeout is not None and self.idle_timeout <= 0:
            self.idle_timeout = None
        self.session_user: SessionUser | None = None
        self.screen_specs: list[ScreenSpec] = collect_screen_specs(pm)
        self._initial_user_id = user_id
        self._last_input = monotonic()
        self._locked = False
        self._after_unlock: list[Callable[[], Any]] = []

    # --- data access -------------------------------------------------------------
    @contextmanager
    def uow(self) -> Iterator[Context]:
        """A short unit of work acting as the signed-in user (commits at the end)."""
        if self.session_user is None:
            raise AuthError("not signed in")
        with unit_of_work(
            self.engine, user_id=self.session_user.user_id, pm=self.pm, clock=self.clock
        ) as ctx:
            yield ctx

    def load_session_user(self, user_id: int) -> SessionUser:
        """The user and practice names for the header; refuses a disabled user."""
        with unit_of_work(self.engine, user_id=user_id, pm=self.pm, clock=self.clock) as ctx:
            user = ctx.user
            if user is None or user.disabled:
                raise AuthError("not signed in")
            practice = ctx.practice() if ctx.practice_id is not None else None
            return SessionUser(
                user_id=user.id,
                username=user.username,
                full_name=user.full_name,
                role=user.role,
                practice_name=practice.name if practice is not None else "pms",
            )

    # --- lifecycle ----------------------------------------------------------------
    def on_mount(self) -> None:
        from pms_tui.screens.login import LoginScreen

        if self.idle_timeout is not None:
            self.set_interval(min(1.0, max(0.05, self.idle_timeout / 4)), self._check_idle)
        if self._initial_user_id is None:
            self.push_screen(LoginScreen())
            return
        try:
            user = self.load_session_user(self._initial_user_id)
        except Exception as exc:  # a stale token or a disabled user: sign in instead
            log.warning("could not resume the session (%s)", type(exc).__name__)
            self.push_screen(LoginScreen())
            return
        self.start_session(user, replace=False)

    def start_session(self, user: SessionUser, *, replace: bool = True) -> None:
        """Show the main screen for `user`; `replace` swaps out the login screen."""
        from pms_tui.screens.main import MainScreen

        self.session_user = user
        self._locked = False
        self.title = user.practice_name
        self.sub_title = f"{user.username} ({user.role})"
        self._last_input = monotonic()
        if replace:
            self.switch_screen(MainScreen())
        else:
            self.push_screen(MainScreen())

    # --- idle lock ------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent | events.Paste) and not getattr(
            event, "is_forwarded", False
        ):
            self._last_input = monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.idle_timeout is None or self.session_user is None or self._locked:
            return
        if monotonic() - self._last_input >= self.idle_timeout:
            self.action_lock()

    @property
    def locked(self) -> bool:
        return self._locked

    def action_lock(self) -> None:
        """Cover everything with the lock screen (no patient data on it)."""
        from pms_tui.screens.lock import LockScreen

        if self.session_user is None or self._locked:
            return
        self._locked = True
        self.clear_notifications()
        self.push_screen(LockScreen(self.session_user.username))

    def unlock(self) -> None:
        """Called by the lock screen once the password checked out."""
        from pms_tui.screens.lock import LockScreen

        if not self._locked:
            return
        self._locked = False
        self._last_input = monotonic()
        if isinstance(self.screen, LockScreen):
            self.pop_screen()
        pending, self._after_unlock = self._after_unlock, []
        for callback in pending:
            self.call_later(callback)

    def when_unlocked(self, callback: Callable[[], Any]) -> None:
        """Run `callback` now, or after unlocking: screen changes and toasts that a
        worker triggers must never land on top of the lock screen."""
        if self._locked:
            self._after_unlock.append(callback)
        else:
            callback()

    # --- session ----------------------------------------------------------------
    async def action_logout(self) -> None:
        """Drop every screen (and the data on them) and show the sign-in screen."""
        from pms_tui.screens.login import LoginScreen

        if self.session_user is None:
            return
        self.session_user = None
        self._locked = False
        self._after_unlock.clear()
        self.title = "pms"
        self.sub_title = "Sign in"
        self.clear_notifications()
        self.workers.cancel_all()
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(LoginScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self._SESSION_ACTIONS:
            return self.session_user is not None and not self._locked
        if action == "logout":
            return self.session_user is not None
        return True

    def action_command_palette(self) -> None:
        if self.session_user is None or self._locked:
            return
        super().action_command_palette()

    # --- navigation ----------------------------------------------------------------
    def _main_screen(self):
        from pms_tui.screens.main import MainScreen

        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    async def _back_to_main(self) -> Any:
        """Pop to the main screen unless a screen above it holds unsaved input."""
        main = self._main_screen()
        if main is None:
            return None
        for screen in self.screen_stack[self.screen_stack.index(main) + 1 :]:
            if getattr(screen, "has_unsaved_input", lambda: False)():
                self.notify(
                    "Save (ctrl+s) or cancel (escape) the form first.",
                    severity="warning",
                )
                return None
        while self.screen is not main:
            await self.pop_screen()
        return main

    async def action_search(self) -> None:
        """Go to the patient search box."""
        if not self.check_action("search", ()):
            return
        main = await self._back_to_main()
        if main is not None:
            main.focus_search()

    async def action_open_selected(self) -> None:
        """Open the patient highlighted in the search results."""
        if not self.check_action("open_selected", ()):
            return
        main = await self._back_to_main()
        if main is not None:
            main.action_open_selected()

    def action_register(self) -> None:
        """Open a blank registration form."""
        from pms_tui.screens.register import RegisterScreen

        if not self.check_action("register", ()):
            return
        if isinstance(self.screen, RegisterScreen) and self.screen.patient_id is None:
            self.screen.focus_first()
            return
        self.push_screen(RegisterScreen())

    def open_plugin_screen(self, spec: ScreenSpec) -> None:
        if self.session_user is None or self._locked:
            return
        try:
            screen = spec.factory(self)
        except Exception as exc:
            self.notify(f"Could not open {spec.title}: {describe_error(exc)}", severity="error")
            return
        if isinstance(screen, Screen):
            self.push_screen(screen)

    def get_system_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        """Textual's own commands, minus "Screenshot": it writes the screen, patient
        data included, to a file."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command

    def _fatal_error(self) -> None:
        """On a crash Textual prints the traceback with local variables, which can
        hold patient data. Print where it failed and the exception type only."""
        error = self._exception
        lines = ["pms stopped after an unexpected error."]
        if error is not None:
            for frame in traceback.extract_tb(error.__traceback__)[-10:]:
                lines.append(f"  {frame.filename}:{frame.lineno} in {frame.name}")
            lines.append(
                f"{type(error).__module__}.{type(error).__qualname__} "
                "(message not shown: it may contain patient data)"
            )
        self.bell()
        self.panic(Text("\n".join(lines)))

    def palette_commands(self, screen: Screen | None = None) -> list[PaletteCommand]:
        """Everything the command palette offers: the app's actions, the current
        screen's own actions, and plugin screens the role may use."""
        user = self.session_user
        if user is None or self._locked:
            return []
        commands = [
            PaletteCommand(
                "Patient: search",
                "Find a patient by name, DOB, phone, member id or account (ctrl+f)",
                self.action_search,
            ),
            PaletteCommand(
                "Patient: register",
                "Register a new patient with intake history (ctrl+n)",
                self.action_register,
            ),
            PaletteCommand(
                "Patient: open selected",
                "Open the patient highlighted in the search results (enter)",
                self.action_open_selected,
            ),
            PaletteCommand(
                "Session: lock",
                "Lock the screen now (ctrl+l)",
                self.action_lock,
            ),
            PaletteCommand(
                "Session: log out",
                "Log out and return to the sign-in screen (ctrl+o)",
                self.action_logout,
            ),
        ]
        if screen is not None and hasattr(screen, "palette_commands"):
            commands.extend(screen.palette_commands())
        for spec in self.screen_specs:
            if spec.permission and not user.may(spec.permission):
                continue
            commands.append(
                PaletteCommand(
                    spec.title,
                    spec.description,
                    lambda spec=spec: self.open_plugin_screen(spec),
                )
            )
        return commands
