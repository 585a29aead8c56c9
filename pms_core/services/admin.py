"""Creating and upgrading a pms database (`pms init`, `pms db upgrade`).

These run before any user exists, so they take a database URL rather than a
Context. `init_database` only ever works on a new or empty database: it refuses
one that already holds a pms schema (or anything else), and when it fails
halfway (a bad practice field, a short admin password) it removes what it
created, so a retry starts from the same empty database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, MetaData, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from pms_core import audit
from pms_core.clock import Clock, SystemClock
from pms_core.db import (
    check_reachable,
    check_schema,
    check_sqlite_file,
    display_url,
    make_engine,
    normalize_url,
    remove_sqlite_files,
    schema_state,
    sqlite_path,
)
from pms_core.errors import Conflict, DatabaseError
from pms_core.migrations.runner import head_revision, upgrade
from pms_core.services.practice import create_practice
from pms_core.services.users import create_user

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitResult:
    url: str  # password hidden
    practice_id: int
    admin_user_id: int
    admin_username: str
    revision: str


@dataclass(frozen=True)
class UpgradeResult:
    url: str  # password hidden
    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _connect_error(url: str, exc: SQLAlchemyError, hint: str = "") -> DatabaseError:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return DatabaseError(f"the SQLite database {u.database} could not be opened")
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()
    detail = reason[-1].strip() if reason else type(exc).__name__
    return DatabaseError(
        f"cannot connect to PostgreSQL database '{u.database}' on {u.host or 'localhost'}: "
        f"{detail}{hint}"
    )


def _existing_tables(engine: Engine, url: str, hint: str = "") -> list[str]:
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    except SQLAlchemyError as exc:
        raise _connect_error(url, exc, hint) from None


def _refuse_if_not_empty(engine: Engine, url: str) -> None:
    tables = _existing_tables(
        engine, url, " (pms init needs an existing, empty database; create it with createdb)"
    )
    if "alembic_version" in tables or "practice" in tables:
        current, _ = schema_state(engine)
        raise Conflict(
            f"the database already has a pms schema (revision {current or 'unknown'}); "
            "nothing was changed. 'pms db upgrade' brings an existing database up to date"
        )
    if tables:
        raise DatabaseError(
            f"the database is not empty ({len(tables)} tables that are not pms's); "
            "pms init needs a new or empty database"
        )


def _wipe(engine: Engine) -> None:
    """Drop everything `init_database` created in a database that was empty."""
    with engine.begin() as conn:
        meta = MetaData()
        meta.reflect(conn)
        meta.drop_all(conn)
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP FUNCTION IF EXISTS pms_append_only()"))


def init_database(
    url: str,
    *,
    name: str,
    group_npi: str,
    tin: str,
    taxonomy: str,
    address1: str,
    city: str,
    state: str,
    zip: str,
    time_zone: str = "America/New_York",
    address2: str | None = None,
    phone: str | None = None,
    admin_username: str = "admin",
    admin_full_name: str = "Administrator",
    admin_password: str,
    clock: Clock | None = None,
) -> InitResult:
    """Create the pms schema in a new or empty database, then the practice and its
    first admin user, audited as `db.init`.

    SQLite: the file (and its directories) is created when missing. PostgreSQL:
    the database must exist and be empty. Raises Conflict when the database
    already holds a pms schema, DatabaseError when it cannot be used, and
    ValidationError naming each bad field; in every case nothing is left behind.
    """
    url = normalize_url(url)
    clock = clock or SystemClock()
    path = sqlite_path(url)
    if make_url(url).get_backend_name() == "sqlite" and path is None:
        raise DatabaseError("pms init needs a SQLite file path or a PostgreSQL database")
    created_file = False
    if path is not None:
        if path.exists():
            check_sqlite_file(path)
        else:
            created_file = True
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"cannot create the directory {path.parent} ({exc.strerror})"
                ) from None
    engine = make_engine(url)
    started = False
    try:
        _refuse_if_not_empty(engine, url)
        started = True
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            practice = create_practice(
                session,
                name=name,
                group_npi=group_npi,
                tin=tin,
                taxonomy=taxonomy,
                address1=address1,
                address2=address2,
                city=city,
                state=state,
                zip=zip,
                phone=phone,
                time_zone=time_zone,
            )
            admin = create_user(
                session,
                practice_id=practice.id,
                username=admin_username,
                full_name=admin_full_name,
                role="admin",
                password=admin_password,
            )
            revision = head_revision()
            audit.append(
                session,
                at=clock.now(),
                action="db.init",
                user_id=admin.id,
                practice_id=practice.id,
                detail={"revision": revision},
            )
            session.commit()
    except BaseException:
        engine.dispose()
        if created_file:
            remove_sqlite_files(path)
        elif started:
            try:
                _wipe(engine)
            except SQLAlchemyError:
                log.exception("could not remove the partly created schema")
        raise
    finally:
        engine.dispose()
    return InitResult(
        url=display_url(url),
        practice_id=practice.id,
        admin_user_id=admin.id,
        admin_username=admin.username,
        revision=revision,
    )


def upgrade_database(url: str) -> UpgradeResult:
    """Apply pending migrations to an existing pms database; a no-op when it is
    current. Refuses a missing database, one that is not a pms database, and one
    whose schema is newer than this pms."""
    url = normalize_url(url)
    check_reachable(url)
    engine = make_engine(url)
    try:
        _existing_tables(engine, url)  # a clear message when it cannot be reached
        current, head = check_schema(engine, allow_older=True)
        if current != head:
            upgrade(engine)
        return UpgradeResult(url=display_url(url), before=current, after=head)
    finally:
        engine.dispose()
