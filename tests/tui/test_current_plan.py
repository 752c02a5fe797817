"""Approving applies exactly the plan on screen, or nothing: the apply re-checks the files, the state and DSS
(as `dss-iac apply PLANFILE`), and `r` plans again from the files and the state as they are now."""

from __future__ import annotations

from pathlib import Path

from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.apply_screen import ApplyScreen
from dataiku_iac.tui.modals import ApproveModal
from dataiku_iac.tui.overview import OverviewScreen
from textual.pilot import Pilot

from dataiku_iac import Workspace

from .conftest import pilot_test, settle
from .test_flows import SIZE, approve, banner, cells, dss_client, open_plan

PROJECT = Path("projects") / "churn.yaml"


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector).render())  # type: ignore[attr-defined]


def break_yaml(root: Path) -> str:
    """A project file that no longer validates: an unknown key in a dataset. Returns the error's location."""
    path = root / PROJECT
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  customers_raw:"))
    lines.insert(at + 1, "    colour: red")
    path.write_text("\n".join(lines) + "\n")
    return f"projects/churn.yaml:{at + 2}:5"


def fix_yaml(root: Path) -> None:
    (root / PROJECT).write_text((root / PROJECT).read_text().replace("    colour: red\n", ""))


def edit_description(root: Path, new: str, old: str = "Nightly") -> None:
    """customers_raw's description: `Nightly extract of ...` -> `{new} extract of ...`."""
    path = root / PROJECT
    text = path.read_text()
    assert f"{old} extract of" in text
    path.write_text(text.replace(f"{old} extract of", f"{new} extract of"))


async def approve_refused(pilot: Pilot[object]) -> ApplyScreen:
    """Approve the plan on screen, and check the apply refused it: nothing ran, and `r` plans again."""
    await approve(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ApplyScreen) and screen.result is None and not pilot.app.applying  # type: ignore
    assert "Nothing was applied" in text_of(screen, "#summary") and "r: plan again" in banner(screen)
    return screen


def project_keys(root: Path) -> list[str]:
    ws, client = dss_client(root)
    with ws:
        return list(client.list_project_keys())


@pilot_test
async def test_approving_a_plan_whose_files_became_invalid_applies_nothing(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        review = await open_plan(pilot)
        assert review.plan is not None and review.plan.summary().add == 11
        where = break_yaml(simple_ws)  # edited in another window while the plan was on screen
        screen = await approve_refused(pilot)
        assert where in banner(screen)
        # r: back to the review, planned again from the files: there is no plan, and nothing to approve.
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is review
        assert review.plan is None and review.full is None
        assert where in banner(review)
        assert "no plan" in text_of(review, "#title")
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is review  # no approval dialog without a plan
    fix_yaml(simple_ws)
    assert "CHURN" not in project_keys(simple_ws)


@pilot_test
async def test_an_object_changed_in_dss_after_the_review_is_not_overwritten(applied_ws: Path) -> None:
    edit_description(applied_ws, "Daily")  # the reviewed plan: one update of customers_raw
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        review = await open_plan(pilot)
        assert [str(a.address) for a in review.plan.changes] == ["dataset.CHURN.customers_raw"]
        # Meanwhile, someone changes the dataset in the DSS UI: the plan on screen did not show that.
        client = app.service.ws.connection("dev").client  # the app holds the embedded DSS: share its client
        settings = client.get_project("CHURN").get_dataset("customers_raw").get_settings()
        settings.get_raw()["description"] = "Edited in the DSS UI"
        settings.get_raw()["tags"] = ["hand-made"]
        settings.save()
        screen = await approve_refused(pilot)
        assert "objects it read in DSS have changed" in banner(screen)
        # r plans again: the review says what moved since the approval, and marks it in the tree.
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is review and banner(review) == ""
        notice = text_of(review, "#notice")
        assert "differ from the plan you approved: dataset.CHURN.customers_raw" in notice
        assert review.plan.changes[0].drift  # the hand edit is now on screen, as drift
        assert "changed since you approved" in str(review.query_one("#plan-tree").get_node_at_line(2).label)
    ws, client = dss_client(applied_ws)
    with ws:
        raw = client.get_project("CHURN").get_dataset("customers_raw").get_settings().get_raw()
        assert raw["description"] == "Edited in the DSS UI" and raw["tags"] == ["hand-made"]


@pilot_test
async def test_a_valid_edit_after_the_review_is_named_and_the_new_plan_applies(applied_ws: Path) -> None:
    edit_description(applied_ws, "Daily")
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        review = await open_plan(pilot)
        edit_description(applied_ws, "Hourly", "Daily")  # not what the plan on screen writes
        screen = await approve_refused(pilot)
        assert "the configuration changed" in banner(screen)
        assert "Files changed since the plan was made: projects/churn.yaml" in text_of(screen, "#summary")
        await pilot.press("r")
        await settle(pilot)
        assert "Hourly extract" in str(review.plan.changes[0].changes)
        await approve(pilot)
        assert isinstance(app.screen, ApplyScreen) and app.screen.result is not None and app.screen.result.ok
    ws, client = dss_client(applied_ws)
    with ws:
        assert client.get_project("CHURN").get_dataset("customers_raw").get_settings().get_raw()["description"] \
            == "Hourly extract of the CRM customer table"


@pilot_test
async def test_a_plan_made_before_someone_else_applied_is_refused_then_planned_again(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        review = await open_plan(pilot)
        # Someone applies in between: the reviewed plan no longer matches the state.
        other = Workspace.load(simple_ws)
        other.embedded = app.service.ws.embedded  # type: ignore[method-assign]  # the app holds the embedded DSS
        assert other.apply(other.plan("dev", targets=["variables.CHURN"])).ok
        serial = other.state("dev").serial
        screen = await approve_refused(pilot)
        assert f"the state is now serial {serial}" in banner(screen)
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is review and review.plan is not None and review.plan.state_serial == serial
        # What the other apply did is no longer to do here, and the review says so.
        assert "project.CHURN" in text_of(review, "#notice")
        await approve(pilot)
        assert isinstance(app.screen, ApplyScreen) and app.screen.result is not None and app.screen.result.ok
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)


@pilot_test
async def test_r_in_the_review_reads_the_files_again_and_an_invalid_file_blocks_approval(applied_ws: Path) -> None:
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        review = await open_plan(pilot)
        assert review.plan is not None and not review.plan.has_changes
        edit_description(applied_ws, "Daily")
        await pilot.press("r")
        await settle(pilot)
        assert [str(a.address) for a in review.plan.changes] == ["dataset.CHURN.customers_raw"]
        where = break_yaml(applied_ws)
        await pilot.press("r")
        await settle(pilot)
        assert review.plan is None and where in banner(review)
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, ApproveModal)
        fix_yaml(applied_ws)
        await pilot.press("r")
        await settle(pilot)
        assert banner(review) == "" and [str(a.address) for a in review.plan.changes] == ["dataset.CHURN.customers_raw"]


@pilot_test
async def test_after_an_apply_the_overview_shows_the_new_state_even_if_the_files_broke(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await open_plan(pilot)
        await approve(pilot)
        assert isinstance(app.screen, ApplyScreen) and app.screen.result is not None and app.screen.result.ok
        where = break_yaml(simple_ws)  # the user goes on editing while the result is on screen
        await pilot.press("escape")
        await settle(pilot)
        overview = app.screen
        assert isinstance(overview, OverviewScreen)
        row = cells(overview.query_one("#overview"))[0]
        assert row[2] == "11 / 11" and row[3].startswith("#") and "never applied" not in row[3]
        assert where in banner(overview)
