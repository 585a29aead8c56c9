"""The biller's command line, end to end: fee schedule, encounter, charges,
claims, submission to a directory clearinghouse, acknowledgments, corrections."""

from __future__ import annotations

import json

import pytest
from openpyxl import Workbook
from pms_x12.validate import validate_file

from tests.billing_helpers import setup_billing
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD
from tests.x12_responses import ClaimVerdict, ack_277ca, ack_999

DOS = "2026-11-20"


def pms(db_url, cli_env, *args, role="biller"):
    env = {**cli_env, "PMS_USER": role, "PMS_PASSWORD": PASSWORD}
    return run_cli(["--db", db_url, *args], env=env)


def js(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def billing(uow, practice):
    return setup_billing(uow, practice)


@pytest.fixture
def folders(tmp_path):
    out = {name: tmp_path / name for name in ("outbox", "inbox")}
    for folder in out.values():
        folder.mkdir()
    return out


def add_clearinghouse(db_url, cli_env, folders):
    return pms(
        db_url,
        cli_env,
        "clearinghouse",
        "add",
        "Test Exchange",
        "--transport",
        "directory",
        "--set",
        f"outbox={folders['outbox']}",
        "--set",
        f"inbox={folders['inbox']}",
        "--sender-id",
        "PRACTICE01",
        "--receiver-id",
        "CLEARHOUSE",
        "--receiver-name",
        "Test Exchange",
        "--contact",
        "Billing Office",
        "--phone",
        "2175550100",
        "--default",
        role="admin",
    )


def test_a_fee_schedule_spreadsheet_is_imported_and_bad_rows_are_named(
    db_url, cli_env, practice, tmp_path
):
    book = Workbook()
    sheet = book.active
    sheet.append(["Code", "Modifier", "Amount", "Payer"])
    sheet.append(["99213", None, 125.5, None])
    sheet.append(["99213", None, 88, "ACME1"])
    path = tmp_path / "fees.xlsx"
    book.save(path)
    assert (
        js(pms(db_url, cli_env, "--format", "json", "feeschedule", "import", str(path)))["added"]
        == 2
    )
    listed = js(pms(db_url, cli_env, "--format", "json", "feeschedule", "list"))
    assert {(r["schedule"], r["amount"]) for r in listed} == {
        ("Practice default", "125.50"),
        ("Acme Health Plan contract", "88.00"),
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("code;amount\n99214;180.00\nABCDE;12\n99215;twelve\n", encoding="utf-8-sig")
    result = pms(db_url, cli_env, "feeschedule", "import", str(bad))
    assert result.exit_code == 1
    assert "row 3: code" in result.stderr and "row 4: amount" in result.stderr
    assert len(js(pms(db_url, cli_env, "--format", "json", "feeschedule", "list"))) == 2


def test_diagnoses_are_found_by_words_and_codes_by_prefix(db_url, cli_env, practice, billing):
    found = js(
        pms(
            db_url,
            cli_env,
            "--format",
            "json",
            "codes",
            "search",
            "icd10",
            "type",
            "2",
            "diabetes",
            "without",
        )
    )
    assert {
        "code": "E11.9",
        "description": "Type 2 diabetes mellitus without complications",
    } in found
    cpt = js(pms(db_url, cli_env, "--format", "json", "codes", "search", "cpt", "9921"))
    assert [r["code"] for r in cpt] == ["99213", "99214"]


def test_from_charge_entry_to_an_acknowledged_claim(db_url, cli_env, practice, billing, folders):
    assert add_clearinghouse(db_url, cli_env, folders).exit_code == 0
    enc = js(
        pms(
            db_url,
            cli_env,
            "--format",
            "json",
            "encounter",
            "add",
            "--patient",
            str(billing.patient_id),
            "--provider",
            str(practice.provider_id),
            "--location",
            str(practice.location_id),
            "--date",
            DOS,
            "-d",
            "E11.9,I10",
        )
    )["id"]
    refused = pms(db_url, cli_env, "charge", "add", str(enc), "99213", "-p", "3")
    assert refused.exit_code == 1 and "pointer 1" in refused.stderr
    line = js(
        pms(
            db_url,
            cli_env,
            "--format",
            "json",
            "charge",
            "add",
            str(enc),
            "99214",
            "-m",
            "25",
            "-p",
            "1,2",
        )
    )
    assert (line["amount"], line["expected"], line["pointers"]) == ("185.00", None, "1,2")
    js(pms(db_url, cli_env, "--format", "json", "charge", "add", str(enc), "36415", "-p", "1"))
    posted = js(pms(db_url, cli_env, "--format", "json", "charge", "post", str(enc)))
    assert [c["status"] for c in posted] == ["posted", "posted"]

    (claim,) = js(pms(db_url, cli_env, "--format", "json", "claim", "build"))
    assert (claim["status"], claim["total"], claim["errors"]) == ("ready", "200.00", 0)
    number = claim["claim_number"]

    sent = js(pms(db_url, cli_env, "--format", "json", "claim", "submit", "--ready"))
    assert [b["status"] for b in sent] == ["sent"]
    (file,) = folders["outbox"].iterdir()
    assert validate_file(file).valid
    x12 = pms(db_url, cli_env, "claim", "x12", number)
    assert x12.exit_code == 0 and f"CLM*{number}*200*" in x12.stdout

    (folders["inbox"] / "a.999").write_bytes(ack_999(1, {"0001": "A"}))
    (folders["inbox"] / "b.277").write_bytes(
        ack_277ca([ClaimVerdict(number, True, "200", payer_claim_number="PCN55")])
    )
    polled = js(pms(db_url, cli_env, "--format", "json", "clearinghouse", "poll"))
    assert [(f["kind"], f["status"]) for f in polled] == [
        ("999", "processed"),
        ("277CA", "processed"),
    ]
    shown = js(pms(db_url, cli_env, "--format", "json", "claim", "show", number))
    assert (shown["status"], shown["payer_claim_number"]) == ("acknowledged", "PCN55")
    assert [h["to"] for h in shown["history"]] == [
        "draft",
        "ready",
        "submitted",
        "accepted",
        "acknowledged",
    ]

    corrected = js(
        pms(
            db_url,
            cli_env,
            "--format",
            "json",
            "claim",
            "correct",
            number,
            "--reason",
            "add modifier",
        )
    )
    assert [c["frequency"] for c in corrected] == ["7"]
    assert (
        js(pms(db_url, cli_env, "--format", "json", "claim", "show", number))["status"]
        == "replaced"
    )


def test_a_rejection_and_an_unknown_acknowledgment_show_on_their_lists(
    db_url, cli_env, practice, billing, folders, tmp_path
):
    add_clearinghouse(db_url, cli_env, folders)
    enc = js(
        pms(
            db_url, cli_env, "--format", "json", "encounter", "add",
            "--patient", str(billing.patient_id), "--provider", str(practice.provider_id),
            "--location", str(practice.location_id), "--date", DOS, "-d", "I10",
        )
    )["id"]  # fmt: skip
    pms(db_url, cli_env, "charge", "add", str(enc), "99213")
    pms(db_url, cli_env, "charge", "post", str(enc))
    (claim,) = js(pms(db_url, cli_env, "--format", "json", "claim", "build"))
    js(pms(db_url, cli_env, "--format", "json", "claim", "submit", claim["claim_number"]))
    response = tmp_path / "r.277"
    response.write_bytes(
        ack_277ca([ClaimVerdict(claim["claim_number"], False), ClaimVerdict("77777777", True)])
    )
    applied = js(pms(db_url, cli_env, "--format", "json", "ack", "import", str(response)))
    assert (applied[0]["rejected"], applied[0]["unmatched"]) == (1, 1)
    (rejected,) = js(
        pms(db_url, cli_env, "--format", "json", "claim", "list", "--worklist", "rejected")
    )
    assert rejected["claim_number"] == claim["claim_number"]
    (stray,) = js(pms(db_url, cli_env, "--format", "json", "ack", "unmatched"))
    assert stray["reference"] == "77777777"
    garbage = tmp_path / "junk.999"
    garbage.write_bytes(b"ISA*00*nonsense~")
    failed = pms(db_url, cli_env, "ack", "import", str(garbage))
    assert failed.exit_code == 1 and "kept as inbound file" in failed.stderr


def test_a_manager_may_read_claims_but_not_build_them(db_url, cli_env, practice, billing):
    assert pms(db_url, cli_env, "claim", "list", role="manager").exit_code == 0
    refused = pms(db_url, cli_env, "claim", "build", role="manager")
    assert refused.exit_code == 1 and "claims:write" in refused.stderr
