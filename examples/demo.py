"""`make demo`: the daily loop of dss-iac on the embedded DSS simulator, narrated.

Copies examples/simple-project to a scratch folder, then runs validate -> plan -> apply, edits the project
"by hand in the DSS UI" (through dataikuapi), shows the drift, and plans and applies the restore.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def dss_iac(root: Path, *args: str) -> None:
    print(f"\n$ dss-iac {' '.join(args)}", flush=True)
    proc = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], text=True)
    if proc.returncode not in (0, 2):
        raise SystemExit(f"demo: `dss-iac {' '.join(args)}` failed with exit code {proc.returncode}")


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
    finally:
        # The embedded DSS outlives each command (idle for a while, then it stops); the scratch copy goes now.
        subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "sim", "stop"], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n# Done: the configuration in Git is the truth, and DSS matches it again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
