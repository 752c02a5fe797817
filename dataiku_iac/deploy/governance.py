"""Governance of a promotion: the deployer infrastructure's Govern check policy (a setting of the environment, planned
like any other) and the Govern approval of each bundle deployed.

A bundle environment is gated when it asks for it (`approval: govern`) or when its infrastructure's policy is
PREVENT (the Project Deployer refuses unapproved bundles: dss-iac says so before exporting anything). With WARN the
plan shows each bundle's status, and promote deploys anyway: approving the plan is the confirmation DSS asks for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..dss.connect import Connection, call
from ..errors import SignOffError
from ..govern import BundleRequest, Gate, bundle_gate, commit_url, request_bundles
from ..govern.subjects import bundle_description
from ..plan.diff import FieldChange, diff_fields
from .deployer import absent

if TYPE_CHECKING:
    from dataikuapi.dss.projectdeployer import DSSProjectDeployer

    from ..config.models import Environment
    from ..workspace import Workspace
    from .promotion_plan import PromotionPlan

POLICY = "governCheckPolicy"
CHECKING = ("WARN", "PREVENT")


def infra_settings(conn: Connection, deployer: DSSProjectDeployer, infra: str) -> dict[str, Any]:
    return dict(absent(conn, lambda: deployer.get_infra(infra).get_settings().get_raw()) or {})


def policy_changes(current: dict[str, Any], env: Environment) -> tuple[FieldChange, ...]:
    """The infrastructure settings the environment manages that differ from the deployer's (its Govern policy)."""
    if env.govern_check is None:
        return ()
    return tuple(diff_fields({POLICY: env.govern_check}, {POLICY: current.get(POLICY, "NO_CHECK")}))


def effective_policy(current: dict[str, Any], env: Environment) -> str:
    """The policy the promotion's deployments meet: the environment's, once set, else the deployer's."""
    return env.govern_check or str(current.get(POLICY) or "NO_CHECK")


def gate_reason(env: Environment, infra: str, policy: str) -> str | None:
    """Why the environment's promotions wait for Govern; None when they do not."""
    if env.approval is not None:
        return "approval: govern"
    if policy == "PREVENT":
        return f"infrastructure {infra} deploys approved bundles only (governCheckPolicy PREVENT)"
    return None


def promotion_gate(ws: Workspace, plan: PromotionPlan) -> Gate | None:
    """The approvals the promotion's bundles have in Govern now (None: no gate, or nothing to deploy)."""
    bundles = [(p.published_key, p.bundle_id) for p in plan.projects if p.update]
    reason = plan.gate_reason or (f"infrastructure {plan.infra} warns about unapproved bundles (governCheckPolicy "
                                  "WARN)" if plan.govern_policy == "WARN" else None)
    if reason is None or not bundles:
        return None
    return bundle_gate(ws.govern(plan.to_env), plan.to_env, bundles, reason)


def request_promotion(ws: Workspace, plan: PromotionPlan) -> Gate | None:
    """Open the approval request of each bundle the promotion deploys (one per bundle, whoever asks again)."""
    from .render import render_project

    todo = [p for p in plan.projects if p.update]
    if not todo:
        return None
    commit = plan.commit or ""
    url = commit_url(ws.root, commit)
    requests = [BundleRequest(p.published_key, p.bundle_id, bundle_description(
        plan.to_env, p.published_key, p.bundle_id, commit, url, "\n".join(render_project(p, plan)))) for p in todo]
    return request_bundles(ws.govern(plan.to_env), plan.to_env, requests, plan.gate_reason or "approval: govern")


def check_approved(ws: Workspace, plan: PromotionPlan) -> None:
    """Refuse (SignOffError) a gated promotion whose bundles are not all approved in Govern, as Govern says now."""
    if plan.gate_reason is None:
        return
    gate = promotion_gate(ws, plan)
    if gate is not None and not gate.open:
        raise SignOffError(gate.refusal("promote"), gate)


def write_policy(conn: Connection, deployer: DSSProjectDeployer, infra: str, policy: str) -> None:
    settings = call(conn, lambda: deployer.get_infra(infra).get_settings())
    settings.get_raw()[POLICY] = policy
    call(conn, settings.save)
