"""Project variables: `standard` (shipped in bundles) and `local`, environment overrides applied.

Where projects arrive by bundle, the automation project holds what promotion leaves there: the standard variables
the bundle carries (the design environment's values) and the local variables the deployment sets (see
`deployment_locals`), so that a re-plan right after a promotion is empty.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..config.models import Strict
from .address import Address
from .base import Desired, ImportContext, Kind, Remote, project_missing
from .context import EnvContext

if TYPE_CHECKING:
    from dataikuapi import DSSClient

    from ..config.loader import ProjectSource


class Variables(Strict):
    """Project variables, read by recipes and scenarios as `${name}` or through the API."""

    standard: dict[str, Any] = Field(default_factory=dict, description="shipped with bundles")
    local: dict[str, Any] = Field(default_factory=dict, description="instance-specific, not in bundles")


def _standard(source: ProjectSource, env: EnvContext) -> dict[str, Any]:
    """The project's standard variables in `env`: the environment overrides those a project declares; it adds none
    of its own (an environment-only variable goes in `overrides: {variables.KEY: {standard: {...}}}`)."""
    if "variables" not in source.spec.project.model_fields_set:
        return {}
    return {k: env.variables.get(k, value) for k, value in source.spec.project.variables.standard.items()}


def deployment_locals(source: ProjectSource, env: EnvContext) -> dict[str, Any]:
    """The local variables a deployment sets where projects arrive by bundle: the project's local variables, and
    this environment's values of the standard variables the project declares (the bundle carries the design's
    standard values; on the automation node local variables override them)."""
    v = source.spec.project.variables
    return {**v.local, **{k: env.variables[k] for k in v.standard if k in env.variables}}


class VariablesKind(Kind):
    name = "variables"
    model = Variables
    template = {"standard": {}, "local": {}}
    rank = 10

    def declared(self, spec: Any) -> list[str | None]:
        return [None] if "variables" in spec.project.model_fields_set else []

    def config_path(self, name: str | None) -> tuple[str, ...]:
        return ("project", "variables")

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        if not (fields["standard"] or fields["local"]):
            return None  # none set in DSS: not declared
        return {"standard": fields["standard"], "local": fields["local"]}

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        if "variables" not in source.spec.project.model_fields_set:
            return []  # not declared: left as DSS has them, not wiped
        key = source.key
        if env.design is not None and env.design_view is not None:
            fields = {"standard": _standard(env.design_view, env.design), "local": deployment_locals(source, env)}
        else:
            fields = {"standard": _standard(source, env), "local": dict(source.spec.project.variables.local)}
        return [Desired(Address("variables", key), fields, (Address("project", key),))]

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        from dataikuapi.utils import DataikuException

        try:
            raw = client.get_project(address.project).get_variables()
        except DataikuException as e:
            if project_missing(e):
                return None
            raise
        return Remote(address.project, {"standard": raw.get("standard", {}), "local": raw.get("local", {})}, raw)

    def create(self, client: DSSClient, desired: Desired) -> str:
        self.update(client, desired, Remote(desired.address.project, {}))
        return desired.address.project

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        client.get_project(desired.address.project).set_variables(
            {"standard": desired.fields["standard"], "local": desired.fields["local"]})

    def bundle_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"standard": fields.get("standard", {})}  # local variables come from the deployment, not the bundle

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        client.get_project(address.project).set_variables({"standard": {}, "local": {}})
