"""Managed folders and flow zones: server-made ids, adoption by name, updates, drift, moves between zones."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes

FOLDERS = """\
project: {key: CHURN, name: Churn}
managed_folders:
  models: {connection: storage, tags: [ml, ml, b], description: Trained models}
  exports: {connection: filesystem_folders, path: /exports/churn}
"""

WORKSPACE = """\
version: 1
environments:
  dev:
    host: embedded
    remap:
      connections: {storage: filesystem_folders, filesystem_managed: filesystem_managed,
                    filesystem_folders: filesystem_folders}
"""

FLOW = """\
project: {key: CHURN, name: Churn}
datasets:
  raw: {type: Filesystem, connection: filesystem_managed, params: {path: /raw}}
  clean: {type: Filesystem, managed: true, connection: filesystem_managed}
  report: {type: Filesystem, managed: true, connection: filesystem_managed}
managed_folders:
  models: {connection: filesystem_folders}
zones:
  ingest: {items: [raw]}
  ml: {color: "#ff8800", items: [clean, models]}
"""


def _client(ws: Any, env: str = "dev") -> Any:
    return ws.connection(env).client


def _folders(ws: Any) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in _client(ws).get_project("CHURN").list_managed_folders()}


def _zones(ws: Any) -> dict[str, list[str]]:
    """Zone name -> sorted names of the local objects DSS holds in it (folders by name)."""
    project = _client(ws).get_project("CHURN")
    names = {f["id"]: f["name"] for f in project.list_managed_folders()}
    return {z.name: sorted(names.get(i["objectId"], i["objectId"]) for i in z._raw["items"])
            for z in project.get_flow().list_zones()}


# -- managed folders -----------------------------------------------------------------------------------------

def test_fresh_apply_creates_folders_and_keeps_their_ids(make_workspace) -> None:
    ws = make_workspace({"churn": FOLDERS}, workspace_yaml=WORKSPACE)
    plan = ws.plan("dev")
    (models,) = [a for a in plan.actions if str(a.address) == "managed_folder.CHURN.models"]
    assert models.notes == {"connection": "storage -> filesystem_folders"}
    apply_ok(ws)
    assert changes(ws) == []
    folders = _folders(ws)
    assert sorted(folders) == ["exports", "models"]
    state = ws.state("dev").resources
    assert state["managed_folder.CHURN.models"].remote_id == folders["models"]["id"]
    assert len(folders["models"]["id"]) == 8
    models_raw = _client(ws).get_project("CHURN").get_managed_folder(folders["models"]["id"]).get_settings().get_raw()
    assert models_raw["params"]["connection"] == "filesystem_folders"
    assert models_raw["params"]["path"] == "/${projectKey}/${odbId}"  # DSS's choice: the config set none
    assert models_raw["tags"] == ["b", "ml"] and models_raw["description"] == "Trained models"
    assert folders["exports"]["params"]["path"] == "/exports/churn"


def test_folder_field_change_is_one_update(make_workspace) -> None:
    ws = make_workspace({"churn": FOLDERS}, workspace_yaml=WORKSPACE)
    apply_ok(ws)
    folder_id = _folders(ws)["exports"]["id"]
    ws = make_workspace({"churn": FOLDERS.replace("/exports/churn", "/exports/v2")}, workspace_yaml=WORKSPACE)
    assert changes(ws) == [("~", "managed_folder.CHURN.exports", ["path"])]
    apply_ok(ws)
    assert _folders(ws)["exports"]["params"]["path"] == "/exports/v2"
    assert _folders(ws)["exports"]["id"] == folder_id
    assert changes(ws) == []


def test_folder_renamed_by_hand_is_drift_and_renamed_back(make_workspace) -> None:
    ws = make_workspace({"churn": FOLDERS}, workspace_yaml=WORKSPACE)
    apply_ok(ws)
    folder_id = _folders(ws)["models"]["id"]
    folder = _client(ws).get_project("CHURN").get_managed_folder(folder_id)
    s = folder.get_settings()
    s.get_raw()["name"] = "models_by_hand"
    s.get_raw()["description"] = "edited"
    s.save()
    report = ws.drift("dev")
    assert [(i.address, sorted(c.path for c in i.changes)) for i in report.items] == [
        ("managed_folder.CHURN.models", ["description", "name"])]
    apply_ok(ws)
    assert _folders(ws)["models"]["id"] == folder_id and _folders(ws)["models"]["description"] == "Trained models"
    assert not ws.drift("dev").has_drift


def test_folder_made_by_hand_is_adopted_by_name(make_workspace) -> None:
    ws = make_workspace({"churn": FOLDERS}, workspace_yaml=WORKSPACE)
    client = _client(ws)
    client.create_project("CHURN", "Churn", "admin")
    by_hand = client.get_project("CHURN").create_managed_folder("models", connection_name="filesystem_folders")
    plan = ws.plan("dev")
    (action,) = [a for a in plan.actions if str(a.address) == "managed_folder.CHURN.models"]
    assert action.symbol == "~" and action.reason == "exists in DSS but not in state: adopted"
    apply_ok(ws)
    assert _folders(ws)["models"]["id"] == by_hand.id
    assert ws.state("dev").resources["managed_folder.CHURN.models"].remote_id == by_hand.id
    assert changes(ws) == []


def test_folder_connection_changes_in_place_and_follows_the_type(make_workspace) -> None:
    ws = make_workspace({"churn": FOLDERS}, workspace_yaml=WORKSPACE)
    apply_ok(ws)
    _client(ws).create_connection("s3_dev", "S3", {"bucket": "dev"})
    folder_id = _folders(ws)["models"]["id"]
    moved = WORKSPACE.replace("storage: filesystem_folders", "storage: s3_dev")
    ws = make_workspace({"churn": FOLDERS}, workspace_yaml=moved)
    plan = ws.plan("dev")
    (action,) = plan.changes
    assert (action.symbol, str(action.address)) == ("~", "managed_folder.CHURN.models")
    assert [(c.path, c.before, c.after) for c in action.changes] == [("connection", "filesystem_folders", "s3_dev")]
    apply_ok(ws)
    models = _folders(ws)["models"]
    assert models["id"] == folder_id and models["params"]["connection"] == "s3_dev" and models["type"] == "S3"
    assert changes(ws) == []


def test_unmodelled_folder_fields_survive_an_update(make_workspace) -> None:
    ws = make_workspace({"churn": FOLDERS}, workspace_yaml=WORKSPACE)
    apply_ok(ws)
    folder = _client(ws).get_project("CHURN").get_managed_folder(_folders(ws)["exports"]["id"])
    s = folder.get_settings()
    s.get_raw()["shortDesc"] = "sentinel"
    s.get_raw()["params"]["sentinel"] = True
    s.save()
    ws = make_workspace({"churn": FOLDERS.replace("path: /exports/churn", "path: /exports/churn, tags: [t]")},
                        workspace_yaml=WORKSPACE)
    assert changes(ws) == [("~", "managed_folder.CHURN.exports", ["tags"])]
    apply_ok(ws)
    exports = _folders(ws)["exports"]
    assert exports["tags"] == ["t"] and exports["shortDesc"] == "sentinel" and exports["params"]["sentinel"] is True


def test_removing_a_folder_deletes_it(make_workspace) -> None:
    ws = make_workspace({"churn": FOLDERS}, workspace_yaml=WORKSPACE)
    apply_ok(ws)
    ws = make_workspace({"churn": FOLDERS.split("  exports:")[0]}, workspace_yaml=WORKSPACE)
    assert changes(ws) == [("-", "managed_folder.CHURN.exports", ["connection", "description", "name", "path",
                                                                   "tags"])]
    apply_ok(ws)
    assert sorted(_folders(ws)) == ["models"]
    assert changes(ws) == []


# -- flow zones --------------------------------------------------------------------------------------------

def test_fresh_apply_creates_zones_holding_their_items(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW})
    plan = ws.plan("dev")
    (ml,) = [a for a in plan.actions if str(a.address) == "zone.CHURN.ml"]
    assert ml.fields["items"] == [{"type": "DATASET", "name": "clean"}, {"type": "MANAGED_FOLDER", "name": "models"}]
    assert set(map(str, ml.depends_on)) == {"project.CHURN", "dataset.CHURN.clean", "managed_folder.CHURN.models",
                                  "zone.CHURN.ingest"}
    apply_ok(ws)
    assert changes(ws) == []
    assert _zones(ws) == {"Default": [], "ingest": ["raw"], "ml": ["clean", "models"]}
    zones = {z.name: z for z in _client(ws).get_project("CHURN").get_flow().list_zones()}
    assert zones["ml"].color == "#ff8800"
    assert ws.state("dev").resources["zone.CHURN.ml"].remote_id == zones["ml"].id


def test_moving_items_between_zones_and_out_of_them(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW})
    apply_ok(ws)
    moved = FLOW.replace("items: [raw]", "items: [raw, clean]").replace("items: [clean, models]", "items: [report]")
    ws = make_workspace({"churn": moved})
    assert changes(ws) == [("~", "zone.CHURN.ingest", ["items"]), ("~", "zone.CHURN.ml", ["items"])]
    apply_ok(ws)
    # `models` is listed in no zone any more: DSS keeps it in the default zone.
    assert _zones(ws) == {"Default": [], "ingest": ["clean", "raw"], "ml": ["report"]}
    assert changes(ws) == []


def test_zone_color_change_is_one_update(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW})
    apply_ok(ws)
    ws = make_workspace({"churn": FLOW.replace("#ff8800", "#00ff00")})
    assert changes(ws) == [("~", "zone.CHURN.ml", ["color"])]
    apply_ok(ws)
    assert {z.name: z.color for z in _client(ws).get_project("CHURN").get_flow().list_zones()}["ml"] == "#00ff00"
    assert changes(ws) == []


def test_zone_edited_by_hand_is_drift_and_restored(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW})
    apply_ok(ws)
    project = _client(ws).get_project("CHURN")
    flow = project.get_flow()
    zones = {z.name: z for z in flow.list_zones()}
    zones["ingest"].add_item(project.get_dataset("clean"))  # moved by hand out of `ml`
    s = zones["ml"].get_settings()
    s.name = "ml_renamed"
    s.save()
    report = ws.drift("dev")
    assert sorted((i.address, sorted(c.path for c in i.changes)) for i in report.items) == [
        ("zone.CHURN.ingest", ["items"]), ("zone.CHURN.ml", ["items", "name"])]
    apply_ok(ws)
    assert _zones(ws) == {"Default": [], "ingest": ["raw"], "ml": ["clean", "models"]}
    assert not ws.drift("dev").has_drift


def test_zone_made_by_hand_is_adopted_by_name(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW.split("zones:")[0]})
    apply_ok(ws)
    made = _client(ws).get_project("CHURN").get_flow().create_zone("ml", "#ff8800")
    ws = make_workspace({"churn": FLOW})
    plan = ws.plan("dev")
    (ml,) = [a for a in plan.changes if str(a.address) == "zone.CHURN.ml"]
    assert ml.symbol == "~" and [c.path for c in ml.changes] == ["items"]
    apply_ok(ws)
    assert ws.state("dev").resources["zone.CHURN.ml"].remote_id == made.id
    assert [z.name for z in _client(ws).get_project("CHURN").get_flow().list_zones()] == ["Default", "ml", "ingest"]
    assert changes(ws) == []


def test_zone_deleted_and_remade_by_hand_is_adopted_again(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW})
    apply_ok(ws)
    flow = _client(ws).get_project("CHURN").get_flow()
    {z.name: z for z in flow.list_zones()}["ml"].delete()
    remade = flow.create_zone("ml", "#ff8800")
    (action,) = ws.plan("dev").changes
    assert (action.symbol, str(action.address), [c.path for c in action.changes]) == ("~", "zone.CHURN.ml", ["items"])
    apply_ok(ws)
    assert [z.name for z in flow.list_zones()] == ["Default", "ingest", "ml"]
    assert ws.state("dev").resources["zone.CHURN.ml"].remote_id == remade.id
    assert _zones(ws)["ml"] == ["clean", "models"]
    assert changes(ws) == []


def test_removing_a_zone_returns_its_items_to_the_default_zone(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW})
    apply_ok(ws)
    ws = make_workspace({"churn": FLOW.split("  ml:")[0]})
    assert changes(ws) == [("-", "zone.CHURN.ml", ["color", "items", "name"])]
    apply_ok(ws)
    assert _zones(ws) == {"Default": [], "ingest": ["raw"]}
    datasets = [d["name"] for d in _client(ws).get_project("CHURN").list_datasets()]
    assert datasets == ["clean", "raw", "report"]  # the objects stay in the flow
    assert changes(ws) == []


def test_a_dataset_removed_from_the_config_leaves_its_zone(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW})
    apply_ok(ws)
    without_clean = FLOW.replace("  clean: {type: Filesystem, managed: true, connection: filesystem_managed}\n", "")
    ws = make_workspace({"churn": without_clean.replace("items: [clean, models]", "items: [models]")})
    assert sorted(changes(ws)) == [("-", "dataset.CHURN.clean", ["connection", "description", "format",
                                                                  "format_params", "managed", "params", "schema",
                                                                  "tags", "type"]),
                                   ("~", "zone.CHURN.ml", ["items"])]
    apply_ok(ws)
    assert _zones(ws) == {"Default": [], "ingest": ["raw"], "ml": ["models"]}
    assert changes(ws) == []


RECIPES = """\
recipes:
  compute_clean: {type: sync, inputs: [raw], outputs: [clean]}
  compute_report: {type: sync, inputs: [clean], outputs: [report]}
"""


def test_a_zone_holds_a_recipe_with_its_outputs(make_workspace) -> None:
    ws = make_workspace({"churn": FLOW.replace("items: [clean, models]", "items: [compute_clean]") + RECIPES})
    (ml,) = [a for a in ws.plan("dev").actions if str(a.address) == "zone.CHURN.ml"]
    # DSS moves a recipe with its outputs: the zone the plan shows is the zone DSS will hold.
    assert ml.fields["items"] == [{"type": "DATASET", "name": "clean"}, {"type": "RECIPE", "name": "compute_clean"}]
    assert {"recipe.CHURN.compute_clean", "dataset.CHURN.clean"} <= set(map(str, ml.depends_on))


def test_zones_with_recipes_apply_and_replan_empty(make_workspace) -> None:
    flow = FLOW.replace("items: [clean, models]", "items: [compute_clean, models]") + RECIPES
    ws = make_workspace({"churn": flow})
    apply_ok(ws)
    assert _zones(ws) == {"Default": [], "ingest": ["raw"], "ml": ["clean", "compute_clean", "models"]}
    assert changes(ws) == []
    # Listing an output moves the recipe writing it along.
    ws = make_workspace({"churn": flow.replace("items: [raw]", "items: [raw, report]")})
    assert changes(ws) == [("~", "zone.CHURN.ingest", ["items"])]
    apply_ok(ws)
    assert _zones(ws) == {"Default": [], "ingest": ["compute_report", "raw", "report"],
                          "ml": ["clean", "compute_clean", "models"]}
    assert changes(ws) == []


def test_a_replaced_dataset_gets_its_zone_back(make_workspace) -> None:
    flow = FLOW.replace("items: [clean, models]", "items: [compute_clean, models]") + RECIPES
    ws = make_workspace({"churn": flow})
    apply_ok(ws)
    # A replace deletes the dataset (DSS takes it, and the recipes using it, out of their zones) and creates it
    # anew in the default zone; the plan updates the zone too, so one apply puts it back.
    ws.connection("dev").client.create_connection("hdfs_managed", "HDFS", {"root": "/user/dss"})
    hdfs = flow.replace("clean: {type: Filesystem, managed: true, connection: filesystem_managed",
                        "clean: {type: HDFS, managed: true, connection: hdfs_managed")
    ws = make_workspace({"churn": hdfs})
    plan = ws.plan("dev")
    assert {(a.symbol, str(a.address)) for a in plan.changes} >= {("-/+", "dataset.CHURN.clean"),
                                                            ("-/+", "recipe.CHURN.compute_clean"),
                                                            ("~", "zone.CHURN.ml")}
    apply_ok(ws)
    assert _zones(ws) == {"Default": [], "ingest": ["raw"], "ml": ["clean", "compute_clean", "models"]}
    assert changes(ws) == []


def test_a_zone_cannot_split_a_recipe_from_its_outputs(make_workspace) -> None:
    split = FLOW.replace("items: [raw]", "items: [raw, compute_clean]") + RECIPES
    ws = make_workspace({"churn": split})
    with pytest.raises(ConfigError, match=r"churn\.yaml:10:\d+: zone item 'clean' moves with recipe 'compute_clean' "
                                          r"\(DSS keeps a recipe in the zone of its outputs\), and zone 'ingest'"):
        ws.plan("dev")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(placement=st.lists(st.sampled_from([None, "a", "b", "c"]), min_size=5, max_size=5),
       colors=st.lists(st.sampled_from(["#2ab1ac", "#ff0000", "#00AA00"]), min_size=3, max_size=3))
def test_any_placement_of_objects_in_zones_replans_empty(make_workspace, placement: list[str | None],
                                                         colors: list[str]) -> None:
    objects = ["d1", "d2", "d3", "f1", "f2"]
    zones = {z: {"color": c, "items": [o for o, p in zip(objects, placement, strict=True) if p == z]}
             for z, c in zip("abc", colors, strict=True)}
    project = {"project": {"key": "CHURN", "name": "Churn"},
               "datasets": {d: {"type": "Filesystem", "connection": "filesystem_managed", "params": {"path": d}}
                            for d in objects[:3]},
               "managed_folders": {f: {"connection": "filesystem_folders"} for f in objects[3:]},
               "zones": {z: spec for z, spec in zones.items() if spec["items"] or z == "a"}}
    ws = make_workspace({"churn": json.dumps(project)})
    apply_ok(ws)
    assert changes(ws) == []
    held = _zones(ws)
    for z in project["zones"]:
        assert held[z] == sorted(zones[z]["items"])
