"""The built-in importers and the CSV and XLSX table readers."""
