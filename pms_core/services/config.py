"""Per-practice configuration (`pms config set|get|list|unset`).

Settings are typed and known in advance: a key that no registered `SettingSpec`
describes is refused, and a value is checked and normalized by its kind before
it is stored. The core's own keys are `CORE_SETTINGS` (reminder policy); each
reminder channel contributes the keys it reads (`ReminderChannel.settings`, e.g.
the email channel's `smtp.*`), so a third-party channel is configured the same
way as a built-in one.

Secrets (keys ending in `password` or `token`) are never shown back: reads give
"(set)" instead of the value, and no value of any key is ever audited (the audit
event names the key only).

Changing and reading settings needs `practice:manage`: they name the practice's
mail server, gateway and accounts, which is the admin's business. Services that
need the values to work (sending reminders) read them with `effective_settings`
after their own permission check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, select

from pms_core import audit
from pms_core import validation as v
from pms_core.context import Context
from pms_core.errors import FieldError, NotFound, ValidationError
from pms_core.models import PracticeSetting
from pms_core.permissions import require

KINDS = ("text", "int", "bool", "email", "phone", "url", "time", "choice", "path")
MASK = "(set)"
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


@dataclass(frozen=True)
class SettingSpec:
    """A known setting: its key, kind (one of KINDS), what it is for, its default
    (a typed value, or None when it has none), and limits for int/choice kinds."""

    key: str
    kind: str
    description: str
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def secret(self) -> bool:
        return self.key.endswith(("password", "token"))


CORE_SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "reminders.quiet_start",
        "time",
        "start of quiet hours, local HH:MM (no reminder is sent from then until quiet_end)",
        default=time(21, 0),
    ),
    SettingSpec(
        "reminders.quiet_end",
        "time",
        "end of quiet hours, local HH:MM (equal to quiet_start: no quiet hours)",
        default=time(8, 0),
    ),
    SettingSpec(
        "reminders.max_attempts",
        "int",
        "delivery attempts before a reminder is marked failed",
        default=5,
        minimum=1,
        maximum=20,
    ),
    SettingSpec(
        "reminders.retry_minutes",
        "int",
        "wait before the first retry; doubled after each further failure",
        default=15,
        minimum=1,
        maximum=1440,
    ),
    SettingSpec(
        "reminders.outbox_dir",
        "path",
        "write reminders to files here instead of sending them, and read replies from here"
        " (training rooms and the demo; unset to send for real)",
    ),
)


@dataclass(frozen=True)
class SettingView:
    """A setting as shown to a user: the value (masked for secrets), whether the
    practice set it, and the default that applies otherwise."""

    key: str
    value: str | None
    is_set: bool
    default: str | None
    secret: bool
    description: str


def known_settings(pm) -> dict[str, SettingSpec]:
    """Every settable key: the core's and each registered reminder channel's."""
    from pms_core.services.reminders import reminder_channels

    specs = {s.key: s for s in CORE_SETTINGS}
    for channel in reminder_channels(pm).values():
        for spec in getattr(channel, "settings", ()):
            specs.setdefault(spec.key, spec)
    return specs


# --- values ----------------------------------------------------------------------
def parse_value(spec: SettingSpec, text: str) -> tuple[Any, FieldError | None]:
    """The typed value of `text` for `spec`, or a FieldError naming the key and the
    rule (never the value: it may be a password)."""
    raw = (text or "").strip()
    key = spec.key

    def bad(code: str, message: str) -> tuple[None, FieldError]:
        return None, FieldError(key, code, message)

    if not raw:
        return bad("required", "needs a value (use 'pms config unset' to clear it)")
    if len(raw) > PracticeSetting.__table__.columns["value"].type.length:
        return bad("too_long", "is too long")
    if spec.kind == "int":
        if not re.fullmatch(r"-?\d+", raw):
            return bad("int", "must be a whole number")
        number = int(raw)
        if (spec.minimum is not None and number < spec.minimum) or (
            spec.maximum is not None and number > spec.maximum
        ):
            return bad("range", f"must be between {spec.minimum} and {spec.maximum}")
        return number, None
    if spec.kind == "bool":
        if raw.lower() in _TRUE:
            return True, None
        if raw.lower() in _FALSE:
            return False, None
        return bad("bool", "must be true or false")
    if spec.kind == "email":
        name, address = parseaddr(raw)
        if not address or v.email_error(key, address) is not None:
            return bad("email", "must be an email address, optionally 'Name <address>'")
        return (formataddr((name, address)) if name else address), None
    if spec.kind == "phone":
        digits = v.digits(raw)
        if re.search(r"[^\d\s().+\-]", raw) or not 5 <= len(digits) <= 15:
            return bad("phone", "must be a phone number or short code (digits, optional +)")
        return (v.normalize_phone(raw) if len(digits) in (10, 11) else digits), None
    if spec.kind == "url":
        parts = urlsplit(raw)
        try:
            port = parts.port
        except ValueError:  # not a number, or outside 0-65535
            port = 0
        if port == 0:
            return bad("url", "has a port that is not a number from 1 to 65535")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return bad("url", "must be an http:// or https:// URL")
        if parts.username is not None or parts.password is not None:
            # It would be shown back unmasked, and the channels do not send it.
            return bad("url", "may not contain credentials (set the username/password keys)")
        return raw, None
    if spec.kind == "time":
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            return bad("time", "must be a 24-hour time HH:MM")
        return time(int(m[1]), int(m[2])), None
    if spec.kind == "choice":
        if raw.lower() not in spec.choices:
            return bad("choice", f"must be one of: {', '.join(spec.choices)}")
        return raw.lower(), None
    if spec.kind == "path":
        path = Path(raw).expanduser()
        if not path.is_absolute():
            return bad("path", "must be an absolute path")
        return path, None
    return raw, None


def format_value(value: Any) -> str:
    """How a typed value is stored and shown."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def effective_settings(session: Session, practice_id: int, specs: Mapping[str, SettingSpec]):
    """Typed values of every key in `specs` for the practice: what it set, else the
    default (None when there is none). Secrets included: for services that have
    already checked their own permission, never for display."""
    stored = {
        row.key: row.value
        for row in session.exec(
            select(PracticeSetting).where(PracticeSetting.practice_id == practice_id)
        )
    }
    values: dict[str, Any] = {}
    for key, spec in specs.items():
        value = spec.default
        if key in stored:
            parsed, error = parse_value(spec, stored[key])
            value = parsed if error is None else spec.default
        values[key] = value
    return values


# --- services -------------------------------------------------------------------
def _spec(ctx: Context, key: str) -> SettingSpec:
    spec = known_settings(ctx.pm).get((key or "").strip())
    if spec is None:
        raise ValidationError(
            [FieldError("key", "unknown", "is not a known setting (see 'pms config list')")]
        )
    return spec


def _view(spec: SettingSpec, stored: str | None) -> SettingView:
    default = None if spec.default is None else format_value(spec.default)
    shown = stored
    if spec.secret and stored is not None:
        shown = MASK
    return SettingView(
        key=spec.key,
        value=shown,
        is_set=stored is not None,
        default=default,
        secret=spec.secret,
        description=spec.description,
    )


def set_setting(ctx: Context, *, key: str, value: str) -> SettingView:
    """Store a practice setting after checking its key and value. Returns the
    setting as shown (a secret masked). Audited by key, never by value."""
    require(ctx, "practice:manage", action="config.set")
    spec = _spec(ctx, key)
    typed, error = parse_value(spec, value)
    if error:
        raise ValidationError([error])
    text = format_value(typed)
    row = ctx.session.get(PracticeSetting, (ctx.practice_id, spec.key))
    if row is None:
        row = PracticeSetting(practice_id=ctx.practice_id, key=spec.key, value=text)
        ctx.session.add(row)
    row.value, row.updated_at = text, ctx.clock.now()
    ctx.session.flush()
    audit.record(ctx, action="config.set", detail={"key": spec.key})
    return _view(spec, text)


def unset_setting(ctx: Context, *, key: str) -> SettingView:
    """Remove the practice's value so the default applies again."""
    require(ctx, "practice:manage", action="config.unset")
    spec = _spec(ctx, key)
    row = ctx.session.get(PracticeSetting, (ctx.practice_id, spec.key))
    if row is None:
        raise NotFound(f"setting {spec.key} is not set")
    ctx.session.delete(row)
    ctx.session.flush()
    audit.record(ctx, action="config.unset", detail={"key": spec.key})
    return _view(spec, None)


def get_setting(ctx: Context, *, key: str) -> SettingView:
    """One setting as shown to a user (secrets masked)."""
    require(ctx, "practice:manage", action="config.read")
    spec = _spec(ctx, key)
    row = ctx.session.get(PracticeSetting, (ctx.practice_id, spec.key))
    audit.record(ctx, action="config.read", detail={"key": spec.key})
    return _view(spec, row.value if row else None)


def list_settings(ctx: Context) -> list[SettingView]:
    """Every known setting, by key, with the practice's value or the default."""
    require(ctx, "practice:manage", action="config.read")
    stored = {
        row.key: row.value
        for row in ctx.session.exec(
            select(PracticeSetting).where(PracticeSetting.practice_id == ctx.practice_id)
        )
    }
    views = [_view(spec, stored.get(key)) for key, spec in sorted(known_settings(ctx.pm).items())]
    audit.record(ctx, action="config.read", detail={"keys": len(views)})
    return views
