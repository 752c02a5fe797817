"""Jobs: start (`project.new_job(...).start()`), status, log, abort, lists. Each job runs in a background
thread (job_runner): the start call returns at once and clients poll `GET .../jobs/{id}/`, as with DSS.

Status document: {baseStatus{def, state, jobStartTime, jobEndTime, initiationTime}, globalState{counts},
activities{<recipe>_NP: {recipeName, recipeType, state, startTime, endTime, errorMessage?}}, error?}.
"""

from __future__ import annotations

import copy
from typing import Any

from ..context import Ctx, Node, Raw
from ..errors import bad_request
from ..routing import route
from .instance import _caller_secret
from .job_runner import FINISHED, JOB_TYPES, JobRun, log, new_job


def job_key(project_key: str, job_id: str) -> str:
    return f"job:{project_key}:{job_id}"


def check_definition(ctx: Ctx, record: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any]:
    """A job definition DSS accepts: a known type and outputs that exist (datasets, folders...)."""
    jtype = definition.get("type") or "NON_RECURSIVE_FORCED_BUILD"
    if jtype not in JOB_TYPES:
        raise bad_request(f"Unknown job type {jtype} (one of {', '.join(JOB_TYPES)})")
    outputs = definition.get("outputs")
    if not isinstance(outputs, list) or not outputs:
        raise bad_request("A job needs at least one output to build")
    clean = []
    for out in outputs:
        if not isinstance(out, dict) or not isinstance(out.get("id"), str):
            raise bad_request("Each job output needs an 'id'")
        otype = out.get("type") or "DATASET"
        owner = out.get("projectKey") or record["projectKey"]
        if owner != record["projectKey"]:
            raise bad_request(f"Output {owner}.{out['id']} is in another project: a job builds in its own project")
        collection = {"DATASET": "datasets", "MANAGED_FOLDER": "managedFolders"}.get(otype)
        if collection is None or out["id"] not in (record.get(collection) or {}):
            raise ctx.not_found(f"{otype.title().replace('_', ' ')} {out['id']} does not exist in project "
                                f"{record['projectKey']}")
        clean.append({**out, "type": otype, "projectKey": owner})
    return {**definition, "type": jtype, "outputs": clean}


def start_job(ctx: Ctx, project_key: str, definition: dict[str, Any], *,
              background: bool = True) -> tuple[dict[str, Any], JobRun]:
    """Create a job; run it in a background thread, or (not `background`) leave running it to the caller, as a
    scenario step does with `JobRun.run` once out of the store's lock. Returns the job record and its runner."""
    record = ctx.project(project_key)
    job = new_job(record, check_definition(ctx, record, definition), ctx.key.login)
    job_id = job["def"]["id"]
    ctx.store.mark(project_key)
    runner = JobRun(ctx.node, project_key, job_id, ctx.key, (ctx.node.url, _caller_secret(ctx)))
    if background:
        ctx.node.tasks.start(job_key(project_key, job_id), runner.run)
    return job, runner


def _status(job: dict[str, Any]) -> dict[str, Any]:
    counts = {"total": 0, "done": 0, "failed": 0, "running": 0, "notStarted": 0, "aborted": 0, "skipped": 0,
              "warning": 0}
    for act in job["activities"].values():
        counts["total"] += 1
        key = {"DONE": "done", "FAILED": "failed", "RUNNING": "running", "NOT_STARTED": "notStarted",
               "ABORTED": "aborted", "SKIPPED": "skipped"}.get(act["state"], "notStarted")
        counts[key] += 1
    out: dict[str, Any] = {
        "baseStatus": {"def": copy.deepcopy(job["def"]), "state": job["state"], "jobStartTime": job["startTime"],
                       "jobEndTime": job["endTime"], "initiationTime": job["initiationTime"]},
        "globalState": counts, "activities": copy.deepcopy(job["activities"])}
    if job.get("error"):
        out["error"] = dict(job["error"])
    return out


def _list_item(job: dict[str, Any]) -> dict[str, Any]:
    return {"def": copy.deepcopy(job["def"]), "jobId": job["def"]["id"], "projectKey": job["def"]["projectKey"],
            "state": job["state"], "stableState": job["state"] in FINISHED, "initiationTime": job["initiationTime"],
            "startTime": job["startTime"], "endTime": job["endTime"]}


def _job(ctx: Ctx, project_key: str, job_id: str) -> dict[str, Any]:
    job = (ctx.project(project_key).get("jobs") or {}).get(job_id)
    if job is None:
        raise ctx.not_found(f"Job {job_id} does not exist in project {project_key}")
    return job


@route("POST", "/projects/{project_key}/jobs/")
def create_job(ctx: Ctx, project_key: str) -> dict[str, Any]:
    job, _ = start_job(ctx, project_key, ctx.req.json_object())
    return copy.deepcopy(job["def"])


@route("GET", "/projects/{project_key}/jobs/")
def list_jobs(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    jobs = (ctx.project(project_key).get("jobs") or {}).values()
    return [_list_item(j) for j in sorted(jobs, key=lambda j: j["initiationTime"], reverse=True)]


@route("GET", "/projects/{project_key}/jobs/running/")
def list_running_jobs(ctx: Ctx, project_key: str) -> list[dict[str, Any]]:
    return [j for j in list_jobs(ctx, project_key) if not j["stableState"]]


@route("GET", "/jobs/running/")
def list_all_running_jobs(ctx: Ctx) -> list[dict[str, Any]]:
    everyone = ctx.req.bool_param("allUsers", True)
    out = []
    for key in sorted(ctx.store.projects):
        for job in (ctx.store.projects[key].get("jobs") or {}).values():
            if job["state"] not in FINISHED and (everyone or job["def"].get("initiator") == ctx.key.login):
                out.append(_list_item(job))
    return out


@route("GET", "/projects/{project_key}/jobs/{job_id}")
def job_status(ctx: Ctx, project_key: str, job_id: str) -> dict[str, Any]:
    return _status(_job(ctx, project_key, job_id))


@route("GET", "/projects/{project_key}/jobs/{job_id}/log")
def job_log(ctx: Ctx, project_key: str, job_id: str) -> Raw:
    job = _job(ctx, project_key, job_id)
    activity = ctx.req.param("activity")
    if activity and activity not in job["activities"]:
        raise ctx.not_found(f"Activity {activity} does not exist in job {job_id}")
    lines = [text for act, text in job["log"] if not activity or act == activity]
    return Raw(("\n".join(lines) + "\n").encode("utf-8"), "text/plain; charset=utf-8")


@route("POST", "/projects/{project_key}/jobs/{job_id}/abort")
def abort_job(ctx: Ctx, project_key: str, job_id: str) -> dict[str, Any]:
    job = _job(ctx, project_key, job_id)
    if job["state"] not in FINISHED:
        log(job, f"Abort requested by {ctx.key.login}")
        ctx.store.mark(project_key)
        ctx.node.tasks.abort(job_key(project_key, job_id))
    return {}


def recover(node: Node) -> None:
    """At start: jobs a stopped simulator left running end ABORTED (their thread is gone)."""
    with node.store.transaction():
        for key, record in node.store.projects.items():
            for job in (record.get("jobs") or {}).values():
                if job["state"] not in FINISHED:
                    log(job, "The simulator stopped while the job ran", level="ERROR")
                    job.update(state="ABORTED", endTime=job["startTime"] or job["initiationTime"])
                    node.store.mark(key)
