"""The instance file's model, as the registered instance kinds make it: one section per kind.

An environment names its instance file (`instance: instance/prod.yaml`): the connections, code envs, groups,
users and global variables of that environment's DSS instance, each section keyed by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..resources import registry
from ..secrets import is_secret_key
from .envref import REF
from .models import MAX_NAME_LENGTH


class InstanceFile(BaseModel):
    """An environment's instance file: what its DSS instance holds beyond projects."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def instance_file_model() -> type[InstanceFile]:
    """The model instance files are validated with, for the instance kinds registered now."""
    return _model(registry.version())


@cache
def _model(_version: int) -> type[InstanceFile]:
    fields: dict[str, Any] = {}
    for kind in registry.instance_kinds():
        if kind.single:
            fields[kind.section] = (kind.model, Field(default_factory=dict, description=kind.section_help))
        else:
            name = Annotated[str, Field(pattern=kind.name_pattern, max_length=MAX_NAME_LENGTH)]
            by_name: Any = dict  # a mapping type made at run time, from the kind's model
            fields[kind.section] = (by_name[name, kind.model],
                                    Field(default_factory=dict, description=f"{kind.section.replace('_', ' ')} by "
                                          f"name ({kind.name_help})"))
    model: type[InstanceFile] = create_model("InstanceFile", __base__=InstanceFile, __doc__=InstanceFile.__doc__,
                                             **fields)
    return model


def literal_secrets(data: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Where an instance file writes a secret as a literal (a password, a key, a token under a key DSS keeps
    secret), rather than as `${env:NAME}`: a secret in Git is refused, wherever it is."""
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, str) and v and is_secret_key(str(k)) and not REF.fullmatch(v.strip()):
                yield (*loc, k)
            else:
                yield from literal_secrets(v, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from literal_secrets(v, (*loc, i))
