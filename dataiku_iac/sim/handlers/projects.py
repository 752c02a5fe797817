"""Projects: create, list, summary, delete, settings, metadata, tag definitions, variables, permissions."""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import bad_request, forbidden
from ..routing import route
from ._common import active_bundle_id, already_exists, check_project_key, copy_doc, fill_defaults, sort_tags
from .admin_security import user_groups
from .instance import future_reply
from .project_settings import check_project_settings

PERMISSION_FLAGS = (
    "admin", "readProjectContent", "writeProjectContent", "readDashboards", "writeDashboards",
    "runScenarios", "exportDatasetsData", "manageDashboardAuthorizations", "manageExposedElements",
    "manageAdditionalDashboardUsers", "executeApp", "moderateDashboards", "shareToWorkspaces",
    "publishToDataCollections", "editPermissions",
)

SETTINGS_DEFAULTS: dict[str, Any] = {
    "settings": {
        "codeEnvs": {
            "python": {"mode": "USE_BUILTIN_MODE", "useBuiltinEnv": True},
            "r": {"mode": "USE_BUILTIN_MODE", "useBuiltinEnv": True},
        },
        "container": {"containerMode": "INHERIT"},
        "cluster": {"clusterMode": "INHERIT"},
        "k8sCluster": {"clusterMode": "INHERIT"},
        "flowBuildSettings": {"mergeSparkPipelines": True},
    },
    "exposedObjects": {"objects": []},
    "metrics": {"probes": [], "engineConfig": {}},
    "metricsChecks": {"checks": []},
    "bundleExporterSettings": {
        "exportOptions": {
            "includedDatasetsData": [],
            "includedManagedFolders": [],
            "includedSavedModels": [],
            "exportGitRepository": False,
            "exportInsightsData": True,
        }
    },
}

METADATA_DEFAULTS: dict[str, Any] = {
    "label": "",
    "description": "",
    "shortDesc": "",
    "tags": [],
    "checklists": {"checklists": []},
    "custom": {"kv": {}},
}


def new_project(ctx: Ctx, key: str, name: str, owner: str, description: str = "",
                tags: list[str] | None = None, permissions: list[dict[str, Any]] | None = None,
                settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """An empty project record, as DSS creates it. Also used by bundle imports on automation nodes."""
    metadata = fill_defaults({"label": name, "description": description or "", "tags": list(tags or [])},
                             METADATA_DEFAULTS)
    record: dict[str, Any] = {
        "projectKey": key,
        "metadata": sort_tags(metadata),
        "settings": fill_defaults(dict(settings or {}), SETTINGS_DEFAULTS),
        "variables": {"standard": {}, "local": {}},
        "permissions": {
            "owner": owner,
            "permissions": [_normalise_permission(p) for p in permissions or []],
            "dashboardAuthorizations": {"allAuthorized": False, "authorizations": []},
            "additionalDashboardUsers": {"users": []},
        },
        "tagDefs": {"tags": {}},
        "datasets": {},
        "datasetMetadata": {},
        "managedFolders": {},
        "zones": {},
        "recipes": {},
        "scenarios": {},
        "bundles": {"exported": {}, "imported": {}},
        "creationTag": ctx.creation_tag(),
    }
    record["versionTag"] = dict(record["creationTag"])
    return record


def _normalise_permission(entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict) or not (entry.get("group") or entry.get("user")):
        raise bad_request("Each permission entry needs a 'group' or a 'user'")
    out = {k: v for k, v in entry.items() if k in ("group", "user")}
    for flag in PERMISSION_FLAGS:
        out[flag] = bool(entry.get(flag, False))
    return out


def summary(record: dict[str, Any]) -> dict[str, Any]:
    meta = record["metadata"]
    return {
        "projectKey": record["projectKey"],
        "name": meta.get("label", record["projectKey"]),
        "ownerLogin": record["permissions"]["owner"],
        "shortDesc": meta.get("shortDesc", ""),
        "description": meta.get("description", ""),
        "tags": list(meta.get("tags", [])),
        "versionTag": copy_doc(record["versionTag"]),
        "creationTag": copy_doc(record["creationTag"]),
        # Dataiku's rollback sample reads the running bundle from here on automation nodes.
        "activeBundleState": {"bundleId": bundle} if (bundle := active_bundle_id(record)) else {},
    }


def touch(ctx: Ctx, record: dict[str, Any]) -> None:
    """A change anywhere in a project bumps the project's own version tag and persists it."""
    ctx.bump_version(record, dict(record))
    ctx.store.mark(record["projectKey"])


@route("GET", "/projects/")
def list_projects(ctx: Ctx) -> list[dict[str, Any]]:
    wanted = set(ctx.req.param_list("tags"))
    out = [summary(p) for _, p in sorted(ctx.store.projects.items())]
    if wanted:
        out = [p for p in out if wanted & set(p["tags"])]
    return out


@route("POST", "/projects/")
def create_project(ctx: Ctx) -> dict[str, Any]:
    body = ctx.req.json_object()
    key = check_project_key(body.get("projectKey"))
    if key in ctx.store.projects:
        raise already_exists("Project", key)
    name = body.get("name") or key
    owner = body.get("owner") or ctx.key.login
    record = new_project(ctx, key, name, owner, body.get("description") or "", body.get("tags") or [],
                         body.get("permissions") or [], body.get("settings") or None)
    ctx.store.projects[key] = record
    ctx.store.mark(key)
    return {"projectKey": key}


@route("GET", "/projects/{project_key}")
def get_summary(ctx: Ctx, project_key: str) -> dict[str, Any]:
    return summary(ctx.project(project_key))


def require_project_admin(ctx: Ctx, record: dict[str, Any]) -> None:
    """DSS lets a project be deleted by an instance administrator, its owner, or a user given the project's
    Admin permission (directly or through one of their groups); anyone else is refused, even with write
    access to its content."""
    login, perms = ctx.key.login, record["permissions"]
    if ctx.key.admin or perms["owner"] == login:
        return
    groups = set(user_groups(ctx.store, login))
    if any(p.get("admin") and (p.get("user") == login or p.get("group") in groups) for p in perms["permissions"]):
        return
    raise forbidden(f"Action forbidden: user {login} is not an administrator of project {record['projectKey']}")


@route("DELETE", "/projects/{project_key}")
def delete_project(ctx: Ctx, project_key: str) -> dict[str, Any]:
    require_project_admin(ctx, ctx.project(project_key))
    del ctx.store.projects[project_key]
    ctx.store.mark(project_key)
    return future_reply(ctx, {"anyMessage": False, "success": True, "messages": []})


@route("GET", "/projects/{project_key}/settings")
def get_settings(ctx: Ctx, project_key: str) -> dict[str, Any]:
    return copy_doc(ctx.project(project_key)["settings"])


@route("PUT", "/projects/{project_key}/settings")
def save_settings(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    # Whole-document save: what is sent replaces what was there; DSS fills the defaults back in.
    doc = fill_defaults(ctx.req.json_object(), SETTINGS_DEFAULTS)
    check_project_settings(doc)
    record["settings"] = doc
    touch(ctx, record)
    return {}


@route("GET", "/projects/{project_key}/metadata")
def get_metadata(ctx: Ctx, project_key: str) -> dict[str, Any]:
    return copy_doc(ctx.project(project_key)["metadata"])


@route("PUT", "/projects/{project_key}/metadata")
def save_metadata(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    meta = fill_defaults(ctx.req.json_object(), METADATA_DEFAULTS)
    if not isinstance(meta["tags"], list):
        raise bad_request("'tags' must be a list of strings")
    record["metadata"] = sort_tags(meta)
    touch(ctx, record)
    return {}


@route("GET", "/projects/{project_key}/tags")
def get_tag_definitions(ctx: Ctx, project_key: str) -> dict[str, Any]:
    return copy_doc(ctx.project(project_key)["tagDefs"])


@route("PUT", "/projects/{project_key}/tags")
def save_tag_definitions(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    if not isinstance(body.get("tags", {}), dict):
        raise bad_request("'tags' must map tag names to their definitions")
    record["tagDefs"] = {"tags": body.get("tags", {})}
    touch(ctx, record)
    return {}


@route("GET", "/projects/{project_key}/variables")
def get_variables(ctx: Ctx, project_key: str) -> dict[str, Any]:
    return copy_doc(ctx.project(project_key)["variables"])


@route("PUT", "/projects/{project_key}/variables")
def save_variables(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    for part in ("standard", "local"):
        if not isinstance(body.get(part, {}), dict):
            raise bad_request(f"Project variables '{part}' must be a JSON object")
    record["variables"] = {"standard": body.get("standard", {}), "local": body.get("local", {})}
    touch(ctx, record)
    return {}


@route("GET", "/projects/{project_key}/permissions")
def get_permissions(ctx: Ctx, project_key: str) -> dict[str, Any]:
    return copy_doc(ctx.project(project_key)["permissions"])


@route("PUT", "/projects/{project_key}/permissions")
def save_permissions(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    entries = body.get("permissions", [])
    if not isinstance(entries, list):
        raise bad_request("'permissions' must be a list")
    perms = record["permissions"]
    perms["permissions"] = [_normalise_permission(p) for p in entries]
    perms["owner"] = body.get("owner") or perms["owner"]
    for key in ("dashboardAuthorizations", "additionalDashboardUsers"):
        if key in body:
            perms[key] = body[key]
    touch(ctx, record)
    return {}
