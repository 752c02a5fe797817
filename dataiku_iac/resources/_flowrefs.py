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

FOLDER_ID_LENGTH = 8  # DSS's folder ids: 8 letters or digits

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


def _foreign_folders(project: DSSProject, refs: Iterable[str]) -> dict[str, dict[str, str]]:
    """Another project's folders (name -> id) for each project `refs` names (`OTHER.name`): one list call each.
    A project that cannot be read (gone, not shared) has none."""
    from dataikuapi.utils import DataikuException

    out: dict[str, dict[str, str]] = {}
    for other in sorted({r.split(".", 1)[0] for r in refs if "." in r} - {project.project_key}):
        try:
            out[other] = folder_ids(project.client.get_project(other))
        except DataikuException:
            out[other] = {}
    return out


def foreign_folder_names(project: DSSProject, refs: Iterable[str]) -> dict[str, str]:
    """`OTHER.<folder id>` -> `OTHER.<folder name>`, for the refs naming another project's folder (DSS names a
    folder by its id, the configuration by its name, as for this project's folders)."""
    wanted = [r for r in refs if "." in r and is_folder_id(r.split(".", 1)[1])]
    return {f"{other}.{fid}": f"{other}.{name}" for other, ids in _foreign_folders(project, wanted).items()
            for name, fid in ids.items()}


def foreign_folder_ids(project: DSSProject, refs: Iterable[str]) -> dict[str, str]:
    """`OTHER.<folder name>` -> `OTHER.<folder id>`, for the refs naming another project's folder."""
    refs = list(refs)
    return {f"{other}.{name}": f"{other}.{fid}" for other, ids in _foreign_folders(project, refs).items()
            for name, fid in ids.items() if f"{other}.{name}" in refs}


def is_folder_id(ref: str) -> bool:
    """Folder ids are 8 letters or digits: only then is a project's folder list worth a call."""
    return len(ref) == FOLDER_ID_LENGTH and ref.isalnum()


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
