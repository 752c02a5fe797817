"""No-op plan of ~2,500 resources in 40 projects, at 20 ms and 100 ms of simulator latency per request.

Targets (issue 18): at most 0.25 requests per resource, within 1.5x of the floor `requests x latency / parallelism`;
with N objects edited by hand, exactly N more reads. Prints figures beside the floor; asserts nothing.

`--sim process` runs the simulator in a process of its own, as a real DSS runs on its own machine: the time is then
dss-iac's requests and its own work, not the simulator's too (which, in the same process, takes the interpreter lock
the plan needs). The CPU time printed is this process's: dss-iac's own, and the simulator's with `--sim thread`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic
from sim_process import SimProcess

from dataiku_iac import Workspace
from dataiku_iac.sim import Simulator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[20.0, 100.0])
    parser.add_argument("--parallelism", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--edits", type=int, default=25)
    parser.add_argument("--sim", choices=["thread", "process"], default="thread",
                        help="the simulator in this process (default) or in a process of its own")
    parser.add_argument("--repeat", type=int, default=1, help="plans per latency and parallelism (each printed)")
    args = parser.parse_args()
    started = SimProcess() if args.sim == "process" else Simulator(govern=False, automation_nodes=())
    with tempfile.TemporaryDirectory() as tmp, started as sim:
        root = synthetic.write(Path(tmp), args.projects, host=sim.base_url, api_key=sim.api_key)
        with Workspace.load(root) as ws:
            t0 = time.perf_counter()
            plan = ws.plan("bench", parallelism=16)
            t1 = time.perf_counter()
            result = ws.apply(plan, parallelism=16)
            t2 = time.perf_counter()
            n = len(plan.actions)
            print(f"workspace: {args.projects} projects, {n} resources; simulator in a {args.sim}; {synthetic.load()}")
            print(f"first plan (no latency): {t1 - t0:.2f} s; apply: {t2 - t1:.2f} s, "
                  f"{len(result.succeeded)} ok, {len(result.failed)} failed, {result.state_writes} state writes")
            for latency in args.latency_ms:
                sim.configure(latency_ms=latency)
                for parallelism in args.parallelism * args.repeat:
                    sim.reset_stats()
                    t0, c0 = time.perf_counter(), time.process_time()
                    again = ws.plan("bench", parallelism=parallelism)
                    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                    requests = sim.stats()["requests"]
                    floor = requests * latency / 1000 / parallelism
                    print(f"no-op plan, {latency:.0f} ms latency, parallelism {parallelism}: {wall:.2f} s | "
                          f"floor {floor:.2f} s | ratio {wall / floor:.2f} (target <= 1.5) | CPU {cpu:.2f} s | "
                          f"{requests} requests ({requests / n:.3f} per resource, target <= 0.25) | "
                          f"changes {len(again.changes)} | {synthetic.load()}")
            sim.configure(latency_ms=0)
            _edited(ws, sim, args.edits)


def _edited(ws: Workspace, sim: Simulator | SimProcess, count: int) -> None:
    """N datasets edited by hand in N projects: how many more requests the plan makes than a no-op one."""
    sim.reset_stats()
    ws.plan("bench")
    noop = sim.stats()["requests"]
    client = sim.client()
    keys = sorted(p["projectKey"] for p in client.list_projects())
    for i in range(count):
        settings = client.get_project(keys[i % len(keys)]).get_dataset(f"ds_{i // len(keys):02d}").get_settings()
        settings.get_raw()["description"] = "edited by hand"
        settings.save()
    sim.reset_stats()
    plan = ws.plan("bench")
    # A plan with changes also checks the instance's connections (one request).
    reads = sim.stats()["requests"] - noop - (1 if plan.changes else 0)
    print(f"{count} datasets edited by hand: {len(plan.changes)} changes, {reads} more reads than a no-op plan "
          f"(target: exactly {count})")


if __name__ == "__main__":
    main()
