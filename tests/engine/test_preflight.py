"""Plan and apply check the target DSS before the first write: the connections and code envs that what they would
write names must exist there (with the right type), or nothing is planned, created or recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dataikuapi import DSSClient

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from dataiku_iac.sim import Simulator
from tests.engine.conftest import write_workspace

PROJECT = """\
project: {key: PRE, name: Preflight}
datasets:
  orders: {type: PostgreSQL, connection: warehouse, params: {table: orders}}
  scored: {type: Filesystem, managed: true, connection: storage, format: csv}
recipes:
  score: {type: python, inputs: [orders], outputs: [scored], code_env: py, description: Score}
"""
WORKSPACE = """\
version: 1
environments:
  dev:
    host: embedded
    remap: {connections: {warehouse: pg_dev, storage: filesystem_managed}, code_envs: {py: py_dev}}
  prod:
    host: embedded
    node: prod
    remap: {connections: {warehouse: pg_prod, storage: filesystem_managed}, code_envs: {py: py_prod}}
"""
MISSING = [r"error: projects/pre\.yaml:3:\d+: connection 'pg_dev' \(warehouse\) of dataset 'orders' does not exist "
           r"on dev",
           r"error: projects/pre\.yaml:6:\d+: python code env 'py_dev' \(py\) of recipe 'score' does not exist on dev"]


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]


def dss(root: Path, env: str = "dev") -> tuple[Workspace, DSSClient]:
    ws = Workspace.load(root)
    return ws, ws.connection(env).client


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_workspace(tmp_path, {"pre": PROJECT}, workspace_yaml=WORKSPACE)


def create_what_dev_needs(root: Path) -> None:
    ws, client = dss(root)
    with ws:
        client.create_connection("pg_dev", "PostgreSQL", {"host": "db", "defaultSchema": "public"})
        client.create_code_env("python", "py_dev", "DESIGN_MANAGED")


def test_apply_refuses_before_creating_anything(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (("plan", "-e", "dev"), ("apply", "-e", "dev", "--yes")):
        assert run(root, *command) == 3
        found = errors(capsys)
        assert len(found) == 2 and all(re.fullmatch(p, line) for p, line in zip(MISSING, found, strict=True)), found
    ws, client = dss(root)
    with ws:
        assert "PRE" not in client.list_project_keys()  # the project was not created before the dataset failed
        assert ws.state("dev").serial == 0 and ws.state_store("dev").history() == []
        # The wrong type is refused as well.
        client.create_connection("pg_dev", "Filesystem", {"root": "/data"})
        client.create_code_env("python", "py_dev", "DESIGN_MANAGED")
    assert run(root, "apply", "-e", "dev", "--yes") == 3
    assert [re.sub(r":\d+:\d+:", ":L:C:", e) for e in errors(capsys)] == [
        "error: projects/pre.yaml:L:C: dataset 'orders' is PostgreSQL, but connection 'pg_dev' (warehouse) on dev is "
        "Filesystem"]
    ws, client = dss(root)
    with ws:
        client.get_connection("pg_dev").delete()
        client.create_connection("pg_dev", "PostgreSQL", {"host": "db", "defaultSchema": "public"})
    # prod's connections and code envs do not exist on its node: no reason to refuse dev's apply.
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    assert run(root, "plan", "-e", "prod") == 3
    assert "connection 'pg_prod' (warehouse) of dataset 'orders' does not exist on prod" in capsys.readouterr().err


def test_only_what_the_plan_writes_is_checked(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_what_dev_needs(root)
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    ws, client = dss(root)
    with ws:
        client.get_connection("pg_dev").delete()  # an administrator removes it after the apply
    # Nothing to write: the plan, drift and a change elsewhere need no connection.
    assert run(root, "plan", "-e", "dev", "--detailed-exitcode") == 0
    assert run(root, "drift", "-e", "dev") == 0
    (root / "projects" / "pre.yaml").write_text(PROJECT.replace("description: Score", "description: Scores"))
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    # Destroying needs no connection either.
    capsys.readouterr()
    assert run(root, "destroy", "-e", "dev", "--yes") == 0
    assert "4 destroyed" in capsys.readouterr().out
    ws, client = dss(root)
    with ws:
        assert "PRE" not in client.list_project_keys()
    # Creating the dataset again does need it.
    assert run(root, "plan", "-e", "dev") == 3
    assert "connection 'pg_dev' (warehouse) of dataset 'orders' does not exist on dev" in capsys.readouterr().err


def test_a_saved_plan_is_checked_again_when_applied(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    create_what_dev_needs(root)
    assert run(root, "apply", "-e", "dev", "--yes") == 0
    (root / "projects" / "pre.yaml").write_text(PROJECT.replace("description: Score", "description: Scores"))
    assert run(root, "plan", "-e", "dev", "--out", "saved.plan") == 0
    ws, client = dss(root)
    with ws:
        serial = ws.state("dev").serial
        client.get_code_env("PYTHON", "py_dev").delete()  # between the review and the apply
    capsys.readouterr()
    assert run(root, "apply", "saved.plan") == 3
    assert [re.sub(r":\d+:\d+:", ":L:C:", e) for e in errors(capsys)] == [
        "error: projects/pre.yaml:L:C: python code env 'py_dev' (py) of recipe 'score' does not exist on dev"]
    ws, client = dss(root)
    with ws:
        assert ws.state("dev").serial == serial
        assert client.get_project("PRE").get_recipe("score").get_settings().get_recipe_raw_definition()[
            "description"] == "Score"


def test_the_check_lists_connections_and_code_envs_once(root: Path) -> None:
    create_what_dev_needs(root)
    with Workspace.load(root) as ws:
        ws.connection("dev")
        sim = ws.embedded()
        sim.reset_stats()
        plan = ws.plan("dev")
        routes = sim.stats()["byRoute"]
        listings = {route: n for route, n in routes.items()
                    if route in ("GET /admin/connections/", "GET /admin/code-envs/")}
        assert len(plan.changes) == 4
        assert listings == {"GET /admin/connections/": 1, "GET /admin/code-envs/": 1}, json.dumps(routes)


def test_a_key_that_may_not_list_code_envs_still_checks_connections(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with Simulator(govern=False, automation_nodes=(), user_keys={"alice-key": "alice"}) as sim:
        root = write_workspace(tmp_path, {"pre": PROJECT}, workspace_yaml=WORKSPACE.replace(
            "host: embedded\n    remap: {connections: {warehouse: pg_dev",
            f"host: '{sim.base_url}'\n    api_key: alice-key\n    remap: {{connections: {{warehouse: pg_dev"))
        # Connections by name (their types are for administrators), code envs not at all: said, not guessed.
        assert run(root, "validate", "-e", "dev") == 3
        err = capsys.readouterr().err
        assert "not checked on dev: code envs (listing them needs an administrator's API key)" in err
        assert [line for line in err.splitlines() if line.startswith("error:")] == [
            "error: projects/pre.yaml:3:42: connection 'pg_dev' (warehouse) of dataset 'orders' does not exist on dev"]
        assert run(root, "plan", "-e", "dev") == 3
        sim.client().create_connection("pg_dev", "PostgreSQL", {"host": "db"})
        assert run(root, "validate", "-e", "dev") == 0
        assert run(root, "plan", "-e", "dev") == 0
