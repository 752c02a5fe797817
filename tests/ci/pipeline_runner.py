"""Runs the jobs of a GitHub Actions workflow or a GitLab CI file on this machine, the way the platform would for an
event: which jobs run (`if:`, `rules:`, `needs:`, stages), in which order, the approvals they wait for, their
environment variables and secrets, and each `run:` / `script:` executed with bash as the platform runs it
(`bash --noprofile --norc -eo pipefail`). A runner that kept its checkout between jobs, as a self-hosted one does:
the jobs share one folder.

Only what the templates use is understood; anything else raises, so a template cannot pass unrun. Actions are
stood in for by what they do here: `actions/checkout` (the folder is checked out at the event's commit by the
test), `actions/setup-python` (`python` on PATH), `actions/cache` (restores the path from `VenvCache`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from . import expressions

BASE_PATH = "/usr/local/bin:/usr/bin:/bin"
STEP_TIMEOUT = 300


@dataclass
class Step:
    name: str
    code: int
    stdout: str
    stderr: str


@dataclass
class Job:
    name: str
    status: str  # success | failure | skipped | waiting (for an approval)
    steps: list[Step] = field(default_factory=list)

    @property
    def log(self) -> str:
        return "\n".join(f"--- {s.name} (exit {s.code})\n{s.stdout}{s.stderr}" for s in self.steps)


@dataclass
class VenvCache:
    """The platform's cache, holding one venv with dss-iac (this checkout's) made from `requirement`; records the
    keys and paths the jobs asked for."""

    root: Path
    requirement: str
    asked: list[tuple[str, str]] = field(default_factory=list)

    def restore(self, key: str, path: Path) -> None:
        self.asked.append((key, str(path)))
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        (path / "bin").symlink_to(Path(sys.executable).parent)  # the venv running the tests: dss-iac is there
        (path / "dss-iac-requirement.txt").write_text(self.requirement + "\n")


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def _bash(script: str, cwd: Path, env: Mapping[str, str], name: str, scratch: Path) -> Step:
    file = scratch / f"step-{abs(hash((name, script)))}.sh"
    file.write_text(script)
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(file)], cwd=cwd, env=dict(env),
                          capture_output=True, text=True, timeout=STEP_TIMEOUT, stdin=subprocess.DEVNULL)
    return Step(name, proc.returncode, proc.stdout, proc.stderr)


def _tools(scratch: Path) -> Path:
    """What setup-python puts on PATH: a `python`."""
    tools = scratch / "tools"
    if not tools.exists():
        tools.mkdir(parents=True)
        (tools / "python").symlink_to(sys.executable)
    return tools


def _order(jobs: Mapping[str, Any], needs_of: Any) -> list[str]:
    done: list[str] = []
    while len(done) < len(jobs):
        ready = [j for j in jobs if j not in done and all(n in done for n in needs_of(j))]
        if not ready:
            raise ValueError(f"a cycle in needs: {sorted(set(jobs) - set(done))}")
        done += ready
    return done


# -- GitHub Actions ----------------------------------------------------------------------------------------------

@dataclass
class GitHubRunner:
    workflow: Path
    checkout: Path
    scratch: Path
    cache: VenvCache
    secrets: dict[str, str]
    reviewers: set[str]  # environments with required reviewers: their jobs wait for an approval
    token: str  # the job's token, `github.token`
    variables: dict[str, str] = field(default_factory=dict)  # the repository's variables, `vars`

    def run(self, event: str, payload: dict[str, Any], env: Mapping[str, str], *, approved: set[str] = frozenset(),
            done: Mapping[str, Job] | None = None) -> dict[str, Job]:
        """The jobs of one run for `event`; `done` holds the jobs of this run finished earlier (a run resumed
        after an approval)."""
        wf = load(self.workflow)
        triggers = wf["on"]
        if event not in triggers:
            return {}
        github = {"event_name": event, "event": payload, "repository": env.get("GITHUB_REPOSITORY", ""),
                  "ref": env.get("GITHUB_REF", ""), "sha": env.get("GITHUB_SHA", ""), "token": self.token,
                  "workspace": str(self.checkout)}
        contexts: dict[str, Any] = {"github": github, "secrets": self.secrets, "vars": self.variables,
                                    "runner": {"os": "Linux", "temp": str(self.scratch)}}
        # The workflow's env may read github, secrets and vars (not env itself).
        contexts["env"] = {k: expressions.github_substitute(str(v), contexts) for k, v in (wf.get("env") or {}).items()}
        jobs = wf["jobs"]
        results: dict[str, Job] = dict(done or {})
        needs = {j: ([spec["needs"]] if isinstance(spec.get("needs"), str) else spec.get("needs") or [])
                 for j, spec in jobs.items()}
        for name in _order(jobs, needs.get):
            if name in results and results[name].status in ("success", "failure", "skipped"):
                continue
            spec = jobs[name]
            blocked = any(results.get(n) is None or results[n].status != "success" for n in needs[name])
            if blocked or not expressions.github_condition(spec.get("if"), contexts):
                results[name] = Job(name, "waiting" if any(results.get(n) and results[n].status == "waiting"
                                                           for n in needs[name]) else "skipped")
                continue
            environment = spec.get("environment")
            if environment in self.reviewers and environment not in approved:
                results[name] = Job(name, "waiting")
                continue
            results[name] = self._job(name, spec, wf, contexts, env)
        return results

    def _job(self, name: str, spec: Any, wf: Any, contexts: dict[str, Any], base: Mapping[str, str]) -> Job:
        job = Job(name, "success")
        job_env = {k: expressions.github_substitute(v, contexts) for k, v in (spec.get("env") or {}).items()}
        env_ctx = {**contexts["env"], **job_env}
        ctx = {**contexts, "env": env_ctx}
        files = {k: self.scratch / f"{name}.{k}" for k in ("GITHUB_PATH", "GITHUB_ENV", "GITHUB_OUTPUT")}
        for f in files.values():
            f.write_text("")
        path_dirs: list[str] = []
        extra_env: dict[str, str] = {}
        defaults = (wf.get("defaults") or {}).get("run") or {}
        if defaults.get("shell", "bash") != "bash":
            raise expressions.Unsupported(f"shell {defaults['shell']}")
        for i, step in enumerate(spec["steps"]):
            label = step.get("name") or step.get("uses") or f"step {i}"
            status = job.status
            if not expressions.github_condition(step.get("if"), ctx, status):
                continue
            if "uses" in step:
                path_dirs += self._action(step, ctx)
                job.steps.append(Step(label, 0, "", ""))
                continue
            script = step["run"]
            if "${{" in script:
                raise expressions.Unsupported(f"{name}/{label}: expressions in run: (pass them through env:)")
            env = {**base, **{k: str(v) for k, v in env_ctx.items()}, **extra_env,
                   **{k: expressions.github_substitute(v, ctx) for k, v in (step.get("env") or {}).items()},
                   **{k: str(v) for k, v in files.items()}}
            env["PATH"] = ":".join([*reversed(path_dirs), base["PATH"]])
            workdir = self.checkout / (step.get("working-directory") or defaults.get("working-directory") or ".")
            result = _bash(script, workdir, env, f"{name}-{i}", self.scratch)
            job.steps.append(result)
            path_dirs += [line for line in files["GITHUB_PATH"].read_text().splitlines() if line]
            files["GITHUB_PATH"].write_text("")
            for line in files["GITHUB_ENV"].read_text().splitlines():
                key, _, value = line.partition("=")
                extra_env[key] = value
            if result.code != 0:
                job.status = "failure"
        return job

    def _action(self, step: Any, ctx: Mapping[str, Any]) -> list[str]:
        uses = step["uses"]
        given = {k: expressions.github_substitute(str(v), ctx) for k, v in (step.get("with") or {}).items()}
        action = uses.split("@")[0]
        if action == "actions/checkout":
            return []
        if action == "actions/setup-python":
            assert given.get("python-version"), "setup-python without a python-version"
            return [str(_tools(self.scratch))]
        if action == "actions/cache":
            assert given.get("key") and given.get("path"), "cache without key or path"
            self.cache.restore(given["key"], self.checkout / given["path"])  # relative to the workspace
            return []
        raise expressions.Unsupported(f"action {uses}")


# -- GitLab CI ---------------------------------------------------------------------------------------------------

RESERVED = {"stages", "variables", "default", "workflow", "include", "image", "services", "cache", "before_script",
            "after_script"}


@dataclass
class GitLabRunner:
    ci_file: Path
    checkout: Path
    scratch: Path
    cache: VenvCache
    variables: dict[str, str]  # the project's CI/CD variables (secrets)

    def run(self, predefined: Mapping[str, str], base: Mapping[str, str], *, started: set[str] = frozenset(),
            done: Mapping[str, Job] | None = None) -> dict[str, Job]:
        """The jobs of one pipeline; `started` are the manual jobs someone started; `done` holds the jobs of this
        pipeline finished earlier."""
        ci = load(self.ci_file)
        variables = {**predefined, **{k: str(v) for k, v in (ci.get("variables") or {}).items()}, **self.variables}
        workflow = (ci.get("workflow") or {}).get("rules")
        if workflow is not None and not any(expressions.gitlab(r["if"], variables) for r in workflow):
            return {}
        stages = ci.get("stages") or ["build", "test", "deploy"]
        jobs: dict[str, tuple[Any, str]] = {}
        for name, spec in ci.items():
            if name in RESERVED or name.startswith("."):
                continue
            when = self._when(spec, variables)
            if when != "never":
                jobs[name] = (spec, when)
        assert all(spec.get("stage") in stages for spec, _ in jobs.values()), "a job in an undeclared stage"
        by_stage = sorted(jobs, key=lambda j: stages.index(jobs[j][0]["stage"]))

        def needs_of(j: str) -> list[str]:
            spec = jobs[j][0]
            if "needs" in spec:
                return [n for n in spec["needs"] if n in jobs]
            return [o for o in by_stage if stages.index(jobs[o][0]["stage"]) < stages.index(spec["stage"])]

        results: dict[str, Job] = dict(done or {})
        for name in _order(jobs, needs_of):
            if name in results and results[name].status in ("success", "failure", "skipped"):
                continue
            spec, when = jobs[name]
            before = [results.get(n) for n in needs_of(name)]
            if any(b is None or b.status != "success" for b in before):
                results[name] = Job(name, "waiting" if any(b and b.status == "waiting" for b in before) else
                                    "skipped")
                continue
            if when == "manual" and name not in started:
                results[name] = Job(name, "waiting")
                continue
            results[name] = self._job(name, spec, ci, variables, base)
        return results

    def _when(self, spec: Any, variables: Mapping[str, str]) -> str:
        rules = spec.get("rules")
        if rules is None:
            return spec.get("when", "on_success")
        for rule in rules:
            if set(rule) - {"if", "when"}:
                raise expressions.Unsupported(f"rule keys {sorted(rule)}")
            if expressions.gitlab(rule["if"], variables):
                return rule.get("when", "on_success")
        return "never"

    def _job(self, name: str, spec: Any, ci: Any, variables: Mapping[str, str], base: Mapping[str, str]) -> Job:
        default = ci.get("default") or {}
        cache = spec.get("cache", default.get("cache"))
        if cache:
            key = str(cache["key"])
            for path in cache["paths"]:
                self.cache.restore(key, self.checkout / path.rstrip("/"))
        before = spec.get("before_script", default.get("before_script", []))
        script = "\n".join([*before, *spec["script"]])
        env = {**base, **variables, **{k: str(v) for k, v in (spec.get("variables") or {}).items()},
               "CI_JOB_NAME": name, "CI_PROJECT_DIR": str(self.checkout)}
        step = _bash(script, self.checkout, env, name, self.scratch)
        job = Job(name, "success" if step.code == 0 else "failure", [step])
        artifacts = spec.get("artifacts") or {}
        if artifacts and (step.code == 0 or artifacts.get("when") == "always"):
            for path in artifacts.get("paths", []):
                if not (self.checkout / path).exists():
                    job.steps.append(Step(f"artifacts: {path} not found", 1, "", ""))
                    job.status = "failure"
        return job


def base_env(home: Path) -> dict[str, str]:
    """What a runner's shell starts with: no venv, no DSS_IAC_* of the test run."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": BASE_PATH, "HOME": str(home), "LANG": "C.UTF-8", "CI": "true",
            **{k: v for k, v in os.environ.items() if k in ("TMPDIR",)}}
