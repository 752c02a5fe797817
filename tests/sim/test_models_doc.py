"""docs/simulator.md states how many recipe, step, trigger and reporter types the simulator models: keep the
figures true to the code."""

from __future__ import annotations

from pathlib import Path

from dataiku_iac.sim.handlers import recipe_defaults, scenario_items

# Whitespace folded, so that a figure may sit across a line break of the page.
DOC = " ".join((Path(__file__).resolve().parents[2] / "docs" / "simulator.md").read_text(encoding="utf-8").split())


def test_recipe_type_counts() -> None:
    code = recipe_defaults.CODE_TYPES
    visual_payload = set(recipe_defaults._PAYLOADS)
    params_only = set(recipe_defaults._PARAMS) - visual_payload
    assert f"{len(visual_payload)} visual types get DSS's JSON payload" in DOC
    assert f"and {len(params_only)} keep their settings in params only" in DOC
    assert f"{len(code)} code types" in DOC
    assert all(t in DOC for t in code)
    assert set(recipe_defaults.modelled_types()) == visual_payload | params_only | code


def test_scenario_item_counts() -> None:
    assert f"{len(scenario_items.TRIGGER_PARAMS)} trigger types" in DOC
    assert f"{len(scenario_items.STEP_PARAMS)} step types" in DOC
    assert f"{len(scenario_items.REPORTER_TYPES)} reporter channels" in DOC
    assert all(t in DOC for t in (*scenario_items.TRIGGER_PARAMS, *scenario_items.STEP_PARAMS,
                                  *scenario_items.REPORTER_TYPES, *scenario_items.TEMPORAL_FREQUENCIES))
