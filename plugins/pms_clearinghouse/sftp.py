"""The `sftp` transport: files to and from a clearinghouse's SFTP server (asyncssh).

The server is always verified: `host_key` holds the server's public key line(s)
or SHA256 fingerprint(s) as the clearinghouse publishes them (or `known_hosts`
names an OpenSSH known_hosts file). There is no "accept a new key" mode: an
unknown or changed key stops the connection before the login, so no password
goes to a server that may not be the clearinghouse's.

The API is synchronous. Each transport runs a private event loop in a helper
thread, so it works the same from a plain thread, a TUI worker or code that is
itself inside a running event loop; calls on one transport are serialized. The
SSH connection is opened on first use, reused by later calls and closed by
`close()` (a connection the server dropped in between is reopened).

Delivery (see `pms_clearinghouse.common`): upload to `.NAME.part`, then rename
to NAME with the OpenSSH posix-rename extension when the server has it, else the
standard SFTP rename (which refuses to replace). Before renaming, the transport
checks that NAME is not there: an identical file counts as delivered, a
different one is an error, so nothing is replaced (a concurrent writer of the
same name in the same instant is the one case the check cannot rule out).

`timeout` bounds connecting (TCP, handshake and login) and each request; a file
transfer gets an extra second per 64 KiB. Error messages name the host:port,
user and folder; never file contents or secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import posixpath
import re
import socket
import threading
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

from pms_clearinghouse.common import (
    SettingsError,
    check_outbound_names,
    is_inbound_candidate,
    numbered_name,
    required_setting,
    temp_name,
    text_setting,
)
from pms_clearinghouse.sftp_settings import KIND, SETTINGS, SFTP_TYPE
from pms_core.transport import InboundFile, OutboundFile, TransportError, TransportType

log = logging.getLogger(__name__)

T = TypeVar("T")

_FINGERPRINT = re.compile(r"SHA256:([A-Za-z0-9+/]{43})=?")
_BYTES_PER_EXTRA_SECOND = 64 * 1024


# --- settings -------------------------------------------------------------------------
@dataclass(frozen=True)
class SftpConfig:
    host: str
    port: int
    username: str
    outbox: str
    inbox: str
    archive: str | None
    timeout: float
    password: str | None = field(default=None, repr=False)
    client_key: asyncssh.SSHKey | None = field(default=None, repr=False)
    host_keys: tuple[asyncssh.SSHKey, ...] = ()
    fingerprints: frozenset[str] = frozenset()
    known_hosts: asyncssh.SSHKnownHosts | None = field(default=None, repr=False)
    known_hosts_path: str | None = None

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_settings(settings: Mapping[str, str | None]) -> SftpConfig:
    """Check every setting; a SettingsError names the one that is wrong."""
    host = required_setting(settings, "host", kind=KIND)
    if any(c.isspace() for c in host):
        raise SettingsError(f"sftp setting 'host' must be a host name or address (got {host!r})")
    port_text = text_setting(settings, "port", kind=KIND) or "22"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(
            f"sftp setting 'port' must be a number from 1 to 65535 (got {port_text!r})"
        )
    username = required_setting(settings, "username", kind=KIND)
    password = settings.get("password") or None  # secrets are taken as they are
    key_path = text_setting(settings, "private_key", kind=KIND)
    passphrase = settings.get("passphrase") or None
    if password and key_path:
        raise SettingsError("sftp settings 'password' and 'private_key': set one of them, not both")
    if not password and not key_path:
        raise SettingsError("sftp settings 'password' or 'private_key': one of them is required")
    if passphrase and not key_path:
        raise SettingsError("sftp setting 'passphrase' is only used with 'private_key'")
    client_key = _read_client_key(key_path, passphrase) if key_path else None

    host_key_text = text_setting(settings, "host_key", kind=KIND)
    known_hosts_path = text_setting(settings, "known_hosts", kind=KIND)
    if host_key_text and known_hosts_path:
        raise SettingsError("sftp settings 'host_key' and 'known_hosts': set one of them, not both")
    if not host_key_text and not known_hosts_path:
        raise SettingsError(
            "sftp setting 'host_key' is required (the server's public host key or its "
            "SHA256 fingerprint, from the clearinghouse), or set 'known_hosts'"
        )
    host_keys: tuple[asyncssh.SSHKey, ...] = ()
    fingerprints: frozenset[str] = frozenset()
    known_hosts = None
    if host_key_text:
        host_keys, fingerprints = _parse_host_keys(host_key_text)
    else:
        assert known_hosts_path is not None
        known_hosts_path = str(Path(known_hosts_path).expanduser())
        known_hosts = _read_known_hosts(known_hosts_path)

    timeout_text = text_setting(settings, "timeout", kind=KIND) or "30"
    try:
        timeout = float(timeout_text)
    except ValueError:
        timeout = math.nan
    if not 0 < timeout <= 3600:
        raise SettingsError(
            f"sftp setting 'timeout' must be a number of seconds from 1 to 3600 "
            f"(got {timeout_text!r})"
        )
    return SftpConfig(
        host=host,
        port=int(port_text),
        username=username,
        outbox=_remote_folder(settings, "outbox", required=True),
        inbox=_remote_folder(settings, "inbox", required=True),
        archive=_remote_folder(settings, "archive", required=False),
        timeout=timeout,
        password=password,
        client_key=client_key,
        host_keys=host_keys,
        fingerprints=fingerprints,
        known_hosts=known_hosts,
        known_hosts_path=known_hosts_path,
    )


def _remote_folder(settings: Mapping[str, str | None], name: str, *, required: bool):
    value = (
        required_setting(settings, name, kind=KIND)
        if required
        else text_setting(settings, name, kind=KIND)
    )
    if value is None:
        return None
    if "\\" in value or "\x00" in value:
        raise SettingsError(f"sftp setting {name!r} must be a remote folder like /outbox")
    return value.rstrip("/") or "/"


def _read_client_key(path: str, passphrase: str | None) -> asyncssh.SSHKey:
    path = str(Path(path).expanduser())
    try:
        return asyncssh.read_private_key(path, passphrase)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise SettingsError(
            f"sftp setting 'private_key': the key file {path} cannot be read: {reason}"
        ) from None
    except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError) as exc:
        if "bcrypt" in str(exc):
            raise SettingsError(
                f"sftp setting 'private_key': the key file {path} is encrypted the OpenSSH way, "
                "which needs the bcrypt package: install it (pip install 'asyncssh[bcrypt]')"
            ) from None
        raise SettingsError(
            f"sftp setting 'private_key': the key file {path} could not be loaded ({exc}); "
            "check that it is a private key and that 'passphrase' is right"
        ) from None


def _parse_host_keys(text: str) -> tuple[tuple[asyncssh.SSHKey, ...], frozenset[str]]:
    keys: list[asyncssh.SSHKey] = []
    fingerprints: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith(("SHA256:", "MD5:")):
            match = _FINGERPRINT.fullmatch(line)
            if not match:
                raise SettingsError(
                    "sftp setting 'host_key': a fingerprint must look like 'SHA256:' followed "
                    "by 43 characters, as `ssh-keygen -lf` prints it"
                )
            fingerprints.add(f"SHA256:{match.group(1)}")
            continue
        keys.append(_import_key_line(line))
    if not keys and not fingerprints:
        raise SettingsError("sftp setting 'host_key' holds no key")
    return tuple(keys), frozenset(fingerprints)


def _import_key_line(line: str) -> asyncssh.SSHKey:
    """An OpenSSH public key line, with or without a comment; a known_hosts line
    (host names first) is accepted too."""
    candidates = [line]
    parts = line.split()
    if len(parts) >= 3:
        candidates.append(" ".join(parts[1:]))
    for candidate in candidates:
        try:
            return asyncssh.import_public_key(candidate)
        except (asyncssh.KeyImportError, ValueError):
            continue
    raise SettingsError(
        "sftp setting 'host_key' must be an OpenSSH public key line like "
        "'ssh-ed25519 AAAA...' or a fingerprint like 'SHA256:...'"
    )


def _read_known_hosts(path: str) -> asyncssh.SSHKnownHosts:
    try:
        return asyncssh.read_known_hosts(path)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise SettingsError(
            f"sftp setting 'known_hosts': the file {path} cannot be read: {reason}"
        ) from None
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise SettingsError(
            f"sftp setting 'known_hosts': the file {path} is not a known_hosts file ({exc})"
        ) from None


def open_sftp(settings: Mapping[str, str | None]) -> SftpTransport:
    """Check the settings and return the transport; it connects on first use."""
    return SftpTransport(parse_settings(settings))


SFTP = TransportType(
    name=KIND, description=SFTP_TYPE.description, settings=SETTINGS, open=open_sftp
)


# --- host key check -------------------------------------------------------------------
class _VerifyingClient(asyncssh.SSHClient):
    """Trusts only the configured keys and fingerprints and remembers what the server
    presented otherwise, for the error message."""

    def __init__(self, keys: tuple[asyncssh.SSHKey, ...], fingerprints: frozenset[str]):
        self._keys = {k.public_data for k in keys}
        self._fingerprints = fingerprints
        self.presented: str | None = None

    def validate_host_public_key(self, host: str, addr: str, port: int, key: Any) -> bool:
        fingerprint = key.get_fingerprint("sha256")
        self.presented = f"{key.get_algorithm()} {fingerprint}"
        return fingerprint in self._fingerprints or key.public_data in self._keys

    def validate_host_ca_key(self, host: str, addr: str, port: int, key: Any) -> bool:
        self.presented = f"a host certificate signed by {key.get_fingerprint('sha256')}"
        return False


class _Missing:
    pass


MISSING = _Missing()


# --- the transport --------------------------------------------------------------------
class SftpTransport:
    """Submit, poll and acknowledge over SFTP; see the module docstring."""

    def __init__(self, config: SftpConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopper: weakref.finalize | None = None
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None

    def __repr__(self) -> str:
        return f"SftpTransport({self.config.username}@{self.config.where})"

    # --- public, synchronous ---------------------------------------------------------
    def submit(self, files: Sequence[OutboundFile]) -> None:
        """Upload each file whole under its name in the outbox, in order.

        Stops at the first file that cannot be delivered and raises TransportError
        naming it; files delivered before it stay. A file already there with the same
        bytes counts as delivered, so sending the whole batch again is the retry; the
        same name with different bytes is an error (nothing is replaced)."""
        files = list(files)
        check_outbound_names(files)
        if files:
            self._run(self._submit, files)

    def poll(self) -> list[InboundFile]:
        """The regular files waiting in the inbox, by name; nothing is removed. Hidden
        files, temporary names and partial uploads are skipped."""
        return self._run(self._poll)

    def acknowledge(self, files: Sequence[InboundFile]) -> None:
        """Move each file to the archive folder (or delete it when there is none).
        A file already gone is fine. A name already taken in the archive by a
        different file gets a number (999.x12 -> 999.1.x12)."""
        files = list(files)
        for f in files:
            self._check_inbox_path(f)
        if files:
            self._run(self._acknowledge, files)

    def close(self) -> None:
        """Close the connection and stop the helper thread. The transport may be used
        again afterwards (it reconnects)."""
        with self._lock:
            if self._loop is None:
                return
            future = asyncio.run_coroutine_threadsafe(self._disconnect(), self._loop)
            try:
                future.result(timeout=self.config.timeout + 5)
            except Exception:  # closing a broken connection: nothing more to do
                log.debug("sftp %s: error while closing", self.config.where)
            assert self._stopper is not None
            self._stopper()
            self._loop = self._thread = self._stopper = None

    def __enter__(self) -> SftpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=_serve, args=(loop,), name=f"pms-sftp {self.config.where}", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
                self._stopper = weakref.finalize(self, _stop, loop, thread)
            if threading.current_thread() is self._thread:
                raise RuntimeError("an SftpTransport cannot be called from its own event loop")
            return asyncio.run_coroutine_threadsafe(fn(*args), self._loop).result()

    # --- connection -------------------------------------------------------------------
    async def _client(self) -> asyncssh.SFTPClient:
        if self._conn is not None and self._conn.is_closed():
            log.info("sftp %s: connection was closed; reconnecting", self.config.where)
            await self._disconnect()
        if self._sftp is None:
            await self._connect()
        assert self._sftp is not None
        return self._sftp

    async def _connect(self) -> None:
        c = self.config
        client = _VerifyingClient(c.host_keys, c.fingerprints)
        if c.known_hosts is not None:
            known_hosts: Any = c.known_hosts
        elif c.fingerprints:
            known_hosts = ([], [], [])  # every key goes through _VerifyingClient
        else:
            known_hosts = (list(c.host_keys), [], [])  # also limits the key types asked for
        auth: dict[str, Any]
        if c.client_key is not None:
            auth = {"client_keys": [c.client_key], "preferred_auth": "publickey"}
        else:
            auth = {
                "client_keys": None,
                "password": c.password,
                "preferred_auth": "password,keyboard-interactive",
            }
        try:
            conn = await asyncio.wait_for(
                asyncssh.connect(
                    c.host,
                    c.port,
                    username=c.username,
                    known_hosts=known_hosts,
                    client_factory=lambda: client,
                    connect_timeout=c.timeout,
                    config=None,  # never ~/.ssh/config, agents, or other keys
                    agent_path=None,
                    pkcs11_provider=None,
                    gss_host=None,
                    x509_trusted_certs=None,
                    keepalive_interval=0,
                    **auth,
                ),
                c.timeout + 5,
            )
        except Exception as exc:
            raise self._connect_error(exc, client) from None
        try:
            sftp = await asyncio.wait_for(conn.start_sftp_client(), c.timeout)
        except Exception as exc:
            conn.abort()
            if isinstance(exc, TimeoutError):
                reason = f"no answer within {_seconds(c.timeout)}"
            else:
                reason = _reason(exc)
            raise TransportError(
                f"{c.where} did not open an SFTP session for user {c.username!r} ({reason}): "
                "check with the clearinghouse that the account has SFTP access"
            ) from None
        self._conn, self._sftp = conn, sftp
        log.info("sftp %s: connected as %s", c.where, c.username)

    def _connect_error(self, exc: Exception, client: _VerifyingClient) -> TransportError:
        c = self.config
        if isinstance(exc, asyncssh.HostKeyNotVerifiable):
            presented = client.presented or "an untrusted key"
            if c.known_hosts is not None:
                return TransportError(
                    f"host key for {c.where} is not listed in the known_hosts file "
                    f"{c.known_hosts_path} (server presented {presented}); not connected: "
                    "confirm the key with the clearinghouse before adding it"
                )
            return TransportError(
                f"host key for {c.where} does not match the configured host_key (server "
                f"presented {presented}); not connected: if the clearinghouse changed its "
                "key, confirm the new one with them and update host_key"
            )
        if isinstance(exc, asyncssh.PermissionDenied):
            how = "private key" if c.client_key is not None else "password"
            return TransportError(
                f"login refused for user {c.username!r} on {c.where}: check the user name "
                f"and {how} (setting {'private_key' if how == 'private key' else how})"
            )
        if isinstance(exc, asyncssh.KeyExchangeFailed) and c.host_keys and not c.fingerprints:
            kinds = ", ".join(sorted({k.get_algorithm() for k in c.host_keys}))
            return TransportError(
                f"{c.where} has no host key of the configured type ({kinds}): check host_key "
                "with the clearinghouse"
            )
        if isinstance(exc, TimeoutError):
            return TransportError(
                f"{c.where} did not answer within {_seconds(c.timeout)}: check the host, port "
                "and firewall, or raise the timeout setting"
            )
        if isinstance(exc, ConnectionRefusedError):
            return TransportError(
                f"{c.where} refused the connection: check the host and port, and that the "
                "SFTP server is running"
            )
        if isinstance(exc, socket.gaierror):
            return TransportError(
                f"the host name {c.host!r} (setting host) could not be found: check it"
            )
        if isinstance(exc, asyncssh.DisconnectError):
            return TransportError(f"{c.where} closed the connection: {_reason(exc)}")
        if isinstance(exc, OSError):
            return TransportError(f"could not connect to {c.where}: {_reason(exc)}")
        return TransportError(f"could not connect to {c.where}: {_reason(exc)}")

    async def _disconnect(self) -> None:
        sftp, conn = self._sftp, self._conn
        self._sftp = self._conn = None
        if sftp is not None:
            sftp.exit()
        if conn is not None:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), 5)
            except Exception:  # already broken: nothing to wait for
                conn.abort()

    async def _do(
        self, aw: Awaitable[T], what: str, *, nbytes: int = 0, missing_ok: bool = False
    ) -> T | _Missing:
        """Await one request with the timeout; errors become TransportErrors saying
        what failed. With `missing_ok`, "no such file" returns MISSING instead."""
        c = self.config
        try:
            return await asyncio.wait_for(aw, c.timeout + nbytes / _BYTES_PER_EXTRA_SECOND)
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            if missing_ok:
                return MISSING
            raise TransportError(f"could not {what} on {c.where}: no such file or folder") from None
        except asyncssh.SFTPPermissionDenied:
            raise TransportError(
                f"permission denied to {what} on {c.where} for user {c.username!r}: ask the "
                "clearinghouse to check the account's rights"
            ) from None
        except (asyncssh.SFTPNoSpaceOnFilesystem, asyncssh.SFTPQuotaExceeded):
            raise TransportError(
                f"could not {what} on {c.where}: the server is out of space or over quota"
            ) from None
        except TimeoutError:
            await self._drop()
            raise TransportError(
                f"{c.where} did not answer within {_seconds(c.timeout)} while trying to "
                f"{what}; try again later"
            ) from None
        except (
            asyncssh.SFTPConnectionLost,
            asyncssh.SFTPNoConnection,
            asyncssh.DisconnectError,
            asyncssh.ChannelOpenError,
            OSError,
        ) as exc:
            await self._drop()
            raise TransportError(
                f"the connection to {c.where} was lost while trying to {what} "
                f"({_reason(exc)}); try again"
            ) from None
        except asyncssh.Error as exc:  # SFTPError and the rest: the server's own words
            raise TransportError(f"could not {what} on {c.where}: {_reason(exc)}") from None

    async def _drop(self) -> None:
        conn = self._conn
        self._sftp = self._conn = None
        if conn is not None:
            conn.abort()

    async def _require_folder(self, sftp: asyncssh.SFTPClient, path: str, setting: str) -> None:
        what = f"open the remote folder {path!r} (setting {setting})"
        attrs = await self._do(sftp.stat(path), what, missing_ok=True)
        if attrs is MISSING:
            raise TransportError(
                f"the remote folder {path!r} (setting {setting}) does not exist on "
                f"{self.config.where}: check the folder name with the clearinghouse"
            )
        if getattr(attrs, "type", None) != asyncssh.FILEXFER_TYPE_DIRECTORY:
            raise TransportError(
                f"the remote path {path!r} (setting {setting}) on {self.config.where} is "
                "not a folder"
            )

    async def _download(self, sftp: asyncssh.SFTPClient, path: str) -> bytes:
        async with sftp.open(path, "rb") as fh:
            data = await fh.read()
        return bytes(data)

    async def _upload(self, sftp: asyncssh.SFTPClient, path: str, content: bytes) -> None:
        async with sftp.open(path, "wb") as fh:
            await fh.write(content)

    @staticmethod
    async def _rename(sftp: asyncssh.SFTPClient, src: str, dst: str) -> None:
        try:
            await sftp.posix_rename(src, dst)
        except asyncssh.SFTPOpUnsupported:
            await sftp.rename(src, dst)  # standard SFTP rename never replaces

    # --- submit -------------------------------------------------------------------------
    async def _submit(self, files: list[OutboundFile]) -> None:
        sftp = await self._client()
        await self._require_folder(sftp, self.config.outbox, "outbox")
        for f in files:
            await self._deliver(sftp, f)

    async def _deliver(self, sftp: asyncssh.SFTPClient, f: OutboundFile) -> None:
        outbox = self.config.outbox
        final = posixpath.join(outbox, f.name)
        if await self._already_there(sftp, final, f):
            log.info("sftp %s: %s already delivered", self.config.where, f.name)
            return
        tmp = posixpath.join(outbox, temp_name(f.name))
        renamed = False
        try:
            await self._do(
                self._upload(sftp, tmp, f.content),
                f"upload {f.name!r} to the remote folder {outbox!r}",
                nbytes=len(f.content),
            )
            if await self._already_there(sftp, final, f):  # delivered meanwhile
                return
            try:
                await self._do(
                    self._rename(sftp, tmp, final),
                    f"rename {temp_name(f.name)!r} to {f.name!r} in {outbox!r}",
                )
                renamed = True
            except TransportError:
                # a failed rename may mean the name was taken meanwhile: look, if still connected
                if self._sftp is None or not await self._already_there(sftp, final, f):
                    raise
                return
        finally:
            if not renamed:
                await self._remove_quietly(tmp)
        log.info("sftp %s: delivered %s", self.config.where, f.name)

    async def _already_there(self, sftp: asyncssh.SFTPClient, path: str, f: OutboundFile) -> bool:
        """True when `path` holds exactly f's bytes; False when absent; raises when
        something different is there."""
        folder = posixpath.dirname(path)
        attrs = await self._do(
            sftp.lstat(path), f"look for {f.name!r} in {folder!r}", missing_ok=True
        )
        if attrs is MISSING:
            return False
        assert isinstance(attrs, asyncssh.SFTPAttrs)
        if attrs.type == asyncssh.FILEXFER_TYPE_REGULAR and attrs.size == len(f.content):
            data = await self._do(
                self._download(sftp, path),
                f"read {f.name!r} in {folder!r}",
                nbytes=len(f.content),
                missing_ok=True,
            )
            if data is MISSING:
                return False
            if data == f.content:
                return True
        raise TransportError(
            f"the remote folder {folder!r} on {self.config.where} already holds a different "
            f"file named {f.name!r}; it was not replaced: check whether this batch was "
            "already sent under that name"
        )

    async def _remove_quietly(self, path: str) -> None:
        """Remove our temporary file if it is still there (best effort)."""
        if self._sftp is None:
            return
        # gone already, or the connection is: nothing to clean
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._sftp.remove(path), self.config.timeout)

    # --- poll ---------------------------------------------------------------------------
    async def _poll(self) -> list[InboundFile]:
        sftp = await self._client()
        inbox = self.config.inbox
        await self._require_folder(sftp, inbox, "inbox")
        entries = await self._do(
            sftp.readdir(inbox), f"list the remote folder {inbox!r} (setting inbox)"
        )
        assert isinstance(entries, list)
        found = []
        for entry in sorted(entries, key=lambda e: e.filename):
            name = entry.filename
            if not isinstance(name, str) or not is_inbound_candidate(name):
                continue
            path = posixpath.join(inbox, name)
            attrs = entry.attrs
            if attrs.type == asyncssh.FILEXFER_TYPE_UNKNOWN:
                attrs = await self._do(sftp.lstat(path), f"look at {name!r}", missing_ok=True)
                if attrs is MISSING:
                    continue
            if attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
                continue
            data = await self._do(
                self._download(sftp, path),
                f"download {name!r} from the remote folder {inbox!r}",
                nbytes=attrs.size or 0,
                missing_ok=True,
            )
            if data is MISSING:
                continue  # taken away between listing and reading
            assert isinstance(data, bytes)
            found.append(InboundFile(name, data, path))
        log.info("sftp %s: %d file(s) waiting in the inbox", self.config.where, len(found))
        return found

    # --- acknowledge --------------------------------------------------------------------
    def _check_inbox_path(self, f: InboundFile) -> None:
        path = f.remote_path
        if posixpath.dirname(path) != self.config.inbox or posixpath.basename(path) != f.name:
            raise TransportError(
                f"{f.name!r} is not a file of the remote folder {self.config.inbox!r} "
                "(setting inbox): not removed"
            )

    async def _acknowledge(self, files: list[InboundFile]) -> None:
        sftp = await self._client()
        archive = self.config.archive
        if archive is not None:
            await self._require_folder(sftp, archive, "archive")
        for f in files:
            if archive is None:
                await self._do(
                    sftp.remove(f.remote_path),
                    f"delete {f.name!r} from the remote folder {self.config.inbox!r}",
                    missing_ok=True,
                )
            else:
                await self._archive(sftp, f, archive)

    async def _archive(self, sftp: asyncssh.SFTPClient, f: InboundFile, archive: str) -> None:
        inbox = self.config.inbox
        source = await self._do(
            sftp.lstat(f.remote_path), f"look for {f.name!r} in {inbox!r}", missing_ok=True
        )
        if source is MISSING:
            return
        for n in range(1000):
            name = numbered_name(f.name, n) if n else f.name
            target = posixpath.join(archive, name)
            existing = await self._do(
                sftp.lstat(target), f"look for {name!r} in {archive!r}", missing_ok=True
            )
            if existing is MISSING:
                await self._do(
                    self._rename(sftp, f.remote_path, target),
                    f"move {f.name!r} from {inbox!r} to the archive folder {archive!r}",
                    missing_ok=True,
                )
                return
            assert isinstance(existing, asyncssh.SFTPAttrs)
            if existing.type == asyncssh.FILEXFER_TYPE_REGULAR and existing.size == len(f.content):
                data = await self._do(
                    self._download(sftp, target),
                    f"read {name!r} in {archive!r}",
                    nbytes=len(f.content),
                    missing_ok=True,
                )
                if data == f.content:  # archived before (a crash after the move?)
                    await self._do(
                        sftp.remove(f.remote_path),
                        f"delete {f.name!r} from {inbox!r}",
                        missing_ok=True,
                    )
                    return
        raise TransportError(
            f"the archive folder {archive!r} on {self.config.where} has too many files "
            f"named like {f.name!r}"
        )


# --- helpers ----------------------------------------------------------------------------
def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    try:
        loop.call_soon_threadsafe(loop.stop)
    except RuntimeError:  # already closed
        return
    if thread is not threading.current_thread():
        thread.join(timeout=10)


def _reason(exc: BaseException) -> str:
    """A short reason without file contents: asyncssh's reason text or the OS error."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    return str(reason).strip().rstrip(".")


def _seconds(value: float) -> str:
    return "1 second" if value == 1 else f"{value:g} seconds"
