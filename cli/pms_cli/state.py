"""What every command shares: the database URL, output format, engine, plugin
manager and the acting user, resolved once per invocation."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
import pluggy
from sqlalchemy import Engine

from pms_core.audit import flush_reads
from pms_core.context import Context, unit_of_work
from pms_core.db import check_reachable, default_url, ensure_current, make_engine, normalize_url
from pms_core.errors import AuthError

TOKEN_ENV = "PMS_TOKEN_FILE"


def token_path() -> Path:
    """Where `pms login` keeps the session token (mode 0600)."""
    if os.environ.get(TOKEN_ENV):
        return Path(os.environ[TOKEN_ENV])
    from platformdirs import user_config_dir

    return Path(user_config_dir("pms", appauthor=False)) / "session.json"


def _database_key(url: str) -> str:
    """Which database a token belongs to, without keeping the URL (it may carry a
    PostgreSQL password) in the file."""
    return hashlib.sha256(url.encode()).hexdigest()


def read_token(url: str) -> str | None:
    """The saved token for this database, or None. A missing, corrupt or foreign
    token file means "logged out", never an error."""
    try:
        data = json.loads(token_path().read_text())
        if data.get("db") == _database_key(url) and isinstance(data.get("token"), str):
            return data["token"]
    except (OSError, ValueError, AttributeError):
        pass
    return None


def write_token(url: str, token: str, expires_at: str) -> Path:
    """Save the token readable by this user only: written to a new 0600 file and
    renamed over the old one, so it is never readable by others, even briefly."""
    path = token_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump({"db": _database_key(url), "token": token, "expires_at": expires_at}, fh)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def clear_token() -> None:
    token_path().unlink(missing_ok=True)


@dataclass
class AppState:
    url: str
    fmt: str
    pm: pluggy.PluginManager
    _engine: Engine | None = field(default=None, repr=False)

    @classmethod
    def create(cls, db: str | None, fmt: str, pm: pluggy.PluginManager) -> AppState:
        return cls(url=normalize_url(db or default_url()), fmt=fmt, pm=pm)

    def engine(self, *, check: bool = True) -> Engine:
        """The engine; with `check`, refuse a missing database or a schema that is
        not this pms's (clear message, no traceback)."""
        if self._engine is None:
            if check:
                check_reachable(self.url)
            self._engine = make_engine(self.url, create_dirs=not check)
            if check:
                ensure_current(self._engine)
        return self._engine

    def close(self) -> None:
        """At the end of a command: write the read audit events still waiting
        (they are committed in groups) and release the engine's connections."""
        if self._engine is not None:
            flush_reads(self._engine)
            self._engine.dispose()
            self._engine = None

    def acting_user_id(self) -> int:
        """PMS_USER/PMS_PASSWORD when set (jobs), else the `pms login` token."""
        from pms_core.services import auth

        engine = self.engine()
        if os.environ.get("PMS_USER"):
            result = auth.login(
                engine,
                username=os.environ["PMS_USER"],
                password=os.environ.get("PMS_PASSWORD", ""),
                issue_token=False,
            )
            return result.user_id
        token = read_token(self.url)
        user_id = auth.user_for_token(engine, token) if token else None
        if user_id is None:
            raise AuthError("not logged in; run 'pms login' or set PMS_USER and PMS_PASSWORD")
        return user_id

    @contextmanager
    def uow(self) -> Iterator[Context]:
        """A unit of work acting as the logged-in user."""
        user_id = self.acting_user_id()
        with unit_of_work(self.engine(), user_id=user_id, pm=self.pm) as ctx:
            yield ctx


pass_state = click.make_pass_decorator(AppState)
