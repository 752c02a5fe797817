"""Workspaces on disk for engine tests, applied to the embedded simulator through the real client."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from dataiku_iac import ActionReason, Workspace
from tests.gitrepos import make_repo

WORKSPACE_YAML = """\
version: 1
projects: [projects/*.yaml]
environments:
  dev:
    host: embedded
"""

# Zones, scenarios and folders get their ids from DSS: the project of the lost-reply and kill tests (KEY: its key).
SERVER_IDS_PROJECT = """\
project: {key: KEY, name: Twins}
datasets:
  a: {type: Filesystem, connection: filesystem_managed, params: {path: /a}}
managed_folders:
  models: {connection: filesystem_folders, description: trained models}
scenarios:
  nightly: {name: Nightly build, triggers: [{type: temporal, frequency: Daily}], steps: [{type: build, items: [a]}]}
zones:
  ingest: {items: [a, models]}
"""


def churn_flow(*datasets: str, then: str = "") -> str:
    """Project CHURN: managed CSV datasets named `datasets`, a managed folder `models`, then `then` (YAML)."""
    managed = "".join(f"  {name}: {{type: Filesystem, managed: true, connection: filesystem_managed, format: csv}}\n"
                      for name in datasets)
    return (f"project: {{key: CHURN, name: Churn}}\ndatasets:\n{managed}"
            f"managed_folders:\n  models: {{connection: filesystem_folders}}\n{then}")


def embedded_workspace(dev: Mapping[str, Any], prod: Mapping[str, Any] | None = None, *, target: str = "prod",
                       **others: Mapping[str, Any]) -> str:
    """dss-iac.yaml of a workspace on its embedded DSS: `dev` on the design node and, when given, `prod` on an
    automation node (named `target`, as its environment), where projects arrive by bundle; `others`: more
    environments on the design node. Each mapping adds keys to its environment."""
    environments: dict[str, Any] = {"dev": {"host": "embedded", **dev}}
    if prod is not None:
        environments[target] = {"host": "embedded", "node": target, "deploy": "bundle", **prod}
    environments.update((name, {"host": "embedded", **env}) for name, env in others.items())
    yaml = YAML()
    yaml.representer.ignore_aliases = lambda _data: True  # a mapping given twice is written twice, not aliased
    out = io.StringIO()
    yaml.dump({"version": 1, "projects": ["projects/*.yaml"], "environments": environments}, out)
    return out.getvalue()


def write_workspace(root: Path, projects: dict[str, str], workspace_yaml: str = WORKSPACE_YAML,
                    files: dict[str, str] | None = None, git: bool = False) -> Path:
    """Write dss-iac.yaml, projects/<name>.yaml and any extra files (recipe code...) under `root`; with `git`, as
    the first commit of a repository (the workspace's .dss-iac/ ignored)."""
    (root / "projects").mkdir(parents=True, exist_ok=True)
    (root / "dss-iac.yaml").write_text(textwrap.dedent(workspace_yaml))
    for name, text in projects.items():
        (root / "projects" / f"{name}.yaml").write_text(textwrap.dedent(text))
    for rel, text in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    if git:
        make_repo(root, files={".gitignore": ".dss-iac/\n"})
    return root


@pytest.fixture
def make_workspace(tmp_path: Path) -> Iterator[Callable[..., Workspace]]:
    """`make_workspace({"churn": "project: ..."})` -> a loaded Workspace; closed after the test.

    Call it again after editing files to reload: the embedded DSS (under .dss-iac/sim/) persists.
    """
    opened: list[Workspace] = []

    def make(projects: dict[str, str] | None = None, workspace_yaml: str = WORKSPACE_YAML,
             files: dict[str, str] | None = None) -> Workspace:
        for ws in opened:
            ws.close()
        if projects is not None or files is not None:
            write_workspace(tmp_path, projects or {}, workspace_yaml, files)
        ws = Workspace.load(tmp_path)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


def run_import(ws: Workspace, *keys: str, env: str = "dev") -> None:
    """`dss-iac import` of each project, as a user runs it (the workspace's embedded DSS released first)."""
    from dataiku_iac.cli.main import main

    ws.close()
    for key in keys:
        assert main(["-C", str(ws.root), "import", "-e", env, "--project", key]) == 0


def imported_anew(ws: Workspace, key: str) -> str:
    """The project file `import` writes for project `key` once its file is gone: its text."""
    path = ws.root / "projects" / f"{key.lower()}.yaml"
    path.unlink()
    run_import(ws, key)
    return path.read_text()


def apply_ok(ws: Workspace, env: str = "dev") -> None:
    """Plan and apply; fail the test with the errors if any operation failed."""
    result = ws.apply(ws.plan(env))
    assert result.ok, [(r.address, r.action, r.error) for r in result.results if r.status != "ok"]


def revert_drift(ws: Workspace, drifted: list[tuple[str, list[str]]]) -> None:
    """Drift shows `drifted` (address, changed paths) after a hand edit in DSS; the plan reverts that one resource,
    as changed outside dss-iac; apply it."""
    assert [(i.address, [c.path for c in i.changes]) for i in ws.drift("dev").items] == drifted
    (action,) = ws.plan("dev").changes
    assert (action.reason, action.reason_code) == ("changed outside dss-iac", ActionReason.CHANGED_OUTSIDE)
    apply_ok(ws)


def changes(ws: Workspace, env: str = "dev") -> list[tuple[str, str, list[str]]]:
    """The plan's changes as (symbol, address, changed paths), no-ops left out."""
    return [(a.symbol, str(a.address), [c.path for c in a.changes]) for a in ws.plan(env).changes]


def edit_instance_by_hand(client: Any, *, packages: tuple[str, ...], company: str,
                          user_groups: list[str] | None = None,
                          more_variables: Mapping[str, str] | None = None) -> None:
    """What a platform admin changes in DSS's admin screens behind dss-iac's back, on the instance of the instance
    kinds' tests: connection pg_dev's host and write flag, group analysts made admin, user ada's display name (and
    groups), code env py_ml's packages, the global variable `company` (and others never declared)."""
    conn = client.get_connection("pg_dev")
    definition = conn.get_definition()
    definition["params"]["host"] = "db.elsewhere"
    definition["allowWrite"] = False
    conn.set_definition(definition)
    group = client.get_group("analysts")
    raw = group.get_definition()
    raw["admin"] = True
    group.set_definition(raw)
    settings = client.get_user("ada").get_settings()
    settings.get_raw()["displayName"] = "Countess"
    if user_groups is not None:
        settings.get_raw()["groups"] = user_groups
    settings.save()
    env_settings = client.get_code_env("PYTHON", "py_ml").get_settings()
    env_settings.set_required_packages(*packages)
    env_settings.save()
    variables = client.get_global_variables()
    variables["company"] = company
    variables.update(more_variables or {})
    variables.save()
