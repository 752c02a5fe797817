"""Instance objects edited in their environment's instance file: any value a user (or an adopt) writes reads back
exactly, the file's comments and the other objects untouched; a value the instance kinds refuse writes nothing."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataiku_iac import ConfigError, Workspace

WORKSPACE = """\
version: 1
projects: [projects/*.yaml]
environments:
  dev: {host: embedded, instance: instance/dev.yaml}
  qa: {host: embedded, instance: instance/dev.yaml}  # the same instance: one file
"""
INSTANCE = """\
# reviewed by the platform team
groups:
  analysts:
    description: the analysts  # who may build
connections:
  lake: {type: Filesystem, params: {root: /data/lake}}
variables:
  company: acme  # on every report
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("instance-edit")
    (root / "projects").mkdir()
    (root / "instance").mkdir()
    (root / "dss-iac.yaml").write_text(WORKSPACE)
    return root


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufeff"), max_size=30)
variable_values = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), texts,
                            st.lists(texts, max_size=3))


@settings(max_examples=40, deadline=None)
@given(description=texts, variable=variable_values, root_path=st.text(string.ascii_letters + "/_-.", max_size=20))
def test_any_value_written_reads_back_and_the_rest_stays(root: Path, description: str, variable: Any,
                                                          root_path: str) -> None:
    (root / "instance" / "dev.yaml").write_text(INSTANCE)
    ws = Workspace.load(root)
    ws.update_instance("dev", {"group.analysts": {"description": description},
                               "connection.lake": {"params": {"root": root_path}}},
                       created={"group.auditors": {"description": description}})
    if variable is not None:
        ws.update_instance("qa", {"instance_variables.global": {"company": variable}})
    again = Workspace.load(root)  # what the next run reads
    assert again.instance_declared("dev", "group.analysts") == {"description": description}
    assert again.instance_declared("qa", "group.auditors") == {"description": description}
    assert again.instance_declared("dev", "connection.lake")["params"] == {"root": root_path}
    assert again.instance_objects("dev")["instance_variables.global"] == {
        "company": "acme" if variable is None else variable}
    text = (root / "instance" / "dev.yaml").read_text()
    assert text.startswith("# reviewed by the platform team\n") and "# who may build" in text
    assert ("company: acme  # on every report" in text) == (variable is None)


def test_a_refused_value_writes_nothing(root: Path) -> None:
    (root / "instance" / "dev.yaml").write_text(INSTANCE)
    ws = Workspace.load(root)
    with pytest.raises(ConfigError, match=r"instance/dev.yaml:\d+:\d+.*a secret written in the file") as e:
        ws.update_instance("dev", {"connection.lake": {"params": {"password": "hunter2"}}})
    assert "hunter2" not in e.value.render()  # the value is never repeated
    with pytest.raises(ConfigError, match=r"is not declared in instance/dev\.yaml"):
        ws.update_instance("dev", {"group.nobody": {"description": "x"}})
    with pytest.raises(ConfigError, match="already declared"):
        ws.update_instance("dev", {}, created={"group.analysts": {}})
    assert (root / "instance" / "dev.yaml").read_text() == INSTANCE
