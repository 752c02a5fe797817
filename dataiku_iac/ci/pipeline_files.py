"""The pipeline files `dss-iac init --ci` writes: `.github/workflows/dss-iac.yaml` and `.gitlab-ci.yml`.

Written as text, not dumped from data, so that they read like files a person wrote, comments included. The
shell steps come from pipeline_spec.py, the same for both platforms.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import indent, wrap
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import DssIacError
from .pipeline_spec import (
    APPROVAL_WAIT,
    PYTHON,
    RESULTS,
    VENV,
    Deployment,
    PipelineSpec,
    deploy_script,
    drift_script,
    install_script,
    pipeline_spec,
    preview_destroy_script,
    pull_request_script,
    warnings,
)

if TYPE_CHECKING:
    from ..config.loader import WorkspaceConfig

GITHUB_PATH = ".github/workflows/dss-iac.yaml"
GITLAB_PATH = ".gitlab-ci.yml"
REQUIREMENT = f"dataiku-iac=={__version__}"
# Ignored in the workspace: the venv and the pull-request job's results, when the steps run on a laptop.
IGNORED = (".venv/", ".dss-iac-ci/")


def write_pipelines(config: WorkspaceConfig, providers: list[str]) -> tuple[list[Path], list[str]]:
    """Write each provider's pipeline at the root of the workspace's Git repository (where the platform reads it;
    the workspace itself when it is in none); refuse to overwrite one. Returns the files and the warnings."""
    repo = repository_root(config.root)
    spec = pipeline_spec(config, repo)
    makers = {"github": (GITHUB_PATH, github_workflow), "gitlab": (GITLAB_PATH, gitlab_ci)}
    chosen = [(repo / makers[p][0], makers[p][1]) for p in providers]
    for path, _ in chosen:
        if path.exists():
            raise DssIacError(f"{path} already exists: refusing to overwrite it (move it away to write it again)")
    from .._fs import atomic_write

    for path, make in chosen:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, make(spec).encode())
    _ignore(config.root / ".gitignore")
    return [path for path, _ in chosen], warnings(config)


def repository_root(start: Path) -> Path:
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / ".git").exists():
            return folder
    return start.resolve()


def _ignore(gitignore: Path) -> None:
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    missing = [line for line in IGNORED if line not in text.splitlines()]
    if missing:
        sep = "" if not text or text.endswith("\n") else "\n"
        gitignore.write_text(f"{text}{sep}# dss-iac pipelines: the venv and the pull-request job's results\n"
                             + "".join(f"{line}\n" for line in missing), encoding="utf-8")


def _block(script: str, spaces: int) -> str:
    """A shell script as the body of a YAML literal block (`|`), indented by `spaces`."""
    return indent(script.rstrip("\n") + "\n", " " * spaces)


def _job_id(d: Deployment) -> str:
    return f"{'promote' if d.source else 'apply'}-{d.env}"


def _previous(spec: PipelineSpec, d: Deployment) -> Deployment:
    return next(x for x in spec.deployments if x.env == d.after)


def _title(d: Deployment) -> str:
    return f"Promote {d.source} to {d.env}" if d.source else f"Apply to {d.env}"


def _header(title: str, flow: list[str], setup: list[str]) -> str:
    """The comment that opens a pipeline file: what it does, then what to set up, wrapped at 116 columns."""
    def items(lines: list[str], bullet: str) -> list[str]:
        out = []
        for line in lines:
            out += wrap(line, 116, initial_indent=f"#   {bullet}", subsequent_indent="#     ", break_on_hyphens=False)
        return out

    return "\n".join([f"# {title}", "#", *items(flow, ""), "#", "# Set up once:", *items(setup, "- ")]) + "\n"


def _flow(spec: PipelineSpec, change: str, main: str) -> list[str]:
    first, *later = spec.deployments
    steps = [f"apply to {first.env} and check that nothing is left to apply"]
    steps += [f"{'promote' if d.source else 'apply'} to {d.env}" + (" (after its Govern sign-off)" if d.govern else "")
              for d in later]
    return [f"{change}: validate, then plan {', '.join(spec.environments)}, and preview the branch's projects in "
            f"{first.env} under their own keys; one comment on it, updated in place at each push (the plans as "
            f"Markdown, drift, the preview's links, test results). Closing it destroys the preview.",
            f"{main}: {'; then '.join(steps)}" + (", each once approved." if later else "."),
            "schedule: the drift report of every environment (fails when something changed outside dss-iac)."]


def _gated(spec: PipelineSpec) -> list[str]:
    return [d.env for d in spec.deployments if d.govern]


def _waiting(envs: list[str]) -> str:
    return f"{' and '.join(envs)} wait{'s' if len(envs) == 1 else ''} for a Govern sign-off"


def _secrets(spec: PipelineSpec) -> str:
    return ", ".join(spec.plan_secrets) or "none (dss-iac.yaml has no ${env:NAME} reference)"


# -- GitHub Actions ----------------------------------------------------------------------------------------------

def github_workflow(spec: PipelineSpec) -> str:
    later = [d.env for d in spec.deployments if d.manual]
    setup = [f"Environments (Settings > Environments): give {' and '.join(later)} required reviewers; their jobs "
             "wait for an approval."] if later else []
    setup += [f"Secrets, read by the ${{env:NAME}} references of dss-iac.yaml: {_secrets(spec)}. Repository "
              "secrets, or secrets of the environment whose job uses them (the pull-request plans see repository "
              f"secrets only; the preview writes to {spec.deployments[0].env}, so its key there may write).",
              "The state must outlive each job: state.backend s3 in dss-iac.yaml (docs/state.md)."]
    gated = _gated(spec)
    setup += [f"{_waiting(gated)}: the variable DSS_IAC_APPROVAL_WAIT (Settings > Variables) says how long a job "
              f"waits for it (default {APPROVAL_WAIT}; 0: look once and fail)."] if gated else []
    head = (
        _header("dss-iac pipeline for GitHub Actions, written by `dss-iac init --ci github` (docs/ci-cd.md of "
                "dataiku-iac).", _flow(spec, "pull request", f"push to {spec.branch}"), setup)
        + "name: dss-iac\n\n"
        "on:\n"
        "  pull_request:\n"
        f"    branches: [{spec.branch}]\n"
        "    types: [opened, synchronize, reopened, closed]  # closed: the pull request's preview is destroyed\n"
        "  push:\n"
        f"    branches: [{spec.branch}]\n"
        "  schedule:\n"
        '    - cron: "17 6 * * 1-5"  # the drift report, working days at 06:17 UTC\n\n'
        "permissions:\n"
        "  contents: read\n\n"
        "defaults:\n"
        "  run:\n"
        "    shell: bash\n"
        + (f"    working-directory: {spec.workdir}\n" if spec.workdir else "")
        + "\nenv:\n"
        "  # Where the runners install dss-iac from: a pip requirement (a version, a Git URL, your index's package),\n"
        "  # without commas: it is part of the venv's cache key.\n"
        f'  DSS_IAC_REQUIREMENT: "{REQUIREMENT}"\n'
        + (f"  DSS_IAC_APPROVAL_WAIT: ${{{{ vars.DSS_IAC_APPROVAL_WAIT || '{APPROVAL_WAIT}' }}}}  # for the Govern "
           "sign-offs\n" if gated else "")
        + '  NO_COLOR: "1"\n\n'
        "jobs:\n"
    )
    jobs = [_github_plan_job(spec), _github_preview_destroy_job(spec),
            *(_github_deploy_job(spec, d) for d in spec.deployments), _github_drift_job(spec)]
    return head + "\n".join(jobs)


def _github_env(names: tuple[str, ...], extra: str = "") -> str:
    lines = [f"      {n}: ${{{{ secrets.{n} }}}}\n" for n in names]
    if not lines and not extra:
        return ""
    return "    env:\n" + extra + "".join(lines)


def _github_setup(spec: PipelineSpec) -> str:
    return (
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - uses: actions/setup-python@v5\n"
        "        with:\n"
        f'          python-version: "{PYTHON}"\n'
        "      - name: Restore the dss-iac venv\n"
        "        uses: actions/cache@v4\n"
        "        with:\n"
        f"          path: {spec.path(VENV)}\n"
        f"          key: dss-iac-venv-${{{{ runner.os }}}}-py{PYTHON}-${{{{ env.DSS_IAC_REQUIREMENT }}}}\n"
        "      - name: Install dss-iac\n"
        "        run: |\n"
        + _block(install_script(), 10)
        + f'          echo "$PWD/{VENV}/bin" >> "$GITHUB_PATH"\n'
    )


def _github_plan_job(spec: PipelineSpec) -> str:
    return (
        "  plan:\n"
        "    name: Validate, plan every environment, preview\n"
        "    if: github.event_name == 'pull_request' && github.event.action != 'closed'\n"
        "    runs-on: ubuntu-latest\n"
        "    permissions:\n"
        "      contents: read\n"
        "      pull-requests: write  # the plan comment\n"
        "    concurrency:\n"
        "      group: dss-iac-plan-${{ github.event.pull_request.number }}\n"
        "      cancel-in-progress: true  # a newer push plans and previews again (the next run recovers the preview)\n"
        + _github_env(spec.plan_secrets, "      GITHUB_TOKEN: ${{ github.token }}\n")
        + _github_setup(spec)
        + "      - name: Validate, plan and comment\n"
        "        run: |\n"
        + _block(pull_request_script(spec, "github"), 10)
    )


def _github_preview_destroy_job(spec: PipelineSpec) -> str:
    first = spec.deployments[0]
    return (
        "  preview-destroy:\n"
        "    name: Destroy the pull request's preview\n"
        "    if: github.event_name == 'pull_request' && github.event.action == 'closed'\n"
        "    runs-on: ubuntu-latest\n"
        "    concurrency:\n"
        "      group: dss-iac-plan-${{ github.event.pull_request.number }}\n"
        "      cancel-in-progress: false  # after the last plan: never stop a destroy half-way\n"
        + _github_env(first.secrets)
        + _github_setup(spec)
        + "      - name: Destroy the preview\n"
        "        run: |\n"
        + _block(preview_destroy_script(spec, "github"), 10)
    )


def _github_deploy_job(spec: PipelineSpec, d: Deployment) -> str:
    approval = "  # required reviewers on this environment: the manual approval" if d.manual else ""
    return (
        f"  {_job_id(d)}:\n"
        f"    name: {_title(d)}\n"
        + (f"    needs: {_job_id(_previous(spec, d))}\n" if d.after else "")
        + "    if: github.event_name == 'push'\n"
        "    runs-on: ubuntu-latest\n"
        f"    environment: {d.env}{approval}\n"
        "    concurrency:\n"
        f"      group: dss-iac-{d.env}\n"
        "      cancel-in-progress: false  # never stop a deployment half-way; the state lock guards it too\n"
        + _github_env(d.secrets)
        + _github_setup(spec)
        + f"      - name: {_title(d)}\n"
        "        run: |\n"
        + _block(deploy_script(d), 10)
    )


def _github_drift_job(spec: PipelineSpec) -> str:
    return (
        "  drift:\n"
        "    name: Drift report\n"
        "    if: github.event_name == 'schedule'\n"
        "    runs-on: ubuntu-latest\n"
        + _github_env(spec.plan_secrets)
        + _github_setup(spec)
        + "      - name: Drift of every environment\n"
        "        run: |\n"
        + _block(drift_script(spec), 10)
    )


# -- GitLab CI ---------------------------------------------------------------------------------------------------

_ON_MAIN = '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE != "schedule"'


def gitlab_ci(spec: PipelineSpec) -> str:
    later = [d.env for d in spec.deployments if d.manual]
    stages = ["plan", *(f"deploy-{d.env}" for d in spec.deployments), "drift"]
    setup = ["GITLAB_TOKEN (Settings > CI/CD > Variables, masked): a project access token with the api scope, for "
             "the merge-request comment; the job token (CI_JOB_TOKEN) may not write merge-request notes.",
             f"Variables, read by the ${{env:NAME}} references of dss-iac.yaml: {_secrets(spec)}. Masked; "
             "protected ones reach only the pipelines of protected branches, so the merge-request plans need "
             "read-only keys that are not protected."]
    setup += [f"On GitLab Premium, protect {' and '.join(later)} (Operate > Environments) with deployment "
              "approvals; on any tier their jobs are manual."] if later else []
    gated = _gated(spec)
    setup += [f"{_waiting(gated)}: DSS_IAC_APPROVAL_WAIT (a CI/CD variable, default {APPROVAL_WAIT} below; 0: look "
              "once and fail) says how long a job waits for it."] if gated else []
    setup += ["The state must outlive each job: state.backend s3 in dss-iac.yaml (docs/state.md).",
              "A pipeline schedule (Build > Pipeline schedules) for the drift report.",
              f"Merge requests get a preview in {spec.deployments[0].env} (environment preview/<branch>), stopped "
              "- its projects destroyed - when the merge request is merged or closed and its branch deleted."]
    head = (
        _header("dss-iac pipeline for GitLab CI, written by `dss-iac init --ci gitlab` (docs/ci-cd.md of "
                "dataiku-iac).", _flow(spec, "merge request", "merge to the default branch"), setup)
        + "workflow:\n"
        "  rules:\n"
        '    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n'
        '    - if: $CI_PIPELINE_SOURCE == "schedule"\n'
        "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n\n"
        f"stages: [{', '.join(stages)}]\n\n"
        "variables:\n"
        "  # Where the runners install dss-iac from: a pip requirement (a version, a Git URL, your index's package).\n"
        f'  DSS_IAC_REQUIREMENT: "{REQUIREMENT}"\n'
        + (f'  DSS_IAC_APPROVAL_WAIT: "{APPROVAL_WAIT}"  # how long a job waits for its Govern sign-off\n'
           if gated else "")
        + '  NO_COLOR: "1"\n\n'
        "default:\n"
        f"  image: python:{PYTHON}  # with git, which promote needs (bundle ids come from the commit)\n"
        "  cache:\n"
        f"    key: dss-iac-venv-py{PYTHON}\n"
        "    paths:\n"
        f"      - {spec.path(VENV)}/\n"
        "  before_script:\n"
        + (f"    - cd {spec.workdir}\n" if spec.workdir else "")
        + "    - |\n"
        + _block(install_script(), 6)
        + f'    - export PATH="$PWD/{VENV}/bin:$PATH"\n\n'
    )
    jobs = [_gitlab_plan_job(spec), _gitlab_preview_stop_job(spec),
            *(_gitlab_deploy_job(spec, d) for d in spec.deployments), _gitlab_drift_job(spec)]
    return head + "\n".join(jobs)


def _gitlab_plan_job(spec: PipelineSpec) -> str:
    return (
        "plan:\n"
        "  stage: plan\n"
        "  rules:\n"
        '    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n'
        "  interruptible: true  # a newer push to the merge request plans and previews again\n"
        "  environment:\n"
        "    name: preview/$CI_COMMIT_REF_SLUG\n"
        "    on_stop: preview-destroy  # when the merge request is merged or closed\n"
        "    auto_stop_in: 2 weeks\n"
        "  script:\n"
        "    - |\n"
        + _block(pull_request_script(spec, "gitlab"), 6)
        + "  artifacts:\n"
        "    when: always\n"
        "    expire_in: 1 week\n"
        "    paths:\n"
        f"      - {spec.path(RESULTS)}/\n"
    )


def _gitlab_preview_stop_job(spec: PipelineSpec) -> str:
    return (
        "preview-destroy:\n"
        "  stage: plan\n"
        "  rules:\n"
        '    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n'
        "      when: manual  # GitLab runs it when the preview environment stops\n"
        "  allow_failure: true\n"
        "  environment:\n"
        "    name: preview/$CI_COMMIT_REF_SLUG\n"
        "    action: stop\n"
        "  script:\n"
        "    - |\n"
        + _block(preview_destroy_script(spec, "gitlab"), 6)
    )


def _gitlab_deploy_job(spec: PipelineSpec, d: Deployment) -> str:
    return (
        f"{_job_id(d)}:\n"
        f"  stage: deploy-{d.env}\n"
        + (f"  needs: [{_job_id(_previous(spec, d))}]\n" if d.after else "")
        + "  rules:\n"
        f"    - if: {_ON_MAIN}\n"
        + ("      when: manual  # the approval: someone allowed to deploy to the environment starts the job\n"
           if d.manual else "")
        + f"  resource_group: dss-iac-{d.env}  # one job at a time per environment, across pipelines\n"
        "  environment:\n"
        f"    name: {d.env}\n"
        "  script:\n"
        "    - |\n"
        + _block(deploy_script(d), 6)
    )


def _gitlab_drift_job(spec: PipelineSpec) -> str:
    return (
        "drift:\n"
        "  stage: drift\n"
        "  rules:\n"
        '    - if: $CI_PIPELINE_SOURCE == "schedule"\n'
        "  script:\n"
        "    - |\n"
        + _block(drift_script(spec), 6)
    )
