"""The example pipelines, run step by step as their platform would, in a Git repository made from examples/multi-env
on the embedded DSS: a first deployment, a pull request (plan comment, updated in place by a second push), its merge
(apply to dev, promotion to staging and prod after approval), and the drift report. The comment goes to a local
HTTP server that serves GitHub's or GitLab's endpoints."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dataiku_iac import Workspace
from dataiku_iac.ci.comment import marker
from dataiku_iac.cli.main import main

from .fake_forge import FakeForge
from .pipeline_runner import GitHubRunner, GitLabRunner, Job, VenvCache, base_env, load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEMPLATES = EXAMPLES / "ci-cd-templates"
GITHUB = ".github/workflows/dss-iac.yaml"
GITLAB = ".gitlab-ci.yml"
MARK = marker("dss-iac")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def make_repo(tmp_path: Path, pipeline: str) -> Path:
    """examples/multi-env with the example pipeline, committed on main; the platform team has made the staging
    and prod connections the remapping names."""
    repo = tmp_path / "orders"
    shutil.copytree(EXAMPLES / "multi-env", repo, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
    (repo / pipeline).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(TEMPLATES / pipeline, repo / pipeline)
    (repo / ".gitignore").write_text(".dss-iac/\n.venv/\n.dss-iac-ci/\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Orders v1")
    with Workspace.load(repo) as ws:
        for env in ("staging", "prod"):
            for name in (f"{env}_warehouse", f"{env}_storage"):
                ws.connection(env).client.create_connection(name, "Filesystem", {"root": f"/data/{env}"})
    return repo


def edit(repo: Path, old: str, new: str, message: str) -> str:
    project = repo / "projects" / "orders.yaml"
    text = project.read_text()
    assert old in text
    project.write_text(text.replace(old, new))
    git(repo, "commit", "-q", "-am", message)
    return git(repo, "rev-parse", "HEAD")


def approve_in_govern(repo: Path) -> list[str]:
    """A reviewer signs off in Govern every request of prod that waits: -> what they approved."""
    with Workspace.load(repo) as ws:
        gov = ws.embedded().govern_client()
        waiting = [a for a in ws.approvals("prod") if a.status.value == "pending"]
        for a in waiting:
            gov.get_artifact(str(a.artifact_id)).get_signoff(str(a.step)).add_approval("APPROVED", "ship it")
        return [a.subject for a in waiting]


def deployed_hour(repo: Path, env: str, key: str | None = None) -> int:
    """The hour of the daily scenario's trigger in the project as environment `env` runs it (or in project `key`)."""
    with Workspace.load(repo) as ws:
        key = key or ("ORDERS_DEV" if env == "dev" else "ORDERS")
        client = ws.connection(env).client
        if key not in client.list_project_keys():
            return -1
        raw = client.get_project(key).get_scenario("DAILY").get_settings().get_raw()
        return int(raw["triggers"][0]["params"]["hour"])


def statuses(jobs: dict[str, Job]) -> dict[str, str]:
    return {name: job.status for name, job in jobs.items()}


def ok(jobs: dict[str, Job], *names: str) -> None:
    for name in names:
        assert jobs[name].status == "success", jobs[name].log


def requirement(pipeline: Path) -> str:
    doc = load(pipeline)
    return str((doc.get("env") or doc.get("variables"))["DSS_IAC_REQUIREMENT"])


@pytest.mark.slow
def test_github_workflow_pull_request_merge_promote_and_drift(tmp_path: Path) -> None:
    forge = FakeForge()
    try:
        _github_flow(tmp_path, forge)
    finally:
        forge.close()


def _github_flow(tmp_path: Path, forge: FakeForge) -> None:
    repo = make_repo(tmp_path, GITHUB)
    cache = VenvCache(tmp_path / "cache", requirement(repo / GITHUB))
    # The jobs look once for their Govern sign-off (a repository variable), so the test can give it in between.
    runner = GitHubRunner(repo / GITHUB, repo, tmp_path / "runner", cache, secrets={}, reviewers={"staging", "prod"},
                          token="gh-secret-token", variables={"DSS_IAC_APPROVAL_WAIT": "0"})
    runner.scratch.mkdir()
    home = base_env(tmp_path / "home")

    def run(event: str, payload: dict[str, Any], ref: str, **kw: Any) -> dict[str, Job]:
        event_file = tmp_path / f"event-{event}.json"
        event_file.write_text(json.dumps(payload))
        env = {**home, "GITHUB_ACTIONS": "true", "GITHUB_API_URL": forge.url, "GITHUB_REPOSITORY": "acme/orders",
               "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_file), "GITHUB_REF": ref,
               "GITHUB_SHA": git(repo, "rev-parse", "HEAD"), "GITHUB_SERVER_URL": "https://github.example",
               "GITHUB_RUN_ID": "1", "GITHUB_WORKSPACE": str(repo)}
        return runner.run(event, payload, env, **kw)

    # The first deployment: dev at once, staging and prod each once approved in their GitHub environment; prod also
    # once Govern signed off its bundle.
    first = run("push", {"ref": "refs/heads/main"}, "refs/heads/main")
    assert statuses(first) == {"plan": "skipped", "preview-destroy": "skipped", "apply-dev": "success",
                               "promote-staging": "waiting", "promote-prod": "waiting", "drift": "skipped"}, (
        first["apply-dev"].log)
    assert "Apply complete! Resources: 8 added" in first["apply-dev"].log
    assert "No changes. DSS matches the configuration in environment dev." in first["apply-dev"].log
    assert deployed_hour(repo, "staging") == -1  # nothing promoted before the approval
    first = run("push", {"ref": "refs/heads/main"}, "refs/heads/main", approved={"staging"}, done=first)
    ok(first, "promote-staging")
    assert statuses(first)["promote-prod"] == "waiting"
    first = run("push", {"ref": "refs/heads/main"}, "refs/heads/main", approved={"staging", "prod"}, done=first)
    assert first["promote-prod"].status == "failure" and first["promote-prod"].steps[-1].code == 8
    assert "Requested: bundle git-" in first["promote-prod"].log
    assert "still not approved after 0s: environment prod needs a Govern sign-off" in first["promote-prod"].log
    assert deployed_hour(repo, "prod") == -1
    assert len(approve_in_govern(repo)) == 1
    first = run("push", {"ref": "refs/heads/main"}, "refs/heads/main", approved={"staging", "prod"},
                done={k: v for k, v in first.items() if k != "promote-prod"})  # the job, run again
    ok(first, "promote-prod")
    assert "govern:           bundle approved by admin" in first["promote-prod"].log
    assert [deployed_hour(repo, e) for e in ("dev", "staging", "prod")] == [5, 5, 5]

    # A pull request: the plan of every environment and the preview in dev, as one comment.
    git(repo, "checkout", "-q", "-b", "later-run")
    head = edit(repo, "hour: 5", "hour: 6", "Run the daily totals at 6")
    pr = {"action": "opened", "pull_request": {"number": 7, "head": {"sha": head}}}
    home["GITHUB_HEAD_REF"] = "later-run"
    jobs = run("pull_request", pr, "refs/pull/7/merge")
    assert statuses(jobs) == {"plan": "success", "preview-destroy": "skipped", "apply-dev": "skipped",
                              "promote-staging": "skipped", "promote-prod": "skipped", "drift": "skipped"}, (
        jobs["plan"].log)
    comments = forge.thread("github", "acme/orders", 7)
    assert len(comments) == 1 and comments[0]["body"].startswith(MARK)
    body = comments[0]["body"]
    assert "**Validation:** ✅ the configuration is valid: 1 project(s), 7 object(s)." in body
    assert "| `dev` | ✏️ 0 to add, 1 to change, 0 to destroy | none |" in body
    for env in ("dev", "staging", "prod"):
        assert f"### dss-iac plan: `{env}`" in body
    assert "scenario.ORDERS.daily" in body and f"Commit `{head[:12]}`" in body
    assert "Created the dss-iac comment on the pull request" in jobs["plan"].log
    assert "### 🔍 Preview `later-run` on `dev`" in body and "| `ORDERS` | [ORDERS_DEV_LATER_RUN](http://" in body
    assert deployed_hour(repo, "dev", "ORDERS_DEV_LATER_RUN") == 6 and deployed_hour(repo, "dev") == 5

    # Another push to the pull request: the same comment, updated.
    edit(repo, "name: Daily totals", "name: Daily order totals", "Say what the scenario totals")
    jobs = run("pull_request", pr, "refs/pull/7/merge")
    ok(jobs, "plan")
    comments = forge.thread("github", "acme/orders", 7)
    assert len(comments) == 1 and "Daily order totals" in comments[0]["body"]
    assert "Updated the dss-iac comment" in jobs["plan"].log
    assert deployed_hour(repo, "dev") == 5  # a pull request changes nothing but its preview

    # The merge: dev applied, then staging and prod promoted once approved; the new bundle needs its own sign-off.
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "later-run", "-m", "Merge pull request #7")
    del home["GITHUB_HEAD_REF"]
    merged = run("push", {"ref": "refs/heads/main"}, "refs/heads/main", approved={"staging", "prod"})
    ok(merged, "apply-dev", "promote-staging")
    assert merged["promote-prod"].steps[-1].code == 8 and len(approve_in_govern(repo)) == 1
    merged = run("push", {"ref": "refs/heads/main"}, "refs/heads/main", approved={"staging", "prod"},
                 done={k: v for k, v in merged.items() if k != "promote-prod"})
    ok(merged, "promote-prod")
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in merged["apply-dev"].log
    assert [deployed_hour(repo, e) for e in ("dev", "staging", "prod")] == [6, 6, 6]
    assert len(forge.calls("POST")) == 1  # only the pull request's comment, ever

    # The pull request is closed by its merge: its preview goes, dev's projects stay.
    home["GITHUB_HEAD_REF"] = "later-run"
    closed = run("pull_request", {**pr, "action": "closed"}, "refs/pull/7/merge")
    assert statuses(closed) == {"plan": "skipped", "preview-destroy": "success", "apply-dev": "skipped",
                                "promote-staging": "skipped", "promote-prod": "skipped", "drift": "skipped"}
    assert "Preview later-run of dev destroyed" in closed["preview-destroy"].log
    assert deployed_hour(repo, "dev", "ORDERS_DEV_LATER_RUN") == -1 and deployed_hour(repo, "dev") == 6
    del home["GITHUB_HEAD_REF"]

    # The scheduled drift report: nothing, then an edit made by hand in dev's DSS.
    drift = run("schedule", {"schedule": "17 6 * * 1-5"}, "refs/heads/main")
    assert statuses(drift) == {"plan": "skipped", "preview-destroy": "skipped", "apply-dev": "skipped",
                               "promote-staging": "skipped", "promote-prod": "skipped", "drift": "success"}, (
        drift["drift"].log)
    with Workspace.load(repo) as ws:
        settings = ws.connection("dev").client.get_project("ORDERS_DEV").get_dataset("orders_raw").get_settings()
        settings.get_raw()["description"] = "clicked in the UI"
        settings.save()
    drift = run("schedule", {"schedule": "17 6 * * 1-5"}, "refs/heads/main")
    assert drift["drift"].status == "failure" and drift["drift"].steps[-1].code == 2
    assert 'description = "" -> "clicked in the UI"' in drift["drift"].log
    keys = {key for key, _ in cache.asked}
    assert keys == {f"dss-iac-venv-Linux-py3.11-{cache.requirement}"}


@pytest.mark.slow
def test_gitlab_pipeline_merge_request_merge_promote_and_drift(tmp_path: Path) -> None:
    forge = FakeForge()
    try:
        _gitlab_flow(tmp_path, forge)
    finally:
        forge.close()


def _gitlab_flow(tmp_path: Path, forge: FakeForge) -> None:
    repo = make_repo(tmp_path, GITLAB)
    cache = VenvCache(tmp_path / "cache", requirement(repo / GITLAB))
    runner = GitLabRunner(repo / GITLAB, repo, tmp_path / "runner", cache,
                          variables={"GITLAB_TOKEN": "gl-secret-token", "DSS_IAC_APPROVAL_WAIT": "0"})
    runner.scratch.mkdir()
    home = base_env(tmp_path / "home")

    def run(source: str, **kw: Any) -> dict[str, Job]:
        branch = git(repo, "rev-parse", "--abbrev-ref", "HEAD")
        predefined = {"CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": source, "CI_DEFAULT_BRANCH": "main",
                      "CI_API_V4_URL": f"{forge.url}/api/v4", "CI_PROJECT_ID": "42",
                      "CI_PROJECT_URL": "https://gitlab.example/acme/orders", "CI_JOB_TOKEN": "job-token",
                      "CI_JOB_URL": "https://gitlab.example/acme/orders/-/jobs/9",
                      "CI_COMMIT_SHA": git(repo, "rev-parse", "HEAD")}
        if source == "merge_request_event":
            predefined |= {"CI_MERGE_REQUEST_IID": "3", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": branch}
        else:
            predefined |= {"CI_COMMIT_BRANCH": branch}
        return runner.run(predefined, home, **kw)

    first = run("push", started={"promote-staging", "promote-prod"})
    assert statuses(first) == {"apply-dev": "success", "promote-staging": "success", "promote-prod": "failure"}, (
        "\n".join(j.log for j in first.values()))
    assert first["promote-prod"].steps[-1].code == 8 and len(approve_in_govern(repo)) == 1
    first = run("push", started={"promote-prod"}, done={k: v for k, v in first.items() if k != "promote-prod"})
    ok(first, "promote-prod")
    assert [deployed_hour(repo, e) for e in ("dev", "staging", "prod")] == [5, 5, 5]

    # A merge request whose configuration is invalid: the comment lists the errors, the job fails.
    git(repo, "checkout", "-q", "-b", "later-run")
    edit(repo, "frequency: Daily", "frequncy: Daily", "Run at 6 (with a typo)")
    jobs = run("merge_request_event")
    assert statuses(jobs) == {"plan": "failure", "preview-destroy": "waiting"} and jobs["plan"].steps[0].code == 3
    body = forge.thread("gitlab", "42", 3)[0]["body"]
    assert "**Validation:** ❌" in body and "error(s); no plan is made of an invalid configuration" in body
    assert "`projects/orders.yaml:46:33: unknown key 'frequncy'" in body
    assert "| environment |" not in body  # no plan of an invalid configuration

    # Fixed: the same note now holds the plans.
    edit(repo, "frequncy: Daily", "frequency: Daily", "Fix the typo")
    edit(repo, "hour: 5", "hour: 6", "Run the daily totals at 6")
    jobs = run("merge_request_event")
    ok(jobs, "plan")
    notes = forge.thread("gitlab", "42", 3)
    assert len(notes) == 1 and "| `dev` | ✏️ 0 to add, 1 to change, 0 to destroy | none |" in notes[0]["body"]
    assert "| `ORDERS` | [ORDERS_DEV_LATER_RUN](http://" in notes[0]["body"]
    assert all(r.headers.get("PRIVATE-TOKEN") == "gl-secret-token" for r in forge.requests)
    assert deployed_hour(repo, "dev", "ORDERS_DEV_LATER_RUN") == 6

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "later-run", "-m", "Merge branch 'later-run'")
    merged = run("push")
    assert statuses(merged) == {"apply-dev": "success", "promote-staging": "waiting", "promote-prod": "waiting"}
    assert deployed_hour(repo, "staging") == 5  # manual: not before someone starts it
    merged = run("push", started={"promote-staging", "promote-prod"}, done=merged)
    ok(merged, "promote-staging")
    assert merged["promote-prod"].steps[-1].code == 8 and len(approve_in_govern(repo)) == 1
    merged = run("push", started={"promote-prod"}, done={k: v for k, v in merged.items() if k != "promote-prod"})
    ok(merged, "promote-prod")
    assert [deployed_hour(repo, e) for e in ("dev", "staging", "prod")] == [6, 6, 6]

    # The merge request's branch is gone: GitLab stops its preview environment, which runs the stop job.
    git(repo, "checkout", "-q", "later-run")
    stopped = run("merge_request_event", started={"preview-destroy"}, done={"plan": jobs["plan"]})
    ok(stopped, "preview-destroy")
    git(repo, "checkout", "-q", "main")
    assert deployed_hour(repo, "dev", "ORDERS_DEV_LATER_RUN") == -1 and deployed_hour(repo, "dev") == 6

    drift = run("schedule")
    assert statuses(drift) == {"drift": "success"}, drift["drift"].log
    assert {key for key, _ in cache.asked} == {"dss-iac-venv-py3.11"}


def test_a_direct_environment_after_the_first_is_applied_once_approved_from_a_subfolder(tmp_path: Path) -> None:
    """`init --ci github` for a workspace in a repository's subfolder whose prod is `deploy: direct` with `approval:
    govern`: the merge applies dev, then prod once approved on GitHub and its plan signed off in Govern, each checked
    to have nothing left to apply."""
    repo = tmp_path / "monorepo"
    workspace = repo / "infra" / "dataiku"
    shutil.copytree(EXAMPLES / "simple-project", workspace, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
    remap = "{connections: {warehouse: filesystem_managed, storage: filesystem_managed, folders: filesystem_folders}}"
    (workspace / "dss-iac.yaml").write_text(
        "version: 1\nprojects: [projects/*.yaml]\nenvironments:\n"
        f"  dev: {{host: embedded, project_key: '{{key}}_DEV', remap: {remap}}}\n"
        f"  prod: {{host: embedded, protected: true, approval: govern, remap: {remap}}}\n")
    git(repo, "init", "-q", "-b", "main")
    assert main(["-C", str(workspace), "init", "--ci", "github"]) == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Churn v1")
    runner = GitHubRunner(repo / GITHUB, repo, tmp_path / "runner", VenvCache(tmp_path / "c", requirement(
        repo / GITHUB)), secrets={}, reviewers={"prod"}, token="unused", variables={"DSS_IAC_APPROVAL_WAIT": "0"})
    runner.scratch.mkdir()
    env = {**base_env(tmp_path / "home"), "GITHUB_REF": "refs/heads/main", "GITHUB_WORKSPACE": str(repo)}
    jobs = runner.run("push", {}, env)
    assert statuses(jobs) == {"plan": "skipped", "preview-destroy": "skipped", "apply-dev": "success",
                              "apply-prod": "waiting", "drift": "skipped"}
    jobs = runner.run("push", {}, env, approved={"prod"}, done=jobs)
    assert jobs["apply-prod"].steps[-1].code == 8 and "Requested: the plan " in jobs["apply-prod"].log
    with Workspace.load(workspace) as ws:
        [request] = ws.approvals("prod")
        ws.embedded().govern_client().get_artifact(str(request.artifact_id)).get_signoff("review").add_approval(
            "APPROVED")
    jobs = runner.run("push", {}, env, approved={"prod"}, done={k: v for k, v in jobs.items() if k != "apply-prod"})
    ok(jobs, "apply-prod")
    assert "Govern: approved (1 sign-off(s))" in jobs["apply-prod"].log
    assert "Apply complete! Resources: 11 added" in jobs["apply-prod"].log
    assert "No changes. DSS matches the configuration in environment prod." in jobs["apply-prod"].log
    with Workspace.load(workspace) as ws:
        assert {"CHURN", "CHURN_DEV"} <= set(ws.connection("prod").client.list_project_keys())
    assert not (repo / ".venv").exists() and (workspace / ".venv" / "bin").exists()  # the cache's path is right
