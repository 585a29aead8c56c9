"""Every hook contract between pms and its plugins.

Three families (see docs/plugins.md, which documents each hook; a test fails when
one is missing there):

- contribute: ``register_*(register)``; call ``register(obj)`` once per contribution.
- decide: ``firstresult=True``; the first non-None answer wins.
- notify: past tense; called after the transaction commits; return value ignored.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("pms")
hookimpl = pluggy.HookimplMarker("pms")


# --- contribute ---------------------------------------------------------------
@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands or groups to the ``pms`` command line: ``cli.add_command(...)``."""


@hookspec
def register_screens(register: Any) -> None:
    """Contribute TUI screens: ``register(ScreenSpec)`` puts a screen in the command palette."""


@hookspec
def register_reminder_channels(register: Any) -> None:
    """Contribute reminder channels: ``register(channel)`` for each object that
    follows ``pms_core.services.reminders.ReminderChannel`` (see docs/plugins.md)."""


@hookspec
def register_scrub_rules(register: Any) -> None:
    """Contribute claim scrub rules: ``register(rule)`` for each
    ``pms_core.scrub.ScrubRule`` (a callable ``(claim, context) -> findings`` with
    a ``code`` and a ``description``)."""


@hookspec
def register_payer_profiles(register: Any) -> None:
    """Contribute payer profiles: ``register(pms_core.scrub.PayerProfile(...))`` with
    the payer ids it covers, its timely filing limit and its own scrub rules."""


@hookspec
def register_clearinghouses(register: Any) -> None:
    """Contribute clearinghouse transports: ``register(pms_core.transport.TransportType)``
    (a name, the settings it takes, and ``open(settings) -> Transport``)."""


@hookspec
def register_claim_writers(register: Any) -> None:
    """Contribute claim file writers: ``register(writer)`` for each
    ``pms_core.edi.ClaimWriter`` (``kind`` "837P"/"837I", ``write``, ``validate``)."""


@hookspec
def register_response_readers(register: Any) -> None:
    """Contribute readers of clearinghouse responses: ``register(reader)`` for each
    ``pms_core.edi.ResponseReader`` (TA1, 999, 277CA, ...)."""


@hookspec
def register_payment_processors(register: Any) -> None:
    """Contribute card payment processors: ``register(processor)`` for each
    ``pms_core.payments.PaymentProcessor``."""


@hookspec
def register_statement_renderers(register: Any) -> None:
    """Contribute statement formats: ``register(renderer)`` for each
    ``pms_core.statements.StatementRenderer`` (pdf, csv, a vendor's layout)."""


@hookspec
def register_eligibility_formats(register: Any) -> None:
    """Contribute eligibility formats: ``register(fmt)`` for each
    ``pms_core.eligdata.EligibilityFormat`` (the X12 270/271)."""


@hookspec
def register_status_formats(register: Any) -> None:
    """Contribute claim status formats: ``register(fmt)`` for each
    ``pms_core.eligdata.StatusFormat`` (the X12 276/277)."""


@hookspec
def register_remit_readers(register: Any) -> None:
    """Contribute readers of remittance advice: ``register(reader)`` for each
    ``pms_core.remitdata.RemitReader`` (the 835, or another payer format)."""


@hookspec
def register_reports(register: Any) -> None:
    """Contribute reports: ``register(report)`` for each
    ``pms_core.reports.Report`` (A/R aging, collections, a vendor's own)."""


@hookspec
def register_report_writers(register: Any) -> None:
    """Contribute report file formats: ``register(writer)`` for each
    ``pms_core.reports.ReportWriter`` (csv, json, xlsx)."""


@hookspec
def register_importers(register: Any) -> None:
    """Contribute importers: ``register(importer)`` for each
    ``pms_core.imports.Importer`` (a kind of record, its columns, and a job that
    checks, plans and applies a file of them)."""


@hookspec
def register_table_readers(register: Any) -> None:
    """Contribute file formats to import from: ``register(reader)`` for each
    ``pms_core.imports.TableReader`` (CSV, XLSX, another system's export)."""


@hookspec
def register_exporters(register: Any) -> None:
    """Contribute exporters: ``register(exporter)`` for each
    ``pms_core.exports.Exporter`` (a kind of record, its columns, and its rows
    streamed from the database)."""


@hookspec
def register_export_writers(register: Any) -> None:
    """Contribute export file formats: ``register(writer)`` for each
    ``pms_core.exports.ExportWriter`` (csv, jsonl, xlsx)."""


# --- decide -------------------------------------------------------------------
@hookspec(firstresult=True)
def price_service(ctx: Any, code: str, modifiers: tuple[str, ...], payer_id: int | None) -> Any:
    """The charge for one unit of ``code`` with ``modifiers`` (billed to the payer
    with database id ``payer_id``, or None for self-pay), as ``Money``; None to
    leave it to the next plugin and finally to the practice's fee schedule."""


# --- notify -------------------------------------------------------------------
@hookspec
def patient_registered(ctx: Any, patient_id: int) -> None:
    """A patient was registered (after commit). Receives the patient's id, never PHI."""


@hookspec
def patient_updated(ctx: Any, patient_id: int, fields: list[str]) -> None:
    """A patient's record changed (after commit): ``fields`` names what changed."""


@hookspec
def coverage_added(ctx: Any, patient_id: int, coverage_id: int) -> None:
    """Insurance coverage was added to a patient (after commit)."""


@hookspec
def appointment_booked(ctx: Any, appointment_id: int) -> None:
    """An appointment was booked (after commit), including each occurrence of a series."""


@hookspec
def appointment_rescheduled(ctx: Any, appointment_id: int, previous_appointment_id: int) -> None:
    """An appointment moved (after commit): the old one is cancelled, ``appointment_id``
    is the new booking."""


@hookspec
def appointment_cancelled(ctx: Any, appointment_id: int) -> None:
    """An appointment was cancelled (after commit); its time is free again."""


@hookspec
def appointment_status_changed(ctx: Any, appointment_id: int, status: str) -> None:
    """An appointment moved along its status flow (confirmed, arrived, in_room,
    completed, no_show) after commit."""


@hookspec
def charges_posted(ctx: Any, encounter_id: int, charge_ids: list[int]) -> None:
    """An encounter's charges were posted to the ledger (after commit)."""


@hookspec
def claim_status_changed(ctx: Any, claim_id: int, status: str, previous: str) -> None:
    """A claim moved along its lifecycle (after commit): built, scrubbed, ready,
    submitted, accepted, rejected, acknowledged, ..., with the status it left."""
