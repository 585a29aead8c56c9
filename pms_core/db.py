"""Engines and schema checks. No engine exists at import time: callers build one
with `make_engine(url)` (tests build one per database)."""

from __future__ import annotations

import os
from operator import itemgetter
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from pms_core.errors import DatabaseError

ENV_URL = "PMS_DATABASE_URL"


def default_url() -> str:
    """`PMS_DATABASE_URL`, else a SQLite file in the platformdirs user data dir."""
    if os.environ.get(ENV_URL):
        return os.environ[ENV_URL]
    from platformdirs import user_data_dir

    path = Path(user_data_dir("pms", appauthor=False)) / "pms.db"
    return f"sqlite:///{path}"


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other engines / in-memory."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, create_dirs: bool = False) -> Engine:
    """An engine for `url`. Bound parameters are hidden from SQLAlchemy's error
    messages and logs: they are often PHI.

    SQLite gets WAL, foreign keys, a busy timeout and synchronous=FULL, and every
    transaction begins IMMEDIATE so two writers queue instead of failing halfway
    (nearly every transaction here writes, at least an audit event).
    """
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError("database URL is not valid") from exc
    path = sqlite_path(url)
    if path is not None and create_dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        # REPLACE deletes rows without firing DELETE triggers unless this is on;
        # the append-only triggers on the ledger and audit log rely on it.
        cur.execute("PRAGMA recursive_triggers=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def check_reachable(url: str) -> None:
    """Raise DatabaseError with a clear message when the database cannot be used.

    A missing SQLite file is reported as missing (we never create one silently
    outside `pms init`/`pms demo`), an unreadable one as unreadable.
    """
    path = sqlite_path(normalize_url(url))
    if path is not None:
        if not path.exists():
            raise DatabaseError(f"no database at {path}; create one with 'pms init' or 'pms demo'")
        check_sqlite_file(path)


SQLITE_MAGIC = b"SQLite format 3\x00"


def check_sqlite_file(path: Path) -> None:
    """Refuse a directory, a file we cannot read and write, or one that is not a
    SQLite database. An empty file is accepted (SQLite treats it as new)."""
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    if not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseError(f"database file {path} is not readable and writable")
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseError(f"database file {path} cannot be read ({exc.strerror})") from None
    if header and header != SQLITE_MAGIC:
        raise DatabaseError(f"{path} is not a SQLite database (or it is damaged)")


def remove_sqlite_files(path: Path) -> None:
    """Delete a SQLite database with its WAL, shared-memory and journal files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def display_url(url: str) -> str:
    """The URL with any password masked, safe to print."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(invalid database URL)"


def schema_state(engine: Engine) -> tuple[str | None, str]:
    """(current revision in the database, head revision of this pms)."""
    from pms_core.migrations.runner import head_revision

    head = head_revision()
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None, head
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            return (row[0] if row else None), head
    except OperationalError as exc:
        raise DatabaseError("the database could not be opened (is it a pms database?)") from exc
    except SQLAlchemyError as exc:
        raise DatabaseError("the database could not be read") from exc


def check_schema(engine: Engine, *, allow_older: bool = False) -> tuple[str, str]:
    """(current, head) revisions; refuses a database with no pms schema, one newer
    than this pms, and (unless `allow_older`, as `pms db upgrade` needs) an older one."""
    from pms_core.migrations.runner import known_revisions

    current, head = schema_state(engine)
    if current is None:
        raise DatabaseError("the database has no pms schema; create one with 'pms init'")
    if current not in known_revisions():
        raise DatabaseError(
            f"the database schema ({current}) is newer than this pms ({head}); "
            "upgrade pms before using this database"
        )
    if current != head and not allow_older:
        raise DatabaseError(
            f"the database schema ({current}) is older than this pms ({head}); run 'pms db upgrade'"
        )
    return current, head


def ensure_current(engine: Engine) -> None:
    """Refuse to work on a database that is empty, older or newer than this pms."""
    check_schema(engine)


def insert_plain(session, table, rows: list[dict]) -> None:
    """INSERT many rows straight through the driver, in the session's
    transaction, each value converted by its column type's bind processor
    (what SQLAlchemy itself would send: dates and timestamps as SQLite
    stores them, UTC timestamps made naive). For bulk rows by the tens of
    thousands (postings, claim and remittance lines) where SQLAlchemy's
    per-row statement handling costs more than the database's own work.
    Every row must have the keys of the first."""
    if not rows:
        return
    from sqlalchemy import insert

    dialect = session.get_bind().dialect
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    order = list(compiled.positiontup) if compiled.positional else keys
    processors = [
        (i, key, process)
        for i, key in enumerate(order)
        if (process := table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if compiled.positional:
        pick = itemgetter(*order)
        params = (
            [pick(row) for row in rows] if len(order) > 1 else [(row[order[0]],) for row in rows]
        )
        if processors:
            params = [_processed(values, processors) for values in params]
    else:
        params = rows
        if processors:
            params = [dict(row) for row in rows]
            for values in params:
                for _, key, process in processors:
                    values[key] = process(values[key])
    session.connection().exec_driver_sql(str(compiled), params)


def _processed(values: tuple, processors: list) -> tuple:
    converted = list(values)
    for i, _, process in processors:
        if converted[i] is not None:
            converted[i] = process(converted[i])
    return tuple(converted)


def reserve_ids(session, table, count: int) -> list[int]:
    """`count` new primary keys for `table`, to insert many rows with their ids
    known beforehand (RETURNING in parameter order makes SQLite insert row by
    row). PostgreSQL draws them from the table's sequence; SQLite takes the
    next ones after the largest, which is safe because a pms write
    transaction holds SQLite's write lock from its start (BEGIN IMMEDIATE)."""
    if count <= 0:
        return []
    from sqlalchemy import func, select

    if session.get_bind().dialect.name == "postgresql":
        sequence = session.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar_one()
        return list(
            session.execute(
                text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": sequence, "n": count}
            ).scalars()
        )
    top = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + count))


def chunked(values, size: int = 500):
    """`values` (a sequence) in lists of at most `size`: for `IN (...)` lists,
    which both engines cap (SQLite at 32,766 parameters, PostgreSQL at 65,535)."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]
