"""Step-based scenarios: name, active flag, time-based and dataset triggers, build steps, tags and description.

Field model (what a plan compares):
  name         display name (the YAML key when the config sets none)
  active
  triggers     authoritative list; each temporal trigger as {type, active, frequency, hour, minute, days,
               repeat, timezone} (days in week order); a dataset trigger (DSS: ds_modified, params.watches) as
               {type: dataset, active, datasets, delay}; DSS's own additions (id, name, startingFrom, grace
               delay...) are not compared and survive updates; a trigger of another type reads as {type, active}
  steps        authoritative list; a build step as {type: build, name, items, mode} (DSS: build_flowitem with
               params.builds and jobType; folders by id); a step of another type reads as {type, name}
  tags         sorted set
  description
  test         DSS's "marked as test" flag; compared only when the config sets `test`
DSS makes the scenario id from the name it is created with: dss-iac creates it under the YAML key (so the
id follows the key, not the display name) and sets the display name right after.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..config.models import BuildStep, DatasetTrigger, Scenario, TemporalTrigger
from . import _shapes
from ._flow import absent_as_none, describe, tag_set
from ._flowrefs import flow_address, folder_names_by_id, used_folder_ids
from .address import Address
from .base import Activation, Desired, ImportContext, Kind, Listed, Remote, nonempty, version_number
from .context import EnvContext

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
BUILD_STEP = "build_flowitem"
DATASET_TRIGGER = "ds_modified"  # DSS's "dataset modified" trigger
DATASET_TRIGGER_DELAY = 900  # seconds; the config's default, read when DSS has none
# Trigger field -> (key in the DSS trigger's params, value when DSS has none: the config's default).
TRIGGER_PARAMS: dict[str, tuple[str, Any]] = {
    "frequency": ("frequency", None), "hour": ("hour", 0), "minute": ("minute", 0), "days": ("daysOfWeek", []),
    "repeat": ("repeatFrequency", 1), "timezone": ("timezone", "SERVER"),
}


class ScenarioKind(Kind):
    name = "scenario"
    model = Scenario
    adoptable = frozenset({"name", "active", "description", "tags", "test"})
    reshaped = {"triggers": _shapes.triggers, "steps": _shapes.steps}
    collection = "scenarios"
    rank = 60

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        out: list[Desired] = []
        for name, scenario in source.spec.scenarios.items():
            fields = {
                "name": scenario.name or name, "active": scenario.active,
                "triggers": [_trigger_fields(t) for t in scenario.triggers],
                "steps": [_step_fields(s) for s in scenario.steps],
                "tags": tag_set(scenario.tags), "description": scenario.description,
            }
            if "test" in scenario.model_fields_set:
                fields["test"] = scenario.test
            built = sorted({flow_address(source, item) for s in scenario.steps for item in s.items})
            out.append(Desired(Address("scenario", key, name), fields, (Address("project", key), *built)))
        return out

    listed = True
    versioned = True  # every save (settings, the light save, the script) bumps it (tests/contract)
    names_of = frozenset({"managed_folder"})  # its fields name the folders DSS refers to by id

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        f = fields
        # `test` only when DSS marks it as a test: left out, DSS's flag is left alone.
        return {"name": f["name"], "active": f["active"],
                **nonempty({k: f[k] for k in ("triggers", "steps", "tags", "description")}),
                **({"test": True} if f.get("test") else {})}

    def listing(self, project: DSSProject) -> list[Listed]:
        # Keyed by the id DSS made, lower-cased: dss-iac creates a scenario under its YAML key, so the id follows
        # the key. Read the items as dicts: DSSScenarioListItem.id returns the name (dataikuapi 15.2).
        return [Listed(str(s["id"]).lower(), str(s["id"]), version_number(s), s)
                for s in map(dict, project.list_scenarios())]

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        project = client.get_project(address.project)
        return _read(project, remote_id or absent_as_none(lambda: _find(project, str(address.name))))

    def find(self, client: DSSClient, address: Address, name: str | None) -> Remote | None:
        # The create may have got as far as setting the display name: look for that too.
        project = client.get_project(address.project)
        return _read(project, absent_as_none(lambda: _find(project, str(address.name), name)))

    def create(self, client: DSSClient, desired: Desired) -> str:
        project = client.get_project(desired.address.project)
        ids = used_folder_ids(project, desired.depends_on)
        scenario = project.create_scenario(str(desired.address.name), "step_based")
        settings = scenario.get_settings()
        _write(settings.get_raw(), desired.fields, project.project_key, ids)
        settings.save()
        return str(scenario.id)

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        project = client.get_project(desired.address.project)
        settings = remote.raw if remote.raw is not None else project.get_scenario(remote.remote_id).get_settings()
        ids = used_folder_ids(project, desired.depends_on)
        _write(settings.get_raw(), desired.fields, project.project_key, ids)
        settings.save()

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        client.get_project(address.project).get_scenario(remote_id).delete()

    def bundle_name(self, name: str) -> str:
        return scenario_key(name)

    def activated(self, fields: dict[str, Any], activation: Activation, current: Mapping[str, Any] | None,
                  name: str) -> dict[str, Any]:
        # Activation switches on or off the scenarios it names; an existing one keeps its own flag otherwise.
        out = super().activated(fields, activation, current, name)
        if name in activation.scenarios_to_activate:
            out["active"] = bool(activation.scenarios_to_activate[name])
        elif current is not None:
            out["active"] = current.get("active")
        return out


def scenario_key(name: str) -> str:
    """Scenarios are matched by id, as DSS makes it from the name dss-iac creates them under (upper-cased)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name.upper())


def _read(project: DSSProject, scenario_id: str | None) -> Remote | None:
    if scenario_id is None:
        return None
    settings = absent_as_none(lambda: project.get_scenario(scenario_id).get_settings())
    if settings is None:
        return None
    return Remote(scenario_id, fields_of(project, settings.get_raw()), settings)


def _find(project: DSSProject, key: str, name: str | None = None) -> str | None:
    """The id of this YAML key's scenario: the one whose id DSS derived from the key (dss-iac creates it under
    the key), else one named after the key (in case DSS derives ids otherwise than upper-casing the name), else
    one with the display name `name` (a create interrupted after it set the name)."""
    # Read the items as dicts: DSSScenarioListItem.id returns the name (dataikuapi 15.2).
    items = [dict(item) for item in project.list_scenarios()]
    by_id = [item for item in items if str(item["id"]).upper() == key.upper()]
    by_name = [item for item in items if item.get("name") == key]
    by_display_name = [item for item in items if name and item.get("name") == name]
    found = next(iter(by_id or by_name or by_display_name), None)
    return None if found is None else str(found["id"])


def _days(days: Any) -> list[str]:
    """Days of the week, each once, in week order (DSS keeps the order they were given in)."""
    return sorted(set(days or []), key=lambda d: (WEEKDAYS.index(d) if d in WEEKDAYS else len(WEEKDAYS), str(d)))


def _trigger_fields(t: TemporalTrigger | DatasetTrigger) -> dict[str, Any]:
    if isinstance(t, DatasetTrigger):
        return {"type": t.type, "active": t.active, "datasets": list(dict.fromkeys(t.datasets)), "delay": t.delay}
    return {"type": t.type, "active": t.active, "frequency": t.frequency, "hour": t.hour, "minute": t.minute,
            "days": _days(t.days), "repeat": t.repeat, "timezone": t.timezone}


def _step_fields(s: BuildStep) -> dict[str, Any]:
    items = list(dict.fromkeys(s.items))
    # A name dss-iac chooses when the config gives none, so that what is read back is what was written.
    return {"type": s.type, "name": s.name or f"Build {', '.join(items)}", "items": items, "mode": s.mode}


def fields_of(project: DSSProject, doc: dict[str, Any]) -> dict[str, Any]:
    steps = (doc.get("params") or {}).get("steps") or []
    key = project.project_key
    names: dict[str, str] = {}
    if any(b.get("type") == "MANAGED_FOLDER" for s in steps if s.get("type") == BUILD_STEP
           for b in (s.get("params") or {}).get("builds") or []):
        names = folder_names_by_id(project)
    return {
        "name": doc.get("name", ""), "active": bool(doc.get("active", False)),
        "triggers": [_read_trigger(t, key) for t in doc.get("triggers") or []],
        "steps": [_read_step(s, key, names) for s in steps],
        "tags": tag_set(doc.get("tags") or []), "description": doc.get("description") or "",
        "test": bool(doc.get("markedAsTest", False)),
    }


def _read_trigger(t: dict[str, Any], key: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": t.get("type"), "active": bool(t.get("active", True))}
    if t.get("type") == "temporal":
        params = t.get("params") or {}
        for field, (param, default) in TRIGGER_PARAMS.items():
            out[field] = params.get(param, default)
        out["days"] = _days(out["days"])
    elif t.get("type") == DATASET_TRIGGER:
        out["type"] = "dataset"
        out["datasets"] = [_watched(w, key) for w in (t.get("params") or {}).get("watches") or []]
        out["delay"] = t.get("delay", DATASET_TRIGGER_DELAY)
    return out


def _watched(watch: dict[str, Any], key: str) -> str:
    owner, item = watch.get("projectKey") or key, str(watch.get("itemId"))
    return item if owner == key and watch.get("type", "DATASET") == "DATASET" else f"{owner}.{item}"


def _build_item(build: dict[str, Any], key: str, folder_name: dict[str, str]) -> str:
    item_type, item_id, owner = build.get("type"), str(build.get("itemId")), build.get("projectKey") or key
    if item_type == "DATASET":
        return item_id if owner == key else f"{owner}.{item_id}"
    if item_type == "MANAGED_FOLDER" and owner == key:
        return folder_name.get(item_id, item_id)
    return f"{item_type}:{item_id}"  # saved models and the like: shown, never written by dss-iac


def _read_step(s: dict[str, Any], key: str, folder_name: dict[str, str]) -> dict[str, Any]:
    if s.get("type") != BUILD_STEP:
        return {"type": s.get("type"), "name": s.get("name")}
    params = s.get("params") or {}
    return {"type": "build", "name": s.get("name"),
            "items": [_build_item(b, key, folder_name) for b in params.get("builds") or []],
            "mode": params.get("jobType")}


def _write_trigger(raw: dict[str, Any] | None, fields: dict[str, Any], key: str) -> dict[str, Any]:
    """A DSS trigger: the one at this position updated in place (keeping its id and extras), or new."""
    if fields["type"] == "dataset":
        return _write_dataset_trigger(raw, fields, key)
    trigger: dict[str, Any] = raw if raw is not None and raw.get("type") == "temporal" else {"type": "temporal"}
    trigger["active"] = fields["active"]
    params = trigger.setdefault("params", {})
    for field, (param, _) in TRIGGER_PARAMS.items():
        params[param] = list(fields[field]) if field == "days" else fields[field]
    return trigger


def _write_dataset_trigger(raw: dict[str, Any] | None, fields: dict[str, Any], key: str) -> dict[str, Any]:
    trigger: dict[str, Any] = (raw if raw is not None and raw.get("type") == DATASET_TRIGGER
                               else {"type": DATASET_TRIGGER})
    trigger["active"] = fields["active"]
    trigger["delay"] = fields["delay"]
    params = trigger.setdefault("params", {})
    old = {w.get("itemId"): w for w in params.get("watches") or [] if w.get("type") == "DATASET"}
    params["watches"] = [old.get(name) or {"type": "DATASET", "projectKey": key, "itemId": name, "partitionsSpec": ""}
                         for name in fields["datasets"]]
    params.setdefault("triggerWhenAllFire", False)
    return trigger


def _write_step(raw: dict[str, Any] | None, fields: dict[str, Any], key: str,
                folder_id: dict[str, str]) -> dict[str, Any]:
    """A DSS build step: the one at this position updated in place (keeping its id, run conditions...), or new."""
    step: dict[str, Any] = raw if raw is not None and raw.get("type") == BUILD_STEP else {"type": BUILD_STEP}
    step["name"] = fields["name"]
    params = step.setdefault("params", {})
    old = {(b.get("type"), b.get("itemId")): b for b in params.get("builds") or []}
    builds = []
    for item in fields["items"]:
        wanted = ("MANAGED_FOLDER", folder_id[item]) if item in folder_id else ("DATASET", item)
        build = old.get(wanted) or {"type": wanted[0], "itemId": wanted[1], "projectKey": key, "partitionsSpec": ""}
        builds.append(build)
    params["builds"] = builds
    params["jobType"] = fields["mode"]
    return step


def _write(doc: dict[str, Any], fields: dict[str, Any], key: str, folder_id: dict[str, str]) -> None:
    """Write the managed fields into the scenario document; everything else in it is left as it was."""
    doc["name"] = fields["name"]
    doc["active"] = fields["active"]
    old_triggers = doc.get("triggers") or []
    doc["triggers"] = [_write_trigger(old_triggers[i] if i < len(old_triggers) else None, t, key)
                       for i, t in enumerate(fields["triggers"])]
    params = doc.setdefault("params", {})
    old_steps = params.get("steps") or []
    params["steps"] = [_write_step(old_steps[i] if i < len(old_steps) else None, s, key, folder_id)
                       for i, s in enumerate(fields["steps"])]
    if "test" in fields:
        doc["markedAsTest"] = bool(fields["test"])
    describe(doc, fields)

