"""Running reports: the registry, parameters checked before anything runs,
and results written to a file all at once or not at all.

Reports and writers come from plugins (`register_reports`,
`register_report_writers`; the built-in ones are in `pms_reports`). Each run
needs `reports:read` and is audited by report name and parameter names (never
their values: a patient id could be one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import FieldError, NotFound, ValidationError
from pms_core.files import OutputError, atomic_output
from pms_core.permissions import require
from pms_core.plugins import collect
from pms_core.reports import (
    P_CHOICE,
    P_CODE,
    P_DATE,
    P_INT,
    P_MONTH,
    Param,
    Report,
    ReportResult,
    ReportWriter,
)


def reports(pm) -> dict[str, Report]:
    """Registered reports by name, in name order."""
    return dict(sorted(collect(pm.hook.register_reports, "report").items()))


def writers(pm) -> dict[str, ReportWriter]:
    return collect(pm.hook.register_report_writers, "report writer")


def get_report(ctx: Context, name: str) -> Report:
    found = reports(ctx.pm).get(name)
    if found is None:
        raise NotFound(f"no report named {name!r} (pms report list shows them)")
    return found


# --- parameters ------------------------------------------------------------------
def _parse_one(ctx: Context, param: Param, text: str) -> tuple[Any, FieldError | None]:
    raw = text.strip()
    name = param.name
    if param.kind == P_DATE:
        try:
            return date.fromisoformat(raw), None
        except ValueError:
            return None, FieldError(name, "date", "must be a date as YYYY-MM-DD")
    if param.kind == P_MONTH:
        match = re.fullmatch(r"(\d{4})-(\d{2})", raw)
        if not match or not 1 <= int(match[2]) <= 12:
            return None, FieldError(name, "month", "must be a month as YYYY-MM")
        return date(int(match[1]), int(match[2]), 1), None
    if param.kind == P_CHOICE:
        if raw.lower() not in param.choices:
            return None, FieldError(name, "choice", f"must be one of {', '.join(param.choices)}")
        return raw.lower(), None
    if param.kind == P_INT:
        if not re.fullmatch(r"-?\d{1,9}", raw):
            return None, FieldError(name, "int", "must be a whole number")
        number = int(raw)
        if param.minimum is not None and number < param.minimum:
            return None, FieldError(name, "range", f"must be at least {param.minimum}")
        if param.maximum is not None and number > param.maximum:
            return None, FieldError(name, "range", f"must be at most {param.maximum}")
        return number, None
    if param.kind == P_CODE:
        if not re.fullmatch(r"[A-Za-z0-9-]{0,20}", raw):
            return None, FieldError(name, "code", "must be letters, digits and hyphens")
        return raw.upper(), None
    raise ValueError(f"report parameter {name} has an unknown kind {param.kind!r}")


def parse_params(ctx: Context, report: Report, given: Mapping[str, str]) -> dict[str, Any]:
    """The report's parameters from text, defaults filled in. Every problem is
    reported at once: an unknown name, a bad value, and a range whose start
    (`from`, `date_from`) is after its end."""
    known = {p.name: p for p in report.params}
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name in given:
        if name not in known:
            names = ", ".join(known) or "none"
            errors.append(
                FieldError(name, "unknown", f"is not a parameter of {report.name} ({names})")
            )
    for name, param in known.items():
        if name in given:
            value, error = _parse_one(ctx, param, given[name])
            if error:
                errors.append(error)
                continue
        else:
            value = param.default(ctx) if callable(param.default) else param.default
        values[name] = value
    start, end = values.get("date_from"), values.get("date_to")
    if isinstance(start, date) and isinstance(end, date) and start > end:
        errors.append(FieldError("date_from", "range", "is after date_to: the range is empty"))
    if errors:
        raise ValidationError(errors)
    return values


# --- running ---------------------------------------------------------------------
def compute(ctx: Context, name: str, params: Mapping[str, str] | None = None) -> ReportResult:
    """Report `name` with `params` given as text (see parse_params), for a
    caller that has checked `reports:read` and audits the whole of what it
    shows (the dashboard); everyone else calls run_report."""
    report = get_report(ctx, name)
    result = report.run(ctx, parse_params(ctx, report, params or {}))
    result.generated_at = ctx.clock.now()
    return result


def run_report(ctx: Context, name: str, params: Mapping[str, str] | None = None) -> ReportResult:
    """Run report `name` with `params` given as text (see parse_params)."""
    require(ctx, "reports:read", action="report.run")
    result = compute(ctx, name, params)
    audit.record(ctx, action="report.run", detail={"report": name, "params": sorted(params or {})})
    return result


def write_results(
    ctx: Context, results: Sequence[ReportResult], fmt: str, path: str | Path
) -> Path:
    """Write `results` to `path` in format `fmt`, atomically: the file appears
    whole (written beside it under a temporary name, then renamed) or not at
    all, and an existing file there is replaced only by a complete one."""
    writer = writers(ctx.pm).get(fmt)
    if writer is None:
        raise ValidationError(
            [FieldError("format", "choice", f"must be one of {', '.join(sorted(writers(ctx.pm)))}")]
        )
    with atomic_output(path, binary=writer.binary) as out:
        writer.write(results, out)
    audit.record(
        ctx,
        action="report.export",
        detail={"reports": [r.name for r in results], "format": fmt},
    )
    return Path(path)


__all__ = [
    "OutputError",
    "compute",
    "get_report",
    "parse_params",
    "reports",
    "run_report",
    "write_results",
    "writers",
]
