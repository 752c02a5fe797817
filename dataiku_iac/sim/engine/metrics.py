"""Dataset metrics computed from the dataset's files: DSS probes (`metrics.probes`) to metric values.

Metric ids are DSS's: `basic:SIZE`, `basic:COUNT_FILES`, `basic:COUNT_COLUMNS`, `records:COUNT_RECORDS`,
`col_stats:<AGG>:<column>`, `adv_col_stats:<MODE|TOP10>:<column>`. Probes of other types (SQL, Python,
partitioning, meaning validity) are not computed: they are reported under `notComputed`, never with a value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb

from .storage import DataError, Location
from .table import Session, format_value, quote

COL_STATS = ("MIN", "MAX", "AVG", "SUM", "STDDEV", "COUNT", "COUNT_NULL", "COUNT_DISTINCT", "MEDIAN")
ADV_COL_STATS = ("MODE", "TOP10")
COMPUTED_PROBES = ("basic", "records", "col_stats", "adv_col_stats")
NUMERIC = ("int", "bigint", "smallint", "tinyint", "float", "double")
# SQL per column aggregate; {c} is the quoted column.
_SQL: dict[str, str] = {
    "MIN": "MIN({c})", "MAX": "MAX({c})", "AVG": "AVG({c})", "SUM": "SUM({c})", "STDDEV": "STDDEV_SAMP({c})",
    "COUNT": "COUNT({c})", "COUNT_NULL": "COUNT(*) - COUNT({c})", "COUNT_DISTINCT": "COUNT(DISTINCT {c})",
    "MEDIAN": "MEDIAN({c})", "MODE": "MODE({c})",
}
_NUMERIC_ONLY = ("AVG", "SUM", "STDDEV", "MEDIAN")


@dataclass(frozen=True)
class MetricDef:
    """One metric a probe defines."""

    id: str
    probe_type: str
    aggregate: str = ""
    column: str = ""

    def doc(self, data_type: str) -> dict[str, Any]:
        out = {"id": self.id, "type": self.probe_type, "metricType": self.aggregate or self.id.split(":")[-1],
               "dataType": data_type}
        if self.column:
            out["column"] = self.column
        return out


def probe_metrics(probe: dict[str, Any]) -> list[MetricDef]:
    """The metrics a probe computes (DSS ids), or [] for probe types the simulator does not compute."""
    ptype = str(probe.get("type") or "")
    if ptype == "basic":
        return [MetricDef(f"basic:{m}", ptype) for m in ("SIZE", "COUNT_FILES", "COUNT_COLUMNS")]
    if ptype == "records":
        return [MetricDef("records:COUNT_RECORDS", ptype)]
    if ptype in ("col_stats", "adv_col_stats"):
        known = COL_STATS if ptype == "col_stats" else ADV_COL_STATS
        out = []
        for agg in (probe.get("configuration") or {}).get("aggregates") or []:
            name, column = str(agg.get("aggregated") or ""), str(agg.get("column") or "")
            if name in known and column:
                out.append(MetricDef(f"{ptype}:{name}:{column}", ptype, name, column))
        return out
    return []


def by_id(metric_id: str) -> MetricDef | None:
    """The metric a DSS metric id names, or None when the simulator does not compute it."""
    parts = metric_id.split(":", 2)
    if len(parts) == 2 and parts[0] in ("basic", "records"):
        candidates = probe_metrics({"type": parts[0]})
        return next((m for m in candidates if m.id == metric_id), None)
    if len(parts) == 3 and parts[0] in ("col_stats", "adv_col_stats"):
        found = probe_metrics({"type": parts[0], "configuration": {"aggregates": [
            {"aggregated": parts[1], "column": parts[2]}]}})
        return found[0] if found else None
    return None


def select(probes: list[dict[str, Any]], metric_ids: list[str] | None) -> tuple[list[MetricDef], list[dict[str, Any]]]:
    """The metrics to compute (from enabled probes, or these ids) and what will not be computed, with why."""
    skipped: list[dict[str, Any]] = []
    if metric_ids is not None:
        wanted = []
        for metric_id in metric_ids:
            found = by_id(str(metric_id))
            if found is None:
                skipped.append({"metricId": metric_id, "reason": "not computed by the simulator"})
            else:
                wanted.append(found)
        return wanted, skipped
    wanted = []
    for probe in probes:
        if not isinstance(probe, dict) or not probe.get("enabled", True):
            continue
        if probe.get("type") not in COMPUTED_PROBES:
            skipped.append({"probeType": probe.get("type"),
                            "reason": f"{probe.get('type')} probes are not computed by the simulator"})
            continue
        wanted += probe_metrics(probe)
    return list(dict.fromkeys(wanted)), skipped


@dataclass
class Value:
    value: Any
    data_type: str  # BIGINT | DOUBLE | STRING | BOOLEAN...


def _data_type(value: Any, column_type: str) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    return "DOUBLE" if column_type in ("float", "double") else "STRING"


def compute(location: Location, metrics: list[MetricDef],
            load: Callable[[Session], list[dict[str, Any]]]) -> tuple[dict[str, Value], list[dict[str, Any]]]:
    """Values of `metrics` (by id) and those that could not be computed, each with its reason.

    `load` puts the dataset into table "ds" of a session and returns its schema (the caller decides how)."""
    values: dict[str, Value] = {}
    skipped: list[dict[str, Any]] = []
    data_metrics = [m for m in metrics if m.probe_type != "basic" or m.id == "basic:COUNT_COLUMNS"]
    for m in metrics:
        if m.id == "basic:SIZE":
            values[m.id] = Value(location.size(), "BIGINT")
        elif m.id == "basic:COUNT_FILES":
            values[m.id] = Value(len(location.files()), "BIGINT")
    if not data_metrics:
        return values, skipped
    with Session() as session:
        try:
            schema = load(session)
        except DataError as e:
            return values, skipped + [{"metricId": m.id, "reason": e.message} for m in data_metrics]
        types = {c["name"]: c.get("type", "string") for c in schema}
        exprs: list[tuple[MetricDef, str]] = []
        for m in data_metrics:
            if m.id == "basic:COUNT_COLUMNS":
                values[m.id] = Value(len(schema), "BIGINT")
            elif m.id == "records:COUNT_RECORDS":
                exprs.append((m, "COUNT(*)"))
            elif m.column not in types:
                skipped.append({"metricId": m.id, "reason": f"column {m.column} is not in the schema"})
            elif m.aggregate in _NUMERIC_ONLY and types[m.column] not in NUMERIC:
                skipped.append({"metricId": m.id, "reason": f"{m.aggregate} needs a numeric column"})
            elif m.aggregate == "TOP10":
                exprs.append((m, f"(SELECT to_json(list(v ORDER BY n DESC, v)) FROM (SELECT {quote(m.column)} AS v, "
                                 f"COUNT(*) AS n FROM ds WHERE {quote(m.column)} IS NOT NULL GROUP BY 1 "
                                 "ORDER BY 2 DESC, 1 LIMIT 10))"))
            else:
                exprs.append((m, _SQL[m.aggregate].format(c=quote(m.column))))
        if exprs:
            try:
                row = session.con.execute("SELECT " + ", ".join(e for _, e in exprs) + " FROM ds").fetchone()
            except duckdb.Error as e:
                raise DataError(f"Metrics computation failed: {str(e).splitlines()[0]}") from None
            for (m, _), v in zip(exprs, row or (), strict=True):
                column_type = types.get(m.column, "string")
                if m.aggregate == "TOP10":
                    values[m.id] = Value(json.loads(v) if isinstance(v, str) else [], "STRING")
                elif m.aggregate in ("AVG", "STDDEV", "MEDIAN") and v is not None:
                    values[m.id] = Value(float(v), "DOUBLE")
                else:
                    values[m.id] = Value(v, _data_type(v, column_type))
    return values, skipped


def as_text(value: Value) -> str:
    """A metric value as DSS stores it: a string (`get_value_from_data` casts it back with the dataType)."""
    if isinstance(value.value, list):
        return json.dumps([format_value(v) for v in value.value])
    text = format_value(value.value)
    return "" if text is None else text
