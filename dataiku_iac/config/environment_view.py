"""A project file as one environment sees it: its project key, its per-resource overrides, and checks of
its connection and code-env names against the environment's remapping.

The view is an ordinary ProjectSource, so the resource kinds never need to know about environments
beyond connection names and variables.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from .._text import shorten
from ..errors import ConfigError, ConfigErrors
from ..resources import registry
from ..resources.base import CONNECTION
from . import envref
from .loader import ProjectSource, SourceFile, resolve_refs
from .models import MAX_KEY_LENGTH, Environment
from .project_model import project_file_model


def physical_key(env: Environment, key: str) -> str:
    return env.project_key.format(key=key)


def view(source: ProjectSource, env_name: str, env: Environment, workspace_file: SourceFile,
         keys: Sequence[str], matched: set[str] | None = None,
         environ: Mapping[str, str] | None = None) -> ProjectSource:
    """`source` as environment `env_name` deploys it (the same object when nothing changes), its `${env:...}`
    references resolved from `environ` (default: the process's); the override patterns that applied to
    something are added to `matched`."""
    _check_names(source, env_name, env)
    data, sensitive = _resolved(source, env_name, environ)
    if env.project_key == "{key}" and not env.overrides and data is None:
        return source
    if len(physical := physical_key(env, source.key)) > MAX_KEY_LENGTH:
        raise source.file.error(f"project key {source.key} becomes {shorten(physical)} in environment '{env_name}' "
                                f"(project_key: '{env.project_key}'), {len(physical)} characters: at most "
                                f"{MAX_KEY_LENGTH}", ("project", "key"))
    if data is None:
        data = source.spec.model_dump(by_alias=True, exclude_unset=True)
    for pattern, change in env.overrides.items():
        if _apply_override(data, source.key, pattern, change) and matched is not None:
            matched.add(pattern)
    data["project"]["key"] = physical
    for recipe in data.get("recipes", {}).values():
        recipe["inputs"] = [_foreign(ref, env, keys) for ref in recipe.get("inputs", [])]
    for kind in registry.kinds():  # the keys other objects name (exposed objects' target projects)
        for entry in data.get(kind.collection, {}).values() if kind.collection is not None else ():
            kind.renamed_projects(entry, lambda key: physical_key(env, key) if key in keys else key)
    try:
        spec = project_file_model().model_validate(data)
    except ValidationError as e:
        where = ("environments", env_name, "overrides")
        first = e.errors()[0]
        raise workspace_file.error(f"overrides of environment '{env_name}' make project {source.key} invalid: "
                                   f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']}", where) from None
    return ProjectSource(source.file, spec, source.code, sensitive)


def _resolved(source: ProjectSource, env_name: str,
              environ: Mapping[str, str] | None) -> tuple[dict[str, Any] | None, frozenset[str]]:
    """The project's data with its `${env:...}` references resolved, and the values they gave; (None, {}) for a
    project that has none (most: they are found in the file's text without reading it as data)."""
    if "${env:" not in source.file.text and (source.file.path.suffix != ".py"
                                             or "${env:" not in source.spec.model_dump_json()):
        return None, frozenset()
    data = resolve_refs(source.file, source.spec.model_dump(by_alias=True, exclude_unset=True), (), environ,
                        f"project {source.key}, used in environment '{env_name}'")
    return data, envref.sensitive_values(data)


def _foreign(ref: str, env: Environment, keys: Sequence[str]) -> str:
    other, dot, name = ref.partition(".")
    return f"{physical_key(env, other)}.{name}" if dot and other in keys else ref


def _apply_override(data: dict[str, Any], key: str, pattern: str, change: Mapping[str, Any]) -> bool:
    kind = registry.get(pattern.split(".", 1)[0])
    if kind.collection is None:
        if fnmatch.fnmatchcase(f"{kind.name}.{key}", pattern):
            target = data
            for step in kind.config_path(None):
                target = target.setdefault(step, {})
            _merge(target, change)
            return True
        return False
    hit = False
    for name, entry in data.get(kind.collection, {}).items():
        if fnmatch.fnmatchcase(f"{kind.name}.{key}.{name}", pattern):
            _merge(entry, change)
            hit = True
    return hit


def check_overrides_used(env_name: str, env: Environment, workspace_file: SourceFile, matched: set[str]) -> None:
    """An override that matches no resource is a typo (or outlived what it was for): say so, rather than
    quietly deploy without it."""
    for pattern in env.overrides:
        if pattern not in matched:
            raise workspace_file.error(f"override '{pattern}' of environment '{env_name}' matches no resource "
                                       "(addresses are kind.PROJECT.name, with * and ? as wildcards)",
                                       ("environments", env_name, "overrides", pattern))


def _merge(target: dict[str, Any], change: Mapping[str, Any]) -> None:
    """Maps merge key by key; anything else (lists, values) replaces what was there."""
    for k, v in change.items():
        if isinstance(v, Mapping) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        else:
            target[k] = copy.deepcopy(v)


def _check_names(source: ProjectSource, env_name: str, env: Environment) -> None:
    """Where an environment maps names, every name a project uses must be mapped: an unmapped one would
    silently point at whatever connection happens to bear that name on the instance."""
    errors: list[ConfigError] = []
    spec, err = source.spec, source.file.error
    for kind in registry.kinds():
        for name, entry in kind.entries(spec):
            for path, what, logical in kind.names_used(entry):
                mapped = env.remap.connections if what == CONNECTION else env.remap.code_envs
                if len(path) > 1 or not mapped or logical in mapped:
                    continue  # checked where written as its own key; a name inside params is the kind's to check
                loc = (*kind.config_path(name), *path)
                owner = kind.name.replace("_", " ") + ("" if name is None else f" '{name}'")
                label = f"{what.replace('_', ' ')} '{logical}' of {owner}"
                known = f" (remap.connections maps: {', '.join(sorted(mapped))})" if what == CONNECTION else ""
                errors.append(err(f"{label} has no mapping in environment '{env_name}'{known}", loc))
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
