"""examples/notebooks/workbench.ipynb runs headlessly in a real IPython kernel (nbclient + ipykernel), on the
scratch copy of the example that it makes itself, and does what it says."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import git
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebooks" / "workbench.ipynb"
KERNEL = "dss-iac-test-venv"


def _texts(cell: nbformat.NotebookNode) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        for key in ("text/plain", "text/html"):
            out.append(o.get("data", {}).get(key, ""))
    return "\n".join(out)


def test_the_example_notebook_runs_and_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A kernel spec of our own that starts this very interpreter: the venv's packages, and no network.
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "dss-iac tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's scratch workspace lands here
    run_dir = tmp_path / "run"
    run_dir.mkdir()

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # committed without outputs
    NotebookClient(nb, kernel_name=KERNEL, timeout=300, resources={"metadata": {"path": str(run_dir)}}).execute()

    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    text = "\n".join(_texts(c) for c in nb.cells if c.cell_type == "code")
    assert "The configuration is valid" in text
    assert "Plan for environment <code>dev</code>" in text and "11 to add" in text
    assert "~ standard.lookback_days = 90 -&gt; 120" in text  # the preview, before saving
    assert "<code>2:10</code> invalid value" in text  # the bad YAML, pointed at
    assert "+      - {name: country, type: string, comment: ISO code}" in text  # the diff
    assert "nothing to commit" in text
    assert "<b>No drift:</b> the 11 resources of environment <code>dev</code>" in text
    assert "<b>No changes.</b> DSS matches the configuration in environment <code>dev</code>." in text
    # In a kernel, `%dss_iac plan` renders the plan (HTML), and a project's flow is a picture.
    magic = next(c for c in nb.cells if c.source.startswith("%dss_iac -C {scratch} plan -e dev"))
    assert [o["data"]["text/html"][:28] for o in magic.outputs] == ['<div class="dss-iac-plan"><p']
    flow = next(c for c in nb.cells if c.source.startswith('ws.flow("CHURN"'))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="dss-iac-flow"' in flow.outputs[0]["data"]["text/html"]

    [scratch] = tmp_path.glob("dss-iac-workbench-*/my-dss-repo")
    repo = git.Repo(scratch)
    head = repo.head.commit
    assert head.author.name == "Notebook Demo"
    assert head.message.startswith("Look back 120 days")
    assert set(head.stats.files) == {"projects/churn.yaml"}
    assert len(list(repo.iter_commits())) == 2
    assert not repo.is_dirty(untracked_files=True)
