"""PHI reads are audited in grouped commits: every read reaches the chain, in
order, stamped with the time it was made, and none is lost while the database
is busy. On both engines."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from pms_core import audit
from pms_core.context import unit_of_work
from pms_core.models import AuditEvent
from pms_core.services import patients
from tests.cli_helpers import run_cli
from tests.helpers import PASSWORD


@pytest.fixture
def patient_id(uow) -> int:
    with uow("frontdesk") as ctx:
        return patients.register_patient(
            ctx,
            first_name="Readfirst",
            last_name="Grouped",
            dob="1980-05-06",
            sex="M",
            address1="1 Synthetic St",
            city="Springfield",
            state="IL",
            zip="62701",
            mobile_phone="2175550188",
        ).id


def events(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_each_search_reaches_the_chain_stamped_when_it_was_made(
    engine, practice, uow, clock, patient_id
):
    times = []
    for minutes in (0, 7, 9):
        clock.set(datetime(2026, 3, 2, 15, minutes, tzinfo=UTC))
        times.append(clock.now())
        with uow("frontdesk") as ctx:
            patients.find_patients(ctx, text="grouped")
    clock.advance(timedelta(hours=1))  # written later: the events keep the read time
    assert audit.flush_reads(engine)

    found = events(engine, "patient.search")
    assert [e.at for e in found] == times
    assert [e.seq for e in found] == sorted(e.seq for e in found)
    assert all(e.user_id == practice.users["frontdesk"] for e in found)
    assert all(f"[{patient_id}]" in e.detail for e in found)
    with Session(engine) as s:
        assert audit.verify(s).ok


def test_a_search_in_a_unit_of_work_that_rolls_back_is_not_kept(engine, uow, patient_id):
    with pytest.raises(RuntimeError), uow("frontdesk") as ctx:
        patients.find_patients(ctx, text="grouped")
        raise RuntimeError("the caller failed after reading")
    assert audit.flush_reads(engine)
    assert events(engine, "patient.search") == []


def test_grouped_reads_and_direct_writes_from_many_threads_make_one_valid_chain(
    engine, practice, pm, clock, patient_id
):
    searches_each, writes_each = 15, 5
    errors: list[BaseException] = []

    def searcher():
        try:
            for _ in range(searches_each):
                with unit_of_work(
                    engine, user_id=practice.users["frontdesk"], pm=pm, clock=clock
                ) as ctx:
                    patients.find_patients(ctx, text="grouped")
        except BaseException as exc:  # reported below
            errors.append(exc)

    def writer():
        try:
            for i in range(writes_each):
                with unit_of_work(
                    engine, user_id=practice.users["admin"], pm=pm, clock=clock
                ) as ctx:
                    audit.record(ctx, action="user.list", detail={"n": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    threads += [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert audit.flush_reads(engine)

    assert len(events(engine, "patient.search")) == 3 * searches_each
    assert len(events(engine, "user.list")) == 2 * writes_each
    with Session(engine) as s:
        result = audit.verify(s)
    assert result.ok, result.problems


def test_read_events_wait_out_a_locked_chain_and_none_is_lost(engine, practice, clock):
    writer = audit.read_writer(engine)
    read = audit.PendingEvent(
        clock.now(), "patient.read", "ok", practice.users["biller"], practice.id, None, "{}"
    )
    with engine.connect() as blocker:
        # Another transaction holds the chain's head, as a long audited write
        # would (on SQLite, any transaction: each begins IMMEDIATE).
        blocker.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
                        if engine.dialect.name == "postgresql" else text("SELECT 1"))  # fmt: skip
        writer.submit([read, read])
        assert not audit.flush_reads(engine, timeout=1.0)  # still waiting, kept in memory
        assert writer.pending() == 2
        blocker.rollback()
    assert audit.flush_reads(engine)
    assert len(events(engine, "patient.read")) == 2
    with Session(engine) as s:
        assert audit.verify(s).ok


def test_a_search_from_the_command_line_is_in_the_log_when_the_command_ends(
    db_url, engine, practice, patient_id, cli_env
):
    def pms(role, *args):
        env = {**cli_env, "PMS_USER": role, "PMS_PASSWORD": PASSWORD}
        return run_cli(["--db", db_url, "--format", "json", *args], env=env)

    assert pms("frontdesk", "patient", "find", "grouped").exit_code == 0
    result = pms("auditor", "audit", "log", "--action", "patient.search")
    assert result.exit_code == 0, result.stderr
    assert f"[{patient_id}]" in result.stdout
