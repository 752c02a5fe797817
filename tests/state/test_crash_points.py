"""kill -9 during a destroy, and during the creates of objects whose ids DSS makes: nothing leaked, nothing
duplicated, nothing lost.

The CLI's own process is killed (by its transport: the embedded DSS runs apart and outlives it) as its k-th
write goes out (before DSS does it: whatever the CLI did since the previous write is all that happened) or right
after DSS did it (before the CLI sees the reply): together, every moment between two DSS writes. The fast tests
take the kill points that matter most; the `slow` one takes every other kind of write of a destroy
(test_crash_recovery.py takes every kind of write of an apply).
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from tests.engine.conftest import SERVER_IDS_PROJECT, write_workspace
from tests.state.crashing import dss_iac, objects_in

GONE = """\
project: {key: GONE, name: Deleted with its project}
datasets:
  g0: {type: Filesystem, connection: filesystem_managed, params: {path: /g/0}}
  g1: {type: Filesystem, connection: filesystem_managed, params: {path: /g/1}}
managed_folders:
  gf: {connection: filesystem_folders}
recipes:
  sync_g1: {type: sync, inputs: [g0], outputs: [g1]}
scenarios:
  nightly: {triggers: [{type: temporal, frequency: Daily}], steps: [{type: build, items: [g1]}]}
zones:
  gz: {items: [g0]}
"""
# Kept in DSS by the destroy (it will hold a dataset made by hand): its objects are deleted one by one.
KEEP = """\
project: {key: KEEP, name: Holds a dataset made by hand}
datasets:
  k0: {type: Filesystem, connection: filesystem_managed, params: {path: /k/0}}
  k1: {type: Filesystem, connection: filesystem_managed, params: {path: /k/1}}
managed_folders:
  kf: {connection: filesystem_folders}
"""
TWINS = SERVER_IDS_PROJECT.replace("KEY", "TWINS")


def _applied(root: Path, projects: dict[str, str], by_hand: bool = False) -> Path:
    write_workspace(root, projects)
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev")).ok
        if by_hand:
            ws.connection("dev").client.get_project("KEEP").create_dataset(
                "by_hand", "Filesystem", params={"connection": "filesystem_managed", "path": "/hand"})
    return root


def _destroy_writes(template: Path, scratch: Path) -> list[str]:
    """The writes ("DELETE /path") of a destroy of the workspace with parallelism 1, in order."""
    shutil.copytree(template, scratch)
    with Workspace.load(scratch) as ws:
        sim = ws.connection("dev").simulator
        assert sim is not None
        sim.reset_stats()
        assert ws.apply(ws.plan("dev", destroy=True), parallelism=1).ok
        writes = [f"{e['method']} {e['path']}" for e in sim.stats(with_log=True)["log"] if e["method"] != "GET"]
    shutil.rmtree(scratch)
    return writes


def _leaked(root: Path, managed: set[str]) -> list[str]:
    """Objects dss-iac managed that DSS still holds but the state (journal replayed) no longer has."""
    with Workspace.load(root) as ws:
        state = set(ws.state("dev").resources)
        client = ws.connection("dev").client
        held = objects_in(client, "GONE") + objects_in(client, "KEEP")
    leaked = sorted(a for a in held if a in managed and a not in state)
    # The kept project is only forgotten, as the plan said, once the objects dss-iac made in it are deleted.
    if leaked == ["project.KEEP"] and not any(a.startswith(("dataset.KEEP.k", "managed_folder.KEEP")) for a in held):
        return []
    return leaked


def _kill_destroy_and_recover(template: Path, root: Path, **kill: int) -> None:
    shutil.copytree(template, root)
    with Workspace.load(root) as ws:
        managed = set(ws.state("dev").resources)
    crashed = dss_iac(root, "destroy", "-e", "dev", "--yes", "--parallelism", "1", **kill)
    assert crashed.returncode == -9, (kill, crashed.stdout[-500:], crashed.stderr[-500:])
    assert _leaked(root, managed) == [], kill
    again = dss_iac(root, "destroy", "-e", "dev", "--yes")
    assert again.returncode == 0, (kill, again.stdout[-2000:], again.stderr[-2000:])
    with Workspace.load(root) as ws:
        client = ws.connection("dev").client
        assert objects_in(client, "GONE") == Counter()
        assert "KEEP" not in managed or sorted(objects_in(client, "KEEP")) == ["dataset.KEEP.by_hand", "project.KEEP"]
        assert ws.state("dev").resources == {} and ws.state_store("dev").journal() == []


@pytest.fixture(scope="module")
def gone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _applied(tmp_path_factory.mktemp("gone"), {"gone": GONE})


@pytest.mark.parametrize("kill", [{"crash_before": 1}, {"crash_after": 1}], ids=["before", "after"])
def test_kill_during_a_project_delete_forgets_nothing(gone: Path, tmp_path: Path, kill: dict[str, int]) -> None:
    """The project delete is the destroy's one DSS write: killed before it, the project and everything in it
    are still in state; killed after it, the next destroy forgets them."""
    assert _destroy_writes(gone, tmp_path / "count") == ["DELETE /projects/GONE"]
    _kill_destroy_and_recover(gone, tmp_path / "run", **kill)


@pytest.mark.slow
def test_kill_at_every_kind_of_write_of_a_destroy_forgets_nothing(tmp_path_factory: pytest.TempPathFactory,
                                                                 tmp_path: Path) -> None:
    template = _applied(tmp_path_factory.mktemp("two"), {"gone": GONE, "keep": KEEP}, by_hand=True)
    writes = _destroy_writes(template, tmp_path / "count")
    # The kept project's datasets and folder one by one, then project GONE with what it holds.
    assert [w.split("/")[3] if w.count("/") > 3 else w for w in writes] == [
        "datasets", "datasets", "managedfolders", "DELETE /projects/GONE"], writes
    # Each kind of write once: the second dataset delete is the same moment of the same code as the first, and
    # the project delete is the fast test's above.
    for k in (1, 3):
        for knob in ("crash_before", "crash_after"):
            _kill_destroy_and_recover(template, tmp_path / f"{knob}{k}", **{knob: k})
            shutil.rmtree(tmp_path / f"{knob}{k}")


# -- creates ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The workspace, and the writes of its first apply with parallelism 1 ("POST /projects/...", in order)."""
    root = write_workspace(tmp_path_factory.mktemp("twins"), {"twins": TWINS})
    with Workspace.load(root) as ws:
        sim = ws.connection("dev").simulator
        assert sim is not None
        plan = ws.plan("dev")
        sim.reset_stats()
        assert ws.apply(plan, parallelism=1).ok
        writes = [f"{e['method']} {e['path']}" for e in sim.stats(with_log=True)["log"] if e["method"] != "GET"]
    shutil.rmtree(root / ".dss-iac")
    return root, writes


def _kill_apply_and_recover(template: Path, root: Path, **kill: int) -> None:
    shutil.copytree(template, root)
    crashed = dss_iac(root, "apply", "-e", "dev", "--yes", "--parallelism", "1", **kill)
    assert crashed.returncode == -9, (kill, crashed.stdout[-500:], crashed.stderr[-500:])
    again = dss_iac(root, "apply", "-e", "dev", "--yes")
    assert again.returncode == 0, (kill, again.stdout[-2000:], again.stderr[-2000:])
    with Workspace.load(root) as ws:
        held = objects_in(ws.connection("dev").client, "TWINS")
        state = ws.state("dev").resources
        assert held == Counter(a for a in state if not a.startswith("permissions.")), kill  # no twin, no orphan
        assert ws.plan("dev").changes == [] and not ws.drift("dev").has_drift
        assert ws.state_store("dev").journal() == []


def _number(writes: list[str], write: str) -> int:
    """The 1-based number of `write` ("POST /path") among the apply's writes."""
    return writes.index(write) + 1


# Created, its reply lost to the dead process; or created, and the next call of the same create not yet made.
SCENARIO, ZONE = "POST /projects/TWINS/scenarios/", "POST /projects/TWINS/flow/zones"
INSIDE_CREATES = [("crash_after", SCENARIO, 0), ("crash_before", SCENARIO, 1), ("crash_after", ZONE, 0),
                  ("crash_before", ZONE, 1)]


@pytest.mark.parametrize(("knob", "write", "then"), INSIDE_CREATES,
                         ids=["scenario-created", "scenario-not-named", "zone-created", "zone-not-filled"])
def test_kill_inside_the_create_of_a_zone_or_a_scenario_makes_no_twin(twins: tuple[Path, list[str]], tmp_path: Path,
                                                                    knob: str, write: str, then: int) -> None:
    template, writes = twins
    k = _number(writes, write) + then
    if then:  # the next write is the same create's next call
        assert writes[k - 1].split("/")[3] == write.split("/")[3], writes
    _kill_apply_and_recover(template, tmp_path / "run", **{knob: k})
