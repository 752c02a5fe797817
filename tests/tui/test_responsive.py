"""While DSS does not answer, keys pressed during a refresh are handled and the refresh finishes afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.modals import HelpScreen
from dataiku_iac.tui.overview import OverviewScreen
from dataiku_iac.tui.plan_review import PlanReviewScreen

from dataiku_iac import Workspace
from dataiku_iac.sim import Simulator

from .conftest import copy_example, pilot_test, settle


@pytest.fixture
def slow_sim() -> Iterator[Simulator]:
    with Simulator(govern=False, automation_nodes=()) as sim:
        yield sim


def point_at(root: Path, sim: Simulator) -> None:
    """The example's dev environment, on an in-test simulator instead of the embedded one."""
    text = (root / "dss-iac.yaml").read_text()
    text = text.replace("    host: embedded\n", f"    host: {sim.url()}\n    api_key: {sim.api_key}\n", 1)
    (root / "dss-iac.yaml").write_text(text)


@pilot_test
async def test_keys_are_handled_while_a_slow_refresh_runs(tmp_path: Path, slow_sim: Simulator) -> None:
    root = copy_example(tmp_path)
    point_at(root, slow_sim)
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev")).ok
    app = DssIacApp(root, env="dev")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        overview = app.screen
        assert isinstance(overview, OverviewScreen)
        requests_before = slow_sim.stats()["requests"]

        with slow_sim.hold():  # DSS holds every request until the block ends: the refresh cannot finish early
            await pilot.press("r")  # the drift check reads DSS
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            assert overview.busy  # the help opened while the refresh was still running
            await pilot.press("escape")
            assert app.screen is overview and overview.busy

            # Opening the plan review while the overview still refreshes: its own plan runs alongside.
            await pilot.press("enter")
            review = app.screen
            assert isinstance(review, PlanReviewScreen) and review.busy and overview.busy
            await pilot.press("d", "slash", "escape")  # toggles and the filter field answer at once
            assert review.drift_only and review.busy and overview.busy
        await settle(pilot)
        assert not overview.busy and not review.busy
        assert review.plan is not None and not review.plan.has_changes
        assert slow_sim.stats()["requests"] > requests_before
