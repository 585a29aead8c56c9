"""`pms waitlist ...`: patients wait, a cancelled visit's time is offered to the
ones it fits in waitlist order, and their answers book the slot or put them
back in line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pms_cli.appt import OFFER_COLUMNS

from pms_core.services.schedule_setup import WEEKDAYS
from tests.cli.test_appt_cli import Pms, at, booking, in_weeks, open_schedule, refused, today


@pytest.fixture
def pms(db_url, cli_env, practice, tmp_path) -> Pms:
    return Pms(db_url, cli_env, tmp_path)


def test_a_freed_slot_is_offered_in_waitlist_order_and_the_answers_are_recorded(
    pms, engine, practice
):
    s = open_schedule(engine, practice)
    day = in_weeks(2)
    weekday = WEEKDAYS[day.weekday()][:3]
    other_weekday = WEEKDAYS[(day.weekday() + 1) % 7][:3]
    freed = pms.json("frontdesk", *booking(s, 0, at(day, "09:00")))

    add = ["waitlist", "add", "--type", s.visit]
    ben = pms.json(
        "frontdesk", *add, "--patient", s.patients[1], "--provider", s.provider, "--days",
        weekday, "--from", "08:00", "--to", "12:00", "--latest", (day + timedelta(days=30)).isoformat(),
    )  # fmt: skip
    assert (ben["days"], ben["from"], ben["to"], ben["status"], ben["earliest"]) == (
        weekday,
        "08:00",
        "12:00",
        "waiting",
        today().isoformat(),
    )
    cleo = pms.json("frontdesk", *add, "--patient", s.patients[2])
    dora = pms.json("frontdesk", *add, "--patient", s.patients[3], "--days", other_weekday)
    refused(
        pms("frontdesk", *add, "--patient", s.patients[3]),
        f"patient_id: the patient already waits for this type (entry {dora['id']})",
    )
    refused(
        pms("frontdesk", *add, "--patient", s.patients[0], "--days", "funday", "--from", "9am",
            "--earliest", (today() - timedelta(days=7)).isoformat(),
            "--latest", (today() - timedelta(days=1)).isoformat()),
        "preferred_weekdays: must be weekday digits 0-6",
        "preferred_start: is not a valid time",
        "latest_date: is in the past",
    )  # fmt: skip
    refused(
        pms("manager", *add, "--patient", s.patients[0]),
        "role 'manager' may not book, reschedule, cancel",
    )
    waiting = pms("frontdesk", "--format", "csv", "waitlist", "list").stdout.splitlines()
    assert waiting[0].startswith("id,patient_id,type_id,provider_id,location_id,days,from,to,")
    assert [line.split(",")[0] for line in waiting[1:]] == [
        str(ben["id"]),
        str(cleo["id"]),
        str(dora["id"]),
    ]

    # The visit is cancelled: its time goes to the entries it fits, in waitlist order.
    cancelled = pms.json("frontdesk", "appt", "cancel", str(freed["id"]), "--reason", "called")
    offers = pms.json("frontdesk", "waitlist", "offers")
    assert cancelled["offer_ids"] == [o["id"] for o in offers]
    assert [(o["rank"], o["entry_id"], o["patient_id"], o["status"]) for o in offers] == [
        (1, ben["id"], int(s.patients[1]), "open"),
        (2, cleo["id"], int(s.patients[2]), "open"),
    ]
    assert (offers[0]["start"], offers[0]["end"]) == (at(day, "09:00"), at(day, "09:30"))

    declined = pms.json("frontdesk", "waitlist", "decline", str(offers[0]["id"]))
    assert declined == {"id": offers[0]["id"], "status": "declined", "entry_id": ben["id"]}
    refused(
        pms("frontdesk", "waitlist", "accept", str(offers[0]["id"])),
        f"waitlist offer {offers[0]['id']} is declined, not open",
    )
    accepted = pms.json("frontdesk", "waitlist", "accept", str(offers[1]["id"]))
    assert (accepted["offer_id"], accepted["patient_id"], accepted["start"]) == (
        offers[1]["id"],
        int(s.patients[2]),
        at(day, "09:00"),
    )
    assert pms.json("frontdesk", "waitlist", "offers") == []
    booked = pms.json("frontdesk", "waitlist", "list", "--status", "booked")
    assert [(e["id"], e["booked_appointment_id"]) for e in booked] == [(cleo["id"], accepted["id"])]
    assert [e["id"] for e in pms.json("frontdesk", "waitlist", "list")] == [ben["id"], dora["id"]]

    # Any free time can be offered by hand; the patient who declined is back in line.
    slot = ["--provider", s.provider, "--location", s.location]
    by_hand = pms.json(
        "frontdesk", "waitlist", "offer", *slot, "--start", at(day, "10:00"),
        "--end", at(day, "10:30"),
    )  # fmt: skip
    assert [(o["rank"], o["entry_id"], o["start"]) for o in by_hand] == [
        (1, ben["id"], at(day, "10:00"))
    ]
    assert pms("frontdesk", "--format", "csv", "waitlist", "offers").stdout.splitlines() == [
        ",".join(OFFER_COLUMNS),
        f"{by_hand[0]['id']},1,open,{at(day, '10:00')},{at(day, '10:30')},{s.provider},"
        f"{s.location},{ben['id']},{s.patients[1]},{s.visit},",
    ]
    again = pms(
        "frontdesk", "waitlist", "offer", *slot, "--start", at(day, "10:00"),
        "--end", at(day, "10:30"),
    )  # fmt: skip
    assert again.exit_code == 0 and "nothing was offered" in again.stderr

    removed = pms.json(
        "frontdesk", "waitlist", "remove", str(ben["id"]), "--reason", "patient_request"
    )
    assert removed["status"] == "removed"
    expired = pms.json("frontdesk", "waitlist", "offers", "--status", "expired")
    assert [o["id"] for o in expired] == [by_hand[0]["id"]]
    assert (
        pms("frontdesk", "waitlist", "remove", str(dora["id"]), "--reason", "bored").exit_code == 2
    )
    refused(
        pms("frontdesk", "waitlist", "offer", *slot, "--start", "tomorrow", "--end", "later"),
        "starts_at: is not a valid date and time",
        "ends_at: is not a valid date and time",
    )
