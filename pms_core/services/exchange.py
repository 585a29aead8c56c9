"""What eligibility (270/271) and claim status (276/277) share: finding the
payer's clearinghouse, taking its control numbers, asking in real time with
retries, keeping the answers as received, and the people a question names."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import col, select

from pms_core.context import Context
from pms_core.edi import X12Error
from pms_core.eligdata import Person
from pms_core.models import Clearinghouse, Coverage, InboundFile, Patient, Payer
from pms_core.transport import TransportError

REALTIME_ATTEMPTS = 3  # a realtime question is tried this often before it is recorded failed


def clearinghouse_for(ctx: Context, payer: Payer) -> Clearinghouse | None:
    """The payer's active clearinghouse, else the practice's default one."""
    query = select(Clearinghouse).where(
        Clearinghouse.practice_id == ctx.practice_id, col(Clearinghouse.active).is_(True)
    )
    if payer.clearinghouse_id is not None:
        query = query.where(Clearinghouse.id == payer.clearinghouse_id)
    else:
        query = query.where(col(Clearinghouse.is_default).is_(True))
    return ctx.session.exec(query).first()


def no_clearinghouse(payer: Payer) -> str:
    return (
        f"not asked: payer {payer.id} has no active clearinghouse and the practice has no "
        "default (add one with 'pms clearinghouse add --default')"
    )


def take_control(ctx: Context, clearinghouse: Clearinghouse) -> int:
    """The clearinghouse's next interchange control number, read under a row
    lock and advanced at once, so each is used once."""
    ctx.session.refresh(clearinghouse, with_for_update=True)
    control = clearinghouse.next_control
    clearinghouse.next_control = control + 1 if control < 999_999_999 else 1
    ctx.session.add(clearinghouse)
    ctx.session.flush()
    return control


@dataclass
class RealtimeAnswer:
    answers: list | None  # what `read` made of the answer; None: no usable answer
    data: bytes | None  # the answer as received
    attempts: int
    problem: str = ""  # why there is no usable answer


def ask_realtime(transport, content: bytes, read: Callable[[bytes], list | None], what: str):
    """Put one request to the transport's `realtime()` and read the answer
    with `read` (None: not the expected kind; X12Error: unreadable), trying
    up to REALTIME_ATTEMPTS times on a timeout or an unusable answer."""
    problem = ""
    for attempt in range(1, REALTIME_ATTEMPTS + 1):
        try:
            data = transport.realtime(content)
        except TransportError as exc:
            problem = f"the clearinghouse did not answer ({exc})"
            continue
        except Exception as exc:  # a transport plugin's own failure: its message may hold anything
            problem = f"the clearinghouse transport failed ({type(exc).__name__})"
            continue
        try:
            answers = read(data)
        except X12Error as exc:
            problem = f"the clearinghouse's answer is not a readable {what} ({exc})"
            continue
        if answers is None:
            problem = f"the clearinghouse answered with something that is not a {what}"
            continue
        return RealtimeAnswer(answers, data, attempt)
    return RealtimeAnswer(
        None, None, REALTIME_ATTEMPTS, f"{problem}; tried {REALTIME_ATTEMPTS} times"
    )


def keep_file(
    ctx: Context, name: str, data: bytes, clearinghouse_id: int | None, kind: str
) -> InboundFile:
    """An answer as received (the same bytes twice: the first copy)."""
    digest = hashlib.sha256(data).hexdigest()
    existing = ctx.session.exec(
        select(InboundFile).where(
            InboundFile.practice_id == ctx.practice_id, InboundFile.sha256 == digest
        )
    ).first()
    if existing is not None:
        return existing
    inbound = InboundFile(
        practice_id=ctx.practice_id,
        clearinghouse_id=clearinghouse_id,
        name=name[-200:],
        sha256=digest,
        kind=kind,
        status="processed",
        content=data,
        received_at=ctx.clock.now(),
    )
    ctx.session.add(inbound)
    ctx.session.flush()
    return inbound


def people(ctx: Context, coverage: Coverage) -> tuple[Person, Person | None]:
    """(subscriber with the member id, dependent or None) for a coverage."""
    patient = ctx.session.get(Patient, coverage.patient_id)
    if coverage.relationship == "self":
        me = Person(patient.last_name, patient.first_name, patient.dob, patient.sex,
                    coverage.member_id)  # fmt: skip
        return me, None
    subscriber = Person(
        coverage.subscriber_last_name or patient.last_name,
        coverage.subscriber_first_name or patient.first_name,
        coverage.subscriber_dob,
        coverage.subscriber_sex,
        coverage.member_id,
    )
    return subscriber, Person(patient.last_name, patient.first_name, patient.dob, patient.sex)


@dataclass
class AnswerFileOutcome:
    """What a polled answer file (271, 277) did."""

    inbound_file_id: int
    status: str = "processed"  # or failed: the file could not be read (kept, marked failed)
    applied: int = 0
    unmatched: int = 0
    message: str = ""


def unreadable(
    ctx: Context, name: str, data: bytes, clearinghouse_id: int | None, kind: str, exc: X12Error
) -> AnswerFileOutcome:
    """An answer file that cannot be read: kept as received, marked failed."""
    inbound = keep_file(ctx, name, data, clearinghouse_id, kind)
    inbound.status, inbound.message = "failed", str(exc)[:500]
    ctx.session.add(inbound)
    ctx.session.flush()
    return AnswerFileOutcome(inbound.id, "failed", message=inbound.message)
