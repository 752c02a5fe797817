"""The Tests screen: the last test run of an environment, failures first; `t` runs the tests again."""

from __future__ import annotations

from pathlib import Path

from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.tests_screen import TestsScreen

from dataiku_iac import Workspace

from .conftest import pilot_test, settle

SIZE = (140, 40)


def _cells(screen: TestsScreen) -> list[list[str]]:
    table = screen.query_one("#tests")
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]  # type: ignore[attr-defined]


def _summary(screen: TestsScreen) -> str:
    return str(screen.query_one("#tests-summary").render())


@pilot_test
async def test_the_screen_shows_the_last_run_and_runs_the_tests_again(applied_ws: Path) -> None:
    project = applied_ws / "projects" / "churn.yaml"
    smoke = "  smoke:\n    test: true\n    steps: [{type: build, items: [customers_export]}]\n"
    project.write_text(project.read_text() + smoke)
    with Workspace.load(applied_ws) as ws:
        assert ws.apply(ws.plan("dev")).ok
        ws.connection("dev").client.get_project("CHURN").get_dataset("customers_export").delete()
    app = DssIacApp(applied_ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_tests("dev")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TestsScreen)
        assert _summary(screen).startswith("No test run of dev yet: press t to run the tests")
        await pilot.press("t")
        await settle(pilot)
        rows = _cells(screen)
        assert rows[0][:3] == ["failed", "scenario", "CHURN.smoke"]
        assert "step 'Build customers_export': FAILED" in rows[0][4]
        assert [r[0] for r in rows[1:]] == ["passed"] * (len(rows) - 1)
        assert _summary(screen).startswith("Tests FAILED: 5 passed, 1 failed")
    with Workspace.load(applied_ws) as ws:  # what the screen ran is the environment's last run
        last = ws.last_test_run("dev")
        assert last is not None and [r.name for r in last.failures] == ["CHURN.smoke"]
