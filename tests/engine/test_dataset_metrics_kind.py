"""Dataset metrics and checks: probes and metric checks on a dataset, computed by DSS; drift, import, removal."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from dataiku_iac import Workspace
from dataiku_iac.errors import ConfigError
from tests.engine.conftest import apply_ok, changes, imported_anew

PROJECT = """\
project: {key: QUAL, name: Quality}
datasets:
  orders: {type: UploadedFiles, params: {uploadConnection: filesystem_managed}}
dataset_metrics:
  orders:
    metrics:
      records: {on_build: true}
      col_stats: {configuration: {aggregates: [{column: amount, aggregated: MAX}]}}
    checks:
      enough_rows: {metric: "records:COUNT_RECORDS", min: 1, warn_min: 10}
      small_amounts: {metric: "col_stats:MAX:amount", max: 5}
    run_checks_on_build: true
"""
ORDERS = "id,amount\n1,2.5\n2,3\n3,10\n"


def _settings(ws: Workspace) -> dict:
    return ws.connection("dev").client.get_project("QUAL").get_dataset("orders").get_settings().get_raw()


def test_probes_and_checks_are_written_then_replan_is_empty(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"qual": PROJECT})
    order = [a for _, a, _ in changes(ws)]
    assert order.index("dataset.QUAL.orders") < order.index("dataset_metrics.QUAL.orders")
    apply_ok(ws)
    assert changes(ws) == []
    raw = _settings(ws)
    assert [(p["type"], p["computeOnBuildMode"]) for p in raw["metrics"]["probes"]] == [
        ("records", "PARTITION"), ("col_stats", "NO")]
    assert raw["metricsChecks"]["runOnBuild"] is True
    # DSS computes them: the checks judge the data
    dataset = ws.connection("dev").client.get_project("QUAL").get_dataset("orders")
    dataset.uploaded_add_file(io.BytesIO(ORDERS.encode()), "orders.csv")
    dataset.autodetect_settings(infer_storage_types=True).save()
    dataset.compute_metrics()
    outcomes = {r["check"]["displayName"]: r["value"]["outcome"] for r in dataset.run_checks()["results"]}
    assert outcomes == {"enough_rows": "WARNING", "small_amounts": "ERROR"}


def test_a_hand_edit_is_drift_and_removal_takes_the_checks_out(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"qual": PROJECT})
    apply_ok(ws)
    dataset = ws.connection("dev").client.get_project("QUAL").get_dataset("orders")
    settings = dataset.get_settings()
    [check] = [c for c in settings.get_raw()["metricsChecks"]["checks"] if c["displayName"] == "small_amounts"]
    check["maximum"] = 50.0
    settings.get_raw()["metrics"]["probes"][0]["computeOnBuildMode"] = "NO"
    settings.save()
    [item] = ws.drift("dev").items
    assert (item.address, [c.path for c in item.changes]) == (
        "dataset_metrics.QUAL.orders", ["metrics.records.on_build", "checks.small_amounts.maximum"])
    apply_ok(ws)
    assert not ws.drift("dev").has_drift
    ws = make_workspace({"qual": PROJECT.replace("      small_amounts: {metric: \"col_stats:MAX:amount\", max: 5}\n",
                                                 "").replace("      col_stats: {configuration: {aggregates: "
                                                             "[{column: amount, aggregated: MAX}]}}\n", "")})
    assert changes(ws) == [("~", "dataset_metrics.QUAL.orders", ["metrics.col_stats", "checks.small_amounts"])]
    apply_ok(ws)
    raw = _settings(ws)
    assert [p["type"] for p in raw["metrics"]["probes"]] == ["records"]
    assert [c["displayName"] for c in raw["metricsChecks"]["checks"]] == ["enough_rows"]
    assert changes(ws) == []


def test_import_writes_them_and_replans_empty(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"qual": PROJECT})
    apply_ok(ws)
    text = imported_anew(ws, "QUAL")
    assert "dataset_metrics:\n  orders:\n    metrics:\n      records:\n        on_build: true\n" in text, text
    assert "      small_amounts:\n        metric: col_stats:MAX:amount\n        max: 5.0\n" in text
    ws = make_workspace()
    assert changes(ws) == [] and not ws.plan("dev").unmanaged


@pytest.mark.parametrize(("bad", "message"), [
    ("dataset_metrics:\n  orders:", "dataset_metrics:\n  ordres:"),
    ("max: 5}", "max: 5, values: [a]}"),
])
def test_bad_input_is_one_line_at_its_place(make_workspace: Callable[..., Workspace], bad: str,
                                            message: str) -> None:
    with pytest.raises(ConfigError) as e:
        make_workspace({"qual": PROJECT.replace(bad, message)})
    rendered = e.value.render()
    assert rendered.startswith("projects/qual.yaml:") and len(rendered.splitlines()) == 1, rendered


def test_adopting_run_on_build(make_workspace: Callable[..., Workspace]) -> None:
    ws = make_workspace({"qual": PROJECT})
    apply_ok(ws)
    settings = ws.connection("dev").client.get_project("QUAL").get_dataset("orders").get_settings()
    settings.get_raw()["metricsChecks"]["runOnBuild"] = False
    settings.save()
    [item] = ws.drift("dev").items
    ws.adopt("dev", item)
    assert "    run_checks_on_build: false\n" in (ws.root / "projects" / "qual.yaml").read_text()
    assert not ws.drift("dev").items and changes(ws) == []
