"""Scenario runs that execute their steps, through dataikuapi: builds, metrics, checks, Python, variables."""

from __future__ import annotations

import time

import pytest
from dataikuapi.dss.project import DSSProject

from tests.conftest import AGAINST_REAL_DSS
from tests.contract.data_helpers import recipe, rows, upload
from tests.contract.test_scenarios import step_scenario

ORDERS = "id,customer,amount\n1,alice,2.5\n2,bob,3\n3,,4.5\n"


def item(name: str) -> dict:
    return {"type": "DATASET", "itemId": name, "partitionsSpec": ""}


def build(*names: str, job_type: str = "RECURSIVE_BUILD") -> dict:
    return {"type": "build_flowitem", "name": "build", "params": {"builds": [item(n) for n in names],
                                                                  "jobType": job_type}}


def metrics(name: str) -> dict:
    return {"type": "compute_metrics", "name": "metrics", "params": {"computes": [item(name)]}}


def checks(name: str) -> dict:
    return {"type": "check_dataset", "name": "checks", "params": {"checks": [item(name)]}}


def python(script: str, **extra: object) -> dict:
    return {"type": "custom_python", "name": "python", **extra, "params": {"script": script,
                                                                          "envSelection": {"envMode": "INHERIT"}}}


@pytest.fixture
def flow(project: DSSProject) -> DSSProject:
    """orders (uploaded) -> compute_copy (sync) -> copy, with a record count probe and a rule on copy."""
    upload(project, "orders", ORDERS)
    recipe(project, "sync", ["orders"], "copy")
    settings = project.get_dataset("copy").get_settings()
    settings.get_raw()["metrics"]["probes"] = [{"type": "records", "enabled": True, "computeOnBuildMode": "NO",
                                                "meta": {}}]
    settings.save()
    return project


def add_rule(project: DSSProject, minimum: int) -> None:
    project.get_dataset("copy").get_data_quality_rules().create_rule(
        {"type": "RecordCountInRangeRule", "displayName": f"at least {minimum} rows", "minimum": minimum,
         "minimumEnabled": True})


def test_steps_build_compute_check_and_run_python(flow: DSSProject) -> None:
    add_rule(flow, 1)
    script = ("import dataiku\n"
              "rows = list(dataiku.api_client().get_project(dataiku.default_project_key())"
              ".get_dataset('copy').iter_rows())\n"
              "assert len(rows) == 3, rows\n")
    vars_step = {"type": "set_project_vars", "name": "vars", "params": {"variables": {"last_run": "ok"}}}
    scenario = step_scenario(flow, "Pipeline", build("copy"), metrics("copy"), checks("copy"), python(script),
                             vars_step)
    run = scenario.run_and_wait()
    details = run.get_details()
    assert [s.outcome for s in details.steps] == ["SUCCESS"] * 5
    (job_id,) = details.steps[0].job_ids
    assert flow.get_job(job_id).get_status()["baseStatus"]["state"] == "DONE"
    assert len(rows(flow, "copy")) == 3
    assert flow.get_dataset("copy").get_last_metric_values().get_global_value("records:COUNT_RECORDS") == 3
    assert flow.get_variables()["standard"]["last_run"] == "ok"


def test_a_failing_check_fails_the_run_and_skips_later_steps(flow: DSSProject) -> None:
    add_rule(flow, 10)
    scenario = step_scenario(flow, "Checked", build("copy"), checks("copy"),
                             python("open('never', 'w')\n"), python("x = 1\n", runConditionType="RUN_ALWAYS"))
    run = scenario.run_and_wait(no_fail=True)
    assert run.outcome == "FAILED"
    details = run.get_details()
    assert [s.outcome for s in details.steps] == ["SUCCESS", "FAILED", "SUCCESS"]
    assert "at least 10 rows" in details.first_error_details["message"]
    assert flow.get_dataset("copy").get_data_quality_rules().get_status()["outcome"] == "ERROR"


def test_a_failing_build_fails_the_run(flow: DSSProject) -> None:
    recipe(flow, "sync", ["copy"], "copy2")  # copy was never built: RECURSIVE builds it first
    scenario = step_scenario(flow, "Two levels", build("copy2"))
    assert scenario.run_and_wait().outcome == "SUCCESS"
    assert len(rows(flow, "copy2")) == 3
    broken = flow.new_recipe("python")
    broken.with_input("orders")
    broken.with_new_output_dataset("bad", "filesystem_managed")
    broken.with_script("raise SystemExit('no luck')\n")
    broken.create()
    run = step_scenario(flow, "Broken", build("bad")).run_and_wait(no_fail=True)
    assert run.outcome == "FAILED"
    assert "no luck" in run.get_details().first_error_details["message"]


@pytest.mark.skipif(AGAINST_REAL_DSS, reason="DSS runs every step type; the simulator reports the others NOT RUN")
def test_step_types_not_executed_are_reported_not_run(flow: DSSProject) -> None:
    sql = {"type": "exec_sql", "name": "sql", "params": {"connection": "x", "sql": "select 1"}}
    run = step_scenario(flow, "Unsupported", sql).run_and_wait(no_fail=True)
    assert run.outcome == "WARNING"
    (step,) = run.get_details().steps
    assert step["result"]["notRun"] is True and step["result"]["thrown"]["message"].startswith("NOT RUN")


def test_a_running_scenario_shows_running_and_can_be_aborted(flow: DSSProject) -> None:
    scenario = step_scenario(flow, "Slow", python("import time\ntime.sleep(600)\n"))
    fire = scenario.run()
    run = fire.wait_for_scenario_run()
    assert run.running
    assert scenario.get_status().running is True
    assert scenario.get_current_run().id == run.id
    scenario.abort()
    deadline = time.monotonic() + 60
    while run.running and time.monotonic() < deadline:
        run.refresh()
        time.sleep(0.05)
    assert run.outcome == "ABORTED"
    assert scenario.get_status().running is False
    assert [r.id for r in scenario.get_last_runs(only_finished_runs=True)] == [run.id]


def test_run_log_has_the_steps_output(flow: DSSProject) -> None:
    run = step_scenario(flow, "Talks", python("print('hello from the step')\n")).run_and_wait()
    assert "hello from the step" in run.get_log()
