"""Project permissions, authoritative: groups not in the config lose their access.

Fields: `groups` maps each group to the sorted list of rights it has, so a plan reads
`groups.data_team = ["read_project_content"] -> ["read_project_content", "write_project_content"]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ..config.models import Strict
from . import _shapes
from .address import Address
from .base import Desired, ImportContext, Kind, Remote, project_missing
from .context import EnvContext

if TYPE_CHECKING:
    from dataikuapi import DSSClient

    from ..config.loader import ProjectSource



class Permission(Strict):
    """A group's rights on the project (DSS permission flags, in snake_case)."""

    group: str = Field(description="DSS group the rights are given to")
    admin: bool = Field(default=False, description="all rights on the project")
    read_project_content: bool = Field(default=False, description="see the flow: datasets, recipes, folders, "
                                                                  "scenarios")
    write_project_content: bool = Field(default=False, description="edit the flow and build datasets")
    read_dashboards: bool = Field(default=False, description="see dashboards and insights")
    write_dashboards: bool = Field(default=False, description="create and edit dashboards and insights")
    run_scenarios: bool = Field(default=False, description="run the project's scenarios")
    export_datasets_data: bool = Field(default=False, description="download and export the data of datasets")
    manage_dashboard_authorizations: bool = Field(default=False, description="choose which objects dashboard-only "
                                                                             "users may see")
    manage_exposed_elements: bool = Field(default=False, description="share the project's objects with other "
                                                                     "projects")
    execute_app: bool = Field(default=False, description="run the project as a Dataiku application")
    edit_permissions: bool = Field(default=False, description="change the project's permissions")


# Config flag (snake_case) -> DSS flag (camelCase).
FLAGS = {name: "".join(w.capitalize() if i else w for i, w in enumerate(name.split("_")))
         for name in Permission.model_fields if name != "group"}


class PermissionsKind(Kind):
    name = "permissions"
    model = list[Permission]
    reshaped = {"groups": _shapes.group_rights}
    keyed_by = "group"
    template: ClassVar[list[Any]] = []
    rank = 20
    in_bundle = False  # activation never applies permissions
    overridable = False

    def declared(self, spec: Any) -> list[str | None]:
        return [None] if "permissions" in spec.project.model_fields_set else []

    def config_path(self, name: str | None) -> tuple[str, ...]:
        return ("project", "permissions")

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        if not fields["groups"]:
            return None
        return [{"group": g, **dict.fromkeys(rights, True)} for g, rights in sorted(fields["groups"].items())]

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        if "permissions" not in source.spec.project.model_fields_set:
            return []  # not declared: left as DSS has them, not wiped
        groups = {p.group: sorted(f for f in FLAGS if getattr(p, f)) for p in source.spec.project.permissions}
        key = source.key
        return [Desired(Address("permissions", key), {"groups": groups}, (Address("project", key),))]

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        from dataikuapi.utils import DataikuException

        try:
            raw = client.get_project(address.project).get_permissions()
        except DataikuException as e:
            if project_missing(e):
                return None
            raise
        groups = {e["group"]: sorted(f for f, dss in FLAGS.items() if e.get(dss)) for e in raw.get("permissions", [])
                  if e.get("group")}
        return Remote(address.project, {"groups": groups}, raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        project = client.get_project(desired.address.project)
        self.update(client, desired, Remote(desired.address.project, {}, project.get_permissions()))
        return desired.address.project

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        raw = dict(remote.raw) if isinstance(remote.raw, dict) else {}
        kept_users = [e for e in raw.get("permissions", []) if not e.get("group")]  # per-user grants: not ours
        raw["permissions"] = kept_users + [
            {"group": group, **{dss: f in granted for f, dss in FLAGS.items()}}
            for group, granted in sorted(desired.fields["groups"].items())]
        client.get_project(desired.address.project).set_permissions(raw)

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        project = client.get_project(address.project)
        raw = project.get_permissions()
        raw["permissions"] = [e for e in raw.get("permissions", []) if not e.get("group")]
        project.set_permissions(raw)
