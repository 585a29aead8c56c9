"""The built-in importers (registered by the `pms_data` plugin): one module
per kind of record, each a `pms_core.imports.Importer`."""

from __future__ import annotations

from pms_core.services.importers.appointments import AppointmentImport
from pms_core.services.importers.balances import BalanceImport
from pms_core.services.importers.coverages import CoverageImport
from pms_core.services.importers.feeschedule import FeeScheduleImport
from pms_core.services.importers.patients import PatientImport
from pms_core.services.importers.practice import PayerImport, ProviderImport

BUILT_IN = (
    PatientImport(),
    CoverageImport(),
    ProviderImport(),
    PayerImport(),
    AppointmentImport(),
    FeeScheduleImport(),
    BalanceImport(),
)
