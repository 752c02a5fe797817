"""The app's one door to the core: every call here may block (DSS, state, Git) and runs in a thread worker.

Only the public API is used: `Workspace` and what it returns (plans, drift reports, state, stores).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dataiku_iac import (
    KINDS,
    Address,
    AdoptEdit,
    ApplyResult,
    DriftItem,
    DriftReport,
    Gate,
    Plan,
    ProgressEvent,
    Workspace,
    WorkspaceConfig,
    WorkspaceSettings,
    redact_url,
)

from .view import is_instance

PLANNED_CONFIGS = 8


@dataclass(frozen=True)
class LockInfo:
    who: str
    operation: str
    started: str  # ISO timestamp


@dataclass(frozen=True)
class EnvStatus:
    """What the overview shows of one environment, read from the state alone (no DSS call)."""

    name: str
    host: str
    protected: bool
    serial: int
    who: str
    when: str
    lock: LockInfo | None
    managed: dict[str, int] = field(default_factory=dict)  # physical project key -> resources in state
    keys: dict[str, str] = field(default_factory=dict)  # project key in the files -> key in this environment
    deploy: str = "direct"  # `bundle`: projects arrive by promotion, never by apply
    instance: str | None = None  # its instance file (connections, groups, users...), None when it names none
    instance_managed: int = 0  # instance objects in the state
    instance_declared: int = 0  # instance objects its instance file declares
    files_read: bool = True  # False: read before the project files loaded (`keys`, `instance_declared` unknown yet)


@dataclass(frozen=True)
class Commit:
    sha: str
    when: str
    author: str
    summary: str


class Service:
    """Holds the workspace; safe to call from several worker threads at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ws: Workspace | None = None
        self._lock = threading.RLock()
        # One load at a time: two screens asking at once share it instead of each parsing every file. Never
        # taken while holding `_lock` (a load takes `_lock` at its end).
        self._loading = threading.Lock()
        self._env_locks: dict[str, threading.Lock] = {}
        # The configuration each recent plan was made from, by digest: what changed when one is refused.
        self._planned_from: dict[str, WorkspaceConfig] = {}
        self._plans: dict[str, Plan] = {}  # the last plan of each environment: what the project flow is coloured by

    # -- the workspace ------------------------------------------------------------------------------
    @property
    def ws(self) -> Workspace:
        with self._lock:
            if self._ws is not None:
                return self._ws
        return self.reload()

    def settings(self) -> WorkspaceSettings:
        """dss-iac.yaml alone (environments, states), read in milliseconds however many projects the files hold."""
        return WorkspaceSettings.load(self.path)

    def reload(self, *, force: bool = False) -> Workspace:
        """Read the files again, unless they are the very texts already loaded (`force`: read them anyway).
        Connections stay open unless the environments themselves changed."""
        with self._loading:
            with self._lock:
                current = self._ws
            if current is not None and not force and not current.files_changed():
                return current
            return self._replace(Workspace.load(self.path))

    def _replace(self, fresh: Workspace) -> Workspace:
        with self._lock:
            old = self._ws
            if old is not None and old.config.raw.get("environments") == fresh.config.raw.get("environments"):
                old.config = fresh.config
                return old
            if old is not None:
                old.close()
            self._ws = fresh
            return fresh

    @property
    def loaded(self) -> bool:
        """The workspace loaded once: its last valid configuration can still be read when the files break."""
        return self._ws is not None

    def close(self) -> None:
        with self._lock:
            if self._ws is not None:
                self._ws.close()
                self._ws = None

    @property
    def name(self) -> str:
        return self.ws.root.name

    def environments(self) -> list[str]:
        return self.ws.environments

    def uses_embedded(self) -> bool:
        try:
            return any(e.host == "embedded" for e in self.ws.config.spec.environments.values())
        except Exception:  # the workspace does not load: the screen shows why
            return False

    def embedded_info(self) -> str:
        """The embedded DSS's node URLs and API key, as `dss-iac sim info` prints them (started if need be)."""
        ws = self.ws  # loaded (or waited for) before taking the lock, which the load needs at its end
        with self._lock:
            return ws.embedded().describe()

    def projects(self) -> list[str]:
        return sorted(self.ws.config.projects)

    def declared(self) -> dict[str, int]:
        """Resources each project file declares (project, its variables and permissions, its objects)."""
        out: dict[str, int] = {}
        for key, src in self.ws.config.projects.items():
            out[key] = sum(len(kind.declared(src.spec)) for kind in KINDS.values())
        return out

    def source_of(self, env: str, address: str) -> str:
        """Where the resource is declared, as `file:line:col` (in memory: no I/O); "" when unknown."""
        kind, physical, *rest = address.split(".")
        if is_instance(address):
            return self._instance_source(env, Address.parse(address))
        try:
            pattern = self.ws.environment(env).project_key
        except Exception:  # an environment that does not resolve: no position to show
            return ""
        for src in self.ws.config.projects.values():
            if pattern.format(key=src.key) != physical:
                continue
            collection = KINDS[kind].collection if kind in KINDS else None
            loc: tuple[str, ...] = (collection, rest[0]) if collection is not None and rest else ("project",)
            try:
                return str(src.file.position(loc, at_key=True))
            except Exception:  # a Python-DSL project has no YAML position
                return src.file.shown
        return ""

    def adopt_target(self, env: str, address: str) -> str:
        """Where adopting the drift of `address` writes: the instance file of `env` for an instance object (as
        the user knows it: `instance/dev.yaml`), "the YAML" otherwise."""
        instance = self.ws.config.spec.environments[env].instance if env in self.ws.config.spec.environments else None
        return instance if is_instance(address) and instance else "the YAML"

    def _instance_source(self, env: str, address: Address) -> str:
        """Where an instance object is declared in the environment's instance file; "" when it is not."""
        try:
            path = self.ws.instance_file(env)
        except Exception:  # no instance file: no position to show
            return ""
        source = next(s for s in self.ws.config.instances.values() if s.file.path == path)
        kind = KINDS[address.kind]
        try:
            return str(source.file.position(kind.config_path(address.name), at_key=True))
        except Exception:  # in the state, no longer in the file
            return source.file.shown

    def _connect(self, env: str) -> Workspace:
        """Open the environment's connection under a lock: two workers must never start two embedded DSS."""
        ws = self.ws
        with self._lock:
            env_lock = self._env_locks.setdefault(env, threading.Lock())
            if ws.environment(env).host == "embedded":
                ws.embedded()
        with env_lock:
            ws.connection(env)
        return ws

    # -- reads ---------------------------------------------------------------------------------------
    def status(self, env: str, settings: WorkspaceSettings | None = None) -> EnvStatus:
        """What the state of `env` says; from `settings` (the project files not loaded yet), without `keys`."""
        source: Workspace | WorkspaceSettings = settings or self.ws
        e = source.environment(env)
        store = source.state_store(env)
        state = store.read()
        holder = store.leases.holder()
        lock = None
        if holder is not None and not holder.expired:
            lock = LockInfo(holder.who, holder.operation, holder.started)
        addresses = list(state.resources if state else {})
        instance = sum(1 for a in addresses if is_instance(a))
        managed = Counter(addr.split(".")[1] for addr in addresses if not is_instance(addr))
        host = redact_url(e.host)  # a URL's credentials are never shown
        serial, who, when = (state.serial, state.updated_by, state.updated_at) if state is not None else (0, "", "")
        status = EnvStatus(env, host, e.protected, serial, who, when, lock, dict(managed), {}, e.deploy,
                           instance=e.instance, instance_managed=instance, files_read=False)
        return status if settings is not None else self.with_files(status)

    def with_files(self, status: EnvStatus) -> EnvStatus:
        """`status` completed with what the project and instance files say (each project's key in the environment,
        the instance objects declared)."""
        ws = self.ws
        e = ws.environment(status.name)
        has_file = e.instance is not None and e.instance in ws.config.instances
        declared = len(ws.instance_objects(status.name)) if has_file else 0
        return replace(status, keys={k: e.project_key.format(key=k) for k in ws.config.projects},
                       instance_declared=declared, files_read=True)

    def read_from(self, settings: WorkspaceSettings) -> bool:
        """Whether the workspace loaded now has the very environments and states `settings` read."""
        return settings.read_from(self.ws.config)

    def plan(self, env: str, targets: Iterable[str] = ()) -> Plan:
        """A plan of the configuration as last loaded (`reload` first to see the files as they are now)."""
        ws = self._connect(env)
        ws.recover(env)
        config = ws.config
        plan = ws.plan(env, targets=list(targets))
        with self._lock:
            self._planned_from[plan.config_digest] = config
            while len(self._planned_from) > PLANNED_CONFIGS:
                del self._planned_from[next(iter(self._planned_from))]
            self._plans[env] = plan
        return plan

    def changed_files(self, plan: Plan) -> list[str]:
        """The files (and recipe code) that differ between the configuration `plan` was made from and the one
        loaded now; empty when unknown."""
        before = self._planned_from.get(plan.config_digest)
        if before is None:
            return []
        old, new = _sources(before), _sources(self.ws.config)
        return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))

    def drift(self, env: str) -> tuple[Plan, DriftReport]:
        """The plan and the drift it shows (one read of DSS for both)."""
        ws = self._connect(env)
        plan = ws.plan(env, check_instance=False)  # a report: a connection missing in DSS is no reason to refuse it
        self._plans[env] = plan
        return plan, DriftReport.from_plan(plan)

    def flow_lines(self, env: str, address: str) -> list[str]:
        """The flow of the project at `address` (its key in `env`) as text, coloured by the last plan of `env`;
        no DSS call. Empty when the project is not in the files."""
        kind, physical = address.split(".")[:2]
        ws = self.ws
        plan = self._plans.get(env)
        for key in ws.config.projects:
            if kind == "project" and self.status_key(env, key) == physical:
                return ws.flow(key, plan=plan if plan is not None and plan.environment == env else None).lines()
        return []

    def status_key(self, env: str, key: str) -> str:
        """A project's key in environment `env` (its key in the files when the environment does not resolve)."""
        try:
            return self.ws.environment(env).project_key.format(key=key)
        except Exception:  # an environment that does not resolve: the files' key
            return key

    def apply(self, plan: Plan, progress: Callable[[ProgressEvent], None], allow_delete: bool) -> ApplyResult:
        """Apply exactly `plan`, or nothing: as `dss-iac apply PLANFILE`, the core refuses it (StalePlanError) if
        the files, the state or the objects it read in DSS moved since it was made. The files are read again
        first, so a configuration that no longer loads refuses it too (with the located ConfigError)."""
        self.reload(force=True)
        ws = self._connect(plan.environment)
        return ws.apply(plan, progress=progress, allow_delete=allow_delete, verify_remote=True)

    def needs_signoff(self, env: str) -> bool:
        """Plans of `env` are applied only once Govern approves them (`approval: govern`)."""
        spec = self.ws.config.spec.environments.get(env)
        return spec is not None and spec.approval is not None

    def gate(self, plan: Plan) -> Gate | None:
        """What Govern says of `plan` now (None: no sign-off needed)."""
        self._connect(plan.environment)
        return self.ws.approval_gate(plan)

    def request_signoff(self, plan: Plan) -> Gate | None:
        """Open the Govern request of `plan`, unless it has one (idempotent)."""
        self._connect(plan.environment)
        return self.ws.request_approval(plan)

    def is_bundle(self, env: str) -> bool:
        """Projects reach `env` by promotion only (`deploy: bundle`): apply writes only its instance resources there."""
        spec = self.ws.config.spec.environments.get(env)
        return spec is not None and spec.deploy == "bundle"

    def promotion_sources(self) -> list[str]:
        """The environments a promotion can start from: those apply writes to (`deploy: direct`)."""
        return [name for name, e in self.ws.config.spec.environments.items() if e.deploy == "direct"]

    def promotion(self, from_env: str, to_env: str) -> str:
        """The promotion plan from `from_env` to `to_env`, rendered as `dss-iac promote` shows it (reads only)."""
        from dataiku_iac import render_promotion

        self._connect(from_env)
        ws = self._connect(to_env)
        return render_promotion(ws.plan_promotion(from_env, to_env))

    def history(self, env: str) -> list[Any]:
        return list(reversed(self.ws.state_store(env).history()))

    def git_log(self, limit: int = 50) -> list[Commit]:
        """The workspace's Git log; empty outside a Git repository (or before its first commit)."""
        try:
            import git
        except ImportError:
            return []
        try:
            repo = git.Repo(self.ws.root, search_parent_directories=True)
            commits = list(repo.iter_commits(max_count=limit))
        except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
            return []
        return [Commit(c.hexsha[:12], c.committed_datetime.isoformat(timespec="seconds"), str(c.author.name),
                       str(c.summary)) for c in commits]

    # -- adopting drift ------------------------------------------------------------------------------
    def adopt_edits(self, env: str, item: DriftItem) -> list[AdoptEdit]:
        return self.ws.adopt_edits(env, item)

    def adopt(self, env: str, item: DriftItem, edits: list[AdoptEdit]) -> None:
        """Write DSS's values into the YAML, then record them in the state (see `Workspace.adopt`)."""
        ws = self.ws  # loaded (or waited for) before taking the lock, which the load needs at its end
        with self._lock:
            ws.adopt(env, item, edits)


def _sources(config: WorkspaceConfig) -> dict[str, str]:
    """Every text the configuration was read from, by the name a user knows it by."""
    out = {config.file.shown: config.file.text}
    out.update((src.file.shown, src.file.text) for src in config.instances.values())
    for src in config.projects.values():
        out[src.file.shown] = src.file.text
        for recipe, code in src.code.items():
            out[f"the code of recipe {src.key}.{recipe}"] = code
    return out
