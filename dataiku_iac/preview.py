"""Preview projects: a workspace's projects applied to an environment under keys suffixed by a branch, so that
reviewers open the flow of a pull request in DSS (`dss-iac preview -e dev --name feature/x`).

A preview is an environment of its own, derived from the real one: the same instance, remapping and overrides,
its project key pattern suffixed (`{key}_DEV` -> `{key}_DEV_FEATURE_X`), its variables overridable, never
protected nor gated by Govern (it is thrown away). Its state lives apart, under `_previews/<env>/<name>/` of the
state backend (no environment name starts with `_`), so destroying a preview reads only what the preview made,
and an apply to a preview refuses any address outside the preview's own projects.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .config.environment_view import physical_key
from .config.models import Environment
from .errors import ConfigError, DssIacError

if TYPE_CHECKING:
    from .config.loader import WorkspaceConfig
    from .plan.model import Plan
    from .state.blobs import BlobStore

STATE_PREFIX = "_previews"
MAX_NAME = 40


@dataclass(frozen=True)
class Preview:
    """One preview: the environment it copies and the name it is kept under (from the branch)."""

    environment: str  # the real environment
    name: str  # the branch as a name: lowercase letters, digits and '-'
    branch: str = ""  # as given

    @property
    def env_name(self) -> str:
        """The derived environment, as plans and messages name it: `dev@feature-x` (no real one has an `@`)."""
        return f"{self.environment}@{self.name}"

    @property
    def state_key(self) -> str:
        return f"{STATE_PREFIX}/{self.environment}/{self.name}"

    @property
    def suffix(self) -> str:
        return self.name.upper().replace("-", "_")


def preview_name(branch: str) -> str:
    """A branch as a preview name: `feature/Add-orders` -> `feature-add-orders`; long ones cut, with a hash that
    keeps them apart."""
    name = re.sub(r"[^a-z0-9]+", "-", branch.lower()).strip("-")
    if not name:
        raise DssIacError(f"--name {branch!r} has no letter or digit: name the preview after its branch")
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:7]
        name = f"{name[:MAX_NAME - 8].rstrip('-')}-{digest}"
    return name


def derive(config: WorkspaceConfig, env: str, branch: str,
           variables: Mapping[str, str] | None = None) -> tuple[WorkspaceConfig, Preview]:
    """`config` with the preview of `env` for `branch` added as an environment of its own."""
    base = config.environment(env)  # unknown: a located error
    if base.deploy != "direct":
        raise ConfigError(f"environment {env} receives projects by bundle: previews are applied, so they go to a "
                          "direct environment (the design node, such as dev)", file=config.file.shown)
    preview = Preview(env, preview_name(branch), branch)
    raw = copy.deepcopy(config.raw["environments"][env])
    raw["project_key"] = f"{base.project_key}_{preview.suffix}"
    raw["variables"] = {**(raw.get("variables") or {}), **dict(variables or {})}
    for dropped in ("protected", "approval"):  # thrown away at the pull request's end: nothing to guard
        raw.pop(dropped, None)
    spec = Environment.model_validate(raw)
    _refuse_clashes(config, preview, spec)
    envs = {**config.spec.environments, preview.env_name: spec}
    raw_all = {**config.raw, "environments": {**config.raw["environments"], preview.env_name: raw}}
    return replace(config, spec=config.spec.model_copy(update={"environments": envs}), raw=raw_all), preview


def _refuse_clashes(config: WorkspaceConfig, preview: Preview, spec: Environment) -> None:
    """A preview's key must never be one a real environment uses: its apply would adopt that project."""
    real = {physical_key(e, key): name for name, e in config.spec.environments.items() if "@" not in name
            for key in config.projects}
    for key in config.projects:
        mine = physical_key(spec, key)
        if mine in real:
            raise ConfigError(f"preview {preview.name} of {preview.environment} would put project {key} under key "
                              f"{mine}, which environment {real[mine]} uses: choose another --name",
                              file=config.file.shown)


def preview_keys(config: WorkspaceConfig, preview: Preview) -> dict[str, str]:
    """Project key in the files -> key of its preview copy."""
    env = config.spec.environments[preview.env_name]
    return {key: physical_key(env, key) for key in sorted(config.projects)}


def check_plan(plan: Plan, preview: Preview, keys: Iterable[str]) -> None:
    """Refuse a preview's plan that would touch anything but the preview's own projects (a state edited by hand, a
    key that moved): previews never touch the real projects."""
    allowed = set(keys)
    outside = sorted({str(a.address) for a in plan.changes if a.address.project not in allowed})
    if outside:
        raise DssIacError(f"refusing to apply preview {preview.name} of {preview.environment}: it would change "
                          f"{', '.join(outside[:5])}, outside its projects ({', '.join(sorted(allowed))})")


@dataclass(frozen=True)
class PreviewInfo:
    """A preview as its state records it."""

    preview: Preview
    projects: tuple[str, ...]  # the DSS keys of the projects it holds
    resources: int
    serial: int
    updated_by: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.preview.environment, "name": self.preview.name, "projects": list(self.projects),
                "resources": self.resources, "serial": self.serial, "updated_by": self.updated_by,
                "updated_at": self.updated_at}


def stored_previews(blobs: BlobStore, env: str | None = None) -> list[Preview]:
    """Every preview with a state on the backend (of `env` only, when given)."""
    prefix = f"{STATE_PREFIX}/{env}" if env else STATE_PREFIX
    found = set()
    for key in blobs.list(prefix):
        parts = key.split("/")
        if len(parts) == 4 and parts[0] == STATE_PREFIX and parts[3] == "state.json":
            found.add(Preview(parts[1], parts[2]))
    return sorted(found, key=lambda p: (p.environment, p.name))
