"""Field checks shared by every form and importer, and the practice set-up that
uses them."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from pms_core import validation as v
from pms_core.errors import ValidationError
from pms_core.models import Practice, Provider
from pms_core.services.practice import create_practice, insert_provider
from tests.helpers import PRACTICE_FIELDS

# NPIs with correct check digits (CMS's published example among them; synthetic otherwise).
VALID_NPIS = ["1234567893", "1245319599", "9876543213"]


@pytest.mark.parametrize("npi", VALID_NPIS)
def test_valid_npis_pass_the_check_digit(npi):
    assert v.npi_valid(npi)
    assert v.npi_check_digit(npi[:9]) == npi[9]


@pytest.mark.parametrize(
    "npi", ["1234567890", "1245319598", "123456789", "12345678931", "12345X7893"]
)
def test_bad_npis_are_refused(npi):
    assert not v.npi_valid(npi)


@pytest.mark.parametrize(
    "value,ok",
    [
        ("(217) 555-0142", True),
        ("217.555.0142", True),
        ("+1 217 555 0142", True),
        ("555-0142", False),
        ("(017) 555-0142", False),
        ("217-155-0142", False),
        ("217-555-01x2", False),
    ],
)
def test_phone_rules(value, ok):
    assert (v.phone_error("phone", value) is None) == ok


def test_folding_makes_names_searchable_the_same_way_they_are_typed():
    assert v.fold("O'Brien-Núñez") == "obriennunez"
    assert v.fold_member_id("zqx-88 1234") == "ZQX881234"


def test_practice_with_bad_identifiers_names_each_field_and_saves_nothing(engine):
    bad = {
        **PRACTICE_FIELDS,
        "group_npi": "1234567890",
        "tin": "12-34567",
        "taxonomy": "207Q",
        "state": "ZZ",
        "zip": "123",
        "time_zone": "Mars/Olympus",
    }
    with Session(engine) as s, pytest.raises(ValidationError) as err:
        create_practice(s, **bad)
    assert {(e.field, e.code) for e in err.value.errors} == {
        ("group_npi", "npi_check_digit"),
        ("tin", "tin_format"),
        ("taxonomy", "taxonomy_format"),
        ("state", "state"),
        ("zip", "zip"),
        ("time_zone", "time_zone"),
    }
    assert "fails the NPI check digit" in str(err.value)
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Practice)).one() == 0


def test_provider_npi_failing_its_check_digit_is_refused(engine, practice):
    with Session(engine) as s, pytest.raises(ValidationError) as err:
        insert_provider(
            s,
            practice.id,
            npi="1245319598",
            taxonomy="207Q00000X",
            first_name="Sam",
            last_name="Ortiz",
        )
    assert err.value.fields == {"npi"}
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Provider)).one() == 1  # the fixture's
