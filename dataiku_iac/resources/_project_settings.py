"""The project settings document, shared by the kinds that manage a part of it (exposed objects, code defaults),
and the lock of a project's whole-document saves (the wiki's taxonomy too).

DSS saves the document whole: two kinds writing their parts of one project at once in a parallel apply must not
undo each other's save, so every write here reads, changes and saves under one lock per project.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._flow import absent_as_none

if TYPE_CHECKING:
    from dataikuapi import DSSClient

_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def project_lock(project_key: str) -> threading.Lock:
    """The lock of a project's whole-document settings (project settings, the wiki's taxonomy)."""
    with _GUARD:
        return _LOCKS.setdefault(project_key, threading.Lock())


def read_settings(client: DSSClient, project_key: str) -> dict[str, Any] | None:
    """The project's settings document, or None when the project does not exist."""
    settings = absent_as_none(client.get_project(project_key).get_settings)
    return None if settings is None else settings.get_raw()


def edit_settings(client: DSSClient, project_key: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Read the settings document, let `change` edit it in place, save it: the rest of it is kept as DSS has it."""
    with project_lock(project_key):
        settings = client.get_project(project_key).get_settings()
        change(settings.get_raw())
        settings.save()
