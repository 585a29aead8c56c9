"""Patient detail: demographics, coverage and its eligibility answers, intake
history and balance."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Static

from pms_core.models.people import INTAKE_KINDS
from pms_core.money import Money
from pms_core.services.coverages import coverage_row
from pms_core.services.eligibility import check_patient, patient_checks
from pms_core.services.patients import PatientRecord, get_patient
from pms_tui.commands import PaletteCommand
from pms_tui.format import fmt_date, fmt_money, fmt_phone, fmt_zip, full_name

INTAKE_LABELS = {
    "condition": "Condition",
    "allergy": "Allergy",
    "medication": "Medication",
    "previous_provider": "Previous provider",
}
assert set(INTAKE_LABELS) == set(INTAKE_KINDS)
SEX_LABELS = {"F": "Female", "M": "Male", "U": "Unknown"}
BAD_ANSWERS = ("inactive", "rejected", "failed")
CONTACT_LABELS = {
    "sms": "Text message",
    "email": "Email",
    "phone": "Phone call",
    "mail": "Mail",
    "none": "Do not contact",
}


class PatientScreen(Screen):
    """One patient's record, loaded in a worker through `get_patient`."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="patient.back", tooltip="Back to the previous screen"),
        Binding(
            "e",
            "edit",
            "Edit",
            id="patient.edit",
            tooltip="Edit this patient's demographics",
        ),
        Binding(
            "c",
            "charges",
            "Charges",
            id="patient.charges",
            tooltip="Enter charges for a visit of this patient",
        ),
        Binding(
            "p",
            "payment",
            "Payment",
            id="patient.payment",
            tooltip="Take a payment or copay from this patient, with a receipt",
        ),
        Binding(
            "l",
            "ledger",
            "Ledger",
            id="patient.ledger",
            tooltip="Every posting of this patient, explained",
        ),
        Binding(
            "v",
            "eligibility",
            "Eligibility",
            id="patient.eligibility",
            tooltip="Ask the payers now whether each coverage is in force today",
        ),
        Binding(
            "f5",
            "reload",
            "Reload",
            id="patient.reload",
            tooltip="Load the record again",
            show=False,
        ),
    ]

    class Loaded(Message):
        def __init__(self, record: PatientRecord, checks: list) -> None:
            super().__init__()
            self.record = record
            self.checks = checks  # the latest eligibility check of each coverage

    class Checked(Message):
        def __init__(self, text: str, severity: str) -> None:
            super().__init__()
            self.text, self.severity = text, severity

    class LoadFailed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, patient_id: int) -> None:
        super().__init__()
        self.patient_id = patient_id
        self.record: PatientRecord | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static("Loading…", id="pt-heading", classes="heading")
            with Horizontal(id="pt-top"):
                yield Static("", id="pt-demographics", classes="panel")
                yield Static("", id="pt-balance", classes="panel")
            yield Label("Coverage", classes="section")
            coverages = DataTable(id="pt-coverages", cursor_type="row", zebra_stripes=True)
            for key, label in (
                ("priority", "Priority"),
                ("payer", "Payer"),
                ("member_id", "Member id"),
                ("group", "Group"),
                ("effective", "Effective"),
                ("termination", "Terminates"),
                ("copay", "Copay"),
            ):
                coverages.add_column(label, key=key)
            yield coverages
            yield Label("Eligibility (the latest answer for each coverage)", classes="section")
            checks = DataTable(id="pt-eligibility", cursor_type="row", zebra_stripes=True)
            for key, label in (
                ("coverage", "Coverage"),
                ("for", "For"),
                ("status", "Answer"),
                ("plan", "Plan"),
                ("copay", "Copay"),
                ("deductible", "Deductible left"),
                ("oop", "Out of pocket left"),
                ("note", "Changed / why"),
            ):
                checks.add_column(label, key=key)
            yield checks
            yield Label("Intake history (as reported by the patient)", classes="section")
            intake = DataTable(id="pt-intake", cursor_type="row", zebra_stripes=True)
            intake.add_column("Kind", key="kind")
            intake.add_column("Description", key="description")
            intake.add_column("Recorded", key="recorded")
            yield intake
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        """Load (again) the record in a worker, as the session of right now."""
        self._load(self.app.grant())

    @work(thread=True, exclusive=True, group="patient")
    def _load(self, grant) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                record = get_patient(ctx, patient_id=self.patient_id)
                latest = {}
                for check in patient_checks(ctx, patient_id=self.patient_id):
                    latest.setdefault(check.coverage_id, check)  # newest first
        except Exception as exc:
            self.post_message(self.LoadFailed(describe_error(exc)))
        else:
            self.post_message(self.Loaded(record, list(latest.values())))

    def on_patient_screen_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#pt-heading", Static).update(message.message)

    def on_patient_screen_loaded(self, message: Loaded) -> None:
        self.record = record = message.record
        p = record.patient
        self.query_one("#pt-heading", Static).update(
            Text.assemble(
                (full_name(p.last_name, p.first_name, p.middle_name, p.suffix), "bold"),
                f"   Account {p.account_number}",
                "" if p.active else "   (inactive)",
            )
        )
        lines = [
            ("DOB", fmt_date(p.dob)),
            ("Sex", SEX_LABELS.get(p.sex, p.sex)),
            ("Address", ", ".join(x for x in (p.address1, p.address2) if x)),
            ("", f"{p.city}, {p.state} {fmt_zip(p.zip)}"),
            ("Home phone", fmt_phone(p.home_phone)),
            ("Mobile phone", fmt_phone(p.mobile_phone)),
            ("Email", p.email or ""),
            ("Contact by", CONTACT_LABELS.get(p.preferred_contact, p.preferred_contact)),
        ]
        if record.guarantor_name:
            lines.append(("Guarantor", record.guarantor_name))
        self.query_one("#pt-demographics", Static).update(_label_lines(lines))
        if record.balance is None:
            balance = Text("Balance\n\nnot available for your role", style="dim")
        else:
            b = record.balance
            balance = _label_lines(
                [
                    ("Patient", fmt_money(b.patient)),
                    ("Insurance", fmt_money(b.insurance)),
                    ("Total", fmt_money(b.total)),
                ],
                title="Balance",
            )
        self.query_one("#pt-balance", Static).update(balance)
        coverages = self.query_one("#pt-coverages", DataTable)
        coverages.clear()
        for view in record.coverages:
            row = coverage_row(view)
            coverages.add_row(
                row["priority"] + ("" if view.coverage.active else " (inactive)"),
                row["payer"],
                row["member_id"],
                row["group_number"] or "",
                fmt_date(row["effective_date"]),
                fmt_date(row["termination_date"]),
                fmt_money(row["copay"]),
                key=str(row["id"]),
            )
        if not record.coverages:
            coverages.add_row("(none)", "", "", "", "", "", "")
        self._show_checks(record, message.checks)
        intake = self.query_one("#pt-intake", DataTable)
        intake.clear()
        for item in record.intake:
            intake.add_row(
                INTAKE_LABELS.get(item.kind, item.kind),
                item.description,
                fmt_date(item.recorded_at.date()) if item.recorded_at else "",
                key=str(item.id),
            )
        if not record.intake:
            intake.add_row("(none)", "", "")

    def _show_checks(self, record: PatientRecord, checks: list) -> None:
        payers = {v.coverage.id: coverage_row(v) for v in record.coverages}
        table = self.query_one("#pt-eligibility", DataTable)
        table.clear()
        for c in checks:
            row = payers.get(c.coverage_id)
            name = f"{row['priority']} {row['payer']}" if row else f"coverage {c.coverage_id}"
            left = c.deductible_remaining_cents
            oop = c.out_of_pocket_remaining_cents
            note = c.changes.replace(",", ", ") if c.changes else c.message
            table.add_row(
                name,
                fmt_date(c.service_date),
                Text(c.status, style="bold red" if c.status in BAD_ANSWERS else ""),
                c.plan_name or "",
                fmt_money(Money(c.copay_cents)) if c.copay_cents is not None else "",
                fmt_money(Money(left)) if left is not None else "",
                fmt_money(Money(oop)) if oop is not None else "",
                note,
                key=str(c.id),
            )
        if not checks:
            table.add_row("(never checked)", "", "", "", "", "", "", "")

    # --- actions ------------------------------------------------------------------
    def action_eligibility(self) -> None:
        if self.check_action("eligibility", ()):
            self.notify("Asking the payers…")
            self._check(self.app.grant())

    @work(thread=True, exclusive=True, group="patient-eligibility")
    def _check(self, grant) -> None:
        from pms_tui.app import describe_error
        from pms_tui.screens.schedule import check_summary

        try:
            with self.app.uow(grant) as ctx:
                checks = check_patient(ctx, patient_id=self.patient_id)
        except Exception as exc:
            self.post_message(self.Checked(describe_error(exc), "error"))
            return
        if not checks:
            self.post_message(self.Checked("No coverage in force today to check.", "warning"))
            return
        bad = any(c.status in BAD_ANSWERS for c in checks)
        text = "Eligibility: " + "; ".join(check_summary(c) for c in checks) + "."
        self.post_message(self.Checked(text, "warning" if bad else "information"))

    def on_patient_screen_checked(self, message: Checked) -> None:
        self.notify(message.text, severity=message.severity, timeout=10)
        self.load()

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.load()

    def action_edit(self) -> None:
        from pms_tui.screens.register import RegisterScreen

        if self.record is None:
            return
        self.app.push_screen(RegisterScreen(record=self.record), self._edited)

    def _edited(self, saved: bool | None) -> None:
        if saved:
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = {
            "charges": "charges:write",
            "payment": "payments:collect",
            "ledger": "ledger:read",
            "eligibility": "eligibility:check",
        }.get(action)
        return self.app.may(needs) if needs else True

    def action_payment(self) -> None:
        from pms_tui.screens.money import PaymentScreen

        if self.check_action("payment", ()):
            self.app.push_screen(PaymentScreen(self.patient_id), self._paid)

    def _paid(self, posted: bool | None) -> None:
        if posted:
            self.load()

    def action_ledger(self) -> None:
        from pms_tui.screens.money import LedgerScreen

        if self.check_action("ledger", ()):
            self.app.push_screen(LedgerScreen(self.patient_id))

    def action_charges(self) -> None:
        from pms_tui.screens.charges import ChargeEntryScreen

        if self.check_action("charges", ()):
            self.app.push_screen(ChargeEntryScreen(self.patient_id), self._charged)

    def _charged(self, encounter_id: int | None) -> None:
        if encounter_id is not None:
            self.load()  # the balance may have changed

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand(
                "Patient: edit", "Edit this patient's demographics (e)", self.action_edit
            ),
            PaletteCommand("Patient: reload", "Load the record again (f5)", self.action_reload),
            *(
                [
                    PaletteCommand(
                        "Patient: check eligibility",
                        "Ask the payers whether each coverage is in force today (v)",
                        self.action_eligibility,
                    )
                ]
                if self.check_action("eligibility", ())
                else []
            ),
            *(
                [
                    PaletteCommand(
                        "Patient: enter charges",
                        "Enter charges for a visit of this patient (c)",
                        self.action_charges,
                    )
                ]
                if self.check_action("charges", ())
                else []
            ),
            *(
                [
                    PaletteCommand(
                        "Patient: take a payment",
                        "A payment or copay, with a receipt (p)",
                        self.action_payment,
                    )
                ]
                if self.check_action("payment", ())
                else []
            ),
            *(
                [
                    PaletteCommand(
                        "Patient: ledger", "Every posting, explained (l)", self.action_ledger
                    )
                ]
                if self.check_action("ledger", ())
                else []
            ),
            PaletteCommand(
                "Patient: back", "Back to the previous screen (escape)", self.action_back
            ),
        ]


def _label_lines(lines: list[tuple[str, str]], *, title: str | None = None) -> Text:
    width = max((len(label) for label, _ in lines), default=0)
    text = Text()
    if title:
        text.append(f"{title}\n\n", style="bold")
    for i, (label, value) in enumerate(lines):
        if i:
            text.append("\n")
        text.append(f"{label:<{width}}  ", style="dim")
        text.append(value)
    return text
