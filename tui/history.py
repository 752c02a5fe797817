"""History: the state-changing commands (serial, who, when, what, counts, at which commit) and the workspace's Git
log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from .widgets import EnvScreen, NavTable

if TYPE_CHECKING:
    from .service import Commit


class HistoryScreen(EnvScreen):
    def compose(self) -> ComposeResult:
        yield self.title_bar("History")
        with Vertical(id="history-body"):
            yield Static(Text("State history: one entry per command (newest first)", "bold"))
            yield NavTable(id="serials")
            yield Static(Text("Git log of the workspace", "bold"))
            yield NavTable(id="commits")
        yield from self.bottom()

    def on_mount(self) -> None:
        serials = self.query_one("#serials", NavTable)
        serials.add_keyed_columns(("serial", "Serial"), ("when", "When"), ("who", "Who"), ("command", "Command"),
                                  ("changes", "Changes"), ("commit", "Commit"), ("resources", "Resources"))
        self.query_one("#commits", NavTable).add_keyed_columns(("sha", "Commit"), ("when", "When"),
                                                               ("author", "Author"), ("summary", "Message"))
        serials.focus()
        self.reload()

    def reload(self) -> None:
        service = self.dss_app.service
        self.run_io(lambda: service.history(self.env), self._serials, group="serials", doing="reading state history")
        self.run_io(service.git_log, self._commits, group="commits", doing="reading the Git log")

    def _serials(self, entries: list[Any]) -> None:
        table = self.query_one("#serials", NavTable)
        table.clear()
        for e in entries:
            changes = f"+{e.added} ~{e.changed} -{e.destroyed}" if e.command else "—"
            table.add_row(str(e.serial), e.when, e.who, e.command or "—", changes, e.commit[:12] or "—",
                          str(e.resources), key=str(e.serial))
        if not entries:
            table.add_row("—", Text("nothing applied yet", "dim"), "", "", "", "", "")

    def _commits(self, commits: list[Commit]) -> None:
        table = self.query_one("#commits", NavTable)
        table.clear()
        for c in commits:
            table.add_row(c.sha, c.when, c.author, c.summary, key=c.sha)
        if not commits:
            table.add_row("—", Text("not a Git repository, or no commit yet", "dim"), "", "")
