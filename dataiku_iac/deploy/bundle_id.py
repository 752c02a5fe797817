"""The id of the bundle a promotion exports: `git-<12 hex>` from the workspace's commit, `ts-<UTC time>` outside Git.

A Git id ties the bundle to exactly one commit, so the same commit always means the same bundle (a re-run
reuses it). That only holds when the configuration on disk is the commit's: uncommitted changes to
`dss-iac.yaml`, a project file or a recipe's code file are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._text import brief
from .errors import PromotionError

if TYPE_CHECKING:
    from ..config.loader import WorkspaceConfig

GIT_ID = re.compile(r"^git-(?P<sha>[0-9a-f]{12})$")
SHORT_SHA = 12
MAX_NAMED = 3


@dataclass(frozen=True)
class BundleId:
    id: str
    commit: str | None  # the full commit behind a `git-` id; None for a timestamp id


def commit_of(bundle_id: str) -> str | None:
    """The abbreviated commit a `git-` bundle id was made from."""
    m = GIT_ID.match(bundle_id)
    return m["sha"] if m else None


def config_paths(config: WorkspaceConfig) -> list[Path]:
    """The files a bundle's content comes from: dss-iac.yaml, every project file and every recipe code file."""
    paths = [config.file.path]
    for source in config.projects.values():
        paths.append(source.file.path)
        paths.extend(source.file.path.parent / r.code for r in source.spec.recipes.values() if r.code)
    return paths


def bundle_id_for(config: WorkspaceConfig, *, now: datetime | None = None) -> BundleId:
    """The bundle id of the workspace as it is on disk; refuses a working tree whose configuration is uncommitted."""
    try:
        import git
    except ImportError:  # gitpython missing: behave as outside a repository
        return _timestamp(now)
    try:
        repo = git.Repo(config.root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return _timestamp(now)
    if repo.working_tree_dir is None:
        return _timestamp(now)
    try:
        sha = str(repo.head.commit.hexsha)
    except ValueError:  # a repository with no commit yet
        raise PromotionError("the workspace's Git repository has no commit yet: commit the configuration first, "
                             "so that the bundle matches a commit") from None
    dirty = _uncommitted(repo, Path(repo.working_tree_dir), config, config_paths(config))
    if dirty:
        raise PromotionError(f"the working tree has uncommitted changes to {brief(dirty, MAX_NAMED)}: commit them "
                             f"first, so that the bundle matches a commit (it would be named after {sha[:SHORT_SHA]}, "
                             "which does not hold them)")
    return BundleId(f"git-{sha[:SHORT_SHA]}", sha)


def _timestamp(now: datetime | None) -> BundleId:
    return BundleId((now or datetime.now(UTC)).strftime("ts-%Y%m%d-%H%M%S"), None)


def _uncommitted(repo: Any, top: Path, config: WorkspaceConfig, paths: Iterable[Path]) -> list[str]:
    """Repository paths among the configuration's files (and the project globs, for new or deleted files) that
    differ from HEAD: modified, staged, untracked or deleted."""
    top = top.resolve()
    specs: list[str] = []
    for p in paths:
        try:
            specs.append(":(literal)" + p.resolve().relative_to(top).as_posix())
        except ValueError:
            continue  # outside the repository: Git cannot vouch for it either way
    try:
        root = config.root.resolve().relative_to(top).as_posix()
    except ValueError:
        root = "."
    prefix = "" if root == "." else root + "/"
    specs.extend(f":(glob){prefix}{pattern}" for pattern in config.spec.projects)
    # --no-optional-locks: a plain status may rewrite the index; promote never changes the repository.
    out = repo.git(no_optional_locks=True).status("--porcelain", "--untracked-files=all", "--", *specs)
    return sorted({line[3:].strip().strip('"') for line in out.splitlines() if line.strip()})
