"""Scenario runs, executed: each run is a background thread that runs the steps and records real outcomes.

Steps executed: build_flowitem (a job, run to its end), compute_metrics, check_dataset (checks and data quality
rules), custom_python (the script, as a subprocess), set_project_vars, run_scenario (the other scenario, run
to its end). Any other step type is reported NOT RUN: outcome WARNING with `notRun: true` in its result,
never SUCCESS. A custom_python scenario runs its script. The run record exists from the start, without a
`result` while it runs (dataikuapi's `running`), and gets its result at the end.
"""

from __future__ import annotations

import copy
import datetime
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..context import ApiKey, Ctx, Node
from ..engine import python_code
from ..tasks import Aborted, Task
from . import dataset_status as status
from ._common import active_bundle_id
from .instance import _caller_secret
from .job_runner import plan, system_ctx
from .jobs import job_key, start_job

OUTCOMES = ("SUCCESS", "WARNING", "FAILED", "ABORTED")
MAX_KEPT_RUNS = 50
MAX_LOG_LINES = 500  # per run: logs live in the project record
PROCESS_FAILED = "com.dataiku.dip.exceptions.ExternalProcessFailedException"
SCRIPT_KEY = "_simScript"  # the script of a custom_python scenario (scenarios.py)
EXECUTED_STEPS = ("build_flowitem", "compute_metrics", "check_dataset", "custom_python", "set_project_vars",
                  "run_scenario")
# A run requested through the API is a fire of DSS's built-in manual trigger.
MANUAL_TRIGGER = {"id": "manual", "type": "manual", "name": "API run", "active": True, "delay": 0, "params": {}}


def run_key(project_key: str, scenario_id: str) -> str:
    return f"scenario:{project_key}:{scenario_id}"


def thrown(message: str, clazz: str = "com.dataiku.common.server.APIError$SerializedErrorException",
           code: str = "") -> dict[str, Any]:
    return {"clazz": clazz, "title": message, "message": message, "stack": "", "code": code,
            "fixability": "USER_CONFIG_OR_CODE"}


def run_id_for(now_ms: int, taken: set[str]) -> str:
    """DSS run ids are start timestamps, `yyyy-MM-dd-HH-mm-ss-SSS`; bump a millisecond on a clash."""
    while True:
        t = datetime.datetime.fromtimestamp(now_ms / 1000, tz=datetime.UTC)
        candidate = t.strftime("%Y-%m-%d-%H-%M-%S-") + f"{now_ms % 1000:03d}"
        if candidate not in taken:
            return candidate
        now_ms += 1


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out.pop(SCRIPT_KEY, None)
    return out


def _worst(a: str, b: str) -> str:
    return max(a, b, key=lambda o: min(OUTCOMES.index(o), 2))


def _should_run(step: dict[str, Any], outcome: str) -> bool:
    if not step.get("enabled", True):
        return False
    if step.get("runConditionType") == "RUN_ALWAYS":
        return True
    # RUN_CONDITIONALLY expressions are not evaluated: such steps follow the status rule.
    return outcome in step.get("runConditionStatuses", ["SUCCESS", "WARNING"])


def _check_outcome(result: dict[str, Any], warnings_as: str) -> str:
    """A check's weight on its step: ERROR fails it; a WARNING counts as `handleWarningsAs` says; a check that
    could not be judged (EMPTY) or was not run makes the step a WARNING, never a SUCCESS."""
    if result["outcome"] == "ERROR":
        return "FAILED"
    if result["outcome"] == "WARNING" and not result.get("notRun"):
        return warnings_as if warnings_as in ("FAILED", "SUCCESS") else "WARNING"
    return "SUCCESS" if result["outcome"] == "OK" else "WARNING"


def is_running(run: dict[str, Any]) -> bool:
    return "result" not in run["scenarioRun"]


def create_run(ctx: Ctx, record: dict[str, Any], scenario_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Record a new run, not finished yet; return it ({scenarioRun, stepRuns})."""
    doc = record["scenarios"][scenario_id]
    runs = record.setdefault("scenarioRuns", {}).setdefault(scenario_id, [])
    start = ctx.now_ms()
    run_id = run_id_for(start, {r["scenarioRun"]["runId"] for r in runs})
    fire = {"trigger": dict(MANUAL_TRIGGER), "runId": run_id, "cancelled": False, "params": copy.deepcopy(params),
            "timestamp": start}
    scenario_run = {"runId": run_id, "scenario": _public(doc), "trigger": fire, "start": start, "end": 0,
                    "runAsUser": {"login": doc.get("runAsUser") or ctx.key.login},
                    "variables": copy.deepcopy(params), "bundleId": active_bundle_id(record)}
    run = {"scenarioRun": scenario_run, "stepRuns": [], "log": []}
    runs.append(run)
    finished = [r for r in runs if not is_running(r)]
    for old in finished[:max(0, len(runs) - MAX_KEPT_RUNS)]:
        runs.remove(old)
    ctx.store.mark(record["projectKey"])
    return run


def start_run(ctx: Ctx, record: dict[str, Any], scenario_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Start a run in a background thread; return the trigger fire (`scenario.run()`)."""
    key = run_key(record["projectKey"], scenario_id)
    if ctx.node.tasks.get(key) is not None:
        # DSS queues or cancels a fire while the scenario runs: this one is cancelled.
        return {"trigger": dict(MANUAL_TRIGGER), "runId": f"cancelled-{ctx.now_ms()}", "cancelled": True,
                "params": copy.deepcopy(params), "timestamp": ctx.now_ms()}
    run = create_run(ctx, record, scenario_id, params)
    runner = ScenarioRun(ctx.node, record["projectKey"], scenario_id, run["scenarioRun"]["runId"], ctx.key,
                         (ctx.node.url, _caller_secret(ctx)))
    ctx.node.tasks.start(key, runner.run)
    return copy.deepcopy(run["scenarioRun"]["trigger"])


def wait(node: Node, project_key: str, scenario_id: str) -> None:
    task = node.tasks.get(run_key(project_key, scenario_id))
    if task is not None and task.thread is not None:
        task.thread.join()


class ScenarioRun:
    """One run of a scenario: its steps, in order, each recorded when it ends."""

    def __init__(self, node: Node, project_key: str, scenario_id: str, run_id: str, key: ApiKey,
                 api: tuple[str, str], stack: tuple[str, ...] = ()) -> None:
        self.node, self.key, self.scenario_id, self.run_id = node, project_key, scenario_id, run_id
        self.user, self.api, self.stack = key, api, (*stack, scenario_id)
        self.ctx = system_ctx(node, key)

    # -- store access ----------------------------------------------------------------------------------------
    def update(self, change: Any) -> Any:
        """`change(record, run)` under the lock; None if the run (or its project) is gone."""
        with self.node.store.transaction():
            record = self.node.store.projects.get(self.key)
            runs = ((record or {}).get("scenarioRuns") or {}).get(self.scenario_id) or []
            run = next((r for r in runs if r["scenarioRun"]["runId"] == self.run_id), None)
            if record is None or run is None:
                return None
            self.node.store.mark(self.key)
            return change(record, run)

    def log(self, text: str) -> None:
        stamp = datetime.datetime.now(tz=datetime.UTC).strftime("%Y/%m/%d-%H:%M:%S.%f")[:-3]

        def add(record: dict[str, Any], run: dict[str, Any]) -> None:
            run.setdefault("log", []).extend(f"[{stamp}] [INFO] [dku.scenario] {line}"
                                             for line in text.splitlines() or [""])
            del run["log"][:-MAX_LOG_LINES]
        self.update(add)

    # -- the run ---------------------------------------------------------------------------------------------
    def run(self, task: Task) -> str:
        doc = self.update(lambda record, run: copy.deepcopy(record["scenarios"].get(self.scenario_id)))
        outcome, error = "SUCCESS", None
        try:
            if doc is None:
                outcome, error = "FAILED", thrown(f"Scenario {self.scenario_id} was deleted")
            elif doc["type"] == "custom_python":
                self.log(f"Running the Python script of scenario {self.scenario_id}")
                outcome, error = self._python(doc.get(SCRIPT_KEY) or "", task)
            else:
                for step in doc["params"].get("steps", []):
                    if not _should_run(step, outcome):
                        continue
                    task.check()
                    step_outcome = self._step(step, task)
                    outcome = _worst(outcome, step_outcome)
        except Aborted:
            outcome, error = "ABORTED", thrown(f"Scenario {self.scenario_id} was aborted")
        except Exception as e:  # a simulator bug still ends the run, FAILED
            outcome, error = "FAILED", thrown(f"Internal error: {type(e).__name__}")
        self.log(f"Scenario run done: {outcome}")

        def finish(record: dict[str, Any], run: dict[str, Any]) -> None:
            end = max(status.now_ms(), run["scenarioRun"]["start"] + 1)
            result: dict[str, Any] = {"type": "SCENARIO_DONE", "outcome": outcome,
                                      "start": run["scenarioRun"]["start"], "end": end}
            if error:
                result["thrown"] = error
            run["scenarioRun"].update(end=end, result=result)
        self.update(finish)
        return outcome

    def _step(self, step: dict[str, Any], task: Task) -> str:
        start = status.now_ms()
        self.log(f"Running step {step.get('name')} ({step['type']})")
        items: list[dict[str, Any]] = []
        extra: dict[str, Any] = {}
        runner = getattr(self, "_step_" + step["type"], None) if step["type"] in EXECUTED_STEPS else None
        try:
            if runner is None:
                outcome, error = "WARNING", thrown(f"NOT RUN: steps of type {step['type']} are not executed by "
                                                   "the simulator")
                extra["notRun"] = True
            else:
                outcome, error = runner(step.get("params") or {}, task, items)
        except Aborted:
            outcome, error = "ABORTED", thrown("The step was aborted")
        result: dict[str, Any] = {"type": "STEP_DONE", "outcome": outcome, **extra}
        if error:
            result["thrown"] = error
            self.log(f"Step {step.get('name')}: {outcome}: {error['message']}")
        step_run = {"runId": f"{self.run_id}_{step['id']}", "step": copy.deepcopy(step), "start": start,
                    "end": max(status.now_ms(), start), "result": result, "additionalReportItems": items}
        self.update(lambda record, run: run["stepRuns"].append(step_run))
        if outcome == "ABORTED":
            raise Aborted("aborted")
        return outcome

    # -- step types --------------------------------------------------------------------------------------------
    def _targets(self, params: dict[str, Any], key: str) -> list[dict[str, Any]]:
        return [t for t in params.get(key) or [] if isinstance(t, dict)]

    def _step_build_flowitem(self, params: dict[str, Any], task: Task, items: list[dict[str, Any]]) -> tuple:
        builds = self._targets(params, "builds")
        by_project: dict[str, list[dict[str, Any]]] = {}
        for build in builds:
            owner = str(build.get("projectKey") or self.key)
            collection = {"DATASET": "datasets", "MANAGED_FOLDER": "managedFolders"}.get(str(build.get("type")))
            exists = self.update(lambda record, run, owner=owner, collection=collection, build=build: bool(
                collection and build.get("itemId") in ((self.node.store.projects.get(owner) or {}).get(collection)
                                                       or {})))
            if not exists:
                return "FAILED", thrown(f"{build.get('type')} {build.get('itemId')} does not exist",
                                        code="ERR_DATASET_NOT_FOUND")
            by_project.setdefault(owner, []).append({"type": build.get("type"), "id": build.get("itemId"),
                                                     "projectKey": owner})
        outcome = "SUCCESS"
        for owner, outputs in by_project.items():
            definition = {"type": params.get("jobType") or "RECURSIVE_BUILD", "outputs": outputs,
                          "triggeredFrom": "SCENARIO"}
            runner, job_id = self._new_job(owner, definition)
            if runner is None:
                self.log(f"Nothing to build in {owner}")
                continue
            items.append({"type": "JOB_EXECUTED", "jobId": job_id, "projectKey": owner})
            self.node.tasks.attach(job_key(owner, job_id), task)
            try:
                state = runner.run(task)
            finally:
                self.node.tasks.detach(job_key(owner, job_id))
            items[-1]["outcome"] = {"DONE": "SUCCESS", "ABORTED": "ABORTED"}.get(state, "FAILED")
            self.log(f"Job {job_id}: {state}")
            if state == "ABORTED":
                raise Aborted("aborted")
            if state != "DONE":
                message = self._job_error(owner, job_id)
                items[-1]["thrown"] = thrown(message)
                return "FAILED", thrown(f"Job {job_id} failed: {message}")
        return outcome, None

    def _new_job(self, owner: str, definition: dict[str, Any]) -> tuple[Any, str]:
        def create(record: dict[str, Any], run: dict[str, Any]) -> tuple[Any, str]:
            target = self.node.store.projects[owner]
            if not plan(target, definition):
                return None, ""
            job, runner = start_job(self.ctx, owner, definition, background=False)
            return runner, job["def"]["id"]
        return self.update(create) or (None, "")

    def _job_error(self, owner: str, job_id: str) -> str:
        def read(record: dict[str, Any], run: dict[str, Any]) -> str:
            job = ((self.node.store.projects.get(owner) or {}).get("jobs") or {}).get(job_id) or {}
            return str((job.get("error") or {}).get("message") or "the job did not finish")
        return self.update(read) or "the job did not finish"

    def _snapshots(self, params: dict[str, Any], key: str) -> tuple[list[status.Snapshot], str | None]:
        wanted = self._targets(params, key)

        def take(record: dict[str, Any], run: dict[str, Any]) -> tuple[list[status.Snapshot], str | None]:
            snaps = []
            for item in wanted:
                owner = self.node.store.projects.get(str(item.get("projectKey") or self.key)) or {}
                if item.get("type", "DATASET") != "DATASET" or item.get("itemId") not in (owner.get("datasets") or {}):
                    return [], f"{item.get('type')} {item.get('itemId')} does not exist"
                snaps.append(status.take_snapshot(self.node.store, self.node.data_home, owner, str(item["itemId"])))
            return snaps, None
        return self.update(take) or ([], "The run was deleted")

    def _store_in(self, project_key: str, change: Any) -> Any:
        return self.update(lambda record, run: change(self.node.store.projects[project_key]))

    def _step_compute_metrics(self, params: dict[str, Any], task: Task, items: list[dict[str, Any]]) -> tuple:
        snaps, missing = self._snapshots(params, "computes")
        if missing:
            return "FAILED", thrown(missing, code="ERR_DATASET_NOT_FOUND")
        outcome, problems = "SUCCESS", []
        for snap in snaps:
            task.check()
            run = status.compute_metrics(snap)
            report = self._store_in(snap.project_key, lambda rec, snap=snap, run=run: status.record_metrics(
                rec, snap.name, run, []))
            items.append({"type": "METRICS_COMPUTED", "target": {"projectKey": snap.project_key,
                                                                  "itemId": snap.name},
                          "computed": len(run.values), "notComputed": copy.deepcopy(run.skipped)})
            self.log(f"Computed {len(report['computed'])} metric(s) on {snap.name}")
            if run.skipped:
                outcome = "WARNING"
                problems += [f"{snap.name}: NOT RUN: {s.get('metricId') or s.get('probeType')}: {s['reason']}"
                             for s in run.skipped]
        return outcome, thrown("; ".join(problems)) if problems else None

    def _step_check_dataset(self, params: dict[str, Any], task: Task, items: list[dict[str, Any]]) -> tuple:
        snaps, missing = self._snapshots(params, "checks")
        if missing:
            return "FAILED", thrown(missing, code="ERR_DATASET_NOT_FOUND")
        warnings_as = params.get("handleWarningsAs") or "WARNING"
        outcome, problems = "SUCCESS", []
        for snap in snaps:
            task.check()
            checks = [c for c in (snap.doc.get("metricsChecks") or {}).get("checks") or [] if c.get("enabled", True)]
            judged = status.judge(snap, checks, fresh=True)
            results = self._store_in(snap.project_key, lambda rec, snap=snap, judged=judged: status.record_results(
                rec, snap.name, judged, "SCENARIO"))
            items.append({"type": "CHECKS_RUN", "target": {"projectKey": snap.project_key, "itemId": snap.name},
                          "results": [{k: r[k] for k in ("name", "outcome", "message")} | (
                              {"notRun": True} if r.get("notRun") else {}) for r in results]})
            for r in results:
                outcome = _worst(outcome, _check_outcome(r, warnings_as))
                if r["outcome"] != "OK":
                    problems.append(f"{snap.name}: {r['name']}: {r['outcome']}: {r['message']}")
        return outcome, thrown("; ".join(problems)) if problems else None

    def _step_custom_python(self, params: dict[str, Any], task: Task, items: list[dict[str, Any]]) -> tuple:
        return self._python(str(params.get("script") or ""), task)

    def _python(self, script: str, task: Task) -> tuple[str, dict[str, Any] | None]:
        variables = self.update(lambda record, run: {**(record.get("variables") or {}).get("standard", {}),
                                                     **(record.get("variables") or {}).get("local", {}),
                                                     **(run["scenarioRun"].get("variables") or {})}) or {}
        workdir = Path(tempfile.mkdtemp(prefix="dss-sim-step-"))

        def started(proc: Any) -> None:
            task.process = proc
            if task.abort_requested.is_set():
                proc.kill()
        try:
            result = python_code.run(python_code.CodeRun(script, workdir, self.key, self.api[0], self.api[1],
                                                         variables), on_start=started)
        finally:
            task.process = None
            shutil.rmtree(workdir, ignore_errors=True)
        if result.output.strip():
            self.log(result.output.rstrip())
        task.check()
        return ("SUCCESS", None) if result.ok else ("FAILED", thrown(result.error, clazz=PROCESS_FAILED))

    def _step_set_project_vars(self, params: dict[str, Any], task: Task, items: list[dict[str, Any]]) -> tuple:
        values = params.get("variables") or {}
        if params.get("evaluateValues") or params.get("definitions"):
            return "WARNING", thrown("NOT RUN: variable expressions are not evaluated by the simulator")
        if not isinstance(values, dict):
            return "FAILED", thrown("'variables' must be an object")

        def apply(record: dict[str, Any], run: dict[str, Any]) -> None:
            record.setdefault("variables", {"standard": {}, "local": {}}).setdefault("standard", {}).update(values)
        self.update(apply)
        return "SUCCESS", None

    def _step_run_scenario(self, params: dict[str, Any], task: Task, items: list[dict[str, Any]]) -> tuple:
        target = str(params.get("scenarioId") or "")
        owner = str(params.get("projectKey") or self.key)
        if target in self.stack:
            return "FAILED", thrown(f"Scenario {target} is already running in this run")

        def create(record: dict[str, Any], run: dict[str, Any]) -> str | None:
            other = self.node.store.projects.get(owner) or {}
            if target not in (other.get("scenarios") or {}):
                return None
            return create_run(system_ctx(self.node, self.user), other, target, {})["scenarioRun"]["runId"]
        run_id = self.update(create)
        if run_id is None:
            return "FAILED", thrown(f"Scenario {target} does not exist")
        nested = ScenarioRun(self.node, owner, target, run_id, self.user, self.api, self.stack)
        outcome = nested.run(task)
        items.append({"type": "SCENARIO_RUN", "scenarioId": target, "runId": run_id, "outcome": outcome})
        if outcome == "ABORTED":
            raise Aborted("aborted")
        return (outcome, None) if outcome in ("SUCCESS", "WARNING") else (
            outcome, thrown(f"Scenario {target} ended {outcome}"))


def recover(node: Node) -> None:
    """At start: runs a stopped simulator left unfinished end ABORTED (their thread is gone)."""
    with node.store.transaction():
        for key, record in node.store.projects.items():
            for runs in (record.get("scenarioRuns") or {}).values():
                for run in runs:
                    if is_running(run):
                        sr = run["scenarioRun"]
                        sr.update(end=sr["start"] + 1, result={
                            "type": "SCENARIO_DONE", "outcome": "ABORTED", "start": sr["start"], "end": sr["start"] + 1,
                            "thrown": thrown("The simulator stopped while the scenario ran")})
                        node.store.mark(key)
