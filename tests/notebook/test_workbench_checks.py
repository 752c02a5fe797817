"""What the workbench refuses (what `validate` refuses, values a file cannot hold), how it shows Python project
files (read-only, yet planned, applied and checked for drift), what an environment makes of the variables, the
project's flow, and the `%dss_iac` magic rendering plans where a notebook can show them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dataiku_iac.notebook import Workbench, magics

from dataiku_iac import kinds
from dataiku_iac.drift import DriftReport
from dataiku_iac.plan.model import Plan
from tests.gitrepos import make_repo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def churn(wb: Workbench) -> Path:
    return wb.ws.root / "projects" / "churn.yaml"


# -- Save refuses what validate refuses -------------------------------------------------------------------------


def test_save_refuses_an_unknown_connection_with_the_located_error(wb: Workbench) -> None:
    before = churn(wb).read_bytes()
    wb.form.connection.value = "nowhere"
    wb.save_button.click()
    html = wb.message.value
    assert "<code>projects/churn.yaml:39:17</code>: connection &#x27;nowhere&#x27; of dataset " in html
    assert "has no mapping in environment &#x27;dev&#x27;" in html
    assert "has no mapping in environment &#x27;prod&#x27;" in html
    assert churn(wb).read_bytes() == before and wb.touched == []


def test_save_refuses_a_remapping_hole_that_the_preview_of_dev_does_not_see(wb: Workbench) -> None:
    settings = wb.ws.root / "dss-iac.yaml"
    mapped = "        folders: filesystem_folders\n"
    settings.write_text(settings.read_text().replace(mapped, mapped + "        lake: filesystem_managed\n"))
    wb.reload_button.click()
    before = churn(wb).read_bytes()
    wb.form.connection.value = "lake"  # dev maps it, prod does not
    wb.preview_button.click()
    assert "# connection: lake -&gt; filesystem_managed" in wb.output.value  # dev is fine with it
    wb.save_button.click()
    assert "connection &#x27;lake&#x27; of dataset &#x27;customers_raw&#x27; has no mapping in environment " \
           "&#x27;prod&#x27;" in wb.message.value
    assert churn(wb).read_bytes() == before


def test_a_date_is_refused_as_it_is_typed_not_at_save(wb: Workbench) -> None:
    before = churn(wb).read_bytes()
    wb.select("variables.CHURN")
    wb.form.table.rows[1][2].value = "2024-01-01"  # YAML reads a date
    assert ("variables.standard.lookback_days: 2024-01-01 reads as a date, which DSS cannot store: quote it to keep "
            "it as text (&#x27;2024-01-01&#x27;)") in wb.message.value
    wb.form.table.rows[1][2].value = "'2024-01-01'"
    assert wb.message.value.endswith("unsaved changes</span>")
    wb.select("dataset.CHURN.customers_raw", discard=True)
    wb.yaml.value = wb.yaml.value.replace("description: Nightly extract of the CRM customer table",
                                          "description: 2024-01-01")
    line = wb.yaml.value.splitlines().index("description: 2024-01-01") + 1
    assert (f"<code>{line}:14</code> 2024-01-01 reads as a date, which DSS cannot store: quote it to keep it as "
            "text (&#x27;2024-01-01&#x27;)") in wb.message.value
    wb.save_button.click()
    assert churn(wb).read_bytes() == before


# -- Python project files ---------------------------------------------------------------------------------------


ORDERS_YAML = """\
project:
  key: ORDERS
  name: Orders
  variables:
    standard: {window: 7}
datasets:
  orders_copy:
    type: Filesystem
    managed: true
    connection: storage
    format: csv
"""


@pytest.fixture
def mixed(tmp_path: Path) -> Iterator[Workbench]:
    """The python-dsl example (SALES, a Python file) with a YAML project beside it (ORDERS)."""
    root = tmp_path / "mixed"
    shutil.copytree(EXAMPLES / "python-dsl", root)
    (root / "projects" / "orders.yaml").write_text(ORDERS_YAML)
    make_repo(root, files={})
    w = Workbench(root, env="dev")
    yield w
    w.close()


def test_python_projects_are_listed_read_only_with_the_reason(mixed: Workbench) -> None:
    wb = mixed
    assert wb.project.options == (("ORDERS", "ORDERS"), ("SALES (Python code, read-only)", "SALES"))
    wb.project.value = "SALES"
    assert str(wb.address) == "dataset.SALES.orders_emea_raw"
    assert ("read-only: projects/sales.py is a Python project file: its resources are built by code, so edit the "
            "code itself") in wb.title.value
    assert wb.form.connection.value == "landing" and wb.form.connection.disabled and wb.yaml.disabled
    assert all(w.disabled for row in wb.form.schema.rows for w in row)
    assert wb.save_button.disabled and wb.new_button.disabled and wb.remove_button.disabled
    # Every registered kind of a project, those of sharing and project settings too (the instance kinds are the
    # instance file's, offered there).
    assert set(wb.kind.options) == {k for k in kinds.names() if not kinds.get(k).instance_level}
    for kind in wb.kind.options:
        wb.kind.value = kind  # never raises from a callback, always shows what the code built
        assert "Internal error" not in wb.message.value and "Refused" not in wb.message.value
        assert wb.title.value
    wb.select("recipe.SALES.union_orders")
    assert "code: ../recipes/union_orders.py" in wb.yaml.value


def test_a_save_never_writes_into_the_wrong_file(mixed: Workbench) -> None:
    wb = mixed
    files = {p: p.read_bytes() for p in (wb.ws.root / "projects").iterdir()}
    wb.select("dataset.ORDERS.orders_copy")
    wb.form.connection.value = "landing"
    wb.project.value = "SALES"  # unsaved edit: held back
    assert str(wb.address) == "dataset.ORDERS.orders_copy" and wb.project.value == "ORDERS"
    wb.discard_button.click()
    assert wb.address is not None and wb.address.project == "SALES"
    wb.save_button.click()  # a disabled button clicked from code
    assert "read-only, nothing written" in wb.message.value
    wb.form.connection.value = "storage"
    wb.save_button.click()
    wb.remove_button.click()
    wb.new_button.click()
    assert {p: p.read_bytes() for p in (wb.ws.root / "projects").iterdir()} == files
    assert wb.touched == []


def test_preview_apply_and_drift_work_with_python_projects(mixed: Workbench) -> None:
    wb = mixed
    wb.project.value = "SALES"
    wb.preview_button.click()
    assert "Plan for environment <code>dev</code>" in wb.output.value
    assert "+ dataset &quot;SALES.orders_all&quot;" in wb.output.value
    wb.apply_button.click()
    assert "applied to dev" in wb.message.value and wb.progress.bar_style == "success"
    wb.drift_button.click()
    assert "No drift" in wb.output.value
    wb.preview_button.click()
    assert "No changes." in wb.output.value


# -- what an environment makes of the variables --------------------------------------------------------------------


def test_the_form_shows_the_value_an_environment_override_gives(wb: Workbench) -> None:
    wb.select("variables.CHURN")
    effective = wb.form.effective.value
    assert "In <b>dev</b>, dss-iac.yaml overrides this value" in effective
    assert "<code>threshold</code> = <code>&#x27;0.4&#x27;</code>" in effective
    assert "lookback_days" not in effective
    wb.form.table.rows[0][2].value = "'0.45'"  # the file's value changes; dev still gets its own
    assert "<code>&#x27;0.4&#x27;</code>" in wb.form.effective.value
    wb.env.value = "prod"  # no override there
    assert wb.form.effective.value == ""
    wb.env.value = "dev"
    assert "threshold" in wb.form.effective.value


# -- the flow --------------------------------------------------------------------------------------------------


def test_the_workbench_shows_the_project_flow_coloured_by_the_preview(wb: Workbench) -> None:
    flow = wb.flow_view.value
    assert "<svg" in flow and "Flow of CHURN</text>" in flow
    assert 'data-id="recipe:clean_customers"' in flow and "#dcffe4" not in flow  # no plan yet: not coloured
    wb.preview_button.click()
    assert "Flow of CHURN in dev</text>" in wb.flow_view.value
    assert 'class="node dataset create" data-id="dataset:customers_raw"' in wb.flow_view.value
    wb.apply_button.click()
    wb.form.params.rows[0][1].value = "/churn/v2"
    wb.preview_button.click()  # the preview includes the unsaved edit, and so does the flow
    assert 'class="node dataset update" data-id="dataset:customers_raw"' in wb.flow_view.value
    assert 'class="node recipe unchanged" data-id="recipe:clean_customers"' in wb.flow_view.value


# -- the magic ---------------------------------------------------------------------------------------------------


def test_plan_and_drift_magics_hand_their_result_to_the_notebook(wb: Workbench,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = wb.ws.root
    wb.close()
    shown: list[Any] = []
    assert magics.run(f"-C {root} plan -e dev", display=shown.append) == 0
    [plan] = shown
    assert isinstance(plan, Plan) and "11 to add" in plan._repr_html_()
    assert "Plan:" not in capsys.readouterr().out  # rendered, not printed
    assert magics.run(f"-C {root} drift -e dev", display=shown.append) == 0
    assert isinstance(shown[-1], DriftReport)
    assert magics.run(f"-C {root} plan -e dev --json", display=shown.append) == 0
    assert len(shown) == 2 and '"format_version": 1' in capsys.readouterr().out  # JSON stays JSON
    assert magics.run(f"-C {root} plan -e dev") == 0  # outside a kernel: the CLI's text
    assert "Plan: 11 to add, 0 to change, 0 to destroy." in capsys.readouterr().out


def test_in_a_terminal_ipython_the_magic_prints_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shutil.copytree(EXAMPLES / "simple-project", tmp_path / "ws")
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "dataiku_iac.notebook")
        shell.run_line_magic("dss_iac", f"-C {tmp_path / 'ws'} plan -e dev")
        assert "Plan: 11 to add" in capsys.readouterr().out
    finally:
        InteractiveShell.clear_instance()
