"""The workbench's Tests tab: the last test run of the environment picked above, as a table (failures first), and a
button to run the tests again (`Workspace.test`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from html import escape
from typing import Any

import ipywidgets as W

from dataiku_iac import DssIacError, TestRun, Workspace, redact

COLOURS = {"passed": "#22863a", "warning": "#b08800", "failed": "#cb2431", "error": "#cb2431", "skipped": "#0366d6"}
ORDER = {"failed": 0, "error": 1, "warning": 2, "skipped": 3, "passed": 4}


def run_html(run: TestRun | None, env: str) -> str:
    """A test run as HTML: its verdict and summary, then one row per test, failures first."""
    if run is None:
        return (f"<i>No test run of {escape(env)} yet: click Run tests (or run <code>dss-iac test -e {escape(env)}"
                "</code>).</i>")
    verdict = ('<b style="color: #22863a">Tests passed</b>' if run.ok else
               '<b style="color: #cb2431">Tests FAILED</b>')
    rows = []
    for r in sorted(run.results, key=lambda r: ORDER.get(r.status, 5)):
        message = "<br>".join(escape(redact(x)) for x in (r.message, *r.details) if x)
        rows.append(f'<tr><td style="color: {COLOURS.get(r.status, "inherit")}">{escape(r.status)}</td>'
                    f"<td>{escape(r.suite)}</td><td><code>{escape(r.name)}</code></td>"
                    f"<td><code>{escape(r.location or r.target)}</code></td><td>{message}</td></tr>")
    head = "<tr><th>status</th><th>suite</th><th>test</th><th>where</th><th>message</th></tr>"
    return (f"<div>{verdict}: {escape(run.summary())} · {escape(run.started_at)} · {run.seconds:.1f}s</div>"
            f"<table>{head}{''.join(rows)}</table>")


class TestsTab:
    """Shows `ws.last_test_run(env)` for the environment `env` picks; Run tests runs them and shows the new run.
    `dss` wraps the run (the workbench's: it releases the DSS connections afterwards)."""

    __test__ = False  # not a pytest class

    def __init__(self, ws: Workspace, env: W.Dropdown,
                 dss: Callable[[], AbstractContextManager[None]] = nullcontext) -> None:
        self.ws, self.env, self.dss = ws, env, dss
        self.run_button = W.Button(description="Run tests", icon="check-square", button_style="primary",
                                   tooltip="static rules, data tests and test scenarios of this environment")
        self.run_button.on_click(lambda _: self.run_tests())
        self.results = W.HTML()
        self.widget = W.VBox([self.run_button, self.results])
        env.observe(lambda _: self.show(), names="value")
        self.show()

    def show(self) -> None:
        try:
            self.results.value = run_html(self.ws.last_test_run(self.env.value), self.env.value)
        except DssIacError as e:
            self.results.value = f'<span style="color: #cb2431">{escape(redact(str(e)))}</span>'

    def run_tests(self) -> TestRun | None:
        self.results.value = f"<i>Running the tests of {escape(self.env.value)}...</i>"
        try:
            with self.dss():
                run = self.ws.test(self.env.value)
        except DssIacError as e:
            self.results.value = f'<span style="color: #cb2431">{escape(redact(str(e)))}</span>'
            return None
        self.results.value = run_html(run, self.env.value)
        return run


def tabs(edit: Any, tests: TestsTab) -> W.Tab:
    tab = W.Tab(children=[edit, tests.widget])
    tab.set_title(0, "Edit")
    tab.set_title(1, "Tests")
    return tab
