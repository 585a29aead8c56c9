"""What the directory and SFTP transports share: file name rules, the names of
partial uploads, reading settings, and the settings error.

Delivery rules (both transports):

- A file is written under the temporary name `.NAME.part` in the outbox and
  renamed to NAME once complete, so nobody watching the outbox ever sees a
  partial file under its final name.
- A retry is safe. A file already in the outbox under its name with the same
  bytes counts as delivered (nothing is written again): after a batch failed
  half-way, sending the whole batch again writes only what is missing. The same
  name with different bytes is a TransportError naming the file: pms never
  replaces a file the clearinghouse may already have picked up, and batch file
  names are unique per interchange, so a clash means something is wrong. (A
  file the clearinghouse has already taken out of the outbox cannot be seen;
  it is sent again, and the clearinghouse's duplicate-interchange check applies.)
- `poll()` skips names starting with "." (hidden files and our own temporary
  names) and names ending in a partial-upload suffix (`PARTIAL_SUFFIXES`), and
  anything that is not a regular file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from pms_core.transport import OutboundFile, TransportError

# Names other tools give files they are still writing (WinSCP, browsers, rsync-like
# tools); a clearinghouse response is never named like this.
PARTIAL_SUFFIXES = (".part", ".filepart", ".partial", ".tmp")


class SettingsError(TransportError, ValueError):
    """A transport setting is missing or wrong. Both a TransportError (the transfer
    cannot happen) and a ValueError (bad configuration)."""


def temp_name(name: str) -> str:
    """The name a file is written under before it is renamed into place."""
    return f".{name}.part"


def is_inbound_candidate(name: str) -> bool:
    """Whether poll() picks up a file of this name (not hidden, not a partial upload)."""
    return not name.startswith(".") and not name.lower().endswith(PARTIAL_SUFFIXES)


def check_outbound_names(files: Sequence[OutboundFile]) -> None:
    """Every name a plain, visible file name, each once: checked before anything is
    sent, so a bad name sends nothing."""
    seen: set[str] = set()
    for f in files:
        name = f.name
        problem = None
        if not isinstance(name, str) or not name:
            problem = "is empty"
        elif "/" in name or "\\" in name:
            problem = "contains a folder separator"
        elif name.startswith("."):
            problem = "starts with '.' (hidden files are not picked up)"
        elif any(ord(c) < 32 or ord(c) == 127 for c in name):
            problem = "contains a control character"
        elif len(name.encode("utf-8")) > 200:
            problem = "is longer than 200 bytes"
        elif name in seen:
            problem = "appears twice in one submission"
        if problem:
            raise TransportError(f"file name {name!r} {problem}: nothing was sent")
        seen.add(name)


def numbered_name(name: str, n: int) -> str:
    """`name` with `.n` before its extension: 999.x12 -> 999.1.x12 (archive clashes)."""
    path = PurePosixPath(name)
    return f"{path.stem}.{n}{path.suffix}" if path.suffix else f"{name}.{n}"


def text_setting(settings: Mapping[str, str | None], name: str, *, kind: str) -> str | None:
    """The setting's value with surrounding blanks removed; None when unset or blank."""
    value = settings.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{kind} setting {name!r} must be text")
    value = value.strip()
    return value or None


def required_setting(settings: Mapping[str, str | None], name: str, *, kind: str) -> str:
    value = text_setting(settings, name, kind=kind)
    if value is None:
        raise SettingsError(f"{kind} setting {name!r} is required and not set")
    return value
