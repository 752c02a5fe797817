"""Export the screenshots in docs/tui.md from the app itself (SVG, as Textual saves them).

    .venv/bin/python docs/screenshots.py

Runs the app headless on a scratch copy of examples/simple-project with its embedded DSS.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from dataiku_iac.tui.app import DssIacApp

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
SIZE = (120, 32)


async def settle(app: DssIacApp, pilot: object) -> None:
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()  # type: ignore[attr-defined]
        if not any(getattr(s, "busy", False) for s in app.screen_stack):
            return


async def shoot(workspace: Path) -> None:
    app = DssIacApp(workspace, env="dev")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.save_screenshot("tui-overview.svg", str(OUT))
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("n", "n", "n", "n")  # the first dataset: its field diff fills the right pane
        await settle(app, pilot)
        app.save_screenshot("tui-plan-review.svg", str(OUT))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "simple-project"
        shutil.copytree(ROOT / "examples" / "simple-project", workspace,
                        ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
        asyncio.run(shoot(workspace))
    for name in ("tui-overview.svg", "tui-plan-review.svg"):
        print(OUT / name)


if __name__ == "__main__":
    main()
