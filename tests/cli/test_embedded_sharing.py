"""The embedded DSS is shared by every process of a workspace: the CLI next to an open workspace (app, notebook),
`dss-iac sim info|stop`, a user's dataikuapi script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dataikuapi import DSSClient

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from dataiku_iac.dss.connect import IDLE_ENV, embedded_dir
from dataiku_iac.sim.shared import read_discovery
from tests.engine.conftest import write_workspace

PROJECT = """\
project: {key: SHARED, name: Shared, variables: {standard: {threshold: "0.5"}}}
datasets:
  raw: {type: Filesystem, connection: filesystem_managed, params: {path: /raw}}
"""
TWO_NODES = """\
version: 1
projects: [projects/*.yaml]
environments:
  dev: {host: embedded}
  prod: {host: embedded, node: prod, project_key: "{key}_PROD"}
"""


def dss_iac(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_workspace(tmp_path / "ws", {"shared": PROJECT}, TWO_NODES)


def test_the_cli_works_while_a_workspace_holds_the_embedded_dss(root: Path) -> None:
    with Workspace.load(root) as ws:  # the app or a notebook, open
        assert ws.plan("dev").changes
        applied = dss_iac(root, "apply", "-e", "dev", "--yes")
        assert applied.returncode == 0, applied.stderr
        assert "in use by another process" not in applied.stderr
        assert ws.plan("dev").changes == []  # the CLI's writes, seen by the open workspace
        ws.connection("dev").client.get_project("SHARED").update_variables({"threshold": "0.9"})
        drift = dss_iac(root, "drift", "-e", "dev", "--json")
        assert drift.returncode == 0, drift.stderr
        assert [item["address"] for item in json.loads(drift.stdout)["items"]] == ["variables.SHARED"]


def test_sim_info_gives_what_a_dataikuapi_script_needs(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(root), "apply", "-e", "dev", "--yes"]) == 0
    capsys.readouterr()
    assert main(["-C", str(root), "sim", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["nodes"]) == {"design", "automation", "prod", "govern"}
    assert info["nodes"]["prod"] == {"type": "AUTOMATION", "url": info["url"] + "/prod"}
    assert info["data_dir"] == str(embedded_dir(root).resolve())
    client = DSSClient(info["url"], info["api_key"])  # the user's own script, as `sim info` tells it
    assert client.list_project_keys() == ["SHARED"]
    assert main(["-C", str(root), "sim", "info"]) == 0
    text = capsys.readouterr().out
    assert f"prod         AUTOMATION  {info['url']}/prod" in text
    assert f"api key      {info['api_key']}" in text
    assert f"dataikuapi.DSSClient('{info['url']}', '{info['api_key']}')" in text


def test_sim_stop_stops_it_and_the_next_command_starts_it_again(root: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev")).ok
        pid = ws.embedded().pid
        assert main(["-C", str(root), "sim", "stop"]) == 0
        assert capsys.readouterr().out == f"stopped the embedded DSS (pid {pid})\n"
        assert ws.plan("dev").changes == []  # the open workspace finds it gone and starts it again
        assert ws.embedded().pid != pid
    assert main(["-C", str(root), "sim", "stop"]) == 0
    assert main(["-C", str(root), "sim", "stop"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "the embedded DSS was not running"
    found = read_discovery(embedded_dir(root))
    assert found is not None and found.pid is None


def test_sim_info_outside_a_workspace_and_a_bad_idle_setting_are_one_line_errors(
        tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["-C", str(empty), "sim", "info"]) == 3
    assert "no dss-iac.yaml" in capsys.readouterr().err
    monkeypatch.setenv(IDLE_ENV, "ten minutes")
    assert main(["-C", str(root), "sim", "info"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {IDLE_ENV} must be a number of seconds, got 'ten minutes'\n"
