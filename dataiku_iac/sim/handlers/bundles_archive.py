"""Bundle archives: a real zip holding an export manifest and a JSON snapshot of the project.

The layout is the simulator's own (real DSS bundles hold a tree of config files): `export-manifest.json`
describes the bundle (id, release notes, source project, connections used with their types) and
`project.json` holds what a bundle ships: metadata, settings, tag definitions, STANDARD variables only
(local variables stay on each node), flow objects and, for permission propagation on automation nodes,
the design project's permissions (used only when a project is created with a propagation policy).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..store import Store
from ._common import copy_doc

MANIFEST_FILE = "export-manifest.json"
SNAPSHOT_FILE = "project.json"
# Objects a bundle carries and activation replaces (scenarios get a merge, see bundles_activate).
FLOW_KEYS = ("datasets", "datasetMetadata", "managedFolders", "zones", "recipes", "scenarios")
# Letters, digits, dot, dash, underscore: "v1.2-rc_3" (the exact DSS rule is unverified).
BUNDLE_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def check_bundle_id(bundle_id: Any) -> str:
    if not isinstance(bundle_id, str) or not BUNDLE_ID_RE.match(bundle_id):
        raise bad_request(f"Invalid bundle id '{bundle_id}': use letters, digits, '.', '-' and '_'")
    return bundle_id


def snapshot_of(record: dict[str, Any]) -> dict[str, Any]:
    """What a bundle of this project ships, as a detached copy."""
    snap: dict[str, Any] = {
        "projectKey": record["projectKey"],
        "metadata": record["metadata"],
        "settings": record["settings"],
        "tagDefs": record.get("tagDefs", {"tags": {}}),
        "variables": {"standard": record["variables"].get("standard", {})},
        "permissions": record["permissions"],
    }
    for key in FLOW_KEYS:
        snap[key] = record.get(key, {})
    return copy_doc(snap)


def connection_users(snapshot: dict[str, Any]) -> dict[str, list[str]]:
    """Connection name -> the datasets and managed folders stored in it."""
    users: dict[str, list[str]] = {}
    for kind, coll in (("dataset", "datasets"), ("managed folder", "managedFolders")):
        for obj_id, doc in sorted(snapshot.get(coll, {}).items()):
            conn = (doc.get("params") or {}).get("connection")
            if isinstance(conn, str) and conn:
                users.setdefault(conn, []).append(f"{kind} {doc.get('name', obj_id)}")
    return users


def used_connections(store: Store, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """The connections a snapshot uses, with their type on the exporting node (None if unknown there)."""
    known = store.coll("connections")
    return [{"name": name, "type": (known.get(name) or {}).get("type")} for name in sorted(connection_users(snapshot))]


def build_archive(manifest: dict[str, Any], snapshot: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True))
        zf.writestr(SNAPSHOT_FILE, json.dumps(snapshot, indent=2, sort_keys=True))
    return buf.getvalue()


def read_archive(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(manifest, snapshot) of a bundle archive; a bad request if it is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if MANIFEST_FILE not in names or SNAPSHOT_FILE not in names:
                raise bad_request(f"Invalid bundle archive: {MANIFEST_FILE} or {SNAPSHOT_FILE} is missing")
            manifest = json.loads(zf.read(MANIFEST_FILE))
            snapshot = json.loads(zf.read(SNAPSHOT_FILE))
    except (zipfile.BadZipFile, ValueError, UnicodeDecodeError) as e:
        raise bad_request(f"Invalid bundle archive: {e}") from None
    if not isinstance(manifest, dict) or not isinstance(snapshot, dict):
        raise bad_request("Invalid bundle archive: manifest and snapshot must be JSON objects")
    for key in ("bundleId", "projectKey"):
        if not isinstance(manifest.get(key), str) or not manifest[key]:
            raise bad_request(f"Invalid bundle archive: the manifest has no '{key}'")
    return manifest, snapshot


def export_manifest(ctx: Ctx, record: dict[str, Any], bundle_id: str, release_notes: str,
                    snapshot: dict[str, Any], *, standards_skipped: bool) -> dict[str, Any]:
    now = ctx.now_ms()
    return {
        "bundleId": bundle_id,
        "projectKey": record["projectKey"],
        "exportUserInfo": {"exportedBy": ctx.key.login, "exportedOn": now, "releaseNotes": release_notes},
        "exportedOn": now,
        "releaseNotes": release_notes,
        "designNodeId": ctx.node.name,
        "generatedWithDSSVersion": "15.2.0-simulated",
        "projectStandardsSkipped": standards_skipped,
        "usedConnections": used_connections(ctx.store, snapshot),
        # Permissions travel for the automation node's propagation policy only; activation never applies them.
        "containsPermissions": True,
    }


def project_archive(ctx: Ctx, record: dict[str, Any], archive_id: str, notes: str = "") -> bytes:
    """A zip of the project in the bundle layout (also what a design-node project import reads)."""
    snapshot = snapshot_of(record)
    manifest = export_manifest(ctx, record, archive_id, notes, snapshot, standards_skipped=True)
    return build_archive(manifest, snapshot)


# -- DSS info messages (`{anyMessage, success, warning, error, maxSeverity, messages}`) -------------------------
_SEVERITIES = ("INFO", "SUCCESS", "WARNING", "ERROR")


def message(severity: str, code: str, title: str, details: str = "", *, fatal: bool = False) -> dict[str, Any]:
    return {"severity": severity, "isFatal": fatal, "code": code, "title": title, "message": title,
            "details": details or title}


def info_report(messages: list[dict[str, Any]]) -> dict[str, Any]:
    severities = [m["severity"] for m in messages]
    top = max(severities, key=_SEVERITIES.index) if severities else None
    return {
        "anyMessage": bool(messages),
        "success": "SUCCESS" in severities,
        "warning": "WARNING" in severities,
        "error": "ERROR" in severities,
        "maxSeverity": top,
        "messages": messages,
    }
