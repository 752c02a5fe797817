"""The workbench's widgets without a browser: set values, click buttons, then look at the YAML on disk, the
HTML shown and the Git log."""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
from dataiku_iac.notebook import Workbench

SIMPLE = Path(__file__).resolve().parents[2] / "examples" / "simple-project"


def churn(wb: Workbench) -> Path:
    return wb.ws.root / "projects" / "churn.yaml"


def changed(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def cells(row: list) -> list:
    return [w.value for w in row[:-1]]  # the last widget of a row is its remove button


# -- browsing -------------------------------------------------------------------------------------------------


def test_the_browser_goes_project_kind_resource(wb: Workbench) -> None:
    assert wb.env.options == ("dev", "prod") and wb.env.value == "dev"
    assert wb.project.options == (("CHURN", "CHURN"),)
    assert wb.resource.options == ("customers_raw", "events_raw", "customers_clean", "customers_export")
    assert "dataset.CHURN.customers_raw" in wb.title.value and "projects/churn.yaml" in wb.title.value
    wb.kind.value = "scenario"
    assert wb.resource.options == ("nightly",)
    assert str(wb.address) == "scenario.CHURN.nightly"
    wb.kind.value = "zone"
    assert wb.resource.options == () and wb.address is None and "New" in wb.title.value


def test_the_form_shows_the_common_fields_and_the_yaml_the_rest(wb: Workbench) -> None:
    form = wb.form
    assert form.connection.value == "warehouse"
    assert "warehouse" in form.connection.options  # the logical names the environment maps
    assert [cells(r) for r in form.params.rows] == [["path", "/churn/customers"]]
    assert [cells(r) for r in form.schema.rows][:2] == [["customer_id", "bigint", "primary key"],
                                                        ["email", "string", ""]]
    assert "connection" not in wb.yaml.value and "schema" not in wb.yaml.value
    assert "format: csv" in wb.yaml.value and "description: Nightly extract" in wb.yaml.value


# -- saving ---------------------------------------------------------------------------------------------------


def test_a_form_edit_saves_only_its_line(wb: Workbench) -> None:
    before = churn(wb).read_text()
    wb.form.connection.value = "storage"
    assert "unsaved changes" in wb.message.value
    wb.save_button.click()
    assert "saved projects/churn.yaml" in wb.message.value
    assert changed(before, churn(wb).read_text()) == ["-    connection: warehouse", "+    connection: storage"]
    assert wb.touched == [churn(wb)]
    assert wb.message.value.count("unsaved") == 0


def test_schema_rows_change_add_and_remove(wb: Workbench) -> None:
    before = churn(wb).read_text()
    schema = wb.form.schema
    schema.rows[1][1].value = "bigint"  # email's type
    schema.remove(schema.rows[3])  # plan
    row = schema.add(None)
    row[0].value, row[1].value, row[2].value = "churned", "boolean", "the label"
    wb.save_button.click()
    assert changed(before, churn(wb).read_text()) == [
        "-      - {name: email, type: string}", "+      - {name: email, type: bigint}",
        "-      - {name: plan, type: string}", "+      - {name: churned, type: boolean, comment: the label}"]


def test_variables_are_a_key_value_table(wb: Workbench) -> None:
    before = churn(wb).read_text()
    wb.select("variables.CHURN")
    table = wb.form.table
    assert [cells(r) for r in table.rows] == [["standard", "threshold", "'0.5'"], ["standard", "lookback_days", "90"]]
    table.rows[0][2].value = "'0.45'"  # text stays text, and keeps its double quotes in the file
    table.remove(table.rows[1])
    row = table.add(None)
    row[0].value, row[1].value, row[2].value = "local", "owner", "ana"
    wb.save_button.click()
    assert "saved" in wb.message.value
    assert changed(before, churn(wb).read_text()) == [
        '-      threshold: "0.5"', '-      lookback_days: 90', '-    local: {}', '+      threshold: "0.45"',
        '+    local: {owner: ana}']
    assert wb.ws.config.projects["CHURN"].spec.project.variables.local == {"owner": "ana"}


def test_a_scenario_s_triggers_and_active_flag(wb: Workbench) -> None:
    before = churn(wb).read_text()
    wb.select("scenario.CHURN.nightly")
    form = wb.form
    assert form.active.value is True
    [trigger] = form.triggers.rows
    assert cells(trigger) == ["Daily", 2, 30, "", True]
    form.active.value = False
    trigger[1].value = 4
    weekly = form.triggers.add(None)
    weekly[0].value, weekly[1].value, weekly[3].value = "Weekly", 6, "Monday, Friday"
    wb.save_button.click()
    assert changed(before, churn(wb).read_text()) == [
        "-        hour: 2", "+        hour: 4", "+      - type: temporal", "+        frequency: Weekly",
        "+        hour: 6", "+        days: [Monday, Friday]", "+    active: false"]


def test_dataset_triggers_have_their_own_table_and_keep_their_place() -> None:
    from dataiku_iac.notebook.forms import ScenarioForm

    triggers = [{"type": "temporal", "frequency": "Daily", "hour": 2},
                {"type": "dataset", "datasets": ["customers_raw"]},
                {"type": "temporal", "frequency": "Hourly"}]
    form = ScenarioForm({"triggers": triggers}, lambda: None)
    assert [cells(r)[0] for r in form.triggers.rows] == ["Daily", "Hourly"]
    [on_raw] = form.on_datasets.rows
    assert cells(on_raw) == ["customers_raw", 900, True]
    assert form.values()["triggers"] == triggers  # nothing edited: the same list, in the same order
    on_raw[0].value, on_raw[1].value = "customers_raw, customers_clean", 60
    added = form.on_datasets.add(None)
    added[0].value = "customers_clean"
    assert form.values()["triggers"] == [
        triggers[0], {"type": "dataset", "datasets": ["customers_raw", "customers_clean"], "delay": 60}, triggers[2],
        {"type": "dataset", "datasets": ["customers_clean"]}]


def test_triggers_of_other_types_are_kept_as_they_are_in_their_place() -> None:
    from dataiku_iac.notebook.forms import ScenarioForm

    triggers = [{"type": "sql", "connection": "warehouse", "sql": "SELECT max(ts) FROM t"},
                {"type": "temporal", "frequency": "Daily", "hour": 2},
                {"type": "follow_scenario", "scenario": "upstream"}]
    form = ScenarioForm({"triggers": triggers}, lambda: None)
    assert [cells(r)[0] for r in form.triggers.rows] == ["Daily"] and form.on_datasets.rows == []
    form.triggers.rows[0][1].value = 5
    assert form.values()["triggers"] == [triggers[0], {**triggers[1], "hour": 5}, triggers[2]]


def test_the_yaml_text_area_edits_the_other_keys(wb: Workbench) -> None:
    before = churn(wb).read_text()
    wb.yaml.value = wb.yaml.value.replace("tags: [raw]", "tags: [raw, pii]").replace(
        "format_params:\n  separator: ','\n  parseHeaderRow: true\n", "")
    wb.save_button.click()
    assert changed(before, churn(wb).read_text()) == [
        "-    format_params:", '-      separator: ","', "-      parseHeaderRow: true", "-    tags: [raw]",
        "+    tags: [raw, pii]"]


# -- bad input -------------------------------------------------------------------------------------------------


def test_invalid_yaml_shows_line_and_column_and_writes_nothing(wb: Workbench) -> None:
    before = churn(wb).read_bytes()
    wb.yaml.value = "type: Filesystem\nformat: [csv\n"
    assert "Not valid" in wb.message.value and "<code>3:1</code>" in wb.message.value
    wb.save_button.click()
    assert "Not valid" in wb.message.value
    assert churn(wb).read_bytes() == before


def test_a_wrong_type_in_the_text_area_points_at_it(wb: Workbench) -> None:
    before = churn(wb).read_bytes()
    wb.yaml.value = "type: Filesystem\nmanaged: maybe\n"
    assert "<code>2:10</code> invalid value &#x27;maybe&#x27; for &#x27;managed&#x27;" in wb.message.value
    wb.yaml.value = "type: Filesystem\nbogus: 1\n"
    assert "<code>2:1</code> unknown key &#x27;bogus&#x27;" in wb.message.value
    wb.yaml.value = "type: Filesystem\nconnection: other\n"
    assert "<code>2:1</code> &#x27;connection&#x27; is edited in the form above" in wb.message.value
    wb.yaml.value = "- a list\n"
    assert "expected keys and values" in wb.message.value
    wb.save_button.click()
    assert churn(wb).read_bytes() == before


def test_bad_form_values_are_reported(wb: Workbench) -> None:
    before = churn(wb).read_bytes()
    wb.form.params.rows[0][1].value = "[unclosed"
    assert "<code>form</code> params.path: YAML syntax error" in wb.message.value
    wb.save_button.click()
    assert churn(wb).read_bytes() == before


def test_workspace_wide_problems_are_shown_with_their_file_position(wb: Workbench) -> None:
    before = churn(wb).read_bytes()
    wb.select("recipe.CHURN.export_customers")
    wb.yaml.value = wb.yaml.value.replace("inputs: [customers_clean]", "inputs: [missing]")
    wb.save_button.click()
    assert "projects/churn.yaml:" in wb.message.value and "names no dataset" in wb.message.value
    assert churn(wb).read_bytes() == before


def test_a_file_changed_on_disk_since_loading_is_refused(wb: Workbench) -> None:
    theirs = churn(wb).read_text() + "# edited elsewhere\n"
    churn(wb).write_text(theirs)
    wb.form.connection.value = "storage"
    wb.save_button.click()
    assert "changed on disk since the workspace was loaded" in wb.message.value
    assert churn(wb).read_text() == theirs


# -- new and removed resources -------------------------------------------------------------------------------------


def test_new_and_removed_resources(wb: Workbench) -> None:
    wb.kind.value = "zone"
    wb.new_name.value = "raw_zone"
    wb.new_button.click()
    assert "new, not saved yet" in wb.title.value
    wb.yaml.value = "items: [customers_raw, events_raw]\n"
    wb.save_button.click()
    assert "saved" in wb.message.value and wb.resource.options == ("raw_zone",)
    assert "zones:\n  raw_zone:\n    items: [customers_raw, events_raw]\n" in churn(wb).read_text()
    wb.remove_button.click()
    assert "click again" in wb.message.value and "raw_zone" in churn(wb).read_text()
    wb.remove_button.click()
    assert "raw_zone" not in churn(wb).read_text() and wb.resource.options == ()


def test_a_removed_project_is_a_deleted_file_in_the_next_commit(wb: Workbench, repo: git.Repo) -> None:
    wb.ws.create_resource("project.SALES", {"name": "Sales"})
    repo.git.add("--", "projects/sales.yaml")
    repo.git.commit("-m", "sales")
    wb.project.options = sorted(wb.ws.config.projects)
    wb.project.value, wb.kind.value = "SALES", "project"
    wb.remove_button.click()
    assert "click again to delete projects/sales.yaml" in wb.message.value
    wb.remove_button.click()
    assert "deleted sales.yaml" in wb.message.value
    assert not (wb.ws.root / "projects" / "sales.yaml").exists()
    assert wb.project.options == (("CHURN", "CHURN"),) and wb.project.value == "CHURN"
    wb.diff_button.click()
    assert "deleted file mode" in wb.output.value
    wb.commit_message.value = "Drop the sales project"
    wb.commit_button.click()
    last = repo.head.commit
    assert last.message.strip() == "Drop the sales project"
    assert [(d.a_path, d.deleted_file) for d in last.diff(last.parents[0], R=True)] == [("projects/sales.yaml", True)]


# -- plan, apply --------------------------------------------------------------------------------------------------


def test_preview_apply_and_preview_again(wb: Workbench) -> None:
    wb.preview_button.click()
    html = wb.output.value
    assert "Plan for environment <code>dev</code>" in html and "11 to add" in html
    assert 'color: #22863a; font-weight: bold">  + dataset &quot;CHURN.customers_raw&quot; {' in html

    wb.apply_button.click()
    assert "applied to dev" in wb.message.value
    assert wb.progress.value == wb.progress.max == 11 and wb.progress.bar_style == "success"

    # Unsaved edits show in the preview (with secrets masked), but apply wants them saved.
    wb.form.params.add(("password", "hunter2"))
    wb.form.params.rows[0][1].value = "/churn/v2"
    wb.preview_button.click()
    html = wb.output.value
    assert "unsaved changes" in html and "1 to change" in html
    assert "hunter2" not in html and "(sensitive)" in html
    assert "~ params.path     = &quot;/churn/customers&quot; -&gt; &quot;/churn/v2&quot;" in html
    wb.apply_button.click()
    assert "save your changes first" in wb.message.value
    wb.save_button.click()
    # The plan previewed before saving is the plan of what was saved: it can be applied as it is.
    wb.apply_button.click()
    assert "applied to dev: 1 operation(s)" in wb.message.value
    wb.preview_button.click()
    assert "No changes." in wb.output.value
    wb.apply_button.click()
    assert "nothing to apply" in wb.message.value


def test_apply_needs_a_preview_and_an_environment_that_allows_it(wb: Workbench,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    wb.apply_button.click()
    assert "preview the plan first" in wb.message.value
    wb.env.value = "prod"  # its variables are not set: nothing to apply to
    assert wb.apply_button.disabled and "DSS_PROD_HOST is not set" in wb.env_info.value
    monkeypatch.setenv("DSS_PROD_HOST", "https://dss.example.com")
    monkeypatch.setenv("DSS_PROD_API_KEY", "k")
    wb.env.value = "dev"
    wb.env.value = "prod"
    assert wb.apply_button.disabled and "prod is protected" in wb.env_info.value
    wb.apply_button.click()
    assert "prod is protected" in wb.message.value


# -- Git ---------------------------------------------------------------------------------------------------------


def test_diff_and_commit_touch_the_saved_files_only(wb: Workbench, repo: git.Repo) -> None:
    wb.diff_button.click()
    assert "Nothing saved" in wb.output.value
    readme = Path(repo.working_tree_dir) / "README.md"
    readme.write_text(readme.read_text() + "\nlocal notes, not for this commit\n")
    wb.form.connection.value = "storage"
    wb.save_button.click()
    wb.diff_button.click()
    assert "+    connection: storage</span>" in wb.output.value and "README" not in wb.output.value
    wb.commit_button.click()
    assert "write a commit message first" in wb.message.value
    wb.commit_message.value = "Read customers from storage"
    wb.commit_button.click()
    assert "committed" in wb.message.value and wb.commit_message.value == ""
    head = repo.head.commit
    assert head.message.strip() == "Read customers from storage"
    assert (head.author.name, head.author.email) == ("Test User", "test@example.com")
    assert list(head.stats.files) == ["projects/churn.yaml"]
    assert repo.git.status("--porcelain") == " M README.md"  # left as it was
    wb.diff_button.click()
    assert "Nothing saved" in wb.output.value


def test_committing_with_nothing_changed_says_so(wb: Workbench, repo: git.Repo) -> None:
    wb.commit_message.value = "Nothing"
    wb.commit_button.click()
    assert "nothing to commit: no file was saved" in wb.message.value
    wb.form.connection.value = "storage"
    wb.save_button.click()
    wb.form.connection.value = "warehouse"  # and back again
    wb.save_button.click()
    wb.diff_button.click()
    assert "No differences" in wb.output.value
    wb.commit_button.click()
    assert "nothing to commit: the saved files are as in the last commit" in wb.message.value
    assert len(list(repo.iter_commits())) == 1


def test_a_new_project_file_is_diffed_and_committed(wb: Workbench, repo: git.Repo) -> None:
    wb.ws.create_resource("project.SALES", {"name": "Sales"})
    wb.touched.append(wb.ws.root / "projects" / "sales.yaml")
    wb.diff_button.click()
    assert "+project:" in wb.output.value and "+  key: SALES" in wb.output.value
    wb.commit_message.value = "Add sales"
    wb.commit_button.click()
    assert set(repo.head.commit.stats.files) == {"projects/sales.yaml"}


def test_outside_a_git_repository_diff_says_so(tmp_path: Path) -> None:
    shutil.copytree(SIMPLE, tmp_path / "plain")
    w = Workbench(tmp_path / "plain")
    try:
        w.form.connection.value = "storage"
        w.save_button.click()
        w.diff_button.click()
        assert "not in a Git repository" in w.output.value
    finally:
        w.close()


def test_without_ipywidgets_the_workbench_import_is_a_one_line_error() -> None:
    code = ("import sys; sys.modules['ipywidgets'] = None\n"
            "import dataiku_iac.notebook as nb\n"
            "try:\n    nb.Workbench\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out == "the notebook workbench needs ipywidgets: pip install 'dataiku-iac[notebook]'\n"
