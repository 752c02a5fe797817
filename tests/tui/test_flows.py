"""Pilot tests of every flow of the terminal app, on the embedded DSS simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.apply_screen import ApplyScreen
from dataiku_iac.tui.detail import DetailScreen
from dataiku_iac.tui.drift_screen import DriftScreen
from dataiku_iac.tui.history import HistoryScreen
from dataiku_iac.tui.modals import ApproveModal, HelpScreen
from dataiku_iac.tui.overview import OverviewScreen
from dataiku_iac.tui.plan_review import PlanReviewScreen
from dataiku_iac.tui.view import Entry
from dataiku_iac.tui.widgets import ErrorBanner
from textual.command import CommandPalette
from textual.widgets import Static

from dataiku_iac import Workspace

from ..gitrepos import make_repo
from .conftest import pilot_test, settle, type_text

SIZE = (140, 40)


def cells(table: object) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]  # type: ignore[attr-defined]


def banner(screen: object) -> str:
    b = screen.query_one(ErrorBanner)  # type: ignore[attr-defined]
    return str(b.render()) if b.has_class("shown") else ""


def dss_client(root: Path):
    ws = Workspace.load(root)
    return ws, ws.connection("dev").client


async def approve(pilot, env: str = "dev") -> None:
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ApproveModal)
    await type_text(pilot, env)
    await pilot.press("enter")
    await settle(pilot)


async def open_plan(pilot) -> PlanReviewScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PlanReviewScreen)
    return screen


async def filter_by(pilot, text: str) -> None:
    """`/`, the text, enter: the tree keeps what matches."""
    await pilot.press("slash")
    await type_text(pilot, text)
    await pilot.press("enter")


def leaf(screen: PlanReviewScreen) -> Entry:
    data = screen.query_one("#plan-tree").cursor_node.data  # type: ignore[attr-defined]
    assert isinstance(data, Entry)
    return data


@pilot_test
async def test_overview_lists_environments_and_shows_errors_with_retry(simple_ws: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSS_PROD_HOST", raising=False)
    app = DssIacApp(simple_ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        rows = cells(screen.query_one("#overview"))
        assert rows[0][:4] == ["dev", "CHURN", "0 / 11", "never applied"]
        assert rows[0][5] == "free"
        assert rows[1][0] == "prod" and "unavailable" in rows[1][3]
        assert "DSS_PROD_HOST is not set" in banner(screen) and "r: retry" in banner(screen)
        # Fixed outside the app, then retried with r: the error is gone and prod is read.
        monkeypatch.setenv("DSS_PROD_HOST", "https://dss.example.invalid")
        monkeypatch.setenv("DSS_PROD_API_KEY", "k")
        await pilot.press("r")
        await settle(pilot)
        assert banner(screen) == ""
        assert cells(screen.query_one("#overview"))[1][:4] == ["prod", "CHURN", "0 / 11", "never applied"]


@pilot_test
async def test_approve_then_apply_with_live_progress(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        assert screen.plan is not None and screen.plan.summary().add == 11
        await pilot.press("a")
        await type_text(pilot, "prod")  # the wrong name is refused
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ApproveModal)
        assert "type exactly 'dev'" in str(app.screen.query_one("#hint").render())
        await pilot.press(*["backspace"] * 4)
        await type_text(pilot, "dev")
        await pilot.press("enter")
        await settle(pilot)
        apply_screen = app.screen
        assert isinstance(apply_screen, ApplyScreen)
        assert apply_screen.result is not None and apply_screen.result.ok
        rows = cells(apply_screen.query_one("#steps"))
        assert len(rows) == 11 and all(r[0] == "✓ ok" for r in rows)
        assert "Apply complete" in str(apply_screen.query_one("#summary").render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        assert cells(app.screen.query_one("#overview"))[0][2] == "11 / 11"
    ws, client = dss_client(simple_ws)
    with ws:
        project = client.get_project("CHURN")
        assert {d["name"] for d in project.list_datasets()} == {"customers_raw", "events_raw", "customers_clean",
                                                                 "customers_export"}
        assert project.get_variables()["standard"]["threshold"] == "0.4"
        assert ws.plan("dev").has_changes is False


@pilot_test
async def test_filter_and_next_previous_match(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        await filter_by(pilot, "customers_")
        await pilot.pause()
        assert [e.name for e in screen.visible_entries()] == ["customers_clean", "customers_export", "customers_raw"]
        assert "filter: customers_" in str(screen.query_one("#title").render())
        await pilot.press("n")
        assert leaf(screen).name == "customers_clean"
        await pilot.press("n", "n")
        assert leaf(screen).name == "customers_raw"
        await pilot.press("n")  # wraps around
        assert leaf(screen).name == "customers_clean"
        await pilot.press("N")
        assert leaf(screen).name == "customers_raw"
        # The diff pane shows the selected resource's fields.
        assert 'connection = "filesystem_managed"' in " ".join(str(screen.query_one("#diff").render()).split())
        await pilot.press("slash", *["backspace"] * 10, "escape")
        assert len(screen.visible_entries()) == 11
        assert isinstance(app.screen, PlanReviewScreen)  # esc left the field, not the screen


@pilot_test
async def test_exclude_and_include_recompute_the_plan_with_targets(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        await pilot.press("slash", *"nightly", "enter", "n")
        assert leaf(screen).address == "scenario.CHURN.nightly"
        await pilot.press("space")
        await settle(pilot)
        assert screen.plan is not None and screen.plan.targets
        assert "scenario.CHURN.nightly" not in {str(a.address) for a in screen.plan.changes}
        assert screen.plan.summary().add == 10
        assert not leaf(screen).included
        # A dataset a kept recipe writes comes back: targets pull in what they need, and the tree says so.
        await pilot.press("slash", *["backspace"] * 7)
        await type_text(pilot, "customers_export")
        await pilot.press("enter", "n", "space")
        await settle(pilot)
        pulled = leaf(screen)
        assert pulled.address == "dataset.CHURN.customers_export" and pulled.included and pulled.pulled_in
        await pilot.press("space")  # include it again
        await settle(pilot)
        assert "scenario.CHURN.nightly" not in {str(a.address) for a in screen.plan.changes}
        # Approve: the apply performs exactly the reviewed (targeted) plan.
        await approve(pilot)
        assert isinstance(app.screen, ApplyScreen) and app.screen.result is not None
        assert len(app.screen.result.results) == 10 and app.screen.result.ok
    ws, client = dss_client(simple_ws)
    with ws:
        assert client.get_project("CHURN").list_scenarios() == []
        remaining = ws.plan("dev").changes
        assert [str(a.address) for a in remaining] == ["scenario.CHURN.nightly"]


@pilot_test
async def test_include_again_restores_the_whole_plan(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        await pilot.press("g", "space")  # the project group: everything of CHURN
        await settle(pilot)
        assert screen.plan is None
        assert "nothing included" in str(screen.query_one("#title").render())
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PlanReviewScreen)  # nothing to approve
        await pilot.press("space")
        await settle(pilot)
        assert screen.plan is not None and not screen.plan.targets and screen.plan.summary().add == 11


@pilot_test
async def test_lock_held_shows_error_then_retry_applies(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await open_plan(pilot)
        leases = app.service.ws.state_store("dev").leases
        lease = leases.acquire("someone else's apply")
        await approve(pilot)
        screen = app.screen
        assert isinstance(screen, ApplyScreen)
        assert "is locked" in banner(screen)
        leases.release(lease.id)
        await pilot.press("r")
        await settle(pilot)
        assert screen.result is not None and screen.result.ok and banner(screen) == ""


@pilot_test
async def test_unreachable_dss_and_wrong_key_are_errors_not_crashes(tmp_path: Path) -> None:
    from dataiku_iac.sim import Simulator

    from ..engine.conftest import write_workspace

    project = "project: {key: TINY, name: Tiny}\n"
    with Simulator(govern=False, automation_nodes=()) as sim:
        root = write_workspace(tmp_path, {"tiny": project}, f"""\
            version: 1
            projects: [projects/*.yaml]
            environments:
              down: {{host: "http://127.0.0.1:9", api_key: k}}
              badkey: {{host: "{sim.url()}", api_key: not-the-key}}
            """)
        app = DssIacApp(root)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for env, words in (("down", "127.0.0.1:9"), ("badkey", "API key")):
                app.open_plan(env)
                await settle(pilot)
                screen = app.screen
                assert isinstance(screen, PlanReviewScreen)
                assert words in banner(screen), banner(screen)
                await pilot.press("r")  # retried: the same error again, still no crash
                await settle(pilot)
                assert words in banner(screen)
                await pilot.press("escape")
                await settle(pilot)
            assert isinstance(app.screen, OverviewScreen)


def _edit_in_dss(root: Path) -> None:
    """Changes made "by hand in the DSS UI": a variable and a dataset's description."""
    ws, client = dss_client(root)
    with ws:
        project = client.get_project("CHURN")
        variables = project.get_variables()
        variables["standard"]["threshold"] = "0.99"
        project.set_variables(variables)
        settings = project.get_dataset("customers_raw").get_settings()
        settings.get_raw()["description"] = "Edited in the DSS UI"
        settings.save()


@pilot_test
async def test_drift_browser_and_revert(applied_ws: Path) -> None:
    _edit_in_dss(applied_ws)
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert cells(app.screen.query_one("#overview"))[0][4] == "2 changed"
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DriftScreen)
        assert cells(screen.query_one("#drift-list")) == [["~ changed", "variables.CHURN"],
                                                          ["~ changed", "dataset.CHURN.customers_raw"]]
        assert cells(screen.query_one("#drift-fields")) == [["standard.threshold", '"0.4"', '"0.99"', '"0.4"']]
        await pilot.press("v")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, PlanReviewScreen) and review.plan is not None
        assert [str(a.address) for a in review.plan.changes] == ["variables.CHURN"]
        await approve(pilot)
        assert isinstance(app.screen, ApplyScreen) and app.screen.result is not None and app.screen.result.ok
    ws, client = dss_client(applied_ws)
    with ws:
        assert client.get_project("CHURN").get_variables()["standard"]["threshold"] == "0.4"
        assert [i.address for i in ws.drift("dev").items] == ["dataset.CHURN.customers_raw"]


@pilot_test
async def test_drift_browser_shows_what_was_made_by_hand_with_its_import_command(applied_ws: Path) -> None:
    ws, client = dss_client(applied_ws)
    with ws:
        client.get_project("CHURN").create_fslike_dataset("by_hand", "Filesystem", "filesystem_managed", "/hand")
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert cells(app.screen.query_one("#overview"))[0][4] == "1 not managed"
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DriftScreen)
        assert cells(screen.query_one("#drift-list")) == [["? not managed", "dataset.CHURN.by_hand"]]
        note = str(screen.query_one("#drift-note", Static).render())
        assert "neither in the configuration nor in state" in note
        assert "to manage it: dss-iac import -e dev --project CHURN" in note
        await pilot.press("o")  # adopt and revert say how to import it instead of acting
        await settle(pilot)
        assert app.screen is screen
    with Workspace.load(applied_ws) as ws:
        assert [u.address for u in ws.drift("dev").unmanaged] == ["dataset.CHURN.by_hand"]


@pilot_test
async def test_drift_adopt_writes_yaml_keeping_comments(applied_ws: Path) -> None:
    _edit_in_dss(applied_ws)
    project_file = applied_ws / "projects" / "churn.yaml"
    workspace_file = applied_ws / "dss-iac.yaml"
    before = {p: p.read_text().splitlines() for p in (project_file, workspace_file)}
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        for _ in range(2):  # the variable (dev overrides it: in dss-iac.yaml), then the dataset
            await pilot.press("g", "o")
            await settle(pilot)
            assert "Adopt" in str(app.screen.query_one("Static").render())
            await pilot.press("y")
            await settle(pilot)
            assert isinstance(app.screen, DriftScreen) and banner(screen) == ""
        assert cells(screen.query_one("#drift-list")) == []
    after = {p: p.read_text().splitlines() for p in (project_file, workspace_file)}
    changed = {p: [(a, b) for a, b in zip(before[p], after[p], strict=True) if a != b] for p in before}
    assert changed[project_file] == [("    description: Nightly extract of the CRM customer table",
                                      "    description: Edited in the DSS UI")]
    assert changed[workspace_file] == [('      threshold: "0.4"', '      threshold: "0.99"')]
    with Workspace.load(applied_ws) as ws:
        assert not ws.plan("dev").has_changes
        assert not ws.drift("dev").has_drift


@pilot_test
async def test_adopt_refused_when_the_file_changed_since_loaded(applied_ws: Path) -> None:
    _edit_in_dss(applied_ws)
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        await pilot.press("g", "o")
        await settle(pilot)
        workspace_file = applied_ws / "dss-iac.yaml"  # where dev's threshold lives
        edited = workspace_file.read_text() + "# edited meanwhile\n"
        workspace_file.write_text(edited)
        await pilot.press("y")
        await settle(pilot)
        assert "dss-iac.yaml: changed on disk since the workspace was loaded" in banner(screen)
        assert workspace_file.read_text() == edited
        await pilot.press("r")  # reads the files again, so the adopt now builds on the edit made meanwhile
        await settle(pilot)
        await pilot.press("g", "o")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert banner(screen) == ""
    assert workspace_file.read_text() == edited.replace('threshold: "0.4"', 'threshold: "0.99"')


@pilot_test
async def test_resource_detail_and_history(applied_ws: Path) -> None:
    make_repo(applied_ws, files={})  # commits the workspace as it is: "initial"
    (applied_ws / "projects" / "churn.yaml").write_text(
        (applied_ws / "projects" / "churn.yaml").read_text().replace("Nightly extract", "Daily extract"))
    app = DssIacApp(applied_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        assert [str(a.address) for a in screen.plan.changes] == ["dataset.CHURN.customers_raw"]
        await pilot.press("n", "enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        text = " ".join(str(s.render()) for s in detail.query("Static"))
        assert "declared in projects/churn.yaml:37:3" in text
        assert "description: Daily extract of the CRM customer table" in detail.desired_text
        assert '"description": "Nightly extract of the CRM customer table"' in detail.actual_text
        await pilot.press("escape", "escape")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        history = app.screen
        assert isinstance(history, HistoryScreen)
        serials = cells(history.query_one("#serials"))
        assert serials and serials[0][0] == str(max(int(r[0]) for r in serials))
        assert serials[0][3] == "apply" and serials[0][4].startswith("+")
        commits = cells(history.query_one("#commits"))
        assert [c[3] for c in commits] == ["initial"] and commits[0][2] == "Test User"


@pilot_test
async def test_help_and_command_palette(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await type_text(pilot, "History: dev")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("escape", "q")
        await pilot.pause()
    assert app.return_code == 0


def tree_text(screen: PlanReviewScreen) -> list[str]:
    tree = screen.query_one("#plan-tree")
    return [str(tree.get_node_at_line(i).label) for i in range(tree.last_line + 1)]  # type: ignore[attr-defined]


@pilot_test
async def test_esc_clears_the_filter_before_it_leaves_the_review(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        await filter_by(pilot, "customers_")
        assert len(screen.visible_entries()) == 3
        await pilot.press("escape")  # the list is filtered: esc clears the filter, the review stays
        assert app.screen is screen and screen.query_text == "" and len(screen.visible_entries()) == 11
        assert "filter:" not in str(screen.query_one("#title").render())
        await pilot.press("slash", "x", "escape")  # esc while typing: the filter is dropped with the field
        assert app.screen is screen and screen.query_text == "" and len(screen.visible_entries()) == 11
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)


@pilot_test
async def test_exclusion_counts_agree_and_needed_by_names_the_dependents(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_plan(pilot)
        for name in ("customers_export", "nightly"):
            await filter_by(pilot, name)
            await pilot.press("n", "space")
            await settle(pilot)
            await pilot.press("escape")
        lines = tree_text(screen)
        export = next(line for line in lines if "customers_export" in line)
        assert export.endswith("needed by recipe export_customers")
        assert next(line for line in lines if "nightly" in line).endswith("excluded")
        # The title counts what the tree marks excluded: the scenario; the dataset is back in the plan.
        assert "1 excluded" in str(screen.query_one("#title").render())
        assert "(1 excluded)" in lines[0]
        await filter_by(pilot, "customers_export")
        await pilot.press("n")
        assert "recipe.CHURN.export_customers needs it" in str(screen.query_one("#diff").render())
