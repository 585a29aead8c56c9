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
