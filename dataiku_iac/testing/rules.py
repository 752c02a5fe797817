"""Static rules: what one is (an id, a summary, a default severity, a check over one project's typed model), and
the `lint_rule` decorator with which a team writes its own in Python.

A check yields hits: `(path, message)` where `path` is a key path in the project file, such as
`("datasets", "orders", "format")`; its first two steps name the object the hit is about (waivers are looked up
there) and the whole path says where in the file to point.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from ..config.models import TestSettings
    from ..config.project_model import ProjectFile

Path: TypeAlias = tuple[str | int, ...]
ERROR_SEVERITY, WARNING_SEVERITY, OFF = "error", "warning", "off"
# Project file collection -> the kind of its objects (as addresses and `tests.naming` spell it).
COLLECTIONS = {"datasets": "dataset", "managed_folders": "managed_folder", "recipes": "recipe",
               "scenarios": "scenario", "zones": "zone"}


@dataclass(frozen=True)
class Hit:
    """One place where a rule is broken."""

    path: Path
    message: str


@dataclass(frozen=True)
class ProjectContext:
    """What a built-in rule sees: the project, every project of the workspace (for cross-project references),
    and the team's settings."""

    spec: ProjectFile
    projects: Mapping[str, ProjectFile]
    settings: TestSettings

    @property
    def key(self) -> str:
        return self.spec.project.key


Check = Callable[[ProjectContext], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    severity: str  # error | warning
    check: Check
    origin: str = "built-in"  # or the file of a team's rule


@dataclass(frozen=True)
class RuleSpec:
    """What `@lint_rule` records on a function."""

    id: str
    summary: str
    severity: str
    function: Callable[..., Any] = field(compare=False)


RULE_ATTRIBUTE = "__dss_iac_rule__"


def lint_rule(rule_id: str, summary: str = "", *, severity: str = ERROR_SEVERITY) -> Callable[[Any], Any]:
    """Mark a function of a file listed in `tests.custom_rules` as a static rule. It receives one project's typed
    model (`ProjectFile`: `.project`, `.datasets`, `.recipes`...) and yields, for each problem, `(path, message)`
    with `path` a key path such as `("datasets", name)`, or just a message (about the project itself)::

        from dataiku_iac import lint_rule

        @lint_rule("team.parquet-only", "managed datasets are stored as parquet")
        def parquet_only(project):
            for name, ds in project.datasets.items():
                if ds.managed and ds.format != "parquet":
                    yield ("datasets", name, "format"), f"{name} is stored as {ds.format}"
    """
    from ..config.testing_models import RULE_ID

    if not re.match(RULE_ID, rule_id):
        raise ValueError(f"rule id '{rule_id}' must be dotted lowercase words, such as team.parquet-only")
    if severity not in (ERROR_SEVERITY, WARNING_SEVERITY):
        raise ValueError(f"severity must be '{ERROR_SEVERITY}' or '{WARNING_SEVERITY}', not '{severity}'")

    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        doc = (function.__doc__ or "").strip().splitlines()
        setattr(function, RULE_ATTRIBUTE, RuleSpec(rule_id, summary or (doc[0] if doc else rule_id), severity,
                                                   function))
        return function

    return mark


def object_of(path: Path) -> tuple[str, str | None]:
    """The (kind, name) a hit's path is about: `("datasets", "x", ...)` -> ("dataset", "x"); anything else is
    about the project itself."""
    if len(path) >= 2 and path[0] in COLLECTIONS:
        return COLLECTIONS[str(path[0])], str(path[1])
    return "project", None


def waivers_of(spec: ProjectFile, kind: str, name: str | None) -> Mapping[str, str]:
    if kind == "project" or name is None:
        return spec.project.waivers
    collection = next(c for c, k in COLLECTIONS.items() if k == kind)
    obj = getattr(spec, collection).get(name)
    return getattr(obj, "waivers", {}) if obj is not None else {}
