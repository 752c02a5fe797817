"""Scenario steps, triggers and reporters of every type, through dataikuapi only: what a save keeps and adds."""

from __future__ import annotations

import pytest
from dataikuapi.dss.project import DSSProject
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS

STEPS: dict[str, dict] = {
    "build_flowitem": {"builds": [{"type": "DATASET", "itemId": "a", "partitionsSpec": ""}],
                       "jobType": "RECURSIVE_FORCED_BUILD"},
    "clear_items": {"items": [{"type": "DATASET", "itemId": "a"}]},
    "run_scenario": {"projectKey": "OTHER", "scenarioId": "NIGHTLY"},
    "custom_python": {"script": "print(1)\n"},
    "exec_sql": {"connection": "warehouse", "sql": "DELETE FROM t"},
    "set_project_vars": {"variables": {"run_date": "2024-01-01"}},
    "set_global_vars": {"variables": {"flag": True}},
    "define_vars": {"definitions": [{"key": "n", "value": "1+1"}]},
    "compute_metrics": {"computes": [{"type": "DATASET", "itemId": "a"}]},
    "check_dataset": {"checks": [{"type": "DATASET", "itemId": "a"}]},
    "update_statistics": {"datasets": [{"type": "DATASET", "itemId": "a"}]},
    "send_report": {"messaging": {"type": "mail-scenario", "configuration": {"recipient": "ops@example.com"}}},
    "invalidate_cache": {},
    "runnable": {"runnableType": "pyrunnable_my-plugin_cleanup", "config": {"days": 7}},
    "sync_hive": {"datasets": []},
    "train_model": {"trainables": []},
    "pyrecipe_plugin_step_type": {"anything": {"nested": [1, 2]}},  # a plugin's step type DSS does not know
}

TRIGGERS: dict[str, dict] = {
    "temporal": {"frequency": "Weekly", "daysOfWeek": ["Monday"], "hour": 6, "minute": 0, "repeatFrequency": 1,
                 "timezone": "Europe/Paris"},
    "ds_modified": {"watches": [{"type": "DATASET", "projectKey": "P", "itemId": "orders", "partitionsSpec": ""}],
                    "triggerWhenAllFire": False},
    "sql_query": {"connection": "warehouse", "sql": "SELECT max(ts) FROM events", "hasLimit": True, "limit": 10},
    "follow_scenariorun": {"projectKey": "P", "scenarioId": "UPSTREAM"},
    "custom_python": {"code": "from dataiku.scenario import Trigger\nTrigger().fire()\n"},
}

REPORTERS: dict[str, dict] = {
    "mail-scenario": {"recipient": "ops@example.com", "subject": "${scenarioName}: ${outcome}"},
    "slack-scenario": {"channel": "#data", "message": "${scenarioName} ran"},
    "msft-teams-scenario": {"message": "${scenarioName} ran"},
    "webhook-scenario": {"method": "POST", "payload": "{}"},
}


def _saved(project: DSSProject, name: str, edit) -> dict:
    scenario = project.create_scenario(name, "step_based")
    settings = scenario.get_settings()
    edit(settings)
    settings.save()
    return scenario.get_settings().get_raw()


def test_every_step_type_keeps_its_params_in_order(project: DSSProject) -> None:
    raw = _saved(project, "All steps", lambda s: s.raw_steps.extend(
        {"type": t, "name": f"do {t}", "params": dict(p)} for t, p in STEPS.items()))
    steps = raw["params"]["steps"]
    assert [s["type"] for s in steps] == list(STEPS)
    for step, (stype, params) in zip(steps, STEPS.items(), strict=True):
        assert step["id"] and step["name"] == f"do {stype}"
        assert {k: step["params"][k] for k in params} == params  # everything sent comes back as sent
    assert len({s["id"] for s in steps}) == len(steps)


def test_every_trigger_type_keeps_its_params(project: DSSProject) -> None:
    raw = _saved(project, "All triggers", lambda s: s.raw_triggers.extend(
        {"type": t, "active": True, "params": dict(p)} for t, p in TRIGGERS.items()))
    triggers = raw["triggers"]
    assert [t["type"] for t in triggers] == list(TRIGGERS)
    for trigger, params in zip(triggers, TRIGGERS.values(), strict=True):
        assert trigger["id"] and trigger["name"] and "delay" in trigger
        assert {k: trigger["params"][k] for k in params} == params


@pytest.mark.parametrize("frequency", ["Minutely", "Hourly", "Daily", "Weekly", "Monthly"])
def test_time_based_trigger_of_every_frequency(project: DSSProject, frequency: str) -> None:
    trigger = {"type": "temporal", "active": True, "params": {"frequency": frequency, "repeatFrequency": 2}}
    raw = _saved(project, f"Every {frequency}", lambda s: s.raw_triggers.append(trigger))
    assert raw["triggers"][0]["params"]["frequency"] == frequency


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the simulator's check of a time-based trigger's frequency is a guess")
def test_time_based_trigger_with_an_unknown_frequency_is_refused(project: DSSProject) -> None:
    scenario = project.create_scenario("Bad", "step_based")
    settings = scenario.get_settings()
    settings.raw_triggers.append({"type": "temporal", "params": {"frequency": "Fortnightly"}})
    with pytest.raises(DataikuException, match="frequency must be one of"):
        settings.save()
    assert scenario.get_settings().raw_triggers == []


def test_reporters_of_every_channel_round_trip(project: DSSProject) -> None:
    def edit(settings) -> None:
        for rtype, conf in REPORTERS.items():
            settings.raw_reporters.append({"name": rtype, "active": True, "phase": "END",
                                           "runConditionEnabled": True, "runCondition": "outcome != 'SUCCESS'",
                                           "messaging": {"type": rtype, "configuration": dict(conf)}})
    raw = _saved(project, "Reporters", edit)
    reporters = raw["reporters"]
    assert [r["messaging"]["type"] for r in reporters] == list(REPORTERS)
    assert [r["messaging"]["configuration"] for r in reporters] == list(REPORTERS.values())
    assert all(r["id"] and r["runCondition"] == "outcome != 'SUCCESS'" for r in reporters)
    # ids stay the same through a read-modify-write
    ids = [r["id"] for r in reporters]
    project.get_scenario(raw["id"]).get_settings().save()
    assert [r["id"] for r in project.get_scenario(raw["id"]).get_settings().raw_reporters] == ids


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the simulator's check of a reporter's channel is a guess")
def test_reporter_without_a_channel_is_refused(project: DSSProject) -> None:
    scenario = project.create_scenario("No channel", "step_based")
    settings = scenario.get_settings()
    settings.raw_reporters.append({"name": "x", "active": True})
    with pytest.raises(DataikuException, match="reporter needs 'messaging'"):
        settings.save()


def test_custom_python_scenario_with_triggers_and_reporters(project: DSSProject) -> None:
    scenario = project.create_scenario("Python one", "custom_python")
    settings = scenario.get_settings()
    settings.code = "from dataiku.scenario import Scenario\nScenario().build_dataset('a')\n"
    settings.raw_triggers.append({"type": "ds_modified", "params": dict(TRIGGERS["ds_modified"])})
    settings.raw_reporters.append({"messaging": {"type": "slack-scenario", "configuration": {"channel": "#x"}}})
    settings.save()
    again = scenario.get_settings()
    assert type(again).__name__ == "PythonScriptBasedScenarioSettings"
    assert again.code.startswith("from dataiku.scenario import Scenario")
    assert again.raw_triggers[0]["params"]["watches"] == TRIGGERS["ds_modified"]["watches"]
    assert again.raw_reporters[0]["messaging"]["configuration"] == {"channel": "#x"}


def test_trigger_params_dss_fills_in_when_left_out(project: DSSProject) -> None:
    """What DSS gives a dataset-change and a SQL trigger saved without params (the shapes of exported scenarios)."""
    raw = _saved(project, "Bare triggers", lambda s: s.raw_triggers.extend(
        {"type": t, "active": True, "params": {}} for t in ("ds_modified", "sql_query")))
    on_dataset, on_sql = raw["triggers"]
    assert on_dataset["params"]["watches"] == [] and on_dataset["params"]["triggerWhenAllFire"] is False
    assert {k: on_sql["params"][k] for k in ("connection", "sql")} == {"connection": "", "sql": ""}
