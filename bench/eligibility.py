"""Eligibility benchmark (issue 6): reading 271 responses with our reader
against the `x12sdk` package's parser, on the same files, in the same run.

The corpus: every 271 in ../shared/x12-samples/271 that both read, and
`--answers` 271 files the sandbox payer writes for synthetic inquiries (one
answer each, as a realtime check gets back: active ones with a plan, copay,
coinsurance, deductible and out-of-pocket figures, inactive ones, and invalid
member ids rejected with AAA). Each reader parses every file `--rounds`
times; the figure is the throughput ratio (files per second, ours over
x12sdk's), judged against 5x.

    pip install -e '.[bench]'   # x12sdk
    python -m bench.eligibility [--answers 500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench.run import machine
from pms_core.eligdata import EligibilityInquiry, Person

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "x12-samples" / "271"
TARGET = 5.0
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sandbox_files(count: int) -> list[bytes]:
    """`count` single-answer 271s from the sandbox payer (a 270 each, answered)."""
    from pms_sandbox_payer.answers import answer_270
    from pms_x12.eligibility import write_270

    files = []
    for n in range(count):
        member = f"BM{n:08d}" if n % 25 else "X1"  # one in 25 invalid: AAA 72
        inquiry = EligibilityInquiry(
            trace=f"E{n:09d}", originator="1999999999", payer_name="SANDBOX PAYER",
            payer_id="SANDBOX1", provider_name="BENCH CLINIC", provider_npi="1245319599",
            subscriber=Person("TESTPATIENT", f"BENCH{n % 97}", date(1970, 1, 1 + n % 28), "F",
                              member),
            service_date=date(2026, 3, 2), service_types=("98", "30"),
        )  # fmt: skip
        request = write_270(inquiry, sender_id="BENCH", receiver_id="SANDBOXCH", control=n + 1,
                            created=CREATED)  # fmt: skip
        files.append(answer_270(request.encode("ascii"), "bench"))
    return files


def ours(data: bytes) -> int:
    from pms_x12.eligibility import read_271

    return len(read_271(data))


def theirs(data: bytes) -> int:
    from x12sdk.io import X12ModelReader

    with X12ModelReader(data.decode("ascii")) as reader:
        return len(list(reader.models()))


def timed(reader, files: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for data in files:
            reader(data)
        best = min(best, time.perf_counter() - started)
    return best


def corpus(answers: int) -> tuple[list[bytes], list[str]]:
    """The files both readers read; what one of them refuses is left out, and said."""
    files, notes, refused = [], [], 0
    samples = sorted(SAMPLES.glob("*.271")) if SAMPLES.is_dir() else []
    named = [(p.name, p.read_bytes()) for p in samples]
    named += [(f"sandbox-{n}", data) for n, data in enumerate(sandbox_files(answers))]
    for name, data in named:
        try:
            ours(data), theirs(data)
        except Exception as exc:
            if name.startswith("sandbox-"):
                refused += 1
            else:
                notes.append(f"{name} left out: {type(exc).__name__}")
            continue
        files.append(data)
    if refused:
        notes.append(
            f"{refused} sandbox answers left out: x12sdk refuses them (its 2100C AAA03 list "
            "lacks 72, invalid member id)"
        )
    return files, notes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.eligibility")
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    m = machine()
    print(
        f"machine: {m['cpus']} CPUs, {m['cpu']}, {m['ram']} RAM, Python {m['python']}, "
        f"load average at start {m['load']}, CPU reference {m['speed']}"
    )
    files, notes = corpus(args.answers)
    for note in notes:
        print(f"  {note}")
    size = sum(len(f) for f in files)
    print(f"corpus: {len(files)} 271 files, {size / 1e6:.2f} MB, best of {args.rounds} rounds")
    mine = timed(ours, files, args.rounds)
    peer = timed(theirs, files, args.rounds)
    ratio = peer / mine
    print(f"  read_271 (pms_x12)        {mine:8.3f} s   {len(files) / mine:10,.0f} files/s")
    print(f"  x12sdk X12ModelReader     {peer:8.3f} s   {len(files) / peer:10,.0f} files/s")
    print(
        f"  throughput ratio {ratio:.1f}x (>= {TARGET:.0f}x)  {'PASS' if ratio >= TARGET else 'MISS'}"
    )


if __name__ == "__main__":
    main()
