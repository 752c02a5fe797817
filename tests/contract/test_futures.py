"""Long-running tasks as futures, through dataikuapi only: running, done, aborted and after completion, on
every node. The simulator's `future_polls` knob keeps a task running for that many polls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.future import DSSFuture

from dataiku_iac.sim import SimOptions, Simulator
from tests.conftest import AGAINST_REAL_DSS

SLOW_TASKS = pytest.mark.skipif(AGAINST_REAL_DSS, reason="keeps tasks running with the simulator's future_polls")
REPO = "https://example.com/team/utils.git"


@pytest.fixture(scope="module")
def slow_sim() -> Iterator[Simulator]:
    with Simulator(options=SimOptions(future_polls=5)) as sim:
        yield sim


def _start(client: DSSClient, target: str) -> DSSFuture:
    key = "F" + uuid.uuid4().hex[:10].upper()
    project = client.create_project(key, key, client.get_auth_info()["authIdentifier"])
    return project.get_project_git().add_library(REPO, target, "main", as_type="object")


@SLOW_TASKS
@pytest.mark.parametrize("node", ["design", "automation"])
def test_a_future_runs_then_keeps_its_result(slow_sim: Simulator, node: str) -> None:
    client = slow_sim.client(node)
    future = _start(client, "lib_a")
    assert future.job_id and not future.has_result()  # running: the reply carried no result
    with pytest.raises(Exception, match="Result not ready"):
        future.get_result()
    peeked = future.peek_state()
    assert peeked["hasResult"] is False and peeked["alive"] is True
    result = future.wait_for_result()
    assert result["success"] is True and result["localTargetPath"] == "lib_a"
    assert future.has_result() and future.get_result() == result
    # after completion the task still answers with its result
    assert DSSFuture(client, future.job_id).get_state()["result"] == result
    assert DSSFuture(client, future.job_id).peek_state()["hasResult"] is True


@SLOW_TASKS
@pytest.mark.parametrize("node", ["design", "automation"])
def test_an_aborted_future_never_gets_a_result(slow_sim: Simulator, node: str) -> None:
    client = slow_sim.client(node)
    future = _start(client, "lib_b")
    future.abort()
    state = future.get_state()
    assert state["aborted"] is True and state["alive"] is False and not future.has_result()
    with pytest.raises(Exception, match="Result not ready"):
        future.get_result()


def test_a_finished_task_answers_at_once(dss: DSSClient) -> None:
    key = "F" + uuid.uuid4().hex[:10].upper()
    project = dss.create_project(key, key, dss.get_auth_info()["authIdentifier"])
    reply = project.get_project_git().add_library(REPO, "lib_c", "main")
    assert DSSFuture.get_result_wait_if_needed(dss, reply)["localTargetPath"] == "lib_c"
    assert DSSFuture.from_resp(dss, reply).wait_for_result()["success"] is True
    project.delete()


def test_an_unknown_future_is_an_error(dss: DSSClient) -> None:
    with pytest.raises(Exception, match="not found"):
        DSSFuture(dss, "no_such_future").get_state()
