"""HL7 listener benchmark (issue 8): ADT^A08 messages applied per second over
MLLP on loopback, into SQLite.

    python -m bench.hl7                  # 1,000 patients registered by A04, then 5,000 A08
    python -m bench.hl7 --messages 2000

A fresh SQLite database (WAL, synchronous=FULL, as pms runs) with the demo's
practice and payers; the listener (`pms_hl7.listener.Listener`, as `pms hl7
listen` runs it) in a process of its own on 127.0.0.1, acting as the admin. A client registers the
patients with ADT^A04 (with insurance), then sends the A08 updates (a new
address and phones, the insurance again) one after another on one connection,
each waiting for its ACK, as an EHR's interface engine does. Every ACK must be
AA. The rate is messages / seconds from the first A08 sent to the last ACK.

Target: at least 500 messages a second.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import socket
import time
from datetime import date

from hl7.mllp import open_hl7_connection
from pms_hl7.listener import Listener

from bench.imports import fresh_database
from bench.run import machine
from pms_core import synthetic
from pms_core.db import make_engine
from pms_core.plugins import get_plugin_manager

TARGET = 500
TODAY = date(2026, 12, 1)


def adt(
    event: str, control: str, ehr_id: str, p: dict, payer: str, member: str, street: str
) -> bytes:
    name = f"{p['last_name']}^{p['first_name']}"
    dob = p["dob"].strftime("%Y%m%d")
    phone = p["mobile_phone"] or "2175550100"
    fields = {1: "1", 3: payer, 8: "G1", 12: "20250101", 16: name, 17: "SEL", 18: dob, 36: member}
    in1 = "|".join(["IN1", *(fields.get(n, "") for n in range(1, 37))])
    segments = [
        f"MSH|^~\\&|EHR|CLINIC|PMS|PRACTICE|20261201090000||ADT^{event}^ADT_A01|{control}|P|2.5.1",
        f"EVN|{event}|20261201090000",
        f"PID|1||{ehr_id}^^^EHR^MR||{name}||{dob}|{p['sex']}|||{street}^^{p['city']}^"
        f"{p['state']}^{p['zip']}||^PRN^CP^^^{phone[:3]}^{phone[3:]}",
        "PV1|1|O",
        in1,
    ]
    return "\r".join(segments).encode()


async def send_all(port: int, messages: list[bytes]) -> list[str]:
    reader, writer = await open_hl7_connection("127.0.0.1", port, encoding="utf-8")
    codes = []
    try:
        for message in messages:
            writer.writeblock(message)
            await writer.drain()
            ack = (await reader.readblock()).decode()
            codes.append(next(s for s in ack.split("\r") if s.startswith("MSA")).split("|")[1])
    finally:
        writer.close()
    return codes


def serve(url: str, user_id: int, port: int) -> None:
    """The listener in a process of its own, as `pms hl7 listen` runs: the
    EHR (the client here) is another program."""
    engine = make_engine(url)
    listener = Listener(engine, user_id=user_id, pm=get_plugin_manager(), host="127.0.0.1",
                        port=port)  # fmt: skip
    asyncio.run(listener.serve_forever())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the listener did not start")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hl7")
    parser.add_argument("--patients", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=5_000)
    args = parser.parse_args(argv)
    m = machine()
    print(
        f"machine: {m['cpus']} CPUs, {m['cpu']}, {m['ram']} RAM, Python {m['python']}, "
        f"SQLite {m['sqlite']}, load average at start {m['load']}, CPU reference {m['speed']}"
    )
    url, user_id = fresh_database()
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(url, user_id, port))
    server.start()
    _wait_for(port)
    rng = random.Random(11)
    synth = synthetic.Synth(3, today=TODAY, unique=True)
    people = list(synth.patients(args.patients))
    payers = [spec.edi_payer_id for spec in synthetic.PAYERS]
    member = {i: f"W{i:09d}" for i in range(len(people))}
    payer = {i: rng.choice(payers) for i in range(len(people))}
    try:
        registered = [
            adt("A04", f"R{i}", f"E{i:06d}", p, payer[i], member[i], p["address1"])
            for i, p in enumerate(people)
        ]
        started = time.perf_counter()
        codes = asyncio.run(send_all(port, registered))
        seconds_a04 = time.perf_counter() - started
        assert set(codes) == {"AA"}, {c: codes.count(c) for c in set(codes)}
        updates = []
        for n in range(args.messages):
            i = n % len(people)
            street = f"{rng.randrange(1, 9999)} {rng.choice(['Oak', 'Elm', 'Main', 'Lake'])} St"
            updates.append(adt("A08", f"U{n}", f"E{i:06d}", people[i], payer[i], member[i], street))
        started = time.perf_counter()
        codes = asyncio.run(send_all(port, updates))
        seconds = time.perf_counter() - started
        assert set(codes) == {"AA"}, {c: codes.count(c) for c in set(codes)}
    finally:
        server.terminate()
        server.join()
    rate = args.messages / seconds
    print("\n(y) HL7 listener over MLLP on loopback, SQLite")
    print(f"  ADT^A04 (register with insurance) {args.patients:,} in {seconds_a04:.2f} s: "
          f"{args.patients / seconds_a04:,.0f}/s")  # fmt: skip
    print(f"  ADT^A08 (update)                  {args.messages:,} in {seconds:.2f} s: "
          f"{rate:,.0f}/s (>= {TARGET})  {'PASS' if rate >= TARGET else 'MISS'}")  # fmt: skip


if __name__ == "__main__":
    main()
