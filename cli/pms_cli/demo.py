"""`pms demo`: build the demo practice, then open the TUI as the demo biller."""

from __future__ import annotations

import sys

import click

from pms_cli.state import AppState, pass_state
from pms_core.services import auth
from pms_core.services.demo import (
    DEFAULT_DAYS,
    DEFAULT_PATIENTS,
    DEMO_USERS,
    MAX_DAYS,
    DemoSummary,
    build_demo,
)
from pms_core.services.users import DEMO_PASSWORD


def _report(summary: DemoSummary) -> None:
    verb = "Replaced the demo database" if summary.replaced else "Built the demo database"
    lines = [
        f"{verb} at {summary.database} (seed {summary.seed}, {summary.seconds:.1f} s):",
        f"  practice   {summary.practice_name}",
        f"  locations  {summary.locations}, providers {summary.providers}, payers {summary.payers}",
        f"  patients   {summary.patients} ({summary.dependents} covered as a spouse or child)",
        f"  coverages  {summary.coverages} ({summary.with_secondary} secondary)",
        f"  intake     {summary.intake_items} items",
        f"  ledger     {summary.opening_balances} opening balances",
        f"  schedule   {summary.appointments} appointments",
        f"  reminders  {summary.reminders_sent} sent to the outbox {summary.outbox} "
        f"(nothing leaves this machine), {summary.reminder_replies} replies",
        f"  billing    {summary.encounters} encounters charged, {summary.claims} claims, "
        f"{summary.claims_submitted} submitted",
    ]
    b = summary.billing
    if b is not None and (b.eligibility_checks or b.remittances or b.responses):
        lines += [
            f"  {summary.days} days of practice life with the sandbox payer:",
            f"             {b.eligibility_checks} eligibility checks, {b.responses} "
            f"acknowledgments, {b.remittances} remittances posted, {b.secondary_claims} "
            "secondary claims",
            f"             {b.patient_payments} patient payments, {b.statements} statements, "
            f"{b.status_questions} claim status questions",
        ]
    lines.append(f"  users      {', '.join(DEMO_USERS)} (password: {DEMO_PASSWORD})")
    click.echo("\n".join(lines), err=True)


def register(cli: click.Group) -> None:
    """Add `pms demo` to the `pms` group."""

    @cli.command("demo")
    @click.option(
        "--seed", type=int, default=1, show_default=True, help="Same seed, same practice."
    )
    @click.option(
        "--patients",
        type=click.IntRange(min=0),
        default=DEFAULT_PATIENTS,
        show_default=True,
        help="How many synthetic patients to register.",
    )
    @click.option(
        "--days",
        type=click.IntRange(min=0, max=MAX_DAYS),
        default=DEFAULT_DAYS,
        show_default=True,
        help="Days of practice life to simulate before today (the last 3 always are).",
    )
    @click.option("--force", is_flag=True, help="Replace an existing demo database.")
    @click.option("--no-tui", is_flag=True, help="Only build; do not open the TUI.")
    @pass_state
    def demo(
        state: AppState, seed: int, patients: int, days: int, force: bool, no_tui: bool
    ) -> None:
        """Build a demo practice with synthetic patients into the database.

        The database (--db, PMS_DATABASE_URL or the default file) must be empty or
        already a demo (replaced with --force); any other database is left alone.
        The demo users admin, biller, frontdesk, manager and auditor all have the
        password "demo". Then the TUI opens, logged in as biller.
        """
        engine = state.engine(check=False)

        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty() and total >= 2000:
                click.echo(f"\r  registered {done}/{total} patients", err=True, nl=done == total)

        summary = build_demo(
            engine,
            seed=seed,
            patients=patients,
            days=days,
            force=force,
            pm=state.pm,
            progress=progress,
        )
        _report(summary)
        if no_tui:
            return
        try:
            from pms_tui import run_tui
        except ImportError as exc:
            raise click.ClickException(
                f"the demo is built, but the TUI could not be started ({exc}); "
                "run 'pms tui' to open it"
            ) from None
        # A real session for the demo biller, so it expires like any shift.
        session = auth.login(engine, username="biller", password=DEMO_PASSWORD)
        run_tui(engine, state.pm, user_id=session.user_id, token=session.token)
