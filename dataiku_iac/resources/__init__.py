"""Resource kinds, one module each, and the desired state of a whole workspace."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from .._gc import paused_gc
from ..secrets import MASK, tag_values
from . import passthrough, registry
from .address import Address
from .base import Desired, Kind, Remote
from .code_defaults import CodeDefaultsKind
from .code_env import CodeEnvKind
from .connection import ConnectionKind
from .context import EnvContext
from .dataset import DatasetKind
from .dataset_metrics import DatasetMetricsKind
from .exposed_object import ExposedObjectKind
from .git_library import GitLibraryKind
from .group import GroupKind
from .instance_base import link_instance
from .instance_variables import InstanceVariablesKind
from .managed_folder import ManagedFolderKind
from .permissions import PermissionsKind
from .project import ProjectKind
from .recipe import RecipeKind
from .scenario import ScenarioKind
from .user import UserKind
from .variables import VariablesKind
from .wiki_article import WikiArticleKind
from .zone import ZoneKind

if TYPE_CHECKING:
    from ..config.loader import WorkspaceConfig

# The built-in kinds, in the order project files, imports and screens list them.
for _kind in (ProjectKind(), VariablesKind(), PermissionsKind(), CodeDefaultsKind(), DatasetKind(),
              DatasetMetricsKind(), ManagedFolderKind(), RecipeKind(), ScenarioKind(), ZoneKind(),
              ExposedObjectKind(), GitLibraryKind(), WikiArticleKind(), ConnectionKind(), CodeEnvKind(), GroupKind(),
              UserKind(), InstanceVariablesKind()):
    registry.register(_kind)

KINDS = registry.KINDS

__all__ = ["KINDS", "Address", "Desired", "EnvContext", "Kind", "Remote", "build_desired", "registry"]


@paused_gc()
def build_desired(config: WorkspaceConfig, env: EnvContext) -> dict[Address, Desired]:
    from ..config.environment_view import check_overrides_used, view

    out: dict[Address, Desired] = {}
    keys = list(config.projects)
    matched: set[str] = set()
    for origin in config.projects.values():
        source, ctx = origin, env
        if env.environment is not None:
            source = view(origin, env.name, env.environment, config.file, keys, matched, env.environ)
        if env.design is not None and env.design.environment is not None:
            # A bundle environment gets what the design environment builds into the bundle (see variables.py).
            design = view(origin, env.design.name, env.design.environment, config.file, keys, None, env.design.environ)
            ctx = replace(env, design_view=design)
        sensitive = env.sensitive | source.sensitive
        if ctx.design is not None and ctx.design_view is not None:
            sensitive |= ctx.design.sensitive | ctx.design_view.sensitive
        for kind in KINDS.values():
            for d in [*kind.desired(source, ctx), *passthrough.desired(kind, source)]:
                out[d.address] = _tagged(d, sensitive)
    if env.environment is not None and config.projects:
        check_overrides_used(env.name, env.environment, config.file, matched)
    instance = config.instance_source(env.name, env.environ) if env.environment is not None else None
    if instance is not None:
        sensitive = env.sensitive | instance.sensitive
        for kind in registry.instance_kinds():
            for d in kind.instance_desired(instance.spec, env):
                out[d.address] = _tagged(d, sensitive)
    return link_instance(out)


def _tagged(d: Desired, sensitive: frozenset[str]) -> Desired:
    """`d` with the values that came from the environment marked sensitive, in its fields and in its notes."""
    fields = tag_values(d.fields, sensitive)
    notes = {k: _hide(note, sensitive) for k, note in d.notes.items()}
    return d if fields is d.fields and notes == d.notes else replace(d, fields=fields, notes=notes)


def _hide(text: str, sensitive: frozenset[str]) -> str:
    """A note (`warehouse -> pg_prod`) with each sensitive value in it masked, where it stands as a whole name."""
    for value in sorted(sensitive, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", MASK, text)
    return text
