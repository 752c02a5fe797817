"""Removal forgets nothing DSS still holds: an object leaves the state only once DSS confirmed it is gone.

DSS deletes a project's contents with the project, so they leave the state when the project delete is
confirmed; a delete DSS refuses or fails keeps the project and everything in it managed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from dataiku_iac.sim import Simulator
from tests.conftest import NON_ADMIN_KEY
from tests.engine.conftest import write_workspace

# alice (the simulator's non-admin key, in group data_team) may write the content, not delete the project.
PROJECT = """\
project:
  key: RM
  name: Removal
  permissions: [{group: data_team, read_project_content: true, write_project_content: true}]
datasets:
  a: {type: Filesystem, connection: filesystem_managed, params: {path: /rm/a}}
  b: {type: Filesystem, connection: filesystem_managed, params: {path: /rm/b}}
managed_folders:
  models: {connection: filesystem_folders}
recipes:
  sync_b: {type: sync, inputs: [a], outputs: [b]}
scenarios:
  nightly: {triggers: [{type: temporal, frequency: Daily}], steps: [{type: build, items: [b]}]}
zones:
  ingest: {items: [a]}
"""
MANAGED = ["dataset.RM.a", "dataset.RM.b", "managed_folder.RM.models", "permissions.RM", "project.RM",
           "recipe.RM.sync_b", "scenario.RM.nightly", "zone.RM.ingest"]


def _workspace(root: Path, sim: Simulator) -> Path:
    return write_workspace(root, {"rm": PROJECT}, workspace_yaml=f"""\
        version: 1
        projects: [projects/*.yaml]
        environments:
          dev: {{host: "{sim.base_url}", api_key: "${{env:DSS_KEY}}"}}
        """)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(govern=False, automation_nodes=(), user_keys={NON_ADMIN_KEY: "alice"}) as s:
        yield s


def _in_dss(sim: Simulator) -> list[str]:
    """What DSS holds of the project, by kind and name."""
    client = sim.client()
    if "RM" not in client.list_project_keys():
        return []
    p = client.get_project("RM")
    return sorted([*(f"dataset {d.name}" for d in p.list_datasets()), *(f"recipe {r.name}" for r in p.list_recipes()),
                   *(f"folder {f['name']}" for f in p.list_managed_folders()),
                   *(f"scenario {s['id']}" for s in p.list_scenarios()),
                   *(f"zone {z.name}" for z in p.get_flow().list_zones() if z.id != "default")])


def _state(root: Path) -> list[str]:
    with Workspace.load(root) as ws:
        return sorted(ws.state("dev").resources)


FULL = ["dataset a", "dataset b", "folder models", "recipe sync_b", "scenario NIGHTLY", "zone ingest"]


def test_a_refused_project_delete_keeps_the_project_and_everything_in_it_managed(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path, sim)
    monkeypatch.setenv("DSS_KEY", sim.api_key)
    assert main(["-C", str(root), "apply", "-e", "dev", "--yes"]) == 0
    assert _state(root) == MANAGED
    capsys.readouterr()
    monkeypatch.setenv("DSS_KEY", NON_ADMIN_KEY)
    for _ in range(2):  # a second destroy does not "forget" what the first could not delete
        assert main(["-C", str(root), "destroy", "-e", "dev", "--yes"]) == 1
        out, err = capsys.readouterr()
        assert "project.RM: delete failed" in err and "not an administrator of project RM" in err
        assert "project RM and everything in it stay in state, still managed" in err
        assert "kept in state: project.RM was not deleted" in err
        assert "Apply failed" in out
        assert _state(root) == MANAGED
        assert _in_dss(sim) == FULL
    monkeypatch.setenv("DSS_KEY", sim.api_key)  # a key allowed to delete the project finishes the job
    assert main(["-C", str(root), "destroy", "-e", "dev", "--yes"]) == 0
    assert "Resources: 0 added, 0 changed, 8 destroyed." in capsys.readouterr().out
    assert _state(root) == [] and _in_dss(sim) == []


# Faults on the project delete: DSS answers 500 (nothing done), resets before doing it, or does it and
# the reply is lost. urllib3 retries a DELETE on a reset; dss-iac tries a failed step once more.
delete_faults = st.lists(st.sampled_from(["500", "reset", "lost", "429"]), min_size=1, max_size=6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(faults=delete_faults)
@example(faults=["500"] * 4)  # more faults than one apply's two tries: some are left over
def test_faults_on_the_project_delete_never_forget_what_dss_holds(tmp_path_factory: pytest.TempPathFactory,
                                                                  faults: list[str]) -> None:
    with Simulator(govern=False, automation_nodes=()) as sim:
        root = _workspace(tmp_path_factory.mktemp("rm"), sim)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("DSS_KEY", sim.api_key)
            with Workspace.load(root) as ws:
                assert ws.apply(ws.plan("dev")).ok
                plan = ws.plan("dev", destroy=True)
                for fault in faults:
                    sim.fail_next(1, fault, method="DELETE")
                result = ws.apply(plan)
                held, state = _in_dss(sim), sorted(ws.state("dev").resources)
                # Whatever happened: the project is either gone with all its objects, or all of it is managed.
                assert (held, state) in [([], []), (FULL, MANAGED)], (faults, held, state, result.results)
                assert result.ok == (state == [])
                sim.clear_faults()  # faults the first destroy did not meet are not the next run's weather
                again = ws.apply(ws.plan("dev", destroy=True))
                assert again.ok and _in_dss(sim) == [] and ws.state("dev").resources == {}
