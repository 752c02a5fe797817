"""The shared embedded DSS: what it costs to start, and what applying to it costs. Prints figures; asserts nothing.

- `dss-iac plan -e dev` on examples/simple-project (applied), as a user runs it: with no embedded DSS running
  (cold: the command starts it) and with one running (warm: another process, or an earlier command, started it);
- an apply of ~500 resources to the embedded DSS and to a served `Simulator`, from the same process
  (DESIGN.md §9: the embedded DSS writes cost what they change).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from dataiku_iac import Workspace
from dataiku_iac.sim import Simulator

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "simple-project"
RUNS = 7
PROJECTS = 8  # x 62 = 496 resources


def dss_iac(root: Path, *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], check=True, capture_output=True)
    return time.perf_counter() - t0


def plan_cold_and_warm() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "simple-project"
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
        dss_iac(root, "apply", "-e", "dev", "--yes")
        cold, warm = [], []
        for _ in range(RUNS):
            dss_iac(root, "sim", "stop")
            cold.append(dss_iac(root, "plan", "-e", "dev"))
            warm.append(dss_iac(root, "plan", "-e", "dev"))
        dss_iac(root, "sim", "stop")
    print(f"dss-iac plan -e dev (simple-project, 11 resources): cold embedded DSS median "
          f"{statistics.median(cold):.2f} s (best {min(cold):.2f}), warm median {statistics.median(warm):.2f} s "
          f"(best {min(warm):.2f})")


def timed_apply(root: Path) -> tuple[float, int]:
    with Workspace.load(root) as ws:
        plan = ws.plan("bench")
        t0 = time.perf_counter()
        result = ws.apply(plan)
        return time.perf_counter() - t0, len(result.succeeded)


def apply_embedded_and_served() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = synthetic.write(Path(tmp) / "embedded", PROJECTS)
        embedded, count = timed_apply(root)
        dss_iac(root, "sim", "stop")
    with tempfile.TemporaryDirectory() as tmp, Simulator(govern=False, automation_nodes=(),
                                                         data_dir=Path(tmp) / "sim") as sim:
        root = synthetic.write(Path(tmp) / "served", PROJECTS, host=sim.base_url, api_key=sim.api_key)
        served, _ = timed_apply(root)
    print(f"apply of {count} resources: {embedded:.2f} s to the embedded DSS, {served:.2f} s to a served simulator "
          f"with a data dir ({(embedded / served - 1) * 100:+.0f}%)")


def main() -> None:
    plan_cold_and_warm()
    apply_embedded_and_served()


if __name__ == "__main__":
    main()
