"""Govern blueprints and blueprint versions: the reader's view and the admin Blueprint Designer."""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import already_exists, copy_doc
from .govern_model import (
    VERSION_STATUSES,
    artifacts,
    blueprint_record,
    blueprints,
    build_workflow,
    check_identifier,
    ongoing_step,
    step_ids,
    version_record,
)
from .govern_seed import signoff_configuration, version_definition, version_trace

GOVERN = ("GOVERN",)


def _version_reply(version: dict[str, Any]) -> dict[str, Any]:
    return {"blueprintVersion": copy_doc(version["definition"]), "blueprintVersionTrace": copy_doc(version["trace"])}


def _version_items(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"blueprint": copy_doc(record["blueprint"]), **_version_reply(v)}
            for _, v in sorted(record["versions"].items())]


def _is_system(identifier: str) -> bool:
    return identifier.startswith(("bp.system.", "bv.system."))


def _editable_version(ctx: Ctx, blueprint_id: str, version_id: str) -> dict[str, Any]:
    ctx.require_admin()
    version = version_record(ctx, blueprint_id, version_id)
    if _is_system(version_id):
        raise bad_request(f"Blueprint version {version_id} is a system version and is read-only: fork it with "
                          "a new version (originVersionId) to change it")
    return version


def _users_of(ctx: Ctx, blueprint_id: str, version_id: str) -> list[dict[str, Any]]:
    return [r for r in artifacts(ctx.store).values()
            if r["artifact"]["blueprintVersionId"] == {"blueprintId": blueprint_id, "versionId": version_id}]


# -- reader's view ---------------------------------------------------------------------------------

@route("GET", "/blueprints", nodes=GOVERN)
@route("GET", "/admin/blueprints", nodes=GOVERN)
def list_blueprints(ctx: Ctx) -> list[dict[str, Any]]:
    if ctx.req.path.startswith("/admin/"):
        ctx.require_admin()
    return [{"blueprint": copy_doc(r["blueprint"])} for _, r in sorted(blueprints(ctx.store).items())]


@route("GET", "/blueprint/{blueprint_id}", nodes=GOVERN)
def get_blueprint(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    return {"blueprint": copy_doc(blueprint_record(ctx, blueprint_id)["blueprint"])}


@route("GET", "/blueprint/{blueprint_id}/versions", nodes=GOVERN)
def list_versions(ctx: Ctx, blueprint_id: str) -> list[dict[str, Any]]:
    return _version_items(blueprint_record(ctx, blueprint_id))


@route("GET", "/blueprint/{blueprint_id}/version/{version_id}", nodes=GOVERN)
def get_version(ctx: Ctx, blueprint_id: str, version_id: str) -> dict[str, Any]:
    return _version_reply(version_record(ctx, blueprint_id, version_id))


# -- Blueprint Designer: blueprints ------------------------------------------------------------------

@route("POST", "/admin/blueprints", nodes=GOVERN)
def create_blueprint(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    blueprint_id = "bp." + check_identifier(ctx.req.param("newIdentifier"), "blueprint")
    body = ctx.req.json_object()
    if blueprint_id in blueprints(ctx.store):
        raise already_exists("Blueprint", blueprint_id)
    doc = {"name": blueprint_id, "icon": "", "color": "#000000", "backgroundColor": "#ffffff", **body,
           "id": blueprint_id}
    blueprints(ctx.store)[blueprint_id] = {"blueprint": doc, "versions": {}}
    ctx.store.mark()
    return {"blueprint": copy_doc(doc)}


@route("GET", "/admin/blueprint/{blueprint_id}", nodes=GOVERN)
def admin_get_blueprint(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    ctx.require_admin()
    return get_blueprint(ctx, blueprint_id)


@route("PUT", "/admin/blueprint/{blueprint_id}", nodes=GOVERN)
def save_blueprint(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    ctx.require_admin()
    record = blueprint_record(ctx, blueprint_id)
    record["blueprint"] = {**ctx.req.json_object(), "id": blueprint_id}
    ctx.store.mark()
    return {"blueprint": copy_doc(record["blueprint"])}


@route("DELETE", "/admin/blueprint/{blueprint_id}", nodes=GOVERN)
def delete_blueprint(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    ctx.require_admin()
    record = blueprint_record(ctx, blueprint_id)
    if _is_system(blueprint_id):
        raise bad_request(f"Blueprint {blueprint_id} is a system blueprint and cannot be deleted")
    if record["versions"]:
        raise bad_request(f"Blueprint {blueprint_id} still has versions ({', '.join(sorted(record['versions']))}): "
                          "delete them first")
    del blueprints(ctx.store)[blueprint_id]
    ctx.store.mark()
    return {}


# -- Blueprint Designer: versions -------------------------------------------------------------------

@route("GET", "/admin/blueprint/{blueprint_id}/versions", nodes=GOVERN)
def admin_list_versions(ctx: Ctx, blueprint_id: str) -> list[dict[str, Any]]:
    ctx.require_admin()
    return list_versions(ctx, blueprint_id)


@route("POST", "/admin/blueprint/{blueprint_id}/versions", nodes=GOVERN)
def create_version(ctx: Ctx, blueprint_id: str) -> dict[str, Any]:
    ctx.require_admin()
    record = blueprint_record(ctx, blueprint_id)
    version_id = "bv." + check_identifier(ctx.req.param("newIdentifier"), "blueprint version")
    if version_id in record["versions"]:
        raise already_exists("Blueprint version", version_id)
    name = ctx.req.param("name") or version_id
    origin_id = ctx.req.param("originVersionId")
    if origin_id:
        # A fork copies the origin's fields, workflow, views and sign-off configurations.
        origin = version_record(ctx, blueprint_id, origin_id)
        definition = {**copy_doc(origin["definition"]), "id": {"blueprintId": blueprint_id, "versionId": version_id},
                      "name": name}
        confs = {sid: signoff_configuration(blueprint_id, version_id, sid, copy_doc(c))
                 for sid, c in origin["signoffs"].items()}
    else:
        definition, confs = version_definition(blueprint_id, version_id, name), {}
    version = {"definition": definition, "trace": version_trace(blueprint_id, version_id, "DRAFT", origin_id),
               "signoffs": confs}
    record["versions"][version_id] = version
    ctx.store.mark()
    return _version_reply(version)


@route("GET", "/admin/blueprint/{blueprint_id}/version/{version_id}", nodes=GOVERN)
def admin_get_version(ctx: Ctx, blueprint_id: str, version_id: str) -> dict[str, Any]:
    ctx.require_admin()
    return get_version(ctx, blueprint_id, version_id)


def _check_definition(body: dict[str, Any]) -> list[str]:
    """Validate a version definition sent by the client; return its step ids."""
    if not isinstance(body.get("fieldDefinitions", {}), dict):
        raise bad_request("'fieldDefinitions' must map field ids to field definitions")
    steps = body.get("workflowDefinition", {}).get("stepDefinitions", []) \
        if isinstance(body.get("workflowDefinition", {}), dict) else None
    if not isinstance(steps, list) or not all(isinstance(s, dict) and isinstance(s.get("id"), str) for s in steps):
        raise bad_request("'workflowDefinition.stepDefinitions' must be a list of steps, each with a string 'id'")
    ids = [s["id"] for s in steps]
    if len(set(ids)) != len(ids):
        raise bad_request(f"Duplicate workflow step ids in {ids}")
    return ids


@route("PUT", "/admin/blueprint/{blueprint_id}/version/{version_id}", nodes=GOVERN)
def save_version(ctx: Ctx, blueprint_id: str, version_id: str) -> dict[str, Any]:
    version = _editable_version(ctx, blueprint_id, version_id)
    body = ctx.req.json_object()
    new_steps = _check_definition(body)
    old_steps = step_ids(version)
    lost_fields = set(version["definition"].get("fieldDefinitions", {})) - set(body.get("fieldDefinitions", {}))
    lost_steps = set(old_steps) - set(new_steps)
    users = _users_of(ctx, blueprint_id, version_id)
    if users and (lost_fields or lost_steps) and not ctx.req.bool_param("dangerZoneAccepted"):
        raise bad_request(f"{len(users)} artifact(s) use blueprint version {version_id}: removing fields "
                          f"{sorted(lost_fields)} or steps {sorted(lost_steps)} would drop their data. "
                          "Save with dangerZoneAccepted to proceed")
    version["definition"] = {**body, "id": {"blueprintId": blueprint_id, "versionId": version_id}}
    for sid in lost_steps:
        version["signoffs"].pop(sid, None)
    for record in users:
        # Artifacts follow their version: removed fields and steps go, added steps start NOT_STARTED.
        artifact = record["artifact"]
        artifact["fields"] = {k: v for k, v in artifact.get("fields", {}).items() if k not in lost_fields}
        kept = {"steps": {k: v for k, v in artifact["workflow"]["steps"].items() if k in new_steps}}
        artifact["workflow"] = build_workflow(new_steps, kept, None)
        artifact["status"]["stepId"] = ongoing_step(new_steps, artifact["workflow"])
        for sid in lost_steps:
            record["signoffs"].pop(sid, None)
    ctx.store.mark()
    return _version_reply(version)


@route("PUT", "/admin/blueprint/{blueprint_id}/version/{version_id}/status", nodes=GOVERN)
def set_version_status(ctx: Ctx, blueprint_id: str, version_id: str) -> dict[str, Any]:
    version = _editable_version(ctx, blueprint_id, version_id)
    status = ctx.req.json()
    if status not in VERSION_STATUSES:
        raise bad_request(f"Invalid blueprint version status {status!r}: use one of {', '.join(VERSION_STATUSES)}")
    version["trace"]["status"] = status
    ctx.store.mark()
    return _version_reply(version)


@route("DELETE", "/admin/blueprint/{blueprint_id}/version/{version_id}", nodes=GOVERN)
def delete_version(ctx: Ctx, blueprint_id: str, version_id: str) -> dict[str, Any]:
    _editable_version(ctx, blueprint_id, version_id)
    users = _users_of(ctx, blueprint_id, version_id)
    if users:
        raise bad_request(f"Blueprint version {version_id} is used by {len(users)} artifact(s): delete them first")
    del blueprint_record(ctx, blueprint_id)["versions"][version_id]
    ctx.store.mark()
    return {}


# -- Blueprint Designer: sign-off configurations ------------------------------------------------------

@route("GET", "/admin/blueprint/{blueprint_id}/version/{version_id}/signoffs", nodes=GOVERN)
def list_signoff_configurations(ctx: Ctx, blueprint_id: str, version_id: str) -> list[dict[str, Any]]:
    ctx.require_admin()
    version = version_record(ctx, blueprint_id, version_id)
    return [copy_doc(version["signoffs"][sid]) for sid in step_ids(version) if sid in version["signoffs"]]


def _configuration(ctx: Ctx, blueprint_id: str, version_id: str, step_id: str) -> dict[str, Any]:
    version = version_record(ctx, blueprint_id, version_id)
    conf = version["signoffs"].get(step_id)
    if conf is None:
        raise ctx.not_found(f"No sign-off configuration on step {step_id} of blueprint version {version_id}")
    return conf


def _check_configuration(body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body.get("title"), str) or not body["title"].strip():
        raise bad_request("A sign-off configuration needs a non-empty 'title'")
    groups = body.get("feedbackUsersGroups", [])
    if not isinstance(groups, list) or not all(isinstance(g, dict) and isinstance(g.get("id"), str) for g in groups):
        raise bad_request("'feedbackUsersGroups' must be a list of groups, each with a string 'id'")
    if len({g["id"] for g in groups}) != len(groups):
        raise bad_request("Feedback group ids must be unique")
    if not isinstance(body.get("approvers", []), list):
        raise bad_request("'approvers' must be a list of users containers")
    return body


@route("GET", "/admin/blueprint/{blueprint_id}/version/{version_id}/workflow/step/{step_id}/signoff",
       nodes=GOVERN)
def get_signoff_configuration(ctx: Ctx, blueprint_id: str, version_id: str, step_id: str) -> dict[str, Any]:
    ctx.require_admin()
    return copy_doc(_configuration(ctx, blueprint_id, version_id, step_id))


@route("POST", "/admin/blueprint/{blueprint_id}/version/{version_id}/workflow/step/{step_id}/signoff",
       nodes=GOVERN)
def create_signoff_configuration(ctx: Ctx, blueprint_id: str, version_id: str, step_id: str) -> dict[str, Any]:
    version = _editable_version(ctx, blueprint_id, version_id)
    if step_id not in step_ids(version):
        raise bad_request(f"Blueprint version {version_id} has no workflow step '{step_id}'")
    if step_id in version["signoffs"]:
        raise already_exists("Sign-off configuration of step", step_id)
    conf = signoff_configuration(blueprint_id, version_id, step_id, _check_configuration(ctx.req.json_object()))
    version["signoffs"][step_id] = conf
    ctx.store.mark()
    return copy_doc(conf)


@route("PUT", "/admin/blueprint/{blueprint_id}/version/{version_id}/workflow/step/{step_id}/signoff",
       nodes=GOVERN)
def save_signoff_configuration(ctx: Ctx, blueprint_id: str, version_id: str, step_id: str) -> dict[str, Any]:
    version = _editable_version(ctx, blueprint_id, version_id)
    _configuration(ctx, blueprint_id, version_id, step_id)
    conf = signoff_configuration(blueprint_id, version_id, step_id, _check_configuration(ctx.req.json_object()))
    version["signoffs"][step_id] = conf
    ctx.store.mark()
    return copy_doc(conf)


@route("DELETE", "/admin/blueprint/{blueprint_id}/version/{version_id}/workflow/step/{step_id}/signoff",
       nodes=GOVERN)
def delete_signoff_configuration(ctx: Ctx, blueprint_id: str, version_id: str, step_id: str) -> dict[str, Any]:
    version = _editable_version(ctx, blueprint_id, version_id)
    _configuration(ctx, blueprint_id, version_id, step_id)
    del version["signoffs"][step_id]
    ctx.store.mark()
    return {}
