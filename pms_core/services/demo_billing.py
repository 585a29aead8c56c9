"""The demo practice's billing office, day by day, through the services its
people use, against the sandbox payer (`pms_sandbox_payer`; without it, a
local folder stands in for the clearinghouse and nothing comes back).

The night before each day, every appointment's coverage is checked
(eligibility sweep). Each evening the day's completed visits get an
encounter with one or two diagnoses and the charges their appointment type
usually has, posted; claims are built; the clearinghouse is polled (999 and 277CA applied, 835s posted, secondary claims
built from them), and the claims scrubbed and sent; about half of the day's patients who owe
something pay at the desk; on Fridays the payers are asked about claims
waiting too long (276/277); on the first working day of a month statements
are run. Denials stay on the worklist for the demo's biller.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pluggy
from sqlalchemy import Engine
from sqlmodel import select

from pms_core import ledger
from pms_core.clock import Clock, FixedClock
from pms_core.context import unit_of_work
from pms_core.errors import PmsError
from pms_core.models import Appointment, AppointmentType
from pms_core.money import Money
from pms_core.services import (
    charges,
    claim_status,
    claims,
    eligibility,
    fees,
    payments,
    statements,
    submission,
)
from pms_core.services.appointments import local_day_bounds

DEFAULT_FEES = {
    "99203": "165.00",
    "99204": "245.00",
    "99212": "85.00",
    "99213": "125.00",
    "99214": "180.00",
    "99215": "250.00",
    "99396": "230.00",
    "99397": "245.00",
    "36415": "15.00",
    "81002": "12.50",
    "85025": "28.00",
    "80053": "42.00",
    "93000": "55.00",
    "90471": "25.00",
    "90686": "38.00",
    "96372": "30.00",
    "J1885": "3.50",
    "11102": "160.00",
    "17110": "145.00",
}
# Contracted amounts as a share of the practice's fee, for a few payers (by key).
CONTRACT_SHARE = {"medicare": "0.62", "lakeshore": "0.81", "riverbend": "0.77"}

# Charges each appointment type usually has: (code, modifiers, pointers), and
# the diagnoses its visits are for.
VISITS = {
    "Follow-up": ([("99213", (), (1, 2))], ["I10", "E11.9", "E78.5", "K21.9", "F41.1"]),
    "New patient": ([("99204", (), (1,)), ("36415", (), (1,))], ["R53.83", "I10", "E78.5"]),
    "Annual physical": (
        [("99396", (), (1,)), ("85025", (), (1,)), ("80053", (), (1,))],
        ["Z00.00", "Z00.01"],
    ),
    "Procedure": ([("11102", (), (1,)), ("99213", ("25",), (2,))], ["L82.1", "D23.9", "I10"]),
    "Telehealth": ([("99212", ("95",), (1,))], ["J06.9", "R05.9", "F41.1"]),
}


@dataclass
class BillingSummary:
    encounters: int = 0
    claims: int = 0
    submitted: int = 0
    eligibility_checks: int = 0
    responses: int = 0  # 999, 277CA and 277 files applied
    remittances: int = 0  # 835 files posted
    secondary_claims: int = 0
    patient_payments: int = 0
    statements: int = 0
    status_questions: int = 0


class BillingOffice:
    """The demo practice's billing office, a day at a time, through the
    services its people use (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        *,
        users: dict[str, int],
        payer_ids: dict[str, int],
        rng: random.Random,
        pm: pluggy.PluginManager,
        zone: ZoneInfo,
        folder: Path | None,
    ) -> None:
        self.engine, self.users, self.payer_ids, self.rng, self.pm = (
            engine,
            users,
            payer_ids,
            rng,
            pm,
        )
        self.zone, self.folder = zone, folder
        self.summary = BillingSummary()
        self.clearinghouse = None
        self.last_month: int | None = None

    def _uow(self, role: str, day: date, at: time, clock: Clock | None = None):
        clock = clock or FixedClock(datetime.combine(day, at, self.zone))
        return unit_of_work(self.engine, user_id=self.users[role], pm=self.pm, clock=clock)

    def setup(self, day: date) -> None:
        """The fee schedules (the practice's and a few contracts) and the
        clearinghouse: the sandbox payer when installed, else a local folder."""
        with self._uow("admin", day, time(7)) as ctx:
            rows = [{"code": code, "amount": amount} for code, amount in DEFAULT_FEES.items()]
            for key, share in CONTRACT_SHARE.items():
                if key in self.payer_ids:
                    rows += [
                        {
                            "code": code,
                            "amount": str(Money.parse(amount).percent(Decimal(share))),
                            "payer": str(self.payer_ids[key]),
                        }
                        for code, amount in DEFAULT_FEES.items()
                    ]
            fees.import_fee_schedule(ctx, rows=rows)
            self.clearinghouse = _clearinghouse(ctx, self.folder)

    # --- a day ------------------------------------------------------------------------
    def morning(self, day: date) -> None:
        """The night before, as cron does: every appointment of `day` checked."""
        if not self._sandbox():
            return
        with self._uow("frontdesk", day - timedelta(days=1), time(20)) as ctx:
            self.summary.eligibility_checks += len(eligibility.sweep(ctx, day=day).checks)

    def evening(self, day: date) -> None:
        """The day's visits charged; claims built, scrubbed and submitted; the
        clearinghouse polled (acknowledgments, remits posted, secondary claims
        built); patients paying at the desk; claim status on Fridays and
        statements on the first working day of a month."""
        self._charge(day)
        with self._uow("biller", day, time(18)) as ctx:
            self.summary.claims += len(claims.build_claims(ctx).claims)
        if self.clearinghouse is None:
            return
        self._poll(day)  # first: the secondary claims the remits call for go out tonight too
        self._submit(day)
        self._desk_payments(day)
        if day.weekday() == 4 and self._sandbox():
            with self._uow("biller", day, time(19)) as ctx:
                self.summary.status_questions += len(claim_status.ask(ctx))
        if self.last_month is not None and day.month != self.last_month:
            with self._uow("biller", day, time(19)) as ctx:
                self.summary.statements += len(statements.run_statements(ctx).statements)
        self.last_month = day.month

    def _sandbox(self) -> bool:
        return self.clearinghouse is not None and self.clearinghouse.transport == "sandbox"

    def finish(self, day: date, clock: Clock) -> None:
        """Today so far: the visits already over are charged and their claims
        built and scrubbed; they go out with tonight's batch."""
        self._charge(day, clock)
        with self._uow("biller", day, time(0), clock) as ctx:
            self.summary.claims += len(claims.build_claims(ctx).claims)
            claims.scrub_claims(ctx)

    def _charge(self, day: date, clock: Clock | None = None) -> None:
        start, end = local_day_bounds(self.zone, day, day)
        with self._uow("biller", day, time(17, 30), clock) as ctx:
            seen = ctx.session.exec(
                select(Appointment.id, AppointmentType.name)
                .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
                .where(
                    Appointment.status == "completed",
                    Appointment.starts_at >= start,
                    Appointment.starts_at < end,
                )
                .order_by(Appointment.starts_at, Appointment.id)  # a total order: same seed,
            ).all()  # same charges, on PostgreSQL too
        for appointment_id, type_name in seen:
            lines, diagnoses = VISITS.get(type_name, VISITS["Follow-up"])
            dx = self.rng.sample(diagnoses, k=min(len(diagnoses), 2))
            try:
                with self._uow("biller", day, time(17, 30), clock) as ctx:
                    enc = charges.create_encounter(ctx, appointment_id=appointment_id, diagnoses=dx)
                    for code, mods, pointers in lines:
                        charges.add_charge(
                            ctx,
                            encounter_id=enc.id,
                            code=code,
                            modifiers=list(mods),
                            pointers=[p for p in pointers if p <= len(dx)] or [1],
                        )
                    charges.post_encounter(ctx, encounter_id=enc.id)
                self.summary.encounters += 1
            except PmsError:
                continue

    def _submit(self, day: date) -> None:
        with self._uow("biller", day, time(18, 15)) as ctx:
            claims.scrub_claims(ctx)
            for result in submission.submit_claims(ctx):
                self.summary.submitted += result.claims if result.status == "sent" else 0

    def _poll(self, day: date) -> None:
        with self._uow("biller", day, time(18, 30)) as ctx:
            for outcome in submission.poll_clearinghouse(ctx):
                if outcome.kind == "835":
                    self.summary.remittances += 1
                else:
                    self.summary.responses += 1

    def _desk_payments(self, day: date) -> None:
        """About half of the day's patients who owe something pay it at the desk."""
        start, end = local_day_bounds(self.zone, day, day)
        with self._uow("frontdesk", day, time(17)) as ctx:
            patients = sorted(
                set(
                    ctx.session.exec(
                        select(Appointment.patient_id).where(
                            Appointment.status == "completed",
                            Appointment.starts_at >= start,
                            Appointment.starts_at < end,
                        )
                    )
                )
            )
            for patient_id in patients:
                if self.rng.random() >= 0.5:
                    continue
                owed = ledger.patient_balance(ctx.session, ctx.practice_id, patient_id).patient
                if owed.cents <= 0:
                    continue
                method = self.rng.choice(("cash", "check", "card"))
                payments.post_payment(
                    ctx,
                    patient_id=patient_id,
                    amount=owed,
                    method=method,
                    reference=f"{self.rng.randrange(10**5, 10**6)}" if method != "cash" else None,
                )
                self.summary.patient_payments += 1


def _clearinghouse(ctx, folder: Path | None):
    """The sandbox payer when its plugin is installed (in `folder`), else a
    local folder standing in for the clearinghouse (the directory transport)."""
    if folder is None:
        return None
    kinds = submission.transport_types(ctx)
    if "sandbox" in kinds:
        return submission.add_clearinghouse(
            ctx,
            name="Sandbox payer (on this machine)",
            transport="sandbox",
            settings={"folder": str(folder), "seed": "1"},
            sender_id="PRAIRIEOAK",
            receiver_id="SANDBOXCH",
            receiver_name="Sandbox Clearinghouse",
            contact_name="Billing Office",
            contact_phone="2175550100",
            production=False,
            default=True,
        )
    if "directory" not in kinds:
        return None
    for name in ("outbox", "inbox", "archive"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return submission.add_clearinghouse(
        ctx,
        name="Demo clearinghouse (local folder)",
        transport="directory",
        settings={name: str(folder / name) for name in ("outbox", "inbox", "archive")},
        sender_id="PRAIRIEOAK",
        receiver_id="DEMOCLEAR",
        receiver_name="Demo Clearinghouse",
        contact_name="Billing Office",
        contact_phone="2175550100",
        production=False,
        default=True,
    )
