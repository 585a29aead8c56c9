"""The pms_data plugin: registers the built-in importers, exporters, file
readers and export writers."""

from __future__ import annotations

from pms_core.hookspecs import hookimpl


@hookimpl
def register_importers(register) -> None:
    from pms_core.services.importers import BUILT_IN

    for importer in BUILT_IN:
        register(importer)


@hookimpl
def register_table_readers(register) -> None:
    from pms_data.readers import READERS

    for reader in READERS:
        register(reader)


@hookimpl
def register_exporters(register) -> None:
    from pms_core.services.exporters import BUILT_IN

    for exporter in BUILT_IN:
        register(exporter)


@hookimpl
def register_export_writers(register) -> None:
    from pms_data.writers import WRITERS

    for writer in WRITERS:
        register(writer)
