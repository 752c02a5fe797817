"""`dss-iac import` never refuses a project: what the configuration has no typed form for is kept as its DSS
document (`passthrough:`) or listed as not managed, and the import says which."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dataikuapi.dss.recipe import DSSRecipeCreator

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
    """A project holding objects the typed configuration does not cover: a model's scoring recipe (dss-iac does not
    manage machine learning) and a folder whose name is not a config key."""
    project = client.create_project(key, "Uncovered", "admin")
    project.create_fslike_dataset("orders", "Filesystem", "filesystem_managed", "/orders")
    project.create_fslike_dataset("orders_scored", "Filesystem", "filesystem_managed", "/scored")
    scoring = DSSRecipeCreator("prediction_scoring", "by_customer", project)
    scoring.with_input("orders")
    scoring.with_output("orders_scored")
    scoring.create()
    settings = project.get_recipe("by_customer").get_settings()
    settings.set_json_payload({"keys": [{"column": "customer"}]})
    settings.save()
    scenario = project.create_scenario("refresh", "step_based").get_settings()
    scenario.raw_steps.append({"type": "exec_sql", "name": "vacuum", "params": {"sql": "VACUUM"}})
    scenario.save()  # typed (a SQL step): imported in the scenarios' section
    project.create_managed_folder("my notes")  # not a config key: left out, not managed


def test_import_keeps_uncovered_objects_as_documents_and_plans_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, WORKSPACE)
    with Workspace.load(root) as ws:
        build_uncovered(ws.connection("dev").client, "MIXED")
    assert run(root, "import", "-e", "dev", "--project", "MIXED") == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Kept as DSS documents" in out
    assert "recipe.MIXED.by_customer" in out and "scenario.MIXED.refresh" not in out.split("Kept as DSS")[1]
    assert "Not managed (left out of the file): 1\n  managed folder 'my notes': its name is not a valid config " \
           "key" in out
    text = (root / "projects" / "mixed.yaml").read_text()
    assert "passthrough:" in text and "type: prediction_scoring" in text and "sql: VACUUM" in text
    assert run(root, "validate") == 0, capsys.readouterr()
    # The project, its two datasets, the scoring recipe and the scenario.
    assert "1 project(s), 5 object(s)" in capsys.readouterr().out
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out


@pytest.mark.slow
def test_a_passthrough_object_drifts_is_adopted_and_reverted(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, WORKSPACE)
    with Workspace.load(root) as ws:
        client = ws.connection("dev").client
        build_uncovered(client, "DRIFTY")
    assert run(root, "import", "-e", "dev", "--project", "DRIFTY", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passthrough"] == ["recipe.DRIFTY.by_customer"]
    assert "dataset.DRIFTY.orders" in report["typed"] and len(report["not_managed"]) == 1
    # Changed by hand in DSS: a key of the scoring recipe's payload.
    settings = client.get_project("DRIFTY").get_recipe("by_customer").get_settings()
    payload = settings.get_json_payload()
    payload["keys"] = [{"column": "country"}]
    settings.set_json_payload(payload)
    settings.save()
    assert run(root, "drift", "-e", "dev", "--detailed-exitcode") == 2
    out = capsys.readouterr().out
    assert "recipe.DRIFTY.by_customer" in out and "passthrough.payload.keys" in out
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


@pytest.mark.slow
def test_passthrough_objects_deleted_in_dss_are_created_again_from_their_documents(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, WORKSPACE)
    with Workspace.load(root) as ws:
        client = ws.connection("dev").client
        build_uncovered(client, "AGAIN")
        project = client.get_project("AGAIN")
        project.create_dataset("feed", "CustomPython_acme-connector_feed", params={"endpoint": "orders"})
    assert run(root, "import", "-e", "dev", "--project", "AGAIN") == 0
    text = (root / "projects" / "again.yaml").read_text()
    before = {"payload": project.get_recipe("by_customer").get_settings().get_json_payload(),
              "feed": project.get_dataset("feed").get_settings().get_raw()["params"]}
    project.get_recipe("by_customer").delete()
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 2
    out = capsys.readouterr().out
    assert "# recipe.AGAIN.by_customer will be created" in out
    assert run(root, "apply", "-e", "dev", "--yes") == 0, capsys.readouterr().err
    assert project.get_recipe("by_customer").get_settings().get_json_payload() == before["payload"]
    assert project.get_dataset("feed").get_settings().get_raw()["params"] == before["feed"]
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
    assert (root / "projects" / "again.yaml").read_text() == text


def test_a_passthrough_section_written_by_hand_is_applied_and_plans_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = """\
        project: {key: HANDMADE, name: Hand made}
        datasets:
          orders: {type: Filesystem, connection: storage, params: {path: /orders}}
          orders_by_customer: {type: Filesystem, connection: storage, params: {path: /by_customer}}
        passthrough:
          datasets:
            feed:   # a dataset kept as its document
              type: CustomPython_acme-connector_feed
              managed: false
              params: {endpoint: orders}
              formatType: csv
              formatParams: {separator: ","}
          recipes:
            by_customer:
              recipe:
                type: grouping
                inputs: {main: {items: [{ref: orders}]}}
                outputs: {main: {items: [{ref: orders_by_customer}]}}
              payload: {keys: [{column: customer}], values: []}
        """
    root = write_workspace(tmp_path, {"handmade": project}, WORKSPACE)
    assert run(root, "apply", "-e", "dev", "--yes") == 0, capsys.readouterr().err
    with Workspace.load(root) as ws:
        dss = ws.connection("dev").client.get_project("HANDMADE")
        feed = dss.get_dataset("feed").get_settings().get_raw()
        recipe = dss.get_recipe("by_customer").get_settings()
    assert feed["type"] == "CustomPython_acme-connector_feed" and feed["params"] == {"endpoint": "orders"}
    assert recipe.type == "grouping" and recipe.get_json_payload()["keys"] == [{"column": "customer"}]
    # DSS filled in its defaults (the recipe's tags, description, engine params...): not what the file manages.
    assert "description" in recipe.get_recipe_raw_definition()
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
    # A change to the document is an update of that key only; DSS's own keys stay.
    path = root / "projects" / "handmade.yaml"
    path.write_text(path.read_text().replace("{column: customer}", "{column: country}"))
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 2
    out = capsys.readouterr().out
    assert "~ passthrough.payload.keys" in out and "passthrough.recipe" not in out
    assert run(root, "apply", "-e", "dev", "--yes") == 0, capsys.readouterr().err
    assert dss.get_recipe("by_customer").get_settings().get_json_payload()["keys"] == [{"column": "country"}]
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
