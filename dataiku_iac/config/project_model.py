"""The project file's model as the registered kinds make it: `ProjectFile` and one collection per kind it lacks.

A kind registered beyond the built-in ones (see docs/adding-a-kind.md) gets its collection key in project files,
validated by its own model, in the config reference and in the JSON Schema, without editing `models.py`.
"""

from __future__ import annotations

from functools import cache
from types import GenericAlias
from typing import Annotated, Any

from pydantic import Field, create_model

from ..resources import registry
from .models import OBJECT_NAME, ProjectFile


def project_file_model() -> type[ProjectFile]:
    """The model project files are validated with, for the kinds registered now."""
    return _model(registry.version())


@cache
def _model(_version: int) -> type[ProjectFile]:
    extra: dict[str, Any] = {
        # `dict[name, kind.model]`, spelt as the alias it is: the model is only known at run time.
        kind.collection: (GenericAlias(dict, (Annotated[str, Field(pattern=OBJECT_NAME)], kind.model)),
                          Field(default_factory=dict, description=f"{kind.collection.replace('_', ' ')} by name "
                                                                  "(letters, digits, underscores)"))
        for kind in registry.kinds() if kind.collection is not None and kind.collection not in ProjectFile.model_fields}
    if not extra:
        return ProjectFile
    model: type[ProjectFile] = create_model("ProjectFile", __base__=ProjectFile, __doc__=ProjectFile.__doc__, **extra)
    return model
