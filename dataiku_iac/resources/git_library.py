"""Git libraries: a Git repository checked out into the project's library (DSS's "Import from Git" in the
library editor), so that the project's code can import it.

Managed fields: repository, checkout (branch, tag or commit), path (the folder of the repository imported, "" for
all of it), under (the library folder the checkout lands in: the checkout folder is `<under>/<key>`, so the key
finds it) and add_to_python_path. DSS identifies a Git library by its folder (`localTargetPath`), which is the
remote id; `set_library` changes repository, path and checkout in place, so a change of `under` or
`add_to_python_path` plans a replace. Removing one keeps its checked-out files in the library. Credentials are
not managed (public repositories, or the DSS host's own Git credentials).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from ..config.models import Strict
from ._flow import absent_as_none
from .address import Address
from .base import Desired, ImportContext, Kind, Remote, nonempty

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource
    from .context import EnvContext

_FOLDER = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class GitLibrary(Strict):
    """A Git repository checked out into the project's library, in the folder `<under>/<key>`."""

    repository: str = Field(min_length=1, description="the repository's URL (https or ssh)")
    checkout: str = Field(min_length=1, description="the branch, tag or commit to check out")
    path: str = Field(default="", description="the folder of the repository to import (default: all of it)")
    under: str = Field(default="", description="the folder of the project library the checkout goes in, such as "
                                               "`python` (default: the library's root); the checkout folder is "
                                               "`<under>/<key>`")
    add_to_python_path: bool = Field(default=True, description="whether the project's Python code can import it "
                                                               "(DSS's \"add to Python path\")")

    @field_validator("under")
    @classmethod
    def _relative(cls, v: str) -> str:
        v = v.strip("/")
        if v and (not _FOLDER.match(v) or ".." in v.split("/")):
            raise ValueError(f"'{v}' is not a folder of the project library: use a relative path such as python/libs")
        return v


def _target(under: str, name: str) -> str:
    return f"{under}/{name}" if under else name


def _fields(ref: dict[str, Any]) -> dict[str, Any]:
    target = str(ref.get("localTargetPath") or "")
    return {"repository": ref.get("repository") or "", "checkout": ref.get("checkout") or "",
            "path": ref.get("pathInGitRepository") or "", "under": target.rpartition("/")[0],
            "add_to_python_path": bool(ref.get("addToPythonPath", True))}


def _libraries(project: DSSProject) -> dict[str, dict[str, Any]]:
    """The project's Git libraries by folder (`localTargetPath`)."""
    return {str(ref["localTargetPath"]): ref for ref in project.get_project_git().list_libraries()
            if isinstance(ref, dict) and ref.get("localTargetPath")}


class GitLibraryKind(Kind):
    name = "git_library"
    model = GitLibrary  # the entry under `git_libraries.<key>` in a project file
    collection = "git_libraries"
    listed = True
    rank = 15  # code the flow's recipes import: before them
    replace_on = frozenset({"under", "add_to_python_path"})
    adoptable = frozenset({"repository", "checkout", "path", "add_to_python_path"})
    unadoptable = {"under": "the library's folder is its identity in DSS: moved, it reads as removed and added"}
    template = {"repository": "", "checkout": "main"}
    in_bundle = False  # promotion leaves a bundle's library as DSS ships it

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        return [Desired(Address(self.name, key, name), lib.model_dump(), (Address("project", key),))
                for name, lib in sorted(getattr(source.spec, self.collection).items())]

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        return {"repository": fields["repository"], "checkout": fields["checkout"]} | nonempty(
            {"path": fields["path"], "under": fields["under"]}) | (
            {} if fields["add_to_python_path"] else {"add_to_python_path": False})

    def list_in(self, project: DSSProject) -> list[tuple[str, str]]:
        return [(target.rpartition("/")[2], target) for target in sorted(_libraries(project))]

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        libraries = absent_as_none(lambda: _libraries(client.get_project(address.project)))
        if not libraries:
            return None
        if remote_id is None:  # the first plan: the library whose folder ends in the key
            found = [t for t in libraries if t.rpartition("/")[2] == address.name]
            if len(found) != 1:
                return None
            remote_id = found[0]
        ref = libraries.get(remote_id)
        return None if ref is None else Remote(remote_id, _fields(ref), ref)

    def create(self, client: DSSClient, desired: Desired) -> str:
        f = desired.fields
        target = _target(f["under"], str(desired.address.name))
        git = client.get_project(desired.address.project).get_project_git()
        git.add_library(f["repository"], target, f["checkout"], path_in_git_repository=f["path"],
                        add_to_python_path=f["add_to_python_path"], as_type="object").wait_for_result()
        return target

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        f = desired.fields
        git = client.get_project(desired.address.project).get_project_git()
        git.set_library(remote.remote_id, f["repository"], f["path"], f["checkout"])

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        # The checked-out files stay in the library (local edits included): dss-iac drops no data by default.
        client.get_project(address.project).get_project_git().remove_library(remote_id, delete_directory=False)
