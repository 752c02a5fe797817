"""`dss-iac import` never refuses a project: what the configuration has no typed form for is kept as its DSS
document (`passthrough:`) or listed as not managed, and the import says which."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from tests.engine.conftest import write_workspace

WORKSPACE = """\
version: 1
environments:
  dev:
    host: embedded
    remap: {connections: {storage: filesystem_managed}}
"""


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def build_uncovered(client: Any, key: str) -> None:
    """A project holding one object of each kind the typed configuration does not cover today."""
    project = client.create_project(key, "Uncovered", "admin")
    project.create_fslike_dataset("orders", "Filesystem", "filesystem_managed", "/orders")
    grouping = project.new_recipe("grouping", "by_customer")
    grouping.with_input("orders")
    grouping.with_new_output("orders_by_customer", "filesystem_managed")
    grouping.with_group_key("customer")
    grouping.create()
    scenario = project.create_scenario("refresh", "step_based").get_settings()
    scenario.raw_steps.append({"type": "exec_sql", "name": "vacuum", "params": {"sql": "VACUUM"}})
    scenario.get_raw()["reporters"] = [{"messaging": {"type": "slack-scenario",
                                                      "configuration": {"message": "done"}}, "phase": "END"}]
    scenario.save()


def test_import_keeps_uncovered_objects_as_documents_and_plans_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, WORKSPACE)
    with Workspace.load(root) as ws:
        build_uncovered(ws.connection("dev").client, "MIXED")
    assert run(root, "import", "-e", "dev", "--project", "MIXED") == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Kept as DSS documents" in out
    assert "recipe.MIXED.by_customer" in out and "scenario.MIXED.refresh" in out
    text = (root / "projects" / "mixed.yaml").read_text()
    assert "passthrough:" in text and "type: grouping" in text
    assert run(root, "validate") == 0, capsys.readouterr()
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out


def test_a_passthrough_object_drifts_is_adopted_and_reverted(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, WORKSPACE)
    with Workspace.load(root) as ws:
        client = ws.connection("dev").client
        build_uncovered(client, "DRIFTY")
    assert run(root, "import", "-e", "dev", "--project", "DRIFTY", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passthrough"] == ["recipe.DRIFTY.by_customer", "scenario.DRIFTY.refresh"]
    assert "dataset.DRIFTY.orders" in report["typed"] and report["not_managed"] == []
    # Changed by hand in DSS: the grouping key, and the SQL of the scenario's step.
    settings = client.get_project("DRIFTY").get_recipe("by_customer").get_settings()
    payload = settings.get_json_payload()
    payload["keys"] = [{"column": "country"}]
    settings.set_json_payload(payload)
    settings.save()
    scenario = client.get_project("DRIFTY").get_scenario("REFRESH").get_settings()
    scenario.raw_steps[0]["params"]["sql"] = "ANALYZE"
    scenario.save()
    assert run(root, "drift", "-e", "dev", "--detailed-exitcode") == 2
    out = capsys.readouterr().out
    assert "recipe.DRIFTY.by_customer" in out and "passthrough.payload.keys" in out
    assert "scenario.DRIFTY.refresh" in out and "passthrough.params.steps" in out
    # Revert: apply writes the documents of the configuration back.
    assert run(root, "apply", "-e", "dev", "--yes") == 0, capsys.readouterr().err
    capsys.readouterr()
    assert client.get_project("DRIFTY").get_recipe("by_customer").get_settings().get_json_payload()["keys"] == [
        {"column": "customer"}]
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
    # Changed again, then adopted: the file takes DSS's values, and nothing is left to plan.
    settings = client.get_project("DRIFTY").get_recipe("by_customer").get_settings()
    payload = settings.get_json_payload()
    payload["keys"] = [{"column": "country"}]
    settings.set_json_payload(payload)
    settings.save()
    with Workspace.load(root) as ws:
        (item,) = [i for i in ws.drift("dev").items if i.address == "recipe.DRIFTY.by_customer"]
        edits = ws.adopt("dev", item)
    assert [e.keys for e in edits] == [("payload", "keys")]
    text = (root / "projects" / "drifty.yaml").read_text()
    assert "column: country" in text and "column: customer" not in text
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
