"""`dss-iac import`: a project built by hand in DSS round-trips to an empty plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from tests.engine.conftest import write_workspace

WORKSPACE = """\
version: 1
environments:
  dev:
    host: embedded
    remap: {connections: {storage: filesystem_managed, folders: filesystem_folders}}
"""
CODE = "import dataiku\n# clean the customers\nprint('hello')\n"


def build_by_hand(root: Path) -> None:
    with Workspace.load(root) as ws:
        client = ws.connection("dev").client
        project = client.create_project("HAND", "Made by hand", "admin", description="clicked together",
                                        tags=["legacy"])
        project.set_variables({"standard": {"threshold": "0.5"}, "local": {"scratch": "/tmp"}})
        perms = project.get_permissions()
        perms["permissions"] = [{"group": "data_team", "readProjectContent": True}]
        project.set_permissions(perms)
        project.create_fslike_dataset("raw", "Filesystem", "filesystem_managed", "/hand/raw")
        raw = project.get_dataset("raw").get_settings()
        raw.get_raw()["description"] = "landing files"
        raw.get_raw()["schema"]["columns"] = [{"name": "id", "type": "bigint"}]
        raw.save()
        builder = project.new_recipe("python", "clean")
        builder.with_input("raw")
        builder.with_new_output_dataset("cleaned", "filesystem_managed")
        builder.with_script(CODE)
        builder.create()
        sync = project.new_recipe("sync", "export")
        sync.with_input("cleaned")
        sync.with_new_output("exported", "filesystem_managed")
        sync.create()
        project.create_managed_folder("reports", connection_name="filesystem_folders")
        scenario = project.create_scenario("nightly", "step_based")
        settings = scenario.get_settings()
        settings.add_periodic_trigger(every_minutes=30)
        settings.raw_steps.append({"type": "build_flowitem", "name": "build",
                                   "params": {"builds": [{"type": "DATASET", "itemId": "exported"}],
                                              "jobType": "RECURSIVE_BUILD"}})
        settings.save()
        smoke = project.create_scenario("smoke", "step_based").get_settings()
        smoke.get_raw()["markedAsTest"] = True  # DSS's "marked as test"
        smoke.save()
        zone = project.get_flow().create_zone("ingest", color="#ff0000")
        zone.add_item(project.get_dataset("raw"))


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def test_import_round_trips_to_an_empty_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, workspace_yaml=WORKSPACE)
    build_by_hand(root)
    assert run(root, "import", "-e", "dev", "--project", "HAND") == 0
    out = capsys.readouterr().out
    assert "Imported HAND" in out and "projects/hand.yaml" in out
    text = (root / "projects" / "hand.yaml").read_text()
    assert "connection: storage" in text  # the environment's logical name, not filesystem_managed
    assert (root / "recipes" / "hand" / "clean.py").read_text() == CODE
    assert run(root, "validate") == 0
    with Workspace.load(root) as ws:
        scenarios = ws.config.projects["HAND"].spec.scenarios
    # A test scenario is imported as one (`dss-iac test -e` runs it); the others leave DSS's flag alone.
    assert scenarios["smoke"].test is True
    assert "test" not in scenarios["nightly"].model_fields_set
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
    assert "No changes." in capsys.readouterr().out
    assert run(root, "state", "list", "-e", "dev") == 0
    listed = capsys.readouterr().out.split()
    assert {"project.HAND", "dataset.HAND.raw", "recipe.HAND.clean", "managed_folder.HAND.reports",
            "scenario.HAND.nightly", "zone.HAND.ingest", "variables.HAND", "permissions.HAND"} <= set(listed)
    # From now on the file is the truth: an edit is exactly one update.
    (root / "projects" / "hand.yaml").write_text(text.replace("landing files", "landing zone files"))
    assert run(root, "plan", "-e", "dev", "--json") == 0
    import json

    plan = json.loads(capsys.readouterr().out)
    changed = [(a["address"], [c["path"] for c in a["changes"]]) for a in plan["actions"] if a["action"] != "no-op"]
    assert changed == [("dataset.HAND.raw", ["description"])]


def test_import_refuses_what_it_cannot_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, workspace_yaml=WORKSPACE)
    assert run(root, "import", "-e", "dev", "--project", "NOPE") == 1
    assert "cannot import NOPE" in capsys.readouterr().err
    build_by_hand(root)
    assert run(root, "import", "-e", "dev", "--project", "HAND", "--file", "elsewhere/hand.yaml") == 3
    assert "not matched by the project globs" in capsys.readouterr().err
    assert not (root / "elsewhere").exists()
    assert run(root, "import", "-e", "dev", "--project", "HAND") == 0
    text = (root / "projects" / "hand.yaml").read_text()
    capsys.readouterr()
    # Declared now: import only adds what dss-iac does not manage, here nothing; a new file is refused.
    assert run(root, "import", "-e", "dev", "--project", "HAND") == 0
    assert "Nothing to import: dss-iac manages everything project HAND holds in DSS." in capsys.readouterr().out
    assert run(root, "import", "-e", "dev", "--project", "HAND", "--file", "projects/other.yaml") == 3
    assert "already declared in projects/hand.yaml" in capsys.readouterr().err
    assert (root / "projects" / "hand.yaml").read_text() == text and not (root / "projects" / "other.yaml").exists()


def test_shared_connections_import_under_a_mapped_name_and_custom_metadata_of_any_json_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `warehouse` and `storage` both map to filesystem_managed, as in the simple-project example.
    shared = WORKSPACE.replace("{storage: filesystem_managed,", "{warehouse: filesystem_managed, storage: "
                                                                "filesystem_managed,")
    root = write_workspace(tmp_path, {}, workspace_yaml=shared)
    build_by_hand(root)
    assert run(root, "import", "-e", "dev", "--project", "HAND") == 0
    assert "connection: storage" in (root / "projects" / "hand.yaml").read_text()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0

    with Workspace.load(root) as ws:
        odd = ws.connection("dev").client.create_project("ODD", "Odd", "admin")
        metadata = odd.get_metadata()
        metadata["custom"] = {"kv": {"count": 2, "owners": ["ann", "bo"]}}  # DSS keeps any JSON value
        odd.set_metadata(metadata)
    assert run(root, "import", "-e", "dev", "--project", "ODD") == 0, capsys.readouterr().err
    assert "  custom:\n    count: 2\n    owners:\n    - ann\n" in (root / "projects" / "odd.yaml").read_text()
    assert run(root, "validate") == 0
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0


def test_an_import_that_cannot_write_its_file_refuses_and_keeps_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, workspace_yaml=WORKSPACE)
    build_by_hand(root)
    mine = "project: {key: MINE, name: Mine}  # not HAND's\n"
    (root / "projects" / "mine.yaml").write_text(mine)
    before = sorted(p.relative_to(root) for p in root.rglob("*") if ".dss-iac" not in p.parts)
    assert run(root, "import", "-e", "dev", "--project", "HAND", "--file", "projects/mine.yaml") == 3
    assert "projects/mine.yaml already exists: refusing to overwrite it" in capsys.readouterr().err
    assert sorted(p.relative_to(root) for p in root.rglob("*") if ".dss-iac" not in p.parts) == before
    assert (root / "projects" / "mine.yaml").read_text() == mine


FTP_PASSWORD = "FTP-CANARY-2c81"
API_TOKEN = "TOKEN-CANARY-8d0f"
ACCOUNT_KEY = "ACCOUNTKEY-CANARY-55e3"


def build_with_secrets(root: Path) -> None:
    with Workspace.load(root) as ws:
        project = ws.connection("dev").client.create_project("SECRETS", "Holds secrets", "admin")
        project.set_variables({"standard": {"api_token": API_TOKEN, "region": "eu"},
                               "local": {"storage": {"accountKey": ACCOUNT_KEY, "account": "acme"}}})
        project.create_fslike_dataset("remote", "Filesystem", "filesystem_managed", "/in")
        settings = project.get_dataset("remote").get_settings()
        settings.get_raw()["params"].update({"password": FTP_PASSWORD, "blank_secret": ""})
        settings.save()


def test_import_writes_env_references_for_secrets_and_lists_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = write_workspace(tmp_path, {}, workspace_yaml=WORKSPACE)
    build_with_secrets(root)
    assert run(root, "import", "-e", "dev", "--project", "SECRETS") == 0
    out = capsys.readouterr()
    listed = {line.split()[0]: line for line in out.out.splitlines() if line.startswith("  ")}
    assert set(listed) == {"SECRETS_DATASETS_REMOTE_PARAMS_PASSWORD", "SECRETS_PROJECT_VARIABLES_STANDARD_API_TOKEN",
                           "SECRETS_PROJECT_VARIABLES_LOCAL_STORAGE_ACCOUNTKEY"}
    assert "dataset.SECRETS.remote params.password" in listed["SECRETS_DATASETS_REMOTE_PARAMS_PASSWORD"]
    assert "variables.SECRETS standard.api_token" in listed["SECRETS_PROJECT_VARIABLES_STANDARD_API_TOKEN"]
    text = (root / "projects" / "secrets.yaml").read_text()
    assert "password: ${env:SECRETS_DATASETS_REMOTE_PARAMS_PASSWORD}" in text and "region: eu" in text
    assert "blank_secret: ''" in text  # nothing to hide
    canaries = (FTP_PASSWORD, API_TOKEN, ACCOUNT_KEY)
    assert not [c for c in canaries if c in out.out + out.err]
    for path in (p for p in root.rglob("*") if p.is_file() and ".dss-iac/sim" not in p.as_posix()):
        assert not [c for c in canaries if c.encode() in path.read_bytes()], path
    # Without the variables, the plan says which is missing and where; with them, nothing changes.
    assert run(root, "plan", "-e", "dev") == 3
    assert capsys.readouterr().err.startswith("error: projects/secrets.yaml:7:18: environment variable "
                                              "SECRETS_PROJECT_VARIABLES_STANDARD_API_TOKEN is not set")
    monkeypatch.setenv("SECRETS_DATASETS_REMOTE_PARAMS_PASSWORD", FTP_PASSWORD)
    monkeypatch.setenv("SECRETS_PROJECT_VARIABLES_STANDARD_API_TOKEN", API_TOKEN)
    monkeypatch.setenv("SECRETS_PROJECT_VARIABLES_LOCAL_STORAGE_ACCOUNTKEY", ACCOUNT_KEY)
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0, capsys.readouterr().out
    # A value that differs from DSS's is a masked change.
    monkeypatch.setenv("SECRETS_PROJECT_VARIABLES_STANDARD_API_TOKEN", "ROTATED-TOKEN-1")
    capsys.readouterr()
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 2
    out_text = capsys.readouterr().out
    assert 'api_token = "(sensitive)" -> "(sensitive)"' in out_text and "ROTATED-TOKEN-1" not in out_text


def test_a_code_env_the_environment_does_not_map_keeps_the_import_going(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapped = WORKSPACE.replace("folders: filesystem_folders}", "folders: filesystem_folders}, code_envs: {py: py311}")
    root = write_workspace(tmp_path, {}, workspace_yaml=mapped)
    with Workspace.load(root) as ws:
        client = ws.connection("dev").client
        client.create_code_env("python", "unmapped_env", "DESIGN_MANAGED")
        project = client.create_project("ENVS", "Envs", "admin")
        project.create_fslike_dataset("src", "Filesystem", "filesystem_managed", "/src")
        project.create_fslike_dataset("out", "Filesystem", "filesystem_managed", "/out")
        creator = project.new_recipe("python", "job")
        creator.with_input("src")
        creator.with_output("out")
        creator.with_script(CODE)
        creator.create()
        recipe = project.get_recipe("job").get_settings()
        recipe.set_code_env("unmapped_env")
        recipe.save()
        settings = project.get_settings()
        settings.get_raw()["settings"]["codeEnvs"]["python"] = {"mode": "EXPLICIT_ENV", "envName": "unmapped_env"}
        settings.save()
    capsys.readouterr()
    # The project's default code env cannot be said in this workspace (no logical name maps to it): the section
    # is left out, and DSS's setting left alone; the recipe using it is kept as its document.
    assert run(root, "import", "-e", "dev", "--project", "ENVS", "--json") == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert report["not_managed"] == ["code defaults of project ENVS: code env 'unmapped_env' of code defaults has no "
                                     "mapping in environment 'dev' (DSS's are left alone)"]
    assert report["reasons"] == {"recipe.ENVS.job": "code env 'unmapped_env' of recipe 'job' has no mapping in "
                                                    "environment 'dev'"}
    assert "code_defaults" not in (root / "projects" / "envs.yaml").read_text()
    assert run(root, "validate") == 0
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0
