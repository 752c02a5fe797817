"""A create whose reply was lost never makes a twin.

Zones, scenarios and folders get their ids from DSS, which does not refuse a second one of the same name:
a create that DSS performed but whose reply was lost (or whose next call failed) must be found by name and
adopted, never made again. Faults are put on chosen calls with the simulator's `fail_next`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from dataiku_iac.apply.journal import Journal
from dataiku_iac.sim import Simulator
from tests.engine.conftest import SERVER_IDS_PROJECT as PROJECT
from tests.engine.conftest import write_workspace

ADDRESSES = ["dataset.KEY.a", "managed_folder.KEY.models", "project.KEY", "scenario.KEY.nightly", "zone.KEY.ingest"]
FAULTS = ["500", "reset", "lost"]
# Requests of the first apply with parallelism 1 (the order is fixed), after the connection check: the project,
# dataset, folder and scenario creates, each create and its follow-up calls, then the zone's create and move.
CALLS = 15
_keys = itertools.count(1)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """One DSS for the module: each case works on a project of its own."""
    with Simulator(govern=False, automation_nodes=()) as s:
        yield s


def _workspace(root: Path, sim: Simulator) -> tuple[Path, str]:
    key = f"TWIN{next(_keys)}"
    return write_workspace(root, {"twins": PROJECT.replace("KEY", key)}, workspace_yaml=f"""\
        version: 1
        projects: [projects/*.yaml]
        environments:
          dev: {{host: "{sim.base_url}", api_key: "{sim.api_key}"}}
        """), key


def _converge(ws: Workspace) -> None:
    """Apply again until nothing is left to do, as a user would after a failed apply."""
    for _ in range(3):
        plan = ws.plan("dev")
        if not plan.has_changes:
            return
        ws.apply(plan)
    raise AssertionError(f"still changes after 3 applies: {[str(a.address) for a in ws.plan('dev').changes]}")


def _check_no_twin_and_all_managed(ws: Workspace, sim: Simulator, key: str) -> None:
    project = sim.client().get_project(key)
    zones = [z for z in project.get_flow().list_zones() if z.id != "default"]
    assert Counter(z.name for z in zones) == Counter(["ingest"])
    assert [s["id"] for s in project.list_scenarios()] == ["NIGHTLY"]
    folders = project.list_managed_folders()
    assert [f["name"] for f in folders] == ["models"]
    assert [d.name for d in project.list_datasets()] == ["a"]
    state = ws.state("dev").resources
    assert sorted(state) == [a.replace("KEY", key) for a in ADDRESSES]
    assert state[f"zone.{key}.ingest"].remote_id == zones[0].id
    assert state[f"managed_folder.{key}.models"].remote_id == folders[0]["id"]
    assert state[f"scenario.{key}.nightly"].remote_id == "NIGHTLY"
    assert ws.plan("dev").changes == []
    assert not ws.drift("dev").has_drift


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_on_any_call_of_a_create_leaves_no_twin(tmp_path: Path, sim: Simulator, fault: str) -> None:
    for call in range(1, CALLS + 1):
        root, key = _workspace(tmp_path / f"c{call}", sim)
        with Workspace.load(root) as ws:
            plan = ws.plan("dev")
            sim.reset_stats()
            sim.fail_next(1, fault, after=call)
            ws.apply(plan, parallelism=1)
            assert sim.stats()["faults"] == 1, call
            _converge(ws)
            _check_no_twin_and_all_managed(ws, sim, key)


# The create is done but its reply is lost; the update that adopts what it made then fails: the retry must
# find the object again, not create it once more. (POSTs of the apply: project, dataset, folder, scenario,
# zone, then the zone's move of its items; PUTs: project metadata, dataset, folder, scenario.)
LOST_THEN_FAILED = {
    "zone": [(4, "lost", "POST"), (0, "500", "POST")],
    "scenario": [(3, "lost", "POST"), (3, "500", "PUT")],
    "managed_folder": [(2, "lost", "POST"), (2, "500", "PUT")],
}


@pytest.mark.parametrize("kind", sorted(LOST_THEN_FAILED))
def test_a_lost_create_whose_adoption_fails_is_adopted_on_retry(tmp_path: Path, sim: Simulator, kind: str) -> None:
    root, key = _workspace(tmp_path, sim)
    with Workspace.load(root) as ws:
        plan = ws.plan("dev")
        sim.reset_stats()
        for after, fault, method in LOST_THEN_FAILED[kind]:
            sim.fail_next(1, fault, method, after=after)
        result = ws.apply(plan, parallelism=1)
        assert sim.stats()["faults"] == 2
        assert result.ok, [(r.address, r.error) for r in result.failed]  # the in-apply retry adopted it
        _check_no_twin_and_all_managed(ws, sim, key)


faults = st.lists(st.tuples(st.integers(0, CALLS), st.sampled_from(FAULTS)), min_size=1, max_size=4)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(faults=faults)
def test_several_faults_anywhere_leave_no_twin(tmp_path_factory: pytest.TempPathFactory, sim: Simulator,
                                              faults: list[tuple[int, str]]) -> None:
    root, key = _workspace(tmp_path_factory.mktemp("many"), sim)
    with Workspace.load(root) as ws:
        plan = ws.plan("dev")
        for after, fault in faults:
            sim.fail_next(1, fault, after=after)
        ws.apply(plan, parallelism=1)
        sim.clear_faults()  # faults the apply did not reach do not spill over
        _converge(ws)
        _check_no_twin_and_all_managed(ws, sim, key)


def test_recovery_finds_a_scenario_by_the_name_its_intent_recorded(tmp_path: Path, sim: Simulator) -> None:
    """The interrupted create had already set the display name, and DSS made an id that is not the YAML key's
    (DSS's id rule is not documented): the intent's name still finds it, so nothing is created again."""
    root, key = _workspace(tmp_path, sim)
    config = root / "projects" / "twins.yaml"
    full = PROJECT.replace("KEY", key).split("zones:")[0]
    config.write_text(full.split("scenarios:")[0])
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev")).ok
    config.write_text(full)
    with Workspace.load(root) as ws:
        made = sim.client().get_project(key).create_scenario("Nightly build", "step_based")
        assert made.id != "NIGHTLY"
        Journal(ws.state_store("dev")).intent(f"scenario.{key}.nightly", "scenario", "create", None,
                                              [f"project.{key}"], name="Nightly build")
        assert ws.recover("dev") == [f"scenario.{key}.nightly: created before the interruption, adopted"]
        assert ws.state("dev").resources[f"scenario.{key}.nightly"].remote_id == made.id
        assert ws.apply(ws.plan("dev")).ok
        assert [s["id"] for s in sim.client().get_project(key).list_scenarios()] == [made.id]
        assert ws.plan("dev").changes == []


def test_an_object_adopted_after_a_lost_reply_keeps_its_secrets_out_of_the_state(
        tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """The adopted object is recorded as DSS holds it, before the update that failed: the value the config read
    from the environment is sealed there too, in the state as in the journal."""
    secret = "s3cr3t-path-4f9a"
    monkeypatch.setenv("DATA_PATH", secret)
    key = f"TWIN{next(_keys)}"
    root = write_workspace(tmp_path, {"sealed": f"""\
        project: {{key: {key}, name: Sealed}}
        datasets:
          a: {{type: Filesystem, connection: filesystem_managed, params: {{path: "${{env:DATA_PATH}}"}}}}
        """}, workspace_yaml=f"""\
        version: 1
        projects: [projects/*.yaml]
        environments:
          dev: {{host: "{sim.base_url}", api_key: "{sim.api_key}"}}
        """)
    with Workspace.load(root) as ws:
        plan = ws.plan("dev")
        sim.reset_stats()
        sim.fail_next(1, "lost", "POST", after=1)  # the dataset's create: DSS makes it, the reply is lost
        sim.fail_next(2, "500", "PUT", after=1)  # the update of the adopted dataset, and its retry's
        result = ws.apply(plan, parallelism=1)
        assert [r.address for r in result.failed] == [f"dataset.{key}.a"] and sim.stats()["faults"] == 3
        assert ws.state("dev").resources[f"dataset.{key}.a"].remote_id == "a"  # adopted, not forgotten
    stored = "".join(p.read_text(errors="replace") for p in (root / ".dss-iac").rglob("*") if p.is_file())
    assert secret not in stored
