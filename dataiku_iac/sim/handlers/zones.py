"""Flow zones: list, create, read, save, delete, and moving flow objects between zones.

An object lives in exactly one zone. The default zone holds every object no other zone lists, so it
always exists, lists no items and cannot be deleted; "moving an object to the default zone" means
taking it out of every other zone. A recipe always sits in the zone of its outputs: moving one moves
the other (DSS: "additional items may be moved ... notably the recipe generating obj", flow.py).

Zone items are smart refs and must serialise exactly as {"objectId","objectType"} (with "projectKey"
first for foreign objects): `flow.get_zone_of_object` compares `json.dumps` of both. The store may
reorder keys when it persists, so items are rebuilt in that order on every reply.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import copy_doc
from .projects import touch

DEFAULT_ZONE = "default"
DEFAULT_ZONE_DOC: dict[str, Any] = {"id": DEFAULT_ZONE, "name": "Default", "color": "#2ab1ac"}
ZONE_ID_CHARS = string.ascii_letters + string.digits
ZONE_ID_LENGTH = 7

# Where a project record keeps each kind of flow object a zone item can name.
OBJECT_COLLECTIONS: dict[str, str] = {
    "DATASET": "datasets",
    "MANAGED_FOLDER": "managedFolders",
    "RECIPE": "recipes",
    "SAVED_MODEL": "savedModels",
    "MODEL_EVALUATION_STORE": "modelEvaluationStores",
    "STREAMING_ENDPOINT": "streamingEndpoints",
    "LABELING_TASK": "labelingTasks",
    "RETRIEVABLE_KNOWLEDGE": "knowledgeBanks",
}
# Recipe inputs/outputs name these by their plain id; the recipe's own entry says nothing about type.
COMPUTABLE_TYPES = ("DATASET", "MANAGED_FOLDER", "SAVED_MODEL", "MODEL_EVALUATION_STORE", "STREAMING_ENDPOINT")


def smart_ref(object_type: str, object_id: str, project_key: str | None = None) -> dict[str, str]:
    """A zone item in the key order the client's json.dumps comparison expects."""
    if project_key is None:
        return {"objectId": object_id, "objectType": object_type}
    return {"projectKey": project_key, "objectId": object_id, "objectType": object_type}


def _canonical(item: dict[str, Any]) -> dict[str, str]:
    return smart_ref(item["objectType"], item["objectId"], item.get("projectKey"))


# -- the recipe graph, as far as zones need it ----------------------------------------------------------

def recipe_refs(entry: dict[str, Any], side: str) -> Iterator[str]:
    """The refs a stored recipe names on one side ("inputs" or "outputs"), role by role."""
    roles = (entry.get("recipe") or {}).get(side) or {}
    for role in roles.values():
        for item in (role or {}).get("items") or []:
            if isinstance(item, dict) and isinstance(item.get("ref"), str):
                yield item["ref"]


def recipes_using(record: dict[str, Any], ref: str, sides: tuple[str, ...] = ("inputs", "outputs")) -> list[str]:
    """Names of the recipes of a project that read or write a (local) computable."""
    return sorted(name for name, entry in (record.get("recipes") or {}).items()
                  if any(ref in recipe_refs(entry, side) for side in sides))


def _computable_type(record: dict[str, Any], ref: str) -> str | None:
    for object_type in COMPUTABLE_TYPES:
        if ref in (record.get(OBJECT_COLLECTIONS[object_type]) or {}):
            return object_type
    return None


def _move_set(record: dict[str, Any], refs: list[dict[str, str]]) -> list[dict[str, str]]:
    """The objects that move together: a recipe with its outputs, an output with the recipe making it."""
    todo, moved = list(refs), []
    while todo:
        ref = todo.pop(0)
        if ref in moved:
            continue
        moved.append(ref)
        if "projectKey" in ref:
            continue  # a foreign object drags nothing of this project along
        if ref["objectType"] == "RECIPE":
            entry = (record.get("recipes") or {}).get(ref["objectId"]) or {}
            for out in recipe_refs(entry, "outputs"):
                out_type = _computable_type(record, out)
                if out_type is not None:
                    todo.append(smart_ref(out_type, out))
        else:
            todo.extend(smart_ref("RECIPE", name) for name in recipes_using(record, ref["objectId"], ("outputs",)))
    return moved


# -- keeping zones in step with the objects ------------------------------------------------------------

def _stored_zones(record: dict[str, Any]) -> dict[str, Any]:
    return record.setdefault("zones", {})


def forget_object(record: dict[str, Any], object_type: str, object_id: str) -> None:
    """Take a deleted local object out of every zone."""
    gone = smart_ref(object_type, object_id)
    for zone in _stored_zones(record).values():
        for key in ("items", "shared"):
            zone[key] = [i for i in zone.get(key) or [] if _canonical(i) != gone]


def rename_object(record: dict[str, Any], object_type: str, old_id: str, new_id: str) -> None:
    """A renamed local object keeps its zone."""
    old = smart_ref(object_type, old_id)
    for zone in _stored_zones(record).values():
        for key in ("items", "shared"):
            zone[key] = [smart_ref(object_type, new_id) if _canonical(i) == old else i
                         for i in zone.get(key) or []]


def remove_from_flow(record: dict[str, Any], object_type: str, object_id: str) -> list[str]:
    """Delete a computable's dependents: DSS deletes the recipes that read or write a deleted
    dataset or folder ("and objects using it", managedfolder.py delete). Returns the recipes removed."""
    removed = recipes_using(record, object_id)
    for name in removed:
        del record["recipes"][name]
        forget_object(record, "RECIPE", name)
    forget_object(record, object_type, object_id)
    return removed


def _exists(ctx: Ctx, record: dict[str, Any], ref: dict[str, str]) -> bool:
    owner = record if "projectKey" not in ref else ctx.store.projects.get(ref["projectKey"])
    if owner is None:
        return False
    return ref["objectId"] in (owner.get(OBJECT_COLLECTIONS[ref["objectType"]]) or {})


# -- zone documents --------------------------------------------------------------------------------------

def _view(ctx: Ctx, record: dict[str, Any], zone: dict[str, Any]) -> dict[str, Any]:
    """A zone as DSS returns it. Items of objects deleted since (by any handler) are left out."""
    out = {"id": zone["id"], "name": zone["name"], "color": zone["color"]}
    for key in ("items", "shared"):
        items = [_canonical(i) for i in zone.get(key) or []]
        out[key] = [i for i in items if _exists(ctx, record, i)]
    return out


def _ordered(record: dict[str, Any]) -> list[dict[str, Any]]:
    zones = _stored_zones(record)
    default = zones.get(DEFAULT_ZONE) or {**DEFAULT_ZONE_DOC, "items": [], "shared": []}
    others = sorted((z for k, z in zones.items() if k != DEFAULT_ZONE), key=lambda z: z.get("seq", 0))
    return [default, *others]


def _zone(ctx: Ctx, record: dict[str, Any], zone_id: str) -> dict[str, Any]:
    for zone in _ordered(record):
        if zone["id"] == zone_id:
            return zone
    raise ctx.not_found(f"Flow zone {zone_id} does not exist in project {record['projectKey']}")


def _persist(record: dict[str, Any], zone: dict[str, Any]) -> dict[str, Any]:
    """Store a zone (the default zone is only stored once something about it changes)."""
    _stored_zones(record)[zone["id"]] = zone
    return zone


def _zone_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request("A flow zone needs a non-empty name")
    return value


def _zone_color(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise bad_request("A flow zone color must be a string such as #2ab1ac")
    return value


def _new_zone_id(record: dict[str, Any]) -> str:
    while True:
        zone_id = "".join(secrets.choice(ZONE_ID_CHARS) for _ in range(ZONE_ID_LENGTH))
        if zone_id not in _stored_zones(record) and zone_id != DEFAULT_ZONE:
            return zone_id


def _parse_ref(ctx: Ctx, record: dict[str, Any], body: Any) -> dict[str, str]:
    """Validate a smart ref sent by the client; a ref to this very project is local."""
    if not isinstance(body, dict):
        raise bad_request("Expected an object reference {objectId, objectType}")
    object_type, object_id = body.get("objectType"), body.get("objectId")
    if object_type not in OBJECT_COLLECTIONS:
        raise bad_request(f"Unsupported flow object type: {object_type}")
    if not isinstance(object_id, str) or not object_id:
        raise bad_request("An object reference needs an objectId")
    project_key = body.get("projectKey")
    ref = smart_ref(object_type, object_id, None if project_key in (None, record["projectKey"]) else project_key)
    if not _exists(ctx, record, ref):
        where = ref.get("projectKey", record["projectKey"])
        raise ctx.not_found(f"{object_type} {object_id} does not exist in project {where}")
    return ref


def _move(record: dict[str, Any], refs: list[dict[str, str]], target: dict[str, Any]) -> None:
    moved = _move_set(record, refs)
    for zone in _stored_zones(record).values():
        zone["items"] = [i for i in zone.get("items") or [] if _canonical(i) not in moved]
    if target["id"] == DEFAULT_ZONE:
        return  # being in no other zone is what being in the default zone means
    target["items"] = [*target["items"], *moved]
    target["shared"] = [i for i in target.get("shared") or [] if _canonical(i) not in moved]


# -- endpoints ---------------------------------------------------------------------------------------------

@route("GET", "/projects/{project_key}/flow/zones")
def list_zones(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    record = ctx.project(project_key)
    return [_view(ctx, record, z) for z in _ordered(record)]


@route("POST", "/projects/{project_key}/flow/zones")
def create_zone(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    name = _zone_name(body.get("name"))
    color = _zone_color(body.get("color") or DEFAULT_ZONE_DOC["color"])
    seq = max((z.get("seq", 0) for z in _stored_zones(record).values()), default=0) + 1
    zone = _persist(record, {"id": _new_zone_id(record), "name": name, "color": color,
                             "items": [], "shared": [], "seq": seq})
    touch(ctx, record)
    return _view(ctx, record, zone)


@route("GET", "/projects/{project_key}/flow/zones/{zone_id}")
def get_zone(ctx: Ctx, project_key: str, zone_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    return _view(ctx, record, _zone(ctx, record, zone_id))


@route("PUT", "/projects/{project_key}/flow/zones/{zone_id}")
def save_zone(ctx: Ctx, project_key: str, zone_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    zone = copy_doc(_zone(ctx, record, zone_id))
    body = ctx.req.json_object()
    # Only the name and color are settings; items and shared objects change through their own calls.
    zone["name"] = _zone_name(body.get("name", zone["name"]))
    zone["color"] = _zone_color(body.get("color", zone["color"]))
    _persist(record, zone)
    touch(ctx, record)
    return {}


@route("DELETE", "/projects/{project_key}/flow/zones/{zone_id}")
def delete_zone(ctx: Ctx, project_key: str, zone_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    _zone(ctx, record, zone_id)
    if zone_id == DEFAULT_ZONE:
        raise bad_request("The default flow zone cannot be deleted")
    # Its objects fall back to the default zone simply by no longer being listed anywhere.
    del _stored_zones(record)[zone_id]
    touch(ctx, record)
    return {}


def _add(ctx: Ctx, project_key: str, zone_id: str, bodies: list[Any]) -> dict[str, Any]:
    record = ctx.project(project_key)
    target = copy_doc(_zone(ctx, record, zone_id))
    refs = [_parse_ref(ctx, record, b) for b in bodies]  # all valid before anything moves
    if target["id"] != DEFAULT_ZONE:
        _persist(record, target)
    _move(record, refs, target)
    touch(ctx, record)
    return _view(ctx, record, target)


@route("POST", "/projects/{project_key}/flow/zones/{zone_id}/items")
def add_item(ctx: Ctx, project_key: str, zone_id: str) -> dict[str, Any]:
    return _add(ctx, project_key, zone_id, [ctx.req.json_object()])


@route("POST", "/projects/{project_key}/flow/zones/{zone_id}/add-items")
def add_items(ctx: Ctx, project_key: str, zone_id: str) -> dict[str, Any]:
    bodies = ctx.req.json([])
    if not isinstance(bodies, list):
        raise bad_request("Expected a list of object references")
    return _add(ctx, project_key, zone_id, bodies)


@route("POST", "/projects/{project_key}/flow/zones/{zone_id}/shared")
def add_shared(ctx: Ctx, project_key: str, zone_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    zone = copy_doc(_zone(ctx, record, zone_id))
    ref = _parse_ref(ctx, record, ctx.req.json_object())
    # Sharing only shows the object in another zone too; it stays where it lives.
    if ref not in [_canonical(i) for i in zone["shared"]]:
        zone["shared"] = [*zone["shared"], ref]
    _persist(record, zone)
    touch(ctx, record)
    return _view(ctx, record, zone)


@route("DELETE", "/projects/{project_key}/flow/zones/{zone_id}/shared/{object_type}/{object_id}")
def remove_shared(ctx: Ctx, project_key: str, zone_id: str, object_type: str, object_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    zone = copy_doc(_zone(ctx, record, zone_id))
    gone = smart_ref(object_type, object_id)
    zone["shared"] = [i for i in zone["shared"] if _canonical(i) != gone]
    _persist(record, zone)
    touch(ctx, record)
    return _view(ctx, record, zone)
