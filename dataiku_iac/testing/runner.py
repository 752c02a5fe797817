"""`dss-iac test`: static tests always; with an environment, then the build of the flow (when asked), the data
tests and the test scenarios, on that environment's DSS. The run is saved as the environment's last results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from .results import TestRun, save_run
from .static import SUITE as STATIC

if TYPE_CHECKING:
    from ..workspace import Workspace

Progress = Callable[[str], None]


def run_tests(ws: Workspace, env: str | None = None, *, static: bool = True, live: bool = True,
              build: Sequence[str] | None = None, progress: Progress | None = None,
              timeout: float | None = None, save: bool = True, only: Collection[str] | None = None) -> TestRun:
    """Run the workspace's tests. `env` None: static tests only. `build`: None, no build; empty, build every
    output of the flow first; names (`dataset` or `PROJECT.dataset`), build those."""
    from .static import run_static

    say = progress or (lambda text: None)
    started = time.monotonic()
    suites: list[str] = [STATIC] if static else []
    if env is not None and live:
        from .live import LIVE_SUITES

        suites += [s for s in LIVE_SUITES if s != "build" or build is not None]
    run = TestRun(env, tuple(suites))
    if static:
        say("static tests")
        run.extend(run_static(ws.config))
    if env is not None and live:
        from .live import run_live

        run.extend(run_live(ws, env, build=build, progress=say, timeout=timeout, only=only))
    run.seconds = time.monotonic() - started
    if save:
        save_run(ws.root, run)
    return run
