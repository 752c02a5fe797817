"""`dss-iac tui` in a real terminal (tmux): it starts, shows the overview, and quits on `q`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TIMEOUT = 60.0


def wait_until(check: Callable[[], bool], what: str, shown: Callable[[], str]) -> None:
    """Poll a condition of the terminal with a deadline (a real terminal offers nothing to wait on)."""
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; the terminal shows:\n{shown()}")
        time.sleep(0.1)


Tmux = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    # CI installs tmux from Debian's packages (.ci/run); the test needs it and says so.
    assert shutil.which("tmux"), "tmux is needed: apt-get install -y tmux"
    socket = f"dss-iac-test-{uuid.uuid4().hex[:8]}"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=30)

    yield run
    run("kill-server")


def test_tui_starts_shows_the_overview_and_quits_on_q(simple_ws: Path, tmux: Tmux) -> None:
    rc_file = simple_ws.parent / "rc"
    # `remain-on-exit`: a crash stays on screen for the failure message.
    command = f"{sys.executable} -m dataiku_iac.cli.main -C {simple_ws} tui -e dev; echo $? > {rc_file}"
    assert tmux("new-session", "-d", "-s", "smoke", "-x", "120", "-y", "32", "sh", "-c", command).returncode == 0
    tmux("set-option", "-t", "smoke", "remain-on-exit", "on")

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "smoke").stdout

    wait_until(lambda: "Overview" in screen() and "CHURN" in screen() and "never applied" in screen(),
               "the overview", screen)
    assert "Plan review" in screen() and "Quit" in screen()
    tmux("send-keys", "-t", "smoke", "q")
    wait_until(rc_file.exists, "the app to exit", screen)
    assert rc_file.read_text().strip() == "0"
