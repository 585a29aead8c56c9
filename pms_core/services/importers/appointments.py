"""Importing appointments from the previous system or an EHR's scheduler:
matched by their id there (`external_id`), added or updated in place.

Times are wall-clock times at the practice (its time zone). The import mirrors
the schedule the office had: a slot two imported appointments share is kept as
the old system had it, not refused, and no reminder rule or booking limit is
applied to the past. The patient, provider, location and appointment type must
exist in pms first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from pms_core.context import Context
from pms_core.db import chunked, insert_plain, reserve_ids
from pms_core.imports import C_DATE, C_DATETIME, C_INT, C_TIME, ImportColumn, Plan, Row
from pms_core.models import Appointment, AppointmentType, Location, Provider
from pms_core.models.schedule import APPOINTMENT_STATUSES
from pms_core.services.appointments import local_to_utc, practice_zone
from pms_core.services.importers.common import patients_by_account, update_rows

COLUMNS = (
    ImportColumn(
        "external_id",
        required=True,
        aliases=("appointment_id", "appt_id", "visit_id", "id"),
        help="the appointment's id in the system it comes from (the key)",
    ),
    ImportColumn("account_number", required=True, aliases=("account", "acct", "account_no")),
    ImportColumn("provider", required=True, aliases=("provider_npi", "npi"), help="NPI or pms id"),
    ImportColumn("location", aliases=("location_name", "office"), help="name or pms id"),
    ImportColumn(
        "type", required=True, aliases=("appointment_type", "visit_type"), help="its name in pms"
    ),
    ImportColumn("start", C_DATETIME, aliases=("starts_at", "start_time", "date_time")),
    ImportColumn("date", C_DATE, aliases=("appointment_date", "appt_date")),
    ImportColumn("time", C_TIME, aliases=("appointment_time", "appt_time")),
    ImportColumn("duration", C_INT, aliases=("minutes", "length"), help="minutes"),
    ImportColumn("status", help="booked, confirmed, arrived, completed, cancelled, no_show"),
    ImportColumn("note", aliases=("notes", "comment")),
)
_STATUS_WORDS = {
    "scheduled": "booked",
    "checked in": "arrived",
    "checked_in": "arrived",
    "seen": "completed",
    "checked out": "completed",
    "canceled": "cancelled",
    "no show": "no_show",
    "noshow": "no_show",
    "no-show": "no_show",
}
_COMPARED = (
    "patient_id",
    "provider_id",
    "location_id",
    "appointment_type_id",
    "starts_at",
    "ends_at",
    "status",
    "note",
)


class AppointmentImport:
    kind = "appointments"
    title = "Appointments, matched by their id in the system they come from"
    columns = COLUMNS

    def start(self, ctx: Context) -> AppointmentJob:
        return AppointmentJob(ctx)


def _lookup(rows, *keys) -> dict[str, int | None]:
    """Ids by each of the given attributes (upper-cased); a shared key maps to None."""
    found: dict[str, int | None] = {}
    for row in rows:
        for key in {str(row.id), *(str(getattr(row, k) or "").upper() for k in keys)} - {""}:
            found[key] = None if key in found else row.id
    return found


class AppointmentJob:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.zone = practice_zone(ctx)
        mine = ctx.practice_id

        def of(model):
            return list(ctx.session.exec(select(model).where(model.practice_id == mine)))

        self.providers = _lookup(of(Provider), "npi")
        locations = [loc for loc in of(Location) if loc.active]
        self.locations = _lookup(locations, "name")
        self.only_location = locations[0].id if len(locations) == 1 else None
        types = of(AppointmentType)
        self.types = _lookup(types, "name")
        self.minutes = {t.id: t.duration_minutes for t in types}
        self.records: dict[str, tuple[int, dict[str, Any]]] = {}
        self.new: list[dict[str, Any]] = []
        self.changes: list[tuple[int, dict[str, Any]]] = []

    def _resolve(self, row: Row, column: str, table: dict, what: str, by: str) -> int | None:
        text = row.values.get(column)
        if text is None:
            return None
        key = text.strip().upper()
        if key not in table:
            row.error(column, "unknown", f"no {what} with that {by} or pms id")
            return None
        if table[key] is None:
            row.error(column, "ambiguous", f"two or more {what}s match it")
        return table[key]

    def check(self, row: Row) -> None:
        values = row.values
        provider_id = self._resolve(row, "provider", self.providers, "provider", "NPI")
        location_id = self._resolve(row, "location", self.locations, "location", "name")
        if values.get("location") is None and "location" not in row.failed:
            location_id = self.only_location
            if location_id is None:
                row.error("location", "required", "is required: the practice has several locations")
        type_id = self._resolve(row, "type", self.types, "appointment type", "name")
        local = values.get("start")
        if local is None and values.get("date") is not None and values.get("time") is not None:
            local = datetime.combine(values["date"], values["time"])
        if local is None and not {"start", "date", "time"} & row.failed:
            row.error("start", "required", "is required (or the date and time columns)")
        status = (values.get("status") or "booked").strip().lower()
        status = _STATUS_WORDS.get(status, status)
        if status not in APPOINTMENT_STATUSES:
            row.error("status", "choice", f"must be one of: {', '.join(APPOINTMENT_STATUSES)}")
        minutes = values.get("duration")
        if minutes is not None and not 0 < minutes <= 720:
            row.error("duration", "range", "must be 1 to 720 minutes")
        note = values.get("note")
        if note is not None and len(note) > 200:
            row.error("note", "length", "is longer than 200 characters")
        starts_at = None
        if local is not None:
            if local.tzinfo is not None:
                starts_at = local.astimezone(UTC)
            else:
                starts_at = local_to_utc(self.zone, local.date(), local.time())
                if starts_at is None:
                    row.error(
                        "start", "nonexistent", "does not exist that day (daylight-saving change)"
                    )
        key = values.get("external_id")
        if key in self.records:
            row.error("external_id", "duplicate_in_file", f"is also on row {self.records[key][0]}")
        if row.errors:
            return
        minutes = minutes or self.minutes[type_id]
        self.records[key] = (
            row.number,
            {
                "account": values["account_number"],
                "provider_id": provider_id,
                "location_id": location_id,
                "appointment_type_id": type_id,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(minutes=minutes),
                "status": status,
                "note": note,
            },
        )

    def plan(self, error) -> Plan:
        plan = Plan()
        patients = patients_by_account(self.ctx, {r["account"] for _, r in self.records.values()})
        on_file: dict[str, Appointment] = {}
        for chunk in chunked(sorted(self.records)):
            for appt in self.ctx.session.exec(
                select(Appointment).where(
                    Appointment.practice_id == self.ctx.practice_id,
                    col(Appointment.external_id).in_(chunk),
                )
            ):
                on_file[appt.external_id] = appt
        for external_id, (number, record) in self.records.items():
            patient_id = patients.get(record.pop("account"))
            if patient_id is None:
                error(number, "account_number", "unknown", "no patient has this account number")
                continue
            record["patient_id"] = patient_id
            current = on_file.get(external_id)
            if current is None:
                self.new.append({**record, "external_id": external_id})
            elif changed := {k: record[k] for k in _COMPARED if getattr(current, k) != record[k]}:
                self.changes.append((current.id, changed))
            else:
                plan.unchanged += 1
        plan.new, plan.updated = len(self.new), len(self.changes)
        return plan

    def apply(self) -> None:
        ctx = self.ctx
        now = ctx.clock.now()
        ids = reserve_ids(ctx.session, Appointment.__table__, len(self.new))
        template = {c.name: None for c in Appointment.__table__.columns}
        rows = [
            {
                **template,
                **record,
                "id": appointment_id,
                "practice_id": ctx.practice_id,
                "overbooked": False,
                "created_by_id": ctx.user.id,
                "created_at": now,
                "updated_at": now,
            }
            for appointment_id, record in zip(ids, self.new, strict=True)
        ]
        insert_plain(ctx.session, Appointment.__table__, rows)
        update_rows(
            ctx, Appointment.__table__, [(i, {**c, "updated_at": now}) for i, c in self.changes]
        )
