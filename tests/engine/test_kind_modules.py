"""A kind owns everything about itself: its configuration model, with a description for every key, sits in the
kind's own module, and docs/adding-a-kind.md walks through a real kind's module as it is."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dataiku_iac import kinds
from dataiku_iac.config import reference
from dataiku_iac.resources import managed_folder

DOC = Path(__file__).resolve().parents[2] / "docs" / "adding-a-kind.md"
# Kinds whose models are still in config/models.py, described partly by config/reference.py's FIELD_NOTES:
# they move into resources/recipe.py and resources/scenario.py as the managed folder's did.
NOT_YET_MOVED = {"scenario"}


def _models_in(tp: Any, found: dict[type[BaseModel], None]) -> None:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp in found:
            return
        found[tp] = None
        for field in tp.model_fields.values():
            _models_in(field.annotation, found)
    for arg in typing.get_args(tp):
        _models_in(arg, found)


def _root_model(kind: Any) -> type[BaseModel]:
    model = kind.model
    return typing.get_args(model)[0] if typing.get_origin(model) is list else model  # permissions: a list


def test_each_built_in_kind_declares_its_model_in_its_own_module() -> None:
    moved = [k for k in kinds.kinds() if k.name not in NOT_YET_MOVED]
    assert {"project", "variables", "permissions", "dataset", "managed_folder", "zone"} <= {k.name for k in moved}
    for kind in moved:
        model = _root_model(kind)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue  # an open mapping (instance variables): no model of its own to place
        # Its module, or one named after it (`recipe_model.py` beside `recipe.py`).
        assert model.__module__.startswith(type(kind).__module__), \
            f"{kind.name}: {model.__name__} is in {model.__module__}"


def test_the_kinds_models_describe_every_key_themselves() -> None:
    found: dict[type[BaseModel], None] = {}
    for kind in kinds.kinds():
        if kind.name not in NOT_YET_MOVED:
            _models_in(_root_model(kind), found)
    own = [m for m in found if m.__module__.startswith("dataiku_iac.resources.")]
    assert {m.__name__ for m in own} >= {"Project", "Variables", "Permission", "Dataset", "Column", "ManagedFolder",
                                         "Zone"}
    for model in own:
        assert model.__doc__ and model.__name__ not in reference.MODEL_NOTES, model.__name__
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no Field(description=...)"
            assert (model.__name__, name) not in reference.FIELD_NOTES


def test_a_kinds_model_is_importable_alone_without_a_cycle() -> None:
    # The kind modules import the shared bases of config/models.py; config/project_model.py imports the kinds. A
    # cycle shows only when its first module is the first imported: each is imported first, in a fresh package.
    code = ("import importlib, sys\n"
            "for module in sys.argv[1:]:\n"
            "    for loaded in [m for m in sys.modules if m.startswith('dataiku_iac')]:\n"
            "        del sys.modules[loaded]\n"
            "    importlib.import_module(module)\n")
    first = ["dataiku_iac.resources.dataset", "dataiku_iac.resources.project", "dataiku_iac.resources.zone",
             "dataiku_iac.resources.permissions", "dataiku_iac.resources.variables", "dataiku_iac.config.project_model",
             "dataiku_iac.config.reference", "dataiku_iac.dsl"]
    subprocess.run([sys.executable, "-c", code, *first], check=True)


def test_the_walkthrough_quotes_the_managed_folder_module_as_it_is() -> None:
    source = inspect.getsource(managed_folder)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    quoted = [b for b in blocks if b.lstrip().startswith(("class ", "def "))]
    assert len(quoted) >= 3  # the model, the kind's attributes, `desired`
    for block in quoted:
        assert block in source, f"docs/adding-a-kind.md quotes code managed_folder.py no longer has:\n{block}"
