"""Every role x permission cell: the table, and a real service call per permission.

EXPECTED is written out here on purpose, independently of `pms_core.permissions`:
changing who may do what means changing both, deliberately.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from pms_core.context import unit_of_work
from pms_core.errors import AuthError, PermissionDenied
from pms_core.ledger import Account, Line
from pms_core.models import AuditEvent
from pms_core.money import Money
from pms_core.permissions import PERMISSIONS, ROLE_PERMISSIONS, ROLES, require, role_allows
from pms_core.services import appointments as appointment_service
from pms_core.services import audit_log, coverages, patients, schedule_setup, users
from pms_core.services import ledger as ledger_service
from pms_core.services import practice as practice_service
from pms_core.services import reminders as reminder_service
from pms_core.services.users import set_disabled
from tests.helpers import PASSWORD

ALL = {
    "patients:read",
    "patients:write",
    "coverages:write",
    "eligibility:check",
    "ledger:read",
    "ledger:post",
    "users:read",
    "users:manage",
    "practice:manage",
    "audit:read",
    "schedule:read",
    "schedule:write",
    "schedule:overbook",
    "schedule:manage",
    "reminders:read",
    "reminders:send",
    "charges:write",
    "charges:post",
    "claims:read",
    "claims:write",
    "claims:submit",
    "billing:setup",
    "payments:post",
    "ledger:writeoff",
    "payments:collect",
    "payments:refund",
    "statements:run",
    "reports:read",
    "ledger:close",
    "ledger:reopen",
    "data:import",
    "data:export",
    "data:archive",
}
BILLING = {
    "charges:write",
    "charges:post",
    "claims:read",
    "claims:write",
    "claims:submit",
    "billing:setup",
    "payments:post",
    "statements:run",
    "reports:read",
}
SCHEDULE_DESK = {
    "schedule:read",
    "schedule:write",
    "reminders:read",
    "payments:collect",
    "eligibility:check",
}
EXPECTED: dict[str, set[str]] = {
    "admin": set(ALL),
    "biller": {"patients:read", "patients:write", "coverages:write", "ledger:read", "ledger:post"}
    | SCHEDULE_DESK
    | BILLING,
    "frontdesk": {"patients:read", "patients:write", "coverages:write", "ledger:read"}
    | SCHEDULE_DESK
    | {"schedule:overbook"},
    "manager": {
        "patients:read",
        "ledger:read",
        "users:read",
        "schedule:read",
        "schedule:manage",
        "reminders:read",
        "claims:read",
        "ledger:writeoff",
        "payments:refund",
        "reports:read",
        "ledger:close",
        "data:export",
    },
    "auditor": {"audit:read"},
}


def test_the_table_lists_exactly_these_roles_and_permissions():
    assert set(ROLES) == set(EXPECTED) == set(ROLE_PERMISSIONS)
    assert set(PERMISSIONS) == ALL


@pytest.mark.parametrize("role", sorted(EXPECTED))
@pytest.mark.parametrize("permission", sorted(ALL))
def test_each_cell_of_the_table(role, permission):
    assert role_allows(role, permission) is (permission in EXPECTED[role])


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        role_allows("admin", "patients:delete")


def test_an_unknown_role_may_do_nothing():
    assert not any(role_allows("janitor", p) for p in ALL)


# --- a representative real service call per permission -------------------------------
PATIENT = dict(
    first_name="Testfirst",
    last_name="Permcheck",
    dob="1980-05-06",
    sex="M",
    address1="1 Synthetic St",
    city="Springfield",
    state="IL",
    zip="62701",
    mobile_phone="2175550100",
)


def _new_patient(engine, practice, clock, pm, tag: str) -> int:
    with unit_of_work(engine, user_id=practice.users["admin"], pm=pm, clock=clock) as ctx:
        return patients.register_patient(
            ctx, **{**PATIENT, "first_name": f"Testfirst{tag}"}, allow_duplicate=True
        ).id


def _bookable(engine, practice, clock, pm, tag: str) -> dict:
    """What `book` needs as this role: a new patient, a new appointment type, and
    (made once) Tuesday hours 08:00-17:00 for the practice's provider."""
    patient_id = _new_patient(engine, practice, clock, pm, tag)
    with unit_of_work(engine, user_id=practice.users["admin"], pm=pm, clock=clock) as ctx:
        if not schedule_setup.list_availability(ctx, provider_id=practice.provider_id):
            schedule_setup.add_availability(
                ctx,
                provider_id=practice.provider_id,
                location_id=practice.location_id,
                weekday="tue",
                start_time="08:00",
                end_time="17:00",
                effective_from="2026-03-01",
            )
        type_id = schedule_setup.add_appointment_type(
            ctx, name=f"Visit {tag}", duration_minutes=30
        ).id
    return dict(
        patient_id=patient_id,
        provider_id=practice.provider_id,
        location_id=practice.location_id,
        appointment_type_id=type_id,
    )


def call_for(permission: str, role: str, env) -> Callable:
    """A function of ctx that exercises `permission` through a real service."""
    engine, practice, clock, pm = env
    tag = role.title()
    if permission == "reports:read":
        from pms_core.services import reports

        return lambda ctx: reports.run_report(ctx, "days_in_ar", {})
    if permission in ("ledger:close", "ledger:reopen"):
        from pms_core.services import periods

        # a later month for each role in turn: a close covers every month before it
        month = date(2025, 1 + 2 * ROLES.index(role), 1)
        if permission == "ledger:close":
            return lambda ctx: periods.close_month(ctx, month=month)
        with unit_of_work(engine, user_id=practice.users["admin"], pm=pm, clock=clock) as ctx:
            periods.close_month(ctx, month=month)
        return lambda ctx: periods.reopen_month(ctx, month=month, reason="late remittance")
    if permission == "patients:read":
        return lambda ctx: patients.find_patients(ctx, text="Permcheck")
    if permission == "patients:write":
        return lambda ctx: patients.register_patient(
            ctx, **{**PATIENT, "first_name": f"Testnew{tag}"}
        )
    if permission == "coverages:write":
        pid = _new_patient(engine, practice, clock, pm, tag)
        return lambda ctx: coverages.add_coverage(
            ctx,
            patient_id=pid,
            payer_id=practice.payer_ids[0],
            member_id=f"PERM{role.upper()}1",
            effective_date="2025-01-01",
        )
    if permission == "ledger:read":
        pid = _new_patient(engine, practice, clock, pm, tag)
        return lambda ctx: ledger_service.patient_balance(ctx, patient_id=pid)
    if permission == "ledger:post":
        pid = _new_patient(engine, practice, clock, pm, tag)
        return lambda ctx: ledger_service.post_entry(
            ctx,
            entry_date=date(2026, 3, 2),
            kind="charge",
            lines=[
                Line(Account.AR_PATIENT, Money(2500), patient_id=pid),
                Line(Account.CHARGES, Money(-2500), patient_id=pid),
            ],
        )
    if permission == "users:read":
        return users.list_users
    if permission == "users:manage":
        return lambda ctx: users.add_user(
            ctx,
            username=f"new-{role}",
            full_name=f"New {tag}",
            role="frontdesk",
            password=PASSWORD,
        )
    if permission == "practice:manage":
        return lambda ctx: practice_service.add_payer(
            ctx, name=f"Payer {tag}", edi_payer_id=f"P{role.upper()}"
        )
    if permission == "audit:read":
        return audit_log.verify_chain
    if permission == "reminders:read":
        return lambda ctx: reminder_service.list_reminders(ctx)
    if permission == "reminders:send":
        return lambda ctx: reminder_service.add_rule(ctx, channel="email", offset="72h")
    if permission == "schedule:read":
        return lambda ctx: appointment_service.list_appointments(ctx, date_from="2026-03-03")
    if permission == "schedule:write":
        # Tuesday 2026-03-03 from 09:00 in Chicago, half an hour apart per role
        at = datetime(2026, 3, 3, 15, 0, tzinfo=UTC) + timedelta(minutes=30 * ROLES.index(role))
        args = _bookable(engine, practice, clock, pm, tag)
        return lambda ctx: appointment_service.book(ctx, **args, starts_at=at)
    if permission == "schedule:overbook":
        # a booked Tuesday per role; the call books a second patient over it
        at = datetime(2026, 3, 10, 15, 0, tzinfo=UTC) + timedelta(weeks=ROLES.index(role))
        args = _bookable(engine, practice, clock, pm, tag)
        with unit_of_work(engine, user_id=practice.users["admin"], pm=pm, clock=clock) as ctx:
            appointment_service.book(ctx, **args, starts_at=at)
        args["patient_id"] = _new_patient(engine, practice, clock, pm, f"{tag}Over")
        return lambda ctx: appointment_service.book(ctx, **args, starts_at=at, overbook=True)
    if permission in BILLING | {"ledger:writeoff", "payments:collect", "payments:refund"}:
        return _billing_call(permission, role, env)
    if permission == "eligibility:check":
        from pms_core.services import eligibility

        return lambda ctx: eligibility.sweep(ctx, day=date(2026, 3, 8))  # a Sunday: none booked
    if permission == "schedule:manage":
        return lambda ctx: schedule_setup.add_room(
            ctx, location_id=practice.location_id, name=f"Room {tag}"
        )
    if permission in ("data:import", "data:export", "data:archive"):
        import io
        import tempfile
        from pathlib import Path

        from pms_core.services import archive, exports, imports

        folder = Path(tempfile.mkdtemp(prefix="perm-"))
        if permission == "data:import":
            (folder / "payers.csv").write_text(
                f"edi_payer_id,name\nIMP{role.upper()},Payer {tag}\n"
            )
            return lambda ctx: imports.run_import(ctx, kind="payers", path=folder / "payers.csv")
        if permission == "data:export":
            return lambda ctx: exports.export_records(
                ctx, kind="patients", fmt="csv", out=io.StringIO()
            )
        return lambda ctx: archive.export_all(ctx, path=folder / "practice.zip")
    raise AssertionError(f"no representative call for {permission}")


def _billing_call(permission: str, role: str, env) -> Callable:
    from pms_core.services import charges, claims, fees

    engine, practice, clock, pm = env
    tag = role.title()
    if permission == "billing:setup":
        return lambda ctx: fees.import_fee_schedule(
            ctx, rows=[{"code": "99213", "amount": f"{100 + ROLES.index(role)}.00"}]
        )
    if permission == "claims:read":
        return lambda ctx: claims.list_claims(ctx)
    if permission == "claims:submit":
        from pms_core.services import submission

        return lambda ctx: submission.submit_claims(ctx)  # nothing ready: an empty answer
    if permission == "ledger:writeoff":
        return _writeoff_call(role, env)
    if permission in ("payments:collect", "payments:refund"):
        from pms_core.services import payments

        pid = _new_patient(engine, practice, clock, pm, tag)
        if permission == "payments:collect":
            return lambda ctx: payments.post_payment(ctx, patient_id=pid, amount="20.00",
                                                     method="cash")  # fmt: skip
        with unit_of_work(engine, user_id=practice.users["admin"], pm=pm, clock=clock) as ctx:
            payments.post_payment(ctx, patient_id=pid, amount="20.00", method="cash")
        return lambda ctx: payments.refund(ctx, patient_id=pid, amount="20.00", method="cash",
                                           reason="overpaid")  # fmt: skip
    if permission == "statements:run":
        from pms_core.services import statements

        return lambda ctx: statements.run_statements(ctx, dry_run=True)
    if permission == "payments:post":
        from pms_core.services import remittance
        from tests.x12_remits import era_835

        data = era_835([], trace=f"EFT-{role}")  # an advice with no claim payments
        return lambda ctx: remittance.import_era(ctx, name=f"{role}.835", source=data)
    patient_id = _new_patient(engine, practice, clock, pm, tag)
    with unit_of_work(engine, user_id=practice.users["admin"], pm=pm, clock=clock) as ctx:
        if not fees.list_fees(ctx):
            fees.import_fee_schedule(ctx, rows=[{"code": "99213", "amount": "100.00"}])
        encounter_id = charges.create_encounter(
            ctx,
            patient_id=patient_id,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            date_of_service=date(2026, 2, 27),
            diagnoses=["I10"],
        ).id
        charges.add_charge(ctx, encounter_id=encounter_id, code="99213")
    if permission == "charges:write":
        return lambda ctx: charges.add_charge(ctx, encounter_id=encounter_id, code="99213")
    if permission == "charges:post":
        return lambda ctx: charges.post_encounter(ctx, encounter_id=encounter_id)
    return lambda ctx: claims.build_claims(ctx, patient_id=patient_id)  # claims:write


def _writeoff_call(role: str, env) -> Callable:
    """A denied lab charge of a claim paid otherwise, to write off."""
    from pms_core.services import claims, denials, remittance
    from tests.billing_helpers import setup_billing, visit
    from tests.x12_remits import PaidClaim, PaidLine, era_835

    engine, practice, clock, pm = env

    def uow(as_role: str = "admin"):
        return unit_of_work(engine, user_id=practice.users[as_role], pm=pm, clock=clock)

    billing = setup_billing(uow, practice)
    visit(uow, practice, billing.patient_id, lines=(("99213", (), 1), ("36415", (), 1)))
    with uow("biller") as ctx:
        (claim,) = claims.build_claims(ctx, patient_id=billing.patient_id).claims
    paid = PaidClaim(claim.claim_number, "140.00", "100.00", lines=[
        PaidLine("99213", "125.00", "100.00", adjustments=[("CO", "45", "25.00")]),
        PaidLine("36415", "15.00", "0.00", adjustments=[("CO", "50", "15.00")])])  # fmt: skip
    with uow("biller") as ctx:
        remittance.import_era(ctx, name="deny.835", source=era_835([paid], trace=f"T-{role}"))
        (denial,) = [
            d for g in denials.list_denials(ctx) for d in g.denials if d.claim_id == claim.id
        ]
    return lambda ctx: denials.write_off(
        ctx, remittance_claim_id=denial.remittance_claim_id, charge_id=denial.charge_id,
        reason="not worth appealing",
    )  # fmt: skip


def denials(engine, user_id: int) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(AuditEvent)
                .where(AuditEvent.user_id == user_id, AuditEvent.outcome == "denied")
                .order_by(AuditEvent.seq)
            )
        )


@pytest.mark.parametrize("permission", sorted(ALL))
def test_each_role_calling_a_real_service(permission, engine, practice, clock, pm):
    env = (engine, practice, clock, pm)
    for role in ROLES:
        call = call_for(permission, role, env)
        user_id = practice.users[role]
        before = len(denials(engine, user_id))
        allowed = permission in EXPECTED[role]
        if allowed:
            with unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx:
                call(ctx)
            assert len(denials(engine, user_id)) == before, f"{role} was refused {permission}"
            continue
        with (
            pytest.raises(PermissionDenied, match=permission),
            unit_of_work(engine, user_id=user_id, pm=pm, clock=clock) as ctx,
        ):
            call(ctx)
        after = denials(engine, user_id)
        assert len(after) == before + 1, f"{role} denied {permission} without an audit event"
        event = after[-1]
        assert json.loads(event.detail) == {"permission": permission}
        assert event.practice_id == practice.id


def test_nobody_logged_in_is_refused_before_any_permission(engine, practice, pm, clock):
    with (
        pytest.raises(AuthError, match="not logged in"),
        unit_of_work(engine, user_id=None, pm=pm, clock=clock) as ctx,
    ):
        require(ctx, "patients:read", action="patient.search")


def test_a_user_disabled_mid_shift_is_refused_at_once(engine, practice, pm, clock):
    """The TUI keeps a user id for the whole shift; disabling the account must
    stop the next action, not the next login."""
    with unit_of_work(engine, user_id=practice.users["admin"], pm=pm, clock=clock) as ctx:
        set_disabled(ctx, username="biller")
    with (
        pytest.raises(AuthError),
        unit_of_work(engine, user_id=practice.users["biller"], pm=pm, clock=clock) as ctx,
    ):
        require(ctx, "patients:read", action="patient.search")
