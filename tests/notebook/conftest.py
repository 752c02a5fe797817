"""A Git repository holding a copy of the simple-project example, and a workbench open on it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import git
import pytest
from dataiku_iac.notebook import Workbench

from tests.gitrepos import make_repo

SIMPLE = Path(__file__).resolve().parents[2] / "examples" / "simple-project"


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    """The example, committed, with a user identity."""
    root = tmp_path / "ws"
    shutil.copytree(SIMPLE, root)
    return make_repo(root, files={})


@pytest.fixture
def wb(repo: git.Repo) -> Iterator[Workbench]:
    w = Workbench(repo.working_tree_dir, env="dev")
    yield w
    w.close()
