"""The `sftp` transport as the plugin registers it: its name and settings, with
`open` importing the transport itself (and asyncssh) only when a clearinghouse
is used, so that starting pms does not pay for an SSH library it may not need."""

from __future__ import annotations

from collections.abc import Mapping

from pms_core.transport import Setting, Transport, TransportType

KIND = "sftp"

SETTINGS = (
    Setting("host", "SFTP server host name or IP address", required=True),
    Setting("port", "SFTP server port", default="22"),
    Setting("username", "login name at the clearinghouse", required=True),
    Setting("password", "login password (set this or private_key)", secret=True),
    Setting("private_key", "path to a private key file to log in with instead of a password"),
    Setting("passphrase", "passphrase of the private key file, if it has one", secret=True),
    Setting(
        "host_key",
        "the server's public host key as the clearinghouse publishes it: an OpenSSH line "
        "('ssh-ed25519 AAAA...') or a fingerprint ('SHA256:...'), one per line; "
        "required unless known_hosts is set",
    ),
    Setting("known_hosts", "path to an OpenSSH known_hosts file listing the server"),
    Setting("outbox", "remote folder submitted files are uploaded to", required=True),
    Setting("inbox", "remote folder responses are downloaded from", required=True),
    Setting(
        "archive",
        "remote folder acknowledged responses are moved to (when not set they are deleted)",
    ),
    Setting("timeout", "seconds to wait for the server to connect or answer", default="30"),
)


def _open(settings: Mapping[str, str | None]) -> Transport:
    from pms_clearinghouse.sftp import open_sftp

    return open_sftp(settings)


SFTP_TYPE = TransportType(
    name=KIND,
    description="SFTP server of the clearinghouse (host key verified)",
    settings=SETTINGS,
    open=_open,
)
