"""The table of dataikuapi methods (api_table.json, docs/simulator.md): every public method of the classes of
the objects dss-iac manages is covered by a contract test or not supported with the simulator's error."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import pytest
from dataikuapi import DSSClient

from tests.conftest import AGAINST_REAL_DSS
from tests.contract.api_probe import objects, probe
from tests.contract.api_surface import DOC_BEGIN, DOC_END, DOC_PATH, load_table, markdown, surface

ROOT = Path(__file__).resolve().parents[2]
TABLE = load_table()
UNSUPPORTED = sorted(k for k, v in TABLE.items() if "unsupported" in v)


def test_every_public_method_is_covered_or_not_supported() -> None:
    methods = surface()
    neither = [m for m in methods if m not in TABLE]
    assert not neither, f"neither covered by a contract test nor listed as not supported: {neither}"
    assert not set(TABLE) - set(methods), "the table lists methods dataikuapi no longer has"
    assert all(len(v) == 1 and ({"covered"} == set(v) or {"unsupported"} == set(v)) for v in TABLE.values())


def test_covering_tests_exist() -> None:
    functions: dict[str, set[str]] = {}
    for row in TABLE.values():
        if "covered" in row:
            path, name = row["covered"].split("::")
            if path not in functions:
                tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
                functions[path] = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert name in functions[path], f"{row['covered']} is not a test any more"


def test_docs_show_the_table() -> None:
    doc = DOC_PATH.read_text(encoding="utf-8")
    assert doc[doc.index(DOC_BEGIN):doc.index(DOC_END) + len(DOC_END)] == markdown(TABLE)


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the errors are the simulator's")
@pytest.mark.parametrize("method", UNSUPPORTED)
def test_not_supported_methods_fail_as_the_table_says(dss: DSSClient, sim: Any, method: str) -> None:
    key = "PROBE_" + uuid.uuid4().hex[:8].upper()
    project = dss.create_project(key, key, dss.get_auth_info()["authIdentifier"])
    try:
        assert probe(objects(dss, project, sim.client("automation")), method, key) == TABLE[method]["unsupported"]
    finally:
        project.delete()
