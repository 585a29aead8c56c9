"""Validate an X12 file with pyx12 and return findings that carry no PHI.

pyx12 logs and reports element values, which in claims are names, member ids and
dates of birth. We silence its logger and keep only positions, codes and
messages with quoted values redacted.
"""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SEGMENT_TEXT = re.compile(r"\bSegment (\w{2,3})\*.*? not found")
_BAD_VALUE = re.compile(r"^\([^)]*\) is not a valid code")


@dataclass(frozen=True)
class Finding:
    """One validation error: where (segment id, line, element position) and what."""

    segment: str | None
    line: int | None
    element: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.segment, self.element) if p) or "file"
        line = f"line {self.line} " if self.line else ""
        return f"{line}{where}: [{self.code}] {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    path: str
    valid: bool
    findings: list[Finding]


def redact(message: str) -> str:
    """Remove element values from a pyx12 message (quoted values, a segment's
    text, a rejected code): in a claim they may be PHI."""
    message = _SEGMENT_TEXT.sub(r"Segment \1 not found", message)
    message = _BAD_VALUE.sub("value is not a valid code", message)
    return _QUOTED.sub("'…'", message)


def _walk(node: Any, seg: str | None, line: int | None, out: list[Finding]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, seg, line, out)
        return
    if not isinstance(node, dict):
        return
    seg = node.get("seg_id", seg)
    line = node.get("cur_line", line)
    element = None
    if "ele_pos" in node:
        element = f"{node['ele_pos']:02d}"
        if node.get("subele_pos"):
            element += f"-{node['subele_pos']}"
    for err in node.get("errors", []) or []:
        if isinstance(err, dict) and "err_cde" in err:
            out.append(
                Finding(
                    seg, line, element, str(err["err_cde"]), redact(str(err.get("err_str", "")))
                )
            )
    for key, value in node.items():
        if key != "errors" and isinstance(value, list | dict):
            _walk(value, seg, line, out)


def validate_file(path: str | Path) -> ValidationReport:
    """Run pyx12 over `path`; findings are empty only when the file is valid."""
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    out = io.StringIO()
    try:
        valid = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), str(path), None, None, fd_json=out
        )
    except pyx12.errors.EngineError as exc:
        return ValidationReport(
            str(path), False, [Finding(None, None, None, "map", redact(str(exc)))]
        )
    findings: list[Finding] = []
    text = out.getvalue().strip()
    if text:
        _walk(json.loads(text), None, None, findings)
    if not valid and not findings:
        findings.append(Finding(None, None, None, "format", "not a readable X12 file"))
    return ValidationReport(str(path), bool(valid) and not findings, findings)
