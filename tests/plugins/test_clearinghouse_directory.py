"""The `directory` clearinghouse transport on real folders (tmp_path), and the
pms_clearinghouse plugin's registration. What is in the folders is checked, not
what was called. File contents are synthetic X12-like text."""

from __future__ import annotations

import os

import pytest
from pms_clearinghouse.directory import DIRECTORY, open_directory

from pms_core.plugins import get_plugin_manager
from pms_core.transport import InboundFile, OutboundFile, TransportError, TransportType

CLAIMS_A = b"ISA*00*          *00*          *ZZ*SUBMITTER01*ZZ*RECEIVER01*~GS*HC*1~SE*1~"
CLAIMS_B = b"ISA*00*          *00*          *ZZ*SUBMITTER01*ZZ*RECEIVER01*~GS*HC*2~SE*2~"
ACK_999 = b"ISA*00*~GS*FA*~ST*999*0001~AK1*HC*1~AK9*A*1*1*1~SE*4*0001~"
ACK_277 = b"ISA*00*~GS*HN*~ST*277*0001~SE*2*0001~"


@pytest.fixture
def folders(tmp_path):
    for name in ("outbox", "inbox", "archive"):
        (tmp_path / name).mkdir()
    return tmp_path


def settings_for(folders, **changes):
    settings = {
        "outbox": str(folders / "outbox"),
        "inbox": str(folders / "inbox"),
        "archive": None,
    }
    settings.update(changes)
    return settings


def listing(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- the plugin -------------------------------------------------------------------------
def test_plugin_registers_the_directory_and_sftp_transport_types():
    pm = get_plugin_manager()
    contributed: list[TransportType] = []
    pm.hook.register_clearinghouses(register=contributed.append)
    by_name = {t.name: t for t in contributed}
    assert {"directory", "sftp"} <= set(by_name)
    directory, sftp = by_name["directory"], by_name["sftp"]
    assert [s.name for s in directory.settings] == ["outbox", "inbox", "archive"]
    assert directory.setting("outbox").required and not directory.setting("archive").required
    assert {s.name for s in sftp.settings if s.secret} == {"password", "passphrase"}
    assert {s.name for s in sftp.settings if s.required} >= {"host", "username", "outbox", "inbox"}
    assert sftp.setting("port").default == "22" and sftp.setting("timeout").default == "30"
    assert callable(directory.open) and callable(sftp.open)


# --- submit -------------------------------------------------------------------------------
def test_submit_writes_each_file_whole_and_leaves_no_temporary_names(folders):
    transport = DIRECTORY.open(settings_for(folders))
    transport.submit([OutboundFile("batch-0001.x12", CLAIMS_A), OutboundFile("b2.x12", CLAIMS_B)])
    assert listing(folders / "outbox") == {"b2.x12": CLAIMS_B, "batch-0001.x12": CLAIMS_A}
    assert names(folders / "outbox") == ["b2.x12", "batch-0001.x12"]


def test_submit_again_with_identical_content_is_treated_as_delivered(folders):
    transport = DIRECTORY.open(settings_for(folders))
    transport.submit([OutboundFile("batch-0001.x12", CLAIMS_A)])
    before = os.stat(folders / "outbox" / "batch-0001.x12")
    transport.submit([OutboundFile("batch-0001.x12", CLAIMS_A), OutboundFile("b2.x12", CLAIMS_B)])
    after = os.stat(folders / "outbox" / "batch-0001.x12")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert listing(folders / "outbox") == {"b2.x12": CLAIMS_B, "batch-0001.x12": CLAIMS_A}


def test_submit_never_replaces_a_different_file_of_the_same_name(folders):
    (folders / "outbox" / "batch-0001.x12").write_bytes(CLAIMS_B)
    transport = DIRECTORY.open(settings_for(folders))
    with pytest.raises(TransportError) as err:
        transport.submit([OutboundFile("batch-0001.x12", CLAIMS_A)])
    message = str(err.value)
    assert "'batch-0001.x12'" in message and "different" in message and "ISA" not in message
    assert listing(folders / "outbox") == {"batch-0001.x12": CLAIMS_B}
    assert names(folders / "outbox") == ["batch-0001.x12"]


def test_submit_failing_midway_keeps_earlier_files_and_a_retry_writes_the_rest(folders):
    blocker = folders / "outbox" / ".b2.x12.part"
    blocker.mkdir()  # the temporary file of the second file cannot be written
    transport = DIRECTORY.open(settings_for(folders))
    files = [OutboundFile("b1.x12", CLAIMS_A), OutboundFile("b2.x12", CLAIMS_B)]
    with pytest.raises(TransportError, match="could not write 'b2.x12' to the outbox folder"):
        transport.submit(files)
    assert listing(folders / "outbox") == {"b1.x12": CLAIMS_A}
    blocker.rmdir()
    transport.submit(files)
    assert listing(folders / "outbox") == {"b1.x12": CLAIMS_A, "b2.x12": CLAIMS_B}


def test_submit_replaces_a_stale_temporary_file_from_an_interrupted_attempt(folders):
    (folders / "outbox" / ".b1.x12.part").write_bytes(CLAIMS_A[:10])
    DIRECTORY.open(settings_for(folders)).submit([OutboundFile("b1.x12", CLAIMS_A)])
    assert names(folders / "outbox") == ["b1.x12"]
    assert listing(folders / "outbox") == {"b1.x12": CLAIMS_A}


@pytest.mark.parametrize("bad", ["../escape.x12", ".hidden.x12", "", "a/b.x12", "a\\b.x12"])
def test_submit_rejects_bad_file_names_before_writing_anything(folders, bad):
    transport = DIRECTORY.open(settings_for(folders))
    with pytest.raises(TransportError, match="nothing was sent"):
        transport.submit([OutboundFile("ok.x12", CLAIMS_A), OutboundFile(bad, CLAIMS_B)])
    assert names(folders / "outbox") == []
    assert names(folders) == ["archive", "inbox", "outbox"]


def test_submit_of_the_same_name_twice_in_one_batch_is_refused(folders):
    transport = DIRECTORY.open(settings_for(folders))
    with pytest.raises(TransportError, match="appears twice"):
        transport.submit([OutboundFile("b1.x12", CLAIMS_A), OutboundFile("b1.x12", CLAIMS_B)])
    assert names(folders / "outbox") == []


# --- poll and acknowledge -------------------------------------------------------------------
def fill_inbox(folders) -> None:
    inbox = folders / "inbox"
    (inbox / "resp-999.x12").write_bytes(ACK_999)
    (inbox / "resp-277.x12").write_bytes(ACK_277)
    (inbox / ".hidden").write_bytes(b"x")
    (inbox / ".resp-835.x12.part").write_bytes(b"ISA*partial")  # our own temporary name
    (inbox / "resp-835.x12.part").write_bytes(b"ISA*partial")
    (inbox / "resp-835.x12.filepart").write_bytes(b"ISA*partial")
    (inbox / "sub").mkdir()
    (inbox / "link.x12").symlink_to(inbox / "resp-999.x12")


def test_poll_returns_waiting_files_and_skips_partial_hidden_and_non_regular_ones(folders):
    fill_inbox(folders)
    transport = DIRECTORY.open(settings_for(folders))
    inbox = folders / "inbox"
    found = transport.poll()
    assert found == [
        InboundFile("resp-277.x12", ACK_277, str(inbox / "resp-277.x12")),
        InboundFile("resp-999.x12", ACK_999, str(inbox / "resp-999.x12")),
    ]
    assert transport.poll() == found  # nothing was removed


def test_a_file_being_written_is_invisible_to_poll_until_renamed(folders):
    """The outbox of one side is the inbox of the other: while a file is written,
    only its temporary name exists, which poll skips."""
    writer = DIRECTORY.open(settings_for(folders, outbox=str(folders / "inbox")))
    reader = DIRECTORY.open(settings_for(folders))
    (folders / "inbox" / ".resp-999.x12.part").write_bytes(ACK_999[:12])  # mid-write
    assert reader.poll() == []
    writer.submit([OutboundFile("resp-999.x12", ACK_999)])
    assert [f.content for f in reader.poll()] == [ACK_999]


def test_acknowledge_moves_files_to_the_archive_and_is_idempotent(folders):
    fill_inbox(folders)
    transport = DIRECTORY.open(settings_for(folders, archive=str(folders / "archive")))
    found = transport.poll()
    transport.acknowledge(found)
    transport.acknowledge(found)
    assert listing(folders / "archive") == {"resp-277.x12": ACK_277, "resp-999.x12": ACK_999}
    assert transport.poll() == []


def test_acknowledge_without_archive_deletes_and_is_idempotent(folders):
    fill_inbox(folders)
    transport = DIRECTORY.open(settings_for(folders))
    found = transport.poll()
    transport.acknowledge(found)
    transport.acknowledge(found)
    assert transport.poll() == []
    assert names(folders / "archive") == []
    assert ".hidden" in names(folders / "inbox")  # only what was acknowledged goes


def test_acknowledge_keeps_a_different_archived_file_of_the_same_name(folders):
    (folders / "archive" / "resp-999.x12").write_bytes(b"ISA*older 999~")
    (folders / "archive" / "resp-277.x12").write_bytes(ACK_277)
    fill_inbox(folders)
    transport = DIRECTORY.open(settings_for(folders, archive=str(folders / "archive")))
    transport.acknowledge(transport.poll())
    assert listing(folders / "archive") == {
        "resp-277.x12": ACK_277,
        "resp-999.1.x12": ACK_999,
        "resp-999.x12": b"ISA*older 999~",
    }
    assert transport.poll() == []


def test_acknowledge_refuses_a_file_that_is_not_in_the_inbox(folders):
    (folders / "outbox" / "b1.x12").write_bytes(CLAIMS_A)
    transport = DIRECTORY.open(settings_for(folders))
    elsewhere = InboundFile("b1.x12", CLAIMS_A, str(folders / "outbox" / "b1.x12"))
    with pytest.raises(TransportError, match="not removed"):
        transport.acknowledge([elsewhere])
    assert listing(folders / "outbox") == {"b1.x12": CLAIMS_A}


# --- folders and settings -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "call"),
    [("outbox", "submit"), ("inbox", "poll"), ("archive", "acknowledge")],
)
def test_missing_folder_is_an_error_naming_it_and_the_setting(folders, setting, call):
    (folders / "inbox" / "resp-999.x12").write_bytes(ACK_999)
    missing = folders / "not-mounted"
    transport = DIRECTORY.open(settings_for(folders, **{setting: str(missing)}))
    with pytest.raises(TransportError) as err:
        if call == "submit":
            transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
        elif call == "poll":
            transport.poll()
        else:
            inbound = InboundFile("resp-999.x12", ACK_999, str(folders / "inbox" / "resp-999.x12"))
            transport.acknowledge([inbound])
    assert f"{missing} (setting {setting}) does not exist" in str(err.value)
    assert not missing.exists()
    assert (folders / "inbox" / "resp-999.x12").exists()


def test_a_file_where_a_folder_should_be_is_an_error(folders):
    (folders / "file-not-folder").write_text("x")
    transport = DIRECTORY.open(settings_for(folders, outbox=str(folders / "file-not-folder")))
    with pytest.raises(TransportError, match=r"\(setting outbox\) is not a folder"):
        transport.submit([OutboundFile("b1.x12", CLAIMS_A)])


@pytest.mark.parametrize("setting", ["outbox", "inbox"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_open_requires_outbox_and_inbox(folders, setting, value):
    with pytest.raises(ValueError, match=f"'{setting}' is required") as err:
        open_directory(settings_for(folders, **{setting: value}))
    assert isinstance(err.value, TransportError)


def test_archive_is_optional_and_blank_means_delete(folders):
    fill_inbox(folders)
    transport = open_directory(settings_for(folders, archive="  "))
    transport.acknowledge(transport.poll())
    assert names(folders / "archive") == []
    assert transport.poll() == []
