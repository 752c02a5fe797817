"""The Git state backend: state committed on a branch of its own, never in the user's working tree or branch.

Real repositories in temporary folders. Concurrent writers each open their own store, as separate runs do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import git
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac.config.models import StateSettings
from dataiku_iac.errors import LockError, StateError
from dataiku_iac.state.backends import open_store
from dataiku_iac.state.blobs import ABSENT, BlobConflict, BlobStore, Expect, LocalBlobStore
from dataiku_iac.state.git_store import GitBlobStore
from dataiku_iac.state.model import ResourceState, State
from dataiku_iac.state.store import StateStore
from tests.gitrepos import make_repo, snapshot

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


# -- the BlobStore contract ----------------------------------------------------------------------------------

def test_put_get_list_delete(repo: git.Repo, store: GitBlobStore) -> None:
    assert store.get("dev/state.json") is None and store.list("") == []
    v1 = store.put("dev/state.json", b"one", expect=ABSENT)
    assert store.get("dev/state.json") == (b"one", v1)
    store.put("dev/backups/0000000001.json", b"b1")
    store.put("prod/state.json", b"p")
    assert store.list("") == ["dev/backups/0000000001.json", "dev/state.json", "prod/state.json"]
    assert store.list("dev/backups") == ["dev/backups/0000000001.json"]
    assert store.list("dev/backups/") == store.list("dev/backups")
    assert store.list("nothing") == [] and store.list("dev/state.json") == []
    store.delete("dev/backups/0000000001.json")
    store.delete("dev/backups/0000000001.json")  # already gone: fine without `expect`
    assert store.list("dev") == ["dev/state.json"]
    assert store.location == f"git:{repo.working_tree_dir}#{BRANCH}"


def test_compare_and_swap(store: GitBlobStore) -> None:
    v1 = store.put("dev/state.json", b"one", expect=ABSENT)
    with pytest.raises(BlobConflict):
        store.put("dev/state.json", b"again", expect=ABSENT)
    v2 = store.put("dev/state.json", b"two", expect=v1)
    with pytest.raises(BlobConflict):
        store.put("dev/state.json", b"stale", expect=v1)
    with pytest.raises(BlobConflict):
        store.delete("dev/state.json", expect=v1)
    with pytest.raises(BlobConflict):
        store.put("dev/other.json", b"x", expect=v2)  # a version of another key is no version of this one
    store.delete("dev/state.json", expect=v2)
    assert store.get("dev/state.json") is None
    with pytest.raises(BlobConflict):
        store.delete("dev/state.json", expect=v2)


def test_a_commit_for_another_key_keeps_a_version_valid(store: GitBlobStore) -> None:
    version = store.put("dev/state.json", b"state")
    store.put("dev/lock.json", b"lease renewed")
    store.put("dev/backups/0000000001.json", b"state")
    store.delete("dev/lock.json")
    assert store.put("dev/state.json", b"next", expect=version)


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


KEYS = ["dev/state.json", "dev/lock.json", "dev/backups/0000000001.json", "dev/backups/0000000002.json",
        "prod/state.json"]
PREFIXES = ["", "dev", "dev/backups", "prod", "staging"]
EXPECTS = ["none", "absent", "current", "stale"]
OPS = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS), st.binary(max_size=8), st.sampled_from(EXPECTS)),
    st.tuples(st.just("delete"), st.sampled_from(KEYS), st.sampled_from(EXPECTS)),
    st.tuples(st.just("list"), st.sampled_from(PREFIXES)),
)


def run(blobs: BlobStore, stale: str, op: tuple) -> object:
    """One operation, its outcome in terms that do not depend on the backend's version format."""
    kind, arg = op[0], op[1]
    if kind == "list":
        return blobs.list(arg)
    got = blobs.get(arg)
    expect: Expect = {"none": None, "absent": ABSENT, "stale": stale,
                      "current": ABSENT if got is None else got[1]}[op[-1]]
    try:
        if kind == "put":
            version = blobs.put(arg, op[2], expect=expect)
            after = blobs.get(arg)
            assert after == (op[2], version)
        else:
            blobs.delete(arg, expect=expect)
            assert blobs.get(arg) is None
    except BlobConflict:
        return "conflict"
    return "ok"


@settings(max_examples=25, deadline=None)
@given(st.lists(OPS, max_size=12))
def test_behaves_like_the_local_reference_backend(ops: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        make_repo(Path(tmp) / "repo", bare=True)
        local, gitstore = LocalBlobStore(Path(tmp) / "local"), GitBlobStore(Path(tmp) / "repo")
        try:
            for op in ops:
                assert run(gitstore, "0" * 40, op) == run(local, "0" * 32, op), op
            assert [gitstore.get(k) is None for k in KEYS] == [local.get(k) is None for k in KEYS]
            assert [g[0] for k in KEYS if (g := gitstore.get(k))] == [g[0] for k in KEYS if (g := local.get(k))]
        finally:
            gitstore.close()


# -- state on Git ----------------------------------------------------------------------------------------------

def test_state_round_trip_with_backups_and_history(repo: git.Repo, store: GitBlobStore) -> None:
    write_serials(StateStore(store, "dev", keep=2), 3)
    reader = StateStore(GitBlobStore(Path(repo.working_tree_dir or "")), "dev", keep=2)
    state = reader.read()
    assert state is not None and sorted(state.resources) == ["project.P0", "project.P1", "project.P2"]
    assert state.resources["project.P2"].fields == {"name": "project 2"}
    assert [(h.serial, h.resources) for h in reader.history()] == [(2, 2), (3, 3)]  # keep=2
    assert reader.backup(3).resources == state.resources
    with pytest.raises(StateError, match=r"no backup of serial 1 .*kept: 2, 3"):
        reader.backup(1)


def test_a_stale_writer_overwrites_nothing(repo: git.Repo) -> None:
    path = Path(repo.working_tree_dir or "")
    first, second = StateStore(GitBlobStore(path), "dev"), StateStore(GitBlobStore(path), "dev")
    first.load()
    second.load()
    first.write(a_state("dev", 1))
    with pytest.raises(StateError, match="changed by another run since it was read; nothing was overwritten"):
        second.write(a_state("dev", 5))
    current = StateStore(GitBlobStore(path), "dev").read()
    assert current is not None and len(current.resources) == 1


def test_leases_on_git(store: GitBlobStore, repo: git.Repo) -> None:
    mine = StateStore(store, "dev", lock_ttl=60).leases.acquire("apply")
    other = StateStore(GitBlobStore(Path(repo.working_tree_dir or "")), "dev").leases
    with pytest.raises(LockError, match=f"locked: lock {mine.id} held by"):
        other.acquire("plan")
    assert other.release(mine.id) is True
    assert other.acquire("plan").id != mine.id


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

def in_threads(n: int, work: Callable[[int], object]) -> list[object]:
    """Run work(0..n-1) in n threads released together; each result, or the exception it raised."""
    start = threading.Barrier(n)
    results: list[object] = [None] * n

    def body(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_writers_of_one_version_exactly_one_wins(repo: git.Repo) -> None:
    path = Path(repo.working_tree_dir or "")
    stores = [GitBlobStore(path) for _ in range(6)]
    version = stores[0].put("dev/state.json", b"serial 0")
    for round_ in range(1, 5):
        results = in_threads(6, lambda i, r=round_, v=version: stores[i].put("dev/state.json", f"{r}:{i}".encode(),
                                                                               expect=v))
        winners = [r for r in results if isinstance(r, str)]
        assert len(winners) == 1, results
        assert all(isinstance(r, BlobConflict) for r in results if not isinstance(r, str))
        data, version = stores[0].get("dev/state.json") or (b"", "")
        assert version == winners[0] and data == f"{round_}:{results.index(winners[0])}".encode()
    assert len(state_log(repo, "dev/state.json")) == 5


def test_concurrent_writers_of_different_keys_all_land(repo: git.Repo) -> None:
    # Every thread's ref update races the others': the losers rebuild on the new tip instead of failing.
    path = Path(repo.working_tree_dir or "")
    stores = [GitBlobStore(path) for _ in range(6)]
    results = in_threads(6, lambda i: [stores[i].put(f"dev/journal/{i:02d}{n:02d}.json", b"{}") for n in range(5)])
    assert not [r for r in results if isinstance(r, Exception)]
    assert len(stores[0].list("dev/journal")) == 30
    assert repo.git.rev_list("--count", BRANCH) == "30"
    assert all(len(c.parents) <= 1 for c in repo.iter_commits(BRANCH))  # one straight line of commits


def increment(blobs: BlobStore, times: int) -> None:
    for _ in range(times):
        while True:
            got = blobs.get("counter")
            try:
                blobs.put("counter", str(int(got[0]) + 1 if got else 1).encode(), expect=got[1] if got else ABSENT)
                break
            except BlobConflict:
                continue


def test_no_update_is_lost_between_threads_sharing_or_not_a_store(repo: git.Repo) -> None:
    path = Path(repo.working_tree_dir or "")
    shared = GitBlobStore(path)
    stores = [shared, shared, GitBlobStore(path), GitBlobStore(path)]
    in_threads(4, lambda i: increment(stores[i], 8))
    assert shared.get("counter") is not None and (shared.get("counter") or (b"",))[0] == b"32"


def test_no_update_is_lost_between_processes(repo: git.Repo) -> None:
    path = Path(repo.working_tree_dir or "")
    script = ("import sys; from pathlib import Path; from dataiku_iac.state.git_store import GitBlobStore; "
              "from tests.state.test_git_backend import increment; "
              "increment(GitBlobStore(Path(sys.argv[1])), 6)")
    root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=root) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert (GitBlobStore(path).get("counter") or (b"",))[0] == b"18"
