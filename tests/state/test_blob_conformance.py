"""One contract for every state backend: the same tests on the local folder, S3 (moto's server) and Git.

The state, its backups, history, leases and journal rely on nothing but a BlobStore's four operations and their
compare-and-swap; a backend that passes here can hold the state. Stores are opened as the product opens them
(`open_blobs` on the workspace's state settings: conftest.py's `backend`, which any state test can take to run on
every backend) and "another run" is another store on the same place, in a thread or a process of its own. What
only one backend has (S3 prefixes and lost answers, Git's orphan branch and history) is tested in
test_s3_backend.py and test_git_backend.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac.errors import LockError, StateError
from dataiku_iac.state.backends import open_store
from dataiku_iac.state.blobs import ABSENT, BlobConflict, BlobStore, Expect
from dataiku_iac.state.crypto import generate_key
from dataiku_iac.state.lease import Lease, Leases
from dataiku_iac.state.model import ResourceState, State
from dataiku_iac.state.store import StateStore
from tests.state.concurrency import in_threads, increment

from .conftest import Backend

KEY = "dev/state.json"


# -- the four operations -------------------------------------------------------------------------------------

def test_get_put_list_delete_round_trip(backend: Backend) -> None:
    blobs = backend.open()
    assert blobs.get(KEY) is None and blobs.list("") == []
    v1 = blobs.put(KEY, b"one", expect=ABSENT)
    assert blobs.get(KEY) == (b"one", v1)
    assert backend.open().get(KEY) == (b"one", v1)  # another run reads the same value and version
    blobs.put("dev/backups/0000000001.json", b"b1")
    blobs.put("dev/backups2/x.json", b"not a backup")
    blobs.put("prod/state.json", b"p")
    assert blobs.list("dev/backups") == ["dev/backups/0000000001.json"]  # a folder, not a string prefix
    assert blobs.list("dev/backups/") == blobs.list("dev/backups")
    assert blobs.list("dev") == ["dev/backups/0000000001.json", "dev/backups2/x.json", KEY]
    assert blobs.list("") == [*blobs.list("dev"), "prod/state.json"]
    assert blobs.list("nothing-here") == [] and blobs.list(KEY) == []  # a key is no folder
    blobs.delete(KEY, expect=v1)
    assert blobs.get(KEY) is None and blobs.list("dev") == ["dev/backups/0000000001.json", "dev/backups2/x.json"]
    blobs.delete(KEY)  # an absent key is fine without expectations
    blobs.delete(KEY, expect=ABSENT)


def test_a_stale_version_is_a_conflict_that_leaves_the_stored_value_alone(backend: Backend) -> None:
    blobs = backend.open()
    v1 = blobs.put(KEY, b"one", expect=ABSENT)
    with pytest.raises(BlobConflict, match="changed since it was read"):
        blobs.put(KEY, b"again", expect=ABSENT)
    v2 = blobs.put(KEY, b"two", expect=v1)
    assert v2 != v1
    for stale in (lambda: blobs.put(KEY, b"stale", expect=v1), lambda: blobs.delete(KEY, expect=v1),
                  lambda: blobs.delete(KEY, expect=ABSENT), lambda: blobs.put("dev/other.json", b"x", expect=v2)):
        with pytest.raises(BlobConflict):  # the last: a version of another key is no version of this one
            stale()
    assert blobs.get(KEY) == (b"two", v2) and blobs.get("dev/other.json") is None
    blobs.delete(KEY, expect=v2)
    # Once deleted, a version of it no longer matches anything.
    for zombie in (lambda: blobs.put(KEY, b"zombie", expect=v2), lambda: blobs.delete(KEY, expect=v2)):
        with pytest.raises(BlobConflict):
            zombie()
    assert blobs.get(KEY) is None
    assert blobs.put(KEY, b"anything") and blobs.put(KEY, b"overwrite")  # no expectation: unconditional
    assert (blobs.get(KEY) or (b"",))[0] == b"overwrite"


def test_writes_to_other_keys_keep_a_version_valid(backend: Backend) -> None:
    blobs = backend.open()
    version = blobs.put(KEY, b"state")
    blobs.put("dev/lock.json", b"lease renewed")
    blobs.put("dev/backups/0000000001.json", b"state")
    blobs.delete("dev/lock.json")
    assert blobs.put(KEY, b"next", expect=version)


@pytest.mark.parametrize("key", ["/dev/state.json", "dev/../prod/state.json"])
def test_keys_that_could_leave_the_store_are_refused(backend: Backend, key: str) -> None:
    blobs = backend.open()
    for call in (lambda: blobs.get(key), lambda: blobs.put(key, b"x"), lambda: blobs.delete(key)):
        with pytest.raises(ValueError, match="invalid state key"):
            call()
    assert blobs.list("") == []


# -- several runs at once ---------------------------------------------------------------------------------------

def test_of_writers_expecting_one_version_exactly_one_wins(backend: Backend) -> None:
    stores = [backend.open() for _ in range(4)]
    version = stores[0].put(KEY, b"serial 0")
    for round_ in range(1, 4):
        results = in_threads(4, lambda i, r=round_, v=version: stores[i].put(KEY, f"{r}:{i}".encode(), expect=v))
        winners = [r for r in results if isinstance(r, str)]
        assert len(winners) == 1, results
        assert all(isinstance(r, BlobConflict) for r in results if not isinstance(r, str)), results
        data, version = stores[0].get(KEY) or (b"", "")
        assert version == winners[0] and data == f"{round_}:{results.index(winners[0])}".encode()


def test_no_increment_is_lost_between_threads_sharing_a_store_or_not(backend: Backend) -> None:
    shared = backend.open()
    stores = [shared, shared, backend.open(), backend.open()]
    assert in_threads(4, lambda i: increment(stores[i], 6)) == [None] * 4
    assert (shared.get("counter") or (b"",))[0] == b"24"


# A run of its own: opens the store from the workspace's state settings, as `dss-iac` does.
INCREMENTER = """\
import sys
from pathlib import Path
from dataiku_iac.config.models import StateSettings
from dataiku_iac.state.backends import open_blobs
from tests.state.concurrency import increment
increment(open_blobs(StateSettings.model_validate_json(sys.argv[1]), Path(sys.argv[2])), int(sys.argv[3]))
"""


def test_no_increment_is_lost_between_processes(backend: Backend) -> None:
    args = [backend.settings.model_dump_json(), str(backend.root), "5"]
    repo_root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", INCREMENTER, *args], cwd=repo_root) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert (backend.open().get("counter") or (b"",))[0] == b"10"


# -- any sequence of operations -----------------------------------------------------------------------------------

WRITERS = 2
NAMES = ["dev/state.json", "dev/lock.json", "dev/backups/0000000001.json", "prod/state.json"]
OPS = st.lists(st.tuples(st.integers(0, WRITERS - 1), st.sampled_from(["read", "put", "delete", "list"]),
                         st.sampled_from(NAMES), st.sampled_from([b"", b"a", b"b"]), st.booleans()),
               min_size=1, max_size=14)


@pytest.fixture
def writers(backend: Backend) -> list[BlobStore]:
    """Stores of two runs, shared by a property test's examples (each works in a folder of its own)."""
    return [backend.open() for _ in range(WRITERS)]


def forget_or_remember(seen: dict[str, tuple[bytes, str]], key: str, got: tuple[bytes, str] | None) -> None:
    if got is None:
        seen.pop(key, None)
    else:
        seen[key] = got


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_writes_on_any_version_a_writer_last_saw_never_lose_an_acknowledged_one(writers: list[BlobStore],
                                                                               ops: list) -> None:
    """Two writers read, list, put and delete expecting whatever version they last saw, or blindly.

    A blind write, or one based on the latest version, always succeeds; one that succeeds was based on the latest
    acknowledged content (nothing acknowledged is overwritten unseen); a refused one changes nothing; every read
    and list shows the acknowledged contents.
    """
    folder = uuid.uuid4().hex
    acknowledged: dict[str, tuple[bytes, str]] = {}
    seen: list[dict[str, tuple[bytes, str]]] = [{} for _ in range(WRITERS)]
    for writer, op, name, data, blind in ops:
        key, blobs = f"{folder}/{name}", writers[writer]
        if op == "list":
            assert blobs.list(folder) == sorted(acknowledged)
            continue
        if op == "read":
            got = blobs.get(key)
            assert got == acknowledged.get(key)
            forget_or_remember(seen[writer], key, got)
            continue
        last, current = seen[writer].get(key), acknowledged.get(key)
        expect: Expect = None if blind else ABSENT if last is None else last[1]
        fresh = blind or (last and last[1]) == (current and current[1])
        after: tuple[bytes, str] | None = None
        try:
            if op == "put":
                after = (data, blobs.put(key, data, expect=expect))
            else:
                blobs.delete(key, expect=expect)
        except BlobConflict:
            assert not fresh
            assert blobs.get(key) == current
            continue
        assert blind or (last and last[0]) == (current and current[0])  # it had seen the acknowledged content
        forget_or_remember(acknowledged, key, after)
        forget_or_remember(seen[writer], key, after)
        assert blobs.get(key) == acknowledged.get(key)


# -- the state, its backups and history, its lock -------------------------------------------------------------------

def test_state_round_trip_encrypted_with_backups_and_history(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSS_IAC_TEST_STATE_KEY", generate_key())
    backend.settings = backend.settings.model_copy(update={"keep_backups": 3,
                                                           "encryption_key_env": "DSS_IAC_TEST_STATE_KEY"})
    store = open_store(backend.settings, backend.root, "dev", blobs=backend.open())
    assert store.read() is None
    state = store.load()
    for n in range(1, 6):
        state.resources[f"project.p{n}"] = ResourceState("project", f"P{n}", {"name": f"secret-free {n}"})
        state.stamp(f"user{n}@ci")
        store.commit(state, "apply")
    again = open_store(backend.settings, backend.root, "dev", blobs=backend.open()).read()
    assert again is not None and again.to_dict() == state.to_dict()
    assert store.backup_serials() == [3, 4, 5]
    assert [(h.serial, h.who, h.resources) for h in store.history()] == [(3, "user3@ci", 3), (4, "user4@ci", 4),
                                                                         (5, "user5@ci", 5)]
    assert store.backup(4).serial == 4
    with pytest.raises(StateError, match=r"no backup of serial 2 for 'dev' \(kept: 3, 4, 5\)"):
        store.backup(2)
    stored = backend.open().get(KEY)
    assert stored is not None and b"secret-free" not in stored[0] and b"dss-iac-encrypted-state" in stored[0]


def test_of_two_runs_that_read_the_same_state_only_the_first_writer_wins(backend: Backend) -> None:
    one, two, reader = backend.open(), backend.open(), backend.open()
    for env in ("dev", "prod"):
        first, second = StateStore(one, env), StateStore(two, env)
        states = [first.load(), second.load()]  # both read before either writes
        for i, s in enumerate(states):
            s.resources[f"project.p{i}"] = ResourceState("project", f"P{i}", {})
            s.stamp(f"writer{i}")
        results = in_threads(2, lambda i, s=states, w=(first, second): w[i].write(s[i]))
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], StateError), results
        assert str(errors[0]) == (f"the state of '{env}' at {one.location}/{env}/state.json was changed by another "
                                  "run since it was read; nothing was overwritten: run the command again")
        stored = StateStore(reader, env).read()
        assert stored is not None and list(stored.resources) == [f"project.p{results.index(None)}"]


def test_a_corrupted_state_names_the_last_backup(backend: Backend) -> None:
    blobs = backend.open()
    state = State(environment="dev")
    state.stamp("me")
    StateStore(blobs, "dev").commit(state, "apply")
    blobs.put(KEY, b'{"trunc')
    with pytest.raises(StateError) as err:
        StateStore(backend.open(), "dev").read()
    where = f"{blobs.location}/dev"
    assert str(err.value).startswith(f"{where}/state.json: state is not valid JSON")
    assert f"The last backup is {where}/backups/0000000001.json (serial 1)" in str(err.value)


def test_of_two_runs_taking_the_lock_one_wins_and_the_other_is_told_who_holds_it(backend: Backend) -> None:
    def leases() -> Leases:
        return Leases(backend.open(), "dev/lock.json", "dev", ttl=60)

    a, b = leases(), leases()
    results = in_threads(2, lambda i: (a, b)[i].acquire("apply"))
    won = [r for r in results if isinstance(r, Lease)]
    lost = [r for r in results if isinstance(r, LockError)]
    assert len(won) == 1 and len(lost) == 1, results
    message = str(lost[0])
    assert f"locked: lock {won[0].id} held by {won[0].who}" in message
    assert f"dss-iac state unlock -e dev {won[0].id}" in message and "\n" not in message
    assert leases().holder() == won[0]
    renewed = a.renew(won[0])
    assert renewed.id == won[0].id and renewed.expires >= won[0].expires
    assert b.release(won[0].id) is True
    assert leases().holder() is None
    assert a.acquire("plan").operation == "plan"  # free again


def test_a_lock_whose_holder_stopped_renewing_is_taken_over(backend: Backend) -> None:
    blobs = backend.open()
    # A holder on another machine (so its pid cannot be checked here) whose lease ran out a minute ago.
    dead = Lease("0123abcd4567", "ci@runner-7", 4242, "runner-7.example", "apply", "2026-01-01T00:00:00+00:00",
                 time.time() - 60)
    blobs.put("dev/lock.json", dead.to_bytes(), expect=ABSENT)
    leases = Leases(blobs, "dev/lock.json", "dev", ttl=60)
    mine = leases.acquire("apply")
    assert leases.holder() == mine and mine.id != dead.id
    with pytest.raises(LockError, match="the state lock 0123abcd4567 of 'dev' was taken away"):
        Leases(backend.open(), "dev/lock.json", "dev").renew(dead)
    with pytest.raises(LockError, match=f"held by lock {mine.id}, not 0123abcd4567"):
        leases.release(dead.id)
