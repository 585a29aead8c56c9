"""Schedule reports: appointment volume with no-show and late-cancel rates
(by provider, appointment type or weekday), and the reminder effect (no-shows
among confirmed and unconfirmed visits). docs/reports.md defines each figure.

The appointments of the range are read once (a practice books a few hundred a
week) and counted here: the weekday is the practice's local one, which SQL
cannot portably compute from a UTC instant.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from pms_core.models import Appointment, AppointmentType, Provider
from pms_core.reports import (
    INT,
    P_CHOICE,
    P_DATE,
    P_INT,
    PERCENT,
    TEXT,
    Chart,
    Column,
    Param,
    ReportResult,
    ratio,
)
from pms_core.services.appointments import local_day_bounds
from pms_reports.common import days_back, names, today

LATE_CANCEL = timedelta(hours=24)
RESCHEDULED = "rescheduled"  # the cancel reason of an appointment moved to a new time
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Visits that were due to happen: the patient came (or is there) or did not.
HAPPENED = frozenset({"arrived", "in_room", "completed", "no_show"})


RANGE = (
    Param("date_from", P_DATE, "first day (default 29 days ago)", days_back(29)),
    Param("date_to", P_DATE, "last day (default today)", today),
    Param("provider", P_INT, "only this provider's appointments (provider id)", None, minimum=1),
    Param("location", P_INT, "only this location's appointments (location id)", None, minimum=1),
)


@dataclass(frozen=True)
class Visit:
    id: int
    provider_id: int
    type_id: int
    starts_at: datetime
    status: str
    cancelled_at: datetime | None
    confirmed: bool

    @property
    def late_cancel(self) -> bool:
        return (
            self.status == "cancelled"
            and self.cancelled_at is not None
            and self.cancelled_at > self.starts_at - LATE_CANCEL
        )


def visits(
    ctx, date_from: date, date_to: date, provider: int | None = None, location: int | None = None
) -> list[Visit]:
    """Every appointment starting in the local days [date_from, date_to], but
    for those moved to another time (cancelled as "rescheduled")."""
    start, end = local_day_bounds(ctx.zone(), date_from, date_to)
    scope = []
    if provider is not None:
        scope.append(Appointment.provider_id == provider)
    if location is not None:
        scope.append(Appointment.location_id == location)
    rows = ctx.session.execute(
        select(
            Appointment.id,
            Appointment.provider_id,
            Appointment.appointment_type_id,
            Appointment.starts_at,
            Appointment.status,
            Appointment.cancelled_at,
            Appointment.confirmed_at,
        ).where(
            Appointment.practice_id == ctx.practice_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            # a visit moved to another time counts there, not here as well
            or_(
                Appointment.status != "cancelled",
                func.coalesce(Appointment.cancel_reason, "") != RESCHEDULED,
            ),
            *scope,
        )
    )
    return [Visit(*row[:6], row[6] is not None and row[6] <= row[3]) for row in rows]


class Appointments:
    name = "appointments"
    title = "Appointment volume, no-shows and late cancellations"
    description = "Appointments by provider, type or weekday with no-show and late-cancel rates"
    params = (
        *RANGE,
        Param(
            "by", P_CHOICE, "one row per provider, appointment type or weekday", "provider",
            choices=("provider", "type", "weekday"),
        ),
    )  # fmt: skip

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        start, end, by = params["date_from"], params["date_to"], params["by"]
        found = visits(ctx, start, end, params["provider"], params["location"])
        zone = ctx.zone()
        if by == "provider":
            labels = names(ctx, Provider, "last_name", "first_name")
            key = lambda v: labels.get(v.provider_id, str(v.provider_id))  # noqa: E731
        elif by == "type":
            labels = names(ctx, AppointmentType, "name")
            key = lambda v: labels.get(v.type_id, str(v.type_id))  # noqa: E731
        else:
            key = lambda v: WEEKDAYS[v.starts_at.astimezone(zone).weekday()]  # noqa: E731
        groups: dict[str, list[Visit]] = defaultdict(list)
        for v in found:
            groups[key(v)].append(v)
        order = sorted(groups, key=WEEKDAYS.index) if by == "weekday" else sorted(groups)
        rows = [{"group": name, **_counts(groups[name])} for name in order]
        drill = {i: sorted(v.id for v in groups[name]) for i, name in enumerate(order)}
        return ReportResult(
            name=self.name,
            title=f"Appointments {start} to {end} by {by}",
            params=dict(params),
            columns=[
                Column("group", by.title(), TEXT),
                Column("appointments", "Appointments", INT),
                Column("completed", "Completed", INT),
                Column("no_shows", "No-shows", INT),
                Column("no_show_rate", "No-show rate", PERCENT),
                Column("late_cancels", "Late cancels", INT),
                Column("late_cancel_rate", "Late-cancel rate", PERCENT),
            ],
            rows=rows,
            totals={"group": "Total", **_counts(found)},
            definitions=[
                (
                    "Appointments",
                    "appointments starting in the range (local days), whatever "
                    "became of them; a rescheduled visit counts once, at its new time",
                ),
                (
                    "No-show rate",
                    "no-shows / appointments that were due to happen (arrived, "
                    "completed or no-show)",
                ),
                ("Late cancels", "appointments cancelled less than 24 hours before their start"),
                ("Late-cancel rate", "late cancels / appointments"),
            ],  # fmt: skip
            chart=Chart("bar", "group", ("appointments", "no_shows")),
            drill=drill,
            drill_kind="appointment",
        )


def _counts(group: list[Visit]) -> dict[str, Any]:
    due = sum(v.status in HAPPENED for v in group)
    no_shows = sum(v.status == "no_show" for v in group)
    late = sum(v.late_cancel for v in group)
    return {
        "appointments": len(group),
        "completed": sum(v.status == "completed" for v in group),
        "no_shows": no_shows,
        "no_show_rate": ratio(no_shows, due),
        "late_cancels": late,
        "late_cancel_rate": ratio(late, len(group)),
    }


class ReminderEffect:
    name = "reminder_effect"
    title = "Reminder effect"
    description = "No-show rate of appointments the patient confirmed against those not confirmed"
    params = RANGE

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        start, end = params["date_from"], params["date_to"]
        found = visits(ctx, start, end, params["provider"], params["location"])
        due = [v for v in found if v.status in HAPPENED]
        groups = {
            "Confirmed": [v for v in due if v.confirmed],
            "Not confirmed": [v for v in due if not v.confirmed],
        }
        rows = []
        for name, group in groups.items():
            no_shows = sum(v.status == "no_show" for v in group)
            rows.append(
                {
                    "group": name,
                    "appointments": len(group),
                    "no_shows": no_shows,
                    "no_show_rate": ratio(no_shows, len(group)),
                }
            )
        all_no_shows = sum(r["no_shows"] for r in rows)
        return ReportResult(
            name=self.name,
            title=f"Reminder effect {start} to {end}",
            params=dict(params),
            columns=[
                Column("group", "Appointments", TEXT),
                Column("appointments", "Due to happen", INT),
                Column("no_shows", "No-shows", INT),
                Column("no_show_rate", "No-show rate", PERCENT),
            ],
            rows=rows,
            totals={
                "group": "All",
                "appointments": len(due),
                "no_shows": all_no_shows,
                "no_show_rate": ratio(all_no_shows, len(due)),
            },
            definitions=[
                (
                    "Due to happen",
                    "appointments starting in the range that were arrived, "
                    "completed or no-show (cancelled ones are left out)",
                ),
                (
                    "Confirmed",
                    "the patient confirmed the appointment (a reminder reply or the "
                    "desk) before it started",
                ),
                ("No-show rate", "no-shows / appointments due to happen, per group"),
            ],  # fmt: skip
            drill={i: sorted(v.id for v in group) for i, group in enumerate(groups.values())},
            drill_kind="appointment",
        )


SCHEDULE_REPORTS = (Appointments(), ReminderEffect())


class AppointmentList:
    """The appointments behind the no-show and late-cancel rates."""

    name = "appointment_list"
    title = "Appointments"
    description = "Each appointment in a date range, or only the no-shows or late cancellations"
    params = (
        *RANGE,
        Param("status", P_CHOICE, "which appointments", "no_show",
              choices=("no_show", "late_cancel", "all")),
    )  # fmt: skip

    def run(self, ctx, params: Mapping[str, Any]) -> ReportResult:
        from pms_core.services.appointments import list_appointments

        start, end, status = params["date_from"], params["date_to"], params["status"]
        found = visits(ctx, start, end, params["provider"], params["location"])
        keep = {
            v.id
            for v in found
            if status == "all"
            or (status == "no_show" and v.status == "no_show")
            or (status == "late_cancel" and v.late_cancel)
        }
        rows = [
            {
                "id": row.appointment_id,
                "starts": f"{row.local_start:%Y-%m-%d %H:%M}",
                "patient": row.patient_name,
                "provider": row.provider_name,
                "type": row.type_name,
                "status": row.status.replace("_", " "),
            }
            for row in list_appointments(ctx, date_from=start, date_to=end)
            if row.appointment_id in keep
        ]
        return ReportResult(
            name=self.name,
            title=f"Appointments {start} to {end}: {status.replace('_', ' ')}",
            params=dict(params),
            columns=[
                Column("starts", "Starts", TEXT),
                Column("patient", "Patient", TEXT),
                Column("provider", "Provider", TEXT),
                Column("type", "Type", TEXT),
                Column("status", "Status", TEXT),
            ],
            rows=rows,
            definitions=[("Late cancellation", "cancelled less than 24 hours before the start")],
            drill={i: [r["id"]] for i, r in enumerate(rows)},
            drill_kind="appointment",
        )


SCHEDULE_REPORTS = (*SCHEDULE_REPORTS, AppointmentList())
__all__ = ["SCHEDULE_REPORTS", "visits"]
