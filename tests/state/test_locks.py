"""Two applies at once: exactly one proceeds; the other fails fast naming the holder, or waits its turn.
A holder killed with -9 does not block the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataiku_iac.sim import Simulator
from tests.engine.conftest import write_workspace

PROJECT = "project: {key: LOCKS, name: Locks}\ndatasets:\n" + "\n".join(
    f"  ds_{i}: {{type: Filesystem, connection: filesystem_managed, params: {{path: /l/{i}}}}}" for i in range(12))


@pytest.fixture
def slow_dss() -> Iterator[Simulator]:
    """A DSS shared by separate processes, slow enough for an apply to last a few seconds."""
    with Simulator(govern=False, automation_nodes=(), latency_ms=60) as sim:
        yield sim


def start(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_lock(root: Path, deadline: float = 30.0) -> dict:
    """The lease the first run took, read from whichever backend the workspace uses."""
    from dataiku_iac.config.loader import load_workspace
    from dataiku_iac.state.backends import open_blobs

    blobs = open_blobs(load_workspace(root).spec.state, root)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        got = blobs.get("dev/lock.json")
        if got is not None:
            try:
                return json.loads(got[0])
            except ValueError:
                pass
        time.sleep(0.02)
    raise AssertionError("the first apply never took the lock")


def ws_for(tmp_path: Path, sim: Simulator, ttl: float = 60, state: str = "") -> Path:
    return write_workspace(tmp_path, {"locks": PROJECT}, workspace_yaml=(
        f"version: 1\nenvironments:\n  dev: {{host: '{sim.base_url}', api_key: '{sim.api_key}'}}\n"
        f"state: {{lock_ttl_seconds: {ttl}{state}}}\n"))


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_second_apply_fails_fast_naming_the_holder_then_waits(tmp_path: Path, slow_dss: Simulator, backend: str,
                                                              request: pytest.FixtureRequest) -> None:
    state = ""
    if backend == "s3":
        s3 = request.getfixturevalue("s3_endpoint")  # moto's S3 over HTTP; fake credentials in the environment
        state = f", backend: s3, bucket: {s3.bucket}, endpoint_url: '{s3.url}', region: us-east-1"
    root = ws_for(tmp_path, slow_dss, state=state)
    first = start(root, "apply", "-e", "dev", "--yes")
    holder = wait_for_lock(root)
    with slow_dss.hold():  # the first apply cannot finish while the second starts, however slow this machine is
        second = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "apply", "-e", "dev", "--yes"],
                                capture_output=True, text=True, timeout=60)
    assert second.returncode == 4, second.stdout + second.stderr
    assert f"lock {holder['id']} held by {holder['who']}" in second.stderr
    assert f"dss-iac state unlock -e dev {holder['id']}" in second.stderr
    waiting = start(root, "apply", "-e", "dev", "--yes", "--lock-timeout", "2m")
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert "Apply complete! Resources: 13 added" in out
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert "No changes." in out  # it ran after the first one, on the state it left


def test_a_holder_killed_with_9_does_not_block_the_next_run(tmp_path: Path, slow_dss: Simulator) -> None:
    root = ws_for(tmp_path, slow_dss)
    first = start(root, "apply", "-e", "dev", "--yes")
    wait_for_lock(root)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)
    again = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "apply", "-e", "dev", "--yes"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    check = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "plan", "-e", "dev",
                            "--detailed-exitcode"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout


def test_a_lease_left_on_another_host_expires(tmp_path: Path, slow_dss: Simulator) -> None:
    root = ws_for(tmp_path, slow_dss, ttl=2)
    lock = root / ".dss-iac" / "state" / "dev" / "lock.json"
    lock.parent.mkdir(parents=True)

    def leave_lease(expires_in: float) -> None:
        lock.write_text(json.dumps({"id": "ci-runner-7", "who": "ci@runner-7", "pid": 4242, "host": "runner-7",
                                    "operation": "apply", "started": "2026-11-26T10:00:00+00:00",
                                    "expires": time.time() + expires_in}))

    leave_lease(3600)  # alive for as long as the two first runs take, however slow this machine is
    blocked = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "plan", "-e", "dev"],
                             capture_output=True, text=True, timeout=60)
    assert blocked.returncode == 0  # plan does not lock
    early = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "apply", "-e", "dev", "--yes"],
                           capture_output=True, text=True, timeout=60)
    assert early.returncode == 4 and "held by ci@runner-7" in early.stderr
    leave_lease(3)  # its holder is gone: no heartbeat renews it
    late = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "apply", "-e", "dev", "--yes",
                           "--lock-timeout", "30s"], capture_output=True, text=True, timeout=60)
    assert late.returncode == 0, late.stderr
