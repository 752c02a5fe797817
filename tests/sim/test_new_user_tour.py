"""The tour a new user would take: `dss-iac sim serve`, then dataikuapi alone, end to end."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.sim.test_serve_cli import _start

TOUR = Path(__file__).resolve().parents[2] / "examples" / "simulator-tour" / "tour.py"


def test_tour_against_a_served_simulator(tmp_path: Path) -> None:
    proc, urls = _start("--api-key", "tour-key", "--data-dir", str(tmp_path))
    try:
        run = subprocess.run([sys.executable, str(TOUR), "--url", urls["design"], "--api-key", "tour-key"],
                             capture_output=True, text=True, timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "password reads back as ''" in out
    assert "outcome: SUCCESS" in out
    assert "customers_raw on automation uses pg_prod_" in out
    assert "refused:" in out and "WITHOUT approval" not in out
    assert "sign-off status: APPROVED" in out
    assert "deployment health: HEALTHY" in out
    assert "deployed project local variables: {'env': 'prod'}" in out
    assert "deployed customers_raw uses pg_prod_" in out
    # What the tour made is on disk in the simulator's data dir.
    with contextlib.closing(sqlite3.connect(tmp_path / "automation" / "store.db")) as db:
        assert db.execute("SELECT count(*) FROM docs WHERE owner LIKE 'TOUR\\_%\\_PROD' ESCAPE '\\'").fetchone()[0]
