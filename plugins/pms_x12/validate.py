"""Validate an X12 file and return findings that carry no PHI.

Three judges, in this order:

1. our envelope checks (`segments.X12Stream`): ISA/IEA, GS/GE and ST/SE
   nesting, counts (SE01, GE01, IEA01) and control numbers;
2. balancing, in exact cents: an 837 claim's total (CLM02) equals the sum of
   its line charges (SV102 for 837P, SV203 for 837I); an 835 balances by the
   X12 rules (SVC02 - line CAS = SVC03; CLP03 - claim and line CAS = CLP04;
   sum(CLP04) - sum(PLB) = BPR02);
3. pyx12, where it has a map for the transaction (837P, 837I, 835, 999,
   277CA, ...). 270/271 and 276/277 (X212), which pyx12 cannot map, get the
   first two only.

pyx12 logs and reports element values, which in claims are names, member ids
and dates of birth. We silence its logger and keep only positions, codes and
messages with values redacted. Our own messages never quote values.

`Finding.line` is the segment's 1-based position in the file (pyx12 counts
segments as "lines").
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pms_x12.segments import EnvelopeError, Segment, X12Stream, decode

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SEGMENT_TEXT = re.compile(r"\bSegment (\w{2,3})\W.*? not found")
_BAD_VALUE = re.compile(r"^\([^)]*\) is not a valid code")
# pyx12 messages that put the element's value in parentheses.
_VALUE_IN_PARENS = re.compile(
    r"(invalid date|invalid time|invalid character|invalid control character|trailing spaces\.|"
    r"with a value of|HL parent|must have 16 elements)\s*\([^)]*\)"
)
# Parenthesized text that is safe to keep: reference designators (NM103, HI01-02),
# segment ids, syntax rules (P0809) and pyx12's own words.
_SAFE_PARENS = re.compile(r"\(([A-Z][A-Z0-9]{1,2}(\d{2}(-\d{1,2})?)?|\d{2,4}|min_len|max_len|…)\)")
_ANY_PARENS = re.compile(r"\([^)]*\)")


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
    text, a rejected code, a value in parentheses): in a claim they may be PHI."""
    message = _SEGMENT_TEXT.sub(r"Segment \1 not found", message)
    message = _BAD_VALUE.sub("value is not a valid code", message)
    message = _QUOTED.sub("'…'", message)
    message = _VALUE_IN_PARENS.sub(lambda m: f"{m.group(1)} (…)", message)
    return _ANY_PARENS.sub(
        lambda m: m.group(0) if _SAFE_PARENS.fullmatch(m.group(0)) else "(…)", message
    )


# --- pyx12 -----------------------------------------------------------------------------
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


_map_cache_lock = threading.Lock()


def _cache_pyx12_maps() -> None:
    """Load each pyx12 map once per process instead of once per file.

    `x12n_document` parses the control map and the transaction's map (XML with
    its code lists) for every file it validates: three quarters of the time of
    validating a day's batch of claims. The loaded maps are read-only while a
    file is validated (the loop and segment counts live in the walker, not in
    the map nodes), so one copy serves every validation. Keyed by file name
    and map folder only: we always validate with pyx12's default params."""
    import pyx12.map_if

    with _map_cache_lock:
        if getattr(pyx12.map_if.load_map_file, "cached_by_pms", False):
            return
        load = pyx12.map_if.load_map_file
        maps: dict[tuple[str, str | None], Any] = {}

        def cached(map_file, param, map_path=None):
            key = (map_file, map_path)
            if key not in maps:
                maps[key] = load(map_file, param, map_path)
            return maps[key]

        cached.cached_by_pms = True
        pyx12.map_if.load_map_file = cached


def _pyx12(text: str) -> tuple[bool, list[Finding]]:
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    _cache_pyx12_maps()
    out = io.StringIO()
    try:
        valid = pyx12.x12n_document.x12n_document(
            pyx12.params.params(), io.StringIO(text), None, None, fd_json=out
        )
    except pyx12.errors.EngineError as exc:
        return False, [Finding(None, None, None, "map", redact(str(exc)))]
    except Exception as exc:  # pyx12 gave up on the file; say so without its message
        return False, [
            Finding(
                None, None, None, "pyx12", f"pyx12 could not read the file ({type(exc).__name__})"
            )
        ]
    findings: list[Finding] = []
    report = out.getvalue().strip()
    if report:
        _walk(json.loads(report), None, None, findings)
    if not valid and not findings:
        findings.append(Finding(None, None, None, "format", "not a readable X12 file"))
    return bool(valid), findings


# Transactions pyx12 has no 5010 map for: our envelope and balancing checks only.
_NO_PYX12 = {"270", "271", "276", "277"}


# --- balancing -----------------------------------------------------------------------------
def _cents(seg: Segment, index: int, out: list[Finding]) -> int | None:
    """An amount element in exact cents; a finding (no value) when it is not one."""
    text = seg.get(index).strip()
    if not text:
        return None
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value != value.to_integral_value():
        out.append(
            Finding(
                seg.id,
                seg.position,
                f"{index:02d}",
                "amount",
                f"{seg.ref(index)} is not a valid amount",
            )
        )
        return None
    return int(value)


class _Balance837:
    """CLM02 equals the sum of the claim's line charges (SV102 / SV203)."""

    def __init__(self, out: list[Finding]) -> None:
        self.out = out
        self.clm: Segment | None = None
        self.total: int | None = None
        self.lines = 0
        self.sum = 0
        self.line_ref = "SV102/SV203"

    def close(self) -> None:
        if (
            self.clm is not None
            and self.total is not None
            and self.lines
            and self.sum != self.total
        ):
            self.out.append(
                Finding(
                    "CLM",
                    self.clm.position,
                    "02",
                    "balance",
                    f"claim total (CLM02) does not equal the sum of its {self.lines} service "
                    f"line charge(s) ({self.line_ref})",
                )
            )
        self.clm = None
        self.total = None
        self.lines = 0
        self.sum = 0

    def feed(self, seg: Segment, kind: str) -> None:
        sid = seg.id
        if sid == "CLM":
            self.close()
            self.clm = seg
            self.total = _cents(seg, 2, self.out)
            self.line_ref = {"837P": "SV102", "837I": "SV203"}.get(kind, "SV102/SV203")
        elif sid in ("HL", "SE"):
            self.close()
        elif self.clm is not None and (
            (sid == "SV1" and kind != "837I") or (sid == "SV2" and kind != "837P")
        ):
            amount = _cents(seg, 2 if sid == "SV1" else 3, self.out)
            self.lines += 1
            if amount is None:
                self.total = None  # already reported; the sum means nothing now
            else:
                self.sum += amount


class _Balance835:
    """SVC02 - line CAS = SVC03; CLP03 - claim and line CAS = CLP04;
    sum(CLP04) - sum(PLB) = BPR02."""

    _CAS_AMOUNTS = (3, 6, 9, 12, 15, 18)
    _PLB_AMOUNTS = (4, 6, 8, 10, 12, 14)

    def __init__(self, out: list[Finding]) -> None:
        self.out = out
        self.reset()

    def reset(self) -> None:
        self.bpr: Segment | None = None
        self.paid: int | None = None
        self.payments = 0
        self.plb = 0
        self.broken = False  # an amount we could not read: skip the totals
        self.clp: Segment | None = None
        self.clp_charge: int | None = None
        self.clp_paid: int | None = None
        self.clp_cas = 0
        self.svc: Segment | None = None
        self.svc_charge: int | None = None
        self.svc_paid: int | None = None
        self.svc_cas = 0

    def _amount(self, seg: Segment, index: int) -> int | None:
        value = _cents(seg, index, self.out)
        if value is None and seg.get(index).strip():
            self.broken = True
        return value

    def _flag(self, seg: Segment, element: str | None, message: str) -> None:
        self.out.append(Finding(seg.id, seg.position, element, "balance", message))

    def _close_svc(self) -> None:
        svc, charge, paid = self.svc, self.svc_charge, self.svc_paid
        if svc and charge is not None and paid is not None and charge - self.svc_cas != paid:
            self._flag(
                svc,
                None,
                "service line does not balance: SVC02 minus its adjustments (CAS) does not "
                "equal SVC03",
            )
        self.svc = None
        self.svc_cas = 0

    def _close_clp(self) -> None:
        self._close_svc()
        clp, charge, paid = self.clp, self.clp_charge, self.clp_paid
        if clp and charge is not None and paid is not None and charge - self.clp_cas != paid:
            self._flag(
                clp,
                None,
                "claim does not balance: CLP03 minus the claim and service line adjustments "
                "(CAS) does not equal CLP04",
            )
        self.clp = None
        self.clp_cas = 0

    def _close_set(self) -> None:
        self._close_clp()
        bpr, paid = self.bpr, self.paid
        if bpr and paid is not None and not self.broken and self.payments - self.plb != paid:
            self._flag(
                bpr,
                "02",
                "payment does not balance: BPR02 does not equal the sum of the claim payments "
                "(CLP04) minus the provider adjustments (PLB)",
            )
        self.reset()

    def feed(self, seg: Segment) -> None:
        sid = seg.id
        if sid == "BPR":
            self.bpr = seg
            self.paid = self._amount(seg, 2)
        elif sid == "CLP":
            self._close_clp()
            self.clp = seg
            self.clp_charge = self._amount(seg, 3)
            self.clp_paid = self._amount(seg, 4)
            if self.clp_paid is not None:
                self.payments += self.clp_paid
        elif sid == "SVC":
            self._close_svc()
            if self.clp is not None:
                self.svc = seg
                self.svc_charge = self._amount(seg, 2)
                self.svc_paid = self._amount(seg, 3)
        elif sid == "CAS":
            total = sum(a for i in self._CAS_AMOUNTS if (a := self._amount(seg, i)) is not None)
            if self.svc is not None:
                self.svc_cas += total
            if self.clp is not None:
                self.clp_cas += total
        elif sid in ("LX", "PLB"):
            self._close_clp()
            if sid == "PLB":
                self.plb += sum(
                    a for i in self._PLB_AMOUNTS if (a := self._amount(seg, i)) is not None
                )
        elif sid == "SE":
            self._close_set()


def _own_checks(text: str) -> tuple[list[Finding], set[str], bool]:
    """Envelope and balancing findings, the transaction kinds seen, and whether
    the file was readable enough to hand to pyx12."""
    findings: list[Finding] = []
    kinds: set[str] = set()
    try:
        stream = X12Stream(text, strict=False)
        env = stream.envelope
        b837 = _Balance837(findings)
        b835 = _Balance835(findings)
        kind = ""
        for seg in stream:
            if seg.id == "ST":
                kind = env.kind
                kinds.add(kind)
            if kind.startswith("837"):
                b837.feed(seg, kind)
            elif kind == "835":
                b835.feed(seg)
    except EnvelopeError as exc:
        problem = exc.problem()
        return (
            [
                Finding(
                    problem.segment,
                    problem.position,
                    problem.element,
                    problem.code,
                    problem.message,
                )
            ]
            + findings,
            kinds,
            False,
        )
    envelope = [
        Finding(p.segment, p.position, p.element, p.code, p.message) for p in stream.problems
    ]
    return envelope + sorted(findings, key=lambda f: f.line or 0), kinds, True


def validate_text(text: str | bytes, path: str = "<text>") -> ValidationReport:
    """Validate X12 `text`; findings are empty only when the file is valid."""
    text = decode(text)
    findings, kinds, readable = _own_checks(text)
    if readable and not (kinds and kinds <= _NO_PYX12):
        _, pyx12_findings = _pyx12(text)
        # pyx12 repeats the envelope errors we already report at the same segment.
        ours = {f.line for f in findings if f.code in ("envelope", "syntax") and f.line}
        findings += [f for f in pyx12_findings if not (f.segment is None and f.line in ours)]
    return ValidationReport(path, not findings, findings)


def validate_file(path: str | Path) -> ValidationReport:
    """Validate the X12 file at `path` (see `validate_text`)."""
    data = Path(path).read_bytes()
    return validate_text(data, str(path))
