"""Workspace.files_changed: whether loading again would read other texts (front ends skip reloading otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dataiku_iac import Workspace

from ..engine.conftest import write_workspace

PROJECT = """\
project: {key: CHURN, name: Churn}
recipes:
  clean: {type: python, inputs: [], outputs: [clean], code: ../recipes/clean.py}
datasets:
  clean: {type: Filesystem, managed: true, connection: filesystem_managed}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_workspace(tmp_path, {"churn": PROJECT}, files={"recipes/clean.py": "print('v1')\n"})


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


EDITS: dict[str, Callable[[Path], None]] = {
    "workspace file": lambda r: append(r / "dss-iac.yaml", "# a comment\n"),
    "project file": lambda r: append(r / "projects" / "churn.yaml", "# a comment\n"),
    "recipe code": lambda r: (r / "recipes" / "clean.py").write_text("print('v2')\n"),
    "project added": lambda r: (r / "projects" / "more.yaml").write_text("project: {key: MORE, name: More}\n"),
    "project removed": lambda r: (r / "projects" / "churn.yaml").unlink(),
    "file unreadable": lambda r: (r / "projects" / "churn.yaml").write_bytes(b"\xff\xfe"),
}


def test_untouched_files_are_not_changed(root: Path) -> None:
    ws = Workspace.load(root)
    (root / "notes.txt").write_text("not part of the configuration\n")
    assert not ws.files_changed()


@pytest.mark.parametrize("edit", EDITS.values(), ids=list(EDITS))
def test_every_edit_that_would_change_the_digest_is_seen(root: Path, edit: Callable[[Path], None]) -> None:
    ws = Workspace.load(root)
    edit(root)
    assert ws.files_changed()


def test_the_same_text_written_again_is_not_a_change(root: Path) -> None:
    ws = Workspace.load(root)
    path = root / "projects" / "churn.yaml"
    path.write_text(path.read_text())
    assert not ws.files_changed()
    assert Workspace.load(root).config.digest == ws.config.digest


def test_python_projects_always_count_as_changed(tmp_path: Path) -> None:
    root = write_workspace(tmp_path, {}, """\
        version: 1
        projects: [projects/*.py]
        environments: {dev: {host: embedded}}
        """, files={"projects/tiny.py": """\
        from dataiku_iac.dsl import Project, ProjectFile

        project = ProjectFile(project=Project(key="TINY", name="Tiny"))
        """})
    assert Workspace.load(root).files_changed()  # what it builds may read more than its own text
