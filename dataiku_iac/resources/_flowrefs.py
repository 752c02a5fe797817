"""Flow references shared by the recipe and scenario kinds: addresses of the items they use, folder ids.

Recipes and scenarios name datasets by name but managed folders by their server-made id, while the
config (and so the plan) always speaks of names: these helpers translate in both directions. Generic
helpers (absent objects, tags, folder listing) live in `_flow.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import DSSApiError
from ._flow import folder_ids
from .address import Address, split_ref

if TYPE_CHECKING:
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource


def flow_address(source: ProjectSource, ref: str) -> Address:
    """The address of a dataset or folder named in a project file (`name`, or `OTHER.name` for a dataset)."""
    key, name = split_ref(ref, source.key)
    if key == source.key and name in source.spec.managed_folders:
        return Address("managed_folder", key, name)
    return Address("dataset", key, name)


def exposure_of(source: ProjectSource, ref: str) -> Address | None:
    """What reading `ref` needs besides the object itself: another project's exposure of it (`OTHER.name`)."""
    key, name = split_ref(ref, source.key)
    return None if key == source.key else Address("exposed_object", key, name)


def folder_names_by_id(project: DSSProject) -> dict[str, str]:
    """Folder id -> folder name, for the whole project (one list call)."""
    return {fid: name for name, fid in folder_ids(project).items()}


def used_folder_ids(project: DSSProject, depends_on: Iterable[Address]) -> dict[str, str]:
    """Name -> id of the project's folders among a resource's dependencies; a missing one is an error."""
    names = {a.name for a in depends_on if a.kind == "managed_folder" and a.project == project.project_key and a.name}
    if not names:
        return {}  # no folder: no list call
    ids = folder_ids(project)
    missing = sorted(names - set(ids))
    if missing:
        raise DSSApiError(f"managed folder(s) {', '.join(missing)} not found in project {project.project_key}")
    return {name: ids[name] for name in names}
