"""Bad input: a one-line `file:line:col` error, a non-zero exit code, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataiku_iac.cli.main import main
from dataiku_iac.sim import Simulator
from tests.engine.conftest import WORKSPACE_YAML, write_workspace

GOOD = """\
project: {key: CHURN, name: Churn}
datasets:
  raw: {type: Filesystem, connection: filesystem_managed, params: {path: /raw}}
  clean: {type: Filesystem, connection: filesystem_managed, params: {path: /clean}}
recipes:
  clean_it: {type: sync, inputs: [raw], outputs: [clean]}
"""


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def error_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error:")]


TRIGGERS = "project: {key: CHURN, name: Churn}\nscenarios:\n  nightly:\n    triggers:\n      - "


@pytest.mark.parametrize(("project", "expected"), [
    ("project: {key: CHURN, name: [unclosed\n", "projects/churn.yaml:2:1: YAML syntax error"),
    ("project: {key: CHURN, name: Churn, colour: red}\n",
     "projects/churn.yaml:1:36: unknown key 'colour' (expected one of: key, name, description"),
    ("project: {key: CHURN, name: Churn}\ndatasets:\n  raw: {type: Filesystem, managed: maybe}\n",
     "projects/churn.yaml:3:36: invalid value 'maybe' for 'managed'"),
    (GOOD.replace("inputs: [raw]", "inputs: [nothing]"),
     "projects/churn.yaml:6:35: recipe input 'nothing' names no dataset or managed folder of project CHURN"),
    (GOOD.replace("  clean: {type: Filesystem", "  raw: {type: Filesystem"),
     "projects/churn.yaml:4:3: duplicate key \"raw\" (first defined on line 3)"),
    (GOOD + "  back: {type: sync, inputs: [clean], outputs: [raw]}\n",
     "projects/churn.yaml:7:3: dependency cycle between recipes: back <- clean_it <- back"),
    ("project: {key: churn, name: Churn}\n", "projects/churn.yaml:1:16: invalid project key 'churn'"),
    # A scenario's triggers are of several types, told apart by `type`: each error is in the type it names.
    (TRIGGERS + "{type: temporal, frequency: daily}\n",
     "projects/churn.yaml:5:37: invalid value 'daily' for 'frequency': input should be 'Minutely'"),
    (TRIGGERS + "{type: dataset, datasets: [raw], frequency: Daily}\n",
     "projects/churn.yaml:5:42: unknown key 'frequency' (expected one of: type, datasets, delay, when_all, "
     "active)"),
    (TRIGGERS + "{type: hourly}\n", "projects/churn.yaml:5:16: unknown type 'hourly' (expected one of: temporal, "
                                      "dataset, sql, follow_scenario, python, another DSS type with its params)"),
    (TRIGGERS + "{frequency: Daily}\n", "projects/churn.yaml:5:9: missing required key 'type'"),
    # Files an entry names: a visual recipe runs no code; a code file must exist.
    (GOOD.replace("outputs: [clean]}", "outputs: [clean], code: clean.py}"),
     "projects/churn.yaml:6:65: a sync recipe has no code; remove 'code'"),
    (GOOD.replace("{type: sync,", "{type: python, code: clean.py,"),
     "projects/churn.yaml:6:34: code file 'clean.py' not found"),
])
def test_config_errors_point_at_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], project: str,
                                         expected: str) -> None:
    write_workspace(tmp_path, {"churn": project})
    assert run(tmp_path, "validate") == 3
    lines = error_lines(capsys)
    assert any(line.startswith(f"error: {expected}") for line in lines), lines


def test_all_errors_of_a_workspace_are_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"a": "project: {key: A, name: a, bogus: 1}\n",
                               "b": "project: {key: B}\n"})
    assert run(tmp_path, "plan", "-e", "dev") == 3
    lines = error_lines(capsys)
    assert len(lines) == 2
    assert lines[0].startswith("error: projects/a.yaml:1:28: unknown key 'bogus'")
    assert lines[1].startswith("error: projects/b.yaml:1:10: missing required key 'name'")
    assert not (tmp_path / ".dss-iac").exists()  # nothing was started or written


def test_missing_env_variable(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.delenv("DSS_PROD_API_KEY", raising=False)
    prod = "  prod:\n    host: https://dss.example.com\n    api_key: ${env:DSS_PROD_API_KEY}\n"
    write_workspace(tmp_path, {"churn": GOOD}, workspace_yaml=WORKSPACE_YAML + prod)
    assert run(tmp_path, "validate") == 0  # dev works without prod's secret
    capsys.readouterr()
    assert run(tmp_path, "plan", "-e", "prod") == 3
    assert error_lines(capsys) == [
        "error: dss-iac.yaml:8:14: environment variable DSS_PROD_API_KEY is not set (referenced by environment 'prod')"]


def test_no_workspace_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "validate") == 3
    assert error_lines(capsys) == [f"error: no dss-iac.yaml in {tmp_path.resolve()} or its parents "
                                   "(create one with `dss-iac init`)"]


def test_unreachable_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": GOOD}, workspace_yaml="""\
        version: 1
        environments:
          prod: {host: "http://127.0.0.1:9", api_key: k}
        """)
    assert run(tmp_path, "plan", "-e", "prod") == 1
    assert error_lines(capsys) == ["error: cannot reach DSS at http://127.0.0.1:9 (connection refused or reset)"]


def test_wrong_api_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Simulator(govern=False, automation_nodes=()) as sim:
        write_workspace(tmp_path, {"churn": GOOD}, workspace_yaml=f"""\
            version: 1
            environments:
              prod: {{host: "{sim.base_url}", api_key: not-the-key}}
            """)
        assert run(tmp_path, "plan", "-e", "prod") == 1
    assert error_lines(capsys) == [f"error: DSS at {sim.base_url} refused the API key of environment 'prod'"]
    assert not (tmp_path / ".dss-iac" / "state").exists()


def test_usage_errors_exit_64_not_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["plan"])
    assert e.value.code == 64
    with pytest.raises(SystemExit) as e:
        main(["no-such-command"])
    assert e.value.code == 64


def test_bad_target_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": GOOD})
    assert run(tmp_path, "plan", "-e", "dev", "--target", "dataset.CHURN") == 3
    assert error_lines(capsys) == ["error: invalid address 'dataset.CHURN': a dataset address is dataset.PROJECT.NAME"]


@pytest.mark.parametrize(("args", "code", "expected"), [
    (["plan", "-e", "dev", "--target", "dataset.CHURN.nope"], 3,
     "error: no resource matches --target dataset.CHURN.nope (neither in the configuration nor in the state)"),
    (["plan", "-e", "dev", "--parallelism", "0"], 64, "argument --parallelism: must be 1 or more, got 0"),
    (["drift", "-e", "dev", "--watch", "-1"], 64, "argument --watch: must be more than 0, got -1"),
    (["init", "/proc/no-such-folder"], 1, "error: No such file or directory: /proc/no-such-folder"),
])
def test_bad_arguments_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                           code: int, expected: str) -> None:
    write_workspace(tmp_path, {"churn": GOOD})
    try:
        got = run(tmp_path, *args)
    except SystemExit as e:  # argparse's usage errors
        got = int(e.code or 0)
    assert got == code
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and "internal error" not in err


def test_a_malformed_env_reference_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_workspace(tmp_path, {"churn": GOOD}, workspace_yaml=(
        "version: 1\nenvironments:\n  prod: {host: 'https://dss.example.com', api_key: '${env:DSS_KEY'}\n"))
    assert run(tmp_path, "validate") == 3
    assert error_lines(capsys) == ["error: dss-iac.yaml:3:52: malformed reference: expected ${env:NAME} (a name of "
                                   "letters, digits and underscores, then '}')"]


def test_validate_json_reports_the_errors_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    write_workspace(tmp_path, {"churn": GOOD.replace("inputs: [raw]", "inputs: [nothing]")})
    assert run(tmp_path, "validate", "--json") == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"valid": False, "errors": [
        {"file": "projects/churn.yaml", "line": 6, "col": 35,
         "message": "recipe input 'nothing' names no dataset or managed folder of project CHURN"}]}
    assert captured.err.startswith("error: projects/churn.yaml:6:35:")
