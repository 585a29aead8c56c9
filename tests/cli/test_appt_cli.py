"""`pms appt ...` as the front desk uses it: find a slot, book, move, cancel, run
the day (check in, room, check out, no-show), and book a recurring series.

The command line runs on the real clock, so every date here is relative to
today in the practice's time zone (America/Chicago). The schedule the tests
book into is set up through the services (tests/cli/test_schedule_cli.py sets
one up through the commands): the provider works every day from midnight to
20:00, so a test can hold an appointment from earlier today whatever the time
the suite runs.

The helpers above the tests are shared with the other scheduling CLI tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pms_core.clock import FixedClock
from pms_core.context import unit_of_work
from pms_core.services import appointments, schedule_setup
from tests.cli_helpers import CliResult, run_cli
from tests.core.test_appointments import new_patient
from tests.helpers import PASSWORD

CHICAGO = ZoneInfo("America/Chicago")


def today() -> date:
    return datetime.now(CHICAGO).date()


def in_weeks(weeks: int) -> date:
    return today() + timedelta(weeks=weeks)


def at(day: date, hhmm: str) -> str:
    """What a user types for --at."""
    return f"{day.isoformat()} {hhmm}"


def next_clock_change() -> date:
    """The first day after tomorrow whose UTC offset differs from the day before's."""
    day = today() + timedelta(days=2)
    while (noon := datetime.combine(day, time(12), tzinfo=CHICAGO)).utcoffset() == (
        noon - timedelta(days=1)
    ).utcoffset():
        day += timedelta(days=1)
    return day


class Pms:
    """Runs `pms` on one database as a role, logged in once per role with
    `pms login` (its own token file), the way a desk works a shift."""

    def __init__(self, db_url: str, cli_env: dict[str, str], tmp_path: Path):
        self.db_url, self.cli_env, self.tmp_path = db_url, cli_env, tmp_path
        self.envs: dict[str, dict[str, str]] = {}

    def env(self, role: str) -> dict[str, str]:
        if role not in self.envs:
            env = {**self.cli_env, "PMS_TOKEN_FILE": str(self.tmp_path / f"{role}.json")}
            login = run_cli(
                ["--db", self.db_url, "login", "-u", role], env=env, input=f"{PASSWORD}\n"
            )
            assert login.exit_code == 0, login.stderr
            self.envs[role] = env
        return self.envs[role]

    def __call__(self, role: str, *args: str) -> CliResult:
        return run_cli(["--db", self.db_url, *args], env=self.env(role))

    def json(self, role: str, *args: str):
        """Run with --format json; the parsed output of a command that must succeed."""
        result = self(role, "--format", "json", *args)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


def refused(result: CliResult, *expected: str) -> None:
    """Exit 1 with every expected text in the message."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    for text in expected:
        assert text in result.stderr, result.stderr


@dataclass
class Schedule:
    provider: str
    location: str
    visit: str  # 30 minutes
    procedure: str  # 60 minutes, needs a room
    room: str
    patients: list[str]


def open_schedule(engine, practice) -> Schedule:
    """The practice's provider works every day 00:00-20:00 at the main location;
    a visit type, a procedure type that needs a room, one room, four patients."""
    with unit_of_work(engine, user_id=practice.users["admin"]) as ctx:
        for weekday in range(7):
            schedule_setup.add_availability(
                ctx,
                provider_id=practice.provider_id,
                location_id=practice.location_id,
                weekday=weekday,
                start_time="00:00",
                end_time="20:00",
                effective_from=today() - timedelta(days=7),
            )
        visit = schedule_setup.add_appointment_type(ctx, name="Office visit", duration_minutes=30)
        procedure = schedule_setup.add_appointment_type(
            ctx, name="Procedure", duration_minutes=60, color="orange", needs_room=True
        )
        room = schedule_setup.add_room(ctx, location_id=practice.location_id, name="Exam 1")
        patients = [new_patient(ctx, name) for name in ("Ana", "Ben", "Cleo", "Dora")]
    return Schedule(
        str(practice.provider_id),
        str(practice.location_id),
        str(visit.id),
        str(procedure.id),
        str(room.id),
        [str(p) for p in patients],
    )


@pytest.fixture
def pms(db_url, cli_env, practice, tmp_path) -> Pms:
    return Pms(db_url, cli_env, tmp_path)


@pytest.fixture
def sched(engine, practice) -> Schedule:
    return open_schedule(engine, practice)


def booking(s: Schedule, patient: int, when: str, *extra: str) -> list[str]:
    return [
        "appt",
        "book",
        "--patient",
        s.patients[patient],
        "--provider",
        s.provider,
        "--location",
        s.location,
        "--type",
        s.visit,
        "--at",
        when,
        *extra,
    ]


def test_front_desk_finds_a_slot_books_it_moves_it_and_cancels_it(pms, sched):
    day = in_weeks(2)
    slots = pms.json(
        "frontdesk",
        "appt",
        "slots",
        "--type",
        sched.visit,
        "--provider",
        sched.provider,
        "--from",
        day.isoformat(),
        "--to",
        day.isoformat(),
        "--between",
        "08:00-10:00",
    )
    assert [s["start"] for s in slots][:3] == [at(day, "08:00"), at(day, "08:15"), at(day, "08:30")]
    assert slots[-1] == {
        "start": at(day, "09:30"),
        "end": at(day, "10:00"),
        "provider_id": int(sched.provider),
        "location_id": int(sched.location),
        "room_id": None,
    }

    booked = pms.json("frontdesk", *booking(sched, 0, at(day, "09:00"), "--note", "new patient"))
    assert (booked["status"], booked["start"], booked["end"]) == (
        "booked",
        at(day, "09:00"),
        at(day, "09:30"),
    )
    first_id = booked["id"]
    starts = {
        s["start"]
        for s in pms.json(
            "frontdesk", "appt", "slots", "--type", sched.visit, "--from", day.isoformat(),
            "--to", day.isoformat(), "--between", "08:00-10:00",
        )
    }  # fmt: skip
    assert at(day, "08:45") not in starts and at(day, "09:00") not in starts
    assert at(day, "08:30") in starts and at(day, "09:30") in starts

    # Bad input: each refused with exit 1, the field named, nothing booked.
    refused(
        pms("frontdesk", *booking(sched, 1, at(day, "09:15"))),
        f"starts_at: the provider already has appointment {first_id} at that time",
    )
    refused(
        pms("frontdesk", *booking(sched, 1, at(today() - timedelta(days=1), "09:00"))),
        "starts_at: is in the past",
    )
    refused(
        pms("frontdesk", *booking(sched, 1, at(day, "19:45"))),
        "starts_at: is outside the provider's availability",
    )
    refused(
        pms("frontdesk", *booking(sched, 1, "next tuesday 9am")),
        "starts_at: is not a valid date and time",
    )
    refused(
        pms("frontdesk", "appt", "slots", "--type", sched.visit, "--from", day.isoformat(),
            "--between", "9:00 to 12:00"),
        "between: use HH:MM-HH:MM",
    )  # fmt: skip
    refused(
        pms("frontdesk", "appt", "slots", "--type", sched.visit, "--from", day.isoformat(),
            "--between", "08:00-25:00"),
        "window_end: is not a valid time",
    )  # fmt: skip

    # Overbooking is a permission and has a daily limit.
    refused(
        pms("biller", *booking(sched, 1, at(day, "09:00"), "--overbook")),
        "role 'biller' may not book over another appointment",
        "schedule:overbook",
    )
    over = pms.json("frontdesk", *booking(sched, 1, at(day, "09:00"), "--overbook"))
    assert over["overbooked"] is True

    assert pms.json("frontdesk", "appt", "confirm", str(first_id))["status"] == "confirmed"
    moved = pms.json("frontdesk", "appt", "reschedule", str(first_id), "--at", at(day, "11:00"))
    assert moved["rescheduled_from_id"] == first_id and moved["id"] != first_id
    assert (moved["status"], moved["start"]) == ("booked", at(day, "11:00"))

    listed = pms.json("frontdesk", "appt", "list", "--date", day.isoformat())
    assert [(r["id"], r["start"], r["status"], r["overbooked"]) for r in listed] == [
        (first_id, at(day, "09:00"), "cancelled", False),
        (over["id"], at(day, "09:00"), "booked", True),
        (moved["id"], at(day, "11:00"), "booked", False),
    ]
    assert listed[2]["patient"] == "Schedtest, Ana"
    assert listed[2]["patient_id"] == int(sched.patients[0])
    assert (listed[2]["provider"], listed[2]["location"], listed[2]["type"]) == (
        "Rivera, Alex",
        "Main Clinic",
        "Office visit",
    )

    csv_lines = pms(
        "frontdesk", "--format", "csv", "appt", "list", "--from", today().isoformat(),
        "--to", day.isoformat(), "--status", "booked",
    ).stdout.splitlines()  # fmt: skip
    assert csv_lines[0] == (
        "id,start,end,provider_id,provider,location_id,location,room_id,room,"
        "type_id,type,status,patient_id,patient,overbooked"
    )
    assert [line.split(",")[0] for line in csv_lines[1:]] == [str(over["id"]), str(moved["id"])]

    shown = pms.json("frontdesk", "appt", "show", str(first_id))
    assert (shown["status"], shown["cancel_reason"], shown["note"]) == (
        "cancelled",
        "rescheduled",
        "new patient",
    )
    assert shown["confirmed_at"] is not None

    cancelled = pms.json(
        "frontdesk", "appt", "cancel", str(moved["id"]), "--reason", "patient request"
    )
    assert (cancelled["id"], cancelled["status"]) == (moved["id"], "cancelled")
    refused(
        pms("frontdesk", "appt", "reschedule", str(moved["id"]), "--at", at(day, "12:00")),
        f"appointment {moved['id']} is cancelled",
    )
    refused(pms("frontdesk", "appt", "show", "999999"), "appointment 999999 not found")
    usage = pms("frontdesk", "appt", "list", "--date", day.isoformat(), "--from", "2026-01-01")
    assert usage.exit_code == 2


def _book_earlier_today(engine, practice, sched: Schedule, patient: int, hhmm: str) -> int:
    """An appointment at `hhmm` today, booked while that was still ahead (the
    command line cannot book the past)."""
    starts_at = datetime.combine(today(), time.fromisoformat(hhmm), tzinfo=CHICAGO)
    with unit_of_work(
        engine,
        user_id=practice.users["frontdesk"],
        clock=FixedClock(starts_at - timedelta(hours=1)),
    ) as ctx:
        return appointments.book(
            ctx,
            patient_id=int(sched.patients[patient]),
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            appointment_type_id=int(sched.visit),
            starts_at=starts_at,
        ).id


def test_a_day_at_the_desk_check_in_room_check_out_and_no_show(pms, sched, engine, practice):
    seen = _book_earlier_today(engine, practice, sched, 0, "00:30")
    missed = _book_earlier_today(engine, practice, sched, 1, "00:00")

    assert pms.json("frontdesk", "appt", "checkin", str(seen))["status"] == "arrived"
    roomed = pms.json("frontdesk", "appt", "room", str(seen), "--room", sched.room)
    assert (roomed["status"], roomed["room_id"]) == ("in_room", int(sched.room))
    assert pms.json("frontdesk", "appt", "checkout", str(seen))["status"] == "completed"
    assert pms.json("frontdesk", "appt", "noshow", str(missed))["status"] == "no_show"

    refused(
        pms("frontdesk", "appt", "checkin", str(seen)),
        f"appointment {seen} is completed; it cannot be checked in",
    )
    future = pms.json("frontdesk", *booking(sched, 2, at(in_weeks(1), "10:00")))
    refused(
        pms("frontdesk", "appt", "checkin", str(future["id"])),
        "not today; only today's appointments can be checked in",
    )
    refused(pms("frontdesk", "appt", "noshow", str(future["id"])), "has not started yet")

    lines = pms("frontdesk", "--format", "jsonl", "appt", "list").stdout.splitlines()
    assert [(r["id"], r["status"], r["room"]) for r in map(json.loads, lines)] == [
        (missed, "no_show", None),
        (seen, "completed", "Exam 1"),
    ]
    shown = pms.json("frontdesk", "appt", "show", str(seen))
    assert all(shown[k] for k in ("arrived_at", "roomed_at", "completed_at"))
    assert shown["arrived_at"].startswith(today().isoformat())
    as_text = pms("frontdesk", "appt", "show", str(seen)).stdout.splitlines()
    assert "status               completed" in as_text


def test_a_weekly_series_books_the_free_dates_and_reports_the_conflicting_one(pms, sched):
    first = in_weeks(1)
    third = first + timedelta(weeks=2)
    blocker = pms.json("frontdesk", *booking(sched, 1, at(third, "09:15")))
    recur = [
        "appt",
        "recur",
        "--patient",
        sched.patients[0],
        "--provider",
        sched.provider,
        "--location",
        sched.location,
        "--type",
        sched.visit,
        "--first-date",
        first.isoformat(),
        "--time",
        "09:00",
        "--rule",
        "weekly",
        "--count",
        "4",
    ]

    preview = pms.json("frontdesk", *recur, "--preview")
    assert (preview["series_id"], preview["booked"], preview["conflicts"]) == (None, 0, 1)
    assert preview["rule"] == f"weekly on {first:%A}"
    assert [(o["date"], o["outcome"]) for o in preview["occurrences"]] == [
        (first.isoformat(), "free"),
        ((first + timedelta(weeks=1)).isoformat(), "free"),
        (third.isoformat(), "conflict"),
        ((first + timedelta(weeks=3)).isoformat(), "free"),
    ]
    assert preview["occurrences"][2]["codes"] == "provider_busy"
    assert f"appointment {blocker['id']}" in preview["occurrences"][2]["reasons"]
    last = (first + timedelta(weeks=3)).isoformat()
    listed = pms.json("frontdesk", "appt", "list", "--from", first.isoformat(), "--to", last)
    assert [r["id"] for r in listed] == [blocker["id"]]  # the preview booked nothing

    refused(
        pms("frontdesk", *recur, "--all-or-nothing"),
        f"1 of 4 occurrences conflict: {third.isoformat()} (provider_busy)",
        "nothing was booked (all or nothing)",
    )

    made = pms("frontdesk", *recur)
    assert made.exit_code == 0, made.stderr
    assert "1 of 4 dates conflict and were not booked: " + third.isoformat() in made.stderr
    head = made.stdout.splitlines()[0]
    assert head.startswith("series ") and head.endswith("4 dates, 1 conflicting")

    booked = [
        r
        for r in pms.json("frontdesk", "appt", "list", "--from", first.isoformat(), "--to", last)
        if r["patient_id"] == int(sched.patients[0])
    ]
    assert [r["start"] for r in booked] == [
        at(first + timedelta(weeks=n), "09:00") for n in (0, 1, 3)
    ]

    monthly = pms(
        "frontdesk", "--format", "csv", *recur[:-6], "--time", "14:00", "--rule",
        "monthly-weekday", "--until", (first + timedelta(days=70)).isoformat(), "--preview",
    )  # fmt: skip
    assert monthly.exit_code == 0, monthly.stderr
    rows = monthly.stdout.splitlines()
    assert rows[0] == "series_id,number,date,start,outcome,appointment_id,codes,reasons"
    assert len(rows) - 1 in (2, 3) and all(",free," in r for r in rows[1:])

    # Across the next daylight-saving change the series keeps its local time.
    eve = next_clock_change() - timedelta(days=1)
    across = pms.json(
        "frontdesk", *recur[:-8], "--first-date", eve.isoformat(), "--time", "14:00",
        "--rule", "weekly", "--count", "2", "--preview",
    )  # fmt: skip
    assert [(o["start"], o["outcome"]) for o in across["occurrences"]] == [
        (at(eve, "14:00"), "free"),
        (at(eve + timedelta(weeks=1), "14:00"), "free"),
    ]

    refused(
        pms("frontdesk", *recur[:-2], "--until", first.isoformat(), "--count", "2"),
        "count: give until or count, not both",
    )
    assert pms("frontdesk", *recur[:-3], "fortnightly", "--count", "2").exit_code == 2
