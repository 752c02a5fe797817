"""Flow zones: a name, a color, and the datasets, folders and recipes that live in the zone.

Zones have server-made ids, kept in the state. Without one, or when that zone is gone, the zone is found
by name (never the default zone), so a zone made by hand is adopted rather than twinned.

Managed fields: name, color, items: a sorted list of {type, name} with type DATASET, MANAGED_FOLDER or
RECIPE. The list is authoritative for those three kinds of local objects (others, like saved models or
shared foreign objects, are left alone): an object DSS holds in the zone that the config does not list
is moved back to the default zone.

DSS keeps a recipe in the zone of its outputs and moves them together, so a zone listing a recipe also
holds its outputs and the other way round: `desired` adds them, so the plan shows what DSS will hold, and
a config that would split such a group over two zones is refused.

Zones of one project are applied one after the other, because moving an object into a zone takes it out
of another: concurrent updates of two zones could undo each other's moves. So each zone depends on every
zone before it by name (not just the previous one: the apply waits only for dependencies with work to do,
so a no-op zone in the middle must not break the chain).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..config.models import Strict
from ..config.testing_models import WAIVERS_HELP, Waivers
from ..errors import DSSApiError
from . import _shapes, registry
from ._flow import absent_as_none, folder_ids
from .address import Address
from .base import RENAMED, Desired, ImportContext, Kind, Listed, Remote, project_missing
from .passthrough import entries, names
from .recipe import document_outputs

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.flow import DSSFlowZone
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource
    from ..config.project_model import ProjectFile
    from .context import EnvContext

DEFAULT_ZONE = "default"
# Zone item type -> the kind of the resource it names.
ITEM_KINDS = {"DATASET": "dataset", "MANAGED_FOLDER": "managed_folder", "RECIPE": "recipe"}
Item = tuple[str, str]  # (type, name)


class Zone(Strict):
    """A flow zone: a colored group of datasets, folders and recipes in the flow."""

    color: str = Field(default="#2ab1ac", pattern=r"^#[0-9a-fA-F]{6}$", description="zone color in the flow, "
                                                                                    "`#rrggbb`")
    items: list[str] = Field(default_factory=list, description="names of datasets, folders and recipes in the zone")
    waivers: Waivers = Field(default_factory=dict, description=WAIVERS_HELP)


class ZoneKind(Kind):
    name = "zone"
    model = Zone
    adoptable = frozenset({"color"})
    unadoptable = {"name": RENAMED}
    reshaped = {"items": _shapes.names}
    template = {"items": []}
    collection = "zones"
    rank = 70
    on_dependency_replaced = "update"  # the new object lands in the default zone
    names_of = frozenset({"managed_folder"})  # items name folders DSS refers to by id

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key, spec = source.key, source.spec
        groups = _move_groups(spec)
        claimed: dict[Item, str] = {}
        out: list[Desired] = []
        earlier: list[Address] = []
        for zname, zone in sorted(spec.zones.items()):
            items: set[Item] = set()
            for i, name in enumerate(zone.items):
                for item in _named(spec, name):
                    group = groups.get(item, frozenset({item}))
                    other = next((claimed[m] for m in sorted(group) if claimed.get(m, zname) != zname), None)
                    if other is not None:
                        partners = ", ".join(f"{t.lower().replace('_', ' ')} '{n}'" for t, n in sorted(group - {item}))
                        raise source.file.error(
                            f"zone item '{name}' moves with {partners} (DSS keeps a recipe in the zone of its "
                            f"outputs), and zone '{other}' already holds them", ("zones", zname, "items", i))
                    claimed.update(dict.fromkeys(group, zname))
                    items |= group
            fields = {"name": zname, "color": zone.color, "items": _as_fields(items)}
            deps = [Address("project", key), *(Address(ITEM_KINDS[t], key, n) for t, n in sorted(items)), *earlier]
            address = Address("zone", key, zname)
            out.append(Desired(address, fields, tuple(deps)))
            earlier.append(address)
        return out

    listed = True

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        return {"color": fields["color"], "items": sorted({i["name"] for i in fields["items"]})}

    def listing(self, project: DSSProject) -> list[Listed]:
        # Zones have no versionTag; their list reply is the whole of each zone (`from_listing`).
        return [Listed(str(z.name), str(z.id), None, z) for z in project.get_flow().list_zones()
                if z.id != DEFAULT_ZONE]

    def from_listing(self, project: DSSProject, listed: Listed,
                     listings: Mapping[str, list[Listed]]) -> Remote | None:
        folders = listings.get("managed_folder")
        names = None if folders is None else {f.remote_id: f.name for f in folders}
        raw = listed.item.get_settings().get_raw()  # the list item's own document: no request
        return Remote(listed.remote_id, fields_of(project, raw, names), raw)

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        project = client.get_project(address.project)
        flow = project.get_flow()
        zone: DSSFlowZone | None = None
        if remote_id is not None:
            zone = absent_as_none(lambda: flow.get_zone(remote_id))
        if zone is None:
            # No id yet, or its zone is gone: DSS does not keep zone names unique, so look for one by name
            # rather than create a twin of a zone made by hand.
            zones = absent_as_none(flow.list_zones) or []
            zone = next((z for z in zones if z.id != DEFAULT_ZONE and z.name == address.name), None)
        if zone is None:
            return None
        raw = zone.get_settings().get_raw()
        return Remote(zone.id, fields_of(project, raw), raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        f = desired.fields
        project = client.get_project(desired.address.project)
        zone = project.get_flow().create_zone(f["name"], f["color"])
        wanted = _as_items(f["items"])
        if wanted:
            _move_into(project, zone, wanted)
        return str(zone.id)

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        from dataikuapi.dss.flow import DSSFlowZone
        from dataikuapi.utils import DataikuException

        f = desired.fields
        project = client.get_project(desired.address.project)
        zone = DSSFlowZone(project.get_flow(), copy.deepcopy(remote.raw))
        settings = zone.get_settings()
        if settings.name != f["name"] or settings.color != f["color"]:
            settings.name, settings.color = f["name"], f["color"]
            settings.save()  # only name and color: DSS ignores items in a zone save
        try:
            _sync_items(project, zone, _as_items(f["items"]), _as_items(remote.fields["items"]))
        except DataikuException as e:
            # An object left the flow while we moved it (e.g. a dataset deleted in the same apply): read the
            # zone again and move what is still there.
            if not project_missing(e):
                raise
            fresh = self.read(client, desired.address, remote.remote_id)
            if fresh is None:
                raise
            _sync_items(project, zone, _as_items(f["items"]), _as_items(fresh.fields["items"]))

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        # DSS moves the zone's objects back to the default zone: nothing in the flow is lost.
        client.get_project(address.project).get_flow().get_zone(remote_id).delete()


def _named(spec: ProjectFile, name: str) -> list[Item]:
    """The flow objects a zone item names (a recipe may share its name with a dataset: both are meant)."""
    found = [("DATASET", name)] if name in names(spec, "dataset") else []
    if name in names(spec, "managed_folder"):
        found.append(("MANAGED_FOLDER", name))
    if name in names(spec, "recipe"):
        found.append(("RECIPE", name))
    return found


def _move_groups(spec: ProjectFile) -> dict[Item, frozenset[Item]]:
    """Objects DSS moves together: each recipe with its (local) outputs."""
    groups: dict[Item, frozenset[Item]] = {}
    written = {**{rname: recipe.outputs for rname, recipe in spec.recipes.items()},
               **{rname: document_outputs(doc) for rname, doc in entries(spec, registry.get("recipe")).items()}}
    for rname, recipe_outputs in written.items():
        outputs = [o for out in recipe_outputs if "." not in out
                   for o in _named(spec, out) if o[0] != "RECIPE"]
        group = frozenset({("RECIPE", rname), *outputs})
        for member in group:
            groups[member] = groups.get(member, frozenset()) | group
    return groups


def _as_fields(items: set[Item]) -> list[dict[str, str]]:
    return [{"type": t, "name": n} for t, n in sorted(items)]


def _as_items(fields: list[dict[str, str]]) -> set[Item]:
    return {(i["type"], i["name"]) for i in fields}


def fields_of(project: DSSProject, raw: dict[str, Any],
              folder_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The managed fields of a zone document: its local datasets, folders and recipes, by name (`folder_names`: the
    project's folders, id -> name, when already listed)."""
    refs = [i for i in raw.get("items") or []
            if i.get("objectType") in ITEM_KINDS and i.get("projectKey") in (None, project.project_key)]
    names: dict[str, str] = dict(folder_names or {})
    if folder_names is None and any(r["objectType"] == "MANAGED_FOLDER" for r in refs):
        names = {fid: name for name, fid in folder_ids(project).items()}  # folders are listed by id
    items: set[Item] = set()
    for r in refs:
        name = names.get(r["objectId"]) if r["objectType"] == "MANAGED_FOLDER" else r["objectId"]
        if name is not None:
            items.add((r["objectType"], name))
    return {"name": raw.get("name"), "color": raw.get("color"), "items": _as_fields(items)}


def _sync_items(project: DSSProject, zone: DSSFlowZone, wanted: set[Item], current: set[Item]) -> None:
    """Move out what should not be in the zone (to the default zone), then move in what should."""
    leaving, coming = current - wanted, wanted - current
    if leaving:
        _move_into(project, project.get_flow().get_default_zone(), leaving)
    if coming:
        _move_into(project, zone, coming)


def _move_into(project: DSSProject, zone: DSSFlowZone, items: set[Item]) -> None:
    ids = folder_ids(project) if any(t == "MANAGED_FOLDER" for t, _ in items) else {}
    handles: list[Any] = []
    for t, name in sorted(items):
        if t == "DATASET":
            handles.append(project.get_dataset(name))
        elif t == "RECIPE":
            handles.append(project.get_recipe(name))
        elif name in ids:
            handles.append(project.get_managed_folder(ids[name]))
        else:
            raise DSSApiError(f"managed folder '{name}' of project {project.project_key} not found: "
                              f"cannot move it into zone '{zone.name}'")
    zone.add_items(handles)
