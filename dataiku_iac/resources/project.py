"""The project itself: name, descriptions, tags and custom metadata (DSS project metadata)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from .._text import shorten
from ..config.models import MAX_KEY_LENGTH, PROJECT_KEY, Strict
from ..config.testing_models import WAIVERS_HELP, Waivers
from .address import Address
from .base import Desired, ImportContext, Kind, Remote, nonempty, project_missing
from .context import EnvContext
from .permissions import Permission
from .variables import Variables

if TYPE_CHECKING:
    from dataikuapi import DSSClient

    from ..config.loader import ProjectSource


class Project(Strict):
    """The DSS project: identity, metadata, variables and permissions."""

    key: str = Field(description="DSS project key: uppercase letters, digits, underscores; immutable")
    name: str = Field(description="display name of the project")
    description: str = Field(default="", description="long description (Markdown), shown on the project's home page")
    short_desc: str = Field(default="", description="one-line description, shown in project lists")
    tags: list[str] = Field(default_factory=list, description="project tags")
    custom: dict[str, Any] = Field(default_factory=dict, description="custom metadata fields (DSS keeps any JSON "
                                   "value: a string, a number, a list...)")
    variables: Variables = Field(
        default_factory=Variables,
        description="when declared (or overridden by the environment), the project's variables are exactly these; "
                    "when left out, DSS's are left alone")
    permissions: list[Permission] = Field(
        default_factory=list,
        description="when declared, authoritative: groups not listed lose their access (per-user grants are kept); "
                    "when left out, DSS's are left alone")
    waivers: Waivers = Field(default_factory=dict, description=WAIVERS_HELP)

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not PROJECT_KEY.fullmatch(v):
            raise ValueError(f"invalid project key '{shorten(v)}': expected uppercase letters, digits and underscores, "
                             "starting with a letter (e.g. CHURN_V2)")
        if len(v) > MAX_KEY_LENGTH:
            raise ValueError(f"project key '{shorten(v)}' is {len(v)} characters long: at most {MAX_KEY_LENGTH}")
        return v


class ProjectKind(Kind):
    name = "project"
    model = Project
    adoptable = frozenset({"name", "description", "short_desc", "tags", "custom"})
    rank = 0
    dies_with_project = False

    def config_path(self, name: str | None) -> tuple[str, ...]:
        return ("project",)

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        return {"key": ctx.project_key, "name": fields["name"], **nonempty(
            {k: fields[k] for k in ("description", "short_desc", "tags", "custom")})}

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        p = source.spec.project
        fields = {"name": p.name, "description": p.description, "short_desc": p.short_desc,
                  "tags": sorted(set(p.tags)), "custom": dict(p.custom)}
        return [Desired(Address("project", p.key), fields)]

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        from dataikuapi.utils import DataikuException

        try:
            meta = client.get_project(address.project).get_metadata()
        except DataikuException as e:
            if project_missing(e):
                return None
            raise
        return Remote(address.project, fields_of(meta), meta)

    def create(self, client: DSSClient, desired: Desired) -> str:
        key = desired.address.project
        owner = client.get_auth_info().get("authIdentifier", "admin")
        project = client.create_project(key, desired.fields["name"], owner,
                                        description=desired.fields["description"], tags=desired.fields["tags"])
        meta = project.get_metadata()
        project.set_metadata(merge(meta, desired.fields))
        return key

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        project = client.get_project(desired.address.project)
        project.set_metadata(merge(project.get_metadata(), desired.fields))

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        # Keep managed data and folder contents: dss-iac never drops data by default.
        client.get_project(address.project).delete(clear_managed_datasets=False, clear_output_managed_folders=False)


def fields_of(meta: dict[str, Any]) -> dict[str, Any]:
    return {"name": meta.get("label", ""), "description": meta.get("description", ""),
            "short_desc": meta.get("shortDesc", ""), "tags": sorted(set(meta.get("tags", []))),
            "custom": dict((meta.get("custom") or {}).get("kv", {}))}


def merge(meta: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    meta["label"] = fields["name"]
    meta["description"] = fields["description"]
    meta["shortDesc"] = fields["short_desc"]
    meta["tags"] = list(fields["tags"])
    meta.setdefault("custom", {})["kv"] = dict(fields["custom"])
    return meta
