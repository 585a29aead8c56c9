"""Reminder sending benchmark: 10,000 due email reminders to a loopback SMTP server.

    python -m bench.remind                    # SQLite files in a temporary directory
    python -m bench.remind --db postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.remind --rounds 5         # more rounds (default 3)
    python -m bench.remind --profile          # also print a cProfile of the first service run

Figure (f) (see bench/README.md): the service path of `pms remind send`
(`reminders.send_due` in a real unit of work as a logged-in admin: reply check,
planning the 10,000 reminder rows, claiming in batches, rendering the templates,
delivering over one SMTP session, recording an attempt and the status of each,
the audit event) against a bare smtplib loop that sends the same 10,000 messages
(same sender, recipients, subjects and bodies, built before the clock starts)
over one connection to the same aiosmtpd server in the same run: the peer does
nothing but SMTP, so the ratio is what pms adds to the delivery itself. Each
round builds a fresh database (with --db, a scratch database on that PostgreSQL
server) and times both, alternating which goes first; the figure is the ratio
of the medians. Target: service <= 1.5x bare.

The practice, its user, the reminder rule and the SMTP settings come from the
real services; the 10,000 patients and appointments are bulk-inserted.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import smtplib
import socket
import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from pms_reminders.email import build_message, header_address
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from bench.run import machine
from pms_core.clock import FixedClock
from pms_core.context import unit_of_work
from pms_core.db import make_engine, normalize_url
from pms_core.migrations.runner import upgrade
from pms_core.models import Appointment, AppointmentType, Patient
from pms_core.plugins import get_plugin_manager
from pms_core.services import config, reminders
from pms_core.services.practice import create_practice, insert_location, insert_provider
from pms_core.services.users import create_user

COUNT = 10_000
RATIO_LIMIT = 1.5
SENDER = "Maple Family Medicine <reminders@maple.example>"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 09:00 in Chicago: outside quiet hours
CHICAGO = ZoneInfo("America/Chicago")


class Sink:
    """Accepts every message and only counts it: the server costs the same for
    both peers and as little as possible."""

    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(url: str, port: int) -> tuple[int, int]:
    """The practice, an admin, the SMTP settings, an email rule 72h before, and
    COUNT patients each with one appointment in the next two days."""
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        practice = create_practice(
            s,
            name="Maple Family Medicine",
            group_npi="1234567893",
            tin="123456789",
            taxonomy="207Q00000X",
            address1="100 Bench Way",
            city="Springfield",
            state="IL",
            zip="62701",
            time_zone="America/Chicago",
        )
        location = insert_location(
            s,
            practice.id,
            name="Main Clinic",
            address1="100 Bench Way",
            city="Springfield",
            state="IL",
            zip="62701",
        )
        provider = insert_provider(
            s,
            practice.id,
            npi="1245319599",
            taxonomy="207Q00000X",
            first_name="Alex",
            last_name="Rivera",
            credential="MD",
        )
        user = create_user(
            s,
            practice_id=practice.id,
            username="bench_admin",
            full_name="Bench Admin",
            role="admin",
            password="bench-password-1",
        )
        visit = AppointmentType(practice_id=practice.id, name="Office visit", duration_minutes=15)
        s.add(visit)
        s.flush()
        patients = [
            {
                "practice_id": practice.id,
                "account_number": f"B{n:07d}",
                "first_name": f"Pat{n}",
                "last_name": "Bench",
                "dob": date(1980, 1, 1) + timedelta(days=n % 9000),
                "sex": "F",
                "address1": "1 Synthetic St",
                "city": "Springfield",
                "state": "IL",
                "zip": "62701",
                "email": f"pat{n}@example.com",
                "preferred_contact": "email",
                "search_first": f"pat{n}",
                "search_last": "bench",
                "active": True,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(COUNT)
        ]
        s.execute(insert(Patient), patients)
        ids = s.execute(select(Patient.id).order_by(Patient.id)).scalars().all()
        first = NOW + timedelta(days=1)
        s.execute(
            insert(Appointment),
            [
                {
                    "practice_id": practice.id,
                    "patient_id": pid,
                    "provider_id": provider.id,
                    "location_id": location.id,
                    "appointment_type_id": visit.id,
                    "starts_at": first + timedelta(seconds=15 * n),
                    "ends_at": first + timedelta(seconds=15 * n, minutes=15),
                    "status": "booked",
                    "overbooked": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n, pid in enumerate(ids)
            ],
        )
        s.commit()
        practice_id, user_id = practice.id, user.id
    with unit_of_work(engine, user_id=user_id, clock=FixedClock(NOW)) as ctx:
        for key, value in {
            "smtp.host": "127.0.0.1",
            "smtp.port": str(port),
            "smtp.starttls": "false",
            "smtp.from": SENDER,
        }.items():
            config.set_setting(ctx, key=key, value=value)
        reminders.add_rule(ctx, channel="email", offset="72h")
    engine.dispose()
    return practice_id, user_id


def bare_messages(url: str) -> list[tuple[str, bytes]]:
    """(recipient, message bytes) of the reminders the service will send: the
    same built-in template filled with the same values, built with the email
    channel's own `build_message`, so the bare loop only has the SMTP to do."""
    engine = make_engine(url)
    channel = reminders.reminder_channels(get_plugin_manager())["email"]
    with Session(engine) as s:
        rows = s.execute(
            select(Patient.email, Patient.first_name, Appointment.starts_at).join(
                Appointment, Appointment.patient_id == Patient.id
            )
        ).all()
    engine.dispose()
    out = []
    for recipient, first, starts_at in rows:
        local = starts_at.astimezone(CHICAGO)
        values = {
            "first_name": first,
            "date": f"{local:%A}, {local:%B} {local.day}",
            "time": f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}",
            "location": "Main Clinic",
            "practice": "Maple Family Medicine",
            "provider": "Alex Rivera, MD",
            "reply": "",
        }
        data = build_message(
            header_address(SENDER),
            recipient,
            channel.default_subject.format_map(values),
            channel.default_body.format_map(values).strip(),
            f"<{uuid4().hex}@maple.example>",
        )
        out.append((recipient, data))
    return out


def bare_loop(port: int, messages: list[tuple[str, bytes]]) -> float:
    """smtplib over one connection, sending ready-made messages: nothing but SMTP."""
    start = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    smtp.ehlo()
    for recipient, data in messages:
        smtp.sendmail("reminders@maple.example", [recipient], data)
    smtp.quit()
    return time.perf_counter() - start


def service_run(url: str, user_id: int, profile: bool) -> tuple[float, reminders.SendResult, str]:
    engine = make_engine(url)
    pm = get_plugin_manager()
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    with unit_of_work(engine, user_id=user_id, pm=pm, clock=FixedClock(NOW)) as ctx:
        result = reminders.send_due(ctx)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - start
    engine.dispose()
    report = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        report = out.getvalue()
    return elapsed, result, report


@contextmanager
def fresh_database(server: str | None, tmp: Path, n: int):
    """A new empty database for round `n`: a SQLite file in `tmp`, or (with
    --db) a scratch database on that PostgreSQL server, dropped afterwards."""
    if server is None:
        yield f"sqlite:///{tmp / f'remind{n}.db'}"
        return
    name = f"pms_bench_remind_{n}"
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield make_url(normalize_url(server)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="PostgreSQL server URL (default: SQLite files)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each on a fresh database")
    parser.add_argument("--profile", action="store_true", help="profile the first service run")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    print(f"database: {'postgresql' if args.db else 'sqlite'}")
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    service: list[float] = []
    bare: list[float] = []
    report = ""
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                with fresh_database(args.db, Path(tmp), n) as url:
                    _practice_id, user_id = build(url, port)
                    messages = bare_messages(url)
                    before = sink.count
                    # Alternate which goes first, so drift in the machine's load
                    # does not always favour the same side.
                    if n % 2:
                        elapsed, result, report = service_run(url, user_id, args.profile and not n)
                        bare.append(bare_loop(port, messages))
                    else:
                        bare.append(bare_loop(port, messages))
                        elapsed, result, report = service_run(url, user_id, args.profile and not n)
                    service.append(elapsed)
                    assert result.sent == COUNT and sink.count - before == 2 * COUNT
                    print(
                        f"  round {n + 1}: service {elapsed:.2f} s, bare {bare[-1]:.2f} s,"
                        f" ratio {elapsed / bare[-1]:.2f}"
                    )
    finally:
        controller.stop()
    mid_service, mid_bare = statistics.median(service), statistics.median(bare)
    ratio = mid_service / mid_bare
    print()
    print(f"(f) pms remind send, {COUNT:,} due email reminders to loopback aiosmtpd")
    print(
        f"  service path (send_due), median {mid_service:7.2f} s  {COUNT / mid_service:6.0f} msg/s"
    )
    print(f"  bare smtplib loop, median       {mid_bare:7.2f} s  {COUNT / mid_bare:6.0f} msg/s")
    verdict = "PASS" if ratio <= RATIO_LIMIT else "MISS"
    print(f"  service / bare                  {ratio:7.2f}x    <= {RATIO_LIMIT}x   {verdict}")
    if report:
        print()
        print(report)


if __name__ == "__main__":
    main()
