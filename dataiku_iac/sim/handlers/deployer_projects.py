"""Project Deployer: stages, published projects and their bundles."""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import already_exists, check_project_key, copy_doc
from .bundles_archive import read_archive
from .deployer_store import (
    DEPLOYER,
    deployer_data,
    deployment_basic_info,
    deployments_where,
    infra_basic_info,
    published_bundle,
    published_project,
)

PUBLISHED_PERMISSION_FLAGS = ("admin", "read", "write", "deploy")


@route("GET", "/project-deployer/stages", nodes=DEPLOYER)
def list_stages(ctx: Ctx) -> list[dict[str, Any]]:
    return copy_doc(deployer_data(ctx.store)["stages"])


# -- published projects --------------------------------------------------------------------------------------------
def _new_published_project(ctx: Ctx, key: Any) -> dict[str, Any]:
    check_project_key(key, "published project")
    project = {"id": key, "owner": ctx.key.login, "permissions": [], "createdOn": ctx.now_ms(), "bundles": {}}
    deployer_data(ctx.store)["projects"][key] = project
    ctx.store.mark()
    return project


def publish_to_deployer(ctx: Ctx, key: str, data: bytes, manifest: dict[str, Any]) -> dict[str, Any]:
    """Add a bundle archive to a published project, created if missing. -> the bundle's published state."""
    bundle_id = manifest["bundleId"]
    project = deployer_data(ctx.store)["projects"].get(key)
    if project is not None and bundle_id in project["bundles"]:
        raise already_exists("Bundle", f"{bundle_id} in published project {key}")
    if project is None:
        project = _new_published_project(ctx, key)
    state = {"publishedOn": ctx.now_ms(), "publishedBy": ctx.key.login, "publishedProjectKey": key}
    project["bundles"][bundle_id] = {
        "id": bundle_id,
        "blobId": ctx.store.put_blob(data),
        "seq": ctx.store.counter("deployerBundles"),
        "publishedOn": state["publishedOn"],
        "publishedBy": state["publishedBy"],
        "designNodeInfo": {"projectKey": manifest["projectKey"], "nodeId": manifest.get("designNodeId")},
        "releaseNotes": manifest.get("releaseNotes", ""),
    }
    ctx.store.mark()
    return state


def _status(ctx: Ctx, project: dict[str, Any]) -> dict[str, Any]:
    infras = deployer_data(ctx.store)["infras"]
    deployments = [deployment_basic_info(d) for d in deployments_where(ctx.store, publishedProjectKey=project["id"])]
    used = sorted({d["infraId"] for d in deployments if d["infraId"] in infras})
    packages = sorted(project["bundles"].values(), key=lambda b: b["seq"])
    return copy_doc({
        "projectBasicInfo": {"id": project["id"], "name": project["id"], "owner": project["owner"]},
        "canDeploy": True,
        "isAdmin": ctx.key.admin or project["owner"] == ctx.key.login,
        "packages": [{k: v for k, v in b.items() if k not in ("blobId", "seq")} for b in packages],
        "deployments": deployments,
        "infras": [{"infraBasicInfo": infra_basic_info(infras[i])} for i in used],
    })


@route("GET", "/project-deployer/projects", nodes=DEPLOYER)
def list_published(ctx: Ctx) -> list[dict[str, Any]]:
    projects = deployer_data(ctx.store)["projects"]
    return [_status(ctx, projects[k]) for k in sorted(projects)]


@route("POST", "/project-deployer/projects", nodes=DEPLOYER)
def create_published(ctx: Ctx) -> dict[str, Any]:
    key = ctx.req.json_object().get("publishedProjectKey")
    if isinstance(key, str) and key in deployer_data(ctx.store)["projects"]:
        raise already_exists("Published project", key)
    return _status(ctx, _new_published_project(ctx, key))


@route("GET", "/project-deployer/projects/{key}", nodes=DEPLOYER)
def get_published(ctx: Ctx, key: str) -> dict[str, Any]:
    return _status(ctx, published_project(ctx, key))


@route("DELETE", "/project-deployer/projects/{key}", nodes=DEPLOYER)
def delete_published(ctx: Ctx, key: str) -> dict[str, Any]:
    published_project(ctx, key)
    users = deployments_where(ctx.store, publishedProjectKey=key)
    if users:
        ids = ", ".join(d["settings"]["id"] for d in users)
        raise bad_request(f"Published project {key} is used by deployments ({ids}): delete them first")
    del deployer_data(ctx.store)["projects"][key]
    ctx.store.mark()
    return {}


@route("GET", "/project-deployer/projects/{key}/settings", nodes=DEPLOYER)
def get_published_settings(ctx: Ctx, key: str) -> dict[str, Any]:
    project = published_project(ctx, key)
    return copy_doc({"id": project["id"], "owner": project["owner"], "permissions": project["permissions"]})


def normalise_permissions(entries: Any, flags: tuple[str, ...]) -> list[dict[str, Any]]:
    """Deployer permission lists: `{group | user, <flag>: bool...}`; missing flags are false."""
    if not isinstance(entries, list):
        raise bad_request("'permissions' must be a list")
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or not (entry.get("group") or entry.get("user")):
            raise bad_request("Each permission entry needs a 'group' or a 'user'")
        who = {k: entry[k] for k in ("group", "user") if entry.get(k)}
        out.append({**who, **{f: bool(entry.get(f, False)) for f in flags}})
    return out


@route("PUT", "/project-deployer/projects/{key}/settings", nodes=DEPLOYER)
def save_published_settings(ctx: Ctx, key: str) -> dict[str, Any]:
    project = published_project(ctx, key)
    body = ctx.req.json_object()
    permissions = normalise_permissions(body.get("permissions", []), PUBLISHED_PERMISSION_FLAGS)
    owner = body.get("owner") or project["owner"]
    if not isinstance(owner, str):
        raise bad_request("'owner' must be a login")
    project["owner"], project["permissions"] = owner, permissions
    ctx.store.mark()
    return {}


# -- bundles of published projects ----------------------------------------------------------------------------------
@route("POST", "/project-deployer/projects/bundles", nodes=DEPLOYER)
def upload_bundle(ctx: Ctx) -> dict[str, Any]:
    files = ctx.req.files()
    if "file" not in files:
        raise bad_request("Expected the bundle archive in a multipart field named 'file'")
    data = files["file"][1]
    manifest, _ = read_archive(data)
    return publish_to_deployer(ctx, ctx.req.param("projectKey") or manifest["projectKey"], data, manifest)


@route("GET", "/project-deployer/projects/{key}/bundles/{bundle_id}", nodes=DEPLOYER)
def download_bundle(ctx: Ctx, key: str, bundle_id: str) -> Any:
    from ..server import Raw  # server imports the handlers: import at call time

    entry = published_bundle(ctx, published_project(ctx, key), bundle_id)
    return Raw(ctx.store.get_blob(entry["blobId"]), "application/zip")


@route("DELETE", "/project-deployer/projects/{key}/bundles/{bundle_id}", nodes=DEPLOYER)
def delete_bundle(ctx: Ctx, key: str, bundle_id: str) -> dict[str, Any]:
    project = published_project(ctx, key)
    published_bundle(ctx, project, bundle_id)
    users = deployments_where(ctx.store, publishedProjectKey=key, bundleId=bundle_id)
    if users:
        ids = ", ".join(d["settings"]["id"] for d in users)
        raise bad_request(f"Bundle {bundle_id} is used by deployments ({ids}): it can't be deleted")
    del project["bundles"][bundle_id]
    ctx.store.mark()
    return {}
