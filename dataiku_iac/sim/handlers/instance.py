"""Instance-level endpoints: who am I, what node is this, where is Govern, and futures."""

from __future__ import annotations

import uuid
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
        return {"jobId": job_id, "hasResult": False, "alive": True, "progress": {"states": []}}
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
    fut["aborted"] = True
    ctx.store.mark()
    return {}


@route("GET", "/futures/", nodes=ALL_NODES)
def list_futures(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"jobId": k, "hasResult": v["pollsLeft"] <= 0} for k, v in ctx.store.coll("futures").items()]


def seed(node: Node) -> None:
    node.store.instance["installId"] = uuid.uuid4().hex[:12]
