"""The clearinghouse transport contract.

A clearinghouse plugin registers `TransportType`s through
`register_clearinghouses`. The core keeps each clearinghouse's settings (and
its secrets) and opens a `Transport` from them when it submits or polls.

Delivery rules every transport keeps:
- `submit()` delivers each file whole or not at all (write under a temporary
  name, then rename), and raises TransportError when any file did not arrive:
  the core then marks nothing as submitted and a later retry sends again.
- `poll()` returns the files waiting in the inbox without removing them;
  `acknowledge()` removes (or archives) them only after the core has stored
  them, so a crash in between costs a duplicate download, never a lost file.
- `realtime(content)` is optional: a transport that can put one request (a
  270) to the payer and wait for its answer (the 271) has it, and raises
  TransportError when no answer came in time. Without it, requests go as
  batch files through `submit()` and the answers come back through `poll()`.
- Messages in TransportError name the host, path or setting, never file contents.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class TransportError(Exception):
    """The transfer did not happen (server down, unknown host key, refused login,
    missing folder). The message says which and what to check."""


@dataclass(frozen=True)
class OutboundFile:
    name: str  # a plain file name, no directories
    content: bytes


@dataclass(frozen=True)
class InboundFile:
    name: str
    content: bytes
    remote_path: str  # where it was found, for acknowledge()


class Transport(Protocol):
    def submit(self, files: Sequence[OutboundFile]) -> None: ...

    def poll(self) -> list[InboundFile]: ...

    def acknowledge(self, files: Sequence[InboundFile]) -> None: ...

    def close(self) -> None: ...


class RealtimeTransport(Transport, Protocol):
    """A transport that also answers one request at once (see the module docstring)."""

    def realtime(self, content: bytes) -> bytes: ...


@dataclass(frozen=True)
class Setting:
    """One setting a transport type takes: `secret` ones are stored apart and
    never shown back; `required` ones must be set before use."""

    name: str
    description: str
    required: bool = False
    secret: bool = False
    default: str | None = None


@dataclass(frozen=True)
class TransportType:
    """A kind of connection to a clearinghouse ("directory", "sftp", ...).

    `open(settings)` gets every setting by name (defaults filled in, secrets
    included) and returns a Transport; it may connect lazily."""

    name: str
    description: str
    settings: tuple[Setting, ...]
    open: Callable[[Mapping[str, str]], Transport]

    def setting(self, name: str) -> Setting | None:
        return next((s for s in self.settings if s.name == name), None)
