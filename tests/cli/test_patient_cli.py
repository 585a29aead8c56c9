"""`pms patient ...` and `pms coverage ...` as an admin's script would use them."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD

ADD = [
    "patient",
    "add",
    "--first",
    "Nora",
    "--last",
    "Castillo",
    "--dob",
    "1991-09-12",
    "--sex",
    "F",
    "--address1",
    "44 Cedar Ave",
    "--city",
    "Springfield",
    "--state",
    "IL",
    "--zip",
    "62703",
    "--mobile-phone",
    "217-555-0188",
    "--intake",
    "allergy:latex",
]


@pytest.fixture
def as_frontdesk(cli_env, practice):
    return {**cli_env, "PMS_USER": "frontdesk", "PMS_PASSWORD": PASSWORD}


def pms(db_url, env, *args):
    return run_cli(["--db", db_url, *args], env=env)


def test_add_find_show_update_round_trip(db_url, as_frontdesk, practice):
    added = pms(db_url, as_frontdesk, "--format", "json", *ADD)
    assert added.exit_code == 0, added.stderr
    pid = json.loads(added.stdout)["id"]

    found = pms(db_url, as_frontdesk, "--format", "json", "patient", "find", "castillo, no")
    assert [row["id"] for row in json.loads(found.stdout)] == [pid]

    cov = pms(
        db_url,
        as_frontdesk,
        "coverage",
        "add",
        str(pid),
        "--payer",
        str(practice.payer_ids[0]),
        "--member-id",
        "W123-456",
        "--effective",
        "2025-01-01",
        "--copay",
        "30.00",
    )
    assert cov.exit_code == 0, cov.stderr
    by_member = pms(db_url, as_frontdesk, "--format", "csv", "patient", "find", "w123")
    assert by_member.stdout.splitlines()[0].startswith("id,account_number,last_name")
    assert by_member.stdout.splitlines()[1].startswith(f"{pid},")

    shown = json.loads(
        pms(db_url, as_frontdesk, "--format", "json", "patient", "show", str(pid)).stdout
    )
    assert shown["last_name"] == "Castillo" and shown["mobile_phone"] == "2175550188"
    assert shown["coverages"][0]["member_id"] == "W123-456"
    assert shown["coverages"][0]["copay"] == "30.00"
    assert shown["intake"][0]["description"] == "latex"
    assert shown["balance"] == {"patient": "0.00", "insurance": "0.00", "total": "0.00"}

    upd = pms(db_url, as_frontdesk, "patient", "update", str(pid), "--city", "Peoria")
    assert upd.exit_code == 0, upd.stderr
    table = pms(db_url, as_frontdesk, "patient", "show", str(pid))
    assert "Peoria" in table.stdout


def test_validation_error_exits_1_naming_the_field(db_url, as_frontdesk):
    bad = [a if a != "1991-09-12" else "2091-09-12" for a in ADD]
    result = pms(db_url, as_frontdesk, *bad)
    assert result.exit_code == 1
    assert "dob: is in the future" in result.stderr
    assert "Traceback" not in result.stderr
    listed = pms(db_url, as_frontdesk, "--format", "json", "patient", "find", "castillo")
    assert json.loads(listed.stdout) == []


def test_duplicate_needs_allow_duplicate(db_url, as_frontdesk):
    assert pms(db_url, as_frontdesk, *ADD).exit_code == 0
    again = pms(db_url, as_frontdesk, *ADD)
    assert again.exit_code == 1 and "possible duplicate" in again.stderr
    assert pms(db_url, as_frontdesk, *ADD, "--allow-duplicate").exit_code == 0


def test_usage_errors_exit_2(db_url, as_frontdesk):
    assert pms(db_url, as_frontdesk, "patient", "show", "not-a-number").exit_code == 2
    assert pms(db_url, as_frontdesk, "patient", "update", "1").exit_code == 2


def test_auditor_may_not_read_patients(db_url, cli_env, practice):
    env = {**cli_env, "PMS_USER": "auditor", "PMS_PASSWORD": PASSWORD}
    result = pms(db_url, env, "patient", "find", "smith")
    assert result.exit_code == 1 and "may not" in result.stderr
