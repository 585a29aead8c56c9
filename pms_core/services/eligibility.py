"""Eligibility (270/271): ask the payer whether a coverage is in force on a
date of service, and keep each answer with the coverage's history.

- `check_coverage` / `check_appointment` ask about one coverage, through the
  clearinghouse of its payer: in real time when the transport can
  (`realtime()`, retried on a timeout), else as a batch file whose 271 comes
  back with the next poll (`import_answers`, called by the poll's routing).
- `sweep` checks every coverage of every appointment of one day (cron the
  night before), one batch file per clearinghouse that has no real time.
- Each answer is compared with the coverage's previous answered check; what
  changed (plan, termination, copay, active) is kept on the check, and the
  appointment it was asked for shows it on the schedule.
- A failed check (timeout, garbage, an answer about another member) is
  recorded as failed with the reason and never touches the coverage on file.

The service types asked come from the appointment's type (`service_types`,
"98,30" for an office visit), or "30" (health benefit plan coverage).
Messages and audit details carry ids and codes, never PHI.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import col, select

from pms_core import audit
from pms_core.context import Context
from pms_core.edi import X12Error
from pms_core.eligdata import EligibilityAnswer, EligibilityFormat, EligibilityInquiry
from pms_core.errors import FieldError, NotFound, PmsError, ValidationError
from pms_core.models import (
    Acknowledgment,
    Appointment,
    AppointmentType,
    Clearinghouse,
    Coverage,
    EligibilityCheck,
    Patient,
    Payer,
)
from pms_core.models.schedule import ACTIVE_STATUSES
from pms_core.money import Money
from pms_core.permissions import require
from pms_core.plugins import contributions
from pms_core.services import exchange
from pms_core.transport import OutboundFile, TransportError

DEFAULT_SERVICE_TYPES = ("30",)
SERVICE_TYPE = re.compile(r"[A-Z0-9]{1,2}")
ANSWERED = ("active", "inactive")


class EligibilityError(PmsError):
    """The check could not be asked (no clearinghouse, no format)."""


def service_type_errors(text: str) -> list[FieldError]:
    codes = [c.strip().upper() for c in text.split(",") if c.strip()]
    if len(codes) > 12:
        return [FieldError("service_types", "too_many", "at most 12 service types")]
    return [
        FieldError("service_types", "invalid", f"{c!r} is not an X12 service type code")
        for c in codes
        if not SERVICE_TYPE.fullmatch(c)
    ]


def parse_service_types(text: str) -> tuple[str, ...]:
    """Codes from text ("98, 30" gives 98 and 30); ValidationError naming a bad one."""
    errors = service_type_errors(text)
    if errors:
        raise ValidationError(errors)
    return tuple(c.strip().upper() for c in text.split(",") if c.strip()) or DEFAULT_SERVICE_TYPES


def formats(pm) -> list[EligibilityFormat]:
    return contributions(pm, "register_eligibility_formats")


def _format(ctx: Context) -> EligibilityFormat:
    found = formats(ctx.pm)
    if not found:
        raise EligibilityError("no plugin provides an eligibility format (270/271)")
    return found[0]


def read_answers(pm, data: bytes) -> list[EligibilityAnswer] | None:
    """Every answer in a 271 file (through the plugins' formats, `pm`); None
    when it is not one. X12Error when it is one that cannot be read."""
    for fmt in formats(pm):
        answers = fmt.read(data)
        if answers is not None:
            return answers
    return None


# --- asking -----------------------------------------------------------------------------
@dataclass
class _Asked:
    check: EligibilityCheck
    content: bytes | None  # None: it could not be asked (its check says why)


def check_appointment(ctx: Context, *, appointment_id: int) -> list[EligibilityCheck]:
    """Check every active coverage of the appointment's patient in force on
    its date, for the service types of its appointment type."""
    require(ctx, "eligibility:check", action="eligibility.check")
    appt = ctx.session.get(Appointment, appointment_id)
    if appt is None or appt.practice_id != ctx.practice_id:
        raise NotFound(f"appointment {appointment_id} not found")
    return _ask_many(ctx, [appt])


def check_coverage(
    ctx: Context,
    *,
    coverage_id: int,
    service_date: date | None = None,
    service_types: Sequence[str] | None = None,
) -> EligibilityCheck:
    """Check one coverage on `service_date` (today by default)."""
    require(ctx, "eligibility:check", action="eligibility.check")
    coverage = ctx.session.get(Coverage, coverage_id)
    if coverage is None or coverage.practice_id != ctx.practice_id:
        raise NotFound(f"coverage {coverage_id} not found")
    types = tuple(service_types) if service_types else DEFAULT_SERVICE_TYPES
    asked = _new_check(ctx, coverage, service_date or ctx.today(), types, None)
    return _send(ctx, [asked])[0]


def check_patient(
    ctx: Context, *, patient_id: int, service_date: date | None = None
) -> list[EligibilityCheck]:
    """Check every active coverage of the patient in force on `service_date`
    (today by default): the front desk's question at the counter."""
    require(ctx, "eligibility:check", action="eligibility.check", patient_id=patient_id)
    patient = ctx.session.get(Patient, patient_id)
    if patient is None or patient.practice_id != ctx.practice_id:
        raise NotFound(f"patient {patient_id} not found")
    day = service_date or ctx.today()
    asked = [
        _new_check(ctx, coverage, day, DEFAULT_SERVICE_TYPES, None)
        for coverage in _coverages_in_force(ctx, patient_id, day)
    ]
    return _send(ctx, asked)


@dataclass
class SweepResult:
    day: date
    appointments: int = 0
    checks: list[EligibilityCheck] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for c in self.checks if c.status == status)


def sweep(ctx: Context, *, day: date) -> SweepResult:
    """Check the coverages of every appointment on `day` (booked, confirmed
    or later, not cancelled): the night-before job."""
    require(ctx, "eligibility:check", action="eligibility.sweep")
    from pms_core.services.appointments import local_day_bounds

    start, end = local_day_bounds(ctx.zone(), day, day)
    appts = list(
        ctx.session.exec(
            select(Appointment)
            .where(
                Appointment.practice_id == ctx.practice_id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                col(Appointment.status).in_(ACTIVE_STATUSES),
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )
    result = SweepResult(day, len(appts))
    result.checks = _ask_many(ctx, appts)
    audit.record(
        ctx,
        action="eligibility.sweep",
        detail={"day": day.isoformat(), "appointments": len(appts), "checks": len(result.checks)},
    )
    return result


def _ask_many(ctx: Context, appts: Sequence[Appointment]) -> list[EligibilityCheck]:
    asked: list[_Asked] = []
    types_of = {
        t.id: parse_service_types(t.service_types)
        for t in ctx.session.exec(
            select(AppointmentType).where(
                col(AppointmentType.id).in_({a.appointment_type_id for a in appts})
            )
        )
    }
    for appt in appts:
        day = appt.starts_at.astimezone(ctx.zone()).date()
        for coverage in _coverages_in_force(ctx, appt.patient_id, day):
            types = types_of.get(appt.appointment_type_id, DEFAULT_SERVICE_TYPES)
            asked.append(_new_check(ctx, coverage, day, types, appt.id))
    return _send(ctx, asked)


def _coverages_in_force(ctx: Context, patient_id: int, day: date) -> list[Coverage]:
    return [
        c
        for c in ctx.session.exec(
            select(Coverage)
            .where(Coverage.patient_id == patient_id, col(Coverage.active).is_(True))
            .order_by(Coverage.priority, Coverage.id)
        )
        if c.effective_date <= day and (c.termination_date is None or c.termination_date >= day)
    ]


def _new_check(
    ctx: Context,
    coverage: Coverage,
    day: date,
    types: tuple[str, ...],
    appointment_id: int | None,
) -> _Asked:
    """The check row (pending) and the 270 asking it."""
    payer = ctx.session.get(Payer, coverage.payer_id)
    clearinghouse = exchange.clearinghouse_for(ctx, payer)
    check = EligibilityCheck(
        practice_id=ctx.practice_id,
        coverage_id=coverage.id,
        patient_id=coverage.patient_id,
        payer_id=payer.id,
        appointment_id=appointment_id,
        clearinghouse_id=clearinghouse.id if clearinghouse else None,
        trace=f"new-{uuid.uuid4().hex[:24]}",
        service_date=day,
        service_types=",".join(types),
        mode="batch",
        requested_at=ctx.clock.now(),
        requested_by_id=ctx.user.id if ctx.user else None,
    )
    ctx.session.add(check)
    ctx.session.flush()
    check.trace = f"E{check.id:09d}"
    if clearinghouse is None:
        _fail(ctx, check, exchange.no_clearinghouse(payer))
        return _Asked(check, None)
    control = exchange.take_control(ctx, clearinghouse)
    content = _format(ctx).write(
        _inquiry(ctx, check, coverage, payer),
        sender_id=clearinghouse.sender_id,
        receiver_id=clearinghouse.receiver_id,
        control=control,
        created=ctx.clock.now().astimezone(ctx.zone()),
        production=clearinghouse.production,
    )
    ctx.session.add(check)
    ctx.session.flush()
    return _Asked(check, content)


def _inquiry(
    ctx: Context, check: EligibilityCheck, coverage: Coverage, payer: Payer
) -> EligibilityInquiry:
    practice = ctx.practice()
    subscriber, dependent = exchange.people(ctx, coverage)
    return EligibilityInquiry(
        trace=check.trace,
        originator=f"1{practice.tin}",
        payer_name=payer.name,
        payer_id=payer.edi_payer_id,
        provider_name=practice.name,
        provider_npi=practice.group_npi,
        subscriber=subscriber,
        service_date=check.service_date,
        service_types=tuple(check.service_types.split(",")),
        dependent=dependent,
    )


def _send(ctx: Context, asked: list[_Asked]) -> list[EligibilityCheck]:
    """Ask each check: realtime where the clearinghouse's transport can, in
    one batch file per clearinghouse otherwise."""
    from pms_core.services.submission import SubmissionError, open_transport

    by_clearinghouse: dict[int, list[_Asked]] = defaultdict(list)
    for a in asked:
        if a.content is not None:
            by_clearinghouse[a.check.clearinghouse_id].append(a)
    for clearinghouse_id, group in by_clearinghouse.items():
        clearinghouse = ctx.session.get(Clearinghouse, clearinghouse_id)
        try:
            transport = open_transport(ctx, clearinghouse)
        except SubmissionError as exc:
            for a in group:
                _fail(ctx, a.check, f"not asked: {exc}")
            continue
        try:
            if callable(getattr(transport, "realtime", None)):
                for a in group:
                    _ask_realtime(ctx, transport, a)
            else:
                _ask_batch(ctx, transport, clearinghouse, group)
        finally:
            transport.close()
    for a in asked:
        audit.record(
            ctx,
            action="eligibility.check",
            outcome="failed" if a.check.status == "failed" else "ok",
            patient_id=a.check.patient_id,
            detail={
                "check_id": a.check.id,
                "coverage_id": a.check.coverage_id,
                "mode": a.check.mode,
                "status": a.check.status,
            },
        )
    return [a.check for a in asked]


def _ask_realtime(ctx: Context, transport, asked: _Asked) -> None:
    check = asked.check
    check.mode = "realtime"
    got = exchange.ask_realtime(
        transport, asked.content, lambda data: read_answers(ctx.pm, data), "271"
    )
    check.attempts = got.attempts
    if got.answers is None:
        _fail(ctx, check, got.problem)
        return
    inbound = exchange.keep_file(
        ctx, f"271-{check.trace}.x12", got.data, check.clearinghouse_id, "271"
    )
    _apply(ctx, check, got.answers, inbound.id)


def _ask_batch(ctx: Context, transport, clearinghouse: Clearinghouse, group: list[_Asked]) -> None:
    name = f"270-{group[0].check.trace}.x12"
    content = b"\n".join(a.content for a in group if a.content)
    try:
        transport.submit([OutboundFile(name, content)])
    except TransportError as exc:
        for a in group:
            _fail(ctx, a.check, f"not delivered to {clearinghouse.name!r}: {exc}")
        return
    except Exception as exc:  # a transport plugin's own failure
        for a in group:
            _fail(
                ctx,
                a.check,
                f"the {clearinghouse.transport} transport failed ({type(exc).__name__})",
            )
        return
    for a in group:
        a.check.mode, a.check.attempts = "batch", 1
        a.check.message = f"sent in {name}; the answer comes with the next poll"
        ctx.session.add(a.check)
    ctx.session.flush()


def _fail(ctx: Context, check: EligibilityCheck, message: str) -> None:
    check.status = "failed"
    check.message = f"{message}; the coverage on file is unchanged"[:2000]
    check.answered_at = ctx.clock.now()
    ctx.session.add(check)
    ctx.session.flush()


# --- answers ----------------------------------------------------------------------------
def _normal(member_id: str | None) -> str:
    return re.sub(r"[\s-]", "", member_id or "").upper()


def _apply(
    ctx: Context, check: EligibilityCheck, answers: list[EligibilityAnswer], inbound_id: int
) -> None:
    """Record the answer about this check (the one echoing its trace)."""
    mine = [a for a in answers if a.trace == check.trace]
    if not mine and len(answers) == 1 and answers[0].trace is None:
        mine = answers  # a payer-level rejection names no trace
    if not mine:
        _fail(ctx, check, "the answer does not echo this check's trace number")
        return
    _record(ctx, check, mine[0], inbound_id)


def _record(
    ctx: Context, check: EligibilityCheck, answer: EligibilityAnswer, inbound_id: int
) -> None:
    coverage = ctx.session.get(Coverage, check.coverage_id)
    check.inbound_file_id = inbound_id
    asked_member = _normal(coverage.member_id)
    if answer.member_id and _normal(answer.member_id) != asked_member and not answer.rejections:
        _fail(ctx, check, "the answer is about a different member than the one asked about")
        return
    check.answered_at = ctx.clock.now()
    check.benefits = json.dumps([_benefit_json(b) for b in answer.benefits])
    if answer.rejections:
        check.status = "rejected"
        check.message = "; ".join(
            f"{r.reason} (AAA {r.code}, {r.loop}); {r.action}" for r in answer.rejections
        )
    elif answer.active is None:
        _fail(ctx, check, "the answer says neither active nor inactive")
        return
    else:
        check.status = "active" if answer.active else "inactive"
        check.active = answer.active
        check.message = ""
        service = check.service_types.split(",")[0]
        check.plan_name = (answer.plan_name or None) and answer.plan_name[:60]
        check.coverage_from, check.coverage_to = answer.coverage_from, answer.coverage_to
        check.copay_cents = _first(answer.copay_cents, service)
        check.coinsurance = _first(answer.coinsurance, service)
        check.deductible_cents = _first(answer.deductible_cents, service)
        check.deductible_remaining_cents = _first(answer.deductible_cents, service, remaining=True)
        check.out_of_pocket_cents = _first(answer.out_of_pocket_cents, service)
        check.out_of_pocket_remaining_cents = _first(
            answer.out_of_pocket_cents, service, remaining=True
        )
        check.changes = ",".join(_changes(ctx, check))
    ctx.session.add(check)
    ctx.session.flush()


def _first(find, service: str, **kw):
    """The figure for the service type asked, else for plan coverage (30)."""
    value = find(service, **kw)
    return find("30", **kw) if value is None and service != "30" else value


def _benefit_json(b) -> dict:
    out = asdict(b)
    out["percent"] = str(b.percent) if b.percent is not None else None
    out["service_types"] = list(b.service_types)
    out["messages"] = list(b.messages)
    return out


def _changes(ctx: Context, check: EligibilityCheck) -> list[str]:
    """What differs from the coverage's previous answered check."""
    before = ctx.session.exec(
        select(EligibilityCheck)
        .where(
            EligibilityCheck.coverage_id == check.coverage_id,
            EligibilityCheck.id != check.id,
            col(EligibilityCheck.status).in_(ANSWERED),
            col(EligibilityCheck.answered_at).is_not(None),
        )
        .order_by(col(EligibilityCheck.answered_at).desc(), col(EligibilityCheck.id).desc())
    ).first()
    if before is None:
        return []
    found = []
    if before.active != check.active:
        found.append("active")
    if (before.plan_name or "") != (check.plan_name or ""):
        found.append("plan")
    if before.coverage_to != check.coverage_to:
        found.append("termination")
    if before.copay_cents != check.copay_cents:
        found.append("copay")
    return found


def import_answers(
    ctx: Context, *, name: str, data: bytes, clearinghouse_id: int | None = None
) -> exchange.AnswerFileOutcome | None:
    """A 271 file from a poll: each answer completes the pending check that
    asked it (by trace); an answer nobody asked is kept on the unmatched
    acknowledgment list. None when the file is not a 271; one that cannot
    be read is kept, marked failed."""
    try:
        answers = read_answers(ctx.pm, data)
    except X12Error as exc:
        return exchange.unreadable(ctx, name, data, clearinghouse_id, "271", exc)
    if answers is None:
        return None
    inbound = exchange.keep_file(ctx, name, data, clearinghouse_id, "271")
    out = exchange.AnswerFileOutcome(inbound.id)
    traces = [a.trace for a in answers if a.trace]
    pending = {
        c.trace: c
        for c in ctx.session.exec(
            select(EligibilityCheck).where(
                EligibilityCheck.practice_id == ctx.practice_id,
                col(EligibilityCheck.trace).in_(traces),
                EligibilityCheck.status == "pending",
            )
        )
    }
    for answer in answers:
        check = pending.pop(answer.trace, None) if answer.trace else None
        if check is None:
            out.unmatched += 1
            ctx.session.add(
                Acknowledgment(
                    practice_id=ctx.practice_id,
                    inbound_file_id=inbound.id,
                    kind="271",
                    reference=(answer.trace or "")[:50],
                    status="unmatched",
                    message="an eligibility answer no pending check asked for",
                )
            )
            continue
        _record(ctx, check, answer, inbound.id)
        out.applied += 1
    out.message = f"{out.applied} eligibility answers applied, {out.unmatched} unmatched"
    inbound.message = out.message
    ctx.session.add(inbound)
    ctx.session.flush()
    return out


# --- reading ----------------------------------------------------------------------------
def history(ctx: Context, *, coverage_id: int, limit: int = 50) -> list[EligibilityCheck]:
    """The coverage's checks, newest first."""
    require(ctx, "patients:read", action="eligibility.read")
    coverage = ctx.session.get(Coverage, coverage_id)
    if coverage is None or coverage.practice_id != ctx.practice_id:
        raise NotFound(f"coverage {coverage_id} not found")
    return list(
        ctx.session.exec(
            select(EligibilityCheck)
            .where(EligibilityCheck.coverage_id == coverage_id)
            .order_by(col(EligibilityCheck.id).desc())
            .limit(limit)
        )
    )


def patient_checks(ctx: Context, *, patient_id: int, limit: int = 50) -> list[EligibilityCheck]:
    """The patient's checks over all coverages, newest first."""
    require(ctx, "patients:read", action="eligibility.read", patient_id=patient_id)
    return list(
        ctx.session.exec(
            select(EligibilityCheck)
            .where(
                EligibilityCheck.practice_id == ctx.practice_id,
                EligibilityCheck.patient_id == patient_id,
            )
            .order_by(col(EligibilityCheck.id).desc())
            .limit(limit)
        )
    )


def latest_for_appointments(
    ctx: Context, appointment_ids: Sequence[int]
) -> dict[int, list[EligibilityCheck]]:
    """For each appointment, the latest check of each coverage asked for it
    (what the schedule marks: inactive, rejected, failed, changed)."""
    out: dict[int, dict[int, EligibilityCheck]] = defaultdict(dict)
    ids = list(appointment_ids)
    for start in range(0, len(ids), 2000):
        for check in ctx.session.exec(
            select(EligibilityCheck)
            .where(
                EligibilityCheck.practice_id == ctx.practice_id,
                col(EligibilityCheck.appointment_id).in_(ids[start : start + 2000]),
            )
            .order_by(EligibilityCheck.id)
        ):
            out[check.appointment_id][check.coverage_id] = check
    return {appt: list(by_cov.values()) for appt, by_cov in out.items()}


# Worst first: what an appointment's mark shows when its coverages differ.
MARK_ORDER = ("inactive", "rejected", "failed", "changed", "pending", "active")


def appointment_marks(ctx: Context, appointment_ids: Sequence[int]) -> dict[int, str]:
    """For each checked appointment, its mark (see MARK_ORDER): the worst of
    the latest check of each coverage asked for it; "changed" for an active
    answer that differs from the one before. The caller checked the read."""
    marks: dict[int, str] = {}
    for appointment_id, checks in latest_for_appointments(ctx, appointment_ids).items():
        found = ["changed" if c.status == "active" and c.changes else c.status for c in checks]
        marks[appointment_id] = min(found, key=MARK_ORDER.index)
    return marks


def benefit_rows(ctx: Context, *, check_id: int) -> list[dict]:
    """Every benefit one check's answer gave, per service type, as rows."""
    require(ctx, "patients:read", action="eligibility.read")
    check = ctx.session.get(EligibilityCheck, check_id)
    if check is None or check.practice_id != ctx.practice_id:
        raise NotFound(f"eligibility check {check_id} not found")
    rows = []
    for b in json.loads(check.benefits or "[]"):
        rows.append(
            {
                "benefit": b["kind"],
                "services": " ".join(b["service_types"]),
                "level": b["coverage_level"],
                "network": {True: "in", False: "out", None: ""}[b["in_network"]],
                "period": b["period"],
                "amount": Money(b["amount_cents"]) if b["amount_cents"] is not None else None,
                "percent": f"{Decimal(b['percent']) * 100:.0f}%" if b["percent"] else None,
                "plan": b["plan_name"],
                "messages": " / ".join(b["messages"]),
            }
        )
    return rows
