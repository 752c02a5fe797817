"""`dss-iac init --ci`: the pipeline files it writes are valid for their platform (their JSON schemas), their shell
steps pass ShellCheck, the examples are what it writes, and it refuses what it should."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dataiku_iac.cli.main import main

from .pipeline_runner import load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TEMPLATES = EXAMPLES / "ci-cd-templates"
GITHUB = ".github/workflows/dss-iac.yaml"
GITLAB = ".gitlab-ci.yml"
BIN = Path(sys.executable).parent


def init_ci(root: Path, *providers: str) -> int:
    return main(["-C", str(root), "init", *(a for p in providers for a in ("--ci", p))])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Both pipelines of every example workspace (and of one in a repository's subfolder)."""
    out = []
    base = tmp_path_factory.mktemp("pipelines")
    for example in ("simple-project", "multi-env", "ml-pipeline", "ci-cd-templates"):
        root = base / example
        shutil.copytree(EXAMPLES / example, root, ignore=shutil.ignore_patterns(".github", GITLAB, ".dss-iac"))
        assert init_ci(root, "github", "gitlab") == 0
        out += [root / GITHUB, root / GITLAB]
    repo = base / "monorepo"
    shutil.copytree(EXAMPLES / "multi-env", repo / "infra" / "dataiku")
    (repo / ".git").mkdir()  # what init looks for: the repository's root
    assert init_ci(repo / "infra" / "dataiku", "github", "gitlab") == 0
    return [*out, repo / GITHUB, repo / GITLAB]


def test_github_workflows_match_githubs_workflow_schema(generated: list[Path]) -> None:
    files = [str(p) for p in generated if p.name == "dss-iac.yaml"] + [str(TEMPLATES / GITHUB)]
    proc = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_gitlab_files_match_gitlabs_ci_schema(generated: list[Path]) -> None:
    files = [str(p) for p in generated if p.name == GITLAB] + [str(TEMPLATES / GITLAB)]
    proc = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *files],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def scripts(path: Path) -> dict[str, str]:
    """Every shell script a pipeline runs: GitHub's `run:` steps, GitLab's before_script + script per job."""
    doc = load(path)
    if path.name == GITLAB:
        before = doc["default"]["before_script"]
        return {job: "\n".join([*spec.get("before_script", before), *spec["script"]])
                for job, spec in doc.items() if isinstance(spec, dict) and "script" in spec}
    return {f"{job}/{step.get('name', i)}": step["run"] for job, spec in doc["jobs"].items()
            for i, step in enumerate(spec["steps"]) if "run" in step}


def test_every_shell_step_passes_shellcheck(generated: list[Path], tmp_path: Path) -> None:
    files = []
    for pipeline in [*generated, TEMPLATES / GITHUB, TEMPLATES / GITLAB]:
        for name, script in scripts(pipeline).items():
            file = tmp_path / f"{len(files)}.sh"
            # Both platforms run the steps with bash -eo pipefail.
            file.write_text(f"#!/usr/bin/env bash\n# {pipeline.name}: {name}\nset -eo pipefail\n{script}\n")
            files.append(str(file))
    proc = subprocess.run([str(BIN / "shellcheck"), "--shell=bash", *files], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_the_examples_are_what_init_writes_for_their_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(TEMPLATES, root, ignore=shutil.ignore_patterns(".github", GITLAB))
    assert init_ci(root, "github", "gitlab") == 0
    for name in (GITHUB, GITLAB):
        assert (root / name).read_text() == (TEMPLATES / name).read_text(), (
            f"examples/ci-cd-templates/{name} is out of date: run `dss-iac init --ci github --ci gitlab` in a copy "
            "of examples/ci-cd-templates without its pipeline files, and copy them back")


def test_the_examples_environments_are_those_of_multi_env() -> None:
    """The pipeline test runs the example files in a copy of examples/multi-env (on the embedded DSS): the
    environments must be the same, in the same order and with the same deploy modes."""
    from dataiku_iac.config.loader import load_workspace

    def shape(folder: Path) -> list[tuple[str, str, bool, str | None]]:
        return [(name, env.deploy, env.approval is not None, env.govern_check)
                for name, env in load_workspace(folder).spec.environments.items()]

    assert shape(TEMPLATES) == shape(EXAMPLES / "multi-env") == [
        ("dev", "direct", False, None), ("staging", "bundle", False, None), ("prod", "bundle", True, "PREVENT")]


def test_gated_deployments_wait_for_govern_and_pull_requests_get_a_preview() -> None:
    """prod (approval: govern) waits for its sign-off up to DSS_IAC_APPROVAL_WAIT; the others do not wait. A pull
    request's job previews it in dev, and its closing destroys the preview (GitHub: the closed event; GitLab: the
    stop job of the preview environment)."""
    github, gitlab = load(TEMPLATES / GITHUB), load(TEMPLATES / GITLAB)
    jobs = github["jobs"]
    assert github["env"]["DSS_IAC_APPROVAL_WAIT"] == "${{ vars.DSS_IAC_APPROVAL_WAIT || '30m' }}"
    assert gitlab["variables"]["DSS_IAC_APPROVAL_WAIT"] == "30m"
    for steps in ([s["run"] for s in jobs[j]["steps"] if "run" in s][-1] for j in jobs):
        waits = '--wait-approval "$DSS_IAC_APPROVAL_WAIT"' in steps
        assert waits == ("--to prod" in steps)
    assert '--wait-approval "$DSS_IAC_APPROVAL_WAIT"' in gitlab["promote-prod"]["script"][0]
    assert "--wait-approval" not in gitlab["promote-staging"]["script"][0]

    assert "closed" in github["on"]["pull_request"]["types"]
    assert jobs["plan"]["if"] == "github.event_name == 'pull_request' && github.event.action != 'closed'"
    assert jobs["preview-destroy"]["if"] == "github.event_name == 'pull_request' && github.event.action == 'closed'"
    assert 'dss-iac preview -e dev --name "$GITHUB_HEAD_REF" --yes --markdown' in jobs["plan"]["steps"][-1]["run"]
    assert 'dss-iac preview -e dev --name "$GITHUB_HEAD_REF" --destroy --yes' in jobs["preview-destroy"]["steps"][-1][
        "run"]
    assert set(jobs["preview-destroy"]["env"]) == set(jobs["apply-dev"]["env"])  # dev's secrets, no others
    assert gitlab["plan"]["environment"] == {"name": "preview/$CI_COMMIT_REF_SLUG", "on_stop": "preview-destroy",
                                             "auto_stop_in": "2 weeks"}
    assert gitlab["preview-destroy"]["environment"] == {"name": "preview/$CI_COMMIT_REF_SLUG", "action": "stop"}
    assert gitlab["preview-destroy"]["rules"][0]["when"] == "manual"


def test_secrets_reach_the_jobs_that_use_them_and_no_others() -> None:
    jobs = load(TEMPLATES / GITHUB)["jobs"]
    plan_env = jobs["plan"]["env"]
    assert plan_env["GITHUB_TOKEN"] == "${{ github.token }}"
    assert {k for k in plan_env if k.startswith("DSS_")} == {
        "DSS_DEV_HOST", "DSS_DEV_API_KEY", "DSS_STAGING_HOST", "DSS_STAGING_API_KEY", "DSS_PROD_HOST",
        "DSS_PROD_API_KEY", "DSS_IAC_STATE_KEY"}
    for job, spec in jobs.items():
        assert all(v == f"${{{{ secrets.{k} }}}}" for k, v in spec.get("env", {}).items() if k != "GITHUB_TOKEN"), job
    assert "DSS_STAGING_API_KEY" not in jobs["promote-prod"]["env"]  # prod's job holds dev's and prod's keys only
    assert {"DSS_PROD_API_KEY", "DSS_DEV_API_KEY", "AWS_SECRET_ACCESS_KEY"} <= set(jobs["promote-prod"]["env"])
    assert set(jobs["apply-dev"]["env"]) == {"DSS_DEV_HOST", "DSS_DEV_API_KEY", "DSS_IAC_STATE_KEY",
                                             "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert "pull-requests" not in str(jobs["apply-dev"]) and jobs["plan"]["permissions"]["pull-requests"] == "write"


def test_deployments_never_run_two_at_once() -> None:
    """GitHub: one concurrency group per environment that never cancels a running job; GitLab: one resource
    group per environment; both: apply waits for another run's state lock instead of failing."""
    jobs = load(TEMPLATES / GITHUB)["jobs"]
    deploy = {j: s for j, s in jobs.items() if j.startswith(("apply-", "promote-"))}
    assert sorted(s["concurrency"]["group"] for s in deploy.values()) == ["dss-iac-dev", "dss-iac-prod",
                                                                         "dss-iac-staging"]
    assert all(s["concurrency"]["cancel-in-progress"] is False for s in deploy.values())
    assert jobs["plan"]["concurrency"]["cancel-in-progress"] is True  # plans take no lock
    gitlab = load(TEMPLATES / GITLAB)
    assert {j: gitlab[j]["resource_group"] for j in deploy} == {
        "apply-dev": "dss-iac-dev", "promote-staging": "dss-iac-staging", "promote-prod": "dss-iac-prod"}
    assert "--lock-timeout 10m" in jobs["apply-dev"]["steps"][-1]["run"]
    assert [gitlab[j]["rules"][0].get("when") for j in deploy] == [None, "manual", "manual"]
    assert [jobs[j].get("environment") for j in deploy] == ["dev", "staging", "prod"]


def dss_iac_commands(script: str) -> list[list[str]]:
    """The arguments of each `dss-iac` command a script runs (shell variables as a value they take)."""
    found = []
    for line in script.splitlines():
        if not line.strip().startswith("dss-iac "):
            continue
        values = {"$env": "dev", "$DSS_IAC_APPROVAL_WAIT": "30m", "$GITHUB_HEAD_REF": "feature/x",
                  "$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/x"}
        for variable, value in values.items():
            line = line.replace(variable, value)
        words = shlex.split(line.removesuffix("\\"), comments=True)
        if words[:1] == ["dss-iac"]:
            args = []
            for word in words[1:]:
                if word in ("\\", "||") or word.startswith((">", "2>")):
                    break
                if "${" not in word:  # "${comment[@]}": the options the script gathered, checked apart
                    args.append(word)
            found.append(args)
    return found


def test_the_pipelines_call_only_commands_that_exist() -> None:
    """Every `dss-iac ...` a pipeline runs parses, the tests and the preview included."""
    from dataiku_iac.cli.main import build_parser

    parser = build_parser()
    seen = set()
    for pipeline in (TEMPLATES / GITHUB, TEMPLATES / GITLAB):
        for name, script in scripts(pipeline).items():
            for args in dss_iac_commands(script):
                try:
                    parser.parse_args(args)
                except SystemExit:
                    pytest.fail(f"{pipeline.name} {name}: dss-iac {' '.join(args)}")
                seen.add(" ".join(args[:2]))
    assert seen >= {"validate --json", "plan -e", "apply -e", "promote --from", "drift -e", "ci comment",
                    "preview -e", "test --static", "test -e"}


def test_init_ci_in_a_subfolder_writes_at_the_repository_root_and_works_in_the_subfolder(
        generated: list[Path]) -> None:
    github, gitlab = (load(p) for p in generated[-2:])
    assert github["defaults"]["run"]["working-directory"] == "infra/dataiku"
    assert github["jobs"]["plan"]["steps"][2]["with"]["path"] == "infra/dataiku/.venv"
    assert gitlab["default"]["before_script"][0] == "cd infra/dataiku"
    assert gitlab["default"]["cache"]["paths"] == ["infra/dataiku/.venv/"]
    assert gitlab["plan"]["artifacts"]["paths"] == ["infra/dataiku/.dss-iac-ci/"]
    assert (generated[-1].parent / "infra" / "dataiku" / ".gitignore").read_text().endswith(".venv/\n.dss-iac-ci/\n")


def test_init_ci_says_what_would_not_work_on_a_real_platform(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES / "multi-env", root)
    assert init_ci(root, "gitlab") == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"Wrote {root / GITLAB}.\n") and not (root / GITHUB).exists()
    assert "warning: environment(s) dev, staging, prod use host: embedded" in out.err
    assert "warning: the state backend is local" in out.err
    root2 = tmp_path / "ws2"
    shutil.copytree(TEMPLATES, root2, ignore=shutil.ignore_patterns(".github", GITLAB))
    assert init_ci(root2, "github") == 0
    assert "warning" not in capsys.readouterr().err  # real hosts, S3 state: nothing to say


def test_init_ci_refuses_to_overwrite_and_to_mix_an_example_into_a_workspace(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES / "multi-env", root)
    assert init_ci(root, "github") == 0
    before = (root / GITHUB).read_text()
    (root / GITHUB).write_text(before + "# mine\n")
    capsys.readouterr()
    assert init_ci(root, "github", "gitlab") == 1
    assert f"error: {root / GITHUB} already exists: refusing to overwrite it" in capsys.readouterr().err
    assert (root / GITHUB).read_text().endswith("# mine\n") and not (root / GITLAB).exists()  # nothing half-written
    assert main(["-C", str(root), "init"]) == 1
    assert "to add a pipeline to it: dss-iac init --ci github|gitlab" in capsys.readouterr().err
    assert main(["-C", str(root), "init", "--ci", "gitlab", "--example", "ml-pipeline"]) == 1
    assert "--example is for a new workspace" in capsys.readouterr().err


def test_init_ci_refuses_an_invalid_workspace_or_one_without_a_direct_environment(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLES / "multi-env", root)
    yaml = root / "dss-iac.yaml"
    yaml.write_text(yaml.read_text().replace("    project_key:", "    projct_key:"))
    assert init_ci(root, "github") == 3
    assert "dss-iac.yaml:10:5" in capsys.readouterr().err and not (root / GITHUB).exists()
    yaml.write_text("version: 1\nenvironments:\n  prod: {host: embedded, node: prod, deploy: bundle}\n")
    assert init_ci(root, "github") == 3
    assert "has none (every environment is `deploy: bundle`)" in capsys.readouterr().err


def test_a_new_workspace_with_its_pipeline_in_one_command(tmp_path: Path) -> None:
    assert main(["-C", str(tmp_path), "init", "repo", "--example", "multi-env", "--ci", "github"]) == 0
    assert (tmp_path / "repo" / "dss-iac.yaml").exists() and (tmp_path / "repo" / GITHUB).exists()
    gitignore = (tmp_path / "repo" / ".gitignore").read_text()
    assert ".dss-iac/" in gitignore and ".venv/" in gitignore and ".dss-iac-ci/" in gitignore
