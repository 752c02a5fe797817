"""Secrets by origin: every value from `${env:...}` is sensitive wherever it lands, secret key names DSS uses are
recognised, state keeps keyed fingerprints, and a secret field shows no false drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from dataiku_iac.secrets import MASK
from tests.engine.conftest import write_workspace

DSN = "postgres://etl:DSN-CANARY-4b1e@db.internal/dwh"
PROJECT_PW = "PW-CANARY-77c0d1"
LITERALS = {"accountKey": "ACCOUNTKEY-CANARY-a1", "passphrase": "PASSPHRASE-CANARY-b2", "db_pass": "DBPASS-CANARY-c3"}
WORKSPACE = """\
version: 1
projects: [projects/*.yaml]
environments:
  dev:
    host: embedded
    variables: {warehouse_dsn: "${env:WAREHOUSE_DSN}"}
"""
PROJECT = f"""\
project:
  key: CHURN
  name: Churn
  variables: {{standard: {{warehouse_dsn: placeholder, threshold: "0.5"}}}}
datasets:
  remote_files:
    type: FTP
    connection: ftp_in
    params:
      path: /in/${{projectKey}}
      db_password: ${{env:FTP_PASSWORD}}
      accountKey: {LITERALS["accountKey"]}
      passphrase: {LITERALS["passphrase"]}
      db_pass: {LITERALS["db_pass"]}
      comment: "from ${{env:FTP_PASSWORD}}"
"""
CANARIES = [DSN, PROJECT_PW, *LITERALS.values()]


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def with_ftp(root: Path) -> Path:
    """`root`, its embedded DSS holding the FTP connection the project's dataset sits on (plan checks it)."""
    with Workspace.load(root) as w:
        w.connection("dev").client.create_connection("ftp_in", "FTP", {"host": "ftp.example.com"})
    return root


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WAREHOUSE_DSN", DSN)
    monkeypatch.setenv("FTP_PASSWORD", PROJECT_PW)
    return with_ftp(write_workspace(tmp_path, {"churn": PROJECT}, WORKSPACE))


def _files(root: Path) -> list[Path]:
    """Every file of the workspace but the embedded DSS's own data and the config the values were written in."""
    return [p for p in root.rglob("*") if p.is_file() and ".dss-iac/sim" not in p.as_posix()
            and p.name != "churn.yaml"]


def test_values_from_the_environment_and_dss_secret_keys_never_show(ws: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    shown: list[tuple[str, str]] = []
    for args in (["plan", "-e", "dev"], ["plan", "-e", "dev", "--json"], ["plan", "-e", "dev", "--markdown"],
                 ["plan", "-e", "dev", "--out", "dev.plan"], ["apply", "dev.plan"], ["plan", "-e", "dev"],
                 ["drift", "-e", "dev", "--json"], ["state", "pull", "-e", "dev"],
                 ["state", "show", "-e", "dev", "variables.CHURN"],
                 ["state", "show", "-e", "dev", "dataset.CHURN.remote_files", "--json"]):
        assert run(ws, *args) == 0, args
        out = capsys.readouterr()
        shown.append((" ".join(args), out.out + out.err))
    for args, text in shown:
        assert not [c for c in CANARIES if c in text], args
    plan_json = json.loads(shown[1][1])
    changes = {c["path"]: c for a in plan_json["actions"] for c in a["changes"]}
    assert changes["standard"]["after"] == {"warehouse_dsn": MASK, "threshold": "0.5"}
    assert changes["params"]["after"]["db_password"] == MASK
    assert {changes["params"]["after"][k] for k in LITERALS} == {MASK}
    # The values did reach DSS: that is what they are for. DSS's own ${projectKey} was left to DSS.
    with Workspace.load(ws) as w:
        client = w.connection("dev").client
        assert client.get_project("CHURN").get_variables()["standard"]["warehouse_dsn"] == DSN
        params = client.get_project("CHURN").get_dataset("remote_files").get_settings().get_raw()["params"]
    assert params["db_password"] == PROJECT_PW and params["path"] == "/in/${projectKey}"
    files = _files(ws)
    assert any(p.name == "dev.plan" for p in files) and any("backups" in p.parts for p in files)
    for path in files:
        assert not [c for c in CANARIES if c.encode() in path.read_bytes()], path


def test_a_secret_field_shows_no_drift_after_apply(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    capsys.readouterr()
    assert run(ws, "plan", "-e", "dev", "--detailed-exitcode") == 0
    out = capsys.readouterr().out
    assert "No changes." in out and MASK not in out
    assert run(ws, "drift", "-e", "dev", "--json") == 0
    assert json.loads(capsys.readouterr().out)["items"] == []


def test_a_secret_changed_in_dss_or_in_the_environment_shows_masked(ws: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    with Workspace.load(ws) as w:
        project = w.connection("dev").client.get_project("CHURN")
        project.set_variables({"standard": {"warehouse_dsn": "EDITED-BY-HAND-5e9", "threshold": "0.5"}, "local": {}})
    monkeypatch.setenv("FTP_PASSWORD", "ROTATED-PW-31aa")
    capsys.readouterr()
    assert run(ws, "plan", "-e", "dev", "--json") == 0
    out = capsys.readouterr().out
    assert "EDITED-BY-HAND-5e9" not in out and "ROTATED-PW-31aa" not in out and DSN not in out
    plan = json.loads(out)
    by_address = {a["address"]: a for a in plan["actions"]}
    assert by_address["variables.CHURN"]["drift"] == [
        {"path": "standard.warehouse_dsn", "before": MASK, "after": MASK, "sensitive": True}]
    assert by_address["dataset.CHURN.remote_files"]["changes"] == [
        {"path": "params.comment", "before": MASK, "after": MASK, "sensitive": True},
        {"path": "params.db_password", "before": MASK, "after": MASK, "sensitive": True}]


def test_state_keeps_keyed_fingerprints_that_differ_between_states(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The same password in two workspaces: two different fingerprints, neither a hash of the value alone."""
    monkeypatch.setenv("WAREHOUSE_DSN", DSN)
    monkeypatch.setenv("FTP_PASSWORD", PROJECT_PW)
    seen = []
    for name in ("one", "two"):
        root = with_ftp(write_workspace(tmp_path / name, {"churn": PROJECT}, WORKSPACE))
        assert run(root, "apply", "-e", "dev", "--yes") == 0
        state = json.loads((root / ".dss-iac/state/dev/state.json").read_text())
        fields = state["resources"]["dataset.CHURN.remote_files"]["fields"]["params"]
        dsn = state["resources"]["variables.CHURN"]["fields"]["standard"]["warehouse_dsn"]
        assert fields["db_password"].startswith("hmac-sha256:") and dsn.startswith("hmac-sha256:")
        assert fields["path"] == "/in/${projectKey}"
        seen.append(fields["db_password"])
    assert seen[0] != seen[1]


def test_a_changed_environment_variable_makes_a_saved_plan_stale(ws: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    monkeypatch.setenv("WAREHOUSE_DSN", DSN + "-next")
    assert run(ws, "plan", "-e", "dev", "--out", "dev.plan") == 0
    monkeypatch.setenv("WAREHOUSE_DSN", DSN + "-other")
    capsys.readouterr()
    assert run(ws, "apply", "dev.plan") == 5
    err = capsys.readouterr().err
    assert "variables.CHURN resolves to other values" in err and DSN not in err


def test_a_missing_variable_in_a_project_file_is_located(ws: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("FTP_PASSWORD")
    assert run(ws, "plan", "-e", "dev") == 3
    assert capsys.readouterr().err.strip() == (
        "error: projects/churn.yaml:11:20: environment variable FTP_PASSWORD is not set (referenced by project "
        "CHURN, used in environment 'dev')")
    assert run(ws, "validate") == 0  # offline checks need no secret


def test_a_remapped_connection_from_the_environment_is_masked_in_notes(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STORAGE_CONN", "filesystem_managed")
    root = write_workspace(tmp_path, {"churn": """\
        project: {key: CHURN, name: Churn}
        managed_folders:
          models: {connection: storage}
        """}, """\
        version: 1
        environments:
          dev:
            host: embedded
            remap: {connections: {storage: "${env:STORAGE_CONN}"}}
        """)
    assert run(root, "plan", "-e", "dev") == 0
    out = capsys.readouterr().out
    assert "filesystem_managed" not in out
    assert f"# connection: storage -> {MASK}" in out


def test_a_deleted_resource_shows_what_it_held_from_the_environment_masked(ws: Path, monkeypatch: pytest.MonkeyPatch,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A delete lists what DSS holds: the state's fingerprints say which of it came from the environment."""
    assert run(ws, "apply", "-e", "dev", "--yes") == 0
    (ws / "projects" / "churn.yaml").write_text(PROJECT.split("datasets:")[0])
    monkeypatch.delenv("FTP_PASSWORD")  # no longer referenced: its value is nowhere in the configuration now
    capsys.readouterr()
    assert run(ws, "plan", "-e", "dev", "--json") == 0
    out = capsys.readouterr().out
    assert not [c for c in CANARIES if c in out]
    delete = next(a for a in json.loads(out)["actions"] if a["address"] == "dataset.CHURN.remote_files")
    params = next(c for c in delete["changes"] if c["path"] == "params")
    assert delete["action"] == "delete" and params["after"] is None
    assert {k: v for k, v in params["before"].items() if v == MASK} == {
        "db_password": MASK, "accountKey": MASK, "passphrase": MASK, "db_pass": MASK, "comment": MASK}


def test_a_python_project_file_reads_env_references_as_a_yaml_one_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PY_TOKEN", "PY-CANARY-0c4e")
    workspace = "version: 1\nprojects: [projects/*.py]\nenvironments:\n  dev: {host: embedded}\n"
    root = write_workspace(tmp_path, {}, workspace, files={"projects/churn.py": """\
                               project = {"project": {"key": "CHURN", "name": "Churn",
                                                      "variables": {"standard": {"feed": "${env:PY_TOKEN}"}}}}
                               """})
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    assert run(root, "plan", "-e", "dev", "--json", "--detailed-exitcode") == 0
    out = capsys.readouterr().out
    assert "PY-CANARY-0c4e" not in out
    with Workspace.load(root) as w:
        assert w.connection("dev").client.get_project("CHURN").get_variables()["standard"]["feed"] == "PY-CANARY-0c4e"
    assert "PY-CANARY-0c4e" not in (root / ".dss-iac/state/dev/state.json").read_text()
