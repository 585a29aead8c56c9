"""`pms claim status` end to end against the sandbox payer."""

from __future__ import annotations

import json

from tests.cli_helpers import run_cli
from tests.core.test_claim_status import submitted_claim
from tests.helpers import PASSWORD


def pms(db_url, cli_env, *args, role="biller"):
    env = {**cli_env, "PMS_USER": role, "PMS_PASSWORD": PASSWORD}
    return run_cli(["--db", db_url, "--format", "json", *args], env=env)


def js(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_biller_asks_about_claims_and_works_the_worklist(
    db_url, cli_env, uow, engine, practice, tmp_path
):
    claim = submitted_claim(uow, engine, practice, tmp_path)
    assert js(pms(db_url, cli_env, "claim", "status", "--due", "--as-of", "2026-03-20")) == []
    (due,) = js(pms(db_url, cli_env, "claim", "status", "--due", "--as-of", "2026-04-02"))
    assert due["claim_id"] == claim.id

    (asked,) = js(pms(db_url, cli_env, "claim", "status", "--claim", claim.claim_number))
    assert (asked["status"], asked["category"], asked["code"]) == ("answered", "P1", "20")

    (row,) = js(pms(db_url, cli_env, "claim", "status", "--worklist", "--as-of", "2026-04-02"))
    assert (row["claim_id"], row["days"], row["threshold"]) == (claim.id, 31, 30)
    assert row["last_answer"].startswith("answered")

    shown = js(pms(db_url, cli_env, "claim", "show", str(claim.id)))
    assert [k["check"] for k in shown["status_checks"]] == [asked["check"]]

    refused = pms(db_url, cli_env, "claim", "status", "--claim", claim.claim_number,
                  role="frontdesk")  # fmt: skip
    assert refused.exit_code == 1
