"""What keeps the terminal app quick on a big workspace, as a user sees it: the overview shows the states before
the project files have loaded (marked as still loading), then completes; the plan review's filter shows exactly
what a plain filter keeps, however fast the keys come, and never the result of a filter typed over since."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest
from dataiku_iac.tui import plan_review, view
from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.overview import OverviewScreen
from dataiku_iac.tui.plan_review import PlanReviewScreen
from dataiku_iac.tui.service import Service
from dataiku_iac.tui.view import Entry, Filter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.pilot import Pilot

from dataiku_iac import Plan, Workspace

from .conftest import copy_example, pilot_test, settle
from .test_current_plan import break_yaml
from .test_flows import SIZE, banner, cells


class SlowFiles(Service):
    """The project files take as long to load as the test says: `reached` is set when loading starts, and it
    finishes once `release` is set."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reached, self.release = threading.Event(), threading.Event()

    def reload(self, *, force: bool = False) -> Workspace:
        self.reached.set()
        self.release.wait(60)
        return super().reload(force=force)


async def until_loading(pilot: Pilot[object], service: SlowFiles) -> OverviewScreen:
    """Once the files start loading, the states read before have been drawn (the worker hands them over first)."""
    assert await asyncio.to_thread(service.reached.wait, 60)
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, OverviewScreen)
    return screen


@pilot_test
async def test_the_overview_shows_the_states_before_the_project_files_load(applied_ws: Path) -> None:
    service = SlowFiles(applied_ws)
    app = DssIacApp(applied_ws, env="dev", service=service)
    async with app.run_test(size=SIZE) as pilot:
        screen = await until_loading(pilot, service)
        # What the state says is there at once; what the files say is marked as still to come.
        rows = cells(screen.query_one("#overview"))
        assert [row[:3] for row in rows] == [["dev", "CHURN", "11 / …"]]
        assert rows[0][3].startswith("#11 · ")
        assert rows[0][4] == "…"
        assert "reading the project files…" in str(screen.query_one("#title").render())
        assert not screen.complete
        # enter opens the plan review at once, which plans once the files have loaded.
        await pilot.press("enter")
        review = app.screen
        assert isinstance(review, PlanReviewScreen) and review.full is None
        service.release.set()
        await settle(pilot)
        assert review.full is not None and not review.full.has_changes
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        rows = cells(screen.query_one("#overview"))
        assert [row[:3] for row in rows] == [["dev", "CHURN", "11 / 11"]]
        assert rows[0][4] == "none"  # the drift check ran once the files had loaded
        assert screen.complete and "reading" not in str(screen.query_one("#title").render())


@pilot_test
async def test_files_that_do_not_load_leave_the_states_on_screen_with_the_error(applied_ws: Path) -> None:
    where = break_yaml(applied_ws)
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        rows = cells(screen.query_one("#overview"))
        # Nothing is marked as loading any more: what the files would say is unknown.
        assert [row[:3] for row in rows] == [["dev", "CHURN", "11 / ?"]]
        assert "reading" not in str(screen.query_one("#title").render())
        assert "the files do not load (the states alone are shown)" in banner(screen) and where in banner(screen)


@pilot_test
async def test_a_project_only_the_state_holds_is_listed_with_nothing_declared(applied_ws: Path) -> None:
    (applied_ws / "projects" / "churn.yaml").rename(applied_ws / "churn.yaml.off")
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = cells(app.screen.query_one("#overview"))
        # The next plan destroys what the state manages there: the overview still shows it.
        assert ["CHURN", "11 / 0"] in [row[1:3] for row in rows]


class GivenPlan(Service):
    """Hands out a plan made beforehand (the filter is what is tested, not planning)."""

    def __init__(self, path: Path, plan: Plan) -> None:
        super().__init__(path)
        self.given = plan

    def plan(self, env: str, targets: Iterable[str] = ()) -> Plan:
        return self.given


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Plan]:
    root = copy_example(tmp_path_factory.mktemp("scale"))
    with Workspace.load(root) as ws:
        return root, ws.plan("dev")


def on_screen(screen: PlanReviewScreen) -> tuple[list[str], dict[str, str]]:
    """The addresses the tree shows, in its order, and each group's label."""
    tree = screen.query_one("#plan-tree")
    nodes = [tree.get_node_at_line(i) for i in range(tree.last_line + 1)]  # type: ignore[attr-defined]
    leaves = [str(n.data.address) for n in nodes if isinstance(n.data, Entry)]
    groups = {n.data.label: n.label.plain for n in nodes if isinstance(n.data, plan_review.Group)}
    return leaves, groups


def plainly(screen: PlanReviewScreen, flt: Filter) -> tuple[list[str], dict[str, str]]:
    """What the tree should show for `flt`: the entries it keeps, grouped, each group labelled with its counts."""
    kept = [e for e in screen.current_entries() if flt.keeps(e)]
    groups: dict[str, str] = {}
    for project, kinds in view.grouped(kept).items():
        groups[project] = plan_review._group_label(project, [e for es in kinds.values() for e in es], "").plain
        for kind, es in kinds.items():
            groups[f"{project} {kind}"] = plan_review._group_label(kind, es, "").plain
    return [str(e.address) for kinds in view.grouped(kept).values() for es in kinds.values() for e in es], groups


KEYS = [*"customer_.xwa", "backspace"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.sampled_from(KEYS), max_size=8), worker=st.booleans())
def test_the_filter_shows_what_a_plain_filter_keeps_however_fast_the_keys_come(
        planned: tuple[Path, Plan], keys: list[str], worker: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    root, plan = planned
    # In a plan this small the filter runs at once; `worker` makes it run as in a plan of 25,000 changes.
    monkeypatch.setattr(plan_review, "FILTER_IN_WORKER", -1 if worker else 10**6)

    async def run() -> None:
        app = DssIacApp(root, env="dev", service=GivenPlan(root, plan))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, PlanReviewScreen)
            await pilot.press("slash")
            typed = ""
            for key in keys:
                await pilot.press(key)
                typed = typed[:-1] if key == "backspace" else typed + key
                # Whatever the filter on screen is (the last one typed, or one before while the worker runs),
                # the tree and the title show it, and only it.
                assert on_screen(screen) == plainly(screen, Filter(screen.query_text))
                assert ("filter: " in str(screen.query_one("#title").render())) == bool(screen.query_text)
            await settle(pilot)
            assert screen.query_text == typed
            assert on_screen(screen) == plainly(screen, Filter(typed))

    asyncio.run(run())


@pilot_test
async def test_a_filter_typed_over_is_never_shown(planned: tuple[Path, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    root, plan = planned
    monkeypatch.setattr(plan_review, "FILTER_IN_WORKER", -1)
    app = DssIacApp(root, env="dev", service=GivenPlan(root, plan))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PlanReviewScreen)
        shown: list[Filter] = []
        show = screen._show
        monkeypatch.setattr(screen, "_show", lambda flt, *args: (shown.append(flt), show(flt, *args)))
        screen._filter(Filter("events"))
        screen._filter(Filter("customers"))  # typed over before the first one's worker is done
        await settle(pilot)
        assert shown == [Filter("customers")]
        assert on_screen(screen) == plainly(screen, Filter("customers"))
        # esc clears at once, whatever worker is still waiting.
        screen._filter(Filter("raw"))
        await pilot.press("escape")
        await settle(pilot)
        assert screen.query_text == "" and on_screen(screen) == plainly(screen, Filter())
