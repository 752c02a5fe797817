"""Checks across a workspace's projects that the schema alone cannot make: references, uniqueness, cycles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..resources import registry
from ..resources.address import split_ref
from ..resources.passthrough import entries, names, place
from ..resources.scenario_checks import scenario_references

if TYPE_CHECKING:
    from .loader import ProjectSource


def check_projects(projects: Mapping[str, ProjectSource]) -> list[ConfigError]:
    errors: list[ConfigError] = []
    for source in projects.values():
        errors.extend(_check_project(source, projects))
        for kind in registry.kinds():
            errors.extend(kind.checked(source, projects))
    return errors


def _check_project(source: ProjectSource, projects: Mapping[str, ProjectSource]) -> list[ConfigError]:
    spec, key, err = source.spec, source.key, source.file.error
    errors: list[ConfigError] = []
    datasets, folders, recipes = (names(spec, kind) for kind in ("dataset", "managed_folder", "recipe"))
    errors.extend(_check_passthrough(source))

    for name in sorted(datasets & folders):
        errors.append(err(f"'{name}' is both a dataset and a managed folder: flow names must be unique",
                          ("managed_folders", name), at_key=True))

    writer: dict[str, str] = {}
    for rname, recipe in spec.recipes.items():
        for i, ref in enumerate(recipe.inputs):
            other, name = split_ref(ref, key)
            if other == key:
                if name not in datasets and name not in folders:
                    errors.append(err(f"recipe input '{ref}' names no dataset or managed folder of project {key}",
                                      ("recipes", rname, "inputs", i)))
            elif other not in projects:
                errors.append(err(f"recipe input '{ref}': project {other} is not in this workspace",
                                  ("recipes", rname, "inputs", i)))
            elif name not in names(projects[other].spec, "dataset") | names(projects[other].spec, "managed_folder"):
                errors.append(err(f"recipe input '{ref}' names no dataset or managed folder of project {other}",
                                  ("recipes", rname, "inputs", i)))
        for i, ref in enumerate(recipe.outputs):
            loc = ("recipes", rname, "outputs", i)
            if "." in ref:
                errors.append(err(f"recipe output '{ref}' must be a dataset or folder of this project", loc))
            elif ref not in datasets and ref not in folders:
                errors.append(err(f"recipe output '{ref}' names no dataset or managed folder of project {key}", loc))
            elif ref in writer:
                errors.append(err(f"'{ref}' is already the output of recipe '{writer[ref]}': "
                                  "a dataset has at most one writer", loc))
            else:
                writer[ref] = rname
    errors.extend(_check_cycles(source, writer))

    errors.extend(scenario_references(source, projects))

    zone_of: dict[str, str] = {}
    for zname, zone in spec.zones.items():
        for i, item in enumerate(zone.items):
            loc = ("zones", zname, "items", i)
            if item not in datasets and item not in folders and item not in recipes:
                errors.append(err(f"zone item '{item}' names no dataset, managed folder or recipe of project {key}",
                                  loc))
            elif item in zone_of:
                errors.append(err(f"'{item}' is already in zone '{zone_of[item]}': an object lives in one zone", loc))
            else:
                zone_of[item] = zname
    return errors


def _check_passthrough(source: ProjectSource) -> list[ConfigError]:
    """A passthrough object is declared once: not also in its kind's own collection."""
    errors: list[ConfigError] = []
    for kind in registry.kinds():
        for name in sorted(set(entries(source.spec, kind)) & set(getattr(source.spec, str(kind.collection), {}))):
            errors.append(source.file.error(f"{kind.name.replace('_', ' ')} '{name}' is declared both in "
                                            f"{kind.collection} and in {place(kind, name)[0]}.{kind.collection}: "
                                            "keep one", place(kind, name), at_key=True))
    return errors


def _check_cycles(source: ProjectSource, writer: dict[str, str]) -> list[ConfigError]:
    """Recipes form a cycle when one's input is, through other recipes, built from its own output."""
    spec = source.spec
    upstream: dict[str, set[str]] = {}
    for rname, recipe in spec.recipes.items():
        upstream[rname] = {writer[i] for i in recipe.inputs if "." not in i and i in writer}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    # Depth first without recursion: a chain of thousands of recipes must not exhaust Python's stack.
    for start in sorted(upstream):
        if start in state:
            continue
        state[start] = 1
        path, todo = [start], [iter(sorted(upstream[start]))]
        while path:
            up = next(todo[-1], None)
            if up is None:
                state[path.pop()] = 2
                todo.pop()
            elif state.get(up) == 1:
                cycle = [*path[path.index(up):], up]
                if len(cycle) > 12:
                    cycle = [*cycle[:5], f"({len(cycle) - 8} more)", *cycle[-3:]]
                return [source.file.error(f"dependency cycle between recipes: {' <- '.join(cycle)}", ("recipes", up),
                                          at_key=True)]
            elif up not in state:
                state[up] = 1
                path.append(up)
                todo.append(iter(sorted(upstream[up])))
    return []
