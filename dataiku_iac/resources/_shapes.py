"""How a value found in DSS is written back into the YAML, for managed fields whose configuration form
differs from the form a plan compares: defaults left out, names instead of records, the file's own order
and the keys it spells out kept, so that an adopt rewrites as few lines as it can."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ..errors import DssIacError


class Unwritable(DssIacError):
    """The value has no form in the configuration (the message says why)."""


def schema(found: Any, _compared: Any, _current: Any) -> list[dict[str, Any]]:
    return [{"name": c["name"], "type": c["type"], **({"comment": c["comment"]} if c.get("comment") else {})}
            for c in found or []]


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


def with_found(entry: Any, found: Sequence[tuple[Sequence[str], Any]]) -> Any:
    """An entry in the form plans compare (a mapping, or None), with DSS's value set at each path (an empty path:
    the whole entry; None: the key, or the entry, gone)."""
    out = copy.deepcopy(entry)
    for path, value in found:
        if not path:
            out = copy.deepcopy(value)
            continue
        node = out if isinstance(out, dict) else {}
        out = node
        for k in path[:-1]:
            node = node.setdefault(k, {})
        if value is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return out
