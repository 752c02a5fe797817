"""The overview: environments x projects, with resource counts, the last apply, drift and the lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from dataiku_iac import ConfigError, DriftReport

from . import view
from .widgets import Cell, Col, FitTable, IOScreen, OpenTable, describe_error

if TYPE_CHECKING:
    from .service import EnvStatus

# Narrow terminals cut the widest columns first (the last apply, the lock), down to these widths.
COLUMNS = (Col("env", "Environment", 7), Col("project", "Project", 8), Col("resources", "Resources", 7),
           Col("apply", "Last apply", 12), Col("drift", "Drift", 9), Col("lock", "Lock", 10))


class OverviewTable(OpenTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Plan review", id="open-plan")]


@dataclass(frozen=True)
class Reading:
    """What one read of the workspace and the states found (in a worker)."""

    name: str
    declared: dict[str, int]
    statuses: list[tuple[str, EnvStatus | Exception]]
    broken: ConfigError | None  # the files no longer load: the environments are those last loaded
    unknown: str = ""  # `-e` named no environment of the workspace: why, as the core says it


class OverviewScreen(IOScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "plan", "Plan review", id="plan"),
        Binding("d", "drift", "Drift", id="drift"),
        Binding("h", "history", "History", id="history"),
    ]
    FOOTER = ("select_cursor", "plan", "drift", "history", "refresh")

    def __init__(self, only_env: str | None = None) -> None:
        super().__init__()
        self.only_env = only_env
        self.row_env: dict[str, str] = {}
        self.statuses: dict[str, EnvStatus] = {}

    def compose(self) -> ComposeResult:
        yield Static("Overview", id="title", classes="title")
        yield OverviewTable(COLUMNS, id="overview")
        yield from self.bottom()

    def on_mount(self) -> None:
        self.query_one(FitTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_io(self._read_statuses, self._show_statuses, group="status", doing="reading the state")

    def _read_statuses(self) -> Reading:
        service = self.dss_app.service
        broken = None
        try:
            service.reload()  # `r` re-reads the files too: fixed YAML shows at once
        except ConfigError as e:
            if not service.loaded:
                raise
            broken = e  # the state is still read, with the environments as last loaded
        envs = service.environments()
        unknown = ""
        if self.only_env is not None and self.only_env not in envs:
            try:
                service.ws.environment(self.only_env)
            except ConfigError as e:
                unknown = describe_error(e)
        elif self.only_env is not None:
            envs = [self.only_env]
        out: list[tuple[str, EnvStatus | Exception]] = []
        for env in envs:
            try:
                out.append((env, service.status(env)))
            except Exception as e:  # one broken environment must not hide the others
                out.append((env, e))
        return Reading(service.name, service.declared(), out, broken, unknown)

    def _show_statuses(self, reading: Reading) -> None:
        self.query_one("#title", Static).update(Text.assemble(("Overview", "bold"),
                                                              f"  ·  workspace {reading.name}"))
        self.row_env.clear()
        self.statuses.clear()
        rows: list[tuple[str, list[Cell]]] = []
        errors = []
        if reading.broken is not None:
            errors.append(f"the files no longer load (environments as last loaded): {describe_error(reading.broken)}")
        for env, status in reading.statuses:
            if isinstance(status, Exception):
                errors.append(f"environment {env}: {describe_error(status)}")
                rows.append((f"{env}/", [Text(env, "bold"), "—", "—", Text("unavailable (see below)", "red"), "—",
                                         "—"]))
                self.row_env[f"{env}/"] = env
                continue
            self.statuses[env] = status
            rows += self._rows(status, reading.declared)
        self.query_one(FitTable).show(rows)
        for env, status in self.statuses.items():
            if status.serial and status.deploy != "bundle":
                self._check_drift(env)
        if errors:
            self.show_error("\n".join(errors), self.reload)
        if reading.unknown:
            self._pick_environment(reading.unknown, reading.statuses)

    def _rows(self, status: EnvStatus, declared: dict[str, int]) -> list[tuple[str, list[Cell]]]:
        bundle = status.deploy == "bundle"
        if bundle:
            last = Text("by promotion", "cyan")
        elif status.serial:
            last = Text(f"#{status.serial} · {status.who} · {view.age(status.when)} ago")
        else:
            last = Text("never applied", "dim")
        if status.lock is not None:
            lock = Text(f"{status.lock.who} · {status.lock.operation} · {view.age(status.lock.started)}", "red")
        else:
            lock = Text("free", "green")
        drift: Text = Text("checking…", "dim") if status.serial and not bundle else Text("—", "dim")
        # First the environment's instance objects (connections, groups, users...), as the plan orders them.
        entries: list[tuple[str, Cell, str, int]] = []
        if status.instance is not None:
            entries.append((view.INSTANCE, Text.assemble(view.INSTANCE, (f" {status.instance}", "dim")),
                            str(status.instance_managed), status.instance_declared))
        for project, count in sorted(declared.items()):
            physical = status.keys.get(project, project)
            label: Cell = project if physical == project else f"{project} ({physical})"
            entries.append((project, label, "—" if bundle else str(status.managed.get(physical, 0)), count))
        out: list[tuple[str, list[Cell]]] = []
        for i, (project, label, managed, count) in enumerate(entries):
            key = f"{status.name}/{project}"
            first = i == 0
            out.append((key, [Text(status.name, "bold") if first else "", label, f"{managed} / {count}",
                              last if first else "", drift, lock if first else ""]))
            self.row_env[key] = status.name
        return out

    def _check_drift(self, env: str) -> None:
        self.run_io(lambda: self.dss_app.service.drift(env)[1], lambda r: self._show_drift(env, r),
                    group=f"drift-{env}", doing=f"checking drift in {env}", retry=lambda: self._check_drift(env))

    def _show_drift(self, env: str, report: DriftReport) -> None:
        status = self.statuses.get(env)
        if status is None:
            return
        by_project: dict[str, list[str]] = {}
        for item in report.items:
            by_project.setdefault(view.group_of(item.address), []).append(item.status)
        for u in report.unmanaged:
            by_project.setdefault(u.project, []).append("unmanaged")
        cells: dict[str, Cell] = {}
        for key, row_env in self.row_env.items():
            if row_env != env:
                continue
            project = key.split("/", 1)[1]
            found = by_project.get(status.keys.get(project, project), [])
            if not found:
                cells[key] = Text("none", "green")
            else:
                changed, deleted, hand = found.count("changed"), found.count("deleted"), found.count("unmanaged")
                parts = [f"{changed} changed"] * bool(changed) + [f"{deleted} deleted"] * bool(deleted) \
                    + [f"{hand} not managed"] * bool(hand)
                cells[key] = Text(", ".join(parts), "yellow")
        self.query_one(FitTable).set_cells("drift", cells)

    def _pick_environment(self, error: str, found: list[tuple[str, EnvStatus | Exception]]) -> None:
        """`-e` named no environment: the real ones to choose from (esc keeps them all on the overview)."""
        from .modals import EnvironmentPicker

        def picked(env: str | None) -> None:
            self.only_env = self.dss_app.only_env = env
            if env is not None:
                self.reload()

        self.only_env = self.dss_app.only_env = None
        self.app.push_screen(EnvironmentPicker(error, [(env, _describe(s)) for env, s in found]), picked)

    # -- actions -------------------------------------------------------------------------------------------
    def selected_env(self) -> str | None:
        table = self.query_one(FitTable)
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


def _describe(status: EnvStatus | Exception) -> str:
    if isinstance(status, Exception):
        return "unavailable: " + describe_error(status).splitlines()[0]
    parts = [status.host]
    if status.deploy == "bundle":
        parts.append("receives projects by promotion")
    if status.protected:
        parts.append("protected")
    return " · ".join(parts)
