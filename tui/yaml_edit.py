"""Adopting drift: which YAML keys take the values found in DSS.

The edits themselves are the core's (`Workspace.update_resource` for a resource's keys in its project file,
`Workspace.update_setting` for a standard variable that the environment overrides in dss-iac.yaml): only
the edited nodes change, the workspace is validated first, and a file changed on disk is refused.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataiku_iac.config.edit import current
from dataiku_iac.config.loader import WorkspaceConfig
from dataiku_iac.config.models import Environment
from dataiku_iac.errors import DssIacError
from dataiku_iac.plan.diff import FieldChange
from dataiku_iac.secrets import MASK

from .adopt_shapes import RESHAPED, Unwritable

# Managed fields that are the very YAML key of the same name; adopt_shapes.RESHAPED says how others are written.
ADOPTABLE = {
    "project": frozenset({"name", "description", "short_desc", "tags", "custom"}),
    "dataset": frozenset({"description", "tags", "params", "format_params", "format", "connection"}),
    "managed_folder": frozenset({"description", "tags", "connection", "path"}),
    "recipe": frozenset({"description", "tags", "params", "code_env"}),
    "scenario": frozenset({"name", "active", "description", "tags"}),
    "zone": frozenset({"color"}),
}


class AdoptError(DssIacError):
    """The value cannot be written back to the YAML (the message says what to do instead)."""


@dataclass(frozen=True)
class Edit:
    """One value to write: into resource `address` (its keys `keys`), or with `address` None into the
    workspace file itself at `keys`. `new` None removes the key."""

    file: Path
    shown: str
    address: str | None
    keys: tuple[str, ...]
    new: Any

    def describe(self) -> str:
        from dataiku_iac.plan.render_text import fmt

        where = ".".join(self.keys) if self.address is None else f"{self.address}: {'.'.join(self.keys)}"
        return f"{self.shown}: {where} = {fmt(self.new) if self.new is not None else '(removed)'}"


def resource_changes(edits: Sequence[Edit]) -> dict[str, dict[str, Any]]:
    """Resource edits as `update_resource` takes them: address -> nested mapping of keys to new values."""
    out: dict[str, dict[str, Any]] = {}
    for e in edits:
        if e.address is None:
            continue
        node = out.setdefault(e.address, {})
        for k in e.keys[:-1]:
            node = node.setdefault(k, {})
        node[e.keys[-1]] = e.new
    return out


def plan_adopt(config: WorkspaceConfig, env_name: str, env: Environment, address: str,
               changes: Sequence[FieldChange]) -> list[Edit]:
    """The YAML edits that make the configuration say what DSS has, for the drifted fields of `address`."""
    kind, physical, *rest = address.split(".")
    name = rest[0] if rest else None
    source = next((s for s in config.projects.values() if env.project_key.format(key=s.key) == physical), None)
    if source is None:
        raise AdoptError(f"no project file declares project {physical}")
    if source.file.path.suffix == ".py":
        raise AdoptError(f"project {source.key} is written in Python ({source.file.shown}): change it there")
    edits: list[Edit] = []
    for c in changes:
        if c.sensitive or _has_mask(c.after):
            raise AdoptError(f"{c.path} is sensitive: its value is never shown or copied; set it in the "
                             "configuration by hand")
        root, *sub = c.path.split(".")
        _check_override(env_name, env, kind, source.key, name, root, sub)
        value = c.after
        target = f"{kind}.{source.key}" if name is None else f"{kind}.{source.key}.{name}"
        keys: tuple[str, ...] = (root, *sub)
        if kind == "variables":
            if root not in ("standard", "local") or not sub:
                raise AdoptError(f"cannot adopt variables field {c.path}")
            if root == "standard" and sub[0] in env.variables and len(sub) == 1:
                # The environment overrides this variable: the value lives in dss-iac.yaml.
                edits.append(Edit(config.file.path, config.file.shown, None,
                                  ("environments", env_name, "variables", sub[0]), value))
                continue
        elif kind in ADOPTABLE and root in ADOPTABLE[kind]:
            if root == "connection":
                value = _logical("connection", env_name, env.remap.connections, value)
            elif root == "code_env":
                value = _logical("code env", env_name, env.remap.code_envs, value)
        elif (kind, root) in RESHAPED and len(sub) == (1 if kind == "permissions" else 0):
            declared = current(config, target)
            if kind == "permissions":
                keys = (sub[0],)
                declared = next((e for e in declared or [] if isinstance(e, dict) and e.get("group") == sub[0]), None)
            else:
                declared = declared.get(root) if isinstance(declared, dict) else None
            try:
                value = RESHAPED[kind, root](c.after, c.before, declared)
            except Unwritable as e:
                raise AdoptError(f"{target}: {e}") from None
        else:
            raise AdoptError(f"adopting {c.path} of a {kind} is not supported: edit {source.file.shown} by hand "
                             f"(the drift view shows the value found in DSS)")
        edits.append(Edit(source.file.path, source.file.shown, target, keys, value))
    return edits


def _has_mask(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_mask(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_mask(v) for v in value)
    return value == MASK


def _check_override(env_name: str, env: Environment, kind: str, key: str, name: str | None, root: str,
                    sub: list[str]) -> None:
    target = f"{kind}.{key}" if name is None else f"{kind}.{key}.{name}"
    for pattern, change in env.overrides.items():
        if not fnmatch.fnmatchcase(target, pattern) or root not in change:
            continue
        inner = change[root]
        if not sub or not isinstance(inner, Mapping) or sub[0] in inner:
            raise AdoptError(f"{kind} field {root} is set for environment {env_name} by its override '{pattern}' "
                             "in dss-iac.yaml: change it there")


def _logical(what: str, env_name: str, mapping: Mapping[str, str], physical: Any) -> Any:
    if not mapping or physical is None:
        return physical
    logical = sorted(k for k, v in mapping.items() if v == physical)
    if len(logical) != 1:
        why = "no logical name maps to it" if not logical else f"several logical names map to it ({', '.join(logical)})"
        raise AdoptError(f"{what} {physical} cannot be written back: in environment {env_name} {why}")
    return logical[0]
