"""The `sandbox` transport: a clearinghouse and payer on this machine.

Settings: `folder` (its state: what it received and the answers waiting for
the next poll), `seed` (its decisions, see `pms_sandbox_payer.payer`),
`realtime` ("yes": eligibility and claim status questions are answered at
once; "no": 270s and 276s go as batch files and their answers come with the
next poll), and `faults` (for drills and
tests: a comma-separated list such as "timeout,garbage" that the next
realtime requests meet, in order, before it answers normally again).

A 270 is answered with a 271 and a 276 with a 277 (realtime or in the poll
folder); an 837 with a 999 and a 277CA at once and with 835s some days
later (`pms_sandbox_payer.adjudication`). Everything received is kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pms_x12.formats import functional_id, group_date

from pms_core.transport import InboundFile, OutboundFile, Setting, TransportError, TransportType

KIND = "sandbox"
SETTINGS = (
    Setting("folder", "folder the sandbox payer keeps its files in", required=True),
    Setting("seed", "seed of the payer's decisions (same seed, same answers)", default="1"),
    Setting("realtime", "answer eligibility at once (yes) or with the next poll (no)",
            default="yes"),
    Setting("faults", "what the next realtime requests meet, in order: timeout, garbage",
            default=""),
)  # fmt: skip


def open_sandbox(settings: Mapping[str, str | None]) -> SandboxTransport:
    folder = (settings.get("folder") or "").strip()
    if not folder:
        raise TransportError("sandbox: the 'folder' setting is required")
    realtime = (settings.get("realtime") or "yes").strip().lower()
    if realtime not in ("yes", "no"):
        raise TransportError("sandbox: 'realtime' must be yes or no")
    faults = [f.strip() for f in (settings.get("faults") or "").split(",") if f.strip()]
    for fault in faults:
        if fault not in ("timeout", "garbage"):
            raise TransportError(f"sandbox: unknown fault {fault!r} (timeout, garbage)")
    transport = SandboxTransport(Path(folder).expanduser(), settings.get("seed") or "1", faults)
    if realtime == "yes":
        return RealtimeSandbox(transport)
    return transport


class SandboxTransport:
    """Batch exchange: `submit` takes our files and leaves the answers in the
    sandbox's outbox, `poll` lists them, `acknowledge` removes them."""

    def __init__(self, folder: Path, seed: str, faults: list[str]) -> None:
        self.folder, self.seed, self.faults = folder, seed, faults
        self.received, self.outbox = folder / "received", folder / "outbox"

    def _ready(self) -> None:
        try:
            self.received.mkdir(parents=True, exist_ok=True)
            self.outbox.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportError(f"sandbox: cannot use the folder {self.folder} ({exc})") from None

    def submit(self, files: Sequence[OutboundFile]) -> None:
        """Take our files: a 270 or 276 is answered (271, 277) and an 837
        acknowledged (999, 277CA) in the outbox at once; 835s follow when
        the claims' days come (see `adjudication`). An 837 the payer cannot
        read is refused, as a clearinghouse would at the door."""
        from pms_core.edi import X12Error
        from pms_sandbox_payer.adjudication import ClaimsDesk

        self._ready()
        desk = ClaimsDesk(self.folder, self.seed)
        for f in files:
            kind, sent = functional_id(f.content), group_date(f.content)
            if sent is not None:
                desk.calendar.saw(sent)
            if kind == "HC":
                try:
                    answers = desk.receive_837(f.name, f.content, sent)
                except X12Error as exc:
                    raise TransportError(f"sandbox: {f.name!r} refused: {exc}") from None
                for out in answers:
                    _write(self.outbox / out.name, out.content)
            elif kind in ("HS", "HR"):
                _write(self.outbox / f"answer-{f.name}", self.answer(f.content, kind))
            _write(self.received / f.name, f.content)
        desk.save()

    def answer(self, content: bytes, kind: str | None) -> bytes:
        """The 271 for a 270, the 277 for a 276."""
        from pms_sandbox_payer.adjudication import ClaimsDesk
        from pms_sandbox_payer.answers import answer_270, answer_276

        if kind == "HS":
            return answer_270(content, self.seed)
        desk = ClaimsDesk(self.folder, self.seed)
        return answer_276(content, self.seed, desk, desk.today())

    def poll(self) -> list[InboundFile]:
        """The answers waiting, with the 835s whose day has come."""
        from pms_sandbox_payer.adjudication import ClaimsDesk

        self._ready()
        desk = ClaimsDesk(self.folder, self.seed)
        for out in desk.due_remittances():
            _write(self.outbox / out.name, out.content)
        desk.save()
        return [
            InboundFile(p.name, p.read_bytes(), str(p))
            for p in sorted(self.outbox.iterdir())
            if p.is_file() and not p.name.startswith(".")
        ]

    def acknowledge(self, files: Sequence[InboundFile]) -> None:
        for f in files:
            Path(f.remote_path).unlink(missing_ok=True)

    def close(self) -> None:
        pass

    # --- faults (drills) --------------------------------------------------------------
    def next_fault(self) -> str | None:
        """The next configured fault not yet met (kept in the folder, so each is
        met once across connections)."""
        if not self.faults:
            return None
        self._ready()
        state = self.folder / "faults-met.json"
        met = json.loads(state.read_text()) if state.exists() else 0
        if met >= len(self.faults):
            return None
        state.write_text(json.dumps(met + 1))
        return self.faults[met]


class RealtimeSandbox(SandboxTransport):
    """The same payer, answering a 270 at once."""

    def __init__(self, batch: SandboxTransport) -> None:
        super().__init__(batch.folder, batch.seed, batch.faults)

    def realtime(self, content: bytes) -> bytes:
        fault = self.next_fault()
        if fault == "timeout":
            raise TransportError("sandbox: no answer within the time limit")
        if fault == "garbage":
            return b"<html>502 Bad Gateway</html>"
        kind = functional_id(content)
        if kind not in ("HS", "HR"):
            raise TransportError("sandbox: realtime answers 270 and 276 requests only")
        self._ready()
        sent = group_date(content)
        if sent is not None:  # the sandbox's calendar follows the requests' dates
            from pms_sandbox_payer.adjudication import Calendar

            Calendar(self.folder).saw(sent)
        return self.answer(content, kind)


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(content)
    os.replace(tmp, path)


SANDBOX = TransportType(
    name=KIND,
    description="the sandbox payer on this machine (deterministic from a seed)",
    settings=SETTINGS,
    open=open_sandbox,
)
