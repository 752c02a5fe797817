"""Tests: the last `dss-iac test` run of an environment (problems first), and `t` to run the tests again."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from dataiku_iac import TestResult, TestRun

from .widgets import EnvScreen, NavTable

STYLES = {"passed": "green", "warning": "yellow", "failed": "bold red", "error": "bold red", "skipped": "cyan"}
ORDER = {"failed": 0, "error": 1, "warning": 2, "skipped": 3, "passed": 4}


def rows(run: TestRun) -> list[TestResult]:
    """The results as the screen lists them: failures and errors first, then warnings, skipped, passed."""
    return sorted(run.results, key=lambda r: ORDER.get(r.status, 5))


class TestsScreen(EnvScreen):
    __test__ = False  # not a pytest class
    BINDINGS: ClassVar[list[BindingType]] = [Binding("t", "run_tests", "Run tests", id="run-tests")]
    FOOTER = ("run_tests", "refresh", "back")

    def compose(self) -> ComposeResult:
        yield self.title_bar("Tests")
        yield Static(id="tests-summary")
        yield NavTable(id="tests")
        yield from self.bottom()

    def on_mount(self) -> None:
        table = self.query_one("#tests", NavTable)
        table.add_keyed_columns(("status", "Status"), ("suite", "Suite"), ("test", "Test"), ("where", "Where"),
                                ("message", "Message"))
        table.focus()
        self.reload()

    def reload(self) -> None:
        ws = self.dss_app.service.ws
        self.run_io(lambda: ws.last_test_run(self.env), self._show, group="tests", doing="reading the last results")

    def action_refresh(self) -> None:
        self.reload()

    def action_run_tests(self) -> None:
        ws = self.dss_app.service.ws
        self.run_io(lambda: ws.test(self.env), self._show, group="tests", doing=f"running the tests of {self.env}")

    def _show(self, run: TestRun | None) -> None:
        summary = self.query_one("#tests-summary", Static)
        table = self.query_one("#tests", NavTable)
        table.clear()
        if run is None:
            summary.update(Text(f"No test run of {self.env} yet: press t to run the tests "
                                f"(or dss-iac test -e {self.env}).", "dim"))
            return
        verdict = ("Tests passed", "bold green") if run.ok else ("Tests FAILED", "bold red")
        summary.update(Text.assemble(verdict, f": {run.summary()} · {run.started_at} · {run.seconds:.1f}s"))
        for i, r in enumerate(rows(run)):
            table.add_row(Text(r.status, STYLES.get(r.status, "")), r.suite, r.name, r.location or r.target,
                          _message(r), key=str(i))


def _message(r: TestResult) -> str:
    return "; ".join(x for x in (r.message, *r.details[:2]) if x)


__all__ = ["TestsScreen", "rows"]
