"""What a scenario names, checked across the workspace: the items its steps build, the scenarios it runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .address import split_ref
from .scenario import scenarios_of

if TYPE_CHECKING:
    from ..config.loader import ProjectSource


def scenario_references(source: ProjectSource, projects: Mapping[str, ProjectSource]) -> list[ConfigError]:
    spec, key, err = source.spec, source.key, source.file.error
    flow = set(spec.datasets) | set(spec.managed_folders)
    errors: list[ConfigError] = []
    for sname, scenario in scenarios_of(spec).items():
        for s, step in enumerate(scenario.steps):
            for i, item in enumerate(getattr(step, "items", ())):
                if item not in flow:
                    errors.append(err(f"{step.type} step item '{item}' names no dataset or managed folder of "
                                      f"project {key}", ("scenarios", sname, "steps", s, "items", i)))
            for i, ref in enumerate(getattr(step, "datasets", ())):
                other, name = split_ref(ref, key)
                known = spec.datasets if other == key else \
                    (projects[other].spec.datasets if other in projects else None)
                if known is not None and name not in known:
                    errors.append(err(f"{step.type} step dataset '{ref}' names no dataset of project {other}",
                                      ("scenarios", sname, "steps", s, "datasets", i)))
        refs: list[tuple[tuple[str, int], Any]] = [
            (("steps", s), step) for s, step in enumerate(scenario.steps) if step.type == "run_scenario"]
        refs += [(("triggers", t), trig) for t, trig in enumerate(scenario.triggers) if trig.type == "follow_scenario"]
        for where, item in refs:
            ref = str(item.scenario)
            if "." not in ref and ref not in scenarios_of(spec):
                errors.append(err(f"'{ref}' names no scenario of project {key} (another project's: PROJECT.ID)",
                                  ("scenarios", sname, *where, "scenario")))
    return errors
