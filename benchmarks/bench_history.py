"""State history by commands (issue 10 figures). Prints figures; asserts nothing.

60 applies of an 11-resource project (each changes one dataset, the first creates them all) on the embedded DSS,
with the default state settings of each backend: local, S3 (a moto server on a loopback port, fake credentials),
Git (a new repository). For each: the history depth `state history` shows, the backups kept, how far back
`state restore` reaches, what is left beside them (lock files, objects, commits), and the time per apply.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataiku_iac import Workspace

APPLIES = 60
PROJECT = "project: {key: HIST, name: History}\ndatasets:\n" + "\n".join(
    f"  ds_{i}: {{type: Filesystem, connection: filesystem_managed, params: {{path: /h/{i}/VERSION}}}}"
    for i in range(10))


def workspace(root: Path, state: str) -> Path:
    (root / "projects").mkdir(parents=True)
    (root / "dss-iac.yaml").write_text(f"version: 1\nenvironments:\n  dev: {{host: embedded}}\n{state}")
    return root


def applies(root: Path) -> float:
    """Run the applies; the mean seconds per apply."""
    spent = 0.0
    for n in range(1, APPLIES + 1):
        # The first apply creates the 11 resources; each later one changes one dataset's path.
        (root / "projects" / "hist.yaml").write_text(PROJECT.replace("VERSION", "0").replace(
            f"/h/{n % 10}/0", f"/h/{n % 10}/{n}"))
        with Workspace.load(root) as ws:
            plan = ws.plan("dev")
            t0 = time.perf_counter()
            result = ws.apply(plan)
            spent += time.perf_counter() - t0
            assert result.ok, [r.error for r in result.failed]
    return spent / APPLIES


def report(name: str, root: Path, extra: str, per_apply: float) -> None:
    with Workspace.load(root) as ws:
        store = ws.state_store("dev")
        history = store.history()
        serial = store.load().serial
        backups = store.backup_serials()
    applies_kept = sum(e.command == "apply" for e in history)
    print(f"{name:<6} history depth {len(history)} ({applies_kept} applies; serials {history[0].serial}..."
          f"{history[-1].serial}, current {serial}), {len(backups)} backups: `state restore` reaches back "
          f"{len(history) - 1} applies; {extra}; {per_apply * 1000:.0f} ms per apply")


def local() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = workspace(Path(tmp), "")
        per_apply = applies(root)
        locks = [p for p in (root / ".dss-iac" / "state").rglob("*") if p.name.endswith("flock")]
        report("local", root, f"{len(locks)} lock files", per_apply)


def s3() -> None:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      AWS_EC2_METADATA_DISABLED="true")
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        client = boto3.session.Session().client("s3", endpoint_url=url, region_name="us-east-1")
        client.create_bucket(Bucket="bench")
        with tempfile.TemporaryDirectory() as tmp:
            root = workspace(Path(tmp), f"state: {{backend: s3, bucket: bench, endpoint_url: '{url}'}}\n")
            per_apply = applies(root)
            objects = client.list_objects_v2(Bucket="bench", Prefix="dss-iac/dev/").get("KeyCount", 0)
            report("s3", root, f"{objects} objects under dss-iac/dev/", per_apply)
    finally:
        server.stop()


def git() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = workspace(Path(tmp), "state: {backend: git}\n")
        env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
               "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "config", "user.name", "bench"], check=True, env=env)
        subprocess.run(["git", "-C", str(root), "config", "user.email", "bench@example.com"], check=True, env=env)
        per_apply = applies(root)
        commits = subprocess.run(["git", "-C", str(root), "rev-list", "--count", "dss-iac-state"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        report("git", root, f"{commits} commits on dss-iac-state (every write)", per_apply)


if __name__ == "__main__":
    for run in (local, s3, git):
        run()
