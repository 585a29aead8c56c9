"""A real asyncssh SFTP server on 127.0.0.1 for the clearinghouse tests.

It runs in a background thread with its own event loop, presents a host key of
the test's choosing, accepts one user by password or by public key, and serves
files from a tmp directory (asyncssh's SFTPServer with a chroot, so "/outbox" is
ROOT/outbox). `read_only` folders answer writes with "permission denied", as a
server with restricted rights would; `posix_rename=False` makes the server
refuse the posix-rename extension, as servers without it do.
"""

from __future__ import annotations

import asyncio
import posixpath
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh


def free_port() -> int:
    """A loopback port with nothing listening on it (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def public_line(key: asyncssh.SSHKey) -> str:
    """The OpenSSH public key line of `key`, as a clearinghouse would publish it."""
    return key.export_public_key().decode().strip()


@dataclass
class SftpServer:
    root: Path
    host_key: asyncssh.SSHKey
    username: str = "billing01"
    password: str = "synthetic-pw-1"
    client_key: asyncssh.SSHKey | None = None
    port: int = 0
    read_only: tuple[str, ...] = ()
    posix_rename: bool = True
    logins: list[tuple[str, str, bool]] = field(default_factory=list)  # user, method, ok
    connections: int = 0

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._acceptor = None
        self._conns: list = []

    @property
    def host_key_line(self) -> str:
        return public_line(self.host_key)

    @property
    def fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> SftpServer:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._acceptor = self._call(self._listen())
        self.port = self._acceptor.get_port()
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None

    def _call(self, coro):
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self):
        server = self

        class Server(asyncssh.SSHServer):
            def connection_made(self, conn):
                server.connections += 1
                server._conns.append(conn)

            def begin_auth(self, username):
                return True

            def password_auth_supported(self):
                return True

            def validate_password(self, username, password):
                ok = username == server.username and password == server.password
                server.logins.append((username, "password", ok))
                return ok

            def public_key_auth_supported(self):
                return server.client_key is not None

            def validate_public_key(self, username, key):
                ok = (
                    username == server.username
                    and server.client_key is not None
                    and key.public_data == server.client_key.public_data
                )
                server.logins.append((username, "publickey", ok))
                return ok

        return await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            server_factory=Server,
            sftp_factory=lambda chan: _PolicySftp(chan, server),
            allow_scp=False,
            reuse_address=True,
        )

    async def _close(self) -> None:
        self._acceptor.close()
        await self._acceptor.wait_closed()
        for conn in self._conns:
            conn.close()
        self._conns.clear()

    def __enter__(self) -> SftpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _PolicySftp(asyncssh.SFTPServer):
    def __init__(self, chan, server: SftpServer):
        super().__init__(chan, chroot=str(server.root).encode())
        self._server = server

    def _check_write(self, path: bytes) -> None:
        virtual = posixpath.normpath(posixpath.join("/", path.decode()))
        for folder in self._server.read_only:
            if virtual == folder or virtual.startswith(folder + "/"):
                raise asyncssh.SFTPPermissionDenied("Permission denied")

    def open(self, path, pflags, attrs):
        if pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT):
            self._check_write(path)
        return super().open(path, pflags, attrs)

    def remove(self, path):
        self._check_write(path)
        return super().remove(path)

    def rename(self, oldpath, newpath):
        self._check_write(oldpath)
        self._check_write(newpath)
        return super().rename(oldpath, newpath)

    def posix_rename(self, oldpath, newpath):
        if not self._server.posix_rename:
            raise asyncssh.SFTPOpUnsupported("posix-rename not supported")
        self._check_write(oldpath)
        self._check_write(newpath)
        return super().posix_rename(oldpath, newpath)


class SilentServer:
    """Accepts TCP connections and never says anything: a hung server."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]

    def close(self) -> None:
        self._sock.close()
