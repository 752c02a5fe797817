"""A design node, `staging` and `prod` automation nodes and a Govern node of a simulator started per test, and a Git
workspace whose `dev` environment is the design node and whose `prod` environment (deploy: bundle) is the prod node."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import git
import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.projectdeployer import DSSProjectDeployer

from dataiku_iac.cli.main import main
from dataiku_iac.sim import Simulator
from tests.gitrepos import commit_all, make_repo, write

KEY_VAR = "DSS_IAC_TEST_PROMOTE_KEY"
PG = {"host": "db.example.com", "port": 5432, "db": "dwh", "user": "etl"}

# The environments of dss-iac.yaml: `{url}` is the design node's URL, `{var}` the variable holding the API key.
ENVIRONMENTS = """\
  dev:
    host: {url}
    api_key: ${{env:{var}}}
    remap:
      connections: {{warehouse: pg_dev, files: filesystem_managed}}
      code_envs: {{py: py_dev}}
  prod:
    host: {url}/prod
    api_key: ${{env:{var}}}
    deploy: bundle
    remap:
      connections: {{warehouse: pg_prod, files: filesystem_managed}}
      code_envs: {{py: py_prod}}
    variables: {{env: prod, threshold: "0.9"}}
"""

CHURN = """\
project:
  key: CHURN
  name: Churn
  variables:
    standard: {threshold: "0.5"}
    local: {home: /data/churn}
datasets:
  orders:
    type: PostgreSQL
    connection: warehouse
    params: {table: orders, schema: sales}
  customers: {type: Filesystem, managed: true, connection: files, format: csv}
  scored: {type: Filesystem, managed: true, connection: files, format: csv}
recipes:
  copy_orders: {type: sync, inputs: [orders], outputs: [customers]}
  score: {type: python, inputs: [customers], outputs: [scored], code: ../recipes/score.py, code_env: py}
scenarios:
  nightly:
    name: Nightly build
    active: true
    steps: [{type: build, items: [customers]}]
"""
SCORE = "import dataiku\n# score the customers\n"


@dataclass
class Promo:
    """The test's simulator, its clients, and the workspace (a Git repository) promoted from dev to prod."""

    sim: Simulator
    root: Path
    repo: git.Repo

    @property
    def design(self) -> DSSClient:
        return self.sim.client()

    @property
    def prod(self) -> DSSClient:
        return self.sim.client(node="prod")

    @property
    def deployer(self) -> DSSProjectDeployer:
        return self.design.get_projectdeployer()

    def run(self, *args: str) -> int:
        return main(["-C", str(self.root), *args])

    def write(self, files: dict[str, str]) -> None:
        write(self.root, {k: textwrap.dedent(v) for k, v in files.items()})

    def commit(self, message: str = "change") -> str:
        return commit_all(self.repo, message)

    def apply_dev(self) -> None:
        assert self.run("apply", "-e", "dev", "--yes") == 0

    def active_bundle(self, key: str = "CHURN") -> str | None:
        bundles = self.prod.get_project(key).list_imported_bundles()["bundles"]
        return next((b["bundleId"] for b in bundles if b["active"]), None)


P = TypeVar("P", bound=Promo)


@contextmanager
def started(kind: type[P], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nodes: list[str], environments: str,
            files: dict[str, str]) -> Iterator[P]:
    """A simulator with these automation nodes, and a Git workspace on its design node: dss-iac.yaml declaring
    `environments` (see ENVIRONMENTS), and `files`."""
    with Simulator(automation_nodes=nodes) as sim:
        monkeypatch.setenv(KEY_VAR, sim.api_key)
        root = tmp_path / "ws"
        workspace = "version: 1\nprojects: [projects/*.yaml]\nenvironments:\n" + environments
        files = {"dss-iac.yaml": workspace.format(url=sim.url("design"), var=KEY_VAR), ".gitignore": ".dss-iac/\n",
                 **files}
        yield kind(sim, root, make_repo(root, files=files))


@pytest.fixture
def promo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Promo]:
    files = {"projects/churn.yaml": CHURN, "recipes/score.py": SCORE}
    with started(Promo, tmp_path, monkeypatch, ["staging", "prod"], ENVIRONMENTS, files) as promo:
        sim = promo.sim
        sim.client().create_connection("pg_dev", "PostgreSQL", params=dict(PG))
        sim.client(node="prod").create_connection("pg_prod", "PostgreSQL", params=dict(PG))
        sim.client().create_code_env("python", "py_dev", "DESIGN_MANAGED")
        sim.client(node="prod").create_code_env("python", "py_prod", "AUTOMATION_SINGLE")
        yield promo
