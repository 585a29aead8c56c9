"""`pms eligibility check|sweep|show|parse` end to end, against the sandbox payer."""

from __future__ import annotations

import json

import pytest

from pms_core.services import submission
from tests.billing_helpers import setup_billing
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD


def pms(db_url, cli_env, *args, role="frontdesk"):
    env = {**cli_env, "PMS_USER": role, "PMS_PASSWORD": PASSWORD}
    return run_cli(["--db", db_url, "--format", "json", *args], env=env)


def js(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def billing(uow, practice, tmp_path):
    with uow("admin") as ctx:
        submission.add_clearinghouse(
            ctx, name="Sandbox", transport="sandbox",
            settings={"folder": str(tmp_path / "sandbox"), "faults": "timeout,timeout,timeout"},
            sender_id="PRACTICE01", receiver_id="SANDBOXCH", receiver_name="Sandbox",
            contact_name="Billing Office", contact_phone="2175550100", default=True,
        )  # fmt: skip
    return setup_billing(uow, practice)


def test_the_front_desk_checks_and_reads_eligibility(db_url, cli_env, billing, tmp_path):
    cov = str(billing.coverage_id)
    failed = pms(db_url, cli_env, "eligibility", "check", "--coverage", cov)
    assert failed.exit_code == 1 and "1 of 1 checks failed" in failed.stderr
    (row,) = json.loads(failed.stdout)
    assert row["status"] == "failed" and "tried 3 times" in row["message"]

    (ok,) = js(pms(db_url, cli_env, "eligibility", "check", "--coverage", cov,
                   "--service-types", "98,30", "--date", "2026-03-04"))  # fmt: skip
    assert ok["status"] in ("active", "inactive") and ok["types"] == "98,30"
    assert ok["date"] == "2026-03-04" and ok["plan"].startswith("SANDBOX")

    history = js(pms(db_url, cli_env, "eligibility", "show", "--coverage", cov))
    assert [h["check"] for h in history] == [ok["check"], row["check"]]
    benefits = js(pms(db_url, cli_env, "eligibility", "show", "--benefits", str(ok["check"])))
    assert benefits and all("benefit" in b for b in benefits)

    bad = pms(db_url, cli_env, "eligibility", "check", "--coverage", cov, "--service-types", "9!")
    assert bad.exit_code == 1 and "not an X12 service type code" in bad.stderr


def test_parse_reads_a_271_and_refuses_other_files(cli_env, tmp_path):
    from datetime import UTC, date, datetime

    from pms_x12.eligibility import write_271

    from pms_core.eligdata import Benefit, EligibilityAnswer, EligibilityInquiry, Person

    inquiry = EligibilityInquiry("E000000042", "1999999999", "ACME", "ACME1", "CLINIC",
                                 "1245319599", Person("TESTPATIENT", "TESTA",
                                 member_id="XZ0000001"), date(2026, 3, 2))  # fmt: skip
    answer = EligibilityAnswer("E000000042", "ACME1", "XZ0000001", False, True, "GOLD PLAN",
                               benefits=[Benefit("1", "active coverage", ("30",),
                                                 plan_name="GOLD PLAN")])  # fmt: skip
    path = tmp_path / "answer.271"
    path.write_text(write_271([answer], inquiries=[inquiry], sender_id="PAYER", receiver_id="US",
                              control=5, created=datetime(2026, 3, 2, tzinfo=UTC)))  # fmt: skip
    (row,) = js(run_cli(["--format", "json", "eligibility", "parse", str(path)], env=cli_env))
    assert (row["trace"], row["active"], row["plan"]) == ("E000000042", True, "GOLD PLAN")

    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    refused = run_cli(["eligibility", "parse", str(junk)], env=cli_env)
    assert refused.exit_code == 1 and "not a 271" in refused.stderr
