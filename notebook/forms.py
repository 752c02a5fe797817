"""Forms for the fields people change most: project variables, a dataset's connection, params and schema, a
scenario's triggers and active flag. Everything else of a resource is edited as YAML next to the form.

Values typed in a table are YAML scalars, shown the way the file would write them: `0.5` is a number and
`'0.5'` the text "0.5", so a variable keeps its type when edited.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as W

from dataiku_iac import ConfigError, flow_text, parse_yaml

Changed = Callable[[], None]
COLUMN_TYPES = ["string", "bigint", "int", "smallint", "tinyint", "double", "float", "boolean", "date", "array",
                "object", "map", "geopoint", "geometry"]
FREQUENCIES = ["Minutely", "Hourly", "Daily", "Weekly", "Monthly"]


class FormError(Exception):
    """What is wrong in the form, one message per field."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


def shown(value: Any) -> str:
    """A value as typed in a table cell: its YAML text ('' for an empty text)."""
    return "" if value == "" else flow_text(value)


def typed(text: str, where: str) -> Any:
    """A table cell read back as YAML; an empty cell is empty text. A value DSS cannot store (YAML reads
    `2024-01-01` as a date) is refused here, as it is typed, not when saving."""
    if not text.strip():
        return ""
    try:
        return parse_yaml(text, where)
    except ConfigError as e:
        raise FormError([f"{where}: {e.message}"]) from None


def close_tree(widget: W.Widget) -> None:
    """Close a widget, everything inside it, and their layout and style models: a notebook keeps every widget
    it was sent until it is closed, so replaced ones must be, or the page grows with each selection."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    for part in ("layout", "style"):
        model = getattr(widget, part, None)
        if isinstance(model, W.Widget):
            model.close()
    widget.close()


def set_disabled(widget: W.Widget, disabled: bool) -> None:
    """Enable or disable every input inside `widget` (read-only resources are shown, not edited)."""
    for child in getattr(widget, "children", ()):
        set_disabled(child, disabled)
    if "disabled" in widget.trait_names():
        widget.disabled = disabled


def _button(description: str, on_click: Callable[[], object], **kw: Any) -> W.Button:
    b = W.Button(description=description, layout=W.Layout(width="auto"), **kw)
    b.on_click(lambda _: on_click())
    return b


class Table:
    """Rows of widgets, each with a remove button, and an "add" button under them."""

    def __init__(self, title: str, headers: list[str], make_row: Callable[[Any], list[W.Widget]], rows: list[Any],
                 changed: Changed, add_label: str = "Add") -> None:
        self.make_row = make_row
        self.changed = changed
        self.rows: list[list[W.Widget]] = []
        self.boxes: dict[int, W.HBox] = {}  # each row's box, kept so that a removed row's widgets can be closed
        # What each row was built from: keys without a widget of their own are kept from it.
        self.origins: dict[int, Any] = {}
        self.header = W.HTML(f"<b>{title}</b> " + "".join(
            f'<span style="display:inline-block; width:{"9em" if i else "6em"}; color:#6a737d">{h}</span>'
            for i, h in enumerate(headers)))
        self.add_button = _button(add_label, lambda: self.add(None), icon="plus")
        self.box = W.VBox([self.header, self.add_button])
        for row in rows:
            self.add(row, notify=False)

    def add(self, row: Any, notify: bool = True) -> list[W.Widget]:
        widgets = self.make_row(row)
        for w in widgets:
            if hasattr(w, "value"):
                w.observe(lambda _: self.changed(), names="value")
        remove = _button("", lambda: self.remove(widgets), icon="trash", tooltip="remove this row")
        widgets.append(remove)
        self.rows.append(widgets)
        self.origins[id(widgets)] = row
        self.boxes[id(widgets)] = W.HBox(widgets)
        self._layout()
        if notify:
            self.changed()
        return widgets

    def remove(self, widgets: list[W.Widget]) -> None:
        self.rows = [r for r in self.rows if r is not widgets]
        self.origins.pop(id(widgets), None)
        box = self.boxes.pop(id(widgets), None)
        self._layout()
        if box is not None:
            close_tree(box)
        self.changed()

    def _layout(self) -> None:
        self.box.children = [self.header, *(self.boxes[id(r)] for r in self.rows), self.add_button]


def _text(value: str, placeholder: str, width: str = "9em") -> W.Text:
    return W.Text(value=value, placeholder=placeholder, layout=W.Layout(width=width))


class Form:
    """The common fields of one kind of resource; `keys` are the configuration keys it owns."""

    keys: tuple[str, ...] = ()

    def __init__(self, config: dict[str, Any], changed: Changed) -> None:
        self.original = config
        self.changed = changed
        self.box = W.VBox()

    def values(self) -> dict[str, Any]:
        """The keys the form sets; a key left empty that the file does not have stays absent."""
        return {}

    def close(self) -> None:
        close_tree(self.box)

    def _keep(self, out: dict[str, Any], key: str, value: Any) -> None:
        if key in self.original or value not in ("", [], {}, None):
            out[key] = value


class NoForm(Form):
    pass


class VariablesForm(Form):
    """Project variables as a name/value table, each row `standard` (shipped in bundles) or `local`."""

    keys = ("standard", "local")

    def __init__(self, config: dict[str, Any], changed: Changed) -> None:
        super().__init__(config, changed)
        rows = [(scope, name, value) for scope in self.keys for name, value in (config.get(scope) or {}).items()]
        self.table = Table("Variables", ["scope", "name", "value"], self._row, rows, changed, "Add variable")
        self.effective = W.HTML()  # what the chosen environment makes of them, where it overrides the file
        self.box.children = [self.table.box, self.effective]

    def show_effective(self, env: str, overridden: dict[tuple[str, str], Any]) -> None:
        """List the variables whose value in environment `env` is not the one in the file: (scope, name) ->
        the value there."""
        if not overridden:
            self.effective.value = ""
            return
        items = "".join(f"<li><code>{escape(name)}</code> = <code>{escape(shown(value))}</code>"
                        f"{'' if scope == 'standard' else f' ({scope})'}</li>"
                        for (scope, name), value in sorted(overridden.items()))
        self.effective.value = (f'<div style="color: #6a737d">In <b>{escape(env)}</b>, dss-iac.yaml overrides '
                                f'{"this value" if len(overridden) == 1 else "these values"} (what DSS gets there):'
                                f'<ul style="margin: 2px 0">{items}</ul></div>')

    def _row(self, row: Any) -> list[W.Widget]:
        scope, name, value = row or ("standard", "", "")
        return [W.Dropdown(options=list(self.keys), value=scope, layout=W.Layout(width="7em")),
                _text(name, "name"), _text(shown(value), "value (YAML)", "14em")]

    def values(self) -> dict[str, Any]:
        out: dict[str, dict[str, Any]] = {scope: {} for scope in self.keys}
        errors: list[str] = []
        for scope, name, value, _ in self.table.rows:
            key = name.value.strip()
            if not key:
                errors.append("variables: a row has no name")
                continue
            if key in out[scope.value]:
                errors.append(f"variables: {key} appears twice in {scope.value}")
            try:
                out[scope.value][key] = typed(value.value, f"variables.{scope.value}.{key}")
            except FormError as e:
                errors.extend(e.messages)
        if errors:
            raise FormError(errors)
        return out


class DatasetForm(Form):
    """A dataset's connection (a logical name), its params, and its schema (name, type, comment)."""

    keys = ("connection", "params", "schema")

    def __init__(self, config: dict[str, Any], changed: Changed, connections: list[str]) -> None:
        super().__init__(config, changed)
        self.connection = W.Combobox(value=str(config.get("connection") or ""), options=sorted(set(connections)),
                                     description="Connection", placeholder="logical connection",
                                     ensure_option=False)
        self.connection.observe(lambda _: changed(), names="value")
        self.params = Table("Params", ["name", "value"], self._param, list((config.get("params") or {}).items()),
                            changed, "Add param")
        self.schema = Table("Schema", ["column", "type", "comment"], self._column, list(config.get("schema") or []),
                            changed, "Add column")
        self.box.children = [self.connection, self.params.box, self.schema.box]

    def _param(self, row: Any) -> list[W.Widget]:
        name, value = row or ("", "")
        return [_text(name, "name"), _text(shown(value), "value (YAML)", "18em")]

    def _column(self, row: Any) -> list[W.Widget]:
        col = row if isinstance(row, dict) else {}
        return [_text(str(col.get("name", "")), "column"),
                W.Combobox(value=str(col.get("type", "string")), options=COLUMN_TYPES, ensure_option=False,
                           layout=W.Layout(width="9em")),
                _text(str(col.get("comment", "")), "comment", "18em")]

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        errors: list[str] = []
        connection = self.connection.value.strip()
        if connection:
            out["connection"] = connection
        params: dict[str, Any] = {}
        for name, value, _ in self.params.rows:
            if not name.value.strip():
                errors.append("params: a row has no name")
                continue
            try:
                params[name.value.strip()] = typed(value.value, f"params.{name.value.strip()}")
            except FormError as e:
                errors.extend(e.messages)
        self._keep(out, "params", params)
        schema = []
        for i, row in enumerate(self.schema.rows):
            name, kind, comment, _ = row
            if not name.value.strip():
                errors.append(f"schema: column {i + 1} has no name")
                continue
            origin = self.schema.origins.get(id(row))
            col = dict(origin) if isinstance(origin, dict) else {}
            col.update({"name": name.value.strip(), "type": kind.value.strip() or "string"})
            if comment.value.strip():
                col["comment"] = comment.value
            else:
                col.pop("comment", None)
            schema.append(col)
        self._keep(out, "schema", schema)
        if errors:
            raise FormError(errors)
        return out


class ScenarioForm(Form):
    """A scenario's active flag, its temporal triggers and its dataset triggers (one table each); triggers of
    other types (SQL, follow a scenario, Python...) are kept as the file has them, in their place."""

    keys = ("active", "triggers")

    def __init__(self, config: dict[str, Any], changed: Changed) -> None:
        super().__init__(config, changed)
        self.active = W.Checkbox(value=bool(config.get("active", True)), description="Active", indent=False)
        self.active.observe(lambda _: changed(), names="value")
        triggers = [t for t in config.get("triggers") or [] if isinstance(t, dict)]
        self.position = {id(t): i for i, t in enumerate(triggers)}  # saved back in the file's order
        self.others = [t for t in triggers if t.get("type") not in ("temporal", "dataset")]
        self.triggers = Table("Triggers", ["frequency", "hour", "minute", "days", "active"], self._trigger,
                              [t for t in triggers if t.get("type") == "temporal"], changed, "Add trigger")
        self.on_datasets = Table("When datasets change", ["datasets", "delay (s)", "active"], self._dataset_trigger,
                                 [t for t in triggers if t.get("type") == "dataset"], changed,
                                 "Add dataset trigger")
        self.box.children = [self.active, self.triggers.box, self.on_datasets.box]

    def _dataset_trigger(self, row: Any) -> list[W.Widget]:
        t: dict[str, Any] = row if isinstance(row, dict) else {"type": "dataset", "datasets": []}
        return [_text(", ".join(t.get("datasets") or []), "orders, customers", "14em"),
                W.BoundedIntText(value=int(t.get("delay", 900)), min=0, max=10**6, layout=W.Layout(width="7em")),
                W.Checkbox(value=bool(t.get("active", True)), indent=False, layout=W.Layout(width="3em"))]

    def _trigger(self, row: Any) -> list[W.Widget]:
        t = row if isinstance(row, dict) else {"type": "temporal", "frequency": "Daily"}
        freq = t.get("frequency", "Daily")
        frequency = W.Dropdown(options=FREQUENCIES if freq in FREQUENCIES else [*FREQUENCIES, freq], value=freq,
                               layout=W.Layout(width="8em"))
        return [frequency,
                W.BoundedIntText(value=int(t.get("hour", 0)), min=0, max=23, layout=W.Layout(width="5em")),
                W.BoundedIntText(value=int(t.get("minute", 0)), min=0, max=59, layout=W.Layout(width="5em")),
                _text(", ".join(t.get("days") or []), "Monday, Friday", "12em"),
                W.Checkbox(value=bool(t.get("active", True)), indent=False, layout=W.Layout(width="3em"))]

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "active" in self.original or not self.active.value:
            out["active"] = self.active.value
        triggers: list[tuple[Any, dict[str, Any]]] = []
        for row in self.triggers.rows:
            frequency, hour, minute, days, active, _ = row
            # Keys without a field (type, timezone, repeat) are kept from the trigger the row shows.
            origin = self.triggers.origins.get(id(row))
            before = dict(origin) if isinstance(origin, dict) else {"type": "temporal"}
            t = dict(before)
            t.update({"frequency": frequency.value, "hour": hour.value, "minute": minute.value})
            names = [d.strip() for d in days.value.split(",") if d.strip()]
            for key, value, default in (("days", names, []), ("active", active.value, True)):
                if value != default or key in t:
                    t[key] = value
            for key in ("hour", "minute"):
                if t[key] == 0 and key not in before:
                    del t[key]
            triggers.append((origin, t))
        for row in self.on_datasets.rows:
            names, delay, active, _ = row
            origin = self.on_datasets.origins.get(id(row))
            t = dict(origin) if isinstance(origin, dict) else {"type": "dataset"}
            t["datasets"] = [n.strip() for n in names.value.split(",") if n.strip()]
            for key, value, usual in (("delay", delay.value, 900), ("active", active.value, True)):
                if value != usual or key in t:
                    t[key] = value
            triggers.append((origin, t))
        triggers += [(t, t) for t in self.others]
        # Triggers keep their place in the file (the list is compared in order); new ones go last.
        ordered = sorted(triggers, key=lambda o: self.position.get(id(o[0]), len(self.position)))
        self._keep(out, "triggers", [t for _, t in ordered])
        return out
