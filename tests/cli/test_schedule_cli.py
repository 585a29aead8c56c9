"""`pms schedule ...`: an admin sets a practice's schedule up from a script, and
the front desk books into exactly what was set up. Dates are relative to today
(the command line runs on the real clock)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pms_core.context import unit_of_work
from tests.cli.test_appt_cli import Pms, at, refused, today
from tests.core.test_appointments import new_patient


@pytest.fixture
def pms(db_url, cli_env, practice, tmp_path) -> Pms:
    return Pms(db_url, cli_env, tmp_path)


def a_monday_ahead() -> date:
    """The Monday of the week after next: bookable whatever day it is today."""
    return today() + timedelta(days=14 - today().weekday())


def test_an_admin_scripts_the_schedule_and_the_desk_books_into_it(pms, practice, engine):
    prov, loc = str(practice.provider_id), str(practice.location_id)
    monday = a_monday_ahead()
    tuesday = monday + timedelta(days=1)

    exam1 = pms.json("admin", "schedule", "room", "add", "Exam 1", "--location", loc)["id"]
    exam2 = pms.json("admin", "schedule", "room", "add", "Exam 2", "--location", loc)["id"]
    assert pms("admin", "--format", "csv", "schedule", "room", "list").stdout.splitlines() == [
        "id,location_id,name",
        f"{exam1},{loc},Exam 1",
        f"{exam2},{loc},Exam 2",
    ]
    visit = pms.json(
        "admin", "schedule", "type", "add", "Follow-up", "--minutes", "20",
        "--color", "green", "--provider", prov,
    )  # fmt: skip
    procedure = pms.json(
        "admin", "schedule", "type", "add", "Minor procedure", "--minutes", "60",
        "--color", "red", "--needs-room",
    )  # fmt: skip
    assert pms.json("admin", "schedule", "type", "list") == [
        {
            "id": visit["id"],
            "name": "Follow-up",
            "minutes": 20,
            "color": "green",
            "needs_room": False,
            "providers": prov,
        },
        {
            "id": procedure["id"],
            "name": "Minor procedure",
            "minutes": 60,
            "color": "red",
            "needs_room": True,
            "providers": "all",
        },
    ]

    # Weekday names or numbers (Monday = 0), hours from today on.
    templates = [
        pms.json(
            "admin", "schedule", "hours", "add", "--provider", prov, "--location", loc,
            "--weekday", weekday, "--from", "08:00", "--to", "12:00",
        )["id"]
        for weekday in ("mon", "tuesday", "Wed", "3", "4")
    ]  # fmt: skip
    hours = pms.json("admin", "schedule", "hours", "list", "--provider", prov)
    assert [(h["id"], h["weekday"], h["from"], h["to"]) for h in hours] == [
        (tid, day, "08:00", "12:00")
        for tid, day in zip(templates, ("mon", "tue", "wed", "thu", "fri"), strict=True)
    ]
    assert {(h["effective_from"], h["effective_to"]) for h in hours} == {
        (today().isoformat(), None)
    }

    holiday = pms.json(
        "admin", "schedule", "exception", "add", "--kind", "holiday", "--day",
        tuesday.isoformat(), "--reason", "Clinic closed",
    )  # fmt: skip
    assert (holiday["start"], holiday["end"], holiday["provider_id"]) == (
        at(tuesday, "00:00"),
        at(tuesday + timedelta(days=1), "00:00"),
        None,
    )
    pms.json(
        "admin", "schedule", "exception", "add", "--kind", "block", "--provider", prov,
        "--start", at(monday, "10:00"), "--end", at(monday, "11:00"), "--reason", "Staff meeting",
    )  # fmt: skip
    listed = pms.json(
        "admin", "schedule", "exception", "list", "--from", monday.isoformat(),
        "--to", tuesday.isoformat(),
    )  # fmt: skip
    assert [(e["kind"], e["start"], e["reason"]) for e in listed] == [
        ("block", at(monday, "10:00"), "Staff meeting"),
        ("holiday", at(tuesday, "00:00"), "Clinic closed"),
    ]
    limit = pms.json("admin", "schedule", "overbook-limit", "--provider", prov, "--per-day", "1")
    assert limit == {"provider_id": practice.provider_id, "per_day": 1}

    # The desk sees exactly those hours: none in the block, none on the holiday.
    slots = pms.json(
        "frontdesk", "appt", "slots", "--type", str(procedure["id"]), "--provider", prov,
        "--from", monday.isoformat(), "--to", tuesday.isoformat(),
    )  # fmt: skip
    assert [s["start"] for s in slots] == [
        at(monday, hhmm) for hhmm in ("08:00", "08:15", "08:30", "08:45", "09:00", "11:00")
    ]
    assert {s["room_id"] for s in slots} == {exam1}

    with unit_of_work(engine, user_id=practice.users["frontdesk"]) as ctx:
        ana, ben, cleo = (str(new_patient(ctx, name)) for name in ("Ana", "Ben", "Cleo"))

    def book(patient: str, type_id: int, when: str, *extra: str):
        return pms(
            "frontdesk", "appt", "book", "--patient", patient, "--provider", prov,
            "--location", loc, "--type", str(type_id), "--at", when, *extra,
        )  # fmt: skip

    refused(
        book(ana, procedure["id"], at(monday, "08:00")),
        "room_id: this appointment type needs a room",
    )
    assert book(ana, procedure["id"], at(monday, "08:00"), "--room", str(exam1)).exit_code == 0
    refused(
        book(ben, visit["id"], at(tuesday, "09:00")),
        "starts_at: is outside the provider's availability",
    )
    refused(
        book(ben, visit["id"], at(monday, "10:20")),
        "starts_at: is outside the provider's availability",
    )
    refused(
        book(ben, visit["id"], at(monday, "08:40")),
        "starts_at: the provider already has appointment",
    )
    assert book(ben, visit["id"], at(monday, "08:40"), "--overbook").exit_code == 0
    refused(
        book(cleo, visit["id"], at(monday, "08:20"), "--overbook"),
        f"overbook: provider {prov} has reached the daily overbook limit (1)",
    )

    # Hours change by ending a template (a new one would follow); booked visits stay.
    ended = pms.json(
        "admin", "schedule", "hours", "end", str(templates[0]),
        "--effective-to", (monday - timedelta(days=1)).isoformat(),
    )  # fmt: skip
    assert ended["effective_to"] == (monday - timedelta(days=1)).isoformat()
    assert pms.json(
        "frontdesk", "appt", "slots", "--type", str(visit["id"]), "--from", monday.isoformat(),
        "--to", tuesday.isoformat(),
    ) == []  # fmt: skip
    kept = pms.json("frontdesk", "appt", "list", "--date", monday.isoformat(), "--status", "booked")
    assert [r["patient_id"] for r in kept] == [int(ana), int(ben)]


def test_bad_set_up_is_refused_field_by_field_and_only_managers_change_it(pms, practice):
    prov, loc = str(practice.provider_id), str(practice.location_id)
    monday = a_monday_ahead()
    hours = ["schedule", "hours", "add", "--provider", prov, "--location", loc]

    refused(
        pms("admin", *hours, "--weekday", "funday", "--from", "25:00", "--to", "8am"),
        "weekday: must be 0-6 (Monday = 0) or a day name",
        "start_time: is not a valid time (HH:MM, 24-hour)",
        "end_time: is not a valid time",
    )
    refused(
        pms("admin", *hours, "--weekday", "7", "--from", "12:00", "--to", "08:00"),
        "weekday: must be 0-6",
        "end_time: must be after the start time",
    )
    first = pms.json("admin", *hours, "--weekday", "mon", "--from", "08:00", "--to", "12:00")
    refused(
        pms("admin", *hours, "--weekday", "0", "--from", "11:00", "--to", "13:00"),
        f"start_time: overlaps availability template {first['id']}",
    )
    refused(
        pms("admin", "schedule", "hours", "end", str(first["id"]), "--effective-to", "2020-01-01"),
        "effective_to: is before the template's first day",
    )
    refused(
        pms("admin", "schedule", "type", "add", "Visit", "--minutes", "0", "--color", "mauve"),
        "duration_minutes: must be 1 to 720 minutes",
        "color: must be one of: blue, green",
    )
    refused(
        pms("admin", "schedule", "exception", "add", "--kind", "block", "--day",
            monday.isoformat(), "--start", at(monday, "10:00")),
        "day: give either day or starts_at/ends_at",
    )  # fmt: skip
    refused(
        pms("admin", "schedule", "exception", "add", "--kind", "block", "--start",
            at(monday, "10:00"), "--end", at(monday, "09:00")),
        "ends_at: must be after starts_at",
    )  # fmt: skip
    refused(
        pms("admin", "schedule", "overbook-limit", "--provider", prov, "--per-day", "99"),
        "per_day: must be 0 to 20",
    )
    assert pms("admin", "schedule", "exception", "add", "--kind", "vacation").exit_code == 2

    refused(
        pms("frontdesk", "schedule", "room", "add", "Exam 1", "--location", loc),
        "role 'frontdesk' may not set up rooms",
    )
    assert pms.json("manager", "schedule", "room", "add", "Exam 1", "--location", loc)["id"]
    assert [h["id"] for h in pms.json("frontdesk", "schedule", "hours", "list")] == [first["id"]]
    assert pms.json("admin", "schedule", "exception", "list") == []
