"""The pms_clearinghouse plugin: directory and SFTP transports to clearinghouses."""

from __future__ import annotations

from pms_clearinghouse.directory import DIRECTORY
from pms_clearinghouse.sftp_settings import SFTP_TYPE
from pms_core.hookspecs import hookimpl


@hookimpl
def register_clearinghouses(register) -> None:
    register(DIRECTORY)
    register(SFTP_TYPE)
