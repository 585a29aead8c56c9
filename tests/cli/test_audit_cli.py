"""`pms audit verify` and `pms audit log` on both engines."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import Session, select

from pms_core.db import make_engine
from pms_core.models import AuditEvent
from pms_core.services import patients
from tests.cli_helpers import run_cli
from tests.core.test_audit_chain import tamper
from tests.helpers import PASSWORD

HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def pms(db_url, cli_env, *args, role="auditor", input=None):
    env = {**cli_env, "PMS_USER": role, "PMS_PASSWORD": PASSWORD}
    return run_cli(["--db", db_url, *args], env=env, input=input)


def log(db_url, cli_env, *args, role="auditor") -> list[dict]:
    result = pms(db_url, cli_env, "--format", "json", "audit", "log", *args, role=role)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def db(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def patient_id(practice, uow):
    with uow("frontdesk") as ctx:
        return patients.register_patient(
            ctx,
            first_name="Testfirst",
            last_name="Auditcli",
            dob="1990-01-02",
            sex="F",
            address1="1 Synthetic St",
            city="Springfield",
            state="IL",
            zip="62701",
            mobile_phone="2175550123",
        ).id


# --- verify -----------------------------------------------------------------------------------
def test_verify_an_intact_log(db_url, practice, patient_id, cli_env, db):
    result = pms(db_url, cli_env, "audit", "verify")
    assert result.exit_code == 0, result.stderr
    with Session(db) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action != "audit.verify")).all()
    # the login of this very command is in the chain too
    assert f"audit log intact: {len(events)} events" in result.stdout
    head = events[-1].hash
    assert f"head hash: {head}" in result.stdout
    assert f"anchor: {len(events)}:{head}" in result.stdout


def test_verify_with_the_anchor_it_printed(db_url, practice, cli_env):
    first = pms(db_url, cli_env, "audit", "verify")
    anchor = re.search(r"anchor: (\S+)", first.stdout).group(1)
    again = pms(db_url, cli_env, "audit", "verify", "--anchor", anchor)
    assert again.exit_code == 0, again.stderr
    seq = anchor.split(":")[0]
    wrong = pms(db_url, cli_env, "audit", "verify", "--anchor", f"{seq}:{'a' * 64}")
    assert wrong.exit_code == 1 and f"event seq {seq}: hash differs" in wrong.stderr


@pytest.mark.parametrize("anchor", ["12", "x:abc", "3:" + "g" * 64, "3:" + "a" * 63])
def test_a_malformed_anchor_is_a_usage_error(db_url, practice, cli_env, anchor):
    result = pms(db_url, cli_env, "audit", "verify", "--anchor", anchor)
    assert result.exit_code == 2 and "SEQ:HASH" in result.stderr


def test_verify_lists_each_problem_by_event_seq(db_url, practice, patient_id, cli_env, db):
    assert pms(db_url, cli_env, "audit", "verify").exit_code == 0  # events 2 and 3
    tamper(db, "UPDATE audit_event SET outcome = 'denied' WHERE seq = 3")
    tamper(db, "DELETE FROM audit_event WHERE seq = 1")
    result = pms(db_url, cli_env, "audit", "verify")
    assert result.exit_code == 1
    assert "verification FAILED" in result.stderr
    assert "event seq 3: contents changed since it was written" in result.stderr
    assert "event seq 2: expected seq 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert "intact" not in result.stdout


def test_only_auditors_and_admins_may_verify(db_url, practice, cli_env, db):
    assert pms(db_url, cli_env, "audit", "verify", role="admin").exit_code == 0
    for role in ("biller", "frontdesk", "manager"):
        result = pms(db_url, cli_env, "audit", "verify", role=role)
        assert result.exit_code == 1 and "audit:read" in result.stderr
    with Session(db) as s:
        denied = s.exec(
            select(AuditEvent).where(
                AuditEvent.action == "audit.verify", AuditEvent.outcome == "denied"
            )
        ).all()
    assert len(denied) == 3


# --- log ---------------------------------------------------------------------------------------
def test_log_lists_newest_first_with_usernames(db_url, practice, patient_id, cli_env):
    rows = log(db_url, cli_env)
    assert [r["seq"] for r in rows] == sorted((r["seq"] for r in rows), reverse=True)
    create = next(r for r in rows if r["action"] == "patient.create")
    assert create["username"] == "frontdesk" and create["patient_id"] == patient_id
    assert create["outcome"] == "ok"
    assert set(rows[0]) == {
        "seq",
        "at",
        "username",
        "user_id",
        "action",
        "patient_id",
        "outcome",
        "detail",
    }


def test_log_filters(db_url, practice, patient_id, cli_env):
    run_cli(
        ["--db", db_url, "login", "--username", "biller"], env=cli_env, input="wrong-password\n"
    )
    failed = log(db_url, cli_env, "--action", "auth.login", "--user", "biller")
    assert [(r["username"], r["outcome"]) for r in failed] == [("biller", "failed")]
    assert json.loads(failed[0]["detail"]) == {"reason": "bad_password"}
    by_patient = log(db_url, cli_env, "--patient", str(patient_id))
    assert by_patient and all(r["patient_id"] == patient_id for r in by_patient)
    auth_events = log(db_url, cli_env, "--action", "auth.")
    assert auth_events and all(r["action"].startswith("auth.") for r in auth_events)
    assert len(log(db_url, cli_env, "--limit", "2")) == 2
    assert log(db_url, cli_env, "--since", "2999-01-01") == []


def test_log_in_table_and_csv(db_url, practice, cli_env):
    table = pms(db_url, cli_env, "audit", "log")
    assert table.exit_code == 0 and "auth.login" in table.stdout
    csv = pms(db_url, cli_env, "--format", "csv", "audit", "log")
    assert csv.stdout.splitlines()[0] == "seq,at,username,user_id,action,patient_id,outcome,detail"


def test_log_bad_options(db_url, practice, cli_env):
    assert pms(db_url, cli_env, "audit", "log", "--limit", "0").exit_code == 2
    assert pms(db_url, cli_env, "audit", "log", "--since", "yesterday").exit_code == 2
    unknown = pms(db_url, cli_env, "audit", "log", "--user", "nobody")
    assert unknown.exit_code == 1 and "no user 'nobody'" in unknown.stderr


def test_reading_the_log_is_itself_audited_and_refused_to_others(db_url, practice, cli_env, db):
    log(db_url, cli_env)
    denied = pms(db_url, cli_env, "audit", "log", role="frontdesk")
    assert denied.exit_code == 1 and "audit:read" in denied.stderr
    with Session(db) as s:
        reads = s.exec(select(AuditEvent).where(AuditEvent.action == "audit.read")).all()
    assert [r.outcome for r in reads] == ["ok", "denied"]
    assert HEX64.fullmatch(reads[0].hash)
