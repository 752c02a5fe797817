"""What a write to the embedded DSS costs as one project grows (issue 18.3). Prints figures; asserts nothing.

- the per-dataset cost of applying a project of 300, 600 and 1,200 datasets to the embedded DSS (target: flat,
  within 1.3x from 300 to 1,200);
- a ~611-operation apply to one project, as the workbench runs it (`Workspace.apply`; target: under 10 s).

Beside each figure: the wall-clock time, the CPU time of this process (the client: plan, state, HTTP) and of the
embedded DSS's process (the server: handlers, persistence), and the machine's load average, since the machine is
shared and wall-clock figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from dataiku_iac import Workspace
from dataiku_iac.dss.connect import embedded_dir
from dataiku_iac.sim import shared

SIZES = (300, 600, 1200)
WIDE_OPERATIONS = 611


def write(root: Path, datasets: int, zones: int = 0) -> Path:
    """One project of `datasets` datasets (and `zones` flow zones) on the embedded DSS."""
    (root / "projects").mkdir(parents=True)
    (root / "dss-iac.yaml").write_text(
        "version: 1\nprojects: [projects/*.yaml]\nenvironments:\n  dev:\n    host: embedded\n"
        "    remap: {connections: {storage: filesystem_managed}}\n")
    lines = ["project:", "  key: WIDE", "  name: A wide project", "  variables: {standard: {run: nightly}}",
             "datasets:"]
    lines += [f"  ds_{d:04d}: {{type: Filesystem, connection: storage, params: {{path: /wide/ds_{d:04d}}},"
              f" format: csv, schema: [{{name: id, type: bigint}}, {{name: value, type: string}}], tags: [t{d % 3}]}}"
              for d in range(datasets)]
    if zones:
        lines.append("zones:")
        lines += [f"  zone_{z}: {{items: [ds_{z:04d}]}}" for z in range(zones)]
    (root / "projects" / "wide.yaml").write_text("\n".join(lines) + "\n")
    return root


def server_cpu(root: Path) -> float:
    """CPU seconds (user + system) of the embedded DSS's process so far."""
    found = shared.status(embedded_dir(root))
    if found is None or found.pid is None:
        return 0.0
    fields = Path(f"/proc/{found.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_apply(root: Path) -> tuple[int, float, float, float]:
    """Operations applied, wall-clock seconds, client CPU seconds, server CPU seconds."""
    with Workspace.load(root) as ws:
        plan = ws.plan("dev")
        s0 = server_cpu(root)
        t0, c0 = time.perf_counter(), time.process_time()
        result = ws.apply(plan)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if not result.ok:
            sys.exit(f"the apply failed: {result.failed[0]}")
        return len(result.succeeded), wall, cpu, server_cpu(root) - s0


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def stop(root: Path) -> None:
    shared.stop(embedded_dir(root))


def per_dataset(sizes: tuple[int, ...]) -> None:
    costs = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = write(Path(tmp) / "wide", n)
            ops, wall, cpu, server = timed_apply(root)
            stop(root)
        costs.append(wall / ops)
        print(f"apply of {n:>5} datasets in one project ({ops} operations): {wall:6.2f} s, "
              f"{wall / ops * 1000:5.1f} ms per operation; CPU client {cpu:.2f} s, embedded DSS {server:.2f} s "
              f"({server / ops * 1000:.1f} ms per operation) [{load()}]", flush=True)
    print(f"per-operation cost, {sizes[-1]} vs {sizes[0]} datasets: {costs[-1] / costs[0]:.2f}x (target <= 1.3x)")


def wide_apply() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # Project, its variables, 600 datasets and the zones that make ~611 operations.
        root = write(Path(tmp) / "wb", 600, zones=WIDE_OPERATIONS - 602)
        ops, wall, cpu, server = timed_apply(root)
        stop(root)
    print(f"workbench-sized apply, {ops} operations on one project: {wall:.2f} s (target < 10 s); CPU client "
          f"{cpu:.2f} s, embedded DSS {server:.2f} s [{load()}]")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--no-wide", action="store_true", help="skip the ~611-operation apply")
    args = parser.parse_args()
    per_dataset(tuple(args.sizes))
    if not args.no_wide:
        wide_apply()


if __name__ == "__main__":
    main()
