"""Every recipe builder dataikuapi has, through dataikuapi only: the type DSS stores, the outputs it creates,
the settings class the client picks, and the payload and params the client's helpers rely on."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from dataikuapi.dss.project import DSSProject
from dataikuapi.dss.recipe import DSSRecipe, DSSRecipeCreator
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS

CONN = "filesystem_managed"


def make_dataset(project: DSSProject, name: str) -> None:
    project.create_dataset(name, "Filesystem", params={"connection": CONN, "path": f"/iac_tests/{name}"},
                           formatType="csv", formatParams={"separator": ","})


def _one_in_new_out(creator: DSSRecipeCreator) -> DSSRecipeCreator:
    return creator.with_input("src").with_new_output("out", CONN)


# type asked of new_recipe -> (how to finish the creator, type DSS stores, settings class the client picks)
VISUAL: dict[str, tuple[Callable[[DSSRecipeCreator], DSSRecipeCreator], str, str]] = {
    "grouping": (lambda c: _one_in_new_out(c).with_group_key("country"), "grouping", "GroupingRecipeSettings"),
    "window": (_one_in_new_out, "window", "WindowRecipeSettings"),
    "distinct": (_one_in_new_out, "distinct", "DistinctRecipeSettings"),
    "sort": (_one_in_new_out, "sort", "SortRecipeSettings"),
    "pivot": (_one_in_new_out, "pivot", "PivotRecipeSettings"),
    "sync": (_one_in_new_out, "sync", "SyncRecipeSettings"),
    "sampling": (_one_in_new_out, "sampling", "SamplingRecipeSettings"),
    "prepare": (_one_in_new_out, "shaker", "PrepareRecipeSettings"),
    "shaker": (_one_in_new_out, "shaker", "PrepareRecipeSettings"),
    "upsert": (lambda c: _one_in_new_out(c).with_upsert_key("id"), "upsert", "UpsertRecipeSettings"),
    # TopNRecipeCreator has no with_new_output: its output must exist (made by the test below).
    "topn": (lambda c: c.with_input("src").with_output("out"), "topn", "TopNRecipeSettings"),
    "join": (lambda c: c.with_input("src").with_input("other").with_new_output("out", CONN), "join",
             "JoinRecipeSettings"),
    "vstack": (lambda c: c.with_input("src").with_input("other").with_new_output("out", CONN), "vstack",
               "StackRecipeSettings"),
    "split": (lambda c: c.with_input("src").with_new_output("out", CONN).with_new_output("rest", CONN), "split",
              "SplitRecipeSettings"),
}
CODE_LANGUAGES = ["python", "r", "sql_script", "pyspark", "sparkr", "spark_scala", "shell", "spark_sql_query"]


@pytest.mark.parametrize("asked", sorted(VISUAL))
def test_every_visual_builder_creates_its_recipe_and_outputs(project: DSSProject, asked: str) -> None:
    finish, stored_type, settings_class = VISUAL[asked]
    make_dataset(project, "src")
    make_dataset(project, "other")
    if asked == "topn":
        make_dataset(project, "out")
    recipe = finish(project.new_recipe(asked)).create()
    assert recipe.name == "compute_out"
    settings = recipe.get_settings()
    assert type(settings).__name__ == settings_class
    assert settings.type == stored_type == recipe.get_settings().get_recipe_raw_definition()["type"]
    assert settings.get_flat_input_refs()[0] == "src"
    assert "out" in settings.get_flat_output_refs()
    out = project.get_dataset("out")
    assert out.exists()
    assert out.get_settings().get_raw()["managed"] is (asked != "topn")
    assert isinstance(settings.get_recipe_params(), dict)
    # The payload of a visual recipe is JSON (or empty where the settings live in params) and survives a save.
    payload = settings.get_payload()
    assert payload == "" or isinstance(json.loads(payload), dict)
    settings.get_recipe_params()["iacNote"] = {"kept": True}
    settings.save()
    assert recipe.get_settings().get_recipe_params()["iacNote"] == {"kept": True}
    assert recipe.get_settings().get_payload() == payload


def test_split_outputs_and_modes(project: DSSProject) -> None:
    make_dataset(project, "src")
    recipe = VISUAL["split"][0](project.new_recipe("split")).create()
    settings = recipe.get_settings()
    assert settings.get_flat_output_refs() == ["out", "rest"]
    with pytest.raises(DataikuException, match="Split mode not set yet"):
        _ = settings.split_mode  # a new split recipe has no mode until one is chosen
    settings.set_split_on_random_ratio([{"output": {"mode": "dataset", "value": "out"}, "share": 30}],
                                       default_output="rest")
    settings.save()
    again = recipe.get_settings()
    assert again.split_mode == "RANDOM"
    assert again.obj_payload["randomSplits"][0]["share"] == 30 and again.obj_payload["defaultOutputIndex"] == 1


def test_sort_helpers_round_trip(project: DSSProject) -> None:
    make_dataset(project, "src")
    recipe = VISUAL["sort"][0](project.new_recipe("sort")).create()
    settings = recipe.get_settings()
    assert settings.row_number_column_enabled is False and settings.rank_column_enabled is False
    settings.row_number_column_enabled = True
    settings.save()
    assert recipe.get_settings().row_number_column_enabled is True


def test_join_has_a_virtual_input_per_input_and_a_join_between_them(project: DSSProject) -> None:
    make_dataset(project, "src")
    make_dataset(project, "other")
    recipe = VISUAL["join"][0](project.new_recipe("join")).create()
    settings = recipe.get_settings()
    assert [v["index"] for v in settings.raw_virtual_inputs] == [0, 1]
    assert [(j["table1"], j["table2"], j["type"]) for j in settings.raw_joins] == [(0, 1, "LEFT")]


def test_prepare_steps_keep_their_order_and_params(project: DSSProject) -> None:
    make_dataset(project, "src")
    recipe = VISUAL["prepare"][0](project.new_recipe("prepare")).create()
    settings = recipe.get_settings()
    assert settings.raw_steps == []
    settings.add_processor_step("ColumnRenamer", {"renamings": [{"from": "a", "to": "b"}]})
    settings.add_processor_step("FilterOnBadType", {"appliesTo": "SINGLE_COLUMN", "columns": ["b"],
                                                    "type": "DoubleMeaning", "action": "REMOVE_ROW"})
    settings.add_processor_step("ColumnsSelector", {"keep": False, "appliesTo": "COLUMNS", "columns": ["c"]})
    settings.save()
    steps = recipe.get_settings().raw_steps
    assert [s["type"] for s in steps] == ["ColumnRenamer", "FilterOnBadType", "ColumnsSelector"]
    assert steps[2]["params"]["columns"] == ["c"]


@pytest.mark.parametrize("language", CODE_LANGUAGES)
def test_code_recipe_in_every_language_keeps_its_script(project: DSSProject, language: str) -> None:
    make_dataset(project, "src")
    script = f"-- {language} code\n"
    recipe = (project.new_recipe(language).with_input("src").with_new_output_dataset("out", CONN)
              .with_script(script).create())
    settings = recipe.get_settings()
    assert type(settings).__name__ == "CodeRecipeSettings" and settings.type == language
    assert settings.get_code() == script
    settings.set_code(script + "more\n")
    settings.save()
    assert recipe.get_settings().get_code() == script + "more\n"
    assert project.get_dataset("out").get_settings().get_raw()["managed"] is True


@pytest.mark.parametrize("language", ["python", "r"])
def test_code_env_of_a_code_recipe(project: DSSProject, language: str) -> None:
    make_dataset(project, "src")
    recipe = project.new_recipe(language).with_input("src").with_new_output_dataset("out", CONN).create()
    settings = recipe.get_settings()
    assert settings.get_code_env_settings() == {"envMode": "INHERIT"}
    settings.set_code_env(code_env="py311")
    settings.save()
    assert recipe.get_settings().get_code_env_settings() == {"envMode": "EXPLICIT_ENV", "envName": "py311"}


def test_sql_query_recipe(project: DSSProject) -> None:
    make_dataset(project, "src")
    recipe = project.new_recipe("sql_query").with_input("src").with_new_output("out", CONN).create()
    settings = recipe.get_settings()
    assert settings.type == "sql_query"
    settings.set_payload("SELECT * FROM src")
    settings.save()
    assert recipe.get_settings().get_payload() == "SELECT * FROM src"


def test_plugin_recipe_keeps_its_custom_config(project: DSSProject) -> None:
    make_dataset(project, "src")
    make_dataset(project, "out")
    rtype = "CustomCode_my-plugin-compute"
    proto = {"type": rtype, "name": "plugin_step",
             "inputs": {"input_role": {"items": [{"ref": "src"}]}},
             "outputs": {"output_role": {"items": [{"ref": "out"}]}},
             "params": {"customConfig": {"threshold": 3}}}
    recipe: DSSRecipe = project.create_recipe(proto, {})
    assert recipe.name == "plugin_step"
    settings = recipe.get_settings()
    assert settings.type == rtype
    assert settings.get_recipe_params()["customConfig"] == {"threshold": 3}
    assert settings.get_recipe_inputs()["input_role"]["items"][0]["ref"] == "src"
    settings.get_recipe_params()["customConfig"]["threshold"] = 5
    settings.save()
    assert recipe.get_settings().get_recipe_params()["customConfig"] == {"threshold": 5}


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="the defaults below are the simulator's reading of DSS's screens")
def test_defaults_of_types_without_client_helpers(project: DSSProject) -> None:
    make_dataset(project, "src")
    make_dataset(project, "out")
    topn = project.new_recipe("topn").with_input("src").with_output("out").create().get_settings()
    assert (topn.obj_payload["firstRows"], topn.obj_payload["lastRows"]) == (10, 0)
    sampling = (project.new_recipe("sampling").with_input("src").with_new_output("sampled", CONN).create()
                .get_settings())
    assert sampling.get_recipe_params()["selection"]["samplingMethod"] == "FULL"
    window = project.new_recipe("window").with_input("src").with_new_output("w", CONN).create().get_settings()
    assert len(window.obj_payload["windows"]) == 1


def test_code_recipe_started_from_its_input_dataset(project: DSSProject) -> None:
    make_dataset(project, "src")
    creator = project.get_dataset("src").new_code_recipe("python", code="print('from src')\n", recipe_name="from_src")
    recipe = creator.with_new_output_dataset("out", CONN).create()
    settings = recipe.get_settings()
    assert recipe.name == "from_src" and settings.get_flat_input_refs() == ["src"]
    assert settings.get_code() == "print('from src')\n"


def test_replace_an_input_across_the_flow(project: DSSProject) -> None:
    make_dataset(project, "old_src")
    make_dataset(project, "new_src")
    recipe = project.new_recipe("sync").with_input("old_src").with_new_output("out", CONN).create()
    project.get_flow().replace_input_computable("old_src", "new_src")
    assert recipe.get_settings().get_flat_input_refs() == ["new_src"]


def test_recipe_started_from_its_input_dataset_and_moved_to_a_zone(project: DSSProject) -> None:
    make_dataset(project, "src")
    creator = project.get_dataset("src").new_recipe("distinct", recipe_name="dedup")
    recipe = creator.with_new_output("out", CONN).create()
    assert recipe.name == "dedup" and recipe.get_settings().get_flat_input_refs() == ["src"]
    zone = project.get_flow().create_zone("Cleaning")
    recipe.move_to_zone(zone)
    assert project.get_flow().get_zone_of_object(recipe).id == zone.id


@pytest.mark.parametrize("rtype", ["hive", "impala", "fuzzyjoin", "geojoin"])
def test_types_without_a_builder_are_created_with_the_base_creator(project: DSSProject, rtype: str) -> None:
    # project.new_recipe knows no builder for these (the client refuses before calling DSS): dss-iac creates them
    # with the base creator, as `create_recipe` does for any type DSS knows.
    with pytest.raises(ValueError, match="Unknown type"):
        project.new_recipe(rtype)
    make_dataset(project, "src")
    make_dataset(project, "out")
    recipe = DSSRecipeCreator(rtype, f"no_builder_{rtype}", project).with_input("src").with_output("out").create()
    settings = recipe.get_settings()
    assert settings.type == rtype and settings.get_flat_output_refs() == ["out"]
    settings.set_payload("-- kept\n" if rtype in ("hive", "impala") else settings.get_payload())
    settings.save()
    assert recipe.get_settings().get_payload() == settings.get_payload()
