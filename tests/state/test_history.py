"""History by commands: an apply is one entry however many times it wrote the state, the last `keep_backups` commands
(50 by default) are kept on every backend, lock files do not pile up, and a live lock is not released without
--force."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dataiku_iac.apply.recorder import StateRecorder
from dataiku_iac.cli.main import main
from dataiku_iac.config.models import StateSettings
from dataiku_iac.state.backends import open_store
from dataiku_iac.state.blobs import LocalBlobStore
from dataiku_iac.state.lease import Lease, Leases
from dataiku_iac.state.model import ResourceState, State
from dataiku_iac.state.store import StateStore
from tests.engine.conftest import write_workspace
from tests.state.conftest import Backend

ELEVEN = "project: {key: HIST, name: History}\ndatasets:\n" + "\n".join(
    f"  ds_{i}: {{type: Filesystem, connection: filesystem_managed, params: {{path: /h/{i}}}}}" for i in range(10))


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def history(root: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert run(root, "state", "history", "-e", "dev", "--json") == 0
    return json.loads(capsys.readouterr().out)


def current_serial(root: Path, capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    assert run(root, "state", "pull", "-e", "dev") == 0
    return int(json.loads(capsys.readouterr().out)["serial"])


def test_an_apply_is_one_entry_and_restore_reaches_back_one_apply(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {"hist": ELEVEN}, workspace_yaml="version: 1\nenvironments:\n"
                                                                      "  dev: {host: embedded}\n")
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    [first] = history(root, capsys)
    assert (first["command"], first["added"], first["changed"], first["destroyed"], first["resources"]) == (
        "apply", 11, 0, 0, 11)
    assert first["serial"] == current_serial(root, capsys) and first["who"] and first["when"]

    # A plan saved now is stale once the next apply has run, however that apply wrote the state.
    (root / "projects" / "hist.yaml").write_text(ELEVEN.replace("/h/3", "/h/three"))
    assert run(root, "plan", "-e", "dev", "--out", "saved.plan") == 0
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    capsys.readouterr()
    assert run(root, "apply", "saved.plan") == 5
    assert "the plan is stale" in capsys.readouterr().err
    entries = history(root, capsys)
    assert [(e["command"], e["added"], e["changed"], e["destroyed"]) for e in entries] == [
        ("apply", 11, 0, 0), ("apply", 0, 1, 0)]

    # One step back in the history is one apply back.
    assert run(root, "state", "restore", "-e", "dev", str(first["serial"])) == 0
    capsys.readouterr()
    assert run(root, "state", "show", "-e", "dev", "dataset.HIST.ds_3", "--json") == 0
    assert json.loads(capsys.readouterr().out)["fields"]["params"]["path"] == "/h/3"
    assert run(root, "state", "rm", "-e", "dev", "dataset.HIST.ds_9") == 0
    entries = history(root, capsys)
    assert [(e["command"], e["added"], e["changed"], e["destroyed"], e["resources"]) for e in entries[2:]] == [
        (f"state restore {first['serial']}", 0, 1, 0, 11), ("state rm", 0, 0, 1, 10)]
    assert [e["serial"] for e in entries] == sorted({e["serial"] for e in entries})
    assert entries[-1]["serial"] == current_serial(root, capsys)

    assert run(root, "state", "history", "-e", "dev") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["serial", "when", "who", "command", "changes", "resources", "commit"]
    assert "state rm" in lines[1] and "+0 ~0 -1" in lines[1]
    assert lines[-1].split()[3:6] == ["apply", "+11", "~0"]


def an_apply(store: StateStore, n: int) -> None:
    """What an 11-resource apply does to the state: a recorder that writes as operations complete."""
    state = store.load()
    recorder = StateRecorder(store, state, "ci@runner-7", command="apply")
    for i in range(11):
        recorder.put(f"dataset.P.ds_{i}", ResourceState("dataset", f"ds_{i}", {"path": f"/{n}/{i}"}),
                     "create" if n == 1 else "update")
    recorder.close()


def assert_the_last_applies_kept(store: StateStore, applies: int, keep: int) -> None:
    kept = store.history()
    assert len(kept) == keep and {e.command for e in kept} == {"apply"}
    assert [e.serial for e in kept] == store.backup_serials()
    assert (kept[0].changed, kept[-1].changed, kept[-1].resources) == (11, 11, 11)
    assert kept[-1].serial == store.load().serial
    # The previous entry is the previous apply, whatever number of writes each took.
    assert store.backup(kept[-2].serial).resources["dataset.P.ds_0"].fields == {"path": f"/{applies - 1}/0"}


def test_applies_beyond_keep_backups_keep_the_last_ones_on_every_backend(backend: Backend) -> None:
    backend.settings = backend.settings.model_copy(update={"keep_backups": 4})
    store = open_store(backend.settings, backend.root, "dev", blobs=backend.open())
    for n in range(1, 8):
        an_apply(store, n)
    assert_the_last_applies_kept(store, 7, 4)


def test_sixty_applies_keep_the_last_fifty_by_default(tmp_path: Path) -> None:
    store = open_store(StateSettings(), tmp_path, "dev")
    for n in range(1, 61):
        an_apply(store, n)
    assert_the_last_applies_kept(store, 60, 50)
    locks = [p for p in (tmp_path / ".dss-iac" / "state").rglob("*") if p.name.endswith("flock")]
    assert len(locks) <= 3, locks  # one per folder: dev/ and dev/backups/ (and dev/journal/ once used)


def test_lock_files_left_by_earlier_versions_go_with_their_backups(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    store = StateStore(blobs, "dev", keep=2)
    state = State("dev")
    for _ in range(3):
        state.stamp("me@host")
        store.commit(state, "apply")
    legacy = tmp_path / "dev" / "backups" / f".{store.backup_key(state.serial).rsplit('/', 1)[-1]}.flock"
    legacy.touch()  # what an earlier dss-iac left beside each backup
    for _ in range(2):
        state.stamp("me@host")
        store.commit(state, "apply")
    assert not legacy.exists()


def test_backups_of_an_earlier_version_stay_listed_and_restorable(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    store = StateStore(blobs, "dev", keep=4)
    state = State("dev")
    for n in range(3):  # an earlier dss-iac: a backup per write, no history.json
        state.resources[f"project.P{n}"] = ResourceState("project", f"P{n}", {})
        state.stamp("old@host")
        store.write(state)
        blobs.put(store.backup_key(state.serial), state.to_json())
    state.stamp("new@host")
    store.commit(state, "state rm")
    assert [(e.serial, e.command, e.who) for e in store.history()] == [
        (1, "", "old@host"), (2, "", "old@host"), (3, "", "old@host"), (4, "state rm", "new@host")]
    state.stamp("new@host")
    store.commit(state, "apply")
    assert [e.serial for e in store.history()] == [2, 3, 4, 5]  # keep=4 counts the old backups too
    assert sorted(store.backup(2).resources) == ["project.P0", "project.P1"]


def test_restore_goes_above_every_serial_written_since_the_last_entry(tmp_path: Path) -> None:
    store = StateStore(LocalBlobStore(tmp_path), "dev")
    state = State("dev")
    state.stamp("me@host")
    store.commit(state, "apply")
    for _ in range(3):  # an apply that wrote, then died before its history entry
        state.stamp("me@host")
        store.write(state)
    assert [e.serial for e in store.history()] == [1] and store.latest_serial() == 4
    (tmp_path / "dev" / "state.json").write_text(json.dumps({"serial": 4, "checksum": "edited by hand"}))
    assert store.latest_serial() == 4  # a state that does not verify still tells its serial


def holder(store_root: Path, pid: int) -> Lease:
    """A lease of this host's process `pid`, written where the workspace's state lives."""
    leases = Leases(LocalBlobStore(store_root / ".dss-iac" / "state"), "dev/lock.json", "dev")
    lease = Lease("0123456789ab", "ci@runner", pid, socket.gethostname(), "apply", "2026-01-01T00:00:00+00:00",
                  time.time() + 60)
    leases.blobs.put("dev/lock.json", lease.to_bytes())
    return lease


def test_unlocking_a_live_holder_needs_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, workspace_yaml="version: 1\nenvironments:\n  dev: {host: embedded}\n")
    lock = tmp_path / ".dss-iac" / "state" / "dev" / "lock.json"
    live = holder(root, os.getpid())
    assert run(root, "state", "unlock", "-e", "dev", live.id) == 4
    err = capsys.readouterr().err
    assert "is locked by a run that is still alive: lock 0123456789ab held by ci@runner" in err
    assert f"`dss-iac state unlock -e dev {live.id} --force`" in err and lock.exists()
    assert run(root, "state", "unlock", "-e", "dev", live.id, "--force") == 0
    assert not lock.exists()

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = holder(root, int(gone.stdout))  # its process has exited: nothing to protect
    assert run(root, "state", "unlock", "-e", "dev", dead.id) == 0
    assert f"Released the state lock {dead.id} of dev." in capsys.readouterr().out and not lock.exists()
