"""Money in, from the keyboard: remittances (import with a preview of every
posting before anything posts, then the held and unmatched items to work),
the denial worklist, a patient payment with its receipt, and a patient's
ledger with every line explained.

Each action is one service call in a thread worker acting as the session of
the moment the key was pressed (`pms_core.services.remittance`, `.denials`,
`.payments`, `.ledger`); keys a role may not use are not offered, and the
services decide anyway.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from pms_core.money import Money
from pms_core.services import denials, payments, remittance
from pms_core.services import ledger as ledger_service
from pms_core.services.claims import get_claim
from pms_tui.commands import PaletteCommand
from pms_tui.format import fmt_date, fmt_money
from pms_tui.screens.claims import ConfirmScreen, _fit
from pms_tui.screens.schedule import binding_commands


def _money(cents: int) -> Text:
    return Text(fmt_money(Money(cents)), justify="right")


class Done(Message):
    """A worker finished: what to tell the user, and how loudly."""

    def __init__(self, text: str, severity: str = "information") -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class Rows(Message):
    def __init__(self, rows: list, heading: Text) -> None:
        super().__init__()
        self.rows = rows
        self.heading = heading


class TextPrompt(ModalScreen[str | None]):
    """One line of text (a reason, a note, a file, a claim number); enter goes
    ahead, escape closes with None."""

    AUTO_FOCUS = "#prompt-value"
    BINDINGS = [Binding("escape", "close", "Cancel", id="prompt.cancel", tooltip="Close")]

    def __init__(self, title: str, explain: str, label: str, placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.explain, self.label, self.placeholder = (
            title, explain, label, placeholder,
        )  # fmt: skip

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.explain)
            yield Label(self.label)
            yield Input(id="prompt-value", max_length=300, placeholder=self.placeholder)
            yield Static("", id="prompt-error", classes="field-error")
            yield Static("Enter goes ahead; escape closes.")
        yield Footer(compact=True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            self.query_one("#prompt-error", Static).update(f"{self.label} is needed.")
            return
        self.dismiss(value)

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("Prompt: cancel", "Close; nothing happens (escape)", self.action_close)
        ]


class ListScreen(Screen):
    """A heading and a table read in a worker, with keys that act on the row."""

    TABLE_ID = "money-list"
    COLUMNS: tuple[tuple[str, str, int], ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="money-heading", classes="heading")
        table = DataTable(id=self.TABLE_ID, cursor_type="row", zebra_stripes=True)
        for key, label, width in self.COLUMNS:
            table.add_column(label, key=key, width=width)
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#{self.TABLE_ID}", DataTable).focus()
        self.load()

    def load(self) -> None:
        self._load(self.app.grant())

    @work(thread=True, exclusive=True, group="money-load")
    def _load(self, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                rows, heading = self.read(ctx)
        except Exception as exc:
            self.post_message(Rows([], Text(describe_error(exc), "red")))
            return
        self.post_message(Rows(rows, heading))

    def read(self, ctx) -> tuple[list, Text]:
        raise NotImplementedError

    def cells(self, row) -> tuple:
        raise NotImplementedError

    def on_rows(self, message: Rows) -> None:
        self.rows = message.rows
        table = self.query_one(f"#{self.TABLE_ID}", DataTable)
        table.clear()
        for i, row in enumerate(self.rows):
            table.add_row(*self.cells(row), key=str(i))
        self.query_one("#money-heading", Static).update(message.heading)
        self.refresh_bindings()

    def highlighted(self):
        table = self.query_one(f"#{self.TABLE_ID}", DataTable)
        rows = getattr(self, "rows", [])
        return rows[table.cursor_row] if 0 <= table.cursor_row < len(rows) else None

    def on_done(self, message: Done) -> None:
        self.notify(message.text, severity=message.severity)
        self.load()

    @work(thread=True, group="money-act")
    def act(self, grant, call, success: str) -> None:
        """Run `call(ctx)` as the session; say `success` (formatted with its
        result) or why not, then read the list again."""
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                result = call(ctx)
        except Exception as exc:
            self.post_message(Done(f"Not done: {describe_error(exc)}", "error"))
            return
        self.post_message(Done(success.format(result=result)))

    def prompt(self, prompt: TextPrompt, then) -> None:
        grant = self.app.grant()

        def decided(value: str | None) -> None:
            if value:
                then(grant, value)

        self.app.push_screen(prompt, decided)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, self.PALETTE_GROUP)


# --- remittances ------------------------------------------------------------------------------
class RemitsScreen(ListScreen):
    """Remittances received (newest first), or the claim payments that matched
    no claim (u): import a file with a preview, match a payment by hand."""

    PALETTE_GROUP = "Remits"
    TABLE_ID = "rm-list"
    COLUMNS = (
        ("what", "Remit / claim", 14),
        ("date", "Date", 10),
        ("payer", "Payer / patient", 22),
        ("trace", "Trace / member", 16),
        ("amount", "Amount", 11),
        ("status", "Status", 10),
        ("note", "Claims / reason", 24),
    )
    BINDINGS = [
        Binding(
            "i",
            "import_file",
            "Import 835",
            id="remits.import",
            tooltip="Import an 835 file: see every posting, then post",
        ),  # fmt: skip
        Binding(
            "u",
            "toggle_unmatched",
            "Unmatched",
            id="remits.unmatched",
            tooltip="Switch between remittances and unmatched claim payments",
        ),  # fmt: skip
        Binding(
            "m",
            "match",
            "Match",
            id="remits.match",
            tooltip="Apply the highlighted unmatched payment to a claim",
        ),  # fmt: skip
        Binding("r,f5", "reload", "Refresh", id="remits.reload", tooltip="Read the list again"),
        Binding("escape", "back", "Back", id="remits.back", tooltip="Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.unmatched = False
        self.rows: list = []

    def read(self, ctx):
        if self.unmatched:
            rows = remittance.list_unmatched(ctx)
            return rows, Text.assemble(
                ("Unmatched claim payments", "bold"),
                f"   {len(rows)}   ·   m applies the highlighted one to a claim; u goes back",
            )
        rows = remittance.list_remittances(ctx)
        held = sum(r.status in ("held", "rejected") for r in rows)
        heading = Text.assemble(("Remittances", "bold"), f"   {len(rows)} shown")
        if held:
            heading.append(f"   ·   {held} held or rejected: nothing of those posted", "yellow")
        return rows, heading

    def cells(self, r) -> tuple:
        if self.unmatched:
            who = ", ".join(p for p in (r.patient_last, r.patient_first) if p)
            return (r.claim_number, fmt_date(r.service_from), _fit(who, 22),
                    r.member_id or "", _money(r.paid_cents), "unmatched",
                    _fit(r.unmatched_reason, 24))  # fmt: skip
        status = Text(r.status, "bold red" if r.status in ("held", "rejected") else "")
        note = r.message or f"{r.claim_count} claims, {r.unmatched_count} unmatched"
        return (str(r.id), fmt_date(r.payment_date), _fit(r.payer_name, 22),
                _fit(r.trace_number, 16), _money(r.payment_cents), status, _fit(note, 24))  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("import_file", "match"):
            allowed = self.app.may("payments:post")
            return allowed and (action != "match" or self.unmatched)
        return True

    def action_toggle_unmatched(self) -> None:
        self.unmatched = not self.unmatched
        self.load()

    def action_import_file(self) -> None:
        self.prompt(
            TextPrompt(
                "Import an 835",
                "Every posting is shown before anything posts.",
                "File",
                "/path/to/remit.835",
            ),  # fmt: skip
            self._preview,
        )

    @work(thread=True, group="money-act")
    def _preview(self, grant, path: str) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx, open(Path(path).expanduser(), "rb") as source:
                outcome = remittance.import_era(ctx, name=Path(path).name, source=source,
                                                dry_run=True)  # fmt: skip
        except Exception as exc:
            self.post_message(Done(f"Not imported: {describe_error(exc)}", "error"))
            return
        self.app.call_from_thread(self._confirm, grant, path, outcome)

    def _confirm(self, grant, path: str, outcome) -> None:
        def decided(yes: bool | None) -> None:
            if yes:
                self.act(grant, lambda ctx: _post_file(ctx, path), "{result}")

        self.app.push_screen(RemitPreviewScreen(outcome), decided)

    def action_match(self) -> None:
        row = self.highlighted()
        if row is None or not self.unmatched:
            return
        self.prompt(
            TextPrompt("Match a claim payment", f"Payment for {row.claim_number} "
                       f"({fmt_money(Money(row.paid_cents))}) leaves unapplied cash for:",
                       "Our claim number", "00000042"),  # fmt: skip
            lambda grant, number: self.act(
                grant,
                lambda ctx: remittance.match_claim(
                    ctx, remittance_claim_id=row.id,
                    claim_id=get_claim(ctx, number=number).claim.id,
                ),
                "Payment applied to claim " + number + ".",
            ),
        )  # fmt: skip


def _post_file(ctx, path: str) -> str:
    with open(Path(path).expanduser(), "rb") as source:
        outcome = remittance.import_era(ctx, name=Path(path).name, source=source)
    return f"{Path(path).name}: {outcome.status}" + (
        f" ({outcome.message})" if outcome.message else ""
    )


class RemitPreviewScreen(ConfirmScreen):
    """A dry run's outcome per set and every posting it would make; y posts."""

    def __init__(self, outcome: remittance.EraOutcome) -> None:
        super().__init__("Post this remittance?", self._summary(outcome), "Post")
        self.outcome = outcome

    @staticmethod
    def _summary(o: remittance.EraOutcome) -> str:
        if not o.sets:
            return f"Nothing would post: {o.status}. {o.message}"
        lines = []
        for s in o.sets:
            lines.append(
                f"Set {s.set_control}: {s.status}; {s.claims} claims ({s.matched} matched, "
                f"{s.unmatched} unmatched); paid {Money(s.paid_cents)}, adjusted "
                f"{Money(s.adjusted_cents)}, patient {Money(s.patient_resp_cents)}, "
                f"PLB {Money(s.plb_cents)}" + (f". {s.message}" if s.message else "")
            )
            for p in s.postings[:12]:
                lines.append(f"  {p.claim_number}  {p.account:<24} {str(Money(p.amount_cents)):>10}"
                             f"  {p.reason or ''}")  # fmt: skip
            if len(s.postings) > 12:
                lines.append(f"  … and {len(s.postings) - 12} more postings")
        return "\n".join(lines)


# --- denials ---------------------------------------------------------------------------------
class DenialsScreen(ListScreen):
    """Denied charges still with the payer, by payer and reason, largest first."""

    PALETTE_GROUP = "Denials"
    TABLE_ID = "dn-list"
    COLUMNS = (
        ("payer", "Payer", 16),
        ("reason", "Reason", 30),
        ("claim", "Claim", 8),
        ("code", "Code", 6),
        ("dos", "DOS", 10),
        ("open", "Open", 10),
        ("deadline", "File by", 10),
        ("appealed", "Appealed", 10),
    )
    BINDINGS = [
        Binding(
            "c",
            "resubmit",
            "Correct",
            id="denials.resubmit",
            tooltip="Correct the claim (frequency 7) and send it again",
        ),  # fmt: skip
        Binding("a", "appeal", "Appeal", id="denials.appeal", tooltip="Record an appeal"),
        Binding(
            "t",
            "transfer",
            "To patient",
            id="denials.transfer",
            tooltip="Make the denied charge the patient's to pay",
        ),  # fmt: skip
        Binding(
            "w",
            "writeoff",
            "Write off",
            id="denials.writeoff",
            tooltip="Write off the open amount, with the reason",
        ),  # fmt: skip
        Binding("r,f5", "reload", "Refresh", id="denials.reload", tooltip="Read the list again"),
        Binding("escape", "back", "Back", id="denials.back", tooltip="Back"),
    ]

    def read(self, ctx):
        groups = denials.list_denials(ctx)
        rows = [(g, d) for g in groups for d in g.denials]
        total = sum(g.open_cents for g in groups)
        return rows, Text.assemble(
            ("Denials", "bold"), f"   {len(rows)} open, {fmt_money(Money(total))}"
            f" in {len(groups)} group(s) by payer and reason",
        )  # fmt: skip

    def cells(self, row) -> tuple:
        g, d = row
        return (_fit(g.payer_name, 16), _fit(f"{g.reason} {g.words}", 30), d.claim_number,
                d.code, fmt_date(d.service_date), _money(d.open_cents),
                fmt_date(d.timely_deadline), fmt_date(d.appealed))  # fmt: skip

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = {
            "resubmit": "claims:write",
            "appeal": "claims:write",
            "transfer": "payments:post",
            "writeoff": "ledger:writeoff",
        }.get(action)
        return self.app.may(needs) if needs else True

    def _work(self, action: str, title: str, label: str, call, success: str) -> None:
        row = self.highlighted()
        if row is None or not self.check_action(action, ()):
            return
        _, d = row
        explain = f"Claim {d.claim_number}, {d.code} on {fmt_date(d.service_date)}: " \
                  f"{fmt_money(Money(d.open_cents))} open."  # fmt: skip
        self.prompt(
            TextPrompt(title, explain, label),
            lambda grant, text: self.act(
                grant, lambda ctx: call(ctx, d, text), success.format(claim=d.claim_number)
            ),
        )

    def action_appeal(self) -> None:
        self._work("appeal", "Record an appeal", "Note",
                   lambda ctx, d, t: denials.appeal(ctx, remittance_claim_id=d.remittance_claim_id,
                                                    charge_id=d.charge_id, note=t),
                   "Appeal recorded for claim {claim}.")  # fmt: skip

    def action_writeoff(self) -> None:
        self._work("writeoff", "Write off", "Reason",
                   lambda ctx, d, t: denials.write_off(
                       ctx, remittance_claim_id=d.remittance_claim_id, charge_id=d.charge_id,
                       reason=t),
                   "Written off (claim {claim}).")  # fmt: skip

    def action_transfer(self) -> None:
        self._work("transfer", "Move to the patient", "Note",
                   lambda ctx, d, t: denials.transfer_to_patient(
                       ctx, remittance_claim_id=d.remittance_claim_id, charge_id=d.charge_id,
                       note=t),
                   "Now the patient's to pay (claim {claim}).")  # fmt: skip

    def action_resubmit(self) -> None:
        self._work("resubmit", "Correct and resubmit", "What was corrected",
                   lambda ctx, d, t: denials.resubmit(
                       ctx, remittance_claim_id=d.remittance_claim_id, charge_id=d.charge_id,
                       note=t),
                   "Corrected claim made for {claim}; scrub and submit it from the claims.")  # fmt: skip


# --- a patient's ledger ----------------------------------------------------------------------
class LedgerScreen(ListScreen):
    """Every posting of one patient, oldest first, each with its reason in words."""

    PALETTE_GROUP = "Ledger"
    TABLE_ID = "lg-list"
    COLUMNS = (
        ("date", "Date", 10),
        ("kind", "Entry", 16),
        ("account", "Account", 22),
        ("amount", "Amount", 11),
        ("code", "Code", 6),
        ("why", "Why", 40),
    )
    BINDINGS = [
        Binding("r,f5", "reload", "Refresh", id="ledger.reload", tooltip="Read again"),
        Binding("escape", "back", "Back", id="ledger.back", tooltip="Back to the patient"),
    ]

    def __init__(self, patient_id: int) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.rows: list = []

    def read(self, ctx):
        lines = ledger_service.ledger_lines(ctx, patient_id=self.patient_id)
        balance = ledger_service.patient_balance(ctx, patient_id=self.patient_id)
        return lines, Text.assemble(
            ("Ledger", "bold"),
            f"   patient owes {fmt_money(balance.patient)}, insurance "
            f"{fmt_money(balance.insurance)}   ·   {len(lines)} postings",
        )

    def cells(self, ln) -> tuple:
        return (fmt_date(ln.entry_date), _fit(ln.kind.replace("_", " "), 16),
                _fit(ln.account, 22), Text(fmt_money(ln.amount), justify="right"),
                ln.code or "", _fit(ln.reason_words, 40))  # fmt: skip


# --- a patient payment --------------------------------------------------------------------------
class PaymentScreen(ModalScreen[bool]):
    """Take a payment: amount, method, reference (check number or the card
    terminal's approval); ctrl+s posts it and shows the receipt."""

    AUTO_FOCUS = "#pay-amount"
    BINDINGS = [
        Binding(
            "ctrl+s", "post", "Post", id="payment.post", tooltip="Post the payment", priority=True
        ),  # fmt: skip
        Binding("escape", "close", "Close", id="payment.close", tooltip="Close"),
    ]

    class Posted(Message):
        def __init__(self, receipt: str | None, error: str | None) -> None:
            super().__init__()
            self.receipt = receipt
            self.error = error

    def __init__(self, patient_id: int) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.posted = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="pay-box"):
            yield Static("Take a payment", classes="dialog-title")
            yield Label("Amount *")
            yield Input(id="pay-amount", placeholder="25.00", max_length=12)
            yield Label("Method *")
            yield Select([(m.title(), m) for m in payments.METHODS], id="pay-method",
                         value="cash", allow_blank=False)  # fmt: skip
            yield Label("Reference (check number, or the terminal's approval; never a card number)")
            yield Input(id="pay-reference", max_length=60)
            yield Static("ctrl+s posts; escape closes.", id="pay-status")
            yield Static("", id="pay-receipt")
        yield Footer(compact=True)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_post()

    def action_post(self) -> None:
        if self.posted:
            return
        amount = self.query_one("#pay-amount", Input).value.strip()
        method = self.query_one("#pay-method", Select).value
        reference = self.query_one("#pay-reference", Input).value.strip() or None
        self.query_one("#pay-status", Static).update("Posting…")
        self._post(self.app.grant(), amount, method, reference)

    @work(thread=True, exclusive=True, group="payment")
    def _post(self, grant, amount: str, method: str, reference: str | None) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                receipt = payments.post_payment(ctx, patient_id=self.patient_id, amount=amount,
                                                method=method, reference=reference)  # fmt: skip
        except Exception as exc:
            self.post_message(self.Posted(None, describe_error(exc)))
            return
        self.post_message(self.Posted(receipt.text(), None))

    def on_payment_screen_posted(self, message: Posted) -> None:
        if message.error:
            self.query_one("#pay-status", Static).update(Text(message.error, "red"))
            return
        self.posted = True
        self.query_one("#pay-status", Static).update("Posted. Escape closes.")
        self.query_one("#pay-receipt", Static).update(message.receipt)

    def action_close(self) -> None:
        self.dismiss(self.posted)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("Payment: post", "Post the payment (ctrl+s)", self.action_post),
            PaletteCommand("Payment: close", "Close (escape)", self.action_close),
        ]
