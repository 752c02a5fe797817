"""`make demo`: the daily loop of dss-iac on the embedded DSS simulator, narrated.

Copies examples/simple-project to a scratch folder, then runs validate -> plan -> apply, edits the project
"by hand in the DSS UI" (through dataikuapi), shows the drift, and plans and applies the restore. Then the
tests: they pass, a colleague's change breaks the flow, and `dss-iac test` catches it before any promotion.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def dss_iac(root: Path, *args: str, ok: tuple[int, ...] = (0, 2)) -> int:
    print(f"\n$ dss-iac {' '.join(args)}", flush=True)
    proc = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], text=True)
    if proc.returncode not in ok:
        raise SystemExit(f"demo: `dss-iac {' '.join(args)}` failed with exit code {proc.returncode}")
    return proc.returncode


# A colleague's change: a report recipe that reads a managed dataset nothing builds.
BROKEN_CHANGE = """
  # Added in a pull request: weekly report from the scored customers.
  customers_report:
    type: Filesystem
    managed: true
    connection: storage
    format: csv
"""
BROKEN_RECIPE = """
  report_customers:
    type: sync
    inputs: [customers_scored]
    outputs: [customers_report]
"""
SCORED = """
  customers_scored:
    type: Filesystem
    managed: true
    connection: storage
    format: parquet
"""


def tests_catch_a_broken_change(root: Path) -> None:
    print("\n# Tests: static rules need no DSS; with -e the live suites run on dev too.", flush=True)
    dss_iac(root, "test", "-e", "dev", "--junit-xml", "test-report.xml")
    print("\n# A colleague's pull request adds a report built from `customers_scored`, which no recipe builds...",
          flush=True)
    project = root / "projects" / "churn.yaml"
    text = project.read_text()
    text = text.replace("\n# Managed folders:", SCORED + BROKEN_CHANGE + "\n# Managed folders:")
    text = text.replace("\n# Scenarios automate builds:", BROKEN_RECIPE + "\n# Scenarios automate builds:")
    project.write_text(text)
    code = dss_iac(root, "test", "--static", "--junit-xml", "test-report.xml", ok=(7,))
    print(f"# Caught before any promotion: `dss-iac test` exited {code} (tests failed), so the pipeline stops "
          "here and test-report.xml says why.", flush=True)


def edit_by_hand(root: Path) -> None:
    import dataikuapi

    print("\n# Meanwhile, someone edits the project in the DSS UI (here: a dataikuapi script, given the URL and key",
          "\n# of the workspace's embedded DSS by `dss-iac sim info --json`)...", flush=True)
    info = json.loads(subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "sim", "info", "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    project = dataikuapi.DSSClient(info["url"], info["api_key"]).get_project("CHURN")
    project.update_variables({"threshold": "0.99"})
    settings = project.get_dataset("customers_clean").get_settings()
    settings.get_raw()["description"] = "edited by hand"
    settings.save()
    print("#   variables.standard.threshold -> '0.99', customers_clean description -> 'edited by hand'")


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="dss-iac-demo-"))
    root = scratch / "simple-project"
    shutil.copytree(HERE / "simple-project", root, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
    print(f"# A copy of examples/simple-project in {root}; DSS is the embedded simulator (host: embedded).")
    try:
        dss_iac(root, "validate")
        dss_iac(root, "plan", "-e", "dev")
        dss_iac(root, "apply", "-e", "dev", "--yes")
        dss_iac(root, "plan", "-e", "dev")
        edit_by_hand(root)
        dss_iac(root, "drift", "-e", "dev")
        dss_iac(root, "plan", "-e", "dev")
        dss_iac(root, "apply", "-e", "dev", "--yes")
        dss_iac(root, "drift", "-e", "dev")
        tests_catch_a_broken_change(root)
    finally:
        # The embedded DSS outlives each command (idle for a while, then it stops); the scratch copy goes now.
        subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "sim", "stop"], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n# Done: the configuration in Git is the truth, and DSS matches it again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
