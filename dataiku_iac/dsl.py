"""The Python DSL: project files written in Python, for flows that are easier to compute than to type.

A workspace glob ending in `.py` (`projects: [projects/*.yaml, projects/*.py]`) picks Python project
files. Each runs in a fresh namespace and sets `project` to a `ProjectFile` built from the models
re-exported here: the very models YAML project files are validated into, so plans cannot tell the two
apart. Loops and comprehensions are the usual reason to write one:

    from dataiku_iac.dsl import Dataset, Project, ProjectFile, Recipe, columns

    REGIONS = ["emea", "amer", "apac"]

    project = ProjectFile(
        project=Project(key="SALES", name="Sales"),
        datasets={
            f"orders_{r}": Dataset(type="Filesystem", connection="storage", params={"path": f"/orders/{r}"},
                                   format="csv", schema=columns(id="bigint", amount="double"))
            for r in REGIONS
        },
        recipes={...},
    )

A dict of the same shape as a YAML project file is accepted too. `code:` paths are relative to the file.
"""

from __future__ import annotations

from collections.abc import Mapping

from .config.project_model import project_file_model
from .resources.dataset import Column, Dataset
from .resources.managed_folder import ManagedFolder
from .resources.permissions import Permission
from .resources.project import Project
from .resources.recipe_model import Recipe
from .resources.scenario_models import (
    BuildStep,
    ClearStep,
    DatasetsStep,
    DatasetTrigger,
    FollowTrigger,
    MailReporter,
    OtherReporter,
    OtherStep,
    OtherTrigger,
    PythonStep,
    PythonTrigger,
    RunScenarioStep,
    Scenario,
    SlackReporter,
    SqlStep,
    SqlTrigger,
    TeamsReporter,
    TemporalTrigger,
    VariablesStep,
    WebhookReporter,
)
from .resources.variables import Variables
from .resources.zone import Zone

# The project file's model with the collection of every kind registered at import (recipes and scenarios among
# them).
ProjectFile = project_file_model()

__all__ = [
    "BuildStep",
    "ClearStep",
    "Column",
    "Dataset",
    "DatasetTrigger",
    "DatasetsStep",
    "FollowTrigger",
    "MailReporter",
    "ManagedFolder",
    "OtherReporter",
    "OtherStep",
    "OtherTrigger",
    "Permission",
    "Project",
    "ProjectFile",
    "PythonStep",
    "PythonTrigger",
    "Recipe",
    "RunScenarioStep",
    "Scenario",
    "SlackReporter",
    "SqlStep",
    "SqlTrigger",
    "TeamsReporter",
    "TemporalTrigger",
    "Variables",
    "VariablesStep",
    "WebhookReporter",
    "Zone",
    "columns",
]


def columns(types: Mapping[str, str] | None = None, /, **more: str) -> list[Column]:
    """A dataset schema from column names and types, in order: `columns(id="bigint", email="string")`.

    Names that are not Python identifiers go in a mapping: `columns({"order date": "date"}, amount="double")`.
    Use `Column(name=..., type=..., comment=...)` for columns with a comment.
    """
    return [Column(name=name, type=type_) for name, type_ in {**(types or {}), **more}.items()]
