"""The pms_statements plugin: statement renderers. Each imports its library
only when a run is printed."""

from __future__ import annotations

from typing import Any

from pms_core.hookspecs import hookimpl


@hookimpl
def register_statement_renderers(register: Any) -> None:
    from pms_statements.render import CsvRenderer, PdfRenderer

    register(PdfRenderer())
    register(CsvRenderer())
