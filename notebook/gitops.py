"""The Git side of the workbench (gitpython): the diff of the files saved in a session, and a commit of
exactly those files, with the user's message and the Git identity their configuration gives."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import git


class GitProblem(Exception):
    """Something to tell the user instead of doing the Git operation (one line)."""


def repository(root: Path) -> git.Repo:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitProblem(f"{root} is not in a Git repository: run `git init` there to diff and commit") from None


def _relative(repo: git.Repo, files: Sequence[Path]) -> list[str]:
    top = Path(repo.working_tree_dir or ".").resolve()
    return [p.resolve().relative_to(top).as_posix() for p in files]


def _status(repo: git.Repo, rels: list[str]) -> dict[str, str]:
    """Porcelain status code of each given file that differs from the last commit."""
    out: dict[str, str] = {}
    for line in repo.git.status("--porcelain", "--untracked-files=all", "--", *rels).splitlines():
        out[line[3:].strip().strip('"')] = line[:2]
    return out


def diff(root: Path, files: Sequence[Path]) -> str:
    """The unified diff of `files` against the last commit ('' when they are as committed)."""
    repo = repository(root)
    rels = _relative(repo, files)
    status = _status(repo, rels)
    parts: list[str] = []
    tracked = [r for r in rels if status.get(r, "") not in ("", "??")]
    if tracked:
        parts.append(repo.git.diff("HEAD" if repo.head.is_valid() else "--cached", "--no-color", "--", *tracked))
    for rel in rels:
        if status.get(rel) == "??":  # new and untracked: git diff does not show it
            text = (Path(repo.working_tree_dir or ".") / rel).read_text(encoding="utf-8")
            parts.append("\n".join(difflib.unified_diff([], text.splitlines(), "/dev/null", f"b/{rel}",
                                                        lineterm="")))
    return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Commit:
    sha: str
    files: list[str]


def commit(root: Path, files: Sequence[Path], message: str) -> Commit:
    """Commit exactly `files` (other staged or modified files are left as they are)."""
    if not message.strip():
        raise GitProblem("write a commit message first")
    if not files:
        raise GitProblem("nothing to commit: no file was saved in this session")
    repo = repository(root)
    rels = _relative(repo, files)
    status = _status(repo, rels)
    changed = [r for r in rels if r in status]
    if not changed:
        raise GitProblem("nothing to commit: the saved files are as in the last commit")
    new = [r for r in changed if status[r] == "??"]
    try:
        if new:
            repo.git.add("--", *new)
        # `git commit -- paths` commits those paths only, with the hooks and identity of the user's config.
        repo.git.commit("-m", message, "--", *changed)
    except git.GitCommandError as e:
        detail = (e.stderr or e.stdout or str(e)).strip().strip("'").strip()
        lines = [line.strip() for line in detail.splitlines() if line.strip() and not line.startswith("stderr:")]
        raise GitProblem("git commit failed: " + (" ".join(lines[-3:]) if lines else str(e))) from None
    return Commit(repo.head.commit.hexsha, changed)
