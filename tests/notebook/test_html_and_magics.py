"""Plans, drift reports and errors render as HTML in a cell; `%dss_iac` is the command line in a notebook."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dataiku_iac.notebook import magics

from dataiku_iac import Workspace
from dataiku_iac.drift import DriftItem, DriftReport
from dataiku_iac.errors import ConfigError, ConfigErrors, Position
from dataiku_iac.plan.diff import FieldChange

SIMPLE = Path(__file__).resolve().parents[2] / "examples" / "simple-project"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    shutil.copytree(SIMPLE, tmp_path / "ws")
    with Workspace.load(tmp_path / "ws") as w:
        yield w


def test_a_plan_renders_as_a_coloured_diff_with_secrets_masked(ws: Workspace) -> None:
    ws.update_resource("dataset.CHURN.customers_raw", {"params": {"password": "hunter2"}})
    html = ws.plan("dev")._repr_html_()
    assert html.startswith('<div class="dss-iac-plan">') and "11 to add" in html
    created = '<span style="color: #22863a; font-weight: bold">  + dataset &quot;CHURN.customers_raw&quot; {</span>'
    assert created in html
    assert "hunter2" not in html and "(sensitive)" in html and "1 sensitive value(s) masked" in html
    assert "<script" not in html


def test_a_plan_without_changes_says_so(ws: Workspace) -> None:
    ws.apply(ws.plan("dev"))
    html = ws.plan("dev")._repr_html_()
    assert "<b>No changes.</b>" in html and "<pre" not in html


def test_drift_reports_render() -> None:
    report = DriftReport("dev", (
        DriftItem("variables.CHURN", "variables", "changed", (FieldChange("standard.threshold", "0.4", "0.99"),)),
        DriftItem("dataset.CHURN.events_raw", "dataset", "deleted")), 11)
    html = report._repr_html_()
    assert "Drift in environment <code>dev</code>:</b> 2 of 11 resources" in html
    assert "~ standard.threshold = &quot;0.4&quot; -&gt; &quot;0.99&quot;" in html
    assert '<span style="color: #cb2431; font-weight: bold">  - dataset.CHURN.events_raw: deleted outside dss-iac' \
           in html
    assert "No drift" in DriftReport("dev", (), 11)._repr_html_()


def test_objects_made_by_hand_render_in_plans_and_drift_reports(ws: Workspace) -> None:
    ws.apply(ws.plan("dev"))
    ws.connection("dev").client.get_project("CHURN").create_fslike_dataset("by_hand", "Filesystem",
                                                                           "filesystem_managed", "/hand")
    line = '<span style="color: #0366d6; font-weight: bold">  ? dataset.CHURN.by_hand</span>'
    hint = "# to manage it: dss-iac import -e dev --project CHURN"
    html = ws.plan("dev")._repr_html_()
    assert "<b>No changes.</b>" in html and line in html and hint in html
    html = ws.drift("dev")._repr_html_()
    assert "Drift in environment <code>dev</code>:</b> 1 object(s) not managed." in html
    assert line in html and hint in html


def test_configuration_errors_render_with_their_positions() -> None:
    one = ConfigError("unknown key '<x>'", Position("projects/a.yaml", 3, 5))
    assert "<code>projects/a.yaml:3:5</code>: unknown key &#x27;&lt;x&gt;&#x27;" in one._repr_html_()
    many = ConfigErrors([one, ConfigError("file not found", file="projects/b.yaml")])
    html = many._repr_html_()
    assert "(2 problems)" in html and html.count("<li>") == 2 and "<code>projects/b.yaml</code>" in html


def test_the_core_renders_html_without_notebook_toolkits() -> None:
    code = ("import sys, dataiku_iac.plan.render_html, dataiku_iac.config.edit, dataiku_iac.notebook.magics; "
            "print(sorted(m for m in ('ipywidgets', 'IPython', 'git') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_the_magic_runs_the_command_line(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert magics.run(f"-C {ws.root} validate") == 0
    assert "The configuration is valid" in capsys.readouterr().out
    assert magics.run(f"-C {ws.root} plan -e dev --detailed-exitcode") == 2
    out, err = capsys.readouterr()
    assert "Plan: 11 to add, 0 to change, 0 to destroy." in out and "\x1b[" not in out
    assert "(dss-iac exited with code 2)" in err
    assert magics.run("plan -e dev --bogus") == 64
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert magics.run("plan 'unclosed") == 64


def test_load_ext_registers_the_magic(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "dataiku_iac.notebook")
        shell.run_line_magic("dss_iac", f"-C {ws.root} validate")
        assert "The configuration is valid" in capsys.readouterr().out
        shell.run_line_magic("unload_ext", "dataiku_iac.notebook")
        assert "dss_iac" not in shell.magics_manager.magics["line"]
    finally:
        InteractiveShell.clear_instance()
