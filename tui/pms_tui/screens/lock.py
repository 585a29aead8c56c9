"""The idle lock: an opaque screen over everything, no patient data on it."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from pms_core.errors import AuthError


class LockScreen(Screen):
    """Covers the whole app (a plain Screen, so nothing beneath is drawn) until
    the signed-in user types their password again; or they can log out."""

    AUTO_FOCUS = "#unlock-password"
    BINDINGS = [
        Binding(
            "ctrl+o",
            "logout",
            "Log out",
            id="lock.logout",
            tooltip="Log out instead of unlocking",
            priority=True,
        ),
    ]

    class Unlocked(Message):
        pass

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, username: str) -> None:
        super().__init__()
        self.username = username

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="lock-box", classes="dialog"):
            yield Static("Screen locked", classes="dialog-title")
            yield Static(
                f"Signed in as {self.username}. Type your password to continue.",
                id="lock-who",
            )
            yield Label("Password")
            yield Input(id="unlock-password", password=True, max_length=200)
            yield Static("", id="lock-error", classes="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Unlock", id="unlock", variant="primary")
                yield Button("Log out", id="lock-logout")
        yield Footer()

    @on(Input.Submitted, "#unlock-password")
    @on(Button.Pressed, "#unlock")
    def submit(self) -> None:
        password = self.query_one("#unlock-password", Input).value
        if not password:
            self.query_one("#lock-error", Static).update("Type your password.")
            return
        self.query_one("#unlock", Button).disabled = True
        self._verify(password, self.app.grant(), self.username)

    @on(Button.Pressed, "#lock-logout")
    def _logout_pressed(self) -> None:
        self.action_logout()

    def action_logout(self) -> None:
        # Not awaited here: logging out pops this very screen, and awaiting that
        # from the screen's own handler would wait forever.
        self.app.call_later(self.app.action_logout)

    @work(thread=True, exclusive=True, group="unlock")
    def _verify(self, password: str, grant, username: str) -> None:
        """Check the password of the user `grant` (captured when the button was
        pressed) acts as; the session itself must still be live."""
        from pms_core.services import auth
        from pms_tui.app import SESSION_ENDED, describe_error

        app = self.app
        try:
            if grant is None:
                raise AuthError("not signed in")
            result = auth.login(
                app.engine,
                username=username,
                password=password,
                clock=app.clock,
                issue_token=False,
            )
            if result.user_id != grant.user_id:
                raise AuthError(auth.LOGIN_FAILED)
        except AuthError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc)))
            return
        try:
            app.check_grant(grant)  # expired or revoked meanwhile: back to sign-in
        except AuthError:
            self.post_message(self.Failed(SESSION_ENDED))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc)))
        else:
            self.post_message(self.Unlocked())

    def on_lock_screen_unlocked(self) -> None:
        self.app.unlock()

    def on_lock_screen_failed(self, message: Failed) -> None:
        self.query_one("#unlock", Button).disabled = False
        self.query_one("#lock-error", Static).update(message.message)
        password = self.query_one("#unlock-password", Input)
        password.value = ""
        password.focus()
