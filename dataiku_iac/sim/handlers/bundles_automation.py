"""Bundles on automation nodes: create a project from a bundle, import, list, preload, activate, delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..context import Ctx
from ..errors import SimError, bad_request
from ..routing import route
from .bundles_activate import (
    activate,
    create_from_bundle,
    import_bundle,
    imported_entry,
    imported_item,
    imported_of,
    touch_in,
)
from .bundles_archive import info_report

AUTOMATION = ("AUTOMATION",)


def _uploaded(ctx: Ctx) -> bytes:
    files = ctx.req.files()
    if "file" not in files:
        raise bad_request("Expected the bundle archive in a multipart field named 'file'")
    return files["file"][1]


def _local_archive(ctx: Ctx) -> bytes:
    """`archivePath` names a file on the DSS server's own disk (here: the simulator's machine). Only an
    administrator may name one: anyone else gets the same refusal whether the file exists or not, so the
    endpoint tells nothing about the server's files."""
    ctx.require_admin()
    path = ctx.req.param("archivePath")
    if not path:
        raise bad_request("Missing parameter 'archivePath'")
    file = Path(path)
    try:
        if not file.is_file():
            # DSS reports a missing server-side file as an I/O failure.
            raise SimError(500, "java.io.FileNotFoundException", f"Not a file: {path}")
        if file.stat().st_size > ctx.options.max_body_bytes:
            raise bad_request(f"Archive {path} is larger than {ctx.options.max_body_bytes} bytes")
        return file.read_bytes()
    except (OSError, ValueError) as e:  # unreadable, or a name no file can have (a NUL byte)
        raise SimError(500, "java.io.IOException", f"Cannot read {path}: {getattr(e, 'strerror', None) or e}") from None


def _create_project(ctx: Ctx, data: bytes) -> dict[str, Any]:
    record = create_from_bundle(
        ctx, ctx.store, data,
        policy=ctx.req.param("permissionsPropagationPolicy") or "NONE",
        fail_on_missing=ctx.req.bool_param("failOnMissingUsersOrGroups", True),
    )
    bundle_id = next(iter(imported_of(record)))
    return {"projectKey": record["projectKey"], "bundleId": bundle_id}


@route("POST", "/projectsFromBundle/", nodes=AUTOMATION)
def project_from_uploaded_bundle(ctx: Ctx) -> dict[str, Any]:
    return _create_project(ctx, _uploaded(ctx))


@route("POST", "/projectsFromBundle/fromArchive", nodes=AUTOMATION)
def project_from_local_bundle(ctx: Ctx) -> dict[str, Any]:
    return _create_project(ctx, _local_archive(ctx))


@route("GET", "/projects/{project_key}/bundles/imported", nodes=AUTOMATION)
def list_imported(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    entries = sorted(imported_of(record).values(), key=lambda e: e["seq"])
    return {"bundles": [imported_item(record, e) for e in entries]}


@route("POST", "/projects/{project_key}/bundles/imported/actions/importFromStream", nodes=AUTOMATION)
def import_from_stream(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    return imported_item(record, import_bundle(ctx, ctx.store, record, _uploaded(ctx)))


@route("POST", "/projects/{project_key}/bundles/imported/actions/importFromArchive", nodes=AUTOMATION)
def import_from_archive(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    return imported_item(record, import_bundle(ctx, ctx.store, record, _local_archive(ctx)))


@route("POST", "/projects/{project_key}/bundles/imported/{bundle_id}/actions/preload", nodes=AUTOMATION)
def preload(ctx: Ctx, project_key: str, bundle_id: str) -> dict[str, Any]:
    # Preloading installs what activation will need (code envs, plugins); the simulator has nothing to install.
    record = ctx.project(project_key)
    entry = imported_entry(ctx, record, bundle_id)
    entry["preloaded"] = True
    ctx.store.mark(project_key)
    return info_report([])


@route("POST", "/projects/{project_key}/bundles/imported/{bundle_id}/actions/activate", nodes=AUTOMATION)
def activate_imported(ctx: Ctx, project_key: str, bundle_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    scenarios = ctx.req.json_object().get("scenariosActiveOnActivation")
    if scenarios is not None and not isinstance(scenarios, dict):
        raise bad_request("'scenariosActiveOnActivation' must map scenario ids to booleans")
    return activate(ctx, ctx.store, record, bundle_id, scenarios)


@route("DELETE", "/projects/{project_key}/bundles/imported/{bundle_id}", nodes=AUTOMATION)
def delete_imported(ctx: Ctx, project_key: str, bundle_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    imported_entry(ctx, record, bundle_id)
    if (record.get("activeBundleState") or {}).get("bundleId") == bundle_id:
        raise bad_request(f"Bundle {bundle_id} is the active bundle of project {project_key}: it can't be deleted")
    del imported_of(record)[bundle_id]
    touch_in(ctx, ctx.store, record)
    return {}
