"""`Workbench`: edit a workspace's resources from a notebook, preview the plan, save, diff, commit, apply.

    from dataiku_iac.notebook import Workbench
    wb = Workbench("path/to/repo", env="dev")
    wb            # shows the widgets

Everything goes through the public API (`Workspace.update_resource`, `.plan`, `.apply`); saving rewrites only
the YAML nodes that change, so the file's comments and layout survive.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

try:
    import ipywidgets as W
except ImportError:  # the core installs without the notebook extra
    raise ImportError("the notebook workbench needs ipywidgets: pip install 'dataiku-iac[notebook]'") from None

from pydantic import BaseModel, TypeAdapter, ValidationError

from .. import Workspace
from ..apply.applier import ProgressEvent
from ..config import edit
from ..config.errors_map import to_config_errors
from ..config.models import Dataset, ManagedFolder, Permission, Project, Recipe, Scenario, Variables, Zone
from ..config.yamledit import Layout, same
from ..config.yamlio import locate, parse_yaml
from ..errors import ConfigError, DssIacError
from ..plan.model import Plan
from ..plan.render_html import error_html, plan_html
from ..resources.address import KINDS, PROJECT_LEVEL, Address
from ..secrets import redact
from . import gitops
from .forms import DatasetForm, Form, FormError, NoForm, ScenarioForm, VariablesForm

MODELS: dict[str, Any] = {"project": Project, "variables": Variables, "permissions": list[Permission],
                          "dataset": Dataset, "managed_folder": ManagedFolder, "recipe": Recipe,
                          "scenario": Scenario, "zone": Zone}
# A starting point for a new resource: the keys its kind requires.
TEMPLATES: dict[str, Any] = {"variables": {"standard": {}, "local": {}}, "permissions": [],
                             "dataset": {"type": "Filesystem", "managed": True, "format": "csv"},
                             "managed_folder": {"connection": ""}, "recipe": {"type": "sync", "inputs": [],
                                                                                "outputs": []},
                             "scenario": {}, "zone": {"items": []}}
EDITOR = "YAML"  # how validation messages name the text area


def _ok(text: str) -> str:
    return f'<span style="color: #22863a">{escape(text)}</span>'


def _warn(text: str) -> str:
    return f'<span style="color: #b08800">{escape(text)}</span>'


def _bad(lines: list[str], title: str = "Not valid, nothing written") -> str:
    items = "".join(f"<li>{redact(line)}</li>" for line in lines)  # no value read from the environment
    return f'<div style="color: #cb2431"><b>{escape(title)}</b><ul style="margin: 2px 0">{items}</ul></div>'


class Workbench:
    """The widgets: environment picker, resource browser, editor (form + YAML), plan preview, Git and apply."""

    def __init__(self, path: str | Path = ".", env: str | None = None, *, workspace: Workspace | None = None) -> None:
        self.ws = workspace if workspace is not None else Workspace.load(path)
        self.touched: list[Path] = []  # files saved from this workbench, in order
        self.last_plan: Plan | None = None
        self.address: Address | None = None
        self.creating = False  # the editor holds a resource that is not in its file yet
        self.original: Any = None  # the resource as its file says it
        self.form: Form = NoForm({}, self._changed)
        self._quiet = False  # set while widgets are filled in, so that no validation runs half-way
        self._confirm_remove = False

        envs = self.ws.environments
        if env is not None and env not in envs:
            raise ConfigError(f"unknown environment '{env}' (declared: {', '.join(envs)})")
        self.env = W.Dropdown(options=envs, value=env or envs[0], description="Environment")
        self.env_info = W.HTML()
        self.project = W.Dropdown(options=sorted(self.ws.config.projects), description="Project")
        self.kind = W.Dropdown(options=list(KINDS), value="dataset", description="Kind")
        self.resource = W.Select(options=[], rows=7, description="Resource")
        self.new_name = W.Text(placeholder="new name", layout=W.Layout(width="12em"))
        self.new_button = self._button("New", self._on_new, icon="plus", tooltip="start a new resource of this kind")
        self.remove_button = self._button("Remove", self._on_remove, icon="trash",
                                          tooltip="take the resource out of its file (click twice)")
        self.title = W.HTML()
        self.form_box = W.VBox()
        self.yaml = W.Textarea(placeholder="other keys, as YAML", continuous_update=False,
                               layout=W.Layout(width="100%", height="14em"))
        self.message = W.HTML()
        self.preview_button = self._button("Preview plan", self._on_preview, icon="eye")
        self.save_button = self._button("Save", self._on_save, icon="save", button_style="primary")
        self.diff_button = self._button("Diff", self._on_diff, icon="code-fork")
        self.commit_message = W.Text(placeholder="commit message", layout=W.Layout(width="22em"))
        self.commit_button = self._button("Commit", self._on_commit, icon="check")
        self.apply_button = self._button("Apply", self._on_apply, icon="play", button_style="danger")
        self.progress = W.IntProgress(value=0, min=0, max=1, description="Apply", bar_style="info")
        self.output = W.HTML()

        self.env.observe(lambda _: self._env_changed(), names="value")
        self.project.observe(lambda _: self._browse(), names="value")
        self.kind.observe(lambda _: self._browse(), names="value")
        self.resource.observe(lambda _: self._open(), names="value")
        self.yaml.observe(lambda _: self._changed(), names="value")
        self.widget = W.VBox([
            W.HBox([self.env, self.env_info]),
            W.HBox([W.VBox([self.project, self.kind]), self.resource,
                    W.VBox([W.HBox([self.new_name, self.new_button]), self.remove_button])]),
            self.title, self.form_box, W.HTML("<b>Other keys</b> (YAML)"), self.yaml, self.message,
            W.HBox([self.preview_button, self.save_button, self.diff_button, self.commit_message,
                    self.commit_button]),
            W.HBox([self.apply_button, self.progress]), self.output])
        self._env_changed()
        self._browse()

    # -- display -------------------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        self.widget.close()
        self.ws.close()

    @staticmethod
    def _button(description: str, handler: Any, **kw: Any) -> W.Button:
        b = W.Button(description=description, **kw)
        b.on_click(lambda _: handler())
        return b

    # -- environment ---------------------------------------------------------------------------------------
    def _env_changed(self) -> None:
        self.last_plan = None
        self.output.value = ""
        reason = self.apply_refused()
        self.apply_button.disabled = reason is not None
        self.apply_button.tooltip = reason or "apply the previewed plan"
        self.env_info.value = _warn(reason) if reason else _ok("apply allowed from here")

    def apply_refused(self) -> str | None:
        """Why the chosen environment cannot be applied from the notebook, or None."""
        name = self.env.value
        try:
            env = self.ws.environment(name)
        except ConfigError as e:
            return f"environment {name}: {e.message}"
        if env.protected:
            return f"{name} is protected: apply it from the command line after review"
        if getattr(env, "approval", None):
            return f"{name} needs an approval: apply it from the command line"
        if env.deploy == "bundle":
            return f"{name} receives projects by bundle: use `dss-iac promote`"
        return None

    # -- browsing ---------------------------------------------------------------------------------------------
    def _names(self) -> list[str]:
        key, kind = self.project.value, self.kind.value
        if key is None:
            return []
        if kind in PROJECT_LEVEL:
            present = kind == "project" or edit.current(self.ws.config, f"{kind}.{key}") is not None
            return [key] if present else []
        spec = self.ws.config.projects[key].spec
        return list(getattr(spec, edit.resource_path(Address(kind, key, "x"))[0]))

    def _browse(self) -> None:
        names = self._names()
        self.resource.options = names
        self.new_name.disabled = self.kind.value in PROJECT_LEVEL
        if names:
            self.resource.value = names[0]
            self._open()
        else:
            self._show(None)

    def select(self, address: str) -> None:
        """Open a resource by address, as the browser would: `wb.select("dataset.CHURN.customers_raw")`."""
        a = Address.parse(address)
        self.project.value = a.project
        self.kind.value = a.kind
        self.resource.value = a.project if a.name is None else a.name
        self._open()

    def _open(self) -> None:
        name = self.resource.value
        if name is None:
            return
        key, kind = self.project.value, self.kind.value
        address = Address(kind, key) if kind in PROJECT_LEVEL else Address(kind, key, name)
        self.creating = False
        self._show(address, edit.current(self.ws.config, address))

    def _show(self, address: Address | None, config: Any = None) -> None:
        self._quiet = True
        try:
            self.address = address
            self.original = config
            self._confirm_remove = False
            self.remove_button.description = "Remove"
            if address is None:
                self.title.value = "<i>nothing declared of this kind: type a name and click New</i>"
                self.form = NoForm({}, self._changed)
                self.form_box.children = []
                self.yaml.value = ""
                self.message.value = ""
                return
            where = self.ws.config.projects[address.project].file.shown
            state = " (new, not saved yet)" if self.creating else ""
            self.title.value = f"<b><code>{escape(str(address))}</code></b> in <code>{escape(where)}</code>{state}"
            self.form = self._form(address.kind, config)
            self.form_box.children = [self.form.box]
            rest = config if not isinstance(config, dict) else {
                k: v for k, v in config.items() if k not in self.form.keys}
            self.yaml.value = "" if rest in ({}, None) else "\n".join(Layout().block(rest, 0)) + "\n"
            self.message.value = ""
        finally:
            self._quiet = False

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

    # -- the draft and its validation ---------------------------------------------------------------------------
    def _changed(self) -> None:
        if not self._quiet:
            self.draft()

    def draft(self) -> Any:
        """The resource as the editor has it, validated; None (with the messages shown) when it is not valid."""
        if self.address is None:
            return None
        text = self.yaml.value
        problems: list[str] = []
        try:
            rest = parse_yaml(text, EDITOR) if text.strip() else None
        except ConfigError as e:
            self.message.value = _bad([self._at(e)])
            return None
        kind = self.address.kind
        if kind == "permissions":
            value: Any = rest if rest is not None else []
        else:
            if rest is None:
                rest = {}
            if not isinstance(rest, dict):
                self.message.value = _bad([f"<code>1:1</code> expected keys and values (a mapping), not a "
                                           f"{type(rest).__name__}"])
                return None
            for key in rest:
                if key in self.form.keys:
                    pos = locate(text, EDITOR, [key], at_key=True)
                    said = escape(f"'{key}' is edited in the form above: remove it here")
                    problems.append(f"<code>{pos.line}:{pos.col}</code> {said}")
            try:
                value = {**rest, **self.form.values()}
            except FormError as e:
                problems.extend(f"<code>form</code> {escape(m)}" for m in e.messages)
                value = None
        if value is not None and not problems:
            problems.extend(self._validate(kind, value, text))
        if problems:
            self.message.value = _bad(problems)
            return None
        dirty = self.creating or not same(value, self.original)
        self.message.value = _warn("unsaved changes") if dirty else ""
        return self._in_file_order(value)

    def dirty(self) -> bool:
        """Whether the editor holds changes that are not saved (an invalid draft counts as changes)."""
        if self.address is None:
            return False
        value = self.draft()
        return value is None or self.creating or not same(value, self.original)

    def _in_file_order(self, value: Any) -> Any:
        """Keys in the order the file has them, new keys after: what Save writes reads the same way."""
        if not isinstance(value, dict) or not isinstance(self.original, dict):
            return value
        return {**{k: value[k] for k in self.original if k in value}, **value}

    def _validate(self, kind: str, value: Any, text: str) -> list[str]:
        model = MODELS[kind]
        try:
            if isinstance(model, type) and issubclass(model, BaseModel):
                model.model_validate(value)
            else:
                TypeAdapter(model).validate_python(value)
        except ValidationError as e:
            out = []
            for err, located in zip(e.errors(), to_config_errors(e, model, text, EDITOR), strict=True):
                loc = [str(x) for x in err["loc"]]
                if loc and loc[0] in self.form.keys:
                    out.append(f"<code>form: {escape('.'.join(loc))}</code> {escape(located.message)}")
                else:
                    out.append(self._at(located))
            return out
        return []

    @staticmethod
    def _at(e: ConfigError) -> str:
        """`line:col message`, pointing into the text area."""
        where = f"{e.position.line}:{e.position.col}" if e.position is not None else "1:1"
        return f"<code>{where}</code> {escape(e.message)}"

    def _pending(self, value: Any) -> edit.FileEdit | None:
        """The file edit that the draft amounts to, or None when it changes nothing."""
        assert self.address is not None
        if self.creating:
            return edit.create(self.ws.config, self.address, value)
        if same(value, self.original):
            return None
        if self.address.kind == "permissions":
            return edit.update(self.ws.config, self.address, value)
        return edit.update(self.ws.config, self.address, edit.changes_between(self.original, value))

    # -- buttons ------------------------------------------------------------------------------------------------
    def _on_new(self) -> None:
        key, kind = self.project.value, self.kind.value
        if key is None:
            return
        if kind in PROJECT_LEVEL:
            if kind == "project" or edit.current(self.ws.config, f"{kind}.{key}") is not None:
                self.message.value = _warn(f"{kind}.{key} is already declared: edit it")
                return
            address = Address(kind, key)
        else:
            name = self.new_name.value.strip()
            try:
                address = Address.parse(f"{kind}.{key}.{name}")
            except ValueError:
                self.message.value = _bad(["a name is letters, digits and underscores"], "Cannot start it")
                return
            if name in self._names():
                self.message.value = _warn(f"{address} is already declared: edit it")
                return
        self.creating = True
        self._show(address, TEMPLATES[kind])
        self.message.value = _warn("new resource: fill it in, then Save")

    def _on_save(self) -> None:
        value = self.draft()
        if value is None or self.address is None:
            return
        try:
            pending = self._pending(value)
            if pending is None:
                self.message.value = _ok("no changes to save")
                return
            self.ws.config = edit.save(self.ws.config, pending)
        except ConfigError as e:
            self.message.value = error_html(e)
            return
        self._touch(pending.path)
        address, self.creating = self.address, False
        self._reload(address)
        self.message.value = _ok(f"saved {pending.shown}")

    def _reload(self, address: Address) -> None:
        """The browser and editor again from the saved configuration, on `address`."""
        self._quiet = True
        try:
            self.resource.options = self._names()
            self.resource.value = address.project if address.name is None else address.name
        finally:
            self._quiet = False
        self._show(address, edit.current(self.ws.config, address))

    def _on_remove(self) -> None:
        if self.creating:  # a new resource not saved yet: just drop it
            self.creating = False
            self._browse()
            return
        if self.address is None:
            return
        if not self._confirm_remove:
            self._confirm_remove = True
            self.remove_button.description = "Confirm remove"
            if self.address.kind == "project":
                where = self.ws.config.projects[self.address.project].file.shown
                self.message.value = _warn(f"click again to delete {where}: project {self.address.project} and "
                                           "everything in it (the next plan destroys them where they were applied)")
            else:
                self.message.value = _warn(f"click again to remove {self.address} from its file")
            return
        address = self.address
        try:
            path = self.ws.remove_resource(address)
        except ConfigError as e:
            self._confirm_remove = False
            self.remove_button.description = "Remove"
            self.message.value = error_html(e)
            return
        self._touch(path)
        if address.kind == "project":
            self.project.options = sorted(self.ws.config.projects)  # selects the first one left, if any
            self._browse()
            self.message.value = _ok(f"deleted {path.name}: project {address.project} is no longer declared")
            return
        self._browse()
        self.message.value = _ok(f"removed {address} from {path.name}")

    def _touch(self, path: Path) -> None:
        if path not in self.touched:
            self.touched.append(path)

    def _on_preview(self) -> None:
        value = self.draft() if self.address is not None else self.original
        if self.address is not None and value is None:
            return
        config = self.ws.config
        try:
            pending = self._pending(value) if self.address is not None else None
            if pending is not None:
                config = edit.validate(self.ws.config, pending)
        except ConfigError as e:
            self.message.value = error_html(e)
            return
        self.output.value = "<i>planning...</i>"
        saved = self.ws.config
        self.ws.config = config  # the plan of the edited configuration, not written yet
        try:
            plan = self.ws.plan(self.env.value)
        except DssIacError as e:
            self.output.value = error_html(e) if isinstance(e, ConfigError) else _bad([escape(str(e))], "No plan")
            return
        finally:
            self.ws.config = saved
        self.last_plan = plan
        note = "" if pending is None else "<p><i>Includes your unsaved changes: save them before applying.</i></p>"
        self.output.value = note + plan_html(plan)

    def _on_diff(self) -> None:
        if not self.touched:
            self.output.value = "<p>Nothing saved from this workbench yet: no file to diff.</p>"
            return
        try:
            text = gitops.diff(self.ws.root, self.touched)
        except gitops.GitProblem as e:
            self.output.value = _bad([escape(str(e))], "No diff")
            return
        if not text.strip():
            self.output.value = "<p>No differences: the saved files are as in the last commit.</p>"
            return
        self.output.value = _diff_html(text)

    def _on_commit(self) -> None:
        try:
            done = gitops.commit(self.ws.root, self.touched, self.commit_message.value)
        except gitops.GitProblem as e:
            self.message.value = _warn(str(e))
            return
        self.touched = []
        self.commit_message.value = ""
        files = ", ".join(done.files)
        self.message.value = _ok(f"committed {done.sha[:10]}: {files}")

    def _on_apply(self) -> None:
        refused = self.apply_refused()
        if refused:
            self.message.value = _warn(refused)
            return
        if self.address is not None and (self.creating or self.dirty()):
            self.message.value = _warn("save your changes first: apply uses the saved configuration")
            return
        plan = self.last_plan
        if plan is None or plan.environment != self.env.value or plan.config_digest != self.ws.config.digest:
            self.message.value = _warn("preview the plan first: Apply applies exactly the plan you reviewed")
            return
        if not plan.has_changes:
            self.message.value = _ok("nothing to apply: DSS matches the configuration")
            return
        self.progress.value, self.progress.max = 0, max(len(plan.changes), 1)
        self.progress.bar_style = "info"

        def progress(event: ProgressEvent) -> None:
            self.progress.max = max(event.total, 1)
            self.progress.value = event.done

        try:
            result = self.ws.apply(plan, progress=progress)
        except DssIacError as e:
            self.progress.bar_style = "danger"
            self.message.value = _bad([escape(str(e))], "Not applied")
            return
        finally:
            self.last_plan = None
        if result.ok:
            self.progress.bar_style = "success"
            self.progress.value = self.progress.max
            self.message.value = _ok(f"applied to {plan.environment}: {len(result.succeeded)} operation(s)")
        else:
            self.progress.bar_style = "danger"
            lines = [f"<code>{escape(r.address)}</code> {escape(r.status)}: {escape(r.error or '')}"
                     for r in [*result.failed, *result.skipped]]
            self.message.value = _bad(lines, f"Apply to {plan.environment} did not finish")


def _diff_html(text: str) -> str:
    colours = {"+": "#22863a", "-": "#cb2431", "@": "#6f42c1"}
    lines = []
    for line in text.splitlines():
        colour = None if line.startswith(("+++", "---")) else colours.get(line[:1])
        shown = escape(line)
        lines.append(f'<span style="color: {colour}">{shown}</span>' if colour else shown)
    return ('<pre style="font-family: monospace; font-size: 12px; background: #f6f8fa; padding: 8px 12px">'
            + "\n".join(lines) + "</pre>")
