"""Recipes, through dataikuapi only: the creator flow, settings with payload, flow rules, delete."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from dataikuapi import DSSClient
from dataikuapi.dss.project import DSSProject
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS

CONN = "filesystem_managed"
FOLDER_CONN = "filesystem_folders"


def make_dataset(project: DSSProject, name: str) -> None:
    project.create_dataset(name, "Filesystem", params={"connection": CONN, "path": f"/iac_tests/{name}"},
                           formatType="csv", formatParams={"separator": ","})


def names(project: DSSProject) -> list[str]:
    return [r.name for r in project.list_recipes()]


def sync(project: DSSProject, source: str, target: str, name: str | None = None):
    creator = project.new_recipe("sync").with_input(source).with_existing_output(target)
    if name:
        creator.set_name(name)
    return creator.create()


@pytest.fixture
def other_project(dss: DSSClient) -> Iterator[DSSProject]:
    key = "T" + uuid.uuid4().hex[:10].upper()
    p = dss.create_project(key, f"Other {key}", dss.get_auth_info()["authIdentifier"])
    yield p
    with contextlib.suppress(Exception):
        p.delete()


# -- creation ------------------------------------------------------------------------------------------------

def test_python_recipe_with_new_output_dataset(project: DSSProject) -> None:
    make_dataset(project, "raw")
    recipe = (project.new_recipe("python").with_input("raw")
              .with_new_output_dataset("clean", CONN).with_script("print('hello')").create())
    assert recipe.name == "compute_clean"  # an unnamed recipe is named after its output
    settings = recipe.get_settings()
    assert type(settings).__name__ == "CodeRecipeSettings"
    assert settings.get_code() == "print('hello')"
    assert settings.get_flat_input_refs() == ["raw"] and settings.get_flat_output_refs() == ["clean"]
    assert settings.get_code_env_settings()["envMode"] == "INHERIT"
    assert project.get_dataset("clean").get_settings().get_raw()["managed"] is True
    listed = next(r for r in project.list_recipes() if r.name == "compute_clean")
    assert listed.type == "python" and listed.to_recipe().type == "python"


def test_named_recipe_keeps_its_name_and_existing_output(project: DSSProject) -> None:
    make_dataset(project, "src")
    make_dataset(project, "dst")
    recipe = sync(project, "src", "dst", name="copy_src")
    assert recipe.name == "copy_src"
    assert names(project) == ["copy_src"]
    assert recipe.get_settings().has_output("dst")


def test_grouping_recipe_creates_a_managed_output_and_keeps_payload_edits(project: DSSProject) -> None:
    make_dataset(project, "orders")
    recipe = (project.new_recipe("grouping").with_input("orders").with_new_output("by_country", CONN)
              .with_group_key("country").create())
    assert project.get_dataset("by_country").exists()
    settings = recipe.get_settings()
    assert [k["column"] for k in settings.obj_payload["keys"]] == ["country"]
    settings.add_grouping_key("city")
    settings.set_column_aggregations("amount", sum=True)
    settings.save()
    payload = recipe.get_settings().obj_payload
    assert [k["column"] for k in payload["keys"]] == ["country", "city"]
    assert payload["values"][0]["column"] == "amount" and payload["values"][0]["sum"] is True


def test_prepare_recipe_steps(project: DSSProject) -> None:
    make_dataset(project, "raw")
    recipe = project.new_recipe("prepare").with_input("raw").with_new_output("prepared", CONN).create()
    assert recipe.type == "shaker"
    settings = recipe.get_settings()
    settings.add_processor_step("ColumnRenamer", {"renamings": [{"from": "a", "to": "b"}]})
    settings.save()
    assert recipe.get_settings().raw_steps[0]["type"] == "ColumnRenamer"


def test_join_recipe_inputs_come_from_virtual_inputs(project: DSSProject) -> None:
    make_dataset(project, "left_ds")
    make_dataset(project, "right_ds")
    recipe = (project.new_recipe("join").with_input("left_ds").with_input("right_ds")
              .with_new_output("joined", CONN).create())
    settings = recipe.get_settings()
    assert settings.get_flat_input_refs() == ["left_ds", "right_ds"]
    assert [v["index"] for v in settings.raw_virtual_inputs] == [0, 1]
    join = settings.add_join("INNER", 0, 1)
    settings.add_condition_to_join(join, column1="id", column2="id")
    settings.save()
    assert recipe.get_settings().raw_joins[-1]["on"][0]["column1"]["name"] == "id"


def test_split_recipe_creates_all_its_new_outputs(project: DSSProject) -> None:
    make_dataset(project, "all_rows")
    recipe = (project.new_recipe("split").with_input("all_rows")
              .with_new_output("part_a", CONN).with_new_output("part_b", CONN).create())
    assert recipe.get_settings().get_flat_output_refs() == ["part_a", "part_b"]
    assert project.get_dataset("part_a").exists() and project.get_dataset("part_b").exists()


def test_vstack_payload_supports_the_client_helpers(project: DSSProject) -> None:
    make_dataset(project, "jan")
    make_dataset(project, "feb")
    recipe = project.new_recipe("vstack").with_input("jan").with_input("feb").with_new_output("both", CONN).create()
    settings = recipe.get_settings()
    assert settings.raw_virtual_inputs[0]["index"] == 0 and settings.get_json_payload()["mode"] == "UNION"
    settings.set_custom_remapping_mode({"amount": {0: "amount_jan", 1: "amount_feb"}})
    settings.add_origin_column("origin", {0: "january"})
    settings.save()
    payload = recipe.get_settings().get_json_payload()
    assert payload["mode"] == "REMAP" and payload["virtualInputs"][1]["columnsMatch"] == ["amount_feb"]
    assert payload["virtualInputs"][0]["originLabel"] == "january"


def test_raw_mode_skips_checks_and_uses_the_raw_payload(project: DSSProject) -> None:
    creator = project.new_recipe("sync").with_input("not_yet").with_existing_output("not_yet_either")
    creator.set_name("raw_one")
    creator.set_raw_mode()
    creator.creation_settings["rawPayload"] = '{"engine": "DSS"}'
    recipe = creator.create()
    assert recipe.get_settings().get_json_payload() == {"engine": "DSS"}
    assert not project.get_dataset("not_yet_either").exists()


def test_new_output_folder_is_addressed_by_its_id(project: DSSProject) -> None:
    make_dataset(project, "docs")
    recipe = (project.new_recipe("sync").with_input("docs")
              .with_new_output("exports", FOLDER_CONN, object_type="MANAGED_FOLDER").create())
    folder = next(f for f in project.list_managed_folders() if f["name"] == "exports")
    assert recipe.get_settings().get_flat_output_refs() == [folder["id"]]


def test_foreign_input_from_another_project(project: DSSProject, other_project: DSSProject) -> None:
    make_dataset(other_project, "shared_ds")
    make_dataset(project, "local_out")
    recipe = (project.new_recipe("sync").with_input("shared_ds", project_key=other_project.project_key)
              .with_existing_output("local_out").create())
    assert recipe.get_settings().get_flat_input_refs() == [f"{other_project.project_key}.shared_ds"]
    with pytest.raises(DataikuException, match="does not exist"):
        (project.new_recipe("sync").with_input("no_such_ds", project_key=other_project.project_key)
         .with_new_output("out2", CONN).create())


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the suffix DSS adds to a taken recipe name is a simulator guess")
def test_auto_name_gets_a_suffix_when_taken(project: DSSProject) -> None:
    for ds in ("a", "b", "c"):
        make_dataset(project, ds)
    sync(project, "a", "c", name="compute_b")
    assert sync(project, "a", "b").name == "compute_b_1"


# -- creation errors -----------------------------------------------------------------------------------------

def test_missing_input_is_refused_and_nothing_is_created(project: DSSProject) -> None:
    with pytest.raises(DataikuException, match="no_such_input"):
        project.new_recipe("grouping").with_input("no_such_input").with_new_output("never", CONN).create()
    assert names(project) == []
    assert not project.get_dataset("never").exists()


def test_missing_existing_output_is_refused(project: DSSProject) -> None:
    make_dataset(project, "src")
    with pytest.raises(DataikuException, match="ghost"):
        project.new_recipe("sync").with_input("src").with_existing_output("ghost").create()
    assert names(project) == []


def test_new_output_that_already_exists_is_refused(project: DSSProject) -> None:
    make_dataset(project, "src")
    make_dataset(project, "taken")
    with pytest.raises(DataikuException, match="already exists"):
        project.new_recipe("sync").with_input("src").with_new_output("taken", CONN).create()
    assert names(project) == []


def test_unknown_connection_for_new_output_is_refused(project: DSSProject) -> None:
    make_dataset(project, "src")
    with pytest.raises(DataikuException, match="no_such_conn"):
        project.new_recipe("sync").with_input("src").with_new_output("out", "no_such_conn").create()
    assert names(project) == [] and not project.get_dataset("out").exists()


def test_duplicate_name_is_refused(project: DSSProject) -> None:
    for ds in ("a", "b", "c"):
        make_dataset(project, ds)
    sync(project, "a", "b", name="only_one")
    with pytest.raises(DataikuException, match="already exists"):
        sync(project, "a", "c", name="only_one")


@pytest.mark.parametrize("bad_name", ["dot.ted", "has space", "dash-ed"])
def test_invalid_name_is_refused(project: DSSProject, bad_name: str) -> None:
    make_dataset(project, "a")
    make_dataset(project, "b")
    with pytest.raises(DataikuException):
        sync(project, "a", "b", name=bad_name)
    assert names(project) == []


def test_a_dataset_has_one_writer_only(project: DSSProject) -> None:
    for ds in ("a", "b", "target"):
        make_dataset(project, ds)
    sync(project, "a", "target", name="first_writer")
    with pytest.raises(DataikuException, match="first_writer"):
        sync(project, "b", "target", name="second_writer")
    assert names(project) == ["first_writer"]


def test_a_recipe_cannot_close_a_cycle(project: DSSProject) -> None:
    for ds in ("a", "b", "c"):
        make_dataset(project, ds)
    sync(project, "a", "b", name="a_to_b")
    sync(project, "b", "c", name="b_to_c")
    with pytest.raises(DataikuException):
        sync(project, "c", "a", name="c_to_a")
    with pytest.raises(DataikuException):
        sync(project, "a", "a", name="a_to_a")
    assert names(project) == ["a_to_b", "b_to_c"]


def test_malformed_prototypes_are_refused(project: DSSProject) -> None:
    with pytest.raises(DataikuException):
        project.create_recipe({"type": "", "name": "x"}, {})
    with pytest.raises(DataikuException):
        project.create_recipe({"type": "sync", "name": "x", "inputs": {"main": {"items": "nope"}}}, {})
    assert names(project) == []


def test_unknown_project_is_an_error(dss: DSSClient) -> None:
    with pytest.raises(DataikuException, match="NO_SUCH_PROJECT"):
        dss.get_project("NO_SUCH_PROJECT").list_recipes()


# -- settings ------------------------------------------------------------------------------------------------

def test_settings_save_is_whole_document_with_server_owned_fields(project: DSSProject) -> None:
    make_dataset(project, "a")
    make_dataset(project, "b")
    recipe = sync(project, "a", "b", name="s1")
    before = recipe.get_settings().get_recipe_raw_definition()
    settings = recipe.get_settings()
    raw = settings.get_recipe_raw_definition()
    raw["iacSentinel"] = {"kept": True}
    raw["name"] = "renamed_by_body"
    settings.tags = ["zeta", "alpha", "zeta"]
    settings.short_description = "copies a"
    settings.save()
    after = recipe.get_settings().get_recipe_raw_definition()
    assert after["iacSentinel"] == {"kept": True}
    assert after["name"] == "s1"  # a save cannot rename
    assert after["tags"] == ["alpha", "zeta"]
    assert after["shortDesc"] == "copies a"
    assert after["versionTag"]["versionNumber"] > before["versionTag"]["versionNumber"]
    assert after["creationTag"] == before["creationTag"]


def test_code_recipe_code_roundtrip(project: DSSProject) -> None:
    make_dataset(project, "a")
    recipe = (project.new_recipe("python").with_input("a").with_new_output_dataset("py_out", CONN)
              .with_script("x = 1").create())
    settings = recipe.get_settings()
    settings.set_code("x = 2\nprint(x)\n")
    settings.set_code_env(code_env="py311")
    settings.save()
    again = recipe.get_settings()
    assert again.get_code() == "x = 2\nprint(x)\n"
    assert again.get_code_env_settings() == {"envMode": "EXPLICIT_ENV", "envName": "py311"}


def test_save_with_inputs_and_outputs_edits(project: DSSProject) -> None:
    for ds in ("a", "b", "c", "d"):
        make_dataset(project, ds)
    recipe = sync(project, "a", "b", name="editable")
    settings = recipe.get_settings()
    settings.replace_input("a", "c")
    settings.add_output("main", "d")
    settings.save()
    again = recipe.get_settings()
    assert again.get_flat_input_refs() == ["c"]
    assert again.get_flat_output_refs() == ["b", "d"]


def test_save_refuses_flow_violations_and_keeps_the_old_definition(project: DSSProject) -> None:
    for ds in ("a", "b", "c"):
        make_dataset(project, ds)
    sync(project, "a", "b", name="writer_b")
    recipe = sync(project, "a", "c", name="writer_c")
    for change in (lambda s: s.replace_output("c", "b"),      # second writer of b
                   lambda s: s.replace_input("a", "ghost"),    # missing input
                   lambda s: s.replace_input("a", "c")):       # reads its own output
        settings = recipe.get_settings()
        change(settings)
        with pytest.raises(DataikuException):
            settings.save()
    assert recipe.get_settings().get_flat_input_refs() == ["a"]
    assert recipe.get_settings().get_flat_output_refs() == ["c"]


def test_payload_must_be_a_string(project: DSSProject) -> None:
    make_dataset(project, "a")
    make_dataset(project, "b")
    recipe = sync(project, "a", "b", name="p1")
    settings = recipe.get_settings()
    settings.set_payload(123)
    with pytest.raises(DataikuException):
        settings.save()


def test_recipe_follows_its_output_into_a_zone(project: DSSProject) -> None:
    make_dataset(project, "a")
    make_dataset(project, "b")
    flow = project.get_flow()
    zone = flow.create_zone("Curated")
    zone.add_item(project.get_dataset("b"))
    recipe = sync(project, "a", "b", name="into_zone")
    assert flow.get_zone_of_object(recipe).id == zone.id


# -- delete and not found ------------------------------------------------------------------------------------

def test_delete_removes_the_recipe_but_not_its_output(project: DSSProject) -> None:
    make_dataset(project, "a")
    recipe = project.new_recipe("sync").with_input("a").with_new_output("b", CONN).create()
    recipe.delete()
    assert names(project) == []
    assert project.get_dataset("b").exists()
    sync(project, "a", "b", name="new_writer")  # b has no writer any more


def test_missing_recipe_is_not_found(project: DSSProject) -> None:
    missing = project.get_recipe("no_such_recipe")
    with pytest.raises(DataikuException, match="no_such_recipe"):
        missing.get_settings()
    with pytest.raises(DataikuException, match="no_such_recipe"):
        missing.delete()
