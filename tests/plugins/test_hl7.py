"""The EHR interface (pms_hl7) over a real MLLP connection on loopback, on
SQLite and PostgreSQL: ADT registers and updates patients with their
insurance, SIU books and cancels, DFT posts charges, A40 merges; every message
gets its ACK (AA applied, AE kept for a person, AR refused) and is logged; a
resent message is not applied twice. All data is synthetic."""

from __future__ import annotations

import asyncio

import pytest
from hl7.mllp import open_hl7_connection
from pms_hl7.listener import Listener, process_folder
from sqlalchemy import func, select

from pms_core import ledger
from pms_core.ledger import Account
from pms_core.models import (
    Appointment,
    AppointmentType,
    Coverage,
    Encounter,
    InterfaceMessage,
    Patient,
    PatientLink,
)
from pms_core.services import fees

NPI = "1245319599"  # the practice fixture's provider


def segment(name: str, fields: dict[int, str]) -> str:
    """A segment with the given fields (HL7 numbering) and the rest empty."""
    return "|".join([name, *(fields.get(n, "") for n in range(1, max(fields) + 1))])


def msh(kind: str, control: str) -> str:
    return f"MSH|^~\\&|EHR|CLINIC|PMS|PRACTICE|20260302090000||{kind}|{control}|P|2.5.1"


def adt(control: str, event: str = "A04", ehr_id: str = "E100", city: str = "Springfield",
        in1: bool = True) -> str:  # fmt: skip
    segments = [
        msh(f"ADT^{event}^ADT_A01", control),
        f"EVN|{event}|20260302090000",
        f"PID|1||{ehr_id}^^^EHR^MR||Quill^Dana^M||19800402|F|||1 Elm St^^{city}^IL^62701||"
        "^PRN^PH^^^217^5550101~^PRN^CP^^^217^5550102~^NET^Internet^dq@example.org",
        "PV1|1|O",
    ]
    if in1:
        segments.append(
            segment(
                "IN1",
                {
                    1: "1",
                    3: "ACME1",
                    4: "Acme Health Plan",
                    8: "GRP77",
                    12: "20250101",
                    16: "Quill^Dana",
                    17: "SEL",
                    18: "19800402",
                    36: "W123456789",
                },
            )  # fmt: skip
        )
    return "\r".join(segments)


def siu(control: str, event: str, appt: str = "A-1", start: str = "202603091000") -> str:
    return "\r".join(
        [
            msh(f"SIU^{event}^SIU_S12", control),
            segment("SCH", {1: appt, 2: appt, 9: "20", 10: "MIN", 11: f"^^20^{start}"}),
            "PID|1||E100^^^EHR^MR||Quill^Dana||19800402|F",
            "AIS|1||OV^Office Visit",
            f"AIP|1||{NPI}^Rivera^Alex",
            "AIL|1||^^^Main Clinic",
        ]
    )


def dft(control: str, ehr_id: str = "E100") -> str:
    return "\r".join(
        [
            msh("DFT^P03^DFT_P03", control),
            "EVN|P03|20260302090000",
            f"PID|1||{ehr_id}^^^EHR^MR||Quill^Dana||19800402|F",
            "PV1|1|O|^^^Main Clinic",
            segment(
                "FT1",
                {
                    1: "1",
                    4: "20260302",
                    6: "CG",
                    7: "99213^Office visit^CPT",
                    10: "1",
                    19: "E11.9~I10",
                    20: f"{NPI}^Rivera^Alex",
                    25: "99213",
                },
            ),  # fmt: skip
            "DG1|1||E11.9^Type 2 diabetes^I10",
        ]
    )


@pytest.fixture
def listener(engine, practice, clock, pm, uow):
    with uow("admin") as ctx:
        fees.import_fee_schedule(ctx, rows=[{"code": "99213", "amount": "125.00"}])
        ctx.session.add(
            AppointmentType(practice_id=ctx.practice_id, name="Office Visit", duration_minutes=20)
        )
    server = Listener(
        engine, user_id=practice.users["biller"], pm=pm, host="127.0.0.1", port=0, clock=clock
    )
    server.start_in_thread()
    yield server
    server.stop()


def send(port: int, *messages: str) -> list[str]:
    """Send each message over one MLLP connection; the ACKs, in order."""

    async def talk() -> list[str]:
        reader, writer = await open_hl7_connection("127.0.0.1", port, encoding="utf-8")
        acks = []
        try:
            for message in messages:
                writer.writeblock(message.encode())
                await writer.drain()
                acks.append((await asyncio.wait_for(reader.readblock(), 30)).decode())
        finally:
            writer.close()
        return acks

    return asyncio.run(talk())


def msa(ack: str) -> list[str]:
    line = next(s for s in ack.split("\r") if s.startswith("MSA"))
    return line.split("|")[1:]


def count(engine, model, *where) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)
        return conn.execute(query).scalar_one()


def test_adt_registers_updates_and_a_resent_message_is_not_applied_twice(listener, engine):
    acks = send(listener.port, adt("M1"), adt("M2", "A08", city="Peoria"), adt("M2", "A08"))

    assert [msa(a)[:2] for a in acks] == [["AA", "M1"], ["AA", "M2"], ["AA", "M2"]]
    assert acks[0].startswith("MSH|^~\\&|PMS|PRACTICE|EHR|CLINIC|")
    with engine.connect() as conn:
        patient = conn.execute(select(Patient)).one()
        link = conn.execute(select(PatientLink.external_id, PatientLink.patient_id)).one()
        coverage = conn.execute(select(Coverage.member_id, Coverage.group_number)).one()
    assert (patient.last_name, patient.city, patient.mobile_phone, patient.email) == (
        "Quill", "Peoria", "2175550102", "dq@example.org",
    )  # fmt: skip
    assert link == ("E100", patient.id)
    assert tuple(coverage) == ("W123456789", "GRP77")
    assert count(engine, InterfaceMessage, InterfaceMessage.status == "applied") == 2


def test_bad_messages_are_refused_and_logged_without_their_content(listener, engine):
    acks = send(
        listener.port,
        "HELLO|not hl7",
        adt("M9", "A99"),
        msh("ADT^A08^ADT_A01", "") + "\rPID|1||E1",
    )
    assert [msa(a)[0] for a in acks] == ["AR", "AR", "AR"]
    assert "ADT A99 is not a message pms takes" in msa(acks[1])[2]  # no separators in text
    assert "MSH-10" in msa(acks[2])[2]
    assert count(engine, InterfaceMessage, InterfaceMessage.status == "rejected") == 3


def test_charges_for_an_unknown_patient_wait_for_a_person(listener, engine):
    (ack,) = send(listener.port, dft("D1", ehr_id="NOBODY"))
    assert msa(ack)[:2] == ["AE", "D1"] and "no patient is linked" in msa(ack)[2]
    with engine.connect() as conn:
        message = conn.execute(select(InterfaceMessage)).one()
    assert (message.status, message.message_type) == ("pending", "DFT^P03")
    assert "NOBODY" in message.payload and "NOBODY" not in message.reason
    assert count(engine, Encounter) == 0


def test_dft_posts_the_charges_of_a_known_patient(listener, engine, practice):
    acks = send(listener.port, adt("M1"), dft("D2"))
    assert [msa(a)[0] for a in acks] == ["AA", "AA"], acks
    with engine.connect() as conn:
        patient_id = conn.execute(select(Patient.id)).scalar_one()
    from sqlmodel import Session

    with Session(engine) as s:
        owed = ledger.balance(s, practice.id, account=Account.CHARGES, patient_id=patient_id)
    assert owed.cents == -125_00
    assert count(engine, Encounter, Encounter.status == "posted") == 1


def test_siu_books_moves_and_cancels(listener, engine):
    acks = send(
        listener.port,
        adt("M1"),
        siu("S1", "S12"),
        siu("S2", "S13", start="202603091100"),
        siu("S3", "S15"),
    )
    assert [msa(a)[0] for a in acks] == ["AA"] * 4, [msa(a) for a in acks]
    with engine.connect() as conn:
        appt = conn.execute(select(Appointment)).one()
    assert (appt.external_id, appt.status) == ("A-1", "cancelled")
    assert (appt.starts_at.hour, (appt.ends_at - appt.starts_at).seconds) == (15, 1200)


def test_a40_merges_a_patient_without_financial_history(listener, engine):
    acks = send(
        listener.port,
        adt("M1", ehr_id="E100"),
        adt("M2", ehr_id="E200", in1=False).replace("Quill^Dana^M", "Quill^Dan"),
        siu("S1", "S12").replace("E100^^^EHR", "E200^^^EHR"),
        "\r".join(
            [
                msh("ADT^A40^ADT_A39", "M3"),
                "EVN|A40",
                "PID|1||E100^^^EHR^MR||Quill^Dana",
                "MRG|E200^^^EHR^MR",
            ]
        ),  # fmt: skip
    )
    assert [msa(a)[0] for a in acks] == ["AA"] * 4, [msa(a) for a in acks]
    with engine.connect() as conn:
        survivor, prior = conn.execute(
            select(Patient.id, Patient.active).order_by(Patient.id)
        ).all()
        moved = conn.execute(select(Appointment.patient_id)).scalar_one()
        links = conn.execute(select(PatientLink.patient_id)).scalars().all()
    assert prior.active is False and survivor.active is True
    assert moved == survivor.id and set(links) == {survivor.id}


def test_the_file_drop_mode_writes_an_ack_per_file(engine, practice, clock, pm, tmp_path):
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    (inbox / "0001.hl7").write_text(adt("F1").replace("\r", "\n"))
    (inbox / "0002.hl7").write_text("garbage")
    done = process_folder(
        engine, user_id=practice.users["biller"], pm=pm, inbox=inbox, outbox=outbox, clock=clock
    )
    assert done == 2
    assert msa((outbox / "0001.hl7.ack").read_bytes().decode())[:2] == ["AA", "F1"]
    assert msa((outbox / "0002.hl7.ack").read_bytes().decode())[0] == "AR"
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["0001.hl7", "0002.hl7"]
    assert count(engine, InterfaceMessage, InterfaceMessage.channel == "file") == 2


def test_the_cli_drops_files_and_lists_what_waits(db_url, cli_env, practice, tmp_path):
    from tests.cli_helpers import run_cli
    from tests.helpers import PASSWORD

    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    (inbox / "a.hl7").write_text(dft("D7", ehr_id="NOBODY"))
    env = {**cli_env, "PMS_USER": "biller", "PMS_PASSWORD": PASSWORD}
    base = ["--db", db_url, "hl7"]
    dropped = run_cli([*base, "drop", "--inbox", str(inbox), "--outbox", str(outbox)], env=env)
    assert dropped.exit_code == 0 and "1 messages processed" in dropped.stderr
    listed = run_cli([*base, "messages", "--status", "pending"], env=env)
    assert listed.exit_code == 0
    assert "DFT^P03" in listed.stdout and "D7" in listed.stdout and "pending" in listed.stdout
    assert "NOBODY" not in listed.stdout  # the reason names the field, not the value


def test_an_ehr_id_that_is_another_patients_account_number_waits_for_a_person(
    listener, engine, uow
):
    from pms_core.services import patients

    with uow("admin") as ctx:
        other = patients.register_patient(
            ctx, account_number="E100", first_name="Otto", last_name="Else", dob="1970-01-01",
            sex="M", address1="2 Oak Ave", city="Springfield", state="IL", zip="62702",
            mobile_phone="217-555-0177",
        )  # fmt: skip
    (ack,) = send(listener.port, adt("M1"))
    assert msa(ack)[:2] == ["AE", "M1"] and "account number in use" in msa(ack)[2]
    with engine.connect() as conn:
        assert (
            conn.execute(select(Patient.last_name).where(Patient.id == other.id)).scalar() == "Else"
        )
        assert conn.execute(select(func.count()).select_from(PatientLink)).scalar() == 0


def test_a_pending_message_is_applied_again_once_its_cause_is_fixed(listener, engine, uow):
    from pms_hl7.listener import reapply

    from pms_core.errors import Conflict

    send(listener.port, dft("D1"), dft("D2", ehr_id="GHOST"))  # no patient yet for either
    send(listener.port, adt("M1"))  # E100 registered: D1 can now apply
    with engine.connect() as conn:
        first, second = conn.execute(
            select(InterfaceMessage.id).where(InterfaceMessage.status == "pending")
            .order_by(InterfaceMessage.id)
        ).scalars().all()  # fmt: skip
    with uow("biller") as ctx:
        assert reapply(ctx, first).status == "applied"
        again = reapply(ctx, second)
        assert again.status == "pending" and "no patient is linked" in again.reason
    with uow("biller") as ctx:
        from pms_core.services import interface

        assert interface.resolve(ctx, message_id=second).status == "resolved"
        with pytest.raises(Conflict):
            reapply(ctx, second)
    assert count(engine, Encounter, Encounter.status == "posted") == 1


def test_the_interface_screen_lists_messages_and_applies_a_pending_one_again(
    listener, engine, practice, clock, pm
):
    from pms_tui.app import PmsApp
    from pms_tui.screens.interface import InterfaceScreen
    from pms_tui.screens.main import MainScreen
    from textual.widgets import DataTable

    from tests.tui.support import notified, run, wait_until

    send(listener.port, dft("D1"), adt("M1"))  # the charges came before the patient

    async def main():
        app = PmsApp(engine, pm=pm, user_id=practice.users["biller"], clock=clock,
                     disable_idle_lock_for_testing=True)  # fmt: skip
        async with app.run_test(size=(130, 40)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
            await app.action_interface()
            await wait_until(pilot, lambda: isinstance(app.screen, InterfaceScreen))
            screen = app.screen
            table = screen.query_one("#hl7-list", DataTable)
            await wait_until(pilot, lambda: table.row_count == 2)
            await pilot.press("p")
            await wait_until(pilot, lambda: table.row_count == 1)
            assert str(table.get_row_at(0)[2]) == "DFT^P03"
            await pilot.press("r")
            await wait_until(pilot, lambda: notified(app, ": applied."))
            await wait_until(pilot, lambda: table.row_count == 0)

    run(main())
    assert count(engine, Encounter, Encounter.status == "posted") == 1
