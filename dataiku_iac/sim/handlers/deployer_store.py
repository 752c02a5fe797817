"""Project Deployer data, shared by its modules. The deployer runs on the design node (a "local deployer"),
so its state is one instance-level collection of the design node's store:

    projectDeployer = {"stages": [{id, desc}], "projects": {key: published project},
                       "infras": {id: settings}, "deployments": {id: {settings, state, updates}}}
"""

from __future__ import annotations

import re
from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..store import Store
from ._common import copy_doc

DEPLOYER = ("DESIGN",)
DEFAULT_STAGES = (
    {"id": "Development", "desc": "Development"},
    {"id": "Test", "desc": "Test"},
    {"id": "Production", "desc": "Production"},
)
# Ids of infras and deployments; published project keys follow project keys (the DSS rules are unverified).
DEPLOYER_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def deployer_data(store: Store) -> dict[str, Any]:
    data = store.coll("projectDeployer")
    if "stages" not in data:
        data["stages"] = [dict(s) for s in DEFAULT_STAGES]
    for key in ("projects", "infras", "deployments"):
        data.setdefault(key, {})
    return data


def check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not DEPLOYER_ID_RE.match(value):
        raise bad_request(f"Invalid {what} '{value}': use letters, digits, '.', '-' and '_'")
    return value


def _get(ctx: Ctx, kind: str, what: str, key: str) -> dict[str, Any]:
    doc = deployer_data(ctx.store)[kind].get(key)
    if doc is None:
        raise ctx.not_found(f"{what} {key} does not exist")
    return doc


def published_project(ctx: Ctx, key: str) -> dict[str, Any]:
    return _get(ctx, "projects", "Published project", key)


def infra_of(ctx: Ctx, infra_id: str) -> dict[str, Any]:
    return _get(ctx, "infras", "Infrastructure", infra_id)


def deployment_of(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    return _get(ctx, "deployments", "Deployment", deployment_id)


def published_bundle(ctx: Ctx, project: dict[str, Any], bundle_id: str) -> dict[str, Any]:
    entry = project["bundles"].get(bundle_id)
    if entry is None:
        raise ctx.not_found(f"Bundle {bundle_id} does not exist in published project {project['id']}")
    return entry


def deployments_where(store: Store, **match: str) -> list[dict[str, Any]]:
    """Deployments whose settings match every given field, by id."""
    deps = deployer_data(store)["deployments"]
    return [deps[k] for k in sorted(deps) if all(deps[k]["settings"].get(f) == v for f, v in match.items())]


def infra_basic_info(infra: dict[str, Any]) -> dict[str, Any]:
    return {"id": infra["id"], "stage": infra["stage"], "governCheckPolicy": infra["governCheckPolicy"]}


def deployment_basic_info(dep: dict[str, Any]) -> dict[str, Any]:
    s = dep["settings"]
    keys = ("id", "publishedProjectKey", "infraId", "bundleId", "deployedProjectKey", "projectFolderId", "tags")
    return copy_doc({k: s.get(k) for k in keys})
