"""`make demo-multi-env`: promote a project dev -> staging -> prod through bundles, on the embedded DSS.

Copies examples/multi-env to a scratch Git repository, applies it to dev (the design node), checks prod
(its connections are declared in its instance file: promote creates them first, no hand step), promotes to
staging, then to prod: blocked until the bundle is signed off in Govern (prod has `approval: govern`), approved there
by a reviewer, then deployed. Then it ships a change (a new bundle: a new sign-off) and rolls it back.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def dss_iac(root: Path, *args: str, ok: tuple[int, ...] = (0,)) -> None:
    print(f"\n$ dss-iac {' '.join(args)}", flush=True)
    proc = subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), *args], text=True)
    if proc.returncode not in ok:
        raise SystemExit(f"demo: `dss-iac {' '.join(args)}` failed with exit code {proc.returncode}")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout.strip()


def reviewer_approves_in_govern(root: Path, comment: str) -> None:
    from dataiku_iac import Workspace

    print("\n# A reviewer signs the bundle off in Dataiku Govern (here: through dataikuapi's GovernClient)...",
          flush=True)
    with Workspace.load(root) as ws:
        gov = ws.embedded().govern_client()
        for request in ws.approvals("prod"):
            if request.status.value == "pending":
                signoff = gov.get_artifact(str(request.artifact_id)).get_signoff(str(request.step))
                signoff.add_feedback("it_operations", "APPROVED", "remapping checked")
                signoff.add_approval("APPROVED", comment)
                print(f"#   approved: {request.subject} ({request.url})")


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="dss-iac-multi-env-"))
    root = scratch / "multi-env"
    shutil.copytree(HERE / "multi-env", root, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
    (root / ".gitignore").write_text(".dss-iac/\n")
    git(root, "init", "-q")
    git(root, "-c", "user.name=Demo", "-c", "user.email=demo@example.com", "add", ".")
    git(root, "-c", "user.name=Demo", "-c", "user.email=demo@example.com", "commit", "-q", "-m", "Orders v1")
    print(f"# A Git repository with examples/multi-env in {root}; DSS is the embedded simulator.")
    try:
        dss_iac(root, "apply", "-e", "dev", "--yes")
        # prod lacks prod_warehouse and prod_storage, but instance/prod.yaml declares them: valid.
        dss_iac(root, "validate", "-e", "prod")
        dss_iac(root, "promote", "--from", "dev", "--to", "staging", "--yes")
        dss_iac(root, "plan", "-e", "staging", "--detailed-exitcode")  # staging runs what the promotion left
        print("\n# prod waits for a Govern sign-off of each bundle: the promotion is blocked (exit code 8).",
              flush=True)
        dss_iac(root, "promote", "--from", "dev", "--to", "prod", "--yes", ok=(8,))
        dss_iac(root, "approvals", "request", "-e", "prod")
        dss_iac(root, "promote", "--from", "dev", "--to", "prod", "--yes", ok=(8,))
        reviewer_approves_in_govern(root, "Orders v1 is good to go")
        dss_iac(root, "approvals", "-e", "prod")
        dss_iac(root, "promote", "--from", "dev", "--to", "prod", "--yes")
        first = f"git-{git(root, 'rev-parse', 'HEAD')[:12]}"
        print("\n# A change: the daily scenario runs at 6 instead of 5. Commit, apply to dev, promote: a new bundle\n"
              "# needs its own sign-off (--wait-approval 0 opens the request and looks once).", flush=True)
        project = root / "projects" / "orders.yaml"
        project.write_text(project.read_text().replace("hour: 5", "hour: 6"))
        git(root, "-c", "user.name=Demo", "-c", "user.email=demo@example.com", "commit", "-q", "-am", "Orders v2")
        dss_iac(root, "apply", "-e", "dev", "--yes")
        dss_iac(root, "promote", "--from", "dev", "--to", "prod", "--yes", "--wait-approval", "0", ok=(8,))
        reviewer_approves_in_govern(root, "Orders v2: the 6 o'clock run")
        dss_iac(root, "promote", "--from", "dev", "--to", "prod", "--yes")
        print(f"\n# Roll prod back to the first bundle ({first}), approved already.", flush=True)
        dss_iac(root, "promote", "--from", "dev", "--to", "prod", "--bundle", first, "--yes")
    finally:
        # The embedded DSS outlives each command (idle for a while, then it stops); the scratch copy goes now.
        subprocess.run([sys.executable, "-m", "dataiku_iac", "-C", str(root), "sim", "stop"], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print("\n# Done: dev -> staging -> prod through bundles, remapped per environment, each bundle signed off in\n"
          "# Govern before it reached prod, and a rollback.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
