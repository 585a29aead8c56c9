"""The `directory` transport: files go to and come from local folders that the
clearinghouse's own software keeps in sync (or that a share maps).

Settings: `outbox` (where submitted files are written), `inbox` (where responses
arrive), `archive` (optional: where acknowledged responses are moved; when not
set they are deleted). See `pms_clearinghouse.common` for the delivery rules.

Each file is written to `.NAME.part`, flushed to disk, then linked to NAME (a
hard link fails when NAME exists, so nothing is ever overwritten, even by a
concurrent writer) and the temporary name removed. On file systems without
hard links it falls back to checking that NAME is free and renaming.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from pms_clearinghouse.common import (
    check_outbound_names,
    is_inbound_candidate,
    numbered_name,
    required_setting,
    temp_name,
    text_setting,
)
from pms_core.transport import InboundFile, OutboundFile, Setting, TransportError, TransportType

log = logging.getLogger(__name__)

KIND = "directory"

SETTINGS = (
    Setting("outbox", "folder submitted files are written to", required=True),
    Setting("inbox", "folder the clearinghouse's responses arrive in", required=True),
    Setting(
        "archive",
        "folder acknowledged responses are moved to (when not set they are deleted)",
    ),
)

# errno values meaning "this file system has no hard links": fall back to rename.
_NO_LINK = {
    errno.EPERM,
    errno.EOPNOTSUPP,
    errno.ENOTSUP,
    errno.ENOSYS,
    errno.EMLINK,
}


def open_directory(settings: Mapping[str, str | None]) -> DirectoryTransport:
    """Check the settings (the folders themselves are checked on each use: a share
    may be connected later) and return the transport."""
    outbox = required_setting(settings, "outbox", kind=KIND)
    inbox = required_setting(settings, "inbox", kind=KIND)
    archive = text_setting(settings, "archive", kind=KIND)
    return DirectoryTransport(
        Path(outbox).expanduser(),
        Path(inbox).expanduser(),
        Path(archive).expanduser() if archive else None,
    )


DIRECTORY = TransportType(
    name=KIND,
    description="local folders kept in sync by the clearinghouse's software",
    settings=SETTINGS,
    open=open_directory,
)


class DirectoryTransport:
    """Submit, poll and acknowledge on local folders. See the module docstring."""

    def __init__(self, outbox: Path, inbox: Path, archive: Path | None = None) -> None:
        self.outbox = outbox
        self.inbox = inbox
        self.archive = archive

    # --- submit ---------------------------------------------------------------------
    def submit(self, files: Sequence[OutboundFile]) -> None:
        """Write each file whole under its name in the outbox, in order.

        Stops at the first file that cannot be written and raises TransportError
        naming it; files written before it stay. A file already there with the same
        bytes counts as delivered, so sending the whole batch again is the retry; the
        same name with different bytes is an error (nothing is overwritten)."""
        files = list(files)
        check_outbound_names(files)
        if not files:
            return
        _check_folder(self.outbox, "outbox")
        for f in files:
            self._deliver(f)

    def _deliver(self, f: OutboundFile) -> None:
        final = self.outbox / f.name
        if self._already_there(final, f):
            log.info("directory outbox: %s already delivered", f.name)
            return
        tmp = self.outbox / temp_name(f.name)
        try:
            _write_synced(tmp, f.content)
            _place(tmp, final)
        except FileExistsError:
            _remove_quietly(tmp)
            if self._already_there(final, f):
                return
            raise TransportError(
                f"{f.name!r} appeared in and vanished from the outbox folder {self.outbox} "
                "while it was being written: try again"
            ) from None
        except OSError as exc:
            _remove_quietly(tmp)
            raise TransportError(
                f"could not write {f.name!r} to the outbox folder {self.outbox}: "
                f"{_reason(exc)}; check the folder's permissions and free space"
            ) from None
        _fsync_dir(self.outbox)
        log.info("directory outbox: delivered %s", f.name)

    def _already_there(self, final: Path, f: OutboundFile) -> bool:
        """True when `final` holds exactly f's bytes; False when absent; raises when
        something different is there."""
        same = _same_content(final, f.content)
        if same is None:
            return False
        if same:
            return True
        raise TransportError(
            f"the outbox folder {self.outbox} already holds a different file named "
            f"{f.name!r}; it was not replaced: check whether this batch was already "
            "sent under that name"
        )

    # --- poll -----------------------------------------------------------------------
    def poll(self) -> list[InboundFile]:
        """The regular files waiting in the inbox, by name; nothing is removed. Hidden
        files, our temporary names and partial uploads are skipped."""
        _check_folder(self.inbox, "inbox")
        try:
            with os.scandir(self.inbox) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            raise TransportError(
                f"could not list the inbox folder {self.inbox}: {_reason(exc)}"
            ) from None
        found = []
        for entry in entries:
            if not is_inbound_candidate(entry.name):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                content = Path(entry.path).read_bytes()
            except FileNotFoundError:
                continue  # taken away between listing and reading
            except OSError as exc:
                raise TransportError(
                    f"could not read {entry.name!r} in the inbox folder {self.inbox}: "
                    f"{_reason(exc)}"
                ) from None
            found.append(InboundFile(entry.name, content, str(self.inbox / entry.name)))
        return found

    # --- acknowledge ----------------------------------------------------------------
    def acknowledge(self, files: Sequence[InboundFile]) -> None:
        """Move each file to the archive folder (or delete it when there is none).
        A file already gone is fine. A name already taken in the archive by a
        different file gets a number (999.x12 -> 999.1.x12); by the same bytes, the
        inbox copy is just removed."""
        files = list(files)
        if not files:
            return
        paths = [self._inbox_path(f) for f in files]
        if self.archive is not None:
            _check_folder(self.archive, "archive")
        for f, path in zip(files, paths, strict=True):
            try:
                if self.archive is None:
                    path.unlink()
                else:
                    self._archive(path, f.name)
            except FileNotFoundError:
                continue
            except OSError as exc:
                where = "archive" if self.archive is not None else "delete"
                raise TransportError(
                    f"could not {where} {f.name!r} from the inbox folder {self.inbox}: "
                    f"{_reason(exc)}; check the folders' permissions"
                ) from None

    def _inbox_path(self, f: InboundFile) -> Path:
        path = Path(f.remote_path)
        if path.parent != self.inbox or path.name != f.name:
            raise TransportError(
                f"{f.name!r} is not a file of the inbox folder {self.inbox}: not removed"
            )
        return path

    def _archive(self, path: Path, name: str) -> None:
        assert self.archive is not None
        if not os.path.lexists(path):
            return
        for n in range(1000):
            target = self.archive / (numbered_name(name, n) if n else name)
            try:
                _move(path, target, self.archive)
            except FileExistsError:
                if _same_content(target, path.read_bytes()):
                    path.unlink()
                    return
                continue
            log.info("directory inbox: archived %s", name)
            return
        raise TransportError(f"the archive folder {self.archive} has too many files named {name!r}")

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> DirectoryTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- helpers ------------------------------------------------------------------------
def _check_folder(path: Path, setting: str) -> None:
    if path.is_dir():
        return
    if path.exists():
        raise TransportError(f"the {setting} folder {path} (setting {setting}) is not a folder")
    raise TransportError(
        f"the {setting} folder {path} (setting {setting}) does not exist: check the path "
        "and that the drive or share is connected"
    )


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _same_content(path: Path, content: bytes) -> bool | None:
    """None when nothing is at `path`, else whether it is a file with exactly `content`."""
    try:
        if not path.is_file() or path.stat().st_size != len(content):
            return False if os.path.lexists(path) else None
        return path.read_bytes() == content
    except FileNotFoundError:
        return None


def _write_synced(path: Path, content: bytes) -> None:
    with open(path, "wb") as fh:  # a stale temporary file of ours is overwritten
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def _place(tmp: Path, final: Path) -> None:
    """Give `tmp` the name `final` without ever replacing a file there
    (FileExistsError instead). `tmp` is gone afterwards."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, "exists", str(final)) from None
        os.rename(tmp, final)  # Windows refuses to replace; POSIX was just checked
        return
    try:
        tmp.unlink()
    except OSError:  # delivered; a hidden leftover is harmless and is reused next time
        log.warning("could not remove a temporary file %s", tmp.name)


def _move(src: Path, dst: Path, dst_folder: Path) -> None:
    """Move `src` to `dst` without replacing anything there, also across drives."""
    try:
        _place(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = dst_folder / temp_name(dst.name)
        shutil.copyfile(src, tmp)
        try:
            _place(tmp, dst)
        except OSError:
            _remove_quietly(tmp)
            raise
        src.unlink()


def _remove_quietly(path: Path) -> None:
    try:
        if path.is_file():
            path.unlink()
    except OSError:
        pass


def _fsync_dir(folder: Path) -> None:
    """Make the new name durable (POSIX); not possible everywhere, so best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
