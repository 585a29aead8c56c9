"""`pms init` (a new database with its practice and first admin) and `pms db upgrade`."""

from __future__ import annotations

import sys

import click

from pms_cli.output import info
from pms_cli.state import AppState, pass_state
from pms_cli.user import read_password_stdin
from pms_core.services import admin

# (option name, keyword for init_database, prompt label); all required.
PRACTICE_OPTIONS = (
    ("practice_name", "name", "Practice name"),
    ("npi", "group_npi", "Group NPI"),
    ("tin", "tin", "Tax id (EIN, 9 digits)"),
    ("taxonomy", "taxonomy", "Taxonomy code"),
    ("address", "address1", "Street address"),
    ("city", "city", "City"),
    ("state_code", "state", "State (2 letters)"),
    ("zip_code", "zip", "ZIP code"),
)


def _interactive() -> bool:
    return sys.stdin.isatty()


@click.command("init")
@click.option("--practice-name", help="The practice's name as billed.")
@click.option("--npi", help="Group (billing) NPI, 10 digits.")
@click.option("--tin", help="Tax id (EIN), 9 digits.")
@click.option("--taxonomy", help="Billing taxonomy code, e.g. 207Q00000X.")
@click.option("--address", help="Street address (line 1).")
@click.option("--address2", help="Street address line 2.")
@click.option("--city", help="City.")
@click.option("--state", "state_code", help="State, 2 letters.")
@click.option("--zip", "zip_code", help="ZIP or ZIP+4.")
@click.option("--phone", help="Practice phone.")
@click.option("--time-zone", default="America/New_York", show_default=True, help="IANA time zone.")
@click.option("--admin-username", default="admin", show_default=True)
@click.option("--admin-name", default="Administrator", show_default=True, help="Full name.")
@click.option(
    "--admin-password-stdin",
    is_flag=True,
    help="Read the admin password from the first line of stdin instead of prompting.",
)
@pass_state
def init_cmd(state: AppState, **opts) -> None:
    """Create a new pms database with its practice and first admin user.

    SQLite (the default) creates the file; PostgreSQL needs an existing, empty
    database. Missing practice details are asked for when run in a terminal.
    """
    fields = {}
    for option, keyword, label in PRACTICE_OPTIONS:
        value = opts[option]
        if not value:
            if not _interactive():
                flag = "--" + option.removesuffix("_code").replace("_", "-")
                raise click.UsageError(f"missing option {flag} ({label})")
            value = click.prompt(label)
        fields[keyword] = value
    if opts["admin_password_stdin"]:
        password = read_password_stdin()
    else:
        password = click.prompt(
            f"Password for {opts['admin_username']}", hide_input=True, confirmation_prompt=True
        )
    result = admin.init_database(
        state.url,
        **fields,
        address2=opts["address2"],
        phone=opts["phone"],
        time_zone=opts["time_zone"],
        admin_username=opts["admin_username"],
        admin_full_name=opts["admin_name"],
        admin_password=password,
    )
    click.echo(f"Created pms database {result.url} (schema {result.revision}).")
    click.echo(f"Admin user: {result.admin_username}")
    info(f"next: pms --db '{result.url}' login --username {result.admin_username}")


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
@pass_state
def upgrade_cmd(state: AppState) -> None:
    """Apply pending schema migrations (safe to run again)."""
    result = admin.upgrade_database(state.url)
    if result.changed:
        click.echo(f"Upgraded {result.url} from {result.before} to {result.after}.")
    else:
        click.echo(f"{result.url} is up to date (schema {result.after}).")


def register(cli: click.Group) -> None:
    """Add this module's commands to the `pms` group."""
    cli.add_command(init_cmd)
    cli.add_command(db_group)
