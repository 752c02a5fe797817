"""Adopting the drift of instance objects (connections, code envs, groups, users, global variables): the values
DSS holds written back into the environment's instance file (`Workspace.adopt`), as `adopt.py` does for projects.

Each drifted field is its YAML key in the object's entry (`allow_write`, `groups`), one key of an open map
(`params.host`), or for the global variables one variable (`values.company` -> `variables: {company: ...}`).
Secrets are never written: DSS hands them back blanked, and the file holds them as `${env:NAME}` references, so
their drift cannot be adopted. A value the file takes from `${env:...}` is not overwritten with a literal either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .adopt import AdoptError, Edit
from .adopt import _has_mask as masked
from .config.edit import instance_declared, instance_file
from .config.envref import has_ref
from .config.loader import WorkspaceConfig
from .errors import ConfigError
from .plan.diff import FieldChange
from .resources import Address, registry
from .secrets import is_secret_key


def plan_instance_adopt(config: WorkspaceConfig, env_name: str, address: str,
                        changes: Sequence[FieldChange]) -> list[Edit]:
    """The edits of the instance file of `env_name` that make it say what DSS has for the drifted `address`."""
    a = Address.of(address)
    kind = registry.get(a.kind)
    try:
        file = instance_file(config, env_name)
        declared = instance_declared(config, env_name, a)
    except ConfigError as e:
        raise AdoptError(f"{address}: {e.message}") from None
    if declared is None:
        raise AdoptError(f"{address} is not declared in {file.shown}")
    secrets = [c.path for c in changes if _secret(c, declared, kind)]
    if secrets:
        raise AdoptError(f"{address}: {', '.join(secrets)} {'is a secret' if len(secrets) == 1 else 'are secrets'}, "
                         "whose drift cannot be adopted (secrets stay ${env:...} references in the file, never "
                         "values): set the variable and apply, or revert")
    edits = []
    for c in changes:
        keys = _keys(kind, c.path)
        if keys is None:
            raise AdoptError(f"adopting {c.path} of a {a.kind.replace('_', ' ')} is not supported: edit "
                             f"{file.shown} by hand (the drift view shows the value found in DSS)")
        if has_ref(_at(declared, keys)):
            raise AdoptError(f"{address}: {c.path} is given by an ${{env:...}} reference in {file.shown}: change "
                             "the variable it reads, not the file")
        edits.append(Edit(file.path, file.shown, address, keys, c.after))
    return edits


def _keys(kind: Any, path: str) -> tuple[str, ...] | None:
    """Where a drifted field sits in the object's entry of the instance file, or None if it has no such place."""
    root, *sub = path.split(".")
    if kind.single:  # the global variables: the section is the values themselves
        return tuple(sub) if root in kind.open_maps and sub else None
    if root in kind.adoptable and not sub:
        return (root,)
    if root in kind.open_maps and sub:
        return (root, *sub)
    return None


def _secret(change: FieldChange, declared: Any, kind: Any) -> bool:
    """Whether the field is a secret: a key DSS keeps secret, or a value masked that no `${env:...}` of the file
    gives (a value it gives is masked too, and refused as such below)."""
    if is_secret_key(change.path.rsplit(".", 1)[-1]):
        return True
    keys = _keys(kind, change.path)
    return (change.sensitive or masked(change.after)) and not (keys is not None and has_ref(_at(declared, keys)))


def _at(entry: Any, keys: Sequence[str]) -> Any:
    for k in keys:
        if not isinstance(entry, dict):
            return None
        entry = entry.get(k)
    return entry
