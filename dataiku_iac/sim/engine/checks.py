"""Checks and data quality rules, judged on metric values computed from the dataset's files.

A check (`metricsChecks.checks`, and the data quality rules that DSS keeps in the same list) yields an
outcome OK, WARNING, ERROR or EMPTY (no value to judge) and a message. Types the simulator does not evaluate
(Python checks, drift rules, meaning validity, metric comparisons...) yield EMPTY with `notRun: true` and a
message starting "NOT RUN": never OK.

Rule parameters follow payloads observed on DSS 14 (public references, not a live DSS here): column rules
take `columns`; set rules `valueSet` (the metric check `valueSet` takes `values`), `TopValuesInSetRule` also
`topN`; empty and unique rules a `thresholdType`; schema rules `expectedSchema.columns`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .metrics import MetricDef, Value, by_id, probe_metrics

OUTCOMES = ("OK", "WARNING", "ERROR", "EMPTY")  # "EMPTY": the value to judge is missing
_STAT_RULES = {"ColumnMinInRangeRule": "MIN", "ColumnMaxInRangeRule": "MAX", "ColumnAvgInRangeRule": "AVG",
               "ColumnSumInRangeRule": "SUM", "ColumnMedianInRangeRule": "MEDIAN",
               "ColumnStdDevInRangeRule": "STDDEV"}
_SCHEMA_RULES = ("DatasetSchemaContainsRule", "DatasetSchemaEqualsRule")
RULE_TYPES = ("numericRange", "valueSet", "RecordCountInRangeRule", "ColumnCountInRangeRule", "FileSizeInRangeRule",
              *_STAT_RULES, "ColumnNotEmptyRule", "ColumnEmptyRule", "ColumnUniqueValuesRule", "ValuesInSetRule",
              "ValuesInRangeRule", "ModeValueInSetRule", "TopValuesInSetRule", *_SCHEMA_RULES)
TOP_VALUES = 10  # TopValuesInSetRule judges at most the adv_col_stats TOP10 metric's values


@dataclass
class Result:
    outcome: str
    message: str
    not_run: bool = False

    def doc(self) -> dict[str, Any]:
        out: dict[str, Any] = {"outcome": self.outcome, "message": self.message}
        if self.not_run:
            out["notRun"] = True
        return out


def check_name(check: dict[str, Any]) -> str:
    meta = check.get("meta") or {}
    return str(check.get("displayName") or meta.get("label") or meta.get("name") or check.get("type") or "check")


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def in_range(value: Any, check: dict[str, Any], what: str = "Value") -> Result:
    """DSS's range rule: outside a hard bound is ERROR, outside a soft bound WARNING, else OK."""
    number = _num(value)
    if number is None:
        return Result("EMPTY", f"{what} is missing" if value is None else f"{what} {value} is not a number")
    shown = format(number, "g")
    for key, outcome, below in (("minimum", "ERROR", True), ("maximum", "ERROR", False),
                                ("softMinimum", "WARNING", True), ("softMaximum", "WARNING", False)):
        bound = _num(check.get(key))
        if not check.get(key + "Enabled") or bound is None:
            continue
        if (number < bound) if below else (number > bound):
            side = "below the" if below else "above the"
            label = {"minimum": "minimum", "maximum": "maximum", "softMinimum": "soft minimum",
                     "softMaximum": "soft maximum"}[key]
            return Result(outcome, f"{what} {shown} is {side} {label} {format(bound, 'g')}")
    return Result("OK", f"{what} {shown} is in range")


def _in_set(value: Any, allowed: list[Any], what: str) -> Result:
    if value is None:
        return Result("EMPTY", f"{what} is missing")
    texts = {str(v) for v in allowed}
    if str(value) in texts or (_num(value) is not None and any(_num(v) == _num(value) for v in allowed)):
        return Result("OK", f"{what} {value} is in the set")
    return Result("ERROR", f"{what} {value} is not in {sorted(texts)}")


def _worst(results: list[Result]) -> Result:
    rank = {"OK": 0, "EMPTY": 1, "WARNING": 2, "ERROR": 3}
    worst = max(results, key=lambda r: rank[r.outcome])
    message = "; ".join(r.message for r in results)
    return Result(worst.outcome, message, any(r.not_run for r in results))


def needed_metrics(check: dict[str, Any]) -> list[MetricDef]:
    """The metrics a data quality rule computes for itself from the data."""
    ctype = check.get("type")
    columns = [str(c) for c in check.get("columns") or ([check["column"]] if check.get("column") else [])]

    def stats(*aggs: str, probe: str = "col_stats") -> list[MetricDef]:
        return probe_metrics({"type": probe, "configuration": {"aggregates": [
            {"aggregated": a, "column": c} for c in columns for a in aggs]}})

    if ctype in ("numericRange", "valueSet"):  # a metric check made a rule computes its metric when asked to
        metric = by_id(str(check.get("metricId"))) if check.get("autoComputeMetric") else None
        return [metric] if metric else []
    if ctype == "RecordCountInRangeRule":
        return probe_metrics({"type": "records"})
    if ctype in ("ColumnCountInRangeRule", "FileSizeInRangeRule"):
        return probe_metrics({"type": "basic"})
    if ctype in _STAT_RULES:
        return stats(_STAT_RULES[ctype])
    if ctype in ("ColumnNotEmptyRule", "ColumnEmptyRule"):
        return [*probe_metrics({"type": "records"}), *stats("COUNT_NULL")]
    if ctype == "ColumnUniqueValuesRule":
        return stats("COUNT", "COUNT_DISTINCT")
    if ctype == "ModeValueInSetRule":
        return stats("MODE", probe="adv_col_stats")
    if ctype == "TopValuesInSetRule":
        return stats("TOP10", probe="adv_col_stats")
    return []


Lookup = Callable[[str], Value | None]
RowCount = Callable[[str, str], int | None]  # (column, SQL condition on it) -> rows matching, None if unknown


def evaluate(check: dict[str, Any], metric: Lookup, violations: RowCount,
             schema: list[dict[str, Any]] | None = None) -> Result:
    """Judge one check or rule. `metric(id)` gives a metric's value; `violations(col, cond)` counts bad rows;
    `schema` is the dataset's schema columns."""
    ctype = str(check.get("type") or "")
    columns = [str(c) for c in check.get("columns") or ([check["column"]] if check.get("column") else [])]
    allowed = list(check.get("valueSet") or [])

    def value(metric_id: str) -> Any:
        found = metric(metric_id)
        return None if found is None else found.value

    if ctype == "numericRange":
        return in_range(value(str(check.get("metricId"))), check, f"Metric {check.get('metricId')}")
    if ctype == "valueSet":
        return _in_set(value(str(check.get("metricId"))), list(check.get("values") or []),
                       f"Metric {check.get('metricId')}")
    if ctype == "RecordCountInRangeRule":
        return in_range(value("records:COUNT_RECORDS"), check, "Record count")
    if ctype == "ColumnCountInRangeRule":
        return in_range(value("basic:COUNT_COLUMNS"), check, "Column count")
    if ctype == "FileSizeInRangeRule":
        return in_range(value("basic:SIZE"), check, "File size")
    if ctype in _SCHEMA_RULES:
        return _schema_rule(ctype, check, schema or [])
    if not columns and ctype in RULE_TYPES:
        return Result("EMPTY", f"{ctype} names no column")
    if ctype in _STAT_RULES:
        agg = _STAT_RULES[ctype]
        return _worst([in_range(value(f"col_stats:{agg}:{c}"), check, f"{agg} of {c}") for c in columns])
    if ctype in ("ColumnNotEmptyRule", "ColumnEmptyRule"):
        return _worst([_empty_rule(ctype, check, value(f"col_stats:COUNT_NULL:{c}"), value("records:COUNT_RECORDS"),
                                   c) for c in columns])
    if ctype == "ColumnUniqueValuesRule":
        return _worst([_unique_rule(check, value(f"col_stats:COUNT:{c}"), value(f"col_stats:COUNT_DISTINCT:{c}"), c)
                       for c in columns])
    if ctype == "ValuesInSetRule":
        listed = ", ".join(_sql_text(v) for v in allowed) or "NULL"
        return _worst([_violations(violations(c, f"CAST({{c}} AS VARCHAR) NOT IN ({listed})"), c, "not in the set")
                       for c in columns])
    if ctype == "ValuesInRangeRule":
        return _worst([_range_violations(check, c, violations) for c in columns])
    if ctype == "ModeValueInSetRule":
        return _worst([_in_set(value(f"adv_col_stats:MODE:{c}"), allowed, f"Most frequent value of {c}")
                       for c in columns])
    if ctype == "TopValuesInSetRule":
        return _worst([_top_values(value(f"adv_col_stats:TOP10:{c}"), check, allowed, c) for c in columns])
    return Result("EMPTY", f"NOT RUN: {ctype or 'this'} checks are not evaluated by the simulator", not_run=True)


def _sql_text(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _violations(count: int | None, column: str, what: str) -> Result:
    if count is None:
        return Result("EMPTY", f"Column {column} could not be read")
    return Result("OK" if count == 0 else "ERROR",
                  f"{count} value(s) of {column} {what}" if count else f"All values of {column} pass")


def _range_violations(check: dict[str, Any], column: str, violations: RowCount) -> Result:
    results = []
    for key, outcome, op in (("minimum", "ERROR", "<"), ("maximum", "ERROR", ">"),
                             ("softMinimum", "WARNING", "<"), ("softMaximum", "WARNING", ">")):
        bound = _num(check.get(key))
        if check.get(key + "Enabled") and bound is not None:
            count = violations(column, f"TRY_CAST({{c}} AS DOUBLE) {op} {bound!r}")
            if count is None:
                return Result("EMPTY", f"Column {column} could not be read")
            if count:
                results.append(Result(outcome, f"{count} value(s) of {column} {op} {format(bound, 'g')}"))
    return _worst(results) if results else Result("OK", f"All values of {column} are in range")


def _top_values(top: Any, check: dict[str, Any], allowed: list[Any], column: str) -> Result:
    n = int(_num(check.get("topN")) or TOP_VALUES)
    if n > TOP_VALUES:
        return Result("EMPTY", f"NOT RUN: the simulator judges at most the top {TOP_VALUES} values", not_run=True)
    if top is None:
        return Result("EMPTY", f"Column {column} has no values")
    outside = [v for v in top[:n] if str(v) not in {str(a) for a in allowed}]
    if outside:
        return Result("ERROR", f"Top values of {column} not in the set: {outside}")
    return Result("OK", f"Top {n} values of {column} are in the set")


def _threshold(check: dict[str, Any]) -> str | None:
    mode = check.get("thresholdType")
    return str(mode) if mode else None


def _empty_rule(ctype: str, check: dict[str, Any], empty: Any, total: Any, column: str) -> Result:
    """ENTIRE_COLUMN_NOT_EMPTY / ENTIRE_COLUMN_EMPTY, or the bounds on a count (`..._COUNT_...`) or a
    percentage (`..._PERCENTAGE_...`) of the empty values (of the filled ones when the type says NOT_EMPTY)."""
    mode = _threshold(check)
    if mode is None:
        return Result("ERROR", "Threshold type cannot be null")
    if empty is None or total is None:
        return Result("EMPTY", f"Column {column} could not be counted")
    empty, total = int(empty), int(total)
    shown = f"Column {column} has {empty} empty value(s) out of {total}"
    if mode == "ENTIRE_COLUMN_NOT_EMPTY":
        return Result("OK" if empty == 0 else "ERROR", shown)
    if mode == "ENTIRE_COLUMN_EMPTY":
        return Result("OK" if empty == total else "ERROR", shown)
    counted, what = (total - empty, "Filled") if mode.endswith("NOT_EMPTY") else (empty, "Empty")
    if "_COUNT_" in f"_{mode}_":
        return in_range(counted, check, f"{what} values of {column}")
    if "_PERCENTAGE_" in f"_{mode}_":
        return in_range(100.0 * counted / total if total else 0.0, check, f"{what} values (%) of {column}")
    return Result("EMPTY", f"NOT RUN: threshold type {mode} is not evaluated by the simulator", not_run=True)


def _unique_rule(check: dict[str, Any], count: Any, distinct: Any, column: str) -> Result:
    """ENTIRE_COLUMN: no duplicate; MIN_COUNT / MIN_PERCENTAGE: bounds on the distinct values among the filled."""
    if count is None or distinct is None:
        return Result("EMPTY", f"Column {column} could not be counted")
    count, distinct = int(count), int(distinct)
    mode = _threshold(check) or "ENTIRE_COLUMN"
    if mode == "ENTIRE_COLUMN":
        dupes = count - distinct
        return Result("OK" if dupes == 0 else "ERROR", f"Column {column} has {dupes} duplicated value(s)"
                      if dupes else f"Column {column} values are unique")
    if mode.endswith("COUNT"):
        return in_range(distinct, check, f"Unique values of {column}")
    if mode.endswith("PERCENTAGE"):
        return in_range(100.0 * distinct / count if count else 0.0, check, f"Unique values (%) of {column}")
    return Result("EMPTY", f"NOT RUN: threshold type {mode} is not evaluated by the simulator", not_run=True)


def _schema_rule(ctype: str, check: dict[str, Any], schema: list[dict[str, Any]]) -> Result:
    """Contains: every expected column is there (with its type when one is given); Equals: also nothing else,
    in the same order."""
    expected = [c for c in ((check.get("expectedSchema") or {}).get("columns") or []) if isinstance(c, dict)]
    actual = {str(c.get("name")): str(c.get("type") or "") for c in schema}
    problems = []
    for col in expected:
        name, wanted = str(col.get("name")), str(col.get("type") or "")
        if name not in actual:
            problems.append(f"column {name} is missing")
        elif wanted and actual[name] != wanted:
            problems.append(f"column {name} is {actual[name]}, not {wanted}")
    if ctype == "DatasetSchemaEqualsRule":
        names = [str(c.get("name")) for c in expected]
        problems += [f"column {n} is not expected" for n in actual if n not in names]
        if not problems and list(actual) != names:
            problems.append("columns are not in the expected order")
    if problems:
        return Result("ERROR", "Schema: " + "; ".join(problems))
    return Result("OK", "Schema " + ("equals" if ctype == "DatasetSchemaEqualsRule" else "contains")
                  + " the expected columns")
