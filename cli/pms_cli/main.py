"""The `pms` command group.

Exit codes: 0 ok; 1 a business or validation error (message on stderr); 2 usage.
Commands live one module per noun and are thin: they parse options, call a
service in `pms_core.services` and print its result.
"""

from __future__ import annotations

import logging
import os
import sys

import click
import pluggy
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from pms_cli.output import FORMATS
from pms_cli.state import AppState
from pms_core.errors import PmsError
from pms_core.plugins import get_plugin_manager, load_errors


class PmsGroup(click.Group):
    """Turns business errors into exit 1 with the message, and database driver
    errors into a message without the SQL or its parameters (which may be PHI)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PmsError as exc:
            raise click.ClickException(str(exc)) from None
        except IntegrityError:
            raise click.ClickException(
                "the change conflicts with one made at the same time; nothing was saved, retry"
            ) from None
        except OperationalError:
            raise click.ClickException(
                "the database is busy or unreachable; nothing was saved, retry in a moment"
            ) from None
        except SQLAlchemyError as exc:
            raise click.ClickException(
                f"database error ({type(exc).__name__}); check the database URL and that "
                "the database is a pms database at the current schema"
            ) from None


def make_cli(pm: pluggy.PluginManager) -> click.Group:
    """A fresh `pms` group bound to `pm`: built-in commands plus every plugin's
    `register_commands`. Tests build one per plugin manager."""

    @click.group(cls=PmsGroup, name="pms")
    @click.option(
        "--db",
        "db",
        metavar="URL",
        help="Database URL (default: PMS_DATABASE_URL, "
        "else a SQLite file in the user data directory).",
    )
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format for listings.",
    )
    @click.pass_context
    def cli(ctx: click.Context, db: str | None, fmt: str) -> None:
        """pms: practice management for medical billing offices."""
        ctx.obj = AppState.create(db, fmt, pm)
        ctx.call_on_close(ctx.obj.close)

    from pms_cli import (
        admin,
        appt,
        audit_cmds,
        auth_cmds,
        charge_cmds,
        claim_cmds,
        config_cmds,
        coverage,
        demo,
        eligibility_cmds,
        era_cmds,
        export_cmds,
        import_cmds,
        patient,
        payment_cmds,
        period_cmds,
        plugins_cmd,
        practice_cmds,
        remind,
        report_cmds,
        schedule_cmds,
        tui_cmd,
        user,
        waitlist_cmds,
    )

    for module in (
        admin,
        auth_cmds,
        patient,
        coverage,
        user,
        audit_cmds,
        plugins_cmd,
        practice_cmds,
        schedule_cmds,
        appt,
        waitlist_cmds,
        remind,
        config_cmds,
        charge_cmds,
        claim_cmds,
        era_cmds,
        eligibility_cmds,
        payment_cmds,
        period_cmds,
        report_cmds,
        import_cmds,
        export_cmds,
        demo,
        tui_cmd,
    ):
        module.register(cli)
    # One plugin's failure to add its commands must not take the others down.
    for impl in pm.hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as exc:
            click.echo(
                f"warning: plugin {impl.plugin_name!r} could not add its commands: "
                f"{type(exc).__name__}",
                err=True,
            )
    return cli


def main(argv: list[str] | None = None) -> None:
    level = logging.getLevelName(os.environ.get("PMS_LOG_LEVEL", "WARNING").upper())
    logging.basicConfig(
        level=level if isinstance(level, int) else logging.WARNING, stream=sys.stderr
    )
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)  # it logs element values (PHI)
    pm = get_plugin_manager()
    for error in load_errors(pm):
        click.echo(f"warning: {error}", err=True)
    make_cli(pm).main(args=argv, prog_name="pms")
