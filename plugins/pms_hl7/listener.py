"""Receiving HL7 messages: over MLLP (a TCP listener, one ACK per message) and
from a drop folder (one message per file, the ACK written beside).

Messages are applied one at a time, in the order they arrive, on one worker
thread (the database work never blocks the event loop, and SQLite sees one
writer). Each message is its own unit of work acting as the user the listener
was started as; its ACK is sent only after its outcome is committed, so a
sender that gets no ACK resends, and a resent message that was applied is
answered AA without being applied twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hl7.mllp import InvalidBlockError, start_hl7_server

from pms_core.clock import SystemClock
from pms_core.context import unit_of_work
from pms_core.files import atomic_output
from pms_core.services import interface
from pms_hl7.messages import ack, interpret

log = logging.getLogger(__name__)


def process(engine, *, user_id: int, pm, text: str, channel: str = "mllp", clock=None) -> str:
    """Apply one message and return its ACK."""
    clock = clock or SystemClock()
    interpreted = interpret(text)
    try:
        with unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx:
            receipt = interface.receive(
                ctx,
                message_type=interpreted.message_type,
                control_id=interpreted.control_id,
                payload=text,
                handler=interpreted.handler,
                channel=channel,
                refused=interpreted.refused,
            )
    except Exception as exc:  # the database, not the message: the sender should resend
        log.error("hl7 message not stored: %s", type(exc).__name__)
        return ack(interpreted, "AE", "pms could not store the message; send it again",
                   control_id="ACK", now=clock.now())  # fmt: skip
    return ack(
        interpreted, receipt.ack_code, receipt.reason, control_id=f"ACK{receipt.message_id}",
        now=clock.now(),
    )  # fmt: skip


def reapply(ctx, message_id: int):
    """Apply a pending message again, read from the payload it was kept with."""
    from pms_core.models import InterfaceMessage

    message = ctx.session.get(InterfaceMessage, message_id)
    interpreted = interpret(message.payload) if message is not None else None

    def handler(ctx):
        if interpreted.handler is None:
            raise interface.Refused(interpreted.refused)
        return interpreted.handler(ctx)

    return interface.reapply(ctx, message_id=message_id, handler=handler)


class Listener:
    """An MLLP server on `host:port` (port 0: any free port, see `.port`)."""

    def __init__(self, engine, *, user_id: int, pm, host: str, port: int, clock=None,
                 encoding: str = "utf-8") -> None:  # fmt: skip
        self.engine, self.user_id, self.pm, self.clock = engine, user_id, pm, clock
        self.host, self.port, self.encoding = host, port, encoding
        self.received = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl7-apply")
        self._server = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def _client(self, reader, writer) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    block = await reader.readblock()
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                except InvalidBlockError:
                    log.warning("hl7: a block without MLLP framing; closing the connection")
                    break
                text = block.decode(self.encoding, errors="replace")
                reply = await loop.run_in_executor(
                    self._worker,
                    lambda text=text: process(
                        self.engine, user_id=self.user_id, pm=self.pm, text=text, clock=self.clock
                    ),
                )
                self.received += 1
                writer.writeblock(reply.encode(self.encoding, errors="replace"))
                await writer.drain()
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await start_hl7_server(self._client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        await self.start()
        async with self._server:
            await self._server.serve_forever()

    # --- in a thread of its own (tests, the TUI) -----------------------------------------
    def start_in_thread(self) -> None:
        started = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="hl7-listener", daemon=True)
        self._thread.start()
        started.wait(10)

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:

            async def close() -> None:
                self._server.close()
                await self._server.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
        self._worker.shutdown(wait=True)


def process_folder(engine, *, user_id: int, pm, inbox: Path, outbox: Path, clock=None) -> int:
    """The file-drop mode: apply each `*.hl7` file of `inbox` (oldest name
    first), write its ACK to `outbox` as `<name>.ack`, and move the file to
    `inbox/done/`. Returns the number of files processed."""
    done = inbox / "done"
    done.mkdir(exist_ok=True)
    count = 0
    for path in sorted(inbox.glob("*.hl7")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        reply = process(engine, user_id=user_id, pm=pm, text=text, channel="file", clock=clock)
        with atomic_output(outbox / f"{path.name}.ack", binary=False) as out:
            out.write(reply)
        path.replace(done / path.name)
        count += 1
    return count
