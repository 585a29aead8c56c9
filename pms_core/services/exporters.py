"""The built-in exporters (registered by the `pms_data` plugin): patients,
appointments, claims, patient payments and the ledger, one row per record,
streamed in id order. Money is in integer cents with the `money` kind (writers
show dollars); times are UTC, with the practice's wall-clock time beside them
where a person reads them (appointments)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select

from pms_core.context import Context
from pms_core.exports import ExportColumn
from pms_core.models import (
    Appointment,
    AppointmentType,
    Claim,
    JournalEntry,
    Location,
    Patient,
    Payer,
    Payment,
    Posting,
    Provider,
)
from pms_core.reports import DATE, INT, MONEY
from pms_core.services.appointments import practice_zone, to_local

STREAM = 5_000  # rows fetched at a time


def _stream(ctx: Context, query) -> Iterator[tuple]:
    yield from ctx.session.execute(query.execution_options(yield_per=STREAM))


def _between(query, column, date_from: date | None, date_to: date | None):
    if date_from is not None:
        query = query.where(column >= date_from)
    if date_to is not None:
        query = query.where(column <= date_to)
    return query


def _columns(*specs: str | tuple[str, str]) -> tuple[ExportColumn, ...]:
    return tuple(ExportColumn(s) if isinstance(s, str) else ExportColumn(*s) for s in specs)


class PatientExporter:
    name = "patients"
    title = "Patients: demographics and contact details"
    dated = False
    columns = _columns(
        ("id", INT), "account_number", "first_name", "middle_name", "last_name", "suffix",
        ("dob", DATE), "sex", "address1", "address2", "city", "state", "zip", "home_phone",
        "mobile_phone", "email", "preferred_contact", ("guarantor_id", INT),
        "guarantor_relationship", "active", ("deceased_date", DATE),
    )  # fmt: skip

    def rows(self, ctx: Context, date_from, date_to) -> Iterator[tuple[Any, ...]]:
        table = Patient.__table__
        query = (
            select(*(table.c[c.key] for c in self.columns))
            .where(table.c.practice_id == ctx.practice_id)
            .order_by(table.c.id)
        )
        for row in _stream(ctx, query):
            yield tuple(_yes_no(v) if isinstance(v, bool) else v for v in row)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


class AppointmentExporter:
    name = "appointments"
    title = "Appointments (dated by their local day)"
    dated = True
    columns = _columns(
        ("id", INT), "external_id", ("patient_id", INT), "account_number", "provider_npi",
        "location", "type", ("local_date", DATE), "local_time", ("minutes", INT), "status",
        "starts_at_utc", "note",
    )  # fmt: skip

    def rows(self, ctx: Context, date_from, date_to) -> Iterator[tuple[Any, ...]]:
        zone = practice_zone(ctx)
        query = (
            select(
                Appointment.id, Appointment.external_id, Appointment.patient_id,
                Patient.account_number, Provider.npi, Location.name, AppointmentType.name,
                Appointment.starts_at, Appointment.ends_at, Appointment.status,
                Appointment.note,
            )
            .join(Patient, Patient.id == Appointment.patient_id)
            .join(Provider, Provider.id == Appointment.provider_id)
            .join(Location, Location.id == Appointment.location_id)
            .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
            .where(Appointment.practice_id == ctx.practice_id)
            .order_by(Appointment.starts_at, Appointment.id)
        )  # fmt: skip
        for (ident, external, patient_id, account, npi, location, kind, start, end, status,
             note) in _stream(ctx, query):  # fmt: skip
            local = to_local(zone, start)
            if (date_from and local.date() < date_from) or (date_to and local.date() > date_to):
                continue
            yield (
                ident, external, patient_id, account, npi, location, kind, local.date(),
                local.strftime("%H:%M"), int((end - start).total_seconds() // 60), status,
                start.isoformat(), note,
            )  # fmt: skip


class ClaimExporter:
    name = "claims"
    title = "Claims (dated by their first date of service)"
    dated = True
    columns = _columns(
        ("id", INT), "claim_number", "kind", "frequency", ("original_claim_id", INT),
        ("patient_id", INT), "account_number", ("payer_id", INT), "payer",
        "payer_claim_number", "provider_npi", "status", ("total", MONEY),
        ("service_from", DATE), ("service_to", DATE), "first_submitted_at", "created_at",
    )  # fmt: skip

    def rows(self, ctx: Context, date_from, date_to) -> Iterator[tuple[Any, ...]]:
        query = (
            select(
                Claim.id, Claim.claim_number, Claim.kind, Claim.frequency,
                Claim.original_claim_id, Claim.patient_id, Patient.account_number,
                Claim.payer_id, Payer.name, Claim.payer_claim_number, Provider.npi,
                Claim.status, Claim.total_cents, Claim.service_from, Claim.service_to,
                Claim.first_submitted_at, Claim.created_at,
            )
            .join(Patient, Patient.id == Claim.patient_id)
            .join(Payer, Payer.id == Claim.payer_id)
            .join(Provider, Provider.id == Claim.provider_id)
            .where(Claim.practice_id == ctx.practice_id)
            .order_by(Claim.id)
        )  # fmt: skip
        yield from _stream(ctx, _between(query, Claim.service_from, date_from, date_to))


class PaymentExporter:
    name = "payments"
    title = "Patient payments and refunds, with their receipts (dated when received)"
    dated = True
    columns = _columns(
        ("id", INT), "receipt_number", "kind", "method", ("patient_id", INT),
        "account_number", ("amount", MONEY), ("applied", MONEY), ("received_on", DATE),
        "reference", "processor", "reversed", ("entry_id", INT),
    )  # fmt: skip

    def rows(self, ctx: Context, date_from, date_to) -> Iterator[tuple[Any, ...]]:
        query = (
            select(
                Payment.id, Payment.receipt_number, Payment.kind, Payment.method,
                Payment.patient_id, Patient.account_number, Payment.amount_cents,
                Payment.applied_cents, Payment.received_on, Payment.reference,
                Payment.processor, Payment.reversed_entry_id, Payment.entry_id,
            )
            .join(Patient, Patient.id == Payment.patient_id)
            .where(Payment.practice_id == ctx.practice_id)
            .order_by(Payment.id)
        )  # fmt: skip
        for row in _stream(ctx, _between(query, Payment.received_on, date_from, date_to)):
            *head, reversed_entry, entry_id = row
            yield (*head, _yes_no(reversed_entry is not None), entry_id)


class LedgerExporter:
    name = "ledger"
    title = "Every posting with its journal entry (dated by the entry)"
    dated = True
    columns = _columns(
        ("entry_id", INT), ("entry_date", DATE), "entry_kind", "reference", "memo",
        ("reverses_id", INT), ("posting_id", INT), "account", ("amount", MONEY),
        ("patient_id", INT), ("coverage_id", INT), ("payer_id", INT), ("provider_id", INT),
        ("location_id", INT), ("charge_id", INT), "reason", "posted_at",
    )  # fmt: skip

    def rows(self, ctx: Context, date_from, date_to) -> Iterator[tuple[Any, ...]]:
        query = (
            select(
                JournalEntry.id, JournalEntry.entry_date, JournalEntry.kind,
                JournalEntry.reference, JournalEntry.memo, JournalEntry.reverses_id,
                Posting.id, Posting.account, Posting.amount_cents, Posting.patient_id,
                Posting.coverage_id, Posting.payer_id, Posting.provider_id,
                Posting.location_id, Posting.charge_id, Posting.reason, JournalEntry.posted_at,
            )
            .join(Posting, Posting.entry_id == JournalEntry.id)
            .where(JournalEntry.practice_id == ctx.practice_id)
            .order_by(JournalEntry.id, Posting.id)
        )  # fmt: skip
        yield from _stream(ctx, _between(query, JournalEntry.entry_date, date_from, date_to))


BUILT_IN = (
    PatientExporter(),
    AppointmentExporter(),
    ClaimExporter(),
    PaymentExporter(),
    LedgerExporter(),
)
