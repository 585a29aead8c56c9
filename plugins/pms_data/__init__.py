"""Data in and out: the CSV and XLSX readers imports use, the CSV, JSON-lines
and XLSX writers exports use, and the registration of the built-in importers
and exporters (`pms_core.services.importers`, `.exporters`)."""
