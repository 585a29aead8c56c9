"""Claims: the worklist (a key per worklist, with counts) and one claim's
detail (lines, scrub findings, status history and the X12 it went out as),
worked from the keyboard: build claims from posted charges, scrub, submit,
correct, void and discard.

Every action is one service call (`pms_core.services.claims` and
`.submission`) in a thread worker acting as the session of the moment the key
was pressed; the screens show what comes back and read the claims again. Keys
a role may not use, or that the claim's status does not allow, are not
offered; the services decide anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static

from pms_core import codes
from pms_core.claimdata import FREQ_CORRECTED, FREQ_VOID
from pms_core.errors import ValidationError
from pms_core.money import Money
from pms_core.services import claim_status
from pms_core.services.claims import (
    CORRECTABLE,
    UNSENT,
    WORKLISTS,
    ClaimDetail,
    ClaimRow,
    build_claims,
    correct_claim,
    discard_claim,
    get_claim,
    list_claims,
    scrub_claims,
    void_claim,
    worklist_counts,
)
from pms_core.services.submission import BatchResult, list_unmatched, submit_claims
from pms_tui.commands import PaletteCommand
from pms_tui.format import fmt_date, fmt_money, sentence
from pms_tui.screens.booking import FinishWhenCurrent
from pms_tui.screens.schedule import binding_commands

WORKLIST_LABELS = {
    "draft": "Draft",
    "scrub_errors": "Scrub errors",
    "ready": "Ready",
    "submitted": "Submitted",
    "rejected": "Rejected",
    "denied": "Denied",
    "paid": "Paid",
}
assert set(WORKLIST_LABELS) == set(WORKLISTS)
# Keys 1..7 in WORKLISTS order; 0 shows every claim.
WORKLIST_KEYS = {str(n): name for n, name in enumerate(WORKLISTS, start=1)}
STATUS_LABELS = {"scrubbed": "scrub errors", "partially_paid": "partly paid"}
STATUS_STYLES = {
    "draft": "",
    "scrubbed": "yellow",
    "ready": "green",
    "rejected": "bold red",
    "denied": "bold red",
    "paid": "green",
    "replaced": "dim",
    "voided": "dim",
    "discarded": "dim",
}
FREQUENCY_LABELS = {FREQ_CORRECTED: "corrected", FREQ_VOID: "void"}
# Column widths that keep the tables within 110 columns (long text wraps).
MESSAGE_WIDTH = 54
WHY_WIDTH = 44
PATIENT_WIDTH = 20
PAYER_WIDTH = 16


def status_text(status: str) -> Text:
    return Text(STATUS_LABELS.get(status, status.replace("_", " ")), STATUS_STYLES.get(status, ""))


def findings_text(errors: int, warnings: int) -> Text:
    """ "2 err · 1 warn"; empty when clean (or not scrubbed)."""
    text = Text()
    if errors:
        text.append(f"{errors} err", "red")
    if warnings:
        if errors:
            text.append(" · ")
        text.append(f"{warnings} warn", "yellow")
    return text


def fmt_local(value: datetime | None, zone: ZoneInfo) -> str:
    """A stored UTC time as the practice's "MM/DD/YYYY HH:MM"."""
    if value is None:
        return ""
    return value.astimezone(zone).strftime("%m/%d/%Y %H:%M")


def submit_summary(results: list[BatchResult]) -> tuple[str, str]:
    """What a submission came to, in a sentence, and the notification's severity."""
    if not results:
        return "No ready claims to submit.", "warning"
    parts, severity = [], "information"
    for r in results:
        claims = f"{r.claims} claim{'s' if r.claims != 1 else ''}"
        if r.status == "sent":
            parts.append(f"Sent {claims} to {r.clearinghouse} ({r.file_name}).")
        elif r.status == "held":
            severity = "error"
            problems = "; ".join(r.problems[:3]) + (" …" if len(r.problems) > 3 else "")
            parts.append(f"Held batch {r.batch_id} ({claims}): {problems}")
        else:
            severity = "error"
            parts.append(f"Not sent ({claims}, still ready): {r.error or r.status}")
    return " ".join(parts), severity


class Submitted(Message):
    """A submission came back (from either claims screen)."""

    def __init__(self, text: str, severity: str) -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class ActionDone(Message):
    """An action went through: what to say, and the claim to show next."""

    def __init__(self, text: str, claim_id: int | None = None) -> None:
        super().__init__()
        self.text = text
        self.claim_id = claim_id


class ActionFailed(Message):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class ClaimWork:
    """What the two claims screens share: scrubbing and submitting in workers."""

    @work(thread=True, group="claims-change")
    def scrub(self, claim_ids: list[int] | None, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                outcomes = scrub_claims(ctx, claim_ids=claim_ids)
        except Exception as exc:
            self.post_message(ActionFailed(describe_error(exc)))
            return
        ready = sum(1 for o in outcomes if o.status == "ready")
        errors = len(outcomes) - ready
        if not outcomes:
            text = "No unsent claims to scrub."
        elif len(outcomes) == 1:
            o = outcomes[0]
            text = f"Claim {o.claim_number} scrubbed: " + (
                "ready." if o.status == "ready" else "errors to fix."
            )
        else:
            text = f"Scrubbed {len(outcomes)} claims: {ready} ready, {errors} with errors."
        self.post_message(ActionDone(text))

    def confirm_submit(self, claim_ids: list[int] | None, question: str) -> None:
        def decided(yes: bool | None) -> None:
            if yes:
                self.submit(claim_ids, self.app.grant())

        self.app.push_screen(ConfirmScreen("Submit claims", question, "Submit"), decided)

    @work(thread=True, group="claims-submit")
    def submit(self, claim_ids: list[int] | None, grant) -> None:
        """Sending may take seconds (a remote clearinghouse): the screen stays live."""
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                results = submit_claims(ctx, claim_ids=claim_ids)
        except Exception as exc:
            self.post_message(Submitted(f"Not submitted: {describe_error(exc)}", "error"))
            return
        self.post_message(Submitted(*submit_summary(results)))


# --- the worklist ---------------------------------------------------------------------
@dataclass(frozen=True)
class Worklist:
    """One read of the worklist: the claims shown and every worklist's count."""

    rows: list[ClaimRow]
    counts: dict[str, int]
    unmatched: int


class ClaimsScreen(ClaimWork, Screen):
    """Claims by worklist (0 every claim, 1-7 one worklist), newest first."""

    AUTO_FOCUS = "#cl-list"
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open",
            id="claims.open",
            tooltip="Open the highlighted claim: lines, findings, history, X12",
            priority=True,
        ),
        Binding(
            "b",
            "build",
            "Build",
            id="claims.build",
            tooltip="Build claims from posted charges no claim carries yet",
        ),
        Binding(
            "s",
            "scrub",
            "Scrub",
            id="claims.scrub",
            tooltip="Scrub the highlighted claim (unsent claims only)",
        ),
        Binding(
            "S",
            "scrub_all",
            "Scrub all",
            id="claims.scrub_all",
            tooltip="Scrub every unsent claim (draft, scrub errors, ready)",
            show=False,
        ),
        Binding(
            "u",
            "submit",
            "Submit",
            id="claims.submit",
            tooltip="Submit every ready claim (asks first)",
        ),
        Binding(
            "0",
            "worklist('all')",
            "All",
            id="claims.all",
            tooltip="Every claim",
            show=False,
        ),
        *(
            Binding(
                key,
                f"worklist('{name}')",
                WORKLIST_LABELS[name],
                id=f"claims.{name}",
                tooltip=f"The {WORKLIST_LABELS[name].lower()} worklist",
                show=False,  # the worklist row above the table shows these keys
            )
            for key, name in WORKLIST_KEYS.items()
        ),
        Binding(
            "r,f5",
            "reload",
            "Refresh",
            id="claims.reload",
            tooltip="Read the claims and the counts again",
        ),
        Binding("escape", "back", "Back", id="claims.back", tooltip="Back to patient search"),
    ]

    class Loaded(Message):
        def __init__(self, worklist: str, data: Worklist) -> None:
            super().__init__()
            self.worklist = worklist
            self.data = data

    class LoadFailed(Message):
        def __init__(self, worklist: str, message: str) -> None:
            super().__init__()
            self.worklist = worklist
            self.message = message

    def __init__(self, worklist: str = "all") -> None:
        super().__init__()
        self.worklist = worklist
        self.rows: list[ClaimRow] = []
        self.counts: dict[str, int] = {}
        self.loaded = False
        self._select_claim: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="cl-heading", classes="heading")
        yield Static("", id="cl-tabs")
        table = DataTable(id="cl-list", cursor_type="row", zebra_stripes=True)
        # Fixed widths: the list looks the same however it was filled (auto
        # widths are measured a refresh after the rows arrive).
        for key, label, width in (
            ("number", "Claim", 8),
            ("patient", "Patient", PATIENT_WIDTH),
            ("payer", "Payer", PAYER_WIDTH),
            ("dos", "DOS", 10),
            ("total", "Total", 9),
            ("status", "Status", 18),
            ("findings", "Findings", 15),
        ):
            table.add_column(label, key=key, width=width)
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()  # back from a claim: it may have changed

    # --- loading ------------------------------------------------------------------------
    def load(self) -> None:
        self._load(self.app.grant(), self.worklist)

    @work(thread=True, exclusive=True, group="claims-load")
    def _load(self, grant, worklist: str) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                rows = list_claims(ctx, worklist=None if worklist == "all" else worklist)
                counts = worklist_counts(ctx)
                unmatched = len(list_unmatched(ctx))
        except Exception as exc:
            self.post_message(self.LoadFailed(worklist, describe_error(exc)))
            return
        self.post_message(self.Loaded(worklist, Worklist(rows, counts, unmatched)))

    def on_claims_screen_load_failed(self, message: LoadFailed) -> None:
        if message.worklist == self.worklist:
            self.query_one("#cl-heading", Static).update(message.message)

    def on_claims_screen_loaded(self, message: Loaded) -> None:
        if message.worklist != self.worklist:
            return  # another worklist was chosen meanwhile; its read is coming
        self.loaded = True
        data = message.data
        keep = self._select_claim or self.highlighted_id()
        self._select_claim = None
        self.rows, self.counts = data.rows, data.counts
        table = self.query_one("#cl-list", DataTable)
        table.clear()
        for r in self.rows:
            status = status_text(r.status)
            if r.frequency in FREQUENCY_LABELS:
                status.append(f" · {FREQUENCY_LABELS[r.frequency]}", "italic")
            table.add_row(
                r.claim_number,
                _fit(r.patient_name, PATIENT_WIDTH),
                _fit(r.payer_name, PAYER_WIDTH),
                fmt_date(r.service_from),
                Text(fmt_money(Money(r.total_cents)), justify="right"),
                status,
                findings_text(r.error_count, r.warning_count),
                key=str(r.id),
            )
        if keep is not None:
            row = next((i for i, r in enumerate(self.rows) if r.id == keep), None)
            if row is not None:
                table.move_cursor(row=row, animate=False)
        label = "every claim" if self.worklist == "all" else WORKLIST_LABELS[self.worklist]
        heading = Text.assemble(("Claims", "bold"), f"   showing: {label} ({len(self.rows)})")
        if data.unmatched:
            heading.append(
                f"   ·   {data.unmatched} acknowledgment(s) matched no claim: `pms ack unmatched`",
                "yellow",
            )
        if not self.rows:
            hint = "; b builds claims from posted charges" if self.app.may("claims:write") else ""
            heading.append("   ·   none here" + hint)
        self.query_one("#cl-heading", Static).update(heading)
        self._tabs()
        self.refresh_bindings()

    def _tabs(self) -> None:
        tabs = Text()
        entries = [("0", "all", "All", sum(self.counts.values()))]
        entries += [
            (key, name, WORKLIST_LABELS[name], self.counts.get(name, 0))
            for key, name in WORKLIST_KEYS.items()
        ]
        for key, name, label, count in entries:
            if tabs:
                tabs.append(" ")
            chosen = name == self.worklist
            tabs.append(f" {key} ", "reverse bold" if chosen else "bold")
            tabs.append(f"{label} {count} ", "reverse bold" if chosen else "")
        self.query_one("#cl-tabs", Static).update(tabs)

    # --- the highlighted claim ----------------------------------------------------------
    def highlighted(self) -> ClaimRow | None:
        table = self.query_one("#cl-list", DataTable)
        if not self.rows or not 0 <= table.cursor_row < min(len(self.rows), table.row_count):
            return None
        row_key, _ = table.coordinate_to_cell_key((table.cursor_row, 0))
        return next((r for r in self.rows if str(r.id) == row_key.value), None)

    def highlighted_id(self) -> int | None:
        row = self.highlighted() if self.is_mounted else None
        return row.id if row is not None else None

    # --- keys ---------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("build", "scrub", "scrub_all"):
            return self.app.may("claims:write")
        if action == "submit":
            return self.app.may("claims:submit")
        return True

    def action_open(self) -> None:
        row = self.highlighted()
        if row is None:
            self.notify("No claim here: choose a worklist with claims.", severity="warning")
            return
        self.app.push_screen(ClaimScreen(row.id))

    @on(DataTable.RowSelected, "#cl-list")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_worklist(self, name: str) -> None:
        if name != "all" and name not in WORKLISTS:
            return
        self.worklist = name
        self._tabs()
        self.load()

    def action_reload(self) -> None:
        self.load()

    def action_build(self) -> None:
        self._build(self.app.grant())

    @work(thread=True, group="claims-change")
    def _build(self, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                result = build_claims(ctx)
        except Exception as exc:
            self.post_message(ActionFailed(describe_error(exc)))
            return
        count = len(result.claims)
        text = f"Built {count} claim{'s' if count != 1 else ''} from posted charges."
        if not count:
            text = "Nothing to bill: every posted charge is on a claim."
        if result.self_pay_charges:
            n = len(result.self_pay_charges)
            text += f" {n} self-pay charge{'s' if n != 1 else ''} (no coverage) got no claim."
        first = result.claims[0].id if result.claims else None
        self.post_message(ActionDone(text, first))

    def action_scrub(self) -> None:
        row = self.highlighted()
        if row is None:
            self.notify("No claim here to scrub.", severity="warning")
        elif row.status not in UNSENT:
            self.notify(
                f"Claim {row.claim_number} is {status_text(row.status).plain}: "
                "only unsent claims are scrubbed.",
                severity="warning",
            )
        else:
            self._select_claim = row.id
            self.scrub([row.id], self.app.grant())

    def action_scrub_all(self) -> None:
        self.scrub(None, self.app.grant())

    def action_submit(self) -> None:
        ready = self.counts.get("ready", 0)
        if not ready:
            self.notify("No ready claims: scrub them first (s).", severity="warning")
            return
        self.confirm_submit(None, f"Submit the {ready} ready claim{'s' if ready != 1 else ''} now?")

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text)
        if message.claim_id is not None:
            self._select_claim = message.claim_id
        self.load()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.notify(message.message, severity="error", timeout=8)
        self.load()

    def on_submitted(self, message: Submitted) -> None:
        self.notify(message.text, severity=message.severity, timeout=10)
        self.load()

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> list[PaletteCommand]:
        commands = [c for c in binding_commands(self, "Claims")]
        for key, name in [("0", "all"), *WORKLIST_KEYS.items()]:
            label = "every claim" if name == "all" else WORKLIST_LABELS[name].lower()
            commands.append(
                PaletteCommand(
                    f"Claims: show {label}",
                    f"The {label} worklist ({key})",
                    _worklist_command(self, name),
                )
            )
        return commands


def _worklist_command(screen: ClaimsScreen, name: str):
    def action_worklist() -> None:
        screen.action_worklist(name)

    return action_worklist


# --- one claim -------------------------------------------------------------------------
@dataclass(frozen=True)
class ClaimPage:
    """A claim as the detail screen shows it: the service's ClaimDetail, the
    diagnoses' descriptions and the practice's time zone for the times."""

    detail: ClaimDetail
    diagnoses: list[tuple[str, str]]  # (display code, description)
    zone: ZoneInfo
    status_check: object | None = None  # the latest 276/277 question about it


class ClaimScreen(ClaimWork, Screen):
    """One claim: header, lines, findings, history and X12."""

    AUTO_FOCUS = "#cd-lines"
    BINDINGS = [
        Binding(
            "s",
            "scrub",
            "Scrub",
            id="claim.scrub",
            tooltip="Scrub this claim again (unsent claims only)",
        ),
        Binding("u", "submit", "Submit", id="claim.submit", tooltip="Submit this ready claim"),
        Binding(
            "c",
            "correct",
            "Correct",
            id="claim.correct",
            tooltip="Send a corrected claim (frequency 7) in place of this one",
        ),
        Binding(
            "v",
            "void",
            "Void",
            id="claim.void",
            tooltip="Ask the payer to cancel this claim (frequency 8)",
        ),
        Binding(
            "d",
            "discard",
            "Discard",
            id="claim.discard",
            tooltip="Drop this unsent claim; its charges can be billed again",
        ),
        Binding(
            "x",
            "x12",
            "X12",
            id="claim.x12",
            tooltip="Move to the X12 the claim went out as (arrows scroll it)",
        ),
        Binding(
            "r,f5",
            "reload",
            "Refresh",
            id="claim.reload",
            tooltip="Read the claim again",
            show=False,
        ),
        Binding("escape", "back", "Back", id="claim.back", tooltip="Back to the worklist"),
    ]

    class Loaded(Message):
        def __init__(self, claim_id: int, page: ClaimPage) -> None:
            super().__init__()
            self.claim_id = claim_id
            self.page = page

    class LoadFailed(Message):
        def __init__(self, claim_id: int, message: str) -> None:
            super().__init__()
            self.claim_id = claim_id
            self.message = message

    def __init__(self, claim_id: int) -> None:
        super().__init__()
        self.claim_id = claim_id
        self.page: ClaimPage | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="cd-page"):
            yield Static("Loading…", id="cd-heading", classes="heading")
            with Horizontal(id="cd-top"):
                yield Static("", id="cd-summary", classes="panel")
                yield Static("", id="cd-diagnoses", classes="panel")
            yield Label("Lines", classes="section")
            lines = DataTable(id="cd-lines", cursor_type="row", zebra_stripes=True)
            for key, label in (
                ("n", "#"),
                ("dos", "Date"),
                ("code", "Code"),
                ("modifiers", "Mod"),
                ("units", "Units"),
                ("pointers", "Dx"),
                ("charge", "Charge"),
            ):
                lines.add_column(label, key=key)
            yield lines
            yield Label("Findings of the last scrub", classes="section")
            findings = DataTable(id="cd-findings", cursor_type="row", zebra_stripes=True)
            for key, label, width in (
                ("severity", "Severity", 8),
                ("field", "Field", 24),
                ("line", "Line", 4),
                ("message", "Message", MESSAGE_WIDTH),
            ):
                findings.add_column(label, key=key, width=width)
            yield findings
            yield Label("History", classes="section")
            history = DataTable(id="cd-history", cursor_type="row", zebra_stripes=True)
            for key, label, width in (
                ("at", "When", 16),
                ("from", "From", 12),
                ("to", "To", 12),
                ("who", "Who", 8),
                ("why", "Why", WHY_WIDTH),
            ):
                history.add_column(label, key=key, width=width)
            yield history
            yield Label("X12", classes="section", id="cd-x12-label")
            with VerticalScroll(id="cd-x12-box"):
                yield Static("", id="cd-x12")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    # --- loading ------------------------------------------------------------------------
    def load(self) -> None:
        self._load(self.app.grant(), self.claim_id)

    @work(thread=True, exclusive=True, group="claim-load")
    def _load(self, grant, claim_id: int) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                detail = get_claim(ctx, claim_id=claim_id)
                zone = ctx.zone()
                asked = claim_status.history(ctx, claim_id=claim_id)
            diagnoses = [
                (codes.icd10_display(code), codes.icd10_description(code) or "")
                for code in detail.view.diagnoses
            ]
        except Exception as exc:
            self.post_message(self.LoadFailed(claim_id, describe_error(exc)))
            return
        page = ClaimPage(detail, diagnoses, zone, asked[0] if asked else None)
        self.post_message(self.Loaded(claim_id, page))

    def on_claim_screen_load_failed(self, message: LoadFailed) -> None:
        if message.claim_id == self.claim_id:
            self.query_one("#cd-heading", Static).update(message.message)

    def on_claim_screen_loaded(self, message: Loaded) -> None:
        if message.claim_id != self.claim_id:
            return
        self.page = page = message.page
        detail, zone = page.detail, page.zone
        claim, view = detail.claim, detail.view
        member = view.patient or view.subscriber.member
        patient = f"{member.name.last}, {member.name.first or ''}".rstrip(", ")
        heading = Text.assemble(
            ("Claim ", "bold"),
            (claim.claim_number, "bold"),
            "   ",
            status_text(claim.status),
            f"   {claim.kind}",
        )
        if claim.frequency in FREQUENCY_LABELS:
            heading.append(f" {FREQUENCY_LABELS[claim.frequency]}")
        self.query_one("#cd-heading", Static).update(heading)
        service = fmt_date(claim.service_from)
        if claim.service_to != claim.service_from:
            service += f" – {fmt_date(claim.service_to)}"
        summary = [
            ("Patient", patient),
            ("Payer", f"{view.payer.name} ({view.payer.payer_id})"),
            ("Member id", view.subscriber.member_id),
            ("Payer claim #", claim.payer_claim_number or "not on file"),
            ("Service", service),
            ("Total", fmt_money(Money(claim.total_cents))),
            ("Created", fmt_local(claim.created_at, zone)),
            ("Scrubbed", fmt_local(claim.scrubbed_at, zone) or "not yet"),
            ("Submitted", fmt_local(claim.submitted_at, zone) or "not yet"),
        ]
        if claim.original_claim_id is not None:
            summary.append(("Replaces", f"claim id {claim.original_claim_id}"))
        if page.status_check is not None:
            k = page.status_check
            said = f"{k.category} {k.message}" if k.category else k.message
            summary.append(("Status (277)", f"{fmt_local(k.asked_at, zone)}: {k.status}, {said}"))
        self.query_one("#cd-summary", Static).update(_label_lines(summary))
        dx = Text("Diagnoses\n", style="bold")
        for n, (code, description) in enumerate(page.diagnoses, start=1):
            dx.append(f"\n{n:>2} {code:<8}", style="bold" if n == 1 else "")
            dx.append(description)
        self.query_one("#cd-diagnoses", Static).update(dx)
        lines = self.query_one("#cd-lines", DataTable)
        lines.clear()
        for line in view.lines:
            lines.add_row(
                str(line.line_number),
                fmt_date(line.service_date),
                line.code,
                " ".join(line.modifiers),
                _units(line.units),
                ",".join(str(p) for p in line.diagnosis_pointers),
                Text(fmt_money(Money(line.charge_cents)), justify="right"),
                key=str(line.line_number),
            )
        findings = self.query_one("#cd-findings", DataTable)
        findings.clear()
        for f in detail.findings:
            findings.add_row(
                Text(f.severity, "bold red" if f.severity == "error" else "yellow"),
                f.field,
                str(f.line_number or ""),
                Text(f.message),
                key=str(f.id),
                height=None,  # long messages wrap
            )
        if not detail.findings:
            never = claim.scrubbed_at is None
            findings.add_row(
                "", "", "", "Not scrubbed yet." if never else "None: the claim is clean."
            )
        history = self.query_one("#cd-history", DataTable)
        history.clear()
        for e in detail.events:
            history.add_row(
                fmt_local(e.at, zone),
                status_text(e.from_status) if e.from_status else Text("(new)", "dim"),
                status_text(e.to_status),
                detail.usernames.get(e.user_id, "system") if e.user_id else "system",
                Text(e.reason),
                key=str(e.id),
                height=None,  # a rejection's reason in words wraps
            )
        self.query_one("#cd-x12", Static).update(self._x12_text(detail))
        self.refresh_bindings()

    @staticmethod
    def _x12_text(detail: ClaimDetail) -> Text:
        if detail.x12 is not None:
            sent = [b for b in detail.batches if b.status != "held"] or detail.batches
            last = sent[-1]
            text = Text()
            text.append(f"As sent in {last.file_name} (batch {last.id}, {last.status}):\n\n", "dim")
            text.append(detail.x12)
            return text
        if detail.batches:
            return Text("This claim's segments were not found in its batch file.", "yellow")
        return Text("Not sent yet: the X12 shows here once the claim goes out in a batch.", "dim")

    # --- keys ---------------------------------------------------------------------------
    @property
    def status(self) -> str | None:
        return self.page.detail.claim.status if self.page is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        status = self.status
        claim = self.page.detail.claim if self.page is not None else None
        if action in ("scrub", "discard"):
            return self.app.may("claims:write") and status in UNSENT
        if action == "submit":
            return self.app.may("claims:submit") and status == "ready"
        if action in ("correct", "void"):
            return (
                self.app.may("claims:write")
                and status in CORRECTABLE
                and claim is not None
                and claim.frequency != FREQ_VOID
            )
        return True

    def action_reload(self) -> None:
        self.load()

    def action_x12(self) -> None:
        box = self.query_one("#cd-x12-box", VerticalScroll)
        box.focus()
        box.scroll_visible()

    def action_scrub(self) -> None:
        if self.check_action("scrub", ()):
            self.scrub([self.claim_id], self.app.grant())

    def action_submit(self) -> None:
        if self.check_action("submit", ()) and self.page is not None:
            number = self.page.detail.claim.claim_number
            self.confirm_submit([self.claim_id], f"Submit claim {number} now?")

    def _change(self, action: str) -> None:
        if not self.check_action(action, ()) or self.page is None:
            return
        claim = self.page.detail.claim
        self.app.push_screen(
            ClaimChangeScreen(action, claim.id, claim.claim_number, claim.payer_claim_number),
            self._changed,
        )

    def action_correct(self) -> None:
        self._change("correct")

    def action_void(self) -> None:
        self._change("void")

    def action_discard(self) -> None:
        self._change("discard")

    def _changed(self, result: tuple[str, int | None] | None) -> None:
        if result is None:
            return
        text, new_claim = result
        self.notify(text)
        if new_claim is not None:
            self.claim_id = new_claim  # show the claim that takes this one's place
        self.load()

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(message.text)
        self.load()

    def on_action_failed(self, message: ActionFailed) -> None:
        self.notify(message.message, severity="error", timeout=8)
        self.load()

    def on_submitted(self, message: Submitted) -> None:
        self.notify(message.text, severity=message.severity, timeout=10)
        self.load()

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Claim")


# --- dialogs -----------------------------------------------------------------------------
class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; "No" (escape) is the default."""

    AUTO_FOCUS = "#confirm-no"
    BINDINGS = [
        Binding("y", "yes", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("escape,n", "no", "No", id="confirm.no", tooltip="Do nothing"),
    ]

    def __init__(self, title: str, question: str, verb: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="dialog"):
            yield Static(self.title_text, classes="dialog-title")
            yield Static(self.question)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.verb} (y)", id="confirm-yes", variant="warning")
                yield Button("No (escape)", id="confirm-no", variant="primary")
        yield Footer(compact=True)

    @on(Button.Pressed, "#confirm-yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_no(self) -> None:
        self.dismiss(False)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(f"Confirm: {self.verb.lower()}", "Go ahead (y)", self.action_yes),
            PaletteCommand("Confirm: no", "Do nothing (escape)", self.action_no),
        ]


CHANGE_TITLES = {
    "correct": ("Correct claim", "Make corrected claim"),
    "void": ("Void claim", "Make void claim"),
    "discard": ("Discard claim", "Discard"),
}


class ClaimChangeScreen(FinishWhenCurrent, ModalScreen[tuple[str, int | None] | None]):
    """Correct, void or discard a claim: asks why (and, to correct or void, the
    payer's claim number when none is on file), then calls the service.
    Dismisses with (what to tell the user, the new claim's id or None), or None."""

    AUTO_FOCUS = "#chg-number, #chg-reason"
    BINDINGS = [
        Binding(
            "ctrl+s",
            "confirm",
            "Confirm",
            id="change.confirm",
            tooltip="Go ahead with this reason",
            priority=True,
        ),
        Binding("escape", "close", "Cancel", id="change.cancel", tooltip="Close; nothing changes"),
    ]

    class Done(Message):
        def __init__(self, text: str, claim_id: int | None) -> None:
            super().__init__()
            self.text = text
            self.claim_id = claim_id

    class Failed(Message):
        def __init__(self, errors: dict[str, str], message: str | None) -> None:
            super().__init__()
            self.errors = errors
            self.message = message

    def __init__(
        self, action: str, claim_id: int, claim_number: str, payer_claim_number: str | None
    ) -> None:
        super().__init__()
        self.action = action
        self.claim_id = claim_id
        self.claim_number = claim_number
        self.payer_claim_number = payer_claim_number
        self._working = False

    def compose(self) -> ComposeResult:
        title, _ = CHANGE_TITLES[self.action]
        with Vertical(id="chg-box", classes="dialog"):
            yield Static(f"{title} {self.claim_number}", classes="dialog-title")
            yield Static(self._explain(), id="chg-explain")
            if self.action != "discard":
                if self.payer_claim_number:
                    yield Static(f"Payer claim number on file: {self.payer_claim_number}")
                else:
                    yield Label("Payer claim number * (from the 277CA or the remittance)")
                    yield Input(id="chg-number", max_length=50)
                    yield Static("", id="e-chg-number", classes="field-error")
            yield Label("Reason" + (" *" if self.action != "discard" else ""))
            yield Input(id="chg-reason", max_length=200, placeholder=self._placeholder())
            yield Static("", id="e-chg-reason", classes="field-error")
            yield Static("Enter (or ctrl+s) goes ahead; escape closes.", id="chg-status")
        yield Footer(compact=True)

    def _explain(self) -> str:
        if self.action == "correct":
            return (
                "A corrected claim (frequency 7) is built from the visit's posted charges "
                "and replaces this one."
            )
        if self.action == "void":
            return "A void claim (frequency 8) with this claim's lines asks the payer to cancel it."
        return "The claim is dropped before it was sent; its charges can be billed again."

    def _placeholder(self) -> str:
        return {
            "correct": "e.g. wrong modifier on line 2",
            "void": "e.g. billed to the wrong patient",
            "discard": "e.g. coverage was wrong",
        }[self.action]

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "chg-number":
            self.query_one("#chg-reason", Input).focus()
        else:
            self.action_confirm()

    def action_confirm(self) -> None:
        if self._working:
            return
        reason = self.query_one("#chg-reason", Input).value.strip()
        numbers = self.query("#chg-number").results(Input)
        number = next((i.value.strip() for i in numbers), None) or None
        if self.action != "discard" and not reason:
            self.query_one("#e-chg-reason", Static).update("Say why (the history keeps it).")
            self.query_one("#chg-reason", Input).focus()
            return
        self._working = True
        self.query_one("#chg-status", Static).update("Working…")
        self._run(reason, number, self.app.grant())

    @work(thread=True, exclusive=True, group="claim-change")
    def _run(self, reason: str, number: str | None, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                if self.action == "correct":
                    new = correct_claim(
                        ctx, claim_id=self.claim_id, payer_claim_number=number, reason=reason
                    )
                    numbers = ", ".join(c.claim_number for c in new)
                    done = self.Done(f"Corrected claim {numbers} replaces it.", new[0].id)
                elif self.action == "void":
                    void = void_claim(
                        ctx, claim_id=self.claim_id, payer_claim_number=number, reason=reason
                    )
                    done = self.Done(f"Void claim {void.claim_number} made.", void.id)
                else:
                    discard_claim(ctx, claim_id=self.claim_id, reason=reason)
                    done = self.Done(f"Claim {self.claim_number} discarded.", None)
        except ValidationError as exc:
            errors = {}
            for e in exc.errors:
                target = "e-chg-number" if e.field == "payer_claim_number" else "e-chg-reason"
                label = "Payer claim number" if e.field == "payer_claim_number" else "Reason"
                errors[target] = sentence(label, e.message)
            self.post_message(self.Failed(errors, None))
        except Exception as exc:
            self.post_message(self.Failed({}, describe_error(exc)))
        else:
            self.post_message(done)

    def on_claim_change_screen_failed(self, message: Failed) -> None:
        self._working = False
        for static in self.query(".field-error").results(Static):
            static.update("")
        for target, text in message.errors.items():
            for static in self.query(f"#{target}").results(Static):
                static.update(text)
            if target == "e-chg-number" and not self.query("#chg-number"):
                self.query_one("#e-chg-reason", Static).update(text)
        self.query_one("#chg-status", Static).update(message.message or "Not done: see above.")

    def on_claim_change_screen_done(self, message: Done) -> None:
        self._working = False
        self.query_one("#chg-status", Static).update("Done.")
        self.finish((message.text, message.claim_id))

    def action_close(self) -> None:
        self.dismiss(None)

    def palette_commands(self) -> list[PaletteCommand]:
        _, verb = CHANGE_TITLES[self.action]
        return [
            PaletteCommand(
                f"Claim: {verb.lower()}", "Go ahead with this reason (ctrl+s)", self.action_confirm
            ),
            PaletteCommand("Claim: cancel", "Close; nothing changes (escape)", self.action_close),
        ]


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _units(value) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _label_lines(lines: list[tuple[str, str]]) -> Text:
    width = max((len(label) for label, _ in lines), default=0)
    text = Text()
    for i, (label, value) in enumerate(lines):
        if i:
            text.append("\n")
        text.append(f"{label:<{width}}  ", style="dim")
        text.append(value)
    return text
