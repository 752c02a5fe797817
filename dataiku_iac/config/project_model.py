"""The project file's model: `ProjectFile`, made of the built-in kinds' models, and `project_file_model()`, which
adds one collection per kind registered beyond them.

Each kind's model lives in the kind's module (`resources/dataset.py` has `Dataset`). A kind registered beyond the
built-in ones (see docs/adding-a-kind.md) gets its collection key in project files (or, for a project-level kind
whose `config_path` is one top-level key, that key), validated by its own model, in the config reference and in
the JSON Schema, without editing this module.
"""

from __future__ import annotations

import typing
from functools import cache
from types import GenericAlias
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, create_model

from ..resources import registry
from ..resources.dataset import Dataset
from ..resources.managed_folder import ManagedFolder
from ..resources.passthrough import SECTION
from ..resources.project import Project
from ..resources.zone import Zone
from .models import MAX_NAME_LENGTH, OBJECT_NAME, Strict

if TYPE_CHECKING:
    from ..resources.recipe_model import Recipe
    from ..resources.scenario_models import Scenario

Name = Annotated[str, Field(pattern=OBJECT_NAME, max_length=MAX_NAME_LENGTH)]


def _names(kind: str) -> Any:
    return Field(default_factory=dict, description=f"{kind} by name (letters, digits, underscores; at most "
                                                    f"{MAX_NAME_LENGTH} characters)")


class ProjectFile(Strict):
    """One project file: the project and its flow."""

    project: Project = Field(description="the DSS project")
    datasets: dict[Name, Dataset] = _names("datasets")
    managed_folders: dict[Name, ManagedFolder] = _names("managed folders")
    zones: dict[Name, Zone] = _names("flow zones")
    if TYPE_CHECKING:  # added by the recipe and scenario kinds when they register (project_file_model below)
        recipes: dict[str, Recipe]
        scenarios: dict[str, Scenario]


def project_file_model() -> type[ProjectFile]:
    """The model project files are validated with, for the kinds registered now."""
    return _model(registry.version())


@cache
def _model(_version: int) -> type[ProjectFile]:
    extra: dict[str, Any] = {
        # `dict[name, kind.model]`, spelt as the alias it is: the model is only known at run time.
        kind.collection: (GenericAlias(dict, (Annotated[str, Field(pattern=OBJECT_NAME, max_length=MAX_NAME_LENGTH)],
                                              kind.model)),
                          Field(default_factory=dict, description=f"{kind.collection.replace('_', ' ')} by name "
                                                                  "(letters, digits, underscores; at most "
                                                                  f"{MAX_NAME_LENGTH} characters)"))
        for kind in registry.kinds() if kind.collection is not None and kind.collection not in ProjectFile.model_fields}
    # A project-level kind whose configuration is a top-level key of its own (`code_defaults:`), optional.
    for kind in registry.kinds():
        path = kind.config_path(None) if kind.collection is None else ()
        if len(path) == 1 and path[0] not in ProjectFile.model_fields:
            doc = " ".join((kind.model.__doc__ or "").split("\n\n")[0].split())
            extra[path[0]] = (kind.model | None, Field(default=None, description=doc))
    extra[SECTION] = (_passthrough_model(), Field(default=None, description=(
        "objects kept as their DSS document, for what their kind's typed form does not cover (a recipe type, a "
        "scenario step...): `dss-iac import` writes them here; by collection, then by name. The document is "
        "DSS's own minus what the server makes (version tags, project key, the object's name or id); dss-iac "
        "plans, applies, drifts and adopts it on the keys it sets (DSS's defaults and additions are left alone), in "
        "every environment as it is written (no overrides, no remapping)")))
    model: type[ProjectFile] = create_model("ProjectFile", __base__=ProjectFile, __doc__=ProjectFile.__doc__, **extra)
    return model


def _passthrough_model() -> Any:
    """The `passthrough:` section: one collection per kind whose objects can be kept as documents."""
    fields: dict[str, Any] = {
        kind.collection: (GenericAlias(dict, (Annotated[str, Field(pattern=OBJECT_NAME, max_length=MAX_NAME_LENGTH)],
                                              kind.document_model)) | None,
                          Field(default=None, description=f"{kind.name.replace('_', ' ')} documents by name: "
                                                          f"{kind.document_help}"))
        for kind in registry.kinds() if kind.writes_documents and kind.collection is not None}
    return create_model("Passthrough", __base__=Strict, __doc__="Objects kept as their DSS document.", **fields
                        ) | None


def models_by_name() -> dict[str, type[BaseModel]]:
    """Every model a project file is made of, by class name (`Dataset`, `Column`...): to explain the validation
    error of one built in Python, which names only its model."""
    found: dict[str, type[BaseModel]] = {}

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ in found:
                return
            found[tp.__name__] = tp
            for field in tp.model_fields.values():
                visit(field.annotation)
        for arg in typing.get_args(tp):
            visit(arg)

    visit(project_file_model())
    return found
