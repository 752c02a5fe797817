"""Resource detail: desired (YAML, as this environment resolves it) vs actual (DSS, as JSON)."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from dataiku_iac import Action

from . import view
from .widgets import EnvScreen


class DetailScreen(EnvScreen):
    def __init__(self, env: str, action: Action) -> None:
        super().__init__(env)
        self.action = action
        self.desired_text = view.to_yaml(view.desired_fields(action))
        self.actual_text = view.to_json(view.actual_fields(action))

    def compose(self) -> ComposeResult:
        a = self.action
        address = str(a.address)
        head = Text.assemble(("Resource", "bold"), f" · {self.env} · ", (address, "bold"), "  ",
                             (f"{a.symbol.strip() or '='} {a.action.value}", view.SYMBOL_STYLE[a.symbol]),
                             f" ({a.reason})" if a.reason else "")
        where = self.dss_app.service.source_of(self.env, address)
        if where:
            head.append(f"\ndeclared in {where}", "dim")
        yield Static(head, id="title", classes="title")
        with Horizontal(id="detail-body"):
            with VerticalScroll(classes="detail-pane"):
                yield Static(Text("Desired (configuration, YAML)", "bold"))
                yield Static(Syntax(self.desired_text, "yaml", theme="ansi_dark", background_color="default",
                                    word_wrap=True))
                flow = self.dss_app.service.flow_lines(self.env, address) if a.kind == "project" else []
                if flow:
                    yield Static(Text("\n".join(flow)), id="project-flow")
            with VerticalScroll(classes="detail-pane"):
                if a.drift:
                    yield Static(self._drift_text())
                yield Static(Text("Actual (DSS, JSON: the managed fields)", "bold"))
                yield Static(Syntax(self.actual_text, "json", theme="ansi_dark", background_color="default",
                                    word_wrap=True))
        yield from self.bottom()

    def _drift_text(self) -> Text:
        """The fields changed in DSS outside dss-iac, whole (lists and tables elsewhere cut them)."""
        text = Text.assemble(("Changed in DSS outside dss-iac", "bold yellow"))
        for c in self.action.drift:
            text.append(f"\n{c.path}\n", "bold")
            for label, value, style in (("last applied", c.before, ""), ("found in DSS", c.after, "yellow")):
                text.append(f"  {label}: ", "dim")
                text.append(view.to_json(view.shown(c, value) if value is not None else "(none)") + "\n", style)
        return text

    def reload(self) -> None:
        self.notify("the detail shows the plan it was opened from: refresh that screen (r) for fresh values")
