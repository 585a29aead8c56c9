"""Start a throwaway PostgreSQL cluster for the tests when no server is given.

Uses the server binaries on PATH (or Debian's /usr/lib/postgresql/*/bin). initdb
refuses to run as root, so as root the cluster runs as the `postgres` system user.
It listens on a Unix socket in its own directory only (no TCP port to collide on).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise PostgresUnavailable(
        "set PMS_TEST_POSTGRES_URL or install PostgreSQL's server binaries (initdb, pg_ctl)"
    )


@dataclass
class Cluster:
    data_dir: Path
    socket_dir: Path
    pg_ctl: Path
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.socket_dir}"

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.pg_ctl), "-D", str(self.data_dir), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_throwaway_cluster() -> Cluster:
    """initdb + pg_ctl start in a new temporary directory; `Cluster.stop()` ends it."""
    bindir = _bin_dir()
    base = Path(tempfile.mkdtemp(prefix="pms-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            raise PostgresUnavailable("running as root and no runuser to drop to 'postgres'")
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    if run_as:
        shutil.chown(sock, "postgres")
    try:
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                *run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-l",
                str(base / "log"),
                "-o",
                f"-c listen_addresses='' -c unix_socket_directories={sock} -c fsync=off",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise PostgresUnavailable(f"could not start a throwaway cluster ({exc})") from exc
    return Cluster(data_dir=data, socket_dir=sock, pg_ctl=bindir / "pg_ctl", run_as=run_as)


class ScratchDatabases:
    """Uniquely named PostgreSQL databases made through an admin URL (optionally
    from a template) and all dropped again by `close()`."""

    def __init__(self, admin_url: str):
        from sqlalchemy import create_engine

        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._names: list[str] = []

    def create(self, prefix: str, *, template: str | None = None) -> str:
        """A new database's URL; `template` is the name of a database to copy."""
        import uuid

        from sqlalchemy import text

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        self._names.append(name)
        return self._admin.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Drop one database made here, now."""
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._names.remove(name)

    def close(self) -> None:
        from sqlalchemy import text

        with self._admin.connect() as conn:
            for name in self._names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


class PreparedCopies:
    """Copies of a template database made ahead of time by a background thread,
    so a test takes a ready database instead of waiting for CREATE DATABASE
    (most of a PostgreSQL test's setup). `take()` returns a new database's URL,
    `release(url)` drops it after the test, `close()` drops what is left."""

    def __init__(self, databases: ScratchDatabases, template: str, *, ahead: int = 2):
        import queue
        import threading

        self._databases = databases
        self._template = template
        self._ready: queue.Queue = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="pg-copies", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        import queue

        while not self._stop.is_set():
            try:
                url = self._databases.create("pms_t", template=self._template)
            except Exception as exc:  # handed to the next take()
                url = exc
            while not self._stop.is_set():
                try:
                    self._ready.put(url, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def take(self) -> str:
        url = self._ready.get(timeout=120)
        if isinstance(url, Exception):
            raise url
        return url

    def release(self, url: str) -> None:
        """Drop a database that was taken, once its test is done with it."""
        self._databases.drop(url)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
