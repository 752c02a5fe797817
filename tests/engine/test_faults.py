"""Faults on the way to DSS (500s, dropped connections, 429s): nothing is lost, the next run finishes."""

from __future__ import annotations

from pathlib import Path

from dataiku_iac import Workspace
from dataiku_iac.sim import Simulator
from tests.engine.conftest import write_workspace

PROJECT = """\
project: {key: FAULTY, name: Faulty, variables: {standard: {a: "1"}}}
datasets:
%s
managed_folders:
  out: {connection: filesystem_folders}
recipes:
  sync_0: {type: sync, inputs: [ds_0], outputs: [ds_1]}
  sync_2: {type: sync, inputs: [ds_2], outputs: [ds_3]}
scenarios:
  nightly: {triggers: [{type: temporal, frequency: Daily}], steps: [{type: build, items: [ds_3]}]}
zones:
  ingest: {items: [ds_5, ds_6]}
"""
DATASETS = "\n".join(f"  ds_{i}: {{type: Filesystem, connection: filesystem_managed, params: {{path: /f/{i}}}}}"
                     for i in range(12))


def test_applies_under_faults_converge_without_duplicates(tmp_path: Path) -> None:
    with Simulator(govern=False, automation_nodes=(), fault_rate=0.15, seed=42) as sim:
        root = write_workspace(tmp_path, {"faulty": PROJECT % DATASETS}, workspace_yaml=f"""\
            version: 1
            environments:
              dev: {{host: "{sim.base_url}", api_key: "{sim.api_key}"}}
            """)
        outcomes = []
        with Workspace.load(root) as ws:
            for _ in range(12):
                try:
                    plan = ws.plan("dev")
                except Exception as e:  # a refresh can still lose every retry: the next run tries again
                    outcomes.append(f"plan failed: {e}")
                    continue
                if not plan.has_changes:
                    break
                result = ws.apply(plan)
                outcomes.append(f"{len(result.succeeded)} ok, {len(result.failed)} failed, "
                                f"{len(result.skipped)} skipped")
            sim.configure(fault_rate=0.0)
            assert sim.stats()["faults"] > 0
            # The first apply did not get everything through; a later one finished the job.
            assert any(" 0 failed" not in o for o in outcomes), outcomes
            assert ws.plan("dev").changes == [], outcomes
            project = ws.connection("dev").client.get_project("FAULTY")
            assert sorted(d.name for d in project.list_datasets()) == sorted(f"ds_{i}" for i in range(12))
            assert [f["name"] for f in project.list_managed_folders()] == ["out"]
            assert sorted(r.name for r in project.list_recipes()) == ["sync_0", "sync_2"]
            assert len(project.list_scenarios()) == 1
            assert [z.name for z in project.get_flow().list_zones() if z.id != "default"] == ["ingest"]


def test_a_429_on_a_create_and_a_500_on_the_first_call_are_retried(tmp_path: Path) -> None:
    with Simulator(govern=False, automation_nodes=()) as sim:
        root = write_workspace(tmp_path, {"faulty": "project: {key: FAULTY, name: Faulty}\n"}, workspace_yaml=f"""\
            version: 1
            environments:
              dev: {{host: "{sim.base_url}", api_key: "{sim.api_key}"}}
            """)
        with Workspace.load(root) as ws:
            sim.fail_next(1, "500")  # the connection check: a read, so tried again
            plan = ws.plan("dev")
            sim.fail_next(2, "429", method="POST")  # the create (a POST): DSS processed nothing, so it is sent again
            assert ws.apply(plan).ok
        faulted = [(e["method"], e["path"], e["status"]) for e in sim.stats(with_log=True)["log"] if e["fault"]]
        assert faulted == [("GET", "/auth/info", 500), ("POST", "/projects/", 429), ("POST", "/projects/", 429)]
        assert sim.client().list_project_keys() == ["FAULTY"]
