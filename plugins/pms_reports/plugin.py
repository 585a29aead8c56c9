"""The pms_reports plugin: registers the built-in reports and writers."""

from __future__ import annotations

from pms_core.hookspecs import hookimpl


@hookimpl
def register_reports(register) -> None:
    from pms_reports.claims import CLAIM_REPORTS
    from pms_reports.finance import FINANCE_REPORTS
    from pms_reports.schedule import SCHEDULE_REPORTS

    for report in (*FINANCE_REPORTS, *CLAIM_REPORTS, *SCHEDULE_REPORTS):
        register(report)


@hookimpl
def register_report_writers(register) -> None:
    from pms_reports.writers import WRITERS

    for writer in WRITERS:
        register(writer)
