"""Recipes: creation with I/O, code and code env, empty re-plans, in-place updates, drift, replace, deletion."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from dataikuapi.utils import DataikuException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from tests.engine.conftest import apply_ok, changes, revert_drift, write_workspace

CODE = "import dataiku\n\n# clean the customers\ndf = dataiku.Dataset('customers_raw').get_dataframe()\n"

CHURN = """\
project: {key: CHURN, name: Churn}
datasets:
  customers_raw: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
  customers_clean: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
  customers_copy: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
managed_folders:
  models: {connection: filesystem_folders}
recipes:
  clean_customers:
    type: python
    inputs: [customers_raw, REF.countries]
    outputs: [customers_clean, models]
    code: ../recipes/clean_customers.py
    code_env: py_ml
    params: {custom_flag: true}
    tags: [ml, etl, ml]
    description: Clean the customers
  copy_customers: {type: sync, inputs: [customers_clean], outputs: [customers_copy]}
"""

REF = """\
project: {key: REF, name: Reference data}
datasets:
  countries: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
exposed_objects:
  countries: {to: [CHURN]}
"""

RECIPE = "recipe.CHURN.clean_customers"


@pytest.fixture(autouse=True)
def code_envs(tmp_path: Path) -> None:
    """The code envs the recipes name, on the embedded DSS: a plan refuses a recipe whose code env is missing."""
    write_workspace(tmp_path, {})
    with Workspace.load(tmp_path) as ws:
        client = ws.connection("dev").client
        for lang, name in (("python", "py_ml"), ("python", "py_other"), ("python", "py311_dev"), ("R", "py_ml")):
            client.create_code_env(lang, name, "DESIGN_MANAGED")


def _workspace(make_workspace, churn: str = CHURN, code: str = CODE, **kw):
    return make_workspace({"churn": churn, "ref": REF}, files={"recipes/clean_customers.py": code}, **kw)


def _recipe(ws, name: str = "clean_customers", env: str = "dev"):
    return ws.connection(env).client.get_project("CHURN").get_recipe(name)


def _refs(doc: dict, side: str) -> list[str]:
    return sorted(i["ref"] for role in doc[side].values() for i in role["items"])


def _folder_id(ws, name: str = "models") -> str:
    return ws.state("dev").resources[f"managed_folder.CHURN.{name}"].remote_id


def test_fresh_apply_creates_the_recipes_then_replan_is_empty(make_workspace) -> None:
    ws = _workspace(make_workspace)
    plan = ws.plan("dev")
    action = next(a for a in plan.actions if str(a.address) == RECIPE)
    assert action.symbol == "+"
    assert set(map(str, action.depends_on)) == {"project.CHURN", "dataset.CHURN.customers_raw", "dataset.REF.countries",
                                      "dataset.CHURN.customers_clean", "managed_folder.CHURN.models",
                                      "exposed_object.REF.countries"}
    apply_ok(ws)
    assert changes(ws) == []

    settings = _recipe(ws).get_settings()
    doc = settings.get_recipe_raw_definition()
    assert doc["type"] == "python"
    assert _refs(doc, "inputs") == ["REF.countries", "customers_raw"]
    # A folder is a recipe output by its server-made id, never by its name.
    assert _refs(doc, "outputs") == sorted(["customers_clean", _folder_id(ws)])
    assert settings.get_payload() == CODE
    assert settings.get_code_env_settings() == {"envMode": "EXPLICIT_ENV", "envName": "py_ml"}
    assert doc["params"]["custom_flag"] is True
    assert doc["tags"] == ["etl", "ml"] and doc["description"] == "Clean the customers"

    sync = _recipe(ws, "copy_customers").get_settings().get_recipe_raw_definition()
    assert sync["type"] == "sync"
    assert (_refs(sync, "inputs"), _refs(sync, "outputs")) == (["customers_clean"], ["customers_copy"])
    assert ws.state("dev").resources[RECIPE].remote_id == "clean_customers"


def test_editing_the_code_file_is_one_update_naming_code(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    new_code = CODE + "df.to_csv('x')\n"
    ws = _workspace(make_workspace, code=new_code)
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address), [c.path for c in a.changes]) for a in plan.changes] == [("~", RECIPE, ["code"])]
    (change,) = plan.changes[0].changes
    assert (change.before, change.after) == (CODE, new_code)  # readable text, not a hash
    apply_ok(ws)
    assert _recipe(ws).get_settings().get_payload() == new_code
    assert changes(ws) == []


@pytest.mark.parametrize(("old", "new", "paths"), [
    ("description: Clean the customers", "description: Tidy the customers", ["description"]),
    ("tags: [ml, etl, ml]", "tags: [ml]", ["tags"]),
    ("params: {custom_flag: true}", "params: {custom_flag: false}", ["params.custom_flag"]),
    ("params: {custom_flag: true}", "params: {custom_flag: true, batch: 10}", ["params.batch"]),
    ("code_env: py_ml", "code_env: py_other", ["code_env"]),
    ("    code_env: py_ml\n", "", ["code_env"]),
])
def test_one_field_change_is_one_update_naming_it(make_workspace, old: str, new: str, paths: list[str]) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    created = _recipe(ws).get_settings().get_recipe_raw_definition()["creationTag"]
    ws = _workspace(make_workspace, CHURN.replace(old, new))
    assert changes(ws) == [("~", RECIPE, paths)]
    apply_ok(ws)
    assert changes(ws) == []
    assert _recipe(ws).get_settings().get_recipe_raw_definition()["creationTag"] == created  # in place


def test_removing_code_env_inherits_the_project_one(make_workspace) -> None:
    ws = _workspace(make_workspace, CHURN.replace("    code_env: py_ml\n", ""))
    apply_ok(ws)
    assert _recipe(ws).get_settings().get_code_env_settings() == {"envMode": "INHERIT"}


def test_inputs_and_outputs_change_in_place_keeping_item_settings(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    settings = _recipe(ws).get_settings()
    doc = settings.get_recipe_raw_definition()
    for item in doc["outputs"]["main"]["items"]:
        if item["ref"] == "customers_clean":
            item["appendMode"] = True  # not modelled by dss-iac: must survive the I/O edit
    settings.save()

    churn = CHURN.replace("inputs: [customers_raw, REF.countries]", "inputs: [customers_raw]")
    churn = churn.replace("outputs: [customers_clean, models]", "outputs: [customers_clean]")
    ws = _workspace(make_workspace, churn)
    assert changes(ws) == [("~", RECIPE, ["inputs", "outputs"])]
    apply_ok(ws)
    assert changes(ws) == []
    doc = _recipe(ws).get_settings().get_recipe_raw_definition()
    assert (_refs(doc, "inputs"), _refs(doc, "outputs")) == (["customers_raw"], ["customers_clean"])
    assert doc["outputs"]["main"]["items"] == [{"ref": "customers_clean", "appendMode": True}]

    ws = _workspace(make_workspace, CHURN)  # and back: the folder is found again by name
    assert changes(ws) == [("~", RECIPE, ["inputs", "outputs"])]
    apply_ok(ws)
    assert _refs(_recipe(ws).get_settings().get_recipe_raw_definition(), "outputs") == sorted(
        ["customers_clean", _folder_id(ws)])


def test_dss_keeps_one_writer_per_dataset(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    project = ws.connection("dev").client.get_project("CHURN")
    creator = project.new_recipe("python", "second_writer").with_input("customers_raw")
    creator.with_output("customers_clean")
    with pytest.raises(DataikuException, match="already the output of recipe clean_customers"):
        creator.create()


SPARE = "  customers_spare: {type: Filesystem, managed: true, connection: filesystem_managed}\nmanaged_folders:"
SWAP_BEFORE = CHURN.replace("managed_folders:", SPARE).replace(
    "outputs: [customers_copy]}\n",
    "outputs: [customers_copy]}\n  spare_copy: {type: sync, inputs: [customers_clean], outputs: [customers_spare]}\n")


def test_outputs_swapped_between_recipes_apply_in_one_go(make_workspace) -> None:
    ws = _workspace(make_workspace, SWAP_BEFORE)
    apply_ok(ws)
    swapped = SWAP_BEFORE.replace("outputs: [customers_copy]}", "outputs: [SWAP]}").replace(
        "outputs: [customers_spare]}", "outputs: [customers_copy]}").replace("[SWAP]", "[customers_spare]")
    ws = _workspace(make_workspace, swapped)
    assert changes(ws) == [("~", "recipe.CHURN.copy_customers", ["outputs"]),
                           ("~", "recipe.CHURN.spare_copy", ["outputs"])]
    apply_ok(ws)  # whichever recipe is saved first takes its new output from the other
    assert changes(ws) == []
    outputs = {name: _refs(_recipe(ws, name).get_settings().get_recipe_raw_definition(), "outputs")
               for name in ("copy_customers", "spare_copy")}
    assert outputs == {"copy_customers": ["customers_spare"], "spare_copy": ["customers_copy"]}


def test_a_renamed_recipe_takes_over_the_outputs(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    ws = _workspace(make_workspace, CHURN.replace("  copy_customers: {type: sync", "  copy_renamed: {type: sync"))
    assert changes(ws) == [("+", "recipe.CHURN.copy_renamed", ["description", "inputs", "outputs", "params",
                                                               "tags", "type"]),
                           ("-", "recipe.CHURN.copy_customers", ["description", "inputs", "outputs", "params",
                                                                 "tags", "type"])]
    apply_ok(ws)
    assert changes(ws) == []
    assert sorted(r.name for r in ws.connection("dev").client.get_project("CHURN").list_recipes()) == [
        "clean_customers", "copy_renamed"]


def test_out_of_band_edit_is_drift_and_is_restored(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    settings = _recipe(ws).get_settings()
    settings.set_payload("print('edited in the UI')\n")
    settings.get_recipe_raw_definition()["description"] = "edited"
    inputs = settings.get_recipe_raw_definition()["inputs"]["main"]
    inputs["items"] = [i for i in inputs["items"] if i["ref"] != "REF.countries"]
    settings.save()

    revert_drift(ws, [(RECIPE, ["inputs", "code", "description"])])
    settings = _recipe(ws).get_settings()
    assert settings.get_payload() == CODE
    assert _refs(settings.get_recipe_raw_definition(), "inputs") == ["REF.countries", "customers_raw"]
    assert not ws.drift("dev").has_drift


def test_unmodelled_fields_survive_an_update(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    settings = _recipe(ws).get_settings()
    doc = settings.get_recipe_raw_definition()
    doc["customFields"] = {"sentinel": "keep me"}
    doc["params"]["containerSelection"] = {"containerMode": "EXPLICIT_CONTAINER", "containerConf": "k8s"}
    doc["params"]["set_by_hand"] = 42
    settings.save()
    assert changes(ws) == []  # params keys the config does not set are DSS's (or the user's) own

    ws = _workspace(make_workspace, CHURN.replace("Clean the customers", "Clean them"), code=CODE + "# v2\n")
    assert changes(ws) == [("~", RECIPE, ["code", "description"])]
    apply_ok(ws)
    doc = _recipe(ws).get_settings().get_recipe_raw_definition()
    assert doc["customFields"] == {"sentinel": "keep me"}
    assert doc["params"]["containerSelection"] == {"containerMode": "EXPLICIT_CONTAINER", "containerConf": "k8s"}
    assert doc["params"]["set_by_hand"] == 42 and doc["params"]["custom_flag"] is True
    assert doc["description"] == "Clean them"


def test_a_type_change_replaces_the_recipe(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    ws = _workspace(make_workspace, CHURN.replace("    type: python\n", "    type: r\n"), code="library(dataiku)\n")
    plan = ws.plan("dev")
    (action,) = plan.changes
    assert (action.symbol, str(action.address), action.reason) == ("-/+", RECIPE, "type cannot change in place")
    assert {c.path for c in action.changes} == {"type", "code"}
    apply_ok(ws)
    settings = _recipe(ws).get_settings()
    assert settings.type == "r" and settings.get_payload() == "library(dataiku)\n"
    assert changes(ws) == []


@pytest.mark.parametrize(("rtype", "code"), [
    ("r", "library(dataiku)\n"), ("shell", "#!/bin/sh\nls \"$DKU_INPUT\"\n"),
    ("sql_query", "SELECT * FROM customers\n"), ("sql_script", "INSERT INTO t SELECT 1;\n"),
])
def test_other_code_recipe_types_round_trip(make_workspace, rtype: str, code: str) -> None:
    churn = CHURN.replace("  copy_customers: {type: sync, inputs: [customers_clean], outputs: [customers_copy]}\n",
                          f"  other: {{type: {rtype}, inputs: [models, customers_clean], outputs: [customers_copy], "
                          "code: ../recipes/other.txt}\n")
    ws = make_workspace({"churn": churn, "ref": REF},
                        files={"recipes/clean_customers.py": CODE, "recipes/other.txt": code})
    apply_ok(ws)
    assert changes(ws) == []
    settings = _recipe(ws, "other").get_settings()
    assert settings.type == rtype and settings.get_payload() == code
    # A folder input is referenced by id, and read back by name.
    assert _refs(settings.get_recipe_raw_definition(), "inputs") == sorted(["customers_clean", _folder_id(ws)])


def test_removing_a_recipe_deletes_it_and_keeps_its_output(make_workspace) -> None:
    ws = _workspace(make_workspace)
    apply_ok(ws)
    churn = CHURN.replace("  copy_customers: {type: sync, inputs: [customers_clean], outputs: [customers_copy]}\n",
                          "")
    ws = _workspace(make_workspace, churn)
    plan = ws.plan("dev")
    assert [(a.symbol, str(a.address)) for a in plan.changes] == [("-", "recipe.CHURN.copy_customers")]
    apply_ok(ws)
    project = ws.connection("dev").client.get_project("CHURN")
    assert [r.name for r in project.list_recipes()] == ["clean_customers"]
    assert "customers_copy" in [d.name for d in project.list_datasets()]
    assert "recipe.CHURN.copy_customers" not in ws.state("dev").resources
    assert changes(ws) == []


def test_a_recipe_made_by_hand_is_adopted_not_duplicated(make_workspace) -> None:
    churn_without = CHURN.replace(
        "  copy_customers: {type: sync, inputs: [customers_clean], outputs: [customers_copy]}\n", "")
    ws = _workspace(make_workspace, churn_without)
    apply_ok(ws)
    project = ws.connection("dev").client.get_project("CHURN")
    project.new_recipe("sync", "copy_customers").with_input("customers_clean").with_output("customers_copy").create()

    churn = CHURN.replace("outputs: [customers_copy]}", "outputs: [customers_copy], description: copy}")
    ws = _workspace(make_workspace, churn)
    plan = ws.plan("dev")
    (action,) = plan.changes
    assert (action.symbol, str(action.address), [c.path for c in action.changes]) == (
        "~", "recipe.CHURN.copy_customers", ["description"])
    assert action.reason == "exists in DSS but not in state: adopted"
    apply_ok(ws)
    assert changes(ws) == []


def test_code_envs_are_remapped_per_environment(make_workspace) -> None:
    workspace_yaml = """\
        version: 1
        environments:
          dev: {host: embedded, remap: {code_envs: {py_ml: py311_dev}}}
          prod: {host: embedded, node: prod, remap: {code_envs: {py_ml: py311_prod}}}
        """
    ws = _workspace(make_workspace, workspace_yaml=workspace_yaml)
    ws.connection("prod").client.create_code_env("python", "py311_prod", "AUTOMATION_SINGLE")
    for env, physical in (("dev", "py311_dev"), ("prod", "py311_prod")):
        action = next(a for a in ws.plan(env).actions if str(a.address) == RECIPE)
        assert action.fields["code_env"] == physical
        assert action.notes == {"code_env": f"py_ml -> {physical}"}
        apply_ok(ws, env)
        assert _recipe(ws, env=env).get_settings().get_code_env_settings()["envName"] == physical
    assert changes(ws, "dev") == [] and changes(ws, "prod") == []


def test_shapes_dss_would_refuse_are_config_errors(make_workspace) -> None:
    from dataiku_iac.errors import ConfigError

    churn = CHURN.replace("outputs: [customers_copy]}", "outputs: [customers_copy, customers_spare]}").replace(
        "managed_folders:", "  customers_spare: {type: Filesystem, managed: true, connection: filesystem_managed}\n"
                            "managed_folders:")
    ws = _workspace(make_workspace, churn)
    with pytest.raises(ConfigError, match="a sync recipe has exactly one output"):
        ws.plan("dev")
    churn = CHURN.replace("outputs: [customers_copy]}", "outputs: [customers_copy], code_env: py_ml}")
    ws = _workspace(make_workspace, churn)
    with pytest.raises(ConfigError, match=r"churn\.yaml:\d+:\d+: a sync recipe runs in no code env"):
        ws.plan("dev")


_KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(string.ascii_letters + " -_.:/", max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3), max_leaves=6)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(code=st.text(max_size=300), params=st.dictionaries(_KEYS, _VALUES, max_size=4),
       tags=st.lists(st.text(string.ascii_lowercase + "-", min_size=1, max_size=8), max_size=4))
def test_any_code_params_and_tags_round_trip(make_workspace, tmp_path: Path, code: str, params: dict,
                                             tags: list[str]) -> None:
    churn = CHURN.replace("params: {custom_flag: true}", f"params: {json.dumps(params)}")
    churn = churn.replace("tags: [ml, etl, ml]", f"tags: {json.dumps(tags)}")
    write_workspace(tmp_path, {"churn": churn, "ref": REF})
    # Written as bytes: no dedent, no newline translation on the way to the loader.
    (tmp_path / "recipes").mkdir(exist_ok=True)
    (tmp_path / "recipes" / "clean_customers.py").write_bytes(code.encode("utf-8"))
    ws = make_workspace()
    apply_ok(ws)
    assert changes(ws) == []
    assert _recipe(ws).get_settings().get_payload() == ws.config.projects["CHURN"].code["clean_customers"]


def test_a_param_dropped_from_the_config_is_removed_from_dss(make_workspace) -> None:
    from tests.engine.conftest import apply_ok, changes

    base = """\
        project: {key: PARAMS, name: Params}
        datasets:
          src: {type: Filesystem, connection: filesystem_managed, params: {path: /src}}
          dst: {type: Filesystem, connection: filesystem_managed, params: {path: /dst}}
        recipes:
          copy: {type: sync, inputs: [src], outputs: [dst], params: %s}
        """
    ws = make_workspace({"p": base % "{keep: 1, drop: 2}"})
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("PARAMS").get_recipe("copy").get_settings()
    settings.get_recipe_raw_definition()["params"]["dssOwn"] = "x"  # a key DSS (or a user) added: not ours
    settings.save()
    ws = make_workspace({"p": base % "{keep: 1}"})
    assert changes(ws) == [("~", "recipe.PARAMS.copy", ["params.drop"])]
    apply_ok(ws)
    recipe = ws.connection("dev").client.get_project("PARAMS").get_recipe("copy")
    params = recipe.get_settings().get_recipe_raw_definition()["params"]
    assert params["keep"] == 1 and "drop" not in params and params["dssOwn"] == "x"
    assert changes(ws) == []


def test_rewiring_that_would_briefly_make_a_cycle_applies_in_one_go(make_workspace) -> None:
    from tests.engine.conftest import apply_ok, changes

    datasets = ("project: {key: REWIRE, name: Rewire}\n"
                "datasets:\n"
                "  alpha: {type: Filesystem, connection: filesystem_managed, params: {path: /a}}\n"
                "  beta: {type: Filesystem, connection: filesystem_managed, params: {path: /b}}\n"
                "  gamma: {type: Filesystem, connection: filesystem_managed, params: {path: /g}}\n"
                "recipes:\n")
    ws = make_workspace({"p": datasets + "  sync_beta: {type: sync, inputs: [alpha], outputs: [beta]}\n"})
    apply_ok(ws)
    # sync_alpha (beta -> alpha) can only exist once sync_beta stops reading alpha.
    ws = make_workspace({"p": datasets + "  sync_beta: {type: sync, inputs: [gamma], outputs: [beta]}\n"
                                         "  sync_alpha: {type: sync, inputs: [beta], outputs: [alpha]}\n"})
    apply_ok(ws)
    assert changes(ws) == []
