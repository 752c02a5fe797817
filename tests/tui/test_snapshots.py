"""SVG snapshots of every screen at 80 x 24 and 160 x 45 (pytest-textual-snapshot).

After an intended change of a screen, update its snapshots with
`pytest tests/tui/test_snapshots.py -k NAME --snapshot-update`, and look at them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dataiku_iac.tui.app import DssIacApp
from textual.pilot import Pilot

from ..gitrepos import make_repo
from .conftest import copy_multi_env, ready_to_promote, settle, type_text
from .test_current_plan import break_yaml

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 45), id="160x45")]
Compare = Callable[..., bool]


async def loaded(pilot: Pilot[object]) -> None:
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_overview(drifted_ws: Path, size: tuple[int, int], snap_compare: Compare) -> None:
    """Drift counted, the lock held by alice; at 80 columns the widest cells are cut, no column hidden."""
    assert snap_compare(DssIacApp(drifted_ws, env="dev"), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES)
def test_plan_review(simple_ws: Path, size: tuple[int, int], snap_compare: Compare) -> None:
    async def reviewed(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("n", "n", "n", "n")  # the first dataset: its field diff fills the right pane

    assert snap_compare(DssIacApp(simple_ws, env="dev"), terminal_size=size, run_before=reviewed)


@pytest.mark.parametrize("size", SIZES)
def test_drift_browser(drifted_ws: Path, size: tuple[int, int], snap_compare: Compare) -> None:
    """The dataset with a long description selected: its fields in the pane below, titled with its address."""
    async def browsed(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("j")

    assert snap_compare(DssIacApp(drifted_ws, env="dev"), terminal_size=size, run_before=browsed)


@pytest.mark.parametrize("size", SIZES)
def test_help(simple_ws: Path, size: tuple[int, int], snap_compare: Compare) -> None:
    async def helped(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")

    assert snap_compare(DssIacApp(simple_ws, env="dev"), terminal_size=size, run_before=helped)


@pytest.mark.parametrize("size", SIZES)
def test_refused_apply(simple_ws: Path, size: tuple[int, int], snap_compare: Compare) -> None:
    """Approved after the files broke: nothing applied, the located error, r to plan again."""
    async def refused(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        break_yaml(simple_ws)
        await pilot.press("a")
        await type_text(pilot, "dev")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(DssIacApp(simple_ws, env="dev"), terminal_size=size, run_before=refused)


@pytest.mark.parametrize("size", SIZES)
def test_environment_picker(simple_ws: Path, size: tuple[int, int], snap_compare: Compare,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DSS_PROD_HOST", raising=False)
    assert snap_compare(DssIacApp(simple_ws, env="staging"), terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES)
def test_promotion(tmp_path: Path, size: tuple[int, int], snap_compare: Compare,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A deploy: bundle environment: how projects reach it, and the promotion plan, read-only."""
    root = copy_multi_env(tmp_path)
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):  # the same commit, so the same bundle id, every run
        monkeypatch.setenv(var, "2026-01-01T00:00:00+00:00")
    make_repo(root, files={})
    ready_to_promote(root)

    async def promotion(pilot: Pilot[object]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(DssIacApp(root, env="staging"), terminal_size=size, run_before=promotion)
