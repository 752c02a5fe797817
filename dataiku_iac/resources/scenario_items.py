"""A scenario's triggers, steps and reporters, each family both ways: configuration -> managed fields -> DSS
document, and DSS document -> managed fields -> idiomatic YAML (the one function drift, adopt and import share).

Managed fields of an item (what a plan compares, item by item and key by key: `steps.1.sql`):
  every item   type (the YAML name of a typed type, else DSS's own), and:
  triggers     active; temporal: frequency, hour, minute, days (week order), repeat, timezone, run_on (Monthly
               only); dataset: datasets, delay, when_all; sql: connection (physical), sql, delay; follow_scenario:
               scenario, delay; python: code (the file's text), code_env, delay; other types: params
  steps        name (dss-iac makes one when the config gives none), enabled, run_condition, run_statuses,
               run_expression, max_retries, retry_delay; build: items, mode; clear: items;
               run_scenario: scenario; python: code, code_env; sql: connection, sql; set_*_variables: variables;
               compute_metrics / run_checks / refresh_statistics: datasets; other types: params
  reporters    name, active, when, phase, channel_id, config (other configuration keys); mail: sender, to, cc,
               subject, message, password; slack: webhook_url, token, channel, message; teams: webhook_url,
               message; webhook: webhook_url, method, payload. Secrets are write-only: read as WRITE_ONLY
  An open item's `params` (and a reporter's `config`) are compared on the keys the config sets: DSS's own
  additions survive. A scenario id is held as DSS's id (`NIGHTLY`), `PROJECT.ID` for another project's.
An update writes each item into DSS's item at the same position when it has the same DSS type (keeping its id,
the settings of a step DSS adds and every key dss-iac does not manage), else a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..secrets import WRITE_ONLY
from . import scenario_models as m
from ._shapes import Unwritable

WEEKDAYS = m.WEEKDAYS
DSS_TRIGGER = {v: k for k, v in m.TYPED_DSS_TRIGGERS.items()}
DSS_STEP = {v: k for k, v in m.TYPED_DSS_STEPS.items()}
DSS_REPORTER = {v: k for k, v in m.TYPED_DSS_REPORTERS.items()}
# YAML keys of a typed item -> its key in DSS's params (steps, triggers) or messaging configuration (reporters).
TEMPORAL_PARAMS: dict[str, tuple[str, Any]] = {
    "frequency": ("frequency", None), "hour": ("hour", 0), "minute": ("minute", 0), "days": ("daysOfWeek", []),
    "repeat": ("repeatFrequency", 1), "timezone": ("timezone", "SERVER")}
DELAYS = {"dataset": 900, "sql": 900, "follow_scenario": 60, "python": 900}
DATASET_STEP_PARAM = {"compute_metrics": "computes", "run_checks": "checks", "refresh_statistics": "datasets"}
# A step's run condition and retries: YAML key -> DSS's key on the step (beside `params`).
STEP_RUN_KEYS = {"run_condition": "runConditionType", "run_statuses": "runConditionStatuses",
                 "run_expression": "runConditionExpression", "max_retries": "maxRetriesOnFail",
                 "retry_delay": "delayBetweenRetries"}
REPORTER_KEYS: dict[str, dict[str, str]] = {
    "mail": {"channel_id": "channelId", "sender": "sender", "to": "recipient", "cc": "ccRecipient",
             "subject": "subject", "message": "message", "password": "password"},
    "slack": {"channel_id": "channelId", "webhook_url": "webhookUrl", "token": "authorizationToken",
              "channel": "channel", "message": "message"},
    "teams": {"channel_id": "channelId", "webhook_url": "webhookUrl", "message": "message"},
    "webhook": {"channel_id": "channelId", "webhook_url": "url", "method": "method", "payload": "payload"},
}
OTHER_REPORTER_KEYS = {"channel_id": "channelId"}
READ_DEFAULTS = {"method": "POST"}  # what DSS does when a reporter's configuration leaves the key out
SECRETS = frozenset({"webhook_url", "token", "password"})  # write-only: sent, never read back
REPORTER_NAMES = {"mail": "Mail", "slack": "Slack", "teams": "Microsoft Teams", "webhook": "Webhook"}
# What the configuration leaves out when it has DSS's value (import and adopt write only what differs).
DEFAULTS: dict[str, dict[str, Any]] = {
    "temporal": {"hour": 0, "minute": 0, "days": [], "repeat": 1, "timezone": "SERVER", "run_on": "ON_THE_DAY",
                 "active": True},
    "trigger": {"active": True, "when_all": False, "code_env": None},
    "step": {"enabled": True, "mode": "RECURSIVE_BUILD", "code_env": None, "run_condition": "RUN_IF_STATUS_MATCH",
             "run_statuses": ["SUCCESS", "WARNING"], "run_expression": None, "max_retries": 0, "retry_delay": 10},
    "reporter": {"active": True, "when": "true", "phase": "END", "channel_id": None, "config": {}, "method": "POST"},
}


@dataclass
class Ctx:
    """What translating items needs: the project key, folder ids and names, the environment's names, the code."""

    key: str
    folder_id: Mapping[str, str] = field(default_factory=dict)  # folder name -> DSS id (writing)
    folder_name: Mapping[str, str] = field(default_factory=dict)  # DSS id -> folder name (reading)
    connection: Callable[[str], str] = lambda name: name  # logical -> physical
    code_env: Callable[[str], str] = lambda name: name
    code: Mapping[str, str] = field(default_factory=dict)  # code key -> the file's text


def code_key(scenario: str, *where: str | int) -> str:
    """Where the text of a scenario's code file sits in `ProjectSource.code` (shared with recipes: prefixed)."""
    return ":".join(map(str, ("scenario", scenario, *where)))


# -- references ----------------------------------------------------------------------------------------------------
def scenario_id(ref: str, key: str) -> str:
    """A scenario reference as DSS holds it: this project's by its YAML key (ids follow the key, upper-cased)."""
    from .scenario import scenario_key

    owner, dot, name = ref.partition(".")
    return f"{owner}.{name}" if dot else scenario_key(ref)


def _scenario_ref(params: Mapping[str, Any], key: str) -> str:
    owner, sid = params.get("projectKey") or key, str(params.get("scenarioId") or "")
    return sid if owner == key else f"{owner}.{sid}"


def _write_scenario_ref(params: dict[str, Any], ref: str, key: str) -> None:
    owner, dot, sid = ref.partition(".")
    params["projectKey"], params["scenarioId"] = (owner, sid) if dot else (key, ref)


def _items(names: list[str], key: str, old: list[dict[str, Any]], ctx: Ctx | None = None) -> list[dict[str, Any]]:
    """DSS's `{type, projectKey, itemId, partitionsSpec}` list for names (folders by id), keeping old entries."""
    by_id = {(o.get("type"), o.get("projectKey") or key, o.get("itemId")): o for o in old}
    out = []
    for name in names:
        owner, dot, item = name.partition(".")
        if not dot:
            owner, item = key, name
        folder = ctx.folder_id.get(name) if ctx is not None and not dot else None
        wanted = ("MANAGED_FOLDER", owner, folder) if folder else ("DATASET", owner, item)
        out.append(by_id.get(wanted) or {"type": wanted[0], "projectKey": owner, "itemId": wanted[2],
                                          "partitionsSpec": ""})
    return out


def _names(entries: list[dict[str, Any]], key: str, ctx: Ctx) -> list[str]:
    out = []
    for e in entries:
        kind, item, owner = e.get("type", "DATASET"), str(e.get("itemId")), e.get("projectKey") or key
        if kind == "DATASET":
            out.append(item if owner == key else f"{owner}.{item}")
        elif kind == "MANAGED_FOLDER" and owner == key:
            out.append(ctx.folder_name.get(item, item))
        else:
            out.append(f"{kind}:{item}")  # saved models and the like: shown, never written by dss-iac
    return out


def _env(selection: Any) -> str | None:
    s = selection if isinstance(selection, dict) else {}
    return s.get("envName") if s.get("envMode") == "EXPLICIT_ENV" else None


def _write_env(params: dict[str, Any], env: str | None) -> None:
    params["envSelection"] = {"envMode": "EXPLICIT_ENV", "envName": env} if env else {"envMode": "INHERIT"}


def days(value: Any) -> list[str]:
    """Days of the week, each once, in week order (DSS keeps the order they were given in)."""
    return sorted(set(value or []), key=lambda d: (WEEKDAYS.index(d) if d in WEEKDAYS else len(WEEKDAYS), str(d)))


def _same_or_new(raw: dict[str, Any] | None, dss_type: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """DSS's item at this position when of the same type (kept: its id, run conditions...), else a new one; and
    its params."""
    item: dict[str, Any] = raw if raw is not None and raw.get("type") == dss_type else {"type": dss_type}
    params: dict[str, Any] = item.setdefault("params", {})
    return item, params


def _merge_open(old: Any, new: Mapping[str, Any]) -> dict[str, Any]:
    return {**(old if isinstance(old, dict) else {}), **new}


# -- triggers ------------------------------------------------------------------------------------------------------
def trigger_fields(t: Any, ctx: Ctx, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": t.type, "active": t.active}
    if isinstance(t, m.TemporalTrigger):
        out |= {"frequency": t.frequency, "hour": t.hour, "minute": t.minute, "days": days(t.days),
                "repeat": t.repeat, "timezone": t.timezone}
        if t.frequency == "Monthly":
            out["run_on"] = t.run_on
    elif isinstance(t, m.DatasetTrigger):
        out |= {"datasets": list(dict.fromkeys(t.datasets)), "delay": t.delay, "when_all": t.when_all}
    elif isinstance(t, m.SqlTrigger):
        out |= {"connection": ctx.connection(t.connection), "sql": t.sql, "delay": t.delay}
    elif isinstance(t, m.FollowTrigger):
        out |= {"scenario": scenario_id(t.scenario, ctx.key), "delay": t.delay}
    elif isinstance(t, m.PythonTrigger):
        out |= {"code": ctx.code.get(where, ""), "code_env": t.code_env and ctx.code_env(t.code_env),
                "delay": t.delay}
    else:
        out["params"] = dict(t.params)
    return out


def read_trigger(t: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    dss_type, params = str(t.get("type")), t.get("params") or {}
    ytype = m.TYPED_DSS_TRIGGERS.get(dss_type)
    out: dict[str, Any] = {"type": ytype or dss_type, "active": bool(t.get("active", True))}
    delay = t.get("delay", DELAYS.get(ytype or "", 0))
    if ytype == "temporal":
        out |= {f: params.get(p, d) for f, (p, d) in TEMPORAL_PARAMS.items()}
        out["days"] = days(out["days"])
        if out["frequency"] == "Monthly":
            out["run_on"] = params.get("monthlyRunOn", "ON_THE_DAY")
    elif ytype == "dataset":
        out |= {"datasets": _names(params.get("watches") or [], ctx.key, ctx), "delay": delay,
                "when_all": bool(params.get("triggerWhenAllFire", False))}
    elif ytype == "sql":
        out |= {"connection": params.get("connection", ""), "sql": params.get("sql", ""), "delay": delay}
    elif ytype == "follow_scenario":
        out |= {"scenario": _scenario_ref(params, ctx.key), "delay": delay}
    elif ytype == "python":
        out |= {"code": params.get("code", ""), "code_env": _env(params.get("envSelection")), "delay": delay}
    else:
        out["params"] = params
    return out


def write_trigger(raw: dict[str, Any] | None, f: Mapping[str, Any], ctx: Ctx) -> dict[str, Any]:
    t, params = _same_or_new(raw, DSS_TRIGGER.get(f["type"], f["type"]))
    t["active"] = f["active"]
    if "delay" in f:
        t["delay"] = f["delay"]
    ytype = f["type"]
    if ytype == "temporal":
        for name, (param, _) in TEMPORAL_PARAMS.items():
            params[param] = list(f[name]) if name == "days" else f[name]
        if "run_on" in f:
            params["monthlyRunOn"] = f["run_on"]
    elif ytype == "dataset":
        params["watches"] = _items(f["datasets"], ctx.key, params.get("watches") or [])
        params["triggerWhenAllFire"] = f["when_all"]
    elif ytype == "sql":
        params["connection"], params["sql"] = f["connection"], f["sql"]
    elif ytype == "follow_scenario":
        _write_scenario_ref(params, f["scenario"], ctx.key)
    elif ytype == "python":
        params["code"] = f["code"]
        _write_env(params, f["code_env"])
    else:
        t["params"] = _merge_open(params, f["params"])
    return t


# -- steps ---------------------------------------------------------------------------------------------------------
def default_step_name(f: Mapping[str, Any]) -> str:
    """The name dss-iac gives a step the config leaves unnamed, so that what is read back is what was written."""
    t = f["type"]
    if t in ("build", "clear"):
        return f"{t.capitalize()} {', '.join(f['items'])}"
    if t in DATASET_STEP_PARAM:
        return f"{t.replace('_', ' ').capitalize()}: {', '.join(f['datasets'])}"
    if t == "run_scenario":
        return f"Run scenario {f['scenario']}"
    return {"python": "Run Python", "sql": "Run SQL", "set_project_variables": "Set project variables",
            "set_global_variables": "Set global variables"}.get(t, t)


def step_fields(s: Any, ctx: Ctx, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": s.type, "enabled": s.enabled, **{k: getattr(s, k) for k in STEP_RUN_KEYS}}
    out["run_statuses"] = list(out["run_statuses"])
    if isinstance(s, m.BuildStep):
        out |= {"items": list(dict.fromkeys(s.items)), "mode": s.mode}
    elif isinstance(s, m.ClearStep):
        out["items"] = list(dict.fromkeys(s.items))
    elif isinstance(s, m.RunScenarioStep):
        out["scenario"] = scenario_id(s.scenario, ctx.key)
    elif isinstance(s, m.PythonStep):
        out |= {"code": ctx.code.get(where, ""), "code_env": s.code_env and ctx.code_env(s.code_env)}
    elif isinstance(s, m.SqlStep):
        out |= {"connection": ctx.connection(s.connection), "sql": s.sql}
    elif isinstance(s, m.VariablesStep):
        out["variables"] = dict(s.variables)
    elif isinstance(s, m.DatasetsStep):
        out["datasets"] = list(dict.fromkeys(s.datasets))
    else:
        out["params"] = dict(s.params)
    return {"type": out["type"], "name": s.name or default_step_name(out), **out}


def read_step(s: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    dss_type, params = str(s.get("type")), s.get("params") or {}
    ytype = m.TYPED_DSS_STEPS.get(dss_type)
    out: dict[str, Any] = {"type": ytype or dss_type, "name": s.get("name"), "enabled": bool(s.get("enabled", True))}
    defaults = DEFAULTS["step"]
    # DSS keeps an empty expression when there is none: read as none.
    out |= {k: defaults[k] if s.get(dss) in (None, "") else s[dss] for k, dss in STEP_RUN_KEYS.items()}
    out["run_statuses"] = list(out["run_statuses"])
    if ytype == "build":
        out |= {"items": _names(params.get("builds") or [], ctx.key, ctx), "mode": params.get("jobType")}
    elif ytype == "clear":
        out["items"] = _names(params.get("items") or [], ctx.key, ctx)
    elif ytype == "run_scenario":
        out["scenario"] = _scenario_ref(params, ctx.key)
    elif ytype == "python":
        out |= {"code": params.get("script", ""), "code_env": _env(params.get("envSelection"))}
    elif ytype == "sql":
        out |= {"connection": params.get("connection", ""), "sql": params.get("sql", "")}
    elif ytype in ("set_project_variables", "set_global_variables"):
        out["variables"] = params.get("variables") or {}
    elif ytype in DATASET_STEP_PARAM:
        out["datasets"] = _names(params.get(DATASET_STEP_PARAM[ytype]) or [], ctx.key, ctx)
    else:
        out["params"] = params
    return out


def write_step(raw: dict[str, Any] | None, f: Mapping[str, Any], ctx: Ctx) -> dict[str, Any]:
    s, params = _same_or_new(raw, DSS_STEP.get(f["type"], f["type"]))
    s["name"], s["enabled"] = f["name"], f["enabled"]
    for k, dss in STEP_RUN_KEYS.items():
        if k in f:  # fields recorded before run conditions were managed have none: DSS's are left alone
            s[dss] = "" if f[k] is None else list(f[k]) if isinstance(f[k], list) else f[k]
    ytype = f["type"]
    if ytype == "build":
        params["builds"] = _items(f["items"], ctx.key, params.get("builds") or [], ctx)
        params["jobType"] = f["mode"]
    elif ytype == "clear":
        params["items"] = _items(f["items"], ctx.key, params.get("items") or [], ctx)
    elif ytype == "run_scenario":
        _write_scenario_ref(params, f["scenario"], ctx.key)
    elif ytype == "python":
        params["script"] = f["code"]
        _write_env(params, f["code_env"])
    elif ytype == "sql":
        params["connection"], params["sql"] = f["connection"], f["sql"]
    elif ytype in ("set_project_variables", "set_global_variables"):
        params["variables"] = dict(f["variables"])
    elif ytype in DATASET_STEP_PARAM:
        param = DATASET_STEP_PARAM[ytype]
        params[param] = _items(f["datasets"], ctx.key, params.get(param) or [])
    else:
        s["params"] = _merge_open(params, f["params"])
    return s


# -- reporters -----------------------------------------------------------------------------------------------------
def reporter_fields(r: Any, ctx: Ctx) -> dict[str, Any]:
    out: dict[str, Any] = {"type": r.type, "name": r.name or REPORTER_NAMES.get(r.type, r.type), "active": r.active,
                           "when": r.when, "phase": r.phase}
    for name in REPORTER_KEYS.get(r.type, OTHER_REPORTER_KEYS):
        out[name] = getattr(r, name)
    out["config"] = dict(r.config)
    return out


def read_reporter(r: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    messaging = r.get("messaging") or {}
    dss_type = str(messaging.get("type"))
    ytype = m.TYPED_DSS_REPORTERS.get(dss_type, dss_type)
    conf = messaging.get("configuration") or {}
    keys = REPORTER_KEYS.get(ytype, OTHER_REPORTER_KEYS)
    out: dict[str, Any] = {"type": ytype, "name": r.get("name"), "active": bool(r.get("active", True)),
                           "when": r.get("runCondition", "true") if r.get("runConditionEnabled", True) else None,
                           "phase": r.get("phase", "END")}
    for name, key in keys.items():
        value = conf.get(key, READ_DEFAULTS.get(name))
        # Write-only: whether DSS holds one, never what it is (drift goes by what was last written).
        out[name] = (WRITE_ONLY if value else None) if name in SECRETS else value
    out["config"] = {k: v for k, v in conf.items() if k not in keys.values()}
    return out


def write_reporter(raw: dict[str, Any] | None, f: Mapping[str, Any], ctx: Ctx) -> dict[str, Any]:
    dss_type = DSS_REPORTER.get(f["type"], f["type"])
    same = raw is not None and (raw.get("messaging") or {}).get("type") == dss_type
    r: dict[str, Any] = raw if raw is not None and same else {}
    r |= {"name": f["name"], "active": f["active"], "phase": f["phase"], "runConditionEnabled": f["when"] is not None}
    if f["when"] is not None:
        r["runCondition"] = f["when"]
    messaging = r.setdefault("messaging", {})
    messaging["type"] = dss_type
    conf = _merge_open(messaging.get("configuration"), f["config"])
    for name, key in REPORTER_KEYS.get(f["type"], OTHER_REPORTER_KEYS).items():
        if f.get(name) is None:
            conf.pop(key, None)
        else:
            conf[key] = f[name]
    messaging["configuration"] = conf
    return r


# -- back to YAML --------------------------------------------------------------------------------------------------
CodeFile = Callable[[str, str], str]  # (code text, suggested file stem) -> path written in the YAML


def to_yaml(family: str, f: Mapping[str, Any], spelled: Mapping[str, Any], code_file: CodeFile | None,
            stem: str) -> dict[str, Any]:
    """One item read from DSS as a project file writes it: DSS's defaults left out unless the file spells them
    (`spelled`: the item the file has now, for adopt), `code` written to a file through `code_file`. For drift,
    adopt and import alike."""
    ytype = f["type"]
    if family == "trigger" and ytype == "temporal":
        defaults = DEFAULTS["temporal"]
    else:
        defaults = {**DEFAULTS[family], **({"delay": DELAYS[ytype]} if ytype in DELAYS else {})}
    out: dict[str, Any] = {"type": ytype}
    for k, v in f.items():
        if k == "type" or (k in defaults and v == defaults[k] and k not in spelled):
            continue
        if k == "name" and family == "step" and v == default_step_name(f) and k not in spelled:
            continue
        if k == "name" and family == "reporter" and v == REPORTER_NAMES.get(ytype, ytype) and k not in spelled:
            continue
        if v is None and k not in spelled and k not in defaults:  # `when: null` (always) is said, not left out
            continue
        if k == "code":
            out[k] = _code_path(v, spelled, code_file, stem)
            continue
        if isinstance(v, str) and ":" in v and k in ("items", "datasets"):
            raise Unwritable(f"{family} names {v}, which the configuration cannot name")
        if k in ("items", "datasets") and any(":" in x for x in v):
            raise Unwritable(f"the {family} names {', '.join(x for x in v if ':' in x)}, which the configuration "
                             "cannot name")
        if k == "scenario" and not v:  # DSS's new step or trigger, no scenario chosen yet
            raise Unwritable(f"the {family} names no scenario, which the configuration cannot say")
        if k == "scenario" and "." not in v:
            v = v.lower()  # this project's scenario, by its YAML key (dss-iac creates ids from the key)
        out[k] = v
    return out


def _code_path(text: str, spelled: Mapping[str, Any], code_file: CodeFile | None, stem: str) -> str:
    if code_file is not None:
        return code_file(text, stem)
    if "code" in spelled:
        raise Unwritable("the code changed in DSS with the rest of the item: copy it into the code file by hand")
    raise Unwritable("code read from DSS has no file yet: run `dss-iac import` to write it")
