"""Code env builds as DSS runs them when not waited for: a future that is running (alive, no result, its
progress states saying what the build does now) until it is done, with the packages installed only then; an
aborted build never gets a result and leaves no installed packages behind."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.future import DSSFuture
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS

guess = pytest.mark.skipif(AGAINST_REAL_DSS, reason="asserts the simulator's step names, unverified on a real DSS")
PACKAGES = "pandas>=2.0\nnumpy"


@pytest.fixture
def env_name(dss: DSSClient) -> Iterator[str]:
    name = f"build_{uuid.uuid4().hex[:8]}"
    yield name
    with contextlib.suppress(DataikuException):
        dss.get_code_env("PYTHON", name).delete()


def _states(state: dict[str, Any]) -> list[dict[str, Any]]:
    return list((state.get("progress") or {}).get("states") or [])


def _poll(future: DSSFuture) -> list[list[dict[str, Any]]]:
    """Poll until done (as wait_for_result does, without its pauses): the progress states seen while running."""
    seen = [_states(future.state)] if not future.state.get("hasResult") else []
    for _ in range(1000):
        state = future.get_state()
        if state.get("hasResult"):
            return seen
        assert state["alive"] is True and not state.get("aborted")
        seen.append(_states(state))
    raise AssertionError("the build never finished")


def test_a_code_env_build_runs_then_is_done(dss: DSSClient, env_name: str) -> None:
    future = dss.create_code_env("PYTHON", env_name, "DESIGN_MANAGED", {"specPackageList": PACKAGES}, wait=False)
    assert isinstance(future, DSSFuture)
    assert future.state["alive"] is True and future.state["hasResult"] is False
    with pytest.raises(Exception, match="Result not ready"):
        future.get_result()
    seen = _poll(future)
    assert seen and all(s and all(isinstance(x.get("name"), str) for x in s) for s in seen)
    result = future.get_result()
    assert result["envName"] == env_name and not result["messages"]["error"]
    assert dss.get_code_env("PYTHON", env_name).get_definition()["actualPackageList"] == PACKAGES
    # A finished build keeps its result for later polls.
    assert DSSFuture(dss, future.job_id).wait_for_result()["envName"] == env_name


@guess
def test_a_build_reports_each_step_with_its_count(dss: DSSClient, env_name: str) -> None:
    future = dss.create_code_env("PYTHON", env_name, "DESIGN_MANAGED", {"specPackageList": PACKAGES}, wait=False)
    seen = _poll(future)
    assert [s[-1]["name"] for s in seen] == ["Creating the environment", "Installing pandas>=2.0",
                                             "Installing numpy", "Checking the environment"]
    assert [(s[0]["cur"], s[0]["target"]) for s in seen] == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert seen[0][0]["name"] == f"Creating code env {env_name}"
    # While it runs, the env is registered but has nothing installed yet.
    dss.create_code_env("PYTHON", env_name + "_b", "DESIGN_MANAGED", {"specPackageList": "scipy"}, wait=False)
    try:
        assert dss.get_code_env("PYTHON", env_name + "_b").get_definition()["actualPackageList"] == ""
    finally:
        dss.get_code_env("PYTHON", env_name + "_b").delete()


def test_a_package_update_is_a_future_too(dss: DSSClient, env_name: str) -> None:
    dss.create_code_env("PYTHON", env_name, "DESIGN_MANAGED", {"specPackageList": "pandas"})
    env = dss.get_code_env("PYTHON", env_name)
    settings = env.get_settings()
    settings.set_required_packages("pandas", "scikit-learn")
    settings.save()
    future = env.update_packages(wait=False)
    assert isinstance(future, DSSFuture)
    assert _poll(future)
    assert not future.get_result()["messages"]["error"]
    assert env.get_definition()["actualPackageList"] == "pandas\nscikit-learn"


@guess
def test_an_aborted_build_never_gets_a_result(dss: DSSClient, env_name: str) -> None:
    future = dss.create_code_env("PYTHON", env_name, "DESIGN_MANAGED", {"specPackageList": PACKAGES}, wait=False)
    future.get_state()
    future.abort()
    state = future.get_state()
    assert state["aborted"] is True and state["alive"] is False and not future.has_result()
    # The env is registered, its build never finished: it cannot be read, its log says why; it can be deleted.
    env = dss.get_code_env("PYTHON", env_name)
    with pytest.raises(DataikuException, match=r"desc\.json"):
        env.get_definition()
    assert "aborted" in env.get_log(env.list_logs()[-1]["name"])


@guess
def test_an_aborted_update_keeps_the_installed_packages(dss: DSSClient, env_name: str) -> None:
    dss.create_code_env("PYTHON", env_name, "DESIGN_MANAGED", {"specPackageList": "pandas"})
    env = dss.get_code_env("PYTHON", env_name)
    settings = env.get_settings()
    settings.set_required_packages("pandas", "torch")
    settings.save()
    future = env.update_packages(wait=False)
    future.abort()
    assert future.get_state()["aborted"] is True
    assert env.get_definition()["actualPackageList"] == "pandas"
