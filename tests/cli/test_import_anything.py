"""`dss-iac import` never refuses a project: projects built in DSS through dataikuapi's builders, with random
objects of types the configuration covers and of types it does not (visual and code recipes of every builder,
scenario steps and triggers of any type, reporters, datasets of plugin and unusual types), import with exit 0 to
a file that validates, and plan to nothing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac import ActionType, Workspace
from dataiku_iac.cli.main import main
from tests.engine.conftest import write_workspace

WORKSPACE = """\
version: 1
environments:
  dev:
    host: embedded
    remap: {connections: {storage: filesystem_managed}}
"""
# Every type `project.new_recipe` has a builder for (DSSProject.new_recipe), the simulator's defaults for each.
RECIPE_TYPES = ["cpython", "distinct", "grouping", "join", "ksql", "pivot", "pyspark", "python", "r", "sampling",
                "shaker", "shell", "sort", "spark_scala", "spark_sql_query", "sparkr", "split", "sql_query",
                "sql_script", "streaming_spark_scala", "sync", "topn", "upsert", "vstack", "window"]
STEP_TYPES = ["build_flowitem", "exec_sql", "custom_python", "set_project_vars", "compute_metrics", "run_checks",
              "runnable", "send_report", "run_scenario", "update_statistics", "clear_items"]
TRIGGER_TYPES = ["temporal", "ds_modified", "sql_query", "follow_scenariorun", "custom_python"]
DATASET_TYPES = ["Filesystem", "CustomPython_acme-connector_orders", "UploadedFiles", "Inline", "HTTP"]
REPORTERS = [{"messaging": {"type": "mail-scenario", "configuration": {"recipient": "team@example.com"}},
              "phase": "END"},
             {"messaging": {"type": "msft-teams-scenario", "configuration": {"message": "done"}}, "phase": "START"}]

projects = st.fixed_dictionaries({
    "recipes": st.lists(st.sampled_from(RECIPE_TYPES), max_size=5),
    "scenarios": st.lists(st.fixed_dictionaries({
        "steps": st.lists(st.sampled_from(STEP_TYPES), max_size=3),
        "triggers": st.lists(st.sampled_from(TRIGGER_TYPES), max_size=2),
        "reporters": st.lists(st.sampled_from(range(len(REPORTERS))), max_size=2)}), max_size=2),
    "datasets": st.lists(st.sampled_from(DATASET_TYPES), max_size=3),
    "zoned": st.lists(st.booleans(), max_size=5),  # which recipes (with their outputs) go to a flow zone
})
_keys = itertools.count()


def build(client: Any, key: str, spec: dict[str, Any]) -> None:
    """The project `spec` describes, made as a user makes it: through dataikuapi's builders and settings."""
    project = client.create_project(key, key, "admin")
    project.create_fslike_dataset("src", "Filesystem", "filesystem_managed", "/src")
    for i, dtype in enumerate(spec["datasets"]):
        project.create_dataset(f"ds{i}", dtype, params={"path": f"/ds{i}", "custom": {"knob": i}})
    for i, rtype in enumerate(spec["recipes"]):
        project.create_fslike_dataset(f"out{i}", "Filesystem", "filesystem_managed", f"/out{i}")
        creator = project.new_recipe(rtype, f"r{i}")
        creator.with_input("src")
        creator.with_output(f"out{i}")
        if hasattr(creator, "with_script"):
            creator.with_script(f"# recipe {i}\n")
        creator.create()
    zoned = [f"r{i}" for i, z in enumerate(spec["zoned"][:len(spec["recipes"])]) if z]
    if zoned:
        zone = project.get_flow().create_zone("work")
        for name in zoned:
            zone.add_item(project.get_recipe(name))
    for i, scenario in enumerate(spec["scenarios"]):
        settings = project.create_scenario(f"s{i}", "step_based").get_settings()
        for j, stype in enumerate(scenario["steps"]):
            params: dict[str, Any] = {"builds": [{"type": "DATASET", "itemId": "src"}], "jobType": "RECURSIVE_BUILD"} \
                if stype == "build_flowitem" else {"note": f"step {j}"}
            settings.raw_steps.append({"type": stype, "name": f"step {j}", "params": params})
        for ttype in scenario["triggers"]:
            params = {"frequency": "Daily", "hour": 3} if ttype == "temporal" else \
                {"watches": [{"type": "DATASET", "projectKey": key, "itemId": "src"}]} if ttype == "ds_modified" \
                else {"query": "SELECT 1"}
            settings.raw_triggers.append({"type": ttype, "active": True, "params": params})
        settings.get_raw()["reporters"] = [REPORTERS[r] for r in scenario["reporters"]]
        settings.save()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workspace(tmp_path_factory.mktemp("anything"), {}, WORKSPACE)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=projects)
def test_any_project_imports_validates_and_plans_empty(workspace: Path, spec: dict[str, Any],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    key = f"ANY{next(_keys)}"
    with Workspace.load(workspace) as ws:
        build(ws.connection("dev").client, key, spec)
    capsys.readouterr()
    assert main(["-C", str(workspace), "import", "-e", "dev", "--project", key, "--json"]) == 0, \
        capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["not_managed"] == []
    # Every object is in the file: typed, or kept as its document.
    names = {a.split(".", 2)[2] for a in [*report["typed"], *report["passthrough"]]
             if a.count(".") == 2 and not a.startswith("zone.")}
    wanted = {"src", *(f"ds{i}" for i in range(len(spec["datasets"]))),
              *(f"out{i}" for i in range(len(spec["recipes"]))), *(f"r{i}" for i in range(len(spec["recipes"]))),
              *(f"s{i}" for i in range(len(spec["scenarios"])))}
    assert names == wanted
    assert any(a.startswith("zone.") for a in report["typed"]) == any(spec["zoned"][:len(spec["recipes"])])
    assert main(["-C", str(workspace), "validate"]) == 0, capsys.readouterr()
    with Workspace.load(workspace) as ws:
        plan = ws.plan("dev", targets=[f"project.{key}"])
    assert [(str(a.address), a.reason) for a in plan.actions if a.action is not ActionType.NOOP] == []
    assert plan.unmanaged == ()
