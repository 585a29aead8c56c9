"""Sign in: username and password, checked by `pms_core.services.auth.login`."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from pms_core.errors import AuthError


class LoginScreen(Screen):
    """The first screen without a session. Failures show the service's generic
    message, never which of username or password was wrong. `notice` is shown
    under the fields (e.g. why the last session ended).

    A sign-in here issues a session token, like `pms login`: it expires after a
    shift and logging out revokes it."""

    AUTO_FOCUS = "#username"
    BINDINGS = [
        Binding(
            "escape",
            "clear",
            "Clear",
            id="login.clear",
            tooltip="Clear the username and password",
        ),
    ]

    class Succeeded(Message):
        def __init__(self, user, token: str | None) -> None:
            super().__init__()
            self.user = user
            self.token = token

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, notice: str | None = None) -> None:
        super().__init__()
        self.notice = notice or ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="login-box", classes="dialog"):
            yield Static("Sign in to pms", classes="dialog-title")
            yield Label("Username")
            yield Input(id="username", placeholder="username", max_length=40)
            yield Label("Password")
            yield Input(id="password", placeholder="password", password=True, max_length=200)
            yield Static(self.notice, id="login-error", classes="form-error")
            yield Button("Sign in", id="sign-in", variant="primary")
        yield Footer()

    @on(Input.Submitted, "#username")
    def _next(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#sign-in")
    def submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not username or not password:
            self._show_error("Enter your username and password.")
            self.query_one("#password" if username else "#username", Input).focus()
            return
        self.query_one("#sign-in", Button).disabled = True
        self.query_one("#login-error", Static).update("Signing in…")
        self._login(username, password)

    @work(thread=True, exclusive=True, group="login")
    def _login(self, username: str, password: str) -> None:
        from pms_core.services import auth
        from pms_tui.app import describe_error

        app = self.app
        try:
            result = auth.login(
                app.engine,
                username=username,
                password=password,
                clock=app.clock,
                issue_token=True,
            )
            try:
                user = app.load_session_user(result.user_id)
            except Exception:
                if result.token:  # signed in, but cannot go on: end that session
                    auth.logout(app.engine, result.token, app.clock)
                raise
        except AuthError as exc:
            self.post_message(self.Failed(str(exc)))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc)))
        else:
            self.post_message(self.Succeeded(user, result.token))

    def on_login_screen_succeeded(self, message: Succeeded) -> None:
        self.app.start_session(message.user, token=message.token)

    def on_login_screen_failed(self, message: Failed) -> None:
        self._show_error(message.message)
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()

    def _show_error(self, text: str) -> None:
        self.query_one("#sign-in", Button).disabled = False
        self.query_one("#login-error", Static).update(text)

    def action_clear(self) -> None:
        self.query_one("#username", Input).value = ""
        self.query_one("#password", Input).value = ""
        self.query_one("#login-error", Static).update("")
        self.query_one("#username", Input).focus()
