"""The pms_x12 plugin: the 837P/837I writers, the reader of TA1, 999 and 277CA
acknowledgments, the 835 remittance reader, the 270/276 writers and the
271/277 readers, and `pms x12 validate|show`. Each hook imports what it
needs when it is called, so loading the plugin (every start of pms) costs
nothing."""

from __future__ import annotations

from typing import Any

from pms_core.hookspecs import hookimpl


@hookimpl
def register_commands(cli: Any) -> None:
    from pms_x12.commands import x12_group

    cli.add_command(x12_group)


@hookimpl
def register_response_readers(register: Any) -> None:
    from pms_x12.acks import AckReader

    register(AckReader())


@hookimpl
def register_remit_readers(register: Any) -> None:
    from pms_x12.remit835 import RemitReader835

    register(RemitReader835())


@hookimpl
def register_eligibility_formats(register: Any) -> None:
    from pms_x12.formats import X12Eligibility

    register(X12Eligibility())


@hookimpl
def register_status_formats(register: Any) -> None:
    from pms_x12.formats import X12ClaimStatus

    register(X12ClaimStatus())


@hookimpl
def register_claim_writers(register: Any) -> None:
    from pms_x12.claims837 import INSTITUTIONAL, PROFESSIONAL

    register(PROFESSIONAL)
    register(INSTITUTIONAL)
