"""Connections: admin CRUD, plus the names, info and test calls any user may make.

Stored shape (shared with bundle activation and dataset handlers): `store.coll("connections")[name]`
is the whole connection document with its secrets in clear. Replies go through `_view`, which puts
the secrets in encrypted form (see admin_security).
"""

from __future__ import annotations

import re
from typing import Any

from ..context import Ctx, Node
from ..errors import bad_request, forbidden
from ..routing import route
from ._common import already_exists, copy_doc, fill_defaults
from .admin_security import redact, restore, user_groups

# Letters, digits, underscores and dashes (unverified: DSS's exact rule for connection names).
CONNECTION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")

CONNECTION_DEFAULTS: dict[str, Any] = {
    "description": "",
    "params": {},
    "usableBy": "ALL",
    "allowedGroups": [],
    "allowManagedDatasets": True,
    "allowManagedFolders": True,
    "allowKnowledgeBanks": True,
    "allowWrite": True,
    "allowMirror": False,
    "maxActivities": 0,
    "useGlobalProxy": False,
    "credentialsMode": "GLOBAL",
    "detailsReadability": {"readableBy": "ALL", "allowedGroups": []},
}
# DSS keeps the keys it knows and silently drops the others (DSS_API.md §4).
KNOWN_KEYS = frozenset(("name", "type", "versionTag", "creationTag", *CONNECTION_DEFAULTS))


def _get(ctx: Ctx, name: str) -> dict[str, Any]:
    conn = ctx.store.coll("connections").get(name)
    if conn is None:
        raise ctx.not_found(f"Connection {name} does not exist")
    return conn


def _scope(name: str) -> str:
    return f"connection {name}"


def _view(ctx: Ctx, conn: dict[str, Any]) -> dict[str, Any]:
    return redact(ctx, conn, _scope(conn["name"]), conn["type"])


def _normalise(body: dict[str, Any], name: str, conn_type: str) -> dict[str, Any]:
    """A connection document from what a client sent: known keys only, defaults filled, values checked."""
    doc: dict[str, Any] = {"name": name, "type": conn_type}
    doc.update((k, copy_doc(v)) for k, v in body.items() if k in KNOWN_KEYS and k not in doc)
    fill_defaults(doc, CONNECTION_DEFAULTS)
    if not isinstance(doc["params"], dict):
        raise bad_request("Connection 'params' must be a JSON object")
    if doc["usableBy"] not in ("ALL", "ALLOWED"):
        raise bad_request(f"Invalid usableBy '{doc['usableBy']}': expected ALL or ALLOWED")
    readability = doc["detailsReadability"]
    if not isinstance(readability, dict) or readability.get("readableBy") not in ("ALL", "ALLOWED", "NONE"):
        raise bad_request("detailsReadability.readableBy must be ALL, ALLOWED or NONE")
    for groups in (doc["allowedGroups"], readability["allowedGroups"]):
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise bad_request("allowedGroups must be a list of group names")
    return doc


def _allowed(ctx: Ctx, mode: str, groups: list[str]) -> bool:
    if ctx.key.admin or mode == "ALL":
        return True
    return mode == "ALLOWED" and bool(set(groups) & set(user_groups(ctx.store, ctx.key.login)))


def _usable(ctx: Ctx, conn: dict[str, Any]) -> bool:
    return _allowed(ctx, conn["usableBy"], conn["allowedGroups"])


@route("GET", "/admin/connections/")
def list_connections(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    return {name: _view(ctx, c) for name, c in sorted(ctx.store.coll("connections").items())}


@route("POST", "/admin/connections/")
def create_connection(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    body = ctx.req.json_object()
    name = body.get("name")
    if not isinstance(name, str) or not CONNECTION_NAME_RE.match(name):
        raise bad_request(f"Invalid connection name '{name}': use letters, digits, underscores and dashes")
    conn_type = body.get("type")
    if not isinstance(conn_type, str) or not conn_type.strip():
        raise bad_request("A connection needs a 'type' (Filesystem, PostgreSQL, S3, Snowflake...)")
    connections = ctx.store.coll("connections")
    if name in connections:
        raise already_exists("Connection", name)
    doc = ctx.bump_version(_normalise(body, name, conn_type), None)
    connections[name] = doc
    ctx.store.mark()
    return _view(ctx, doc)


@route("GET", "/admin/connections/{name}")
def get_connection(ctx: Ctx, name: str) -> dict[str, Any]:
    ctx.require_admin()
    return _view(ctx, _get(ctx, name))


@route("PUT", "/admin/connections/{name}")
def save_connection(ctx: Ctx, name: str) -> dict[str, Any]:
    ctx.require_admin()
    old = _get(ctx, name)
    body = ctx.req.json_object()
    # The name in the path is the connection's identity; the type can't change (recreate instead).
    conn_type = body.get("type", old["type"])
    if conn_type != old["type"]:
        raise bad_request(f"Cannot change the type of connection {name} from {old['type']} to {conn_type}")
    doc = _normalise(body, name, old["type"])
    doc = restore(ctx, doc, old, _scope(name), old["type"])
    ctx.bump_version(doc, old)
    ctx.store.coll("connections")[name] = doc
    ctx.store.mark()
    return _view(ctx, doc)


@route("DELETE", "/admin/connections/{name}")
def delete_connection(ctx: Ctx, name: str) -> dict[str, Any]:
    ctx.require_admin()
    _get(ctx, name)
    del ctx.store.coll("connections")[name]
    ctx.store.mark()
    return {}


@route("GET", "/connections/get-names")
def connection_names(ctx: Ctx) -> list[str]:
    """Names of the connections the caller may use, of one type or `all` (filtering is a guess)."""
    wanted = ctx.req.param("type") or "all"
    return [name for name, c in sorted(ctx.store.coll("connections").items())
            if (wanted == "all" or c["type"] == wanted) and _usable(ctx, c)]


@route("GET", "/connections/{name}/info")
def connection_info(ctx: Ctx, name: str) -> dict[str, Any]:
    """`DSSConnectionInfo`. The simulator never hands out credentials, even where DSS would."""
    conn = _get(ctx, name)
    readability = conn["detailsReadability"]
    if not _allowed(ctx, readability["readableBy"], readability["allowedGroups"]):
        raise forbidden(f"Action forbidden: you may not read the details of connection {name}")
    params = redact(ctx, conn["params"], _scope(name), conn["type"])
    return {"name": name, "type": conn["type"], "credentialsMode": conn["credentialsMode"],
            "params": params, "resolvedParams": copy_doc(params)}


@route("GET", "/connections/{name}/test")
def test_connection(ctx: Ctx, name: str) -> dict[str, Any]:
    """Always reachable, except a `host` under the reserved `.invalid` TLD (RFC 2606): a failure knob."""
    conn = _get(ctx, name)
    if not _usable(ctx, conn):
        raise forbidden(f"Action forbidden: you may not use connection {name}")
    host = str(conn["params"].get("host") or "")
    if host.endswith(".invalid"):
        return {"connectionOK": False, "connectionName": name, "connectionType": conn["type"],
                "connectionErrorMsg": f"Unknown host: {host}"}
    return {"connectionOK": True, "connectionName": name, "connectionType": conn["type"]}


def seed(node: Node, now_ms: int) -> None:
    """A fresh DSS has its managed-data connections on the local filesystem."""
    connections = node.store.coll("connections")
    tag = {"versionNumber": 0, "lastModifiedBy": {"login": "admin"}, "lastModifiedOn": now_ms}
    for name, root in (("filesystem_managed", "managed_datasets"), ("filesystem_folders", "managed_folders")):
        if name not in connections:
            doc = _normalise({"params": {"root": f"${{dip.home}}/{root}"}}, name, "Filesystem")
            connections[name] = {**doc, "versionTag": dict(tag), "creationTag": dict(tag)}
    node.store.mark()
