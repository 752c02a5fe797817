"""Jobs through dataikuapi: each recipe type the simulator builds, the job life cycle, failures and logs."""

from __future__ import annotations

import pytest
from dataikuapi.dss.project import DSSProject
from dataikuapi.utils import DataikuException

from tests.conftest import AGAINST_REAL_DSS
from tests.contract.data_helpers import build, python_recipe, recipe, rows, upload, wait_job, wait_state

ORDERS = "id,customer,amount\n1,alice,2.5\n2,bob,3\n3,,4.5\n4,alice,10\n"
CUSTOMERS = "customer,city\nalice,Paris\nbob,Lyon\n"


@pytest.fixture
def orders(project: DSSProject) -> DSSProject:
    upload(project, "orders", ORDERS)
    upload(project, "customers", CUSTOMERS)
    return project


def test_sync_copies_rows_and_schema(orders: DSSProject) -> None:
    recipe(orders, "sync", ["orders"], "copy")
    job = orders.new_job().with_output("copy").start_and_wait()
    assert job.get_status()["baseStatus"]["state"] == "DONE"
    assert rows(orders, "copy") == rows(orders, "orders")
    assert orders.get_dataset("copy").get_schema()["columns"] == orders.get_dataset("orders").get_schema()["columns"]


def test_prepare_runs_its_processors(orders: DSSProject) -> None:
    settings = recipe(orders, "shaker", ["orders"], "prepared").get_settings()
    settings.add_processor_step("FillEmptyWithValue", {"appliesTo": "SINGLE_COLUMN", "columns": ["customer"],
                                                       "value": "unknown"})
    settings.add_processor_step("FilterOnNumericalRange", {"appliesTo": "SINGLE_COLUMN", "columns": ["amount"],
                                                           "action": "KEEP_ROW", "min": 3, "max": 9})
    settings.add_processor_step("StringTransformer", {"appliesTo": "SINGLE_COLUMN", "columns": ["customer"],
                                                      "mode": "TO_UPPER"})
    settings.add_processor_step("ColumnRenamer", {"renamings": [{"from": "customer", "to": "who"}]})
    settings.add_processor_step("ColumnsSelector", {"appliesTo": "COLUMNS", "columns": ["id"], "keep": False})
    settings.save()
    assert build(orders, "prepared")[1] == "DONE"
    assert rows(orders, "prepared") == [["BOB", 3.0], ["UNKNOWN", 4.5]]
    assert [c["name"] for c in orders.get_dataset("prepared").get_schema()["columns"]] == ["who", "amount"]


def test_prepare_filter_on_value_and_find_replace(orders: DSSProject) -> None:
    settings = recipe(orders, "shaker", ["orders"], "prepared").get_settings()
    settings.add_processor_step("FilterOnValue", {"appliesTo": "SINGLE_COLUMN", "columns": ["customer"],
                                                  "action": "REMOVE_ROW", "values": ["bob"],
                                                  "matchingMode": "FULL_STRING", "normalizationMode": "EXACT"})
    settings.add_processor_step("FindReplace", {"appliesTo": "SINGLE_COLUMN", "columns": ["customer"],
                                                "mapping": [{"from": "ali", "to": "ALI"}], "matching": "SUBSTRING",
                                                "normalization": "EXACT", "output": ""})
    settings.raw_steps.append({"metaType": "PROCESSOR", "type": "ColumnRenamer", "disabled": True,
                               "params": {"renamings": [{"from": "id", "to": "never"}]}})
    settings.save()
    assert build(orders, "prepared")[1] == "DONE"
    assert rows(orders, "prepared") == [[1, "ALIce", 2.5], [3, "", 4.5], [4, "ALIce", 10.0]]


def test_grouping_aggregates_per_key(orders: DSSProject) -> None:
    settings = recipe(orders, "grouping", ["orders"], "by_customer").get_settings()
    settings.add_grouping_key("customer")
    settings.set_global_count_enabled(True)
    settings.set_column_aggregations("amount", sum=True, max=True)
    settings.save()
    assert build(orders, "by_customer")[1] == "DONE"
    assert sorted(rows(orders, "by_customer")) == [["", 1, 4.5, 4.5], ["alice", 2, 10.0, 12.5],
                                                   ["bob", 1, 3.0, 3.0]]
    assert [c["name"] for c in orders.get_dataset("by_customer").get_schema()["columns"]] == [
        "customer", "count", "amount_max", "amount_sum"]


def test_join_matches_rows_on_conditions(orders: DSSProject) -> None:
    settings = recipe(orders, "join", ["orders", "customers"], "joined").get_settings()
    join = settings.raw_joins[0]
    join["type"] = "LEFT"
    if not join["on"]:
        settings.add_condition_to_join(join, "EQ", "customer", "customer")
    settings.save()
    assert build(orders, "joined")[1] == "DONE"
    assert sorted(rows(orders, "joined")) == [[1, "alice", 2.5, "Paris"], [2, "bob", 3.0, "Lyon"],
                                              [3, "", 4.5, ""], [4, "alice", 10.0, "Paris"]]


def test_distinct_and_sort(orders: DSSProject) -> None:
    distinct = recipe(orders, "distinct", ["orders"], "customers_seen").get_settings()
    distinct.set_json_payload({**distinct.get_json_payload(), "keys": [{"column": "customer"}]})
    distinct.save()
    assert build(orders, "customers_seen")[1] == "DONE"
    assert sorted(r[0] for r in rows(orders, "customers_seen")) == ["", "alice", "bob"]
    ordered = recipe(orders, "sort", ["orders"], "by_amount").get_settings()
    ordered.set_json_payload({**ordered.get_json_payload(), "orders": [{"column": "amount", "desc": True}]})
    ordered.save()
    assert build(orders, "by_amount")[1] == "DONE"
    assert [r[2] for r in rows(orders, "by_amount")] == [10.0, 4.5, 3.0, 2.5]


def test_python_recipe_reads_and_writes_through_the_dataiku_package(orders: DSSProject) -> None:
    script = ("import dataiku\n"
              "out = dataiku.Dataset('doubled')\n"
              "out.write_schema([{'name': 'id', 'type': 'bigint'}, {'name': 'twice', 'type': 'double'}])\n"
              "with out.get_writer() as writer:\n"
              "    for row in dataiku.Dataset('orders').iter_rows():\n"
              "        writer.write_row_dict({'id': row['id'], 'twice': row['amount'] * 2})\n")
    python_recipe(orders, ["orders"], "doubled", script)
    assert build(orders, "doubled")[1] == "DONE"
    assert rows(orders, "doubled") == [[1, 5.0], [2, 6.0], [3, 9.0], [4, 20.0]]
    assert orders.get_dataset("doubled").get_schema()["columns"] == [{"name": "id", "type": "bigint"},
                                                                     {"name": "twice", "type": "double"}]


def test_failing_python_recipe_fails_the_job_with_its_error(orders: DSSProject) -> None:
    python_recipe(orders, ["orders"], "broken", "import dataiku\nraise RuntimeError('upstream file missing')\n")
    with pytest.raises(DataikuException, match="FAILED"):
        orders.new_job().with_output("broken").start_and_wait()
    job = orders.list_jobs()[0].to_job()
    assert job.get_status()["baseStatus"]["state"] == "FAILED"
    assert "upstream file missing" in job.get_log()


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="DSS builds R recipes; the simulator refuses to pretend it did")
def test_recipe_type_not_built_fails_the_job_and_writes_nothing(orders: DSSProject) -> None:
    builder = orders.new_recipe("r")
    builder.with_input("orders")
    builder.with_new_output_dataset("from_r", "filesystem_managed")
    builder.with_script("x <- 1")
    builder.create()
    job, state = build(orders, "from_r")
    assert state == "FAILED"
    status = job.get_status()
    assert "not built by the simulator (NOT RUN)" in status["error"]["message"]
    assert [a["state"] for a in status["activities"].values()] == ["SKIPPED"]
    assert orders.get_dataset("from_r").get_info().last_build_start_time is None


def test_recursive_build_runs_upstream_recipes_first(orders: DSSProject) -> None:
    recipe(orders, "sync", ["orders"], "stage1")
    recipe(orders, "sync", ["stage1"], "stage2")
    job, state = build(orders, "stage2", "RECURSIVE_FORCED_BUILD")
    assert state == "DONE"
    assert [a["recipeName"] for a in job.get_status()["activities"].values()] == ["compute_stage1",
                                                                                  "compute_stage2"]
    assert len(rows(orders, "stage2")) == 4
    job, state = build(orders, "stage2", "RECURSIVE_BUILD")  # stage1 is up to date: only stage2 runs
    assert state == "DONE"
    assert [a["recipeName"] for a in job.get_status()["activities"].values()] == ["compute_stage2"]


def test_non_recursive_build_needs_upstream_data(orders: DSSProject) -> None:
    recipe(orders, "sync", ["orders"], "stage1")
    recipe(orders, "sync", ["stage1"], "stage2")
    _, state = build(orders, "stage2")
    assert state == "FAILED"  # stage1 was never built: it has no data and no schema to read


def test_job_life_cycle_running_then_aborted(orders: DSSProject) -> None:
    python_recipe(orders, ["orders"], "slow", "import time\ntime.sleep(600)\n")
    job = orders.new_job().with_output("slow").start()
    wait_state(job, "RUNNING")
    assert [j.job_id for j in orders.list_running_jobs()] == [job.id]
    job.abort()
    assert wait_job(job) == "ABORTED"
    assert orders.list_running_jobs() == []
    assert orders.list_jobs()[0]["state"] == "ABORTED"


def test_job_log_per_activity(orders: DSSProject) -> None:
    recipe(orders, "sync", ["orders"], "stage1")
    job, _ = build(orders, "stage1")
    (activity,) = job.get_status()["activities"]
    assert "compute_stage1" in job.get_log(activity=activity)
    assert job.id in job.get_log()


def test_unknown_output_is_refused(orders: DSSProject) -> None:
    with pytest.raises(DataikuException):
        orders.new_job().with_output("no_such_dataset").start()


def test_checks_on_build_fail_the_job(orders: DSSProject) -> None:
    recipe(orders, "sync", ["orders"], "checked")
    dataset = orders.get_dataset("checked")
    settings = dataset.get_settings()
    raw = settings.get_raw()
    raw["metrics"]["probes"] = [{"type": "records", "enabled": True, "computeOnBuildMode": "PARTITION", "meta": {}}]
    raw["metricsChecks"]["runOnBuild"] = True
    raw["metricsChecks"]["checks"] = [{"type": "numericRange", "metricId": "records:COUNT_RECORDS",
                                       "minimum": 100.0, "minimumEnabled": True,
                                       "meta": {"label": "at least 100 rows", "name": "Value in range"}}]
    settings.save()
    job, state = build(orders, "checked")
    assert state == "FAILED"
    assert "at least 100 rows" in job.get_log()
    assert dataset.get_last_metric_values().get_global_value("records:COUNT_RECORDS") == 4


def test_python_recipe_fails_only_when_its_code_reads_an_input_without_data(orders: DSSProject) -> None:
    recipe(orders, "sync", ["orders"], "never_built")
    python_recipe(orders, ["never_built"], "quiet", "print('nothing read')\n")
    assert build(orders, "quiet")[1] == "DONE"
    script = "import dataiku\nlist(dataiku.Dataset('never_built').iter_rows())\n"
    python_recipe(orders, ["never_built"], "reader", script)
    job, state = build(orders, "reader")
    assert state == "FAILED"
    assert "never_built" in job.get_log()
