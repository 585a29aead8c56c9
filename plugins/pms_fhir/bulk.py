"""FHIR bulk files (NDJSON, one resource per line): writing them, and reading
Patient and Coverage files as tables for the import engine.

Export: `export_bulk(ctx, folder)` writes `<Type>.ndjson` for each resource
type, every resource validated by its fhir.resources model before it is
written, each file whole or not at all; audited with the counts (`data:export`).

Import: a Patient or Coverage NDJSON file is a table whose columns are the
patients and coverages importers' own (account_number, first_name, ... /
payer, member_id, ...), one row per line; `pms import patients
Patient.ndjson` then checks and applies it as it would a spreadsheet, with the
same keys, reports and all-or-nothing rule. A Coverage's beneficiary
(`Patient/<id>`) is resolved to an account number through the Patient file
beside it. A line that is not a valid resource is refused with its line number
and pydantic's location of the problem, never the value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pms_core import audit
from pms_core.context import Context
from pms_core.errors import FieldError, ValidationError
from pms_core.files import atomic_output
from pms_core.imports import Table
from pms_core.permissions import require
from pms_fhir.resources import (
    ACCOUNT_SYSTEM,
    BUILDERS,
    PAYER_SYSTEM,
    RESOURCE_TYPES,
    model,
)

_SEX = {"female": "F", "male": "M", "unknown": "U", "other": "U"}


def export_bulk(ctx: Context, folder: str | Path) -> dict[str, int]:
    """Write every resource type's NDJSON file into `folder`; the counts by type."""
    require(ctx, "data:export", action="export.fhir")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for resource_type in RESOURCE_TYPES:
        cls = model(resource_type)
        count = 0
        with atomic_output(folder / f"{resource_type}.ndjson", binary=False) as out:
            for data in BUILDERS[resource_type](ctx):
                out.write(cls.model_validate(data).model_dump_json(exclude_none=True) + "\n")
                count += 1
        counts[resource_type] = count
    audit.record(ctx, action="export.fhir", detail={k.lower(): v for k, v in counts.items()})
    return counts


# --- reading -----------------------------------------------------------------------------
PATIENT_COLUMNS = [
    "account_number", "first_name", "middle_name", "last_name", "suffix", "dob", "sex",
    "address1", "address2", "city", "state", "zip", "home_phone", "mobile_phone", "email",
    "deceased_date",
]  # fmt: skip
COVERAGE_COLUMNS = [
    "account_number", "payer", "member_id", "priority", "group_number", "plan_name",
    "relationship", "subscriber_first_name", "subscriber_last_name", "subscriber_dob",
    "subscriber_sex", "effective_date", "termination_date", "copay",
]  # fmt: skip


def _refuse(line: int, problem: str) -> ValidationError:
    return ValidationError([FieldError("file", "fhir", f"line {line}: {problem}")])


def _resources(path: Path, resource_type: str) -> Iterator[tuple[int, Any]]:
    """(line number, validated model) for each line; refuses the file at the
    first line that is not a valid resource of `resource_type`."""
    from pydantic import ValidationError as ModelError

    cls = model(resource_type)
    with path.open(encoding="utf-8-sig") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                raise _refuse(number, "is not JSON") from None
            if data.get("resourceType") != resource_type:
                raise _refuse(number, f"is not a {resource_type} resource")
            try:
                yield number, cls.model_validate(data)
            except ModelError as exc:
                where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "resource"
                raise _refuse(number, f"is not a valid {resource_type} (at {where})") from None


def _account(resource) -> str | None:
    for identifier in resource.identifier or []:
        if identifier.system == ACCOUNT_SYSTEM:
            return identifier.value
    for identifier in resource.identifier or []:
        codes = [c.code for c in (identifier.type.coding or [])] if identifier.type else []
        if "MR" in codes:
            return identifier.value
    return None


def _patient_row(p) -> list[Any]:
    name = (p.name or [None])[0]
    given = list(name.given or []) if name else []
    address = (p.address or [None])[0]
    lines = list(address.line or []) if address else []
    phones = {t.use: t.value for t in p.telecom or [] if t.system == "phone"}
    email = next((t.value for t in p.telecom or [] if t.system == "email"), None)
    return [
        _account(p),
        given[0] if given else None,
        given[1] if len(given) > 1 else None,
        name.family if name else None,
        (name.suffix or [None])[0] if name else None,
        p.birthDate,
        _SEX.get(p.gender or ""),
        lines[0] if lines else None,
        lines[1] if len(lines) > 1 else None,
        address.city if address else None,
        address.state if address else None,
        address.postalCode if address else None,
        phones.get("home"),
        phones.get("mobile"),
        email,
        str(p.deceasedDateTime)[:10] if p.deceasedDateTime else None,
    ]


def _coverage_row(c, accounts: dict[str, str]) -> list[Any]:
    beneficiary = (c.beneficiary.reference or "") if c.beneficiary else ""
    payor = (c.payor or [None])[0]
    payer = None
    if payor is not None:
        if payor.identifier is not None and payor.identifier.system == PAYER_SYSTEM:
            payer = payor.identifier.value
        else:
            payer = payor.display
    classes = {
        (k.type.coding or [None])[0].code if k.type and k.type.coding else None: k
        for k in c.class_fhir or []
    } if hasattr(c, "class_fhir") else {}  # fmt: skip
    relationship = (
        c.relationship.coding[0].code if c.relationship and c.relationship.coding else None
    )
    subscriber = next(iter(c.contained or []), None)
    sub_name = (subscriber.name or [None])[0] if subscriber is not None else None
    copay = next(
        (x.valueMoney.value for x in c.costToBeneficiary or [] if x.valueMoney is not None), None
    )
    return [
        accounts.get(beneficiary.removeprefix("Patient/")),
        payer,
        c.subscriberId,
        c.order,
        classes["group"].value if "group" in classes else None,
        (classes["plan"].name or classes["plan"].value) if "plan" in classes else None,
        relationship,
        (sub_name.given or [None])[0] if sub_name else None,
        sub_name.family if sub_name else None,
        subscriber.birthDate if subscriber is not None else None,
        _SEX.get(subscriber.gender or "") if subscriber is not None else None,
        c.period.start if c.period else None,
        c.period.end if c.period else None,
        str(copay) if copay is not None else None,
    ]


class NdjsonReader:
    """Patient.ndjson and Coverage.ndjson (FHIR bulk data) as import tables."""

    name = "fhir_ndjson"
    suffixes = (".ndjson",)

    def open(self, path: Path) -> Table:
        first = ""
        with path.open(encoding="utf-8-sig") as fh:
            for line in fh:
                if line.strip():
                    first = line
                    break
        try:
            resource_type = json.loads(first).get("resourceType") if first else None
        except json.JSONDecodeError:
            raise _refuse(1, "is not JSON") from None
        if resource_type == "Patient":
            rows = ((n, _patient_row(p)) for n, p in _resources(path, "Patient"))
            return Table(header=list(PATIENT_COLUMNS), rows=rows)
        if resource_type == "Coverage":
            accounts = self._accounts(path.with_name("Patient.ndjson"))
            rows = ((n, _coverage_row(c, accounts)) for n, c in _resources(path, "Coverage"))
            return Table(header=list(COVERAGE_COLUMNS), rows=rows)
        raise ValidationError(
            [FieldError("file", "fhir", "holds neither Patient nor Coverage resources")]
        )

    @staticmethod
    def _accounts(patients: Path) -> dict[str, str]:
        """FHIR Patient id -> account number, from the Patient file beside."""
        if not patients.exists():
            return {}
        return {p.id: _account(p) for _, p in _resources(patients, "Patient") if p.id}
