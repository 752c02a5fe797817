"""Triggers, steps and reporters of a scenario by type: the params DSS fills in when it stores them.

DSS keeps every type it does not know (plugins add step and trigger types) and every param a caller sends;
it only adds what its screens would have set. The types below are those of DSS's scenario screens; the
param names follow dataikuapi (scenario.py trigger builders) and the `dataiku.scenario` step helpers.
GUESS where neither shows a key: the defaults below are read off exported scenarios (docs/simulator.md).
"""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from ._common import fill_defaults

TEMPORAL_FREQUENCIES = ("Minutely", "Hourly", "Daily", "Weekly", "Monthly")

# Per type, the params DSS adds when the caller left them out. Time-based triggers get none: the client's
# builders send every param (contract test_settings_save_fills_ids_and_defaults pins the stored params).
TRIGGER_PARAMS: dict[str, dict[str, Any]] = {
    "temporal": {},
    "ds_modified": {"watches": [], "triggerWhenAllFire": False},
    "sql_query": {"connection": "", "sql": "", "hasLimit": True, "limit": 10},
    "follow_scenariorun": {"projectKey": "", "scenarioId": ""},
    "custom_python": {"code": "", "envSelection": {"envMode": "INHERIT"}},
}

STEP_PARAMS: dict[str, dict[str, Any]] = {
    "build_flowitem": {"builds": [], "jobType": "RECURSIVE_BUILD"},
    "clear_items": {"items": []},
    "run_scenario": {"projectKey": "", "scenarioId": ""},
    "custom_python": {"script": "", "envSelection": {"envMode": "INHERIT"}},
    "exec_sql": {"connection": "", "sql": ""},
    "set_project_vars": {"variables": {}},
    "set_global_vars": {"variables": {}},
    "define_vars": {"definitions": []},
    "compute_metrics": {"computes": []},
    "check_dataset": {"checks": []},
    "update_statistics": {"datasets": []},
    "send_report": {"messaging": {}},
    "invalidate_cache": {},
    "runnable": {"config": {}},
    "sync_hive": {"datasets": []},
    "train_model": {"trainables": []},
}

# Reporter channels: DSS's `messaging.type` of each reporter kind of the scenario screens.
REPORTER_TYPES = ("mail-scenario", "slack-scenario", "msft-teams-scenario", "webhook-scenario",
                  "twilio-scenario", "dataset-scenario", "shell-scenario")
REPORTER_DEFAULTS: dict[str, Any] = {"name": "Reporter", "active": True, "phase": "END",
                                     "runConditionEnabled": True, "runCondition": "true"}


def fill_type_defaults(item: dict[str, Any], kind: str) -> None:
    """Add the params DSS gives a trigger, step or reporter of this type; refuse what DSS could not run."""
    if kind == "reporter":
        messaging = item.get("messaging")
        if not isinstance(messaging, dict) or not isinstance(messaging.get("type"), str) or not messaging["type"]:
            raise bad_request("Each scenario reporter needs 'messaging': {type, configuration}")
        fill_defaults(item, {**REPORTER_DEFAULTS, "messaging": {"configuration": {}}})
        return
    if not isinstance(item.get("params"), dict):
        raise bad_request(f"Scenario {kind} '{item.get('name')}' needs 'params' to be an object")
    table = TRIGGER_PARAMS if kind == "trigger" else STEP_PARAMS
    fill_defaults(item["params"], table.get(item["type"], {}))
    if kind == "trigger" and item["type"] == "temporal" and item["params"].get("frequency") not in TEMPORAL_FREQUENCIES:
        raise bad_request(f"Time-based trigger frequency must be one of {', '.join(TEMPORAL_FREQUENCIES)}, "
                          f"not '{item['params'].get('frequency')}'")
