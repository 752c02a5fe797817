"""State on a Git branch: every put or delete is one commit, so the history of the state is the Git log.

Nothing here touches a working tree, an index or the checked-out branch. Blobs, trees and commits are
written straight into the object database, then the branch moves with `git update-ref <ref> <new> <old>`,
which Git applies only while the branch still points at <old>: two writers (threads or processes) can never
both move it from the same commit. A key's version token is its blob's sha, so a commit for another key (a
lease renewal, a backup) does not invalidate it: a writer whose ref update lost to such a commit rebuilds
its commit on the new tip, and gets `BlobConflict` only when its own key changed.
"""

from __future__ import annotations

import builtins  # `list[...]` in the class, below its method `list`
import io
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import StateError
from .blobs import Absent, BlobConflict, Expect

if TYPE_CHECKING:
    import git

DEFAULT_BRANCH = "dss-iac-state"
BLOB_MODE = 0o100644
TREE_MODE = 0o040000
# How long a writer keeps rebuilding its commit while other writers move the branch (each loss means
# another write succeeded, so only a writer starved by a crowd ever gets there).
RETRY_SECONDS = 60.0


class GitLogEntry(NamedTuple):
    commit: str
    author: str
    date: str  # ISO 8601, with the author's offset
    message: str


def _gitpython() -> Any:
    try:
        import git
    except ImportError as e:  # not installed, or no `git` executable on PATH
        reason = str(e).strip().splitlines()[0] if str(e).strip() else "not installed"
        raise StateError(f"the git state backend needs gitpython and the git command ({reason}): "
                         "pip install 'gitpython>=3.1' and install git") from None
    return git


def _parts(key: str) -> list[str]:
    parts = key.split("/")
    if not key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid state key {key!r}")
    return parts


class GitBlobStore:
    """Blobs in the tree of branch `branch` of the repository at (or above) `repo_path`."""

    def __init__(self, repo_path: Path, branch: str = DEFAULT_BRANCH) -> None:
        self.repo_path = repo_path
        self.branch = branch
        self.ref = f"refs/heads/{branch}"
        self.location = f"git:{repo_path}#{branch}"
        gitmod = _gitpython()
        self._errors = gitmod.GitCommandError
        try:
            # A workspace in a sub-folder of its repository uses that repository.
            self._repo: git.Repo = gitmod.Repo(repo_path, search_parent_directories=True)
        except (gitmod.NoSuchPathError, gitmod.InvalidGitRepositoryError):
            raise StateError(f"the git state backend found no Git repository at {repo_path}: create one with "
                             f"`git init {repo_path}` or point state.repo in dss-iac.yaml at one") from None
        try:
            self._repo.git.check_ref_format(self.ref)
        except self._errors:
            raise StateError(f"'{branch}' is not a valid Git branch name: fix state.branch in dss-iac.yaml") from None
        # One gitpython Repo (and its long-lived `git cat-file` processes) serves one thread at a time; other
        # instances and processes are kept apart by the conditional ref update alone.
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._repo.close()

    # -- reading --------------------------------------------------------------------------------------
    def _tip(self) -> str | None:
        try:
            return str(self._repo.git.rev_parse("--verify", "-q", f"{self.ref}^{{commit}}"))
        except self._errors as e:
            if e.status == 1:  # --verify -q: no such branch yet
                return None
            raise StateError(f"cannot read branch {self.branch} of {self.repo_path}: {_first_line(e)}") from None

    def _blob(self, tip: str | None, key: str) -> Any:
        """The blob stored at `key` in commit `tip`, or None."""
        _parts(key)
        if tip is None:
            return None
        try:
            obj = self._repo.commit(tip).tree / key
        except KeyError:
            return None
        return obj if obj.type == "blob" else None

    def get(self, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            blob = self._blob(self._tip(), key)
            return None if blob is None else (blob.data_stream.read(), blob.hexsha)

    def list(self, prefix: str) -> list[str]:
        from git import Blob  # loaded with the repository already; GitPython stays off the start-up path

        with self._lock:
            tip = self._tip()
            if tip is None:
                return []
            tree = self._repo.commit(tip).tree
            prefix = prefix.strip("/")
            if prefix:
                try:
                    tree = tree / "/".join(_parts(prefix))
                except KeyError:
                    return []
                if tree.type != "tree":
                    return []
            return sorted(str(item.path) for item in tree.traverse() if isinstance(item, Blob))

    def log(self, key: str | None = None, limit: int = 20) -> builtins.list[GitLogEntry]:
        """The commits of the state branch (those that changed `key`, when given), newest first."""
        with self._lock:
            tip = self._tip()
            if tip is None:
                return []
            paths = "/".join(_parts(key)) if key else ""
            return [GitLogEntry(c.hexsha, f"{c.author.name} <{c.author.email}>", c.authored_datetime.isoformat(),
                                str(c.message).strip())
                    for c in self._repo.iter_commits(tip, paths=paths, max_count=limit)]

    # -- writing --------------------------------------------------------------------------------------
    def put(self, key: str, data: bytes, *, expect: Expect = None) -> str:
        with self._lock:
            blob = self._store("blob", data)
            self._commit(key, blob, expect, f"dss-iac state: put {key}")
            return blob.hex()

    def delete(self, key: str, *, expect: Expect = None) -> None:
        with self._lock:
            self._commit(key, None, expect, f"dss-iac state: delete {key}")

    def _commit(self, key: str, blob: bytes | None, expect: Expect, message: str) -> None:
        """Commit the tree of the branch tip with `key` set to `blob` (removed when None), if `expect` holds."""
        parts = _parts(key)
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            tip = self._tip()
            current = self._blob(tip, key)
            current_sha = None if current is None else current.binsha
            if expect is not None:
                wanted = None if isinstance(expect, Absent) else expect
                if (None if current is None else current.hexsha) != wanted:
                    raise BlobConflict(f"{self.location}/{key} changed since it was read")
            if current_sha == blob:
                return  # nothing would change: no empty commit
            root = self._repo.commit(tip).tree.binsha if tip else None
            tree = self._with(root, parts, blob) or self._store("tree", b"")
            commit = self._new_commit(tree, tip, message)
            if self._move(commit, tip, message):
                return
            if time.monotonic() > deadline:
                raise StateError(f"could not commit to {self.location}: other writers kept moving the branch for "
                                 f"{RETRY_SECONDS:.0f}s; run the command again")

    # -- forgetting ---------------------------------------------------------------------------------------
    def drop_history(self, message: str) -> tuple[int, int]:
        """Make the branch one commit holding its current tree, so that no earlier version of any key (plaintext
        state before `state encrypt`, ciphertext under a retired key) stays in its history; expire the branch's
        reflog and delete from this repository the objects only that history held.

        Returns (commits dropped, objects left in pack files: `git gc --prune=now` removes those).
        """
        with self._lock:
            deadline = time.monotonic() + RETRY_SECONDS
            while True:
                tip = self._tip()
                if tip is None or int(self._repo.git.rev_list("--count", tip)) <= 1:
                    return 0, 0
                commit = self._new_commit(self._repo.commit(tip).tree.binsha, None, message)
                if self._move(commit, tip, message):  # other writers (a lease renewal) just move it again
                    break
                if time.monotonic() > deadline:
                    raise StateError(f"could not rewrite {self.location}: other writers kept moving the branch for "
                                     f"{RETRY_SECONDS:.0f}s; run the command again")
            dropped = int(self._repo.git.rev_list("--count", tip))
            self._repo.git.reflog("expire", "--expire=now", "--expire-unreachable=now", self.ref)
            return dropped, self._delete_only_reachable_from(tip)

    def _delete_only_reachable_from(self, old_tip: str) -> int:
        """Delete the loose objects reachable from `old_tip` and from nothing else (no ref, reflog or index entry
        of the repository); return how many such objects are in pack files, where they cannot be deleted alone."""
        def objects(*args: str) -> set[str]:
            return {line.split(" ", 1)[0] for line in self._repo.git.rev_list("--objects", *args).splitlines() if line}

        gone = objects(old_tip) - objects("--all", "--reflog", "--indexed-objects")
        folder = Path(self._repo.common_dir) / "objects"
        packed = 0
        for sha in gone:
            loose = folder / sha[:2] / sha[2:]
            try:
                loose.unlink()
            except FileNotFoundError:
                packed += 1
        return packed

    def _move(self, commit: str, tip: str | None, message: str) -> bool:
        """Point the branch at `commit` if it still points at `tip` (or does not exist when `tip` is None)."""
        try:
            # An empty old value means "the ref must not exist yet": the first write makes the orphan branch.
            self._repo.git.update_ref("-m", message, self.ref, commit, tip or "")
            return True
        except self._errors as e:
            if self._tip() != tip or "File exists" in str(e.stderr):
                return False  # another writer moved the branch, or is moving it right now: rebuild on its tip
            raise StateError(f"cannot update branch {self.branch} of {self.repo_path}: {_first_line(e)}") from None

    def _store(self, kind: str, data: bytes) -> bytes:
        from gitdb.base import IStream

        return bytes(self._repo.odb.store(IStream(kind.encode(), len(data), io.BytesIO(data))).binsha)

    def _with(self, tree: bytes | None, parts: builtins.list[str], blob: bytes | None) -> bytes | None:
        """Store tree `tree` with the blob at path `parts` replaced (removed when `blob` is None).

        Only the trees along the path are rewritten; an emptied tree disappears (None), as in Git.
        """
        from git.objects.fun import tree_entries_from_data

        entries: dict[str, tuple[bytes, int]] = {}
        if tree is not None:
            data = self._repo.odb.stream(tree).read()
            entries = {name: (sha, mode) for sha, mode, name in tree_entries_from_data(data)}
        name, rest = parts[0], parts[1:]
        if rest:
            sub = entries.get(name)
            new = self._with(sub[0] if sub and sub[1] == TREE_MODE else None, rest, blob)
            mode = TREE_MODE
        else:
            new, mode = blob, BLOB_MODE
        if new is None:
            entries.pop(name, None)
        else:
            entries[name] = (new, mode)
        if not entries:
            return None
        return self._store("tree", _tree_bytes(entries))

    def _new_commit(self, tree: bytes, parent: str | None, message: str) -> str:
        from git import Commit, Tree

        parents = [self._repo.commit(parent)] if parent else []  # no parent: the orphan first commit
        commit = Commit.create_from_tree(self._repo, Tree(self._repo, tree), message, parent_commits=parents,
                                         head=False)
        return str(commit.hexsha)


def _tree_bytes(entries: dict[str, tuple[bytes, int]]) -> bytes:
    from git.objects.fun import tree_to_stream

    # Git's order: by name, a sub-tree's name compared as if it ended with "/".
    ordered = sorted(entries.items(), key=lambda e: e[0] + "/" if e[1][1] == TREE_MODE else e[0])
    out = io.BytesIO()
    tree_to_stream([(sha, mode, name) for name, (sha, mode) in ordered], out.write)
    return out.getvalue()


def _first_line(e: Exception) -> str:
    """Git's own complaint, without gitpython's "stderr: '...'" wrapping."""
    text = str(getattr(e, "stderr", "") or e).strip().removeprefix("stderr:").strip()
    if len(text) > 1 and text[0] == text[-1] == "'":
        text = text[1:-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(e).__name__
