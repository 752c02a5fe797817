"""The deployment settings a promotion manages, as plain data: what to write, how it reads, how it differs.

Managed: the bundle, the deployed project key, the connection and code-env remapping of every logical name
the project uses (a name that is the same in both environments is managed as "no remapping"), the local
variables (when the project or the environment declares any), and the activation of the project's
scenarios. Everything else in the settings document, such as remappings of other names added in the
deployer, is left as DSS has it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ..plan.diff import FieldChange, diff_fields
from .targets import CODE_ENV, CONNECTION, Remap

# Plan field -> the key of the remapping list in `bundleContainerSettings.remapping`.
REMAP_LISTS = {CONNECTION: "connections", CODE_ENV: "codeEnvs"}


def managed_settings(*, infra: str, bundle_id: str, deployed_key: str, remaps: list[Remap],
                     local_variables: Mapping[str, Any] | None, scenarios: Mapping[str, bool]) -> dict[str, Any]:
    """The managed settings of a deployment, in the shape plans show them."""
    out: dict[str, Any] = {
        "infraId": infra, "bundleId": bundle_id, "deployedProjectKey": deployed_key,
        "remapping": {lst: {r.source: r.target for r in remaps if r.kind == kind} for kind, lst in REMAP_LISTS.items()},
        "scenariosToActivate": dict(sorted(scenarios.items())),
    }
    if local_variables is not None:
        out["localVariables"] = dict(local_variables)
    return out


def current_view(raw: Mapping[str, Any] | None, managed: Mapping[str, Any]) -> dict[str, Any]:
    """A deployment's settings document in the same shape, on the managed keys only (a deployment not yet created
    reads as an empty document, so that a plan lists each setting it will get)."""
    raw = raw or {}
    remapping = (raw.get("bundleContainerSettings") or {}).get("remapping") or {}
    view: dict[str, Any] = {k: raw.get(k) for k in ("infraId", "bundleId", "deployedProjectKey")}
    view["remapping"] = {}
    for lst, wanted in managed["remapping"].items():
        have = {e.get("source"): e.get("target") for e in remapping.get(lst) or [] if isinstance(e, dict)}
        # No entry for a source means DSS uses the same name.
        view["remapping"][lst] = {s: have.get(s, s) for s in wanted}
    have_scenarios = raw.get("scenariosToActivate") or {}
    view["scenariosToActivate"] = {s: have_scenarios[s] for s in managed["scenariosToActivate"] if s in have_scenarios}
    if "localVariables" in managed:
        view["localVariables"] = raw.get("localVariables") or {}
    return view


def settings_changes(raw: Mapping[str, Any] | None, managed: Mapping[str, Any]) -> list[FieldChange]:
    return diff_fields(managed, current_view(raw, managed))


def write_settings(raw: dict[str, Any], managed: Mapping[str, Any]) -> dict[str, Any]:
    """The managed settings written into a deployment's settings document (read-modify-write)."""
    raw["bundleId"] = managed["bundleId"]
    raw["deployedProjectKey"] = managed["deployedProjectKey"]
    remapping = raw.setdefault("bundleContainerSettings", {}).setdefault("remapping", {})
    for lst, wanted in managed["remapping"].items():
        others = [copy.deepcopy(e) for e in remapping.get(lst) or []
                  if not (isinstance(e, dict) and e.get("source") in wanted)]
        remapping[lst] = others + [{"source": s, "target": t} for s, t in sorted(wanted.items()) if s != t]
    raw["scenariosToActivate"] = {**(raw.get("scenariosToActivate") or {}), **managed["scenariosToActivate"]}
    if "localVariables" in managed:
        raw["localVariables"] = copy.deepcopy(managed["localVariables"])
    return raw
