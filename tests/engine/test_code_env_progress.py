"""A code env's build is reported step by step while apply waits for it: as `progress` events of its action
(the API, the terminal app), on the CLI's progress line, and as JSON lines on stderr with `--json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dataiku_iac import ProgressEvent, ProgressEventType
from dataiku_iac.cli.main import main

WORKSPACE = """\
version: 1
projects: [projects/*.yaml]
environments:
  dev:
    host: embedded
    instance: instance/dev.yaml
"""
INSTANCE = "code_envs:\n  py_ml: {python: '3.11', packages: [pandas>=2.0, scikit-learn]}\n"


def _steps(events: list[ProgressEvent], address: str) -> list[tuple[str | None, int | None, int | None]]:
    return [(e.detail, e.detail_done, e.detail_total) for e in events
            if e.event is ProgressEventType.PROGRESS and e.address == address]


def test_a_build_is_reported_step_by_step(make_workspace) -> None:
    ws = make_workspace({}, WORKSPACE, {"instance/dev.yaml": INSTANCE})
    events: list[ProgressEvent] = []
    assert ws.apply(ws.plan("dev"), progress=events.append).ok
    assert _steps(events, "code_env.py_ml") == [
        ("Creating the environment", 0, 4), ("Installing pandas>=2.0", 1, 4), ("Installing scikit-learn", 2, 4),
        ("Checking the environment", 3, 4)]
    kinds = [e.event for e in events if e.address == "code_env.py_ml"]
    assert kinds[0] is ProgressEventType.BEGIN and kinds[-1] is ProgressEventType.END
    # A package change rebuilds: reported the same way, without the creation step.
    ws = make_workspace({}, WORKSPACE, {"instance/dev.yaml": INSTANCE.replace("scikit-learn", "xgboost")})
    events.clear()
    assert ws.apply(ws.plan("dev"), progress=events.append).ok
    assert [d for d, _, _ in _steps(events, "code_env.py_ml")] == [
        "Installing pandas>=2.0", "Installing xgboost", "Checking the environment"]
    assert ws.connection("dev").client.get_code_env("PYTHON", "py_ml").get_definition()["actualPackageList"] == \
        "pandas>=2.0\nxgboost"


def test_a_failed_build_fails_its_action_naming_the_env(make_workspace) -> None:
    ws = make_workspace({}, WORKSPACE, {"instance/dev.yaml": INSTANCE})
    assert ws.apply(ws.plan("dev")).ok
    ws = make_workspace({}, WORKSPACE, {"instance/dev.yaml": INSTANCE.replace("scikit-learn", "fail-build==1")})
    result = ws.apply(ws.plan("dev"))
    assert [(r.address, r.error) for r in result.failed] == [
        ("code_env.py_ml", "building code env py_ml failed: Could not find a version that satisfies the "
                           "requirement fail-build==1")]


def test_apply_json_prints_progress_events_on_stderr(tmp_path: Path, make_workspace,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    make_workspace({}, WORKSPACE, {"instance/dev.yaml": INSTANCE}).close()
    assert main(["-C", str(tmp_path), "apply", "-e", "dev", "--yes", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)  # stdout: the one result document
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    built = [e for e in events if e.get("address") == "code_env.py_ml"]
    assert [e["event"] for e in built] == ["begin", "progress", "progress", "progress", "progress", "end"]
    assert built[2] == {"event": "progress", "address": "code_env.py_ml", "action": "create", "done": 0,
                        "total": 1, "detail": "Installing pandas>=2.0", "detail_done": 1, "detail_total": 4}
    assert built[-1]["status"] == "ok" and events[0]["event"] == "start" and events[-1]["event"] == "finish"
