"""The detail of a project in the terminal app shows its flow as text, marked by the plan on screen."""

from __future__ import annotations

from pathlib import Path

from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.detail import DetailScreen
from dataiku_iac.tui.plan_review import PlanReviewScreen
from textual.widgets import Static

from .conftest import pilot_test, settle


@pilot_test
async def test_a_project_s_detail_shows_its_flow(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, PlanReviewScreen)
        project = next(a for a in review.plan.actions if str(a.address) == "project.CHURN")
        app.open_detail("dev", project)
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        flow = str(app.screen.query_one("#project-flow", Static).render())
        assert flow.splitlines() == [
            "Flow of CHURN in dev: 4 dataset(s), 1 folder(s), 2 recipe(s), 0 zone(s)",
            "  (+ create  ~ update  - delete  -/+ replace  = unchanged)",
            "  + customers_raw, + events_raw → + clean_customers (python) → + customers_clean, + reports",
            "  + customers_clean → + export_customers (sync) → + customers_export",
        ]
        await pilot.press("escape")
        dataset = next(a for a in review.plan.actions if a.kind == "dataset")
        app.open_detail("dev", dataset)
        await pilot.pause()
        assert not app.screen.query("#project-flow")  # only a project's detail has a flow
