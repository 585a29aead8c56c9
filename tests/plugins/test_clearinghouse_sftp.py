"""The `sftp` clearinghouse transport against a real asyncssh SFTP server on loopback
(tests/plugins/sftp_server.py): what arrived in the server's folders is checked,
not what was called. File contents are synthetic X12-like text."""

from __future__ import annotations

import asyncio
import re
import threading
from types import SimpleNamespace

import asyncssh
import pytest
from pms_clearinghouse.sftp import SFTP, open_sftp

from pms_core.transport import InboundFile, OutboundFile, TransportError
from tests.plugins.sftp_server import SftpServer, SilentServer, free_port, public_line

CLAIMS_A = b"ISA*00*          *00*          *ZZ*SUBMITTER01*ZZ*RECEIVER01*~GS*HC*1~SE*1~"
CLAIMS_B = b"ISA*00*          *00*          *ZZ*SUBMITTER01*ZZ*RECEIVER01*~GS*HC*2~SE*2~"
ACK_999 = b"ISA*00*~GS*FA*~ST*999*0001~AK1*HC*1~AK9*A*1*1*1~SE*4*0001~"
ACK_277 = b"ISA*00*~GS*HN*~ST*277*0001~SE*2*0001~"


@pytest.fixture(scope="module")
def keys():
    return SimpleNamespace(
        host=asyncssh.generate_private_key("ssh-ed25519"),
        other=asyncssh.generate_private_key("ssh-ed25519"),
        client=asyncssh.generate_private_key("ssh-ed25519"),
    )


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "server"
    for folder in ("outbox", "inbox", "archive"):
        (root / folder).mkdir(parents=True)
    return root


@pytest.fixture
def server(root, keys):
    with SftpServer(root, keys.host, client_key=keys.client) as srv:
        yield srv


def settings_for(server: SftpServer, **changes: str | None) -> dict[str, str | None]:
    settings: dict[str, str | None] = {
        "host": "127.0.0.1",
        "port": str(server.port),
        "username": server.username,
        "password": server.password,
        "private_key": None,
        "passphrase": None,
        "host_key": server.host_key_line,
        "known_hosts": None,
        "outbox": "/outbox",
        "inbox": "/inbox",
        "archive": None,
        "timeout": "5",
    }
    settings.update(changes)
    return settings


@pytest.fixture
def opened():
    """open(settings) -> transport, closed at the end of the test."""
    transports = []

    def opener(settings):
        transport = SFTP.open(settings)
        transports.append(transport)
        return transport

    yield opener
    for transport in transports:
        transport.close()


def listing(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- submit ---------------------------------------------------------------------------
def test_submit_delivers_each_file_whole_and_leaves_no_temporary_names(server, root, opened):
    transport = opened(settings_for(server))
    transport.submit([OutboundFile("batch-0001.x12", CLAIMS_A), OutboundFile("b2.x12", CLAIMS_B)])
    assert listing(root / "outbox") == {"b2.x12": CLAIMS_B, "batch-0001.x12": CLAIMS_A}
    assert sorted(p.name for p in (root / "outbox").iterdir()) == ["b2.x12", "batch-0001.x12"]


def test_submit_again_with_identical_content_is_treated_as_delivered(server, root, opened):
    transport = opened(settings_for(server))
    transport.submit([OutboundFile("batch-0001.x12", CLAIMS_A)])
    transport.submit([OutboundFile("batch-0001.x12", CLAIMS_A), OutboundFile("b2.x12", CLAIMS_B)])
    assert listing(root / "outbox") == {"b2.x12": CLAIMS_B, "batch-0001.x12": CLAIMS_A}


def test_submit_never_replaces_a_different_file_of_the_same_name(server, root, opened):
    (root / "outbox" / "batch-0001.x12").write_bytes(CLAIMS_B)
    transport = opened(settings_for(server))
    with pytest.raises(TransportError) as err:
        transport.submit([OutboundFile("batch-0001.x12", CLAIMS_A)])
    message = str(err.value)
    assert "'batch-0001.x12'" in message and "different" in message
    assert "ISA" not in message
    assert listing(root / "outbox") == {"batch-0001.x12": CLAIMS_B}
    assert [p.name for p in (root / "outbox").iterdir()] == ["batch-0001.x12"]


def test_submit_failing_midway_keeps_earlier_files_and_a_retry_sends_the_rest(server, root, opened):
    blocker = root / "outbox" / ".b2.x12.part"
    blocker.mkdir()  # the temporary upload of the second file cannot be created
    transport = opened(settings_for(server))
    files = [OutboundFile("b1.x12", CLAIMS_A), OutboundFile("b2.x12", CLAIMS_B)]
    with pytest.raises(TransportError, match="'b2.x12'"):
        transport.submit(files)
    assert listing(root / "outbox") == {"b1.x12": CLAIMS_A}
    blocker.rmdir()
    transport.submit(files)
    assert listing(root / "outbox") == {"b1.x12": CLAIMS_A, "b2.x12": CLAIMS_B}


def test_submit_uses_plain_rename_on_servers_without_posix_rename(root, keys, opened):
    (root / "outbox" / "b2.x12").write_bytes(CLAIMS_A)
    with SftpServer(root, keys.host, posix_rename=False) as server:
        transport = opened(settings_for(server))
        transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
        with pytest.raises(TransportError, match="different file named 'b2.x12'"):
            transport.submit([OutboundFile("b2.x12", CLAIMS_B)])
    assert listing(root / "outbox") == {"b1.x12": CLAIMS_A, "b2.x12": CLAIMS_A}


def test_submit_rejects_bad_file_names_before_sending_anything(server, root, opened):
    transport = opened(settings_for(server))
    for bad in ("../escape.x12", ".hidden.x12", "", "a/b.x12"):
        with pytest.raises(TransportError, match="nothing was sent"):
            transport.submit([OutboundFile("ok.x12", CLAIMS_A), OutboundFile(bad, CLAIMS_B)])
    assert listing(root / "outbox") == {}
    assert server.connections == 0


# --- poll and acknowledge --------------------------------------------------------------
def fill_inbox(root) -> None:
    inbox = root / "inbox"
    (inbox / "resp-999.x12").write_bytes(ACK_999)
    (inbox / "resp-277.x12").write_bytes(ACK_277)
    (inbox / ".hidden").write_bytes(b"x")
    (inbox / ".resp-835.x12.part").write_bytes(b"ISA*partial")
    (inbox / "resp-835.x12.filepart").write_bytes(b"ISA*partial")
    (inbox / "sub").mkdir()


def test_poll_returns_waiting_files_without_removing_them(server, root, opened):
    fill_inbox(root)
    transport = opened(settings_for(server))
    found = transport.poll()
    assert found == [
        InboundFile("resp-277.x12", ACK_277, "/inbox/resp-277.x12"),
        InboundFile("resp-999.x12", ACK_999, "/inbox/resp-999.x12"),
    ]
    assert transport.poll() == found
    assert "resp-999.x12" in listing(root / "inbox")


def test_acknowledge_moves_files_to_the_archive_and_is_idempotent(server, root, opened):
    fill_inbox(root)
    transport = opened(settings_for(server, archive="/archive"))
    found = transport.poll()
    transport.acknowledge(found)
    transport.acknowledge(found)
    assert listing(root / "archive") == {"resp-277.x12": ACK_277, "resp-999.x12": ACK_999}
    assert "resp-999.x12" not in listing(root / "inbox")
    assert transport.poll() == []


def test_acknowledge_without_archive_deletes_and_is_idempotent(server, root, opened):
    fill_inbox(root)
    transport = opened(settings_for(server))
    found = transport.poll()
    transport.acknowledge(found)
    transport.acknowledge(found)
    assert transport.poll() == []
    assert listing(root / "archive") == {}
    assert ".hidden" in listing(root / "inbox")  # only what was acknowledged goes


def test_acknowledge_keeps_a_different_archived_file_of_the_same_name(server, root, opened):
    (root / "archive" / "resp-999.x12").write_bytes(b"ISA*older 999~")
    (root / "archive" / "resp-277.x12").write_bytes(ACK_277)
    fill_inbox(root)
    transport = opened(settings_for(server, archive="/archive"))
    transport.acknowledge(transport.poll())
    assert listing(root / "archive") == {
        "resp-277.x12": ACK_277,
        "resp-999.1.x12": ACK_999,
        "resp-999.x12": b"ISA*older 999~",
    }
    assert transport.poll() == []


def test_acknowledge_refuses_a_file_that_is_not_in_the_inbox(server, root, opened):
    (root / "outbox" / "b1.x12").write_bytes(CLAIMS_A)
    transport = opened(settings_for(server))
    with pytest.raises(TransportError, match="not removed"):
        transport.acknowledge([InboundFile("b1.x12", CLAIMS_A, "/outbox/b1.x12")])
    assert listing(root / "outbox") == {"b1.x12": CLAIMS_A}


# --- login ------------------------------------------------------------------------------
def test_private_key_login_works(server, root, keys, tmp_path, opened):
    key_file = tmp_path / "id_clearinghouse"
    keys.client.write_private_key(str(key_file))
    transport = opened(settings_for(server, password=None, private_key=str(key_file)))
    transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
    assert listing(root / "outbox") == {"b1.x12": CLAIMS_A}
    assert set(server.logins) == {("billing01", "publickey", True)}  # asked, then signed


def test_passphrase_protected_private_key_login_works(server, root, keys, tmp_path, opened):
    key_file = tmp_path / "id_clearinghouse.pem"
    keys.client.write_private_key(str(key_file), "pkcs8-pem", passphrase="synthetic-phrase")
    transport = opened(
        settings_for(
            server, password=None, private_key=str(key_file), passphrase="synthetic-phrase"
        )
    )
    assert transport.poll() == []
    assert set(server.logins) == {("billing01", "publickey", True)}  # asked, then signed


def test_password_login_works(server, opened):
    opened(settings_for(server)).poll()
    assert server.logins == [("billing01", "password", True)]


def test_wrong_password_is_refused_and_nothing_is_uploaded(server, root, opened):
    transport = opened(settings_for(server, password="not-the-password"))
    with pytest.raises(TransportError) as err:
        transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
    message = str(err.value)
    assert "login refused for user 'billing01'" in message
    assert f"127.0.0.1:{server.port}" in message
    assert "not-the-password" not in message
    assert listing(root / "outbox") == {}


# --- host key -----------------------------------------------------------------------------
def test_unknown_host_key_is_refused_before_login_and_upload(server, root, keys, opened):
    transport = opened(settings_for(server, host_key=public_line(keys.other)))
    with pytest.raises(TransportError) as err:
        transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
    message = str(err.value)
    assert f"host key for 127.0.0.1:{server.port} does not match" in message
    assert server.fingerprint in message
    assert server.logins == []  # the password never went to the unverified server
    assert listing(root / "outbox") == {}


def test_host_key_as_sha256_fingerprint_is_accepted(server, opened):
    assert opened(settings_for(server, host_key=server.fingerprint)).poll() == []


def test_host_key_may_list_several_keys_and_known_hosts_style_lines(server, keys, opened):
    host_key = f"{public_line(keys.other)}\n[127.0.0.1]:{server.port} {server.host_key_line}\n"
    assert opened(settings_for(server, host_key=host_key)).poll() == []
    mixed = f"{keys.other.get_fingerprint('sha256')}\n{server.host_key_line}"
    assert opened(settings_for(server, host_key=mixed)).poll() == []


def test_wrong_sha256_fingerprint_is_refused(server, keys, opened):
    transport = opened(settings_for(server, host_key=keys.other.get_fingerprint("sha256")))
    with pytest.raises(
        TransportError, match=re.escape(f"presented ssh-ed25519 {server.fingerprint}")
    ):
        transport.poll()
    assert server.logins == []


def test_known_hosts_file_is_accepted_and_an_unlisted_server_refused(
    server, keys, tmp_path, opened
):
    good = tmp_path / "known_hosts"
    good.write_text(f"[127.0.0.1]:{server.port} {server.host_key_line}\n")
    assert opened(settings_for(server, host_key=None, known_hosts=str(good))).poll() == []
    other = tmp_path / "other_hosts"
    other.write_text(f"[127.0.0.1]:{server.port} {public_line(keys.other)}\n")
    with pytest.raises(TransportError, match="not listed in the known_hosts file"):
        opened(settings_for(server, host_key=None, known_hosts=str(other))).poll()


# --- server down, hung, folders, rights ----------------------------------------------------
def test_server_down_is_an_error_and_a_retry_after_it_starts_works(root, keys, opened):
    port = free_port()
    settings = {
        **settings_for(SftpServer(root, keys.host, port=port)),
        "timeout": "3",
    }
    transport = opened(settings)
    with pytest.raises(TransportError, match=f"127.0.0.1:{port} refused the connection"):
        transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
    with SftpServer(root, keys.host, port=port):
        transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
    assert listing(root / "outbox") == {"b1.x12": CLAIMS_A}


@pytest.mark.timeout(15)
def test_server_that_does_not_answer_times_out_after_the_timeout_setting(root, keys, opened):
    silent = SilentServer()
    try:
        server = SftpServer(root, keys.host, port=silent.port)
        transport = opened(settings_for(server, timeout="1"))
        with pytest.raises(TransportError, match=f"127.0.0.1:{silent.port} did not answer"):
            transport.poll()
    finally:
        silent.close()


@pytest.mark.parametrize(
    ("setting", "call"),
    [("outbox", "submit"), ("inbox", "poll"), ("archive", "acknowledge")],
)
def test_missing_remote_folder_is_an_error_naming_it(server, root, opened, setting, call):
    (root / "inbox" / "resp-999.x12").write_bytes(ACK_999)
    transport = opened(settings_for(server, **{setting: "/no-such-folder"}))
    with pytest.raises(TransportError) as err:
        if call == "submit":
            transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
        elif call == "poll":
            transport.poll()
        else:
            transport.acknowledge([InboundFile("resp-999.x12", ACK_999, "/inbox/resp-999.x12")])
    assert f"remote folder '/no-such-folder' (setting {setting}) does not exist" in str(err.value)
    assert (root / "inbox" / "resp-999.x12").exists()


def test_permission_denied_names_the_folder_and_the_user(root, keys, opened):
    with SftpServer(root, keys.host, read_only=("/outbox", "/inbox")) as server:
        (root / "inbox" / "resp-999.x12").write_bytes(ACK_999)
        transport = opened(settings_for(server))
        with pytest.raises(TransportError) as err:
            transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
        assert "permission denied" in str(err.value)
        assert "'/outbox'" in str(err.value) and "'billing01'" in str(err.value)
        with pytest.raises(TransportError, match="permission denied to delete 'resp-999.x12'"):
            transport.acknowledge(transport.poll())
    assert listing(root / "outbox") == {}
    assert listing(root / "inbox") == {"resp-999.x12": ACK_999}


# --- connection handling -----------------------------------------------------------------
def test_one_connection_serves_every_call_until_close(server, root, opened):
    fill_inbox(root)
    transport = opened(settings_for(server, archive="/archive"))
    assert server.connections == 0  # opened lazily
    transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
    transport.acknowledge(transport.poll())
    assert server.connections == 1
    transport.close()
    transport.close()
    assert transport.poll() == []  # usable again: reconnects
    assert server.connections == 2


def test_a_connection_the_server_dropped_is_reopened(root, keys, opened):
    with SftpServer(root, keys.host) as server:
        transport = opened(settings_for(server))
        transport.poll()
        port = server.port
    with SftpServer(root, keys.host, port=port):
        transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
    assert listing(root / "outbox") == {"b1.x12": CLAIMS_A}


def test_works_from_inside_a_running_event_loop_and_from_other_threads(server, root, opened):
    transport = opened(settings_for(server))

    async def inside_a_loop():
        transport.submit([OutboundFile("b1.x12", CLAIMS_A)])
        return transport.poll()

    assert asyncio.run(inside_a_loop()) == []
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            transport.submit([OutboundFile(name, CLAIMS_B)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}.x12",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(listing(root / "outbox")) == {"b1.x12", "w0.x12", "w1.x12", "w2.x12", "w3.x12"}


# --- settings -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"host": None}, "'host' is required"),
        ({"username": " "}, "'username' is required"),
        ({"outbox": None}, "'outbox' is required"),
        ({"inbox": ""}, "'inbox' is required"),
        ({"port": "twenty-two"}, "'port' must be a number"),
        ({"port": "70000"}, "'port' must be a number"),
        ({"password": None}, "'password' or 'private_key'"),
        ({"private_key": "/etc/hostname"}, "'password' and 'private_key'"),
        ({"password": None, "private_key": "/no/such/key"}, "'private_key': the key file"),
        ({"password": None, "private_key": "/etc/hostname"}, "'private_key': the key file"),
        ({"passphrase": "x"}, "'passphrase' is only used with 'private_key'"),
        ({"host_key": None}, "'host_key' is required"),
        ({"host_key": "ssh-ed25519 AAAAnot-a-key"}, "'host_key' must be an OpenSSH"),
        ({"host_key": "SHA256:short"}, "'host_key': a fingerprint"),
        ({"known_hosts": "/no/such/file"}, "set one of them, not both"),
        ({"host_key": None, "known_hosts": "/no/such/file"}, "'known_hosts': the file"),
        ({"timeout": "soon"}, "'timeout' must be a number"),
        ({"timeout": "0"}, "'timeout' must be a number"),
    ],
)
def test_open_rejects_bad_settings_naming_the_setting(server, changes, named):
    with pytest.raises(ValueError, match=named) as err:
        open_sftp(settings_for(server, **changes))
    assert isinstance(err.value, TransportError)
    assert server.password not in str(err.value)


def test_wrong_passphrase_is_a_settings_error(keys, tmp_path, server):
    key_file = tmp_path / "id.pem"
    keys.client.write_private_key(str(key_file), "pkcs8-pem", passphrase="right-phrase")
    with pytest.raises(TransportError, match="'private_key'") as err:
        open_sftp(
            settings_for(
                server, password=None, private_key=str(key_file), passphrase="wrong-phrase-7"
            )
        )
    assert "wrong-phrase-7" not in str(err.value)
