"""Latency, fault injection and request accounting, as a client sees them."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import requests
from dataikuapi.utils import DataikuException

from dataiku_iac.sim import Simulator


def _outcomes(sim: Simulator, n: int) -> list[str]:
    client = sim.client()
    out = []
    for _ in range(n):
        try:
            client.list_project_keys()
            out.append("ok")
        except DataikuException as e:
            out.append("429" if "TooManyRequests" in str(e) else "500")
        except requests.ConnectionError:
            out.append("reset")
    return out


def test_every_fault_kind_reaches_the_client() -> None:
    with Simulator(fault_rate=1.0, seed=3, govern=False) as sim:
        outcomes = _outcomes(sim, 40)
        assert set(outcomes) == {"500", "429", "reset"}
        assert sim.stats()["faults"] == 40


def test_faults_follow_the_seed() -> None:
    runs = []
    for _ in range(2):
        with Simulator(fault_rate=0.3, seed=11, govern=False) as sim:
            runs.append(_outcomes(sim, 30))
    assert runs[0] == runs[1]
    assert 0 < runs[0].count("ok") < 30


def test_429_carries_retry_after() -> None:
    with Simulator(fault_rate=1.0, seed=0, govern=False) as sim:
        for _ in range(50):
            try:
                r = requests.get(sim.base_url + "/dip/publicapi/projects/", auth=(sim.api_key, ""), timeout=5)
            except requests.ConnectionError:
                continue
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) >= 1
                assert r.json()["errorType"].endswith("TooManyRequestsException")
                return
        raise AssertionError("no 429 in 50 faulty requests")


def test_knobs_change_at_run_time_and_writes_are_not_half_applied() -> None:
    with Simulator(govern=False) as sim:
        client = sim.client()
        sim.configure(fault_rate=1.0)
        failed = _outcomes(sim, 5)
        assert "ok" not in failed
        sim.configure(fault_rate=0.0)
        client.create_project("AFTER", "after", "admin")
        assert client.list_project_keys() == ["AFTER"]


def test_latency_is_added_to_each_request() -> None:
    with Simulator(latency_ms=150, govern=False) as sim:
        client = sim.client()
        start = time.perf_counter()
        client.list_project_keys()
        client.list_project_keys()
        assert time.perf_counter() - start >= 0.3


def test_a_held_simulator_answers_only_when_released() -> None:
    with Simulator(govern=False) as sim:
        client = sim.client()
        answered = threading.Event()

        def ask() -> None:
            client.list_project_keys()
            answered.set()

        with sim.hold():
            asker = threading.Thread(target=ask)
            asker.start()
            assert not answered.wait(0.5)  # a DSS that hangs: the call is still waiting
        assert answered.wait(10)
        asker.join()


def test_request_counter_from_python_and_http() -> None:
    with Simulator(govern=False) as sim:
        client = sim.client()
        client.create_project("CNT", "count", "admin")
        client.get_project("CNT").get_settings()
        stats = sim.stats()
        assert stats["requests"] == 2
        assert stats["byRoute"] == {"POST /projects/": 1, "GET /projects/{project_key}/settings": 1}
        over_http = requests.get(sim.base_url + "/__sim__/stats", params={"log": "true"}, timeout=5).json()
        assert over_http["requests"] == 2
        assert [e["path"] for e in over_http["log"]] == ["/projects/", "/projects/CNT/settings"]
        requests.delete(sim.base_url + "/__sim__/stats", timeout=5)
        assert sim.stats()["requests"] == 0
        client.list_project_keys()
        sim.reset_stats()
        assert sim.stats()["requests"] == 0


def test_stats_count_per_node() -> None:
    with Simulator() as sim:
        sim.client().list_project_keys()
        sim.client(node="automation").list_project_keys()
        sim.client(node="automation").list_project_keys()
        assert sim.stats()["byNode"] == {"design": 1, "automation": 2}


def test_fail_next_can_wait_for_the_call_it_targets() -> None:
    with Simulator(govern=False, automation_nodes=()) as sim:
        sim.fail_next(1, "500", after=2)
        assert _outcomes(sim, 4) == ["ok", "ok", "500", "ok"]


def test_a_lost_reply_looks_like_a_reset_yet_dss_did_the_write() -> None:
    with Simulator(govern=False, automation_nodes=()) as sim:
        client = sim.client()
        sim.fail_next(1, "lost", method="POST")
        with pytest.raises(requests.ConnectionError):
            client.create_project("LOST", "lost", "admin")
        assert client.list_project_keys() == ["LOST"]
        assert [(e["method"], e["status"], e["fault"]) for e in sim.stats(with_log=True)["log"]] == [
            ("POST", 200, "lost"), ("GET", 200, None)]


CRASHING_CLIENT = """
import sys
from dataiku_iac.sim import SimOptions, Simulator
knob = {sys.argv[2]: 2}
with Simulator(data_dir=sys.argv[1], govern=False, automation_nodes=(), options=SimOptions(**knob)) as sim:
    client = sim.client()
    for key in ("FIRST", "SECOND", "THIRD"):
        client.create_project(key, key, "admin")
"""


@pytest.mark.parametrize(("knob", "stored"), [("crash_before_write", ["FIRST"]),
                                              ("crash_after_writes", ["FIRST", "SECOND"])])
def test_crash_knobs_kill_the_process_before_or_after_the_kth_write(tmp_path, knob: str, stored: list[str]) -> None:
    run = subprocess.run([sys.executable, "-c", CRASHING_CLIENT, str(tmp_path), knob], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == -9, run.stderr[-1000:]
    with Simulator(data_dir=tmp_path, govern=False, automation_nodes=()) as sim:
        assert sim.client().list_project_keys() == stored


def test_queued_faults_can_be_cleared() -> None:
    with Simulator(govern=False, automation_nodes=()) as sim:
        sim.fail_next(2, "500", after=1)
        sim.clear_faults()
        assert _outcomes(sim, 3) == ["ok", "ok", "ok"]
