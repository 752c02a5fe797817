"""Recipes of every type: created by plan/apply through DSS's builders, re-planned empty, drift after a hand edit
through dataikuapi, adopted back into the YAML (which validates and re-plans empty)."""

from __future__ import annotations

import json
import string
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from dataikuapi.dss.recipe import DSSRecipeSettings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataiku_iac import Workspace
from dataiku_iac.resources import Address
from tests.engine.conftest import apply_ok, changes

FS = "{type: Filesystem, connection: filesystem_managed, params: {path: /%s}}"
MANAGED = "{type: Filesystem, managed: true, connection: filesystem_managed, format: csv}"


@dataclass(frozen=True)
class Case:
    recipe: str  # the recipe's YAML body (flow style, one entry of `recipes:`)
    edit: Callable[[DSSRecipeSettings], None]  # a hand edit in DSS
    drifted: str  # the path the drift names
    outputs: tuple[str, ...] = ("out",)
    code: str | None = None  # the code file's text, for code recipes


def _payload(key: str, value: Any) -> Callable[[DSSRecipeSettings], None]:
    return lambda s: s.obj_payload.__setitem__(key, value)


def _params(key: str, value: Any) -> Callable[[DSSRecipeSettings], None]:
    return lambda s: s.get_recipe_params().__setitem__(key, value)


def _code(s: DSSRecipeSettings) -> None:
    s.set_payload(s.get_payload() + "\n-- edited in DSS\n")


CODE_LANGUAGES = ["python", "r", "sql_query", "sql_script", "shell", "pyspark", "sparkr", "spark_scala",
                  "spark_sql_query", "hive", "impala", "cpython", "ksql", "streaming_spark_scala"]

CASES: dict[str, Case] = {
    "prepare": Case(
        "{type: prepare, inputs: [src], outputs: [out], steps: ["
        "{type: ColumnRenamer, params: {renamings: [{from: a, to: b}]}}, "
        "{type: FillEmptyWithValue, params: {columns: [b], value: '0'}, disabled: true, comment: zero fill}, "
        "{group: cleanup, steps: [{type: ColumnsSelector, params: {keep: false, columns: [c]}}]}]}",
        lambda s: s.add_processor_step("RemoveRowsOnEmpty", {"columns": ["b"]}), "steps"),
    "join": Case(
        "{type: join, inputs: [src, other], outputs: [out], joins: [{left: src, right: other, type: INNER, "
        "on: [{left: id, right: id}, {left: day, right: since, op: GTE}]}], settings: {selectedColumns: []}}",
        lambda s: s.raw_joins[0].__setitem__("type", "FULL"), "joins"),
    "grouping": Case(
        "{type: grouping, inputs: [src], outputs: [out], keys: [country, city], "
        "aggregations: [{column: amount, functions: [sum, avg]}, {column: name, functions: [concat], "
        "options: {concatSeparator: ';'}}], global_count: true}",
        lambda s: s.set_column_aggregations("amount", max=True), "aggregations"),
    "window": Case(
        "{type: window, inputs: [src], outputs: [out], windows: [{partition_by: [country], "
        "order_by: [{column: day, desc: true}], frame: {lower: -3, upper: 0}}], "
        "aggregations: [{column: amount, functions: [sum, lag]}]}",
        lambda s: s.obj_payload["windows"][0].__setitem__("prefix", "w_"), "windows"),
    "distinct": Case("{type: distinct, inputs: [src], outputs: [out], keys: [id]}",
                     _payload("keys", [{"column": "id"}, {"column": "day"}]), "keys"),
    "sort": Case("{type: sort, inputs: [src], outputs: [out], orders: [{column: day, desc: true}, {column: id}]}",
                 lambda s: s.add_sorting_key("amount"), "orders"),
    "topn": Case("{type: topn, inputs: [src], outputs: [out], keys: [country], orders: [{column: amount, desc: true}]"
                 ", settings: {firstRows: 5}}", _payload("firstRows", 3), "settings.firstRows"),
    "vstack": Case("{type: vstack, inputs: [src, other], outputs: [out], settings: {addOriginColumn: true}}",
                   _payload("addOriginColumn", False), "settings.addOriginColumn"),
    "split": Case(
        "{type: split, inputs: [src], outputs: [out, rest], settings: {mode: RANDOM, defaultOutputIndex: 1, "
        "randomSplits: [{output: {mode: dataset, value: out}, share: 30}]}}",
        _payload("defaultOutputIndex", 0), "settings.defaultOutputIndex", outputs=("out", "rest")),
    "sampling": Case(
        "{type: sampling, inputs: [src], outputs: [out], params: {selection: {samplingMethod: HEAD_SEQUENTIAL, "
        "maxRecords: 1000}}}", _params("selection", {"samplingMethod": "FULL"}), "params.selection"),
    "pivot": Case("{type: pivot, inputs: [src], outputs: [out], settings: {explicitIdentifiers: [country]}}",
                  _payload("explicitIdentifiers", ["city"]), "settings.explicitIdentifiers"),
    "sync": Case("{type: sync, inputs: [src], outputs: [out], params: {schemaMode: FREE_SCHEMA_NAME_BASED}}",
                 _params("schemaMode", "STRICT_SYNC"), "params.schemaMode"),
    "upsert": Case("{type: upsert, inputs: [src], outputs: [out], settings: {keys: [{column: id}]}}",
                   _payload("keys", []), "settings.keys"),
    "fuzzyjoin": Case("{type: fuzzyjoin, inputs: [src, other], outputs: [out], description: fuzzy}",
                      lambda s: s.get_recipe_raw_definition().__setitem__("description", "edited"), "description"),
    "plugin": Case(
        "{type: CustomCode_geo-tools_compute, inputs: [src], outputs: [out], "
        "roles: {src: input_dataset, out: output_dataset}, config: {radius_km: 3, mode: fast}}",
        lambda s: s.get_recipe_params()["customConfig"].__setitem__("radius_km", 5), "config.radius_km"),
    **{lang: Case(f"{{type: {lang}, inputs: [src], outputs: [out], code: ../code/job.txt}}", _code, "code",
                  code=f"-- the {lang} job\nselect 1\n") for lang in CODE_LANGUAGES},
}


def _project(case: Case) -> str:
    datasets = {"src": FS % "src", "other": FS % "other", **{o: MANAGED for o in case.outputs}}
    lines = ["project: {key: TYPES, name: Recipe types}", "datasets:"]
    lines += [f"  {name}: {body}" for name, body in datasets.items()]
    lines += ["recipes:", f"  job: {case.recipe}"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("rtype", sorted(CASES))
def test_each_type_applies_replans_empty_drifts_and_is_adopted(make_workspace: Callable[..., Workspace],
                                                                rtype: str) -> None:
    case = CASES[rtype]
    files = {"code/job.txt": case.code} if case.code is not None else None
    ws = make_workspace({"types": _project(case)}, files=files)
    apply_ok(ws)
    assert changes(ws) == []
    recipe = ws.connection("dev").client.get_project("TYPES").get_recipe("job")
    settings = recipe.get_settings()
    case.edit(settings)
    settings.save()
    [item] = ws.drift("dev").items
    assert item.address == "recipe.TYPES.job" and item.changes
    assert all(c.path == case.drifted or c.path.startswith(case.drifted + ".") for c in item.changes)
    ws.adopt("dev", item)
    if case.code is not None:  # code lives in its file: adopt writes DSS's code there
        assert (ws.root / "code" / "job.txt").read_text() == recipe.get_settings().get_payload() != case.code
    ws = make_workspace()  # the edited files validate
    assert changes(ws) == [] and not ws.drift("dev").items


def test_a_step_added_and_a_step_moved_show_as_such_in_the_plan(make_workspace: Callable[..., Workspace]) -> None:
    steps = ["{type: ColumnRenamer, params: {renamings: [{from: a, to: b}]}}",
             "{type: FillEmptyWithValue, params: {columns: [b], value: '0'}}",
             "{type: RemoveRowsOnEmpty, params: {columns: [c]}}"]
    case = CASES["prepare"]

    def project(items: list[str]) -> str:
        return _project(Case(f"{{type: prepare, inputs: [src], outputs: [out], steps: [{', '.join(items)}]}}",
                             case.edit, "steps"))

    ws = make_workspace({"types": project(steps)})
    apply_ok(ws)
    added = "{type: ColumnCopier, params: {inputColumn: b, outputColumn: b2}}"
    ws = make_workspace({"types": project([steps[2], steps[0], steps[1], added])})
    plan = ws.plan("dev")
    [action] = plan.changes
    [change] = action.changes
    assert change.path == "steps"
    items = change.to_dict()["items"]
    assert {(i["op"], i.get("from"), i.get("at", i.get("to"))) for i in items} == {("moved", 2, 0), ("added", None, 3)}
    text = plan_text(plan)
    assert "~ [0] moved from [2]" in text and '+ [3] = {"params": {"inputColumn": "b"' in text
    apply_ok(ws)
    steps_in_dss = ws.connection("dev").client.get_project("TYPES").get_recipe("job").get_settings().raw_steps
    assert [s["type"] for s in steps_in_dss] == ["RemoveRowsOnEmpty", "ColumnRenamer", "FillEmptyWithValue",
                                                 "ColumnCopier"]
    assert changes(ws) == []


def plan_text(plan: Any) -> str:
    from dataiku_iac.plan.render_text import render_plan

    return render_plan(plan)


BAD = {
    "unknown join type": ("{type: join, inputs: [src, other], outputs: [out], joins: [{left: src, right: other, "
                          "type: SIDEWAYS}]}",
                          r"types\.yaml:7:\d+: invalid value 'SIDEWAYS' for 'type': input should be 'LEFT'"),
    "step without type": ("{type: prepare, inputs: [src], outputs: [out], steps: [{params: {a: 1}}]}",
                          r"types\.yaml:7:\d+: a prepare step needs `type` \(its processor\) or `group`"),
    "unknown recipe type": ("{type: spark_magic, inputs: [src], outputs: [out]}",
                            r"types\.yaml:\d+:\d+: .*unknown recipe type 'spark_magic'"),
    "steps on a join": ("{type: join, inputs: [src, other], outputs: [out], steps: []}",
                        r"types\.yaml:\d+:\d+: .*`steps` is for prepare recipes, not join"),
    "join of a non-input": ("{type: join, inputs: [src, other], outputs: [out], joins: [{left: src, right: nope}]}",
                            r"types\.yaml:\d+:\d+: join input 'nope' is not one of the recipe's inputs"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_recipe_settings_are_one_line_errors_at_their_place(make_workspace: Callable[..., Workspace],
                                                                 name: str) -> None:
    from dataiku_iac.errors import DssIacError

    recipe, pattern = BAD[name]
    project = _project(Case(recipe, _code, "", outputs=("out",)))
    with pytest.raises(DssIacError) as e:
        ws = make_workspace({"types": textwrap.dedent(project)})
        ws.plan("dev")
    message = e.value.render().splitlines()[0]
    assert __import__("re").search(pattern, message), message


CONN = "filesystem_managed"
BUILT = ["grouping", "upsert", "window", "distinct", "sort", "topn", "pivot", "split", "prepare", "vstack", "join",
         "fuzzyjoin", "geojoin", "sync", "sampling", *CODE_LANGUAGES]


def _build_every_type(project: Any) -> None:
    """One recipe of each type, made as a DSS user's script makes them: dataikuapi's builders, then settings."""
    from dataikuapi.dss.recipe import DSSRecipeCreator

    for name in ("src", "other", "top_out", "plugin_out"):
        project.create_dataset(name, "Filesystem", params={"connection": CONN, "path": f"/iac/{name}"},
                               formatType="csv", formatParams={"separator": ","})
    for rtype in BUILT:
        out = f"{rtype}_out"
        if rtype in ("fuzzyjoin", "geojoin", "hive", "impala"):  # new_recipe has no builder for these
            creator: Any = DSSRecipeCreator(rtype, f"r_{rtype}", project).with_input("src")
            if rtype.endswith("join"):
                creator.with_input("other")
            project.create_dataset(out, "Filesystem", params={"connection": CONN, "path": f"/iac/{out}"})
            creator.with_output(out)
        elif rtype in CODE_LANGUAGES and rtype != "sql_query":
            creator = (project.new_recipe(rtype, f"r_{rtype}").with_input("src").with_new_output_dataset(out, CONN)
                       .with_script(f"-- {rtype}\n"))
        elif rtype == "topn":
            creator = project.new_recipe(rtype, f"r_{rtype}").with_input("src").with_output("top_out")
        elif rtype in ("join", "vstack"):
            creator = project.new_recipe(rtype, f"r_{rtype}").with_input("src").with_input("other")
            creator.with_new_output(out, CONN)
        else:
            creator = project.new_recipe(rtype, f"r_{rtype}").with_input("src").with_new_output(out, CONN)
            if rtype == "split":
                creator.with_new_output(f"{out}_rest", CONN)
        recipe = creator.create()
        settings = recipe.get_settings()
        if rtype == "grouping":
            settings.add_grouping_key("country")
            settings.set_column_aggregations("amount", sum=True, avg=True)
        elif rtype == "join":
            join = settings.raw_joins[0]
            settings.add_condition_to_join(join, column1="id", column2="id")
        elif rtype == "prepare":
            settings.add_processor_step("ColumnRenamer", {"renamings": [{"from": "a", "to": "b"}]})
            settings.add_processor_step("FillEmptyWithValue", {"columns": ["b"], "value": "0"})
        elif rtype == "sort":
            settings.add_sorting_key("day", ascending=False)
        elif rtype == "split":
            settings.set_split_on_random_ratio([{"output": {"mode": "dataset", "value": out}, "share": 30}],
                                               default_output=f"{out}_rest")
        elif rtype == "window":
            settings.obj_payload["windows"][0].update(enablePartitioning=True, partitioningColumns=["country"],
                                                      enableLimits=True, lowerBound=-2, upperBound=0)
        elif rtype == "sql_query":
            settings.set_payload("SELECT * FROM src")
        settings.save()
    plugin = {"type": "CustomCode_geo-tools_compute", "name": "r_plugin",
              "inputs": {"input_dataset": {"items": [{"ref": "src"}]}},
              "outputs": {"output_dataset": {"items": [{"ref": "plugin_out"}]}},
              "params": {"customConfig": {"radius_km": 3}}}
    project.create_recipe(plugin, {})


@pytest.mark.slow
def test_a_project_with_every_builder_type_imports_validates_and_replans_empty(
        make_workspace: Callable[..., Workspace]) -> None:
    from dataiku_iac.importer import import_project

    ws = make_workspace({})
    project = ws.connection("dev").client.create_project("ALLTYPES", "All types", "admin")
    _build_every_type(project)
    result = import_project(ws, "dev", "ALLTYPES")
    recipes = {r for r in result.resources if r.startswith("recipe.")}
    assert len(recipes) == len(BUILT) + 1 and not [s for s in result.skipped if "recipe" in s]
    ws = make_workspace()  # the imported file validates
    spec = ws.config.projects["ALLTYPES"].spec
    assert spec.recipes["r_prepare"].type == "prepare"
    assert [s.type for s in spec.recipes["r_prepare"].steps or []] == ["ColumnRenamer", "FillEmptyWithValue"]
    assert spec.recipes["r_grouping"].keys == ["country"]
    assert [(a.column, a.functions) for a in spec.recipes["r_grouping"].aggregations or []] == [
        ("amount", ["avg", "sum"])]
    [join] = spec.recipes["r_join"].joins or []
    assert (join.left, join.right, join.type, [(c.left, c.right) for c in join.on]) == (
        "src", "other", "LEFT", [("id", "id")])
    assert spec.recipes["r_sort"].orders is not None and spec.recipes["r_sort"].orders[0].desc is True
    assert spec.recipes["r_window"].windows is not None and spec.recipes["r_window"].windows[0].frame is not None
    assert spec.recipes["r_split"].settings["mode"] == "RANDOM"
    assert spec.recipes["r_plugin"].config == {"radius_km": 3}
    assert spec.recipes["r_plugin"].roles == {"src": "input_dataset", "plugin_out": "output_dataset"}
    assert ws.config.projects["ALLTYPES"].code["r_python"] == "-- python\n"
    assert changes(ws) == [] and not ws.drift("dev").items


_KEYS = st.from_regex(r"k[a-z0-9_]{0,8}", fullmatch=True)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(string.ascii_letters + " -_.:/'\"", max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3), max_leaves=8)


@pytest.mark.slow
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=st.dictionaries(_KEYS, _VALUES, max_size=4), config=st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_open_maps_survive_apply_and_import(make_workspace: Callable[..., Workspace], payload: dict[str, Any],
                                           config: dict[str, Any]) -> None:
    """Whatever a visual recipe's `settings` and a plugin recipe's `config` hold reaches DSS, re-plans empty, and
    comes back from DSS in the form `import` writes (empty and false values left out: they are not managed)."""
    from dataiku_iac.resources import KINDS
    from dataiku_iac.resources.base import ImportContext

    case = Case(f"{{type: pivot, inputs: [src], outputs: [out], settings: {json.dumps(payload)}}}", _code, "")
    plugin = (f"  plugin: {{type: CustomCode_geo-tools_compute, inputs: [other], outputs: [plugin_out], "
              f"config: {json.dumps(config)}}}\n  plugin_out: {MANAGED}\n")
    text = _project(case).replace("recipes:\n", "").replace("  job:", "recipes:\n  job:")
    text = text.replace("datasets:\n", f"datasets:\n  plugin_out: {MANAGED}\n", 1) + plugin.splitlines()[0] + "\n"
    ws = make_workspace({"types": text})
    apply_ok(ws)
    assert changes(ws) == []
    kind = KINDS["recipe"]
    ctx = ImportContext("TYPES", {}, ws.root / "code", ws.root / "projects")
    for name, wanted, key in (("job", payload, "settings"), ("plugin", config, "config")):
        remote = kind.read(ws.connection("dev").client, Address("recipe", "TYPES", name), None)
        assert remote is not None
        entry = kind.config_entry(name, remote.fields, ctx)
        kept = {k: v for k, v in wanted.items() if v not in (None, "", [], {}) and v is not False}
        assert entry.get(key, {}) == kept


def test_a_join_keeps_its_inputs_when_an_input_before_them_goes(make_workspace: Callable[..., Workspace]) -> None:
    recipe = ("{type: join, inputs: [aa, src, other], outputs: [out], joins: [{left: src, right: other, "
              "on: [{left: id, right: id}]}]}")
    case = Case(recipe, _code, "")
    text = _project(case).replace("datasets:\n", "datasets:\n  aa: " + FS % "aa" + "\n", 1)
    ws = make_workspace({"types": text})
    apply_ok(ws)
    ws = make_workspace({"types": text.replace("inputs: [aa, src, other]", "inputs: [src, other]")})
    assert changes(ws) == [("~", "recipe.TYPES.job", ["inputs"])]
    apply_ok(ws)
    assert changes(ws) == []
    settings = ws.connection("dev").client.get_project("TYPES").get_recipe("job").get_settings()
    refs = settings.get_flat_input_refs()
    virtual = [refs[v["index"]] for v in settings.raw_virtual_inputs]
    join = settings.raw_joins[0]
    assert (virtual[join["table1"]], virtual[join["table2"]]) == ("src", "other")
