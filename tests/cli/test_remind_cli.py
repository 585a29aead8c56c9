"""`pms config` and `pms remind` end to end: settings, rules, templates, sending
to a real SMTP server, listing and previewing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.cli_helpers import run_cli
from tests.core.test_reminders import (
    CHICAGO,
    SENDER,
    SmtpServer,
    add_appointment,
    add_patient,
    add_type,
)
from tests.helpers import PASSWORD


@pytest.fixture
def env(cli_env, practice):
    return {**cli_env, "PMS_USER": "admin", "PMS_PASSWORD": PASSWORD}


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def pms(db_url, env, *args, input=None):
    return run_cli(["--db", db_url, *args], env=env, input=input)


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def test_config_set_get_list_masks_secrets_and_refuses_bad_values(db_url, env):
    ok(pms(db_url, env, "config", "set", "smtp.host", "mail.maple.example"))
    ok(pms(db_url, env, "config", "set", "smtp.password", input="s3cret-pass\n"))  # prompted
    assert "s3cret-pass" not in ok(pms(db_url, env, "config", "get", "smtp.password")).stdout
    got = ok(pms(db_url, env, "--format", "json", "config", "get", "smtp.password"))
    assert json.loads(got.stdout)["value"] == "(set)"
    listed = json.loads(ok(pms(db_url, env, "--format", "json", "config", "list")).stdout)
    values = {row["key"]: row for row in listed}
    assert values["smtp.host"]["value"] == "mail.maple.example"
    assert values["smtp.password"]["value"] == "(set)"
    assert values["smtp.port"]["default"] == "587" and values["smtp.port"]["value"] is None

    bad = pms(db_url, env, "config", "set", "smtp.port", "lots")
    assert bad.exit_code == 1 and "smtp.port: must be a whole number" in bad.stderr
    unknown = pms(db_url, env, "config", "set", "smtp.hostname", "x")
    assert unknown.exit_code == 1 and "not a known setting" in unknown.stderr
    ok(pms(db_url, env, "config", "unset", "smtp.host"))
    assert json.loads(
        ok(pms(db_url, env, "--format", "json", "config", "get", "smtp.host")).stdout
    ) == {"key": "smtp.host", "value": None, "default": None}


def test_front_desk_may_not_change_settings(db_url, env):
    desk = {**env, "PMS_USER": "frontdesk"}
    refused = pms(db_url, desk, "config", "set", "smtp.host", "mail.example")
    assert refused.exit_code == 1 and "practice:manage" in refused.stderr


def test_rules_and_templates_from_the_command_line(db_url, env):
    added = ok(
        pms(
            db_url,
            env,
            "--format",
            "json",
            "remind",
            "rule",
            "add",
            "--channel",
            "email",
            "--before",
            "72h",
        )
    )
    rule_id = json.loads(added.stdout)["id"]
    ok(pms(db_url, env, "remind", "rule", "add", "--channel", "sms", "--before", "2h"))
    rules = json.loads(ok(pms(db_url, env, "--format", "json", "remind", "rule", "list")).stdout)
    assert [(r["channel"], r["offset"]) for r in rules] == [("email", "72h"), ("sms", "2h")]
    ok(pms(db_url, env, "remind", "rule", "remove", str(rule_id)))
    rules = json.loads(ok(pms(db_url, env, "--format", "json", "remind", "rule", "list")).stdout)
    assert [r["channel"] for r in rules] == ["sms"]
    bad = pms(db_url, env, "remind", "rule", "add", "--channel", "fax", "--before", "1d")
    assert bad.exit_code == 1 and "channel: must be a reminder channel" in bad.stderr

    refused = pms(
        db_url, env, "remind", "template", "set", "--channel", "sms", "--body", "DOB {dob}"
    )
    assert refused.exit_code == 1 and "{dob}" in refused.stderr
    ok(
        pms(
            db_url,
            env,
            "remind",
            "template",
            "set",
            "--channel",
            "sms",
            "--body",
            "{first_name}, see you {date} {time}. {reply}",
        )
    )
    shown = ok(
        pms(db_url, env, "--format", "json", "remind", "template", "show", "--channel", "sms")
    )
    assert json.loads(shown.stdout) == {
        "channel": "sms",
        "subject": None,
        "body": "{first_name}, see you {date} {time}. {reply}",
        "custom": True,
    }


def test_send_list_and_preview(engine, db_url, env, practice, smtp):
    # The command line runs on the real clock: an appointment two days from now,
    # and no quiet hours, so the test does not depend on the time of day it runs.
    starts = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    local = starts.astimezone(CHICAGO)
    type_id = add_type(engine, practice)
    appt = add_appointment(engine, practice, add_patient(engine, practice), type_id, starts)
    add_appointment(engine, practice, add_patient(engine, practice, email=None), type_id, starts)
    for key, value in {
        "smtp.host": "127.0.0.1",
        "smtp.port": str(smtp.port),
        "smtp.starttls": "false",
        "smtp.from": SENDER,
        "reminders.quiet_start": "00:00",
        "reminders.quiet_end": "00:00",
    }.items():
        ok(pms(db_url, env, "config", "set", key, value))
    ok(pms(db_url, env, "remind", "rule", "add", "--channel", "email", "--before", "72h"))

    preview = ok(pms(db_url, env, "remind", "preview", "--appointment", str(appt))).stdout
    assert "== email -> ana.l@example.com" in preview and "Hello Ana" in preview
    assert "== sms -> not sent: no mobile phone on file" in preview
    dry = ok(pms(db_url, env, "--format", "json", "remind", "send", "--dry-run"))
    assert json.loads(dry.stdout) == {"due": 2, "planned": 2, "cancelled": 0}
    assert smtp.arrived == []

    sent = ok(pms(db_url, env, "--format", "json", "remind", "send"))
    assert json.loads(sent.stdout) == {
        "planned": 2,
        "cancelled": 0,
        "sent": 1,
        "retry": 0,
        "skipped": 1,
        "failed": 0,
        "replies": 0,
    }
    assert [a.recipients for a in smtp.arrived] == [["ana.l@example.com"]]
    assert "sent" in ok(pms(db_url, env, "remind", "send")).stdout  # table: key/value lines

    desk = {**env, "PMS_USER": "frontdesk"}
    rows = json.loads(ok(pms(db_url, desk, "--format", "json", "remind", "list")).stdout)
    assert sorted((r["status"], r["reason"]) for r in rows) == [
        ("sent", None),
        ("skipped", "no email address on file"),
    ]
    assert {r["appointment_at"] for r in rows} == {local.isoformat()}
    skipped = ok(
        pms(
            db_url,
            desk,
            "--format",
            "csv",
            "remind",
            "list",
            "--status",
            "skipped",
            "--date",
            local.date().isoformat(),
        )
    )
    assert skipped.stdout.count("\n") == 2 and "no email address on file" in skipped.stdout
    none = json.loads(
        ok(
            pms(
                db_url,
                desk,
                "--format",
                "json",
                "remind",
                "list",
                "--date",
                (local + timedelta(days=1)).date().isoformat(),
            )
        ).stdout
    )
    assert none == []
    refused = pms(db_url, desk, "remind", "send")
    assert refused.exit_code == 1 and "reminders:send" in refused.stderr
