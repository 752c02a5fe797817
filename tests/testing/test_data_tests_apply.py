"""Data tests on apply: each becomes a DSS data quality rule in the dataset's settings (`metricsChecks.checks`),
written read-merge-write, diffed by test name like any other field, and never touching rules made in DSS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dataiku_iac import Workspace
from dataiku_iac.config.testing_models import DataTest
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes

PROJECT = """\
project: {key: SHOP, name: Shop}
datasets:
  orders:
    type: Filesystem
    connection: filesystem_managed
    params: {path: /orders}
    tests:
      - row_count: {min: 1, warn_max: 1000000}
      - not_null: order_id
      - unique: order_id
      - accepted_values: {column: status, values: [open, shipped]}
      - range: {column: amount, min: 0}
"""


def _checks(ws: Workspace) -> list[dict[str, Any]]:
    raw = ws.connection("dev").client.get_project("SHOP").get_dataset("orders").get_settings().get_raw()
    return list(raw["metricsChecks"]["checks"])


def test_apply_writes_one_dss_rule_per_test_and_plans_nothing_after(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"shop": PROJECT})
    apply_ok(ws)
    rules = {r["id"]: r for r in _checks(ws)}
    assert sorted(rules) == ["dssiac_accepted_values_status", "dssiac_not_null_order_id", "dssiac_range_amount",
                             "dssiac_row_count", "dssiac_unique_order_id"]
    assert rules["dssiac_row_count"] | {} == {
        "id": "dssiac_row_count", "displayName": "row_count", "enabled": True, "type": "RecordCountInRangeRule",
        "minimum": 1.0, "minimumEnabled": True, "maximum": 0, "maximumEnabled": False,
        "softMinimum": 0, "softMinimumEnabled": False, "softMaximum": 1000000.0, "softMaximumEnabled": True}
    assert (rules["dssiac_not_null_order_id"]["type"], rules["dssiac_not_null_order_id"]["columns"],
            rules["dssiac_not_null_order_id"]["thresholdType"]) == ("ColumnNotEmptyRule", ["order_id"],
                                                                    "ENTIRE_COLUMN_NOT_EMPTY")
    assert rules["dssiac_accepted_values_status"]["valueSet"] == ["open", "shipped"]
    assert changes(ws) == []


def test_a_changed_or_removed_test_is_an_update_and_rules_made_in_dss_stay(
        make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"shop": PROJECT})
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("SHOP").get_dataset("orders").get_settings()
    settings.get_raw()["metricsChecks"]["checks"].append(
        {"id": "hand1", "type": "RecordCountInRangeRule", "displayName": "made in the UI", "minimum": 5,
         "minimumEnabled": True})
    settings.save()
    edited = PROJECT.replace("      - unique: order_id\n", "").replace("values: [open, shipped]",
                                                                        "values: [open, shipped, lost]")
    ws = make_workspace({"shop": edited})
    assert changes(ws) == [("~", "dataset.SHOP.orders", ["data_quality.accepted_values_status.valueSet",
                                                          "data_quality.unique_order_id"])]
    apply_ok(ws)
    ids = [r["id"] for r in _checks(ws)]
    assert "dssiac_unique_order_id" not in ids and "hand1" in ids
    assert next(r for r in _checks(ws) if r["id"] == "dssiac_accepted_values_status")["valueSet"] == [
        "open", "shipped", "lost"]
    assert changes(ws) == []


def test_tests_left_out_leave_dss_alone_and_an_empty_list_removes_them(
        make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"shop": PROJECT})
    apply_ok(ws)
    without = PROJECT.split("    tests:\n")[0]
    ws = make_workspace({"shop": without})
    assert changes(ws) == []
    ws = make_workspace({"shop": without + "    tests: []\n"})
    assert [c[0] for c in changes(ws)] == ["~"]
    apply_ok(ws)
    assert not [r for r in _checks(ws) if str(r.get("id", "")).startswith("dssiac_")]


def test_a_rule_edited_in_dss_shows_as_drift_and_is_restored(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"shop": PROJECT})
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("SHOP").get_dataset("orders").get_settings()
    rule = next(r for r in settings.get_raw()["metricsChecks"]["checks"] if r["id"] == "dssiac_range_amount")
    rule["minimum"] = -100
    settings.save()
    report = ws.drift("dev")
    assert [(i.address, [c.path for c in i.changes]) for i in report.items] == [
        ("dataset.SHOP.orders", ["data_quality.range_amount.minimum"])]
    apply_ok(ws)
    assert changes(ws) == []


@pytest.mark.parametrize(("test", "message"), [
    ({"row_count": {}}, "set at least one of min, max, warn_min, warn_max"),
    ({"row_count": {"min": 10, "max": 5}}, "min (10) is above max (5)"),
    ({"not_null": "a", "unique": "a"}, "a data test has exactly one of"),
    ({"freshness": {"warn_after": "2d", "error_after": "1d"}}, "warn_after (2d) is longer than error_after (1d)"),
    ({"freshness": {"warn_after": "soon"}}, "expected a duration such as 30m, 12h or 2d"),
    ({"python": {"script": "print(1)"}}, "the script must define `def process(last_values, dataset, partition_id):`"),
])
def test_a_malformed_data_test_is_refused(test: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("`", ".")):
        DataTest.model_validate(test)


def test_two_tests_of_one_name_are_a_located_error(make_workspace: Callable[..., Workspace]) -> None:
    with pytest.raises(ConfigError) as e:
        make_workspace({"shop": PROJECT + "      - not_null: order_id\n"})
    assert e.value.render() == ("projects/shop.yaml:8:7: two data tests are named 'not_null_order_id': give one a "
                                "`name`")
