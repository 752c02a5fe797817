"""The workbench over a session: re-run in the same kernel, switched around with unsaved edits, reloaded after
edits on disk, extended with new projects, and used a hundred times without leaving widgets behind."""

from __future__ import annotations

import shutil
from pathlib import Path

import git
import pytest
from dataiku_iac.notebook import Workbench, magics
from ipywidgets.widgets.widget import _instances  # every widget the kernel still holds (and a page shows)

SIMPLE = Path(__file__).resolve().parents[2] / "examples" / "simple-project"


def churn(wb: Workbench) -> Path:
    return wb.ws.root / "projects" / "churn.yaml"


def model_ids(widget: object) -> set[str]:
    """The widget, everything inside it, and their layout and style models."""
    out = {widget.model_id}  # type: ignore[attr-defined]
    for part in ("layout", "style"):
        model = getattr(widget, part, None)
        if model is not None and getattr(model, "model_id", None):
            out.add(model.model_id)
    for child in getattr(widget, "children", ()):
        out |= model_ids(child)
    return out


# -- re-running the cell ------------------------------------------------------------------------------------------


def test_a_new_workbench_on_the_same_workspace_takes_over(repo: git.Repo, capsys: pytest.CaptureFixture[str]) -> None:
    root = repo.working_tree_dir
    first = Workbench(root, env="dev")
    first.preview_button.click()  # the workspace's embedded DSS is in use
    assert "Plan for environment" in first.output.value
    shown = model_ids(first.widget)
    second = Workbench(root, env="dev")
    try:
        assert first.closed and not shown & set(_instances)  # every widget of the old one is closed
        assert "closed" in first._repr_mimebundle_()["text/plain"]
        first.form.connection.value = "storage"
        first.save_button.click()  # the old one's buttons do nothing any more
        assert "connection: warehouse" in churn(second).read_text()
        second.preview_button.click()
        assert "Plan for environment <code>dev</code>" in second.output.value and "11 to add" in second.output.value
        capsys.readouterr()
        assert magics.run(f"-C {root} plan -e dev") == 0
        assert "Plan: 11 to add, 0 to change, 0 to destroy." in capsys.readouterr().out
        third = Workbench(root, env="dev")  # and again
        assert second.closed and not third.closed
        third.preview_button.click()
        assert "11 to add" in third.output.value
    finally:
        Workbench(root).close()  # whichever is open, through the same door


def test_a_workbench_on_another_workspace_is_left_open(wb: Workbench, tmp_path: Path) -> None:
    shutil.copytree(SIMPLE, tmp_path / "other")
    other = Workbench(tmp_path / "other")
    try:
        assert not wb.closed and not other.closed
    finally:
        other.close()


def test_closing_leaves_no_widget_behind(repo: git.Repo) -> None:
    before = set(_instances)
    w = Workbench(repo.working_tree_dir, env="dev")
    w.select("variables.CHURN")
    w.form.table.add(None)
    w.close()
    assert set(_instances) == before


# -- unsaved edits ----------------------------------------------------------------------------------------------


def test_switching_with_unsaved_edits_asks_before_discarding(wb: Workbench) -> None:
    wb.form.connection.value = "storage"
    wb.resource.value = "events_raw"  # as a click in the browser
    assert str(wb.address) == "dataset.CHURN.customers_raw" and wb.resource.value == "customers_raw"
    assert wb.ask_box.layout.display == "flex"
    assert "dataset.CHURN.customers_raw has changes not saved: discard them?" in wb.ask.value
    wb.keep_button.click()
    assert wb.ask_box.layout.display == "none" and wb.form.connection.value == "storage"
    wb.kind.value = "scenario"
    assert wb.kind.value == "dataset" and wb.form.connection.value == "storage"
    wb.discard_button.click()
    assert str(wb.address) == "scenario.CHURN.nightly" and wb.kind.value == "scenario"
    wb.select("dataset.CHURN.customers_raw")
    assert wb.form.connection.value == "warehouse"  # the edit was discarded, the file never written
    assert "connection: warehouse" in churn(wb).read_text()


def test_select_and_new_ask_too_and_a_new_resource_counts_as_unsaved(wb: Workbench) -> None:
    wb.yaml.value = wb.yaml.value.replace("tags: [raw]", "tags: [raw, pii]")
    wb.select("recipe.CHURN.clean_customers")
    assert str(wb.address) == "dataset.CHURN.customers_raw" and "discard them?" in wb.ask.value
    wb.discard_button.click()
    assert str(wb.address) == "recipe.CHURN.clean_customers"
    wb.kind.value = "zone"
    wb.new_name.value = "raw_zone"
    wb.new_button.click()
    wb.resource.value = None  # nothing else to pick here: go to another project kind
    wb.kind.value = "dataset"
    assert "new zone.CHURN.raw_zone is not saved: discard them?" in wb.ask.value
    wb.discard_button.click()
    assert wb.address is not None and wb.address.kind == "dataset" and not wb.creating


def test_reload_reads_files_changed_on_disk(wb: Workbench) -> None:
    text = churn(wb).read_text()
    churn(wb).write_text(text.replace("connection: warehouse\n    params:\n      path: /churn/customers",
                                      "connection: storage\n    params:\n      path: /churn/customers"))
    wb.reload_button.click()
    assert "read the files again" in wb.message.value
    assert str(wb.address) == "dataset.CHURN.customers_raw" and wb.form.connection.value == "storage"
    wb.form.params.rows[0][1].value = "/churn/v2"
    wb.save_button.click()  # not refused as stale: the workbench holds the files as they are now
    assert "saved projects/churn.yaml" in wb.message.value and "path: /churn/v2" in churn(wb).read_text()
    # With unsaved edits, Reload asks first; the files not loading leaves everything as it was.
    wb.form.connection.value = "warehouse"
    wb.reload_button.click()
    assert "discard them?" in wb.ask.value and wb.form.connection.value == "warehouse"
    churn(wb).write_text("project: [unclosed\n")
    wb.discard_button.click()
    assert "YAML syntax error" in wb.message.value and str(wb.address) == "dataset.CHURN.customers_raw"


def test_new_project_creates_its_file_and_opens_it(wb: Workbench) -> None:
    wb.new_project_key.value = "SALES"
    wb.new_project_button.click()
    sales = wb.ws.root / "projects" / "sales.yaml"
    assert sales.read_text() == "project:\n  key: SALES\n  name: SALES\n"
    assert "created projects/sales.yaml: project SALES" in wb.message.value
    assert wb.project.options == (("CHURN", "CHURN"), ("SALES", "SALES"))
    assert str(wb.address) == "project.SALES" and sales in wb.touched
    wb.yaml.value = wb.yaml.value.replace("name: SALES", "name: Sales by region")
    wb.save_button.click()
    assert "name: Sales by region" in sales.read_text()
    wb.diff_button.click()
    assert "+  name: Sales by region" in wb.output.value
    wb.new_project_key.value = "not a key"
    wb.new_project_button.click()
    assert "a project key is uppercase letters" in wb.message.value
    wb.new_project_key.value = "SALES"
    wb.new_project_button.click()
    assert "project SALES is already declared in projects/sales.yaml" in wb.message.value


def test_widgets_stay_flat_over_100_selections(wb: Workbench, capsys: pytest.CaptureFixture[str]) -> None:
    addresses = ["dataset.CHURN.customers_raw", "variables.CHURN", "scenario.CHURN.nightly",
                 "recipe.CHURN.clean_customers", "dataset.CHURN.events_raw"]
    for a in addresses:  # every form once: the first of each kind may create shared style models
        wb.select(a)
    counts = []
    for i in range(100):
        wb.select(addresses[i % len(addresses)])
        counts.append(len(_instances))
    assert counts[: len(addresses)] * 20 == counts  # the same count each time round: nothing left behind
    with capsys.disabled():
        print(f"\nwidgets alive over 100 selections: {min(counts)}..{max(counts)} (first {counts[0]}, "
              f"last {counts[-1]})")
