"""Dataset metrics, checks and data quality rules, computed from the dataset's files.

Probes are the dataset settings' `metrics.probes`; checks and data quality rules are its `metricsChecks.checks`
(DSS keeps both in that one list). Reports: `computeMetrics` -> {partition, computed[], notComputed[]};
`runChecks` -> {partition, results[{check, value{outcome, message}}]} (GUESS at the report shapes).
"""

from __future__ import annotations

from typing import Any

from ..context import Ctx
from ..errors import bad_request
from ..routing import route
from . import dataset_status as status
from .datasets import get_dataset, save_part
from .instance import future_reply


def _displayed(doc: dict[str, Any]) -> list[str]:
    return list(((doc.get("metrics") or {}).get("displayedState") or {}).get("metrics") or [])


def _check_partition(partition: str | None) -> None:
    if partition not in (None, "", "NP", "ALL"):
        raise bad_request("The simulator does not read partitions: compute on the whole dataset (NP or ALL)")


def _snapshot(ctx: Ctx, project_key: str, name: str) -> tuple[dict[str, Any], status.Snapshot]:
    record = ctx.project(project_key)
    get_dataset(ctx, record, name)
    return record, status.take_snapshot(ctx.store, ctx.node.data_home, record, name)


@route("POST", "/projects/{project_key}/datasets/{name}/actions/computeMetrics")
def compute_metrics(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    _check_partition(ctx.req.param("partition"))
    record, snap = _snapshot(ctx, project_key, name)
    body = ctx.req.json(None)
    probes = None
    if isinstance(body, dict) and isinstance(body.get("probes"), list):
        probes = body["probes"]
    elif isinstance(body, list):
        probes = body
    run = status.compute_metrics(snap, probes=probes)
    report = status.record_metrics(record, name, run, _displayed(snap.doc))
    ctx.store.mark(project_key)
    return report


@route("POST", "/projects/{project_key}/datasets/{name}/actions/computeMetricsFromIds")
def compute_metrics_from_ids(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    _check_partition(ctx.req.param("partition"))
    ids = ctx.req.json_object().get("metricIds")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_request("'metricIds' must be a list of metric ids")
    record, snap = _snapshot(ctx, project_key, name)
    report = status.record_metrics(record, name, status.compute_metrics(snap, metric_ids=ids), _displayed(snap.doc))
    ctx.store.mark(project_key)
    return report


@route("GET", "/projects/{project_key}/datasets/{name}/metrics/last/{partition}")
def last_metric_values(ctx: Ctx, project_key: str, name: str, partition: str) -> dict[str, Any]:
    _check_partition(partition)
    record = ctx.project(project_key)
    doc = get_dataset(ctx, record, name)
    return status.last_values(record, name, _displayed(doc))


@route("GET", "/projects/{project_key}/datasets/{name}/metrics/history/{partition}")
def metric_history(ctx: Ctx, project_key: str, name: str, partition: str) -> dict[str, Any]:
    _check_partition(partition)
    record = ctx.project(project_key)
    get_dataset(ctx, record, name)
    return status.metric_history(record, name, ctx.req.param("metricLookup") or "")


def checks_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in (doc.get("metricsChecks") or {}).get("checks") or [] if isinstance(c, dict)]


def run_checks_now(ctx: Ctx, project_key: str, name: str, wanted: list[str] | None, *, fresh: bool,
                   origin: str) -> list[dict[str, Any]]:
    """Judge the dataset's enabled checks (or those named) and record the outcomes."""
    record, snap = _snapshot(ctx, project_key, name)
    checks = [c for c in checks_of(snap.doc) if c.get("enabled", True)]
    if wanted is not None:
        checks = [c for c in checks if status.check_engine.check_name(c) in wanted or c.get("id") in wanted]
    results = status.record_results(record, name, status.judge(snap, checks, fresh=fresh), origin)
    ctx.store.mark(project_key)
    return results


@route("POST", "/projects/{project_key}/datasets/{name}/actions/runChecks")
def run_checks(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    _check_partition(ctx.req.param("partition"))
    body = ctx.req.json(None)
    wanted = [str(c) for c in body] if isinstance(body, list) else None
    results = run_checks_now(ctx, project_key, name, wanted, fresh=False, origin="API")
    return {"partition": status.PARTITION, "results": results}


# -- data quality rules (dataikuapi.dss.data_quality) ---------------------------------------------------------

def _rules_doc(doc: dict[str, Any]) -> dict[str, Any]:
    checks = doc.get("metricsChecks") or {}
    return {"checks": checks_of(doc), "monitor": bool(checks.get("monitor", False)),
            "displayedState": checks.get("displayedState") or {"checks": []}}


def _save_checks(ctx: Ctx, record: dict[str, Any], doc: dict[str, Any], checks: list[dict[str, Any]]) -> None:
    save_part(ctx, record, doc, {"metricsChecks": {**(doc.get("metricsChecks") or {}), "checks": checks}})


@route("GET", "/projects/{project_key}/datasets/{name}/data-quality/rules")
def list_rules(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    return _rules_doc(get_dataset(ctx, ctx.project(project_key), name))


@route("POST", "/projects/{project_key}/datasets/{name}/data-quality/rules")
def create_rule(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    doc = get_dataset(ctx, record, name)
    rule = ctx.req.json_object()
    if not isinstance(rule.get("type"), str) or not rule["type"]:
        raise bad_request("A data quality rule needs a 'type'")
    checks = checks_of(doc)
    rule["id"] = status.new_rule_id({str(c.get("id")) for c in checks})
    rule.setdefault("displayName", rule["type"])
    rule.setdefault("enabled", True)
    _save_checks(ctx, record, doc, [*checks, rule])
    return rule


def _rule_index(ctx: Ctx, checks: list[dict[str, Any]], rule_id: str) -> int:
    for i, c in enumerate(checks):
        if c.get("id") == rule_id:
            return i
    raise ctx.not_found(f"Data quality rule {rule_id} does not exist")


@route("PUT", "/projects/{project_key}/datasets/{name}/data-quality/rules/{rule_id}")
def save_rule(ctx: Ctx, project_key: str, name: str, rule_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    doc = get_dataset(ctx, record, name)
    checks = checks_of(doc)
    rule = {**ctx.req.json_object(), "id": rule_id}
    checks[_rule_index(ctx, checks, rule_id)] = rule
    _save_checks(ctx, record, doc, checks)
    return {}


@route("DELETE", "/projects/{project_key}/datasets/{name}/data-quality/rules/{rule_id}")
def delete_rule(ctx: Ctx, project_key: str, name: str, rule_id: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    doc = get_dataset(ctx, record, name)
    checks = checks_of(doc)
    del checks[_rule_index(ctx, checks, rule_id)]
    _save_checks(ctx, record, doc, checks)
    return {}


@route("POST", "/projects/{project_key}/datasets/{name}/data-quality/actions/compute-rules")
def compute_rules(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    _check_partition(ctx.req.param("partition"))
    rule_id = ctx.req.param("ruleId")
    results = run_checks_now(ctx, project_key, name, [rule_id] if rule_id else None, fresh=True, origin="MANUAL")
    return future_reply(ctx, {"partition": status.PARTITION, "results": results})


def _last_rule_results(record: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    last: dict[str, dict[str, Any]] = {}
    for result in status.status_of(record, name).get("ruleResults") or []:
        last[result["id"]] = result
    return last


@route("GET", "/projects/{project_key}/datasets/{name}/data-quality/last-rules-result")
def last_rules_result(ctx: Ctx, project_key: str, name: str) -> list[dict[str, Any]]:
    record = ctx.project(project_key)
    doc = get_dataset(ctx, record, name)
    last = _last_rule_results(record, name)
    rule_id = ctx.req.param("ruleId")
    ids = [str(c.get("id")) for c in checks_of(doc) if rule_id in (None, c.get("id"))]
    return [dict(last[i]) for i in ids if i in last]


@route("GET", "/projects/{project_key}/datasets/{name}/data-quality/rules-history")
def rules_history(ctx: Ctx, project_key: str, name: str) -> list[dict[str, Any]]:
    record = ctx.project(project_key)
    get_dataset(ctx, record, name)
    wanted = set(ctx.req.param_list("ruleIds") + ctx.req.param_list("ruleId"))
    results = [dict(r) for r in status.status_of(record, name).get("ruleResults") or []
               if not wanted or r["id"] in wanted]
    return list(reversed(results))


def _status(record: dict[str, Any], doc: dict[str, Any], name: str) -> dict[str, Any]:
    last = _last_rule_results(record, name)
    enabled = [str(c.get("id")) for c in checks_of(doc) if c.get("enabled", True)]
    outcomes = [last[i]["outcome"] for i in enabled if i in last]
    return {"partition": status.PARTITION, "outcome": status.worst_outcome(outcomes) or "NOT_COMPUTED",
            "nbRules": len(enabled), "nbComputedRules": len(outcomes)}


@route("GET", "/projects/{project_key}/datasets/{name}/data-quality/status")
def dq_status(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    return _status(record, get_dataset(ctx, record, name), name)


@route("GET", "/projects/{project_key}/datasets/{name}/data-quality/status-by-partition")
def dq_status_by_partition(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    record = ctx.project(project_key)
    return {status.PARTITION: _status(record, get_dataset(ctx, record, name), name)}


@route("POST", "/projects/{project_key}/datasets/{name}/data-quality/get-partitions-status")
def dq_partitions_status(ctx: Ctx, project_key: str, name: str) -> dict[str, Any]:
    return dq_status_by_partition(ctx, project_key, name)


@route("DELETE", "/projects/{project_key}/datasets/{name}/data-quality/history/{partition}")
def delete_rules_history(ctx: Ctx, project_key: str, name: str, partition: str) -> dict[str, Any]:
    _check_partition(partition)
    record = ctx.project(project_key)
    get_dataset(ctx, record, name)
    status.status_of(record, name)["ruleResults"] = []
    ctx.store.mark(project_key)
    return {}
