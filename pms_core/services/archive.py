"""The full practice export, and reading it back: `pms export all -o FILE.zip`
and `pms import all FILE.zip`.

The archive is a zip of `manifest.json` (format version, the schema revision,
when, which practice, and for every table its columns, row count and SHA-256)
and one `tables/<name>.jsonl` per table: a JSON array of the row's values in
column order per line (dates and timestamps as ISO text, decimals as text, bytes
as base64).
Every table of the schema is in it, scoped to the practice: its own rows, and
the rows of tables without a practice column through the records they belong
to. Sign-in tokens are left out (sessions do not move); the code lists, roles
and database settings go with it.

Reading back needs an empty database at the same schema revision (migrated, no
practice yet): the rows are inserted with their ids, parents before children,
in one transaction; PostgreSQL's id sequences are moved past them. Balances,
claims, the audit chain: everything reads back identical. Both need
`data:archive` (the admin).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, TypeDecorator, bindparam, func, or_, select, text, update
from sqlmodel import SQLModel

from pms_core import audit
from pms_core.context import Context
from pms_core.db import check_schema, insert_plain, schema_state
from pms_core.errors import FieldError, ValidationError
from pms_core.files import atomic_output
from pms_core.models import Practice
from pms_core.permissions import require

FORMAT = "pms-practice-archive"
FORMAT_VERSION = 1
LEFT_OUT = frozenset({"auth_token"})  # sessions do not move with the data
GLOBAL = frozenset({"role", "setting", "code_entry", "audit_head"})  # not per practice
BATCH = 5_000


def _tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in LEFT_OUT]


def _scope(table: Table, practice_id: int, depth: int = 0):
    """A WHERE clause choosing `table`'s rows of the practice: its practice
    column, else a required foreign key leading to a table that has one (or,
    when every such key is optional, any of them)."""
    if table.name == "practice":
        return table.c.id == practice_id
    if "practice_id" in table.c:
        return table.c.practice_id == practice_id
    if table.name in GLOBAL or depth > 4:
        return None
    optional = []
    for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
        inner = _scope(fk.column.table, practice_id, depth + 1)
        if inner is None:
            continue
        clause = fk.parent.in_(select(fk.column).where(inner))
        if not fk.parent.nullable:
            return clause
        optional.append(clause)
    return or_(*optional) if optional else None


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass(frozen=True)
class ArchiveResult:
    tables: int
    rows: int
    path: Path


def export_all(ctx: Context, *, path: str | Path) -> ArchiveResult:
    """Write the practice's archive to `path` (atomically)."""
    require(ctx, "data:archive", action="archive.export")
    revision = ctx.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_revision": revision,
        "exported_at": ctx.clock.now().isoformat(),
        "practice_id": ctx.practice_id,
        "tables": [],
    }
    total = 0
    with (
        atomic_output(path, binary=True) as out,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for table in _tables():
            query = select(table)
            scope = _scope(table, ctx.practice_id)
            if scope is not None:
                query = query.where(scope)
            if "id" in table.c:
                query = query.order_by(table.c.id)
            digest, count = hashlib.sha256(), 0
            with archive.open(f"tables/{table.name}.jsonl", "w") as member:
                rows = ctx.session.connection().execute(query.execution_options(yield_per=BATCH))
                for row in rows:
                    line = (
                        json.dumps([_plain(v) for v in row], ensure_ascii=False) + "\n"
                    ).encode()
                    digest.update(line)
                    member.write(line)
                    count += 1
            manifest["tables"].append(
                {
                    "name": table.name,
                    "columns": [c.name for c in table.columns],
                    "rows": count,
                    "sha256": digest.hexdigest(),
                }
            )
            total += count
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    audit.record(
        ctx, action="archive.export", detail={"tables": len(manifest["tables"]), "rows": total}
    )
    return ArchiveResult(len(manifest["tables"]), total, Path(path))


# --- reading back ---------------------------------------------------------------------
def _refuse(code: str, message: str) -> ValidationError:
    return ValidationError([FieldError("archive", code, message)])


def _reader(column):
    """Text back to the column's value (dates, timestamps, decimals)."""
    kind_of = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    try:
        kind = kind_of.python_type
    except NotImplementedError:
        return None
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    if kind is Decimal:
        return Decimal
    if kind is bytes:
        return base64.b64decode
    return None


def _read_manifest(archive: zipfile.ZipFile) -> dict:
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, json.JSONDecodeError):
        raise _refuse("format", "is not a pms practice archive (no readable manifest)") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse("format", "is not a pms practice archive of a version this pms reads")
    return manifest


def import_all(engine, *, path: str | Path, clock=None) -> ArchiveResult:
    """Read an archive into the empty database behind `engine`, in one
    transaction (migrating an empty database first).

    Like `pms init`, this is done by whoever holds the database, before any
    user exists in it: refused when the database has a practice already. The
    load is audited at its end, as an event of the practice read back."""
    from sqlmodel import Session

    from pms_core.clock import SystemClock
    from pms_core.migrations.runner import upgrade

    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        raise _refuse("format", "is not a zip file") from None
    with archive:
        manifest = _read_manifest(archive)
        current, head = schema_state(engine)
        if manifest.get("schema_revision") != head:
            raise _refuse(
                "schema",
                f"was written at schema revision {manifest.get('schema_revision')}; this pms "
                f"is at {head}: read it with the pms version that wrote it",
            )
        if current is None:
            upgrade(engine)
        check_schema(engine)
        with Session(engine) as session, session.begin():
            if session.execute(select(func.count()).select_from(Practice)).scalar_one():
                raise _refuse(
                    "not_empty", "can only be read into an empty database (it has a practice)"
                )
            listed = {t["name"]: t for t in manifest["tables"]}
            tables = _tables()
            missing = [t.name for t in tables if t.name not in listed]
            if missing:
                raise _refuse("incomplete", f"has no table {', '.join(missing)}")
            connection = session.connection()
            total = sum(
                _load_table(session, archive, table, listed[table.name]) for table in tables
            )
            if connection.dialect.name == "postgresql":
                _move_sequences(connection, tables)
            audit.append(
                session,
                at=(clock or SystemClock()).now(),
                action="archive.import",
                practice_id=manifest.get("practice_id"),
                detail={"tables": len(tables), "rows": total},
            )
    return ArchiveResult(len(tables), total, Path(path))


def _load_table(session, archive: zipfile.ZipFile, table: Table, listed: dict) -> int:
    connection = session.connection()
    columns = listed["columns"]
    if set(columns) != {c.name for c in table.columns}:
        raise _refuse("columns", f"table {table.name} has other columns than this schema's")
    if table.name in GLOBAL:  # set by the migrations; the archive's replace them
        connection.execute(table.delete())
    readers = [_reader(table.c[name]) for name in columns]
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    later: list[dict] = []
    digest, count, batch = hashlib.sha256(), 0, []
    with archive.open(f"tables/{table.name}.jsonl") as member:
        for raw in member:
            digest.update(raw)
            values = json.loads(raw)
            row = {
                name: (read(v) if read is not None and v is not None else v)
                for name, read, v in zip(columns, readers, values, strict=True)
            }
            if self_refs and any(row[c] is not None for c in self_refs):
                later.append({"_id": row["id"], **{c: row[c] for c in self_refs}})
                row.update(dict.fromkeys(self_refs))
            batch.append(row)
            count += 1
            if len(batch) == BATCH:
                insert_plain(session, table, batch)
                batch = []
    if batch:
        insert_plain(session, table, batch)
    if digest.hexdigest() != listed["sha256"] or count != listed["rows"]:
        raise _refuse("damaged", f"table {table.name} does not match its manifest (damaged?)")
    if later:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in self_refs}),
            later,
        )
    return count


def _move_sequences(connection, tables: list[Table]) -> None:
    for table in tables:
        if "id" not in table.c or not table.c.id.autoincrement:
            continue
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar()
        if sequence:
            connection.execute(
                text(
                    f'SELECT setval(:s, COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, '
                    "false)"
                ),
                {"s": sequence},
            )
