"""pms_clearinghouse: the first-party clearinghouse transports, `directory` (local
folders a clearinghouse's software keeps in sync) and `sftp` (the clearinghouse's
SFTP server). See plugin.py, directory.py and sftp.py."""
