"""Round-trip editing: each kind of edit changes only its own lines of a heavily commented file, nothing is
written unless the whole workspace validates, and a file changed on disk since it was loaded is refused."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from dataiku_iac.config.edit import changes_between, merge
from dataiku_iac.config.yamledit import remove_value, set_value
from dataiku_iac.config.yamlio import parse_yaml
from dataiku_iac.errors import ConfigError

HERE = Path(__file__).parent
GOLDEN = (HERE / "commented.yaml").read_text(encoding="utf-8")
SIMPLE = HERE.parents[1] / "examples" / "simple-project"


def changed(before: str, after: str) -> list[str]:
    """The lines an edit removed (-) and added (+), in order; every other line is the same."""
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def edited(path: list[Any], value: Any) -> list[str]:
    after = set_value(GOLDEN, "golden.yaml", path, value)
    return changed(GOLDEN, after)


# -- golden: one kind of edit at a time ------------------------------------------------------------------


def test_a_double_quoted_scalar_keeps_its_quotes_and_its_comment() -> None:
    assert edited(["project", "variables", "standard", "threshold"], "0.6") == [
        '-      threshold: "0.5"     # a string, double-quoted on purpose',
        '+      threshold: "0.6"     # a string, double-quoted on purpose']


def test_a_single_quoted_scalar_keeps_its_quotes() -> None:
    assert edited(["project", "variables", "standard", "mode"], "slow") == [
        "-      mode: 'fast'", "+      mode: 'slow'"]


def test_a_value_in_a_list_item_changes_alone_and_keeps_its_comment() -> None:
    triggers = [{"type": "temporal", "frequency": "Daily", "hour": 3, "minute": 30}]
    assert edited(["scenarios", "nightly", "triggers"], triggers) == [
        "-        hour: 2        # at two", "+        hour: 3        # at two"]


def test_a_new_key_goes_at_the_end_of_its_mapping_at_its_indentation() -> None:
    assert edited(["project", "variables", "standard", "new_var"], "x y") == ["+      new_var: x y"]


def test_a_flow_mapping_stays_in_flow_style() -> None:
    assert edited(["project", "variables", "local"], {"a": 1}) == ["-    local: {}", "+    local: {a: 1}"]
    assert edited(["datasets", "raw", "format_params", "quoteChar"], '"') == [
        '-    format_params: {separator: ",", parseHeaderRow: true}',
        '+    format_params: {separator: ",", parseHeaderRow: true, quoteChar: \'"\'}']


def test_removing_a_key_removes_its_line_only() -> None:
    after = remove_value(GOLDEN, "golden.yaml", ["project", "variables", "standard", "lookback_days"])
    assert changed(GOLDEN, after) == ["-      lookback_days: 90"]


def test_a_list_edit_touches_only_the_items_that_change() -> None:
    schema = [{"name": "id", "type": "bigint", "comment": "primary key"}, {"name": "email", "type": "text"},
              {"name": "ts", "type": "date"}]
    # Flow items stay flow items: the new column is written like its neighbours.
    assert edited(["datasets", "raw", "schema"], schema) == [
        "-      - {name: email, type: string}", "+      - {name: email, type: text}",
        "+      - {name: ts, type: date}"]
    assert edited(["project", "tags"], ["one", "two", "three"]) == [
        '-  tags: [one, "two"]', '+  tags: [one, "two", three]']
    assert edited(["scenarios", "nightly", "steps"], [{"type": "build", "items": ["clean", "raw"]}]) == [
        "-      - {type: build, items: [clean]}", "+      - {type: build, items: [clean, raw]}"]
    assert edited(["datasets", "raw", "tags"], []) == ["-    tags: [raw]", "+    tags: []"]


def test_list_items_are_added_and_removed_with_their_comments() -> None:
    groups = [{"group": "data_team", "read_project_content": True},
              {"group": "viewers", "read_dashboards": True, "run_scenarios": True}, {"group": "ops", "admin": True}]
    assert edited(["project", "permissions"], groups) == [
        "-    - {group: viewers, read_dashboards: true}",
        "+    - {group: viewers, read_dashboards: true, run_scenarios: true}",
        "+    - {group: ops, admin: true}"]
    assert edited(["project", "permissions"], [{"group": "viewers", "read_dashboards": True}]) == [
        "-    # The data team.", "-    - group: data_team", "-      read_project_content: true"]


def test_the_first_key_of_a_block_list_item_can_go() -> None:
    groups = [{"read_project_content": True}, {"group": "viewers", "read_dashboards": True}]
    assert edited(["project", "permissions"], groups) == [
        "-    - group: data_team", "-      read_project_content: true", "+    - read_project_content: true"]


def test_block_scalars_keep_their_style_and_indentation() -> None:
    text = "First line of a literal block.\nA new second line.\n"
    assert edited(["project", "description"], text) == [
        "-    Second line, kept as it is.", "+    A new second line."]
    # Folded text replaced by one line stays folded: only the text lines change.
    assert edited(["datasets", "clean", "description"], "Short") == [
        "-      Folded text", "-      on two lines.", "+      Short"]


def test_a_new_resource_is_spaced_like_its_neighbours() -> None:
    after = set_value(GOLDEN, "golden.yaml", ["datasets", "extra"],
                      {"type": "Filesystem", "connection": "storage", "managed": True, "tags": ["new"]})
    assert "      on two lines.\n\n  extra:\n    type: Filesystem\n    connection: storage\n    managed: true\n" \
           "    tags: [new]\n\n# Scenarios.\n" in after
    assert changed(GOLDEN, after) == ["+  extra:", "+    type: Filesystem", "+    connection: storage",
                                      "+    managed: true", "+    tags: [new]", "+"]


def test_a_new_section_goes_at_the_end_of_the_file_before_nothing_else_moves() -> None:
    assert edited(["zones", "z"], {"items": ["raw"]}) == ["+", "+zones:", "+  z:", "+    items: [raw]"]


def test_removing_a_resource_takes_its_comment_and_one_blank_line() -> None:
    after = remove_value(GOLDEN, "golden.yaml", ["datasets", "mirror"])
    assert "    tags: [raw]\n\n  # The clean output.\n" in after
    assert changed(GOLDEN, after) == [
        "-  # A copy that shares the raw params through a merge key.", "-  mirror:", "-    type: Filesystem",
        "-    connection: warehouse", "-    params:", "-      <<: *common_params", "-      extra: 1", "-"]
    last = remove_value(GOLDEN, "golden.yaml", ["datasets", "clean"])
    assert "      extra: 1\n\n# Scenarios.\n" in last


def test_a_scalar_can_become_a_mapping() -> None:
    assert edited(["datasets", "clean", "format"], {"a": 1}) == [
        "-    format: parquet", "+    format:", "+      a: 1"]


def test_merge_keys_and_anchors_are_kept_or_the_edit_is_refused() -> None:
    # A key that comes from a merge gets a local override; the anchor and the merge key stay.
    assert edited(["datasets", "mirror", "params", "path"], "/mirror") == ["+      path: /mirror"]
    # Changing the anchored value would change the dataset that merges it too: refused, nothing changed.
    with pytest.raises(ConfigError, match="anchor, alias or merge key"):
        set_value(GOLDEN, "golden.yaml", ["datasets", "raw", "params", "path"], "/other")
    with pytest.raises(ConfigError, match="merge key"):
        remove_value(GOLDEN, "golden.yaml", ["datasets", "mirror", "params", "path"])


def test_an_alias_becomes_an_explicit_copy_when_changed() -> None:
    text = "base: &b {x: 1, y: 2}\nuse: *b\nother: *b\n"
    after = set_value(text, "t.yaml", ["use", "x"], 5)
    assert after == "base: &b {x: 1, y: 2}\nuse:\n  x: 5\n  y: 2\nother: *b\n"


@pytest.mark.parametrize(("value", "problem"), [
    (float("nan"), "nan cannot be stored by DSS"), (float("-inf"), "-inf cannot be stored by DSS"),
    (2**63, "an integer outside what DSS can hold"), ("\ud800", "text with a lone surrogate"),
])
def test_an_edit_refuses_values_dss_cannot_store(value: Any, problem: str) -> None:
    with pytest.raises(ConfigError, match=rf"^project.variables.standard.threshold.deep\[0\]: {problem}"):
        set_value(GOLDEN, "golden.yaml", ["project", "variables", "standard", "threshold"], {"deep": [value]})


def test_line_endings_a_missing_final_newline_and_empty_values() -> None:
    assert set_value("a: 1\r\nb: [x]\r\n", "t", ["c"], {"d": 1}) == "a: 1\r\nb: [x]\r\nc:\r\n  d: 1\r\n"
    assert set_value("a: 1\r\nb: 2\r\n", "t", ["a"], 3) == "a: 3\r\nb: 2\r\n"
    assert set_value("a: 1\nb: [x]", "t", ["c"], 2) == "a: 1\nb: [x]\nc: 2\n"
    assert set_value("a:   # why\nb: 2\n", "t", ["a"], "v") == "a: v   # why\nb: 2\n"
    assert set_value("a:  # keep\n  - 1\n  - 2\nb: 0\n", "t", ["a"], []) == "a: []  # keep\nb: 0\n"
    assert set_value("a:\n- 1\n- 2\nb: 0\n", "t", ["a"], [1, 2, 3]) == "a:\n- 1\n- 2\n- 3\nb: 0\n"


def test_the_whole_file_outside_the_edit_is_byte_for_byte_the_same() -> None:
    after = set_value(GOLDEN, "golden.yaml", ["project", "variables", "standard", "threshold"], "0.6")
    i = GOLDEN.index('"0.5"')
    assert after[:i] == GOLDEN[:i] and after[i + 5:] == GOLDEN[i + 5:]


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufeff"), max_size=30))


@settings(max_examples=150, deadline=None)
@given(value=st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(
    st.text("abcxyz_", min_size=1, max_size=5), scalars, max_size=3)))
@example(value="\x85")  # NEL: a line break to YAML unless double-quoted (found by hypothesis)
@example(value=["a\u2028b"])
@example(value=["0?"])  # plain in flow context, but not read back as written (found by hypothesis)
@example(value=["?0"])
@example(value=[None, "0\n0", None])  # a block scalar, then an item appended after it (found by hypothesis)
def test_any_value_written_reads_back_exactly(value: Any) -> None:
    for path in (["project", "name"], ["project", "variables", "standard", "threshold"], ["datasets", "raw", "tags"],
                 ["project", "description"], ["datasets", "raw", "schema"]):
        after = set_value(GOLDEN, "golden.yaml", path, value)
        data = parse_yaml(after, "golden.yaml")
        target = data
        for key in path:
            target = target[key]
        assert target == value or (value != value and target != target)
        assert after.endswith("# The end.\n")


# -- merge semantics ---------------------------------------------------------------------------------------------


def test_changes_merge_nested_mappings_and_none_removes() -> None:
    current = {"a": 1, "params": {"x": 1, "y": 2}, "tags": ["t"]}
    assert merge(current, {"params": {"y": None, "z": 3}, "tags": ["u"], "a": None}) == {
        "params": {"x": 1, "z": 3}, "tags": ["u"]}
    new = {"params": {"x": 1, "z": 3}, "tags": ["u"], "b": True}
    assert merge(current, changes_between(current, new)) == new


# -- the Workspace API ------------------------------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    shutil.copytree(SIMPLE, tmp_path / "ws")
    with Workspace.load(tmp_path / "ws") as w:
        yield w


def _file(ws: Workspace) -> Path:
    return ws.root / "projects" / "churn.yaml"


def test_update_resource_writes_only_the_changed_line_and_reloads(ws: Workspace) -> None:
    before = _file(ws).read_text()
    path = ws.update_resource("variables.CHURN", {"standard": {"threshold": "0.6"}})
    assert path == _file(ws)
    assert changed(before, path.read_text()) == ['-      threshold: "0.5"', '+      threshold: "0.6"']
    assert ws.config.projects["CHURN"].spec.project.variables.standard["threshold"] == "0.6"
    # The workspace holds the new text: a second edit needs no reload.
    ws.update_resource("dataset.CHURN.customers_raw", {"params": {"path": "/churn/v2"}})
    assert changed(before, path.read_text()) == [
        '-      threshold: "0.5"', '+      threshold: "0.6"', "-      path: /churn/customers",
        "+      path: /churn/v2"]


def test_create_and_remove_resources(ws: Workspace) -> None:
    before = _file(ws).read_text()
    ws.create_resource("scenario.CHURN.weekly", {"active": False, "triggers": [
        {"type": "temporal", "frequency": "Weekly", "days": ["Monday"]}]})
    ws.update_resource("permissions.CHURN", {"analysts": {"read_project_content": True}})
    ws.update_resource("recipe.CHURN.clean_customers", {"inputs": ["customers_raw"]})  # it read events_raw
    ws.remove_resource("dataset.CHURN.events_raw")
    assert "events_raw" not in ws.config.projects["CHURN"].spec.datasets
    assert ws.config.projects["CHURN"].spec.scenarios["weekly"].active is False
    lines = changed(before, _file(ws).read_text())
    assert "+    - group: analysts" in lines and "+      read_project_content: true" in lines
    assert "+  weekly:" in lines and "-  events_raw:" in lines
    assert "-  # A second external dataset: one row per customer event (logins, support tickets...)." in lines
    with pytest.raises(ConfigError, match="already declared"):
        ws.create_resource("scenario.CHURN.weekly", {})
    with pytest.raises(ConfigError, match="not declared"):
        ws.update_resource("dataset.CHURN.nope", {"description": "x"})
    with pytest.raises(ConfigError, match="not declared"):
        ws.remove_resource("zone.CHURN.nope")


def test_a_new_project_gets_its_own_file(ws: Workspace) -> None:
    path = ws.create_resource("project.SALES", {"name": "Sales", "tags": ["new"]})
    assert path == ws.root / "projects" / "sales.yaml"
    assert path.read_text() == "project:\n  key: SALES\n  name: Sales\n  tags: [new]\n"
    assert set(ws.config.projects) == {"CHURN", "SALES"}


def test_removing_a_project_deletes_its_file_and_the_plan_destroys_it(ws: Workspace) -> None:
    ws.apply(ws.plan("dev"), progress=None)
    ws.create_resource("project.SALES", {"name": "Sales"})
    sales = ws.root / "projects" / "sales.yaml"
    sales.write_text(sales.read_text() + "# edited by someone else\n")
    with pytest.raises(ConfigError, match="changed on disk"):
        ws.remove_resource("project.SALES")
    assert sales.exists()  # their edit is not deleted with it
    assert ws.remove_resource("project.CHURN") == _file(ws)
    assert not _file(ws).exists() and "CHURN" not in ws.config.projects
    plan = ws.plan("dev")
    by_project = {(str(a.address).split(".")[1], a.symbol) for a in plan.changes}
    assert by_project == {("CHURN", "-"), ("SALES", "+")}  # SALES is new: it was never applied
    assert "project.CHURN" in {str(a.address) for a in plan.changes}


def test_invalid_edits_write_nothing(ws: Workspace) -> None:
    before = _file(ws).read_bytes()
    with pytest.raises(ConfigError, match=r"projects/churn.yaml:\d+:\d+: invalid value 'maybe' for 'managed'"):
        ws.update_resource("dataset.CHURN.customers_raw", {"managed": "maybe"})
    # Checked across the workspace: a recipe input must name a dataset.
    with pytest.raises(ConfigError, match="recipe input 'nope' names no dataset"):
        ws.update_resource("recipe.CHURN.clean_customers", {"inputs": ["nope"]})
    with pytest.raises(ConfigError, match="names no dataset"):
        ws.remove_resource("dataset.CHURN.events_raw")  # clean_customers reads it
    with pytest.raises(ConfigError, match="key of project CHURN cannot change"):
        ws.update_resource("project.CHURN", {"key": "OTHER"})
    with pytest.raises(ConfigError, match="invalid address"):
        ws.update_resource("dataset.CHURN", {})
    with pytest.raises(ConfigError, match="no project NOPE"):
        ws.update_resource("dataset.NOPE.x", {})
    with pytest.raises(ConfigError, match="cannot be written to YAML"):
        ws.update_resource("dataset.CHURN.customers_raw", {"description": object()})
    assert _file(ws).read_bytes() == before


def test_a_file_changed_on_disk_since_loading_is_refused(ws: Workspace) -> None:
    other = _file(ws).read_text().replace("Churn prediction", "Edited by someone else")
    _file(ws).write_text(other)
    with pytest.raises(ConfigError, match=r"projects/churn\.yaml: changed on disk since the workspace was loaded: "
                                          r"nothing was written"):
        ws.update_resource("variables.CHURN", {"standard": {"threshold": "0.6"}})
    assert _file(ws).read_text() == other  # their edit is still there


def test_several_edits_are_written_together_or_not_at_all(ws: Workspace) -> None:
    settings_file = ws.root / "dss-iac.yaml"
    settings_before, project_before = settings_file.read_text(), _file(ws).read_text()
    setting = (("environments", "dev", "variables", "threshold"), "0.7")
    # The project edit is invalid: the setting, valid on its own, is not written either.
    with pytest.raises(ConfigError, match="invalid value 'maybe' for 'managed'"):
        ws.update_many({"dataset.CHURN.customers_raw": {"managed": "maybe"}}, [setting])
    assert settings_file.read_text() == settings_before and _file(ws).read_text() == project_before
    written = ws.update_many({"variables.CHURN": {"standard": {"threshold": "0.6"}}}, [setting])
    assert written == [settings_file, _file(ws)]
    assert changed(settings_before, settings_file.read_text()) == [
        '-      threshold: "0.4"', '+      threshold: "0.7"']
    assert changed(project_before, _file(ws).read_text()) == ['-      threshold: "0.5"', '+      threshold: "0.6"']
    with pytest.raises(ConfigError, match="same file"):
        ws.update_many({"variables.CHURN": {"standard": {"x": "1"}}, "project.CHURN": {"name": "y"}})


def test_python_project_files_are_refused(tmp_path: Path) -> None:
    shutil.copytree(SIMPLE.parent / "python-dsl", tmp_path / "ws")
    with Workspace.load(tmp_path / "ws") as w:
        key = next(iter(w.config.projects))
        with pytest.raises(ConfigError, match="is a Python project file"):
            w.update_resource(f"project.{key}", {"name": "x"})


def test_a_plan_after_an_edit_shows_exactly_that_change(ws: Workspace) -> None:
    ws.apply(ws.plan("dev"), progress=None)
    ws.update_resource("scenario.CHURN.nightly", {"active": False})
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address), [c.path for c in a.changes]) for a in plan.changes] == [
        ("~", "scenario.CHURN.nightly", ["active"])]


def test_edits_that_validate_refuses_are_refused_with_the_located_error(ws: Workspace) -> None:
    before, settings_before = _file(ws).read_bytes(), (ws.root / "dss-iac.yaml").read_bytes()
    # A logical connection no environment maps: both environments say so, at the dataset's line.
    with pytest.raises(ConfigError, match=r"projects/churn\.yaml:\d+:\d+: connection 'nowhere' of dataset "
                                          r"'customers_raw' has no mapping in environment 'dev'") as e:
        ws.update_resource("dataset.CHURN.customers_raw", {"connection": "nowhere"})
    assert "in environment 'prod'" in str(e.value)
    # A remapping hole: prod stops mapping a connection the project uses.
    with pytest.raises(ConfigError, match="connection 'warehouse' of dataset 'customers_raw' has no mapping in "
                                          "environment 'prod'"):
        ws.update_setting(("environments", "prod", "remap", "connections", "warehouse"), None)
    with pytest.raises(ConfigError, match="has no mapping in environment 'prod'"):
        ws.update_many({}, [(("environments", "prod", "remap", "connections", "storage"), None)])
    assert _file(ws).read_bytes() == before
    assert (ws.root / "dss-iac.yaml").read_bytes() == settings_before
    ws.validate()  # the workspace in memory is still the valid one on disk


def test_declared_reads_yaml_and_python_project_files_and_says_which_are_read_only(ws: Workspace,
                                                                                    tmp_path: Path) -> None:
    assert ws.declared("variables.CHURN") == {"standard": {"threshold": "0.5", "lookback_days": 90}, "local": {}}
    assert ws.declared("zone.CHURN.nope") is None and ws.read_only("CHURN") is None
    shutil.copytree(SIMPLE.parent / "python-dsl", tmp_path / "py")
    with Workspace.load(tmp_path / "py") as w:
        assert w.read_only("SALES") == ("projects/sales.py is a Python project file: its resources are built by "
                                        "code, so edit the code itself; only YAML project files can be edited here")
        assert w.declared("project.SALES")["name"] == "Sales by region"
        assert w.declared("dataset.SALES.orders_emea_raw")["connection"] == "landing"
        with pytest.raises(ConfigError, match="no project NOPE"):
            w.read_only("NOPE")


def test_resolved_applies_the_environment_s_variables_and_overrides(ws: Workspace) -> None:
    assert ws.resolved("variables.CHURN", "dev") == {"standard": {"threshold": "0.4", "lookback_days": 90},
                                                     "local": {}}
    # prod's host and key are not set here: left as written, the variables still resolve.
    assert ws.resolved("variables.CHURN", "prod")["standard"]["threshold"] == "0.5"
    ws.update_setting(("environments", "dev", "overrides"), {"variables.CHURN": {"local": {"owner": "ci"}}})
    assert ws.resolved("variables.CHURN", "dev")["local"] == {"owner": "ci"}
    assert ws.resolved("zone.CHURN.nope", "dev") is None


def test_reload_reads_files_changed_on_disk(ws: Workspace) -> None:
    _file(ws).write_text(_file(ws).read_text().replace("lookback_days: 90", "lookback_days: 30"))
    assert ws.declared("variables.CHURN")["standard"]["lookback_days"] == 90
    ws.reload()
    assert ws.declared("variables.CHURN")["standard"]["lookback_days"] == 30
    ws.update_resource("variables.CHURN", {"standard": {"lookback_days": 31}})  # no longer refused as stale
    _file(ws).write_text("project: [broken\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        ws.reload()
    assert ws.declared("variables.CHURN")["standard"]["lookback_days"] == 31  # kept what it had
