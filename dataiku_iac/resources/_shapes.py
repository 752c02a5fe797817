"""How a value found in DSS is written back into the YAML, for managed fields whose configuration form
differs from the form a plan compares: defaults left out, names instead of records, the file's own order
and the keys it spells out kept, so that an adopt rewrites as few lines as it can."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import DssIacError

TRIGGER_DEFAULTS: dict[str, Any] = {"hour": 0, "minute": 0, "days": [], "repeat": 1, "timezone": "SERVER",
                                    "active": True}
DATASET_TRIGGER_DEFAULTS: dict[str, Any] = {"delay": 900, "active": True}
BUILD_MODE = "RECURSIVE_BUILD"


class Unwritable(DssIacError):
    """The value has no form in the configuration (the message says why)."""


def schema(found: Any, _compared: Any, _current: Any) -> list[dict[str, Any]]:
    return [{"name": c["name"], "type": c["type"], **({"comment": c["comment"]} if c.get("comment") else {})}
            for c in found or []]


def triggers(found: Any, _compared: Any, current: Any) -> list[dict[str, Any]]:
    out = []
    for i, t in enumerate(found or []):
        spelled = _item(current, i)
        if t.get("type") == "dataset":
            out.append({"type": "dataset", "datasets": list(t.get("datasets") or []),
                        **{k: t.get(k, d) for k, d in DATASET_TRIGGER_DEFAULTS.items()
                           if t.get(k, d) != d or k in spelled}})
            continue
        if t.get("type") != "temporal":
            raise Unwritable(f"a trigger of type {t.get('type')} cannot be declared (the configuration has "
                             "temporal and dataset triggers only): remove it in DSS or leave the drift")
        out.append({"type": "temporal", "frequency": t.get("frequency"),
                    **{k: t.get(k, d) for k, d in TRIGGER_DEFAULTS.items() if t.get(k, d) != d or k in spelled}})
    return out


def steps(found: Any, _compared: Any, current: Any) -> list[dict[str, Any]]:
    out = []
    for i, s in enumerate(found or []):
        if s.get("type") != "build":
            raise Unwritable(f"step {s.get('name')!r} is of type {s.get('type')}: the configuration has build "
                             "steps only")
        items = list(s.get("items") or [])
        foreign = [x for x in items if ":" in x]
        if foreign:
            raise Unwritable(f"step {s.get('name')!r} builds {', '.join(foreign)}, which the configuration "
                             "cannot name")
        spelled = _item(current, i)
        step: dict[str, Any] = {"type": "build"}
        named_by_us = s.get("name") == f"Build {', '.join(dict.fromkeys(items))}"
        if s.get("name") and (not named_by_us or "name" in spelled):
            step["name"] = s["name"]
        step["items"] = items
        mode = s.get("mode") or BUILD_MODE
        if mode != BUILD_MODE or "mode" in spelled:
            step["mode"] = mode
        out.append(step)
    return out


def names(found: Any, compared: Any, current: Any) -> list[str]:
    """A list of names: the file's list with what DSS dropped taken out and what it added put at the end."""
    return _delta(_names(compared), _names(found), list(current or []))


def _names(value: Any) -> list[str]:
    return [v["name"] if isinstance(v, dict) else v for v in value or []]


def _delta(before: Sequence[str], after: Sequence[str], current: list[str]) -> list[str]:
    removed = set(before) - set(after)
    added = [x for x in after if x not in before]
    return [x for x in current if x not in removed] + [x for x in added if x not in current]


def group_rights(found: Any, _compared: Any, current: Any) -> dict[str, Any] | None:
    """A group's entry as `update_resource("permissions.P", {group: ...})` takes it: the rights DSS grants
    set to true, the others the file sets removed; None when DSS gives the group no access at all."""
    if found is None:
        return None
    granted = set(found)
    spelled = current if isinstance(current, dict) else {}
    return {**{f: None for f, on in spelled.items() if f != "group" and on and f not in granted},
            **dict.fromkeys(sorted(granted), True)}


def _item(current: Any, i: int) -> dict[str, Any]:
    return current[i] if isinstance(current, list) and i < len(current) and isinstance(current[i], dict) else {}
