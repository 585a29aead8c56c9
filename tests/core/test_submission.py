"""Submitting claims through a clearinghouse and applying what comes back
(999, 277CA), with the real pms_x12 writer and readers, the real directory
transport and a real SFTP server. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from pms_x12.validate import validate_file
from sqlalchemy import text
from sqlmodel import Session, select

from pms_core.models import (
    Acknowledgment,
    Claim,
    ClaimEvent,
    ClaimFinding,
    InboundFile,
    SubmissionBatch,
)
from pms_core.services import charges, claims, submission
from tests.billing_helpers import DOS, setup_billing, visit
from tests.x12_remits import PaidClaim, era_835
from tests.x12_responses import ClaimVerdict, ack_277ca, ack_999, ta1


@pytest.fixture
def billing(uow, practice):
    return setup_billing(uow, practice)


@pytest.fixture
def folders(tmp_path):
    out = {name: tmp_path / name for name in ("outbox", "inbox", "archive")}
    for folder in out.values():
        folder.mkdir()
    return out


@pytest.fixture
def clearinghouse(uow, folders):
    with uow("admin") as ctx:
        return submission.add_clearinghouse(
            ctx,
            name="Test Exchange",
            transport="directory",
            settings={k: str(v) for k, v in folders.items()},
            sender_id="PRACTICE01",
            receiver_id="CLEARHOUSE",
            receiver_name="Test Exchange",
            contact_name="Billing Office",
            contact_phone="2175550100",
            default=True,
        ).id


@pytest.fixture(scope="module")
def host_keys():
    import asyncssh

    return asyncssh.generate_private_key("ssh-ed25519"), asyncssh.generate_private_key(
        "ssh-ed25519"
    )


def _sftp_clearinghouse(uow, tmp_path, host_keys, *, presented_key):
    from tests.plugins.sftp_server import SftpServer, public_line

    root = tmp_path / "server"
    for folder in ("outbox", "inbox", "archive"):
        (root / folder).mkdir(parents=True)
    server = SftpServer(root, presented_key).start()
    with uow("admin") as ctx:
        row = submission.add_clearinghouse(
            ctx,
            name="SFTP Exchange",
            transport="sftp",
            settings={
                "host": "127.0.0.1",
                "port": str(server.port),
                "username": server.username,
                "password": server.password,
                "host_key": public_line(host_keys[0]),
                "outbox": "/outbox",
                "inbox": "/inbox",
                "timeout": "5",
            },
            sender_id="PRACTICE01",
            receiver_id="CLEARHOUSE",
            receiver_name="SFTP Exchange",
            contact_name="Billing Office",
            contact_email="edi@example.org",
            default=True,
        )
    return server, row.id


@pytest.fixture
def sftp_clearinghouse(uow, tmp_path, host_keys):
    server, row_id = _sftp_clearinghouse(uow, tmp_path, host_keys, presented_key=host_keys[0])
    yield server, row_id
    server.stop()


@pytest.fixture
def sftp_clearinghouse_wrong_key(uow, tmp_path, host_keys):
    """A server presenting a key other than the one configured (a changed or
    spoofed server)."""
    server, row_id = _sftp_clearinghouse(uow, tmp_path, host_keys, presented_key=host_keys[1])
    yield server, row_id
    server.stop()


def ready_claims(uow, practice, billing, n=2) -> list[Claim]:
    for i in range(n):
        visit(uow, practice, billing.patient_id if i % 2 == 0 else billing.dependent_id)
    with uow("biller") as ctx:
        built = claims.build_claims(ctx).claims
        outcomes = claims.scrub_claims(ctx)
    assert [o.status for o in outcomes] == ["ready"] * n, [o.findings for o in outcomes]
    return built


def submit(uow, **kw):
    with uow("biller") as ctx:
        return submission.submit_claims(ctx, **kw)


def statuses(engine) -> dict[str, str]:
    with Session(engine) as s:
        return {c.claim_number: c.status for c in s.exec(select(Claim))}


def test_ready_claims_leave_as_one_valid_837p_and_are_marked_submitted(
    engine, uow, practice, billing, clearinghouse, folders
):
    built = ready_claims(uow, practice, billing)
    (result,) = submit(uow)
    assert (result.status, result.claims, result.problems) == ("sent", 2, [])
    (sent,) = list(folders["outbox"].iterdir())
    assert sent.name == result.file_name
    report = validate_file(sent)
    assert report.valid, [str(f) for f in report.findings]
    content = sent.read_text()
    assert content.startswith("ISA*") and "*005010X222A1~" in content
    assert all(f"CLM*{c.claim_number}*" in content for c in built)
    assert set(statuses(engine).values()) == {"submitted"}
    with uow("biller") as ctx:
        detail = claims.get_claim(ctx, claim_id=built[0].id)
    assert detail.x12.startswith("HL*") and f"CLM*{built[0].claim_number}*" in detail.x12
    assert (
        detail.events[-1].to_status == "submitted" and detail.events[-1].batch_id == result.batch_id
    )
    assert detail.claim.first_submitted_at is not None and detail.claim.submission_count == 1


def test_control_numbers_are_never_reused(engine, uow, practice, billing, clearinghouse):
    ready_claims(uow, practice, billing, n=1)
    submit(uow)
    ready_claims(uow, practice, billing, n=1)
    submit(uow)
    with Session(engine) as s:
        controls = [b.interchange_control for b in s.exec(select(SubmissionBatch))]
    assert controls == [1, 2]


def test_a_batch_that_fails_validation_is_held_and_nothing_leaves(
    engine, uow, practice, billing, clearinghouse, folders
):
    ready_claims(uow, practice, billing, n=1)
    # An NPI that passes no check, slipped in behind the scrubber's back.
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE provider SET npi = '12345' WHERE id = :id"), {"id": practice.provider_id}
        )
    (result,) = submit(uow)
    assert result.status == "held" and result.problems
    assert all("12345" not in p for p in result.problems)  # positions and codes, no values
    assert list(folders["outbox"].iterdir()) == []
    # The claim is back on the scrub-errors worklist with the problem as a finding.
    assert set(statuses(engine).values()) == {"scrubbed"}
    with Session(engine) as s:
        batch = s.exec(select(SubmissionBatch)).one()
        findings = s.exec(select(ClaimFinding).where(ClaimFinding.code == "X12_VALIDATION")).all()
    assert batch.status == "held" and json.loads(batch.problems)
    assert findings and any(f.field.startswith("NM1") for f in findings)


def test_a_999_accepts_or_rejects_claims_by_transaction_set(
    engine, uow, practice, billing, clearinghouse
):
    ready_claims(uow, practice, billing)
    (result,) = submit(uow)
    with uow("biller") as ctx:
        outcome = submission.import_response(
            ctx, name="accept.999", data=ack_999(result.batch_id and 1, {"0001": "A"})
        )
    assert (outcome.status, outcome.accepted, outcome.rejected) == ("processed", 2, 0)
    assert set(statuses(engine).values()) == {"accepted"}


def test_a_rejecting_999_puts_the_claims_on_the_rejected_worklist_with_the_error_in_words(
    engine, uow, practice, billing, clearinghouse
):
    ready_claims(uow, practice, billing)
    submit(uow)
    with uow("biller") as ctx:
        outcome = submission.import_response(ctx, name="reject.999", data=ack_999(1, {"0001": "R"}))
        rejected = claims.list_claims(ctx, worklist="rejected")
    assert outcome.rejected == 2 and len(rejected) == 2
    with Session(engine) as s:
        event = s.exec(select(ClaimEvent).where(ClaimEvent.to_status == "rejected")).first()
        batch = s.exec(select(SubmissionBatch)).one()
    assert "NM1" in event.reason and "2010BA" in event.reason and event.inbound_file_id
    assert batch.status == "rejected"


def test_a_rejected_interchange_ta1_rejects_every_claim_in_the_batch(
    engine, uow, practice, billing, clearinghouse
):
    ready_claims(uow, practice, billing)
    submit(uow)
    with uow("biller") as ctx:
        outcome = submission.import_response(ctx, name="r.ta1", data=ta1(1, "R", "024"))
    assert (outcome.kind, outcome.rejected) == ("TA1", 2)
    assert set(statuses(engine).values()) == {"rejected"}
    with Session(engine) as s:
        reasons = s.exec(select(ClaimEvent.reason).where(ClaimEvent.to_status == "rejected")).all()
    assert all("TA1" in r for r in reasons)


def test_a_277ca_acknowledges_accepted_claims_and_rejects_the_others(
    engine, uow, practice, billing, clearinghouse
):
    first, second = ready_claims(uow, practice, billing)
    submit(uow)
    response = ack_277ca(
        [
            ClaimVerdict(first.claim_number, True, payer_claim_number="PCN900001"),
            ClaimVerdict(second.claim_number, False),
        ]
    )
    with uow("biller") as ctx:
        outcome = submission.import_response(ctx, name="claims.277", data=response)
    assert (outcome.accepted, outcome.rejected, outcome.unmatched) == (1, 1, 0)
    with Session(engine) as s:
        a, b = s.get(Claim, first.id), s.get(Claim, second.id)
        why = s.exec(
            select(ClaimEvent.reason).where(
                ClaimEvent.claim_id == second.id, ClaimEvent.to_status == "rejected"
            )
        ).one()
    assert (a.status, a.payer_claim_number) == ("acknowledged", "PCN900001")
    assert b.status == "rejected"
    assert "562" in why and "NPI" in why.upper() or "provider" in why.lower()


def test_an_acknowledgment_for_claims_we_do_not_know_is_kept_unmatched(
    engine, uow, practice, billing, clearinghouse
):
    ready_claims(uow, practice, billing, n=1)
    submit(uow)
    before = statuses(engine)
    with uow("biller") as ctx:
        outcome = submission.import_response(
            ctx, name="stranger.277", data=ack_277ca([ClaimVerdict("99999999", False)])
        )
        unmatched = submission.list_unmatched(ctx)
    assert outcome.status == "unmatched" and outcome.unmatched == 1
    assert [a.reference for a in unmatched] == ["99999999"]
    assert statuses(engine) == before


def test_an_unmatched_verdict_can_be_matched_by_hand(engine, uow, practice, billing, clearinghouse):
    (claim,) = ready_claims(uow, practice, billing, n=1)
    submit(uow)
    with uow("biller") as ctx:
        submission.import_response(
            ctx, name="typo.277", data=ack_277ca([ClaimVerdict("0000000X", False)])
        )
        (ack,) = submission.list_unmatched(ctx)
        submission.resolve_unmatched(ctx, acknowledgment_id=ack.id, claim_id=claim.id)
        assert submission.list_unmatched(ctx) == []
    assert statuses(engine)[claim.claim_number] == "rejected"


@pytest.mark.parametrize(
    "data",
    [
        b"ISA*00*   garbage",
        ack_999(1, {"0001": "A"})[:-30],  # truncated: no IEA
        ack_999(1, {"0001": "A"}).replace(b"005010X231A1", b"004010X231A1"),
    ],
    ids=["malformed", "truncated", "other version"],
)
def test_an_unreadable_response_is_kept_as_failed_and_changes_nothing(
    engine, uow, practice, billing, clearinghouse, data
):
    ready_claims(uow, practice, billing, n=1)
    submit(uow)
    before = statuses(engine)
    with uow("biller") as ctx:
        outcome = submission.import_response(ctx, name="bad.999", data=data)
    assert outcome.status == "failed" and outcome.message
    with Session(engine) as s:
        stored = s.get(InboundFile, outcome.inbound_file_id)
        assert s.exec(select(Acknowledgment)).all() == []
    assert (stored.status, stored.content) == ("failed", data)
    assert statuses(engine) == before


def test_the_same_file_twice_is_applied_once(engine, uow, practice, billing, clearinghouse):
    ready_claims(uow, practice, billing, n=1)
    submit(uow)
    data = ack_999(1, {"0001": "A"})
    with uow("biller") as ctx:
        first = submission.import_response(ctx, name="a.999", data=data)
        second = submission.import_response(ctx, name="a-again.999", data=data)
    assert (first.status, second.status) == ("processed", "duplicate")
    with Session(engine) as s:
        assert len(s.exec(select(InboundFile)).all()) == 1


def test_polling_applies_each_waiting_file_and_archives_it(
    engine, uow, practice, billing, clearinghouse, folders
):
    (claim,) = ready_claims(uow, practice, billing, n=1)
    submit(uow)
    (folders["inbox"] / "first.999").write_bytes(ack_999(1, {"0001": "A"}))
    (folders["inbox"] / "then.277").write_bytes(
        ack_277ca([ClaimVerdict(claim.claim_number, True, payer_claim_number="PCN1")])
    )
    (folders["inbox"] / "junk.txt").write_bytes(b"not x12 at all")
    with uow("biller") as ctx:
        outcomes = submission.poll_clearinghouse(ctx)
    assert [(o.name, o.status) for o in outcomes] == [
        ("first.999", "processed"),
        ("junk.txt", "failed"),
        ("then.277", "processed"),
    ]
    assert statuses(engine)[claim.claim_number] == "acknowledged"
    assert sorted(p.name for p in folders["archive"].iterdir()) == [
        "first.999",
        "junk.txt",
        "then.277",
    ]
    assert list(folders["inbox"].iterdir()) == []


def test_a_remittance_polled_from_the_clearinghouse_is_posted(
    engine, uow, practice, billing, clearinghouse, folders
):
    (claim,) = ready_claims(uow, practice, billing, n=1)
    submit(uow)
    paid = PaidClaim(claim.claim_number, "125.00", "92.10", adjustments=[("CO", "45", "32.90")])
    (folders["inbox"] / "remit.835").write_bytes(era_835([paid]))
    with uow("biller") as ctx:
        (outcome,) = submission.poll_clearinghouse(ctx)
    assert (outcome.name, outcome.kind, outcome.status) == ("remit.835", "835", "posted")
    assert statuses(engine)[claim.claim_number] == "paid"
    assert [p.name for p in folders["archive"].iterdir()] == ["remit.835"]


# --- SFTP -----------------------------------------------------------------------------------
def test_claims_go_out_over_sftp_after_the_server_comes_back(
    engine, uow, practice, billing, sftp_clearinghouse
):
    server, clearinghouse_id = sftp_clearinghouse
    ready_claims(uow, practice, billing, n=1)
    server.stop()
    (result,) = submit(uow)
    assert result.status == "failed" and "127.0.0.1" in (result.error or "")
    assert set(statuses(engine).values()) == {"ready"}
    server.start()
    (retry,) = submit(uow)
    assert retry.status == "sent"
    assert set(statuses(engine).values()) == {"submitted"}
    assert [p.name for p in (server.root / "outbox").iterdir()] == [retry.file_name]


def test_an_unknown_sftp_host_key_marks_nothing_submitted(
    engine, uow, practice, billing, sftp_clearinghouse_wrong_key
):
    ready_claims(uow, practice, billing, n=1)
    (result,) = submit(uow)
    assert result.status == "failed" and "host key" in (result.error or "")
    assert set(statuses(engine).values()) == {"ready"}


def test_an_outpatient_institutional_claim_goes_out_as_a_valid_837i(
    engine, uow, practice, billing, clearinghouse, folders
):
    with uow("biller") as ctx:
        enc = charges.create_encounter(
            ctx,
            patient_id=billing.patient_id,
            provider_id=practice.provider_id,
            location_id=practice.location_id,
            date_of_service=DOS,
            claim_kind="837I",
            type_of_bill="13",
            patient_status="01",
            attending_provider_id=practice.provider_id,
            diagnoses=["I10", "E11.9"],
        )
        charges.add_charge(ctx, encounter_id=enc.id, code="93000", revenue_code="0730")
        charges.add_charge(
            ctx, encounter_id=enc.id, code="36415", revenue_code="0300", pointers=[2]
        )
        charges.post_encounter(ctx, encounter_id=enc.id)
        (claim,) = claims.build_claims(ctx).claims
        (outcome,) = claims.scrub_claims(ctx)
    assert (claim.kind, outcome.status) == ("837I", "ready"), outcome.findings
    (result,) = submit(uow)
    assert (result.kind, result.status) == ("837I", "sent")
    (sent,) = list(folders["outbox"].iterdir())
    report = validate_file(sent)
    assert report.valid, [str(f) for f in report.findings]
    content = sent.read_text()
    assert "*005010X223A2~" in content and f"CLM*{claim.claim_number}*70***13:A:1*" in content
    assert "SV2*0730*HC:93000*55*UN*1~" in content
