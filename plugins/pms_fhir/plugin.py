"""The pms_fhir plugin: `pms fhir export|import` and the NDJSON table reader."""

from __future__ import annotations

from pms_core.hookspecs import hookimpl


@hookimpl
def register_table_readers(register) -> None:
    from pms_fhir.bulk import NdjsonReader

    register(NdjsonReader())


@hookimpl
def register_commands(cli) -> None:
    from pms_fhir.commands import fhir_group

    cli.add_command(fhir_group)
