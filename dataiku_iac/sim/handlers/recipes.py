"""Recipes: create (the creator flow of recipe.py), list, settings with payload, delete.

A project record keeps `recipes[name]` = {"recipe": definition, "payload": string}. The flow rules
enforced here: inputs and outputs name existing datasets or folders (foreign inputs as PROJECT.name),
a dataset has at most one writer, and the flow stays acyclic.
"""

from __future__ import annotations

import json
from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import already_exists, check_name, copy_doc, fill_defaults, sort_tags, suffixed
from .datasets import build_managed_dataset, insert_dataset
from .folders import build_managed_folder, insert_folder
from .projects import touch
from .recipe_defaults import CODE_TYPES, initial_params, visual_payload
from .zones import COMPUTABLE_TYPES, OBJECT_COLLECTIONS, forget_object, recipe_refs, recipes_using, smart_ref

SIDES = ("inputs", "outputs")
ITEM_DEFAULTS: dict[str, dict[str, Any]] = {"inputs": {"deps": []}, "outputs": {"appendMode": False}}

RECIPE_DEFAULTS: dict[str, Any] = {
    "params": {},
    "tags": [],
    "description": "",
    "shortDesc": "",
    "checklists": {"checklists": []},
    "customMeta": {"kv": {}},
    "customFields": {},
    "neverRecomputeExistingPartitions": False,
    "optionalDependencies": False,
    "redispatchPartitioning": False,
    "maxRunningActivities": 0,
    "variables": {},
    "dkuProperties": [],
}

def _initial_payload(rtype: str, creation: dict[str, Any], n_inputs: int) -> str:
    if creation.get("rawCreation"):
        raw = creation.get("rawPayload")
        return raw if isinstance(raw, str) else ""
    if rtype in CODE_TYPES:
        script = creation.get("script")
        if script is not None and not isinstance(script, str):
            raise bad_request("The recipe 'script' must be a string")
        return script or ""
    return json.dumps(visual_payload(rtype, creation, n_inputs))


def _roles(doc: dict[str, Any], side: str) -> dict[str, Any]:
    """Validate one side of a recipe ({role: {items: [{ref...}]}}) and fill the item defaults."""
    roles = doc.get(side)
    if roles is None:
        roles = doc[side] = {}
    if not isinstance(roles, dict):
        raise bad_request(f"Recipe '{side}' must map role names to {{items: [...]}}")
    for role, body in roles.items():
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise bad_request(f"Recipe {side} role '{role}' needs an 'items' list")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("ref"), str) or not item["ref"]:
                raise bad_request(f"Each item of recipe {side} role '{role}' needs a 'ref'")
            fill_defaults(item, ITEM_DEFAULTS[side])
    return roles


def _refs(doc: dict[str, Any], side: str) -> list[str]:
    return list(dict.fromkeys(recipe_refs({"recipe": doc}, side)))


def _computable(ctx: Ctx, record: dict[str, Any], ref: str) -> str | None:
    """The type of the object a ref names ("PROJECT.name" for another project's), or None if none exists."""
    owner: dict[str, Any] | None = record
    if "." in ref:
        project_key, ref = ref.split(".", 1)
        owner = ctx.store.projects.get(project_key)
    for object_type in COMPUTABLE_TYPES:
        if owner is not None and ref in (owner.get(OBJECT_COLLECTIONS[object_type]) or {}):
            return object_type
    return None


def _check_flow(ctx: Ctx, record: dict[str, Any], name: str, doc: dict[str, Any], new_outputs: set[str]) -> None:
    """Refuse missing objects, foreign outputs, a second writer of an output, and cycles."""
    key = record["projectKey"]
    for side in SIDES:
        for ref in _refs(doc, side):
            if side == "outputs" and "." in ref:
                raise bad_request(f"Recipe output {ref} is in another project: a recipe writes in its own project")
            if ref not in new_outputs and _computable(ctx, record, ref) is None:
                raise ctx.not_found(f"Recipe {side[:-1]} {ref} does not exist: no dataset or managed folder "
                                    f"of that name or id in project {ref.split('.')[0] if '.' in ref else key}")
    for ref in _refs(doc, "outputs"):
        writers = [r for r in recipes_using(record, ref, ("outputs",)) if r != name]
        if writers:
            raise bad_request(f"{ref} is already the output of recipe {writers[0]}: an object has one writer only")
    inputs = {r for r in _refs(doc, "inputs") if "." not in r}
    # Walk downstream from the outputs through the other recipes: reaching an input closes a loop.
    todo, seen = list(_refs(doc, "outputs")), set()
    while todo:
        ref = todo.pop()
        if ref in inputs:
            raise bad_request(f"Recipe {name} would create a cycle in the flow through {ref}")
        if ref in seen:
            continue
        seen.add(ref)
        for reader in recipes_using(record, ref, ("inputs",)):
            if reader != name:
                todo.extend(recipe_refs(record["recipes"][reader], "outputs"))


def _place_in_zone(record: dict[str, Any], name: str, doc: dict[str, Any]) -> None:
    """A recipe sits in the zone of its outputs (zones.py): follow the first output that lives in a zone.

    Outputs in no zone are in the default zone, and so is then the recipe; a recipe without outputs stays put.
    """
    outputs = _refs(doc, "outputs")
    if not outputs:
        return
    forget_object(record, "RECIPE", name)
    for ref in outputs:
        for zone in (record.get("zones") or {}).values():
            items = zone.get("items") or []
            if any(smart_ref(t, ref) == i for t in COMPUTABLE_TYPES for i in items):
                zone["items"] = [*items, smart_ref("RECIPE", name)]
                return


def _build_new_outputs(ctx: Ctx, record: dict[str, Any], doc: dict[str, Any],
                       creation: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The output datasets and folders the creator asked the server to create, built but not stored.

    A new folder gets a server id, and the recipe's output ref becomes that id (folders are addressed by id).
    """
    outputs = _refs(doc, "outputs")
    wanted: dict[str, Any] = {}
    if creation.get("createOutputDataset") and creation.get("createOutputFolder"):
        raise bad_request("A recipe output is either a new dataset or a new managed folder, not both")
    if creation.get("createOutputDataset"):
        wanted.update((ref, creation.get("outputDatasetSettings")) for ref in outputs)
    by_role = creation.get("outputDatasetsCreationSettingsByRole") or {}
    if not isinstance(by_role, dict) or not all(isinstance(v, dict) for v in by_role.values()):
        raise bad_request("'outputDatasetsCreationSettingsByRole' must map roles to {dataset: settings}")
    for per_dataset in by_role.values():
        wanted.update((ref, settings) for ref, settings in per_dataset.items() if ref in outputs)
    datasets = [build_managed_dataset(ctx, record, ref, settings) for ref, settings in wanted.items()]
    folders: list[dict[str, Any]] = []
    if creation.get("createOutputFolder"):
        settings = creation.get("outputFolderSettings")
        if not isinstance(settings, dict):
            raise bad_request("'outputFolderSettings' must be a JSON object")
        ids: dict[str, str] = {}
        for ref in outputs:
            folder = build_managed_folder(ctx, record, ref, {"connection": settings.get("connectionId")},
                                          settings.get("typeOptionId"))
            folders.append(folder)
            ids[ref] = folder["id"]
        for role in doc["outputs"].values():
            for item in role["items"]:
                item["ref"] = ids.get(item["ref"], item["ref"])
    return datasets, folders


def _auto_name(ctx: Ctx, record: dict[str, Any], doc: dict[str, Any]) -> str:
    """GUESS (DSS_API.md §8): DSS names an unnamed recipe after its first output, suffixed if taken."""
    outputs = _refs(doc, "outputs")
    return suffixed(ctx.options.recipe_name_pattern.format(output=outputs[0] if outputs else doc["type"]),
                    record["recipes"])


def _get(ctx: Ctx, project_key: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    record = ctx.project(project_key)
    entry = record.setdefault("recipes", {}).get(name)
    if entry is None:
        raise ctx.not_found(f"Recipe {name} does not exist in project {project_key}")
    return record, entry


@route("GET", "/projects/{project_key}/recipes/")
def list_recipes(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    record = ctx.project(project_key)
    return [copy_doc(entry["recipe"]) for _, entry in sorted(record.setdefault("recipes", {}).items())]


@route("POST", "/projects/{project_key}/recipes/")
def create_recipe(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    record.setdefault("recipes", {})
    body = ctx.req.json_object()
    doc, creation = body.get("recipePrototype"), body.get("creationSettings") or {}
    if not isinstance(doc, dict) or not isinstance(creation, dict):
        raise bad_request("Expected {recipePrototype: {...}, creationSettings: {...}}")
    if not isinstance(doc.get("type"), str) or not doc["type"]:
        raise bad_request("A recipe needs a type")
    for side in SIDES:
        _roles(doc, side)
    if doc.get("params") is None:
        doc["params"] = {}
    if not isinstance(doc["params"], dict):
        raise bad_request("Recipe 'params' must be an object")
    virtual = creation.get("virtualInputs") or []
    if not isinstance(virtual, list) or not all(isinstance(v, str) and v for v in virtual):
        raise bad_request("'virtualInputs' must be a list of dataset refs")
    if virtual:
        # Join-like creators pass inputs as virtual inputs; one dataset joined twice is one recipe input.
        main = doc["inputs"].setdefault("main", {"items": []})["items"]
        known = {i["ref"] for i in main}
        main.extend({"ref": ref, "deps": []} for ref in dict.fromkeys(virtual) if ref not in known)
    name = doc.get("name") or _auto_name(ctx, record, doc)
    check_name(name, "recipe")
    if name in record["recipes"]:
        raise already_exists("Recipe", name)
    new_datasets: list[dict[str, Any]] = []
    new_folders: list[dict[str, Any]] = []
    if not creation.get("rawCreation"):  # raw mode creates nothing and skips every check (recipe.py)
        new_datasets, new_folders = _build_new_outputs(ctx, record, doc, creation)
        _check_flow(ctx, record, name, doc, {d["name"] for d in new_datasets} | {f["id"] for f in new_folders})
    payload = _initial_payload(doc["type"], creation, len(_refs(doc, "inputs")))
    # Everything is valid: from here on the record changes.
    for dataset in new_datasets:
        insert_dataset(ctx, record, dataset)
    for folder in new_folders:
        insert_folder(ctx, record, folder)
    doc.update(projectKey=project_key, name=name)
    fill_defaults(doc["params"], initial_params(doc["type"]))
    doc = ctx.bump_version(sort_tags(fill_defaults(doc, RECIPE_DEFAULTS)), None)
    record["recipes"][name] = {"recipe": doc, "payload": payload}
    _place_in_zone(record, name, doc)
    touch(ctx, record)
    return {"name": name}


@route("GET", "/projects/{project_key}/recipes/{name}")
def get_recipe(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    return copy_doc(_get(ctx, project_key, name)[1])


@route("PUT", "/projects/{project_key}/recipes/{name}")
def save_recipe(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record, old = _get(ctx, project_key, name)
    body = ctx.req.json_object()
    doc, payload = body.get("recipe"), body.get("payload")
    if not isinstance(doc, dict):
        raise bad_request("Expected {recipe: {...}, payload: \"...\"}")
    if payload is not None and not isinstance(payload, str):
        raise bad_request("The recipe payload must be a string")
    if not isinstance(doc.get("tags", []), list) or not isinstance(doc.get("params", {}), dict):
        raise bad_request("Recipe 'tags' must be a list and 'params' an object")
    for side in SIDES:
        _roles(doc, side)
    # Whole-document save; identity and type belong to the server.
    doc.update(projectKey=project_key, name=name, type=old["recipe"]["type"])
    _check_flow(ctx, record, name, doc, set())
    doc = ctx.bump_version(sort_tags(fill_defaults(doc, RECIPE_DEFAULTS)), old["recipe"])
    record["recipes"][name] = {"recipe": doc, "payload": old["payload"] if payload is None else payload}
    _place_in_zone(record, name, doc)
    touch(ctx, record)
    return {}


@route("DELETE", "/projects/{project_key}/recipes/{name}")
def delete_recipe(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record, _ = _get(ctx, project_key, name)
    # Outputs stay: DSS deletes only the recipe.
    del record["recipes"][name]
    forget_object(record, "RECIPE", name)
    touch(ctx, record)
    return {}
