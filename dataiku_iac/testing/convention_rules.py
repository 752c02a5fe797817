"""The team's conventions, declared under `tests:` in dss-iac.yaml: a naming pattern per kind, tags every object
of a kind carries, kinds whose objects must be described. One rule per kind and convention, so that each can be
waived on its own (`naming.dataset`, `tags.recipe`, `description.scenario`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from ..config.models import TestSettings
from .rules import COLLECTIONS, ERROR_SEVERITY, Hit, Path, ProjectContext, Rule

_COLLECTION_OF = {kind: collection for collection, kind in COLLECTIONS.items()}


def _objects(ctx: ProjectContext, kind: str) -> Iterator[tuple[str, Path, Any]]:
    """(name, path of its key, model) of every object of `kind` in the project; the project is named by its key."""
    if kind == "project":
        yield ctx.spec.project.key, ("project", "key"), ctx.spec.project
        return
    collection = _COLLECTION_OF[kind]
    for name, obj in getattr(ctx.spec, collection).items():
        yield name, (collection, name), obj


def _label(kind: str) -> str:
    return kind.replace("_", " ")


def naming(kind: str, pattern: str, ctx: ProjectContext) -> Iterator[Hit]:
    compiled = re.compile(pattern)
    for name, path, _ in _objects(ctx, kind):
        if not compiled.search(name):
            yield Hit(path, f"{_label(kind)} name '{name}' does not match the team's pattern {pattern}")


def tags(kind: str, required: list[str], ctx: ProjectContext) -> Iterator[Hit]:
    for name, path, obj in _objects(ctx, kind):
        missing = [t for t in required if t not in obj.tags]
        if missing:
            where = path if kind != "project" else ("project",)
            yield Hit(where, f"{_label(kind)} '{name}' lacks the required tag{'s' * (len(missing) > 1)} "
                             f"{', '.join(missing)}")


def descriptions(kind: str, ctx: ProjectContext) -> Iterator[Hit]:
    for name, path, obj in _objects(ctx, kind):
        text = obj.description or (obj.short_desc if kind == "project" else "")
        if not text.strip():
            where = path if kind != "project" else ("project",)
            yield Hit(where, f"{_label(kind)} '{name}' has no description")


def convention_rules(settings: TestSettings) -> list[Rule]:
    rules: list[Rule] = []
    for kind, pattern in settings.naming.items():
        rules.append(Rule(f"naming.{kind}", f"{_label(kind)} names match {pattern}", ERROR_SEVERITY,
                          partial(naming, kind, pattern), "dss-iac.yaml"))
    for kind, required in settings.required_tags.items():
        rules.append(Rule(f"tags.{kind}", f"every {_label(kind)} is tagged {', '.join(required)}", ERROR_SEVERITY,
                          partial(tags, kind, list(required)), "dss-iac.yaml"))
    for kind in dict.fromkeys(settings.required_descriptions):
        rules.append(Rule(f"description.{kind}", f"every {_label(kind)} has a description", ERROR_SEVERITY,
                          partial(descriptions, kind), "dss-iac.yaml"))
    return rules
