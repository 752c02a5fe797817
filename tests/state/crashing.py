"""Running the CLI in a process of its own that the embedded DSS kills (SIGKILL) at a chosen write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KNOBS = ("DSS_IAC_SIM_CRASH_AFTER_WRITES", "DSS_IAC_SIM_CRASH_BEFORE_WRITE")


def dss_iac(root: Path, *args: str, crash_after: int | None = None,
            crash_before: int | None = None) -> subprocess.CompletedProcess[str]:
    """`dss-iac -C root ARGS`; killed right after DSS did its `crash_after`-th write (before the reply), or as its
    `crash_before`-th write arrives (before DSS does it)."""
    env = {k: v for k, v in os.environ.items() if k not in KNOBS}
    if crash_after is not None:
        env["DSS_IAC_SIM_CRASH_AFTER_WRITES"] = str(crash_after)
    if crash_before is not None:
        env["DSS_IAC_SIM_CRASH_BEFORE_WRITE"] = str(crash_before)
    return subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], env=env,
                          capture_output=True, text=True, timeout=120)
