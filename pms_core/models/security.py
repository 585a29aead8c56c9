"""Users, roles and login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from pms_core.models.base import UTCDateTime, utcnow


class Role(SQLModel, table=True):
    """A role name; what it may do lives in `pms_core.permissions`, in code."""

    name: str = Field(primary_key=True, max_length=20)
    description: str = Field(max_length=200)


class User(SQLModel, table=True):
    """A staff member who signs in. Passwords are argon2id hashes."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    username: str = Field(max_length=40, unique=True)
    full_name: str = Field(max_length=80)
    role: str = Field(foreign_key="role.name", max_length=20)
    password_hash: str = Field(max_length=255)
    disabled: bool = Field(default=False)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuthToken(SQLModel, table=True):
    """A login session. Only the SHA-256 of the token is stored."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Setting(SQLModel, table=True):
    """Database-wide settings, e.g. `demo` = "true" for a demo database."""

    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=500)


class UserPreference(SQLModel, table=True):
    """One user's choice kept between sessions (the dashboard's tiles and
    their order), as a short JSON value. Never PHI."""

    __tablename__ = "user_preference"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    key: str = Field(max_length=60, primary_key=True)
    value: str = Field(max_length=2000)
