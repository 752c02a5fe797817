"""Field diffs, open maps, secrets masking and the ordering of resources."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dataiku_iac.plan.diff import FieldChange, diff_fields
from dataiku_iac.plan.graph import topo_order
from dataiku_iac.plan.model import Action, ActionType, Plan
from dataiku_iac.plan.render_md import render_markdown
from dataiku_iac.plan.render_text import render_plan
from dataiku_iac.resources.address import Address

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                       max_size=3), max_leaves=8)


def test_nested_dicts_diff_to_leaf_paths() -> None:
    changes = diff_fields({"variables": {"a": 1, "b": {"c": 2}}}, {"variables": {"a": 1, "b": {"c": 3}, "x": 0}})
    assert [(c.path, c.before, c.after) for c in changes] == [("variables.b.c", 3, 2), ("variables.x", 0, None)]


def test_open_maps_compare_only_managed_keys() -> None:
    desired = {"params": {"path": "/a"}}
    actual = {"params": {"path": "/a", "dssAdded": True}}
    assert diff_fields(desired, actual, open_maps={"params"}) == []
    # A key the config managed before and dropped now is removed; DSS's own keys stay alone.
    changes = diff_fields(desired, {"params": {"path": "/a", "old": 1, "dssAdded": True}}, open_maps={"params"},
                          previously_managed={"params": {"path": "/a", "old": 1}})
    assert [(c.path, c.before, c.after) for c in changes] == [("params.old", 1, None)]


def test_secret_values_are_masked_in_changes() -> None:
    (change,) = diff_fields({"params": {"password": "new"}}, {"params": {"password": "old"}})
    assert change.sensitive and change.before == change.after == "(sensitive)"


def test_only_desired_keys_are_compared() -> None:
    assert diff_fields({"a": 1}, {"a": 1, "server_made": "x"}) == []


@given(json_values, json_values)
def test_no_diff_exactly_when_equal(a: object, b: object) -> None:
    assert (diff_fields({"v": a}, {"v": b}) == []) == (a == b)


@given(st.dictionaries(st.text(min_size=1, max_size=3), json_values, max_size=5))
def test_a_value_never_differs_from_itself(fields: dict) -> None:
    assert diff_fields(fields, dict(fields)) == []


def test_topological_order_puts_dependencies_first_and_is_stable() -> None:
    deps = {"recipe.P.r": ["dataset.P.a", "dataset.P.b"], "dataset.P.a": ["project.P"], "dataset.P.b": ["project.P"],
            "zone.P.z": ["recipe.P.r"]}
    order = topo_order(["zone.P.z", "recipe.P.r", "dataset.P.b", "dataset.P.a", "project.P"], deps)
    assert order == ["project.P", "dataset.P.a", "dataset.P.b", "recipe.P.r", "zone.P.z"]


def test_address_parsing_and_targets() -> None:
    a = Address.parse("dataset.CHURN.raw")
    assert (a.kind, a.project, a.name, str(a)) == ("dataset", "CHURN", "raw", "dataset.CHURN.raw")
    assert a.matches(Address.parse("project.CHURN")) and not a.matches(Address.parse("project.OTHER"))
    for bad in ("dataset.CHURN", "variables.CHURN.x", "table.CHURN.x", "dataset"):
        try:
            Address.parse(bad)
        except ValueError as e:
            assert bad in str(e)
        else:
            raise AssertionError(bad)


def _update(*changes: FieldChange) -> Plan:
    return Plan("dev", (Action(Address.parse("dataset.P.d"), "dataset", ActionType.UPDATE, "config changed", changes),),
                "digest", None, 0, "fp", "now")


COLUMNS = [{"comment": "primary key" * (i == 0), "name": f"column_{i}", "type": "string"} for i in range(8)]


def test_a_long_list_change_shows_the_items_that_differ_in_text_and_markdown() -> None:
    after = [*COLUMNS[:6], {"comment": "", "name": "country", "type": "string"}, *COLUMNS[7:]]
    text = render_plan(_update(FieldChange("schema", COLUMNS, after)))
    marked = [line.strip() for line in text.splitlines() if line.strip().startswith(("-", "+", "#", "~ ["))]
    # A list of records is told item by item: the one item that changed, and which of its keys.
    assert marked == [
        "# dataset.P.d will be updated in place (config changed)",
        '~ [6].name = "column_6" -> "country"',
    ]
    md = render_markdown(_update(FieldChange("schema", COLUMNS, after)))
    assert '- {"comment": "", "name": "column_6", "type": "string"}' in md.splitlines()
    assert '+ {"comment": "", "name": "country", "type": "string"}' in md.splitlines()


def test_a_code_change_in_markdown_is_a_line_diff() -> None:
    before = "".join(f"line {i}\n" for i in range(30))
    after = before.replace("line 17\n", "line seventeen\n")
    md = render_markdown(_update(FieldChange("code", before, after)))
    assert [line for line in md.splitlines() if line.endswith(("17", "seventeen"))] == ["-line 17", "+line seventeen"]


def test_a_list_of_records_is_told_item_by_item_in_text_and_json() -> None:
    a, b, c = ({"type": t, "params": {"n": 1}} for t in "ABC")
    change = FieldChange("steps", [a, b, c], [c, a, {"type": "B", "params": {"n": 2}}, {"type": "D"}])
    assert change.to_dict()["items"] == [
        {"op": "moved", "from": 2, "to": 0, "value": c},
        {"op": "changed", "at": 2, "changes": [{"path": "params.n", "before": 1, "after": 2, "sensitive": False}]},
        {"op": "added", "at": 3, "value": {"type": "D"}},
    ]
    lines = [line.strip() for line in render_plan(_update(change)).splitlines()]
    items = [line for line in lines if line.startswith(("~ [", "+ [", "- ["))]
    assert items == ['~ [0] moved from [2] = {"params": {"n": 1}, "type": "C"}', "~ [2].params.n = 1 -> 2",
                     '+ [3] = {"type": "D"}']
    removed = FieldChange("steps", [a, b], [a]).to_dict()["items"]
    assert removed == [{"op": "removed", "at": 1, "value": b}]
    assert "items" not in FieldChange("tags", ["a"], ["b"]).to_dict()  # plain lists keep their one change
