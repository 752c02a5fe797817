"""A project's default code envs and container configuration: plan/apply, drift, remap, import, removal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes, imported_anew, write_workspace

PROJECT = """\
project: {key: CODE, name: Code defaults}
code_defaults:
  python: py_ml
  container: k8s-small
"""
REMAPPED = """\
version: 1
projects: [projects/*.yaml]
environments:
  dev: {host: embedded, remap: {code_envs: {py_ml: py311_dev}}}
"""


@pytest.fixture(autouse=True)
def code_envs(tmp_path: Path) -> None:
    write_workspace(tmp_path, {})
    with Workspace.load(tmp_path) as ws:
        for name in ("py_ml", "py311_dev"):
            ws.connection("dev").client.create_code_env("python", name, "DESIGN_MANAGED")


def _settings(ws: Workspace) -> dict:
    return ws.connection("dev").client.get_project("CODE").get_settings().get_raw()["settings"]


def test_apply_sets_only_what_is_declared_then_replans_empty(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"code": PROJECT})
    assert ("+", "code_defaults.CODE", ["container", "python"]) in changes(ws)
    apply_ok(ws)
    assert changes(ws) == []
    settings = _settings(ws)
    assert settings["codeEnvs"]["python"] == {"mode": "EXPLICIT_ENV", "useBuiltinEnv": False, "envName": "py_ml"}
    assert settings["codeEnvs"]["r"]["mode"] == "USE_BUILTIN_MODE"  # not declared: left alone
    assert settings["container"] == {"containerMode": "EXPLICIT_CONTAINER", "containerConf": "k8s-small"}


def test_a_hand_edit_is_drift_and_is_restored(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"code": PROJECT})
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("CODE").get_settings()
    settings.set_python_code_env(None)
    settings.set_container_exec_config(None)
    settings.save()
    [item] = ws.drift("dev").items
    assert (item.address, [(c.path, c.after) for c in item.changes]) == (
        "code_defaults.CODE", [("python", "builtin"), ("container", "none")])
    apply_ok(ws)
    assert not ws.drift("dev").has_drift and _settings(ws)["codeEnvs"]["python"]["envName"] == "py_ml"


def test_the_environment_renames_the_code_env(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"code": PROJECT}, workspace_yaml=REMAPPED)
    [action] = [a for a in ws.plan("dev").changes if str(a.address) == "code_defaults.CODE"]
    assert action.notes == {"python": "py_ml -> py311_dev"}
    apply_ok(ws)
    assert _settings(ws)["codeEnvs"]["python"]["envName"] == "py311_dev" and changes(ws) == []


def test_builtin_inherit_and_removal(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"code": PROJECT.replace("python: py_ml", "python: inherit\n  r: builtin")
                         .replace("k8s-small", "none")})
    apply_ok(ws)
    settings = _settings(ws)
    assert settings["codeEnvs"]["python"]["mode"] == "INHERIT" and settings["container"]["containerMode"] == "NONE"
    assert changes(ws) == []
    ws = make_workspace({"code": "project: {key: CODE, name: Code defaults}\n"})
    assert changes(ws) == [("-", "code_defaults.CODE", ["container", "python", "r"])]
    apply_ok(ws)
    settings = _settings(ws)
    assert settings["codeEnvs"]["python"]["mode"] == "USE_BUILTIN_MODE"
    assert settings["container"] == {"containerMode": "INHERIT"} and changes(ws) == []


def test_import_writes_what_differs_from_dss_defaults(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"code": PROJECT})
    apply_ok(ws)
    text = imported_anew(ws, "CODE")
    assert "code_defaults:\n  python: py_ml\n  container: k8s-small\n" in text, text
    assert changes(make_workspace()) == []


def test_an_empty_name_is_refused_at_its_place(make_workspace: Callable[..., Workspace]) -> None:
    with pytest.raises(ConfigError) as e:
        make_workspace({"code": PROJECT.replace("python: py_ml", "python: ''")})
    assert e.value.render().startswith("projects/code.yaml:3:") and len(e.value.render().splitlines()) == 1


def test_an_unmapped_or_missing_code_env_is_refused_at_its_place(make_workspace: Callable[..., Workspace]) -> None:
    mapped = REMAPPED.replace("{py_ml: py311_dev}", "{other: py311_dev}")
    with pytest.raises(ConfigError) as e:
        make_workspace({"code": PROJECT}, workspace_yaml=mapped).plan("dev")
    assert e.value.render() == ("projects/code.yaml:3:11: code env 'py_ml' of code defaults has no mapping in "
                                "environment 'dev'")
    ws = make_workspace({"code": PROJECT.replace("py_ml", "py_gone")})
    with pytest.raises(ConfigError) as e:
        ws.plan("dev")
    assert e.value.render() == ("projects/code.yaml:3:11: python code env 'py_gone' of code defaults does not exist "
                                "on dev")


def test_adopting_a_code_env_changed_in_dss_writes_its_logical_name(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"code": PROJECT}, workspace_yaml=REMAPPED.replace("{py_ml: py311_dev}",
                                                                           "{py_ml: py311_dev, py_new: py_ml}"))
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("CODE").get_settings()
    settings.set_python_code_env("py_ml")  # the env behind the logical name py_new
    settings.save()
    [item] = ws.drift("dev").items
    ws.adopt("dev", item)
    assert "  python: py_new\n" in (ws.root / "projects" / "code.yaml").read_text()
    assert not ws.drift("dev").items and changes(ws) == []
