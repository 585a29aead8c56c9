"""The manager's dashboard and the report list behind each figure.

Tiles (A/R days, net collection rate, denial rate, no-show rate, today's and
the month's collections) each show the figure and a six-month sparkline; two
bar lists show the A/R aging buckets and the most frequent denial reasons.
Enter on a tile or a bar opens the list of items behind it (a ReportScreen,
which opens a claim with Enter). The figures are computed in a thread worker
one tile at a time (the figures, then the bars, then the trends), so the
screen paints at once and fills in as they come.
`/` edits the filters (dates, provider, location), `[`/`]` move the range by
its length, `o` chooses and orders the tiles (kept for the user), f5 reloads.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Sparkline, Static

from pms_core.reports import MONEY, ReportResult, shown
from pms_core.services import dashboard
from pms_core.services.dashboard import TILES, Bar, Drill, Filters, Tile
from pms_tui.commands import PaletteCommand
from pms_tui.screens.schedule import binding_commands

BAR_WIDTH = 30


def tile_value(tile: Tile) -> str:
    if tile.value is None:
        return "-"
    if tile.kind == MONEY:
        return "$" + shown(MONEY, tile.value)
    return shown(tile.kind, tile.value)


class TileView(Vertical, can_focus=True):
    """One KPI: its title, its value and its trend; Enter opens what is behind it."""

    BINDINGS = [Binding("enter", "drill", "Open", tooltip="The items behind this figure")]

    class Drilled(Message):
        def __init__(self, drill: Drill) -> None:
            super().__init__()
            self.drill = drill

    def __init__(self, key: str) -> None:
        super().__init__(id=f"tile-{key}", classes="tile")
        self.key = key
        self.tile: Tile | None = None

    def compose(self) -> ComposeResult:
        yield Label(TILES[self.key].title, classes="tile-title")
        yield Label("…", classes="tile-value")
        yield Sparkline([], classes="tile-trend")

    def on_mount(self) -> None:
        if self.tile is not None:  # it came before the tile was mounted
            self.show(self.tile)

    def show(self, tile: Tile) -> None:
        """Show `tile` (kept until mounted when it comes before the children)."""
        self.tile = tile
        self.tooltip = tile.help
        if not self.is_mounted:
            return
        self.query_one(".tile-value", Label).update(tile_value(tile))
        self.query_one(Sparkline).data = tile.trend

    def action_drill(self) -> None:
        if self.tile is not None:
            self.post_message(self.Drilled(self.tile.drill))


class DashboardScreen(Screen):
    """KPI tiles, aging and denial bars, filters; the first screen of a manager."""

    AUTO_FOCUS = ".tile"
    BINDINGS = [
        Binding("slash", "filters", "Filters", key_display="/", id="dashboard.filters",
                tooltip="Change the dates, provider or location"),
        Binding("left_square_bracket", "earlier", "Earlier", key_display="[",
                id="dashboard.earlier", tooltip="The same length of time, just before"),
        Binding("right_square_bracket", "later", "Later", key_display="]",
                id="dashboard.later", tooltip="The same length of time, just after"),
        Binding("o", "choose_tiles", "Tiles", id="dashboard.tiles",
                tooltip="Choose and order the tiles (kept for you)"),
        Binding("f5", "reload", "Reload", id="dashboard.reload", tooltip="Compute again"),
        Binding("escape", "back", "Back", id="dashboard.back", tooltip="Back to patient search"),
    ]  # fmt: skip

    class TileReady(Message):
        def __init__(self, run: int, tile: Tile) -> None:
            super().__init__()
            self.run, self.tile = run, tile

    class TrendReady(Message):
        def __init__(self, run: int, key: str, trend: list[float]) -> None:
            super().__init__()
            self.run, self.key, self.trend = run, key, trend

    class BarsReady(Message):
        def __init__(self, run: int, aging: list[Bar], reasons: list[Bar]) -> None:
            super().__init__()
            self.run, self.aging, self.reasons = run, aging, reasons

    class Started(Message):
        def __init__(self, run: int, filters: Filters, keys: list[str], people: dict) -> None:
            super().__init__()
            self.run, self.filters, self.keys, self.people = run, filters, keys, people

    class Failed(Message):
        def __init__(self, run: int, message: str) -> None:
            super().__init__()
            self.run, self.message = run, message

    def __init__(self) -> None:
        super().__init__()
        self.filters: Filters | None = None
        self.keys: list[str] = []
        self.people: dict[str, dict[int, str]] = {"providers": {}, "locations": {}}
        self.run_number = 0
        self.aging: list[Bar] = []
        self.reasons: list[Bar] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Dashboard", id="dash-heading", classes="heading")
        with Horizontal(id="dash-filters", classes="hidden"):
            yield Input(placeholder="from YYYY-MM-DD", id="dash-from")
            yield Input(placeholder="to YYYY-MM-DD", id="dash-to")
            yield Select([], prompt="all providers", id="dash-provider")
            yield Select([], prompt="all locations", id="dash-location")
        yield Static("", id="dash-error", classes="form-error")
        yield Horizontal(id="dash-tiles")
        with Horizontal(id="dash-bars"):
            with Vertical():
                yield Label("A/R aging (Enter: the items)", classes="section")
                yield DataTable(id="dash-aging", cursor_type="row")
            with Vertical():
                yield Label("Denial reasons (Enter: the lines)", classes="section")
                yield DataTable(id="dash-reasons", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for table_id in ("#dash-aging", "#dash-reasons"):
            table = self.query_one(table_id, DataTable)
            table.add_columns("", "Amount", "")
        self.load()

    # --- loading --------------------------------------------------------------------
    def load(self) -> None:
        self.run_number += 1
        self._load(self.app.grant(), self.run_number, self.filters)

    @work(thread=True, exclusive=True, group="dashboard-load")
    def _load(self, grant, run: int, filters: Filters | None) -> None:
        from pms_core.services.practice import list_locations, list_providers
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                filters = filters or dashboard.default_filters(ctx)
                dashboard.check_filters(filters)
                keys = dashboard.chosen_tiles(ctx)
                people = {
                    "providers": {
                        p.id: f"{p.last_name}, {p.first_name}" for p in list_providers(ctx)
                    },
                    "locations": {loc.id: loc.name for loc in list_locations(ctx)},
                }
            self.post_message(self.Started(run, filters, keys, people))
            for key in keys:  # the figures first, then the bars, then the trends
                with self.app.uow(grant) as ctx:
                    tile = dashboard.tile(ctx, key, filters, with_trend=False)
                self.post_message(self.TileReady(run, tile))
            with self.app.uow(grant) as ctx:
                aging, reasons = dashboard.bars(ctx, filters)
                dashboard.viewed(ctx, filters)
            self.post_message(self.BarsReady(run, aging, reasons))
            for key in keys:
                with self.app.uow(grant) as ctx:
                    trend = dashboard.trend(ctx, key, filters)
                self.post_message(self.TrendReady(run, key, trend))
        except Exception as exc:
            self.post_message(self.Failed(run, describe_error(exc)))

    async def on_dashboard_screen_started(self, message: Started) -> None:
        if message.run != self.run_number:
            return
        self.filters, self.people = message.filters, message.people
        self.query_one("#dash-error", Static).update("")
        self._heading()
        if message.keys != self.keys or not self.query(TileView):
            self.keys = message.keys
            row = self.query_one("#dash-tiles", Horizontal)
            await row.remove_children()
            await row.mount_all([TileView(key) for key in self.keys])
            self.query(TileView).first().focus()

    def on_dashboard_screen_tile_ready(self, message: TileReady) -> None:
        if message.run == self.run_number:
            for view in self.query(TileView):
                if view.key == message.tile.key:
                    view.show(message.tile)

    def on_dashboard_screen_trend_ready(self, message: TrendReady) -> None:
        if message.run == self.run_number:
            for view in self.query(TileView):
                if view.key == message.key and view.tile is not None:
                    view.show(replace(view.tile, trend=message.trend))

    def on_dashboard_screen_bars_ready(self, message: BarsReady) -> None:
        if message.run != self.run_number:
            return
        self.aging, self.reasons = message.aging, message.reasons
        self._bars("#dash-aging", self.aging, money=True)
        self._bars("#dash-reasons", self.reasons, money=False)

    def on_dashboard_screen_failed(self, message: Failed) -> None:
        if message.run == self.run_number:
            self.query_one("#dash-error", Static).update(message.message)

    def _bars(self, table_id: str, bars: list[Bar], *, money: bool) -> None:
        table = self.query_one(table_id, DataTable)
        table.clear()
        top = max((abs(b.value) for b in bars), default=0) or 1
        for n, bar in enumerate(bars):
            amount = shown(MONEY, bar.value) if money else str(bar.value)
            length = round(BAR_WIDTH * max(bar.value, 0) / top)
            table.add_row(bar.label, Text(amount, justify="right"), "█" * length, key=str(n))
        if not bars:
            table.add_row("nothing in this range", "", "")

    def _heading(self) -> None:
        f = self.filters
        provider = self.people["providers"].get(f.provider_id, "all providers")
        location = self.people["locations"].get(f.location_id, "all locations")
        self.query_one("#dash-heading", Static).update(
            Text.assemble(
                ("Dashboard", "bold"),
                f"  {f.date_from} to {f.date_to}   {provider}   {location}",
            )
        )

    # --- drilling down --------------------------------------------------------------
    @on(TileView.Drilled)
    def _tile_drilled(self, message: TileView.Drilled) -> None:
        self.app.push_screen(ReportScreen(message.drill.report, message.drill.params))

    @on(DataTable.RowSelected)
    def _bar_selected(self, event: DataTable.RowSelected) -> None:
        bars = self.aging if event.data_table.id == "dash-aging" else self.reasons
        index = int(event.row_key.value) if event.row_key.value is not None else -1
        if 0 <= index < len(bars):
            drill = bars[index].drill
            self.app.push_screen(ReportScreen(drill.report, drill.params))

    # --- filters --------------------------------------------------------------------
    def action_filters(self) -> None:
        if self.filters is None:
            return
        bar = self.query_one("#dash-filters")
        bar.remove_class("hidden")
        self.query_one("#dash-from", Input).value = str(self.filters.date_from)
        self.query_one("#dash-to", Input).value = str(self.filters.date_to)
        for select_id, kind, chosen in (
            ("#dash-provider", "providers", self.filters.provider_id),
            ("#dash-location", "locations", self.filters.location_id),
        ):
            select = self.query_one(select_id, Select)
            select.set_options([(name, pid) for pid, name in self.people[kind].items()])
            select.value = chosen if chosen is not None else Select.NULL
        self.query_one("#dash-from", Input).focus()

    @on(Input.Submitted, "#dash-filters Input")
    def _apply_filters(self, _event: Input.Submitted) -> None:
        try:
            start = date.fromisoformat(self.query_one("#dash-from", Input).value.strip())
            end = date.fromisoformat(self.query_one("#dash-to", Input).value.strip())
        except ValueError:
            self.query_one("#dash-error", Static).update("Dates are YYYY-MM-DD.")
            return
        if start > end:
            self.query_one("#dash-error", Static).update("The start is after the end.")
            return
        provider = self.query_one("#dash-provider", Select).value
        location = self.query_one("#dash-location", Select).value
        self.filters = Filters(
            start,
            end,
            None if provider is Select.NULL else provider,
            None if location is Select.NULL else location,
        )
        self.query_one("#dash-filters").add_class("hidden")
        self.load()
        for view in self.query(TileView).results():
            view.focus()
            break

    def _shift(self, direction: int) -> None:
        if self.filters is None:
            return
        length = (self.filters.date_to - self.filters.date_from).days + 1
        step = timedelta(days=length * direction)
        self.filters = replace(
            self.filters,
            date_from=self.filters.date_from + step,
            date_to=self.filters.date_to + step,
        )
        self.load()

    def action_earlier(self) -> None:
        self._shift(-1)

    def action_later(self) -> None:
        self._shift(1)

    # --- tiles ----------------------------------------------------------------------
    def action_choose_tiles(self) -> None:
        def chosen(keys: list[str] | None) -> None:
            if keys:
                self._save_tiles(self.app.grant(), keys)

        self.app.push_screen(TileChooser(self.keys), chosen)

    @work(thread=True, group="dashboard-tiles")
    def _save_tiles(self, grant, keys: list[str]) -> None:
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                dashboard.choose_tiles(ctx, keys)
        except Exception as exc:
            self.post_message(self.Failed(self.run_number, describe_error(exc)))
            return
        self.app.call_from_thread(self.load)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        if not self.query_one("#dash-filters").has_class("hidden"):
            self.query_one("#dash-filters").add_class("hidden")
            return
        self.dismiss()

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Dashboard")


class TileChooser(ModalScreen[list[str] | None]):
    """Which tiles, in which order: space shows or hides one, [ and ] move it."""

    BINDINGS = [
        Binding("space", "toggle", "Show/hide"),
        Binding("left_square_bracket", "up", "Move up", key_display="["),
        Binding("right_square_bracket", "down", "Move down", key_display="]"),
        Binding("enter", "save", "Keep", priority=True),  # before the list's own Enter
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, chosen: list[str]) -> None:
        super().__init__()
        self.order = [*chosen, *(k for k in TILES if k not in chosen)]
        self.shown = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Dashboard tiles", classes="dialog-title")
            yield Label("space: show or hide   [ ]: move   enter: keep   esc: cancel")
            yield DataTable(id="tile-list", cursor_type="row", show_header=False)
            yield Static("", id="tile-error", classes="form-error")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("shown", "tile")
        self._fill(0)
        table.focus()

    def _fill(self, cursor: int) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for key in self.order:
            table.add_row("[x]" if key in self.shown else "[ ]", TILES[key].title, key=key)
        table.move_cursor(row=cursor)

    def _row(self) -> int:
        return self.query_one(DataTable).cursor_row

    def action_toggle(self) -> None:
        key = self.order[self._row()]
        self.shown.symmetric_difference_update({key})
        self._fill(self._row())

    def _move(self, step: int) -> None:
        row = self._row()
        target = row + step
        if 0 <= target < len(self.order):
            self.order[row], self.order[target] = self.order[target], self.order[row]
            self._fill(target)

    def action_up(self) -> None:
        self._move(-1)

    def action_down(self) -> None:
        self._move(1)

    def action_save(self) -> None:
        keys = [k for k in self.order if k in self.shown]
        if not keys:
            self.query_one("#tile-error", Static).update("Show at least one tile.")
            return
        self.dismiss(keys)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReportScreen(Screen):
    """Any report's result as a table (the lists behind the dashboard's
    figures); Enter on a row of a claim list opens the claim."""

    AUTO_FOCUS = "#report-table"
    BINDINGS = [
        Binding("f5", "reload", "Reload", id="report.reload", tooltip="Run the report again"),
        Binding("escape", "back", "Back", id="report.back", tooltip="Back"),
    ]

    class Ready(Message):
        def __init__(self, result: ReportResult) -> None:
            super().__init__()
            self.result = result

    class Failed(Message):
        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    def __init__(self, name: str, params: dict[str, str]) -> None:
        super().__init__()
        self.report_name, self.params = name, params
        self.result: ReportResult | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Running…", id="report-heading", classes="heading")
        yield DataTable(id="report-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        self._run(self.app.grant())

    @work(thread=True, exclusive=True, group="report-run")
    def _run(self, grant) -> None:
        from pms_core.services.reports import run_report
        from pms_tui.app import describe_error

        try:
            with self.app.uow(grant) as ctx:
                result = run_report(ctx, self.report_name, self.params)
        except Exception as exc:
            self.post_message(self.Failed(describe_error(exc)))
            return
        self.post_message(self.Ready(result))

    def on_report_screen_failed(self, message: Failed) -> None:
        self.query_one("#report-heading", Static).update(message.message)

    def on_report_screen_ready(self, message: Ready) -> None:
        result = self.result = message.result
        table = self.query_one("#report-table", DataTable)
        table.clear(columns=True)
        for column in result.columns:
            table.add_column(column.label, key=column.key)
        for n, row in enumerate(result.rows):
            table.add_row(*(self._cell(c.kind, row.get(c.key)) for c in result.columns), key=str(n))
        if result.totals:
            table.add_row(
                *(Text(self._plain(c.kind, result.totals.get(c.key)), style="bold")
                  for c in result.columns),
                key="totals",
            )  # fmt: skip
        opens = "   Enter: open the claim" if result.drill_kind == "claim" else ""
        self.query_one("#report-heading", Static).update(
            Text.assemble((result.title, "bold"), f"   {len(result.rows)} rows{opens}")
        )

    @staticmethod
    def _plain(kind: str, value) -> str:
        return shown(kind, value)

    def _cell(self, kind: str, value) -> Text:
        text = shown(kind, value)
        return Text(text, justify="left" if kind == "text" else "right")

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        result = self.result
        if result is None or result.drill_kind != "claim" or event.row_key.value == "totals":
            return
        ids = result.drill.get(int(event.row_key.value), [])
        if ids and self.app.may("claims:read"):
            from pms_tui.screens.claims import ClaimScreen

            self.app.push_screen(ClaimScreen(ids[0]))

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> list[PaletteCommand]:
        return binding_commands(self, "Report")


__all__ = ["DashboardScreen", "ReportScreen", "TileChooser", "TileView", "tile_value"]
