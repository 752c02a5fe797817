"""Jobs as DSS runs them: plan the recipes to run for the requested outputs, run them one by one on the
dataset files, record each state change (NOT_STARTED, RUNNING, DONE, FAILED, ABORTED) as it happens.

The runner works in a background thread: it takes the store's lock only to read what an activity needs and
to record what it did, never while computing. Recipe types it does not build fail the job before anything
runs, with a message saying they are not run by the simulator.
"""

from __future__ import annotations

import copy
import datetime
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..context import ApiKey, Ctx, Node, Request
from ..engine import python_code, recipes, storage
from ..engine.storage import DataError, Location
from ..engine.table import Session, format_value
from ..tasks import Aborted, Task
from . import dataset_status as status
from .datasets import save_part
from .zones import recipe_refs

JOB_TYPES = ("NON_RECURSIVE_FORCED_BUILD", "RECURSIVE_BUILD", "RECURSIVE_FORCED_BUILD", "RECURSIVE_MISSING_ONLY_BUILD")
BUILT_TYPES = (*recipes.VISUAL_TYPES, "python")
FINISHED = ("DONE", "FAILED", "ABORTED")
MAX_LOG_LINES = 500  # per job: logs live in the project record
MAX_KEPT_JOBS = 50


def now_ms() -> int:
    return status.now_ms()


def system_ctx(node: Node, key: ApiKey) -> Ctx:
    """A context for changes a background task makes on behalf of the user who started it."""
    assert node.server is not None
    return Ctx(node, Request("POST", "/", {}, {}), key, node.server.options)


def job_id_for(output: str, at_ms: int, taken: Any) -> str:
    """DSS's job ids: `Build_<output>_<yyyy-MM-dd>T<HH-mm-ss>.<ms>`."""
    t = datetime.datetime.fromtimestamp(at_ms / 1000, tz=datetime.UTC)
    base = f"Build_{output}_{t.strftime('%Y-%m-%dT%H-%M-%S')}.{at_ms % 1000:03d}"
    candidate, n = base, 1
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def log(job: dict[str, Any], text: str, activity: str | None = None, level: str = "INFO") -> None:
    stamp = datetime.datetime.now(tz=datetime.UTC).strftime("%Y/%m/%d-%H:%M:%S.%f")[:-3]
    for line in text.splitlines() or [""]:
        job["log"].append([activity, f"[{stamp}] [{level}] [dku.job] {'- ' + activity + ' - ' if activity else ''}"
                                     f"{line}"])
    del job["log"][:-MAX_LOG_LINES]


def new_job(record: dict[str, Any], definition: dict[str, Any], login: str) -> dict[str, Any]:
    """A job record in state NOT_STARTED (the caller has checked the definition)."""
    jobs = record.setdefault("jobs", {})
    at = now_ms()
    first = str(definition["outputs"][0]["id"]) if definition["outputs"] else "nothing"
    job_id = job_id_for(first, at, jobs)
    definition = {**definition, "id": job_id, "projectKey": record["projectKey"], "name": job_id,
                  "initiator": login, "triggeredFrom": definition.get("triggeredFrom") or "API"}
    job = {"def": definition, "state": "NOT_STARTED", "initiationTime": at, "startTime": 0, "endTime": 0,
           "activities": {}, "log": []}
    jobs[job_id] = job
    for old in sorted(jobs, key=lambda k: jobs[k]["initiationTime"])[:-MAX_KEPT_JOBS]:
        if jobs[old]["state"] in FINISHED:
            del jobs[old]
    return job


# -- planning ---------------------------------------------------------------------------------------------------

def _writers(record: dict[str, Any]) -> dict[str, str]:
    return {ref: name for name, entry in (record.get("recipes") or {}).items() for ref in recipe_refs(entry, "outputs")}


def _built_ok(record: dict[str, Any], ref: str) -> dict[str, Any] | None:
    last = ((record.get("datasetStatus") or {}).get(ref) or {}).get("lastBuild")
    return last if last and last.get("buildSuccess") else None


def plan(record: dict[str, Any], definition: dict[str, Any]) -> list[str]:
    """The recipes to run, upstream first. Forced builds run every recipe on the way; RECURSIVE_BUILD reruns
    the requested outputs' recipes and upstream ones whose outputs were never built or are older than their
    inputs; RECURSIVE_MISSING_ONLY_BUILD reruns upstream recipes only for outputs never built."""
    writers = _writers(record)
    mode = definition.get("type") or "NON_RECURSIVE_FORCED_BUILD"
    requested = [str(o["id"]) for o in definition.get("outputs") or []]
    order: list[str] = []
    if mode == "NON_RECURSIVE_FORCED_BUILD":
        return list(dict.fromkeys(writers[r] for r in requested if r in writers))
    seen: set[str] = set()

    def stale(recipe: str, changed: bool) -> bool:
        entry = record["recipes"][recipe]
        outputs = [_built_ok(record, r) for r in recipe_refs(entry, "outputs")]
        if mode == "RECURSIVE_FORCED_BUILD" or any(o is None for o in outputs):
            return True
        if mode == "RECURSIVE_MISSING_ONLY_BUILD":
            return False
        oldest = min(o["buildStartTime"] for o in outputs if o)
        inputs = [_built_ok(record, r) for r in recipe_refs(entry, "inputs") if "." not in r]
        return changed or any(i is not None and i["buildEndTime"] > oldest for i in inputs)

    def visit(ref: str, is_requested: bool) -> bool:
        """Add the recipe writing `ref` if it must run; return whether `ref` is rebuilt."""
        recipe = writers.get(ref)
        if recipe is None:
            return False
        if recipe in seen:
            return recipe in order
        seen.add(recipe)
        changed = False
        for src in recipe_refs(record["recipes"][recipe], "inputs"):
            if "." not in src:
                changed = visit(src, False) or changed
        if is_requested or stale(recipe, changed):
            order.append(recipe)
            return True
        return False

    for ref in requested:
        visit(ref, True)
    return order


def unbuildable(record: dict[str, Any], recipes_to_run: list[str]) -> list[str]:
    """Why some planned recipes cannot be built by the simulator (nothing runs if any). A Python recipe may
    have managed folders among its inputs and outputs: its code runs, and fails if it uses them (dataiku.Folder
    is not provided); other recipes read and write datasets only."""
    problems = []
    for name in recipes_to_run:
        recipe = record["recipes"][name]["recipe"]
        if recipe.get("type") not in BUILT_TYPES:
            problems.append(f"Recipe {name} of type {recipe.get('type')} is not built by the simulator (NOT RUN)")
            continue
        folders = record.get("managedFolders") or {}
        for ref in recipe_refs(record["recipes"][name], "outputs"):
            if ref in (record.get("datasets") or {}) or (recipe.get("type") == "python" and ref in folders):
                continue
            problems.append(f"Recipe {name} writes {ref}, which is not a dataset: the simulator builds "
                            "datasets only (NOT RUN)")
    return problems


# -- one activity -----------------------------------------------------------------------------------------------

@dataclass
class Activity:
    """What running one recipe needs, copied out of the store under its lock."""

    recipe: dict[str, Any]
    payload: str
    inputs: list[tuple[str, dict[str, Any]]]  # (ref, dataset doc)
    outputs: list[tuple[str, dict[str, Any], bool]]  # (name, dataset doc, append)
    connections: dict[str, Any]
    variables: dict[str, Any]


def snapshot_activity(store: Any, record: dict[str, Any], recipe_name: str) -> Activity:
    entry = record["recipes"][recipe_name]
    python = entry["recipe"].get("type") == "python"
    inputs = []
    for ref in recipe_refs(entry, "inputs"):
        owner, name = (store.projects.get(ref.split(".", 1)[0]), ref.split(".", 1)[1]) if "." in ref else (record, ref)
        doc = ((owner or {}).get("datasets") or {}).get(name)
        if doc is None and python:
            continue  # a managed folder: the code gets no dataiku.Folder, so it cannot use it unseen
        if doc is None:
            raise DataError(f"Recipe {recipe_name} reads {ref}, which is not a dataset: the simulator reads "
                            "datasets only (NOT RUN)")
        inputs.append((ref, copy.deepcopy(doc)))
    outputs = []
    for role in (entry["recipe"].get("outputs") or {}).values():
        for item in (role or {}).get("items") or []:
            doc = (record.get("datasets") or {}).get(item["ref"])
            if doc is not None:
                outputs.append((item["ref"], copy.deepcopy(doc), bool(item.get("appendMode"))))
    own = record.get("variables") or {}
    variables = {**own.get("standard", {}), **own.get("local", {})}
    return Activity(copy.deepcopy(entry["recipe"]), str(entry.get("payload") or ""), inputs, outputs,
                    copy.deepcopy(store.coll("connections")), copy.deepcopy(variables))


@dataclass
class Written:
    name: str
    columns: list[dict[str, Any]]
    wrote: bool = True


def execute(activity: Activity, dip_home: Path, task: Task, api: tuple[str, str], project_key: str,
            say: Any) -> list[Written]:
    """Run one recipe on the files (no lock held); return what was written to each output."""
    rtype = str(activity.recipe.get("type"))
    with Session() as session:
        tables, unreadable = [], {}
        for i, (ref, doc) in enumerate(activity.inputs):
            task.check()
            try:
                location = storage.locate(doc, activity.connections, dip_home)
                columns = session.load(f"in{i}", location)
            except DataError as e:
                if rtype != "python":
                    raise
                unreadable[ref] = e.message  # the code fails only if it reads it, as in DSS
                continue
            doc["schema"] = {"columns": columns}
            tables.append(f"in{i}")
            say(f"Read {ref}: {session.con.execute(f'SELECT COUNT(*) FROM in{i}').fetchone()[0]} rows")  # type: ignore[index]
        task.check()
        if rtype == "python":
            return _run_python(activity, session, dip_home, task, api, project_key, say, unreadable)
        result = recipes.run_visual(session, rtype, tables, activity.payload)
        name, doc, append = activity.outputs[0]
        location = storage.locate(doc, activity.connections, dip_home)
        columns = session.write(result, location, append=append)
        count = session.con.execute(f'SELECT COUNT(*) FROM "{result}"').fetchone()[0]  # type: ignore[index]
        say(f"Wrote {count} rows to {name}")
        return [Written(name, columns)]


def _run_python(activity: Activity, session: Session, dip_home: Path, task: Task, api: tuple[str, str],
                project_key: str, say: Any, unreadable: dict[str, str]) -> list[Written]:
    workdir = Path(tempfile.mkdtemp(prefix="dss-sim-py-"))
    try:
        inputs: dict[str, dict[str, Any]] = {}
        outputs: dict[str, dict[str, Any]] = {}
        for i, (ref, doc) in enumerate(activity.inputs):
            if ref in unreadable:
                inputs[ref] = {"error": unreadable[ref], "schema": []}
                continue
            path = workdir / f"in{i}.csv"
            columns = doc["schema"]["columns"]
            storage.write_csv(path, {"style": "excel", "separator": ",", "parseHeaderRow": True},
                              [c["name"] for c in columns],
                              ([None if v is None else _plain(v, c["type"]) for v, c in zip(row, columns, strict=True)]
                               for row in session.rows(f"in{i}")))
            inputs[ref] = {"file": str(path), "schema": columns}
        for i, (name, doc, _) in enumerate(activity.outputs):
            outputs[name] = {"file": str(workdir / f"out{i}.csv"), "schemaFile": str(workdir / f"out{i}.schema.json"),
                             "schema": list((doc.get("schema") or {}).get("columns") or [])}
        run = python_code.CodeRun(activity.payload, workdir / "run", project_key, api[0], api[1],
                                  activity.variables, inputs, outputs)

        def started(proc: Any) -> None:
            task.process = proc
            if task.abort_requested.is_set():
                proc.kill()

        result = python_code.run(run, on_start=started)
        task.process = None
        if result.output.strip():
            say(result.output.rstrip())
        task.check()
        if not result.ok:
            raise DataError(result.error)
        written = []
        for i, (name, doc, append) in enumerate(activity.outputs):
            produced = Path(outputs[name]["file"])
            if not produced.exists():
                say(f"The code wrote nothing to {name}: it is left as it was", )
                written.append(Written(name, [], wrote=False))
                continue
            schema_file = Path(outputs[name]["schemaFile"])
            columns = (python_code.json.loads(schema_file.read_text(encoding="utf-8")) if schema_file.exists()
                       else outputs[name]["schema"])
            staged = Location(name, produced, "csv", {"style": "excel", "separator": ",", "parseHeaderRow": True},
                              columns)
            columns = session.load(f"out{i}", staged)
            target = storage.locate({**doc, "schema": {"columns": columns}}, activity.connections, dip_home)
            written.append(Written(name, session.write(f"out{i}", target, append=append)))
            say(f"Wrote {session.con.execute(f'SELECT COUNT(*) FROM out{i}').fetchone()[0]} rows to {name}")  # type: ignore[index]
        return written
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _plain(value: Any, dss_type: str) -> str | None:
    return format_value(value, dss_type)


# -- the job thread ---------------------------------------------------------------------------------------------

class JobRun:
    """One job's run on a node, recording every change in the store."""

    def __init__(self, node: Node, project_key: str, job_id: str, key: ApiKey, api: tuple[str, str]) -> None:
        self.node, self.key, self.job_id, self.api = node, project_key, job_id, api
        self.ctx = system_ctx(node, key)

    def update(self, change: Any) -> bool:
        """Apply `change(record, job)` under the lock; False if the job (or its project) is gone."""
        with self.node.store.transaction():
            record = self.node.store.projects.get(self.key)
            job = ((record or {}).get("jobs") or {}).get(self.job_id)
            if record is None or job is None:
                return False
            change(record, job)
            self.node.store.mark(self.key)
            return True

    def run(self, task: Task) -> str:
        """Run the job to its end; return its final state."""
        planned: list[str] = []

        def start(record: dict[str, Any], job: dict[str, Any]) -> None:
            job.update(state="RUNNING", startTime=now_ms())
            log(job, f"Job {self.job_id} started ({job['def'].get('type')})")
            planned.extend(plan(record, job["def"]))
            problems = unbuildable(record, planned)
            for name in planned:
                recipe = record["recipes"][name]["recipe"]
                job["activities"][f"{name}_NP"] = {"activityId": f"{name}_NP", "recipeName": name,
                                                   "recipeType": recipe.get("type"), "state": "NOT_STARTED",
                                                   "startTime": 0, "endTime": 0}
            if problems:
                self._fail(job, "; ".join(problems))
                planned.clear()
            elif not planned:
                log(job, "Nothing to build: no recipe writes the requested outputs, or they are up to date")

        if not self.update(start):
            return "FAILED"
        try:
            for name in planned:
                task.check()
                if not self._activity(name, task):
                    return "FAILED"
        except Aborted:
            self.update(lambda r, j: self._finish(j, "ABORTED", "The job was aborted"))
            return "ABORTED"
        except Exception as e:  # a simulator bug still ends the job, as FAILED, instead of leaving it running
            message = f"Internal error: {type(e).__name__}"
            self.update(lambda r, j: self._fail(j, message))
            return "FAILED"
        final: list[str] = []

        def done(record: dict[str, Any], job: dict[str, Any]) -> None:
            if job["state"] == "RUNNING":
                self._finish(job, "DONE", "Job done")
            final.append(job["state"])

        self.update(done)
        return final[0] if final else "FAILED"

    def _fail(self, job: dict[str, Any], message: str, activity: str | None = None) -> None:
        if activity:
            job["activities"][activity].update(state="FAILED", endTime=now_ms(), errorMessage=message)
        job["error"] = {"message": message}
        self._finish(job, "FAILED", message, activity, level="ERROR")

    def _finish(self, job: dict[str, Any], state: str, message: str, activity: str | None = None,
                level: str = "INFO") -> None:
        for act in job["activities"].values():
            if act["state"] in ("NOT_STARTED", "RUNNING") and state != "DONE":
                act["state"] = "ABORTED" if state == "ABORTED" else "SKIPPED"
        log(job, message, activity, level)
        job.update(state=state, endTime=now_ms())

    def _activity(self, recipe_name: str, task: Task) -> bool:
        activity_id = f"{recipe_name}_NP"
        snap: list[Activity] = []
        start = now_ms()

        def begin(record: dict[str, Any], job: dict[str, Any]) -> None:
            job["activities"][activity_id].update(state="RUNNING", startTime=start)
            log(job, f"Running recipe {recipe_name}", activity_id)
            try:
                snap.append(snapshot_activity(self.node.store, record, recipe_name))
            except (DataError, KeyError) as e:
                self._fail(job, getattr(e, "message", f"Recipe {recipe_name} changed while the job ran"),
                           activity_id)

        if not self.update(begin) or not snap:
            return False
        lines: list[str] = []
        try:
            written = execute(snap[0], self.node.data_home, task, self.api, self.key, lines.append)
        except Aborted:
            raise
        except Exception as e:  # a recipe's failure (bad data, bad SQL, a file that cannot be written) fails the job
            message = e.message if isinstance(e, DataError) else f"{type(e).__name__}: {str(e).splitlines()[0]}"

            def fail(_record: Any, job: dict[str, Any]) -> None:
                self._log_lines(job, lines, activity_id)
                self._fail(job, message, activity_id)

            self.update(fail)
            return False
        ok: list[bool] = []

        def finish(record: dict[str, Any], job: dict[str, Any]) -> None:
            self._log_lines(job, lines, activity_id)
            failure = self._after_build(record, written, start)
            if failure:
                self._fail(job, failure, activity_id)
            else:
                job["activities"][activity_id].update(state="DONE", endTime=now_ms())
                log(job, f"Recipe {recipe_name} done", activity_id)
                ok.append(True)

        self.update(finish)
        if not ok:
            return False
        return self._metrics_on_build([w.name for w in written if w.wrote], activity_id)

    @staticmethod
    def _log_lines(job: dict[str, Any], lines: list[str], activity_id: str) -> None:
        for line in lines:
            log(job, line, activity_id)

    def _after_build(self, record: dict[str, Any], written: list[Written], start: int) -> str | None:
        """Record each output's build; a written schema that differs from the dataset's becomes its schema (DSS
        updates a recipe's output schema when it runs)."""
        for w in written:
            doc = record["datasets"].get(w.name)
            if doc is None:
                return f"Dataset {w.name} was deleted while the job ran"
            if w.wrote and [(c["name"], c["type"]) for c in w.columns] != [
                    (c.get("name"), c.get("type")) for c in (doc.get("schema") or {}).get("columns") or []]:
                save_part(self.ctx, record, doc, {"schema": {"columns": w.columns, "userModified": False}})
            status.status_of(record, w.name)["lastBuild"] = {"buildStartTime": start, "buildEndTime": now_ms(),
                                                             "buildSuccess": True, "jobId": self.job_id}
        return None

    def _metrics_on_build(self, names: list[str], activity_id: str) -> bool:
        """Probes set to compute on build, then checks if `runOnBuild`: an ERROR check fails the job, as in DSS."""
        return all(self._metrics_for(name, activity_id) for name in names)

    def _metrics_for(self, name: str, activity_id: str) -> bool:
        snaps: list[status.Snapshot] = []
        if not self.update(lambda record, job: snaps.append(
                status.take_snapshot(self.node.store, self.node.data_home, record, name))) or not snaps:
            return False
        snap = snaps[0]
        probes = [p for p in (snap.doc.get("metrics") or {}).get("probes") or []
                  if p.get("computeOnBuildMode", "NO") != "NO" and p.get("enabled", True)]
        run_checks = bool((snap.doc.get("metricsChecks") or {}).get("runOnBuild"))
        if not probes and not run_checks:
            return True
        run = status.compute_metrics(snap, probes=probes)
        failed: list[str] = []

        def record_it(record: dict[str, Any], job: dict[str, Any]) -> None:
            status.record_metrics(record, name, run, [])
            log(job, f"Computed {len(run.values)} metric(s) on {name}", activity_id)
            if run_checks:
                fresh = status.take_snapshot(self.node.store, self.node.data_home, record, name)
                checks = [c for c in (fresh.doc.get("metricsChecks") or {}).get("checks") or []
                          if c.get("enabled", True)]
                results = status.record_results(record, name, status.judge(fresh, checks, fresh=False), "BUILD")
                failed.extend(f"{r['name']}: {r['message']}" for r in results if r["outcome"] == "ERROR")
            if failed:
                self._fail(job, f"Checks failed on {name}: " + "; ".join(failed), activity_id)

        self.update(record_it)
        return not failed
