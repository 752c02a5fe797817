"""Drift browser: resources changed in DSS outside dss-iac, last applied vs found vs wanted, with revert
(a plan restoring the configuration) and adopt (the DSS value written into the YAML); and the objects made by
hand that dss-iac does not manage, with the command that imports them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from dataiku_iac import Action, DriftItem, DriftReport, Plan, Unmanaged

from . import view
from .widgets import Cell, Col, EnvScreen, FitTable, OpenTable

if TYPE_CHECKING:
    from dataiku_iac import AdoptEdit



NOT_MANAGED = "unmanaged:"  # row keys of the objects dss-iac does not manage
ITEM_COLUMNS = (Col("status", "Status", 9), Col("address", "Resource", 20))
FIELD_COLUMNS = (Col("field", "Field", 10), Col("applied", "Last applied", 10), Col("actual", "Found in DSS", 10),
                 Col("desired", "Configuration", 10))


class DriftScreen(EnvScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "detail", "Detail", id="detail"),
        Binding("v", "revert", "Revert", id="revert"),
        Binding("o", "adopt", "Adopt", id="adopt"),
    ]
    FOOTER = ("revert", "adopt", "select_cursor", "detail")

    def __init__(self, env: str) -> None:
        super().__init__(env)
        self.plan: Plan | None = None
        self.report: DriftReport | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"Drift · {self.env}", id="title", classes="title")
        # Master-detail: the list, and under it a pane titled with the selected resource holding its fields.
        yield OpenTable(ITEM_COLUMNS, id="drift-list")
        with Vertical(id="drift-detail"):
            fields = FitTable(FIELD_COLUMNS, id="drift-fields")
            fields.can_focus = False
            fields.show_cursor = False
            yield fields
            yield Static("", id="drift-note")
        yield from self.bottom()

    def on_mount(self) -> None:
        self.query_one("#drift-list", FitTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_io(self._read, self._show, group="drift",
                    doing=f"reading {self.env} from DSS")

    def _read(self) -> tuple[Plan, DriftReport]:
        service = self.dss_app.service
        service.reload()  # `r` re-reads the files too: after a refused adopt, the edit made meanwhile counts
        return service.drift(self.env)

    def _show(self, result: tuple[Plan, DriftReport]) -> None:
        self.plan, self.report = result
        report = self.report
        title = Text.assemble(("Drift", "bold"), f" · {self.env}  ·  ")
        if report.has_drift:
            title.append(report.summary(), "yellow")
        else:
            title.append(f"no drift: the {report.checked} resources match what dss-iac last applied", "green")
        self.query_one("#title", Static).update(title)
        table = self.query_one("#drift-list", FitTable)
        keep = self._selected_key()
        rows: list[tuple[str, list[Cell]]] = [
            (item.address, [Text("~ changed", "yellow") if item.status == "changed" else Text("- deleted", "red"),
                            item.address]) for item in report.items]
        rows += [(NOT_MANAGED + u.address, [Text("? not managed", "cyan"), u.address]) for u in report.unmanaged]
        table.show(rows)
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))
        self._show_item(self.selected())

    def _selected_key(self) -> str | None:
        table = self.query_one("#drift-list", FitTable)
        if self.report is None or not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def selected(self) -> DriftItem | None:
        key = self._selected_key()
        return next((i for i in self.report.items if i.address == key), None) if self.report else None

    def selected_unmanaged(self) -> Unmanaged | None:
        key = self._selected_key()
        return next((u for u in self.report.unmanaged if NOT_MANAGED + u.address == key), None) if self.report \
            else None

    def action_for(self, address: str) -> Action | None:
        if self.plan is None:
            return None
        return next((a for a in self.plan.actions if str(a.address) == address), None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "drift-list":
            self._show_item(self.selected())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id == "drift-list":
            self.action_detail()

    def _show_item(self, item: DriftItem | None) -> None:
        pane = self.query_one("#drift-detail", Vertical)
        fields = self.query_one("#drift-fields", FitTable)
        note = self.query_one("#drift-note", Static)
        if item is None and (u := self.selected_unmanaged()) is not None:
            pane.border_title = Text.assemble((u.address, "bold"), " · ", ("not managed", "cyan"))
            fields.show([])
            fields.display = False
            note.update(Text.assemble((f"{u.address} is in DSS but neither in the configuration nor in state (made "
                                       "by hand): dss-iac never deletes it.\n", "cyan"),
                                      ("to manage it: ", "bold") if u.import_command else "", u.hint))
            return
        if item is None:
            pane.border_title = None
            fields.show([])
            fields.display = False
            note.update(Text("Nothing drifted." if self.report is not None else "", "green"))
            return
        pane.border_title = Text.assemble((item.address, "bold"), " · ", ("changed in DSS", "yellow")
                                          if item.status == "changed" else ("deleted in DSS", "red"))
        fields.display = item.status == "changed"
        if item.status == "deleted":
            fields.show([])
            note.update(Text.assemble((f"{item.address} was deleted in DSS outside dss-iac.\n", "red"),
                                      ("v", "bold"), ": revert (plan that creates it again)"))
            return
        rows = view.drift_rows(self.action_for(item.address), item.changes)
        fields.show([(path, [path, applied, Text(actual, "yellow"), desired])
                     for path, applied, actual, desired in rows])
        target = self.dss_app.service.adopt_target(self.env, item.address)
        note.update(Text.assemble(("v", "bold"), " revert  ", ("o", "bold"), f" adopt the DSS value into {target}  ",
                                  ("enter", "bold"), " detail with the whole values"))

    # -- actions -------------------------------------------------------------------------------------------
    def action_detail(self) -> None:
        item = self.selected()
        action = self.action_for(item.address) if item is not None else None
        if action is not None:
            self.dss_app.open_detail(self.env, action)

    def _not_managed(self) -> bool:
        """On an object dss-iac does not manage, revert and adopt say how to import it instead."""
        u = self.selected_unmanaged()
        if u is not None:
            self.notify(f"{u.address} is not managed: {u.hint or 'declare it in the configuration'}")
        return u is not None

    def action_revert(self) -> None:
        if self._not_managed():
            return
        item = self.selected()
        if item is not None:
            self.dss_app.open_plan(self.env, targets=(item.address,), purpose=f"revert {item.address}")

    def action_adopt(self) -> None:
        if self._not_managed():
            return
        item = self.selected()
        if item is None:
            return
        self.run_io(lambda: self.dss_app.service.adopt_edits(self.env, item), lambda edits: self._confirm(item, edits),
                    group="adopt", doing="preparing the YAML edit", retry=self.action_adopt)

    def _confirm(self, item: DriftItem, edits: list[AdoptEdit]) -> None:
        from .modals import ConfirmModal

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_io(lambda: self.dss_app.service.adopt(self.env, item, edits), lambda _: self._adopted(edits),
                            group="adopt", doing="writing the YAML and the state", retry=self.reload)

        lines = [e.describe() for e in edits]
        self.app.push_screen(ConfirmModal(f"Adopt {item.address}", lines, "Write these values into the YAML "
                                          "(comments kept) and record them in the state?"), answered)

    def _adopted(self, edits: list[AdoptEdit]) -> None:
        files = sorted({e.shown for e in edits})
        self.notify(f"adopted: wrote {', '.join(files)}")
        self.reload()
