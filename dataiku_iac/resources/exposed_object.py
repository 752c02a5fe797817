"""Exposed objects: a dataset or managed folder that a project shares with other projects (DSS's project settings,
"Exposed objects"), so that their recipes may read it as `PROJECT.name` (a foreign input).

Managed fields: type (DATASET or MANAGED_FOLDER, from what the name is in the project file) and to (the target
project keys, sorted, as the environment names them). DSS keeps them in the project settings'
`exposedObjects.objects[]`: `{type, localName, rules: [{targetProject, ...}]}`, a folder by its id; a rule's other
settings are kept when its target stays. A recipe reading another project's dataset depends on that exposure, so
one plan makes the exposure before the consumer's recipe and removes it after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..config.models import PROJECT_KEY, Strict
from ._flow import folder_ids
from ._flowrefs import flow_address, folder_names_by_id
from ._project_settings import edit_settings, read_settings
from .address import Address, split_ref
from .base import Desired, ImportContext, Kind, Remote

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource
    from ..errors import ConfigError
    from .context import EnvContext

DATASET, FOLDER = "DATASET", "MANAGED_FOLDER"


class ExposedObject(Strict):
    """A dataset or managed folder of this project (the key names it) shared with other projects: their recipes
    may read it as `THIS_PROJECT.name`. The exposures declared are exactly DSS's for these objects; objects exposed
    in DSS and not declared here are listed as not managed."""

    to: list[str] = Field(min_length=1, description="keys of the projects that may use it, as their project files "
                                                    "write them (an environment with a `project_key` pattern renames "
                                                    "those of this workspace as it renames the projects; other keys "
                                                    "are used as they are)")


def _objects(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [o for o in (raw.get("exposedObjects") or {}).get("objects") or [] if isinstance(o, dict)]


def _targets(obj: Mapping[str, Any]) -> list[str]:
    return sorted({str(r["targetProject"]) for r in obj.get("rules") or [] if isinstance(r, dict)
                   and r.get("targetProject")})


def _named(raw: Mapping[str, Any], project: DSSProject) -> dict[str, dict[str, Any]]:
    """The exposed datasets and folders of a settings document by their names in the flow (folders by id in DSS)."""
    objects = [o for o in _objects(raw) if o.get("type") in (DATASET, FOLDER)]
    names = folder_names_by_id(project) if any(o["type"] == FOLDER for o in objects) else {}
    return {names.get(str(o.get("localName")), str(o.get("localName"))) if o["type"] == FOLDER
            else str(o.get("localName")): o for o in objects}


class ExposedObjectKind(Kind):
    name = "exposed_object"
    model = ExposedObject  # the entry under `exposed_objects.<dataset or folder name>` in a project file
    collection = "exposed_objects"
    listed = True
    rank = 45  # after the datasets and folders it shares, before the recipes that read it
    adoptable = frozenset({"to"})
    unadoptable = {"type": "what is exposed follows from the object of that name in the file (a dataset or a "
                           "folder)"}
    template = {"to": []}
    in_bundle = False  # its targets are the environment's project keys, which a bundle cannot rename

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        out = []
        for name, exposed in sorted(getattr(source.spec, self.collection).items()):
            kind = FOLDER if name in source.spec.managed_folders else DATASET
            to = sorted(set(exposed.to))
            deps = (Address("project", key), flow_address(source, name), *(Address("project", t) for t in to))
            out.append(Desired(Address(self.name, key, name), {"type": kind, "to": to}, deps))
        return out

    def renamed_projects(self, entry: dict[str, Any], rename: Callable[[str], str]) -> None:
        entry["to"] = [rename(key) for key in entry.get("to", [])]

    def checked(self, source: ProjectSource, projects: Mapping[str, ProjectSource]) -> list[ConfigError]:
        spec, key, err = source.spec, source.key, source.file.error
        errors = []
        for name, exposed in getattr(spec, self.collection).items():
            if name not in spec.datasets and name not in spec.managed_folders:
                errors.append(err(f"exposed object '{name}' names no dataset or managed folder of project {key}",
                                  ("exposed_objects", name), at_key=True))
            for i, target in enumerate(exposed.to):
                if not PROJECT_KEY.fullmatch(target) or target == key:
                    why = "its own project" if target == key else "not a project key"
                    errors.append(err(f"exposed object '{name}' is exposed to '{target}': {why}",
                                      ("exposed_objects", name, "to", i)))
        # A recipe reads another project's dataset or folder only when that project exposes it to this one (the other
        # checks of foreign inputs, unknown projects and datasets, are the recipes' own).
        for rname, recipe in spec.recipes.items():
            for i, ref in enumerate(recipe.inputs):
                other, item = split_ref(ref, key)
                owner = projects.get(other)
                if other == key or owner is None or (item not in owner.spec.datasets
                                                     and item not in owner.spec.managed_folders):
                    continue
                exposed = getattr(owner.spec, self.collection).get(item)
                if exposed is None or key not in exposed.to:
                    hint = f"exposed_objects: {{{item}: {{to: [{key}]}}}}"
                    errors.append(err(f"recipe input '{ref}': project {other} does not expose '{item}' to {key} "
                                      f"(declare it in {owner.file.shown}: {hint})", ("recipes", rname, "inputs", i)))
        return errors

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        return {"to": list(fields["to"])}

    def list_in(self, project: DSSProject) -> list[tuple[str, str]]:
        raw = project.get_settings().get_raw()
        return [(name, name) for name in sorted(_named(raw, project))]

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        raw = read_settings(client, address.project)
        if raw is None:
            return None
        obj = _named(raw, client.get_project(address.project)).get(str(address.name))
        if obj is None:
            return None
        return Remote(str(address.name), {"type": obj["type"], "to": _targets(obj)}, obj)

    def create(self, client: DSSClient, desired: Desired) -> str:
        self._write(client, desired.address, desired.fields)
        return str(desired.address.name)

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        self._write(client, desired.address, desired.fields)

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        self._write(client, address, None)

    @staticmethod
    def _write(client: DSSClient, address: Address, fields: dict[str, Any] | None) -> None:
        """Set the object's exposure rules to `fields["to"]` (None: stop exposing it), in one settings save."""
        project = client.get_project(address.project)
        name = str(address.name)

        def change(raw: dict[str, Any]) -> None:
            objects = raw.setdefault("exposedObjects", {}).setdefault("objects", [])
            current = _named(raw, project).get(name)
            if fields is None:
                if current is not None:
                    objects.remove(current)
                return
            if current is None or current.get("type") != fields["type"]:
                if current is not None:
                    objects.remove(current)
                local = folder_ids(project).get(name, name) if fields["type"] == FOLDER else name
                current = {"type": fields["type"], "localName": local, "rules": []}
                objects.append(current)
            rules = {str(r.get("targetProject")): r for r in current.get("rules") or [] if isinstance(r, dict)}
            current["rules"] = [rules.get(t, {"targetProject": t}) for t in fields["to"]]

        edit_settings(client, address.project, change)
