"""Layout at 80 x 24 (and wide terminals): the keys that matter stay in the footer, overview columns shrink
before any hides, dialogs fit, and the drift browser's fields belong visibly to the selected resource."""

from __future__ import annotations

from pathlib import Path

from dataiku_iac.tui import view
from dataiku_iac.tui.app import DssIacApp
from dataiku_iac.tui.detail import DetailScreen
from dataiku_iac.tui.drift_screen import DriftScreen
from dataiku_iac.tui.modals import HelpScreen
from dataiku_iac.tui.plan_review import PlanReviewScreen
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text
from textual.geometry import Region
from textual.widgets._footer import FooterKey

from .conftest import LONG, pilot_test, settle
from .test_flows import cells

SMALL = (80, 24)


def footer_keys(screen: object) -> dict[str, Region]:
    """The keys the footer shows in full: those left of the command palette's key, docked on the right."""
    keys = list(screen.query(FooterKey))  # type: ignore[attr-defined]
    palette = next(k.region for k in keys if k.has_class("-command-palette"))
    return {k.key: k.region for k in keys if not k.has_class("-command-palette") and k.region.right <= palette.x}


def title(widget: object) -> str:
    return Text.from_markup(str(widget.border_title)).plain  # type: ignore[attr-defined]


@pilot_test
async def test_the_approve_key_is_in_the_footer_at_80_columns(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert {"enter", "d", "h"} <= set(footer_keys(app.screen))
        assert "escape" not in footer_keys(app.screen)  # nowhere to go back to from the overview
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PlanReviewScreen)
        assert {"a", "space", "slash"} <= set(footer_keys(app.screen))


@pilot_test
async def test_overview_columns_shrink_before_they_hide(drifted_ws: Path) -> None:
    for size in (SMALL, (200, 60)):
        app = DssIacApp(drifted_ws, env="dev")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#overview")
            right = sum(c.get_render_width(table) for c in table.columns.values())
            assert right <= table.size.width, f"columns overflow at {size}"
            row = cells(table)[0]
            assert row[4] == "2 changed"
            if size == SMALL:  # the lock's holder and age, cut short rather than pushed off screen
                assert row[5].startswith("alice@") and row[5].endswith("…")
            else:
                assert row[5] == "alice@laptop · apply · <1m"
                assert row[3].startswith("#") and row[3].endswith("alice@laptop · <1m ago")


@pilot_test
async def test_the_help_fits_a_small_terminal(simple_ws: Path) -> None:
    app = DssIacApp(simple_ws, env="dev")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        dialog = app.screen.query_one(".help")
        assert Region(0, 0, *SMALL).contains_region(dialog.region)
        assert dialog.max_scroll_y > 0  # what does not fit scrolls


@pilot_test
async def test_drift_fields_sit_under_their_resource_and_long_values_are_whole_in_the_detail(
        drifted_ws: Path) -> None:
    app = DssIacApp(drifted_ws, env="dev")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DriftScreen)
        items, pane, fields = (screen.query_one(s) for s in ("#drift-list", "#drift-detail", "#drift-fields"))
        # Master-detail: the fields are in a pane below the list, titled with the selected resource.
        assert pane.region.y >= items.region.bottom and fields.region.y > pane.region.y
        assert title(pane) == "variables.CHURN · changed in DSS"
        await pilot.press("j")
        assert title(pane) == "dataset.CHURN.customers_raw · changed in DSS"
        [[path, _, found, _]] = cells(fields)
        assert path == "description" and found.startswith('"Edited in the') and found.endswith("…")
        right = sum(c.get_render_width(fields) for c in fields.columns.values())
        assert right <= fields.size.width
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        shown = " ".join(" ".join(str(s.render()) for s in detail.query("Static")).split())
        assert f'found in DSS: "{LONG}"'.replace("  ", " ") in shown or LONG.strip() in shown


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), min_size=1, max_size=8), st.integers(0, 300))
def test_fit_widths(columns: list[tuple[int, int]], available: int) -> None:
    natural, minimum = [n for n, _ in columns], [m for _, m in columns]
    widths = view.fit_widths(natural, minimum, available)
    floor = [min(n, m) for n, m in columns]
    assert all(f <= w <= n for f, w, n in zip(floor, widths, natural, strict=True))
    if sum(natural) <= available:
        assert widths == natural
    elif sum(floor) <= available:
        assert sum(widths) == available  # every cell used, none too many
        # The widest are cut first: the columns cut (and not held at their minimum) end up as wide as each other,
        # within a cell, and no column is left wider than them.
        free = [w for w, n, f in zip(widths, natural, floor, strict=True) if f < w < n]
        if free:
            assert max(free) - min(free) <= 1
            assert all(w <= max(free) + 1 for w, n, f in zip(widths, natural, floor, strict=True) if f < w == n)
    else:
        assert widths == floor


def test_age_is_one_short_word() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert [view.age(t, now) for t in ("2026-03-01T11:59:30+00:00", "2026-03-01T11:55:00+00:00",
                                       "2026-03-01T09:00:00+00:00", "2026-02-27T12:00:00+00:00",
                                       "2026-01-01T00:00:00+00:00", "not a time")] == \
        ["<1m", "5m", "3h", "2d", "2026-01-01", "not a time"]
