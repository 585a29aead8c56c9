"""The sandbox payer's X12 answers, written with the X12 plugin."""

from __future__ import annotations

from datetime import UTC, datetime

from pms_sandbox_payer.payer import answer_inquiry, roll

SENDER_ID = "SANDBOXCH"


def answer_270(content: bytes, seed: str) -> bytes:
    """A 271 answering every inquiry of a 270 file, in one interchange whose
    control number derives from the inquiries' traces."""
    from pms_x12.eligibility import read_270, write_271

    inquiries = read_270(content)
    answers = [answer_inquiry(i, seed) for i in inquiries]
    control = roll(seed, "271", *(i.trace for i in inquiries)) % 999_999_999 + 1
    text = write_271(
        answers,
        inquiries=inquiries,
        sender_id=SENDER_ID,
        receiver_id="PMS",
        control=control,
        created=datetime.now(UTC),
        production=False,
    )
    return text.encode("ascii")


def answer_276(content: bytes, seed: str, desk, today) -> bytes:
    """A 277 answering every claim of a 276 file with what the sandbox's
    claims desk knows of it (see `ClaimsDesk.status_of`)."""
    from pms_x12.claimstatus import read_276, write_277

    from pms_core.edi import ClaimStatus
    from pms_core.eligdata import StatusAnswer, StatusRequest

    words = {"A4": "not found", "P1": "pending: in process", "F1": "finalized: paid",
             "F2": "finalized: denied"}  # fmt: skip
    inquiries = read_276(content)
    answers = []
    for q in inquiries:
        category, code, paid, icn = desk.status_of(q.claim_number)
        status = ClaimStatus(category, code, "PR", words[category], today)
        answers.append(
            StatusAnswer(
                q.trace, q.claim_number, payer_claim_number=icn, statuses=[status],
                paid_cents=paid, adjudicated=today if category.startswith("F") else None,
            )
        )  # fmt: skip
    request = StatusRequest(
        "SANDBOX PAYER", "SANDBOX1", "PRACTICE", "PMS", "PRACTICE", "1245319599",
        tuple(inquiries),
    )  # fmt: skip
    control = roll(seed, "277", *(q.trace for q in inquiries)) % 999_999_999 + 1
    text = write_277(
        answers,
        request=request,
        sender_id=SENDER_ID,
        receiver_id="PMS",
        control=control,
        created=datetime.now(UTC),
        production=False,
    )
    return text.encode("ascii")
