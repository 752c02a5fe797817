"""Shared fixtures.

Contract tests (tests/contract/) talk to DSS only through dataikuapi. They run against the simulator
by default, and against a real DSS when DSS_IAC_REAL_HOST and DSS_IAC_REAL_API_KEY are set; tests that
need the simulator's several nodes are marked `multinode` and skip there with the reason.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dataikuapi import DSSClient

from dataiku_iac.dss.connect import IDLE_ENV
from dataiku_iac.sim import Simulator
from dataiku_iac.sim.shared import stop
from dataiku_iac.sim.store import CHECK_ENV

# Embedded DSS servers started by tests (and the CLI runs they spawn) stop soon after their last use; the
# fixtures below stop those of each test's folder at once, and any left when the session ends.
os.environ.setdefault(IDLE_ENV, "10")
# Every persisted simulator (and embedded DSS) the tests start checks each precise write against a full comparison:
# a change that escaped the store's tracking fails its request here instead of vanishing at a user's next restart.
os.environ.setdefault(CHECK_ENV, "1")

REAL_HOST = os.environ.get("DSS_IAC_REAL_HOST")
REAL_KEY = os.environ.get("DSS_IAC_REAL_API_KEY")
AGAINST_REAL_DSS = bool(REAL_HOST and REAL_KEY)
NON_ADMIN_KEY = "sim-non-admin-key"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not AGAINST_REAL_DSS:
        return
    skip = pytest.mark.skip(reason="needs the simulator's automation, deployer and govern nodes side by side")
    for item in items:
        if "multinode" in item.keywords:
            item.add_marker(skip)


def stop_embedded_dss(root: Path) -> list[int]:
    """Stop every embedded DSS server whose workspace lies under `root`; their pids."""
    return [pid for found in root.rglob(".dss-iac/sim/embedded/server.json")
            if (pid := stop(found.parent)) is not None]


@pytest.fixture(autouse=True)
def _no_embedded_dss_left(request: pytest.FixtureRequest) -> Iterator[None]:
    tmp_path = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    if tmp_path is not None:
        stop_embedded_dss(tmp_path)


@pytest.fixture(autouse=True, scope="session")
def _no_embedded_dss_left_at_the_end(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    stop_embedded_dss(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    """One simulator for the session: a design node, an `automation` node and a govern node."""
    with Simulator(user_keys={NON_ADMIN_KEY: "alice"}) as s:
        yield s


@pytest.fixture
def fresh_sim(tmp_path) -> Iterator[Simulator]:
    """A simulator of the test's own, for tests that change knobs or count requests."""
    with Simulator(user_keys={NON_ADMIN_KEY: "alice"}) as s:
        yield s


@pytest.fixture(scope="session")
def dss(request: pytest.FixtureRequest) -> DSSClient:
    """A real dataikuapi client on the design node: the simulator's, or a real DSS's."""
    if AGAINST_REAL_DSS:
        return DSSClient(REAL_HOST, REAL_KEY)
    return request.getfixturevalue("sim").client()


@pytest.fixture
def project_key() -> str:
    return "T" + uuid.uuid4().hex[:10].upper()


@pytest.fixture
def project(dss: DSSClient, project_key: str) -> Iterator:
    """A fresh, empty project, deleted afterwards (real DSS runs leave nothing behind)."""
    owner = dss.get_auth_info()["authIdentifier"]
    p = dss.create_project(project_key, f"Test {project_key}", owner)
    yield p
    with contextlib.suppress(Exception):  # the test may have deleted it already
        p.delete()
