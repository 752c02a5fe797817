"""Crash harness: kill -9 the apply at every kind of DSS write it makes, before and after DSS did it; the next
apply recovers: everything made once (no twin, no orphan), all of it in the state, sensitive values sealed.

The apply's own transport kills its process (SIGKILL) as its k-th write goes out (before DSS does it) or as soon
as it has been answered, before the apply sees the answer (the DSS object exists but the apply never heard of it:
the hardest moment to recover from). The embedded DSS runs in a process of its own (shared by the workspace's
processes) and, as a real DSS would, outlives the apply. The other way round, the embedded DSS itself is killed
right after storing a write and before answering (`DSS_IAC_SIM_CRASH_TARGET=server`): the apply loses its DSS
mid-way.

The matrix (`slow`) takes each kind of write once: the first of each call of the apply, one per object kind and
step of a create (DSS makes the object, then its settings are written, or its items moved), the project's
metadata, permissions and variables. A second dataset create is the same moment of the same code as the first:
killing at both tests nothing more. `test_the_matrix_kills_at_every_kind_of_write_an_apply_makes` checks that
the matrix's project makes every kind of write, in that order, and that the project the harness used to kill at
every write of (61 writes, against 16) makes no other kind. The fast tests kill mid-way at the default
parallelism, with other writes in flight.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from tests.engine.conftest import write_workspace
from tests.state.crashing import dss_iac, objects_in

SECRET = "CRASH-CANARY-3d9e41"
PROJECT = """\
project:
  key: CRASH
  name: Crash test
  variables: {standard: {a: '1', dsn: "${env:CRASH_DSN}"}}
  permissions: [{group: data_team, read_project_content: true}]
datasets:
  raw: {type: Filesystem, connection: filesystem_managed, params: {path: /c/raw, db_password: "${env:CRASH_DSN}"},
        tags: [t0], description: raw data}
  clean: {type: Filesystem, connection: filesystem_managed, params: {path: "/c/${env:CRASH_DSN}"}}
managed_folders:
  models: {connection: filesystem_folders, description: trained models}
recipes:
  sync_raw: {type: sync, inputs: [raw], outputs: [clean]}
scenarios:
  nightly: {name: Nightly build, triggers: [{type: temporal, frequency: Daily, hour: 2}],
            steps: [{type: build, items: [clean, models]}]}
zones:
  ingest: {color: '#ff0000', items: [raw, sync_raw, models]}
"""
MADE = Counter(["project.CRASH", "dataset.CRASH.raw", "dataset.CRASH.clean", "managed_folder.CRASH.models",
                "recipe.CRASH.sync_raw", "scenario.CRASH.nightly", "zone.CRASH.ingest"])
# Every kind of write of the project's first apply (parallelism 1), in order: the kill points of the matrix.
WRITE_POINTS = {
    "project-create": "POST /projects/",
    "project-metadata": "PUT /projects/*/metadata",
    "dataset-create": "POST /projects/*/datasets/",
    "dataset-settings": "PUT /projects/*/datasets/*",
    "folder-create": "POST /projects/*/managedfolders/",
    "folder-settings": "PUT /projects/*/managedfolders/*",
    "permissions": "PUT /projects/*/permissions",
    "variables": "PUT /projects/*/variables/",
    "recipe-create": "POST /projects/*/recipes/",
    "recipe-settings": "PUT /projects/*/recipes/*",
    "scenario-create": "POST /projects/*/scenarios/",
    "scenario-settings": "PUT /projects/*/scenarios/*",
    "zone-create": "POST /projects/*/flow/zones",
    "zone-items": "POST /projects/*/flow/zones/*/add-items",
}
_IDS = re.compile(r"/(projects|datasets|managedfolders|recipes|scenarios|zones)/[^/]+")


# The project the harness used to kill at every one of its 61 writes: many objects of each kind, no other kind.
BIGGER = "\n".join([
    "project: {key: CRASH, name: Crash test, variables: {standard: {a: '1'}},"
    " permissions: [{group: data_team, read_project_content: true}]}",
    "datasets:",
    *(f"  ds_{i:02d}: {{type: Filesystem, connection: filesystem_managed, params: {{path: /c/{i}}},"
      f" tags: [t{i % 3}], description: dataset {i}}}" for i in range(16)),
    "managed_folders:",
    "  models: {connection: filesystem_folders}",
    "recipes:",
    *(f"  sync_{i:02d}: {{type: sync, inputs: [ds_{i:02d}], outputs: [ds_{i + 8:02d}]}}" for i in range(8)),
    "scenarios:",
    "  nightly: {triggers: [{type: temporal, frequency: Daily, hour: 2}], steps: [{type: build, items: [ds_15]}]}",
    "  hourly: {triggers: [{type: temporal, frequency: Hourly}], steps: [{type: build, items: [ds_09, models]}]}",
    "zones:",
    "  ingest: {color: '#ff0000', items: [ds_00, ds_01]}",
    "  serve: {items: [ds_14, ds_15, sync_06, sync_07]}",
]) + "\n"


def write_point(write: str) -> str:
    """"PUT /projects/CRASH/datasets/raw" -> "PUT /projects/*/datasets/*": the call, whichever object it is for."""
    return _IDS.sub(r"/\1/*", write)


def first_apply_writes(root: Path) -> list[str]:
    """The writes ("PUT /path") of the workspace's first apply with parallelism 1, in order."""
    with Workspace.load(root) as ws:
        sim = ws.connection("dev").simulator
        assert sim is not None
        plan = ws.plan("dev")
        sim.reset_stats()
        assert ws.apply(plan, parallelism=1).ok
        return [f"{e['method']} {e['path']}" for e in sim.stats(with_log=True)["log"] if e["method"] != "GET"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRASH_DSN", SECRET)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The workspace, never applied, and the writes its first apply makes."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRASH_DSN", SECRET)
        root = write_workspace(tmp_path_factory.mktemp("template"), {"crash": PROJECT})
        writes = first_apply_writes(root)
    shutil.rmtree(root / ".dss-iac")
    return root, writes


@pytest.fixture(scope="module")
def template(applied: tuple[Path, list[str]]) -> tuple[Path, int]:
    """The workspace, and how many DSS writes a full apply of it makes."""
    return applied[0], len(applied[1])


def check_recovered(root: Path) -> None:
    """What DSS holds is what the state holds, each object once; nothing left to do, nothing drifted (the sealed
    values check against the config); the journal cleared; no sensitive value in any state file."""
    with Workspace.load(root) as ws:
        plan = ws.plan("dev")
        assert plan.changes == [] and plan.drifted == [], [str(a.address) for a in plan.changes + plan.drifted]
        store = ws.state_store("dev")
        state = store.read()  # checksum verified
        assert state is not None and store.journal() == []
        assert set(state.resources) == {str(a.address) for a in plan.actions}
        held = objects_in(ws.connection("dev").client, "CRASH")
        assert held == MADE  # no twin, no orphan
        assert held == Counter(a for a in state.resources if not a.startswith(("permissions.", "variables.")))
    state_files = [p for p in (root / ".dss-iac" / "state").rglob("*") if p.is_file()]
    assert state_files and not [p for p in state_files if SECRET.encode() in p.read_bytes()]


def kill_apply_then_recover(template: Path, root: Path, *args: str, **kill: int) -> None:
    shutil.copytree(template, root)
    crashed = dss_iac(root, "apply", "-e", "dev", "--yes", *args, **kill)
    assert crashed.returncode == -9, (kill, crashed.stdout[-500:], crashed.stderr[-500:])
    again = dss_iac(root, "apply", "-e", "dev", "--yes")
    assert again.returncode == 0, (kill, again.stdout[-2000:], again.stderr[-2000:])
    assert "Traceback" not in again.stderr
    assert SECRET not in crashed.stdout + crashed.stderr + again.stdout + again.stderr
    check_recovered(root)


def test_the_matrix_kills_at_every_kind_of_write_an_apply_makes(applied: tuple[Path, list[str]],
                                                                tmp_path: Path) -> None:
    _, writes = applied
    assert list(dict.fromkeys(map(write_point, writes))) == list(WRITE_POINTS.values())
    bigger = first_apply_writes(write_workspace(tmp_path, {"crash": BIGGER}))
    assert len(bigger) > 3 * len(writes) and set(map(write_point, bigger)) <= set(WRITE_POINTS.values())


@pytest.mark.slow
@pytest.mark.parametrize("knob", ["crash_before", "crash_after"], ids=["before", "after"])
@pytest.mark.parametrize("point", list(WRITE_POINTS))
def test_killed_at_any_kind_of_write_the_next_apply_recovers(applied: tuple[Path, list[str]], tmp_path: Path,
                                                             point: str, knob: str) -> None:
    template, writes = applied
    k = list(map(write_point, writes)).index(WRITE_POINTS[point]) + 1
    kill_apply_then_recover(template, tmp_path / "ws", "--parallelism", "1", **{knob: k})


@pytest.mark.parametrize("knob", ["crash_before", "crash_after"], ids=["before", "after"])
def test_killed_mid_way_with_other_writes_in_flight_the_next_apply_recovers(template: tuple[Path, int],
                                                                           tmp_path: Path, knob: str) -> None:
    source, writes = template
    kill_apply_then_recover(source, tmp_path / "ws", **{knob: writes // 2})


def test_results_journaled_before_any_state_was_written_are_checked_with_their_own_key(tmp_path: Path) -> None:
    """The state of a first apply is written in the background: a crash can come before it ever is. The journal
    keeps the key the results were sealed with, so their fingerprints still check against the values."""
    from dataiku_iac.apply.journal import Journal
    from dataiku_iac.apply.recorder import StateRecorder
    from dataiku_iac.apply.recovery import replay
    from dataiku_iac.secrets import Sensitive
    from dataiku_iac.state.blobs import LocalBlobStore
    from dataiku_iac.state.model import ResourceState, State
    from dataiku_iac.state.store import StateStore

    class NeverWritten:  # the process dies before its state writer gets to write
        def write(self, state: State) -> None:
            raise KeyboardInterrupt

    store = StateStore(LocalBlobStore(tmp_path / "state"), "dev")
    first = State("dev")
    recorder = StateRecorder(NeverWritten(), first, "me", journal=Journal(store))
    fields = recorder.fingerprints.scrub({"standard": {"dsn": Sensitive(SECRET)}})
    recorder.put("variables.HUSH", ResourceState("variables", "HUSH", fields), "create")
    assert store.read() is None and SECRET not in str(store.journal())
    recovered = State("dev")
    replay(recovered, store.journal())
    sealed = recovered.resources["variables.HUSH"].fields["standard"]["dsn"]
    assert recovered.sealer().matches(sealed, SECRET) and not recovered.sealer().matches(sealed, "other")


@pytest.mark.parametrize("at", ["first", "middle", "last"])
def test_the_embedded_dss_killed_after_a_write_then_recover(template: tuple[Path, int], tmp_path: Path,
                                                            at: str) -> None:
    source, writes = template
    k = {"first": 1, "middle": writes // 2, "last": writes}[at]
    root = tmp_path / "ws"
    shutil.copytree(source, root)
    crashed = dss_iac(root, "apply", "-e", "dev", "--yes", crash_after=k, kill="server")
    assert crashed.returncode == 1, (k, crashed.stdout[-500:], crashed.stderr[-500:])
    assert "Traceback" not in crashed.stderr and "cannot reach DSS at embedded" in crashed.stderr
    again = dss_iac(root, "apply", "-e", "dev", "--yes")  # starts a new embedded DSS from what was stored
    assert again.returncode == 0, (k, again.stdout[-2000:], again.stderr[-2000:])
    check_recovered(root)
