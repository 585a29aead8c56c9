"""Patient registration (and demographics edit): a form over `register_patient`.

The screen only gathers text; `register_patient` / `update_patient` validate it
and answer with every problem at once (ValidationError) or a possible duplicate
(PossibleDuplicate). Each problem is shown under its field, nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Input, Label, Select, Static, TextArea

from pms_core.errors import FieldError, ValidationError
from pms_core.services.patients import (
    IntakeInput,
    PatientRecord,
    PossibleDuplicate,
    patient_summaries,
    register_patient,
    update_patient,
)
from pms_tui.commands import PaletteCommand
from pms_tui.format import fmt_date, fmt_phone, fmt_zip, full_name


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    required: bool = False
    placeholder: str = ""
    max_length: int = 0
    choices: tuple[tuple[str, str], ...] = ()


FIELDS: tuple[FormField, ...] = (
    FormField("first_name", "First name", True, max_length=35),
    FormField("middle_name", "Middle name", max_length=25),
    FormField("last_name", "Last name", True, max_length=60),
    FormField("dob", "Date of birth", True, "YYYY-MM-DD or MM/DD/YYYY", max_length=10),
    FormField("sex", "Sex", True, choices=(("Female", "F"), ("Male", "M"), ("Unknown", "U"))),
    FormField("address1", "Address", True, max_length=55),
    FormField("address2", "Address line 2", max_length=55),
    FormField("city", "City", True, max_length=30),
    FormField("state", "State", True, "e.g. IL", max_length=2),
    FormField("zip", "ZIP", True, "62701 or 62701-1234", max_length=10),
    FormField("home_phone", "Home phone", placeholder="(555) 555-0100", max_length=20),
    FormField("mobile_phone", "Mobile phone", placeholder="(555) 555-0100", max_length=20),
    FormField("email", "Email", max_length=120),
    FormField(
        "preferred_contact",
        "Preferred contact",
        choices=(
            ("Text message", "sms"),
            ("Email", "email"),
            ("Phone call", "phone"),
            ("Mail", "mail"),
            ("Do not contact", "none"),
        ),
    ),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
INTAKE_SECTIONS: tuple[tuple[str, str], ...] = (
    ("condition", "Conditions"),
    ("allergy", "Allergies"),
    ("medication", "Medications"),
    ("previous_provider", "Previous providers"),
)
_INTAKE_FIELD = re.compile(r"^intake\[(\d+)\]\.(\w+)$")


@dataclass(frozen=True)
class DuplicateMatch:
    """An existing patient the new one may duplicate (shown to decide)."""

    patient_id: int
    account_number: str
    name: str
    dob: str


class RegisterScreen(Screen):
    """Register a patient, or with `record` edit that patient's demographics.

    Dismisses with True after an edit was saved; a new registration replaces this
    screen with the new patient's detail screen.
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save", tooltip="Save the form", priority=True),
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="form.cancel",
            tooltip="Leave the form without saving",
        ),
    ]

    class Saved(Message):
        def __init__(self, patient_id: int, account_number: str) -> None:
            super().__init__()
            self.patient_id = patient_id
            self.account_number = account_number

    class Invalid(Message):
        def __init__(self, errors: list[FieldError], owners: list[str]) -> None:
            super().__init__()
            self.errors = errors
            self.owners = owners

    class DuplicateFound(Message):
        def __init__(self, matches: list[DuplicateMatch]) -> None:
            super().__init__()
            self.matches = matches

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, record: PatientRecord | None = None) -> None:
        super().__init__()
        self.record = record
        self.patient_id = record.patient.id if record is not None else None
        self._saving = False
        self._initial: dict[str, Any] | None = None
        self._on_resume: list[Callable[[], Any]] = []

    # --- layout -------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            if self.record is None:
                title = "Register a patient"
            else:
                p = self.record.patient
                title = f"Edit {full_name(p.last_name, p.first_name)} (account {p.account_number})"
            yield Static(title, classes="heading")
            yield Static(
                "Fields marked * are required. ctrl+s saves, escape cancels.",
                id="form-help",
            )
            yield Static("", id="form-status", classes="form-error")
            with Grid(id="form-fields"):
                for field in FIELDS:
                    with Vertical(classes="field", id=f"box-{field.name}"):
                        yield Label(field.label + (" *" if field.required else ""))
                        yield self._widget_for(field)
                        yield Static("", id=f"e-{field.name}", classes="field-error")
            if self.record is None:
                yield Label(
                    "Intake: what the patient reports, one item per line", classes="section"
                )
                with Grid(id="intake-fields"):
                    for kind, label in INTAKE_SECTIONS:
                        with Vertical(classes="field intake"):
                            yield Label(label)
                            yield TextArea(id=f"i-{kind}", soft_wrap=True, tab_behavior="focus")
                            yield Static("", id=f"e-intake-{kind}", classes="field-error")
        yield Footer()

    def _widget_for(self, field: FormField) -> Widget:
        value = self._initial_value(field.name)
        if field.choices:
            return Select(
                field.choices,
                id=f"f-{field.name}",
                prompt="(choose)" if field.required else "(default)",
                value=value if value else Select.NULL,
            )
        return Input(
            value=value or "",
            id=f"f-{field.name}",
            placeholder=field.placeholder,
            max_length=field.max_length,
        )

    def _initial_value(self, name: str) -> str | None:
        if self.record is None:
            return None
        p = self.record.patient
        value = getattr(p, name)
        if name == "dob":
            return fmt_date(value)
        if name in ("home_phone", "mobile_phone"):
            return fmt_phone(value)
        if name == "zip":
            return fmt_zip(value)
        return value

    def on_mount(self) -> None:
        self._initial = self._snapshot()
        self.focus_first()

    def focus_first(self) -> None:
        self.query_one("#f-first_name", Input).focus()

    # --- reading the form ---------------------------------------------------------
    def _value(self, name: str) -> str | None:
        widget = self.query_one(f"#f-{name}")
        if isinstance(widget, Select):
            return None if widget.is_blank() else str(widget.value)
        return widget.value

    def _snapshot(self) -> dict[str, Any]:
        values: dict[str, Any] = {f.name: self._value(f.name) for f in FIELDS}
        for kind, _ in INTAKE_SECTIONS:
            for area in self.query(f"#i-{kind}").results(TextArea):
                values[f"intake:{kind}"] = area.text
        return values

    def has_unsaved_input(self) -> bool:
        return self._initial is not None and self._snapshot() != self._initial

    def collect(self) -> tuple[dict[str, Any], list[IntakeInput], list[str]]:
        """The service's keyword arguments, the intake items, and for each intake
        item the section it came from (to place its errors)."""
        fields: dict[str, Any] = {}
        for field in FIELDS:
            value = self._value(field.name)
            if field.name == "preferred_contact" and value is None:
                continue  # the service picks the default channel
            fields[field.name] = value
        intake: list[IntakeInput] = []
        owners: list[str] = []
        for kind, _ in INTAKE_SECTIONS:
            for area in self.query(f"#i-{kind}").results(TextArea):
                for line in area.text.splitlines():
                    if line.strip():
                        intake.append(IntakeInput(kind=kind, description=line.strip()))
                        owners.append(kind)
        return fields, intake, owners

    # --- saving -------------------------------------------------------------------
    def action_save(self, allow_duplicate: bool = False) -> None:
        if self._saving:
            return
        fields, intake, owners = self.collect()
        self._saving = True
        self.query_one("#form-status", Static).update("Saving…")
        self._save(fields, intake, owners, allow_duplicate, self.app.grant())

    @work(thread=True, exclusive=True, group="save")
    def _save(
        self,
        fields: dict[str, Any],
        intake: list[IntakeInput],
        owners: list[str],
        allow_duplicate: bool,
        grant,
    ) -> None:
        from pms_tui.app import describe_error

        app = self.app
        try:
            with app.uow(grant) as ctx:
                if self.patient_id is None:
                    patient = register_patient(
                        ctx, intake=intake, allow_duplicate=allow_duplicate, **fields
                    )
                else:
                    patient = update_patient(
                        ctx,
                        patient_id=self.patient_id,
                        allow_duplicate=allow_duplicate,
                        **fields,
                    )
                saved = self.Saved(patient.id, patient.account_number)
        except ValidationError as exc:
            self.post_message(self.Invalid(exc.errors, owners))
        except PossibleDuplicate as exc:
            try:
                matches = self._describe(grant, exc.patient_ids)
            except Exception as inner:
                self.post_message(self.Failed(describe_error(inner)))
            else:
                self.post_message(self.DuplicateFound(matches))
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc)))
        else:
            self.post_message(saved)

    def _describe(self, grant, patient_ids: list[int]) -> list[DuplicateMatch]:
        """What the duplicate warning shows: one audited read for all of them."""
        with self.app.uow(grant) as ctx:
            hits = patient_summaries(ctx, patient_ids=patient_ids)
        return [
            DuplicateMatch(
                h.id, h.account_number, full_name(h.last_name, h.first_name), fmt_date(h.dob)
            )
            for h in hits
        ]

    # --- results ------------------------------------------------------------------
    def on_register_screen_invalid(self, message: Invalid) -> None:
        self._saving = False
        self.show_errors(message.errors, message.owners)

    def on_register_screen_failed(self, message: Failed) -> None:
        self._saving = False
        self.query_one("#form-status", Static).update(f"Not saved: {message.message}")

    def on_register_screen_duplicate_found(self, message: DuplicateFound) -> None:
        from pms_tui.screens.duplicate import DuplicateScreen

        self._saving = False
        self.query_one("#form-status", Static).update(
            "Possible duplicate: a patient with the same name and date of birth exists."
        )

        def decided(anyway: bool | None) -> None:
            if anyway:
                self.action_save(allow_duplicate=True)
            else:
                self.query_one("#form-status", Static).update(
                    "Not saved: possible duplicate. Open the existing patient from search, "
                    "or change the form."
                )

        verb = "Register anyway" if self.patient_id is None else "Save anyway"
        self.when_current(
            lambda: self.app.push_screen(DuplicateScreen(message.matches, verb), decided)
        )

    def on_register_screen_saved(self, message: Saved) -> None:
        from pms_tui.screens.patient import PatientScreen

        self._saving = False
        self._initial = self._snapshot()
        self.clear_errors()
        self.query_one("#form-status", Static).update("Saved.")

        def navigate() -> None:
            if self.patient_id is None:
                self.app.notify(f"Registered patient {message.account_number}.")
                self.app.switch_screen(PatientScreen(message.patient_id))
            else:
                self.app.notify(f"Saved patient {message.account_number}.")
                self.dismiss(True)

        self.when_current(navigate)

    def when_current(self, callback: Callable[[], Any]) -> None:
        """Run `callback` now if this form is the top screen, else when it is
        again: a save that finishes under the palette, a dialog or the lock
        screen must not replace or cover that screen instead of the form."""
        if self.is_active:
            callback()
        else:
            self._on_resume.append(callback)

    def on_screen_resume(self) -> None:
        pending, self._on_resume = self._on_resume, []
        for callback in pending:
            self.when_current(callback)

    def clear_errors(self) -> None:
        for static in self.query(".field-error").results(Static):
            static.update("")
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")
        self.query_one("#form-status", Static).update("")

    def show_errors(self, errors: list[FieldError], owners: list[str]) -> None:
        """Put each problem under its field and focus the first bad field."""
        self.clear_errors()
        per_target: dict[str, list[str]] = {}
        general: list[str] = []
        for error in errors:
            target, text = self._place(error, owners)
            if target is None:
                general.append(text)
            else:
                per_target.setdefault(target, []).append(text)
        for target, texts in per_target.items():
            self.query_one(f"#e-{target}", Static).update("\n".join(texts))
        count = len(errors)
        status = f"Not saved: {count} problem{'s' if count != 1 else ''} to fix."
        if general:
            status += " " + "; ".join(general)
        self.query_one("#form-status", Static).update(status)
        order = [f.name for f in FIELDS] + [f"intake-{kind}" for kind, _ in INTAKE_SECTIONS]
        first = None
        for target in order:
            if target in per_target:
                widget = self._input_for(target)
                widget.add_class("-invalid")
                first = first or widget
        if first is not None:
            first.focus()
            first.scroll_visible()

    def _input_for(self, target: str) -> Widget:
        if target.startswith("intake-"):
            return self.query_one(f"#i-{target.removeprefix('intake-')}")
        return self.query_one(f"#f-{target}")

    @staticmethod
    def _place(error: FieldError, owners: list[str]) -> tuple[str | None, str]:
        """(error target id suffix, message) for one FieldError."""
        if error.field in FIELD_BY_NAME:
            return error.field, _sentence(FIELD_BY_NAME[error.field].label, error.message)
        m = _INTAKE_FIELD.match(error.field)
        if m and 0 < int(m[1]) <= len(owners):
            index = int(m[1])
            kind = owners[index - 1]
            line = owners[:index].count(kind)
            return f"intake-{kind}", f"Line {line}: " + _sentence(m[2], error.message)
        return None, str(error)

    # --- leaving ------------------------------------------------------------------
    def action_cancel(self) -> None:
        """Leave the form; with unsaved input only after "Discard" is confirmed."""
        from pms_tui.screens.confirm import ConfirmDiscardScreen

        if not self.has_unsaved_input():
            self.dismiss(False)
            return

        def decided(discard: bool | None) -> None:
            if discard:
                self.when_current(lambda: self.dismiss(False))

        self.app.push_screen(ConfirmDiscardScreen(), decided)

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("Form: save", "Save this form (ctrl+s)", self.action_save),
            PaletteCommand(
                "Form: cancel", "Leave the form without saving (escape)", self.action_cancel
            ),
        ]


_PREDICATES = ("is ", "are ", "must ", "may ", "cannot ", "has ", "needs ", "should ")


def _sentence(label: str, message: str) -> str:
    """ "First name is required"; a message that is already a sentence of its own
    ("a phone is required when ...") is shown as one."""
    if message.startswith(_PREDICATES):
        return f"{label} {message}"
    return message[:1].upper() + message[1:]
