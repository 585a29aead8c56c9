"""`pms eligibility check|sweep|show|parse`: ask payers whether coverage is in
force (270/271), the night-before sweep, a coverage's history, and reading a
271 file without the database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from pms_cli.output import emit
from pms_cli.state import AppState, pass_state
from pms_core.edi import X12Error
from pms_core.money import Money
from pms_core.services import eligibility

DATE = click.DateTime(["%Y-%m-%d"])


@click.group("eligibility")
def eligibility_group() -> None:
    """Insurance eligibility (270/271): check, sweep a day, history, parse a 271."""


def _money(cents: int | None) -> Money | None:
    return Money(cents) if cents is not None else None


def check_row(c) -> dict:
    return {
        "check": c.id,
        "coverage": c.coverage_id,
        "appointment": c.appointment_id,
        "date": c.service_date,
        "types": c.service_types,
        "mode": c.mode,
        "status": c.status,
        "plan": c.plan_name,
        "from": c.coverage_from,
        "to": c.coverage_to,
        "copay": _money(c.copay_cents),
        "coinsurance": f"{c.coinsurance * 100:.0f}%" if c.coinsurance is not None else None,
        "deductible": _money(c.deductible_cents),
        "deductible_left": _money(c.deductible_remaining_cents),
        "oop": _money(c.out_of_pocket_cents),
        "oop_left": _money(c.out_of_pocket_remaining_cents),
        "changed": c.changes.replace(",", " "),
        "message": c.message,
    }


@eligibility_group.command("check")
@click.option("--coverage", "coverage_id", type=int, help="Check this coverage.")
@click.option(
    "--appointment",
    "appointment_id",
    type=int,
    help="Check the coverages of this appointment's patient, for its type of visit.",
)
@click.option("--date", "service_date", type=DATE, help="Date of service (default today).")
@click.option("--service-types", default="", help="X12 service type codes, e.g. 98,30.")
@pass_state
def check(state: AppState, coverage_id, appointment_id, service_date, service_types) -> None:
    """Ask the payer now (realtime when the clearinghouse can, else a batch
    answered at the next poll). Exit 1 when a check failed or was rejected."""
    if (coverage_id is None) == (appointment_id is None):
        raise click.UsageError("give --coverage or --appointment")
    with state.uow() as ctx:
        if appointment_id is not None:
            checks = eligibility.check_appointment(ctx, appointment_id=appointment_id)
        else:
            checks = [
                eligibility.check_coverage(
                    ctx,
                    coverage_id=coverage_id,
                    service_date=service_date.date() if service_date else None,
                    service_types=eligibility.parse_service_types(service_types)
                    if service_types
                    else None,
                )
            ]
        rows = [check_row(c) for c in checks]
    emit(rows, state.fmt)
    bad = [r for r in rows if r["status"] in ("failed", "rejected")]
    if bad:
        raise click.ClickException(f"{len(bad)} of {len(rows)} checks {bad[0]['status']}")
    if not rows:
        click.echo("no coverage in force to check", err=True)


@eligibility_group.command("sweep")
@click.option("--date", "day", type=DATE, help="The day of the appointments (default tomorrow).")
@pass_state
def sweep(state: AppState, day) -> None:
    """Check every appointment's coverages on one day (cron the night before)."""
    with state.uow() as ctx:
        when = day.date() if day else ctx.today() + timedelta(days=1)
        result = eligibility.sweep(ctx, day=when)
        rows = [check_row(c) for c in result.checks]
    emit(rows, state.fmt)
    counts = ", ".join(
        f"{result.count(s)} {s}" for s in ("active", "inactive", "rejected", "failed", "pending")
    )
    click.echo(
        f"{when}: {result.appointments} appointments, {len(rows)} checks: {counts}", err=True
    )


@eligibility_group.command("show")
@click.option("--coverage", "coverage_id", type=int, help="This coverage's checks.")
@click.option("--patient", "patient_id", type=int, help="The patient's checks.")
@click.option("--benefits", "check_id", type=int, help="Every benefit of one check.")
@pass_state
def show(state: AppState, coverage_id, patient_id, check_id) -> None:
    """Checks, newest first, with what changed since the one before."""
    if sum(x is not None for x in (coverage_id, patient_id, check_id)) != 1:
        raise click.UsageError("give one of --coverage, --patient or --benefits")
    with state.uow() as ctx:
        if check_id is not None:
            rows = eligibility.benefit_rows(ctx, check_id=check_id)
        elif coverage_id is not None:
            rows = [check_row(c) for c in eligibility.history(ctx, coverage_id=coverage_id)]
        else:
            rows = [check_row(c) for c in eligibility.patient_checks(ctx, patient_id=patient_id)]
    emit(rows, state.fmt)


@eligibility_group.command("parse")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@pass_state
def parse(state: AppState, path) -> None:
    """Read a 271 file and show its answers (nothing is stored)."""
    try:
        answers = eligibility.read_answers(state.pm, Path(path).read_bytes())
    except X12Error as exc:
        raise click.ClickException(f"{Path(path).name}: {exc}") from None
    if answers is None:
        raise click.ClickException(f"{Path(path).name}: not a 271 eligibility response")
    rows = []
    for a in answers:
        rows.append(
            {
                "trace": a.trace,
                "member": a.member_id,
                "dependent": a.dependent,
                "active": a.active,
                "plan": a.plan_name,
                "from": a.coverage_from,
                "to": a.coverage_to,
                "copay": _money(a.copay_cents("98") or a.copay_cents()),
                "coinsurance": a.coinsurance(),
                "deductible": _money(a.deductible_cents()),
                "deductible_left": _money(a.deductible_cents(remaining=True)),
                "oop": _money(a.out_of_pocket_cents()),
                "oop_left": _money(a.out_of_pocket_cents(remaining=True)),
                "rejections": "; ".join(f"{r.code} {r.reason}: {r.action}" for r in a.rejections),
            }
        )
    emit(rows, state.fmt)


def register(cli: click.Group) -> None:
    cli.add_command(eligibility_group)
