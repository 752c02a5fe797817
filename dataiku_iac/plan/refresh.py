"""Refresh: what DSS holds for a plan's resources, in as few requests as DSS allows (docs/performance.md).

Each project is read first: the contents of a missing project are not asked for. Then every listed kind is
listed once per project. An object of a `versioned` kind whose version has not moved since the state recorded it,
and whose configuration is what the state holds, is taken from the state without a request; a kind whose list
reply carries every managed field (zones) is made from it; everything else is read one by one. Instance objects
(connections, groups...) are read one by one beside the projects' objects. A passthrough object (kept as its DSS
document) is always read, and given in its document form (`Kind.observed`): the state's fields would not say which
document keys DSS holds now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..dss.connect import Connection, read_with_retry
from ..resources import KINDS, Address, Remote
from ..resources.base import Kind, Listed
from ..resources.passthrough import is_passthrough
from ..secrets import Fingerprints
from ..state.model import ResourceState, State
from .diff import diff_fields

# (project key, kind name) -> that kind's list reply in that project
Listings = dict[tuple[str, str], list[Listed]]


@dataclass
class Refreshed:
    remotes: dict[Address, Remote | None]
    listings: Listings = field(default_factory=dict)


def refresh_objects(conn: Connection, addresses: Iterable[Address], state: State, parallelism: int,
                    desired: Mapping[str, Mapping[str, Any]] | None = None,
                    also_list: Iterable[str] = ()) -> Refreshed:
    """`desired`: the configuration's fields of the resources it holds, by address; an object is taken from the
    state only when they are what the state recorded (otherwise the plan shows what DSS holds, read). `also_list`:
    projects whose every listed kind is listed, resources or not (to find what dss-iac does not manage)."""
    addresses = sorted(set(addresses))
    projects = sorted({a.project for a in addresses if not a.in_instance})
    remotes: dict[Address, Remote | None] = {}
    out = Refreshed(remotes)
    desired = desired or {}
    workers = max(1, parallelism)

    def read(a: Address) -> Remote | None:
        return _read(conn, a, state.resources.get(str(a)), desired.get(str(a)))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for a, r in pool.map(lambda a: (a, read(a)), [Address("project", p) for p in projects]):
            remotes[a] = r
        alive = {a.project for a, r in remotes.items() if r is not None}
        extra = set(also_list)
        kinds = {(a.project, KINDS[a.kind]) for a in addresses if a.project in alive and _spares_reads(KINDS[a.kind])}
        wanted = sorted({(p, k.name) for p, k in kinds} | {(p, other) for p, k in kinds for other in k.names_of}
                        | {(p, k.name) for p in extra & alive for k in KINDS.values() if k.listed})
        # A kind listed with another is picked out of that kind's reply: one call for both.
        derived = [(p, k) for p, k in wanted if KINDS[k].listed_with is not None]
        calls = sorted(set(wanted) - set(derived) | {(p, str(KINDS[k].listed_with)) for p, k in derived})
        rest = [a for a in addresses if a.kind != "project" and (a.in_instance or a.project in alive)]
        # Objects of kinds not listed are read beside the lists: the plan waits for one round-trip less.
        listed = set(wanted)
        direct = [a for a in rest if (a.project, a.kind) not in listed or not _spares_reads(KINDS[a.kind])]
        lists = {t: pool.submit(_list, conn, *t) for t in calls}
        reads = {a: pool.submit(read, a) for a in direct}
        out.listings.update({t: job.result() for t, job in lists.items()})
        out.listings.update({(p, k): KINDS[k].from_listed(out.listings[(p, str(KINDS[k].listed_with))])
                             for p, k in derived})
        remotes.update({a: job.result() for a, job in reads.items()})
        known = _Known(state, out.listings)
        plans = {a: _from_list(conn, a, known, desired) for a in rest if a not in remotes}
        to_read = [a for a, found in plans.items() if found is _READ]
        for a, r in pool.map(lambda a: (a, read(a)), to_read):
            remotes[a] = r
        remotes.update({a: found for a, found in plans.items() if found is not _READ})
    for a in addresses:
        remotes.setdefault(a, None)
    return out


_READ: Any = object()  # the object must be read one by one


def _spares_reads(kind: Kind) -> bool:
    """Whether listing the kind can spare reading its objects one by one (the other listed kinds, not versioned, are
    listed only to find what dss-iac does not manage)."""
    return kind.listed and (kind.versioned or type(kind).from_listing is not Kind.from_listing)


def _read(conn: Connection, a: Address, entry: ResourceState | None,
          desired: Mapping[str, Any] | None) -> Remote | None:
    """The object read from DSS, in the form of its desired fields or, without them, of its recorded ones (a
    passthrough's document)."""
    kind = KINDS[a.kind]
    remote = read_with_retry(conn, lambda: kind.read(conn.client, a, entry.remote_id if entry else None))
    return kind.observed(remote, desired or (entry.fields if entry is not None else None))


def _list(conn: Connection, project_key: str, kind_name: str) -> list[Listed]:
    project = conn.client.get_project(project_key)
    listed: list[Listed] = read_with_retry(conn, lambda: KINDS[kind_name].listing(project))
    return listed


class _Known:
    """The list replies and the state, by project."""

    def __init__(self, state: State, listings: Listings) -> None:
        self.state = state
        self.listings: dict[str, dict[str, list[Listed]]] = {}
        for (p, k), listed in listings.items():
            self.listings.setdefault(p, {})[k] = listed
        self.recorded: dict[tuple[str, str], set[tuple[str, str | None]]] = {}
        for key, e in state.resources.items():
            a = Address.parse(key)
            self.recorded.setdefault((a.project, e.kind), set()).add((e.remote_id, a.name))
        self._vouched: dict[tuple[str, str], bool] = {}

    def names_vouched(self, kind: Kind, project_key: str) -> bool:
        """Whether the names a kind's fields show for objects DSS refers to by id (a recipe's folders) are still those
        the state knows: every such object of the project is managed, under the same id and name. A folder renamed
        by hand is renamed in the recipes that use it, their versions unmoved."""
        if (project_key, kind.name) not in self._vouched:
            listed = self.listings.get(project_key, {})
            self._vouched[(project_key, kind.name)] = all(
                other in listed and {(o.remote_id, o.name) for o in listed[other]}
                == self.recorded.get((project_key, other), set()) for other in kind.names_of)
        return self._vouched[(project_key, kind.name)]


def _from_list(conn: Connection, a: Address, known: _Known, desired: Mapping[str, Mapping[str, Any]]) -> Any:
    """The object from the list replies and the state, None when it is gone, or `_READ`."""
    kind = KINDS[a.kind]
    listings = known.listings.get(a.project, {})
    listing = listings.get(a.kind)
    if listing is None:
        return _READ
    entry = known.state.resources.get(str(a))
    if entry is None:
        return None if not listing else _READ  # nothing of the kind in the project: nothing to find by name
    listed = next((o for o in listing if o.remote_id == entry.remote_id), None)
    if listed is None:
        return _READ  # gone, or found under its name again (a zone made anew by hand): the kind knows
    fields = desired.get(str(a))
    if is_passthrough(fields) or is_passthrough(entry.fields):
        return _READ  # its document, read: the recorded one does not say what DSS holds beyond it
    made = kind.from_listing(conn.client.get_project(a.project), listed, listings)
    if made is not None:
        return made
    unmoved = kind.versioned and entry.version is not None and listed.version == entry.version
    if unmoved and fields is not None and _as_recorded(kind, fields, entry, known.state) \
            and known.names_vouched(kind, a.project):
        return Remote(entry.remote_id, dict(entry.fields))
    return _READ


def _as_recorded(kind: Kind, fields: Mapping[str, Any], entry: ResourceState, state: State) -> bool:
    """Whether the configuration is what the state recorded: then DSS, at the recorded version, holds it too."""
    return fields == entry.fields or not diff_fields(fields, entry.fields, open_maps=kind.open_maps,
                                                     previously_managed=entry.fields, fingerprints=state.fingerprints,
                                                     itemwise=kind.itemwise)


def version_held(kind: Kind, remote: Remote, fields: Mapping[str, Any], recorded: Mapping[str, Any],
                 fingerprints: Fingerprints) -> int | None:
    """The version to record for an object just read as `remote` whose state records `recorded` (the configuration's
    `fields`, sealed): its version when DSS holds those fields, else None (the next refresh reads it)."""
    if diff_fields(fields, remote.fields, open_maps=kind.open_maps, previously_managed=recorded,
                   fingerprints=fingerprints, itemwise=kind.itemwise):
        return None
    return kind.version_of(remote)
