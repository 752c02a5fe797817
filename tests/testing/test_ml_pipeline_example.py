"""examples/ml-pipeline's tests: its static rules pass, its data tests and test scenario are applied to DSS, and
its sample extracts pass the data tests once dropped into dev's embedded DSS."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from dataiku_iac import Workspace
from dataiku_iac.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ml-pipeline"


@pytest.fixture
def ml(tmp_path: Path) -> Path:
    root = tmp_path / "ml-pipeline"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".dss-iac", "__pycache__"))
    return root


def test_the_static_tests_pass(ml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(ml), "test", "--static"]) == 0
    assert "Tests passed: 16 passed, 0 failed" in capsys.readouterr().out


def test_apply_marks_the_test_scenario_and_writes_the_data_quality_rules(ml: Path) -> None:
    with Workspace.load(ml) as ws:
        assert ws.apply(ws.plan("dev")).ok
        project = ws.connection("dev").client.get_project("FEATURES")
        scenarios = {s["id"]: s for s in map(dict, project.list_scenarios())}
        assert scenarios["SMOKE_TEST"]["markedAsTest"] is True
        assert scenarios["DAILY_FEATURES"]["markedAsTest"] is False
        checks = project.get_dataset("customers_raw").get_settings().get_raw()["metricsChecks"]["checks"]
        assert [c["id"] for c in checks] == ["dssiac_row_count", "dssiac_not_null_customer_id",
                                            "dssiac_unique_customer_id", "dssiac_accepted_values_country"]
        assert not ws.plan("dev").has_changes


def test_the_sample_extracts_pass_the_data_tests(ml: Path) -> None:
    with Workspace.load(ml) as ws:
        assert ws.apply(ws.plan("dev")).ok
    script = ml / "sample-data" / "drop_sample_extracts.py"
    spec = importlib.util.spec_from_file_location("drop_sample_extracts", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE = ml / "sample-data"
    assert len(module.main(ml, "dev")) == 2
    with Workspace.load(ml) as ws:
        run = ws.test("dev")
    data = {r.name: r.status for r in run.results if r.suite == "data"}
    assert data == {"customers_raw.row_count": "passed", "customers_raw.not_null_customer_id": "passed",
                    "customers_raw.unique_customer_id": "passed", "customers_raw.accepted_values_country": "passed",
                    "transactions_raw.unique_transaction_id": "passed", "transactions_raw.not_null_customer_id":
                        "passed", "transactions_raw.range_amount": "passed"}
