"""A dataset's status: metric values and their history, check and rule results, last build.

Kept in the project record under `datasetStatus[<dataset>]` (not in the settings document, and not in
bundles, as in DSS where metrics history stays on its node). Computing works on a snapshot taken under the
store's lock and runs without it, so a job can compute while other requests are served.
"""

from __future__ import annotations

import copy
import secrets
import string
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import checks as check_engine
from ..engine import metrics as metric_engine
from ..engine import storage
from ..engine.metrics import MetricDef, Value
from ..engine.storage import DataError, Location
from ..engine.table import Session, quote

MAX_HISTORY = 100
PARTITION = "NP"


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Snapshot:
    """What computing a dataset's metrics needs, copied out of the store."""

    project_key: str
    name: str
    doc: dict[str, Any]
    connections: dict[str, Any]
    dip_home: Path
    last: dict[str, Value]

    def location(self) -> Location:
        return storage.locate(self.doc, self.connections, self.dip_home)


def status_of(record: dict[str, Any], name: str) -> dict[str, Any]:
    return record.setdefault("datasetStatus", {}).setdefault(name, {})


def take_snapshot(store: Any, dip_home: Path, record: dict[str, Any], name: str) -> Snapshot:
    doc = copy.deepcopy(record["datasets"][name])
    last = {mid: Value(_typed(m["values"][-1]), m["values"][-1]["dataType"])
            for mid, m in (status_of(record, name).get("metrics") or {}).items() if m.get("values")}
    return Snapshot(record["projectKey"], name, doc, copy.deepcopy(store.coll("connections")), dip_home, last)


def _typed(point: dict[str, Any]) -> Any:
    raw, dtype = point.get("value"), point.get("dataType")
    try:
        if dtype == "BIGINT":
            return int(raw)  # type: ignore[arg-type]
        if dtype == "DOUBLE":
            return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return raw
    return raw


# -- metrics ---------------------------------------------------------------------------------------------------

@dataclass
class MetricsRun:
    defs: list[MetricDef]
    values: dict[str, Value]
    skipped: list[dict[str, Any]]


def compute_metrics(snap: Snapshot, metric_ids: list[str] | None = None,
                    probes: list[dict[str, Any]] | None = None) -> MetricsRun:
    """Compute (no lock held) the metrics of the dataset's probes, or of these probes or metric ids."""
    if probes is None:
        probes = list((snap.doc.get("metrics") or {}).get("probes") or [])
    defs, skipped = metric_engine.select(probes, metric_ids)
    try:
        location = snap.location()
    except DataError as e:
        return MetricsRun(defs, {}, skipped + [{"metricId": m.id, "reason": e.message} for m in defs])
    values, not_computed = metric_engine.compute(location, defs, lambda s: s.load("ds", location))
    return MetricsRun(defs, values, skipped + not_computed)


def record_metrics(record: dict[str, Any], name: str, run: MetricsRun, displayed: list[str]) -> dict[str, Any]:
    """Store computed values (under the lock) and return DSS's computation report."""
    metrics = status_of(record, name).setdefault("metrics", {})
    at = now_ms()
    computed = []
    for m in run.defs:
        value = run.values.get(m.id)
        if value is None:
            continue
        point = {"partition": PARTITION, "value": metric_engine.as_text(value), "time": at,
                 "dataType": value.data_type}
        entry = metrics.setdefault(m.id, {"metric": m.doc(value.data_type), "values": []})
        entry["metric"] = m.doc(value.data_type)
        entry["values"] = [*entry["values"], point][-MAX_HISTORY:]
        computed.append({"metricId": m.id, "metric": entry["metric"], "displayedAsMetric": m.id in displayed,
                         **point})
    return {"partition": PARTITION, "computed": computed, "notComputed": run.skipped}


def last_values(record: dict[str, Any], name: str, displayed: list[str]) -> dict[str, Any]:
    """`GET .../metrics/last/NP`: every metric with a value, and check outcomes as `check:CHECK:<name>`."""
    status = status_of(record, name)
    out = []
    for mid, entry in sorted((status.get("metrics") or {}).items()):
        if entry.get("values"):
            out.append({"metric": copy.deepcopy(entry["metric"]), "displayedAsMetric": mid in displayed,
                        "lastValues": [copy.deepcopy(entry["values"][-1])]})
    for check, results in sorted((status.get("checks") or {}).items()):
        if results:
            last = results[-1]
            mid = f"check:CHECK:{check}"
            out.append({"metric": {"id": mid, "type": "check", "metricType": "CHECK", "dataType": "STRING"},
                        "displayedAsMetric": False,
                        "lastValues": [{"partition": PARTITION, "value": last["outcome"], "time": last["time"],
                                        "dataType": "STRING"}]})
    return {"metrics": out}


def metric_history(record: dict[str, Any], name: str, metric_id: str) -> dict[str, Any]:
    entry = (status_of(record, name).get("metrics") or {}).get(metric_id)
    if not entry:
        return {"metricId": metric_id, "values": []}
    values = [{"time": p["time"], "value": _typed(p)} for p in entry["values"]]
    return {"metricId": metric_id, "metric": copy.deepcopy(entry["metric"]), "from": values[0]["time"],
            "to": values[-1]["time"], "values": values, "lastValue": copy.deepcopy(entry["values"][-1])}


# -- checks and data quality rules -----------------------------------------------------------------------------

def _row_counter(session: Session | None) -> check_engine.RowCount:
    def count(column: str, condition: str) -> int | None:
        if session is None:
            return None
        sql = f"SELECT COUNT(*) FROM ds WHERE {quote(column)} IS NOT NULL AND ({condition.format(c=quote(column))})"
        try:
            row = session.con.execute(sql).fetchone()
        except Exception:  # a column that is not there, or a value that does not compare
            return None
        return int(row[0]) if row else None
    return count


def judge(snap: Snapshot, checks: list[dict[str, Any]], *, fresh: bool) -> list[tuple[dict[str, Any], Any]]:
    """Evaluate checks (no lock held). With `fresh`, rules compute the metrics they need from the data
    (data quality rules do); otherwise they read the last metric values (legacy checks do)."""
    if not checks:
        return []
    needed = list(dict.fromkeys(m for c in checks for m in check_engine.needed_metrics(c))) if fresh else []
    needs_rows = fresh and any(c.get("type") in ("ValuesInSetRule", "ValuesInRangeRule") for c in checks)
    values: dict[str, Value] = dict(snap.last)
    session: Session | None = None
    try:
        if needed or needs_rows:
            try:
                location = snap.location()
                if needed:
                    computed, _ = metric_engine.compute(location, needed, lambda s: s.load("ds", location))
                    values.update(computed)
                if needs_rows:
                    session = Session()
                    session.load("ds", location)
            except DataError:
                session = None
        counter = _row_counter(session)
        schema = [c for c in (snap.doc.get("schema") or {}).get("columns") or [] if isinstance(c, dict)]
        return [(c, check_engine.evaluate(c, values.get, counter, schema)) for c in checks]
    finally:
        if session is not None:
            session.close()


def record_results(record: dict[str, Any], name: str, judged: list[tuple[dict[str, Any], Any]],
                   origin: str) -> list[dict[str, Any]]:
    """Store check and rule outcomes (under the lock); return them as DSS results."""
    status = status_of(record, name)
    history = status.setdefault("checks", {})
    rules = status.setdefault("ruleResults", [])
    at = now_ms()
    out = []
    for check, result in judged:
        cname = check_engine.check_name(check)
        entry = {"outcome": result.outcome, "message": result.message, "time": at, "partition": PARTITION}
        history[cname] = [*history.get(cname, []), entry][-MAX_HISTORY:]
        doc = {"id": check.get("id") or cname, "name": cname, "ruleType": check.get("type"),
               "outcome": result.outcome, "message": result.message, "computeDate": at, "runOrigin": origin,
               "partition": PARTITION, **({"notRun": True} if result.not_run else {})}
        rules.append(doc)
        out.append({"check": copy.deepcopy(check), "name": cname, "value": result.doc(), **doc})
    del rules[:-MAX_HISTORY * 10]
    return out


def worst_outcome(outcomes: list[str]) -> str | None:
    rank = {"OK": 0, "EMPTY": 1, "WARNING": 2, "ERROR": 3}
    return max(outcomes, key=lambda o: rank.get(o, 0)) if outcomes else None


def new_rule_id(taken: set[str]) -> str:
    alphabet = string.ascii_letters + string.digits
    while (candidate := "".join(secrets.choice(alphabet) for _ in range(8))) in taken:
        pass
    return candidate
