"""Run the real `pms` command line in-process, the way a user's shell would."""

from __future__ import annotations

from dataclasses import dataclass

from click.testing import CliRunner
from pms_cli.main import make_cli

from pms_core.plugins import get_plugin_manager


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(
    args: list[str], *, env: dict[str, str] | None = None, input: str | None = None, pm=None
) -> CliResult:
    """Invoke `pms ARGS`. Pass `--db URL` in args; set PMS_TOKEN_FILE in env (the
    `cli_env` fixture does) so tests never touch the real user config."""
    runner = CliRunner()
    result = runner.invoke(
        make_cli(pm or get_plugin_manager()), args, env=env, input=input, catch_exceptions=False
    )
    return CliResult(result.exit_code, result.stdout, result.stderr)
