"""examples/multi-env and `make demo-multi-env`: dev -> staging -> prod by bundle, prod blocked until Govern approves
each bundle, a change, a rollback; staging's and prod's connections come from their instance files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "examples" / "multi_env_demo.py"


def test_the_multi_env_demo_promotes_changes_and_rolls_back() -> None:
    proc = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out, err = proc.stdout, proc.stderr
    assert "Traceback" not in err
    # prod's connections are declared in its instance file: valid before they exist, created by the promotion.
    assert "connection 'prod_warehouse'" not in err
    assert "instance of staging: 2 to add, 0 to change, 0 to destroy" in err  # progress: on stderr
    assert "instance of prod: 2 to add, 0 to change, 0 to destroy" in err
    assert out.count("# connection.prod_warehouse will be created") >= 1
    deployed = [line for line in out.splitlines() if line.startswith("Promotion complete!")]
    assert len(deployed) == 4
    assert "1 project(s) deployed to staging" in deployed[0] and "deployed to prod" in deployed[1]
    first = deployed[1].split("bundle ")[1].split(",")[0]
    second = deployed[2].split("bundle ")[1].split(",")[0]
    assert first != second and deployed[3].endswith(f"with bundle {first}, 0 unchanged.")
    assert "content: 0 to add, 1 to change, 0 to remove." in out  # the hour change, then its rollback
    assert "No changes. DSS matches the configuration in environment staging." in out  # right after its promotion
    # prod: blocked until Govern signs each bundle off, then deployed; the first bundle is approved for the rollback.
    assert (f"error: environment prod needs a Govern sign-off (approval: govern): bundle {first} of project ORDERS: no "
            "approval requested in Govern yet") in err
    assert f"Requested: bundle {first} of project ORDERS: pending (WAITING_FOR_APPROVAL)" in out
    assert f"error: still not approved after 0s: environment prod needs a Govern sign-off (approval: govern): bundle " \
           f"{second} of project ORDERS: pending" in err
    assert 'decision:  admin: APPROVED: "Orders v1 is good to go"' in out
    assert '      ~ governCheckPolicy = "NO_CHECK" -> "PREVENT"' in out
    assert out.count("govern:           bundle approved by admin") == 3
