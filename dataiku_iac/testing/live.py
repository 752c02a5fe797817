"""Live tests on an environment's DSS, through `dataikuapi` only: build the flow with a DSS job (`--build`),
compute each dataset's data tests (its dss-iac data quality rules), run the test scenarios and read their step
results. Every wait has the run's deadline; a DSS error fails the test it belongs to, not the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config.environment_view import view
from ..config.testing_models import seconds
from ..dss.connect import Connection, call
from ..errors import ConfigError, DSSApiError, DssIacError
from ..resources import KINDS, Address
from ..resources.scenario import scenarios_of
from . import dq_rules
from .results import ERROR, FAILED, PASSED, SKIPPED, WARNING, TestResult

if TYPE_CHECKING:
    from ..config.loader import ProjectSource
    from ..workspace import Workspace

LIVE_SUITES = ("build", "data", "scenario")
SCENARIO_OUTCOMES = {"SUCCESS": PASSED, "WARNING": WARNING, "FAILED": FAILED, "ABORTED": FAILED}
JOB_DONE, JOB_ENDS = "DONE", ("DONE", "FAILED", "ABORTED")
# How a DSS simulator says it did not execute something (a recipe type, a step, a rule): such a test is reported
# skipped, "not run", never passed nor failed. A real DSS never says it.
NOT_RUN = "NOT RUN"
BUILD_MODE = "RECURSIVE_FORCED_BUILD"  # a test proves the flow runs: everything upstream is rebuilt
LOG_TAIL = 5
Progress = Callable[[str], None]


class TimedOut(DssIacError):
    """A live test did not finish before the run's deadline."""


@dataclass(frozen=True)
class EnvProject:
    key: str  # in the files
    physical: str  # in the environment's DSS
    source: ProjectSource  # as the environment sees it


class Waiter:
    """Polls with a growing pause (0.2 s to 5 s) until the run's deadline, saying how long it has waited."""

    def __init__(self, deadline: float, say: Progress) -> None:
        self.deadline, self.say = deadline, say

    def until(self, done: Callable[[], bool], what: str) -> None:
        pause, started, told = 0.2, time.monotonic(), 0.0
        while not done():
            now = time.monotonic()
            if now >= self.deadline:
                raise TimedOut(f"{what}: still running when the tests' time ran out")
            if now - told >= 5:
                self.say(f"{what}: running ({now - started:.0f}s)")
                told = now
            time.sleep(min(pause, max(self.deadline - now, 0.0)))
            pause = min(pause * 1.5, 5.0)


def env_projects(ws: Workspace, env: str) -> list[EnvProject]:
    environment = ws.environment(env)
    keys = list(ws.config.projects)
    out = []
    for key in sorted(ws.config.projects):
        source = view(ws.config.projects[key], env, environment, ws.config.file, keys)
        out.append(EnvProject(key, source.key, source))
    return out


def run_live(ws: Workspace, env: str, *, build: Sequence[str] | None, progress: Progress,
             timeout: float | None = None, only: Collection[str] | None = None) -> list[TestResult]:
    """The live tests of every project (or of the projects `only` names, by their key in the files)."""
    projects = [p for p in env_projects(ws, env) if only is None or p.key in only]
    scenarios = test_scenarios(ws, projects)
    conn = ws.connection(env)
    waiter = Waiter(time.monotonic() + (timeout if timeout is not None else seconds(ws.config.spec.tests.timeout)),
                    progress)
    results: list[TestResult] = []
    if build is not None:
        results += run_builds(conn, projects, build, waiter)
        if any(r.status != PASSED for r in results):
            why = "not run: the build failed" if any(not r.ok for r in results) else "not run: the build was not run"
            results += [TestResult("data", f"{p.physical}.{ds}", f"dataset.{p.physical}.{ds}", SKIPPED, why)
                        for p in projects for ds, spec in sorted(p.source.spec.datasets.items()) if spec.tests]
            results += [TestResult("scenario", f"{p.physical}.{s}", f"scenario.{p.physical}.{s}", SKIPPED, why)
                        for p, s in scenarios]
            return results
    for p in projects:
        results += run_data_tests(conn, p, waiter)
    for p, name in scenarios:
        results.append(run_scenario(conn, p, name, waiter))
    return results


def test_scenarios(ws: Workspace, projects: Sequence[EnvProject]) -> list[tuple[EnvProject, str]]:
    """The scenarios run as tests: those with `test: true`, then those `tests.scenarios` lists."""
    by_key = {p.key: p for p in projects}
    chosen = [(p, name) for p in projects for name, s in sorted(scenarios_of(p.source.spec).items()) if s.test]
    for i, ref in enumerate(ws.config.spec.tests.scenarios):
        key, _, name = ref.partition(".")
        source = ws.config.projects.get(key)
        if source is None or name not in scenarios_of(source.spec):
            raise ws.config.file.error(f"tests.scenarios lists '{ref}', which is no scenario of the workspace",
                                       ("tests", "scenarios", i))
        p = by_key.get(key)
        if p is not None and (p, name) not in chosen:
            chosen.append((p, name))
    return chosen


# -- builds --------------------------------------------------------------------------------------------------


def build_targets(projects: Sequence[EnvProject], names: Sequence[str]) -> dict[str, list[str]]:
    """physical project key -> names of the datasets and folders to build. No names: every output of the flow that
    no recipe of its project reads (building those recursively builds everything)."""
    by_key = {p.key: p for p in projects}
    out: dict[str, list[str]] = {}
    if not names:
        for p in projects:
            spec = p.source.spec
            read = {i for r in spec.recipes.values() for i in r.inputs}
            ends = [o for r in spec.recipes.values() for o in r.outputs if o not in read]
            if ends:
                out[p.physical] = sorted(dict.fromkeys(ends))
        return out
    for name in names:
        key, dot, item = name.partition(".")
        owners = [by_key[key]] if dot and key in by_key else [p for p in projects if name in _items(p)]
        if dot and key not in by_key:
            raise ConfigError(f"--build {name}: project {key} is not in this workspace")
        found = [p for p in owners if (item if dot else name) in _items(p)]
        if len(found) != 1:
            where = "several projects" if found else "no project"
            raise ConfigError(f"--build {name}: {where} of the workspace has a dataset or folder of that name"
                              + (" (write PROJECT.name)" if found else ""))
        out.setdefault(found[0].physical, []).append(item if dot else name)
    return out


def _items(p: EnvProject) -> set[str]:
    return set(p.source.spec.datasets) | set(p.source.spec.managed_folders)


def run_builds(conn: Connection, projects: Sequence[EnvProject], names: Sequence[str],
               waiter: Waiter) -> list[TestResult]:
    targets = build_targets(projects, names)
    folders = {p.physical: set(p.source.spec.managed_folders) for p in projects}
    return [_build(conn, key, items, folders[key], waiter) for key, items in targets.items()]


def _build(conn: Connection, key: str, items: list[str], folders: set[str], waiter: Waiter) -> TestResult:
    from ..resources._flow import folder_ids

    started = time.monotonic()
    name, target = f"build {key}", f"project.{key}"
    try:
        project = conn.client.get_project(key)
        ids = call(conn, lambda: folder_ids(project)) if folders & set(items) else {}
        job_def = project.new_job(BUILD_MODE)
        for item in items:
            if item in folders:
                job_def.with_output(ids.get(item, item), object_type="MANAGED_FOLDER")
            else:
                job_def.with_output(item, object_type="DATASET")
        waiter.say(f"building {', '.join(items)} in {key} ({BUILD_MODE})")
        job = call(conn, job_def.start)
        state: dict[str, str] = {"value": ""}

        def finished() -> bool:
            status = call(conn, job.get_status)
            state["value"] = str((status.get("baseStatus") or {}).get("state") or "")
            return state["value"] in JOB_ENDS

        waiter.until(finished, f"job {job.id} of {key}")
    except TimedOut as e:
        return TestResult("build", name, target, ERROR, str(e), None, None, time.monotonic() - started)
    except DSSApiError as e:
        return TestResult("build", name, target, ERROR, f"the build could not start: {e}", None, None,
                          time.monotonic() - started)
    took = time.monotonic() - started
    built = f"built {', '.join(items)} (job {job.id})"
    if state["value"] == JOB_DONE:
        return TestResult("build", name, target, PASSED, built, None, None, took)
    tail = _log_tail(conn, job)
    unbuilt = next((line for line in tail if NOT_RUN in line), None)
    if unbuilt is not None:
        return TestResult("build", name, target, SKIPPED, f"not run: job {job.id}: {unbuilt}", None, None, took,
                          tuple(tail))
    return TestResult("build", name, target, FAILED, f"job {job.id} ended {state['value']}", None, None, took,
                      tuple(tail))


def _log_tail(conn: Connection, job: Any) -> list[str]:
    try:
        text = str(call(conn, job.get_log) or "")
    except DSSApiError:
        return []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-LOG_TAIL:]


# -- data tests -----------------------------------------------------------------------------------------------


def run_data_tests(conn: Connection, p: EnvProject, waiter: Waiter) -> list[TestResult]:
    out: list[TestResult] = []
    for ds_name, dataset in sorted(p.source.spec.datasets.items()):
        if dataset.tests:
            out += list(_dataset_tests(conn, p, ds_name, [t.test_name for t in dataset.tests],
                                       {t.test_name: t.type for t in dataset.tests}, waiter))
    return out


def _dataset_tests(conn: Connection, p: EnvProject, ds_name: str, names: list[str], types: dict[str, str],
                   waiter: Waiter) -> Iterator[TestResult]:
    target = f"dataset.{p.physical}.{ds_name}"
    started = time.monotonic()

    def result(test: str, status: str, message: str) -> TestResult:
        return TestResult("data", f"{ds_name}.{test}", target, status, message, types[test], _where(p, ds_name, test),
                          (time.monotonic() - started) / len(names))

    try:
        ruleset = conn.client.get_project(p.physical).get_dataset(ds_name).get_data_quality_rules()
        present = {str(r.get("id")) for r in call(conn, lambda: ruleset.list_rules(as_type="dict"))}
        missing = [n for n in names if dq_rules.rule_id(n) not in present]
        waiter.say(f"computing the data tests of {p.physical}.{ds_name}")
        future = call(conn, ruleset.compute_rules)
        # A future that came back done holds its result already (DSS may not keep it to be read again).
        waiter.until(lambda: bool((future.state or {}).get("hasResult")) or
                     bool(call(conn, future.peek_state).get("hasResult")),
                     f"data tests of {p.physical}.{ds_name}")
        found = {str(r.id): r.get_raw() for r in call(conn, ruleset.get_last_rules_results)}
    except TimedOut as e:
        yield from (result(n, ERROR, str(e)) for n in names)
        return
    except DSSApiError as e:
        yield from (result(n, ERROR, f"could not be computed: {e}") for n in names)
        return
    for n in names:
        if n in missing:
            yield result(n, ERROR, "its data quality rule is not in DSS: apply the configuration first")
            continue
        raw = found.get(dq_rules.rule_id(n))
        if raw is None:
            yield result(n, ERROR, "DSS returned no result for its data quality rule")
            continue
        outcome = str(raw.get("outcome") or "")
        status = dq_rules.OUTCOMES.get(outcome, ERROR)
        message = str(raw.get("message") or "")
        if raw.get("notRun"):
            yield result(n, SKIPPED, f"not run: {message or 'DSS did not evaluate the rule'}")
            continue
        if status == ERROR and outcome == "EMPTY":
            message = f"could not be evaluated: {message or 'no value'}"
        yield result(n, status, message or outcome.lower())


def _where(p: EnvProject, ds_name: str, test: str) -> str | None:
    tests = p.source.spec.datasets[ds_name].tests
    index = next((i for i, t in enumerate(tests) if t.test_name == test), None)
    if index is None:
        return None
    return str(p.source.file.position(("datasets", ds_name, "tests", index)))


# -- scenarios ------------------------------------------------------------------------------------------------


def run_scenario(conn: Connection, p: EnvProject, name: str, waiter: Waiter) -> TestResult:
    target = f"scenario.{p.physical}.{name}"
    case = f"{p.physical}.{name}"
    where = str(p.source.file.position(("scenarios", name), at_key=True))
    started = time.monotonic()

    def result(status: str, message: str, details: Sequence[str] = ()) -> TestResult:
        return TestResult("scenario", case, target, status, message, None, where, time.monotonic() - started,
                          tuple(details))

    try:
        remote = call(conn, lambda: KINDS["scenario"].read(conn.client, Address("scenario", p.physical, name), None))
        if remote is None:
            return result(ERROR, f"scenario {name} is not in project {p.physical}: apply the configuration first")
        scenario = conn.client.get_project(p.physical).get_scenario(remote.remote_id)
        waiter.say(f"running scenario {case}")
        fire = call(conn, scenario.run)
        box: dict[str, Any] = {}

        def started_run() -> bool:
            box["run"] = call(conn, fire.get_scenario_run)
            return box["run"] is not None

        waiter.until(started_run, f"scenario {case}")
        run = box["run"]

        def ended() -> bool:
            if not run.running:
                return True
            call(conn, run.refresh)
            return not run.running

        waiter.until(ended, f"scenario {case}")
        details = call(conn, run.get_details)
    except TimedOut as e:
        return result(ERROR, str(e))
    except DSSApiError as e:
        return result(ERROR, f"the scenario could not run: {e}")
    outcome = str(run.outcome)
    step_runs = details.get("stepRuns") or []
    steps = [_step_line(s) for s in step_runs]
    status = SCENARIO_OUTCOMES.get(outcome, ERROR)
    message = f"{outcome} in {run.get_duration():.1f}s"
    unrun = next((s for s in step_runs if _not_run(s)), None)
    if status in (PASSED, WARNING) and unrun is not None:
        return result(SKIPPED, f"not run: {message}, but step '{_step_name(unrun)}' was not run "
                               f"({_thrown(unrun) or 'not executed'})", steps)
    first = next((s for s in step_runs if (s.get("result") or {}).get("outcome") != "SUCCESS"), None)
    if status != PASSED and first is not None:
        message += f": step '{_step_name(first)}' {_thrown(first) or (first.get('result') or {}).get('outcome')}"
    return result(status, message, steps)


def _not_run(step: dict[str, Any]) -> bool:
    """Whether a step run says part of it was not executed: the step itself, a check or a metric it ran."""
    result = step.get("result") or {}
    if result.get("notRun"):
        return True
    for item in step.get("additionalReportItems") or []:
        if item.get("notComputed") or any(r.get("notRun") for r in item.get("results") or []):
            return True
    return False


def _step_name(step: dict[str, Any]) -> str:
    return str((step.get("step") or {}).get("name") or (step.get("step") or {}).get("id") or "?")


def _thrown(step: dict[str, Any]) -> str:
    thrown = (step.get("result") or {}).get("thrown") or {}
    return str(thrown.get("message") or thrown.get("title") or "")


def _step_line(step: dict[str, Any]) -> str:
    outcome = (step.get("result") or {}).get("outcome") or "?"
    error = _thrown(step)
    return f"step '{_step_name(step)}': {outcome}" + (f" ({error})" if error else "")
