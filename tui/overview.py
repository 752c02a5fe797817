"""The overview: environments x projects, with resource counts, the last apply, drift and the lock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from dataiku_iac import ConfigError, DriftReport, Workspace, WorkspaceSettings

from . import view
from .widgets import Cell, Col, FitTable, IOScreen, OpenTable, describe_error

if TYPE_CHECKING:
    from .service import EnvStatus, Service

# Narrow terminals cut the widest columns first (the last apply, the lock), down to these widths.
COLUMNS = (Col("env", "Environment", 7), Col("project", "Project", 8), Col("resources", "Resources", 7),
           Col("apply", "Last apply", 12), Col("drift", "Drift", 9), Col("lock", "Lock", 10))


class OverviewTable(OpenTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Plan review", id="open-plan")]


@dataclass(frozen=True)
class Reading:
    """What one read of the workspace and the states found (in a worker)."""

    name: str
    declared: dict[str, int] | None  # None: the project files are still loading (or never loaded)
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
        # The rows show what the project files declare (False: the states alone, the files still loading).
        self.complete = False

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
        # The first time, loading every project file takes seconds in a big workspace: the states, which need
        # dss-iac.yaml alone, show first.
        first = None if service.loaded else self._first_look()
        broken = None
        try:
            service.reload()  # `r` re-reads the files too: fixed YAML shows at once
        except ConfigError as e:
            if not service.loaded:
                if first is None:
                    raise
                # The states stay on screen (they are true), with why the files do not load.
                return Reading(first.name, None, first.statuses, e, first.unknown)
            broken = e  # the state is still read, with the environments as last loaded
        envs, unknown = self._selected(service.environments(), service.ws)
        if first is not None and service.read_from(first.settings):
            # The very dss-iac.yaml the states were read with: they are completed, not read again.
            done = dict(first.statuses)
            return Reading(service.name, service.declared(), [(env, _completed(service, done[env])) for env in envs],
                           broken, unknown)
        return Reading(service.name, service.declared(), self._statuses(envs), broken, unknown)

    def _first_look(self) -> FirstLook | None:
        """The states, read with dss-iac.yaml alone, shown at once; None when dss-iac.yaml does not load (the full
        load then says why)."""
        service = self.dss_app.service
        try:
            settings = service.settings()
        except ConfigError:
            return None
        envs, unknown = self._selected(settings.environments, settings)
        look = FirstLook(settings.root.name, settings, self._statuses(envs, settings), unknown)
        early = Reading(look.name, None, look.statuses, None, unknown)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(lambda: self._show_statuses(early) if self.is_attached else None)
        return look

    def _selected(self, envs: list[str], source: WorkspaceSettings | Workspace) -> tuple[list[str], str]:
        """The environments the overview shows (`-e`'s alone), and why `-e` names none of the workspace's."""
        if self.only_env is not None and self.only_env not in envs:
            try:
                source.environment(self.only_env)
            except ConfigError as e:
                return envs, describe_error(e)
        elif self.only_env is not None:
            return [self.only_env], ""
        return envs, ""

    def _statuses(self, envs: list[str],
                  settings: WorkspaceSettings | None = None) -> list[tuple[str, EnvStatus | Exception]]:
        out: list[tuple[str, EnvStatus | Exception]] = []
        for env in envs:
            try:
                out.append((env, self.dss_app.service.status(env, settings)))
            except Exception as e:  # one broken environment must not hide the others
                out.append((env, e))
        return out

    def _show_statuses(self, reading: Reading) -> None:
        loading = reading.declared is None and reading.broken is None
        title = Text.assemble(("Overview", "bold"), f"  ·  workspace {reading.name}")
        if loading:
            title.append("  ·  reading the project files…", "dim")
            self._busy["status"] = "reading the project files"
            self._show_busy()
        self.query_one("#title", Static).update(title)
        self.complete = reading.declared is not None
        self.row_env.clear()
        self.statuses.clear()
        rows: list[tuple[str, list[Cell]]] = []
        errors = []
        if reading.broken is not None:
            lead = "the files no longer load (environments as last loaded)" if reading.declared is not None else \
                "the files do not load (the states alone are shown)"
            errors.append(f"{lead}: {describe_error(reading.broken)}")
        for env, status in reading.statuses:
            if isinstance(status, Exception):
                errors.append(f"environment {env}: {describe_error(status)}")
                rows.append((f"{env}/", [Text(env, "bold"), "—", "—", Text("unavailable (see below)", "red"), "—",
                                         "—"]))
                self.row_env[f"{env}/"] = env
                continue
            self.statuses[env] = status
            rows += self._rows(status, reading.declared, "…" if loading else "?")
        self.query_one(FitTable).show(rows)
        if reading.declared is not None:
            for env, status in self.statuses.items():
                if status.serial and status.deploy != "bundle":
                    self._check_drift(env)
        if errors:
            self.show_error("\n".join(errors), self.reload)
        if reading.unknown and not loading:
            self._pick_environment(reading.unknown, reading.statuses)

    def _rows(self, status: EnvStatus, declared: dict[str, int] | None, unknown: str) -> list[tuple[str, list[Cell]]]:
        """One row per project: those the files declare, then those only the state holds (the next plan
        destroys them); without the files (`declared` None: still loading, or they do not load), those the
        state holds, by their key in the environment, what the files would say marked `unknown`."""
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
        counts: dict[str, tuple[Cell, str]] = {}
        if status.instance is not None:  # first the environment's instance objects, as the plan orders them
            counts[view.INSTANCE] = (Text.assemble(view.INSTANCE, (f" {status.instance}", "dim")),
                                     unknown if declared is None else str(status.instance_declared))
        if declared is None:
            drift: Text = Text(unknown, "dim") if status.serial and not bundle else Text("—", "dim")
            counts |= {physical: (physical, unknown) for physical in sorted(status.managed)}
            if not counts:
                counts[""] = (Text(unknown, "dim"), unknown)
        else:
            drift = Text("checking…", "dim") if status.serial and not bundle else Text("—", "dim")
            counts |= {project: (_label(project, status.keys.get(project, project)), str(n))
                       for project, n in sorted(declared.items())}
            found = {status.keys.get(project, project) for project in declared}
            counts |= {physical: (physical, "0") for physical in sorted(status.managed) if physical not in found}
        out: list[tuple[str, list[Cell]]] = []
        for i, (project, (label, count)) in enumerate(counts.items()):
            key = f"{status.name}/{project}"
            physical = status.keys.get(project, project)
            if project == view.INSTANCE:
                managed = str(status.instance_managed)
            else:
                managed = "—" if bundle else str(status.managed.get(physical, 0))
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
            # The state's reading says how the environment deploys: no waiting for the project files here.
            status = self.statuses.get(env)
            self.dss_app.open_plan(env, bundle=status.deploy == "bundle" if status is not None else None)

    def action_drift(self) -> None:
        env = self.selected_env()
        if env is not None:
            self.dss_app.open_drift(env)

    def action_history(self) -> None:
        env = self.selected_env()
        if env is not None:
            self.dss_app.open_history(env)


@dataclass(frozen=True)
class FirstLook:
    """The states as read with dss-iac.yaml alone, before the project files loaded."""

    name: str
    settings: WorkspaceSettings
    statuses: list[tuple[str, EnvStatus | Exception]]
    unknown: str


def _completed(service: Service, status: EnvStatus | Exception) -> EnvStatus | Exception:
    if isinstance(status, Exception):
        return status
    try:
        return service.with_files(status)
    except Exception as e:  # the environment does not resolve with the files loaded: shown as unavailable
        return e


def _label(project: str, physical: str) -> str:
    return project if physical == project else f"{project} ({physical})"


def _describe(status: EnvStatus | Exception) -> str:
    if isinstance(status, Exception):
        return "unavailable: " + describe_error(status).splitlines()[0]
    parts = [status.host]
    if status.deploy == "bundle":
        parts.append("receives projects by promotion")
    if status.protected:
        parts.append("protected")
    return " · ".join(parts)
