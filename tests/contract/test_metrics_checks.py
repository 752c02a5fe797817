"""Metrics, checks and data quality rules through dataikuapi, computed from the dataset's data."""

from __future__ import annotations

from typing import Any

import pytest
from dataikuapi.dss.dataset import DSSDataset
from dataikuapi.dss.project import DSSProject

from tests.conftest import AGAINST_REAL_DSS
from tests.contract.data_helpers import upload

ORDERS = "id,customer,amount\n1,alice,2.5\n2,bob,3\n3,,4.5\n4,alice,10\n"


def col_stats(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"type": "col_stats", "enabled": True, "computeOnBuildMode": "NO", "meta": {"level": 2,
            "name": "Columns statistics"},
            "configuration": {"aggregates": [{"aggregated": a, "column": c} for a, c in pairs]}}


def range_check(label: str, metric_id: str, **bounds: float) -> dict[str, Any]:
    check: dict[str, Any] = {"type": "numericRange", "metricId": metric_id, "computeOnBuildMode": "PARTITION",
                             "meta": {"label": label, "name": "Value in range"}}
    for key in ("minimum", "softMinimum", "softMaximum", "maximum"):
        check[key] = float(bounds.get(key, 0.0))
        check[key + "Enabled"] = key in bounds
    return check


def with_status(dataset: DSSDataset, probes: list[dict[str, Any]], checks: list[dict[str, Any]]) -> None:
    settings = dataset.get_settings()
    raw = settings.get_raw()
    raw["metrics"]["probes"] = probes
    raw["metricsChecks"]["checks"] = checks
    settings.save()


def test_metrics_are_computed_from_the_data(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    with_status(orders, [{"type": "records", "enabled": True, "computeOnBuildMode": "NO", "meta": {}},
                         {"type": "basic", "enabled": True, "computeOnBuildMode": "NO", "meta": {}},
                         col_stats(("MIN", "amount"), ("MAX", "amount"), ("AVG", "amount"), ("SUM", "amount"),
                                   ("COUNT_NULL", "customer"), ("COUNT_DISTINCT", "customer"))], [])
    report = orders.compute_metrics()
    assert {c["metricId"] for c in report["computed"]} >= {"records:COUNT_RECORDS", "col_stats:MIN:amount"}
    metrics = orders.get_last_metric_values()
    assert metrics.get_global_value("records:COUNT_RECORDS") == 4
    assert metrics.get_global_value("col_stats:MIN:amount") == 2.5
    assert metrics.get_global_value("col_stats:MAX:amount") == 10.0
    assert metrics.get_global_value("col_stats:AVG:amount") == pytest.approx(5.0)
    assert metrics.get_global_value("col_stats:SUM:amount") == pytest.approx(20.0)
    assert metrics.get_global_value("col_stats:COUNT_NULL:customer") == 1
    assert metrics.get_global_value("col_stats:COUNT_DISTINCT:customer") == 2
    assert metrics.get_global_value("basic:COUNT_FILES") == 1
    assert metrics.get_global_value("basic:SIZE") == len(ORDERS.encode())


def test_compute_from_ids_and_history(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    orders.compute_metrics(metric_ids=["records:COUNT_RECORDS"])
    orders.compute_metrics(metric_ids=["records:COUNT_RECORDS"])
    assert orders.get_last_metric_values().get_global_value("records:COUNT_RECORDS") == 4
    history = orders.get_metric_history("records:COUNT_RECORDS")
    assert [v["value"] for v in history["values"]] == [4, 4]


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="notComputed is the simulator's report of what it does not compute")
def test_probes_not_computed_are_reported_never_valued(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    with_status(orders, [{"type": "python", "enabled": True, "meta": {}, "configuration": {"code": "..."}},
                         col_stats(("AVG", "customer"))], [])
    report = orders.compute_metrics()
    assert report["computed"] == []
    reasons = {r.get("probeType") or r.get("metricId"): r["reason"] for r in report["notComputed"]}
    assert "not computed by the simulator" in reasons["python"]
    assert "numeric" in reasons["col_stats:AVG:customer"]
    assert orders.get_last_metric_values().get_raw()["metrics"] == []


def test_checks_judge_the_last_metric_values(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    checks = [range_check("enough rows", "records:COUNT_RECORDS", minimum=10),
              range_check("few rows", "records:COUNT_RECORDS", softMaximum=3),
              range_check("rows ok", "records:COUNT_RECORDS", minimum=1, maximum=100),
              {"type": "valueSet", "metricId": "col_stats:MIN:amount", "values": ["2.5"],
               "meta": {"label": "min is 2.5", "name": "Value in set"}},
              range_check("never computed", "col_stats:MAX:id", maximum=1)]
    with_status(orders, [{"type": "records", "enabled": True, "computeOnBuildMode": "NO", "meta": {}},
                         col_stats(("MIN", "amount"))], checks)
    orders.compute_metrics()
    results = {r["check"]["meta"]["label"]: r["value"]["outcome"] for r in orders.run_checks()["results"]}
    assert results == {"enough rows": "ERROR", "few rows": "WARNING", "rows ok": "OK", "min is 2.5": "OK",
                       "never computed": "EMPTY"}
    last = orders.get_last_metric_values()
    assert last.get_global_value("check:CHECK:enough rows") == "ERROR"


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="a Python check is run by DSS; the simulator reports it NOT RUN")
def test_python_check_is_reported_not_run(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    with_status(orders, [], [{"type": "customPython", "meta": {"label": "py"},
                              "code": "def process(last_values, dataset, partition_id):\n    return 'OK', ''\n"}])
    (result,) = orders.run_checks()["results"]
    assert result["value"]["outcome"] == "EMPTY" and result["value"]["notRun"] is True
    assert result["value"]["message"].startswith("NOT RUN")


def test_data_quality_rules_lifecycle(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    rules = orders.get_data_quality_rules()
    count = rules.create_rule({"type": "RecordCountInRangeRule", "displayName": "has rows", "softMinimum": 1,
                               "softMinimumEnabled": True})
    not_empty = rules.create_rule({"type": "ColumnNotEmptyRule", "displayName": "customer filled",
                                   "columns": ["customer"]})
    in_set = rules.create_rule({"type": "ValuesInSetRule", "displayName": "known customers",
                                "columns": ["customer"], "values": ["alice", "bob"]})
    assert {r.name for r in rules.list_rules()} == {"has rows", "customer filled", "known customers"}
    rules.compute_rules().wait_for_result()
    outcomes = {r.name: r.outcome for r in rules.get_last_rules_results()}
    assert outcomes == {"has rows": "OK", "customer filled": "ERROR", "known customers": "OK"}
    assert "1 empty" in not_empty.get_last_result().message
    assert count.get_last_result().outcome == "OK"
    raw = in_set.get_raw()
    raw["values"] = ["alice"]
    in_set.save()
    in_set.compute().wait_for_result()
    assert in_set.get_last_result().outcome == "ERROR"
    not_empty.delete()
    assert {r.name for r in rules.list_rules()} == {"has rows", "known customers"}
    assert len(rules.get_rules_history()) >= 4


@pytest.mark.parametrize(("rule", "outcome"), [
    ({"type": "ColumnMinInRangeRule", "columns": ["amount"], "minimum": 3, "minimumEnabled": True}, "ERROR"),
    ({"type": "ColumnMaxInRangeRule", "columns": ["amount"], "softMaximum": 5, "softMaximumEnabled": True}, "WARNING"),
    ({"type": "ColumnAvgInRangeRule", "columns": ["amount"], "minimum": 4, "minimumEnabled": True}, "OK"),
    ({"type": "ColumnUniqueValuesRule", "columns": ["id"]}, "OK"),
    ({"type": "ColumnUniqueValuesRule", "columns": ["customer"]}, "ERROR"),
    ({"type": "ValuesInRangeRule", "columns": ["amount"], "maximum": 5, "maximumEnabled": True}, "ERROR"),
    ({"type": "ColumnCountInRangeRule", "minimum": 3, "minimumEnabled": True, "maximum": 3, "maximumEnabled": True},
     "OK"),
])
def test_rule_types_judge_the_data(project: DSSProject, rule: dict[str, Any], outcome: str) -> None:
    orders = upload(project, "orders", ORDERS)
    created = orders.get_data_quality_rules().create_rule({"displayName": "rule", **rule})
    created.compute().wait_for_result()
    assert created.get_last_result().outcome == outcome
