"""Data quality rules as dss-iac writes them (testing/dq_rules.py), computed by DSS: dataikuapi only.

The rule keys are DSS's as two public DSS clients use them against DSS 14/15: ColumnNotEmptyRule takes
`thresholdType: ENTIRE_COLUMN_NOT_EMPTY` ("no empty value"), ValuesInSetRule takes `valueSet`. On a real DSS
(DSS_IAC_REAL_HOST, DSS 12.6+ for data quality rules) this pins them; the simulator computes them from the files.
"""

from __future__ import annotations

import io
from typing import Any

from dataikuapi import DSSClient

from dataiku_iac.config.testing_models import DataTest
from dataiku_iac.testing.dq_rules import rule_of

ORDERS = "id,status\n1,open\n2,\n3,lost\n"


def _outcomes(dss: DSSClient, project_key: str, tests: list[dict[str, Any]]) -> dict[str, str]:
    project = dss.create_project(project_key, "DQ rules", "admin")
    try:
        dataset = project.create_upload_dataset("orders")
        rules = dataset.get_data_quality_rules()
        dataset.uploaded_add_file(io.BytesIO(ORDERS.encode()), "orders.csv")
        dataset.autodetect_settings().save()
        settings = dataset.get_settings()
        settings.get_raw()["metricsChecks"]["checks"] = [rule_of(DataTest.model_validate(t)) for t in tests]
        settings.save()
        rules.compute_rules().wait_for_result()
        return {r.id: r.outcome for r in rules.get_last_rules_results()}
    finally:
        project.delete()


def test_not_null_and_accepted_values_fail_on_the_rows_that_break_them(dss: DSSClient, project_key: str) -> None:
    outcomes = _outcomes(dss, project_key, [{"not_null": "status"}, {"not_null": "id"},
                                            {"accepted_values": {"column": "status", "values": ["open", "lost"]}},
                                            {"name": "only_open", "accepted_values": {"column": "status",
                                                                                      "values": ["open"]}}])
    assert outcomes == {"dssiac_not_null_status": "ERROR", "dssiac_not_null_id": "OK",
                        "dssiac_accepted_values_status": "OK", "dssiac_only_open": "ERROR"}
