"""What a workspace's pipeline does, read off its dss-iac.yaml, and the shell steps both platforms run.

GitHub Actions and GitLab CI get the same steps (pipeline_files.py wraps them in each platform's YAML), so a
step that works on one works on the other, and the test that runs them covers both.

- Pull request: validate, then plan every environment (in the order of dss-iac.yaml), apply the preview of the
  pull request's branch to the first `deploy: direct` environment (`dss-iac preview`), and post the results as one
  comment (`dss-iac ci comment`), updated in place at each push. Its closing (merged or not) destroys the preview.
- Merge to the main branch: apply to the first `deploy: direct` environment and check that nothing is left to
  apply. Every other environment follows in order, each after a manual approval: `promote` for a
  `deploy: bundle` environment (from that first one, the design node), `apply` for a direct one. Where Govern
  must sign off (`approval: govern`, or a deployer infrastructure with the PREVENT policy), the job opens the
  request and waits for it (`--wait-approval`, DSS_IAC_APPROVAL_WAIT); if it is not approved in time, the job
  fails with exit code 8 and is run again once it is.
- Schedule: the drift report of every environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config.loader import WorkspaceConfig

RESULTS = ".dss-iac-ci"  # where the pull-request job keeps what the comment is made of
VENV = ".venv"
REQUIREMENT_FILE = "dss-iac-requirement.txt"  # what the venv was made from
PYTHON = "3.11"
LOCK_TIMEOUT = "10m"  # an apply waits this long for another run's state lock before failing (exit 4)
APPROVAL_WAIT = "30m"  # a gated deployment waits this long for its Govern sign-off (DSS_IAC_APPROVAL_WAIT)
# The pull request's branch, as each platform's job names it.
BRANCH = {"github": "$GITHUB_HEAD_REF", "gitlab": "$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"}
AWS_SECRETS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


@dataclass(frozen=True)
class Deployment:
    """How one environment gets the main branch's configuration."""

    env: str
    source: str | None  # promote from this environment (bundle); None: apply directly
    after: str | None  # the environment deployed just before (None: first, right after the merge)
    secrets: tuple[str, ...]  # what its job reads from the secret store
    govern: bool = False  # waits for a Govern sign-off (approval: govern, or govern_check: PREVENT)

    @property
    def manual(self) -> bool:
        return self.after is not None


@dataclass(frozen=True)
class PipelineSpec:
    environments: tuple[str, ...]
    deployments: tuple[Deployment, ...]
    plan_secrets: tuple[str, ...]  # every environment's, for the pull-request plans and the drift report
    workdir: str  # the workspace's folder in the repository, "" at its root
    branch: str = "main"

    def path(self, name: str) -> str:
        """`name` (relative to the workspace) as the platform's cache and artifact settings want it: from the
        repository root."""
        return f"{self.workdir}/{name}" if self.workdir else name


def pipeline_spec(config: WorkspaceConfig, repo_root: Path) -> PipelineSpec:
    """The pipeline of the workspace `config` in the repository at `repo_root`."""
    from ..config.envref import names

    envs = config.spec.environments
    direct = [name for name, env in envs.items() if env.deploy == "direct"]
    if not direct:
        raise ConfigError("a pipeline applies the first `deploy: direct` environment when a change is merged, and "
                          "this workspace has none (every environment is `deploy: bundle`)", file=config.file.shown)
    first = direct[0]
    state = config.spec.state
    state_secrets = [*([state.encryption_key_env] if state.encryption_key_env else []),
                     *(AWS_SECRETS if state.backend == "s3" else ())]
    refs = {name: names(config.raw["environments"][name]) for name in envs}

    def secrets(*env_names: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*(n for e in env_names for n in refs[e]), *state_secrets]))

    def gated(name: str) -> bool:
        return envs[name].approval is not None or envs[name].govern_check == "PREVENT"

    deployments = [Deployment(first, None, None, secrets(first), gated(first))]
    for name in [n for n in envs if n != first]:
        source = config.bundle_source(name)
        deployments.append(Deployment(name, source, deployments[-1].env, secrets(name, *([source] if source else [])),
                                      gated(name)))
    workdir = config.root.resolve().relative_to(repo_root.resolve()).as_posix()
    return PipelineSpec(tuple(envs), tuple(deployments), secrets(*envs), "" if workdir == "." else workdir)


def warnings(config: WorkspaceConfig) -> list[str]:
    """What would keep the pipeline from working on a real platform, where every job starts on a fresh runner."""
    out = []
    embedded = [name for name, env in config.spec.environments.items() if env.host == "embedded"]
    if embedded:
        out.append(f"environment(s) {', '.join(embedded)} use host: embedded, a DSS simulator inside the job's "
                   "checkout: each job would start from an empty one. Point them at real DSS instances "
                   "(host: ${env:...}) before you push the pipeline")
    backend = config.spec.state.backend
    if backend != "s3":
        out.append(f"the state backend is {backend}: the state would stay on the runner, which forgets it after "
                   "each job. Use state.backend: s3 (docs/state.md)")
    return out


def install_script() -> str:
    return f"""\
# The venv comes from the cache; it is made again when DSS_IAC_REQUIREMENT changes.
if [ "$(cat {VENV}/{REQUIREMENT_FILE} 2>/dev/null)" != "$DSS_IAC_REQUIREMENT" ]; then
  rm -rf {VENV}
  python -m venv {VENV}
  {VENV}/bin/pip install --quiet --disable-pip-version-check "$DSS_IAC_REQUIREMENT"
  echo "$DSS_IAC_REQUIREMENT" > {VENV}/{REQUIREMENT_FILE}
fi"""


def pull_request_script(spec: PipelineSpec, provider: str) -> str:
    envs = " ".join(spec.environments)
    preview = spec.deployments[0].env
    return f"""\
# Validate, plan every environment, then preview the branch's projects in {preview}. Whatever fails, the comment
# says it, and the job fails after it.
rm -rf {RESULTS} && mkdir -p {RESULTS}
status=0
dss-iac validate --json > {RESULTS}/validate.json || status=$?
if [ "$status" -eq 0 ]; then
  # Static tests (no DSS call); their JUnit XML report joins the comment.
  dss-iac test --static --junit-xml {RESULTS}/tests.xml > {RESULTS}/tests.log || status=$?
  cat {RESULTS}/tests.log
  for env in {envs}; do
    code=0
    dss-iac plan -e "$env" --out "{RESULTS}/plan-$env.json" --detailed-exitcode \\
      2> "{RESULTS}/plan-$env.log" || code=$?
    cat "{RESULTS}/plan-$env.log" >&2
    # --detailed-exitcode: 0 no changes, 2 changes to apply; anything else is a failure.
    if [ "$code" -ne 0 ] && [ "$code" -ne 2 ]; then status=$code; fi
  done
  # The branch's projects under their own keys in {preview}, for reviewers to open in DSS (destroyed once the
  # request is closed); the comment links them.
  code=0
  dss-iac preview -e {preview} --name "{BRANCH[provider]}" --yes --markdown --lock-timeout {LOCK_TIMEOUT} \\
    > {RESULTS}/preview.md || code=$?
  if [ "$code" -ne 0 ]; then
    status=$code
    printf '### Preview\\n\\nThe preview failed (exit code %s): see the job log.\\n' "$code" > {RESULTS}/preview.md
  fi
fi
comment=(--validate {RESULTS}/validate.json)
for env in {envs}; do
  if [ -f "{RESULTS}/plan-$env.json" ]; then
    comment+=(--plan "{RESULTS}/plan-$env.json")
  elif [ -f "{RESULTS}/plan-$env.log" ]; then
    comment+=(--plan-error "$env={RESULTS}/plan-$env.log")
  fi
done
if [ -s {RESULTS}/preview.md ]; then comment+=(--section {RESULTS}/preview.md); fi
for report in {RESULTS}/*.xml; do
  if [ -f "$report" ]; then comment+=(--junit-xml "$report"); fi
done
dss-iac ci comment --provider {provider} "${{comment[@]}}"
exit "$status"
"""


def preview_destroy_script(spec: PipelineSpec, provider: str) -> str:
    env = spec.deployments[0].env
    return f"""\
# The request is closed (merged or not): its preview goes, the projects of {env} stay.
dss-iac preview -e {env} --name "{BRANCH[provider]}" --destroy --yes --lock-timeout {LOCK_TIMEOUT}"""


def deploy_script(d: Deployment) -> str:
    wait = ' --wait-approval "$DSS_IAC_APPROVAL_WAIT"' if d.govern else ""
    govern = [f"# {d.env} waits for a Govern sign-off: the request opens (once per {'bundle' if d.source else 'plan'})"
              " and the job waits up to", "# DSS_IAC_APPROVAL_WAIT for it; not approved by then, it fails with exit "
              "code 8: run it again once it is."] if d.govern else []
    if d.source:
        lines = ["# `promote` refuses a design project that no longer matches this commit's configuration; "
                 "--verify runs",
                 f"# the tests of {d.env} after the update and rolls back to the previous bundle if one fails.",
                 *govern, f"dss-iac promote --from {d.source} --to {d.env} --verify --yes{wait}"]
        return "\n".join(lines)
    tests = f"""
# The tests of {d.env}: data tests and test scenarios (exit 7 fails the job).
mkdir -p {RESULTS}
dss-iac test -e {d.env} --junit-xml {RESULTS}/tests-{d.env}.xml"""
    head = "".join(f"{line}\n" for line in govern)
    return f"""\
{head}dss-iac apply -e {d.env} --yes --lock-timeout {LOCK_TIMEOUT}{wait}{tests}
# Converged: right after the apply, the plan has nothing left to do (exit 2 would mean it has).
dss-iac plan -e {d.env} --detailed-exitcode"""


def drift_script(spec: PipelineSpec) -> str:
    return f"""\
status=0
for env in {" ".join(spec.environments)}; do
  code=0
  dss-iac drift -e "$env" --detailed-exitcode || code=$?
  # 2: something changed outside dss-iac (the report says what); anything else is an error, which wins.
  if [ "$code" -ne 0 ] && {{ [ "$status" -eq 0 ] || [ "$status" -eq 2 ]; }}; then status=$code; fi
done
exit "$status"
"""
