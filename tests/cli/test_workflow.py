"""The daily loop through the CLI: plan, apply, re-plan, drift, saved plans, state, destroy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataiku_iac.cli.main import main
from tests.engine.conftest import write_workspace

PROJECT = """\
project:
  key: CHURN
  name: Churn
  tags: [ml]
  variables: {standard: {threshold: "0.5"}}
"""


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_workspace(tmp_path, {"churn": PROJECT})


def test_plan_apply_replan(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "plan", "-e", "dev", "--detailed-exitcode") == 2
    out = capsys.readouterr().out
    assert '  + project "CHURN" {' in out
    assert out.rstrip().endswith("Plan: 2 to add, 0 to change, 0 to destroy.")
    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    assert capsys.readouterr().out.rstrip().endswith("Apply complete! Resources: 2 added, 0 changed, 0 destroyed.")
    assert run(ws, "plan", "-e", "dev", "--detailed-exitcode") == 0
    assert "No changes." in capsys.readouterr().out


def test_apply_refuses_without_a_terminal(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "apply", "-e", "dev") == 6
    assert "refusing to apply without confirmation" in capsys.readouterr().err
    assert run(ws, "state", "list", "-e", "dev") == 0
    assert capsys.readouterr().out == ""  # nothing applied


def test_plan_json_is_versioned_and_parseable(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "plan", "-e", "dev", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["format_version"] == 1
    assert plan["summary"] == {"add": 2, "change": 0, "destroy": 0}
    assert [a["address"] for a in plan["actions"]] == ["project.CHURN", "variables.CHURN"]


def test_markdown_plan_for_pull_requests(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "plan", "-e", "dev", "--markdown") == 0
    md = capsys.readouterr().out
    assert "**Plan: 2 to add, 0 to change, 0 to destroy.**" in md
    assert "| 🆕 create | `project.CHURN` | not in DSS |" in md
    assert '```diff\n+ name = "Churn"' in md or '+ name = "Churn"' in md.split("```diff", 2)[1]


def test_saved_plan_applies_exactly_and_goes_stale(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "plan", "-e", "dev", "--out", "dev.plan") == 0
    assert run(ws, "plan", "-e", "dev", "--out", "again.plan") == 0
    assert run(ws, "apply", "dev.plan") == 0
    assert "Apply complete! Resources: 2 added" in capsys.readouterr().out
    # The state moved on: the second plan was made against the old state.
    assert run(ws, "apply", "again.plan") == 5
    assert "the plan is stale" in capsys.readouterr().err


def test_saved_plan_is_stale_when_the_config_changed(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "plan", "-e", "dev", "--out", "dev.plan") == 0
    (ws / "projects" / "churn.yaml").write_text(PROJECT.replace("name: Churn", "name: Churn v2"))
    assert run(ws, "apply", "dev.plan") == 5
    assert "configuration changed" in capsys.readouterr().err


def test_a_plan_file_that_is_not_one(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ws / "junk.plan").write_text("{not json")
    assert run(ws, "apply", "junk.plan") == 1
    assert "is not a dss-iac plan file" in capsys.readouterr().err


def test_a_saved_plan_recording_an_object_without_its_dss_id_is_refused(
        ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "plan", "-e", "dev", "--out", "dev.plan") == 0
    doc = json.loads((ws / "dev.plan").read_text())
    doc["actions"][0].update(record_only=True, remote_id=None)  # hand-edited: nothing says where DSS holds it
    (ws / "dev.plan").write_text(json.dumps(doc))
    assert run(ws, "apply", "dev.plan") == 1
    err = capsys.readouterr().err
    assert "not a dss-iac plan file (missing or invalid remote_id of project.CHURN" in err
    assert run(ws, "state", "list", "-e", "dev") == 0
    assert "CHURN" not in capsys.readouterr().out  # nothing recorded
    (ws / "future.plan").write_text(json.dumps({"format_version": 99}))
    assert run(ws, "apply", "future.plan") == 1
    assert "format_version 99 is not supported" in capsys.readouterr().err


def test_drift_then_restore(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dataiku_iac import Workspace

    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    with Workspace.load(ws) as w:
        w.connection("dev").client.get_project("CHURN").update_variables({"threshold": "0.9"})
    capsys.readouterr()
    assert run(ws, "drift", "-e", "dev", "--detailed-exitcode") == 2
    out = capsys.readouterr().out
    assert "1 of 2 resources changed outside dss-iac" in out
    assert '~ standard.threshold = "0.5" -> "0.9"' in out
    assert run(ws, "drift", "-e", "dev", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"][0]["address"] == "variables.CHURN"
    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    assert run(ws, "drift", "-e", "dev", "--detailed-exitcode") == 0


def test_state_commands(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    capsys.readouterr()
    assert run(ws, "state", "list", "-e", "dev") == 0
    assert capsys.readouterr().out.split() == ["project.CHURN", "variables.CHURN"]
    assert run(ws, "state", "show", "-e", "dev", "variables.CHURN", "--json") == 0
    assert json.loads(capsys.readouterr().out)["fields"]["standard"] == {"threshold": "0.5"}
    assert run(ws, "state", "rm", "-e", "dev", "variables.CHURN") == 0
    capsys.readouterr()
    assert run(ws, "state", "show", "-e", "dev", "variables.CHURN") == 1
    assert "is not in the state" in capsys.readouterr().err
    # Forgotten, not deleted: the next plan adopts what DSS holds.
    assert run(ws, "plan", "-e", "dev") == 0
    assert "exists in DSS but not in state: adopted" not in capsys.readouterr().out  # same values: no-op


def test_destroy(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dataiku_iac import Workspace

    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    assert run(ws, "destroy", "-e", "dev", "--yes") == 0
    out = capsys.readouterr().out
    assert "dss-iac will destroy everything dss-iac manages in environment dev" in out
    assert "Resources: 0 added, 0 changed, 2 destroyed." in out
    with Workspace.load(ws) as w:
        assert "CHURN" not in w.connection("dev").client.list_project_keys()


def test_lock_held_by_another_run(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dataiku_iac.state.blobs import LocalBlobStore
    from dataiku_iac.state.lease import Leases

    leases = Leases(LocalBlobStore(ws / ".dss-iac" / "state"), "dev/lock.json", "dev")
    lock = leases.acquire("apply")  # held by this live process
    assert run(ws, "apply", "-e", "dev", "--yes") == 4
    err = capsys.readouterr().err
    assert f"lock {lock.id} held by" in err and f"dss-iac state unlock -e dev {lock.id}" in err
    assert err.count("\n") == 1  # one line
    assert run(ws, "state", "unlock", "-e", "dev", lock.id) == 4  # its holder is alive: not without --force
    assert "--force" in capsys.readouterr().err
    assert run(ws, "state", "unlock", "-e", "dev", lock.id, "--force") == 0
    assert run(ws, "apply", "-e", "dev", "--yes") == 0


def test_no_color_and_piped_output_have_no_escapes(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "plan", "-e", "dev") == 0
    assert "\x1b[" not in capsys.readouterr().out


def test_protected_environment_refuses_deletions_without_the_flag(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    protected = "version: 1\nenvironments:\n  dev: {host: embedded, protected: true}\n"
    ws = write_workspace(tmp_path, {"churn": PROJECT}, workspace_yaml=protected)
    assert run(ws, "apply", "-e", "dev", "--yes") == 0  # creating is fine
    capsys.readouterr()
    assert run(ws, "destroy", "-e", "dev", "--yes") == 6
    assert "environment dev is protected and the plan deletes or replaces 2 resource(s)" in capsys.readouterr().err
    assert run(ws, "destroy", "-e", "dev", "--yes", "--allow-delete") == 0


@pytest.mark.parametrize("example", ["simple-project", "ml-pipeline", "python-dsl"])
def test_init_then_apply_an_example(tmp_path: Path, capsys: pytest.CaptureFixture[str], example: str) -> None:
    target = tmp_path / "repo"
    assert main(["-C", str(tmp_path), "init", "repo", "--example", example]) == 0
    assert "Created a workspace" in capsys.readouterr().out
    assert (target / "dss-iac.yaml").exists() and (target / ".gitignore").read_text().count(".dss-iac/") == 1
    assert main(["-C", str(tmp_path), "init", "repo"]) == 1  # never overwrites
    assert "already exists" in capsys.readouterr().err
    assert run(target, "apply", "-e", "dev", "--yes") == 0
    assert run(target, "plan", "-e", "dev", "--detailed-exitcode") == 0


def test_demo_runs_the_daily_loop(tmp_path: Path) -> None:
    import subprocess
    import sys

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo.py"
    proc = subprocess.run([sys.executable, str(demo)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for step in ("$ dss-iac validate", "$ dss-iac apply -e dev --yes", "$ dss-iac drift -e dev"):
        assert step in out
    assert "Apply complete! Resources: 11 added" in out
    assert '~ standard.threshold = "0.4" -> "0.99"' in out
    assert "Apply complete! Resources: 0 added, 2 changed, 0 destroyed." in out
    # The tests pass, then a broken change is caught before any promotion (exit 7), at its place.
    assert "Tests passed: 5 passed, 0 failed" in out
    assert "  FAIL  flow.unbuilt-input recipe report_customers  projects/churn.yaml:" in out
    assert "`dss-iac test` exited 7 (tests failed)" in out
    assert out.rstrip().endswith("DSS matches it again.")
    assert "Traceback" not in proc.stderr


def test_saved_plan_is_stale_when_dss_changed(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dataiku_iac import Workspace

    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    (ws / "projects" / "churn.yaml").write_text(PROJECT.replace("name: Churn", "name: Churn v2"))
    assert run(ws, "plan", "-e", "dev", "--out", "dev.plan") == 0
    with Workspace.load(ws) as w:  # someone changes DSS between review and apply
        w.connection("dev").client.get_project("CHURN").update_variables({"threshold": "0.7"})
    capsys.readouterr()
    assert run(ws, "apply", "dev.plan") == 5
    assert "objects it read in DSS have changed" in capsys.readouterr().err


def test_saved_plan_made_without_state_goes_stale_once_state_exists(ws: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "plan", "-e", "dev", "--out", "first.plan") == 0
    assert run(ws, "apply", "-e", "dev", "--yes") == 0  # another run created the state meanwhile
    capsys.readouterr()
    assert run(ws, "apply", "first.plan") == 5
    assert "the plan is stale" in capsys.readouterr().err


def test_objects_found_as_configured_after_a_lost_state_are_recorded_then_destroyed(
        ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    shutil.rmtree(ws / ".dss-iac" / "state")  # the state is lost; DSS still holds everything
    capsys.readouterr()
    assert run(ws, "plan", "-e", "dev", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["summary"] == {"add": 0, "change": 0, "destroy": 0}
    assert sorted(a["address"] for a in plan["actions"] if a["record_only"]) == ["project.CHURN", "variables.CHURN"]
    assert run(ws, "plan", "-e", "dev") == 0
    assert "2 resource(s) already in DSS as configured but not in state" in capsys.readouterr().out
    assert run(ws, "apply", "-e", "dev") == 0  # no confirmation needed: DSS is not called
    captured = capsys.readouterr()
    assert "2 resource(s) found in DSS as configured were recorded in state" in captured.err
    assert run(ws, "state", "list", "-e", "dev") == 0
    assert capsys.readouterr().out.split() == ["project.CHURN", "variables.CHURN"]
    assert run(ws, "plan", "-e", "dev") == 0
    assert "not in state" not in capsys.readouterr().out
    # Managed again: destroy removes the project instead of leaving it an orphan.
    assert run(ws, "destroy", "-e", "dev", "--yes") == 0
    assert "Apply complete! Resources: 0 added, 0 changed, 2 destroyed." in capsys.readouterr().out


def test_destroy_keeps_a_project_holding_objects_made_by_hand(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from dataiku_iac import Workspace

    project = PROJECT + "datasets:\n  ours: {type: Filesystem, connection: filesystem_managed, params: {path: /o}}\n"
    root = write_workspace(tmp_path, {"churn": project})
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    with Workspace.load(root) as ws:
        ws.connection("dev").client.get_project("CHURN").create_dataset(
            "handmade", "Filesystem", params={"connection": "filesystem_managed", "path": "/h"})
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--destroy") == 0
    out = capsys.readouterr().out
    assert "# project.CHURN will be forgotten (kept in DSS, only forgotten: it holds what dss-iac does not manage " \
           "(dataset handmade))" in out
    assert '# dataset.CHURN.ours will be destroyed (removed from the config)' in out
    assert run(root, "plan", "-e", "dev", "--destroy", "--json") == 0
    actions = json.loads(capsys.readouterr().out)["actions"]
    forgotten = {a["address"]: a["forgotten_only"] for a in actions}
    assert forgotten["project.CHURN"] and not forgotten["dataset.CHURN.ours"]
    assert run(root, "destroy", "-e", "dev", "--yes") == 0
    with Workspace.load(root) as ws:
        client = ws.connection("dev").client
        assert client.list_project_keys() == ["CHURN"]
        assert [d["name"] for d in client.get_project("CHURN").list_datasets()] == ["handmade"]
        assert ws.state("dev").resources == {}


def test_a_bundle_environment_is_not_offered_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `mirror` reads the same DSS as dev but is deployed by promote: apply never runs there, so its plan
    # must not promise that apply records what it finds.
    root = write_workspace(tmp_path, {"churn": PROJECT}, workspace_yaml=(
        "version: 1\nenvironments:\n  dev: {host: embedded}\n  mirror: {host: embedded, deploy: bundle}\n"))
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    capsys.readouterr()
    assert run(root, "plan", "-e", "mirror", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert [a["address"] for a in plan["actions"]] == ["project.CHURN", "variables.CHURN"]
    assert not any(a["record_only"] for a in plan["actions"])
    assert run(root, "plan", "-e", "mirror") == 0
    assert "not in state" not in capsys.readouterr().out
