"""Loading a workspace and reading its state: ~2,500 resources (target: under 1 s) and, with `--projects 400`, the
25,000 resources whose overview the terminal app opens (target: under 2 s in all). Prints figures; asserts nothing.

The first load parses every project file; later ones take unchanged files from the parse cache
(config/parse_cache.py). The state read is the JSON read, its checksum verified, and its resources built.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from dataiku_iac import Workspace
from dataiku_iac.config import parse_cache
from dataiku_iac.config.loader import load_workspace
from dataiku_iac.errors import ConfigErrors
from dataiku_iac.resources import build_desired
from dataiku_iac.state.model import Changes, ResourceState, State

ERRORS = 10_000


def timed(what: str, fn: Callable[[], object], runs: int = 5) -> None:
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    # On a shared machine the wall clock counts other processes too; CPU time is this work's alone.
    print(f"{what}: median {statistics.median(times):.3f} s, best {min(times):.3f} s | CPU median "
          f"{statistics.median(cpu):.3f} s, best {min(cpu):.3f} s | {synthetic.load()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = synthetic.write(Path(tmp), args.projects)
        resources = args.projects * synthetic.resources_per_project()
        print(f"workspace: {args.projects} projects, {resources} resources")
        cache = parse_cache.cache_file(root)
        timed("load + validate, every file parsed (no cache)",
              lambda: (cache.unlink(missing_ok=True), load_workspace(root)))
        load_workspace(root)
        timed("load + validate, files unchanged (parse cache)", lambda: load_workspace(root))
        with Workspace.load(root) as ws:
            store = ws.state_store("bench")
            state = State("bench")
            for a, d in build_desired(ws.config, ws.env_context("bench")).items():
                state.resources[str(a)] = ResourceState(a.kind, str(a.name), dict(d.fields), [], 1)
            state.stamp("bench")
            store.commit(state, "apply", Changes(added=len(state.resources)))
            size = len(state.to_json())
            timed(f"state read, {len(state.resources)} resources ({size / 1e6:.1f} MB)", store.read)
            timed("state written", state.to_json)
    errors()


def errors() -> None:
    """A (hostile) file with many errors: each located without reading the file again (it was quadratic)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = synthetic.write(Path(tmp), projects=0)
        lines = [f"  d{i}: {{type: Filesystem, colour: blue}}" for i in range(ERRORS)]
        (root / "projects" / "bad.yaml").write_text("project: {key: BAD, name: bad}\ndatasets:\n" + "\n".join(lines))
        t0, c0 = time.perf_counter(), time.process_time()
        found = 0
        try:
            load_workspace(root)
        except ConfigErrors as e:
            found = len(e.errors)
        print(f"{found} errors in one file, each located: {time.perf_counter() - t0:.3f} s, "
              f"CPU {time.process_time() - c0:.3f} s")


if __name__ == "__main__":
    main()
