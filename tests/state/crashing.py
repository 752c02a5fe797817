"""Running the CLI in a process of its own that is killed (SIGKILL) at a chosen write: the CLI process itself
(its transport kills it), or, with `kill="server"`, the embedded DSS it uses (see dataiku_iac/dss/crash_hooks.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

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


def objects_in(client: Any, key: str) -> Counter[str]:
    """What DSS holds in a project, counted by address (a twin counts 2); empty when there is no such project."""
    if key not in client.list_project_keys():
        return Counter()
    p = client.get_project(key)
    return Counter([*(f"dataset.{key}.{d.name}" for d in p.list_datasets()),
                    *(f"recipe.{key}.{r.name}" for r in p.list_recipes()),
                    *(f"managed_folder.{key}.{f['name']}" for f in p.list_managed_folders()),
                    *(f"scenario.{key}.{s['id'].lower()}" for s in p.list_scenarios()),
                    *(f"zone.{key}.{z.name}" for z in p.get_flow().list_zones() if z.id != "default"),
                    f"project.{key}"])
