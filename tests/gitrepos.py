"""Real Git repositories in temporary folders, and what a user would notice if one were touched."""

from __future__ import annotations

from pathlib import Path

import git


def make_repo(path: Path, *, bare: bool = False, files: dict[str, str] | None = None) -> git.Repo:
    """A repository on branch `main` with a committer set; unless bare, `files` (or a README) committed."""
    repo = git.Repo.init(path, bare=bare, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test User")
        cw.set_value("user", "email", "test@example.com")
    if not bare:
        write(path, {"README.md": "a workspace\n"} if files is None else files)
        commit_all(repo, "initial")
    return repo


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(text.encode())


def commit_all(repo: git.Repo, message: str) -> str:
    repo.git.add("--all")
    repo.git.commit("-q", "-m", message)
    return repo.head.commit.hexsha


def snapshot(repo: git.Repo) -> tuple[object, ...]:
    """What a user sees of their repository: files, index, status, checked-out branch and commit, stashes."""
    root = Path(repo.working_tree_dir or "")
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
             if p.is_file() and ".git" not in p.relative_to(root).parts}
    # --no-optional-locks: a plain `git status` refreshes the index file itself.
    status = repo.git(no_optional_locks=True).status("--porcelain", "--untracked-files=all")
    return (files, (root / ".git" / "index").read_bytes(), status, repo.active_branch.name, repo.head.commit.hexsha,
            repo.git.stash("list"))
