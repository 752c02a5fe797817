"""The planner: read DSS in parallel, compare with the config and the state, decide each action."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._gc import paused_gc
from .._text import brief
from ..dss.connect import Connection, read_with_retry
from ..errors import ConfigError
from ..resources import KINDS, Address, Desired, Remote
from ..secrets import UNKEYED, Fingerprints, is_sensitive, mask, taint
from ..state.model import State
from .diff import FieldChange, diff_fields, roots
from .graph import topo_order
from .model import Action, ActionReason, ActionType, Plan, Unmanaged
from .refresh import Listings, refresh_objects

if TYPE_CHECKING:
    from ..resources.base import Kind

DEFAULT_PARALLELISM = 8


def select_targets(desired: Mapping[Address, Desired], state: State,
                   targets: Iterable[Address]) -> tuple[dict[Address, Desired], set[str]]:
    """Targets and everything they depend on (a dataset needs its project), as Terraform does."""
    targets = list(targets)
    known = [*desired, *map(Address.parse, state.resources)]
    unknown = [str(t) for t in targets if not any(a.matches(t) for a in known)]
    if unknown:
        raise ConfigError(f"no resource matches --target {', '.join(unknown)} (neither in the configuration nor in "
                          "the state); see `dss-iac state list` and the config for addresses")
    chosen: set[Address] = set()
    stack = [a for a in desired if any(a.matches(t) for t in targets)]
    while stack:
        a = stack.pop()
        if a in chosen:
            continue
        chosen.add(a)
        stack.extend(d for d in desired[a].depends_on if d in desired)
    in_state = {addr for addr in state.resources if any(Address.parse(addr).matches(t) for t in targets)}
    return {a: desired[a] for a in chosen}, in_state


def refresh(conn: Connection, addresses: Iterable[Address], state: State, parallelism: int,
            desired: Mapping[str, Mapping[str, Any]] | None = None) -> dict[Address, Remote | None]:
    """What DSS holds for each resource (None: absent). Projects first: the contents of a missing project are not
    asked for. Objects whose DSS version has not moved since the state recorded them, and whose `desired` fields (by
    address) are what the state holds, are not read again (see refresh.py). A passthrough object is read as its DSS
    document: the form its `desired` fields (or, once removed from the configuration, its recorded ones) give it."""
    return refresh_objects(conn, addresses, state, parallelism, desired).remotes


def fingerprint(remotes: Mapping[Address, Remote | None], state: State,
                desired: Mapping[str, Mapping[str, Any] | None]) -> str:
    """One digest of everything read from DSS, to tell at apply time whether DSS changed since the plan. Keyed with
    the state's key, so that it says nothing of the sensitive values in it; without a key yet, those (found through
    `desired` fields and the state's) are masked before hashing."""
    fps = state.fingerprints
    if fps.keyed:
        body = {str(a): (None if r is None else r.fields) for a, r in sorted(remotes.items())}
        return fps.of(body)
    masked = {str(a): (None if r is None else mask(_tainted(r, str(a), state, desired)))
              for a, r in sorted(remotes.items())}
    return "sha256:" + hashlib.sha256(json.dumps(masked, sort_keys=True, default=str).encode()).hexdigest()


def _tainted(remote: Remote, address: str, state: State, desired: Mapping[str, Mapping[str, Any] | None]) -> Any:
    entry = state.resources.get(address)
    return taint(dict(remote.fields), desired.get(address), entry.fields if entry is not None else None)
@paused_gc()  # a third of a no-op plan's CPU went to the collector walking the state and configuration
def make_plan(*, environment: str, desired: Mapping[Address, Desired], state: State, conn: Connection,
              config_digest: str, targets: tuple[Address, ...] = (), destroy: bool = False,
              parallelism: int = DEFAULT_PARALLELISM, record_untracked: bool = True, list_unmanaged: bool = True,
              progress: Callable[[str], None] | None = None) -> tuple[Plan, dict[Address, Remote | None]]:
    """`record_untracked`: objects found in DSS as configured but not in state are marked for apply to record
    (not where promote deploys: there no apply runs). `list_unmanaged`: the plan lists what the configuration's
    projects hold in DSS that dss-iac does not manage (with `targets`, only in the projects targeted whole)."""
    if destroy:
        desired = {}
    managed = set(state.resources)
    if targets:
        desired, managed = select_targets(desired, state, targets)
    addresses = set(desired) | {Address.parse(a) for a in managed}
    if progress:
        progress(f"refreshing {len(addresses)} resources")
    # The projects whose objects the plan lists beside the resources (made by hand, or kept): listed once, with the
    # resources of their kinds.
    listed = ({a.project for a in desired if a.kind == "project" and (not targets or a in targets)}
              if list_unmanaged else set()) | {a.project for a in map(Address.parse, managed)
                                               if a.kind == "project" and a not in desired}
    refreshed = refresh_objects(conn, addresses, state, parallelism, {str(a): d.fields for a, d in desired.items()},
                                also_list=listed)
    remotes = refreshed.remotes
    leaving = {a.project for a in map(Address.parse, managed) if a.kind == "project"
               and a not in desired and remotes.get(a) is not None}
    staying = {a.project for a, r in remotes.items() if a.kind == "project" and a in desired and r is not None
               and (not targets or a in targets)} if list_unmanaged else set()
    found = unmanaged_objects(conn, leaving | staying, state, remotes, parallelism, refreshed.listings)
    kept = {key: [u.label for u in found[key]] for key in sorted(leaving) if found[key]}
    actions = _decide(desired, state, remotes, managed, kept, record_untracked)
    plan = Plan(
        environment=environment, actions=tuple(actions), config_digest=config_digest,
        state_lineage=state.lineage, state_serial=state.serial,
        remote_fingerprint=fingerprint(remotes, state, {str(a): d.fields for a, d in desired.items()}),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"), targets=tuple(str(t) for t in targets),
        destroy=destroy, unmanaged=tuple(u for key in sorted(staying) for u in found[key]),
        fingerprints=state.fingerprints,
    )
    return plan, remotes


def unmanaged_objects(conn: Connection, keys: Iterable[str], state: State, remotes: Mapping[Address, Remote | None],
                      parallelism: int = DEFAULT_PARALLELISM,
                      listings: Listings | None = None) -> dict[str, list[Unmanaged]]:
    """What each project holds in DSS that is neither in state nor among the objects just read for the
    configuration (`remotes`): made by hand. One list call per kind and project (none where `listings`, the refresh's
    list replies, has it); compared by DSS's own ids, so folders, scenarios and zones (server-made ids) are matched
    exactly."""
    keys = sorted(set(keys))
    ours = {(a.project, a.kind, r.remote_id) for a, r in remotes.items() if r is not None}
    ours |= {(Address.parse(addr).project, entry.kind, entry.remote_id) for addr, entry in state.resources.items()}
    kinds = [k for k in KINDS.values() if k.listed]

    def list_one(task: tuple[str, Kind]) -> list[Unmanaged]:
        key, kind = task
        project = conn.client.get_project(key)
        known = (listings or {}).get((key, kind.name))
        listed = known if known is not None else read_with_retry(conn, lambda: kind.listing(project))
        listed = sorted(listed, key=lambda o: (o.name, o.remote_id))
        return [Unmanaged(kind.name, key, o.name, o.remote_id) for o in listed
                if (key, kind.name, o.remote_id) not in ours]

    found: dict[str, list[Unmanaged]] = {key: [] for key in keys}
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        for objects in pool.map(list_one, [(key, kind) for key in keys for kind in kinds]):
            for u in objects:
                found[u.project].append(u)
    return found


def _decide(desired: Mapping[Address, Desired], state: State, remotes: Mapping[Address, Remote | None],
            managed: set[str], kept: Mapping[str, list[str]] | None = None,
            record_untracked: bool = True) -> list[Action]:
    by_addr: dict[str, Action] = {}
    deps: dict[str, list[str]] = {}
    fps = state.fingerprints
    for a, d in desired.items():
        key = str(a)
        deps[key] = [str(x) for x in d.depends_on]
        by_addr[key] = _decide_one(KINDS[a.kind], d, state.resources.get(key), remotes.get(a), record_untracked, fps)
    kept = kept or {}
    # A project that holds objects dss-iac does not manage is kept (and forgotten): its managed objects are
    # deleted one by one instead of with the project.
    deleted_projects = {Address.parse(k).project for k in managed
                        if k not in by_addr and Address.parse(k).kind == "project"} - set(kept)
    for key in managed:
        if key in by_addr:
            continue
        a = Address.parse(key)
        entry = state.resources[key]
        remote = remotes.get(a)
        deps[key] = list(entry.depends_on)
        with_project = a.kind != "project" and a.project in deleted_projects and KINDS[a.kind].dies_with_project
        why, detail = ActionReason.REMOVED_FROM_CONFIG, ""
        forgotten = remote is None or (a.kind == "project" and a.project in kept)
        if remote is None:
            why = ActionReason.ALREADY_GONE
        elif with_project:
            why, detail = ActionReason.DELETED_WITH_PROJECT, a.project
        elif forgotten:
            why, detail = ActionReason.KEPT_IN_DSS, brief(kept[a.project])
            with_project = True
        by_addr[key] = Action(a, a.kind, ActionType.DELETE, why.text(detail), remote_id=entry.remote_id,
                              with_project=with_project or remote is None, forgotten_only=forgotten,
                              changes=_listed(taint(dict(remote.fields), entry.fields), before=True)
                              if remote is not None else (), reason_code=why)
    _cascade_replacements(by_addr, desired)
    order = topo_order(by_addr, deps)
    # Read top-down: what is created or kept in dependency order, then deletions dependents-first.
    keep = [by_addr[k] for k in order if by_addr[k].action is not ActionType.DELETE]
    gone = [by_addr[k] for k in reversed(order) if by_addr[k].action is ActionType.DELETE]
    return keep + gone


def _listed(fields: Mapping[str, Any], *, before: bool = False) -> tuple[FieldChange, ...]:
    """Every field as a change from nothing (a create) or to nothing (a delete), sensitive values masked."""
    return tuple(FieldChange(p, mask(v), None, is_sensitive(p, v)) if before else
                 FieldChange(p, None, mask(v), is_sensitive(p, v)) for p, v in diff_items(fields))


def _decide_one(kind: Kind, d: Desired, entry: Any, remote: Remote | None, record_untracked: bool = True,
                fps: Fingerprints = UNKEYED) -> Action:
    key = d.address
    prior = entry.fields if entry is not None else None
    deps = tuple(d.depends_on)
    fields = dict(d.fields)
    if remote is None:
        why = ActionReason.DELETED_OUTSIDE if entry is not None else ActionReason.NOT_IN_DSS
        return Action(key, kind.name, ActionType.CREATE, why.text(), _listed(fields), fields=fields, depends_on=deps,
                      notes=d.notes, reason_code=why)
    # Equal fields differ nowhere: no diff to make (most objects of most plans).
    changes = () if fields == remote.fields else tuple(
        diff_fields(fields, remote.fields, open_maps=kind.open_maps, previously_managed=prior, fingerprints=fps,
                    itemwise=kind.itemwise))
    drift: tuple[FieldChange, ...] = ()
    if prior is not None and prior != remote.fields:
        # Told as what happened in DSS: from the value last applied to the value found.
        drift = tuple(FieldChange(c.path, c.after, c.before, c.sensitive) for c in
                      diff_fields(prior, remote.fields, open_maps=kind.open_maps, previously_managed=prior,
                                  fingerprints=fps, itemwise=kind.itemwise))
    if not changes:
        if entry is None and record_untracked:
            why = ActionReason.RECORD_EXISTING
            return Action(key, kind.name, ActionType.NOOP, why.text(), (), drift, remote.remote_id, fields, deps,
                          notes=d.notes, record_only=True, reason_code=why)
        why = ActionReason.UP_TO_DATE
        return Action(key, kind.name, ActionType.NOOP, why.text(), (), drift, remote.remote_id, fields, deps,
                      notes=d.notes, reason_code=why)
    forced = sorted(roots(changes) & kind.replace_on)
    if forced:
        why = ActionReason.CANNOT_UPDATE
        return Action(key, kind.name, ActionType.REPLACE, why.text(", ".join(forced)), changes, drift,
                      remote.remote_id, fields, deps, notes=d.notes, reason_code=why)
    config_changed = prior is None or bool(diff_fields(fields, prior, open_maps=kind.open_maps,
                                                       previously_managed=prior, fingerprints=fps,
                                                       itemwise=kind.itemwise))
    if drift and not config_changed:
        why = ActionReason.CHANGED_OUTSIDE
    elif drift:
        why = ActionReason.CONFIG_AND_DSS_CHANGED
    elif prior is None:
        why = ActionReason.ADOPTED
    else:
        why = ActionReason.CONFIG_CHANGED
    return Action(key, kind.name, ActionType.UPDATE, why.text(), changes, drift, remote.remote_id, fields, deps,
                  notes=d.notes, reason_code=why)


def diff_items(fields: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return sorted(fields.items())


def _cascade_replacements(by_addr: dict[str, Action], desired: Mapping[Address, Desired]) -> None:
    """What a replace drags along in DSS, planned up front so one apply settles everything.

    DSS drops the recipes that use a deleted dataset or folder (so they are replaced too), and the new
    object, and those recipes, land in the default zone (so their zones are updated to take them back).
    """
    replaced = {k for k, a in by_addr.items() if a.action is ActionType.REPLACE and a.kind in KINDS
                and KINDS[a.kind].replace_drops_dependents}
    if not replaced:
        return
    for a, d in desired.items():
        key = str(a)
        act = by_addr[key]
        if KINDS[a.kind].on_dependency_replaced == "replace" and act.action in (ActionType.NOOP, ActionType.UPDATE) \
                and replaced & {str(x) for x in d.depends_on}:
            by_addr[key] = _with(act, ActionType.REPLACE, ActionReason.DEPENDENCY_REPLACED)
            replaced.add(key)
    for a, d in desired.items():
        key = str(a)
        act = by_addr[key]
        if KINDS[a.kind].on_dependency_replaced == "update" and act.action is ActionType.NOOP \
                and replaced & {str(x) for x in d.depends_on}:
            by_addr[key] = _with(act, ActionType.UPDATE, ActionReason.ITEM_REPLACED)


def _with(act: Action, action: ActionType, why: ActionReason) -> Action:
    return Action(act.address, act.kind, action, why.text(), act.changes, act.drift, act.remote_id, act.fields,
                  act.depends_on, notes=act.notes, reason_code=why)
