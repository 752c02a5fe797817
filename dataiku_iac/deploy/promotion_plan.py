"""The promotion plan: for each project, the bundle, what it changes in the target project, and the deployment
settings that change, made before anything is exported, published or deployed.

    plan = plan_promotion(ws, "dev", "prod")
    print(render_promotion(plan)); plan.to_dict()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._text import brief
from ..config.environment_view import view
from ..errors import DssIacError
from ..govern import Approval
from ..instance_check import Need, check_needs, needs_of, planned
from ..plan.diff import FieldChange
from ..plan.graph import topo_order
from ..plan.model import Action, ActionType
from ..resources import Address, Desired, build_desired
from ..resources.address import split_ref
from ..resources.scenario import scenarios_of
from ..secrets import mask
from . import content, governance
from .bundle_id import BundleId, bundle_id_for, commit_of
from .deployer import (
    HEALTHY,
    absent,
    deployment_health,
    deployment_settings,
    exported_bundles,
    open_deployer,
    published_bundles,
    resolve_infra,
)
from .errors import PromotionError
from .settings import managed_settings, settings_changes
from .targets import BUNDLE, DIRECT, Remap, deployment_id, local_variables, remapping

if TYPE_CHECKING:
    from dataikuapi.dss.projectdeployer import DSSProjectDeployer

    from ..config.loader import ProjectSource, WorkspaceConfig
    from ..dss.connect import Connection
    from ..resources import EnvContext
    from ..workspace import Workspace

PROMOTION_FORMAT_VERSION = 1
# What happens to the bundle: exported and published, only published, or already on the deployer.
NEW, EXPORTED, PUBLISHED = "new", "exported", "published"


@dataclass(frozen=True)
class ProjectPromotion:
    key: str  # the project key in the configuration
    design_key: str  # ... in the design environment (the bundle is exported from it)
    published_key: str  # ... on the Project Deployer
    deployed_key: str  # ... on the automation node
    deployment_id: str
    infra: str
    bundle_id: str
    bundle_state: str  # new | exported | published
    deployment_exists: bool
    current_bundle: str | None  # the bundle the deployment is set to now
    health: str | None
    health_messages: tuple[str, ...]
    remapping: tuple[Remap, ...]
    settings: Mapping[str, Any]  # the managed deployment settings to write (settings.managed_settings)
    settings_changes: tuple[FieldChange, ...]
    content: tuple[Action, ...] | None  # None: not compared (content_note says why)
    content_note: str
    update: bool
    reason: str
    warnings: tuple[str, ...] = ()
    # The connections and code envs the deployed project names on the target node (checked before promoting).
    needs: tuple[Need, ...] = field(default=(), compare=False, repr=False)
    tests: tuple[str, ...] = ()  # with --verify: the tests run on the target after the update
    # What Govern says of the bundle, when the environment is gated or its infrastructure checks governance.
    approval: Approval | None = None

    @property
    def content_changes(self) -> list[Action]:
        return [a for a in self.content or () if a.action is not ActionType.NOOP]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.key, "design_project_key": self.design_key, "published_project_key": self.published_key,
            "deployed_project_key": self.deployed_key, "deployment_id": self.deployment_id, "infra": self.infra,
            "bundle": {"id": self.bundle_id, "state": self.bundle_state},
            "deployment": {"exists": self.deployment_exists, "bundle_id": self.current_bundle,
                           "health": self.health, "health_messages": list(self.health_messages)},
            "remapping": [r.to_dict() for r in self.remapping],
            "settings": mask(dict(self.settings)),
            "settings_changes": [c.to_dict() for c in self.settings_changes],
            "content": None if self.content is None else [a.to_dict() for a in self.content_changes],
            "content_note": self.content_note,
            "update": self.update, "reason": self.reason, "warnings": list(self.warnings),
            "tests": list(self.tests),
            "approval": None if self.approval is None else self.approval.to_dict(),
        }


@dataclass(frozen=True)
class PromotionPlan:
    from_env: str
    to_env: str
    bundle_id: str
    commit: str | None  # the commit the bundle is made from (None: a timestamp id, or an earlier bundle)
    rollback: bool  # --bundle: redeploy a bundle already published
    projects: tuple[ProjectPromotion, ...]
    verify: bool = False  # run the target's tests after the update, and roll back if they fail
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    format_version: int = PROMOTION_FORMAT_VERSION
    infra: str = ""  # the target environment's deployer infrastructure
    infra_changes: tuple[FieldChange, ...] = ()  # its settings the environment manages (the Govern check policy)
    govern_policy: str = "NO_CHECK"  # the infrastructure's Govern check policy, once promoted
    gate_reason: str | None = None  # why the promotion waits for Govern approvals; None: it does not
    # What promote applies first on the target: its instance file's connections, code envs, groups... (changes)
    instance_changes: tuple[Action, ...] = ()

    @property
    def has_changes(self) -> bool:
        return any(p.update for p in self.projects) or bool(self.infra_changes) or bool(self.instance_changes)

    @property
    def gated(self) -> bool:
        """The promotion deploys bundles that need a Govern approval first."""
        return self.gate_reason is not None and any(p.update for p in self.projects)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version, "from": self.from_env, "to": self.to_env,
            "bundle_id": self.bundle_id, "commit": self.commit, "rollback": self.rollback, "verify": self.verify,
            "created_at": self.created_at, "has_changes": self.has_changes,
            "summary": {"deploy": sum(p.update for p in self.projects),
                        "unchanged": sum(not p.update for p in self.projects)},
            "infra": {"id": self.infra, "govern_check_policy": self.govern_policy,
                      "changes": [c.to_dict() for c in self.infra_changes]},
            "approval_required": self.gate_reason,
            "instance": [a.to_dict() for a in self.instance_changes],
            "projects": [p.to_dict() for p in self.projects],
        }


def plan_promotion(ws: Workspace, from_env: str, to_env: str, projects: Iterable[str] = (),
                   bundle: str | None = None, verify: bool = False) -> PromotionPlan:
    """What `promote` would do; reads DSS and Git, changes nothing. `bundle` redeploys a published bundle; `verify`
    lists the tests run on the target after the update (a failure rolls back)."""
    source_env, target_env = ws.environment(from_env), ws.environment(to_env)
    if from_env == to_env:
        raise PromotionError(f"cannot promote environment {from_env} to itself")
    if source_env.deploy != DIRECT:
        raise PromotionError(f"environment {from_env} has deploy: {source_env.deploy}: promote --from needs a "
                             "direct environment on a design node (where dss-iac apply builds the project)")
    if target_env.deploy != BUNDLE:
        raise PromotionError(f"environment {to_env} has deploy: {target_env.deploy}: set deploy: bundle to "
                             f"promote to it, or use dss-iac apply -e {to_env}")
    selected = _select(ws.config, projects)
    ref = BundleId(bundle, None) if bundle is not None else bundle_id_for(ws.config)
    design, target = ws.connection(from_env), ws.connection(to_env)
    deployer = open_deployer(design)
    infra = resolve_infra(design, deployer, to_env, target_env)
    ctx = _Context(ws, from_env, to_env, design, target, deployer, infra, ref.id, rollback=bundle is not None)
    planned = tuple(ctx.project(source) for source in selected)
    if verify:
        planned = tuple(replace(p, tests=verify_tests(ws, to_env, p.key)) if p.update else p for p in planned)
    current = governance.infra_settings(design, deployer, infra)
    policy = governance.effective_policy(current, target_env)
    plan = PromotionPlan(from_env, to_env, ref.id, ref.commit, bundle is not None, planned, verify, infra=infra,
                         infra_changes=governance.policy_changes(current, target_env), govern_policy=policy,
                         gate_reason=governance.gate_reason(target_env, infra, policy),
                         instance_changes=instance_changes(ws, to_env))
    unchecked = check_target(ws, plan)
    if unchecked:
        plan = replace(plan, projects=tuple(replace(p, warnings=(*p.warnings, *unchecked)) if p.update else p
                                            for p in plan.projects))
    return _with_approvals(ws, plan)


def _with_approvals(ws: Workspace, plan: PromotionPlan) -> PromotionPlan:
    """Each deployed bundle's status in Govern, when the environment waits for it or its infrastructure checks it."""
    gate = governance.promotion_gate(ws, plan)
    if gate is None:
        return plan
    found = iter(gate.approvals)  # one per project deployed, in order
    return replace(plan, projects=tuple(replace(p, approval=next(found)) if p.update else p for p in plan.projects))


def verify_tests(ws: Workspace, env: str, key: str) -> tuple[str, ...]:
    """The tests `--verify` runs for project `key` on `env`, as the plan lists them."""
    from ..testing.live import env_projects, test_scenarios

    projects = [p for p in env_projects(ws, env) if p.key == key]
    out = [f"scenario {p.physical}.{name}" for p, name in test_scenarios(ws, projects)]
    for p in projects:
        out += [f"data tests of {p.physical}.{name} ({', '.join(t.test_name for t in ds.tests)})"
                for name, ds in sorted(p.source.spec.datasets.items()) if ds.tests]
    return tuple(out)


def instance_changes(ws: Workspace, env: str) -> tuple[Action, ...]:
    """The changes of env's instance resources (its instance file) that promote applies before the bundles."""
    addresses = ws.instance_addresses(env)
    if not addresses:
        return ()
    return tuple(ws.plan(env, targets=addresses, check_instance=False).changes)


def check_target(ws: Workspace, plan: PromotionPlan) -> tuple[str, ...]:
    """Refuse (ConfigError, located in the project files) a promotion whose target node lacks a connection or code
    env the deployed projects name, or has one of the wrong type; -> what could not be checked. The same check as
    `validate -e`, for the projects that will be deployed."""
    needs = [n for p in plan.projects if p.update for n in p.needs]
    if not needs:
        return ()
    # What the target's instance file declares is applied first by promote (see promote.apply_instance).
    checked = check_needs(ws.connection(plan.to_env), plan.to_env, needs, planned(ws, plan.to_env))
    checked.refuse()
    return tuple(f"{what} of {plan.to_env} not checked: activation will say if one is missing"
                 for what in checked.unchecked)


def _select(config: WorkspaceConfig, keys: Iterable[str]) -> list[ProjectSource]:
    keys = list(dict.fromkeys(keys))
    unknown = [k for k in keys if k not in config.projects]
    if unknown:
        raise PromotionError(f"no project {', '.join(unknown)} in the workspace (projects: "
                             f"{', '.join(sorted(config.projects)) or 'none'})")
    chosen = keys or sorted(config.projects)
    if not chosen:
        raise PromotionError("the workspace declares no project to promote")
    # A project that reads another's datasets goes after it: the first failure stops the promotion.
    reads = {k: {split_ref(ref, k)[0] for r in config.projects[k].spec.recipes.values() for ref in r.inputs} - {k}
             for k in chosen}
    return [config.projects[k] for k in topo_order(chosen, reads)]


@dataclass(frozen=True)
class _Sides:
    """The project as each environment sees it (keys, overrides), and the design side's environment context."""

    from_view: ProjectSource
    to_view: ProjectSource
    from_ctx: EnvContext
    source: ProjectSource  # the project file as written (logical names), now or at the rollback's commit
    desired: Mapping[Address, Desired] | None = None  # rollback: the design objects as configured then
    note: str = ""


class _Context:
    """What planning every project shares: the connections, the deployer, the infra and the bundle id."""

    def __init__(self, ws: Workspace, from_env: str, to_env: str, design: Connection, target: Connection,
                 deployer: DSSProjectDeployer, infra: str, bundle_id: str, *, rollback: bool) -> None:
        self.ws, self.from_env, self.to_env = ws, from_env, to_env
        self.design, self.target, self.deployer, self.infra = design, target, deployer, infra
        self.bundle_id, self.rollback = bundle_id, rollback
        self.to_ctx = ws.env_context(to_env)

    def project(self, source: ProjectSource) -> ProjectPromotion:
        key = source.key
        sides = self._then(source) if self.rollback else self._now(source)
        design_key, deployed_key = sides.from_view.key, sides.to_view.key
        dep_id = deployment_id(key, self.to_env)
        if absent(self.design, self.design.client.get_project(design_key).get_metadata) is None and not self.rollback:
            raise PromotionError(f"project {design_key} does not exist in environment {self.from_env}: apply it "
                                 f"first (dss-iac apply -e {self.from_env})")
        published = published_bundles(self.design, self.deployer, key) or []
        state = self._bundle_state(key, design_key, published)
        raw = deployment_settings(self.design, self.deployer, dep_id)
        if raw is not None and (raw.get("infraId") != self.infra or raw.get("publishedProjectKey") != key):
            raise PromotionError(f"deployment {dep_id} deploys {raw.get('publishedProjectKey')} on infrastructure "
                                 f"{raw.get('infraId')}, not {key} on {self.infra}: delete it in the Project Deployer "
                                 "or point the environment at its infrastructure")
        health, messages = deployment_health(self.design, self.deployer, dep_id) if raw else (None, [])

        remaps = remapping(sides.from_view, sides.to_view, sides.from_ctx, self.to_ctx)
        scenarios = self._scenarios(sides.to_view, design_key)
        managed = managed_settings(infra=self.infra, bundle_id=self.bundle_id, deployed_key=deployed_key,
                                   remaps=remaps, local_variables=local_variables(sides.to_view, self.to_ctx),
                                   scenarios=scenarios)
        changes = tuple(settings_changes(raw, managed))

        current = content.read_objects(self.target, deployed_key)
        bundle_objects: content.Objects | None = None
        if not self.rollback:
            bundle_objects = content.read_objects(self.design, design_key) or {}
        elif sides.desired is not None:
            bundle_objects = content.desired_objects(sides.desired, design_key)
        actions: tuple[Action, ...] | None = None
        if bundle_objects is not None:
            activated = content.as_activated(bundle_objects, remaps, current, scenarios)
            actions = tuple(content.compare(activated, current, deployed_key, self.to_env,
                                            partial=sides.desired is not None))
        promotion = ProjectPromotion(
            key=key, design_key=design_key, published_key=key, deployed_key=deployed_key, deployment_id=dep_id,
            infra=self.infra, bundle_id=self.bundle_id, bundle_state=state, deployment_exists=raw is not None,
            current_bundle=None if raw is None else raw.get("bundleId"), health=health,
            health_messages=tuple(messages), remapping=tuple(remaps), settings=managed, settings_changes=changes,
            content=actions, content_note=sides.note, update=False, reason="",
            needs=tuple(needs_of(sides.source, sides.to_view, self.ws.environment(self.to_env))))
        return _decided(promotion, current is not None)

    def _bundle_state(self, key: str, design_key: str, published: list[str]) -> str:
        if self.rollback:
            if self.bundle_id not in published:
                shown = ", ".join(published) if published else "none"
                raise PromotionError(f"bundle {self.bundle_id} is not published for project {key} on the "
                                     f"Project Deployer of {self.from_env} (published bundles: {shown})")
            return PUBLISHED
        if self.bundle_id in published:
            return PUBLISHED
        if self.bundle_id in exported_bundles(self.design, design_key):
            return EXPORTED
        self._check_design_matches(design_key)
        return NEW

    def _check_design_matches(self, design_key: str) -> None:
        """A new bundle is named after the commit: the design project must hold that commit's configuration."""
        plan = self.ws.plan(self.from_env, targets=[Address("project", design_key)])
        if plan.has_changes:
            shown = brief([str(a.address) for a in plan.changes])
            raise PromotionError(f"project {design_key} in environment {self.from_env} does not match the "
                                 f"configuration ({shown} would change): apply it first (dss-iac apply -e "
                                 f"{self.from_env}), so that bundle {self.bundle_id} holds this configuration")

    def _now(self, source: ProjectSource) -> _Sides:
        config = self.ws.config
        keys = list(config.projects)
        from_env, to_env = self.ws.environment(self.from_env), self.ws.environment(self.to_env)
        return _Sides(view(source, self.from_env, from_env, config.file, keys),
                      view(source, self.to_env, to_env, config.file, keys), self.ws.env_context(self.from_env), source)

    def _then(self, source: ProjectSource) -> _Sides:
        """The project as configured at the rollback bundle's commit (with the design environment of then, which
        made the bundle, and the target environment of now, which receives it)."""
        from ..config.git_source import load_workspace_at
        from ..workspace import Workspace

        sha = commit_of(self.bundle_id)
        if sha is None:
            return replace(self._now(source), note="an earlier bundle not made from a commit: content not compared")
        try:
            config = load_workspace_at(self.ws.root, sha)
            then_source = config.projects.get(source.key)
            if then_source is None or self.from_env not in config.spec.environments:
                raise DssIacError(f"project {source.key} or environment {self.from_env} is not in it")
            then = Workspace(config)
            keys = list(config.projects)
            ctx = then.env_context(self.from_env)
            return _Sides(view(then_source, self.from_env, then.environment(self.from_env), config.file, keys),
                          view(then_source, self.to_env, self.ws.environment(self.to_env), config.file, keys), ctx,
                          then_source, build_desired(config, ctx), f"content as configured at commit {sha}")
        except DssIacError as e:
            return replace(self._now(source), note=f"the configuration at commit {sha} cannot be read ({e}): content "
                                                   "not compared")

    def _scenarios(self, to_view: ProjectSource, design_key: str) -> dict[str, bool]:
        """scenario id -> active, for every scenario of the project, as configured for the target environment."""
        if not scenarios_of(to_view.spec):
            return {}
        ids = _scenario_ids(self.design, design_key)
        return {ids.get(content.scenario_key(name), content.scenario_key(name)): bool(scenario.active)
                for name, scenario in scenarios_of(to_view.spec).items()}


def _scenario_ids(conn: Connection, project_key: str) -> dict[str, str]:
    """Scenario ids of the design project by the key dss-iac matches them on (see resources.scenario._find)."""
    items = absent(conn, lambda: [dict(s) for s in conn.client.get_project(project_key).list_scenarios()])
    out: dict[str, str] = {}
    for item in items or []:
        out.setdefault(content.scenario_key(str(item["id"])), str(item["id"]))
    return out


def _decided(p: ProjectPromotion, deployed: bool) -> ProjectPromotion:
    """Whether the deployment needs an update, and why."""
    why: list[str] = []
    if not p.deployment_exists:
        why.append(f"no deployment {p.deployment_id} yet")
    elif any(c.path == "bundleId" for c in p.settings_changes):
        why.append(f"bundle {p.current_bundle} -> {p.bundle_id}")
    if p.deployment_exists and any(c.path != "bundleId" for c in p.settings_changes):
        why.append("deployment settings change")
    if p.deployment_exists and p.health not in HEALTHY:
        why.append(f"deployment health is {p.health}")
    if p.deployment_exists and not deployed:
        why.append(f"project {p.deployed_key} is missing on the automation node")
    elif p.content_changes and not why:
        why.append("the automation project differs from the bundle")
    reason = "; ".join(why) or f"up to date: runs bundle {p.bundle_id}"
    return replace(p, update=bool(why), reason=reason)

