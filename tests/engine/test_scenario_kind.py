"""Scenarios: creation with triggers and build steps, runs, empty re-plans, updates, drift, adoption, deletion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac.resources.scenario_models import DatasetTrigger, TemporalTrigger
from tests.engine.conftest import apply_ok, changes, churn_flow, revert_drift, write_workspace

FLOW = churn_flow("customers_raw", "customers_clean", then="recipes:\n  clean_customers: {type: python, inputs: "
                                                          "[customers_raw], outputs: [customers_clean, models]}\n")

SCENARIOS = """\
scenarios:
  nightly:
    name: Nightly build
    triggers:
      - {type: temporal, frequency: Daily, hour: 2, minute: 30}
      - {type: temporal, frequency: Weekly, hour: 6, days: [Friday, Monday], timezone: Europe/Paris}
    steps:
      - {type: build, items: [customers_clean, models]}
      - {type: build, name: Rebuild raw, items: [customers_raw], mode: RECURSIVE_FORCED_BUILD}
    tags: [prod, nightly]
    description: Every night
"""

CHURN = FLOW + SCENARIOS
ADDRESS = "scenario.CHURN.nightly"


def _project(ws, env: str = "dev"):
    return ws.connection(env).client.get_project("CHURN")


def _settings(ws):
    return _project(ws).get_scenario(ws.state("dev").resources[ADDRESS].remote_id).get_settings()


def test_fresh_apply_creates_the_scenario_and_it_runs(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    action = next(a for a in ws.plan("dev").actions if str(a.address) == ADDRESS)
    assert action.symbol == "+"
    assert set(map(str, action.depends_on)) == {"project.CHURN", "dataset.CHURN.customers_clean",
                                      "dataset.CHURN.customers_raw", "managed_folder.CHURN.models"}
    apply_ok(ws)
    assert changes(ws) == []

    # The id follows the YAML key, whatever the display name.
    assert ws.state("dev").resources[ADDRESS].remote_id == "NIGHTLY"
    raw = _settings(ws).get_raw()
    assert (raw["name"], raw["active"], raw["tags"], raw["description"]) == (
        "Nightly build", True, ["nightly", "prod"], "Every night")
    daily, weekly = raw["triggers"]
    assert daily["type"] == "temporal" and daily["active"] is True
    assert {k: daily["params"][k] for k in ("frequency", "hour", "minute")} == {
        "frequency": "Daily", "hour": 2, "minute": 30}
    assert weekly["params"]["daysOfWeek"] == ["Monday", "Friday"]
    assert weekly["params"]["timezone"] == "Europe/Paris"
    first, second = raw["params"]["steps"]
    folder_id = ws.state("dev").resources["managed_folder.CHURN.models"].remote_id
    assert first["type"] == "build_flowitem" and first["name"] == "Build customers_clean, models"
    assert [(b["type"], b["itemId"]) for b in first["params"]["builds"]] == [
        ("DATASET", "customers_clean"), ("MANAGED_FOLDER", folder_id)]
    assert first["params"]["jobType"] == "RECURSIVE_BUILD"
    assert (second["name"], second["params"]["jobType"]) == ("Rebuild raw", "RECURSIVE_FORCED_BUILD")

    scenario = _project(ws).get_scenario("NIGHTLY")
    run = scenario.run_and_wait()  # raises unless the outcome is SUCCESS
    details = run.get_details()
    assert [s["result"]["outcome"] for s in details["stepRuns"]] == ["SUCCESS", "SUCCESS"]


@pytest.mark.parametrize(("old", "new", "paths"), [
    ("hour: 2, minute: 30", "hour: 3, minute: 30", ["triggers.0.hour"]),
    ("days: [Friday, Monday]", "days: [Monday, Friday, Sunday]", ["triggers.1.days"]),
    ("name: Nightly build", "name: Nightly rebuild", ["name"]),
    ("    description: Every night\n", "    description: Every night\n    active: false\n", ["active"]),
    ("mode: RECURSIVE_FORCED_BUILD", "mode: NON_RECURSIVE_FORCED_BUILD", ["steps.1.mode"]),
    ("items: [customers_clean, models]", "items: [models]", ["steps.0.items", "steps.0.name"]),
    ("tags: [prod, nightly]", "tags: [prod]", ["tags"]),
    ("description: Every night", "description: Each night", ["description"]),
])
def test_one_field_change_is_one_update_naming_it(make_workspace, old: str, new: str, paths: list[str]) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    ws = make_workspace({"churn": CHURN.replace(old, new)})
    assert changes(ws) == [("~", ADDRESS, paths)]
    apply_ok(ws)
    assert changes(ws) == []
    assert ws.state("dev").resources[ADDRESS].remote_id == "NIGHTLY"  # updated in place, even on a rename


def test_equivalent_day_lists_are_no_change(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    ws = make_workspace({"churn": CHURN.replace("days: [Friday, Monday]", "days: [Monday, Friday, Monday]")})
    assert changes(ws) == []


def test_out_of_band_edit_is_drift_and_is_restored(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    settings_ = _settings(ws)
    trigger_ids = [t["id"] for t in settings_.raw_triggers]
    settings_.add_hourly_trigger(minute_of_hour=15)
    settings_.active = False
    settings_.raw_steps[0]["params"]["jobType"] = "NON_RECURSIVE_FORCED_BUILD"
    settings_.save()

    revert_drift(ws, [(ADDRESS, ["active", "triggers.2", "steps.0.mode"])])
    raw = _settings(ws).get_raw()
    assert raw["active"] is True
    assert [t["id"] for t in raw["triggers"]] == trigger_ids  # the managed triggers kept their DSS ids
    assert raw["params"]["steps"][0]["params"]["jobType"] == "RECURSIVE_BUILD"
    assert not ws.drift("dev").has_drift


def test_unmodelled_fields_survive_an_update(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    settings_ = _settings(ws)
    raw = settings_.get_raw()
    raw["reporters"] = [{"name": "sentinel reporter", "active": True,
                         "messaging": {"type": "mail-scenario", "configuration": {"recipient": "ops@example.com"}}}]
    raw["customFields"] = {"sentinel": "keep me"}
    raw["triggers"][0]["params"]["startingFrom"] = "2024-01-01T00:00:00.000+0000"
    raw["params"]["steps"][0]["resetScenarioStatus"] = True  # (its run condition is managed: `run_condition`)
    raw["params"]["steps"][0]["params"]["builds"][0]["partitionsSpec"] = "2024-01-01"
    raw["params"]["steps"][0]["params"]["proceedOnFailure"] = True
    settings_.save()
    step_ids = [s["id"] for s in raw["params"]["steps"]]
    assert changes(ws) == []

    ws = make_workspace({"churn": CHURN.replace("hour: 2, minute: 30", "hour: 4, minute: 30")
                         .replace("Every night", "Each night")})
    assert changes(ws) == [("~", ADDRESS, ["triggers.0.hour", "description"])]
    apply_ok(ws)
    raw = _settings(ws).get_raw()
    assert raw["description"] == "Each night" and raw["triggers"][0]["params"]["hour"] == 4
    assert raw["reporters"][0]["name"] == "sentinel reporter"
    assert raw["customFields"] == {"sentinel": "keep me"}
    assert raw["triggers"][0]["params"]["startingFrom"] == "2024-01-01T00:00:00.000+0000"
    step = raw["params"]["steps"][0]
    assert [s["id"] for s in raw["params"]["steps"]] == step_ids
    assert step["resetScenarioStatus"] is True and step["params"]["proceedOnFailure"] is True
    assert step["params"]["builds"][0]["partitionsSpec"] == "2024-01-01"
    assert changes(ws) == []


def test_removing_a_scenario_deletes_it(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    ws = make_workspace({"churn": FLOW})
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address)) for a in plan.changes] == [("-", ADDRESS)]
    apply_ok(ws)
    assert _project(ws).list_scenarios() == []
    assert ADDRESS not in ws.state("dev").resources
    assert changes(ws) == []


def test_a_scenario_made_by_hand_is_adopted_not_duplicated(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW})
    apply_ok(ws)
    _project(ws).create_scenario("nightly", "step_based")  # e.g. a create whose reply was lost
    ws = make_workspace({"churn": CHURN})
    action = next(a for a in ws.plan("dev").actions if str(a.address) == ADDRESS)
    assert (action.symbol, action.reason) == ("~", "exists in DSS but not in state: adopted")
    apply_ok(ws)
    assert [s["id"] for s in _project(ws).list_scenarios()] == ["NIGHTLY"]
    assert changes(ws) == []


def test_a_renamed_scenario_missing_from_state_is_found_by_its_id(make_workspace) -> None:
    ws = make_workspace({"churn": CHURN})
    apply_ok(ws)
    store = ws.state_store("dev")
    state = store.load()
    del state.resources[ADDRESS]
    store.write(state)
    plan = ws.plan("dev")
    assert [str(a.address) for a in plan.actions if a.symbol == "+"] == []
    assert [s["id"] for s in _project(ws).list_scenarios()] == ["NIGHTLY"]


_TEMPORAL = st.builds(
    TemporalTrigger, type=st.just("temporal"),
    frequency=st.sampled_from(["Minutely", "Hourly", "Daily", "Weekly", "Monthly"]),
    hour=st.integers(0, 23), minute=st.integers(0, 59),
    days=st.lists(st.sampled_from(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]),
                  max_size=9),
    repeat=st.integers(1, 12), timezone=st.sampled_from(["SERVER", "UTC", "Europe/Paris"]), active=st.booleans())
_ON_DATASETS = st.builds(
    DatasetTrigger, type=st.just("dataset"),
    datasets=st.lists(st.sampled_from(["customers_raw", "customers_clean"]), min_size=1, max_size=3),
    delay=st.integers(0, 7200), active=st.booleans())
_TRIGGERS = _TEMPORAL | _ON_DATASETS
_STEPS = st.fixed_dictionaries(
    {"type": st.just("build"),
     "items": st.lists(st.sampled_from(["customers_raw", "customers_clean", "models"]), min_size=1, max_size=4)},
    optional={"name": st.text("abcdefgh XYZ-#1", min_size=1, max_size=12),
              "mode": st.sampled_from(["RECURSIVE_BUILD", "NON_RECURSIVE_FORCED_BUILD", "RECURSIVE_FORCED_BUILD"])})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(triggers=st.lists(_TRIGGERS, max_size=4), steps=st.lists(_STEPS, max_size=4), active=st.booleans(),
       tags=st.lists(st.sampled_from(["a", "b", "prod", "x-y"]), max_size=5))
def test_any_triggers_and_steps_round_trip(make_workspace, tmp_path: Path,
                                          triggers: list[TemporalTrigger | DatasetTrigger],
                                          steps: list[dict], active: bool, tags: list[str]) -> None:
    scenario = {"triggers": [t.model_dump() for t in triggers], "steps": steps, "active": active, "tags": tags}
    write_workspace(tmp_path, {"churn": FLOW + f"scenarios: {json.dumps({'nightly': scenario})}\n"})
    ws = make_workspace()
    apply_ok(ws)
    assert changes(ws) == []
    raw = _settings(ws).get_raw()
    assert len(raw["triggers"]) == len(triggers) and len(raw["params"]["steps"]) == len(steps)


def test_a_dataset_trigger_is_dss_dataset_modified_trigger(make_workspace) -> None:
    """Written as DSS's `ds_modified` trigger watching the datasets; an edit in DSS is drift, restored by apply;
    what DSS adds to the trigger (its grace delay) survives."""
    on_change = CHURN.replace("      - {type: temporal, frequency: Daily, hour: 2, minute: 30}\n",
                              "      - {type: dataset, datasets: [customers_raw], delay: 60}\n")
    ws = make_workspace({"churn": on_change})
    apply_ok(ws)
    assert changes(ws) == []
    settings = _settings(ws)
    trigger = settings.get_raw()["triggers"][0]
    assert (trigger["type"], trigger["delay"], trigger["active"]) == ("ds_modified", 60, True)
    assert trigger["params"]["watches"] == [{"type": "DATASET", "projectKey": "CHURN", "itemId": "customers_raw",
                                             "partitionsSpec": ""}]
    trigger["params"]["watches"][0]["itemId"] = "customers_clean"
    trigger["graceDelaySettings"] = {"delay": 120, "checkAgainAfterGraceDelay": True}
    settings.save()
    assert [(i.address, [c.path for c in i.changes]) for i in ws.drift("dev").items] == [
        (ADDRESS, ["triggers.0.datasets"])]
    apply_ok(ws)
    trigger = _settings(ws).get_raw()["triggers"][0]
    assert trigger["params"]["watches"][0]["itemId"] == "customers_raw"
    assert trigger["graceDelaySettings"] == {"delay": 120, "checkAgainAfterGraceDelay": True}
