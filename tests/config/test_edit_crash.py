"""A process killed with -9 while saving an edit of several files: the next load leaves either every old
content or every new one, never a mix, and no staging files behind."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.config.loader import EDIT_JOURNAL

SIMPLE = Path(__file__).parents[2] / "examples" / "simple-project"

# Saves one edit of dss-iac.yaml with an edit of the project file (or its deletion) together, killing itself
# (SIGKILL) right after its k-th file-system step (a file written and synced, or a file renamed); k = 0
# never kills.
SAVER = """
import os, signal, sys
from dataiku_iac import Workspace, _fs
from dataiku_iac.config import edit

root, kill_after = sys.argv[1], int(sys.argv[2])
steps = 0

def counted(fn):
    def step(*args, **kwargs):
        global steps
        result = fn(*args, **kwargs)
        steps += 1
        if steps == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return step

with Workspace.load(root) as ws:
    _fs._write_synced = counted(_fs._write_synced)
    os.replace = counted(os.replace)
    setting = edit.update_setting(ws.config, ("environments", "dev", "variables", "threshold"), "0.7")
    if sys.argv[3] == "update":
        project = edit.update(ws.config, "variables.CHURN", {"standard": {"threshold": "0.6"}})
    else:
        project = edit.remove(ws.config, "project.CHURN")  # deletes projects/churn.yaml
    edit.save(ws.config, setting, project)
print(steps)
"""


def save_killed_after(root: Path, k: int, operation: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SAVER, str(root), str(k), operation], capture_output=True,
                          text=True, timeout=60)


def contents(root: Path) -> tuple[str, str | None]:
    project = root / "projects" / "churn.yaml"
    return (root / "dss-iac.yaml").read_text(), project.read_text() if project.exists() else None


@pytest.mark.parametrize("operation", ["update", "delete"])
def test_a_save_killed_at_any_step_is_all_or_nothing_after_the_next_load(tmp_path: Path, operation: str) -> None:
    template = tmp_path / "template"
    shutil.copytree(SIMPLE, template)
    old = contents(template)

    whole = tmp_path / "whole"
    shutil.copytree(template, whole)
    done = save_killed_after(whole, 0, operation)
    assert done.returncode == 0, done.stderr
    new, steps = contents(whole), int(done.stdout)
    assert new[0] != old[0] and new[1] != old[1]
    assert steps >= 5  # the journal twice, the files staged, then renamed (a deleted file: nothing staged)

    outcomes = []
    for k in range(1, steps + 1):
        root = tmp_path / f"killed-after-{k}"
        shutil.copytree(template, root)
        killed = save_killed_after(root, k, operation)
        assert killed.returncode == -9, killed.stderr
        with Workspace.load(root) as ws:  # the next load finishes or undoes the interrupted save
            assert ws.config.spec.environments["dev"].variables["threshold"] in {"0.4", "0.7"}
            assert ("CHURN" in ws.config.projects) == (contents(root)[1] is not None)
        assert contents(root) in (old, new), f"killed after step {k}: old and new contents mixed"
        assert not (root / EDIT_JOURNAL).exists()
        assert sorted(p.name for p in root.rglob("*.staged")) == []
        outcomes.append("new" if contents(root) == new else "old")
    # Until every new content is staged the save is undone; from then on it is finished, so it is not lost.
    assert outcomes[0] == "old" and outcomes[-1] == "new"
    assert outcomes == sorted(outcomes, key=["old", "new"].index)


def test_a_journal_left_by_a_writer_that_still_runs_is_not_touched(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(SIMPLE, root)
    journal = root / EDIT_JOURNAL
    journal.parent.mkdir(parents=True, exist_ok=True)
    staged = root / ".dss-iac.yaml.1.staged"
    staged.write_text("version: 1\n")
    # A process that still runs (this test's parent) plays the other writer, mid-save: leave its journal alone.
    record = {"pid": os.getppid(), "host": socket.gethostname(), "step": "replacing",
              "files": [[str(staged), str(root / "dss-iac.yaml")]]}
    journal.write_text(json.dumps(record))
    before = contents(root)
    with Workspace.load(root):
        pass
    assert contents(root) == before and journal.exists() and staged.exists()
