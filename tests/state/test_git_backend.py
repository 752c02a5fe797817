"""The Git state backend: state committed on a branch of its own, never in the user's working tree or branch.

Real repositories in temporary folders. Concurrent writers each open their own store, as separate runs do. The
BlobStore contract, state, leases and lost updates: test_blob_conformance.py, on every backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from dataiku_iac.config.models import StateSettings
from dataiku_iac.errors import StateError
from dataiku_iac.state.backends import open_store
from dataiku_iac.state.git_store import GitBlobStore
from dataiku_iac.state.model import ResourceState, State
from dataiku_iac.state.store import StateStore
from tests.gitrepos import make_repo, snapshot
from tests.state.concurrency import in_threads

BRANCH = "dss-iac-state"
AUTHOR = "Test User <test@example.com>"


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    return make_repo(tmp_path / "ws", files={"README.md": "a workspace\n", "dss-iac.yaml": "version: 1\n"})


@pytest.fixture
def store(repo: git.Repo) -> Iterator[GitBlobStore]:
    s = GitBlobStore(Path(repo.working_tree_dir or ""))
    yield s
    s.close()


def state_log(repo: git.Repo, *paths: str) -> list[str]:
    return repo.git.log(BRANCH, "--format=%s", "--", *paths).splitlines()


def a_state(env: str, n: int) -> State:
    state = State(env)
    for i in range(n):
        state.resources[f"project.P{i}"] = ResourceState("project", f"P{i}", {"name": f"project {i}"})
    state.stamp("me@host")
    return state


def write_serials(states: StateStore, last: int) -> None:
    """Serials 1..last, serial n holding n projects."""
    for n in range(1, last + 1):
        state = states.load()
        state.resources = a_state("dev", n).resources
        state.stamp("me@host")
        states.commit(state, "apply")


# -- what only Git has (the BlobStore contract itself: test_blob_conformance.py) -----------------------------

def test_every_write_is_one_commit_on_an_orphan_branch(repo: git.Repo, store: GitBlobStore) -> None:
    assert BRANCH not in repo.heads
    store.put("dev/state.json", b"one")
    store.put("dev/lock.json", b"lease")
    store.delete("dev/lock.json")
    store.put("dev/state.json", b"one")  # the same bytes again: nothing to commit
    assert state_log(repo) == ["dss-iac state: delete dev/lock.json", "dss-iac state: put dev/lock.json",
                               "dss-iac state: put dev/state.json"]
    first = list(repo.iter_commits(BRANCH))[-1]
    assert first.parents == () and repo.merge_base(BRANCH, "main") == []  # no history shared with the project
    assert repo.git.show(f"{BRANCH}:dev/state.json") == "one"
    assert repo.git.fsck("--strict", "--no-dangling") == ""


# -- state on Git ----------------------------------------------------------------------------------------------

def test_history_is_the_git_log_of_the_state_branch(repo: git.Repo, store: GitBlobStore) -> None:
    write_serials(StateStore(store, "dev"), 3)
    log = store.log("dev/state.json")
    assert [e.commit for e in log] == repo.git.rev_list(BRANCH, "--", "dev/state.json").splitlines()
    assert [e.message for e in log] == ["dss-iac state: put dev/state.json"] * 3
    assert {e.author for e in log} == {AUTHOR}
    assert [e.commit for e in store.log("dev/state.json", limit=2)] == [e.commit for e in log[:2]]
    serials = [json.loads(repo.git.show(f"{e.commit}:dev/state.json"))["serial"] for e in log]
    assert serials == [3, 2, 1]
    everything = store.log(limit=100)  # per command: the state, its backup, the history entry
    assert len(everything) == 9 and [e.message for e in everything[:2]] == [
        "dss-iac state: put dev/history.json", "dss-iac state: put dev/backups/0000000003.json"]
    assert GitBlobStore(Path(repo.working_tree_dir or ""), "other-branch").log("dev/state.json") == []


def test_state_writes_leave_the_working_tree_and_branch_alone(repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir or "")
    (root / "README.md").write_text("edited, not committed\n")
    (root / "notes.txt").write_text("untracked\n")
    repo.index.add(["README.md"])
    (root / "dss-iac.yaml").write_text("version: 1\n# unstaged edit\n")
    before = snapshot(repo)
    settings = StateSettings(backend="git")
    states = open_store(settings, root, "dev")
    lease = states.leases.acquire("apply")
    states.load()
    states.write(a_state("dev", 2))
    states.leases.renew(lease)
    states.journal_append(1, {"op": "create"})
    states.journal_clear()
    states.leases.release(lease.id)
    assert snapshot(repo) == before
    assert not (root / "dev").exists()
    assert state_log(repo)[-1] == "dss-iac state: put dev/lock.json"


def test_a_workspace_in_a_sub_folder_and_another_repository(tmp_path: Path, repo: git.Repo) -> None:
    root = Path(repo.working_tree_dir or "")
    (root / "infra").mkdir()
    StateStore(GitBlobStore(root / "infra"), "dev").write(a_state("dev", 1))
    assert repo.git.show(f"{BRANCH}:dev/state.json").startswith("{")

    elsewhere = make_repo(tmp_path / "state-repo.git", bare=True)
    settings = StateSettings(backend="git", repo="../state-repo.git", branch="ops/state")
    open_store(settings, root, "prod").write(a_state("prod", 1))
    assert "prod/state.json" in elsewhere.git.ls_tree("-r", "--name-only", "ops/state")
    assert "ops/state" not in repo.heads


def test_a_missing_repository_or_a_bad_branch_is_a_one_line_error(tmp_path: Path, repo: git.Repo) -> None:
    (tmp_path / "plain").mkdir()
    for path in (tmp_path / "nowhere", tmp_path / "plain"):
        with pytest.raises(StateError, match=r"no Git repository at .*git init") as e:
            GitBlobStore(path)
        assert "\n" not in str(e.value)
    with pytest.raises(StateError, match=r"'bad\.\.name' is not a valid Git branch name"):
        GitBlobStore(Path(repo.working_tree_dir or ""), "bad..name")


def test_a_branch_name_git_refuses_is_reported(repo: git.Repo) -> None:
    # `main/state` cannot exist next to the branch `main`: Git's refusal comes back as a one-line error.
    store = GitBlobStore(Path(repo.working_tree_dir or ""), "main/state")
    with pytest.raises(StateError, match=r"cannot update branch main/state of .*'refs/heads/main' exists") as e:
        store.put("dev/state.json", b"x")
    assert "\n" not in str(e.value)


# -- concurrent writers ------------------------------------------------------------------------------------------

def test_concurrent_writers_of_different_keys_all_land(repo: git.Repo) -> None:
    # Every thread's ref update races the others': the losers rebuild on the new tip instead of failing.
    path = Path(repo.working_tree_dir or "")
    stores = [GitBlobStore(path) for _ in range(6)]
    results = in_threads(6, lambda i: [stores[i].put(f"dev/journal/{i:02d}{n:02d}.json", b"{}") for n in range(5)])
    assert not [r for r in results if isinstance(r, Exception)]
    assert len(stores[0].list("dev/journal")) == 30
    assert repo.git.rev_list("--count", BRANCH) == "30"
    assert all(len(c.parents) <= 1 for c in repo.iter_commits(BRANCH))  # one straight line of commits
