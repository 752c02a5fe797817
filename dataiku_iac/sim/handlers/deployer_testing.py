"""Project Deployer: a deployment's test scenarios, run and reported on its automation node."""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from . import scenario_runs
from ._common import active_bundle_id
from .deployer_infras import resolve_node
from .deployer_store import DEPLOYER, deployment_of, infra_of
from .scenarios import testing_status


def _on_automation(ctx: Ctx, deployment_id: str) -> tuple[Ctx, str]:
    """A context on the deployment's automation node (scenario runs look objects up in the node's store),
    and the deployed project key."""
    settings = deployment_of(ctx, deployment_id)["settings"]
    node = resolve_node(ctx.server, infra_of(ctx, settings["infraId"]))
    if node is None:
        raise bad_request(f"Infrastructure {settings['infraId']} points to no known automation node")
    wanted = ctx.req.param("automationNodeId")
    if wanted and wanted != node.name:
        raise ctx.not_found(f"Automation node {wanted} is not part of infrastructure {settings['infraId']}")
    return Ctx(node, ctx.req, ctx.key, ctx.options), settings["deployedProjectKey"]


@route("GET", "/project-deployer/deployments/{deployment_id}/testing-status", nodes=DEPLOYER)
def deployment_testing_status(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    node_ctx, key = _on_automation(ctx, deployment_id)
    with node_ctx.store.transaction():
        return testing_status(node_ctx.project(key), ctx.req.param("bundleId") or None)


@route("POST", "/project-deployer/deployments/{deployment_id}/run-test-scenarios", nodes=DEPLOYER)
def run_test_scenarios(ctx: Ctx, deployment_id: str) -> dict[str, Any]:
    node_ctx, key = _on_automation(ctx, deployment_id)
    with node_ctx.store.transaction():
        record = node_ctx.project(key)
        tests = [sid for sid, doc in sorted(record.get("scenarios", {}).items()) if doc.get("markedAsTest")]
        for scenario_id in tests:
            scenario_runs.start_run(node_ctx, record, scenario_id, {})
    # The runs need the automation node's lock as they go: wait for them without holding it.
    for scenario_id in tests:
        scenario_runs.wait(node_ctx.node, key, scenario_id)
    with node_ctx.store.transaction():
        record = node_ctx.project(key)
        return testing_status(record, active_bundle_id(record))
