"""The pms_sandbox_payer plugin: the `sandbox` clearinghouse transport and the
sandbox payer's profile."""

from __future__ import annotations

from typing import Any

from pms_core.hookspecs import hookimpl

PAYER_IDS = frozenset({"SANDBOX1", "SANDBOX2"})


@hookimpl
def register_clearinghouses(register: Any) -> None:
    from pms_sandbox_payer.transport import SANDBOX

    register(SANDBOX)


@hookimpl
def register_payer_profiles(register: Any) -> None:
    from pms_core.scrub import PayerProfile

    register(
        PayerProfile(
            "Sandbox payer", payer_ids=PAYER_IDS, timely_filing_days=180, status_inquiry_days=21
        )
    )
