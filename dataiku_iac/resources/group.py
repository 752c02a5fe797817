"""DSS groups, per environment: description and global permissions (admin, may create projects, may write code...).

Managed fields: description, permissions (the names of the global permissions the group holds, a set; every other
known permission is off). A group's name is its identity: letters, digits, `_` and `-` (no spaces, no `/`).

Deleting a group (removed from the instance file) removes that one membership from its users, as DSS does; their
other memberships are left alone, and the users themselves are not deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import Desired, ImportContext, Remote, nonempty
from .context import EnvContext
from .instance_base import InstanceKind

if TYPE_CHECKING:
    from dataikuapi import DSSClient

    from .address import Address

# Global permissions by their YAML name -> DSS's group flag.
PERMISSIONS = {
    "admin": "admin", "may_create_projects": "mayCreateProject", "may_write_safe_code": "mayWriteSafeCode",
    "may_write_unsafe_code": "mayWriteUnsafeCode", "may_create_code_envs": "mayCreateCodeEnvs",
    "may_manage_code_envs": "mayManageCodeEnvs", "may_create_clusters": "mayCreateClusters",
    "may_manage_clusters": "mayManageClusters", "may_develop_plugins": "mayDevelopPlugins",
    "may_edit_lib_folders": "mayEditLibFolders", "may_manage_udm": "mayManageUDM",
    "may_create_authenticated_connections": "mayCreateAuthenticatedConnections",
    "may_create_active_web_content": "mayCreateActiveWebContent", "may_share_to_workspaces": "mayShareToWorkspaces",
    "may_create_published_api_services": "mayCreatePublishedAPIServices",
    "may_create_published_projects": "mayCreatePublishedProjects",
    "may_write_in_root_project_folder": "mayWriteInRootProjectFolder", "may_create_workspaces": "mayCreateWorkspaces",
}
Permission = Literal[tuple(PERMISSIONS)]  # type: ignore[valid-type]


class Group(BaseModel):
    """A DSS group of the environment's instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(default="", description="what the group is for")
    permissions: list[Permission] = Field(  # type: ignore[valid-type]
        default_factory=list, description=f"global permissions the group holds (the others are off): "
                                          f"{', '.join(PERMISSIONS)}")


def fields_of(raw: dict[str, Any]) -> dict[str, Any]:
    return {"description": raw.get("description") or "",
            "permissions": sorted(p for p, flag in PERMISSIONS.items() if raw.get(flag))}


def merge(raw: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    raw["description"] = fields["description"]
    for p, flag in PERMISSIONS.items():
        raw[flag] = p in fields["permissions"]
    return raw


class GroupKind(InstanceKind):
    name = "group"
    model = Group
    section = "groups"
    rank = -50  # before the users and connections that name it
    adoptable = frozenset({"description", "permissions"})
    template = {"description": "", "permissions": []}

    def fields_of_entry(self, name: str, entry: Any, env: EnvContext) -> dict[str, Any]:
        return {"description": entry.description, "permissions": sorted(set(entry.permissions))}

    def fetch(self, client: DSSClient, name: str) -> dict[str, Any]:
        return dict(client.get_group(name).get_definition())

    def normalise(self, raw: dict[str, Any]) -> dict[str, Any]:
        return fields_of(raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        name = str(desired.address.name)
        group = client.create_group(name, desired.fields["description"])
        group.set_definition(merge(group.get_definition(), desired.fields))
        return name

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        group = client.get_group(remote.remote_id)
        group.set_definition(merge(group.get_definition(), desired.fields))

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        client.get_group(remote_id).delete()

    def list_all(self, client: DSSClient) -> list[str]:
        return sorted(str(g["name"]) for g in client.list_groups())

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext | None) -> Any:
        return nonempty(fields)
