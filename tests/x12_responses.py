"""Clearinghouse responses written the way clearinghouses write them, for tests:
a 999 for one of our batches and a 277CA for some of our claims. Synthetic data."""

from __future__ import annotations

from dataclasses import dataclass

STAMP = ("260302", "1015", "20260302")


def _isa(sender: str, receiver: str, control: int) -> str:
    return (
        f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*{STAMP[0]}*{STAMP[1]}"
        f"*^*00501*{control:09d}*0*P*:~"
    )


def ack_999(
    group_control: int,
    sets: dict[str, str],
    *,
    group_status: str | None = None,
    control: int = 5001,
    sender: str = "CLEARHOUSE",
    receiver: str = "PRACTICE01",
) -> bytes:
    """`sets` maps our ST02 to "A" (accepted) or "R" (rejected with an NM1 error)."""
    body = [f"AK1*HC*{group_control}*005010X222A1~"]
    for set_control, status in sets.items():
        body.append(f"AK2*837*{set_control}~")
        if status == "R":
            body += ["IK3*NM1*17*2010BA*8~", "IK4*9**7~", "IK5*R*5~"]
        else:
            body.append("IK5*A~")
    accepted = sum(s == "A" for s in sets.values())
    status = group_status or ("A" if accepted == len(sets) else "R" if not accepted else "P")
    body.append(f"AK9*{status}*{len(sets)}*{len(sets)}*{accepted}~")
    segments = ["ST*999*0001*005010X231A1~", *body]
    segments.append(f"SE*{len(segments) + 1}*0001~")
    return "".join(
        [
            _isa(sender, receiver, control),
            f"GS*FA*{sender}*{receiver}*{STAMP[2]}*{STAMP[1]}*{control}*X*005010X231A1~",
            *segments,
            f"GE*1*{control}~",
            f"IEA*1*{control:09d}~",
        ]
    ).encode()


@dataclass
class ClaimVerdict:
    claim_number: str
    accepted: bool
    total: str = "125"
    payer_claim_number: str | None = None


def ack_277ca(
    verdicts: list[ClaimVerdict],
    *,
    control: int = 6001,
    sender: str = "CLEARHOUSE",
    receiver: str = "PRACTICE01",
) -> bytes:
    """A 277CA: accepted claims A2:20 (with the payer's claim number), rejected
    ones A7:562:85 (entity's NPI invalid) ... one patient loop each."""
    total = sum(float(v.total) for v in verdicts)
    segments = [
        "ST*277*0001*005010X214~",
        f"BHT*0085*08*R{control}*{STAMP[2]}*{STAMP[1]}*TH~",
        "HL*1**20*1~",
        "NM1*PR*2*ACME HEALTH PLAN*****PI*ACME1~",
        f"TRN*1*R{control}~",
        f"DTP*050*D8*{STAMP[2]}~",
        f"DTP*009*D8*{STAMP[2]}~",
        "HL*2*1*21*1~",
        "NM1*41*2*MAPLE FAMILY MEDICINE*****46*PRACTICE01~",
        f"TRN*2*R{control}~",
        f"STC*A1:20*{STAMP[2]}*WQ*{total:g}~",
        f"QTY*90*{sum(v.accepted for v in verdicts)}~",
        f"QTY*AA*{sum(not v.accepted for v in verdicts)}~",
        "HL*3*2*19*1~",
        "NM1*85*2*MAPLE FAMILY MEDICINE*****XX*1234567893~",
        f"TRN*1*R{control}~",
    ]
    for n, v in enumerate(verdicts, start=4):
        segments += [
            f"HL*{n}*3*PT~",
            f"NM1*QC*1*TESTLAST*TESTFIRST****MI*SYNTH{n:04d}~",
            f"TRN*2*{v.claim_number}~",
            (
                f"STC*A2:20:PR*{STAMP[2]}*WQ*{v.total}~"
                if v.accepted
                else f"STC*A7:562:85*{STAMP[2]}*U*{v.total}~"
            ),
        ]
        if v.payer_claim_number:
            segments.append(f"REF*1K*{v.payer_claim_number}~")
        segments.append("DTP*472*D8*20260220~")
    segments.append(f"SE*{len(segments) + 1}*0001~")
    return "".join(
        [
            _isa(sender, receiver, control),
            f"GS*HN*{sender}*{receiver}*{STAMP[2]}*{STAMP[1]}*{control}*X*005010X214~",
            *segments,
            f"GE*1*{control}~",
            f"IEA*1*{control:09d}~",
        ]
    ).encode()


def ta1(
    interchange_control: int, status: str = "R", note: str = "024", *, control: int = 7001
) -> bytes:
    """A TA1 alone in its interchange: our ISA13 `interchange_control` accepted
    ("A") or rejected ("R", with note code `note`)."""
    return (
        _isa("CLEARHOUSE", "PRACTICE01", control)
        + f"TA1*{interchange_control:09d}*{STAMP[0]}*{STAMP[1]}*{status}*{note}~"
        + f"IEA*0*{control:09d}~"
    ).encode()
