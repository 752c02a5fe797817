"""Data tests as DSS data quality rules: the documents dss-iac writes into a dataset's `metricsChecks.checks` (the
list DSS 12.6+ keeps its data quality rules in), and how a rule's outcome reads as a test status.

Each test becomes one rule whose id is `dssiac_<test name>`: dss-iac recognises its own rules by that prefix and
never touches the others (rules made in the DSS UI). Rule types and keys follow DSS's: RecordCountInRangeRule,
ColumnNotEmptyRule, ColumnUniqueValuesRule, ValuesInSetRule, ValuesInRangeRule take `columns`, bounds as
`minimum`/`softMinimum`/... with their `...Enabled` flags; freshness, SQL and Python tests are `python` rules
(`code`, `envSelection`), the code written by dss-iac for the first two.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..config.testing_models import Bounds, DataTest, seconds

RULE_PREFIX = "dssiac_"
# DSS outcome -> test status. EMPTY: the rule could not be evaluated (no value).
OUTCOMES = {"OK": "passed", "SUCCESS": "passed", "WARNING": "warning", "ERROR": "failed", "FAILED": "failed",
            "EMPTY": "error"}
PYTHON_ENV = {"envMode": "INHERIT"}
_BOUNDS = (("min", "minimum"), ("max", "maximum"), ("warn_min", "softMinimum"), ("warn_max", "softMaximum"))


def rule_id(test_name: str) -> str:
    return RULE_PREFIX + test_name


def is_managed(rule: Any) -> bool:
    return isinstance(rule, dict) and str(rule.get("id") or "").startswith(RULE_PREFIX)


def _bounds(b: Bounds) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ours, theirs in _BOUNDS:
        value = getattr(b, ours)
        out[theirs] = 0 if value is None else value
        out[f"{theirs}Enabled"] = value is not None
    return out


def _python(code: str) -> dict[str, Any]:
    return {"code": code, "envSelection": dict(PYTHON_ENV)}


def rule_of(test: DataTest) -> dict[str, Any]:
    """The DSS rule document of a data test (the managed keys only; DSS adds its own)."""
    name = test.test_name
    doc: dict[str, Any] = {"id": rule_id(name), "displayName": name, "enabled": True}
    kind = test.type
    if test.row_count is not None:
        doc.update(type="RecordCountInRangeRule", **_bounds(test.row_count))
    elif test.not_null is not None:
        doc.update(type="ColumnNotEmptyRule", columns=[test.not_null], thresholdType="ENTIRE_COLUMN_NOT_EMPTY")
    elif test.unique is not None:
        doc.update(type="ColumnUniqueValuesRule", columns=[test.unique], thresholdType="ENTIRE_COLUMN")
    elif test.accepted_values is not None:
        doc.update(type="ValuesInSetRule", columns=[test.accepted_values.column],
                   valueSet=[str(v) for v in test.accepted_values.values])
    elif test.range is not None:
        doc.update(type="ValuesInRangeRule", columns=[test.range.column], **_bounds(test.range))
    elif test.freshness is not None:
        f = test.freshness
        doc.update(type="python", **_python(freshness_code(
            f.column, None if f.warn_after is None else seconds(f.warn_after),
            None if f.error_after is None else seconds(f.error_after))))
    elif test.sql is not None:
        doc.update(type="python", **_python(sql_code(test.sql)))
    elif test.python is not None:
        doc.update(type="python", **_python(test.python.script))
    else:  # pragma: no cover - the model requires one test type
        raise AssertionError(kind)
    return doc


def rules_of(tests: list[DataTest]) -> dict[str, dict[str, Any]]:
    """test name -> rule document: the `data_quality` field of a dataset."""
    return {t.test_name: rule_of(t) for t in tests}


def managed_rules(checks: Any) -> dict[str, dict[str, Any]]:
    """The rules dss-iac made, read back from a `metricsChecks.checks` list, on the keys it writes."""
    out: dict[str, dict[str, Any]] = {}
    for rule in checks if isinstance(checks, list) else []:
        if not is_managed(rule):
            continue
        name = str(rule["id"])[len(RULE_PREFIX):]
        out[name] = {k: rule.get(k) for k in _keys_of(rule)}
    return out


def _keys_of(rule: dict[str, Any]) -> list[str]:
    keys = ["id", "displayName", "enabled", "type"]
    kind = rule.get("type")
    if kind in ("RecordCountInRangeRule", "ValuesInRangeRule"):
        keys += [k for _, theirs in _BOUNDS for k in (theirs, f"{theirs}Enabled")]
    if kind in ("ColumnNotEmptyRule", "ColumnUniqueValuesRule", "ValuesInSetRule", "ValuesInRangeRule"):
        keys.append("columns")
    if kind in ("ColumnNotEmptyRule", "ColumnUniqueValuesRule"):
        keys.append("thresholdType")
    if kind == "ValuesInSetRule":
        keys.append("valueSet")
    if kind == "python":
        keys += ["code", "envSelection"]
    return keys


def write_rules(metrics_checks: dict[str, Any], wanted: dict[str, dict[str, Any]], removed: tuple[str, ...],
                authoritative: bool) -> None:
    """Write the managed rules into a dataset's `metricsChecks` (read-merge-write): a wanted rule updates the one
    with its id in place (keeping DSS's keys) or is added; a rule the plan removes (or, when `authoritative`, any
    managed rule not wanted) is taken out; rules dss-iac did not make are left as they are."""
    checks = metrics_checks.get("checks")
    if not isinstance(checks, list):
        checks = metrics_checks["checks"] = []
    gone = {rule_id(name) for name in removed}
    checks[:] = merge_rules(checks, {rule_id(name): doc for name, doc in wanted.items()},
                            lambda rule: rule.get("id") in gone or (authoritative and is_managed(rule)))


def merge_rules(checks: list[Any], wanted: dict[str, dict[str, Any]],
                drop: Callable[[dict[str, Any]], bool]) -> list[Any]:
    """`checks` (a `metricsChecks.checks` list) with each `wanted` rule (by id) updated in place, keeping DSS's
    keys, or added at the end, and the other rules that `drop` says go taken out."""
    wanted = dict(wanted)
    kept: list[Any] = []
    for rule in checks:
        rid = rule.get("id") if isinstance(rule, dict) else None
        if rid in wanted:
            doc = wanted.pop(rid)
            if rule.get("type") != doc["type"]:
                rule.clear()  # another kind of rule under the same name: nothing of the old one applies
            rule.update(doc)
            kept.append(rule)
        elif not (isinstance(rule, dict) and drop(rule)):
            kept.append(rule)
    return kept + [dict(doc) for doc in wanted.values()]


def freshness_code(column: str | None, warn_after: float | None, error_after: float | None) -> str:
    """The Python rule DSS runs for a freshness test: the age of the newest value of `column`, or of the last
    build, against the limits (seconds)."""
    newest = (f"    import pandas as pd\n"
              f"    values = pd.to_datetime(dataset.get_dataframe(columns=[{column!r}])[{column!r}], utc=True)\n"
              f"    newest = values.max()\n"
              f"    if pd.isna(newest):\n"
              f"        return 'ERROR', 'column {column} has no value'\n"
              f"    newest = newest.to_pydatetime()\n") if column else (
              "    import dataiku\n"
              "    project_key, name = dataset.full_name.split('.', 1)\n"
              "    info = dataiku.api_client().get_project(project_key).get_dataset(name).get_info()\n"
              "    newest = info.last_build_end_time\n"
              "    if newest is None:\n"
              "        return 'ERROR', 'the dataset was never built'\n")
    what = f"newest {column}" if column else "last build"
    return ("# Written by dss-iac from a `freshness` data test: edit the test in Git, not here.\n"
            "def process(last_values, dataset, partition_id):\n"
            "    import datetime\n"
            f"{newest}"
            "    if newest.tzinfo is None:\n"
            "        newest = newest.replace(tzinfo=datetime.timezone.utc)\n"
            "    age = (datetime.datetime.now(datetime.timezone.utc) - newest).total_seconds()\n"
            f"    message = '{what} is %.1f hours old' % (age / 3600)\n"
            f"    if {error_after!r} is not None and age > {error_after!r}:\n"
            "        return 'ERROR', message\n"
            f"    if {warn_after!r} is not None and age > {warn_after!r}:\n"
            "        return 'WARNING', message\n"
            "    return 'OK', message\n")


def sql_code(check: Any) -> str:
    """The Python rule DSS runs for a `sql` data test: the query on the dataset's connection, its first value against
    the bounds. `${DKU_DATASET_TABLE_NAME}` in the query is the dataset's table, as in DSS's SQL probes."""
    bounds = {k: getattr(check, k) for k, _ in _BOUNDS}
    return ("# Written by dss-iac from a `sql` data test: edit the test in Git, not here.\n"
            f"QUERY = {json.dumps(check.query)}\n"
            f"BOUNDS = {bounds!r}\n\n"
            "def process(last_values, dataset, partition_id):\n"
            "    from dataiku import SQLExecutor2\n"
            "    table = dataset.get_location_info()['info']['quotedResolvedTableName']\n"
            "    query = QUERY.replace('${DKU_DATASET_TABLE_NAME}', table)\n"
            "    value = float(SQLExecutor2(dataset=dataset).query_to_df(query).iloc[0, 0])\n"
            "    message = 'the query returned %g' % value\n"
            "    if BOUNDS['min'] is not None and value < BOUNDS['min'] or \\\n"
            "            BOUNDS['max'] is not None and value > BOUNDS['max']:\n"
            "        return 'ERROR', message\n"
            "    if BOUNDS['warn_min'] is not None and value < BOUNDS['warn_min'] or \\\n"
            "            BOUNDS['warn_max'] is not None and value > BOUNDS['warn_max']:\n"
            "        return 'WARNING', message\n"
            "    return 'OK', message\n")
