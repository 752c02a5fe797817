"""A `deploy: bundle` environment: `apply` writes only its instance resources there, never its projects, so instead
of a plan review this screen says how projects reach it (promotion) and shows the promotion plan, read-only:
`dss-iac promote` performs it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from . import view
from .widgets import EnvScreen


class PromotionScreen(EnvScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f", "source", "From another environment", id="source")]
    FOOTER = ("source", "refresh", "back")

    def __init__(self, env: str) -> None:
        super().__init__(env)
        self.sources: list[str] = []
        self.source: str | None = None
        self.text = ""

    def compose(self) -> ComposeResult:
        yield self.title_bar("Promotion")
        yield Static("", id="promotion-note")
        with VerticalScroll(id="promotion-pane"):
            yield Static("", id="promotion")
        yield from self.bottom()

    def on_mount(self) -> None:
        self.sources = self.dss_app.service.promotion_sources()
        self.source = self.sources[0] if self.sources else None
        self._note()
        self.refresh_bindings()
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "source" and len(self.sources) < 2:
            return False  # one environment to promote from: nothing to choose
        return super().check_action(action, parameters)

    def _note(self) -> None:
        text = Text.assemble((self.env, "bold"), " receives projects by promotion (", ("deploy: bundle", "bold"),
                             "): apply writes only its instance resources (connections, code envs, groups, "
                             "users, variables), never its projects.\n")
        if self.source is None:
            text.append("No environment of the workspace applies directly (deploy: direct) to promote from.", "red")
        else:
            text.append("Read-only below: what ")
            text.append(f"dss-iac promote --from {self.source} --to {self.env}", "bold cyan")
            text.append(" would do; run it to deploy.")
        self.query_one("#promotion-note", Static).update(text)

    def reload(self) -> None:
        source = self.source
        if source is None:
            return
        self.query_one("#promotion", Static).update("")
        self.run_io(lambda: self.dss_app.service.promotion(source, self.env), self._show, group="promotion",
                    doing=f"reading {source} and {self.env} for the promotion plan")

    def _show(self, rendered: str) -> None:
        self.text = rendered
        text = Text()
        for line in rendered.splitlines():
            text.append(line + "\n", view.line_style(line))
        self.query_one("#promotion", Static).update(text)

    def action_source(self) -> None:
        if len(self.sources) < 2 or self.source is None:
            return
        self.source = self.sources[(self.sources.index(self.source) + 1) % len(self.sources)]
        self._note()
        self.reload()
