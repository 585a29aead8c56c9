"""The EHR interface's traffic: the HL7 messages received, newest first, with
what became of each (applied, pending for a person, rejected, resolved) and
why. `p` shows only what waits for a person; on a pending message `r` applies
it again once its cause is fixed (the patient registered, the payer added) and
`x` takes it off the list when it was dealt with by hand."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from pms_core.services import interface
from pms_tui.format import fmt_when
from pms_tui.screens.money import ListScreen

STATUS_STYLE = {"applied": "green", "pending": "bold yellow", "rejected": "red", "resolved": "dim"}


class InterfaceScreen(ListScreen):
    PALETTE_GROUP = "Interface"
    TABLE_ID = "hl7-list"
    COLUMNS = (
        ("id", "Id", 7),
        ("received", "Received", 17),
        ("type", "Message", 9),
        ("control", "Control id", 16),
        ("status", "Status", 9),
        ("ack", "ACK", 4),
        ("patient", "Patient", 8),
        ("reason", "Reason", 48),
    )
    BINDINGS = [
        Binding("p", "toggle_pending", "Pending", id="hl7.pending",
                tooltip="Show only the messages waiting for a person (or everything)"),
        Binding("r", "retry", "Apply again", id="hl7.retry",
                tooltip="Apply the pending message again, now that its cause is fixed"),
        Binding("x", "resolve", "Resolved", id="hl7.resolve",
                tooltip="Take the pending message off the list: it was dealt with by hand"),
        Binding("f5", "reload", "Refresh", id="hl7.reload", tooltip="Read the list again"),
        Binding("escape", "back", "Back", id="hl7.back", tooltip="Back"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.pending_only = False
        self.zone = None

    def read(self, ctx):
        self.zone = ctx.zone()
        rows = interface.list_messages(ctx, status="pending" if self.pending_only else None)
        what = "waiting for a person" if self.pending_only else "received, newest first"
        return rows, Text(f"HL7 messages {what}: {len(rows)}", style="bold")

    def cells(self, m) -> tuple:
        return (
            str(m.id),
            fmt_when(m.received_at.astimezone(self.zone)),
            m.message_type,
            m.control_id,
            Text(m.status, style=STATUS_STYLE.get(m.status, "")),
            m.ack_code or "",
            str(m.patient_id or ""),
            m.reason,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("retry", "resolve"):
            row = self.highlighted()
            return self.app.may("patients:write") and row is not None and row.status == "pending"
        return True

    def action_toggle_pending(self) -> None:
        self.pending_only = not self.pending_only
        self.load()

    def action_retry(self) -> None:
        from pms_hl7.listener import reapply

        row = self.highlighted()
        if row is None:
            return
        self.act(
            self.app.grant(),
            lambda ctx: reapply(ctx, row.id).status,
            f"Message {row.id}: {{result}}.",
        )

    def action_resolve(self) -> None:
        row = self.highlighted()
        if row is None:
            return
        self.act(
            self.app.grant(),
            lambda ctx: interface.resolve(ctx, message_id=row.id),
            f"Message {row.id} resolved.",
        )
