"""Issue 14's "done when": a project built in DSS through dataikuapi's builders with every recipe type, scenario step,
trigger and reporter type the configuration covers, plus references to objects the workspace does not hold (a step
building a dataset that is gone, a trigger on one, a scenario that follows a missing one, recipes reading a
project the workspace does not declare), imports with exit 0 to a file that validates, and plans to nothing once
the reporters' secrets are in the environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dataikuapi.dss.recipe import DSSRecipeCreator

from dataiku_iac.cli.main import main
from dataiku_iac.resources.scenario_models import TYPED_DSS_REPORTERS, TYPED_DSS_STEPS, TYPED_DSS_TRIGGERS
from tests.cli.test_import_anything import RECIPE_TYPES
from tests.engine.conftest import write_workspace

WORKSPACE = """\
version: 1
environments:
  dev:
    host: embedded
    remap: {connections: {storage: filesystem_managed}}
"""
KEY = "FULL"
FLOW = [{"type": "DATASET", "projectKey": KEY, "itemId": "src"}]
# Each typed DSS step type with the params a user gives it in the scenario screen.
STEP_PARAMS: dict[str, dict[str, Any]] = {
    "build_flowitem": {"builds": FLOW, "jobType": "RECURSIVE_BUILD"},
    "clear_items": {"items": FLOW},
    "run_scenario": {"projectKey": KEY, "scenarioId": "TRIGGERED"},
    "custom_python": {"script": "print('step')\n", "envSelection": {"envMode": "INHERIT"}},
    "exec_sql": {"connection": "filesystem_managed", "sql": "SELECT 1"},
    "set_project_vars": {"variables": {"day": "monday"}},
    "set_global_vars": {"variables": {"run": 1}},
    "compute_metrics": {"computes": FLOW},
    "check_dataset": {"checks": FLOW},
    "update_statistics": {"datasets": FLOW},
}
TRIGGER_PARAMS: dict[str, dict[str, Any]] = {
    "temporal": {"frequency": "Weekly", "hour": 4, "minute": 30, "daysOfWeek": ["Monday", "Friday"]},
    "ds_modified": {"watches": FLOW},
    "sql_query": {"connection": "filesystem_managed", "sql": "SELECT max(ts) FROM t"},
    "follow_scenariorun": {"projectKey": KEY, "scenarioId": "EVERY_STEP"},
    "custom_python": {"code": "t.fire()\n", "envSelection": {"envMode": "INHERIT"}},
}
SECRETS = {"slack-scenario": ("webhookUrl", "https://hooks.slack.com/services/T0/B0/SECRET1"),
           "msft-teams-scenario": ("webhookUrl", "https://acme.webhook.office.com/SECRET2"),
           "webhook-scenario": ("url", "https://hooks.example.com/SECRET3"),
           "mail-scenario": ("password", "SECRET4")}
REPORTERS = [{"name": f"to {t}", "phase": "END", "messaging": {"type": t, "configuration": {
    key: value, **({"recipient": "team@example.com"} if t == "mail-scenario" else {"message": "done"})}}}
             for t, (key, value) in SECRETS.items()]


def build(client: Any) -> None:
    """The project, made as a user makes it: dataikuapi's recipe builders and scenario settings."""
    other = client.create_project("ELSEWHERE", "Not in the workspace", "admin")
    other.create_fslike_dataset("shared", "Filesystem", "filesystem_managed", "/shared")
    docs = other.create_managed_folder("docs", connection_name="filesystem_managed")
    project = client.create_project(KEY, "Every type", "admin")
    project.create_fslike_dataset("src", "Filesystem", "filesystem_managed", "/src")
    for rtype in RECIPE_TYPES:
        project.create_fslike_dataset(f"{rtype}_out", "Filesystem", "filesystem_managed", f"/{rtype}")
        creator = project.new_recipe(rtype, f"{rtype}_recipe")
        creator.with_input("src")
        creator.with_output(f"{rtype}_out")
        if hasattr(creator, "with_script"):
            creator.with_script(f"# {rtype}\n")
        creator.create()
    # Reading a project the workspace does not declare: a dataset, and a managed folder (by its id).
    project.create_fslike_dataset("pulled", "Filesystem", "filesystem_managed", "/pulled")
    pull = project.new_recipe("sync", "pull_shared")
    pull.with_input("shared", project_key="ELSEWHERE")
    pull.with_output("pulled")
    pull.create()
    project.create_fslike_dataset("from_docs", "Filesystem", "filesystem_managed", "/from_docs")
    read_docs = DSSRecipeCreator("python", "read_docs", project)
    read_docs.with_input(docs.id, project_key="ELSEWHERE")
    read_docs.with_output("from_docs")
    read_docs.create()

    steps = project.create_scenario("every_step", "step_based").get_settings()
    steps.raw_steps.extend({"type": t, "name": f"{t} step", "params": p} for t, p in STEP_PARAMS.items())
    steps.get_raw()["reporters"] = REPORTERS
    steps.save()
    triggered = project.create_scenario("triggered", "step_based").get_settings()
    triggered.raw_triggers.extend({"type": t, "active": True, "params": p} for t, p in TRIGGER_PARAMS.items())
    triggered.save()
    script = project.create_scenario("scripted", "custom_python")
    script_settings = script.get_settings()
    script_settings.code = "from dataiku.scenario import Scenario\nScenario().build_dataset('src')\n"
    script_settings.save()
    # What names objects the workspace does not hold.
    broken = project.create_scenario("broken", "step_based").get_settings()
    broken.raw_steps.append({"type": "build_flowitem", "name": "gone", "params": {
        "builds": [{"type": "DATASET", "projectKey": KEY, "itemId": "ghost"}], "jobType": "RECURSIVE_BUILD"}})
    broken.raw_triggers.append({"type": "ds_modified", "active": True, "params": {
        "watches": [{"type": "DATASET", "projectKey": KEY, "itemId": "ghost_too"}]}})
    broken.save()
    follows = project.create_scenario("follows_nothing", "step_based").get_settings()
    follows.raw_triggers.append({"type": "follow_scenariorun", "active": True,
                                 "params": {"projectKey": KEY, "scenarioId": "NO_SUCH"}})
    follows.save()


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


@pytest.mark.slow
def test_a_project_of_every_type_imports_validates_and_plans_empty(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from dataiku_iac import Workspace

    root = write_workspace(tmp_path, {}, WORKSPACE)
    with Workspace.load(root) as ws:
        build(ws.connection("dev").client)
    assert run(root, "import", "-e", "dev", "--project", KEY, "--json") == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["not_managed"] == []
    typed, documents = set(report["typed"]), set(report["passthrough"])
    # Every recipe type, step, trigger and reporter type is written typed...
    assert {f"recipe.{KEY}.{t}_recipe" for t in RECIPE_TYPES} <= typed
    assert {f"scenario.{KEY}.{s}" for s in ("every_step", "triggered", "scripted")} <= typed
    # ...and what names an object the workspace does not hold is kept as its document, saying why.
    assert report["reasons"] == {
        f"scenario.{KEY}.broken": "build step item 'ghost' names no dataset or managed folder of project FULL",
        f"scenario.{KEY}.follows_nothing": "'no_such' names no scenario of project FULL (another project's: "
                                           "PROJECT.ID)",
        f"recipe.{KEY}.pull_shared": "recipe input 'ELSEWHERE.shared': project ELSEWHERE is not in this "
                                     "workspace",
        # A folder of another project is named by its name, as that project's file would name it.
        f"recipe.{KEY}.read_docs": "recipe input 'ELSEWHERE.docs': project ELSEWHERE is not in this workspace"}, \
        report["reasons"]
    assert documents >= set(report["reasons"])
    text = (root / "projects" / "full.yaml").read_text()
    for dss_type, ytype in [*TYPED_DSS_STEPS.items(), *TYPED_DSS_TRIGGERS.items(), *TYPED_DSS_REPORTERS.items()]:
        assert f"type: {ytype}\n" in text, (dss_type, ytype)
    for _, value in SECRETS.values():
        assert value not in text
    assert run(root, "validate") == 0, capsys.readouterr()
    # Unset, the reporters' secrets are named; set to what DSS holds, the plan is empty.
    assert run(root, "plan", "-e", "dev") == 3
    assert "environment variable FULL_SCENARIOS_EVERY_STEP_REPORTERS_0_WEBHOOK_URL is not set" in \
        capsys.readouterr().err
    assert len(report["secrets"]) == len(SECRETS)
    for i, (_, value) in enumerate(SECRETS.values()):
        secret = report["secrets"][i]
        assert secret["where"].startswith(f"scenario.{KEY}.every_step reporters.{i}.") and secret["shown"]
        monkeypatch.setenv(secret["name"], value)
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
    assert run(root, "drift", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
