"""A canary secret (an API key, and a password in dataset params) never reaches state, plans, logs or errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataiku_iac.cli.main import main
from dataiku_iac.sim import Simulator
from tests.engine.conftest import write_workspace

KEY = "CANARY-API-KEY-7f3a9c"
PASSWORD = "CANARY-PASSWORD-51d0e2"
PROJECT = f"""\
project: {{key: CANARY, name: Canary}}
datasets:
  remote_files:
    type: FTP
    connection: ftp_in
    params: {{path: /in, password: {PASSWORD}}}
"""


def every_file(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "sim" not in p.relative_to(root).parts]


def test_the_canary_is_nowhere(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSS_KEY", KEY)
    with Simulator(api_key=KEY, govern=False, automation_nodes=()) as sim:
        sim.client().create_connection("ftp_in", "FTP", {"host": "ftp.example.com"})  # plan checks it exists
        root = write_workspace(tmp_path, {"canary": PROJECT}, workspace_yaml=(
            f"version: 1\nenvironments:\n  prod: {{host: '{sim.base_url}', api_key: '${{env:DSS_KEY}}'}}\n"))
        outputs = []
        for args in (["plan", "-e", "prod"], ["plan", "-e", "prod", "--json"], ["plan", "-e", "prod", "--markdown"],
                     ["plan", "-e", "prod", "--out", "prod.plan"], ["apply", "prod.plan"],
                     ["drift", "-e", "prod", "--json"], ["state", "list", "-e", "prod", "--json"],
                     ["state", "show", "-e", "prod", "dataset.CANARY.remote_files"], ["state", "pull", "-e", "prod"],
                     ["state", "history", "-e", "prod", "--json"]):
            code = main(["-C", str(root), *args])
            captured = capsys.readouterr()
            outputs.append((args, code, captured.out + captured.err))
        # The password does reach DSS: that is the point of declaring it.
        raw = sim.node().store.projects["CANARY"]["datasets"]["remote_files"]
        assert raw["params"]["password"] == PASSWORD
        # A wrong key and an error from DSS: the messages name the environment, never the key.
        monkeypatch.setenv("DSS_KEY", KEY + "-wrong")
        assert main(["-C", str(root), "plan", "-e", "prod"]) == 1
        captured = capsys.readouterr()
        outputs.append((["plan with a wrong key"], 1, captured.out + captured.err))
    assert [code for _, code, _ in outputs[:-1]] == [0] * 10, outputs
    for args, _, text in outputs:
        assert KEY not in text and PASSWORD not in text, args
    plan_text = outputs[0][2]
    assert "\"password\": \"(sensitive)\"" in plan_text
    files = every_file(root)
    assert any(p.name == "prod.plan" for p in files) and any(p.name == "state.json" for p in files)
    for path in files:
        data = path.read_bytes()
        if path.name != "canary.yaml":  # the config is where the user put it (they should use ${env:...})
            assert KEY.encode() not in data and PASSWORD.encode() not in data, path
