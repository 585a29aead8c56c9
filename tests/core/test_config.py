"""Per-practice settings: typed keys, secrets never shown or audited, admin only."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pms_core.errors import NotFound, PermissionDenied, ValidationError
from pms_core.models import AuditEvent, PracticeSetting
from pms_core.services import config
from tests.helpers import make_practice

SECRET = "hunter2-Very-Secret"


def audit_text(engine) -> str:
    with Session(engine) as s:
        return " ".join(f"{e.action} {e.detail}" for e in s.exec(select(AuditEvent)))


def test_a_setting_is_stored_normalized_and_read_back(engine, practice, uow):
    with uow("admin") as ctx:
        assert config.set_setting(ctx, key="smtp.port", value=" 2525 ").value == "2525"
        assert config.set_setting(ctx, key="smtp.starttls", value="No").value == "false"
        assert config.set_setting(ctx, key="sms.from", value="+1 (217) 555-0100").value == (
            "2175550100"
        )
        config.set_setting(ctx, key="reminders.quiet_start", value="7:30")
    with uow("admin") as ctx:
        view = config.get_setting(ctx, key="reminders.quiet_start")
        assert (view.value, view.is_set, view.default) == ("07:30", True, "21:00")
        values = config.effective_settings(ctx.session, practice.id, config.known_settings(ctx.pm))
    assert values["smtp.port"] == 2525 and values["smtp.starttls"] is False
    assert values["reminders.quiet_start"] == time(7, 30)
    assert values["reminders.max_attempts"] == 5  # the default, never set
    assert values["smtp.host"] is None


def test_secrets_are_masked_on_every_read_and_never_audited(engine, practice, uow, pm):
    with uow("admin") as ctx:
        shown = config.set_setting(ctx, key="smtp.password", value=SECRET)
        config.set_setting(ctx, key="sms.token", value=SECRET)
    with uow("admin") as ctx:
        got = config.get_setting(ctx, key="smtp.password")
        listed = {v.key: v for v in config.list_settings(ctx)}
    assert shown.value == got.value == listed["smtp.password"].value == "(set)"
    assert listed["sms.token"].value == "(set)" and listed["sms.token"].secret
    assert listed["sms.password"].value is None  # not set: nothing to hide
    assert SECRET not in repr(listed) and SECRET not in audit_text(engine)
    assert "smtp.password" in audit_text(engine)  # the key is audited, the value never
    with Session(engine) as s:  # the job that sends still gets the real value
        values = config.effective_settings(s, practice.id, config.known_settings(pm))
    assert values["smtp.password"] == values["sms.token"] == SECRET


@pytest.mark.parametrize(
    "key,value,code",
    [
        ("smtp.port", "twenty-five", "int"),
        ("smtp.port", "70000", "range"),
        ("smtp.starttls", "maybe", "bool"),
        ("smtp.from", "not an address", "email"),
        ("sms.url", "ftp://gateway.example", "url"),
        ("sms.url", "https://acct:pw-Secret-9@gw.example/send", "url"),
        ("sms.inbound_url", "http://gw.example:99999/inbound", "url"),
        ("sms.body_format", "xml", "choice"),
        ("reminders.quiet_end", "25:00", "time"),
        ("reminders.call_list_dir", "relative/dir", "path"),
        ("smtp.host", "   ", "required"),
    ],
)
def test_bad_values_are_refused_naming_the_key_and_nothing_is_stored(
    engine, practice, uow, key, value, code
):
    with pytest.raises(ValidationError) as bad, uow("admin") as ctx:
        config.set_setting(ctx, key=key, value=value)
    [error] = bad.value.errors
    assert (error.field, error.code) == (key, code)
    assert value.strip() == "" or value not in str(bad.value)
    with Session(engine) as s:
        assert s.exec(select(PracticeSetting)).all() == []


def test_an_unknown_key_is_refused(engine, practice, uow):
    with pytest.raises(ValidationError, match="not a known setting"), uow("admin") as ctx:
        config.set_setting(ctx, key="smtp.hostname", value="mail.example")


def test_unset_brings_the_default_back(engine, practice, uow, tmp_path):
    with uow("admin") as ctx:
        config.set_setting(ctx, key="reminders.call_list_dir", value=str(tmp_path))
        config.set_setting(ctx, key="reminders.max_attempts", value="2")
        assert config.unset_setting(ctx, key="reminders.max_attempts").value is None
        values = config.effective_settings(ctx.session, practice.id, config.known_settings(ctx.pm))
    assert values["reminders.max_attempts"] == 5
    assert values["reminders.call_list_dir"] == Path(tmp_path)
    with pytest.raises(NotFound), uow("admin") as ctx:
        config.unset_setting(ctx, key="reminders.max_attempts")


def test_settings_belong_to_one_practice(engine, practice, uow, clock, pm):
    from pms_core.context import unit_of_work

    other = make_practice(engine, name="Lakeside Clinic", prefix="lk-")
    with uow("admin") as ctx:
        config.set_setting(ctx, key="smtp.host", value="mail.maple.example")
    with unit_of_work(engine, user_id=other.users["admin"], pm=pm, clock=clock) as ctx:
        assert config.get_setting(ctx, key="smtp.host").value is None


@pytest.mark.parametrize("role", ["frontdesk", "biller", "manager", "auditor"])
def test_only_an_admin_reads_or_changes_settings(engine, practice, uow, role):
    for call in (
        lambda ctx: config.set_setting(ctx, key="smtp.host", value="mail.example"),
        lambda ctx: config.list_settings(ctx),
    ):
        with pytest.raises(PermissionDenied, match="practice:manage"), uow(role) as ctx:
            call(ctx)
