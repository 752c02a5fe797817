"""The help screen and docs/tui.md list the same keys, and every key the screens bind is listed."""

from __future__ import annotations

import re
from pathlib import Path

from dataiku_iac.tui import app, drift_screen, keys, modals, overview, plan_review, plan_tree, promotion_screen, widgets
from textual.binding import Binding

DOC = (Path(__file__).resolve().parents[2] / "docs" / "tui.md").read_text()
# Key names as Textual spells them, and as the help and the docs show them.
SHOWN = {"question_mark": "?", "slash": "/", "escape": "esc", "space": "space", "enter": "enter"}


def _documented() -> set[str]:
    table = [line for line in DOC.splitlines() if line.startswith("| ") and line.count("`") >= 2]
    return {cell.strip("`") for line in table for cell in re.findall(r"`[^`]+`", line.split("|")[2])}


def test_every_help_key_is_in_the_docs() -> None:
    assert set(keys.all_keys()) <= _documented()


def test_every_bound_key_is_in_the_help() -> None:
    listed = {part.strip() for k in keys.all_keys() for part in k.split(" / ")}
    classes = [app.DssIacApp, overview.OverviewScreen, plan_review.PlanReviewScreen, drift_screen.DriftScreen,
               widgets.IOScreen, widgets.NavTree, plan_tree.PlanTree, widgets.NavTable,
               promotion_screen.PromotionScreen, modals.EnvironmentPicker]
    bound = {SHOWN.get(b.key, b.key) for c in classes for b in c.BINDINGS if isinstance(b, Binding)}
    assert bound <= listed, bound - listed
    assert {b.key for b in modals.ConfirmModal.BINDINGS if isinstance(b, Binding)} >= {"y", "n"}
