"""Environments: remapping that must be complete, project key patterns, overrides, instance checks, and
values that legitimately differ between environments never showing as drift in the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataiku_iac.cli.main import main
from dataiku_iac.errors import ApprovalError, ConfigError
from tests.engine.conftest import apply_ok, changes

FEATURES = """\
project: {key: FEATURES, name: Features, variables: {standard: {threshold: "0.5"}}}
datasets:
  events: {type: Filesystem, connection: lake, params: {path: /events}}
  features: {type: Filesystem, connection: lake, params: {path: /features}}
recipes:
  build: {type: sync, inputs: [events], outputs: [features]}
exposed_objects:
  features: {to: [SCORING]}
scenarios:
  nightly: {triggers: [{type: temporal, frequency: Daily, hour: 1}], steps: [{type: build, items: [features]}]}
"""
SCORING = """\
project: {key: SCORING, name: Scoring}
datasets:
  scores: {type: Filesystem, connection: lake, params: {path: /scores}}
recipes:
  score: {type: sync, inputs: [FEATURES.features], outputs: [scores]}
"""
TWO_ON_ONE = """\
version: 1
environments:
  dev:
    host: embedded
    project_key: "{key}_DEV"
    remap: {connections: {lake: filesystem_managed}}
    variables: {threshold: "0.1"}
    overrides:
      scenario.*.*: {active: false}
  test:
    host: embedded
    project_key: "{key}_TEST"
    remap: {connections: {lake: filesystem_managed}}
"""


def _client(ws):
    return ws.connection("dev").client


def test_two_environments_share_one_instance_with_key_patterns(make_workspace) -> None:
    ws = make_workspace({"features": FEATURES, "scoring": SCORING}, workspace_yaml=TWO_ON_ONE)
    apply_ok(ws, "dev")
    apply_ok(ws, "test")
    keys = set(_client(ws).list_project_keys())
    assert {"FEATURES_DEV", "SCORING_DEV", "FEATURES_TEST", "SCORING_TEST"} <= keys
    assert "FEATURES" not in keys
    # The cross-project input follows the environment's keys.
    score = _client(ws).get_project("SCORING_TEST").get_recipe("score").get_settings()
    inputs = score.get_recipe_raw_definition()["inputs"]["main"]["items"]
    assert [i["ref"] for i in inputs] == ["FEATURES_TEST.features"]
    assert changes(ws, "dev") == [] and changes(ws, "test") == []
    # Overrides and variables apply to dev only.
    dev = _client(ws).get_project("FEATURES_DEV")
    test = _client(ws).get_project("FEATURES_TEST")
    assert dev.get_scenario("NIGHTLY").get_settings().active is False
    assert test.get_scenario("NIGHTLY").get_settings().active is True
    assert dev.get_variables()["standard"] == {"threshold": "0.1"}
    assert test.get_variables()["standard"] == {"threshold": "0.5"}
    # What legitimately differs between dev and test never shows as drift in the other.
    assert not ws.drift("dev").has_drift and not ws.drift("test").has_drift


def test_a_change_of_one_environment_touches_that_environment_only(make_workspace) -> None:
    ws = make_workspace({"features": FEATURES, "scoring": SCORING}, workspace_yaml=TWO_ON_ONE)
    apply_ok(ws, "dev")
    apply_ok(ws, "test")
    changed = TWO_ON_ONE.replace('variables: {threshold: "0.1"}', 'variables: {threshold: "0.2"}')
    ws = make_workspace({"features": FEATURES, "scoring": SCORING}, workspace_yaml=changed)
    assert changes(ws, "test") == []
    assert changes(ws, "dev") == [("~", "variables.FEATURES_DEV", ["standard.threshold"])]


def test_an_unmapped_connection_is_a_config_error_with_its_position(make_workspace) -> None:
    ws = make_workspace({"features": FEATURES.replace("  features: {type: Filesystem, connection: lake",
                                                      "  features: {type: Filesystem, connection: warehouse")},
                        workspace_yaml=TWO_ON_ONE)
    with pytest.raises(ConfigError, match=r"projects/features\.yaml:4:44: connection 'warehouse' of dataset "
                                          r"'features' has no mapping in environment 'dev'"):
        ws.plan("dev")


def test_validate_checks_every_environment_offline(make_workspace, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # prod's key comes from a variable CI does not have; its remap misses `lake`.
    with_prod = TWO_ON_ONE + ("  prod:\n    host: https://dss.example.com\n    api_key: ${env:PROD_DSS_KEY}\n"
                              "    remap: {connections: {other: pg}}\n")
    monkeypatch.delenv("PROD_DSS_KEY", raising=False)
    ws = make_workspace({"features": FEATURES}, workspace_yaml=with_prod)
    assert main(["-C", str(ws.root), "validate"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: projects/features.yaml:{at}: connection 'lake' of dataset '{name}' has no mapping in "
                   "environment 'prod' (remap.connections maps: other)" for at, name in (("3:42", "events"),
                                                                                      ("4:44", "features"))]
    fixed = with_prod.replace("{other: pg}", "{lake: pg}")
    ws = make_workspace({"features": FEATURES}, workspace_yaml=fixed)
    assert main(["-C", str(ws.root), "validate"]) == 0  # the unset ${env:PROD_DSS_KEY} is not needed offline
    assert "The configuration is valid" in capsys.readouterr().out


def test_an_override_that_matches_nothing_is_an_error(make_workspace) -> None:
    typo = TWO_ON_ONE.replace("scenario.*.*: {active: false}", "scenario.FEATURE.*: {active: false}")
    ws = make_workspace({"features": FEATURES}, workspace_yaml=typo)
    with pytest.raises(ConfigError, match=r"dss-iac.yaml:\d+:\d+: override 'scenario.FEATURE.\*' of environment 'dev' "
                                          r"matches no resource"):
        ws.plan("dev")


def test_overrides_that_break_a_project_name_the_workspace_file(make_workspace) -> None:
    broken = TWO_ON_ONE.replace("scenario.*.*: {active: false}", "scenario.*.*: {active: sometimes}")
    ws = make_workspace({"features": FEATURES}, workspace_yaml=broken)
    with pytest.raises(ConfigError, match=r"dss-iac.yaml:\d+:\d+: overrides of environment 'dev' make project "
                                          r"FEATURES invalid: scenarios.nightly.active"):
        ws.plan("dev")


def test_validate_checks_connections_and_code_envs_on_the_instance(make_workspace, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    project = FEATURES.replace("datasets:\n", "datasets:\n  model: {type: PostgreSQL, connection: warehouse, "
                                              "params: {table: model}}\n")
    project = project.replace("recipes:\n", "recipes:\n  train: {type: python, inputs: [features], outputs: [model], "
                                            "code_env: py_ml}\n")
    workspace = """\
version: 1
environments:
  dev:
    host: embedded
    remap: {connections: {lake: filesystem_managed, warehouse: pg_dev}, code_envs: {py_ml: py311}}
"""
    make_workspace({"features": project}, workspace_yaml=workspace)
    assert main(["-C", str(tmp_path), "validate", "-e", "dev"]) == 3
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: projects/features.yaml:3:41: connection 'pg_dev' (warehouse) of dataset 'model' does not exist on dev",
        "error: projects/features.yaml:7:73: python code env 'py311' (py_ml) of recipe 'train' does not exist on dev",
    ]
    # Once the instance has them (a Filesystem connection, of the wrong type for a PostgreSQL dataset):
    from dataiku_iac import Workspace

    with Workspace.load(tmp_path) as ws:
        ws.connection("dev").client.create_connection("pg_dev", "Filesystem", {"root": "/"})
        ws.connection("dev").client.create_code_env("python", "py311", "DESIGN_MANAGED")
    assert main(["-C", str(tmp_path), "validate", "-e", "dev"]) == 3
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == ["error: projects/features.yaml:3:41: dataset 'model' is PostgreSQL, but connection 'pg_dev' "
                      "(warehouse) on dev is Filesystem"]


def test_a_bundle_environment_refuses_direct_apply(make_workspace) -> None:
    ws = make_workspace({"features": FEATURES}, workspace_yaml=TWO_ON_ONE.replace(
        '    project_key: "{key}_TEST"', '    project_key: "{key}_TEST"\n    deploy: bundle'))
    with pytest.raises(ApprovalError, match="receives projects by bundle: deploy with `dss-iac promote --to test`"):
        ws.apply(ws.plan("test"))


def test_a_bundle_environment_expects_the_bundles_standard_variables_and_the_deployments_local_ones(
        make_workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where promote deploys, the standard variables are those the bundle carries (as the design environment, the
    first direct one, sets them, overrides included) and the local ones those the deployment sets."""
    from dataiku_iac.resources import Address, build_desired

    monkeypatch.setenv("DEV_TOKEN", "s3cr3t-dev-token")
    workspace = TWO_ON_ONE.replace('variables: {threshold: "0.1"}', 'variables: {threshold: "0.1"}\n    overrides:\n'
                                   '      variables.FEATURES: {standard: {label: "${env:DEV_TOKEN}"}}\n'
                                   '      scenario.*.*: {active: false}', 1).replace(
        "    overrides:\n      scenario.*.*: {active: false}\n  test:", "  test:")
    workspace = workspace.replace('    project_key: "{key}_TEST"', '    project_key: "{key}_TEST"\n    deploy: bundle\n'
                                  '    variables: {threshold: "0.9"}')
    features = FEATURES.replace('variables: {standard: {threshold: "0.5"}}',
                                'variables: {standard: {threshold: "0.5"}, local: {home: /data}}')
    ws = make_workspace({"features": features}, workspace_yaml=workspace)
    desired = build_desired(ws.config, ws.env_context("test"))
    variables = desired[Address("variables", "FEATURES_TEST")]
    assert variables.fields == {"standard": {"threshold": "0.1", "label": "s3cr3t-dev-token"},
                                "local": {"home": "/data", "threshold": "0.9"}}
    # A value from dev's environment is sensitive in test's plan too.
    from dataiku_iac.secrets import is_sensitive

    assert is_sensitive("standard.label", variables.fields["standard"]["label"])
    # The direct environment is unchanged: its own values, its own local variables.
    assert build_desired(ws.config, ws.env_context("dev"))[Address("variables", "FEATURES_DEV")].fields == {
        "standard": {"threshold": "0.1", "label": "s3cr3t-dev-token"}, "local": {"home": "/data"}}
