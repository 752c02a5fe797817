"""No-op plan of ~2,500 resources in 40 projects with 20 ms of simulator latency per request.

Target (DESIGN §9): within 2x of the floor `requests x latency / parallelism`, at most 1.1 requests per
resource. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from dataiku_iac import Workspace
from dataiku_iac.sim import Simulator


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--parallelism", type=int, nargs="+", default=[8, 16])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Simulator(govern=False, automation_nodes=()) as sim:
        root = synthetic.write(Path(tmp), args.projects, host=sim.base_url, api_key=sim.api_key)
        with Workspace.load(root) as ws:
            t0 = time.perf_counter()
            plan = ws.plan("bench", parallelism=16)
            t1 = time.perf_counter()
            result = ws.apply(plan, parallelism=16)
            t2 = time.perf_counter()
            print(f"workspace: {args.projects} projects, {len(plan.actions)} resources")
            print(f"first plan (no latency): {t1 - t0:.2f} s; apply: {t2 - t1:.2f} s, "
                  f"{len(result.succeeded)} ok, {len(result.failed)} failed, {result.state_writes} state writes")
            sim.configure(latency_ms=args.latency_ms)
            for parallelism in args.parallelism:
                sim.reset_stats()
                t0 = time.perf_counter()
                again = ws.plan("bench", parallelism=parallelism)
                wall = time.perf_counter() - t0
                requests = sim.stats()["requests"]
                floor = requests * args.latency_ms / 1000 / parallelism
                print(f"no-op plan, {args.latency_ms:.0f} ms latency, parallelism {parallelism}: {wall:.2f} s, "
                      f"{requests} requests ({requests / len(again.actions):.2f} per resource), "
                      f"floor {floor:.2f} s, ratio {wall / floor:.2f} (target <= 2), "
                      f"changes {len(again.changes)}")


if __name__ == "__main__":
    main()
