"""`Workbench`: edit a workspace's resources from a notebook, preview the plan, save, diff, commit, apply.

    from dataiku_iac.notebook import Workbench
    wb = Workbench("path/to/repo", env="dev")
    wb            # shows the widgets

Saving goes through the public API (`Workspace.update_resource` and `create_resource`, which validate the whole
workspace in every environment first) and rewrites only the YAML nodes that change, so comments and layout
survive. Re-running `wb = Workbench(...)` on the same workspace replaces the previous workbench: its widgets
are closed and what it held is released.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import escape
from pathlib import Path
from typing import Any

try:
    import ipywidgets as W
except ImportError:  # the core installs without the notebook extra
    raise ImportError("the notebook workbench needs ipywidgets: pip install 'dataiku-iac[notebook]'") from None

from dataiku_iac import (
    KINDS,
    Address,
    ConfigError,
    DssIacError,
    Layout,
    Plan,
    ProgressEvent,
    Workspace,
    changes_between,
    drift_html,
    error_html,
    plan_html,
    same,
)

from . import gitops
from .draft import read_draft
from .forms import DatasetForm, Form, NoForm, ScenarioForm, VariablesForm, close_tree, set_disabled
from .messages import bad, diff_html, ok, warn
from .tests_tab import TestsTab, tabs

HIDDEN, SHOWN = "none", "flex"
# The browser's "project" for the instance file of the chosen environment (connections, code envs, groups, users,
# global variables): no project key looks like it.
INSTANCE = "(instance)"

# The workbench open on each workspace (by root): a new one replaces it, as re-running a cell would.
_OPEN: dict[Path, Workbench] = {}


def _guarded(handler: Callable[..., None]) -> Callable[..., None]:
    """A widget callback that never raises into the kernel's log: what went wrong is shown in the workbench."""

    @functools.wraps(handler)
    def run(self: Workbench, *args: Any) -> None:
        if self.closed:
            return
        try:
            handler(self, *args)
        except ConfigError as e:
            self.message.value = error_html(e)
        except DssIacError as e:
            self.message.value = bad([escape(str(e))], "Refused")
        except Exception as e:  # a bug: say so where the user looks, as the CLI does
            self.message.value = bad([escape(f"{type(e).__name__}: {e}")], "Internal error (please report it)")

    return run


class Workbench:
    """The widgets: environment picker, resource browser, editor (form + YAML), flow, plan preview, Git, apply."""

    def __init__(self, path: str | Path = ".", env: str | None = None, *, workspace: Workspace | None = None) -> None:
        ws = workspace if workspace is not None else Workspace.load(path)
        envs = ws.environments
        if env is not None and env not in envs:
            if workspace is None:
                ws.close()
            raise ConfigError(f"unknown environment '{env}' (declared: {', '.join(envs)})")
        self.ws = ws
        self.closed = False
        self.touched: list[Path] = []  # files saved from this workbench, in order
        self.last_plan: Plan | None = None
        self.address: Address | None = None
        self.shown: tuple[str | None, str] = (None, "dataset")  # the project and kind the editor belongs to
        self.instance_env: str | None = None  # whose instance file the editor shows (its "project" is INSTANCE)
        self.read_only_reason: str | None = None  # why the shown project cannot be edited here (Python code)
        self.creating = False  # the editor holds a resource that is not in its file yet
        self.original: Any = None  # the resource as its file says it
        self.form: Form = NoForm({}, self._changed)
        self._quiet = False  # set while widgets are filled in, so that no callback runs half-way
        self._confirm_remove = False
        self._discard: Callable[[], None] | None = None  # what "Discard" goes on to do
        self._build(env or envs[0])
        previous = _OPEN.get(self.ws.root.resolve())
        if previous is not None and previous is not self:
            previous.close()
        _OPEN[self.ws.root.resolve()] = self
        self._env_changed()
        self._go(self.project.value, self.kind.value, None)

    def _build(self, env: str) -> None:
        self.env = W.Dropdown(options=self.ws.environments, value=env, description="Environment",
                              style={"description_width": "initial"})
        self.env_info = W.HTML()
        self.reload_button = self._button("Reload", self._on_reload, icon="refresh",
                                          tooltip="read the files again (changed on disk, git pull)")
        self.project = W.Dropdown(options=self._project_options(env), description="Project")
        self.new_project_key = W.Text(placeholder="NEW_KEY", layout=W.Layout(width="9em"))
        self.new_project_button = self._button("New project", self._on_new_project, icon="folder",
                                               tooltip="create a project file with this key")
        self.kind = W.Dropdown(options=self._kinds(None), value="dataset", description="Kind")
        self.resource = W.Select(options=[], rows=7, description="Resource")
        self.new_name = W.Text(placeholder="new name", layout=W.Layout(width="12em"))
        self.new_button = self._button("New", self._on_new, icon="plus", tooltip="start a new resource of this kind")
        self.remove_button = self._button("Remove", self._on_remove, icon="trash",
                                          tooltip="take the resource out of its file (click twice)")
        self.ask = W.HTML()
        self.discard_button = self._button("Discard", self._on_discard, button_style="warning")
        self.keep_button = self._button("Keep editing", self._on_keep)
        self.ask_box = W.HBox([self.ask, self.discard_button, self.keep_button], layout=W.Layout(display=HIDDEN))
        self.flow_view = W.HTML()
        self.title = W.HTML()
        self.form_box = W.VBox()
        self.yaml = W.Textarea(placeholder="other keys, as YAML", continuous_update=False,
                               layout=W.Layout(width="100%", height="14em"))
        self.message = W.HTML()
        self.preview_button = self._button("Preview plan", self._on_preview, icon="eye")
        self.save_button = self._button("Save", self._on_save, icon="save", button_style="primary")
        self.drift_button = self._button("Drift", self._on_drift, icon="search",
                                         tooltip="what changed in DSS outside dss-iac")
        self.diff_button = self._button("Diff", self._on_diff, icon="code-fork")
        self.commit_message = W.Text(placeholder="commit message", layout=W.Layout(width="22em"))
        self.commit_button = self._button("Commit", self._on_commit, icon="check")
        self.apply_button = self._button("Apply", self._on_apply, icon="play", button_style="danger")
        self.progress = W.IntProgress(value=0, min=0, max=1, description="Apply", bar_style="info")
        self.output = W.HTML()

        self.env.observe(lambda _: self._env_changed(), names="value")
        self.project.observe(lambda _: self._navigate(False), names="value")
        self.kind.observe(lambda _: self._navigate(False), names="value")
        self.resource.observe(lambda _: self._navigate(True), names="value")
        self.yaml.observe(lambda _: self._changed(), names="value")
        self.widget = W.VBox([
            W.HBox([self.env, self.env_info, self.reload_button]),
            W.HBox([W.VBox([self.project, self.kind, W.HBox([self.new_project_key, self.new_project_button])]),
                    self.resource, W.VBox([W.HBox([self.new_name, self.new_button]), self.remove_button])]),
            self.ask_box, self.flow_view, self.title, self.form_box, W.HTML("<b>Other keys</b> (YAML)"), self.yaml,
            self.message,
            W.HBox([self.preview_button, self.save_button, self.drift_button, self.diff_button, self.commit_message,
                    self.commit_button]),
            W.HBox([self.apply_button, self.progress]), self.output])
        self.tests = TestsTab(self.ws, self.env, self._dss)
        self.tabs = tabs(self.widget, self.tests)  # what the notebook shows: the editor, and the Tests tab

    # -- display and lifetime ----------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if self.closed:
            return {"text/plain": "This workbench is closed (a newer one replaced it, or close() was called)."}
        return self.tabs._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Close every widget and release what the workspace holds (its DSS connections)."""
        if self.closed:
            return
        self.closed = True
        close_tree(self.tabs)
        self.form.close()
        self.ws.close()
        root = self.ws.root.resolve()
        if _OPEN.get(root) is self:
            del _OPEN[root]

    @staticmethod
    def _button(description: str, handler: Callable[[], None], **kw: Any) -> W.Button:
        b = W.Button(description=description, **kw)
        b.on_click(lambda _: handler())
        return b

    @contextmanager
    def _dss(self) -> Iterator[None]:
        """Around each action that talks to DSS: its connections are released afterwards, so the workbench holds
        nothing between clicks and `%dss_iac`, the CLI or another workbench use the workspace's DSS meanwhile."""
        try:
            yield
        finally:
            self.ws.close()

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    # -- environment ---------------------------------------------------------------------------------------
    @_guarded
    def _env_changed(self) -> None:
        if self._quiet:
            return
        self.output.value = ""
        reason = self.apply_refused()
        self.apply_button.disabled = reason is not None
        self.apply_button.tooltip = reason or "apply the previewed plan"
        self.env_info.value = warn(reason) if reason else ok("apply allowed from here")
        with self._quietly():
            shown = self.project.value
            self.project.options = self._project_options(self.env.value)
            self.project.value = shown if shown in [v for _, v in self.project.options] else self.project.value
        if self.shown[0] == INSTANCE and self.instance_env != self.env.value:
            # Another environment: its own instance file (the editor's changes, if any, are asked about first).
            name = None if self.address is None or self.creating else self.address.name
            if self._unsaved():
                self._put_browser_back()
            self._after_asking(lambda: self._go(INSTANCE, self.shown[1], name))
        self._show_effective()
        self._show_flow()

    def apply_refused(self) -> str | None:
        """Why the chosen environment cannot be applied from the notebook, or None."""
        name = self.env.value
        try:
            env = self.ws.environment(name)
        except ConfigError as e:
            return f"environment {name}: {e.message}"
        if env.protected:
            return f"{name} is protected: apply it from the command line after review"
        if env.deploy == "bundle":
            return f"{name} receives projects by bundle: use `dss-iac promote`"
        return None

    # -- browsing ---------------------------------------------------------------------------------------------
    def _project_options(self, env: str) -> list[tuple[str, str]]:
        """(label, key): a project whose file is Python code says so; it is shown, not edited. Last, the instance
        file of the environment `env`, when it names one."""
        out = [(f"{key} (Python code, read-only)" if self.ws.read_only(key) else key, key)
               for key in sorted(self.ws.config.projects)]
        spec = self.ws.config.spec.environments.get(env)
        if spec is not None and spec.instance is not None:
            out.append((f"{INSTANCE} {spec.instance}", INSTANCE))
        return out

    @staticmethod
    def _kinds(key: str | None) -> list[str]:
        """The kinds the browser offers: the instance kinds in the instance file, a project's kinds in a project."""
        return [name for name, kind in KINDS.items() if kind.instance_level == (key == INSTANCE)]

    def _names(self, key: str | None, kind: str) -> list[str]:
        if key is None:
            return []
        if key == INSTANCE:
            prefix = f"{kind}."
            return [a[len(prefix):] for a in self.ws.instance_objects(self.env.value) if a.startswith(prefix)]
        if KINDS[kind].project_level:
            present = kind == "project" or self.ws.declared(f"{kind}.{key}") is not None
            return [key] if present else []
        spec = self.ws.config.projects[key].spec
        return [str(name) for name in KINDS[kind].declared(spec)]

    @_guarded
    def _navigate(self, keep_name: bool) -> None:
        """The user picked another project, kind or resource: open it, unless that would lose unsaved changes."""
        if self._quiet:
            return
        target = (self.project.value, self.kind.value, self.resource.value if keep_name else None)
        if self._unsaved():
            self._put_browser_back()
        self._after_asking(lambda: self._go(*target))

    def select(self, address: str, *, discard: bool = False) -> None:
        """Open a resource by address, as the browser would: `wb.select("dataset.CHURN.customers_raw")`. Unsaved
        changes are kept (and Discard offered) unless `discard`."""
        a = Address.of(address)
        name = a.project if a.name is None else a.name
        key = INSTANCE if a.in_instance else a.project
        if (key != INSTANCE and a.project not in self.ws.config.projects) or name not in self._names(key, a.kind):
            where = f"the instance file of {self.env.value}" if a.in_instance else "this workspace"
            raise ConfigError(f"{a} is not declared in {where}")
        if discard:
            self._go(key, a.kind, name)
        else:
            self._after_asking(lambda: self._go(key, a.kind, name))

    def _go(self, key: str | None, kind: str, name: str | None) -> None:
        """Show project `key`, kind `kind` and resource `name` (the first one when None) in browser and editor."""
        self._clear_ask()
        kinds = self._kinds(key)
        kind = kind if kind in kinds else kinds[0]  # from a project to the instance file: its first kind
        names = self._names(key, kind)
        chosen = name if name in names else (names[0] if names else None)
        with self._quietly():
            self.kind.options = self._kinds(key)
            self.project.value, self.kind.value = key, kind
            self.resource.options = names
            self.resource.value = chosen
        project_changed = key != self.shown[0]
        self.shown = (key, kind)
        self.instance_env = self.env.value if key == INSTANCE else None
        self.read_only_reason = self.ws.read_only(key) if key not in (None, INSTANCE) else None
        for widget in (self.save_button, self.new_button, self.remove_button, self.new_name):
            widget.disabled = self.read_only_reason is not None
        self.new_name.disabled = self.new_name.disabled or KINDS[kind].project_level
        self.creating = False
        if chosen is None or key is None:
            self._show(None)
        elif key == INSTANCE:
            address = Address.instance(kind, chosen)
            self._show(address, self.ws.instance_declared(self.env.value, address))
        else:
            address = Address(kind, key) if KINDS[kind].project_level else Address(kind, key, chosen)
            self._show(address, self.ws.declared(address))
        if project_changed:
            self._show_flow()

    def _put_browser_back(self) -> None:
        """The browser shows what the editor holds again (a switch was held back)."""
        key, kind = self.shown
        name = None if self.address is None else (self.address.name or self.address.project)
        with self._quietly():
            self.kind.options = self._kinds(key)
            self.project.value, self.kind.value = key, kind
            self.resource.options = self._names(key, kind) if not self.creating else []
            self.resource.value = name if name in self.resource.options else None

    def _show(self, address: Address | None, config: Any = None) -> None:
        old = self.form
        with self._quietly():
            self.address = address
            self.original = config
            self._confirm_remove = False
            self.remove_button.description = "Remove"
            self.message.value = ""
            if address is None:
                self.title.value = ("<i>nothing declared of this kind</i>" if self.read_only_reason else
                                    "<i>nothing declared of this kind: type a name and click New</i>")
                self.form = NoForm({}, self._changed)
                self.form_box.children = []
                self.yaml.value = ""
            else:
                where = escape(self._file_of(address))
                state = " (new, not saved yet)" if self.creating else ""
                self.title.value = f"<b><code>{escape(str(address))}</code></b> in <code>{where}</code>{state}"
                self.form = self._form(address.kind, config)
                self.form_box.children = [self.form.box]
                rest = config if not isinstance(config, dict) else {
                    k: v for k, v in config.items() if k not in self.form.keys}
                self.yaml.value = "" if rest in ({}, None) else "\n".join(Layout().block(rest, 0)) + "\n"
            if self.read_only_reason:
                reason = escape(self.read_only_reason)
                self.title.value += f'<br><span style="color: #6a737d">read-only: {reason}</span>'
            set_disabled(self.form.box, self.read_only_reason is not None)
            self.yaml.disabled = self.read_only_reason is not None
        if old is not self.form:
            old.close()  # replaced widgets go, or every selection would leave its form behind in the page
        self._show_effective()

    def _file_of(self, address: Address) -> str:
        """The file a resource is declared in, as the user knows it (an instance object's: the instance file)."""
        if address.in_instance:
            return self._shown_path(self.ws.instance_file(self.instance_env or self.env.value))
        return str(self.ws.config.projects[address.project].file.shown)

    def _form(self, kind: str, config: Any) -> Form:
        data = config if isinstance(config, dict) else {}
        if kind == "variables":
            return VariablesForm(data, self._changed)
        if kind == "dataset":
            try:
                names = list(self.ws.environment(self.env.value).remap.connections)
            except ConfigError:
                names = []
            return DatasetForm(data, self._changed, names)
        if kind == "scenario":
            return ScenarioForm(data, self._changed)
        return NoForm(data, self._changed)

    def _show_effective(self) -> None:
        """Variables: the values the chosen environment gives them, where it overrides the file."""
        if not isinstance(self.form, VariablesForm) or self.address is None:
            return
        env = self.env.value
        try:
            resolved = self.ws.resolved(self.address, env) or {}
            declared = self.ws.declared(self.address) or {}
        except DssIacError:  # an environment that does not resolve shows its problem next to its name
            resolved, declared = {}, {}
        overridden = {(scope, name): value for scope in self.form.keys
                      for name, value in (resolved.get(scope) or {}).items()
                      if name not in (declared.get(scope) or {}) or not same(value, declared[scope][name])}
        self.form.show_effective(env, overridden)

    def _show_flow(self, plan: Plan | None = None) -> None:
        """The shown project's flow, coloured by `plan` or by the last preview of this environment."""
        key = self.shown[0]
        if plan is None and self.last_plan is not None and self.last_plan.environment == self.env.value \
                and self.last_plan.config_digest == self.ws.config.digest:
            plan = self.last_plan
        if key is None or key not in self.ws.config.projects:
            self.flow_view.value = ""
            return
        svg = self.ws.flow(key, plan=plan).svg()
        self.flow_view.value = f'<div style="overflow-x: auto; max-width: 100%">{svg}</div>'

    # -- unsaved changes ------------------------------------------------------------------------------------
    def _after_asking(self, then: Callable[[], None]) -> None:
        """Do `then` now, or when Discard is clicked if the editor holds changes not saved."""
        if self._unsaved():
            self._ask_discard(then)
        else:
            then()

    def _ask_discard(self, then: Callable[[], None]) -> None:
        what = f"new {self.address} is not saved" if self.creating else f"{self.address} has changes not saved"
        self.ask.value = warn(f"{what}: discard them? ")
        self._discard = then
        self.ask_box.layout.display = SHOWN

    def _clear_ask(self) -> None:
        self._discard = None
        self.ask_box.layout.display = HIDDEN
        self.ask.value = ""

    @_guarded
    def _on_discard(self) -> None:
        then = self._discard
        self._clear_ask()
        if then is not None:
            then()

    @_guarded
    def _on_keep(self) -> None:
        self._clear_ask()

    def _unsaved(self) -> bool:
        return self.address is not None and self.read_only_reason is None and self.dirty()

    # -- the draft and its validation ---------------------------------------------------------------------------
    @_guarded
    def _changed(self) -> None:
        if not self._quiet:
            self.draft()

    def draft(self) -> Any:
        """The resource as the editor has it, validated; None (with the messages shown) when it is not valid."""
        if self.address is None:
            return None
        value, problems = read_draft(self.address.kind, self.yaml.value, self.form, self.original)
        if problems:
            self.message.value = bad(problems)
            return None
        dirty = self.creating or not same(value, self.original)
        self.message.value = warn("unsaved changes") if dirty else ""
        return value

    def dirty(self) -> bool:
        """Whether the editor holds changes that are not saved (an invalid draft counts as changes)."""
        if self.address is None or self.read_only_reason is not None:
            return False
        value = self.draft()
        return value is None or self.creating or not same(value, self.original)

    def _pending(self, value: Any) -> dict[str, Any] | None:
        """The edit the draft amounts to, as `Workspace.preview` takes it; None when it changes nothing."""
        assert self.address is not None
        if self.creating:
            return {"created": {str(self.address): value}}
        if same(value, self.original):
            return None
        return {"resources": {str(self.address): self._changes(value)}}

    def _changes(self, value: Any) -> Any:
        """What `update_resource` takes to turn the file's resource into `value`."""
        assert self.address is not None
        return value if KINDS[self.address.kind].keyed_by is not None else changes_between(self.original, value)

    # -- buttons ------------------------------------------------------------------------------------------------
    @_guarded
    def _on_new(self) -> None:
        key, kind = self.shown
        if key is None:
            return
        if self.read_only_reason:
            self.message.value = warn(f"read-only: {self.read_only_reason}")
            return
        if key != INSTANCE and KINDS[kind].project_level:
            if kind == "project" or self.ws.declared(f"{kind}.{key}") is not None:
                self.message.value = warn(f"{kind}.{key} is already declared: edit it")
                return
            address = Address(kind, key)
        else:
            name = self.new_name.value.strip()
            # Quoted, an instance object's name is one name, dots and all (a login such as jane.doe@corp.com).
            text = f'{kind}["{name}"]' if key == INSTANCE else f"{kind}.{key}.{name}"
            try:
                address = Address.parse(text)
            except ValueError as e:
                self.message.value = bad([str(e)], "Cannot start it")
                return
            if name in self._names(key, kind):
                self.message.value = warn(f"{address} is already declared: edit it")
                return
        self._after_asking(lambda: self._start(address))

    def _start(self, address: Address) -> None:
        self.creating = True
        self._show(address, copy.deepcopy(KINDS[address.kind].template))  # a starting point: the keys it needs
        self.message.value = warn("new resource: fill it in, then Save")

    @_guarded
    def _on_new_project(self) -> None:
        key = self.new_project_key.value.strip()
        try:
            address = Address.parse(f"project.{key}")
        except ValueError:
            self.message.value = bad(["a project key is uppercase letters, digits and underscores"], "Cannot create it")
            return
        self._after_asking(lambda: self._create_project(address))

    def _create_project(self, address: Address) -> None:
        path = self.ws.create_resource(address, {"name": address.project})
        self._touch(path)
        self.new_project_key.value = ""
        with self._quietly():
            self.project.options = self._project_options(self.env.value)
        self._go(address.project, "project", address.project)
        self.message.value = ok(f"created {self._shown_path(path)}: project {address.project}; fill it in, then Save")

    @_guarded
    def _on_save(self) -> None:
        if self.read_only_reason:
            self.message.value = warn(f"read-only, nothing written: {self.read_only_reason}")
            return
        value = self.draft()
        address = self.address
        if value is None or address is None:
            return
        if address.in_instance and self._other_env():
            return
        if self.creating:
            path = self._write({}, {str(address): value}) if address.in_instance else \
                self.ws.create_resource(address, value)
        elif same(value, self.original):
            self.message.value = ok("no changes to save")
            return
        elif address.in_instance:
            path = self._write({str(address): self._changes(value)})
        else:
            path = self.ws.update_resource(address, self._changes(value))
        self._touch(path)
        self.creating = False
        self._go(*self.shown, address.name or address.project)
        self.message.value = ok(f"saved {self._shown_path(path)}")

    def _write(self, changes: dict[str, Any], created: dict[str, Any] | None = None) -> Path:
        """Edit instance objects in the instance file of the environment the editor shows (comments kept)."""
        return self.ws.update_instance(str(self.instance_env), changes, created)

    def _other_env(self) -> bool:
        """The editor holds an instance object of another environment than the one chosen: say so (True)."""
        if self.instance_env is None or self.instance_env == self.env.value:
            return False
        self.message.value = warn(f"the editor holds {self.address} of {self.instance_env}'s instance file: choose "
                                  f"{self.instance_env} again, or discard the changes")
        return True

    def _shown_path(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.ws.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    @_guarded
    def _on_reload(self) -> None:
        self._after_asking(self._reload_files)

    def _reload_files(self) -> None:
        try:
            self.ws.reload()
        except ConfigError as e:
            self.message.value = error_html(e)
            return
        self.last_plan = None
        key, kind = self.shown
        name = None if self.address is None or self.creating else (self.address.name or self.address.project)
        with self._quietly():
            envs = self.ws.environments
            self.env.options = envs
            self.env.value = self.env.value if self.env.value in envs else envs[0]
            self.project.options = self._project_options(self.env.value)
        self._env_changed()
        keys = [v for _, v in self.project.options]
        self.shown = (None, kind)  # the project's flow is drawn again
        self._go(key if key in keys else (sorted(self.ws.config.projects)[0] if self.ws.config.projects else None),
                 kind, name)
        self.message.value = ok("read the files again")

    @_guarded
    def _on_remove(self) -> None:
        if self.creating:  # a new resource not saved yet: just drop it
            self.creating = False
            self._go(*self.shown, None)
            return
        if self.address is None:
            return
        if self.read_only_reason:
            self.message.value = warn(f"read-only: {self.read_only_reason}")
            return
        if not self._confirm_remove:
            self._confirm_remove = True
            self.remove_button.description = "Confirm remove"
            if self.address.in_instance:
                self.message.value = warn(f"click again to remove {self.address} from {self._file_of(self.address)}")
            elif self.address.kind == "project":
                where = self.ws.config.projects[self.address.project].file.shown
                self.message.value = warn(f"click again to delete {where}: project {self.address.project} and "
                                          "everything in it (the next plan destroys them where they were applied)")
            else:
                self.message.value = warn(f"click again to remove {self.address} from its file")
            return
        address = self.address
        if address.in_instance and self._other_env():
            return
        try:
            path = self._write({str(address): None}) if address.in_instance else self.ws.remove_resource(address)
        except ConfigError as e:
            self._confirm_remove = False
            self.remove_button.description = "Remove"
            self.message.value = error_html(e)
            return
        self._touch(path)
        if address.kind == "project":
            with self._quietly():
                self.project.options = self._project_options(self.env.value)
            keys = sorted(self.ws.config.projects)
            self._go(keys[0] if keys else None, "project", None)
            self.message.value = ok(f"deleted {path.name}: project {address.project} is no longer declared")
            return
        self._go(self.shown[0], address.kind, None)
        self.message.value = ok(f"removed {address} from {self._shown_path(path)}")

    def _touch(self, path: Path) -> None:
        if path not in self.touched:
            self.touched.append(path)

    @_guarded
    def _on_preview(self) -> None:
        editing = self.address is not None and self.read_only_reason is None
        value = self.draft() if editing else None
        if editing and value is None:
            return
        pending = self._pending(value) if editing else None
        if pending is not None and self._other_env():
            return
        self.output.value = "<i>planning...</i>"
        try:
            with self._dss():
                plan = self.ws.preview(self.env.value, **(pending or {}))  # the edited configuration, not written
                gate = self._gate_html(plan)
            self._show_flow(plan)
        except DssIacError as e:
            self.output.value = error_html(e) if isinstance(e, ConfigError) else bad([escape(str(e))], "No plan")
            return
        self.last_plan = plan
        note = "" if pending is None else "<p><i>Includes your unsaved changes: save them before applying.</i></p>"
        self.output.value = note + gate + plan_html(plan)

    def _gate_html(self, plan: Plan) -> str:
        """Where Govern must sign the plan off (`approval: govern`): its gate, above the plan; Apply is refused by
        the core until it is open."""
        try:
            gate = self.ws.approval_gate(plan)
        except DssIacError as e:
            return warn(f"Govern: {e}")
        return "" if gate is None else gate._repr_html_()

    @_guarded
    def _on_drift(self) -> None:
        self.output.value = "<i>reading DSS...</i>"
        try:
            with self._dss():
                report = self.ws.drift(self.env.value)
        except DssIacError as e:
            self.output.value = error_html(e) if isinstance(e, ConfigError) else bad([escape(str(e))], "No drift")
            return
        self.output.value = drift_html(report)

    @_guarded
    def _on_diff(self) -> None:
        if not self.touched:
            self.output.value = "<p>Nothing saved from this workbench yet: no file to diff.</p>"
            return
        try:
            text = gitops.diff(self.ws.root, self.touched)
        except gitops.GitProblem as e:
            self.output.value = bad([escape(str(e))], "No diff")
            return
        if not text.strip():
            self.output.value = "<p>No differences: the saved files are as in the last commit.</p>"
            return
        self.output.value = diff_html(text)

    @_guarded
    def _on_commit(self) -> None:
        try:
            done = gitops.commit(self.ws.root, self.touched, self.commit_message.value)
        except gitops.GitProblem as e:
            self.message.value = warn(str(e))
            return
        self.touched = []
        self.commit_message.value = ""
        self.message.value = ok(f"committed {done.sha[:10]}: {', '.join(done.files)}")

    @_guarded
    def _on_apply(self) -> None:
        refused = self.apply_refused()
        if refused:
            self.message.value = warn(refused)
            return
        if self.address is not None and (self.creating or self.dirty()):
            self.message.value = warn("save your changes first: apply uses the saved configuration")
            return
        plan = self.last_plan
        if plan is None or plan.environment != self.env.value or plan.config_digest != self.ws.config.digest:
            self.message.value = warn("preview the plan first: Apply applies exactly the plan you reviewed")
            return
        if not plan.has_changes:
            self.message.value = ok("nothing to apply: DSS matches the configuration")
            return
        self.progress.value, self.progress.max = 0, max(len(plan.changes), 1)
        self.progress.bar_style = "info"

        def progress(event: ProgressEvent) -> None:
            self.progress.max = max(event.total, 1)
            self.progress.value = event.done

        try:
            with self._dss():
                result = self.ws.apply(plan, progress=progress)
        except DssIacError as e:
            self.progress.bar_style = "danger"
            self.message.value = bad([escape(str(e))], "Not applied")
            return
        finally:
            self.last_plan = None
        self._show_flow()
        if result.ok:
            self.progress.bar_style = "success"
            self.progress.value = self.progress.max
            self.message.value = ok(f"applied to {plan.environment}: {len(result.succeeded)} operation(s)")
        else:
            self.progress.bar_style = "danger"
            lines = [f"<code>{escape(r.address)}</code> {escape(r.status)}: {escape(r.error or '')}"
                     for r in [*result.failed, *result.skipped]]
            self.message.value = bad(lines, f"Apply to {plan.environment} did not finish")
