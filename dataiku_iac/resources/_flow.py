"""Helpers shared by the flow kinds (datasets, managed folders, zones): reads that may find nothing,
tags and descriptions of flow objects, connection remapping notes, and folder name <-> id lookups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .base import project_missing
from .context import EnvContext

if TYPE_CHECKING:
    from dataikuapi.dss.project import DSSProject

T = TypeVar("T")


def absent_as_none(fn: Callable[[], T]) -> T | None:
    """Run a DSS read; None when DSS says the object (or its project) does not exist (404 or 500)."""
    from dataikuapi.utils import DataikuException

    try:
        return fn()
    except DataikuException as e:
        if project_missing(e):
            return None
        raise


def tag_set(tags: Iterable[Any] | None) -> list[str]:
    """Tags as DSS treats them: a set, returned sorted."""
    return sorted({str(t) for t in tags or []})


def physical_connection(env: EnvContext, logical: str) -> tuple[str, dict[str, str]]:
    """The DSS connection behind a logical name, and the plan note that shows the remapping."""
    physical = env.connection(logical)
    return physical, ({"connection": f"{logical} -> {physical}"} if physical != logical else {})


def describe(raw: dict[str, Any], fields: dict[str, Any]) -> None:
    """Write the tags and description of a flow object into its raw settings document."""
    raw["tags"] = list(fields["tags"])
    raw["description"] = fields["description"]


def merge_open(target: dict[str, Any], wanted: dict[str, Any], removed: Iterable[str] = ()) -> dict[str, Any]:
    """Write an open map into a DSS document's map: the config's keys set, dropped keys removed, DSS's kept."""
    target.update(wanted)
    for key in removed:
        if key not in wanted:  # a key the config sets to null shows in the plan as removed too: keep it
            target.pop(key, None)
    return target


def folder_ids(project: DSSProject) -> dict[str, str]:
    """Managed folders of a project, name -> server-made id (DSS has no get-by-name for folders)."""
    return {f["name"]: f["id"] for f in project.list_managed_folders() if f.get("name") and f.get("id")}
