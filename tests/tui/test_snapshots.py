"""SVG snapshots of the overview and the plan review at a fixed size (pytest-textual-snapshot).

Update them after an intended change of the screens with `pytest tests/tui --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dataiku_iac.tui.app import DssIacApp
from textual.pilot import Pilot

from .conftest import settle

SIZE = (120, 32)


def test_overview_snapshot(simple_ws: Path, snap_compare: Callable[..., bool]) -> None:
    async def loaded(pilot: Pilot[object]) -> None:
        await settle(pilot)

    assert snap_compare(DssIacApp(simple_ws, env="dev"), terminal_size=SIZE, run_before=loaded)


def test_plan_review_snapshot(simple_ws: Path, snap_compare: Callable[..., bool]) -> None:
    async def reviewed(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("n", "n", "n", "n")  # the first dataset: its field diff fills the right pane

    assert snap_compare(DssIacApp(simple_ws, env="dev"), terminal_size=SIZE, run_before=reviewed)
