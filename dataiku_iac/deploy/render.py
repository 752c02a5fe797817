"""Promotion plans as text, in the style of `dss-iac plan`: one block per project, content changes as plan
blocks (`+ ~ -`), deployment settings as field changes, and a closing summary line."""

from __future__ import annotations

from ..plan.model import ActionType
from ..plan.render_text import action_block, field_lines
from .promotion_plan import EXPORTED, NEW, ProjectPromotion, PromotionPlan
from .targets import CONNECTION


def render_promotion(plan: PromotionPlan) -> str:
    out: list[str] = []
    if not plan.has_changes:
        out.append(f"No changes. Environment {plan.to_env} runs what a promotion from {plan.from_env} would deploy:")
        for p in plan.projects:
            out.append(f"  {p.key}: bundle {p.bundle_id} as {p.deployed_key} (deployment {p.deployment_id}, "
                       f"{p.health})")
        return "\n".join(out) + "\n"
    made = f" (commit {plan.commit})" if plan.commit else ""
    verb = "roll back" if plan.rollback else "promote"
    out.append(f"dss-iac will {verb} to environment {plan.to_env} from {plan.from_env}, bundle {plan.bundle_id}{made}:")
    out.append("")
    if plan.infra_changes:
        out.append(f"  # infrastructure {plan.infra}: its settings will be updated on the Project Deployer")
        out.extend(field_lines(plan.infra_changes, "~", indent="      "))
        out.append("")
    if plan.instance_changes:
        out.append(f"  # instance of {plan.to_env}: applied first (docs/instance.md)")
        for a in plan.instance_changes:
            out.extend(action_block(a))
        out.append("")
    for p in plan.projects:
        out.extend(render_project(p, plan))
        out.append("")
    deploy = [p for p in plan.projects if p.update]
    changes = [a for p in deploy for a in p.content_changes]
    count = {t: sum(a.action is t for a in changes) for t in ActionType}
    out.append(f"Promotion: {len(deploy)} project(s) to deploy, {len(plan.projects) - len(deploy)} unchanged; "
               f"content: {count[ActionType.CREATE]} to add, {count[ActionType.UPDATE]} to change, "
               f"{count[ActionType.DELETE]} to remove.")
    if plan.gated:
        waiting = [p.approval for p in deploy if p.approval is not None and not p.approval.approved]
        state = f"{len(waiting)} of {len(deploy)} bundle(s) not approved yet" if waiting else "every bundle approved"
        out.append(f"Govern: {plan.gate_reason}; {state}.")
    return "\n".join(out) + "\n"


def render_project(p: ProjectPromotion, plan: PromotionPlan) -> list[str]:
    """One project's block of the promotion plan (also what a bundle's Govern approval request shows)."""
    if not p.update:
        return [f"  # project {p.key}: no changes ({p.reason})"]
    what = "updated" if p.deployment_exists else f"created on infrastructure {p.infra}"
    lines = [f"  # project {p.key}: deployment {p.deployment_id} will be {what} ({p.reason})"]
    lines.append(f"    bundle:           {p.bundle_id} ({_bundle_words(p, plan)})")
    now = f"bundle {p.current_bundle}, health {p.health}" if p.deployment_exists else "no deployment"
    lines.append(f"    deployed now:     {now}")
    lines.append(f"    deployed project: {p.deployed_key} on {plan.to_env}")
    if p.approval is not None:
        lines.append(f"    govern:           {_approval_words(p)}")
        if not plan.gated and not p.approval.approved:
            lines.append(f"    warning: infrastructure {plan.infra} warns about unapproved bundles (governCheckPolicy "
                         f"{plan.govern_policy}): approving this plan deploys it anyway")
    if p.remapping:
        lines.append(f"    remapping ({plan.from_env} -> {plan.to_env}):")
        width = max(len(f"{_kind(r.kind)} {r.logical}") for r in p.remapping)
        for r in p.remapping:
            same = "  (same name: no remapping)" if r.source == r.target else ""
            lines.append(f"      {f'{_kind(r.kind)} {r.logical}'.ljust(width)} : {r.source} -> {r.target}{same}")
    if p.health_messages and p.health not in (None, "HEALTHY"):
        lines.extend(f"    health: {m}" for m in p.health_messages)
    lines.extend(f"    warning: {w}" for w in p.warnings)
    if p.content is None:
        lines.append(f"    content: not compared ({p.content_note})")
    elif not p.content_changes:
        lines.append(f"    content: no changes to the flow of {p.deployed_key}")
    else:
        note = f"; {p.content_note}" if p.content_note else ""
        lines.append(f"    content (the bundle against what {plan.to_env} runs now{note}):")
        for a in p.content_changes:
            lines.extend("    " + line for line in action_block(a))
    if plan.verify:
        back = (f"rolls back to bundle {p.current_bundle}" if p.current_bundle else
                "has no earlier bundle to roll back to")
        lines.append(f"    tests after the update (a failure {back}):"
                     if p.tests else "    tests after the update: none declared (test: true scenarios, data tests)")
        lines.extend(f"      - {t}" for t in p.tests)
    if p.settings_changes:
        lines.append(f"    deployment settings ({p.deployment_id}):")
        lines.extend(field_lines(p.settings_changes, "~" if p.deployment_exists else "+", indent="      "))
    return lines


def _approval_words(p: ProjectPromotion) -> str:
    a = p.approval
    assert a is not None
    if a.approved:
        by = f" by {a.decision.user}" if a.decision else ""
        return f"bundle approved{by} ({a.where})"
    if a.artifact_id is None:
        return "no approval requested yet (dss-iac approvals request opens it)"
    said = f': "{a.decision.comment}"' if a.decision and a.decision.comment else ""
    who = f"the final approval of {a.who}" if a.signoff_status != "NOT_STARTED" else "its review to start"
    waits = f"waits for {who}" if a.status.value == "pending" else a.status.value + said
    return f"{a.signoff_status}: {waits} ({a.where})"


def _bundle_words(p: ProjectPromotion, plan: PromotionPlan) -> str:
    if plan.rollback:
        return "an earlier bundle, already on the Project Deployer"
    if p.bundle_state == NEW:
        return f"new: exported from {p.design_key} on {plan.from_env}, then published"
    if p.bundle_state == EXPORTED:
        return f"exported from {p.design_key} already: published now"
    return "already on the Project Deployer: reused"


def _kind(kind: str) -> str:
    return "connection" if kind == CONNECTION else "code env"
