"""The demo practice's billing: fee schedules, charges for the visits it saw,
and claims, all through the services a biller uses.

Every completed visit gets an encounter with one or two diagnoses and the
charges its appointment type usually has; the encounters are posted, claims
are built and scrubbed, and the claims of visits before today are submitted to
a demo clearinghouse that drops files in a local folder (the `directory`
transport of `pms_clearinghouse`; without that plugin the claims stay ready).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pluggy
from sqlalchemy import Engine
from sqlmodel import select

from pms_core.clock import Clock
from pms_core.context import unit_of_work
from pms_core.errors import PmsError
from pms_core.models import Appointment, AppointmentType, Encounter
from pms_core.money import Money
from pms_core.services import charges, claims, fees, submission

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


@dataclass(frozen=True)
class BillingSummary:
    encounters: int
    claims: int
    submitted: int


def build_billing(
    engine: Engine,
    *,
    users: dict[str, int],
    payer_ids: dict[str, int],
    today: date,
    rng: random.Random,
    pm: pluggy.PluginManager,
    clock: Clock,
    clearinghouse_dir: Path | None,
) -> BillingSummary:
    def uow(role: str):
        return unit_of_work(engine, user_id=users[role], pm=pm, clock=clock)

    with uow("admin") as ctx:
        rows = [{"code": code, "amount": amount} for code, amount in DEFAULT_FEES.items()]
        for key, share in CONTRACT_SHARE.items():
            if key in payer_ids:
                rows += [
                    {
                        "code": code,
                        "amount": str(Money.parse(amount).percent(Decimal(share))),
                        "payer": str(payer_ids[key]),
                    }
                    for code, amount in DEFAULT_FEES.items()
                ]
        fees.import_fee_schedule(ctx, rows=rows)
        clearinghouse = _clearinghouse(ctx, clearinghouse_dir)

    with uow("biller") as ctx:
        seen = ctx.session.exec(
            select(Appointment.id, AppointmentType.name)
            .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
            .where(Appointment.status == "completed")
            .order_by(Appointment.starts_at)
        ).all()
    encounters = 0
    for appointment_id, type_name in seen:
        lines, diagnoses = VISITS.get(type_name, VISITS["Follow-up"])
        dx = rng.sample(diagnoses, k=min(len(diagnoses), 2))
        try:
            with uow("biller") as ctx:
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
            encounters += 1
        except PmsError:
            continue
    with uow("biller") as ctx:
        built = claims.build_claims(ctx).claims
        claims.scrub_claims(ctx, claim_ids=[c.id for c in built])
        before_today = [
            c.id
            for c, dos in ctx.session.exec(
                select(claims.Claim, Encounter.date_of_service)
                .join(Encounter, Encounter.id == claims.Claim.encounter_id)
                .where(claims.Claim.status == "ready")
            )
            if dos < today
        ]
    submitted = 0
    if clearinghouse and before_today:
        with uow("biller") as ctx:
            for result in submission.submit_claims(ctx, claim_ids=before_today):
                submitted += result.claims if result.status == "sent" else 0
    return BillingSummary(encounters, len(built), submitted)


def _clearinghouse(ctx, folder: Path | None):
    """A local folder standing in for the clearinghouse, when the directory
    transport is installed."""
    if folder is None or "directory" not in submission.transport_types(ctx):
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
