"""Importing a file from the keyboard: pick what it holds and where it is, check
it (a dry run: the errors by row and column, the counts of new, updated and
unchanged records, the possible duplicate patients), then apply it.

Apply is offered only after a check of the same kind and file found no errors;
the service checks the whole file again when it applies it, so a file changed
in between is never half-applied. Both run in a thread worker as the session of
the moment the key was pressed (`pms_core.services.imports`).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Header, Input, Label, Select, Static

from pms_core.services import imports
from pms_tui.commands import PaletteCommand
from pms_tui.screens.claims import ConfirmScreen
from pms_tui.screens.schedule import binding_commands

SHOWN_ROWS = 500


class Checked(Message):
    """A check or an import finished (report), or failed (problem)."""

    def __init__(self, key: tuple, report: imports.ImportReport | None, problem: str = ""):
        super().__init__()
        self.key = key
        self.report = report
        self.problem = problem


class ImportScreen(Screen):
    """Kind, file and mapping on top; the report of the last check below."""

    PALETTE_GROUP = "Import"
    AUTO_FOCUS = "#import-kind"
    BINDINGS = [
        Binding(
            "f5",
            "check",
            "Check",
            id="import.check",
            tooltip="Check the file (a dry run): nothing is written",
        ),
        Binding(
            "ctrl+s",
            "apply",
            "Apply",
            id="import.apply",
            tooltip="Import the file checked (all of it, or nothing)",
        ),
        Binding("escape", "back", "Back", id="import.back", tooltip="Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.checked: tuple | None = None  # (kind, path, mapping, duplicates) of a clean check
        self.report: imports.ImportReport | None = None

    def compose(self) -> ComposeResult:
        kinds = imports.importers(self.app.pm)
        yield Header()
        yield Static("Import records from a CSV or XLSX file", classes="heading")
        with Vertical(id="import-form"):
            with Horizontal(classes="form-row"):
                yield Label("Records", classes="form-label")
                yield Select(
                    [(importer.title, kind) for kind, importer in kinds.items()],
                    id="import-kind",
                    allow_blank=True,
                    prompt="What the file holds",
                )
            with Horizontal(classes="form-row"):
                yield Label("File", classes="form-label")
                yield Input(id="import-path", placeholder="/path/to/patients.xlsx")
            with Horizontal(classes="form-row"):
                yield Label("Mapping", classes="form-label")
                yield Input(id="import-map", placeholder="optional: columns.json or columns.csv")
            yield Checkbox("Import possible duplicate patients as new", id="import-dupes")
        yield Static(
            "F5 checks the file; nothing is written until you apply it.", id="import-summary"
        )
        table = DataTable(id="import-problems", cursor_type="row", zebra_stripes=True)
        for key, label, width in (
            ("row", "Row", 7),
            ("column", "Column", 22),
            ("code", "Code", 18),
            ("message", "Problem", 60),
        ):
            table.add_column(label, key=key, width=width)
        yield table
        yield Footer(compact=True)

    # --- what the form says -------------------------------------------------------------
    def _key(self) -> tuple | None:
        kind = self.query_one("#import-kind", Select).value
        path = self.query_one("#import-path", Input).value.strip()
        if kind is Select.NULL or not path:
            return None
        mapping = self.query_one("#import-map", Input).value.strip()
        duplicates = self.query_one("#import-dupes", Checkbox).value
        return (kind, str(Path(path).expanduser()), mapping, duplicates)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _form_changed(self) -> None:
        if self.checked is not None and self._key() != self.checked:
            self.checked = None
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply":
            return self.checked is not None and self._key() == self.checked
        return True

    # --- actions ----------------------------------------------------------------------------
    def action_check(self) -> None:
        key = self._key()
        if key is None:
            self.notify("Choose what the file holds and give its path.", severity="warning")
            return
        self.query_one("#import-summary", Static).update(f"Checking {Path(key[1]).name}…")
        self._run(self.app.grant(), key, dry_run=True)

    def action_apply(self) -> None:
        key = self._key()
        if key is None or key != self.checked or self.report is None:
            return
        plan = self.report.plan
        question = (
            f"{plan.new:,} new, {plan.updated:,} updated and {plan.unchanged:,} unchanged "
            f"{key[0]} from {Path(key[1]).name}. The whole file is checked again and "
            "applied in one transaction."
        )

        def decided(yes: bool | None) -> None:
            if yes:
                self.query_one("#import-summary", Static).update("Importing…")
                self._run(self.app.grant(), key, dry_run=False)

        self.app.push_screen(ConfirmScreen("Import this file?", question, "Import"), decided)

    @work(thread=True, exclusive=True, group="import")
    def _run(self, grant, key: tuple, *, dry_run: bool) -> None:
        from pms_tui.app import describe_error

        kind, path, mapping_path, duplicates = key
        try:
            mapping = (
                imports.read_mapping(Path(mapping_path).expanduser()) if mapping_path else None
            )
            with self.app.uow(grant) as ctx:
                report = imports.run_import(
                    ctx,
                    kind=kind,
                    path=path,
                    mapping=mapping,
                    dry_run=dry_run,
                    allow_duplicates=duplicates,
                )
        except Exception as exc:
            self.post_message(Checked(key, None, describe_error(exc)))
            return
        self.post_message(Checked(key, report))

    @on(Checked)
    def _checked(self, message: Checked) -> None:
        table = self.query_one("#import-problems", DataTable)
        table.clear()
        self.checked, self.report = None, message.report
        report = message.report
        if report is None:
            text = Text(f"Not imported: {message.problem}", style="bold red")
        else:
            text = self._verdict(report, message.key, table)
            if report.ignored_columns:
                text.append(f"\nIgnored columns: {', '.join(report.ignored_columns)}")
        self.query_one("#import-summary", Static).update(text)
        self.refresh_bindings()

    def _verdict(self, report: imports.ImportReport, key: tuple, table: DataTable) -> Text:
        """What the report means for the user, with its rows in the table."""
        plan = report.plan
        counts = (
            f"{report.rows:,} rows: {plan.new:,} new, {plan.updated:,} updated, "
            f"{plan.unchanged:,} unchanged"
        )
        if report.applied:
            self.notify(f"Imported: {counts}.")
            return Text(f"Imported (run {report.run_id}). {counts}.", style="bold green")
        if report.error_count:
            for e in report.errors[:SHOWN_ROWS]:
                table.add_row(str(e.row), e.column, e.code, e.message)
            return Text(
                f"{report.error_count:,} problems in {report.rows_with_errors:,} rows; nothing "
                f"can be imported until they are fixed ({counts} otherwise).",
                style="bold red",
            )
        if plan.duplicates and not key[3]:
            for d in plan.duplicates[:SHOWN_ROWS]:
                like = (
                    f"patient {', '.join(map(str, d.patient_ids))}"
                    if d.patient_ids
                    else f"row {d.same_as_row}"
                )
                table.add_row(str(d.row), "", "possible_duplicate", f"looks like {like}")
            return Text(
                f"{len(plan.duplicates):,} rows look like patients on file or earlier rows "
                "(same name and date of birth): give them the existing account numbers, or "
                f"tick the box to import them as new. {counts}.",
                style="bold yellow",
            )
        self.checked = key
        before = (
            f" This file was imported before, on {report.imported_before:%Y-%m-%d}."
            if report.imported_before
            else ""
        )
        return Text(f"The file is good. {counts}.{before} Ctrl+S imports it.", style="bold")

    def action_back(self) -> None:
        self.app.pop_screen()

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Import")
