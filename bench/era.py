"""Remittance (835) posting benchmark (issue 5).

(j) import and post an 835 paying 10,000 claims (4 lines each, with REF*6R,
    contractual adjustments and patient shares) into SQLite, against pyx12's
    validation of the same file, in the same run;
(k) peak memory of a process that posts a 100,000-claim 835;
(l) re-importing the posted file: refused as a duplicate.

The claims come from `bench.claims`' base database (generated when missing),
built with `build_claims` on a fresh copy. Usage:
    python -m bench.era [--reuse] [--claims 10000] [--big 100000]
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlmodel import select

from bench.claims import DEFAULT_OUT, ZONE, ShiftedClock, prepare, validate
from bench.run import machine
from pms_core.context import unit_of_work
from pms_core.db import make_engine
from pms_core.models import Charge, Claim, ClaimLine, Practice
from pms_core.plugins import get_plugin_manager

DATA = Path(__file__).parent / "data"


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else "-" + _amount(-cents)


def write_835(path: Path, claims: list[tuple[str, list[tuple]]], payee_npi: str, trace: str):
    """An 835 paying each (claim number, [(charge id, code, modifiers, cents, day)]):
    80% paid, 5% patient coinsurance, the rest contractual, line by line."""
    rng = random.Random(7)
    body: list[str] = []
    total = 0
    for n, (number, lines) in enumerate(claims, start=1):
        billed = sum(ln[3] for ln in lines)
        segs, paid_claim, pr_claim = [], 0, 0
        for charge_id, code, modifiers, cents, day in lines:
            pr = cents * rng.choice((0, 5, 10)) // 100
            paid = cents * 80 // 100 - pr
            co = cents - paid - pr
            proc = ":".join(("HC", code, *modifiers))
            segs.append(f"SVC*{proc}*{_amount(cents)}*{_amount(paid)}**1")
            segs.append(f"DTM*472*{day:%Y%m%d}")
            cas = f"CAS*CO*45*{_amount(co)}"
            if pr:
                cas += f"~CAS*PR*2*{_amount(pr)}"
            segs.append(cas)
            segs.append(f"REF*6R*{charge_id}")
            segs.append(f"AMT*B6*{_amount(paid + pr)}")
            paid_claim += paid
            pr_claim += pr
        total += paid_claim
        body.append(f"LX*{n}")
        body.append(
            f"CLP*{number}*1*{_amount(billed)}*{_amount(paid_claim)}*{_amount(pr_claim)}*12*"
            f"PCN{n:09d}"
        )
        body.append(f"NM1*QC*1*BENCH*PATIENT****MI*BM{n:09d}")
        body += segs
    header = [
        f"BPR*I*{_amount(total)}*C*ACH*CCP*01*011000015*DA*123456789*1512345678**01*"
        "021000021*DA*987654321*20260305",
        f"TRN*1*{trace}*1512345678",
        "DTM*405*20260304",
        "N1*PR*BENCH PAYER",
        "N3*1 PAYER PLAZA",
        "N4*CHICAGO*IL*606010001",
        "PER*BL*PROVIDER SERVICES*TE*8005550100",
        "N1*PE*BENCH CLINIC*XX*" + payee_npi,
    ]
    segments = ["ST*835*0001", *header, *body]  # ST03 is not used in the 835
    text = "~".join(segments).replace("~~", "~")
    count = text.count("~") + 2
    with path.open("w", encoding="ascii") as out:
        out.write(
            "ISA*00*          *00*          *ZZ*BENCHPAYER     *ZZ*BENCHCLINIC    *260304*0900*^*"
            "00501*000000001*0*P*:~GS*HP*BENCHPAYER*BENCHCLINIC*20260304*0900*1*X*005010X221A1~"
        )
        out.write(text + f"~SE*{count}*0001~GE*1*1~IEA*1*000000001~\n")
    return count + 4


def _claims(url: str, user_id: int, clock) -> tuple[list, str]:
    from pms_core.services import claims

    engine = make_engine(url)
    with unit_of_work(engine, user_id=user_id, pm=get_plugin_manager(), clock=clock) as ctx:
        claims.build_claims(ctx)
        npi = ctx.session.exec(select(Practice.group_npi)).first()
        rows = ctx.session.exec(
            select(Claim.claim_number, Charge.id, Charge.code, Charge.modifier1,
                   Charge.modifier2, ClaimLine.charge_cents, Charge.service_date)
            .join(ClaimLine, ClaimLine.claim_id == Claim.id)
            .join(Charge, Charge.id == ClaimLine.charge_id)
            .order_by(Claim.id, ClaimLine.line_number)
        ).all()  # fmt: skip
    engine.dispose()
    grouped: dict[str, list] = {}
    for number, charge_id, code, m1, m2, cents, day in rows:
        mods = tuple(m for m in (m1, m2) if m)
        grouped.setdefault(number, []).append((charge_id, code, mods, cents, day))
    return list(grouped.items()), npi


def _import(url: str, user_id: int, clock, path: Path):
    from pms_core.services import remittance

    engine = make_engine(url)
    try:
        t = time.perf_counter()
        with (
            unit_of_work(engine, user_id=user_id, pm=get_plugin_manager(), clock=clock) as ctx,
            path.open("rb") as source,
        ):
            outcome = remittance.import_era(ctx, name=path.name, source=source)
        return time.perf_counter() - t, outcome
    finally:
        engine.dispose()


def _peak_kb() -> int:
    """This process's peak resident memory (VmHWM), in KB. Not `ru_maxrss`:
    on Linux that keeps the parent's peak across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_child(url: str, user_id: int, shift: int, path: str) -> None:
    """Run in a subprocess: post `path` and print the peak RSS before and after."""
    before = _peak_kb()
    seconds, outcome = _import(url, user_id, ShiftedClock(shift), Path(path))
    after = _peak_kb()
    s = outcome.sets[0]
    print(f"{before} {after} {seconds:.2f} {outcome.status} {s.claims} {s.unmatched}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.era")
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000, help="claims in the memory file")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        url, user_id, shift, path = args.memory_child
        memory_child(url, int(user_id), int(shift), path)
        return
    m = machine()
    print(
        f"machine: {m['cpus']} CPUs, {m['cpu']}, {m['ram']} RAM, Python {m['python']}, "
        f"SQLite {m['sqlite']}, load average at start {m['load']}, CPU reference {m['speed']}"
    )
    args.db, args.out, args.force = None, DEFAULT_OUT, False
    url, info, where = prepare(args)
    shift = (datetime.now(ZONE).date() - datetime.fromisoformat(info["today"]).date()).days
    clock = ShiftedClock(shift)
    claims, npi = _claims(url, info["user_id"], clock)
    path = DATA / "era-10k.835"
    segments = write_835(path, claims, npi, "BENCH-EFT-1")
    print(f"database: {where}; {len(claims):,} claims built; 835 of {segments:,} segments")

    seconds, outcome = _import(url, info["user_id"], clock, path)
    s = outcome.sets[0]
    again, dup = _import(url, info["user_id"], clock, path)
    print(f"  load average before pyx12 {machine()['load']}")
    v = validate(path)
    ratio = seconds / v["pyx12"]
    print("\n(j) import and post an 835 of", f"{s.claims:,} claim payments")
    print(f"  import_era                 {seconds:8.2f} s   status {outcome.status}, matched "
          f"{s.matched:,}, unmatched {s.unmatched:,}, balanced {s.balanced}")  # fmt: skip
    print(f"  pyx12 validation (peer)    {v['pyx12']:8.2f} s   findings {len(v['findings'])}")
    verdict = "PASS" if ratio <= 0.25 else "MISS"
    print(f"  ratio {ratio:.3f} (<= 0.25)  {verdict}")
    print(f"\n(l) the same file again: {dup.status} in {again:.3f} s  "
          f"{'PASS' if dup.status == 'duplicate' and again < 1 else 'MISS'}")  # fmt: skip

    big = DATA / "era-100k.835"
    unknown = [
        (f"X{i:09d}", lines) for i, (_, lines) in enumerate(claims * (args.big // len(claims)))
    ]
    big_segments = write_835(big, unknown, npi, "BENCH-EFT-BIG")
    args.reuse = True
    url2, _, _ = prepare(args)  # a fresh copy: nothing posted yet
    child = subprocess.run(
        [sys.executable, "-m", "bench.era", "--memory-child", url2, str(info["user_id"]),
         str(shift), str(big)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    before, after, secs, status, n, unmatched = child.stdout.split()
    peak_mb = int(after) / 1024
    print(f"\n(k) post an 835 of {int(n):,} claim payments ({big_segments:,} segments, "
          f"{big.stat().st_size / 1e6:.0f} MB; all unmatched, to unapplied cash)")  # fmt: skip
    print(f"  {status} in {float(secs):.1f} s; peak RSS {peak_mb:.0f} MB (before the import "
          f"{int(before) / 1024:.0f} MB)  <= 200 MB  {'PASS' if peak_mb <= 200 else 'MISS'}")  # fmt: skip


if __name__ == "__main__":
    main()
