"""Live tests on the embedded DSS, through dataikuapi: test scenarios run and their step results read, data tests
computed by DSS from the data a Python recipe writes, builds through DSS jobs, and the reports and exit codes
a user sees."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main
from tests.engine.conftest import apply_ok

# A Python recipe writes the orders (the canonical dataiku API: schema, then rows); a test scenario builds them.
SHOP = """\
project: {key: SHOP, name: Shop}
datasets:
  orders:
    type: Filesystem
    managed: true
    connection: filesystem_managed
    format: csv
    tests:
      - row_count: {min: 1, warn_max: 3}
      - unique: id
      - not_null: customer
      - range: {column: amount, min: 0}
  orders_copy: {type: Filesystem, managed: true, connection: filesystem_managed, format: csv}
recipes:
  make_orders: {type: python, inputs: [], outputs: [orders], code: ../recipes/make_orders.py}
  copy_orders: {type: sync, inputs: [orders], outputs: [orders_copy]}
scenarios:
  smoke:
    test: true
    steps: [{type: build, items: [orders_copy]}]
  nightly:
    steps: [{type: build, items: [orders]}]
"""
ROWS = [{"id": 1, "customer": "alice", "amount": 2.5}, {"id": 2, "customer": "bob", "amount": 3.0}]
MAKE_ORDERS = """\
import dataiku

orders = dataiku.Dataset("orders")
orders.write_schema([{"name": "id", "type": "bigint"}, {"name": "customer", "type": "string"},
                     {"name": "amount", "type": "double"}])
with orders.get_writer() as writer:
    for row in ROWS:
        writer.write_row_dict(row)
"""


def _files(rows: list[dict[str, object]] = ROWS) -> dict[str, str]:
    return {"recipes/make_orders.py": f"ROWS = {rows!r}\n" + MAKE_ORDERS}


def _applied(make_workspace: Callable[..., Workspace], workspace_yaml: str | None = None,
             rows: list[dict[str, object]] = ROWS) -> Workspace:
    kwargs = {"workspace_yaml": workspace_yaml} if workspace_yaml else {}
    ws = make_workspace({"shop": SHOP}, files=_files(rows), **kwargs)
    apply_ok(ws)
    ws.close()  # the CLI opens the embedded DSS in its turn; the workspace reopens it when used again
    return ws


def test_a_test_scenario_runs_and_its_steps_are_reported(make_workspace: Callable[..., Workspace],
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _applied(make_workspace)
    assert main(["-C", str(tmp_path), "test", "-e", "dev", "--json"]) in (0, 7)
    run = json.loads(capsys.readouterr().out)
    smoke = next(r for r in run["results"] if r["suite"] == "scenario")
    assert (smoke["name"], smoke["target"], smoke["location"]) == ("SHOP.smoke", "scenario.SHOP.smoke",
                                                                   "projects/shop.yaml:18:3")
    assert smoke["status"] == "passed", smoke
    assert smoke["details"] == ["step 'Build orders_copy': SUCCESS"]
    assert [r["name"] for r in run["results"] if r["suite"] == "scenario"] == ["SHOP.smoke"]  # nightly is no test


def test_a_failing_test_scenario_fails_the_run_with_the_step_that_failed(
        make_workspace: Callable[..., Workspace], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The test that must fail, and does: what the scenario builds was deleted in DSS by hand."""
    ws = _applied(make_workspace)
    ws.connection("dev").client.get_project("SHOP").get_dataset("orders_copy").delete()
    ws.close()
    capsys.readouterr()
    assert main(["-C", str(tmp_path), "test", "-e", "dev", "--junit-xml", "out.xml"]) == 7
    out = capsys.readouterr().out
    assert "  FAIL  SHOP.smoke  projects/shop.yaml:18:3" in out
    assert "        FAILED in " in out and "step 'Build orders_copy'" in out
    assert out.splitlines()[-1].startswith("Tests FAILED: ")
    assert '<testcase name="SHOP.smoke" classname="scenario.scenario.SHOP.smoke"' in (tmp_path / "out.xml").read_text()


def test_listed_scenarios_run_as_tests_and_an_unknown_one_is_located(
        make_workspace: Callable[..., Workspace], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    listed = ("version: 1\nprojects: [projects/*.yaml]\nenvironments:\n  dev: {host: embedded}\n"
              "tests:\n  scenarios: [SHOP.nightly]\n")
    _applied(make_workspace, listed)
    capsys.readouterr()
    main(["-C", str(tmp_path), "test", "-e", "dev", "--json"])
    names = [r["name"] for r in json.loads(capsys.readouterr().out)["results"] if r["suite"] == "scenario"]
    assert names == ["SHOP.smoke", "SHOP.nightly"]
    (tmp_path / "dss-iac.yaml").write_text(listed.replace("SHOP.nightly", "SHOP.weekly"))
    assert main(["-C", str(tmp_path), "test", "-e", "dev"]) == 3
    assert capsys.readouterr().err.strip() == ("error: dss-iac.yaml:6:15: tests.scenarios lists 'SHOP.weekly', "
                                               "which is no scenario of the workspace")


def test_a_scenario_not_applied_yet_is_an_error_that_says_so(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"shop": SHOP}, files=_files())
    run = ws.test("dev")
    smoke = next(r for r in run.results if r.suite == "scenario")
    assert (smoke.status, smoke.message) == ("error", "scenario smoke is not in project SHOP: apply the "
                                                      "configuration first")
    assert ws.last_test_run("dev") is not None and not ws.last_test_run("dev").ok  # type: ignore[union-attr]


def test_build_then_data_tests_pass_on_good_data(make_workspace: Callable[..., Workspace]) -> None:
    ws = _applied(make_workspace)
    run = ws.test("dev", build=[])
    by_name = {r.name: r for r in run.results}
    assert by_name["build SHOP"].status == "passed", by_name["build SHOP"]
    assert "built orders_copy" in by_name["build SHOP"].message
    assert {n: by_name[n].status for n in ("orders.row_count", "orders.unique_id", "orders.not_null_customer",
                                           "orders.range_amount")} == dict.fromkeys(
        ("orders.row_count", "orders.unique_id", "orders.not_null_customer", "orders.range_amount"), "passed")
    assert run.ok


def test_bad_data_fails_the_data_tests_that_catch_it(make_workspace: Callable[..., Workspace]) -> None:
    """The data tests that must fail, and do: a duplicated id, an empty customer, a negative amount, too many rows."""
    bad = [*ROWS, {"id": 2, "customer": "", "amount": -1.0}, {"id": 3, "customer": "carol", "amount": 1.0}]
    ws = _applied(make_workspace, rows=bad)
    run = ws.test("dev", build=["orders"])
    status = {r.name: (r.status, r.location) for r in run.results if r.suite == "data"}
    assert status == {"orders.row_count": ("warning", "projects/shop.yaml:9:9"),
                      "orders.unique_id": ("failed", "projects/shop.yaml:10:9"),
                      "orders.not_null_customer": ("failed", "projects/shop.yaml:11:9"),
                      "orders.range_amount": ("failed", "projects/shop.yaml:12:9")}
    assert not run.ok


def test_a_failed_build_fails_the_run_and_skips_what_depends_on_it(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"shop": SHOP}, files={"recipes/make_orders.py": "raise RuntimeError('upstream is down')\n"})
    apply_ok(ws)
    run = ws.test("dev", build=[])
    build = next(r for r in run.results if r.suite == "build")
    assert build.status == "failed" and build.message.startswith("job ") and build.message.endswith(" ended FAILED")
    assert any("upstream is down" in line for line in build.details), build.details
    assert {r.status for r in run.results if r.suite in ("data", "scenario")} == {"skipped"}


def test_build_names_are_checked(make_workspace: Callable[..., Workspace], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    _applied(make_workspace)
    assert main(["-C", str(tmp_path), "test", "-e", "dev", "--build", "ghost"]) == 3
    assert capsys.readouterr().err.strip() == ("error: --build ghost: no project of the workspace has a dataset or "
                                               "folder of that name")
    assert main(["-C", str(tmp_path), "test", "--build"]) == 64
    assert main(["-C", str(tmp_path), "test", "--static", "-e", "dev"]) == 64


# -- what the simulator does not execute is reported "not run", never passed ------------------------------------
# (a real DSS runs all of these; the simulator says NOT RUN, docs/simulator.md)


def test_a_python_data_test_the_simulator_does_not_evaluate_is_not_run(
        make_workspace: Callable[..., Workspace]) -> None:
    checked = SHOP.replace("      - range: {column: amount, min: 0}\n",
                           "      - range: {column: amount, min: 0}\n"
                           "      - name: plausible\n"
                           "        python: {script: \"def process(last_values, dataset, partition_id):\\n"
                           "    return 'OK', 'fine'\\n\"}\n")
    ws = make_workspace({"shop": checked}, files=_files())
    apply_ok(ws)
    run = ws.test("dev", build=["orders"])
    plausible = next(r for r in run.results if r.name == "orders.plausible")
    assert plausible.status == "skipped" and plausible.message.startswith("not run: NOT RUN"), plausible
    assert {r.status for r in run.results if r.suite == "data" and r.name != "orders.plausible"} == {"passed"}


def test_a_scenario_step_the_simulator_does_not_execute_makes_the_scenario_not_run(
        make_workspace: Callable[..., Workspace]) -> None:
    ws = _applied(make_workspace)
    scenario = ws.connection("dev").client.get_project("SHOP").get_scenario("SMOKE")
    settings = scenario.get_settings()
    settings.raw_steps.append({"id": "sql", "type": "exec_sql", "name": "Vacuum", "params": {}})
    settings.save()
    run = ws.test("dev")
    smoke = next(r for r in run.results if r.suite == "scenario")
    assert smoke.status == "skipped", smoke
    assert smoke.message.startswith("not run: WARNING in ") and "step 'Vacuum' was not run (NOT RUN" in smoke.message
    assert smoke.details[0] == "step 'Build orders_copy': SUCCESS"


def test_a_recipe_the_simulator_does_not_build_is_a_build_not_run(make_workspace: Callable[..., Workspace]) -> None:
    with_sql = SHOP.replace("  copy_orders: {type: sync, inputs: [orders], outputs: [orders_copy]}\n",
                            "  copy_orders: {type: sql_query, inputs: [orders], outputs: [orders_copy]}\n")
    ws = make_workspace({"shop": with_sql}, files=_files())
    apply_ok(ws)
    run = ws.test("dev", build=[])
    build = next(r for r in run.results if r.suite == "build")
    assert build.status == "skipped" and build.message.startswith("not run: job "), build
    assert "sql_query is not built by the simulator (NOT RUN)" in build.message
    assert {(r.status, r.message) for r in run.results if r.suite in ("data", "scenario")} == {
        ("skipped", "not run: the build was not run")}
