"""What DSS's list replies carry, and which edits move an object's versionTag: what refresh by version relies on
(dataiku_iac/plan/refresh.py, docs/performance.md).

- The list replies of datasets, managed folders, recipes and scenarios carry each object's `versionTag`, the same one
  its own GET returns; every edit dss-iac compares moves it (by one per save).
- Flow zones carry no versionTag; their list reply is each zone whole, as its own GET returns it.
- Project variables and permissions have no versionTag of their own (dss-iac reads them one by one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from dataikuapi.dss.project import DSSProject


def _version(doc: dict[str, Any]) -> int:
    tag = doc["versionTag"]
    assert set(tag) >= {"versionNumber", "lastModifiedBy", "lastModifiedOn"}
    return int(tag["versionNumber"])


def _listed(project: DSSProject, kind: str, key: str) -> dict[str, Any]:
    if kind == "dataset":
        items = [dict(d) for d in project.list_datasets()]
        return next(d for d in items if d["name"] == key)
    if kind == "folder":
        return next(f for f in project.list_managed_folders() if f["id"] == key)
    if kind == "recipe":
        return next(dict(r) for r in project.list_recipes() if dict(r)["name"] == key)
    return next(dict(s) for s in project.list_scenarios() if dict(s)["id"] == key)


def _fetched(project: DSSProject, kind: str, key: str) -> dict[str, Any]:
    if kind == "dataset":
        return dict(project.get_dataset(key).get_settings().get_raw())
    if kind == "folder":
        return dict(project.get_managed_folder(key).get_settings().get_raw())
    if kind == "recipe":
        return dict(project.get_recipe(key).get_settings().get_recipe_raw_definition())
    return dict(project.get_scenario(key).get_settings().get_raw())


def _flow(project: DSSProject) -> dict[str, str]:
    """A dataset, a folder, a sync recipe and a scenario: kind -> id."""
    project.create_fslike_dataset("src", "Filesystem", "filesystem_managed", "/lv/src")
    project.create_fslike_dataset("dst", "Filesystem", "filesystem_managed", "/lv/dst")
    folder = project.create_managed_folder("files")
    project.new_recipe("sync", "sync_dst").with_input("src").with_output("dst").create()
    scenario = project.create_scenario("Nightly", "step_based")
    return {"dataset": "src", "folder": folder.id, "recipe": "sync_dst", "scenario": scenario.id}


@pytest.mark.parametrize("kind", ["dataset", "folder", "recipe", "scenario"])
def test_list_replies_carry_the_version_of_each_object(project: DSSProject, kind: str) -> None:
    key = _flow(project)[kind]
    listed, fetched = _listed(project, kind, key), _fetched(project, kind, key)
    assert _version(listed) == _version(fetched)
    assert listed["versionTag"] == fetched["versionTag"]


def _save_dataset(project: DSSProject, key: str) -> None:
    settings = project.get_dataset(key).get_settings()
    settings.get_raw()["description"] = "edited"
    settings.save()


def _set_schema(project: DSSProject, key: str) -> None:
    project.get_dataset(key).set_schema({"columns": [{"name": "id", "type": "bigint"}]})


def _set_dataset_metadata(project: DSSProject, key: str) -> None:
    dataset = project.get_dataset(key)
    meta = dataset.get_metadata()
    meta["tags"] = ["edited"]
    dataset.set_metadata(meta)


def _add_rule(project: DSSProject, key: str) -> None:
    rules = project.get_dataset(key).get_data_quality_rules()
    rules.create_rule({"type": "RecordCountInRangeRuleConfig", "displayName": "rows", "minimum": 1,
                       "minimumEnabled": True})


def _save_folder(project: DSSProject, key: str) -> None:
    settings = project.get_managed_folder(key).get_settings()
    settings.description = "edited"
    settings.save()


def _rename_folder(project: DSSProject, key: str) -> None:
    project.get_managed_folder(key).rename("renamed")


def _save_recipe(project: DSSProject, key: str) -> None:
    settings = project.get_recipe(key).get_settings()
    settings.get_recipe_raw_definition()["description"] = "edited"
    settings.save()


def _save_scenario(project: DSSProject, key: str) -> None:
    settings = project.get_scenario(key).get_settings()
    settings.active = not settings.active
    settings.save()


EDITS: dict[str, tuple[str, Callable[[DSSProject, str], None]]] = {
    "dataset settings": ("dataset", _save_dataset),
    "dataset schema": ("dataset", _set_schema),
    "dataset metadata": ("dataset", _set_dataset_metadata),
    "dataset data quality rule": ("dataset", _add_rule),
    "folder settings": ("folder", _save_folder),
    "folder rename": ("folder", _rename_folder),
    "recipe settings": ("recipe", _save_recipe),
    "scenario settings": ("scenario", _save_scenario),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_every_edit_moves_the_listed_version_by_one(project: DSSProject, edit: str) -> None:
    kind, change = EDITS[edit]
    key = _flow(project)[kind]
    before = _version(_listed(project, kind, key))
    change(project, key)
    assert _version(_listed(project, kind, key)) == before + 1


def test_renaming_a_dataset_moves_the_recipes_that_use_it(project: DSSProject) -> None:
    """DSS rewires the recipes of a renamed dataset: a recipe's inputs change, so must its version."""
    _flow(project)
    before = _version(_listed(project, "recipe", "sync_dst"))
    project.get_dataset("src").rename("source")
    recipe = _listed(project, "recipe", "sync_dst")
    assert _version(recipe) > before
    assert [i["ref"] for i in recipe["inputs"]["main"]["items"]] == ["source"]


def test_zone_list_reply_is_each_zone_whole(project: DSSProject) -> None:
    """No versionTag on zones: refresh makes them from the list reply, which must hold what GET holds."""
    _flow(project)
    flow = project.get_flow()
    zone = flow.create_zone("ingest", "#2ab1ac")
    zone.add_item(project.get_dataset("src"))
    listed = {z.id: z.get_settings().get_raw() for z in flow.list_zones()}
    fetched = flow.get_zone(zone.id).get_settings().get_raw()
    assert listed[zone.id] == fetched
    assert {"id", "name", "color", "items"} <= set(fetched)
    assert fetched["items"] == [{"objectId": "src", "objectType": "DATASET"}]
    assert "versionTag" not in fetched


def test_variables_and_permissions_have_no_version_of_their_own(project: DSSProject) -> None:
    variables = project.get_variables()
    permissions = project.get_permissions()
    assert "versionTag" not in variables and "versionTag" not in permissions
