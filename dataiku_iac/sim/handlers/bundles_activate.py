"""Importing and activating bundles, shared by automation nodes, the Project Deployer and design-node imports.

Functions here take the target node's `Store` explicitly: the deployer runs them against an automation
node's store while serving a request on the design node.
"""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import SimError, bad_request
from ..store import Store
from ._common import already_exists, check_project_key, copy_doc
from .bundles_archive import FLOW_KEYS, check_bundle_id, connection_users, info_report, message, read_archive
from .projects import new_project

PROPAGATION_POLICIES = ("NONE", "READ_ONLY", "ALL")
READ_ONLY_FLAGS = ("readProjectContent", "readDashboards")


def default_container_settings() -> dict[str, Any]:
    """`bundleContainerSettings` of a project on an automation node ("Activation settings")."""
    return {"remapping": {"connections": [], "codeEnvs": [], "containerExecs": []}}


def touch_in(ctx: Ctx, store: Store, record: dict[str, Any]) -> None:
    """`projects.touch` for a project of any node's store."""
    ctx.bump_version(record, dict(record))
    store.mark(record["projectKey"])


# -- remapping ----------------------------------------------------------------------------------------------
def mapping_of(remapping: Any, kind: str) -> dict[str, str]:
    """source -> target from `remapping[kind]`, a list of `{source, target}`."""
    if remapping is None:
        return {}
    if not isinstance(remapping, dict):
        raise bad_request("'remapping' must be a JSON object")
    pairs = remapping.get(kind) or []
    if not isinstance(pairs, list):
        raise bad_request(f"'remapping.{kind}' must be a list of {{source, target}}")
    out: dict[str, str] = {}
    for pair in pairs:
        if not (isinstance(pair, dict) and isinstance(pair.get("source"), str) and pair["source"]
                and isinstance(pair.get("target"), str) and pair["target"]):
            raise bad_request(f"Each entry of 'remapping.{kind}' needs a non-empty 'source' and 'target'")
        out[pair["source"]] = pair["target"]
    return out


def connection_errors(store: Store, manifest: dict[str, Any], snapshot: dict[str, Any],
                      conn_map: dict[str, str]) -> list[dict[str, Any]]:
    """Fatal messages for connections that are missing on `store`'s node or of another type than the source."""
    source_types = {c.get("name"): c.get("type") for c in manifest.get("usedConnections") or []
                    if isinstance(c, dict)}
    known = store.coll("connections")
    errors = []
    for source, users in sorted(connection_users(snapshot).items()):
        target = conn_map.get(source, source)
        via = f"'{target}' (remapped from '{source}')" if target != source else f"'{source}'"
        used_by = ", ".join(users)
        conn = known.get(target)
        if conn is None:
            errors.append(message("ERROR", "ERR_BUNDLE_ACTIVATE_CONNECTION_NOT_FOUND",
                                  f"Connection {via} does not exist on this node",
                                  f"Used by {used_by}. Create it or add a connection remapping.", fatal=True))
        elif source_types.get(source) and conn.get("type") != source_types[source]:
            errors.append(message("ERROR", "ERR_BUNDLE_ACTIVATE_BAD_CONNECTION_TYPE",
                                  f"Connection {via} is of type {conn.get('type')}, the bundle expects "
                                  f"{source_types[source]}", f"Used by {used_by}.", fatal=True))
    return errors


def remap_snapshot(snapshot: dict[str, Any], conn_map: dict[str, str], env_map: dict[str, str],
                   project_key: str) -> dict[str, Any]:
    """A copy of the snapshot with connections and code environments remapped, its objects rehomed to
    `project_key` (a deployment or an import may use another key than the source project)."""
    snap = copy_doc(snapshot)
    source_key = snap.get("projectKey")
    # Every reference to the project itself moves with it: object docs, scenario build items, zone items...
    for coll in FLOW_KEYS:
        _rehome(snap.get(coll, {}), source_key, project_key)
    snap["projectKey"] = project_key
    for coll in ("datasets", "managedFolders"):
        for doc in snap.get(coll, {}).values():
            params = doc.get("params")
            if isinstance(params, dict) and params.get("connection") in conn_map:
                params["connection"] = conn_map[params["connection"]]
    selections = list(((snap.get("settings") or {}).get("settings") or {}).get("codeEnvs", {}).values())
    recipes = snap.get("recipes", {}).values()
    selections += [((r.get("recipe") or {}).get("params") or {}).get("envSelection") for r in recipes]
    for sel in selections:
        if isinstance(sel, dict) and sel.get("envName") in env_map:
            sel["envName"] = env_map[sel["envName"]]
    return snap


def _rehome(doc: Any, source_key: Any, project_key: str) -> None:
    """Replace `projectKey: source_key` by `project_key` wherever it occurs in `doc`."""
    if isinstance(doc, dict):
        if doc.get("projectKey") == source_key:
            doc["projectKey"] = project_key
        for value in doc.values():
            _rehome(value, source_key, project_key)
    elif isinstance(doc, list):
        for value in doc:
            _rehome(value, source_key, project_key)


# -- applying a snapshot ----------------------------------------------------------------------------------------
def apply_snapshot(record: dict[str, Any], snap: dict[str, Any],
                   scenarios_active: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Make the snapshot the project's content. Local variables and permissions stay; so do the node's
    activation settings and scenarios created on the node itself. A scenario that already exists keeps its
    active state (DSS remembers it across activations) unless `scenarios_active` says otherwise."""
    warnings: list[dict[str, Any]] = []
    bundles = record.setdefault("bundles", {"exported": {}, "imported": {}})
    from_bundle = set(bundles.get("bundleScenarioIds", []))
    old = record.get("scenarios", {})
    incoming = snap.get("scenarios", {})
    scenarios = {sid: doc for sid, doc in old.items() if sid not in from_bundle and sid not in incoming}
    for sid, doc in incoming.items():
        if sid in old and "active" in old[sid]:
            doc["active"] = old[sid]["active"]
        scenarios[sid] = doc
    for sid, active in sorted((scenarios_active or {}).items()):
        if sid in scenarios:
            scenarios[sid]["active"] = bool(active)
        else:
            warnings.append(message("WARNING", "WARN_BUNDLE_ACTIVATE_UNKNOWN_SCENARIO",
                                    f"Scenario {sid} is not in the project: its activation setting is ignored"))

    settings = snap.get("settings") or copy_doc(record["settings"])
    old_settings = record.get("settings", {})
    if "bundleContainerSettings" in old_settings:
        settings["bundleContainerSettings"] = old_settings["bundleContainerSettings"]
    old_triggers = (old_settings.get("settings") or {}).get("disableAutomaticTriggers")
    if old_triggers is not None:
        settings.setdefault("settings", {})["disableAutomaticTriggers"] = old_triggers

    record["metadata"] = snap.get("metadata") or record["metadata"]
    record["settings"] = settings
    record["tagDefs"] = snap.get("tagDefs") or {"tags": {}}
    for key in FLOW_KEYS:
        record[key] = snap.get(key, {})
    record["scenarios"] = scenarios
    record["variables"] = {"standard": (snap.get("variables") or {}).get("standard", {}),
                           "local": record.get("variables", {}).get("local", {})}
    bundles["bundleScenarioIds"] = sorted(incoming)
    return warnings


# -- imported bundles on an automation node -------------------------------------------------------------------
def imported_of(record: dict[str, Any]) -> dict[str, Any]:
    return record.setdefault("bundles", {"exported": {}, "imported": {}}).setdefault("imported", {})


def import_bundle(ctx: Ctx, store: Store, record: dict[str, Any], data: bytes, *,
                  redeploy: bool = False) -> dict[str, Any]:
    """Store an uploaded bundle in the project. A second import of the same id is refused, except for the
    deployer (`redeploy`), which pushes the bundle again on every update."""
    manifest, _ = read_archive(data)
    bundle_id = check_bundle_id(manifest["bundleId"])
    imported = imported_of(record)
    if bundle_id in imported and not redeploy:
        raise already_exists("Bundle", f"{bundle_id} in project {record['projectKey']}")
    blob_id = store.put_blob(data)
    if bundle_id in imported and imported[bundle_id]["blobId"] == blob_id:
        return imported[bundle_id]
    entry = {
        "bundleId": bundle_id,
        "blobId": blob_id,
        "importedOn": ctx.now_ms(),
        "importedBy": ctx.key.login,
        "seq": store.counter("bundleImports"),  # import order survives persistence (dict order does not)
        "preloaded": False,
        "exportManifest": manifest,
    }
    imported[bundle_id] = entry
    touch_in(ctx, store, record)
    return entry


def imported_item(record: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    active = (record.get("activeBundleState") or {}).get("bundleId")
    return copy_doc({
        "bundleId": entry["bundleId"],
        "exportManifest": entry["exportManifest"],
        "importState": {"importedOn": entry["importedOn"], "importedBy": entry["importedBy"]},
        "preloaded": entry["preloaded"],
        "active": entry["bundleId"] == active,
    })


def imported_entry(ctx: Ctx, record: dict[str, Any], bundle_id: str) -> dict[str, Any]:
    entry = imported_of(record).get(bundle_id)
    if entry is None:
        raise ctx.not_found(f"Bundle {bundle_id} was not imported in project {record['projectKey']}")
    return entry


def activation_failed(bundle_id: str, errors: list[dict[str, Any]]) -> SimError:
    details = "; ".join(f"{m['code']}: {m['title']} ({m['details']})" for m in errors)
    return SimError(400, "exceptions.CodedException", f"Cannot activate bundle {bundle_id}: {details}")


def activate(ctx: Ctx, store: Store, record: dict[str, Any], bundle_id: str,
             scenarios_active: dict[str, Any] | None = None) -> dict[str, Any]:
    """Activate an imported bundle with the project's activation settings; all or nothing."""
    entry = imported_entry(ctx, record, bundle_id)
    manifest, snapshot = read_archive(store.get_blob(entry["blobId"]))
    remapping = (record["settings"].get("bundleContainerSettings") or {}).get("remapping") or {}
    conn_map = mapping_of(remapping, "connections")
    env_map = mapping_of(remapping, "codeEnvs")
    errors = connection_errors(store, manifest, snapshot, conn_map)
    if errors:
        raise activation_failed(bundle_id, errors)
    snap = remap_snapshot(snapshot, conn_map, env_map, record["projectKey"])
    warnings = apply_snapshot(record, snap, scenarios_active)
    now = ctx.now_ms()
    record["activeBundleState"] = {"bundleId": bundle_id, "activatedOn": now, "activatedBy": ctx.key.login}
    entry["activatedOn"] = now  # scenarios.active_bundle_id reads this: runs are tagged with the active bundle
    touch_in(ctx, store, record)
    return info_report(warnings)


# -- projects made from bundles ---------------------------------------------------------------------------------
def _propagated_permissions(store: Store, snapshot: dict[str, Any], policy: str,
                            fail_on_missing: bool) -> list[dict[str, Any]]:
    if policy not in PROPAGATION_POLICIES:
        choices = ", ".join(PROPAGATION_POLICIES)
        raise bad_request(f"Invalid permissionsPropagationPolicy '{policy}': use one of {choices}")
    if policy == "NONE":
        return []
    out = []
    for entry in (snapshot.get("permissions") or {}).get("permissions", []):
        who, name = ("group", entry.get("group")) if entry.get("group") else ("user", entry.get("user"))
        if name not in store.coll(f"{who}s"):
            if fail_on_missing:
                raise bad_request(f"Cannot propagate permissions: {who} {name} does not exist on this node")
            continue
        if policy == "READ_ONLY":
            entry = {who: name, **{flag: True for flag in READ_ONLY_FLAGS}}
        out.append(copy_doc(entry))
    return out


def create_from_bundle(ctx: Ctx, store: Store, data: bytes, *, key: str | None = None, policy: str = "NONE",
                       fail_on_missing: bool = True) -> dict[str, Any]:
    """A new automation project holding the bundle, imported but not yet activated."""
    manifest, snapshot = read_archive(data)
    key = check_project_key(key or manifest["projectKey"])
    if key in store.projects:
        raise already_exists("Project", key)
    meta = snapshot.get("metadata") or {}
    perms = _propagated_permissions(store, snapshot, policy, fail_on_missing)
    record = new_project(ctx, key, meta.get("label") or key, ctx.key.login, meta.get("description") or "",
                         permissions=perms)
    record["settings"]["bundleContainerSettings"] = default_container_settings()
    store.projects[key] = record
    import_bundle(ctx, store, record, data)
    return record
