"""Objects made by hand in a managed project, through the CLI: `plan` and `drift` (text, JSON, Markdown) list
them with the import command, and that very command brings them under management."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from tests.engine.conftest import write_workspace

WORKSPACE = """\
version: 1
projects: [projects/*.yaml, projects/*.py]
environments:
  dev:
    host: embedded
    project_key: "{key}_DEV"
    remap: {connections: {storage: filesystem_managed}}
"""
PROJECT = """\
project:
  key: CHURN
  name: Churn
datasets:
  raw: {type: Filesystem, connection: storage, params: {path: /raw}}  # kept as written
"""


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def by_hand(root: Path, key: str = "CHURN_DEV") -> None:
    with Workspace.load(root) as ws:
        project = ws.connection("dev").client.get_project(key)
        project.create_fslike_dataset("by_hand", "Filesystem", "filesystem_managed", "/hand")
        project.create_managed_folder("notes", connection_name="filesystem_managed")


def state_addresses(root: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    capsys.readouterr()
    assert run(root, "state", "list", "-e", "dev") == 0
    return capsys.readouterr().out.split()


@pytest.fixture
def root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = write_workspace(tmp_path, {"churn": PROJECT}, workspace_yaml=WORKSPACE)
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    by_hand(root)
    capsys.readouterr()
    return root


def test_plan_and_drift_report_them_and_the_printed_command_imports_them(root: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # Not a change: plan's exit code stays 0; the report follows the plan.
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0
    out = capsys.readouterr().out
    assert out.startswith("No changes. DSS matches the configuration in environment dev.")
    section = out[out.index("Not managed:"):].splitlines()
    assert section[0] == ("Not managed: 2 object(s) in DSS are neither in the configuration nor in state (made by "
                          "hand); dss-iac never deletes them:")
    assert section[1] == "  ? dataset.CHURN_DEV.by_hand"
    assert section[2].startswith("  ? managed_folder.CHURN_DEV.notes (id ")
    assert section[3] == "      # to manage them: dss-iac import -e dev --project CHURN_DEV"
    assert run(root, "plan", "-e", "dev", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["format_version"] == 1
    assert [(u["address"], u["import"]) for u in plan["unmanaged"]] == [
        ("dataset.CHURN_DEV.by_hand", "dss-iac import -e dev --project CHURN_DEV"),
        ("managed_folder.CHURN_DEV.notes", "dss-iac import -e dev --project CHURN_DEV")]
    assert run(root, "plan", "-e", "dev", "--markdown") == 0
    assert "- `dataset.CHURN_DEV.by_hand` — import: `dss-iac import -e dev --project CHURN_DEV`" in \
        capsys.readouterr().out
    # Made by hand outside dss-iac: that is drift, for a CI check.
    assert run(root, "drift", "-e", "dev", "--detailed-exitcode") == 2
    out = capsys.readouterr().out
    assert out.startswith("Drift in environment dev: 2 object(s) not managed.\n\nNot managed: 2 object(s)")
    assert run(root, "drift", "-e", "dev", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["drifted"] == 0 and [u["name"] for u in report["unmanaged"]] == ["by_hand", "notes"]
    command = shlex.split(section[3].split(": ", 1)[1])
    assert command[0] == "dss-iac"
    assert run(root, *command[1:]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Added 2 object(s) of CHURN_DEV to ")
    text = (root / "projects" / "churn.yaml").read_text()
    assert "key: CHURN\n" in text and "# kept as written" in text and "  by_hand:\n" in text
    assert {"dataset.CHURN_DEV.by_hand", "managed_folder.CHURN_DEV.notes"} <= set(state_addresses(root, capsys))
    assert run(root, "drift", "-e", "dev", "--detailed-exitcode") == 0
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0
    assert "Not managed" not in capsys.readouterr().out


def test_a_saved_plan_keeps_the_report_and_applies(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "projects" / "churn.yaml").write_text(PROJECT.replace("/raw}", "/raw}, description: new"))
    assert run(root, "plan", "-e", "dev", "--out", "dev.plan") == 0
    saved = json.loads((root / "dev.plan").read_text())
    assert [u["address"] for u in saved["unmanaged"]] == ["dataset.CHURN_DEV.by_hand",
                                                          "managed_folder.CHURN_DEV.notes"]
    assert run(root, "apply", "dev.plan") == 0
    assert "Not managed: 2 object(s)" in capsys.readouterr().out
    # The field is optional: a plan file of format 1 saved before it existed still applies.
    (root / "projects" / "churn.yaml").write_text(PROJECT.replace("/raw}", "/raw}, description: newer"))
    assert run(root, "plan", "-e", "dev", "--out", "old.plan") == 0
    old = json.loads((root / "old.plan").read_text())
    del old["unmanaged"]
    (root / "old.plan").write_text(json.dumps(old))
    capsys.readouterr()
    assert run(root, "apply", "old.plan") == 0
    assert "Not managed" not in capsys.readouterr().out
    with Workspace.load(root) as ws:
        project = ws.connection("dev").client.get_project("CHURN_DEV")
        assert sorted(d["name"] for d in project.list_datasets()) == ["by_hand", "raw"]


def test_an_object_whose_typed_form_names_a_missing_object_is_added_as_its_document(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Workspace.load(root) as ws:
        scenario = ws.connection("dev").client.get_project("CHURN_DEV").create_scenario("watch", "step_based")
        settings = scenario.get_settings()
        # A step building a dataset the project does not have: its typed form would not validate.
        settings.raw_steps.append({"type": "build_flowitem", "params": {"builds": [{"type": "DATASET",
                                                                                    "itemId": "ghost"}]}})
        settings.save()
    assert run(root, "import", "-e", "dev", "--project", "CHURN", "--json") == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["passthrough"] == ["scenario.CHURN_DEV.watch"]
    assert report["reasons"] == {"scenario.CHURN_DEV.watch": "build step item 'ghost' names no dataset or managed "
                                                             "folder of project CHURN"}
    text = (root / "projects" / "churn.yaml").read_text()
    assert "# kept as written" in text and "passthrough:\n  scenarios:\n    watch:\n" in text
    assert "itemId: ghost" in text
    assert "scenario.CHURN_DEV.watch" in state_addresses(root, capsys)
    assert run(root, "validate") == 0
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out


def test_a_python_project_file_gets_an_honest_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = ('from dataiku_iac.dsl import Project, ProjectFile\n\n'
            'project = ProjectFile(project=Project(key="PY", name="Built by code"))\n')
    root = write_workspace(tmp_path, {}, workspace_yaml=WORKSPACE, files={"projects/py.py": code})
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    by_hand(root, "PY_DEV")
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--json") == 0
    hints = {(u["name"], u["import"], u["hint"]) for u in json.loads(capsys.readouterr().out)["unmanaged"]}
    assert hints == {(name, None, "declare it in projects/py.py (a Python project file, which import cannot edit)")
                     for name in ("by_hand", "notes")}
    assert run(root, "import", "-e", "dev", "--project", "PY_DEV") == 3
    assert "projects/py.py: project PY is declared in a Python project file, which import cannot edit" in \
        capsys.readouterr().err
    assert (root / "projects" / "py.py").read_text() == code


def test_objects_imported_into_a_declared_project_keep_their_secrets_out_of_the_file(
        root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "HAND-SECRET-6f2a90"
    with Workspace.load(root) as ws:
        project = ws.connection("dev").client.get_project("CHURN_DEV")
        project.create_fslike_dataset("ftp_in", "Filesystem", "filesystem_managed", "/in")
        settings = project.get_dataset("ftp_in").get_settings()
        settings.get_raw()["params"]["password"] = secret
        settings.save()
    assert run(root, "import", "-e", "dev", "--project", "CHURN_DEV") == 0
    out = capsys.readouterr()
    assert secret not in out.out + out.err
    assert "  CHURN_DATASETS_FTP_IN_PARAMS_PASSWORD  dataset.CHURN.ftp_in params.password" in out.out
    text = (root / "projects" / "churn.yaml").read_text()
    assert "password: '${env:CHURN_DATASETS_FTP_IN_PARAMS_PASSWORD}'" in text and secret not in text
    assert "# kept as written" in text
    state = (root / ".dss-iac" / "state" / "dev" / "state.json").read_text()
    assert secret not in state
    monkeypatch.setenv("CHURN_DATASETS_FTP_IN_PARAMS_PASSWORD", secret)
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
