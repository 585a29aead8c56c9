"""`pms era` and `pms ledger show` end to end: a dry run, the import, the
duplicate, the unmatched worklist worked by hand, and the ledger explained."""

from __future__ import annotations

import json

import pytest

from pms_core.services import claims
from tests.billing_helpers import setup_billing, visit
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD
from tests.x12_remits import PaidClaim, PaidLine, era_835


def pms(db_url, cli_env, *args, role="biller"):
    env = {**cli_env, "PMS_USER": role, "PMS_PASSWORD": PASSWORD}
    return run_cli(["--db", db_url, "--format", "json", *args], env=env)


def js(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def claim(uow, practice):
    billing = setup_billing(uow, practice)
    visit(uow, practice, billing.patient_id)
    with uow("biller") as ctx:
        return claims.build_claims(ctx).claims[0]


def test_a_biller_imports_works_and_reads_remittances(db_url, cli_env, claim, tmp_path):
    paid = PaidClaim(claim.claim_number, "125.00", "100.00", lines=[
        PaidLine("99213", "125.00", "100.00", adjustments=[("CO", "45", "25.00")])])  # fmt: skip
    ours = tmp_path / "ours.835"
    ours.write_bytes(era_835([paid]))
    stranger = PaidClaim("NOT-OURS", "50.00", "40.00", adjustments=[("CO", "45", "10.00")],
                         member_id="NOBODY", payer_claim_number="PCN-X")  # fmt: skip
    theirs = tmp_path / "theirs.835"
    theirs.write_bytes(era_835([stranger], trace="EFT-2", interchange=302))

    dry = pms(db_url, cli_env, "era", "import", "--dry-run", str(ours))
    assert dry.exit_code == 0, dry.stderr
    assert '"status": "posted"' in dry.stdout and '"reason": "CO-45"' in dry.stdout
    assert js(pms(db_url, cli_env, "era", "list")) == []  # nothing was written

    (row,) = js(pms(db_url, cli_env, "era", "import", str(ours)))
    assert (row["status"], row["matched"], row["paid"], row["adjusted"]) == (
        "posted", 1, "100.00", "25.00",
    )  # fmt: skip
    again = pms(db_url, cli_env, "era", "import", str(ours))
    assert again.exit_code == 1 and "duplicate" in again.stderr

    (other,) = js(pms(db_url, cli_env, "era", "import", str(theirs)))
    assert other["unmatched"] == 1
    (waiting,) = js(pms(db_url, cli_env, "era", "unmatched"))
    assert waiting["paid"] == "40.00" and "no claim" in waiting["reason"]

    shown = pms(db_url, cli_env, "era", "show", str(row["remittance_id"]))
    assert shown.exit_code == 0, shown.stderr
    assert "charge exceeds the fee schedule or contracted amount" in shown.stdout

    explained = js(pms(db_url, cli_env, "ledger", "show", "--claim", str(claim.id)))
    why = {(e["account"], e["amount"], e["why"]) for e in explained}
    assert ("adjustment:contractual", "25.00",
            "contractual obligation: charge exceeds the fee schedule or contracted amount") in why  # fmt: skip
    assert ("cash", "100.00", "payer payment") in why

    matched = js(pms(db_url, cli_env, "era", "match", str(waiting["id"]), str(claim.id)))
    assert (matched["status"], matched["claim_id"]) == ("matched", claim.id)
    assert js(pms(db_url, cli_env, "era", "unmatched")) == []
    refused = pms(db_url, cli_env, "era", "import", str(theirs), role="frontdesk")
    assert refused.exit_code == 1 and "payments:post" in refused.stderr


def test_denials_and_patient_payments_from_the_command_line(db_url, cli_env, claim, tmp_path):
    paid = PaidClaim(claim.claim_number, "125.00", "0.00", lines=[
        PaidLine("99213", "125.00", "0.00", adjustments=[("CO", "197", "125.00")])])  # fmt: skip
    era = tmp_path / "denied.835"
    era.write_bytes(era_835([paid]))
    assert pms(db_url, cli_env, "era", "import", str(era)).exit_code == 0
    (d,) = js(pms(db_url, cli_env, "denial", "list"))
    assert (d["reason"], d["open"]) == ("CO-197", "125.00")
    assert d["why"] == "contractual obligation: precertification or authorization absent"
    item = [str(d["remittance_claim_id"]), str(d["charge_id"])]
    refused = pms(db_url, cli_env, "denial", "writeoff", *item, "--reason", "no auth")
    assert refused.exit_code == 1 and "ledger:writeoff" in refused.stderr
    moved = js(pms(db_url, cli_env, "denial", "transfer", *item, "--note", "patient declined auth"))
    assert moved[0]["amount"] == "125.00"
    assert js(pms(db_url, cli_env, "denial", "list")) == []

    env = {**cli_env, "PMS_USER": "frontdesk", "PMS_PASSWORD": PASSWORD}
    receipt = run_cli(["--db", db_url, "payment", "post", "--patient", str(claim.patient_id),
                       "--amount", "100.00", "--method", "cash"], env=env)  # fmt: skip
    assert receipt.exit_code == 0, receipt.stderr
    assert "Cash payment    100.00" in receipt.stdout
    assert "Balance after this payment    25.00" in receipt.stdout
    negative = pms(db_url, cli_env, "payment", "post", "--patient", str(claim.patient_id),
                   "--amount", "-5", "--method", "cash", role="frontdesk")  # fmt: skip
    assert negative.exit_code == 1 and "amount" in negative.stderr
    (listed,) = js(pms(db_url, cli_env, "payment", "list", "--patient", str(claim.patient_id)))
    again = js(pms(db_url, cli_env, "payment", "receipt", str(listed["id"])))
    assert again["receipt"] == listed["receipt"] and again["balance"] == "25.00"


def test_a_statement_run_writes_pdf_and_csv(db_url, cli_env, uow, practice, tmp_path):
    from tests.billing_helpers import register, visit

    with uow("admin") as ctx:
        from pms_core.services import fees

        fees.import_fee_schedule(ctx, rows=[{"code": "99213", "amount": "125.00"}])
        pid = register(ctx, "Testcli", "Statementc", "1970-02-02")
    visit(uow, practice, pid)
    result = js(pms(db_url, cli_env, "statement", "run", "-o", str(tmp_path / "out")))
    assert (result["statements"], result["total"]) == (1, "125.00")
    assert (tmp_path / "out" / f"statements-{result['run_id']}.pdf").read_bytes()[:5] == b"%PDF-"
    (run,) = js(pms(db_url, cli_env, "statement", "list"))
    (shown,) = js(pms(db_url, cli_env, "statement", "show", str(run["run_id"])))
    assert shown["balance"] == "125.00"
    again = pms(db_url, cli_env, "statement", "show", str(run["run_id"]), "--print", "csv")
    assert "Testcli Statementc" in again.stdout
    refused = pms(db_url, cli_env, "statement", "run", role="frontdesk")
    assert refused.exit_code == 1 and "statements:run" in refused.stderr
