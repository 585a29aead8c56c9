"""The pms Textual application: session, navigation, idle lock and the palette.

The App owns the engine and the signed-in session. Every action opens its own
short unit of work (`app.uow(grant)`), usually in a thread worker, so no database
session lives across screens; the `Grant` (who acts) is captured when the work is
dispatched. Screens receive data objects from the services and post messages;
the rules live in `pms_core.services`.

The session follows the real one: a session token (from `pms login` or a
sign-in here) is checked before every unit of work, and any AuthError from a
service (expired, revoked, user disabled) returns to the sign-in screen.

While the screen is locked nothing but the lock screen may appear: screen
pushes, switches and notifications are held until unlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from time import monotonic
from typing import Any

import pluggy
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from textual import events
from textual.app import App, SystemCommand
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.logging import TextualHandler
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import WorkerFailed

from pms_core.clock import Clock
from pms_core.context import Context, unit_of_work
from pms_core.errors import AuthError, PmsError
from pms_core.permissions import role_allows
from pms_tui.commands import PaletteCommand, PmsCommands
from pms_tui.idle import (
    DEFAULT_IDLE_TIMEOUT,
    IDLE_ENV,
    IDLE_LIMIT,
    MIN_IDLE_TIMEOUT,
    idle_timeout_policy,
)
from pms_tui.specs import ScreenSpec, collect_screen_specs

log = logging.getLogger(__name__)

__all__ = [
    "SESSION_ENDED",
    "DEFAULT_IDLE_TIMEOUT",
    "IDLE_ENV",
    "IDLE_LIMIT",
    "MIN_IDLE_TIMEOUT",
    "Grant",
    "PmsApp",
    "SessionUser",
    "TuiLogHandler",
    "describe_error",
    "idle_timeout_policy",
]

SESSION_ENDED = "Your session has ended. Sign in again."
# Roles whose first screen after signing in is the dashboard (patient search
# stays one Escape away).
FIRST_SCREEN_DASHBOARD = frozenset({"manager"})


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


class TuiLogHandler(TextualHandler):
    """Textual's logging handler, bound to `app`: records go to the app's log
    (the devtools console), never to the terminal the app draws on. Bound,
    because thread workers do not carry Textual's active-app context and the
    plain handler would print their records to stderr."""

    def __init__(self, app: App[Any]) -> None:
        super().__init__(stderr=False, stdout=False)
        self._app = app

    def emit(self, record: logging.LogRecord) -> None:
        # Never handleError: it prints to stderr, i.e. over the screen.
        with contextlib.suppress(Exception):
            self._app.log.logging(self.format(record))


@dataclass(frozen=True)
class Grant:
    """Who a unit of work acts as, captured on the UI thread when the work is
    dispatched (`app.grant()`), so a worker that runs late never acts for a
    later session. `generation` tells sessions apart."""

    user_id: int
    token: str | None
    generation: int


class PmsApp(App[None]):
    """pms in the terminal.

    Start signed in with `token` (a session token, e.g. from `pms login`) or
    `user_id` (a session without a token, e.g. `pms demo`), else at the sign-in
    screen. `on_logout` runs when the user logs out of the session `token`
    started (the CLI deletes its token file). `idle_timeout` None means the
    policy (`idle_timeout_policy()`); an explicit value may be shorter than the
    policy minimum (tests) but never longer than IDLE_LIMIT.
    `disable_idle_lock_for_testing` exists for Pilot tests only.
    """

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
            "f2",
            "schedule",
            "Schedule",
            id="schedule.open",
            tooltip="The day's schedule: a column per provider",
            priority=True,
        ),
        Binding(
            "f3",
            "waitlist",
            "Waitlist",
            id="waitlist.open",
            tooltip="Patients waiting for a slot, and the open offers",
            priority=True,
        ),
        Binding(
            "f4",
            "reminders",
            "Reminders",
            id="reminders.open",
            tooltip="Reminders due, sent, failed and skipped",
            priority=True,
        ),
        Binding(
            "f6",
            "claims",
            "Claims",
            id="claims.worklist",
            tooltip="The claims worklists: build, scrub, submit, correct and void",
            priority=True,
        ),
        Binding(
            "f7",
            "remits",
            "Remits",
            id="remits.open",
            tooltip="Remittances (835): import and post, held and unmatched payments",
            show=False,
            priority=True,
        ),
        Binding(
            "f8",
            "denials",
            "Denials",
            id="denials.open",
            tooltip="The denial worklist: correct, appeal, move to the patient, write off",
            show=False,
            priority=True,
        ),
        Binding(
            "f9",
            "dashboard",
            "Dashboard",
            id="dashboard.open",
            tooltip="The practice's figures: A/R, collections, denials, no-shows",
            show=False,
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
    # Actions that open a top-level screen (right above the main screen, at most one
    # of each kind on the stack; see `_top_screen_class`), and the permission each needs.
    _SCREEN_ACTIONS = {
        "schedule": "schedule:read",
        "waitlist": "schedule:read",
        "reminders": "reminders:read",
        "claims": "claims:read",
        "remits": "claims:read",
        "denials": "claims:read",
        "dashboard": "reports:read",
        "imports": "data:import",
        "interface": "patients:read",
    }

    class SessionEnded(Message):
        """A service refused the session (AuthError): expired, revoked, disabled."""

        def __init__(self, generation: int) -> None:
            super().__init__()
            self.generation = generation

    def __init__(
        self,
        engine: Engine,
        *,
        pm: pluggy.PluginManager | None = None,
        user_id: int | None = None,
        token: str | None = None,
        on_logout: Callable[[], Any] | None = None,
        idle_timeout: float | None = None,
        clock: Clock | None = None,
        disable_idle_lock_for_testing: bool = False,
    ) -> None:
        super().__init__()
        if pm is None:
            from pms_core.plugins import get_plugin_manager

            pm = get_plugin_manager()
        self.engine = engine
        self.pm = pm
        self.clock = clock
        if disable_idle_lock_for_testing:
            self.idle_timeout: float | None = None
        elif idle_timeout is None:
            self.idle_timeout = idle_timeout_policy()
        elif idle_timeout > 0:
            self.idle_timeout = min(float(idle_timeout), IDLE_LIMIT)
        else:
            raise ValueError("idle_timeout must be positive; the idle lock cannot be turned off")
        self.session_user: SessionUser | None = None
        collected = collect_screen_specs(pm)
        self.screen_specs: list[ScreenSpec] = collected.specs
        self.plugin_problems: list[str] = collected.problems
        for problem in self.plugin_problems:
            # Before the app owns the terminal: stderr is still the user's.
            print(problem, file=sys.stderr)
        self._initial_user_id = user_id
        self._initial_token = token
        self._on_logout = on_logout
        self._token: str | None = None
        self._token_from_start = False  # `on_logout` belongs to this session
        self._generation = 0
        self._last_input = monotonic()
        self._locked = False
        self._gate = threading.Lock()  # guards _locked/_after_unlock against workers
        self._after_unlock: list[Callable[[], Any]] = []

    # --- data access -------------------------------------------------------------
    def grant(self) -> Grant | None:
        """The current session, to hand to a worker (call it on the UI thread)."""
        if self.session_user is None:
            return None
        return Grant(self.session_user.user_id, self._token, self._generation)

    def check_grant(self, grant: Grant | None) -> Grant:
        """Raise AuthError unless `grant` is still this app's live session: same
        sign-in, and its token (if any) still valid for its user. A refusal of a
        live session ends it (back to the sign-in screen)."""
        from pms_core.services import auth

        if grant is None or grant.generation != self._generation:
            raise AuthError("not signed in")  # a session that already ended
        if grant.token is not None:
            try:
                valid = auth.user_for_token(self.engine, grant.token, self.clock) == grant.user_id
            except Exception:
                valid = True  # a database error is not a logout; the work will report it
            if not valid:
                self.post_message(self.SessionEnded(grant.generation))
                raise AuthError("session ended")
        return grant

    @contextmanager
    def uow(self, grant: Grant | None) -> Iterator[Context]:
        """A short unit of work acting as `grant` (commits at the end). Any
        AuthError, from the token check or from a service, ends the session."""
        grant = self.check_grant(grant)
        try:
            with unit_of_work(
                self.engine, user_id=grant.user_id, pm=self.pm, clock=self.clock
            ) as ctx:
                yield ctx
        except AuthError:
            self.post_message(self.SessionEnded(grant.generation))  # thread-safe
            raise

    def may(self, permission: str) -> bool:
        """Whether the signed-in user's role has `permission`: for showing or
        hiding keys and commands only; the services make the real check."""
        return self.session_user is not None and self.session_user.may(permission)

    def load_session_user(self, user_id: int) -> SessionUser:
        """The user and practice names for the header; refuses a disabled user."""
        from pms_core.services.users import session_info

        with unit_of_work(self.engine, user_id=user_id, pm=self.pm, clock=self.clock) as ctx:
            info = session_info(ctx)
        return SessionUser(
            user_id=info.user_id,
            username=info.username,
            full_name=info.full_name,
            role=info.role,
            practice_name=info.practice_name,
        )

    # --- lifecycle ----------------------------------------------------------------
    def on_mount(self) -> None:
        from pms_tui.screens.login import LoginScreen

        if self.idle_timeout is not None:
            self.set_interval(min(1.0, max(0.05, self.idle_timeout / 4)), self._check_idle)
        if self._initial_user_id is None and self._initial_token is None:
            self.push_screen(LoginScreen())
            return
        try:
            user_id = self._initial_user_id
            if self._initial_token is not None:
                from pms_core.services import auth

                token_user = auth.user_for_token(self.engine, self._initial_token, self.clock)
                if token_user is None or (user_id is not None and user_id != token_user):
                    raise AuthError("session ended")
                user_id = token_user
            user = self.load_session_user(user_id)
        except Exception as exc:  # a stale token or a disabled user: sign in instead
            log.warning("could not resume the session (%s)", type(exc).__name__)
            self.push_screen(LoginScreen(notice=SESSION_ENDED))
            return
        self._token_from_start = self._initial_token is not None
        self.start_session(user, token=self._initial_token, replace=False)

    def start_session(
        self, user: SessionUser, *, token: str | None = None, replace: bool = True
    ) -> None:
        """Show the main screen for `user` acting with `token` (None: a session
        without a token); `replace` swaps out the login screen."""
        from pms_tui.screens.main import MainScreen

        with self._gate:
            self.session_user = user
            self._token = token
            self._generation += 1
            self._locked = False
        self.title = user.practice_name
        self.sub_title = f"{user.username} ({user.role})"
        self._last_input = monotonic()
        if replace:
            self.switch_screen(MainScreen())
        else:
            self.push_screen(MainScreen())
        if user.role in FIRST_SCREEN_DASHBOARD:  # a manager starts from the figures
            from pms_tui.screens.dashboard import DashboardScreen

            self.push_screen(DashboardScreen())

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
        with self._gate:
            self._locked = True
        self.clear_notifications()
        self.push_screen(LockScreen(self.session_user.username))

    def unlock(self) -> None:
        """Called by the lock screen once the password checked out; then what was
        held while locked (screens, notifications) happens, in order."""
        from pms_tui.screens.lock import LockScreen

        with self._gate:
            if not self._locked:
                return
            self._locked = False
            pending, self._after_unlock = self._after_unlock, []
        self._last_input = monotonic()
        if isinstance(self.screen, LockScreen):
            self.pop_screen()
        for callback in pending:
            self.call_later(callback)

    def _held(self, callback: Callable[[], Any]) -> bool:
        """Hold `callback` for after unlock if locked; False when not locked."""
        with self._gate:
            if self._locked:
                self._after_unlock.append(callback)
                return True
        return False

    def push_screen(
        self,
        screen: Screen[Any] | str,
        callback: Callable[[Any], Any] | None = None,
        wait_for_dismiss: bool = False,
        *,
        mode: str | None = None,
    ) -> Any:
        """Textual's push_screen, except that while locked only the lock screen
        may appear; anything else is pushed after unlock."""
        from pms_tui.screens.lock import LockScreen

        if isinstance(screen, LockScreen) or not self._locked:
            return super().push_screen(screen, callback, wait_for_dismiss, mode=mode)
        if not wait_for_dismiss:
            if self._held(partial(super().push_screen, screen, callback, mode=mode)):
                return AwaitComplete.nothing()
            return super().push_screen(screen, callback, mode=mode)
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def dismissed(value: Any) -> None:
            if callback is not None:
                callback(value)
            if not result.done():
                result.set_result(value)

        if self._held(partial(super().push_screen, screen, dismissed, mode=mode)):
            return result
        return super().push_screen(screen, callback, wait_for_dismiss, mode=mode)

    def switch_screen(self, screen: Screen | str) -> AwaitComplete:
        """Textual's switch_screen, held until unlock while locked."""
        if self._held(partial(super().switch_screen, screen)):
            return AwaitComplete.nothing()
        return super().switch_screen(screen)

    def pop_screen(self) -> AwaitComplete:
        """Textual's pop_screen, except that nothing but unlock and logout may
        take the lock screen away (a stray `dismiss()` pops whatever is on top)."""
        from pms_tui.screens.lock import LockScreen

        if self._locked and isinstance(self.screen, LockScreen):
            log.warning("refused to pop the lock screen")
            return AwaitComplete.nothing()
        return super().pop_screen()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notify (thread-safe), held until unlock while locked."""
        send = partial(
            super().notify,
            message,
            title=title,
            severity=severity,
            timeout=timeout,
            markup=markup,
        )
        if not self._held(send):
            send()

    # --- session ----------------------------------------------------------------
    async def action_logout(self) -> None:
        """Log out: end the session token (and, for the session the app started
        with, run `on_logout`), drop every screen and show the sign-in screen."""
        if self.session_user is None:
            return
        await self._end_session(user_initiated=True)

    async def on_pms_app_session_ended(self, message: SessionEnded) -> None:
        if message.generation != self._generation or self.session_user is None:
            return  # already over, or a later session
        await self._end_session(notice=SESSION_ENDED)

    async def _end_session(self, *, user_initiated: bool = False, notice: str | None = None):
        from pms_core.services import auth
        from pms_tui.screens.login import LoginScreen

        token, from_start = self._token, self._token_from_start
        with self._gate:
            self.session_user = None
            self._token = None
            self._token_from_start = False
            self._generation += 1
            self._locked = False
            self._after_unlock.clear()
        self.title = "pms"
        self.sub_title = "Sign in"
        self.clear_notifications()
        self.workers.cancel_all()
        if token is not None:
            try:
                auth.logout(self.engine, token, self.clock)
            except Exception as exc:
                log.warning("could not end the session token (%s)", type(exc).__name__)
        if user_initiated and from_start and self._on_logout is not None:
            try:
                self._on_logout()
            except Exception as exc:
                log.warning("on_logout failed (%s)", type(exc).__name__)
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(LoginScreen(notice=notice))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self._SESSION_ACTIONS:
            return self.session_user is not None and not self._locked
        if action in self._SCREEN_ACTIONS:
            if self.session_user is None or self._locked:
                return False
            # Not offered on the screen it opens (its key would do nothing there).
            # Compared by class name so the footer's first render does not
            # import every screen module.
            return (
                self.may(self._SCREEN_ACTIONS[action])
                and type(self.screen).__name__ != self._TOP_SCREEN_NAMES[action]
            )
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
        if main is None or self._unsaved_input_above(main):
            return None
        while self.screen is not main:
            await self.pop_screen()
        return main

    def _unsaved_input_above(self, screen: Screen) -> bool:
        """Whether a screen above `screen` holds unsaved input (then say so)."""
        for above in self.screen_stack[self.screen_stack.index(screen) + 1 :]:
            if getattr(above, "has_unsaved_input", lambda: False)():
                self.notify(
                    "Save (ctrl+s) or cancel (escape) the form first.",
                    severity="warning",
                )
                return True
        return False

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

    _TOP_SCREEN_NAMES = {
        "schedule": "ScheduleScreen",
        "waitlist": "WaitlistScreen",
        "reminders": "RemindersScreen",
        "claims": "ClaimsScreen",
        "remits": "RemitsScreen",
        "denials": "DenialsScreen",
        "dashboard": "DashboardScreen",
    }

    @staticmethod
    def _top_screen_class(action: str) -> type[Screen]:
        from pms_tui.screens.claims import ClaimsScreen
        from pms_tui.screens.dashboard import DashboardScreen
        from pms_tui.screens.imports import ImportScreen
        from pms_tui.screens.interface import InterfaceScreen
        from pms_tui.screens.money import DenialsScreen, RemitsScreen
        from pms_tui.screens.reminders import RemindersScreen
        from pms_tui.screens.schedule import ScheduleScreen
        from pms_tui.screens.waitlist import WaitlistScreen

        return {
            "schedule": ScheduleScreen,
            "waitlist": WaitlistScreen,
            "reminders": RemindersScreen,
            "claims": ClaimsScreen,
            "remits": RemitsScreen,
            "denials": DenialsScreen,
            "dashboard": DashboardScreen,
            "imports": ImportScreen,
            "interface": InterfaceScreen,
        }[action]

    async def _open_top_screen(self, action: str) -> None:
        """Show the top-level screen of `action`: the one already open (the
        screens above it closed, unless one holds unsaved input), else a new one
        above the main screen. Nothing for a role without its permission."""
        if self.session_user is None or self._locked:
            return
        if not self.may(self._SCREEN_ACTIONS[action]):
            return
        cls = self._top_screen_class(action)
        main = self._main_screen()
        if main is None:
            return
        above_main = self.screen_stack[self.screen_stack.index(main) :]
        target = next((screen for screen in above_main if isinstance(screen, cls)), main)
        if self._unsaved_input_above(target):
            return
        while self.screen is not target:
            await self.pop_screen()
        if target is main:
            self.push_screen(cls())

    async def action_schedule(self) -> None:
        """Open the schedule (the day view, today)."""
        await self._open_top_screen("schedule")

    async def action_waitlist(self) -> None:
        """Open the waitlist."""
        await self._open_top_screen("waitlist")

    async def action_reminders(self) -> None:
        """Open the reminders worklist."""
        await self._open_top_screen("reminders")

    async def action_claims(self) -> None:
        """Open the claims worklists."""
        await self._open_top_screen("claims")

    async def action_remits(self) -> None:
        """Open the remittances."""
        await self._open_top_screen("remits")

    async def action_denials(self) -> None:
        """Open the denial worklist."""
        await self._open_top_screen("denials")

    async def action_dashboard(self) -> None:
        """Open the dashboard."""
        await self._open_top_screen("dashboard")

    async def action_imports(self) -> None:
        """Open the import screen."""
        await self._open_top_screen("imports")

    async def action_interface(self) -> None:
        """Open the EHR interface's message list."""
        await self._open_top_screen("interface")

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
        hold patient data. Print where it failed (file:line) and the exception
        type only. A crashed worker arrives as WorkerFailed: report what it raised."""
        error: BaseException | None = self._exception
        if isinstance(error, WorkerFailed) and error.error is not None:
            error = error.error
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
        ]
        if user.may("schedule:read"):
            commands += [
                PaletteCommand(
                    "Schedule: day view",
                    "The day's schedule, a column per provider (f2)",
                    self.action_schedule,
                ),
                PaletteCommand(
                    "Schedule: waitlist",
                    "Patients waiting for a slot, and the open offers (f3)",
                    self.action_waitlist,
                ),
            ]
        if user.may("reminders:read"):
            commands.append(
                PaletteCommand(
                    "Schedule: reminders",
                    "Reminders due, sent, failed and skipped (f4)",
                    self.action_reminders,
                )
            )
        if user.may("claims:read"):
            commands.append(
                PaletteCommand(
                    "Claims: worklist",
                    "Claims by worklist: build, scrub, submit, correct and void (f6)",
                    self.action_claims,
                )
            )
            commands += [
                PaletteCommand(
                    "Money: remittances",
                    "Import and post 835s; held and unmatched payments (f7)",
                    self.action_remits,
                ),
                PaletteCommand(
                    "Money: denials",
                    "The denial worklist: correct, appeal, move to the patient, write off (f8)",
                    self.action_denials,
                ),
            ]
        if user.may("reports:read"):
            commands.append(
                PaletteCommand(
                    "Reports: dashboard",
                    "The practice's figures: A/R, collections, denials, no-shows (f9)",
                    self.action_dashboard,
                )
            )
        if user.may("patients:read"):
            commands.append(
                PaletteCommand(
                    "Data: EHR interface",
                    "HL7 messages from the EHR: applied, waiting for a person, rejected",
                    self.action_interface,
                )
            )
        if user.may("data:import"):
            commands.append(
                PaletteCommand(
                    "Data: import",
                    "Import patients, insurance, appointments, fees or balances from a file",
                    self.action_imports,
                )
            )
        commands += [
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
