"""Setting up what a new practice bills with, from the command line."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD


@pytest.fixture
def env(cli_env, practice):
    return {**cli_env, "PMS_USER": "admin", "PMS_PASSWORD": PASSWORD}


def pms(db_url, env, *args):
    return run_cli(["--db", db_url, *args], env=env)


def test_admin_adds_a_payer_provider_and_location_and_front_desk_can_use_them(
    db_url, env, practice
):
    payer = pms(
        db_url,
        env,
        "--format",
        "json",
        "payer",
        "add",
        "Riverbend Health",
        "--edi-id",
        "RVB01",
        "--filing",
        "HM",
    )
    assert payer.exit_code == 0, payer.stderr
    payer_id = json.loads(payer.stdout)["id"]
    assert (
        pms(
            db_url,
            env,
            "provider",
            "add",
            "--first",
            "Lena",
            "--last",
            "Moss",
            "--npi",
            "9876543213",
            "--taxonomy",
            "207R00000X",
            "--credential",
            "MD",
        ).exit_code
        == 0
    )
    assert (
        pms(
            db_url,
            env,
            "location",
            "add",
            "North Clinic",
            "--address1",
            "9 Hill Rd",
            "--city",
            "Peoria",
            "--state",
            "IL",
            "--zip",
            "61602",
            "--pos",
            "22",
        ).exit_code
        == 0
    )

    desk = {**env, "PMS_USER": "frontdesk"}
    payers = json.loads(pms(db_url, desk, "--format", "json", "payer", "list").stdout)
    assert {
        "id": payer_id,
        "name": "Riverbend Health",
        "edi_payer_id": "RVB01",
        "claim_filing_indicator": "HM",
    } in payers
    providers = json.loads(pms(db_url, desk, "--format", "json", "provider", "list").stdout)
    assert [p["last_name"] for p in providers] == ["Moss", "Rivera"]
    locations = json.loads(pms(db_url, desk, "--format", "json", "location", "list").stdout)
    assert {(loc["name"], loc["default_pos"]) for loc in locations} == {
        ("Main Clinic", "11"),
        ("North Clinic", "22"),
    }


def test_bad_identifiers_are_named_and_nothing_is_saved(db_url, env):
    bad = pms(
        db_url,
        env,
        "provider",
        "add",
        "--first",
        "Lena",
        "--last",
        "Moss",
        "--npi",
        "9876543210",
        "--taxonomy",
        "207R",
    )
    assert bad.exit_code == 1
    assert "npi: fails the NPI check digit" in bad.stderr and "taxonomy:" in bad.stderr
    listed = json.loads(pms(db_url, env, "--format", "json", "provider", "list").stdout)
    assert [p["last_name"] for p in listed] == ["Rivera"]
    pos = pms(
        db_url,
        env,
        "location",
        "add",
        "X",
        "--address1",
        "1 A",
        "--city",
        "B",
        "--state",
        "IL",
        "--zip",
        "61602",
        "--pos",
        "1",
    )
    assert pos.exit_code == 1 and "default_pos" in pos.stderr


def test_only_an_admin_changes_the_practice_set_up(db_url, env):
    result = pms(db_url, {**env, "PMS_USER": "biller"}, "payer", "add", "X", "--edi-id", "X1")
    assert result.exit_code == 1 and "may not" in result.stderr
