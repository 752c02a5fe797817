"""Managed folders and flow zones, through dataikuapi only."""

from __future__ import annotations

import re

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.dataset import DSSDataset
from dataikuapi.dss.managedfolder import DSSManagedFolder
from dataikuapi.utils import DataikuException

FOLDER_CONN = "filesystem_folders"


def _dataset(project, name: str) -> DSSDataset:
    return project.create_fslike_dataset(name, "Filesystem", "filesystem_managed", f"/in/{name}")


# -- managed folders ------------------------------------------------------------------------------------------

def test_folder_gets_a_server_made_id(project) -> None:
    folder = project.create_managed_folder("Model files")
    assert re.fullmatch(r"[A-Za-z0-9]{8}", folder.id)
    raw = folder.get_settings().get_raw()
    assert raw["id"] == folder.id
    assert raw["name"] == "Model files"  # folder names are labels: spaces are fine
    assert raw["projectKey"] == project.project_key
    assert raw["type"] == "Filesystem"  # no type given: the connection's
    assert raw["params"] == {"connection": FOLDER_CONN, "path": "/${projectKey}/${odbId}"}
    assert raw["partitioning"]["dimensions"] == []
    assert [(f["id"], f["name"]) for f in project.list_managed_folders()] == [(folder.id, "Model files")]


def test_folder_ids_differ(project) -> None:
    ids = {project.create_managed_folder(f"f{i}").id for i in range(5)}
    assert len(ids) == 5


def test_folder_name_must_be_unique_and_not_blank(project) -> None:
    project.create_managed_folder("exports")
    with pytest.raises(DataikuException, match="already exists"):
        project.create_managed_folder("exports")
    for blank in ("", "   "):
        with pytest.raises(DataikuException):
            project.create_managed_folder(blank)
    assert [f["name"] for f in project.list_managed_folders()] == ["exports"]


def test_folder_on_unknown_connection_is_refused(project) -> None:
    with pytest.raises(DataikuException, match="no_such_conn"):
        project.create_managed_folder("x", connection_name="no_such_conn")
    assert project.list_managed_folders() == []


def test_folder_settings_save_keeps_unknown_fields(project) -> None:
    folder = project.create_managed_folder("reports")
    settings = folder.get_settings()
    settings.tags = ["z", "a"]
    settings.description = "monthly reports"
    settings.add_time_partitioning_dimension("month", "MONTH")
    settings.set_partitioning_file_pattern("/%Y/%M/.*")
    settings.get_raw()["iacSentinel"] = 42
    settings.get_raw()["id"] = "hijacked"
    settings.save()
    raw = project.get_managed_folder(folder.id).get_settings().get_raw()
    assert raw["tags"] == ["a", "z"]
    assert raw["description"] == "monthly reports"
    assert raw["partitioning"]["dimensions"] == [{"name": "month", "type": "time", "params": {"period": "MONTH"}}]
    assert raw["partitioning"]["filePathPattern"] == "/%Y/%M/.*"
    assert raw["iacSentinel"] == 42
    assert raw["id"] == folder.id
    assert raw["versionTag"]["versionNumber"] == 1


def test_folder_definition_calls(project) -> None:
    folder = project.create_managed_folder("defs")
    definition = folder.get_definition()
    definition["tags"] = ["tag1"]
    reply = folder.set_definition(definition)
    assert "msg" in reply
    assert folder.get_settings().tags == ["tag1"]


def test_folder_save_cannot_take_another_folders_name(project) -> None:
    project.create_managed_folder("first")
    second = project.create_managed_folder("second")
    settings = second.get_settings()
    settings.get_raw()["name"] = "first"
    with pytest.raises(DataikuException, match="already exists"):
        settings.save()
    assert second.get_settings().get_raw()["name"] == "second"


def test_folder_rename(project) -> None:
    folder = project.create_managed_folder("old name")
    project.create_managed_folder("taken")
    folder.rename("new name")
    assert folder.get_settings().get_raw()["name"] == "new name"
    for bad in ("taken", "  "):
        with pytest.raises(DataikuException):
            folder.rename(bad)
    assert folder.get_settings().get_raw()["name"] == "new name"


def test_folder_delete_and_not_found(project) -> None:
    folder = project.create_managed_folder("doomed")
    folder.delete()
    assert project.list_managed_folders() == []
    for call in (folder.get_settings, folder.delete, lambda: folder.rename("x")):
        with pytest.raises(DataikuException, match=folder.id):
            call()
    project.create_managed_folder("doomed")  # the name is free again


def test_unknown_project_is_an_error(dss: DSSClient) -> None:
    project = dss.get_project("NO_SUCH_PROJECT_FZ")
    for call in (project.list_managed_folders, lambda: project.create_managed_folder("f"),
                 project.get_flow().list_zones, lambda: project.get_flow().create_zone("z")):
        with pytest.raises(DataikuException, match="NO_SUCH_PROJECT_FZ"):
            call()


def test_folder_rename_needs_an_id(dss: DSSClient, project) -> None:
    with pytest.raises(DataikuException, match="id"):
        dss._perform_empty("POST", f"/projects/{project.project_key}/actions/renameManagedFolder",
                           body={"newName": "x"})


def test_files_in_folder_dataset(project) -> None:
    folder = project.create_managed_folder("drop zone")
    ds = folder.create_dataset_from_files("from_drop")
    assert ds.get_settings().get_raw_params()["folderSmartId"] == folder.id


# -- flow zones: the zones themselves ---------------------------------------------------------------------------

def test_default_zone_always_exists(project) -> None:
    flow = project.get_flow()
    zones = flow.list_zones()
    assert [z.id for z in zones] == ["default"]
    default = flow.get_default_zone()
    assert default.id == "default"
    assert default.items == []
    with pytest.raises(DataikuException):
        default.delete()
    assert [z.id for z in flow.list_zones()] == ["default"]


def test_create_get_and_list_zones(project) -> None:
    flow = project.get_flow()
    raw_zone = flow.create_zone("Raw data")
    prepared = flow.create_zone("Prepared", color="#ff0000")
    assert re.fullmatch(r"[A-Za-z0-9]+", raw_zone.id) and raw_zone.id != "default"
    assert (raw_zone.name, raw_zone.color) == ("Raw data", "#2ab1ac")
    got = flow.get_zone(prepared.id)
    assert (got.name, got.color, got.items) == ("Prepared", "#ff0000", [])
    assert [z.id for z in flow.list_zones()] == ["default", raw_zone.id, prepared.id]


def test_zone_needs_a_name(dss: DSSClient, project) -> None:
    with pytest.raises(DataikuException):
        project.get_flow().create_zone("")
    with pytest.raises(DataikuException):
        dss._perform_json("POST", f"/projects/{project.project_key}/flow/zones", body={"color": "#000000"})
    assert len(project.get_flow().list_zones()) == 1


def test_zone_settings_save(project) -> None:
    flow = project.get_flow()
    zone = flow.create_zone("Before")
    _dataset(project, "kept").move_to_zone(zone)
    settings = flow.get_zone(zone.id).get_settings()
    settings.name = "After"
    settings.color = "#123456"
    settings.get_raw()["items"] = []  # items are not settings: ignored
    settings.save()
    again = flow.get_zone(zone.id)
    assert (again.name, again.color) == ("After", "#123456")
    assert [i.name for i in again.items] == ["kept"]
    default_settings = flow.get_default_zone().get_settings()
    default_settings.name = "Main"
    default_settings.save()
    assert flow.get_default_zone().name == "Main"
    blank = flow.get_zone(zone.id).get_settings()
    blank.name = ""
    with pytest.raises(DataikuException):
        blank.save()


def test_missing_zone_is_not_found(project) -> None:
    flow = project.get_flow()
    with pytest.raises(DataikuException, match="nozone"):
        flow.get_zone("nozone")
    ghost = flow.create_zone("ghost")
    ghost.delete()
    with pytest.raises(DataikuException):
        ghost.delete()
    with pytest.raises(DataikuException):
        ghost.add_item(_dataset(project, "d"))
    with pytest.raises(DataikuException):
        ghost.get_settings().save()


# -- flow zones: where objects live ---------------------------------------------------------------------------------

def test_new_objects_live_in_the_default_zone(project) -> None:
    flow = project.get_flow()
    flow.create_zone("Other")
    ds = _dataset(project, "fresh")
    folder = project.create_managed_folder("fresh folder")
    assert ds.get_zone().id == "default"
    assert flow.get_zone_of_object(folder).id == "default"
    assert all(z.items == [] for z in flow.list_zones())


def test_move_dataset_between_zones(project) -> None:
    flow = project.get_flow()
    zone_a, zone_b = flow.create_zone("A"), flow.create_zone("B")
    ds = _dataset(project, "moving")
    ds.move_to_zone(zone_a)
    assert ds.get_zone().id == zone_a.id
    assert zone_a._raw["items"] == [{"objectId": "moving", "objectType": "DATASET"}]
    assert isinstance(flow.get_zone(zone_a.id).items[0], DSSDataset)
    ds.move_to_zone(zone_b.id)  # by id works too
    assert ds.get_zone().id == zone_b.id
    assert flow.get_zone(zone_a.id).items == []  # an object lives in exactly one zone
    ds.move_to_zone("default")
    assert ds.get_zone().id == "default"
    assert all(z.items == [] for z in flow.list_zones())


def test_move_folder_and_add_items(project) -> None:
    flow = project.get_flow()
    zone = flow.create_zone("Bulk")
    folder = project.create_managed_folder("in bulk")
    datasets = [_dataset(project, n) for n in ("b1", "b2")]
    zone.add_items([folder, *datasets])
    assert [i["objectId"] for i in zone._raw["items"]] == [folder.id, "b1", "b2"]
    assert isinstance(zone.items[0], DSSManagedFolder)
    assert folder.get_zone().id == zone.id
    assert all(flow.get_zone_of_object(d).id == zone.id for d in datasets)


def test_adding_a_missing_object_changes_nothing(dss: DSSClient, project) -> None:
    flow = project.get_flow()
    zone = flow.create_zone("Strict")
    real = _dataset(project, "real")
    with pytest.raises(DataikuException, match="ghost"):
        zone.add_items([real, project.get_dataset("ghost")])
    assert flow.get_zone(zone.id).items == []
    with pytest.raises(DataikuException):
        dss._perform_json("POST", f"/projects/{project.project_key}/flow/zones/{zone.id}/items",
                          body={"objectId": "real", "objectType": "NOT_A_TYPE"})


def test_deleting_zone_sends_objects_back_to_default(project) -> None:
    flow = project.get_flow()
    zone = flow.create_zone("Temporary")
    ds = _dataset(project, "homeless")
    ds.move_to_zone(zone)
    zone.delete()
    assert ds.get_zone().id == "default"
    assert [z.id for z in flow.list_zones()] == ["default"]


def test_deleted_and_renamed_objects_follow_in_zones(project) -> None:
    flow = project.get_flow()
    zone = flow.create_zone("Tracked")
    gone, renamed = _dataset(project, "gone"), _dataset(project, "before")
    folder = project.create_managed_folder("tracked folder")
    zone.add_items([gone, renamed, folder])
    gone.delete()
    folder.delete()
    renamed.rename("after")
    assert flow.get_zone(zone.id)._raw["items"] == [{"objectId": "after", "objectType": "DATASET"}]
    assert project.get_dataset("after").get_zone().id == zone.id
    _dataset(project, "gone")  # a new dataset of the old name starts in the default zone
    assert project.get_dataset("gone").get_zone().id == "default"


def test_share_and_unshare(project) -> None:
    flow = project.get_flow()
    home, guest = flow.create_zone("Home"), flow.create_zone("Guest")
    ds = _dataset(project, "sharedds")
    ds.move_to_zone(home)
    ds.share_to_zone(guest)
    guest_now = flow.get_zone(guest.id)
    assert [d.name for d in guest_now.shared] == ["sharedds"]
    assert guest_now.items == []
    assert ds.get_zone().id == home.id  # sharing does not move
    ds.unshare_from_zone(guest.id)
    assert flow.get_zone(guest.id).shared == []


# -- zones and recipes ---------------------------------------------------------------------------------------

def _sync(project, source: str, target: str):
    return project.new_recipe("sync", f"sync_{target}").with_input(source).with_output(target).create()


def test_recipe_and_its_output_move_together(project) -> None:
    flow = project.get_flow()
    zone_a, zone_b = flow.create_zone("A"), flow.create_zone("B")
    _dataset(project, "src")
    out = _dataset(project, "out")
    recipe = _sync(project, "src", "out")
    assert flow.get_zone_of_object(recipe).id == "default"
    out.move_to_zone(zone_a)  # the recipe making `out` comes along
    assert flow.get_zone_of_object(recipe).id == zone_a.id
    assert project.get_dataset("src").get_zone().id == "default"  # inputs stay where they are
    zone_b.add_item(recipe)  # and a recipe brings its outputs
    assert out.get_zone().id == zone_b.id
    assert {i["objectId"] for i in flow.get_zone(zone_b.id)._raw["items"]} == {"sync_out", "out"}
    assert flow.get_zone(zone_a.id).items == []
    flow.get_default_zone().add_item(recipe)
    assert (out.get_zone().id, flow.get_zone_of_object(recipe).id) == ("default", "default")


def test_folder_delete_removes_the_recipes_using_it(project) -> None:
    folder = project.create_managed_folder("inputs")
    _dataset(project, "parsed")
    project.new_recipe("python", "parse").with_input(folder.id).with_output("parsed").create()
    assert [r["name"] for r in project.list_recipes()] == ["parse"]
    folder.delete()
    assert project.list_recipes() == []
    assert project.get_dataset("parsed").exists()


def test_folder_moves_between_zones_and_is_shared_to_another(project) -> None:
    flow = project.get_flow()
    home, other = flow.create_zone("Home"), flow.create_zone("Other")
    folder = project.create_managed_folder("zoned")
    folder.move_to_zone(home)
    assert folder.get_zone().id == home.id
    folder.share_to_zone(other)
    assert [s["objectId"] for s in flow.get_zone(other.id)._raw.get("shared", [])] == [folder.id]
    folder.unshare_from_zone(other.id)
    assert flow.get_zone(other.id)._raw.get("shared", []) == []
    assert folder.get_zone().id == home.id
