"""pms_reports: the built-in practice reports (A/R aging, days in A/R,
collections, month-end, denials, first-pass acceptance, payer performance,
patient balances, appointments, reminder effect; docs/reports.md) and the
csv, json and xlsx report writers."""
