"""Managed folders: create, list, settings, rename and delete.

Folders are addressed by a server-made 8-character id (managedfolder.py `id`); names are labels, yet
DSS refuses two folders of one name in a project. A project record keeps `managedFolders[id]` = the
settings document.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import already_exists, copy_doc
from .datasets import FLOW_OBJECT_DEFAULTS, connection, normalise_flow_object
from .projects import touch
from .zones import remove_from_flow

FOLDER_ID_CHARS = string.ascii_letters + string.digits
FOLDER_ID_LENGTH = 8
# `${odbId}` stays unexpanded, as DSS keeps variables in params (DSS_API.md §4).
DEFAULT_FOLDER_PATH = "/${projectKey}/${odbId}"


def _folders(record: dict[str, Any]) -> dict[str, Any]:
    return record.setdefault("managedFolders", {})


def get_folder(ctx: Ctx, record: dict[str, Any], folder_id: str) -> dict[str, Any]:
    doc = _folders(record).get(folder_id)
    if doc is None:
        raise ctx.not_found(f"Managed folder {folder_id} does not exist in project {record['projectKey']}")
    return doc


def _check_name(record: dict[str, Any], name: Any, folder_id: str | None = None) -> str:
    """Any label but a blank one, unique among the project's other folders."""
    if not isinstance(name, str) or not name.strip():
        raise bad_request("A managed folder name cannot be empty or made of whitespace only")
    if any(doc.get("name") == name for fid, doc in _folders(record).items() if fid != folder_id):
        raise already_exists("Managed folder", name)
    return name


def _new_id(record: dict[str, Any]) -> str:
    while True:
        folder_id = "".join(secrets.choice(FOLDER_ID_CHARS) for _ in range(FOLDER_ID_LENGTH))
        if folder_id not in _folders(record):
            return folder_id


def build_managed_folder(ctx: Ctx, record: dict[str, Any], name: Any, params: Any,
                         folder_type: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings document of a new folder, validated but not stored yet (recipe outputs use it too).

    With no type, the folder takes its connection's type, as a folder's type is its storage kind.
    """
    name = _check_name(record, name)
    params = dict(params or {})
    conn = connection(ctx, params.get("connection"))
    if not conn.get("allowManagedFolders", True):
        raise bad_request(f"Connection {params['connection']} does not allow managed folders")
    params.setdefault("path", DEFAULT_FOLDER_PATH)
    doc = {**(extra or {}), "projectKey": record["projectKey"], "id": _new_id(record), "name": name,
           "type": folder_type or conn.get("type"), "params": params}
    return normalise_flow_object(ctx, doc, FLOW_OBJECT_DEFAULTS, None)


def insert_folder(ctx: Ctx, record: dict[str, Any], doc: dict[str, Any]) -> None:
    _folders(record)[doc["id"]] = doc
    touch(ctx, record)


@route("GET", "/projects/{project_key}/managedfolders/")
def list_folders(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    record = ctx.project(project_key)
    return [copy_doc(doc) for doc in sorted(_folders(record).values(), key=lambda d: (d.get("name", ""), d["id"]))]


@route("POST", "/projects/{project_key}/managedfolders/")
def create_folder(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    if not isinstance(body.get("params") or {}, dict):
        raise bad_request("'params' must be a JSON object")
    doc = build_managed_folder(ctx, record, body.get("name"), body.get("params"), body.get("type"), body)
    insert_folder(ctx, record, doc)
    return copy_doc(doc)  # the client only reads "id" from it


@route("GET", "/projects/{project_key}/managedfolders/{folder_id}")
def get_settings(ctx: Ctx, project_key: str, folder_id: str) -> dict[str, Any]:
    return copy_doc(get_folder(ctx, ctx.project(project_key), folder_id))


@route("PUT", "/projects/{project_key}/managedfolders/{folder_id}")
def save_settings(ctx: Ctx, project_key: str, folder_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    old = get_folder(ctx, record, folder_id)
    doc = ctx.req.json_object()
    _check_name(record, doc.get("name", old["name"]), folder_id)
    if not isinstance(doc.get("type", old["type"]), str):
        raise bad_request("A managed folder type must be a string")
    # "the fields id and projectKey can't be modified" (managedfolder.py set_definition).
    doc = {**doc, "projectKey": project_key, "id": folder_id, "name": doc.get("name", old["name"])}
    _folders(record)[folder_id] = normalise_flow_object(ctx, doc, FLOW_OBJECT_DEFAULTS, old)
    touch(ctx, record)
    return {"msg": f"Managed folder {folder_id} updated"}


@route("DELETE", "/projects/{project_key}/managedfolders/{folder_id}")
def delete_folder(ctx: Ctx, project_key: str, folder_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    get_folder(ctx, record, folder_id)
    del _folders(record)[folder_id]
    # "Delete the managed folder from the flow, and objects using it (recipes ...)" (managedfolder.py).
    remove_from_flow(record, "MANAGED_FOLDER", folder_id)
    touch(ctx, record)
    return {}


@route("POST", "/projects/{project_key}/actions/renameManagedFolder")
def rename_folder(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    folder_id = body.get("id")
    if not isinstance(folder_id, str) or not folder_id:
        raise bad_request("renameManagedFolder needs the 'id' of the folder")
    doc = get_folder(ctx, record, folder_id)
    name = _check_name(record, body.get("newName"), doc["id"])
    _folders(record)[doc["id"]] = ctx.bump_version({**doc, "name": name}, doc)
    touch(ctx, record)
    return {}
