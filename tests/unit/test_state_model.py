"""The state file: checksummed, versioned, atomically written; damage is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataiku_iac.errors import StateError
from dataiku_iac.state.local import LocalBackend
from dataiku_iac.state.model import ResourceState, State


def _saved(tmp_path: Path) -> tuple[LocalBackend, Path]:
    backend = LocalBackend(tmp_path)
    state = State("dev")
    state.resources["project.P"] = ResourceState("project", "P", {"name": "p"})
    state.stamp("me@host")
    backend.write(state)
    return backend, backend.path("dev")


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
    path.rename(backend.path("prod"))
    with pytest.raises(StateError, match="holds the state of environment 'dev', not 'prod'"):
        backend.read("prod")


def test_a_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    backend.lock_path("dev").write_text(json.dumps({"id": "old", "who": "x", "pid": 2**22 + 12345,
                                                    "host": __import__("socket").gethostname(),
                                                    "operation": "apply", "started": ""}))
    lock = backend.lock("dev", "apply")
    assert lock.id != "old" and backend.lock_holder("dev").id == lock.id
