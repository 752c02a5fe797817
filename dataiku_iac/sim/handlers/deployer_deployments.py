"""Project Deployer deployments: create, list, light and heavy status, settings, delete."""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import already_exists, check_project_key, copy_doc, fill_defaults, sort_tags
from .bundles_activate import mapping_of
from .bundles_archive import info_report, message
from .deployer_infras import resolve_node
from .deployer_store import (
    DEPLOYER,
    check_id,
    deployer_data,
    deployment_basic_info,
    deployment_of,
    deployments_where,
    infra_basic_info,
    infra_of,
    published_bundle,
    published_project,
)
from .deployer_update import applied_view, check_governance

SETTINGS_DEFAULTS: dict[str, Any] = {
    "tags": [],
    "projectFolderId": None,
    "bundleContainerSettings": {
        "remapping": {"connections": [], "codeEnvs": []},
        "codeEnvsBehavior": {"importTimeMode": "INSTALL_IF_MISS", "envImportSpecificationMode": "SPECIFIED"},
    },
    "localVariables": {},
    "scenariosToActivate": {},
    "disableAutomaticTriggers": False,
}
_TYPES: dict[str, type] = {"tags": list, "localVariables": dict, "scenariosToActivate": dict,
                           "disableAutomaticTriggers": bool, "bundleContainerSettings": dict}


def _validated(ctx: Ctx, doc: dict[str, Any], previous: dict[str, Any] | None, ignore_warnings: bool) -> dict[str, Any]:
    """Check a whole settings document against the deployer's state; returns it normalised."""
    doc = fill_defaults(doc, SETTINGS_DEFAULTS)
    for key, kind in _TYPES.items():
        if not isinstance(doc[key], kind):
            raise bad_request(f"Deployment setting '{key}' must be a {kind.__name__}")
    remapping = doc["bundleContainerSettings"].get("remapping")
    for what in ("connections", "codeEnvs"):
        mapping_of(remapping, what)
    project = published_project(ctx, doc["publishedProjectKey"])
    infra = infra_of(ctx, doc["infraId"])
    published_bundle(ctx, project, doc["bundleId"])
    key = check_project_key(doc["deployedProjectKey"], "deployed project")
    clash = [d for d in deployments_where(ctx.store, infraId=doc["infraId"], deployedProjectKey=key)
             if d["settings"]["id"] != doc["id"]]
    if clash:
        raise bad_request(f"Deployment {clash[0]['settings']['id']} already deploys project {key} "
                          f"on infrastructure {doc['infraId']}")
    if previous is None or previous["bundleId"] != doc["bundleId"]:
        check_governance(ctx, infra, doc["publishedProjectKey"], doc["bundleId"], ignore_warnings)
    return sort_tags(doc)


def _light(ctx: Ctx, dep: dict[str, Any]) -> dict[str, Any]:
    s = dep["settings"]
    infra = deployer_data(ctx.store)["infras"].get(s["infraId"])
    return {
        "deploymentBasicInfo": deployment_basic_info(dep),
        "projectBasicInfo": {"id": s["publishedProjectKey"], "name": s["publishedProjectKey"]},
        "infraBasicInfo": infra_basic_info(infra) if infra else {"id": s["infraId"]},
    }


@route("GET", "/project-deployer/deployments", nodes=DEPLOYER)
def list_deployments(ctx: Ctx) -> list[dict[str, Any]]:
    return [_light(ctx, d) for d in deployments_where(ctx.store)]


@route("POST", "/project-deployer/deployments", nodes=DEPLOYER)
def create_deployment(ctx: Ctx) -> dict[str, Any]:
    body = ctx.req.json_object()
    dep_id = check_id(body.get("deploymentId"), "deployment id")
    deployments = deployer_data(ctx.store)["deployments"]
    if dep_id in deployments:
        raise already_exists("Deployment", dep_id)
    for field in ("publishedProjectKey", "infraId", "bundleId"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise bad_request(f"Missing '{field}'")
    infra = infra_of(ctx, body["infraId"])
    # Infra-level remappings seed new deployments only (DSS_API.md §5, level 1).
    infra_remapping = (infra.get("bundleContainerSettings") or {}).get("remapping") or {}
    doc = {
        "id": dep_id,
        "publishedProjectKey": body["publishedProjectKey"],
        "infraId": body["infraId"],
        "bundleId": body["bundleId"],
        "deployedProjectKey": body.get("deployedProjectKey") or body["publishedProjectKey"],
        "projectFolderId": body.get("projectFolderId"),
        "bundleContainerSettings": {"remapping": {
            "connections": copy_doc(infra_remapping.get("connections") or []),
            "codeEnvs": copy_doc(infra_remapping.get("codeEnvs") or []),
        }},
    }
    deployments[dep_id] = {"settings": _validated(ctx, doc, None, ctx.req.bool_param("ignoreWarnings")),
                           "createdOn": ctx.now_ms(), "createdBy": ctx.key.login}
    ctx.store.mark()
    return _light(ctx, deployments[dep_id])


@route("GET", "/project-deployer/deployments/{deployment_id}", nodes=DEPLOYER)
def get_deployment(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    return _light(ctx, deployment_of(ctx, deployment_id))


@route("DELETE", "/project-deployer/deployments/{deployment_id}", nodes=DEPLOYER)
def delete_deployment(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    # The deployed project stays on the automation node, as in DSS.
    deployment_of(ctx, deployment_id)
    del deployer_data(ctx.store)["deployments"][deployment_id]
    ctx.store.mark()
    return {}


@route("GET", "/project-deployer/deployments/{deployment_id}/settings", nodes=DEPLOYER)
def get_deployment_settings(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    return copy_doc(deployment_of(ctx, deployment_id)["settings"])


@route("PUT", "/project-deployer/deployments/{deployment_id}/settings", nodes=DEPLOYER)
def save_deployment_settings(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    dep = deployment_of(ctx, deployment_id)
    previous = dep["settings"]
    body = ctx.req.json_object()
    for fixed in ("id", "publishedProjectKey", "infraId"):
        if body.get(fixed, previous[fixed]) != previous[fixed]:
            raise bad_request(f"'{fixed}' of deployment {deployment_id} can't be changed")
    doc = {**body, **{k: previous[k] for k in ("id", "publishedProjectKey", "infraId")}}
    for key in ("bundleId", "deployedProjectKey"):
        doc.setdefault(key, previous[key])
    dep["settings"] = _validated(ctx, doc, previous, ctx.req.bool_param("ignoreWarnings"))
    ctx.store.mark()
    return {}


@route("GET", "/project-deployer/deployments/{deployment_id}/status", nodes=DEPLOYER)
def deployment_status(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    dep = deployment_of(ctx, deployment_id)
    health, messages = _health(ctx, dep)
    state = dep.get("state") or {}
    return copy_doc({"health": health, "healthMessages": info_report(messages),
                     "deployedBundleId": state.get("deployedBundleId"), "lastUpdateOn": state.get("lastUpdateOn")})


def _health(ctx: Ctx, dep: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    state = dep.get("state")
    settings = dep["settings"]
    if not state:
        return "UNKNOWN", [message("INFO", "INFO_DEPLOYMENT_NEVER_UPDATED", "The deployment has never been updated")]
    if state["lastUpdateFailed"]:
        return "ERROR", state["messages"]
    infra = deployer_data(ctx.store)["infras"].get(settings["infraId"])
    node = resolve_node(ctx.server, infra) if infra else None
    key = settings["deployedProjectKey"]
    deployed = False
    if node is not None:
        with node.store.transaction():
            record = node.store.projects.get(key)
            deployed = record is not None and (record.get("activeBundleState") or {}).get("bundleId") \
                == state["deployedBundleId"]
    if not deployed:
        return "ERROR", [message("ERROR", "ERR_DEPLOYMENT_PROJECT_MISSING",
                                 f"Project {key} with bundle {state['deployedBundleId']} is no longer active "
                                 f"on infrastructure {settings['infraId']}", fatal=True)]
    if applied_view(settings) != state["applied"]:
        return "OUT_OF_SYNC", [message("WARNING", "WARN_DEPLOYMENT_OUT_OF_SYNC",
                                       "The deployment's settings changed since its last update: update it")]
    return state["health"], state["messages"]
