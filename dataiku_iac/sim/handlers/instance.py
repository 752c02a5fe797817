"""Instance-level endpoints: who am I, what node is this, where is Govern, and futures."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ..context import Ctx, Node
from ..routing import route

ALL_NODES = ("DESIGN", "AUTOMATION", "GOVERN")


@route("GET", "/auth/info", nodes=ALL_NODES)
def auth_info(ctx: Ctx) -> dict[str, Any]:
    user = ctx.store.coll("users").get(ctx.key.login, {})
    return {
        "authIdentifier": ctx.key.login,
        "displayName": user.get("displayName", ctx.key.login),
        "groups": user.get("groups", []),
        "userProfile": user.get("userProfile", "DESIGNER"),
        "isAdmin": ctx.key.admin,
        "via": ["API_KEY"],
    }


@route("GET", "/instance-info", nodes=ALL_NODES)
def instance_info(ctx: Ctx) -> dict[str, Any]:
    return {
        "nodeType": ctx.node.kind,
        "nodeId": ctx.node.name,
        "nodeName": f"DSS simulator ({ctx.node.name})",
        "dssVersion": "15.2.0-simulated",
        "installId": ctx.store.instance.get("installId", ""),
        "licenseKind": "SIMULATOR",
    }


@route("GET", "/admin/get-govern-node-ref")
def govern_node_ref(ctx: Ctx) -> dict[str, Any]:
    ctx.require_admin()
    govern = ctx.server.nodes_of_kind("GOVERN")
    if not govern:
        return {"enabled": False}
    # The simulator accepts the same API keys on every node, so the caller's own key is the ref's key.
    return {"enabled": True, "nodeUrl": govern[0].url, "apiKey": _caller_secret(ctx)}


def _caller_secret(ctx: Ctx) -> str:
    for secret, key in ctx.server.keys.items():
        if key == ctx.key:
            return secret
    return ""


# -- futures ---------------------------------------------------------------------------------------
# Long tasks run synchronously; the result is kept in a future the client can poll. With the
# `future_polls` option the result only shows after that many polls, to exercise clients' waiting.

# A finished task stays readable (DSSFuture.get_result polls it again); the oldest are forgotten past this many.
MAX_KEPT_FUTURES = 200


def future_reply(ctx: Ctx, result: Any, *, node: Node | None = None) -> dict[str, Any]:
    target = node or ctx.node
    job_id = uuid.uuid4().hex[:16]
    polls = max(ctx.options.future_polls, 0)
    futures = target.store.coll("futures")
    futures[job_id] = {"result": result, "pollsLeft": polls, "aborted": False}
    for old in list(futures)[:-MAX_KEPT_FUTURES]:
        del futures[old]
    target.store.mark()
    if polls == 0:
        return {"jobId": job_id, "hasResult": True, "alive": False, "result": result}
    return {"jobId": job_id, "hasResult": False, "alive": True}


# A task in steps (a code env's build): each poll answers "running" with the step it is at, as DSS's futures
# report `progress.states` while they run (unverified: the shape of a state, {name, unit, target, cur, important},
# is DSS's; the step names are the simulator's). After the last step its finisher does the work and gives the
# result; an abort runs the finisher with aborted=True instead, to leave what an interrupted task leaves. The
# store holds JSON only, so finishers are registered here by name.
Finisher = Callable[[Ctx, dict[str, Any], bool], Any]
FINISHERS: dict[str, Finisher] = {}


def stepped_future_reply(ctx: Ctx, title: str, steps: list[str], finisher: str, args: dict[str, Any]) -> dict[str, Any]:
    """A future that runs `steps` one poll each, then `FINISHERS[finisher](ctx, args, False)` for its result."""
    job_id = uuid.uuid4().hex[:16]
    fut = {"result": None, "pollsLeft": 0, "aborted": False, "title": title, "steps": steps, "stepsDone": 0,
           "finisher": finisher, "args": args, "startTime": ctx.now_ms()}
    futures = ctx.store.coll("futures")
    futures[job_id] = fut
    for old in list(futures)[:-MAX_KEPT_FUTURES]:
        del futures[old]
    ctx.store.mark()
    return _running(ctx, job_id, fut)


def _running(ctx: Ctx, job_id: str, fut: dict[str, Any]) -> dict[str, Any]:
    states: list[dict[str, Any]] = []
    if "steps" in fut:
        i, steps = fut["stepsDone"], fut["steps"]
        states = [{"name": fut["title"], "unit": "NONE", "target": len(steps), "cur": i, "important": True},
                  {"name": steps[i], "unit": "NONE", "target": -1, "cur": 0, "important": False}]
    reply: dict[str, Any] = {"jobId": job_id, "hasResult": False, "alive": True, "aborted": False,
                             "progress": {"states": states}}
    if "startTime" in fut:
        reply.update(jobDisplayName=fut["title"], startTime=fut["startTime"],
                     runningTime=ctx.now_ms() - fut["startTime"])
    return reply


def _in_steps(fut: dict[str, Any]) -> bool:
    return "steps" in fut and fut["stepsDone"] < len(fut["steps"])


@route("GET", "/futures/{job_id}", nodes=ALL_NODES)
def get_future(ctx: Ctx, job_id: str) -> dict[str, Any]:
    futures = ctx.store.coll("futures")
    fut = futures.get(job_id)
    if fut is None:
        raise ctx.not_found(f"Future {job_id} not found")
    if fut["aborted"]:
        return {"jobId": job_id, "hasResult": False, "alive": False, "aborted": True}
    if fut["pollsLeft"] > 0:
        fut["pollsLeft"] -= 1
        ctx.store.mark()
        return _running(ctx, job_id, fut) if "steps" in fut else {"jobId": job_id, "hasResult": False,
                                                                   "alive": True, "progress": {"states": []}}
    if _in_steps(fut):
        fut["stepsDone"] += 1
        if fut["stepsDone"] < len(fut["steps"]):
            ctx.store.mark()
            return _running(ctx, job_id, fut)
        fut["result"] = FINISHERS[fut["finisher"]](ctx, fut["args"], False)
        ctx.store.mark()
    peek = ctx.req.bool_param("peek")
    reply: dict[str, Any] = {"jobId": job_id, "hasResult": True, "alive": False}
    if not peek:
        reply["result"] = fut["result"]
    return reply


@route("DELETE", "/futures/{job_id}", nodes=ALL_NODES)
def abort_future(ctx: Ctx, job_id: str) -> dict[str, Any]:
    fut = ctx.store.coll("futures").get(job_id)
    if fut is None:
        raise ctx.not_found(f"Future {job_id} not found")
    if _in_steps(fut) and not fut["aborted"]:
        FINISHERS[fut["finisher"]](ctx, fut["args"], True)
    fut["aborted"] = True
    ctx.store.mark()
    return {}


@route("GET", "/futures/", nodes=ALL_NODES)
def list_futures(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"jobId": k, "hasResult": v["pollsLeft"] <= 0 and not _in_steps(v)}
            for k, v in ctx.store.coll("futures").items()]


def seed(node: Node) -> None:
    node.store.instance["installId"] = uuid.uuid4().hex[:12]
