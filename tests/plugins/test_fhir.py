"""FHIR bulk data (pms_fhir), on SQLite and PostgreSQL: every exported resource
validates against the fhir.resources models and says what the database says;
Patient and Coverage files import into another practice's database through the
import engine, and again into the same one without changing anything."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pms_fhir.bulk import export_bulk
from pms_fhir.resources import RESOURCE_TYPES, model
from sqlalchemy import func, select

from pms_core.errors import ValidationError
from pms_core.models import Coverage, Patient
from pms_core.services import imports
from tests.cli_helpers import run_cli
from tests.core.test_exports import books, empty_url, with_imported  # noqa: F401
from tests.helpers import PASSWORD, make_practice


def read(folder, resource_type):
    cls = model(resource_type)
    lines = (folder / f"{resource_type}.ndjson").read_text().splitlines()
    return [cls.model_validate_json(line) for line in lines]


@pytest.fixture
def bulk(uow, books, with_imported, tmp_path):  # noqa: F811
    folder = tmp_path / "bulk"
    with uow("admin") as ctx:
        counts = export_bulk(ctx, folder)
    return folder, counts


def test_every_resource_validates_and_holds_what_pms_holds(bulk, books):  # noqa: F811
    folder, counts = bulk
    assert counts == {
        "Patient": 3,
        "Coverage": 2,
        "Appointment": 1,
        "Claim": 1,
        "ExplanationOfBenefit": 1,
    }
    for resource_type in RESOURCE_TYPES:
        assert len(read(folder, resource_type)) == counts[resource_type]

    patient = next(p for p in read(folder, "Patient") if p.id == str(books.patient_id))
    assert (patient.name[0].family, patient.gender, str(patient.birthDate)) == (
        "Claimwell",
        "female",
        "1980-04-12",
    )
    assert patient.identifier[0].value == f"P{books.patient_id:07d}"
    dependent = next(
        c
        for c in read(folder, "Coverage")
        if c.beneficiary.reference.endswith(str(books.dependent_id))
    )
    assert dependent.relationship.coding[0].code == "child"
    assert dependent.contained[0].name[0].given == ["Testana"]
    (claim,) = read(folder, "Claim")
    assert claim.total.value == Decimal("125.00")
    assert [i.productOrService.coding[0].code for i in claim.item] == ["99213"]
    (eob,) = read(folder, "ExplanationOfBenefit")
    assert (eob.claim.reference, eob.payment.amount.value) == (
        f"Claim/{claim.id}",
        Decimal("92.10"),
    )
    assert [i.productOrService.coding[0].code for i in eob.item] == ["99213"]
    (appointment,) = read(folder, "Appointment")
    assert (appointment.status, appointment.minutesDuration) == ("booked", 15)


def test_patients_and_coverage_import_into_another_practice_and_again_change_nothing(
    bulk,
    empty_url,  # noqa: F811
    cli_env,
):
    from pms_core.db import make_engine
    from pms_core.migrations.runner import upgrade

    folder, _ = bulk
    engine = make_engine(empty_url)
    try:
        upgrade(engine)
        make_practice(engine)
        env = {**cli_env, "PMS_USER": "admin", "PMS_PASSWORD": PASSWORD}
        first = run_cli(["--db", empty_url, "fhir", "import", str(folder)], env=env)
        assert first.exit_code == 0, first.stdout + first.stderr
        assert "Patient.ndjson: 3 resources, 3 new" in first.stdout
        assert "Coverage.ndjson: 2 resources, 2 new" in first.stdout
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Patient)).scalar_one() == 3
            kid = conn.execute(
                select(Coverage.relationship, Coverage.subscriber_first_name).where(
                    Coverage.relationship == "child"
                )
            ).one()
        assert kid == ("child", "Testana")
        again = run_cli(["--db", empty_url, "fhir", "import", str(folder)], env=env)
        assert "3 unchanged" in again.stdout and "2 unchanged" in again.stdout
    finally:
        engine.dispose()


def test_a_line_that_is_not_a_valid_resource_is_refused_by_line(uow, practice, tmp_path):
    path = tmp_path / "Patient.ndjson"
    good = {"resourceType": "Patient", "id": "1", "gender": "female", "birthDate": "1980-01-01"}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "gender": 7}) + "\n")
    with uow("admin") as ctx, pytest.raises(ValidationError) as caught:
        imports.run_import(ctx, kind="patients", path=path)
    assert "line 2" in str(caught.value) and "gender" in str(caught.value)
