"""The state file: checksummed, versioned, atomically written; damage is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataiku_iac.errors import StateError
from dataiku_iac.state.blobs import LocalBlobStore
from dataiku_iac.state.model import ResourceState, State
from dataiku_iac.state.store import StateStore


class Backend:
    """The local backend of one folder, reading any environment (as the CLI does)."""

    def __init__(self, folder: Path) -> None:
        self.blobs = LocalBlobStore(folder)

    def read(self, env: str) -> State | None:
        return StateStore(self.blobs, env).read()


def _saved(tmp_path: Path) -> tuple[Backend, Path]:
    store = StateStore(LocalBlobStore(tmp_path), "dev")
    state = State("dev")
    state.resources["project.P"] = ResourceState("project", "P", {"name": "p"})
    state.stamp("me@host")
    store.commit(state, "apply")
    return Backend(tmp_path), tmp_path / "dev" / "state.json"


def test_round_trip(tmp_path: Path) -> None:
    backend, _ = _saved(tmp_path)
    state = backend.read("dev")
    assert state is not None and state.serial == 1 and state.resources["project.P"].fields == {"name": "p"}
    assert state.updated_by == "me@host"


def test_hand_edits_break_the_checksum(tmp_path: Path) -> None:
    backend, path = _saved(tmp_path)
    doc = json.loads(path.read_text())
    doc["resources"]["project.P"]["fields"]["name"] = "edited"
    path.write_text(json.dumps(doc))
    with pytest.raises(StateError, match="checksum mismatch"):
        backend.read("dev")


def test_truncated_state_is_a_clear_error(tmp_path: Path) -> None:
    backend, path = _saved(tmp_path)
    path.write_text(path.read_text()[:40])
    with pytest.raises(StateError, match=r"not valid JSON.*truncated"):
        backend.read("dev")


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    backend, path = _saved(tmp_path)
    doc = json.loads(path.read_text())
    doc["format_version"] = 99
    path.write_text(json.dumps(doc))
    with pytest.raises(StateError, match="newer than this dss-iac understands"):
        backend.read("dev")


def test_state_of_another_environment_is_refused(tmp_path: Path) -> None:
    backend, path = _saved(tmp_path)
    (tmp_path / "prod").mkdir()
    path.rename(tmp_path / "prod" / "state.json")
    with pytest.raises(StateError, match="holds the state of environment 'dev', not 'prod'"):
        backend.read("prod")


def test_a_corrupt_state_names_the_backup_to_restore(tmp_path: Path) -> None:
    backend, path = _saved(tmp_path)
    path.write_text("garbage")
    with pytest.raises(StateError, match=r"The last backup is .*0000000001.json \(serial 1\): restore it with "
                                         r"`dss-iac state restore -e dev 1`"):
        backend.read("dev")


def test_a_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    import socket

    from dataiku_iac.state.lease import Leases

    leases = Leases(LocalBlobStore(tmp_path), "dev/lock.json", "dev")
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "lock.json").write_text(json.dumps({
        "id": "old", "who": "x", "pid": 2**22 + 12345, "host": socket.gethostname(), "operation": "apply",
        "started": "", "expires": 9e12}))
    lease = leases.acquire("apply")
    holder = leases.holder()
    assert lease.id != "old" and holder is not None and holder.id == lease.id
