"""Both examples, end to end through the CLI on the embedded simulator, as a user would run them."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = [("simple-project", "churn.yaml", "CHURN", "customers_raw", "storage"),
         ("ml-pipeline", "features.yaml", "FEATURES", "web_events_raw", "lake")]


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def edit(path: Path, change: Any) -> None:
    """Edit a project file the way a user would: in place, comments kept."""
    yaml = YAML()
    doc = yaml.load(path.read_text())
    change(doc)
    out = StringIO()
    yaml.dump(doc, out)
    path.write_text(out.getvalue())


def planned(root: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str, list[str]]]:
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    return [(a["action"], a["address"], [c["path"] for c in a["changes"]]) for a in plan["actions"]
            if a["action"] != "no-op"]


def dataset_raw(root: Path, key: str, name: str) -> Any:
    with Workspace.load(root) as ws:
        return ws.connection("dev").client.get_project(key).get_dataset(name).get_settings().get_raw()


@pytest.mark.parametrize(("example", "file", "key", "dataset", "connection"), CASES)
def test_example_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str], example: str, file: str, key: str,
                           dataset: str, connection: str) -> None:
    root = tmp_path / example
    shutil.copytree(EXAMPLES / example, root)
    project_file = root / "projects" / file
    # Fresh apply, then nothing left to do.
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    assert planned(root, capsys) == []

    # One field changed in Git: exactly one update, naming it.
    edit(project_file, lambda d: d["datasets"][dataset]["params"].__setitem__("path", "/moved"))
    assert planned(root, capsys) == [("update", f"dataset.{key}.{dataset}", ["params.path"])]
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    assert dataset_raw(root, key, dataset)["params"]["path"] == "/moved"

    # A field dss-iac does not model survives its updates.
    with Workspace.load(root) as ws:
        settings = ws.connection("dev").client.get_project(key).get_dataset(dataset).get_settings()
        settings.get_raw()["customFields"] = {"sentinel": "kept"}
        settings.save()
    edit(project_file, lambda d: d["datasets"][dataset].__setitem__("description", "new words"))
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    raw = dataset_raw(root, key, dataset)
    assert raw["description"] == "new words" and raw["customFields"] == {"sentinel": "kept"}

    # An edit in DSS is drift, and the next apply restores the configuration.
    with Workspace.load(root) as ws:
        settings = ws.connection("dev").client.get_project(key).get_dataset(dataset).get_settings()
        settings.get_raw()["description"] = "clicked in the UI"
        settings.save()
    capsys.readouterr()
    assert run(root, "drift", "-e", "dev", "--json", "--detailed-exitcode") == 2
    report = json.loads(capsys.readouterr().out)
    assert [(i["address"], [c["path"] for c in i["changes"]]) for i in report["items"]] == [
        (f"dataset.{key}.{dataset}", ["description"])]
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    assert dataset_raw(root, key, dataset)["description"] == "new words"
    assert run(root, "drift", "-e", "dev", "--detailed-exitcode") == 0

    # A dataset removed from the configuration is deleted from DSS.
    scratch = {"type": "Filesystem", "connection": connection, "params": {"path": "/scratch"}}
    edit(project_file, lambda d: d["datasets"].__setitem__("scratch", scratch))
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    edit(project_file, lambda d: d["datasets"].pop("scratch"))
    assert [(a, addr) for a, addr, _ in planned(root, capsys)] == [("delete", f"dataset.{key}.scratch")]
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    with Workspace.load(root) as ws:
        names = [d.name for d in ws.connection("dev").client.get_project(key).list_datasets()]
    assert "scratch" not in names and dataset in names
    assert planned(root, capsys) == []
