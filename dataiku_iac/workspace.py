"""`Workspace`: the public Python API that the CLI, the terminal app and the notebook all use.

    ws = Workspace.load("path/to/repo")
    plan = ws.plan("dev")
    result = ws.apply(plan, progress=print)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .apply.applier import ApplyResult, Progress, apply_plan
from .apply.recorder import StateRecorder
from .config.loader import WorkspaceConfig, load_workspace
from .config.models import Environment
from .drift import DriftReport
from .dss.connect import Connection, open_connection
from .errors import ApprovalError, ConfigError, StalePlanError
from .plan.model import ActionType, Plan
from .plan.planner import DEFAULT_PARALLELISM, make_plan
from .resources import Address, EnvContext, build_desired
from .state.local import LocalBackend, whoami
from .state.model import State


class Workspace:
    def __init__(self, config: WorkspaceConfig) -> None:
        self.config = config
        self._connections: dict[str, Connection] = {}

    @classmethod
    def load(cls, path: str | Path = ".") -> Workspace:
        return cls(load_workspace(Path(path)))

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def environments(self) -> list[str]:
        return list(self.config.spec.environments)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    # -- configuration --------------------------------------------------------------------------
    def validate(self, env: str | None = None) -> None:
        """Raise ConfigError when the workspace (or the given environment's settings) is invalid."""
        for name in [env] if env else []:
            self.environment(name)

    def environment(self, name: str) -> Environment:
        return self.config.environment(name)

    def env_context(self, name: str) -> EnvContext:
        env = self.environment(name)
        return EnvContext(name, dict(env.remap.connections), dict(env.remap.code_envs), dict(env.variables))

    def connection(self, name: str) -> Connection:
        if name not in self._connections:
            conn = open_connection(self.root, name, self.environment(name))
            conn.check()
            self._connections[name] = conn
        return self._connections[name]

    # -- state -------------------------------------------------------------------------------------
    @property
    def backend(self) -> LocalBackend:
        return LocalBackend(self.root / self.config.spec.state.path)

    def state(self, env: str) -> State:
        self.environment(env)
        return self.backend.load(env)

    # -- plan, apply, drift ---------------------------------------------------------------------------
    def plan(self, env: str, *, targets: Iterable[str | Address] = (), destroy: bool = False,
             parallelism: int = DEFAULT_PARALLELISM, progress: Any = None) -> Plan:
        addresses = tuple(_address(t) for t in targets)
        desired = build_desired(self.config, self.env_context(env))
        plan, _ = make_plan(environment=env, desired=desired, state=self.state(env), conn=self.connection(env),
                            config_digest=self.config.digest, targets=addresses, destroy=destroy,
                            parallelism=parallelism, progress=progress)
        return plan

    def apply(self, plan: Plan, *, progress: Progress | None = None, parallelism: int = DEFAULT_PARALLELISM,
              allow_delete: bool = False) -> ApplyResult:
        env = plan.environment
        self.check_protected(plan, allow_delete)
        backend = self.backend
        lock = backend.lock(env, "apply")
        try:
            state = backend.load(env)
            self._check_fresh(plan, state)
            if state.serial == 0:
                state.lineage = plan.state_lineage or state.lineage
            recorder = StateRecorder(backend, state, whoami())
            depends = {k: list(v.depends_on) for k, v in state.resources.items()}
            return apply_plan(plan, self.connection(env), recorder, parallelism=parallelism, progress=progress,
                              state_depends=depends)
        finally:
            backend.unlock(env, lock.id)

    def check_protected(self, plan: Plan, allow_delete: bool) -> None:
        if allow_delete or not self.environment(plan.environment).protected:
            return
        risky = [a.address for a in plan.changes if a.action in (ActionType.DELETE, ActionType.REPLACE)
                 and not a.reason.startswith("already gone")]
        if risky:
            shown = ", ".join(risky[:3]) + (f" and {len(risky) - 3} more" if len(risky) > 3 else "")
            raise ApprovalError(f"environment {plan.environment} is protected and the plan deletes or replaces "
                                f"{len(risky)} resource(s) ({shown}); review it and pass --allow-delete")

    def _check_fresh(self, plan: Plan, state: State) -> None:
        if plan.config_digest != self.config.digest:
            raise StalePlanError("the plan is stale: the configuration changed since it was made; plan again")
        fresh_state = state.serial == 0 and plan.state_serial == 0
        if not fresh_state and (plan.state_lineage != state.lineage or plan.state_serial != state.serial):
            raise StalePlanError(
                f"the plan is stale: it was made against state serial {plan.state_serial} of lineage "
                f"{plan.state_lineage}, the state is now serial {state.serial} of {state.lineage}; plan again")

    def drift(self, env: str, *, parallelism: int = DEFAULT_PARALLELISM) -> DriftReport:
        return DriftReport.from_plan(self.plan(env, parallelism=parallelism))


def _address(target: str | Address) -> Address:
    if isinstance(target, Address):
        return target
    try:
        return Address.parse(target)
    except ValueError as e:
        raise ConfigError(str(e)) from None
