"""pms_reminders: the built-in reminder channels (email over SMTP, SMS through an
HTTP gateway, a CSV call list for staff), contributed through
`register_reminder_channels` exactly like a third-party channel would be."""
