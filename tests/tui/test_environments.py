"""Choosing the environment: an unknown `-e` opens a picker of the real ones; an environment that receives
projects by promotion says so before any review, and shows the promotion plan read-only."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.modals import EnvironmentPicker
from dataiku_iac.tui.overview import OverviewScreen
from dataiku_iac.tui.plan_review import PlanReviewScreen
from dataiku_iac.tui.promotion_screen import PromotionScreen
from textual.widgets import OptionList

from .conftest import copy_multi_env, pilot_test, ready_to_promote, settle
from .test_flows import SIZE, banner, cells


@pytest.fixture
def multi_env(tmp_path: Path) -> Path:
    """examples/multi-env with dev applied: staging and prod (deploy: bundle) receive it by promotion."""
    root = copy_multi_env(tmp_path)
    ready_to_promote(root)
    return root


@pilot_test
async def test_an_unknown_environment_opens_a_picker_of_the_real_ones(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="staging")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, EnvironmentPicker)
        shown = str(picker.query_one("Static").render())
        assert "unknown environment 'staging' (declared: dev, prod)" in shown
        options = picker.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == ["dev", "prod"]
        await pilot.press("enter")  # the first: dev
        await settle(pilot)
        overview = app.screen
        assert isinstance(overview, OverviewScreen) and overview.only_env == "dev"
        assert [row[0] for row in cells(overview.query_one("#overview"))] == ["dev"]
        assert app.only_env == "dev"  # the command palette offers dev's screens now


@pilot_test
async def test_esc_in_the_picker_shows_every_environment(simple_ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSS_PROD_HOST", "https://dss.example.invalid")
    monkeypatch.setenv("DSS_PROD_API_KEY", "k")
    app = DssIacApp(simple_ws, env="nope")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, EnvironmentPicker)
        await pilot.press("j", "escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert [row[0] for row in cells(app.screen.query_one("#overview"))] == ["dev", "prod"]


@pilot_test
async def test_a_bundle_environment_says_it_receives_projects_by_promotion(multi_env: Path) -> None:
    app = DssIacApp(multi_env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        overview = app.screen
        rows = {row[0]: row for row in cells(overview.query_one("#overview")) if row[0]}
        assert rows["staging"][3] == "by promotion" and rows["dev"][3].startswith("#")
        await pilot.press("j", "enter")  # staging
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromotionScreen) and banner(screen) == ""
        note = str(screen.query_one("#promotion-note").render())
        assert "staging receives projects by promotion (deploy: bundle)" in note
        assert "dss-iac promote --from dev --to staging" in note
        plan = screen.text
        assert "dss-iac will promote to environment staging from dev" in plan
        assert "deployment orders-staging will be created" in plan
        await pilot.press("a")  # read-only: nothing to approve here
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("k", "enter")  # dev applies directly: its plan review
        await settle(pilot)
        assert isinstance(app.screen, PlanReviewScreen)
