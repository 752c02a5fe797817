"""The app shares the workspace's embedded DSS with every other process: the CLI, a second app, a user's dataikuapi
script, all at once; the palette's "Embedded DSS info" shows how to reach it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.embedded_info import EmbeddedInfoScreen
from dataiku_iac.tui.overview import OverviewScreen
from dataiku_iac.tui.plan_review import PlanReviewScreen
from textual.command import CommandPalette

from .conftest import ROOT, pilot_test, settle, type_text
from .test_flows import SIZE, open_plan

# A second terminal app, in a process of its own: reports its overview, then again on each "refresh" line.
SECOND_APP = textwrap.dedent("""
    import asyncio, json, sys
    from dataiku_iac.tui.app import DssIacApp
    from tests.tui.conftest import settle
    from tests.tui.test_flows import SIZE, cells

    async def main(root):
        app = DssIacApp(root, env="dev")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            while True:
                rows = cells(app.screen.query_one("#overview"))
                print(json.dumps({"pid": app.service.ws.embedded().pid, "overview": rows}), flush=True)
                line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
                if line.strip() != "refresh":
                    break
                await pilot.press("r")
                await settle(pilot)
            await pilot.press("q")

    asyncio.run(main(sys.argv[1]))
""")
# A user's own script: dataikuapi and what `dss-iac sim info --json` says, nothing of dss-iac.
EDIT_BY_HAND = textwrap.dedent("""
    import json, sys, dataikuapi
    info = json.loads(sys.stdin.read())
    settings = dataikuapi.DSSClient(info["url"], info["api_key"]).get_project("CHURN") \\
        .get_dataset("customers_raw").get_settings()
    settings.get_raw()["description"] = "edited with dataikuapi"
    settings.save()
""")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=120, cwd=ROOT)


def dss_iac(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = run(sys.executable, "-m", "dataiku_iac", "-C", str(root), *args)
    assert done.returncode in (0, 2), (args, done.stderr)
    return done


def report(app: subprocess.Popen[str]) -> dict:
    assert app.stdout is not None
    line = app.stdout.readline()
    assert line, app.stderr.read() if app.stderr else ""
    return json.loads(line)


@pilot_test
async def test_app_cli_dataikuapi_and_a_second_app_at_once_then_drift_is_exactly_the_edit(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        review = await open_plan(pilot)  # the app plans on the embedded DSS: it started it
        assert review.plan is not None and review.plan.summary().add == 11
        second = subprocess.Popen([sys.executable, "-c", SECOND_APP, str(simple_ws)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            seen = await asyncio.to_thread(report, second)
            assert seen["overview"][0][:4] == ["dev", "CHURN", "0 / 11", "never applied"]
            # Both apps open: the CLI applies, a dataikuapi script edits, the CLI looks for drift.
            applied = await asyncio.to_thread(dss_iac, simple_ws, "apply", "-e", "dev", "--yes")
            assert "Apply complete! Resources: 11 added" in applied.stdout
            info = json.loads((await asyncio.to_thread(dss_iac, simple_ws, "sim", "info", "--json")).stdout)
            edit = await asyncio.to_thread(run, sys.executable, "-c", EDIT_BY_HAND, stdin=json.dumps(info))
            assert edit.returncode == 0, edit.stderr
            drift = json.loads((await asyncio.to_thread(dss_iac, simple_ws, "drift", "-e", "dev", "--json")).stdout)
            assert [(i["address"], [(c["path"], c["after"]) for c in i["changes"]]) for i in drift["items"]] == [
                ("dataset.CHURN.customers_raw", [("description", "edited with dataikuapi")])]
            # The second app sees the same: the CLI's apply and the script's edit.
            assert second.stdin is not None
            second.stdin.write("refresh\n")
            second.stdin.flush()
            seen_again = await asyncio.to_thread(report, second)
            assert seen_again["overview"][0][2] == "11 / 11" and seen_again["overview"][0][4] == "1 changed"
            # ...and so does the first: its plan of the same environment is now the one edit, to revert.
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, PlanReviewScreen) and app.screen.plan is not None
            assert [str(a.address) for a in app.screen.plan.changes] == ["dataset.CHURN.customers_raw"]
            # One server for everyone.
            assert app.service.ws.embedded().pid == info["pid"] == seen["pid"] == seen_again["pid"]
            second.stdin.write("quit\n")
            second.stdin.flush()
            assert await asyncio.to_thread(second.wait, 60) == 0
        finally:
            if second.poll() is None:
                second.kill()
                second.wait()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)


@pilot_test
async def test_the_palette_shows_the_embedded_dss_url_and_key(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await type_text(pilot, "Embedded DSS info")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EmbeddedInfoScreen)
        text = str(screen.query_one("#embedded-info").render())
        sim = app.service.ws.embedded()
        assert f"design       DESIGN      {sim.url()}" in text
        assert f"api key      {sim.api_key}" in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
