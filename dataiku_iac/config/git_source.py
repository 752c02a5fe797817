"""`--at REV`: the workspace as it was at a Git revision, read from Git's objects, never from the working tree.

    config = load_workspace_at(root, "v1.4")   # dss-iac.yaml, project files and recipe code as of v1.4

Errors name files as `projects/x.yaml@v1.4`.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from .._fs import too_large
from ..errors import ConfigError
from .files import MAX_FILE_BYTES, decode
from .loader import WORKSPACE_FILE, WorkspaceConfig, load_files

LINK_MODE = 0o120000


class GitTreeFiles:
    """The files of one commit's tree, seen at their paths in the working tree (`top` is the repository's)."""

    def __init__(self, tree: Any, top: Path, rev: str) -> None:
        self.tree = tree
        self.top = top
        self.rev = rev

    def _rel(self, path: Path) -> str:
        try:
            return Path(os.path.normpath(path)).relative_to(self.top).as_posix()
        except ValueError:
            raise self._missing(path, "outside the repository, so not") from None

    def _missing(self, path: Path, why: str) -> FileNotFoundError:
        return FileNotFoundError(errno.ENOENT, f"{why} at revision {self.rev}", str(path))

    def _object(self, path: Path) -> Any:
        rel = self._rel(path)
        try:
            return self.tree / rel if rel != "." else self.tree
        except KeyError:
            raise self._missing(path, "no such file") from None

    def is_file(self, path: Path) -> bool:
        try:
            return self._object(path).type == "blob"
        except FileNotFoundError:
            return False

    def read_text(self, path: Path) -> str:
        obj = self._object(path)
        if obj.type == "tree":
            raise IsADirectoryError(errno.EISDIR, f"is a folder at revision {self.rev}", str(path))
        if obj.type != "blob":
            raise self._missing(path, "a submodule, not a file,")
        if obj.mode == LINK_MODE:
            raise OSError(errno.ELOOP, f"is a symbolic link at revision {self.rev}, which --at does not follow",
                          str(path))
        if obj.size > MAX_FILE_BYTES:
            raise too_large(path, MAX_FILE_BYTES)
        # As the disk gives it: universal newlines, so the text (and the digest) match the checked-out file.
        return decode(obj.data_stream.read())

    def glob(self, root: Path, pattern: str) -> list[Path]:
        try:
            base = self._object(root)
        except FileNotFoundError:
            return []
        if base.type != "tree":
            return []
        wanted = PurePosixPath(pattern).parts
        start = len(PurePosixPath(base.path).parts) if base.path else 0
        return [root.joinpath(*parts) for item in base.traverse() if item.type == "blob"
                if _matches(wanted, parts := PurePosixPath(item.path).parts[start:])]

    def resolve(self, path: Path) -> Path:
        return Path(os.path.normpath(path.absolute()))

    def name(self, path: Path, root: Path) -> str:
        try:
            return Path(os.path.normpath(path)).relative_to(root).as_posix()
        except ValueError:
            return str(path)

    def shown(self, path: Path, root: Path) -> str:
        return f"{self.name(path, root)}@{self.rev}"


def _matches(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether a file's path (its parts below the root) matches a glob, as `Path.glob` would find it."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        # `**` spans folders only: it never swallows the file's own name.
        return any(_matches(pattern[1:], parts[i:]) for i in range(len(parts)))
    return bool(parts) and fnmatchcase(parts[0], pattern[0]) and _matches(pattern[1:], parts[1:])


def load_workspace_at(root: Path, rev: str) -> WorkspaceConfig:
    """The workspace at or above `root` as it was at Git revision `rev` (a sha, branch, tag, `HEAD~2`...)."""
    git = _gitpython()
    root = root.resolve()
    # `root` may be gone from the working tree (the workspace was moved or deleted since `rev`).
    existing = next(p for p in (root, *root.parents) if p.exists())
    try:
        repo = git.Repo(existing, search_parent_directories=True)
    except (git.NoSuchPathError, git.InvalidGitRepositoryError):
        raise ConfigError(f"--at {rev} reads the workspace from Git, but {root} is not in a Git repository") from None
    with repo:
        if repo.working_tree_dir is None:
            raise ConfigError(f"--at {rev} needs a repository with a working tree; {repo.git_dir} is bare")
        try:
            sha = repo.git.rev_parse("--verify", "-q", "--end-of-options", f"{rev}^{{commit}}")
        except git.GitCommandError:
            raise ConfigError(f"unknown Git revision '{rev}' in {repo.working_tree_dir}: name a commit, branch or "
                              "tag (`git log --oneline` lists commits)") from None
        files = GitTreeFiles(repo.commit(sha).tree, Path(repo.working_tree_dir).resolve(), rev)
        return dataclasses.replace(load_files(_find_root(files, root), files), revision=sha)


def _find_root(files: GitTreeFiles, start: Path) -> Path:
    """As `loader.find_root`, in the revision: `start` or its nearest parent (in the repository) with dss-iac.yaml."""
    for folder in (start, *start.parents):
        if files.is_file(folder / WORKSPACE_FILE):
            return folder
        if folder == files.top:
            break
    raise ConfigError(f"no {WORKSPACE_FILE} in {start} or its parents at revision {files.rev}: the workspace did not "
                      "exist there yet", file=f"{WORKSPACE_FILE}@{files.rev}")


def _gitpython() -> Any:
    try:
        import git
    except ImportError as e:  # not installed, or no `git` executable on PATH
        reason = str(e).strip().splitlines()[0] if str(e).strip() else "not installed"
        raise ConfigError(f"--at needs gitpython and the git command ({reason}): pip install 'gitpython>=3.1' and "
                          "install git") from None
    return git
