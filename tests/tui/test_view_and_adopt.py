"""The app's plain-data helpers (no terminal): plan entries and targets, desired vs actual, adopt's edits."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
from dataiku_iac.tui import view
from dataiku_iac.tui.service import Service

from dataiku_iac import Workspace
from dataiku_iac.adopt import AdoptError, plan_adopt, resource_changes
from dataiku_iac.errors import ConfigError
from dataiku_iac.plan.diff import FieldChange
from dataiku_iac.plan.model import Action, ActionType, Plan
from dataiku_iac.resources import _shapes as adopt_shapes
from dataiku_iac.resources.address import Address

from .conftest import copy_example


def _plan(*actions: Action, targets: tuple[str, ...] = ()) -> Plan:
    return Plan("dev", actions, "digest", None, 0, "fp", "now", targets)


CREATE = ActionType.CREATE


def _create(address: str) -> Action:
    return Action(Address.parse(address), address.split(".")[0], CREATE)


def test_targets_leave_out_a_project_when_part_of_it_is_excluded() -> None:
    full = _plan(_create("project.A"), _create("dataset.A.x"),
                 _create("dataset.A.y"), _create("project.B"))
    assert view.targets_for(full, {"dataset.A.y"}) == ["dataset.A.x", "project.B"]
    assert view.targets_for(full, {"project.B"}) == ["project.A", "dataset.A.x", "dataset.A.y"]


def test_a_quoted_login_is_one_name_in_the_tree() -> None:
    jane = view.Entry(Action(Address.parse('user["jane.doe@corp.com"]'), "user", CREATE), True)
    assert (jane.project, jane.name) == ("(instance)", "jane.doe@corp.com")
    assert view.short_name('user["jane.doe@corp.com"]') == "user jane.doe@corp.com"
    assert view.short_name("recipe.CHURN.clean") == "recipe clean"


def test_entries_mark_excluded_and_pulled_in() -> None:
    full = _plan(_create("dataset.A.x"), _create("dataset.A.y"),
                 _create("recipe.A.r"))
    now = _plan(_create("dataset.A.x"), _create("recipe.A.r"), targets=("r",))
    got = {e.address: (e.included, e.pulled_in) for e in view.entries(full, now, {"dataset.A.x", "dataset.A.y"})}
    assert got == {"dataset.A.x": (True, True), "dataset.A.y": (False, False), "recipe.A.r": (True, False)}
    groups = view.grouped(view.entries(full, now, {"dataset.A.y"}))
    assert list(groups["A"]) == ["dataset", "recipe"]
    assert view.counts_label(view.counts(groups["A"]["dataset"])) == "+1"


def test_actual_fields_are_rebuilt_from_the_changes_with_secrets_masked() -> None:
    update = Action(Address.parse("dataset.A.x"), "dataset", ActionType.UPDATE,
                    changes=(FieldChange("params.path", "/old", "/new"), FieldChange("description", None, "d")),
                    fields={"params": {"path": "/new", "password": "hunter2"}, "description": "d"})
    assert view.actual_fields(update) == {"params": {"path": "/old", "password": "(sensitive)"}}
    assert view.desired_fields(update) == {"params": {"path": "/new", "password": "(sensitive)"}, "description": "d"}
    assert view.actual_fields(Action(Address.parse("dataset.A.x"), "dataset", CREATE, fields={})) is None
    assert "hunter2" not in view.to_yaml(view.desired_fields(update))


COMMENTED = """\
# The workspace file, commented everywhere.
version: 1
projects:
  - projects/*.yaml    # globs
environments:
  # dev: the embedded DSS
  dev:
    host: embedded
    remap:
      connections: {warehouse: filesystem_managed, storage: filesystem_managed, folders: filesystem_folders}
    variables:
      threshold: "0.4"   # dev's own threshold
      other: 'x'
state:
  backend: local
"""


def test_workspace_file_edit_changes_only_its_line(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    (root / "dss-iac.yaml").write_text(COMMENTED)
    with Workspace.load(root) as ws:
        edits = plan_adopt(ws.config, "dev", ws.environment("dev"), "variables.CHURN",
                           [FieldChange("standard.threshold", "0.4", "0.99"),
                            FieldChange("standard.lookback_days", 90, 30)])
        assert [e.describe() for e in edits] == ['dss-iac.yaml: environments.dev.variables.threshold = "0.99"',
                                                 "projects/churn.yaml: variables.CHURN: standard.lookback_days = 30"]
        assert resource_changes(edits) == {"variables.CHURN": {"standard": {"lookback_days": 30}}}
        ws.update_setting(edits[0].keys, edits[0].new)
    assert (root / "dss-iac.yaml").read_text() == COMMENTED.replace('"0.4"', '"0.99"')


def test_an_invalid_setting_writes_nothing(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    (root / "dss-iac.yaml").write_text(COMMENTED)
    with Workspace.load(root) as ws:
        with pytest.raises(ConfigError, match="protected"):
            ws.update_setting(("environments", "dev", "protected"), "maybe")
        (root / "dss-iac.yaml").write_text(COMMENTED + "# someone else's edit\n")
        with pytest.raises(ConfigError, match="changed on disk"):
            ws.update_setting(("environments", "dev", "variables", "other"), "y")
    assert (root / "dss-iac.yaml").read_text() == COMMENTED + "# someone else's edit\n"


def test_a_setting_is_removed_with_its_line_only(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    (root / "dss-iac.yaml").write_text(COMMENTED)
    with Workspace.load(root) as ws:
        ws.update_setting(("environments", "dev", "variables", "other"), None)
        ws.update_setting(("environments", "dev", "variables", "absent"), None)
    assert (root / "dss-iac.yaml").read_text() == COMMENTED.replace("      other: 'x'\n", "")


@pytest.mark.parametrize(("address", "change", "message"), [
    ("dataset.CHURN.customers_raw", FieldChange("params.password", "a", "(sensitive)", True), "sensitive"),
    ("dataset.CHURN.customers_raw", FieldChange("data_quality.dssiac_rows", None, {"type": "RecordCountInRange"}),
     "no rule maps back to a test"),
    # Scenario lists drift item by item (`steps.1`): a change of a whole list is not one drift shows.
    ("scenario.CHURN.nightly", FieldChange("triggers", [], [{"type": "manual", "active": True}]),
     "cannot be adopted: dss-iac has no way to write it back"),
    ("scenario.CHURN.nightly", FieldChange("steps.1", None, {"type": "build", "name": "b", "enabled": True,
                                                             "items": ["SAVED_MODEL:x"], "mode": "RECURSIVE_BUILD"}),
     "names SAVED_MODEL:x"),
    ("recipe.CHURN.clean_customers", FieldChange("type", "python", "r"), "DSS fixes a recipe's type"),
    ("dataset.CHURN.customers_raw", FieldChange("connection", "filesystem_managed", "pg"), "no logical name"),
    ("dataset.CHURN.customers_clean", FieldChange("connection", "x", "filesystem_managed"),
     "several logical names"),
    ("dataset.NOPE.x", FieldChange("description", "", "d"), "no project file"),
])
def test_adopt_refuses_what_it_cannot_write_back(simple_ws: Path, address: str, change: FieldChange,
                                                 message: str) -> None:
    with Workspace.load(simple_ws) as ws, pytest.raises(AdoptError, match=message):
        plan_adopt(ws.config, "dev", ws.environment("dev"), address, [change])


def test_adopting_a_recipes_code_writes_its_code_file(simple_ws: Path) -> None:
    with Workspace.load(simple_ws) as ws:
        code = ws.config.projects["CHURN"].code["clean_customers"]
        [edit] = plan_adopt(ws.config, "dev", ws.environment("dev"), "recipe.CHURN.clean_customers",
                            [FieldChange("code", code, "print('from DSS')\n")])
    assert (edit.whole_file, edit.new, edit.old) == (True, "print('from DSS')\n", code)
    assert edit.file.read_text() == code and resource_changes([edit]) == {}


def test_adopt_maps_connections_back_to_their_logical_name(simple_ws: Path) -> None:
    with Workspace.load(simple_ws) as ws:
        edits = plan_adopt(ws.config, "dev", ws.environment("dev"), "managed_folder.CHURN.reports",
                           [FieldChange("connection", "filesystem_managed", "filesystem_folders")])
    assert resource_changes(edits) == {"managed_folder.CHURN.reports": {"connection": "folders"}}


def test_a_scenario_marked_as_test_in_dss_is_adopted_as_a_test_scenario(simple_ws: Path) -> None:
    with Workspace.load(simple_ws) as ws:
        edits = plan_adopt(ws.config, "dev", ws.environment("dev"), "scenario.CHURN.nightly",
                           [FieldChange("test", False, True)])
    assert resource_changes(edits) == {"scenario.CHURN.nightly": {"test": True}}


def test_adopt_refuses_a_value_set_by_an_environment_override(tmp_path: Path) -> None:
    root = copy_example(tmp_path)
    text = (root / "dss-iac.yaml").read_text().replace(
        "    variables:\n      threshold: \"0.4\"\n",
        "    variables:\n      threshold: \"0.4\"\n    overrides:\n      scenario.*.*: {active: false}\n", 1)
    (root / "dss-iac.yaml").write_text(text)
    with Workspace.load(root) as ws, pytest.raises(AdoptError, match="override 'scenario"):
        plan_adopt(ws.config, "dev", ws.environment("dev"), "scenario.CHURN.nightly",
                   [FieldChange("active", False, True)])


def _reshape_in_dss(client: Any) -> None:
    """Changes made by hand in DSS to fields whose YAML form differs from what DSS stores."""
    project = client.get_project("CHURN")
    settings = project.get_scenario("NIGHTLY").get_settings()
    raw = settings.get_raw()
    raw["triggers"][0]["params"]["hour"] = 4
    raw["triggers"].append({"type": "temporal", "active": True,
                            "params": {"frequency": "Weekly", "daysOfWeek": ["Sunday", "Monday"], "hour": 6}})
    raw["triggers"].append({"type": "ds_modified", "active": True, "delay": 900, "params": {"watches": [
        {"type": "DATASET", "projectKey": "CHURN", "itemId": "customers_raw", "partitionsSpec": ""}]}})
    raw["params"]["steps"][0]["params"]["jobType"] = "RECURSIVE_FORCED_BUILD"
    settings.save()
    dataset = project.get_dataset("customers_raw").get_settings()
    dataset.get_raw()["schema"]["columns"].append({"name": "country", "type": "string"})
    dataset.save()
    recipe = project.get_recipe("clean_customers").get_settings()
    inputs = recipe.get_recipe_raw_definition()["inputs"]["main"]["items"]
    inputs[:] = [i for i in inputs if i["ref"] != "events_raw"]
    recipe.save()
    permissions = project.get_permissions()
    entry = next(e for e in permissions["permissions"] if e.get("group") == "data_team")
    entry["runScenarios"], entry["writeDashboards"] = False, True
    project.set_permissions(permissions)


def test_reshaped_fields_are_adopted_in_their_yaml_form(applied_ws: Path) -> None:
    before = (applied_ws / "projects" / "churn.yaml").read_text()
    service = Service(applied_ws)
    try:
        _reshape_in_dss(service.ws.connection("dev").client)
        drift = service.ws.drift("dev")
        assert sorted(i.address for i in drift.items) == [
            "dataset.CHURN.customers_raw", "permissions.CHURN", "recipe.CHURN.clean_customers",
            "scenario.CHURN.nightly"]
        for item in drift.items:
            service.adopt("dev", item, service.adopt_edits("dev", item))
        service.reload()
        assert not service.ws.drift("dev").has_drift
        assert not service.ws.plan("dev").has_changes  # the YAML now says what DSS has
    finally:
        service.close()
    after = (applied_ws / "projects" / "churn.yaml").read_text()
    assert changed(before, after) == [
        "-      run_scenarios: true",
        "+      write_dashboards: true",
        "+      - {name: country, type: string}",
        "-    inputs: [customers_raw, events_raw]",
        "+    inputs: [customers_raw]",
        "-        hour: 2",
        "+        hour: 4",
        "+      - type: temporal",
        "+        frequency: Weekly",
        "+        hour: 6",
        "+        days: [Monday, Sunday]",
        "+      - type: dataset",
        "+        datasets: [customers_raw]",
        "-        mode: RECURSIVE_BUILD",
        "+        mode: RECURSIVE_FORCED_BUILD",
    ]


def changed(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_lists_of_names_keep_the_file_order_and_groups_without_access_are_removed() -> None:
    compared = [{"type": "DATASET", "name": "a"}, {"type": "DATASET", "name": "b"}, {"type": "RECIPE", "name": "r"}]
    found = [{"type": "DATASET", "name": "a"}, {"type": "DATASET", "name": "c"}, {"type": "RECIPE", "name": "r"}]
    # The file lists the recipe first and not its output `a`, which the zone holds because the recipe is there.
    assert adopt_shapes.names(found, compared, ["r", "b"]) == ["r", "c"]
    entry = {"group": "g", "read_project_content": True, "admin": False}
    assert adopt_shapes.group_rights(["admin"], ["read_project_content"], entry) == {
        "read_project_content": None, "admin": True}
    assert adopt_shapes.group_rights(None, ["read_project_content"], entry) is None
    assert adopt_shapes.schema([{"name": "x", "type": "int", "comment": ""}], None, None) == [
        {"name": "x", "type": "int"}]
