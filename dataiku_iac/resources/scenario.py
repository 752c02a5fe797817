"""Scenarios: name, type (step-based or Python), active flag, triggers, steps, reporters, tags and description.

Field model (what a plan compares):
  name         display name (the YAML key when the config sets none)
  type         `step_based` or `python` (DSS's custom_python); a change replaces the scenario
  code         python scenarios: the script's text, byte for byte
  active
  triggers     authoritative list, compared item by item (scenario_items.py says each item's fields); DSS's own
  steps        additions to an item (ids, run conditions, grace delays...) are not compared and survive updates
  reporters    authoritative when the config declares `reporters` (even empty); left alone when it does not.
               Their credentials are write-only: compared through the fingerprint of what was last written
  tags         sorted set
  description
  test         DSS's "marked as test" flag; compared only when the config sets `test`
DSS makes the scenario id from the name it is created with: dss-iac creates it under the YAML key (so the
id follows the key, not the display name) and sets the display name right after.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from . import _shapes
from . import scenario_items as items
from ._flow import absent_as_none, describe, tag_set
from ._flowrefs import flow_address, folder_names_by_id, used_folder_ids
from .address import Address
from .base import (
    CODE_ENV,
    CONNECTION,
    Activation,
    Desired,
    ImportContext,
    Kind,
    Listed,
    NamedFile,
    Remote,
    nonempty,
    version_number,
)
from .context import EnvContext
from .passthrough import merged, without, without_ids
from .scenario_models import PythonStep, PythonTrigger, Scenario, SqlStep, SqlTrigger

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource

FAMILIES = (("triggers", "trigger"), ("steps", "step"), ("reporters", "reporter"))
PYTHON = "custom_python"  # DSS's type of a Python scenario
# Keys of an item holding a name the environment remaps (DSS holds the physical one; adopt writes the logical).
ITEM_NAMES = {"connection": CONNECTION, "code_env": CODE_ENV}


def scenarios_of(spec: Any) -> dict[str, Scenario]:
    """The scenarios a project file declares (the collection the registry adds to the project file's model)."""
    return cast(dict[str, Scenario], getattr(spec, ScenarioKind.collection))


class ScenarioKind(Kind):
    name = "scenario"
    model = Scenario
    adoptable = frozenset({"name", "active", "description", "tags", "test"})
    unadoptable = {"type": "DSS fixes a scenario's type (steps or Python script) when it makes it"}
    collection = "scenarios"
    rank = 60
    listed = True
    replace_on = frozenset({"type"})
    itemwise = frozenset({"triggers", "steps", "reporters"})
    open_maps = frozenset({"params", "config"})  # inside an item: an open item's params, a reporter's config

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        out: list[Desired] = []
        for name, scenario in scenarios_of(source.spec).items():
            ctx = items.Ctx(key, connection=env.connection, code_env=env.code_env, code=source.code)
            fields: dict[str, Any] = {
                "name": scenario.name or name, "type": scenario.type, "active": scenario.active,
                "triggers": [items.trigger_fields(t, ctx, items.code_key(name, "triggers", i))
                             for i, t in enumerate(scenario.triggers)],
                "steps": [items.step_fields(s, ctx, items.code_key(name, "steps", i))
                          for i, s in enumerate(scenario.steps)],
                "tags": tag_set(scenario.tags), "description": scenario.description,
            }
            if scenario.type == "python":
                fields["code"] = source.code.get(items.code_key(name), "")
            if "reporters" in scenario.model_fields_set:
                fields["reporters"] = [items.reporter_fields(r, ctx) for r in scenario.reporters]
            if "test" in scenario.model_fields_set:
                fields["test"] = scenario.test
            built = sorted({flow_address(source, item) for s in scenario.steps for item in getattr(s, "items", ())})
            out.append(Desired(Address("scenario", key, name), fields, (Address("project", key), *built)))
        return out

    def files(self, name: str, entry: Any) -> list[NamedFile]:
        """A Python scenario's script, and the code of its Python steps and triggers."""
        scenario = cast(Scenario, entry)
        out: list[NamedFile] = []
        if scenario.code is not None:
            out.append(NamedFile(("code",), scenario.code, items.code_key(name), "code"))
        for family, listed in (("triggers", scenario.triggers), ("steps", scenario.steps)):
            for i, item in enumerate(listed):
                if isinstance(item, PythonStep | PythonTrigger):
                    out.append(NamedFile((family, i, "code"), item.code, items.code_key(name, family, i),
                                         f"{family}.{i}.code"))
        return out

    def names_used(self, entry: Any) -> list[tuple[tuple[str, ...], str, str]]:
        scenario = cast(Scenario, entry)
        out: list[tuple[tuple[str, ...], str, str]] = []
        for family, listed in (("triggers", scenario.triggers), ("steps", scenario.steps)):
            for i, item in enumerate(listed):
                if isinstance(item, SqlStep | SqlTrigger):
                    out.append(((family, str(i), "connection"), CONNECTION, item.connection))
                if isinstance(item, PythonStep | PythonTrigger) and item.code_env:
                    out.append(((family, str(i), "code_env"), CODE_ENV, item.code_env))
        return out

    versioned = True  # every save (settings, the light save, the script) bumps it (tests/contract)
    names_of = frozenset({"managed_folder"})  # its fields name the folders DSS refers to by id

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        f = fields
        stem = str(name)

        def code_file(text: str, suffix: str) -> str:
            path = ctx.code_dir / "scenarios" / f"{suffix}.py"
            ctx.code[path] = text
            return Path(os.path.relpath(path, ctx.project_dir)).as_posix()

        entry: dict[str, Any] = {"name": f["name"], "active": f["active"]}
        if f["type"] == "python":
            entry |= {"type": "python", "code": code_file(f.get("code", ""), stem)}
        for family, one in FAMILIES:
            if f.get(family):
                entry[family] = [_yaml(one, item, ctx.connection, code_file, f"{stem}_{one}{i}")
                                 for i, item in enumerate(f[family])]
        # `test` only when DSS marks it as a test: left out, DSS's flag is left alone.
        return entry | nonempty({k: f[k] for k in ("tags", "description")}) | ({"test": True} if f.get("test") else {})

    def shown_secrets(self, name: str | None, remote: Remote) -> dict[tuple[str | int, ...], str]:
        # A reporter's webhook URL, token or password: read as write-only, but DSS's settings document holds it.
        out: dict[tuple[str | int, ...], str] = {}
        raw = remote.raw.get_raw() if remote.raw is not None else {}
        for i, reporter in enumerate(raw.get("reporters") or []):
            messaging = reporter.get("messaging") or {}
            keys = items.REPORTER_KEYS.get(items.read_reporter(reporter, items.Ctx(""))["type"], {})
            conf = messaging.get("configuration") or {}
            for field_name in items.SECRETS & set(keys):
                value = conf.get(keys[field_name])
                if isinstance(value, str) and value:
                    out[("reporters", i, field_name)] = value
        return out

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
        ctx = items.Ctx(project.project_key, folder_id=used_folder_ids(project, desired.depends_on))
        python = desired.fields.get("type") == "python"
        scenario = project.create_scenario(str(desired.address.name), PYTHON if python else "step_based")
        settings = scenario.get_settings()
        _write(settings, desired.fields, ctx)
        settings.save()
        return str(scenario.id)

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        project = client.get_project(desired.address.project)
        settings = remote.raw if remote.raw is not None else project.get_scenario(remote.remote_id).get_settings()
        ctx = items.Ctx(project.project_key, folder_id=used_folder_ids(project, desired.depends_on))
        _write(settings, desired.fields, ctx)
        settings.save()

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        client.get_project(address.project).get_scenario(remote_id).delete()

    # Passthrough (resources/passthrough.py): the scenario's settings document without its id, its project key,
    # DSS's version tags, and the ids DSS gives its triggers, steps and reporters (kept by place on a write).
    server_made = frozenset({"versionTag", "creationTag", "projectKey", "id"})
    document_help = ("the scenario's settings (name, type, active, triggers, params.steps, reporters...), without "
                     "the ids DSS gives it and its triggers, steps and reporters")

    def document(self, remote: Remote) -> dict[str, Any] | None:
        doc = without(remote.raw.get_raw(), self.server_made)
        for key, holder in _id_lists(doc):
            holder[key] = without_ids(holder[key])
        return doc

    def write_document(self, client: DSSClient, address: Address, document: dict[str, Any],
                       remote: Remote | None) -> str:
        project = client.get_project(address.project)
        if remote is None:  # created under the YAML key, as dss-iac creates scenarios (the id follows the key)
            scenario = project.create_scenario(str(address.name), str(document.get("type", "step_based")))
            settings, remote_id = scenario.get_settings(), str(scenario.id)
        else:
            settings, remote_id = remote.raw, remote.remote_id
        raw = settings.get_raw()
        new = merged(raw, document)  # an item keeps the id DSS gave the one at its place
        raw.clear()
        raw.update(new)
        settings.save()
        return remote_id

    def document_refs(self, document: dict[str, Any]) -> list[str]:
        steps = (document.get("params") or {}).get("steps") or []
        return [str(b.get("itemId")) for s in steps if isinstance(s, dict) and s.get("type") == "build_flowitem"
                for b in (s.get("params") or {}).get("builds") or [] if b.get("type") == "DATASET"]

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

    def adopt_item(self, root: str, sub: list[str], found: Any, compared: Any,
                   logical: Callable[[str, Any], Any]) -> Any:
        """The YAML value of `root.sub` (`steps.1.sql`, or a whole item `steps.3`) as DSS has it, for adopt."""
        family = dict(FAMILIES)[root]
        if len(sub) == 1:  # an item added in DSS, or gone (None)
            if found is None:
                return None
            item = _yaml(family, found, lambda p: logical(CONNECTION, p), None, "")
            if item.get("code_env") is not None:
                item["code_env"] = logical(CODE_ENV, item["code_env"])
            return item
        leaf = sub[-1]
        if leaf in ITEM_NAMES:
            return logical(ITEM_NAMES[leaf], found)
        if leaf == "code":
            raise _shapes.Unwritable(f"{root}.{'.'.join(sub)} cannot be adopted: the code goes to a file the item "
                                     "names, and no item of the file matches this one; set it by hand")
        if leaf == "scenario" and isinstance(found, str) and "." not in found:
            return found.lower()
        return found


def _yaml(family: str, fields: Mapping[str, Any], logical: Any, code_file: items.CodeFile | None,
          stem: str) -> dict[str, Any]:
    out = items.to_yaml(family, fields, {}, code_file, stem)
    if "connection" in out:
        out["connection"] = logical(out["connection"])
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
    return Remote(scenario_id, fields_of(project, settings), settings)


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


def fields_of(project: DSSProject, settings: Any) -> dict[str, Any]:
    doc = settings.get_raw()
    steps = (doc.get("params") or {}).get("steps") or []
    key = project.project_key
    folders = any(isinstance(b, dict) and b.get("type") == "MANAGED_FOLDER" for s in steps
                  for k in ("builds", "items") for b in (s.get("params") or {}).get(k) or [])
    ctx = items.Ctx(key, folder_name=folder_names_by_id(project) if folders else {})
    python = doc.get("type") == PYTHON
    out: dict[str, Any] = {
        "name": doc.get("name", ""), "type": "python" if python else "step_based",
        "active": bool(doc.get("active", False)),
        "triggers": [items.read_trigger(t, ctx) for t in doc.get("triggers") or []],
        "steps": [items.read_step(s, ctx) for s in steps],
        "reporters": [items.read_reporter(r, ctx) for r in doc.get("reporters") or []],
        "tags": tag_set(doc.get("tags") or []), "description": doc.get("description") or "",
        "test": bool(doc.get("markedAsTest", False)),
    }
    if python:
        out["code"] = getattr(settings, "code", None) or ""
    return out


def _write(settings: Any, fields: dict[str, Any], ctx: items.Ctx) -> None:
    """Write the managed fields into the scenario's settings; everything else in them is left as it was."""
    doc = settings.get_raw()
    doc["name"] = fields["name"]
    doc["active"] = fields["active"]
    doc["triggers"] = _written(doc.get("triggers"), fields["triggers"], items.write_trigger, ctx)
    if "reporters" in fields:
        doc["reporters"] = _written(doc.get("reporters"), fields["reporters"], items.write_reporter, ctx)
    if fields.get("type") == "python":
        settings.code = fields.get("code", "")
    else:
        params = doc.setdefault("params", {})
        params["steps"] = _written(params.get("steps"), fields["steps"], items.write_step, ctx)
    if "test" in fields:
        doc["markedAsTest"] = bool(fields["test"])
    describe(doc, fields)



def _id_lists(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Where a scenario document lists items DSS gives ids to: (key, the mapping holding that list)."""
    params = doc.get("params")
    found = [("triggers", doc), ("reporters", doc), ("steps", params if isinstance(params, dict) else {})]
    return [(key, where) for key, where in found if key in where]


def _written(old: Any, wanted: list[dict[str, Any]], write: Any, ctx: items.Ctx) -> list[dict[str, Any]]:
    """Each wanted item written over DSS's item at the same position (kept when of the same type), or new."""
    old = old if isinstance(old, list) else []
    return [write(old[i] if i < len(old) else None, f, ctx) for i, f in enumerate(wanted)]
