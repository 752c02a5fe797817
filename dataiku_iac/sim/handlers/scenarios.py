"""Scenarios: create, list, settings, Python payload, light status, runs (synchronous), testing status, delete.

Storage in the project record: `scenarios[id]` is the settings document (DSS_API.md §2.4); the script of a
custom_python scenario rides along in it under SCRIPT_KEY (so that whatever copies scenarios, bundles
included, carries it) and never shows in replies. `scenarioRuns[id]` holds past runs, oldest first, each
`{"scenarioRun", "stepRuns", "log"}`; runs do not ship in bundles. Runs execute in background threads
(scenario_runs): POST .../run returns the trigger fire at once, and the run shows as running until it ends.
"""

from __future__ import annotations

import datetime
import re
import secrets
import string
from typing import Any

from ..context import Ctx, Node, Raw
from ..errors import bad_request, forbidden
from ..routing import route
from . import scenario_runs
from ._common import copy_doc, fill_defaults, sort_tags, suffixed
from .projects import touch

SCENARIO_TYPES = ("step_based", "custom_python")
OUTCOMES = ("SUCCESS", "WARNING", "FAILED", "ABORTED")  # by severity; ABORTED ranks as FAILED
LIGHT_EDITABLE = ("active", "checklists", "description", "shortDesc", "tags")

SCRIPT_KEY = scenario_runs.SCRIPT_KEY  # simulator-private: stripped from every reply

SCENARIO_DEFAULTS: dict[str, Any] = {
    "active": False, "description": "", "shortDesc": "", "tags": [], "checklists": {"checklists": []},
    "customFields": {}, "markedAsTest": False, "automationLocal": False, "triggers": [], "reporters": [],
    "params": {},
    "delayedTriggersBehavior": {
        "delayWhileRunning": True, "squashDelayedTriggers": True, "suppressTriggersWhileRunning": True},
}

# What DSS adds to each step it stores (unverified: read off exported scenarios, not off a live DSS).
STEP_DEFAULTS: dict[str, Any] = {
    "enabled": True, "alwaysShowComment": False, "runConditionType": "RUN_IF_STATUS_MATCH",
    "runConditionStatuses": ["SUCCESS", "WARNING"], "runConditionExpression": "", "resetScenarioStatus": False,
    "delayBetweenRetries": 10, "maxRetriesOnFail": 0, "params": {},
}

# Seconds a trigger waits before firing, by trigger type (unverified defaults).
TRIGGER_DELAYS = {"temporal": 5, "ds_modified": 900, "sql_query": 900, "follow_scenariorun": 60}
TRIGGER_NAMES = {"temporal": "Time-based", "ds_modified": "Dataset modified", "sql_query": "SQL query change",
                 "follow_scenariorun": "Follow scenario"}



def scenario_id_for(name: str) -> str:
    """GUESS (DSS_API.md §8): the id DSS derives from a scenario name.

    Upper-cased, with every character outside [A-Za-z0-9_] replaced by "_" ("Daily build" -> "DAILY_BUILD").
    Kept in this one function so that a check against a real DSS changes one line.
    """
    return re.sub(r"[^A-Za-z0-9_]", "_", name).upper() or "SCENARIO"


def _random_id(taken: set[str]) -> str:
    """Trigger, step and reporter ids: DSS generates short random alphanumeric ids."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(8))
        if candidate not in taken:
            return candidate


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy_doc(doc)
    out.pop(SCRIPT_KEY, None)
    return out


def _get(ctx: Ctx, project_key: str, scenario_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    record = ctx.project(project_key)
    doc = record.setdefault("scenarios", {}).get(scenario_id)
    if doc is None:
        raise ctx.not_found(f"Scenario {scenario_id} does not exist in project {project_key}")
    return record, doc


def _items(doc: dict[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    items = doc.get(key)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request(f"Scenario '{key}' must be a list of {what} objects")
    return items


def _normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """Validate a scenario document and fill in what DSS adds: defaults, and ids of triggers, steps, reporters."""
    if not isinstance(doc.get("name"), str) or not doc["name"].strip():
        raise bad_request("A scenario needs a non-empty 'name'")
    fill_defaults(doc, SCENARIO_DEFAULTS)
    if not isinstance(doc["params"], dict) or not isinstance(doc["tags"], list):
        raise bad_request("Scenario 'params' must be an object and 'tags' a list")
    if doc["type"] == "step_based":
        doc["params"].setdefault("steps", [])
    groups = [(t, "trigger") for t in _items(doc, "triggers", "trigger")]
    groups += [(r, "reporter") for r in _items(doc, "reporters", "reporter")]
    if doc["type"] == "step_based":
        groups += [(s, "step") for s in _items(doc["params"], "steps", "step")]
    taken = {str(item["id"]) for item, _ in groups if item.get("id")}
    step_number = 0
    for item, kind in groups:
        if kind != "reporter" and (not isinstance(item.get("type"), str) or not item["type"]):
            raise bad_request(f"Each scenario {kind} needs a 'type'")
        if not item.get("id"):
            item["id"] = _random_id(taken)
            taken.add(item["id"])
        if kind == "trigger":
            fill_defaults(item, {"name": TRIGGER_NAMES.get(item["type"], item["type"]), "active": True,
                                 "delay": TRIGGER_DELAYS.get(item["type"], 5), "params": {}})
        elif kind == "step":
            step_number += 1
            fill_defaults(item, {"name": f"Step #{step_number}", **STEP_DEFAULTS})
    return sort_tags(doc)


def _light(record: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """The status summary of GET .../light and of list items."""
    runs = record.get("scenarioRuns", {}).get(doc["id"], [])
    out = {k: copy_doc(doc.get(k)) for k in ("projectKey", "id", "name", "type", "active", "tags", "shortDesc",
                                             "description", "markedAsTest", "versionTag", "creationTag")}
    running = [r for r in runs if scenario_runs.is_running(r)]
    out.update({"running": bool(running), "start": running[-1]["scenarioRun"]["start"] if running else 0,
                "nextRun": 0})
    finished = [r for r in runs if not scenario_runs.is_running(r)]
    if finished:
        out["lastRun"] = copy_doc(finished[-1]["scenarioRun"])
    return out


@route("GET", "/projects/{project_key}/scenarios/")
def list_scenarios(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    record = ctx.project(project_key)
    return [_light(record, doc) for _, doc in sorted(record.setdefault("scenarios", {}).items())]


@route("POST", "/projects/{project_key}/scenarios/")
def create_scenario(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    doc = ctx.req.json_object()
    if doc.get("type") not in SCENARIO_TYPES:
        raise bad_request(f"Scenario type must be one of {', '.join(SCENARIO_TYPES)}, not '{doc.get('type')}'")
    if not isinstance(doc.get("name"), str) or not doc["name"].strip():
        raise bad_request("A scenario needs a non-empty 'name'")
    _check_run_as(ctx, doc, None)
    doc.pop(SCRIPT_KEY, None)
    if doc["type"] == "custom_python":
        doc[SCRIPT_KEY] = ""
    scenarios = record.setdefault("scenarios", {})
    # The server owns the id: one sent in a copied definition is ignored.
    scenario_id = suffixed(scenario_id_for(doc["name"]), scenarios)
    doc.update({"projectKey": project_key, "id": scenario_id})
    scenarios[scenario_id] = ctx.bump_version(_normalise(doc), None)
    touch(ctx, record)
    return {"id": scenario_id}


@route("GET", "/projects/{project_key}/scenarios/{scenario_id}")
def get_scenario(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    return _public(_get(ctx, project_key, scenario_id)[1])


def _check_run_as(ctx: Ctx, doc: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Only administrators may make a scenario run as someone (scenario.py `run_as`)."""
    wanted = doc.get("runAsUser")
    if wanted is not None and wanted != (old or {}).get("runAsUser") and not ctx.key.admin:
        raise forbidden(f"Action forbidden: only administrators may set 'run as' to {wanted}")


@route("PUT", "/projects/{project_key}/scenarios/{scenario_id}")
def save_scenario(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    record, old = _get(ctx, project_key, scenario_id)
    doc = ctx.req.json_object()
    _check_run_as(ctx, doc, old)
    # Whole-document save; identity and type are the server's.
    doc.update({"projectKey": project_key, "id": scenario_id, "type": old["type"]})
    doc.setdefault("name", old["name"])
    doc.pop(SCRIPT_KEY, None)
    if SCRIPT_KEY in old:  # the script is saved through .../payload only
        doc[SCRIPT_KEY] = old[SCRIPT_KEY]
    record["scenarios"][scenario_id] = ctx.bump_version(_normalise(doc), old)
    touch(ctx, record)
    return {}


@route("DELETE", "/projects/{project_key}/scenarios/{scenario_id}")
def delete_scenario(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    record, _ = _get(ctx, project_key, scenario_id)
    del record["scenarios"][scenario_id]
    record.setdefault("scenarioRuns", {}).pop(scenario_id, None)
    touch(ctx, record)
    return {}


@route("GET", "/projects/{project_key}/scenarios/{scenario_id}/light")
def get_light(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    record, doc = _get(ctx, project_key, scenario_id)
    return _light(record, doc)


@route("PUT", "/projects/{project_key}/scenarios/{scenario_id}/light")
def save_light(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    """The deprecated `set_definition(with_status=True)`: only a few fields may change this way."""
    record, old = _get(ctx, project_key, scenario_id)
    body = ctx.req.json_object()
    doc = copy_doc(old)
    doc.update({k: body[k] for k in LIGHT_EDITABLE if k in body})
    record["scenarios"][scenario_id] = ctx.bump_version(_normalise(doc), old)
    touch(ctx, record)
    return {}


def _script_scenario(ctx: Ctx, project_key: str, scenario_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    record, doc = _get(ctx, project_key, scenario_id)
    if doc["type"] != "custom_python":
        raise bad_request(f"Scenario {scenario_id} is a {doc['type']} scenario: it has no script payload")
    return record, doc


@route("GET", "/projects/{project_key}/scenarios/{scenario_id}/payload")
def get_payload(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    # scenario.get_payload sends {"extension": "py"} as a GET body; only Python scripts exist here.
    return {"script": _script_scenario(ctx, project_key, scenario_id)[1].get(SCRIPT_KEY, ""), "extension": "py"}


@route("PUT", "/projects/{project_key}/scenarios/{scenario_id}/payload")
def save_payload(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    record, old = _script_scenario(ctx, project_key, scenario_id)
    script = ctx.req.json_object().get("script")
    if not isinstance(script, str):
        raise bad_request("The scenario payload needs a 'script' string")
    record["scenarios"][scenario_id] = ctx.bump_version({**copy_doc(old), SCRIPT_KEY: script}, old)
    touch(ctx, record)
    return {}


# -- runs (executed by scenario_runs) --------------------------------------------------------------------

@route("POST", "/projects/{project_key}/scenarios/{scenario_id}/run")
def run_scenario(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    record, _ = _get(ctx, project_key, scenario_id)
    return scenario_runs.start_run(ctx, record, scenario_id, ctx.req.json_object())


@route("POST", "/projects/{project_key}/scenarios/{scenario_id}/abort")
def abort_scenario(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    _get(ctx, project_key, scenario_id)
    ctx.node.tasks.abort(scenario_runs.run_key(project_key, scenario_id))  # nothing to do if it is not running
    return {}


def _runs(ctx: Ctx, project_key: str, scenario_id: str) -> list[dict[str, Any]]:
    record, _ = _get(ctx, project_key, scenario_id)
    return record.setdefault("scenarioRuns", {}).get(scenario_id, [])


def _fired_by(run: dict[str, Any], trigger_id: str | None, trigger_run_id: str | None) -> bool:
    fire = run["scenarioRun"]["trigger"]
    return fire["trigger"]["id"] == trigger_id and fire["runId"] == trigger_run_id


@route("GET", "/projects/{project_key}/scenarios/{scenario_id}/get-run-for-trigger")
def get_run_for_trigger(ctx: Ctx, project_key: str, scenario_id: str) -> dict[str, Any]:
    wanted = (ctx.req.param("triggerId"), ctx.req.param("triggerRunId"))
    for run in _runs(ctx, project_key, scenario_id):
        if _fired_by(run, *wanted):
            return {"scenarioRun": copy_doc(run["scenarioRun"])}
    return {}  # as DSS before the run starts; a fire the simulator never saw stays unstarted


@route("GET", "/projects/{project_key}/scenarios/trigger/{scenario_id}/{trigger_id}")
def get_trigger_fire(ctx: Ctx, project_key: str, scenario_id: str, trigger_id: str) -> dict[str, Any]:
    trigger_run_id = ctx.req.param("triggerRunId")
    for run in _runs(ctx, project_key, scenario_id):
        if _fired_by(run, trigger_id, trigger_run_id):
            return copy_doc(run["scenarioRun"]["trigger"])
    raise ctx.not_found(f"Trigger fire {trigger_id}/{trigger_run_id} not found for scenario {scenario_id}")


@route("GET", "/projects/{project_key}/scenarios/{scenario_id}/get-last-runs")
def get_last_runs(ctx: Ctx, project_key: str, scenario_id: str) -> list[dict[str, Any]]:
    try:
        limit = int(ctx.req.param("limit") or 10)
    except ValueError:
        raise bad_request("'limit' must be an integer") from None
    runs = list(reversed(_runs(ctx, project_key, scenario_id)))  # newest first
    if ctx.req.bool_param("onlyFinishedRuns"):
        runs = [r for r in runs if not scenario_runs.is_running(r)]
    return [copy_doc(r["scenarioRun"]) for r in runs[:max(limit, 0)]]


@route("GET", "/projects/{project_key}/scenarios/{scenario_id}/get-runs-by-date")
def get_runs_by_date(ctx: Ctx, project_key: str, scenario_id: str) -> list[dict[str, Any]]:
    try:
        bounds = [datetime.date.fromisoformat(ctx.req.param(p) or "") for p in ("fromDate", "toDate")]
    except ValueError:
        raise bad_request("'fromDate' and 'toDate' must be dates, yyyy-MM-dd") from None
    runs = [r["scenarioRun"] for r in reversed(_runs(ctx, project_key, scenario_id))]
    return [copy_doc(r) for r in runs
            if bounds[0] <= datetime.datetime.fromtimestamp(r["start"] / 1000).date() < bounds[1]]


def _run(ctx: Ctx, project_key: str, scenario_id: str, run_id: str) -> dict[str, Any]:
    for run in _runs(ctx, project_key, scenario_id):
        if run["scenarioRun"]["runId"] == run_id:
            return run
    raise ctx.not_found(f"Run {run_id} of scenario {scenario_id} does not exist in project {project_key}")


@route("GET", "/projects/{project_key}/scenarios/{scenario_id}/{run_id}")
def get_run_details(ctx: Ctx, project_key: str, scenario_id: str, run_id: str) -> dict[str, Any]:
    run = _run(ctx, project_key, scenario_id, run_id)
    return {"scenarioRun": copy_doc(run["scenarioRun"]), "stepRuns": copy_doc(run["stepRuns"])}


@route("GET", "/projects/{project_key}/scenarios/{scenario_id}/{run_id}/log")
def get_run_log(ctx: Ctx, project_key: str, scenario_id: str, run_id: str) -> Raw:
    run = _run(ctx, project_key, scenario_id, run_id)
    return Raw(("\n".join(run.get("log") or []) + "\n").encode("utf-8"), "text/plain; charset=utf-8")


def testing_status(record: dict[str, Any], bundle_id: str | None = None) -> dict[str, Any]:
    """GUESS at DSSTestingStatus: the last finished run of each test scenario (of that bundle, if given)."""
    per_outcome = dict.fromkeys(OUTCOMES, 0)
    scenarios = []
    for scenario_id, doc in sorted(record.get("scenarios", {}).items()):
        if not doc.get("markedAsTest"):
            continue
        runs = [r["scenarioRun"] for r in record.get("scenarioRuns", {}).get(scenario_id, [])
                if not scenario_runs.is_running(r)
                and (bundle_id is None or r["scenarioRun"].get("bundleId") == bundle_id)]
        if not runs:
            continue
        last = runs[-1]
        per_outcome[last["result"]["outcome"]] += 1
        scenarios.append({"projectKey": record["projectKey"], "scenarioId": scenario_id, "scenarioName": doc["name"],
                          "lastRun": {"runId": last["runId"], "outcome": last["result"]["outcome"],
                                      "start": last["start"], "end": last["end"]}})
    worst = next((o for o in ("FAILED", "ABORTED", "WARNING", "SUCCESS") if per_outcome[o]), None)
    return {"nbTotalRanScenarios": len(scenarios), "nbScenariosPerOutcome": per_outcome, "worstOutcome": worst,
            "scenarios": scenarios}


@route("GET", "/projects/{project_key}/scenarios/testing-status")
def get_testing_status(ctx: Ctx, project_key: str) -> dict[str, Any]:
    return testing_status(ctx.project(project_key), ctx.req.param("bundleId") or None)


def recover(node: Node) -> None:
    scenario_runs.recover(node)
