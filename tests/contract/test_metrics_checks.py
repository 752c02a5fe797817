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
                                   "columns": ["customer"], "thresholdType": "ENTIRE_COLUMN_NOT_EMPTY"})
    in_set = rules.create_rule({"type": "ValuesInSetRule", "displayName": "known customers",
                                "columns": ["customer"], "valueSet": ["alice", "bob"]})
    assert {r.name for r in rules.list_rules()} == {"has rows", "customer filled", "known customers"}
    rules.compute_rules().wait_for_result()
    outcomes = {r.name: r.outcome for r in rules.get_last_rules_results()}
    assert outcomes == {"has rows": "OK", "customer filled": "ERROR", "known customers": "OK"}
    assert "1 empty" in not_empty.get_last_result().message
    assert count.get_last_result().outcome == "OK"
    raw = in_set.get_raw()
    raw["valueSet"] = ["alice"]
    in_set.save()
    in_set.compute().wait_for_result()
    assert in_set.get_last_result().outcome == "ERROR"
    not_empty.delete()
    assert {r.name for r in rules.list_rules()} == {"has rows", "known customers"}
    assert len(rules.get_rules_history()) >= 4


def hard(low: float | None = None, high: float | None = None) -> dict[str, Any]:
    return {**({"minimum": low, "minimumEnabled": True} if low is not None else {}),
            **({"maximum": high, "maximumEnabled": True} if high is not None else {})}


def soft(low: float | None = None, high: float | None = None) -> dict[str, Any]:
    return {**({"softMinimum": low, "softMinimumEnabled": True} if low is not None else {}),
            **({"softMaximum": high, "softMaximumEnabled": True} if high is not None else {})}


# ORDERS: amount 2.5, 3, 4.5, 10 (sum 20, median 3.75, sample stddev 3.44); customer alice, bob, empty, alice.
AMOUNT, CUSTOMER = {"columns": ["amount"]}, {"columns": ["customer"]}
RULES: list[tuple[dict[str, Any], str]] = [
    ({"type": "ColumnMinInRangeRule", **AMOUNT, **hard(3)}, "ERROR"),
    ({"type": "ColumnMaxInRangeRule", **AMOUNT, **soft(high=5)}, "WARNING"),
    ({"type": "ColumnAvgInRangeRule", **AMOUNT, **hard(4)}, "OK"),
    ({"type": "ColumnSumInRangeRule", **AMOUNT, **hard(20, 20)}, "OK"),
    ({"type": "ColumnMedianInRangeRule", **AMOUNT, **soft(4)}, "WARNING"),
    ({"type": "ColumnStdDevInRangeRule", **AMOUNT, **hard(high=3)}, "ERROR"),
    ({"type": "ValuesInRangeRule", **AMOUNT, **hard(high=5)}, "ERROR"),
    ({"type": "ValuesInRangeRule", **AMOUNT, **hard(0, 10)}, "OK"),
    ({"type": "ColumnCountInRangeRule", **hard(3, 3)}, "OK"),
    ({"type": "FileSizeInRangeRule", **hard(1, 1000)}, "OK"),
    ({"type": "FileSizeInRangeRule", **hard(high=10)}, "ERROR"),
    ({"type": "ColumnUniqueValuesRule", "columns": ["id"], "thresholdType": "ENTIRE_COLUMN"}, "OK"),
    ({"type": "ColumnUniqueValuesRule", **CUSTOMER, "thresholdType": "ENTIRE_COLUMN"}, "ERROR"),
    ({"type": "ColumnUniqueValuesRule", **CUSTOMER, "thresholdType": "MIN_COUNT", **hard(3)}, "ERROR"),
    ({"type": "ColumnNotEmptyRule", "columns": ["id"], "thresholdType": "ENTIRE_COLUMN_NOT_EMPTY"}, "OK"),
    ({"type": "ColumnNotEmptyRule", **CUSTOMER, "thresholdType": "MAX_PERCENTAGE_EMPTY", **hard(high=30),
      **soft(high=20)}, "WARNING"),
    ({"type": "ColumnNotEmptyRule", **CUSTOMER, "thresholdType": "MAX_COUNT_EMPTY", **hard(high=0)}, "ERROR"),
    ({"type": "ColumnEmptyRule", **CUSTOMER, "thresholdType": "ENTIRE_COLUMN_EMPTY"}, "ERROR"),
    ({"type": "ValuesInSetRule", **CUSTOMER, "valueSet": ["alice"]}, "ERROR"),
    ({"type": "ModeValueInSetRule", **CUSTOMER, "valueSet": ["alice"]}, "OK"),
    ({"type": "ModeValueInSetRule", **CUSTOMER, "valueSet": ["bob"]}, "ERROR"),
    ({"type": "TopValuesInSetRule", **CUSTOMER, "topN": 1, "valueSet": ["alice"]}, "OK"),
    ({"type": "TopValuesInSetRule", **CUSTOMER, "topN": 2, "valueSet": ["alice"]}, "ERROR"),
    ({"type": "DatasetSchemaContainsRule", "expectedSchema": {"columns": [{"name": "amount"}]}}, "OK"),
    ({"type": "DatasetSchemaContainsRule", "expectedSchema": {"columns": [{"name": "price"}]}}, "ERROR"),
    ({"type": "DatasetSchemaEqualsRule", "expectedSchema": {"columns": [{"name": "id"}, {"name": "customer"}]}},
     "ERROR"),
    ({"type": "numericRange", "metricId": "records:COUNT_RECORDS", "autoComputeMetric": True, **hard(5)}, "ERROR"),
    ({"type": "valueSet", "metricId": "basic:COUNT_COLUMNS", "autoComputeMetric": True, "values": ["3"]}, "OK"),
]


@pytest.mark.parametrize(("rule", "outcome"), RULES, ids=[f"{r['type']}-{o}" for r, o in RULES])
def test_rule_types_judge_the_data(project: DSSProject, rule: dict[str, Any], outcome: str) -> None:
    orders = upload(project, "orders", ORDERS)
    created = orders.get_data_quality_rules().create_rule({"displayName": "rule", **rule})
    created.compute().wait_for_result()
    assert created.get_last_result().outcome == outcome


def test_schema_rule_names_what_differs(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    typed = {c["name"]: c["type"] for c in orders.get_schema()["columns"]}
    rules = orders.get_data_quality_rules()
    equals = rules.create_rule({"type": "DatasetSchemaEqualsRule", "displayName": "same", "expectedSchema": {
        "columns": [{"name": n, "type": t} for n, t in typed.items()]}})
    wrong_type = rules.create_rule({"type": "DatasetSchemaContainsRule", "displayName": "id text",
                                    "expectedSchema": {"columns": [{"name": "id", "type": "string"}]}})
    rules.compute_rules().wait_for_result()
    assert typed["id"] != "string"
    assert equals.get_last_result().outcome == "OK"
    result = wrong_type.get_last_result()
    assert result.outcome == "ERROR" and "id" in result.message


def test_empty_rule_without_threshold_type_fails(project: DSSProject) -> None:
    orders = upload(project, "orders", ORDERS)
    rule = orders.get_data_quality_rules().create_rule({"type": "ColumnNotEmptyRule", "displayName": "filled",
                                                         "columns": ["id"]})
    rule.compute().wait_for_result()
    result = rule.get_last_result()
    assert result.outcome == "ERROR" and "Threshold type cannot be null" in result.message


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="DSS computes these; the simulator reports them NOT RUN")
@pytest.mark.parametrize("rule", [
    {"type": "DriftRecordCountRule", "driftParams": {"iqrFactor": 1.5, "iqrFactorEnabled": True}},
    {"type": "CompareMetricsRule", "metricId": "basic:COUNT_COLUMNS", "metricBId": "basic:COUNT_COLUMNS",
     "datasetBName": "orders", "operator": "EQ", "autoComputeMetric": True},
    {"type": "ColumnMeaningValidityRule", "columnSpecs": [{"column": "customer"}], "thresholdType": "ENTIRE_COLUMN"},
    {"type": "python", "code": "def process(last_values, dataset, partition_id):\n    return 'OK', ''\n"},
], ids=lambda r: r["type"])
def test_rules_not_evaluated_are_reported_not_run(project: DSSProject, rule: dict[str, Any]) -> None:
    orders = upload(project, "orders", ORDERS)
    rules = orders.get_data_quality_rules()
    created = rules.create_rule({"displayName": "rule", **rule})
    rules.compute_rules().wait_for_result()
    result = created.get_last_result()
    assert result.outcome == "EMPTY" and result.message.startswith("NOT RUN")
    assert rules.get_status()["outcome"] != "OK"


def test_the_dataset_list_carries_each_dataset_s_metrics_and_checks(project: DSSProject) -> None:
    # dss-iac lists the datasets whose metrics someone set from one list call (resources/dataset_metrics.py).
    orders = upload(project, "orders", ORDERS)
    with_status(orders, [col_stats(("MAX", "amount"))], [range_check("rows ok", "records:COUNT_RECORDS", minimum=1)])
    [item] = project.list_datasets()
    assert [p["type"] for p in item["metrics"]["probes"]] == ["col_stats"]
    assert [c["meta"]["label"] for c in item["metricsChecks"]["checks"]] == ["rows ok"]
