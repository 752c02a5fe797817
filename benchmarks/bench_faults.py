"""Faults and kill -9 during destroy and create (issue 10 figures): runs, duplicates, orphans. Prints; asserts nothing.

- destroy of a synthetic project (62 resources) under the simulator's random faults (rate 0.2), and killed
  (SIGKILL) at a random moment: after each run, the objects DSS still holds that the state forgot
  (orphans: nothing would ever delete them), and whether one more destroy without faults empties DSS;
- the first apply of the same project, whose zones, scenarios and folders get their ids from DSS, under
  random faults (rate 0.3, then applies until nothing is left to do), and killed at a random moment then
  applied again: duplicates (a zone or scenario made twice) and orphans.

The CLI runs in a process of its own against a simulator served from this one, as with `dss-iac sim serve`.
Usage: python benchmarks/bench_faults.py [RUNS]
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from dataiku_iac import Workspace
from dataiku_iac.sim import Simulator

KEY = "BENCH_00"
KILLS: list[bool] = []  # per killed run: whether the process was still running when killed


def held(client: Any) -> Counter[str]:
    """What DSS holds of the project, by address (a twin counts twice)."""
    if KEY not in client.list_project_keys():
        return Counter()
    p = client.get_project(KEY)
    return Counter([f"project.{KEY}", *(f"dataset.{KEY}.{d.name}" for d in p.list_datasets()),
                    *(f"recipe.{KEY}.{r.name}" for r in p.list_recipes()),
                    *(f"managed_folder.{KEY}.{f['name']}" for f in p.list_managed_folders()),
                    *(f"scenario.{KEY}.{s['name']}" for s in p.list_scenarios()),
                    *(f"zone.{KEY}.{z.name}" for z in p.get_flow().list_zones() if z.id != "default")])


def outcome(root: Path, sim: Simulator) -> tuple[int, int]:
    """(duplicates, orphans): objects DSS holds twice, objects DSS holds that the state does not know."""
    objects = held(sim.client())
    with Workspace.load(root) as ws:
        state = set(ws.state("bench").resources)
    return sum(n - 1 for n in objects.values()), sum(1 for a in objects if a not in state)


def cli(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)


def killed(root: Path, rng: random.Random, longest: float, *args: str) -> bool:
    proc = cli(root, *args)
    try:
        proc.wait(timeout=rng.uniform(0.0, longest))
        KILLS.append(False)
        return False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        KILLS.append(True)
        return True


def timed(root: Path, *args: str) -> float:
    t0 = time.perf_counter()
    cli(root, *args).wait()
    return time.perf_counter() - t0


def apply_all(ws: Workspace, tries: int = 10) -> None:
    for _ in range(tries):
        try:
            plan = ws.plan("bench")
            if not plan.has_changes:
                return
            ws.apply(plan)
        except Exception:  # a plan or a lock under faults: the next try goes on
            continue


def report(name: str, rows: list[tuple[int, int, bool]]) -> None:
    if KILLS:
        name += f" ({sum(KILLS)} killed mid-run, {len(KILLS) - sum(KILLS)} finished first)"
        KILLS.clear()
    dup_runs = sum(1 for d, _, _ in rows if d)
    orphan_runs = sum(1 for _, o, _ in rows if o)
    unclean = sum(1 for _, _, clean in rows if not clean)
    print(f"{name}: {len(rows)} runs, {dup_runs} with duplicates ({sum(d for d, _, _ in rows)} objects), "
          f"{orphan_runs} with orphans ({sum(o for _, o, _ in rows)} objects), {unclean} not clean after one more "
          "run without faults")


@contextlib.contextmanager
def fresh(seed: int, kill: bool) -> Iterator[tuple[Path, Simulator]]:
    """Per run: a DSS of its own (a little latency when killing, so that kills land mid-run) and a workspace."""
    with tempfile.TemporaryDirectory() as tmp, Simulator(govern=False, automation_nodes=(), seed=seed,
                                                         latency_ms=5 if kill else 0) as sim:
        yield synthetic.write(Path(tmp), 1, host=sim.base_url, api_key=sim.api_key), sim


def destroy_runs(runs: int, *, fault_rate: float = 0.0, kill: bool = False) -> list[tuple[int, int, bool]]:
    rows = []
    rng = random.Random(7)
    for seed in range(runs):
        with fresh(seed, kill) as (root, sim):
            with Workspace.load(root) as ws:
                apply_all(ws)
            if kill:
                longest = timed(root, "plan", "-e", "bench") * 2  # a destroy takes about a plan and its deletes
                killed(root, rng, longest, "destroy", "-e", "bench", "--yes")
            else:
                sim.configure(fault_rate=fault_rate)
                cli(root, "destroy", "-e", "bench", "--yes").wait()
                sim.configure(fault_rate=0.0)
            dup, orphans = outcome(root, sim)
            cli(root, "destroy", "-e", "bench", "--yes").wait()
            rows.append((dup, orphans, not held(sim.client())))
    return rows


def create_runs(runs: int, *, fault_rate: float = 0.0, kill: bool = False) -> list[tuple[int, int, bool]]:
    rows = []
    rng = random.Random(11)
    for seed in range(runs):
        with fresh(seed, kill) as (root, sim):
            if kill:
                killed(root, rng, timed(root, "plan", "-e", "bench") * 3, "apply", "-e", "bench", "--yes")
                cli(root, "apply", "-e", "bench", "--yes").wait()
            else:
                sim.configure(fault_rate=fault_rate)
                with Workspace.load(root) as ws:
                    apply_all(ws)
                sim.configure(fault_rate=0.0)
            with Workspace.load(root) as ws:
                apply_all(ws)  # converges, or twins stay twins
                clean = not ws.plan("bench").has_changes
            dup, orphans = outcome(root, sim)
            rows.append((dup, orphans, clean))
    return rows


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    print(f"project of {synthetic.resources_per_project()} resources; {runs} runs each")
    report("destroy, fault rate 0.2", destroy_runs(runs, fault_rate=0.2))
    report("destroy, kill -9 at a random moment", destroy_runs(runs, kill=True))
    report("create, fault rate 0.3", create_runs(runs, fault_rate=0.3))
    report("create, kill -9 at a random moment", create_runs(runs, kill=True))


if __name__ == "__main__":
    main()
