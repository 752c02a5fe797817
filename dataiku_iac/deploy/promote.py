"""Carrying out a promotion plan: export, publish, create or update the deployment, update it, check its health.

Projects are promoted one after the other, in the plan's order; the first failure stops the promotion
(later projects may read from it). A failed update leaves the automation project on its previous bundle
(DSS activates all or nothing), and the deployment's settings are put back as they were, so the deployer
too still says the previous bundle.

With `verify`, the target's tests (testing.live: data tests and test scenarios of the deployed projects) run once
every project is deployed; if one fails, each project deployed by this promotion is updated back to the bundle it
ran before (a new deployment has none: it is left as it is, and the error says so).
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._text import brief
from ..dss.connect import Connection, call
from ..errors import ApprovalError, DSSApiError, StalePlanError
from ..plan.model import ActionType
from . import governance
from .deployer import HEALTHY, deployment_health, deployment_settings, open_deployer, published_bundles
from .errors import PromotionError, VerifyError
from .promotion_plan import EXPORTED, NEW, ProjectPromotion, PromotionPlan, check_target
from .settings import write_settings

if TYPE_CHECKING:
    from dataikuapi.dss.projectdeployer import DSSProjectDeployer

    from ..testing.results import TestRun
    from ..workspace import Workspace

Progress = Callable[[str], None]
# `com.dataiku.dip.exceptions.CodedException: ` in front of DSS's message says nothing to a reader.
_ERROR_TYPE = re.compile(r"^(?:DSS at \S+: )?(?:[\w$]+\.)*[\w$]*(?:Exception|Error): ")


@dataclass
class ProjectOutcome:
    project: str
    deployment_id: str
    bundle_id: str
    status: str  # deployed | unchanged | failed
    health: str | None = None
    messages: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PromotionResult:
    from_env: str
    to_env: str
    bundle_id: str
    projects: list[ProjectOutcome] = field(default_factory=list)
    tests: TestRun | None = None  # --verify: the target's tests after the update
    rolled_back: list[str] = field(default_factory=list)  # --verify failed: what was put back, one line each

    @property
    def ok(self) -> bool:
        return all(p.status != "failed" for p in self.projects)

    @property
    def deployed(self) -> list[ProjectOutcome]:
        return [p for p in self.projects if p.status == "deployed"]

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.from_env, "to": self.to_env, "bundle_id": self.bundle_id, "ok": self.ok,
                "projects": [p.to_dict() for p in self.projects],
                "tests": None if self.tests is None else self.tests.to_dict(), "rolled_back": list(self.rolled_back)}


def check_protected(ws: Workspace, plan: PromotionPlan, allow_delete: bool) -> None:
    """The same rule as apply's: on a protected environment, nothing is deleted without an explicit flag."""
    if allow_delete or not ws.environment(plan.to_env).protected:
        return
    risky = [str(a.address) for p in plan.projects if p.update for a in p.content_changes
             if a.action in (ActionType.DELETE, ActionType.REPLACE)]
    if risky:
        raise ApprovalError(f"environment {plan.to_env} is protected and activating the bundle deletes or replaces "
                            f"{len(risky)} object(s) ({brief(risky)}); review the promotion plan and pass "
                            "--allow-delete")


def apply_instance(ws: Workspace, env: str, allow_delete: bool, say: Callable[[str], None]) -> None:
    """Bring the target's instance resources (its instance file: connections, code envs, groups...) to what the
    file says, before the bundles that use them arrive: so a promotion needs no hand step on the target. The
    protected rule holds; the promotion's own sign-off covers these changes (its plan lists them)."""
    addresses = ws.instance_addresses(env)
    if not addresses:
        return
    instance_plan = ws.plan(env, targets=addresses, check_instance=False)
    if not instance_plan.has_changes:
        return
    summary = instance_plan.summary()
    say(f"instance of {env}: {summary.add} to add, {summary.change} to change, {summary.destroy} to destroy")
    result = ws.apply(instance_plan, allow_delete=allow_delete, approved=True)
    if not result.ok:
        failed = [f"{r.address}: {r.error}" for r in result.results if r.status != "ok"]
        raise DSSApiError(f"applying the instance resources of {env} failed, nothing was promoted: "
                          f"{brief(failed)}")


def promote(ws: Workspace, plan: PromotionPlan, progress: Progress | None = None, *,
            allow_delete: bool = False) -> PromotionResult:
    """Carry out `plan`; raises PromotionError (its `result` says what was done) at the first project that fails.
    A protected target whose activation would delete or replace objects needs `allow_delete`."""
    check_protected(ws, plan, allow_delete)
    governance.check_approved(ws, plan)  # as Govern says now, not as it said when the plan was made
    say = progress or (lambda text: None)
    apply_instance(ws, plan.to_env, allow_delete, say)
    check_target(ws, plan)  # the target node may have changed since the plan: before anything is exported
    design = ws.connection(plan.from_env)
    deployer = open_deployer(design)
    result = PromotionResult(plan.from_env, plan.to_env, plan.bundle_id)
    previous: dict[str, dict[str, Any] | None] = {}
    if plan.infra_changes:
        say(f"infrastructure {plan.infra}: Govern check policy {plan.govern_policy}")
        governance.write_policy(design, deployer, plan.infra, plan.govern_policy)
    for p in plan.projects:
        if not p.update:
            result.projects.append(ProjectOutcome(p.key, p.deployment_id, p.bundle_id, "unchanged", p.health))
            continue
        started = time.monotonic()
        try:
            health, messages, previous[p.key] = _promote_one(design, deployer, p, plan, say)
        except (PromotionError, DSSApiError) as e:
            # DSS refused a step before the update (export, publish, settings): say which project and bundle.
            message = str(e) if isinstance(e, PromotionError) else (
                f"promoting project {p.key} to {plan.to_env} failed (bundle {p.bundle_id}): "
                f"{_ERROR_TYPE.sub('', str(e))}")
            result.projects.append(ProjectOutcome(p.key, p.deployment_id, p.bundle_id, "failed", error=message,
                                                  seconds=time.monotonic() - started))
            raise PromotionError(message, result) from None
        result.projects.append(ProjectOutcome(p.key, p.deployment_id, p.bundle_id, "deployed", health, messages,
                                              seconds=time.monotonic() - started))
        say(f"{p.key}: deployed bundle {p.bundle_id} as {p.deployed_key} on {plan.to_env} ({health})")
    if plan.verify and result.deployed:
        _verify(ws, plan, result, previous, say)
    return result


def _verify(ws: Workspace, plan: PromotionPlan, result: PromotionResult,
            previous: dict[str, dict[str, Any] | None], say: Progress) -> None:
    """Run the target's tests on what was just deployed; on a failure, roll every deployed project back."""
    from ..testing.runner import run_tests

    deployed = [o.project for o in result.deployed]
    say(f"verifying: running the tests of {', '.join(deployed)} on {plan.to_env}")
    result.tests = run_tests(ws, plan.to_env, static=False, progress=say, only=deployed)
    if result.tests.ok:
        return
    failed = ", ".join(r.name for r in result.tests.failures[:3]) + (
        f" and {len(result.tests.failures) - 3} more" if len(result.tests.failures) > 3 else "")
    design = ws.connection(plan.from_env)
    deployer = open_deployer(design)
    by_key = {p.key: p for p in plan.projects}
    for outcome in result.deployed:
        result.rolled_back.append(_roll_back(design, deployer, by_key[outcome.project], previous.get(outcome.project),
                                             say))
    raise VerifyError(f"tests failed on {plan.to_env} after deploying bundle {plan.bundle_id} ({failed}); "
                      + "; ".join(result.rolled_back), result)


def _roll_back(design: Connection, deployer: DSSProjectDeployer, p: ProjectPromotion,
               previous: dict[str, Any] | None, say: Progress) -> str:
    """Put a deployment back on the bundle (and settings) it had before this promotion, and update it."""
    if previous is None or not p.current_bundle:
        return (f"{p.key} had no earlier deployment: it stays on bundle {p.bundle_id} (fix it and promote again, or "
                f"delete deployment {p.deployment_id})")
    say(f"{p.key}: rolling back deployment {p.deployment_id} to bundle {p.current_bundle}")
    deployment = deployer.get_deployment(p.deployment_id)
    trouble = _restore(design, deployment, previous)
    if trouble:
        return f"{p.key} could not be rolled back{trouble}"
    try:
        outcome = call(design, lambda: deployment.start_update().wait_for_result())
    except DSSApiError as e:
        return f"{p.key} could not be rolled back: the update to bundle {p.current_bundle} failed: {e}"
    if isinstance(outcome, dict) and outcome.get("error"):
        return f"{p.key} could not be rolled back: the update to bundle {p.current_bundle} failed: {_messages(outcome)}"
    return f"rolled {p.key} back to bundle {p.current_bundle}"


def _promote_one(design: Connection, deployer: DSSProjectDeployer, p: ProjectPromotion, plan: PromotionPlan,
                 say: Progress) -> tuple[str, list[str], dict[str, Any] | None]:
    """Deploy one project; -> its health, the messages that explain it, and its settings before (None: it is new)."""
    raw = deployment_settings(design, deployer, p.deployment_id)
    if (raw is not None) != p.deployment_exists or (raw is not None and raw.get("bundleId") != p.current_bundle):
        raise StalePlanError(f"the promotion plan is stale: deployment {p.deployment_id} changed since it was made "
                             "(another promotion?); plan again")
    project = design.client.get_project(p.design_key)
    if p.bundle_state == NEW:
        say(f"{p.key}: exporting bundle {p.bundle_id} from {p.design_key} on {plan.from_env}")
        notes = f"dss-iac promote {plan.from_env} -> {plan.to_env}" + (f", commit {plan.commit}" if plan.commit else "")
        call(design, lambda: project.export_bundle(p.bundle_id, release_notes=notes))
    if p.bundle_state in (NEW, EXPORTED):
        if published_bundles(design, deployer, p.published_key) is None:
            say(f"{p.key}: creating published project {p.published_key} on the Project Deployer")
            call(design, lambda: deployer.create_project(p.published_key))
        say(f"{p.key}: publishing bundle {p.bundle_id} to the Project Deployer")
        call(design, lambda: project.publish_bundle(p.bundle_id, published_project_key=p.published_key))
    deployment = deployer.get_deployment(p.deployment_id)
    # WARN: DSS asks to confirm deploying an unapproved bundle; the plan showed its status and was approved.
    confirmed = plan.govern_policy == "WARN"
    if raw is None:
        say(f"{p.key}: creating deployment {p.deployment_id} on infrastructure {p.infra}")
        call(design, lambda: deployer.create_deployment(p.deployment_id, p.published_key, p.infra, p.bundle_id,
                                                        deployed_project_key=p.deployed_key,
                                                        ignore_warnings=confirmed))
    settings = call(design, deployment.get_settings)
    previous = copy.deepcopy(settings.get_raw())
    write_settings(settings.get_raw(), p.settings)
    say(f"{p.key}: saving the settings of deployment {p.deployment_id}")
    call(design, lambda: settings.save(ignore_warnings=confirmed))
    say(f"{p.key}: updating deployment {p.deployment_id} (bundle {p.bundle_id} on {plan.to_env})")
    try:
        outcome = call(design, lambda: deployment.start_update().wait_for_result())
    except DSSApiError as e:
        restored = _restore(design, deployment, previous if raw is not None else None)
        raise PromotionError(_failed(p, plan, str(e)) + restored) from None
    if isinstance(outcome, dict) and outcome.get("error"):
        restored = _restore(design, deployment, previous if raw is not None else None)
        raise PromotionError(_failed(p, plan, _messages(outcome)) + restored)
    health, messages = deployment_health(design, deployer, p.deployment_id)
    if health not in HEALTHY:
        raise PromotionError(_failed(p, plan, f"deployment health is {health}" +
                                     (f": {'; '.join(messages)}" if messages else "")))
    return health, messages, previous if raw is not None else None


def _restore(design: Connection, deployment: Any, previous: dict[str, Any] | None) -> str:
    """Put the settings back as they were before this promotion (a new deployment has nothing to go back to).
    -> "" or why that failed, to add to the error (the update's failure is what matters)."""
    if previous is None:
        return ""
    try:
        settings = call(design, deployment.get_settings)
        raw = settings.get_raw()
        raw.clear()
        raw.update(previous)
        call(design, lambda: settings.save(ignore_warnings=True))  # what ran before: no confirmation to ask
    except DSSApiError as e:
        return f" (and its previous settings could not be restored: {e})"
    return ""


def _messages(outcome: dict[str, Any]) -> str:
    msgs = outcome.get("messages") or []
    return "; ".join(f"{m.get('code', '')}: {m.get('title') or m.get('message', '')}" for m in msgs
                     if m.get("severity") == "ERROR") or "the update reported an error"


def _failed(p: ProjectPromotion, plan: PromotionPlan, dss_message: str) -> str:
    message = _ERROR_TYPE.sub("", dss_message.strip().splitlines()[0] if dss_message.strip() else dss_message)
    where = f"the deployment stays on bundle {p.current_bundle}" if p.current_bundle else "nothing was deployed before"
    return (f"promoting project {p.key} to {plan.to_env} failed: bundle {p.bundle_id} was not activated "
            f"({where}): {message}")
