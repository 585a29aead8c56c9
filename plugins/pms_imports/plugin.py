"""The pms_imports plugin: registers the built-in importers and file readers."""

from __future__ import annotations

from pms_core.hookspecs import hookimpl


@hookimpl
def register_importers(register) -> None:
    from pms_core.services.importers import BUILT_IN

    for importer in BUILT_IN:
        register(importer)


@hookimpl
def register_table_readers(register) -> None:
    from pms_imports.readers import READERS

    for reader in READERS:
        register(reader)
