"""`Workspace`: the public Python API that the CLI, the terminal app and the notebook all use.

    ws = Workspace.load("path/to/repo")
    plan = ws.plan("dev")
    result = ws.apply(plan, progress=print)
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._text import brief
from .apply.applier import ApplyResult, Progress, apply_plan
from .apply.journal import Journal
from .apply.recorder import StateRecorder
from .config.environment_view import physical_key
from .config.loader import WorkspaceConfig, load_workspace
from .config.models import Environment
from .drift import DriftItem, DriftReport
from .dss.connect import EMBEDDED, Connection, embedded_nodes, embedded_simulator, open_connection
from .errors import ApprovalError, ConfigError, ConfigErrors, SignOffError, StalePlanError
from .plan.model import ActionType, Plan
from .plan.planner import DEFAULT_PARALLELISM, make_plan
from .resources import Address, EnvContext, build_desired, registry
from .state.backends import open_store
from .state.lease import Heartbeat, whoami
from .state.model import State
from .state.store import StateStore

if TYPE_CHECKING:
    from .adopt import Edit as AdoptEdit
    from .deploy import PromotionPlan, PromotionResult
    from .govern import Approval, Gate, GovernLink
    from .instance_check import InstanceCheck
    from .plan.flow import Flow
    from .preview import Preview, PreviewInfo
    from .sim.shared import SharedSimulator
    from .testing.results import TestRun


class Workspace:
    def __init__(self, config: WorkspaceConfig) -> None:
        self.config = config
        self._connections: dict[str, Connection] = {}
        self._embedded: SharedSimulator | None = None
        self._embedded_lock = threading.RLock()  # front ends call from several threads
        self._govern: dict[str, GovernLink] = {}
        self._previews: dict[str, Preview] = {}  # derived environment name -> the preview it is
        # What the last locked run found of an interrupted apply (shown by the CLI).
        self.recovered: list[str] = []

    @classmethod
    def load(cls, path: str | Path = ".", *, at: str | None = None) -> Workspace:
        """The workspace at `path`, or as it was at Git revision `at` (read from Git, the files untouched)."""
        if at is not None:
            from .config.git_source import load_workspace_at
            from .config.loader import WORKSPACE_FILE, read_workspace_file

            old = load_workspace_at(Path(path), at)
            # The state lives where the workspace keeps it now (backend, encryption key), not where it was
            # kept at the revision: a rollback writes the state every later run reads.
            now = read_workspace_file(old.root).state if (old.root / WORKSPACE_FILE).is_file() else old.spec.state
            return cls(replace(old, spec=old.spec.model_copy(update={"state": now})))
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
        self._govern.clear()
        with self._embedded_lock:
            if self._embedded is not None:
                self._embedded.close()  # detach: the server outlives us while other processes use it
                self._embedded = None

    # -- configuration --------------------------------------------------------------------------
    def validate(self, env: str | None = None) -> None:
        """Raise ConfigError when the workspace is invalid, including what each environment resolves (project
        keys, overrides, connection and code-env mappings). Without `env` every environment is checked, with
        any `${env:...}` that is not set left as written (CI validates without the secrets)."""
        check_environments(self.config, env)

    def environment(self, name: str) -> Environment:
        return self.config.environment(name)

    def files_changed(self) -> bool:
        """Whether the files differ from those this workspace was loaded from: an edit, a project file added or
        removed. Cheap (the files are read, not parsed), so a front end can skip reloading what did not change;
        Python project files always count as changed."""
        from .config.loader import same_on_disk

        return not same_on_disk(self.config)

    def reload(self) -> None:
        """Read the files again (edited on disk, a `git pull`); connections stay open unless the environments
        themselves changed. Raises ConfigError, leaving the workspace as it was, when the files do not load."""
        fresh = load_workspace(self.root)
        if fresh.raw.get("environments") != self.config.raw.get("environments"):
            for conn in self._connections.values():
                conn.close()
            self._connections.clear()
        self.config = fresh

    # Editing: only the changed YAML nodes are rewritten, the whole workspace is validated first, and a file
    # changed on disk since it was loaded is refused (see config/edit.py). Each returns the file written.
    def update_resource(self, address: str | Address, changes: Any) -> Path:
        """Change a resource's keys (nested mappings merge, None removes a key) in its YAML file."""
        from .config import edit

        return self._save(edit.update(self.config, Address.of(address), changes))

    def create_resource(self, address: str | Address, config: Any) -> Path:
        from .config import edit

        return self._save(edit.create(self.config, Address.of(address), config))

    def remove_resource(self, address: str | Address) -> Path:
        from .config import edit

        return self._save(edit.remove(self.config, Address.of(address)))

    def declared(self, address: str | Address) -> Any:
        """A resource's configuration as its project file declares it (no defaults added), or None when it is not
        declared; for a Python project file, what its code built."""
        from .config import edit

        return edit.declared(self.config, address)

    def instance_file(self, env: str) -> Path:
        """The instance file of environment `env` (ConfigError when it names none)."""
        from .config import edit

        return edit.instance_file(self.config, env).path

    def instance_objects(self, env: str) -> dict[str, Any]:
        """What the instance file of `env` declares, by address (`connection.pg_prod` -> its entry as the file
        says it); empty when the environment names no instance file."""
        from .config import edit

        return edit.instance_objects(self.config, env)

    def instance_declared(self, env: str, address: str | Address) -> Any:
        """An instance object (`connection.pg_prod`) as the instance file of `env` declares it (no defaults
        added), or None when it is not declared there."""
        from .config import edit

        return edit.instance_declared(self.config, env, address)

    def update_instance(self, env: str, changes: Mapping[str, Any], created: Mapping[str, Any] | None = None) -> Path:
        """Change instance objects in the instance file of `env` (address -> changes as `update_resource` takes
        them, or None to remove the object; `created`: address -> configuration of new ones), comments and layout
        kept: one validated edit."""
        from .config import edit

        return self._save(edit.instance_updates(self.config, env, {Address.of(a): c for a, c in changes.items()},
                                                {Address.of(a): c for a, c in (created or {}).items()}))

    def read_only(self, project: str) -> str | None:
        """Why a project cannot be edited through this API (its file is Python code: edit the code), or None."""
        from .config import edit

        return edit.read_only(self.config, project)

    def resolved(self, address: str | Address, env: str) -> dict[str, Any] | None:
        """What a resource amounts to in environment `env`: its fields with the environment's remapping,
        variables and overrides applied (`${env:...}` not set are left as written), or None when the resource
        does not exist there. `address` names the project by its key in the files."""
        from .config.envref import AsWritten

        a = Address.of(address)
        context = self.env_context(env, AsWritten())
        assert context.environment is not None
        physical = replace(a, project=physical_key(context.environment, a.project))
        desired = build_desired(self.config, context).get(physical)
        return None if desired is None else desired.fields

    def update_setting(self, keys: Sequence[str], value: Any) -> Path:
        """Set a key of dss-iac.yaml itself, e.g. `("environments", "dev", "variables", "x")`; None removes it."""
        from .config import edit

        return self._save(edit.update_setting(self.config, keys, value))

    def update_many(self, resources: Mapping[str, Any] | None = None,
                    settings: Iterable[tuple[Sequence[str], Any]] = (), *, env: str | None = None,
                    created: Mapping[str, Any] | None = None,
                    files: Mapping[Path, tuple[str, str]] | None = None) -> list[Path]:
        """Several changes (resource address -> changes as `update_resource` takes them, `created`: address ->
        configuration as `create_resource` takes it, `(keys, value)` settings of dss-iac.yaml, and `files`: code or
        Markdown files the project files name -> (their text as loaded, their new text)) validated together and
        written together: if one is refused, none is written. Each file may be touched by one change only;
        instance objects (`connection.pg_prod`) are changed in the instance file of `env`, all in one edit. Returns
        the files written."""
        from .config import edit

        changes = [edit.update_setting(self.config, keys, value) for keys, value in settings]
        changes += edit.edits_of(self.config, env, resources, created)
        changes += [edit.file_text(self.config, path, before, after) for path, (before, after) in (files or {}).items()]
        self.config = edit.save(self.config, *changes, check=check_environments)
        return [Path(c.path) for c in changes]

    def _save(self, change: Any) -> Path:
        from .config.edit import save

        # What `validate` refuses (a connection no environment maps, an override left matching nothing) is
        # refused before anything is written, not found by the next plan.
        self.config = save(self.config, change, check=check_environments)
        return Path(change.path)

    def preview(self, env: str, resources: Mapping[str, Any] | None = None, *,
                created: Mapping[str, Any] | None = None, targets: Iterable[str | Address] = ()) -> Plan:
        """The plan the workspace would have with these edits, none of them written: `resources` as
        `update_many` takes them, `created` (address -> configuration) as `create_resource` does; instance objects
        in the instance file of `env`. Raises the
        ConfigError `update_many` would, located in the edited text."""
        from .config import edit

        changes = edit.edits_of(self.config, env, resources, created)
        saved = self.config
        self.config = edit.validate(self.config, *changes) if changes else self.config
        try:
            return self.plan(env, targets=targets)
        finally:
            self.config = saved

    def adopt_edits(self, env: str, item: DriftItem) -> list[AdoptEdit]:
        """The edits adopting a drifted resource makes: its YAML keys (or dss-iac.yaml settings) set to what DSS
        holds. Raises AdoptError (a DssIacError) when a value has no place in the configuration."""
        from .adopt import AdoptError, plan_adopt

        if item.status != "changed":
            raise AdoptError(f"{item.address} was deleted in DSS: adopting that means removing it from the "
                             "configuration, a change to make by hand; revert recreates it")
        return plan_adopt(self.config, env, self.environment(env), item.address, item.changes)

    def adopt(self, env: str, item: DriftItem, edits: Sequence[AdoptEdit] | None = None) -> list[AdoptEdit]:
        """Make the configuration say what DSS has for a drifted resource (`edits`: as `adopt_edits` gives them,
        shown to the user first), then record it in the state as a refresh-only apply does: the configuration,
        the state and DSS then agree, so the drift is gone. Either every file is written or none."""
        from .adopt import file_changes, resource_changes, set_path

        edits = self.adopt_edits(env, item) if edits is None else list(edits)
        self.update_many(resource_changes(edits), [(e.keys, e.new) for e in edits if e.address is None], env=env,
                         files=file_changes(edits))
        with self.locked_state(env, "adopt") as (store, state, _heartbeat):
            entry = state.resources.get(item.address)
            if entry is not None:
                for c in item.changes:
                    set_path(entry.fields, c.path, c.after)
                state.stamp(whoami())
                state.workspace_commit = self.workspace_commit()
                store.commit(state, "adopt")
        return edits

    def env_context(self, name: str, environ: Mapping[str, str] | None = None) -> EnvContext:
        return env_context(self.config, name, environ)

    def connection(self, name: str) -> Connection:
        self._check_embedded()
        if name not in self._connections:
            env = self.environment(name)
            conn = open_connection(name, env, embedded=self.embedded() if env.host == EMBEDDED else None)
            conn.check()
            self._connections[name] = conn
        return self._connections[name]

    def embedded(self) -> SharedSimulator:
        """The workspace's embedded DSS: one server for every embedded environment, shared by every process that
        uses the workspace (this one, the CLI, the terminal app, a notebook, `dataikuapi` scripts), started on
        first use. Its `url()` and `api_key` are what `dss-iac sim info` prints."""
        with self._embedded_lock:
            self._check_embedded()
            if self._embedded is None:
                self._embedded = embedded_simulator(self.root, embedded_nodes(self.config.spec.environments))
            return self._embedded

    def _check_embedded(self) -> None:
        """Forget an embedded DSS that went away (stopped, killed) and its connections: the next use starts it."""
        with self._embedded_lock:
            if self._embedded is None or self._embedded.alive:
                return
            for name in [n for n, c in list(self._connections.items()) if c.simulator is not None]:
                conn = self._connections.pop(name, None)
                if conn is not None:
                    conn.close()
            self._embedded.close()
            self._embedded = None
            self._govern.clear()  # its Govern node went with it

    # -- state -------------------------------------------------------------------------------------
    def state_store(self, env: str) -> StateStore:
        self.environment(env)
        preview = self._previews.get(env)
        return open_store(self.config.spec.state, self.root, preview.state_key if preview else env)

    def state(self, env: str) -> State:
        """The state as the next apply will see it: with the results of an interrupted apply replayed."""
        from .apply.recovery import replay

        store = self.state_store(env)
        state = store.load()
        replay(state, store.journal())
        return state

    def workspace_commit(self) -> str:
        """The workspace's Git commit (recorded with each state write), or "" outside a Git repository; with
        `--at`, the revision the configuration was read from."""
        if self.config.revision:
            return self.config.revision
        try:
            import git

            return str(git.Repo(self.root, search_parent_directories=True).head.commit.hexsha)
        except Exception:  # no gitpython, no repository, or no commit yet: nothing to record
            return ""

    # -- plan, apply, drift ---------------------------------------------------------------------------
    def plan(self, env: str, *, targets: Iterable[str | Address] = (), destroy: bool = False,
             parallelism: int = DEFAULT_PARALLELISM, progress: Any = None, check_instance: bool = True) -> Plan:
        """What apply would change. Refused (ConfigError) when what it would write names a connection or code env
        that env's DSS lacks (`check_instance=False`: not checked, as for a drift report)."""
        from .importer import unmanaged_hint

        addresses = tuple(Address.of(t) for t in targets)
        desired = build_desired(self.config, self.env_context(env))
        # Where promote deploys, apply never runs, and the bundle brings the design project whole: what it holds
        # beyond the configuration is listed (and imported) in the environment the bundle is made from.
        by_apply = self.environment(env).deploy != "bundle"
        plan, _ = make_plan(environment=env, desired=desired, state=self.state(env), conn=self.connection(env),
                            config_digest=self.config.digest, targets=addresses, destroy=destroy,
                            parallelism=parallelism, progress=progress, record_untracked=by_apply,
                            list_unmanaged=by_apply)
        unmanaged = tuple(replace(u, hint=unmanaged_hint(self.config, env, self.environment(env), u))
                          for u in plan.unmanaged)
        plan = replace(plan, at=self.config.revision or None, unmanaged=unmanaged)
        self._check_instance_deletes(plan, desired)
        # A bundle environment is not applied: `promote` checks its node against the bundle instead.
        if check_instance and by_apply:
            self.check_instance(env, _writes(plan)).refuse()
        return plan

    def _check_instance_deletes(self, plan: Plan, desired: Mapping[Address, Any]) -> None:
        """A connection (or other instance object) that projects dss-iac does not manage still use is never deleted:
        refused at plan time, naming them."""
        from .resources.instance_base import check_instance_deletes

        risky = [a for a in plan.destructive if a.address.in_instance]
        if risky:
            state = self.state(plan.environment)
            managed = {a.project for a in desired if not a.in_instance}
            managed |= {Address.parse(k).project for k in state.resources}
            check_instance_deletes(self.connection(plan.environment).client, risky, managed)

    def check_instance(self, env: str, addresses: Collection[str] | None = None) -> InstanceCheck:
        """Whether env's DSS has the connections (of the right type) and code envs the configuration names, for every
        object or for `addresses` only. `validate -e`, plan, apply and promote all check with it."""
        from .instance_check import check_instance

        return check_instance(self, env, addresses)

    def instance_addresses(self, env: str) -> list[Address]:
        """The instance resources of env (connections, code envs, groups, users, global variables): those its
        instance file declares and those its state holds."""
        declared = [a for a in build_desired(self.config, self.env_context(env)) if a.in_instance]
        recorded = [a for a in map(Address.parse, self.state(env).resources) if a.in_instance]
        return sorted(set(declared) | set(recorded))

    def apply(self, plan: Plan, *, progress: Progress | None = None, parallelism: int = DEFAULT_PARALLELISM,
              allow_delete: bool = False, lock_timeout: float = 0.0, journal: bool = True,
              verify_remote: bool = False, approved: bool = False) -> ApplyResult:
        """Apply exactly `plan`, or refuse it as stale. `verify_remote` (for plans saved earlier) also re-reads
        DSS and refuses the plan if any object it read has changed since. `approved`: the caller checked the
        sign-off that covers the plan (promote: the bundle's, for the instance changes the promotion lists)."""
        env = plan.environment
        if self.environment(env).deploy == "bundle" and any(not a.address.in_instance
                                                            for a in plan.changes):
            raise ApprovalError(f"environment {env} receives projects by bundle: deploy with `dss-iac promote --to "
                                f"{env}`, not apply (apply writes only its instance resources there)")
        self.check_protected(plan, allow_delete)
        if not approved:
            self.check_approved(plan)
        if env in self._previews:
            from .preview import check_plan, preview_keys

            preview = self._previews[env]
            check_plan(plan, preview, preview_keys(self.config, preview).values())
        self.check_instance(env, _writes(plan)).refuse()  # DSS may have changed since the plan: before any write
        with self.locked_state(env, "apply", lock_timeout) as (store, state, heartbeat):
            self._check_fresh(plan, state)
            fields = {str(a): d.fields for a, d in build_desired(self.config, self.env_context(env)).items()}
            _check_same_values(plan, fields, state)
            if verify_remote:
                self._check_remote(plan, state, parallelism, fields)
            if state.serial == 0:
                state.lineage = plan.state_lineage or state.lineage
            recorder = StateRecorder(store, state, whoami(), journal=Journal(store) if journal else None,
                                     commit=self.workspace_commit(), check=heartbeat.check,
                                     command="destroy" if plan.destroy else "apply")
            depends = {k: list(v.depends_on) for k, v in state.resources.items()}
            return apply_plan(plan, self.connection(env), recorder, parallelism=parallelism, progress=progress,
                              state_depends=depends, fields=fields)

    @contextmanager
    def locked_state(self, env: str, operation: str, lock_timeout: float = 0.0,
                     read: bool = True) -> Iterator[tuple[StateStore, State, Heartbeat]]:
        """Hold the environment's lease (renewed while held) and its state, recovered from any crash.

        With `read=False` the state is not read (re-encryption works on the stored bytes themselves).
        """
        store = self.state_store(env)
        lease = store.leases.acquire(operation, timeout=lock_timeout)
        heartbeat = Heartbeat(store.leases, lease)
        try:
            state = store.load() if read else State(environment=env)
            if read:
                self.recovered = self._recover(env, store, state)
            yield store, state, heartbeat
        finally:
            heartbeat.stop()
            store.leases.release(heartbeat.lease.id, force=False)

    def recover(self, env: str, lock_timeout: float = 0.0) -> list[str]:
        """Finish the bookkeeping of an interrupted apply, if there was one (before planning an apply)."""
        if not self.state_store(env).journal():
            return []
        with self.locked_state(env, "recover", lock_timeout):
            return self.recovered

    def _recover(self, env: str, store: StateStore, state: State) -> list[str]:
        from .apply.recovery import replay, resolve

        records = store.journal()
        if not records:
            return []
        found = resolve(state, replay(state, records), self.connection(env))
        state.stamp(whoami())
        store.commit(state, "recover")  # one history entry for what the interrupted run did
        store.journal_clear()
        return found

    def check_protected(self, plan: Plan, allow_delete: bool) -> None:
        if allow_delete:
            return
        kept = [str(a.address) for a in plan.destructive
                if getattr(registry.KINDS.get(a.kind), "delete_needs_allow", False)]
        if kept:
            raise ApprovalError(f"the plan deletes or replaces {len(kept)} user(s) ({brief(kept)}): a user is never "
                                "deleted without --allow-delete; review it and pass --allow-delete")
        if not self.environment(plan.environment).protected:
            return
        risky = [str(a.address) for a in plan.destructive]
        if risky:
            raise ApprovalError(f"environment {plan.environment} is protected and the plan deletes or replaces "
                                f"{len(risky)} resource(s) ({brief(risky)}); review it and pass --allow-delete")

    def _check_remote(self, plan: Plan, state: State, parallelism: int,
                      fields: Mapping[str, Mapping[str, Any]]) -> None:
        from .plan.planner import fingerprint, refresh

        addresses = [a.address for a in plan.actions]
        now = fingerprint(refresh(self.connection(plan.environment), addresses, state, parallelism, fields), state,
                          fields)
        if now != plan.remote_fingerprint:
            raise StalePlanError("the plan is stale: objects it read in DSS have changed since it was made; "
                                 "plan again")

    def _check_fresh(self, plan: Plan, state: State) -> None:
        if plan.config_digest != self.config.digest:
            raise StalePlanError("the plan is stale: the configuration changed since it was made; plan again")
        fresh_state = state.serial == 0 and plan.state_serial == 0
        if not fresh_state and (plan.state_lineage != state.lineage or plan.state_serial != state.serial):
            raise StalePlanError(
                f"the plan is stale: it was made against state serial {plan.state_serial} of lineage "
                f"{plan.state_lineage}, the state is now serial {state.serial} of {state.lineage}; plan again")

    # -- previews -------------------------------------------------------------------------------------
    def branch_preview(self, env: str, branch: str, variables: Mapping[str, str] | None = None) -> Preview:
        """Add the preview of `env` for `branch` to this workspace: an environment named `preview.env_name`, which
        plan, apply and destroy take like any other, with its own state (see dataiku_iac/preview.py)."""
        from .preview import derive

        self.config, preview = derive(self.config, env, branch, variables)
        self._previews[preview.env_name] = preview
        return preview

    def preview_projects(self, preview: Preview) -> dict[str, str]:
        """Project key in the files -> the key of its copy in the preview."""
        from .preview import preview_keys

        return preview_keys(self.config, preview)

    def previews(self, env: str | None = None) -> list[PreviewInfo]:
        """The previews whose state the backend holds (of `env` only, when given), from their state alone."""
        from .preview import PreviewInfo, stored_previews
        from .state.backends import open_blobs

        if env is not None:
            self.environment(env)
        out = []
        for preview in stored_previews(open_blobs(self.config.spec.state, self.root), env):
            state = open_store(self.config.spec.state, self.root, preview.state_key).read()
            if state is None or not state.resources:
                continue
            projects = tuple(sorted({a.split(".")[1] for a in state.resources}))
            out.append(PreviewInfo(preview, projects, len(state.resources), state.serial, state.updated_by,
                                   state.updated_at))
        return out

    def forget_preview(self, preview: Preview) -> None:
        """Delete a destroyed preview's state (its history included): refused while it still manages something."""
        from .errors import StateError
        from .state.backends import open_blobs

        state = self.state_store(preview.env_name).read()
        if state is not None and state.resources:
            raise StateError(f"preview {preview.name} of {preview.environment} still manages {len(state.resources)} "
                             "resource(s): destroy it first")
        blobs = open_blobs(self.config.spec.state, self.root)
        for key in reversed(blobs.list(preview.state_key)):
            blobs.delete(key)

    # -- approvals in Govern ------------------------------------------------------------------------
    def govern(self, env: str) -> GovernLink:
        """The Govern node env's approvals live on (opened on first use)."""
        from .govern import open_govern

        if env not in self._govern:
            self._govern[env] = open_govern(env, self.environment(env), lambda: self.connection(env))
        return self._govern[env]

    def approval_gate(self, plan: Plan) -> Gate | None:
        """What Govern says of `plan` now, when its environment asks for a sign-off (`approval: govern`) and the plan
        changes something; None otherwise. Reads Govern only."""
        from .govern import plan_gate

        if self.environment(plan.environment).approval is None or not plan.has_changes:
            return None
        return plan_gate(self.govern(plan.environment), plan)

    def request_approval(self, plan: Plan) -> Gate | None:
        """Open the Govern request of `plan` (an artifact holding the plan in Markdown and a link to its commit), unless
        there is one for this very plan already; -> its gate (None: the environment asks for no sign-off)."""
        from .govern import commit_url, request_plan

        if self.environment(plan.environment).approval is None or not plan.has_changes:
            return None
        commit = self.workspace_commit()
        return request_plan(self.govern(plan.environment), plan, commit, commit_url(self.root, commit))

    def check_approved(self, plan: Plan) -> None:
        """Refuse (SignOffError, exit code 8) a plan whose environment asks for a Govern sign-off it does not have."""
        gate = self.approval_gate(plan)
        if gate is not None and not gate.open:
            raise SignOffError(gate.refusal("apply"), gate)

    def approvals(self, env: str) -> list[Approval]:
        """Every approval request of env in Govern, oldest first: plans (direct) or bundles (bundle environments)."""
        from .govern import list_bundle_requests, list_plan_requests

        link = self.govern(env)
        if self.environment(env).deploy == "bundle":
            return list_bundle_requests(link, env, sorted(self.config.projects))
        return list_plan_requests(link, env)

    def plan_promotion(self, from_env: str, to_env: str, *, projects: Iterable[str] = (),
                       bundle: str | None = None, verify: bool = False) -> PromotionPlan:
        """What `promote` would do: bundle, content changes, deployment settings, and with `verify` the tests run
        on the target afterwards (see docs/promotion.md)."""
        from .deploy import plan_promotion

        return plan_promotion(self, from_env, to_env, projects, bundle, verify)

    def promote(self, plan: PromotionPlan, *, progress: Any = None) -> PromotionResult:
        from .deploy import promote

        return promote(self, plan, progress)

    def promotion_gate(self, plan: PromotionPlan) -> Gate | None:
        """What Govern says now of the bundles `plan` deploys, when they need approving; None otherwise."""
        from .deploy.governance import promotion_gate

        return promotion_gate(self, plan) if plan.gated else None

    def request_promotion_approval(self, plan: PromotionPlan) -> Gate | None:
        """Open the Govern request of each bundle `plan` deploys that has none (None: nothing to approve)."""
        from .deploy.governance import request_promotion

        return request_promotion(self, plan)

    def drift(self, env: str, *, parallelism: int = DEFAULT_PARALLELISM) -> DriftReport:
        return DriftReport.from_plan(self.plan(env, parallelism=parallelism, check_instance=False))

    # -- tests ---------------------------------------------------------------------------------------------
    def test(self, env: str | None = None, *, build: Sequence[str] | None = None, static: bool = True,
             progress: Any = None, timeout: float | None = None) -> TestRun:
        """Run the tests (docs/testing.md): the static rules, and with `env` the build of the flow (`build`: []
        for the whole flow, or names), the data tests and the test scenarios on env's DSS. The run is kept as env's
        last results (`last_test_run`)."""
        from .testing.runner import run_tests

        return run_tests(self, env, static=static, build=build, progress=progress, timeout=timeout)

    def static_findings(self) -> TestRun:
        """The static rules alone, without saving the run: what `validate` reports."""
        from .testing.runner import run_tests

        return run_tests(self, None, save=False)

    def last_test_run(self, env: str | None = None) -> TestRun | None:
        """The last test run of env (None: the last static-only run), as saved by `test`; None if there was none."""
        from .testing.results import load_run

        if env is not None:
            self.environment(env)
        return load_run(self.root, env)


    # -- pictures ------------------------------------------------------------------------------------
    def flow(self, project: str, env: str | None = None, *, plan: Plan | None = None) -> Flow:
        """A project's flow (datasets, folders, recipes, zones) as a graph: `.svg()`, `.lines()` (text), and a
        picture when alone in a notebook cell. With `env` (or `plan`), each node is coloured by what the plan of
        that environment does to it: `plan` if given, else one made now."""
        from .config.edit import read_only
        from .plan.flow import project_flow

        read_only(self.config, project)  # an unknown project is a clear error
        if plan is None and env is not None:
            plan = self.plan(env, check_instance=False)  # a picture writes nothing
        if plan is None:
            return project_flow(self.config.projects[project])
        key = physical_key(self.environment(plan.environment), project)
        return project_flow(self.config.projects[project], plan, key)

    def flow_svg(self, project: str, env: str | None = None) -> str:
        """The picture of `flow(project, env)` as an SVG document: `ws.flow_svg("CHURN", env="dev")`."""
        return self.flow(project, env).svg()


def _writes(plan: Plan) -> set[str]:
    """The addresses a plan creates or updates in DSS: what must find its connections and code envs there."""
    writes = (ActionType.CREATE, ActionType.UPDATE, ActionType.REPLACE)
    return {str(a.address) for a in plan.changes if a.action in writes}


def env_context(config: WorkspaceConfig, name: str, environ: Mapping[str, str] | None = None) -> EnvContext:
    env, sensitive = config.resolve_environment(name, environ)
    source = config.bundle_source(name)
    return EnvContext(name, dict(env.remap.connections), dict(env.remap.code_envs), dict(env.variables), env,
                      sensitive, environ, env_context(config, source, environ) if source else None)


def check_environments(config: WorkspaceConfig, env: str | None = None) -> None:
    """`Workspace.validate` of a configuration: every problem of what each environment resolves, located."""
    from .config.envref import AsWritten

    errors: dict[str, ConfigError] = {}
    for name in [env] if env else sorted(config.spec.environments):
        try:
            build_desired(config, env_context(config, name, None if env else AsWritten()))
        except ConfigErrors as e:
            errors.update((one.render(), one) for one in e.errors)
        except ConfigError as e:
            errors[e.render()] = e
    if errors:
        found = list(errors.values())
        raise found[0] if len(found) == 1 else ConfigErrors(found)


def _check_same_values(plan: Plan, fields: dict[str, dict[str, Any]], state: State) -> None:
    """The configuration may resolve differently now (`${env:...}`): then the plan is not what would run.
    Sensitive values are compared by their fingerprints under the state's key, as the plan saved them."""
    scrub = state.fingerprints.scrub
    for a in plan.actions:
        key = str(a.address)
        if a.fields is not None and key in fields and scrub(dict(a.fields)) != scrub(fields[key]):
            raise StalePlanError(f"the plan is stale: {a.address} resolves to other values than when the plan was "
                                 "made (an environment variable changed?); plan again")
