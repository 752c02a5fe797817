"""examples/multi-env and `make demo-multi-env`: dev -> staging -> prod by bundle, a change, a rollback."""

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
    assert "connection 'prod_warehouse' (warehouse) of dataset 'orders_raw' does not exist on prod" in err
    deployed = [line for line in out.splitlines() if line.startswith("Promotion complete!")]
    assert len(deployed) == 4
    assert "1 project(s) deployed to staging" in deployed[0] and "deployed to prod" in deployed[1]
    first = deployed[1].split("bundle ")[1].split(",")[0]
    second = deployed[2].split("bundle ")[1].split(",")[0]
    assert first != second and deployed[3].endswith(f"with bundle {first}, 0 unchanged.")
    assert "content: 0 to add, 1 to change, 0 to remove." in out  # the hour change, then its rollback
