"""Adding and listing insurance coverage."""

from __future__ import annotations

import pytest

from pms_core.errors import ValidationError
from pms_core.services import coverages, patients


@pytest.fixture
def patient_id(uow):
    with uow("frontdesk") as ctx:
        return patients.register_patient(
            ctx,
            first_name="Leo",
            last_name="Park",
            dob="2015-02-10",
            sex="M",
            address1="9 Pine Rd",
            city="Springfield",
            state="IL",
            zip="62702",
            home_phone="2175550170",
            preferred_contact="phone",
        ).id


def test_primary_and_secondary_listed_in_priority_order(uow, practice, patient_id):
    acme, lakeside = practice.payer_ids
    with uow("frontdesk") as ctx:
        coverages.add_coverage(
            ctx,
            patient_id=patient_id,
            payer_id=lakeside,
            priority="secondary",
            member_id="LK998877",
            effective_date="2025-01-01",
            relationship="child",
            subscriber_first_name="Ana",
            subscriber_last_name="Park",
            subscriber_dob="1986-04-04",
            subscriber_sex="F",
        )
        coverages.add_coverage(
            ctx,
            patient_id=patient_id,
            payer_id=acme,
            member_id="AC-1",
            effective_date="2025-01-01",
            copay="25.00",
            group_number="G77",
        )
    with uow("frontdesk") as ctx:
        rows = [
            coverages.coverage_row(v) for v in coverages.list_coverages(ctx, patient_id=patient_id)
        ]
    assert [(r["priority"], r["payer"]) for r in rows] == [
        ("primary", "Acme Health Plan"),
        ("secondary", "Lakeside Mutual"),
    ]
    assert str(rows[0]["copay"]) == "25.00"


def test_second_primary_with_overlapping_dates_is_refused(uow, practice, patient_id):
    acme, lakeside = practice.payer_ids
    with uow("frontdesk") as ctx:
        coverages.add_coverage(
            ctx,
            patient_id=patient_id,
            payer_id=acme,
            member_id="AC-1",
            effective_date="2025-01-01",
            termination_date="2025-06-30",
        )
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        coverages.add_coverage(
            ctx,
            patient_id=patient_id,
            payer_id=lakeside,
            member_id="LK-1",
            effective_date="2025-06-01",
        )
    assert err.value.fields == {"priority"}
    with uow("frontdesk") as ctx:  # starting after the old one ended is fine
        coverages.add_coverage(
            ctx,
            patient_id=patient_id,
            payer_id=lakeside,
            member_id="LK-1",
            effective_date="2025-07-01",
        )


def test_bad_coverage_input_names_each_field(uow, practice, patient_id):
    with pytest.raises(ValidationError) as err, uow("frontdesk") as ctx:
        coverages.add_coverage(
            ctx,
            patient_id=patient_id,
            payer_id=9999,
            member_id=" ",
            effective_date="2025-05-01",
            termination_date="2025-01-01",
            relationship="spouse",
            copay="12.345",
        )
    assert err.value.fields == {
        "payer_id",
        "member_id",
        "termination_date",
        "subscriber_first_name",
        "subscriber_last_name",
        "subscriber_dob",
        "subscriber_sex",
        "copay",
    }
