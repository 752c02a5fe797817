"""Project Deployer: governance checks and deployment updates (pushing a bundle to an automation node).

An update runs synchronously while the design node's lock is held; it takes the automation node's lock
inside, and Govern's to read sign-offs (always design first: no lock-order inversion). A failed update
answers the POST with the DSS error, so `deployment.start_update().wait_for_result()` raises as it does
when a real update job fails; the deployment keeps its previous bundle and reports health ERROR.
"""

from __future__ import annotations

from typing import Any

from ..context import Ctx, Node
from ..errors import SimError
from ..routing import route
from ._common import copy_doc
from .bundles_activate import activate, create_from_bundle, default_container_settings, import_bundle, touch_in
from .bundles_archive import info_report, message
from .deployer_infras import resolve_node
from .deployer_store import DEPLOYER, deployment_of, infra_of, published_bundle, published_project
from .govern import bundle_signoff_status
from .instance import future_reply

# What an update pushes; a change to any of these after an update puts the deployment OUT_OF_SYNC.
APPLIED_KEYS = ("bundleId", "deployedProjectKey", "bundleContainerSettings", "localVariables",
                "scenariosToActivate", "disableAutomaticTriggers")
MAX_UPDATES_KEPT = 20


def applied_view(settings: dict[str, Any]) -> dict[str, Any]:
    return copy_doc({k: settings.get(k) for k in APPLIED_KEYS})


# -- governance ---------------------------------------------------------------------------------------------------
def governance_messages(ctx: Ctx, infra: dict[str, Any], published_key: str, bundle_id: str) -> list[dict[str, Any]]:
    """What the infra's govern check policy says about deploying this bundle (DSS governance docs:
    PREVENT blocks unapproved bundles, WARN asks for confirmation, NO_CHECK deploys regardless)."""
    policy = infra.get("governCheckPolicy", "NO_CHECK")
    if policy == "NO_CHECK":
        return [message("INFO", "INFO_GOVERN_NO_CHECK",
                        f"Infrastructure {infra['id']} deploys bundles without checking their governance")]
    status = bundle_signoff_status(ctx.server, published_key, bundle_id)  # None: no artifact governs it
    if status == "APPROVED":
        return [message("SUCCESS", "INFO_GOVERN_BUNDLE_APPROVED", f"Bundle {bundle_id} is approved in Govern")]
    state = "is not governed" if status is None else f"has sign-off status {status}"
    title = f"Bundle {bundle_id} of published project {published_key} {state}"
    if policy == "PREVENT":
        return [message("ERROR", "ERR_GOVERN_BUNDLE_NOT_APPROVED", title,
                        f"Infrastructure {infra['id']} prevents deploying unapproved bundles: "
                        "complete the sign-off in Govern first", fatal=True)]
    return [message("WARNING", "WARN_GOVERN_BUNDLE_NOT_APPROVED", title,
                    f"Infrastructure {infra['id']} warns before deploying unapproved bundles")]


def _failure(severity_messages: list[dict[str, Any]]) -> str:
    return "; ".join(f"{m['code']}: {m['title']} ({m['details']})" for m in severity_messages)


def check_governance(ctx: Ctx, infra: dict[str, Any], published_key: str, bundle_id: str,
                     ignore_warnings: bool) -> None:
    """Refuse to point a deployment at a bundle its infra's policy blocks (warnings pass with ignoreWarnings)."""
    msgs = governance_messages(ctx, infra, published_key, bundle_id)
    errors = [m for m in msgs if m["severity"] == "ERROR"]
    warnings = [m for m in msgs if m["severity"] == "WARNING"]
    if errors:
        raise SimError(400, "exceptions.CodedException", _failure(errors))
    if warnings and not ignore_warnings:
        raise SimError(400, "exceptions.CodedException", _failure(warnings) + " (set ignoreWarnings to deploy anyway)")


@route("GET", "/project-deployer/deployments/{deployment_id}/governance-status", nodes=DEPLOYER)
def governance_status(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    settings = deployment_of(ctx, deployment_id)["settings"]
    bundle_id = ctx.req.param("bundleId") or settings["bundleId"]
    published_bundle(ctx, published_project(ctx, settings["publishedProjectKey"]), bundle_id)
    infra = infra_of(ctx, settings["infraId"])
    return info_report(governance_messages(ctx, infra, settings["publishedProjectKey"], bundle_id))


# -- updates ------------------------------------------------------------------------------------------------------
def _push(ctx: Ctx, settings: dict[str, Any]) -> tuple[Node, list[dict[str, Any]]]:
    """Deploy the settings' bundle on the infra's automation node. -> (node, messages); raises on failure."""
    infra = infra_of(ctx, settings["infraId"])
    node = resolve_node(ctx.server, infra)
    if node is None:
        raise SimError(400, "exceptions.CodedException",
                       f"Infrastructure {infra['id']} points to no known automation node "
                       f"(automationNodeUrl '{infra.get('automationNodeUrl')}')")
    published_key, bundle_id = settings["publishedProjectKey"], settings["bundleId"]
    gov = governance_messages(ctx, infra, published_key, bundle_id)
    errors = [m for m in gov if m["severity"] == "ERROR"]
    if errors:
        raise SimError(400, "exceptions.CodedException", _failure(errors))
    data = ctx.store.get_blob(published_bundle(ctx, published_project(ctx, published_key), bundle_id)["blobId"])
    key = settings["deployedProjectKey"]
    remapping = settings["bundleContainerSettings"].get("remapping") or {}
    with node.store.transaction():
        store = node.store
        record = store.projects.get(key)
        if record is None:
            record = create_from_bundle(ctx, store, data, key=key, fail_on_missing=False)
        else:
            import_bundle(ctx, store, record, data, redeploy=True)
        container = record["settings"].setdefault("bundleContainerSettings", default_container_settings())
        container["remapping"] = {**(container.get("remapping") or {}),
                                  "connections": copy_doc(remapping.get("connections") or []),
                                  "codeEnvs": copy_doc(remapping.get("codeEnvs") or [])}
        touch_in(ctx, store, record)
        report = activate(ctx, store, record, bundle_id, settings.get("scenariosToActivate"))
        # Node-specific values go in only once the bundle is active: a failed update leaves them alone.
        record["variables"]["local"] = copy_doc(settings.get("localVariables") or {})
        record["settings"].setdefault("settings", {})["disableAutomaticTriggers"] = \
            bool(settings.get("disableAutomaticTriggers"))
        touch_in(ctx, store, record)
    return node, [m for m in gov if m["severity"] == "WARNING"] + report["messages"]


def _log_update(ctx: Ctx, dep: dict[str, Any], start: int, status: str, lines: list[str]) -> None:
    updates = dep.setdefault("updates", [])
    updates.append({"startTimestamp": start, "endTimestamp": ctx.now_ms(), "requester": ctx.key.login,
                    "status": status, "type": "UPDATE", "logs": {"lines": lines}})
    del updates[:-MAX_UPDATES_KEPT]


@route("POST", "/project-deployer/deployments/{deployment_id}/actions/update", nodes=DEPLOYER)
def start_update(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    dep = deployment_of(ctx, deployment_id)
    settings = copy_doc(dep["settings"])
    previous = dep.get("updates") or [{"startTimestamp": 0}]
    start = max(ctx.now_ms(), previous[-1]["startTimestamp"] + 1)  # update ids are their timestamps
    lines = [f"Deploying bundle {settings['bundleId']} of {settings['publishedProjectKey']} "
             f"as project {settings['deployedProjectKey']} on infrastructure {settings['infraId']}"]
    ctx.store.mark()
    try:
        node, messages = _push(ctx, settings)
    except SimError as e:
        failure = message("ERROR", "ERR_DEPLOYMENT_UPDATE_FAILED", f"Update failed: {e.message}", fatal=True)
        dep["state"] = {**dep.get("state", {}), "health": "ERROR", "messages": [failure],
                        "lastUpdateFailed": True, "lastUpdateOn": start}
        _log_update(ctx, dep, start, "FAILED", [*lines, f"ERROR: {e.message}"])
        raise SimError(e.status, e.error_type, f"Update of deployment {deployment_id} failed: {e.message}") from None
    warned = any(m["severity"] == "WARNING" for m in messages)
    dep["state"] = {"health": "WARNING" if warned else "HEALTHY", "messages": messages,
                    "lastUpdateFailed": False, "lastUpdateOn": start, "deployedBundleId": settings["bundleId"],
                    "automationNode": node.name, "applied": applied_view(settings)}
    _log_update(ctx, dep, start, "WARNING" if warned else "SUCCESS",
                [*lines, *(f"{m['severity']}: {m['title']}" for m in messages), "Bundle activated"])
    result = {"deploymentId": deployment_id, "bundleId": settings["bundleId"],
              "deployedProjectKey": settings["deployedProjectKey"], **info_report(messages)}
    return future_reply(ctx, result)


def _update_item(update: dict[str, Any]) -> dict[str, Any]:
    return {k: update[k] for k in ("startTimestamp", "type", "status")}


@route("GET", "/project-deployer/deployments/{deployment_id}/update", nodes=DEPLOYER)
def list_updates(ctx: Ctx, deployment_id: str) -> list[dict[str, Any]]:
    return [_update_item(u) for u in reversed(deployment_of(ctx, deployment_id).get("updates", []))]


@route("GET", "/project-deployer/deployments/{deployment_id}/last-update", nodes=DEPLOYER)
def last_update(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    updates = deployment_of(ctx, deployment_id).get("updates", [])
    if not updates:
        raise ctx.not_found(f"Deployment {deployment_id} has never been updated")
    return copy_doc(updates[-1])


@route("GET", "/project-deployer/deployments/{deployment_id}/update/{timestamp}", nodes=DEPLOYER)
def get_update(ctx: Ctx, deployment_id: str, timestamp: str) -> dict[str, Any]:
    for update in deployment_of(ctx, deployment_id).get("updates", []):
        if str(update["startTimestamp"]) == timestamp:
            return copy_doc(update)
    raise ctx.not_found(f"Deployment {deployment_id} has no update started at {timestamp}")
