"""Built-in static rules about the flow: objects nothing uses, outputs with two writers, inputs nothing builds,
scenarios that build what does not exist or that datasets which do not exist trigger. They read the typed model
only: no DSS call.

`flow.multiple-writers` and `scenario.unknown-item` are also refused when a workspace loads (DSS refuses them
too), so on files they are found by `validate` first; the rules check models made by other means (the Python
API) and keep every flow check in one report.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..config.checks import split_ref
from ..resources.scenario import scenarios_of
from ..resources.scenario_models import DatasetTrigger
from .rules import ERROR_SEVERITY, WARNING_SEVERITY, Hit, ProjectContext, Rule


def _readers(ctx: ProjectContext) -> set[str]:
    """Names of this project's datasets and folders that some recipe of the workspace reads."""
    read: set[str] = set()
    for key, spec in ctx.projects.items():
        for recipe in spec.recipes.values():
            for ref in recipe.inputs:
                owner, name = split_ref(ref, key)
                if owner == ctx.key:
                    read.add(name)
    return read


def _writers(spec_recipes: dict[str, list[str]]) -> dict[str, list[str]]:
    """output name -> the recipes that write it, in file order."""
    out: dict[str, list[str]] = {}
    for recipe, outputs in spec_recipes.items():
        for name in outputs:
            out.setdefault(name, []).append(recipe)
    return out


def orphans(ctx: ProjectContext) -> Iterator[Hit]:
    spec = ctx.spec
    used = _readers(ctx) | {o for r in spec.recipes.values() for o in r.outputs}
    for collection, what in (("datasets", "dataset"), ("managed_folders", "managed folder")):
        for name in getattr(spec, collection):
            if name not in used:
                yield Hit((collection, name), f"{what} '{name}' is neither read nor written by any recipe")


def multiple_writers(ctx: ProjectContext) -> Iterator[Hit]:
    writers = _writers({n: list(r.outputs) for n, r in ctx.spec.recipes.items()})
    for name, recipes in writers.items():
        for recipe in recipes[1:]:
            i = ctx.spec.recipes[recipe].outputs.index(name)
            yield Hit(("recipes", recipe, "outputs", i),
                      f"'{name}' is also written by recipe '{recipes[0]}': a dataset or folder has one writer")


def unbuilt_inputs(ctx: ProjectContext) -> Iterator[Hit]:
    """A managed dataset or folder is filled by the recipe that writes it: read with no writer, it stays empty."""
    for rname, recipe in ctx.spec.recipes.items():
        for i, ref in enumerate(recipe.inputs):
            owner, name = split_ref(ref, ctx.key)
            spec = ctx.projects.get(owner)
            if spec is None:
                continue  # another project outside the workspace: nothing to say about it
            built = any(name in r.outputs for r in spec.recipes.values())
            dataset = spec.datasets.get(name)
            managed = dataset.managed if dataset is not None else name in spec.managed_folders
            if managed and not built:
                where = "" if owner == ctx.key else f" of project {owner}"
                yield Hit(("recipes", rname, "inputs", i),
                          f"input '{ref}' is managed{where} but no recipe builds it: it stays empty (declare the "
                          "recipe that writes it, or make it an external dataset)")


def unknown_build_items(ctx: ProjectContext) -> Iterator[Hit]:
    known = set(ctx.spec.datasets) | set(ctx.spec.managed_folders)
    for sname, scenario in scenarios_of(ctx.spec).items():
        for s, step in enumerate(scenario.steps):
            for i, item in enumerate(getattr(step, "items", ())):
                if item not in known:
                    yield Hit(("scenarios", sname, "steps", s, "items", i),
                              f"step builds '{item}', which is no dataset or managed folder of project {ctx.key}")


def unknown_trigger_datasets(ctx: ProjectContext) -> Iterator[Hit]:
    """A dataset trigger on a name the project has no dataset of never fires (DSS keeps it all the same)."""
    for sname, scenario in scenarios_of(ctx.spec).items():
        for t, trigger in enumerate(scenario.triggers):
            if not isinstance(trigger, DatasetTrigger):
                continue
            for i, name in enumerate(trigger.datasets):
                if name not in ctx.spec.datasets:
                    yield Hit(("scenarios", sname, "triggers", t, "datasets", i),
                              f"trigger watches '{name}', which is no dataset of project {ctx.key}: it never fires")


FLOW_RULES = (
    Rule("flow.orphan", "every dataset and folder is read or written by a recipe", WARNING_SEVERITY, orphans),
    Rule("flow.multiple-writers", "a dataset or folder is written by one recipe only", ERROR_SEVERITY,
         multiple_writers),
    Rule("flow.unbuilt-input", "a managed input is built by a recipe", ERROR_SEVERITY, unbuilt_inputs),
    Rule("scenario.unknown-item", "scenario steps build datasets and folders that exist", ERROR_SEVERITY,
         unknown_build_items),
    Rule("scenario.unknown-trigger-dataset", "scenario triggers watch datasets that exist", ERROR_SEVERITY,
         unknown_trigger_datasets),
)
