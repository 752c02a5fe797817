"""Running a plan's operations in dependency order with bounded parallelism."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..dss.connect import Connection, call, read_with_retry
from ..errors import DSSApiError, DssIacError, PlanError
from ..plan.model import Action, ActionType, Plan
from ..plan.refresh import version_held
from ..resources import KINDS, Address, Desired, Remote
from ..resources.passthrough import is_passthrough
from ..secrets import Sensitive, taint
from ..state.model import ResourceState
from ..step_progress import StepProgress, reporting
from .recorder import StateRecorder


class StepPhase(StrEnum):
    """What a step does (a replace is a delete, then a create). A forget drops an object from state only;
    a record writes one found in DSS as configured into state."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    FORGET = "forget"
    RECORD = "record"


class StepStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # not run: a step it waits for failed or was skipped


class ProgressEventType(StrEnum):
    START = "start"  # before the first step
    BEGIN = "begin"  # a step starts
    PROGRESS = "progress"  # a running step reports where it is (a code env's build, step by step)
    END = "end"  # a step ended (its status says how)
    FINISH = "finish"  # after the last one


@dataclass(frozen=True)
class Step:
    """One unit of work: a replace is two steps, its delete then its create."""

    action: Action
    phase: StepPhase

    @property
    def id(self) -> str:
        return f"{self.phase}:{self.action.address}"


@dataclass
class StepResult:
    address: str
    action: StepPhase
    status: StepStatus
    error: str | None = None
    seconds: float = 0.0


@dataclass
class ApplyResult:
    results: list[StepResult] = field(default_factory=list)
    state_writes: int = 0
    seconds: float = 0.0

    def _with(self, status: StepStatus) -> list[StepResult]:
        return [r for r in self.results if r.status is status]

    @property
    def succeeded(self) -> list[StepResult]:
        return self._with(StepStatus.OK)

    @property
    def failed(self) -> list[StepResult]:
        return self._with(StepStatus.FAILED)

    @property
    def skipped(self) -> list[StepResult]:
        return self._with(StepStatus.SKIPPED)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


@dataclass(frozen=True)
class ProgressEvent:
    """What front ends hear while an apply runs."""

    event: ProgressEventType
    total: int
    done: int
    address: str | None = None
    action: StepPhase | None = None
    status: StepStatus | None = None
    error: str | None = None
    # PROGRESS: what the step does now (`installing pandas>=2.0`), and its parts done of its parts, when counted.
    detail: str | None = None
    detail_done: int | None = None
    detail_total: int | None = None


Progress = Callable[[ProgressEvent], None]
WRITES = (StepPhase.CREATE, StepPhase.UPDATE)
REMOVALS = (StepPhase.DELETE, StepPhase.FORGET)


def _steps(plan: Plan, state_depends: Mapping[str, list[str]] | None = None) -> tuple[list[Step], dict[str, set[str]]]:
    """Steps and, for each, the ids of the steps it must wait for. `state_depends`: the dependencies the state
    recorded, so that deletes also wait for dependents the configuration no longer declares."""
    steps: dict[str, Step] = {}
    for a in plan.actions:
        if a.action is ActionType.NOOP:
            continue
        if a.action is ActionType.DELETE:
            s = Step(a, StepPhase.FORGET if a.with_project else StepPhase.DELETE)
            steps[s.id] = s
        elif a.action is ActionType.REPLACE:
            for phase in (StepPhase.DELETE, StepPhase.CREATE):
                s = Step(a, phase)
                steps[s.id] = s
        else:
            s = Step(a, StepPhase(a.action.value))
            steps[s.id] = s
    after: dict[str, set[str]] = {sid: set() for sid in steps}
    writes = {s.action.address: sid for sid, s in steps.items() if s.phase in WRITES}
    removals = {s.action.address: sid for sid, s in steps.items() if s.phase in REMOVALS}
    follows = _following_project_deletes(steps, removals)
    for sid, s in steps.items():
        addr = s.action.address
        if s.phase in WRITES:
            for dep in s.action.depends_on:  # what it needs exists first
                if dep in writes:
                    after[sid].add(writes[dep])
            if addr in removals:  # a replace deletes before it creates
                after[sid].add(removals[addr])
        elif sid in follows:
            after[sid].add(follows[sid])
        else:
            for other_sid, other in steps.items():  # dependents go before what they depend on
                recorded = (state_depends or {}).get(str(other.action.address), [])
                if other.phase in REMOVALS and follows.get(other_sid) != sid and \
                        (addr in other.action.depends_on or str(addr) in recorded):
                    after[sid].add(other_sid)
    return list(steps.values()), after


def _following_project_deletes(steps: Mapping[str, Step], removals: Mapping[Address, str]) -> dict[str, str]:
    """Forget steps of objects deleted with their project -> that project's delete step.

    DSS deletes a project's contents with it, so they leave the state only once DSS confirmed the project
    is gone: if DSS refuses to delete it (a key without the project's Admin permission) or fails, the project
    and everything in it stay managed, and the next destroy tries again.
    """
    out: dict[str, str] = {}
    for sid, s in steps.items():
        if s.phase is not StepPhase.FORGET or s.action.kind == "project" or s.action.forgotten_only:
            continue
        project = removals.get(Address("project", s.action.address.project))
        if project is not None and steps[project].phase is StepPhase.DELETE:
            out[sid] = project
    return out


def apply_plan(plan: Plan, conn: Connection, recorder: StateRecorder, *, parallelism: int = 8,
               progress: Progress | None = None, state_depends: dict[str, list[str]] | None = None,
               fields: Mapping[str, Mapping[str, Any]] | None = None) -> ApplyResult:
    """Run the plan's steps. `fields` are the desired fields of the same configuration, secrets included:
    a saved plan holds only fingerprints of secret values."""
    steps, after = _steps(plan, state_depends)
    total = len(steps)
    notify = progress or (lambda e: None)
    result = ApplyResult()
    started = time.perf_counter()
    notify(ProgressEvent(ProgressEventType.START, total, 0))
    for a in plan.to_record:  # facts about DSS already: only state to write, no call to make
        if a.remote_id is None:  # a plan built in code (a loaded one is refused without it)
            raise PlanError(f"{a.address}: nothing to record without the id DSS holds it under")
        key = str(a.address)
        found = (fields or {}).get(key, a.fields or {})
        recorder.put(key, ResourceState(a.kind, a.remote_id, recorder.fingerprints.scrub(dict(found)),
                                        [str(d) for d in a.depends_on]), StepPhase.RECORD)
        result.results.append(StepResult(key, StepPhase.RECORD, StepStatus.OK))
    by_id = {s.id: s for s in steps}
    waiting = {sid: set(deps) for sid, deps in after.items()}
    finished: dict[str, StepStatus] = {}
    lock = threading.Lock()

    def run(step: Step) -> StepResult:
        t0 = time.perf_counter()
        key = str(step.action.address)
        notify(ProgressEvent(ProgressEventType.BEGIN, total, len(finished), key, step.phase))

        def tell(p: StepProgress) -> None:
            notify(ProgressEvent(ProgressEventType.PROGRESS, total, len(finished), key, step.phase,
                                 detail=p.detail, detail_done=p.done, detail_total=p.total))

        try:
            with reporting(tell):
                _execute(step, conn, recorder, (fields or {}).get(key), step.id in retried)
            return StepResult(key, step.phase, StepStatus.OK, seconds=time.perf_counter() - t0)
        except DssIacError as e:
            return StepResult(key, step.phase, StepStatus.FAILED, str(e), time.perf_counter() - t0)
        except Exception as e:  # a kind's bug must not lose the state of what already succeeded
            return StepResult(key, step.phase, StepStatus.FAILED, f"{type(e).__name__}: {e}",
                              time.perf_counter() - t0)

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        running: dict[Future[StepResult], str] = {}
        launched: set[str] = set()

        def launch_ready() -> None:
            for sid in sorted(waiting):
                if not waiting[sid] and sid not in launched:
                    launched.add(sid)
                    running[pool.submit(run, by_id[sid])] = sid

        def settle(sid: str, res: StepResult) -> None:
            with lock:
                finished[sid] = res.status
                result.results.append(res)
            notify(ProgressEvent(ProgressEventType.END, total, len(finished), res.address, res.action, res.status,
                                 res.error))
            waiting.pop(sid, None)
            for other, deps in list(waiting.items()):
                if other in waiting and other not in launched and sid in deps:
                    if res.status is StepStatus.OK:
                        deps.discard(sid)
                    else:
                        skip = by_id[other]
                        # A forget waits only for removals: what it would drop from state is still in DSS.
                        why = (f"kept in state: {res.address} was not deleted" if skip.phase is StepPhase.FORGET
                               else f"not run: {res.address} {res.status}")
                        settle(other, StepResult(str(skip.action.address), skip.phase, StepStatus.SKIPPED, why))

        # A step DSS refused gets one more try once nothing else can run: rewiring a flow can refuse a
        # step only because of the order (a recipe that would briefly make a cycle until another recipe
        # drops an input). Its dependents wait for the retry.
        deferred: list[str] = []
        retried: set[str] = set()
        launch_ready()
        while running or deferred:
            if not running:
                for sid in deferred:
                    retried.add(sid)
                    running[pool.submit(run, by_id[sid])] = sid
                deferred.clear()
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                sid = running.pop(fut)
                res = fut.result()
                # Only worth it when other steps may have changed DSS since this one was refused.
                if res.status is StepStatus.FAILED and sid not in retried and len(by_id) > 1:
                    deferred.append(sid)
                else:
                    settle(sid, res)
            launch_ready()
    recorder.close()
    result.state_writes = recorder.writes
    result.seconds = time.perf_counter() - started
    notify(ProgressEvent(ProgressEventType.FINISH, total, len(finished)))
    return result


def _execute(step: Step, conn: Connection, recorder: StateRecorder,
             fresh_fields: Mapping[str, Any] | None = None, retry: bool = False) -> None:
    """Run one step. `retry`: an earlier attempt at it failed, and may have reached DSS all the same."""
    a = step.action
    address, key = a.address, str(a.address)
    kind = KINDS[a.kind]
    if step.phase is StepPhase.FORGET:
        recorder.forget(key, StepPhase.FORGET)
        return
    deps = [str(d) for d in a.depends_on]
    if step.phase is StepPhase.DELETE:
        recorder.intent(key, a.kind, StepPhase.DELETE, a.remote_id, deps)
        if a.remote_id is not None:
            _delete(kind, conn, address, a.remote_id)
        recorder.forget(key, StepPhase.DELETE)
        return
    desired = Desired(address, dict(fresh_fields or a.fields or {}), a.depends_on,
                      removed=_removed_keys(a, kind.open_maps))
    remote: Remote | None = None
    if step.phase is StepPhase.UPDATE:
        remote = read_with_retry(conn, lambda: kind.read(conn.client, address, a.remote_id))
    if remote is None:  # a create, or an update of an object deleted between plan and apply: create it again
        remote_id, phase = _create(kind, conn, desired, recorder, deps, retry), StepPhase.CREATE
    else:
        recorder.intent(key, a.kind, StepPhase.UPDATE, a.remote_id, deps, desired.fields)
        found = remote
        call(conn, lambda: kind.apply_update(conn.client, desired, found))
        remote_id, phase = remote.remote_id, StepPhase.UPDATE
    written = recorder.fingerprints.scrub(dict(desired.fields))
    # A passthrough document is read at every refresh (plan/refresh.py): its version is not needed.
    version = (_written_version(kind, conn, desired, remote_id, written, recorder)
               if kind.versioned and not is_passthrough(desired.fields) else None)
    recorder.put(key, ResourceState(a.kind, remote_id, written, deps, version), phase)


def _written_version(kind: Any, conn: Connection, desired: Desired, remote_id: str, written: dict[str, Any],
                     recorder: StateRecorder) -> int | None:
    """The version DSS gave the object with this write, read back, so that the next refresh need not read it again.
    Recorded only when DSS holds what was just written: anything else (an edit made meanwhile, DSS's own reshaping)
    leaves it unknown, and the next refresh reads the object."""
    try:
        remote = read_with_retry(conn, lambda: kind.read(conn.client, desired.address, remote_id))
    except DssIacError:
        return None  # the write is done: only the saving of a read is lost
    return None if remote is None else version_held(kind, remote, desired.fields, written, recorder.fingerprints)


def _delete(kind: Any, conn: Connection, address: Address, remote_id: str) -> None:
    """Delete. A delete that failed still counts when DSS confirms the object is gone (its reply was lost);
    otherwise the object stays in state."""
    try:
        call(conn, lambda: kind.delete(conn.client, address, remote_id))
    except DssIacError as failed:
        try:
            gone = read_with_retry(conn, lambda: kind.read(conn.client, address, remote_id)) is None
        except DssIacError:
            gone = False
        if gone:
            return
        if address.kind == "project":
            raise DSSApiError(f"{failed} (project {address.project} and everything in it stay in state, still "
                              "managed)") from None
        raise


def _removed_keys(a: Action, open_maps: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Open-map keys the plan removes (`params.old = "x" -> (none)`): DSS's own keys are never touched."""
    removed: dict[str, list[str]] = {}
    for c in a.changes:
        root, _, key = c.path.partition(".")
        if key and root in open_maps and c.after is None and c.before is not None:
            removed.setdefault(root, []).append(key.split(".", 1)[0])
    return {k: tuple(v) for k, v in removed.items()}


def _create(kind: Any, conn: Connection, desired: Desired, recorder: StateRecorder, deps: list[str],
            retry: bool) -> str:
    """Create, never twice. The intent names what to look for: DSS may have made the object though the call
    failed (a lost reply, or a later call of a create made of several failing), and a retry looks for it first,
    by name, since objects whose ids DSS makes (zones, scenarios, folders) would otherwise get a twin."""
    address = desired.address
    given = desired.fields.get("name")
    # A name read from the environment stays out of the journal: then the address alone finds the object.
    name = None if given is None or isinstance(given, Sensitive) else str(given)
    recorder.intent(str(address), kind.name, StepPhase.CREATE, None, deps, desired.fields, name)

    def find() -> Remote | None:
        remote: Remote | None = read_with_retry(conn, lambda: kind.find(conn.client, address, name))
        return remote

    existing = find() if retry else None
    if existing is None:
        try:
            return str(call(conn, lambda: kind.apply_create(conn.client, desired)))
        except DssIacError as failed:
            try:
                existing = find()
            except DssIacError:
                raise failed from None
            if existing is None:
                raise
    # In DSS (made by the failed call, or by hand): managed from now on, as it is (what the config holds as
    # sensitive sealed), then updated.
    adopted = kind.observed(existing, desired.fields)
    fields = recorder.fingerprints.scrub(taint(dict(adopted.fields), desired.fields))
    recorder.put(str(address), ResourceState(kind.name, adopted.remote_id, fields, deps), StepPhase.CREATE)
    call(conn, lambda: kind.apply_update(conn.client, desired, adopted))
    return adopted.remote_id
