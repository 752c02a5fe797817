"""Bundles on the design node: export, list, archive, delete, publish; and project imports."""

from __future__ import annotations

import uuid
from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import already_exists, check_project_key, copy_doc
from .bundles_activate import apply_snapshot, connection_errors, mapping_of, remap_snapshot, touch_in
from .bundles_archive import (
    build_archive,
    check_bundle_id,
    export_manifest,
    info_report,
    message,
    read_archive,
    snapshot_of,
)
from .deployer_projects import publish_to_deployer
from .projects import new_project

DESIGN = ("DESIGN",)


def _exported(record: dict[str, Any]) -> dict[str, Any]:
    return record.setdefault("bundles", {"exported": {}, "imported": {}}).setdefault("exported", {})


def _exported_entry(ctx: Ctx, project_key: str, bundle_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    record = ctx.project(project_key)
    entry = _exported(record).get(bundle_id)
    if entry is None:
        raise ctx.not_found(f"Bundle {bundle_id} does not exist in project {project_key}")
    return record, entry


def _item(entry: dict[str, Any]) -> dict[str, Any]:
    item = {"bundleId": entry["bundleId"], "exportManifest": entry["exportManifest"]}
    if entry.get("publishedBundleState"):
        item["publishedBundleState"] = entry["publishedBundleState"]
    return copy_doc(item)


@route("GET", "/projects/{project_key}/bundles/exported", nodes=DESIGN)
def list_exported(ctx: Ctx, project_key: str) -> dict[str, Any]:
    entries = sorted(_exported(ctx.project(project_key)).values(), key=lambda e: e["seq"])
    return {"bundles": [_item(e) for e in entries]}


@route("PUT", "/projects/{project_key}/bundles/exported/{bundle_id}", nodes=DESIGN)
def export_bundle(ctx: Ctx, project_key: str, bundle_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    check_bundle_id(bundle_id)
    exported = _exported(record)
    if bundle_id in exported:
        raise already_exists("Bundle", f"{bundle_id} in project {project_key}")
    snapshot = snapshot_of(record)
    manifest = export_manifest(ctx, record, bundle_id, ctx.req.param("releaseNotes") or "", snapshot,
                               standards_skipped=not ctx.req.bool_param("evaluateProjectStandardsChecks", True))
    exported[bundle_id] = {
        "bundleId": bundle_id,
        "blobId": ctx.store.put_blob(build_archive(manifest, snapshot)),
        "seq": ctx.store.counter("bundleExports"),
        "exportManifest": manifest,
    }
    ctx.store.mark(project_key)
    return _item(exported[bundle_id])


@route("GET", "/projects/{project_key}/bundles/exported/{bundle_id}/archive", nodes=DESIGN)
def exported_archive(ctx: Ctx, project_key: str, bundle_id: str) -> Any:
    from ..server import Raw  # server imports the handlers: import at call time

    _, entry = _exported_entry(ctx, project_key, bundle_id)
    return Raw(ctx.store.get_blob(entry["blobId"]), "application/zip")


@route("DELETE", "/projects/{project_key}/bundles/exported/{bundle_id}", nodes=DESIGN)
def delete_exported(ctx: Ctx, project_key: str, bundle_id: str) -> dict[str, Any]:
    record, _ = _exported_entry(ctx, project_key, bundle_id)
    del _exported(record)[bundle_id]
    ctx.store.mark(project_key)
    return {}


@route("POST", "/projects/{project_key}/bundles/{bundle_id}/publish", nodes=DESIGN)
def publish_bundle(ctx: Ctx, project_key: str, bundle_id: str) -> dict[str, Any]:
    record, entry = _exported_entry(ctx, project_key, bundle_id)
    published_key = ctx.req.param("publishedProjectKey") or project_key
    data = ctx.store.get_blob(entry["blobId"])
    state = publish_to_deployer(ctx, published_key, data, entry["exportManifest"])
    entry["publishedBundleState"] = state
    ctx.store.mark(record["projectKey"])
    return copy_doc(state)


# -- design-node project import: upload an archive, then process it with a remapping -----------------------------
@route("POST", "/projects/import/upload", nodes=DESIGN)
def upload_import(ctx: Ctx) -> dict[str, Any]:
    files = ctx.req.files()
    if "file" not in files:
        raise bad_request("Expected the archive in a multipart field named 'file'")
    data = files["file"][1]
    read_archive(data)  # refuse what could never be imported
    import_id = uuid.uuid4().hex[:12]
    ctx.store.coll("projectImports")[import_id] = {"blobId": ctx.store.put_blob(data), "by": ctx.key.login}
    ctx.store.mark()
    return {"id": import_id}


@route("POST", "/projects/import/{import_id}/process", nodes=DESIGN)
def process_import(ctx: Ctx, import_id: str) -> dict[str, Any]:
    pending = ctx.store.coll("projectImports")
    if import_id not in pending:
        raise ctx.not_found(f"Import {import_id} does not exist (already processed, or never uploaded)")
    body = ctx.req.json_object()  # the client sends {"_": "_"} for "no settings"
    manifest, snapshot = read_archive(ctx.store.get_blob(pending[import_id]["blobId"]))
    key = check_project_key(body.get("targetProjectKey") or manifest["projectKey"])
    remapping = body.get("remapping") or {}
    conn_map = mapping_of(remapping, "connections")
    env_map = mapping_of(remapping, "codeEnvs")
    errors = connection_errors(ctx.store, manifest, snapshot, conn_map)
    if errors:  # the request succeeds, the import does not (client docstring: check `success`)
        return {**info_report(errors), "success": False}
    del pending[import_id]
    ctx.store.mark()
    record = ctx.store.projects.get(key)
    if record is None:
        meta = snapshot.get("metadata") or {}
        record = new_project(ctx, key, meta.get("label") or key, ctx.key.login, meta.get("description") or "")
        ctx.store.projects[key] = record
    apply_snapshot(record, remap_snapshot(snapshot, conn_map, env_map, key), None)
    touch_in(ctx, ctx.store, record)
    done = message("SUCCESS", "INFO_PROJECT_IMPORTED", f"Project {key} imported from {manifest['projectKey']}")
    return {**info_report([done]), "success": True, "projectKey": key}
