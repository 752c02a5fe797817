"""Running the CLI in a process of its own that is killed (SIGKILL) at a chosen write: the CLI process itself
(its transport kills it), or, with `kill="server"`, the embedded DSS it uses (see dataiku_iac/dss/crash_hooks.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dataiku_iac.dss.crash_hooks import AFTER_ENV, BEFORE_ENV, TARGET_ENV

KNOBS = (AFTER_ENV, BEFORE_ENV, TARGET_ENV)


def dss_iac(root: Path, *args: str, crash_after: int | None = None, crash_before: int | None = None,
            kill: str = "client") -> subprocess.CompletedProcess[str]:
    """`dss-iac -C root ARGS`; killed right after DSS did its `crash_after`-th write (before the reply reaches the
    caller), or as its `crash_before`-th write goes out (before DSS does it)."""
    env = {k: v for k, v in os.environ.items() if k not in KNOBS}
    if crash_after is not None:
        env[AFTER_ENV] = str(crash_after)
    if crash_before is not None:
        env[BEFORE_ENV] = str(crash_before)
    env[TARGET_ENV] = kill
    return subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], env=env,
                          capture_output=True, text=True, timeout=120)
