"""The workbench's Tests tab: the last run of the picked environment, and Run tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from dataiku_iac.notebook import Workbench

ROOT = Path(__file__).resolve().parents[2]


def test_the_tests_tab_shows_the_last_run_and_runs_the_tests(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(ROOT / "examples" / "simple-project", root, ignore=shutil.ignore_patterns(".dss-iac"))
    project = root / "projects" / "churn.yaml"
    smoke = "  smoke:\n    test: true\n    steps: [{type: build, items: [customers_export]}]\n"
    project.write_text(project.read_text() + smoke)
    wb = Workbench(root, env="dev")
    try:
        assert [wb.tabs.get_title(i) for i in range(2)] == ["Edit", "Tests"]
        assert "No test run of dev yet" in wb.tests.results.value
        run = wb.tests.run_tests()  # not applied yet: the scenario is not in DSS, an error that says so
        assert run is not None and not run.ok
        assert wb.ws._connections == {}  # released, as after every action of the workbench that reached DSS
        html = wb.tests.results.value
        assert "Tests FAILED" in html and "<code>CHURN.smoke</code>" in html
        assert "scenario smoke is not in project CHURN: apply the configuration first" in html
        assert html.index("CHURN.smoke") < html.index("flow.orphan")  # failures first
    finally:
        wb.close()
    reopened = Workbench(root, env="dev")
    try:
        assert "Tests FAILED" in reopened.tests.results.value  # the last run, kept for the next session
    finally:
        reopened.close()
