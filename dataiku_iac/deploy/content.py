"""What a bundle changes in the target project: the design project's flow against the automation project's.

Both sides are read with the resource kinds' own field models (the plan machinery's `refresh`), so a
promotion plan reads like an apply plan. Before comparing, the design side is seen as activation will
make it: connections and code envs remapped, and each scenario's active flag as DSS sets it (a scenario
that already exists keeps its own unless `scenariosToActivate` names it).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from ..dss.connect import Connection, read_with_retry
from ..plan.diff import FieldChange, diff_fields
from ..plan.model import Action, ActionType
from ..plan.planner import refresh
from ..resources import KIND_NAMES, KINDS, Address, Desired
from ..secrets import is_sensitive, mask
from ..state.model import State
from .deployer import absent
from .targets import CODE_ENV, CONNECTION, Remap, remap_pairs

READ_PARALLELISM = 8
# Kinds a bundle carries. Permissions are left out: activation never applies them.
BUNDLE_KINDS = ("project", "variables", "dataset", "managed_folder", "recipe", "scenario", "zone")
Fields = dict[str, Any]
Objects = dict[tuple[str, str], Fields]  # (kind, name) -> managed fields


def scenario_key(name: str) -> str:
    """Scenarios are matched by id, as DSS makes it from the name dss-iac creates them under (upper-cased)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name.upper())


def read_objects(conn: Connection, project_key: str) -> Objects | None:
    """Every flow object of a project, as managed fields; None when the project does not exist."""
    project = conn.client.get_project(project_key)
    if absent(conn, project.get_metadata) is None:
        return None
    addresses = [Address("project", project_key), Address("variables", project_key)]
    for kind in (k for k in KINDS.values() if k.listed):
        listed = read_with_retry(conn, lambda kind=kind: kind.list_in(project))
        addresses.extend(Address(kind.name, project_key, name) for name, _ in listed)
    remotes = refresh(conn, addresses, State(environment=conn.env_name), READ_PARALLELISM)
    out: Objects = {}
    for a, remote in remotes.items():
        if remote is None:
            continue  # gone between the listing and the read
        name = "" if a.name is None else scenario_key(a.name) if a.kind == "scenario" else a.name
        out[(a.kind, name)] = _comparable(a.kind, remote.fields)
    return out


def desired_objects(desired: Mapping[Address, Desired], project_key: str) -> Objects:
    """The objects a configuration wants in the design project (for bundles that are no longer there to read)."""
    out: Objects = {}
    for a, d in desired.items():
        if a.project != project_key or a.kind not in BUNDLE_KINDS:
            continue
        name = "" if a.name is None else scenario_key(a.name) if a.kind == "scenario" else a.name
        out[(a.kind, name)] = _comparable(a.kind, dict(d.fields))
    return out


def _comparable(kind: str, fields: Fields) -> Fields:
    if kind == "variables":
        return {"standard": fields.get("standard", {})}  # local variables come from the deployment, not the bundle
    return fields


def as_activated(objects: Objects, remaps: list[Remap], current: Objects | None,
                 scenarios_to_activate: Mapping[str, bool]) -> Objects:
    """The design objects as activation leaves them on the automation node."""
    connections, envs = remap_pairs(remaps, CONNECTION), remap_pairs(remaps, CODE_ENV)
    out: Objects = {}
    for (kind, name), fields in objects.items():
        f = copy.deepcopy(fields)
        if kind in ("dataset", "managed_folder") and f.get("connection") in connections:
            f["connection"] = connections[f["connection"]]
        if kind == "recipe" and f.get("code_env") in envs:
            f["code_env"] = envs[f["code_env"]]
        if kind == "scenario":
            wanted = {scenario_key(k): v for k, v in scenarios_to_activate.items()}
            before = (current or {}).get((kind, name))
            if name in wanted:
                f["active"] = bool(wanted[name])
            elif before is not None:
                f["active"] = before.get("active")
        out[(kind, name)] = f
    return out


def compare(bundle: Objects, current: Objects | None, project_key: str, target_env: str, *,
            partial: bool = False) -> list[Action]:
    """Actions that turn the automation project (`current`, None when absent) into the bundle's content.

    `partial`: the bundle side holds only the fields a configuration manages, so open maps are compared on
    their keys only (as plans do).
    """
    current = current or {}
    order = {k: i for i, k in enumerate(KIND_NAMES)}
    keep: list[Action] = []
    gone: list[Action] = []
    for kind, name in sorted(set(bundle) | set(current), key=lambda k: (order.get(k[0], 99), k[1])):
        address = str(Address(kind, project_key, name or None))
        want, have = bundle.get((kind, name)), current.get((kind, name))
        if want is None:
            gone.append(Action(address, kind, ActionType.DELETE, "not in the bundle: activation removes it"))
        elif have is None:
            changes = tuple(FieldChange(p, None, mask(v), is_sensitive(p, v)) for p, v in sorted(want.items()))
            keep.append(Action(address, kind, ActionType.CREATE, f"in the bundle, not yet in {target_env}", changes))
        else:
            open_maps = KINDS[kind].open_maps if partial else frozenset()
            diff = tuple(diff_fields(want, have, open_maps=open_maps))
            action = ActionType.UPDATE if diff else ActionType.NOOP
            keep.append(Action(address, kind, action, "the bundle changes it" if diff else "same", diff))
    return keep + gone
