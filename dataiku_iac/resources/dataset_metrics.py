"""Dataset metrics and checks: which metrics DSS computes on a dataset (its probes), and the checks that judge
their values (DSS's metric checks: value in range, value in set).

Managed fields, all on the dataset's settings document:
  metrics              open map, probe type -> {on_build, configuration}: `metrics.probes[]` (enabled, with
                       `computeOnBuildMode` PARTITION when computed after each build, NO otherwise); the probe types
                       the config does not name are left as DSS has them, one it drops is taken out
  checks               open map, check name -> {type, metricId, bounds or values}: rules of `metricsChecks.checks`
                       with the id `dssiacrule_<name>` (so neither the rules of the dataset's `tests`, `dssiac_...`,
                       nor those made in DSS are touched)
  run_checks_on_build  `metricsChecks.runOnBuild`, only when the config sets it
Data quality rules of every other kind are the dataset's `tests` (testing/dq_rules.py). This kind writes after the
dataset's own writes (it depends on the dataset), re-reading the document, so neither undoes the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from ..config.models import Strict
from ..testing.dq_rules import merge_rules
from ._flow import absent_as_none, merge_open
from ._shapes import with_found
from .address import Address
from .base import Desired, ImportContext, Kind, Listed, Remote, nonempty

if TYPE_CHECKING:
    from dataikuapi import DSSClient
    from dataikuapi.dss.project import DSSProject

    from ..config.loader import ProjectSource
    from ..errors import ConfigError
    from .context import EnvContext

CHECK_PREFIX = "dssiacrule_"
ON_BUILD, NOT_ON_BUILD = "PARTITION", "NO"
# Ours -> DSS's bound keys (each with its `...Enabled` flag), as the DSS metric check "Value in range" writes them.
# The probes DSS gives a new dataset: on their own, a dataset's metrics are not "set" by anyone.
DSS_PROBES = frozenset({"basic", "records"})
BOUNDS = (("min", "minimum"), ("max", "maximum"), ("warn_min", "softMinimum"), ("warn_max", "softMaximum"))


class Probe(Strict):
    """A metric probe: what DSS computes for the metrics of one probe type."""

    on_build: bool = Field(default=False, description="computed after each build of the dataset (DSS's "
                                                      "\"auto-compute after build\"); `false`: when asked")
    configuration: dict[str, Any] = Field(
        default_factory=dict, description="the probe's DSS settings, e.g. for `col_stats`: {aggregates: [{column: "
                                          "amount, aggregated: MAX}]}")


class MetricCheck(Strict):
    """A check on a metric's last value: in a range (`min`... bounds) or in a set (`values`)."""

    metric: str = Field(min_length=1, description="the metric's DSS id, e.g. `records:COUNT_RECORDS`, "
                                                  "`col_stats:MAX:amount`")
    min: float | None = Field(default=None, description="below it: error")
    max: float | None = Field(default=None, description="above it: error")
    warn_min: float | None = Field(default=None, description="below it: warning")
    warn_max: float | None = Field(default=None, description="above it: warning")
    values: list[str] | None = Field(default=None, description="the values allowed (a \"value in set\" check, "
                                                               "instead of bounds)")

    @model_validator(mode="after")
    def _one_kind(self) -> MetricCheck:
        bounded = any(getattr(self, ours) is not None for ours, _ in BOUNDS)
        if bounded == (self.values is not None):
            raise ValueError("a check has bounds (min, max, warn_min, warn_max) or `values`, one of the two")
        return self


class DatasetMetrics(Strict):
    """The metrics DSS computes on a dataset of this project (the key names it) and the checks of their values."""

    metrics: dict[str, Probe] = Field(default_factory=dict, description="probe type (`basic`, `records`, "
                                                                        "`col_stats`, `adv_col_stats`...) -> probe")
    checks: dict[str, MetricCheck] = Field(default_factory=dict, description="check name -> check")
    run_checks_on_build: bool | None = Field(default=None, description="run the checks after each build (an error "
                                                                       "fails the build); left out: left as DSS has "
                                                                       "it")


def check_doc(name: str, check: MetricCheck) -> dict[str, Any]:
    """The DSS document of a check (the keys this kind manages)."""
    doc: dict[str, Any] = {"id": CHECK_PREFIX + name, "displayName": name, "enabled": True,
                           "metricId": check.metric}
    if check.values is not None:
        return doc | {"type": "valueSet", "values": list(check.values)}
    doc["type"] = "numericRange"
    for ours, theirs in BOUNDS:
        value = getattr(check, ours)
        doc[theirs] = 0.0 if value is None else float(value)
        doc[f"{theirs}Enabled"] = value is not None
    return doc


def _check_keys(doc: Mapping[str, Any]) -> list[str]:
    keys = ["id", "displayName", "enabled", "type", "metricId"]
    if doc.get("type") == "valueSet":
        return [*keys, "values"]
    return keys + [k for _, theirs in BOUNDS for k in (theirs, f"{theirs}Enabled")]


def _check_yaml(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A check's DSS document as a project file writes it (bounds not enabled left out)."""
    if doc.get("type") == "valueSet":
        return {"metric": doc["metricId"], "values": [str(v) for v in doc.get("values") or []]}
    return {"metric": doc["metricId"]} | {ours: doc[theirs] for ours, theirs in BOUNDS if doc.get(f"{theirs}Enabled")}


def _probe_yaml(probe: Mapping[str, Any]) -> dict[str, Any]:
    return nonempty({"on_build": probe["on_build"] or None, "configuration": probe["configuration"]})


def fields_of(raw: Mapping[str, Any]) -> dict[str, Any]:
    probes = [p for p in (raw.get("metrics") or {}).get("probes") or [] if isinstance(p, dict) and p.get("enabled")]
    section = raw.get("metricsChecks") or {}
    checks = [c for c in section.get("checks") or [] if isinstance(c, dict)
              and str(c.get("id") or "").startswith(CHECK_PREFIX)]
    return {"metrics": {str(p.get("type")): {"on_build": p.get("computeOnBuildMode", NOT_ON_BUILD) != NOT_ON_BUILD,
                                             "configuration": dict(p.get("configuration") or {})} for p in probes},
            "checks": {str(c["id"])[len(CHECK_PREFIX):]: {k: c.get(k) for k in _check_keys(c)} for c in checks},
            "run_checks_on_build": bool(section.get("runOnBuild", False))}


def _write(raw: dict[str, Any], fields: Mapping[str, Any], removed: Mapping[str, tuple[str, ...]]) -> None:
    probes = raw.setdefault("metrics", {}).setdefault("probes", [])
    by_type = {str(p.get("type")): p for p in probes if isinstance(p, dict)}
    wanted = merge_open({t: None for t in by_type}, dict(fields.get("metrics", {})), removed.get("metrics", ()))
    out = []
    for ptype, probe in wanted.items():
        doc = by_type.get(ptype) or {"type": ptype, "meta": {}}
        if probe is not None:
            doc.update(enabled=True, computeOnBuildMode=ON_BUILD if probe["on_build"] else NOT_ON_BUILD,
                       configuration=dict(probe["configuration"]))
        out.append(doc)
    raw["metrics"]["probes"] = out
    section = raw.setdefault("metricsChecks", {})
    gone = {CHECK_PREFIX + name for name in removed.get("checks", ())}
    section["checks"] = merge_rules(section.get("checks") or [], {CHECK_PREFIX + name: doc for name, doc in
                                                                  (fields.get("checks") or {}).items()},
                                    lambda check: check.get("id") in gone)
    if "run_checks_on_build" in fields:
        section["runOnBuild"] = fields["run_checks_on_build"]


class DatasetMetricsKind(Kind):
    name = "dataset_metrics"
    model = DatasetMetrics  # the entry under `dataset_metrics.<dataset name>` in a project file
    collection = "dataset_metrics"
    listed = True
    listed_with = "dataset"
    rank = 42  # right after the dataset whose settings hold them
    on_dependency_replaced = "replace"  # a dataset made anew has DSS's default probes and no checks
    open_maps = frozenset({"metrics", "checks"})
    entrywise = frozenset({"metrics", "checks"})
    adoptable = frozenset({"run_checks_on_build"})
    template = {"metrics": {"records": {"on_build": True}}}
    in_bundle = False  # a bundle carries the dataset's settings whole, metrics included

    def desired(self, source: ProjectSource, env: EnvContext) -> list[Desired]:
        key = source.key
        out = []
        for name, spec in sorted(getattr(source.spec, self.collection).items()):
            fields: dict[str, Any] = {"metrics": {t: p.model_dump() for t, p in spec.metrics.items()},
                                      "checks": {n: check_doc(n, c) for n, c in spec.checks.items()}}
            if spec.run_checks_on_build is not None:
                fields["run_checks_on_build"] = spec.run_checks_on_build
            out.append(Desired(Address(self.name, key, name), fields,
                               (Address("project", key), Address("dataset", key, name))))
        return out

    def checked(self, source: ProjectSource, projects: Mapping[str, ProjectSource]) -> list[ConfigError]:
        return [source.file.error(f"dataset metrics '{name}' names no dataset of project {source.key}",
                                  (self.collection, name), at_key=True)
                for name in getattr(source.spec, self.collection) if name not in source.spec.datasets]

    def config_entry(self, name: str | None, fields: dict[str, Any], ctx: ImportContext) -> Any:
        checks = {cname: _check_yaml(doc) for cname, doc in fields["checks"].items()}
        metrics = {t: _probe_yaml(p) for t, p in fields["metrics"].items()}
        return nonempty({"metrics": metrics, "checks": checks,
                         "run_checks_on_build": True if fields["run_checks_on_build"] else None}) or None

    def adopt_entry(self, root: str, key: str, declared: Any, found: Sequence[tuple[Sequence[str], Any]]) -> Any:
        # DSS's entry: the file's, in the form plans compare, with what drifted inside it set as DSS has it.
        if root == "checks":
            doc = with_found(None if declared is None else check_doc(key, MetricCheck.model_validate(declared)),
                             found)
            return None if doc is None else _check_yaml(doc)
        probe = with_found(None if declared is None else Probe.model_validate(declared).model_dump(), found)
        return None if probe is None else _probe_yaml(probe)

    def list_in(self, project: DSSProject) -> list[tuple[str, str]]:
        from . import KINDS

        return [(o.name, o.remote_id) for o in self.from_listed(KINDS["dataset"].listing(project))]

    def from_listed(self, listed: list[Listed]) -> list[Listed]:
        # The datasets whose metrics someone set: probes beyond those DSS gives every dataset, or checks this kind
        # made. The list of datasets holds each dataset's whole document.
        out = []
        for o in listed:
            fields = fields_of(dict(o.item))
            if set(fields["metrics"]) - DSS_PROBES or fields["checks"]:
                out.append(Listed(o.name, o.remote_id))
        return out

    def read(self, client: DSSClient, address: Address, remote_id: str | None) -> Remote | None:
        settings = absent_as_none(client.get_project(address.project).get_dataset(str(address.name)).get_settings)
        return None if settings is None else Remote(str(address.name), fields_of(settings.get_raw()))

    def create(self, client: DSSClient, desired: Desired) -> str:
        self._save(client, desired.address, desired.fields, desired.removed)
        return str(desired.address.name)

    def update(self, client: DSSClient, desired: Desired, remote: Remote) -> None:
        self._save(client, desired.address, desired.fields, desired.removed)

    def delete(self, client: DSSClient, address: Address, remote_id: str) -> None:
        # The probes stay as they are (DSS's defaults are probes too); the checks this kind made go.
        current = self.read(client, address, remote_id)
        if current is not None:
            self._save(client, address, {"metrics": {}}, {"checks": tuple(current.fields["checks"])})

    @staticmethod
    def _save(client: DSSClient, address: Address, fields: Mapping[str, Any],
              removed: Mapping[str, tuple[str, ...]]) -> None:
        settings = client.get_project(address.project).get_dataset(str(address.name)).get_settings()
        _write(settings.get_raw(), fields, removed)
        settings.save()
