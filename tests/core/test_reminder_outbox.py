"""The reminder outbox (`reminders.outbox_dir`): reminders written to files
instead of delivered, replies read from a file, everything else as usual."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from pms_core.models import Appointment, Reminder, ReminderReply
from pms_core.services import reminders
from pms_core.services.reminder_outbox import REPLIES, message_file
from tests.core.test_reminders import (
    APPT_AT,
    add_appointment,
    add_patient,
    add_rules,
    add_type,
    configure,
    send,
)

TODAY = datetime(2026, 3, 2).date()  # the clock fixture's day in Chicago


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_reminders_go_to_files_and_nothing_is_delivered(engine, practice, uow, tmp_path):
    """No SMTP or SMS gateway is configured: with an outbox the reminders are
    still sent, once, into one file per channel and day, readable only by
    their owner."""
    outbox = tmp_path / "outbox"
    configure(uow, **{"reminders.outbox_dir": outbox})
    type_id = add_type(engine, practice)
    emailed = add_patient(engine, practice, email="ana.l@example.com")
    texted = add_patient(engine, practice, first="Bo", email=None, mobile="2175550123")
    for patient_id in (emailed, texted):
        add_appointment(engine, practice, patient_id, type_id)
    add_rules(uow, ("email", "72h"), ("sms", "72h"))

    result = send(uow)
    assert (result.sent, result.failed, result.retry) == (2, 0, 0)
    emails = lines(message_file(outbox, "email", TODAY))
    texts = lines(message_file(outbox, "sms", TODAY))
    assert [m["to"] for m in emails] == ["ana.l@example.com"]
    assert [m["to"] for m in texts] == ["2175550123"]
    assert texts[0]["patient_id"] == texted and "Reply C to confirm" in texts[0]["body"]
    assert texts[0]["appointment"] == "2026-03-04T10:00-06:00"
    assert emails[0]["subject"]
    with Session(engine) as s:
        by_channel = {r.channel: r for r in s.exec(select(Reminder))}
    assert by_channel["sms"].status == "sent" and by_channel["sms"].message_key == texts[0]["key"]
    path = message_file(outbox, "sms", TODAY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    assert send(uow).sent == 0  # nothing is due twice
    assert len(lines(path)) == 1


def test_a_message_already_in_the_file_is_not_written_again(engine, practice, uow, tmp_path):
    """A run that wrote the message and stopped before recording it: the
    next run finds the key in the file and does not write it twice."""
    outbox = tmp_path / "outbox"
    configure(uow, **{"reminders.outbox_dir": outbox})
    add_appointment(
        engine,
        practice,
        add_patient(engine, practice, mobile="2175550123"),
        add_type(engine, practice),
    )
    add_rules(uow, ("sms", "72h"))
    assert send(uow).sent == 1
    with Session(engine) as s:  # as if the first run died before recording
        row = s.exec(select(Reminder)).one()
        row.status, row.sent_at = "pending", None
        s.add(row)
        s.commit()
    assert send(uow).sent == 1
    assert len(lines(message_file(outbox, "sms", TODAY))) == 1


def test_replies_in_the_file_confirm_and_cancel_once(engine, practice, uow, clock, tmp_path):
    outbox = tmp_path / "outbox"
    configure(uow, **{"reminders.outbox_dir": outbox})
    type_id = add_type(engine, practice)
    phones = ["2175550101", "2175550102"]
    appts = [
        add_appointment(
            engine,
            practice,
            add_patient(engine, practice, first=f"Reply{i}", email=None, mobile=phone),
            type_id,
            APPT_AT + timedelta(hours=i),
        )
        for i, phone in enumerate(phones)
    ]
    add_rules(uow, ("sms", "72h"))
    assert send(uow).sent == 2
    at = clock.now() + timedelta(minutes=5)
    replies = outbox / "sms" / REPLIES
    replies.write_text(
        "\n".join(
            [
                json.dumps(
                    {"id": "r1", "from": phones[0], "text": "C", "received_at": at.isoformat()}
                ),
                "not json at all",
                json.dumps(
                    {"id": "r2", "from": phones[1], "text": "X", "received_at": at.isoformat()}
                ),
                json.dumps(
                    {"id": "r3", "from": phones[1], "text": "C", "received_at": "2026-03-02T09:10"}
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with uow() as ctx:
        result = reminders.process_replies(ctx)
    assert (result.processed, result.confirmed, result.cancelled) == (2, 1, 1)
    with Session(engine) as s:
        assert [s.get(Appointment, a).status for a in appts] == ["confirmed", "cancelled"]
    with uow() as ctx:  # the same file read again changes nothing
        again = reminders.process_replies(ctx)
    assert (again.processed, again.duplicates) == (0, 2)
    with Session(engine) as s:
        assert len(s.exec(select(ReminderReply)).all()) == 2


def test_unsetting_the_outbox_sends_for_real_again(engine, practice, uow, tmp_path):
    """Back to the channels: with no SMS gateway configured the text is not
    delivered (retried later), and nothing more lands in the outbox."""
    outbox = tmp_path / "outbox"
    configure(uow, **{"reminders.outbox_dir": outbox})
    with uow("admin") as ctx:
        from pms_core.services import config

        config.unset_setting(ctx, key="reminders.outbox_dir")
    add_appointment(
        engine,
        practice,
        add_patient(engine, practice, mobile="2175550123"),
        add_type(engine, practice),
    )
    add_rules(uow, ("sms", "72h"))
    result = send(uow)
    assert (result.sent, result.retry) == (0, 1)
    assert not outbox.exists()


def test_received_at_is_compared_with_time_zones(tmp_path):
    from pms_core.services.reminder_outbox import read_replies

    folder = tmp_path / "sms"
    folder.mkdir()
    (folder / REPLIES).write_text(
        json.dumps(
            {"id": "a", "from": "1", "text": "C", "received_at": "2026-03-02T09:00:00-06:00"}
        )
        + "\n"
        + json.dumps(
            {"id": "b", "from": "1", "text": "C", "received_at": "2026-03-02T16:00:00+00:00"}
        )
        + "\n",
        encoding="utf-8",
    )
    since = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    assert [r.external_id for r in read_replies(tmp_path, "sms", since)] == ["b"]
    assert [r.external_id for r in read_replies(tmp_path, "sms", None)] == ["a", "b"]
