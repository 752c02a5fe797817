"""Field-level differences between two sets of managed fields."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..secrets import MASK, UNKEYED, Fingerprints, Sensitive, is_fingerprint, is_secret_key, is_sensitive, mask, taint


class _Missing:
    def __repr__(self) -> str:
        return "<absent>"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: `path` is dotted (`params.table`); absent values are None."""

    path: str
    before: Any
    after: Any
    sensitive: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = {"path": self.path, "before": self.before, "after": self.after, "sensitive": self.sensitive}
        if is_item_list(self.before) and is_item_list(self.after):
            out["items"] = item_changes(self.before, self.after)  # derived, for readers: from_dict ignores it
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FieldChange:
        return cls(d["path"], d["before"], d["after"], bool(d.get("sensitive", False)))


def diff_fields(desired: Mapping[str, Any], actual: Mapping[str, Any], *, open_maps: Iterable[str] = (),
                previously_managed: Mapping[str, Any] | None = None,
                fingerprints: Fingerprints = UNKEYED, itemwise: Iterable[str] = ()) -> list[FieldChange]:
    """Changes needed to turn `actual` into `desired`, on the desired keys only.

    For an open map (a dict where DSS adds keys of its own), only the keys the config sets now, or set
    when it was last applied, are compared: a key dropped from the config is removed, a key DSS added is
    left alone.

    Either side may hold fingerprints (the state's record of a sensitive value): they are checked against the
    other side's value with `fingerprints`. A secret DSS will not show (blank, or in its encrypted form) is
    compared through what was last written (`previously_managed`).

    An `itemwise` field is a list of records (a scenario's steps) compared item by item and key by key
    (`steps.1.sql`); inside it, a dict under a key of `open_maps` (an open item's `params`) is compared on the
    keys the config sets only.
    """
    open_set = set(open_maps)
    lists = set(itemwise)
    prior = previously_managed or {}
    changes: list[FieldChange] = []
    for key in desired:
        want, have = desired[key], actual.get(key, MISSING)
        if key in open_set and isinstance(want, dict):
            prior_value = prior.get(key)
            had = prior_value if isinstance(prior_value, dict) else {}
            have_map = have if isinstance(have, dict) else {}
            for sub in sorted(set(want) | set(had), key=str):
                _compare(f"{key}.{sub}", want.get(sub, MISSING), have_map.get(sub, MISSING), had.get(sub, MISSING),
                         fingerprints, changes)
        elif key in lists:
            _compare(key, want, have, prior.get(key, MISSING), fingerprints, changes, open_set)
        else:
            _compare(key, want, have, prior.get(key, MISSING), fingerprints, changes)
    return changes


def _compare(path: str, want: Any, have: Any, prior: Any, fps: Fingerprints, out: list[FieldChange],
             itemwise: set[str] | None = None) -> None:
    if want == have:
        return
    if isinstance(want, dict) and isinstance(have, dict):
        had = prior if isinstance(prior, dict) else {}
        opened = itemwise is not None and path.rsplit(".", 1)[-1] in itemwise
        for sub in sorted(set(want) if opened else set(want) | set(have), key=str):
            _compare(f"{path}.{sub}", want.get(sub, MISSING), have.get(sub, MISSING), had.get(sub, MISSING), fps, out,
                     itemwise)
        return
    if itemwise is not None and isinstance(want, list) and isinstance(have, list) and _records(want, have):
        had_items = prior if isinstance(prior, list) else []
        for i in range(max(len(want), len(have))):
            _compare(f"{path}.{i}", _at(want, i), _at(have, i), _at(had_items, i), fps, out, itemwise)
        return
    key = path.rsplit(".", 1)[-1]
    if _same_secret(want, have, prior, is_secret_key(key), fps):
        return
    secret = any(is_sensitive(key, v) for v in (want, have, prior) if v is not MISSING)
    # DSS's side is plain: what the configuration or the state holds as sensitive at this place marks it so.
    before = None if have is MISSING else mask(taint(have, *(v for v in (want, prior) if v is not MISSING)))
    after = None if want is MISSING else mask(want)
    if secret:
        before, after = (MASK if before is not None else None), (MASK if after is not None else None)
    out.append(FieldChange(path, before, after, secret))


def _records(*lists: list[Any]) -> bool:
    """Lists of records are compared item by item; lists of names or numbers as a whole (`days`)."""
    return any(isinstance(v, dict) for items in lists for v in items)


def _at(items: list[Any], i: int) -> Any:
    return items[i] if i < len(items) else MISSING


# How DSS hands back a secret it keeps: blank, or encrypted (`e:AES:...`, as dataikuapi documents).
_ENCRYPTED = "e:AES:"


def _unreadable(value: Any, secret_key: bool) -> bool:
    return isinstance(value, str) and ((secret_key and value == "") or value.startswith(_ENCRYPTED))


def _same_secret(want: Any, have: Any, prior: Any, secret_key: bool, fps: Fingerprints) -> bool:
    """Whether two different-looking values are the same secret: a fingerprint and the value it was made from,
    or a value DSS will not show and the value last written there."""
    if want is MISSING or have is MISSING:
        return False
    if is_fingerprint(want):  # what was written, against what DSS holds (drift)
        return _unreadable(have, secret_key) or fps.matches(want, have)
    if is_fingerprint(have):  # the configuration against what was written
        return fps.matches(have, want)
    if _unreadable(have, secret_key) and (secret_key or isinstance(want, Sensitive)):
        return is_fingerprint(prior) and fps.matches(prior, want)
    return False


def roots(changes: Iterable[FieldChange]) -> set[str]:
    return {c.path.split(".", 1)[0] for c in changes}


def is_item_list(value: Any) -> bool:
    """A list of records (prepare steps, joins, scenario steps...): its changes are told item by item."""
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)


def item_changes(before: Sequence[Any], after: Sequence[Any]) -> list[dict[str, Any]]:
    """A list change item by item: `removed` (at its index before), `added` (at its index after), `moved` (from an
    index before to one after, unchanged) and `changed` (at its index after, with the changed keys), in the order
    of the list after the change, removals first."""
    a = [json.dumps(x, sort_keys=True, default=str) for x in before]
    b = [json.dumps(x, sort_keys=True, default=str) for x in after]
    blocks = [(list(range(i1, i2)), list(range(j1, j2))) for tag, i1, i2, j1, j2 in
              difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if tag != "equal"]
    gone = [i for rem, _ in blocks for i in rem]
    ops: list[dict[str, Any]] = []
    moved_to: set[int] = set()
    for _, add in blocks:
        for j in add:
            i = next((i for i in gone if a[i] == b[j]), None)
            if i is not None:
                gone.remove(i)
                moved_to.add(j)
                ops.append({"op": "moved", "from": i, "to": j, "value": after[j]})
    for rem, add in blocks:
        rem = [i for i in rem if i in gone]
        add = [j for j in add if j not in moved_to]
        for i, j in zip(rem, add, strict=False):
            sub: list[FieldChange] = []
            _compare("", after[j], before[i], MISSING, UNKEYED, sub)
            ops.append({"op": "changed", "at": j, "changes": [{**c.to_dict(), "path": c.path.lstrip(".")}
                                                               for c in sub]})
        ops += [{"op": "removed", "at": i, "value": before[i]} for i in rem[len(add):]]
        ops += [{"op": "added", "at": j, "value": after[j]} for j in add[len(rem):]]
    return sorted(ops, key=lambda o: (o["op"] != "removed", o.get("at", o.get("to"))))
