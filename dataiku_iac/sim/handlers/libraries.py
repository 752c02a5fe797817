"""Project libraries: the file tree of project.get_library() and the Git references of external libraries.

A project record keeps `library` = a folder node {"children": {name: node}}, a file node being {"data": base64},
and `gitLibRefs` = {localTargetPath: reference}. The simulator clones nothing: adding or resetting a Git
library creates its (empty) folder and answers with a finished future. GUESS (docs/simulator.md): a new
project's library holds the folders `python` and `R`, as DSS's library editor shows them.
"""

from __future__ import annotations

import base64
from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from ._common import copy_doc
from .instance import future_reply
from .projects import touch

DEFAULT_FOLDERS = ("python", "R")
# What a Git reference keeps of what add_library/set_library send; the password is write-only.
GIT_REF_FIELDS = ("repository", "pathInGitRepository", "checkout", "login")


def _root(record: dict[str, Any]) -> dict[str, Any]:
    if "library" not in record:
        record["library"] = {"children": {name: {"children": {}} for name in DEFAULT_FOLDERS}}
    return record["library"]


def _parts(path: str) -> list[str]:
    parts = [p for p in path.strip().split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise bad_request(f"Invalid library path '{path}'")
    return parts


def _node(ctx: Ctx, record: dict[str, Any], path: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """(parent folder, name, node) of an existing library item."""
    parts = _parts(path)
    folder = _root(record)
    for part in parts[:-1]:
        folder = folder.get("children", {}).get(part)
        if folder is None or "children" not in folder:
            raise ctx.not_found(f"Library folder {'/'.join(parts[:-1])} does not exist")
    node = folder["children"].get(parts[-1])
    if node is None:
        raise ctx.not_found(f"Library item {'/'.join(parts)} does not exist")
    return folder, parts[-1], node


def _folder_for(record: dict[str, Any], parts: list[str]) -> dict[str, Any]:
    """The folder at `parts`, made with its parents where missing; refuses a file in the way."""
    folder = _root(record)
    for part in parts:
        folder = folder["children"].setdefault(part, {"children": {}})
        if "children" not in folder:
            raise bad_request(f"Library item {part} is a file, not a folder")
    return folder


def _listing(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "children": _listing(child)} if "children" in child else {"name": name}
            for name, child in sorted(node["children"].items())]


@route("GET", "/projects/{project_key}/libraries/contents")
def list_contents(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    return _listing(_root(ctx.project(project_key)))


@route("GET", "/projects/{project_key}/libraries/contents/{path:path}")
def read_file(ctx: Ctx, project_key: str, path: str) -> dict[str, Any]:
    _, name, node = _node(ctx, ctx.project(project_key), path)
    if "children" in node:
        raise bad_request(f"Library item {name} is a folder, not a file")
    data = base64.b64decode(node["data"])
    if ctx.req.param("dataEncoding") == "base64":
        return {"path": path.strip("/"), "data": node["data"]}
    try:
        return {"path": path.strip("/"), "data": data.decode("utf-8")}
    except UnicodeDecodeError:
        raise bad_request(f"Library file {name} is binary: read it with dataEncoding=base64") from None


@route("POST", "/projects/{project_key}/libraries/contents/{path:path}")
def write_file(ctx: Ctx, project_key: str, path: str) -> dict[str, Any]:
    """Create a file (empty body) or replace its content (raw body, as DSSLibraryFile.write sends it)."""
    record = ctx.project(project_key)
    parts = _parts(path)
    folder = _folder_for(record, parts[:-1])
    if "children" in folder["children"].get(parts[-1], {}):
        raise bad_request(f"Library item {parts[-1]} is a folder, not a file")
    folder["children"][parts[-1]] = {"data": base64.b64encode(ctx.req.body).decode("ascii")}
    touch(ctx, record)
    return {}


@route("POST", "/projects/{project_key}/libraries/folders/{path:path}")
def create_folder(ctx: Ctx, project_key: str, path: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    _folder_for(record, _parts(path))
    touch(ctx, record)
    return {}


@route("DELETE", "/projects/{project_key}/libraries/contents/{path:path}")
def delete_item(ctx: Ctx, project_key: str, path: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    parent, name, _ = _node(ctx, record, path)
    del parent["children"][name]
    touch(ctx, record)
    return {}


@route("POST", "/projects/{project_key}/libraries/contents-actions/rename")
def rename_item(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    parent, name, _ = _node(ctx, record, str(body.get("oldPath") or ""))
    new_name = body.get("newName")
    if not isinstance(new_name, str) or not new_name.strip() or "/" in new_name:
        raise bad_request("A library item's new name must be a plain, non-empty name")
    if new_name in parent["children"] and new_name != name:
        raise bad_request(f"Library item {new_name} already exists")
    parent["children"][new_name] = parent["children"].pop(name)
    touch(ctx, record)
    return {}


@route("POST", "/projects/{project_key}/libraries/contents-actions/move")
def move_item(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    old_path = str(body.get("oldPath") or "")
    parent, name, _ = _node(ctx, record, old_path)
    new_parts = [p for p in str(body.get("newPath") or "").split("/") if p]
    if new_parts[:len(_parts(old_path))] == _parts(old_path):
        raise bad_request("A library folder cannot move into itself")
    target = _folder_for(record, new_parts)
    if name in target["children"]:
        raise bad_request(f"Library item {name} already exists in {'/'.join(new_parts) or '/'}")
    target["children"][name] = parent["children"].pop(name)
    touch(ctx, record)
    return {}


# -- external libraries: Git references ------------------------------------------------------------------

def _git_ref(body: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    ref = dict(old or {})
    for key in GIT_REF_FIELDS:
        if key in body:
            ref[key] = body[key]
    if not isinstance(ref.get("repository"), str) or not ref["repository"].strip():
        raise bad_request("A Git library needs a 'repository'")
    if not isinstance(ref.get("checkout"), str) or not ref["checkout"].strip():
        raise bad_request("A Git library needs a 'checkout' (branch, tag or commit)")
    ref["pathInGitRepository"] = ref.get("pathInGitRepository") or ""
    return ref


@route("GET", "/projects/{project_key}/git/lib-git-refs/")
def list_git_refs(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    refs = ctx.project(project_key).get("gitLibRefs") or {}
    return [{"localTargetPath": path, **copy_doc(ref)} for path, ref in sorted(refs.items())]


@route("POST", "/projects/{project_key}/git/lib-git-refs/")
def add_git_ref(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    body = ctx.req.json_object()
    target = "/".join(_parts(str(body.get("localTargetPath") or "")))
    refs = record.setdefault("gitLibRefs", {})
    if target in refs:
        raise bad_request(f"A Git library is already checked out in {target}")
    ref = _git_ref(body, None)
    ref["addToPythonPath"] = bool(body.get("addToPythonPath", True))
    refs[target] = ref
    _folder_for(record, _parts(target))  # the checkout lands there (empty: nothing is cloned)
    touch(ctx, record)
    return future_reply(ctx, {"success": True, "messages": [], "localTargetPath": target})


@route("PUT", "/projects/{project_key}/git/lib-git-refs/{path:path}")
def set_git_ref(ctx: Ctx, project_key: str, path: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    target = "/".join(_parts(path))
    refs = record.setdefault("gitLibRefs", {})
    if target not in refs:
        raise ctx.not_found(f"No Git library is checked out in {target}")
    refs[target] = _git_ref(ctx.req.json_object(), refs[target])
    touch(ctx, record)
    return {"localTargetPath": target, **copy_doc(refs[target])}


@route("DELETE", "/projects/{project_key}/git/lib-git-refs/{path:path}")
def remove_git_ref(ctx: Ctx, project_key: str, path: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    target = "/".join(_parts(path))
    refs = record.setdefault("gitLibRefs", {})
    if target not in refs:
        raise ctx.not_found(f"No Git library is checked out in {target}")
    del refs[target]
    if ctx.req.bool_param("deleteDirectory"):
        parts = _parts(target)
        parent = _folder_for(record, parts[:-1])
        parent["children"].pop(parts[-1], None)
    touch(ctx, record)
    return {}


@route("POST", "/projects/{project_key}/git/lib-git-refs/action/reset")
def reset_git_ref(ctx: Ctx, project_key: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    target = str(ctx.req.json_object().get("gitRef") or "")
    if target not in (record.get("gitLibRefs") or {}):
        raise ctx.not_found(f"No Git library is checked out in {target}")
    return future_reply(ctx, {"success": True, "messages": []})


@route("POST", "/projects/{project_key}/git/actions/git-refs/reset-all")
def reset_all_git_refs(ctx: Ctx, project_key: str) -> dict[str, Any]:
    ctx.project(project_key)
    return future_reply(ctx, {"success": True, "messages": []})
