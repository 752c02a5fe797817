"""What a bundle changes in the target project: the design project's flow against the automation project's.

Both sides are read with the resource kinds' own field models (the plan machinery's `refresh`), so a
promotion plan reads like an apply plan. Before comparing, the design side is seen as activation will
make it: connections and code envs remapped, and each scenario's active flag as DSS sets it (a scenario
that already exists keeps its own unless `scenariosToActivate` names it).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from ..dss.connect import Connection, read_with_retry
from ..plan.diff import FieldChange, diff_fields
from ..plan.model import Action, ActionReason, ActionType
from ..plan.planner import refresh
from ..resources import KINDS, Address, Desired, registry
from ..resources.base import Activation
from ..resources.scenario import scenario_key
from ..secrets import is_sensitive, mask
from ..state.model import State
from .deployer import absent
from .targets import CODE_ENV, CONNECTION, Remap, remap_pairs

READ_PARALLELISM = 8
Fields = dict[str, Any]
Objects = dict[tuple[str, str], Fields]  # (kind, name) -> managed fields


__all__ = ["as_activated", "compare", "desired_objects", "read_objects", "scenario_key"]


def _key(a: Address) -> tuple[str, str]:
    """How a bundle's object is matched on the automation node: (kind, the kind's bundle name for it)."""
    return a.kind, "" if a.name is None else KINDS[a.kind].bundle_name(a.name)


def read_objects(conn: Connection, project_key: str) -> Objects | None:
    """Every flow object of a project, as managed fields; None when the project does not exist."""
    project = conn.client.get_project(project_key)
    if absent(conn, project.get_metadata) is None:
        return None
    carried = [k for k in KINDS.values() if k.in_bundle]
    addresses = [Address(k.name, project_key) for k in carried if k.project_level]
    for kind in (k for k in carried if k.listed):
        listed = read_with_retry(conn, partial(kind.list_in, project))
        addresses.extend(Address(kind.name, project_key, name) for name, _ in listed)
    remotes = refresh(conn, addresses, State(environment=conn.env_name), READ_PARALLELISM)
    out: Objects = {}
    for a, remote in remotes.items():
        if remote is None:
            continue  # gone between the listing and the read
        out[_key(a)] = KINDS[a.kind].bundle_fields(remote.fields)
    return out


def desired_objects(desired: Mapping[Address, Desired], project_key: str) -> Objects:
    """The objects a configuration wants in the design project (for bundles that are no longer there to read)."""
    out: Objects = {}
    for a, d in desired.items():
        if a.project != project_key or not KINDS[a.kind].in_bundle:
            continue
        out[_key(a)] = KINDS[a.kind].bundle_fields(dict(d.fields))
    return out


def as_activated(objects: Objects, remaps: list[Remap], current: Objects | None,
                 scenarios_to_activate: Mapping[str, bool]) -> Objects:
    """The design objects as activation leaves them on the automation node."""
    activation = Activation(remap_pairs(remaps, CONNECTION), remap_pairs(remaps, CODE_ENV),
                            {scenario_key(k): v for k, v in scenarios_to_activate.items()})
    return {(kind, name): KINDS[kind].activated(fields, activation, (current or {}).get((kind, name)), name)
            for (kind, name), fields in objects.items()}


def compare(bundle: Objects, current: Objects | None, project_key: str, target_env: str, *,
            partial: bool = False) -> list[Action]:
    """Actions that turn the automation project (`current`, None when absent) into the bundle's content.

    `partial`: the bundle side holds only the fields a configuration manages, so open maps are compared on
    their keys only (as plans do).
    """
    current = current or {}
    order = {k: i for i, k in enumerate(registry.names())}
    keep: list[Action] = []
    gone: list[Action] = []
    for kind, name in sorted(set(bundle) | set(current), key=lambda k: (order.get(k[0], 99), k[1])):
        address = Address(kind, project_key, name or None)
        want, have = bundle.get((kind, name)), current.get((kind, name))
        if want is None:
            why = ActionReason.BUNDLE_REMOVES
            gone.append(Action(address, kind, ActionType.DELETE, why.text(), reason_code=why))
        elif have is None:
            changes = tuple(FieldChange(p, None, mask(v), is_sensitive(p, v)) for p, v in sorted(want.items()))
            why = ActionReason.BUNDLE_ADDS
            keep.append(Action(address, kind, ActionType.CREATE, why.text(target_env), changes, reason_code=why))
        else:
            open_maps = KINDS[kind].open_maps if partial else frozenset()
            diff = tuple(diff_fields(want, have, open_maps=open_maps))
            action = ActionType.UPDATE if diff else ActionType.NOOP
            why = ActionReason.BUNDLE_CHANGES if diff else ActionReason.BUNDLE_SAME
            keep.append(Action(address, kind, action, why.text(), diff, reason_code=why))
    return keep + gone
