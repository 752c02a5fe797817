"""Crash harness: kill -9 the apply right after its k-th DSS write, for every k; the next apply recovers.

The apply's own transport kills its process (SIGKILL) as soon as the k-th write has been answered, before the
apply sees the answer, so the DSS object exists but the apply never heard of it: the hardest moment to recover
from. The embedded DSS runs in a process of its own (shared by the workspace's processes) and, as a real DSS
would, outlives the apply. The other way round, the embedded DSS itself is killed right after storing a write
and before answering (`DSS_IAC_SIM_CRASH_TARGET=server`): the apply loses its DSS mid-way.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from tests.engine.conftest import write_workspace
from tests.state.crashing import dss_iac

DATASETS = 16
PROJECT = "\n".join([
    "project: {key: CRASH, name: Crash test, variables: {standard: {a: '1'}},"
    " permissions: [{group: data_team, read_project_content: true}]}",
    "datasets:",
    *(f"  ds_{i:02d}: {{type: Filesystem, connection: filesystem_managed, params: {{path: /c/{i}}},"
      f" tags: [t{i % 3}], description: dataset {i}}}" for i in range(DATASETS)),
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
CHUNKS = 4


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The workspace, and how many DSS writes a full apply of it makes."""
    root = write_workspace(tmp_path_factory.mktemp("template"), {"crash": PROJECT})
    with Workspace.load(root) as ws:
        plan = ws.plan("dev")
        assert len(plan.changes) >= 30
        conn = ws.connection("dev")
        assert conn.simulator is not None
        conn.simulator.reset_stats()
        assert ws.apply(plan).ok
        by_route = conn.simulator.stats()["byRoute"]
    writes = sum(n for route, n in by_route.items() if not route.startswith("GET "))
    shutil.rmtree(root / ".dss-iac")
    return root, writes


def check_recovered(root: Path) -> None:
    with Workspace.load(root) as ws:
        assert ws.plan("dev").changes == []
        store = ws.state_store("dev")
        state = store.read()  # checksum verified
        assert state is not None and store.journal() == []
        project = ws.connection("dev").client.get_project("CRASH")
        datasets = Counter(d.name for d in project.list_datasets())
        assert datasets == Counter(f"ds_{i:02d}" for i in range(DATASETS))
        assert Counter(f["name"] for f in project.list_managed_folders()) == Counter(["models"])
        assert Counter(r.name for r in project.list_recipes()) == Counter(f"sync_{i:02d}" for i in range(8))
        assert sorted(s["id"] for s in project.list_scenarios()) == ["HOURLY", "NIGHTLY"]
        zones = Counter(z.name for z in project.get_flow().list_zones() if z.id != "default")
        assert zones == Counter(["ingest", "serve"])
        assert len(state.resources) == len(ws.plan("dev").actions)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_kill_after_every_write_then_recover(template: tuple[Path, int], tmp_path: Path, chunk: int) -> None:
    source, writes = template
    assert writes >= 30
    for k in range(chunk + 1, writes + 1, CHUNKS):
        root = tmp_path / f"k{k}"
        shutil.copytree(source, root)
        crashed = dss_iac(root, "apply", "-e", "dev", "--yes", crash_after=k)
        assert crashed.returncode == -9, (k, crashed.stdout[-500:], crashed.stderr[-500:])
        again = dss_iac(root, "apply", "-e", "dev", "--yes")
        assert again.returncode == 0, (k, again.stdout[-2000:], again.stderr[-2000:])
        assert "Traceback" not in again.stderr
        check_recovered(root)
        shutil.rmtree(root)


SECRET = "CRASH-CANARY-3d9e41"
SECRET_PROJECT = """\
project: {key: HUSH, name: Hush, variables: {standard: {dsn: "${env:HUSH_DSN}"}}}
datasets:
  remote: {type: Filesystem, connection: filesystem_managed, params: {path: /in, db_password: "${env:HUSH_DSN}"}}
  plain: {type: Filesystem, connection: filesystem_managed, params: {path: "/x/${env:HUSH_DSN}"}}
"""


def test_a_recovered_apply_keeps_sensitive_values_sealed_and_checkable(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after each write of a first apply (no state written yet, objects made but not heard of): the next
    run adopts them with their sensitive values fingerprinted, under a key it can check them with."""
    monkeypatch.setenv("HUSH_DSN", SECRET)
    for k in range(1, 7):
        root = write_workspace(tmp_path / f"k{k}", {"hush": SECRET_PROJECT})
        crashed = dss_iac(root, "apply", "-e", "dev", "--yes", crash_after=k)
        assert crashed.returncode == -9, (k, crashed.stderr[-500:])
        again = dss_iac(root, "apply", "-e", "dev", "--yes")
        assert again.returncode == 0 and SECRET not in again.stdout + again.stderr, (k, again.stderr[-1000:])
        with Workspace.load(root) as ws:
            plan = ws.plan("dev")
            assert plan.changes == [] and plan.drifted == [], (k, [a.address for a in plan.drifted])
        state_files = [p for p in (root / ".dss-iac" / "state").rglob("*") if p.is_file()]
        assert state_files and not [p for p in state_files if SECRET.encode() in p.read_bytes()], k


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
