"""State costs and crash recovery (issue 4 figures). Prints figures; asserts nothing.

- apply of ~500 resources with the journal (an intent and a result per DSS write) and without it;
- recovery after `kill -9` in the middle of that apply: the time the next apply spends recovering, and the
  time it takes to finish the job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from dataiku_iac import Workspace
from dataiku_iac.sim import Simulator

PROJECTS = 8  # x 62 = 496 resources


def timed_apply(journal: bool) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp, Simulator(govern=False, automation_nodes=()) as sim:
        root = synthetic.write(Path(tmp), PROJECTS, host=sim.base_url, api_key=sim.api_key)
        with Workspace.load(root) as ws:
            plan = ws.plan("bench")
            t0 = time.perf_counter()
            result = ws.apply(plan, journal=journal)
            return time.perf_counter() - t0, len(result.succeeded), result.state_writes


def crash_and_recover() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = synthetic.write(Path(tmp), PROJECTS)
        env = {**os.environ, "DSS_IAC_SIM_CRASH_AFTER_WRITES": "500"}
        t0 = time.perf_counter()
        crashed = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "apply", "-e", "bench",
                                  "--yes"], env=env, capture_output=True, text=True)
        crash_at = time.perf_counter() - t0
        log = root / ".dss-iac" / "state" / "bench" / "journal" / "log.jsonl"
        journal = len(log.read_text().splitlines()) if log.exists() else 0
        with Workspace.load(root) as ws:
            t0 = time.perf_counter()
            found = ws.recover("bench")
            recovery = time.perf_counter() - t0
            t0 = time.perf_counter()
            result = ws.apply(ws.plan("bench"))
            finish = time.perf_counter() - t0
            left = len(ws.plan("bench").changes)
        print(f"crash: killed (exit {crashed.returncode}) after 500 DSS writes, {crash_at:.1f} s into the apply; "
              f"{journal} journal records left")
        adopted = sum("adopted" in f for f in found)
        print(f"recovery: {recovery:.2f} s ({len(found)} unfinished operations checked in DSS, {adopted} adopted); "
              f"finishing apply: {finish:.1f} s, {len(result.succeeded)} operations; changes left: {left}")
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    with_journal = timed_apply(journal=True)
    without = timed_apply(journal=False)
    print(f"apply of {with_journal[1]} resources: {with_journal[0]:.2f} s with the journal, {without[0]:.2f} s "
          f"without ({(with_journal[0] / without[0] - 1) * 100:+.0f}%); state snapshots written: "
          f"{with_journal[2]} and {without[2]} (coalesced)")
    crash_and_recover()


if __name__ == "__main__":
    main()
