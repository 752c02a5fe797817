"""The overview: environments x projects, with resource counts, the last apply, drift and the lock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from dataiku_iac.drift import DriftReport
from dataiku_iac.errors import ConfigError

from .widgets import ErrorBanner, IOScreen, NavTable, OpenTable, StatusLine, describe_error

if TYPE_CHECKING:
    from .app import DssIacApp
    from .service import EnvStatus

COLUMNS = (("env", "Environment"), ("project", "Project"), ("resources", "Resources (managed / declared)"),
           ("apply", "Last apply"), ("drift", "Drift"), ("lock", "Lock"))


class OverviewTable(OpenTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Plan review", id="open-plan")]


class OverviewScreen(IOScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "plan", "Plan review", id="plan"),
        Binding("d", "drift", "Drift", id="drift"),
        Binding("h", "history", "History", id="history"),
    ]

    def __init__(self, only_env: str | None = None) -> None:
        super().__init__()
        self.only_env = only_env
        self.row_env: dict[str, str] = {}
        self.statuses: dict[str, EnvStatus] = {}

    @property
    def dss_app(self) -> DssIacApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static("Overview", id="title", classes="title")
        yield OverviewTable(id="overview")
        yield StatusLine()
        yield ErrorBanner()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(NavTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        table.focus()
        self.reload()

    def reload(self) -> None:
        self.run_io(self._read_statuses, self._show_statuses, group="status", doing="reading the state")

    def _read_statuses(self) -> tuple[str, dict[str, str], list[tuple[str, Any]], ConfigError | None]:
        service = self.dss_app.service
        broken = None
        try:
            service.reload()  # `r` re-reads the files too: fixed YAML shows at once
        except ConfigError as e:
            if not service.loaded:
                raise
            broken = e  # the state is still read, with the environments as last loaded
        envs = service.environments()
        if self.only_env is not None:
            service.ws.environment(self.only_env)  # an unknown name is an error shown, not an empty screen
            envs = [self.only_env]
        out: list[tuple[str, Any]] = []
        for env in envs:
            try:
                out.append((env, service.status(env)))
            except Exception as e:  # one broken environment must not hide the others
                out.append((env, e))
        return service.name, service.declared(), out, broken

    def _show_statuses(self, result: tuple[str, dict[str, str], list[tuple[str, Any]], ConfigError | None]) -> None:
        name, declared, statuses, broken = result
        self.query_one("#title", Static).update(Text.assemble(("Overview", "bold"), f"  ·  workspace {name}"))
        table = self.query_one(NavTable)
        cursor = table.cursor_row
        table.clear()
        self.row_env.clear()
        self.statuses.clear()
        errors = []
        if broken is not None:
            errors.append(f"the files no longer load (environments as last loaded): {describe_error(broken)}")
        for env, status in statuses:
            if isinstance(status, Exception):
                errors.append(f"environment {env}: {describe_error(status)}")
                key = f"{env}/"
                table.add_row(Text(env, "bold"), "—", "—", Text("unavailable (see the error below)", "red"), "—",
                              "—", key=key)
                self.row_env[key] = env
                continue
            self.statuses[env] = status
            last = (Text(f"#{status.serial} by {status.who} at {status.when}") if status.serial
                    else Text("never applied", "dim"))
            lock = Text(f"locked by {status.lock}", "red") if status.lock else Text("free", "green")
            drift: Text = Text("checking…", "dim") if status.serial else Text("—", "dim")
            for i, (project, count) in enumerate(sorted(declared.items())):
                key = f"{env}/{project}"
                managed = status.managed.get(status.keys.get(project, project), 0)
                label = project if status.keys.get(project, project) == project else \
                    f"{project} ({status.keys[project]})"
                table.add_row(Text(env, "bold") if i == 0 else "", label, f"{managed} / {count}",
                              last if i == 0 else "", drift, lock if i == 0 else "", key=key)
                self.row_env[key] = env
            if status.serial:
                self._check_drift(env)
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1))
        if errors:
            self.show_error("\n".join(errors), self.reload)

    def _check_drift(self, env: str) -> None:
        self.run_io(lambda: self.dss_app.service.drift(env)[1], lambda r: self._show_drift(env, r),
                    group=f"drift-{env}", doing=f"checking drift in {env}", retry=lambda: self._check_drift(env))

    def _show_drift(self, env: str, report: DriftReport) -> None:
        status = self.statuses.get(env)
        if status is None:
            return
        table = self.query_one(NavTable)
        by_project: dict[str, list[str]] = {}
        for item in report.items:
            by_project.setdefault(item.address.split(".")[1], []).append(item.status)
        for u in report.unmanaged:
            by_project.setdefault(u.project, []).append("unmanaged")
        for key, row_env in self.row_env.items():
            if row_env != env:
                continue
            project = key.split("/", 1)[1]
            found = by_project.get(status.keys.get(project, project), [])
            if not found:
                cell = Text("none", "green")
            else:
                changed, deleted, hand = found.count("changed"), found.count("deleted"), found.count("unmanaged")
                parts = [f"{changed} changed"] * bool(changed) + [f"{deleted} deleted"] * bool(deleted) \
                    + [f"{hand} not managed"] * bool(hand)
                cell = Text(", ".join(parts), "yellow")
            table.update_cell(key, "drift", cell)

    # -- actions -------------------------------------------------------------------------------------------
    def selected_env(self) -> str | None:
        table = self.query_one(NavTable)
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.row_env.get(str(row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_plan()

    def action_plan(self) -> None:
        env = self.selected_env()
        if env is not None:
            self.dss_app.open_plan(env)

    def action_drift(self) -> None:
        env = self.selected_env()
        if env is not None:
            self.dss_app.open_drift(env)

    def action_history(self) -> None:
        env = self.selected_env()
        if env is not None:
            self.dss_app.open_history(env)
