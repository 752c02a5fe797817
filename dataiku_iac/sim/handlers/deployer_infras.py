"""Project Deployer infrastructures: each one is an automation node, found by URL among the simulator's nodes.

A fresh install gets one infrastructure per automation node of the simulator (id = node name), so that
`create_deployment(..., infra_id="automation", ...)` works out of the box.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..context import Ctx, Node
from ..errors import bad_request
from ..routing import route
from ._common import already_exists, copy_doc, fill_defaults
from .bundles_activate import mapping_of
from .deployer_projects import normalise_permissions
from .deployer_store import (
    DEPLOYER,
    check_id,
    deployer_data,
    deployment_basic_info,
    deployments_where,
    infra_basic_info,
    infra_of,
)

if TYPE_CHECKING:
    from ..server import SimServer

GOVERN_POLICIES = ("NO_CHECK", "WARN", "PREVENT")
INFRA_PERMISSION_FLAGS = ("admin", "read", "deploy")
INFRA_DEFAULTS: dict[str, Any] = {
    "automationNodeUrl": "",
    "automationNodeExternalUrl": "",
    "adminApiKey": "",
    "trustAllSSLCertificates": False,
    "autoconfigureFromNodesDirectory": False,
    "nodeId": "",
    "permissions": [],
    # Infra-level remappings, copied into new deployments only (DSS_API.md §5; the key name is a guess).
    "bundleContainerSettings": {"remapping": {"connections": [], "codeEnvs": []}},
}


def _stage_for(node_name: str) -> str:
    """A sensible stage for a seeded infra, from its automation node's name."""
    name = node_name.lower()
    if "dev" in name:
        return "Development"
    if any(word in name for word in ("test", "stag", "qa", "preprod", "uat")):
        return "Test"
    return "Production"


def seed(node: Node) -> None:
    if node.kind != "DESIGN" or node.server is None:
        return
    for auto in node.server.nodes_of_kind("AUTOMATION"):
        seed_infra(node, auto)


def seed_infra(design: Node, auto: Node) -> None:
    """An infrastructure named after the automation node `auto`, on the design node, unless one exists."""
    assert design.server is not None
    infras = deployer_data(design.store)["infras"]
    if auto.name in infras:
        return
    admin_secret = next((s for s, k in design.server.keys.items() if k.admin), "")
    infras[auto.name] = fill_defaults({
        "id": auto.name, "stage": _stage_for(auto.name), "governCheckPolicy": "NO_CHECK",
        "automationNodeUrl": auto.url, "adminApiKey": admin_secret, "nodeId": auto.name,
    }, INFRA_DEFAULTS)
    design.store.mark()


def resolve_node(server: SimServer, infra: dict[str, Any]) -> Node | None:
    """The automation node an infra points to: by URL, else by node id (a restarted simulator's port moves)."""
    url = str(infra.get("automationNodeUrl") or "").rstrip("/")
    nodes = server.nodes_of_kind("AUTOMATION")
    for node in nodes:
        if url and node.url.rstrip("/") == url:
            return node
    return next((n for n in nodes if infra.get("nodeId") and n.name == infra["nodeId"]), None)


def _validated(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    stages = {s["id"] for s in deployer_data(ctx.store)["stages"]}
    if doc.get("stage") not in stages:
        raise bad_request(f"Unknown stage '{doc.get('stage')}': use one of {', '.join(sorted(stages))}")
    if doc.get("governCheckPolicy") not in GOVERN_POLICIES:
        raise bad_request(f"Invalid governCheckPolicy '{doc.get('governCheckPolicy')}': "
                          f"use one of {', '.join(GOVERN_POLICIES)}")
    doc = fill_defaults(doc, INFRA_DEFAULTS)
    if not isinstance(doc["bundleContainerSettings"], dict):
        raise bad_request("'bundleContainerSettings' must be a JSON object")
    doc["permissions"] = normalise_permissions(doc["permissions"], INFRA_PERMISSION_FLAGS)
    for kind in ("connections", "codeEnvs"):
        mapping_of(doc["bundleContainerSettings"].get("remapping"), kind)
    return doc


def _status(ctx: Ctx, infra: dict[str, Any]) -> dict[str, Any]:
    return {
        "infraBasicInfo": infra_basic_info(infra),
        "deployments": [deployment_basic_info(d) for d in deployments_where(ctx.store, infraId=infra["id"])],
        "canDeploy": True,
        "isAdmin": ctx.key.admin,
    }


@route("GET", "/project-deployer/infras", nodes=DEPLOYER)
def list_infras(ctx: Ctx) -> list[dict[str, Any]]:
    infras = deployer_data(ctx.store)["infras"]
    return [_status(ctx, infras[k]) for k in sorted(infras)]


@route("POST", "/project-deployer/infras", nodes=DEPLOYER)
def create_infra(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    body = ctx.req.json_object()
    infra_id = check_id(body.get("id"), "infrastructure id")
    infras = deployer_data(ctx.store)["infras"]
    if infra_id in infras:
        raise already_exists("Infrastructure", infra_id)
    infras[infra_id] = _validated(ctx, {"id": infra_id, "stage": body.get("stage"),
                                        "governCheckPolicy": body.get("governCheckPolicy") or "NO_CHECK"})
    ctx.store.mark()
    return _status(ctx, infras[infra_id])


@route("GET", "/project-deployer/infras/{infra_id}", nodes=DEPLOYER)
def get_infra(ctx: Ctx, infra_id: str) -> dict[str, Any]:
    return _status(ctx, infra_of(ctx, infra_id))


@route("GET", "/project-deployer/infras/{infra_id}/settings", nodes=DEPLOYER)
def get_infra_settings(ctx: Ctx, infra_id: str) -> dict[str, Any]:
    return copy_doc(infra_of(ctx, infra_id))


@route("PUT", "/project-deployer/infras/{infra_id}/settings", nodes=DEPLOYER)
def save_infra_settings(ctx: Ctx, infra_id: str) -> dict[str, Any]:
    ctx.require_admin()
    infra_of(ctx, infra_id)
    body = ctx.req.json_object()
    if body.get("id", infra_id) != infra_id:
        raise bad_request(f"The id of infrastructure {infra_id} can't be changed")
    deployer_data(ctx.store)["infras"][infra_id] = _validated(ctx, {**body, "id": infra_id})
    ctx.store.mark()
    return {}


@route("DELETE", "/project-deployer/infras/{infra_id}", nodes=DEPLOYER)
def delete_infra(ctx: Ctx, infra_id: str) -> dict[str, Any]:
    ctx.require_admin()
    infra_of(ctx, infra_id)
    users = deployments_where(ctx.store, infraId=infra_id)
    if users:
        ids = ", ".join(d["settings"]["id"] for d in users)
        raise bad_request(f"Infrastructure {infra_id} has deployments ({ids}): delete them first")
    del deployer_data(ctx.store)["infras"][infra_id]
    ctx.store.mark()
    return {}
