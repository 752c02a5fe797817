"""The range rule every numeric check and rule uses: hard bounds give ERROR, soft bounds WARNING."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dataiku_iac.sim.engine.checks import evaluate, in_range
from dataiku_iac.sim.engine.metrics import Value

NUMBER = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
BOUND = st.one_of(st.none(), NUMBER)


@given(value=NUMBER, minimum=BOUND, soft_min=BOUND, soft_max=BOUND, maximum=BOUND)
def test_range_outcome(value: float, minimum: float | None, soft_min: float | None, soft_max: float | None,
                       maximum: float | None) -> None:
    check = {}
    for key, bound in (("minimum", minimum), ("softMinimum", soft_min), ("softMaximum", soft_max),
                       ("maximum", maximum)):
        check[key + "Enabled"] = bound is not None
        check[key] = bound if bound is not None else 0.0
    outcome = in_range(value, check).outcome
    hard = (minimum is not None and value < minimum) or (maximum is not None and value > maximum)
    soft = (soft_min is not None and value < soft_min) or (soft_max is not None and value > soft_max)
    assert outcome == ("ERROR" if hard else "WARNING" if soft else "OK")


def test_a_missing_value_is_empty_and_unknown_types_are_not_run() -> None:
    assert in_range(None, {"minimum": 1, "minimumEnabled": True}).outcome == "EMPTY"
    result = evaluate({"type": "DriftRecordCountRule"}, lambda _: None, lambda c, q: None)
    assert (result.outcome, result.not_run) == ("EMPTY", True) and result.message.startswith("NOT RUN")
    assert evaluate({"type": "numericRange", "metricId": "m", "maximum": 1, "maximumEnabled": True},
                    lambda _: Value(2, "BIGINT"), lambda c, q: None).outcome == "ERROR"


@given(total=st.integers(min_value=1, max_value=1000), data=st.data(), limit=st.floats(min_value=0, max_value=100))
def test_empty_rule_thresholds(total: int, data: st.DataObject, limit: float) -> None:
    empty = data.draw(st.integers(min_value=0, max_value=total))
    values = {"col_stats:COUNT_NULL:c": Value(empty, "BIGINT"), "records:COUNT_RECORDS": Value(total, "BIGINT")}

    def outcome(rule: dict[str, object]) -> str:
        return evaluate({"columns": ["c"], **rule}, values.get, lambda c, q: None).outcome

    assert outcome({"type": "ColumnNotEmptyRule", "thresholdType": "ENTIRE_COLUMN_NOT_EMPTY"}) == (
        "OK" if empty == 0 else "ERROR")
    assert outcome({"type": "ColumnEmptyRule", "thresholdType": "ENTIRE_COLUMN_EMPTY"}) == (
        "OK" if empty == total else "ERROR")
    bounded = {"maximum": limit, "maximumEnabled": True}
    assert outcome({"type": "ColumnNotEmptyRule", "thresholdType": "MAX_PERCENTAGE_EMPTY", **bounded}) == (
        "ERROR" if 100.0 * empty / total > limit else "OK")
    assert outcome({"type": "ColumnEmptyRule", "thresholdType": "MIN_COUNT_EMPTY", "minimum": limit,
                    "minimumEnabled": True}) == ("ERROR" if empty < limit else "OK")
    assert outcome({"type": "ColumnNotEmptyRule"}) == "ERROR"  # DSS: "Threshold type cannot be null"
