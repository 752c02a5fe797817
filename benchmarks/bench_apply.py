"""Creating the ~2,500-resource benchmark workspace (40 projects) at 20 ms of simulator latency per request.

Target (issue 18): within 2x of the floor `requests x latency / parallelism`. Prints the wall time beside the floor,
the requests per operation by kind, and the state writes; asserts nothing. `--sim process`: the simulator in a
process of its own (see bench_plan.py); the CPU time printed is this process's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic
from sim_process import SimProcess

from dataiku_iac import Workspace
from dataiku_iac.sim import Simulator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--sim", choices=["thread", "process"], default="thread",
                        help="the simulator in this process (default) or in a process of its own")
    args = parser.parse_args()
    started = SimProcess() if args.sim == "process" else Simulator(govern=False, automation_nodes=())
    with tempfile.TemporaryDirectory() as tmp, started as sim:
        root = synthetic.write(Path(tmp), args.projects, host=sim.base_url, api_key=sim.api_key)
        with Workspace.load(root) as ws:
            plan = ws.plan("bench", parallelism=args.parallelism)
            ops = Counter(a.kind for a in plan.changes)
            sim.configure(latency_ms=args.latency_ms)
            sim.reset_stats()
            print(f"before: {synthetic.load()}")
            t0, c0 = time.perf_counter(), time.process_time()
            result = ws.apply(plan, parallelism=args.parallelism)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            stats = sim.stats()
            requests = stats["requests"]
            floor = requests * args.latency_ms / 1000 / args.parallelism
            n = sum(ops.values())
            print(f"apply (create) of {n} resources in {args.projects} projects, {args.latency_ms:.0f} ms latency, "
                  f"parallelism {args.parallelism}, simulator in a {args.sim}: {wall:.2f} s | floor {floor:.2f} s | "
                  f"ratio {wall / floor:.2f} "
                  f"(target <= 2) | CPU {cpu:.2f} s | {requests} requests ({requests / n:.2f} per operation) | "
                  f"{len(result.succeeded)} ok, {len(result.failed)} failed | {result.state_writes} state writes")
            writes = sum(v for k, v in stats["byRoute"].items() if not k.startswith("GET"))
            print(f"  requests: {writes} writes, {requests - writes} reads")
            per_kind = _per_kind(stats["byRoute"])
            print("  requests per create, by kind (routes of the kind's own objects; project: everything else): "
                  + ", ".join(f"{k} {per_kind.get(k, 0) / ops[k]:.2f}" for k in ops))
            print(f"after: {synthetic.load()}")


# The kind whose objects a route's path names (the first match); other routes count for the project.
ROUTE_KINDS = (("/datasets", "dataset"), ("/managedfolders", "managed_folder"), ("/recipes", "recipe"),
               ("/scenarios", "scenario"), ("/flow/zones", "zone"), ("/variables", "variables"),
               ("/permissions", "permissions"))


def _per_kind(by_route: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for route, count in by_route.items():
        kind = next((k for part, k in ROUTE_KINDS if part in route), "project")
        out[kind] = out.get(kind, 0) + count
    return out


if __name__ == "__main__":
    main()
