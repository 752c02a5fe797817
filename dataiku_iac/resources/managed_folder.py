"""Managed folders: addressed by name in the config, by a server-made 8-character id in DSS.

The state keeps the id; without one (first plan, lost reply, folder made by hand) the folder is found by
name, so it is adopted rather than duplicated. Managed fields: name, connection (physical), path (only
when the config sets it: otherwise DSS's own choice, `/${projectKey}/${odbId}`, is left alone), tags,
description. A connection change is made in place, as DSS's own `set_connection_and_path` does: the
folder keeps its id and the recipes using it (a replace would delete them), and DSS does not move the
files, which stay where they were written.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..config.models import Strict
from ..config.testing_models import WAIVERS_HELP, Waivers
from ._flow import absent_as_none, describe, folder_ids, physical_connection, tag_set
from .address import Address
from .base import CONNECTION, RENAMED, Desired, ImportContext, Kind, Listed, Remote, nonempty, version_number

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.managedfolder import DSSManagedFolder
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource
    from .context import EnvContext

DEFAULT_FOLDER_PATH = "/${projectKey}/${odbId}"  # where DSS puts a folder when not told


class ManagedFolder(Strict):
    """A managed folder: files of any kind, stored by DSS in a connection."""

    connection: str = Field(description="logical connection, remapped per environment")
    path: str | None = Field(default=None, description="path in the connection (DSS picks one when omitted)")
    tags: list[str] = Field(default_factory=list, description="folder tags")
    description: str = Field(default="", description="folder description")
    waivers: Waivers = Field(default_factory=dict, description=WAIVERS_HELP)


class ManagedFolderKind(Kind):
    name = "managed_folder"
    model = ManagedFolder  # the entry under `managed_folders.<name>` in a project file
    collection = "managed_folders"
    listed = True  # a project holds any number: `listing` finds those dss-iac does not manage
    versioned = True  # settings saves and renames bump it (tests/contract)
    rank = 30  # created after the project and its settings, before the datasets and recipes
    replace_drops_dependents = True  # DSS drops the recipes that read or write it
    remapped = {"connection": CONNECTION}  # an environment's `remap.connections` renames it
    adoptable = frozenset({"description", "tags", "connection", "path"})
    unadoptable = {"name": RENAMED}
    template = {"connection": ""}

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        out = []
        for name, folder in sorted(source.spec.managed_folders.items()):
            connection, notes = physical_connection(env, folder.connection)
            fields: dict[str, Any] = {"name": name, "connection": connection, "tags": tag_set(folder.tags),
                                      "description": folder.description}
            if folder.path is not None:
                fields["path"] = folder.path
            out.append(Desired(Address("managed_folder", key, name), fields, (Address("project", key),), notes))
        return out

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        path = fields.get("path")
        return nonempty({"connection": ctx.connection(fields["connection"]),
                         "path": None if path == DEFAULT_FOLDER_PATH else path, "tags": fields["tags"],
                         "description": fields["description"]})

    def listing(self, project: DSSProject) -> list[Listed]:
        return [Listed(str(f["name"]), str(f["id"]), version_number(f), f) for f in project.list_managed_folders()
                if f.get("name") and f.get("id")]

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        project = client.get_project(address.project)
        folder_id = remote_id
        if folder_id is None:
            ids = absent_as_none(lambda: folder_ids(project))
            folder_id = (ids or {}).get(str(address.name))
            if folder_id is None:
                return None
        settings = absent_as_none(project.get_managed_folder(folder_id).get_settings)
        if settings is None:
            return None
        raw = settings.get_raw()
        return Remote(folder_id, fields_of(raw), raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        f = desired.fields
        project = client.get_project(desired.address.project)
        # DSS gives the folder its connection's type and the path `/${projectKey}/${odbId}`.
        folder = project.create_managed_folder(f["name"], connection_name=f["connection"])
        if f.get("path") is not None or f["tags"] or f["description"]:
            self._save(folder, folder.get_settings().get_raw(), f)
        return str(folder.id)

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        folder = client.get_project(desired.address.project).get_managed_folder(remote.remote_id)
        raw = copy.deepcopy(remote.raw) if isinstance(remote.raw, dict) else folder.get_settings().get_raw()
        self._save(folder, raw, desired.fields)

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        # Keep the files: dss-iac never drops data by default.
        client.get_project(address.project).get_managed_folder(remote_id).delete(drop_data=False)

    @staticmethod
    def _save(folder: DSSManagedFolder, raw: dict[str, Any], fields: dict[str, Any]) -> None:
        from dataikuapi.dss.managedfolder import DSSManagedFolderSettings

        settings = DSSManagedFolderSettings(folder, raw)
        raw["name"] = fields["name"]
        raw.setdefault("params", {}).setdefault("connection", None)
        # The client's own setter: on a connection change it also sets the folder type to the new
        # connection's (S3, Azure...), which DSS requires to match.
        settings.set_connection_and_path(fields["connection"], fields.get("path"))
        describe(raw, fields)
        settings.save()


def fields_of(raw: dict[str, Any]) -> dict[str, Any]:
    """The managed fields of a folder settings document, in the shape `desired` produces."""
    params = raw.get("params") or {}
    return {"name": raw.get("name"), "connection": params.get("connection"), "path": params.get("path"),
            "tags": tag_set(raw.get("tags")), "description": raw.get("description") or ""}
