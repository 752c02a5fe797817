"""`WorkspaceSettings`: dss-iac.yaml alone gives the environments and their states, whatever the project files hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dataiku_iac import ConfigError, Workspace, WorkspaceSettings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "simple-project"


@pytest.fixture
def applied(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
    with Workspace.load(root) as ws:
        assert ws.apply(ws.plan("dev")).ok
    return root


def test_the_states_read_without_the_project_files(applied: Path) -> None:
    with Workspace.load(applied) as ws:
        full = ws.state("dev")
    # A project file that no longer loads: the settings never read it.
    (applied / "projects" / "churn.yaml").write_text("project: [unclosed\n")
    settings = WorkspaceSettings.load(applied / "projects")  # from a subfolder, as Workspace.load finds its root
    assert settings.root == applied
    assert "dev" in settings.environments
    state = settings.state_store("dev").read()
    assert state is not None and state.serial == full.serial and set(state.resources) == set(full.resources)
    with pytest.raises(ConfigError, match="unknown environment 'staging'"):
        settings.state_store("staging")


def test_read_from_tells_whether_a_full_load_has_the_same_settings(applied: Path) -> None:
    settings = WorkspaceSettings.load(applied)
    with Workspace.load(applied) as ws:
        assert settings.read_from(ws.config)
    wfile = applied / "dss-iac.yaml"
    wfile.write_text(wfile.read_text() + "\n# edited\n")
    with Workspace.load(applied) as ws:
        assert not settings.read_from(ws.config)


def test_a_broken_workspace_file_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "dss-iac.yaml").write_text("version: 1\nenvironments: [\n")
    with pytest.raises(ConfigError, match=r"dss-iac.yaml:\d+:\d+"):
        WorkspaceSettings.load(tmp_path)
