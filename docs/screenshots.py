"""Export the screenshots in docs/tui.md from the app itself (SVG, as Textual saves them).

    .venv/bin/python docs/screenshots.py

Runs the app headless on scratch copies of examples/simple-project with their embedded DSS. Runs and locks
are made as alice@laptop, so that the pictures never carry the name of whoever ran the script.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from pathlib import Path

from dataiku_iac.tui.app import DssIacApp

from dataiku_iac import Workspace

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
SIZE = (120, 32)
PROJECT = Path("projects") / "churn.yaml"


async def settle(app: DssIacApp, pilot: object) -> None:
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()  # type: ignore[attr-defined]
        if not any(getattr(s, "busy", False) for s in app.screen_stack):
            return


def workspace(tmp: Path, name: str) -> Path:
    root = tmp / name / "simple-project"
    shutil.copytree(ROOT / "examples" / "simple-project", root, ignore=shutil.ignore_patterns(".dss-iac",
                                                                                             "__pycache__"))
    return root


def drifted(root: Path) -> None:
    """Applied, then changed by hand in DSS: a variable and a dataset's description."""
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev")).ok
        project = ws.connection("dev").client.get_project("CHURN")
        variables = project.get_variables()
        variables["standard"]["threshold"] = "0.99"
        project.set_variables(variables)
        settings = project.get_dataset("customers_raw").get_settings()
        settings.get_raw()["description"] = "Customer table, edited by hand in the DSS UI during the incident of May"
        settings.save()


async def overview_and_drift(root: Path) -> None:
    drifted(root)
    app = DssIacApp(root, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.save_screenshot("tui-overview.svg", str(OUT))
        await pilot.press("d")
        await settle(app, pilot)
        await pilot.press("j")  # the dataset: its fields in the pane below
        app.save_screenshot("tui-drift.svg", str(OUT))


async def reviewing(app: DssIacApp, pilot: object) -> None:
    """From the overview to the plan review of its first environment."""
    await settle(app, pilot)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(app, pilot)


async def plan_review(root: Path) -> None:
    app = DssIacApp(root, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await reviewing(app, pilot)
        await pilot.press("n", "n", "n", "n")  # the first dataset: its field diff fills the right pane
        await settle(app, pilot)
        app.save_screenshot("tui-plan-review.svg", str(OUT))


async def refused(root: Path) -> None:
    """Approved after the project file was edited in another window: nothing is applied."""
    app = DssIacApp(root, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await reviewing(app, pilot)
        path = root / PROJECT
        path.write_text(path.read_text().replace("Nightly extract", "Hourly extract"))
        await pilot.press("a", "d", "e", "v", "enter")
        await settle(app, pilot)
        app.save_screenshot("tui-refused.svg", str(OUT))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ["USER"] = os.environ["LOGNAME"] = "alice"
    socket.gethostname = lambda: "laptop"  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(overview_and_drift(workspace(Path(tmp), "drift")))
        asyncio.run(plan_review(workspace(Path(tmp), "plan")))
        asyncio.run(refused(workspace(Path(tmp), "refused")))
    for name in ("tui-overview.svg", "tui-drift.svg", "tui-plan-review.svg", "tui-refused.svg"):
        print(OUT / name)


if __name__ == "__main__":
    main()
