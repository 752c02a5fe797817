"""The public API is what `dataiku_iac.__all__` lists (as httpx's exported-members test checks its own): each name
resolves, nothing public is left out of it, and the front ends need nothing else (tests/test_layers.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dataiku_iac


def test_all_lists_every_public_member() -> None:
    for name in dataiku_iac.__all__:
        getattr(dataiku_iac, name)  # loads every lazy export
    public = sorted(name for name in vars(dataiku_iac) if not name.startswith("_") or name == "__version__")
    # Submodules the exports loaded become attributes of the package: they are internals, not API.
    modules = {name for name in public if type(getattr(dataiku_iac, name)).__name__ == "module"
               and name not in dataiku_iac.__all__}
    assert sorted(set(public) - modules - {"annotations", "importlib", "TYPE_CHECKING", "Any"}) == sorted(
        dataiku_iac.__all__)
    assert len(set(dataiku_iac.__all__)) == len(dataiku_iac.__all__)
    assert sorted(dir(dataiku_iac)) == sorted(set(dir(dataiku_iac)) | set(dataiku_iac.__all__))


def test_the_exports_are_dataiku_iac_s_own() -> None:
    for name in dataiku_iac.__all__:
        value = getattr(dataiku_iac, name)
        home = getattr(value, "__module__", None) or getattr(value, "__name__", "")
        if not isinstance(value, str | dict) and type(value).__name__ != "mappingproxy":
            assert home.startswith("dataiku_iac"), (name, home)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Wrkspace'"):
        dataiku_iac.Wrkspace  # noqa: B018


def test_importing_the_package_loads_nothing_heavy() -> None:
    # The exports are lazy: `dss-iac --help` and `import dataiku_iac.sim` do not pay for the engine.
    code = ("import sys, dataiku_iac; print(sorted(m for m in sys.modules if m.startswith('dataiku_iac.') "
            "or m in ('pydantic', 'dataikuapi', 'ruamel.yaml')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_action_reasons_are_public_with_stable_codes() -> None:
    # Scripts reading `plan --json` match on these codes: they are part of the API, like the names.
    assert dataiku_iac.ActionReason.CANNOT_UPDATE == "cannot_update"
    assert dataiku_iac.ActionReason("removed_from_config").text() == "removed from the config"
    assert dataiku_iac.Action.__dataclass_fields__["reason_code"].default is dataiku_iac.ActionReason.UNKNOWN
