"""A scenario step's run condition and retries (DSS's runConditionType, runConditionStatuses,
runConditionExpression, maxRetriesOnFail, delayBetweenRetries): declared on the step, applied, re-planned empty,
drift when changed in DSS, adopted, and written by import; a conditional step without its condition is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes, imported_anew

PROJECT = """\
project: {key: RUNS, name: Run conditions}
datasets:
  src: {type: Filesystem, connection: filesystem_managed, params: {path: /src}}
scenarios:
  nightly:
    steps:
      - {type: build, items: [src], max_retries: 2, retry_delay: 30}
      - {type: sql, connection: filesystem_managed, sql: VACUUM, run_condition: RUN_ALWAYS}
      - {type: set_project_variables, variables: {failed: true}, run_statuses: [FAILED]}
      - type: python
        code: ../code/notify.py
        run_condition: RUN_CONDITIONALLY
        run_expression: "outcome == 'WARNING'"
"""
FILES = {"code/notify.py": "print('notify')\n"}


def _steps(ws: Workspace) -> list[dict]:
    return ws.connection("dev").client.get_project("RUNS").get_scenario("NIGHTLY").get_settings().raw_steps


def test_run_conditions_and_retries_are_applied_and_replan_empty(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"runs": PROJECT}, files=FILES)
    apply_ok(ws)
    steps = _steps(ws)
    assert [(s["runConditionType"], s["runConditionStatuses"], s["runConditionExpression"],
             s["maxRetriesOnFail"], s["delayBetweenRetries"]) for s in steps] == [
        ("RUN_IF_STATUS_MATCH", ["SUCCESS", "WARNING"], "", 2, 30),
        ("RUN_ALWAYS", ["SUCCESS", "WARNING"], "", 0, 10),  # DSS's defaults
        ("RUN_IF_STATUS_MATCH", ["FAILED"], "", 0, 10),
        ("RUN_CONDITIONALLY", ["SUCCESS", "WARNING"], "outcome == 'WARNING'", 0, 10)]
    assert changes(ws) == []


def test_a_change_in_dss_is_drift_adopted_into_the_step(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"runs": PROJECT}, files=FILES)
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("RUNS").get_scenario("NIGHTLY").get_settings()
    settings.raw_steps[0]["maxRetriesOnFail"] = 5
    settings.raw_steps[1]["runConditionType"] = "RUN_IF_STATUS_MATCH"
    settings.save()
    [item] = ws.drift("dev").items
    assert sorted((c.path, c.before, c.after) for c in item.changes) == [
        ("steps.0.max_retries", 2, 5), ("steps.1.run_condition", "RUN_ALWAYS", "RUN_IF_STATUS_MATCH")]
    ws.adopt("dev", item)
    text = (ws.root / "projects" / "runs.yaml").read_text()
    assert "max_retries: 5" in text and "RUN_ALWAYS" not in text
    ws = make_workspace()
    assert changes(ws) == [] and not ws.drift("dev").items


def test_import_writes_what_differs_from_dss_defaults(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"runs": PROJECT}, files=FILES)
    apply_ok(ws)
    text = imported_anew(ws, "RUNS")
    assert "max_retries: 2" in text and "retry_delay: 30" in text and "run_condition: RUN_ALWAYS" in text
    assert "run_expression: outcome == 'WARNING'" in text and "- FAILED" in text
    assert text.count("run_condition:") == 2 and "run_statuses:\n" in text and "- SUCCESS" not in text


def test_a_conditional_step_needs_its_condition(make_workspace: Callable[..., Workspace]) -> None:
    with pytest.raises(ConfigError) as e:
        make_workspace({"runs": PROJECT.replace('''        run_expression: "outcome == 'WARNING'"\n''', "")},
                       files=FILES)
    assert "a RUN_CONDITIONALLY step needs `run_expression`" in e.value.render()
