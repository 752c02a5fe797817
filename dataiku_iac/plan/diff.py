"""Field-level differences between two sets of managed fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..secrets import MASK, is_secret_key, mask


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
        return {"path": self.path, "before": self.before, "after": self.after, "sensitive": self.sensitive}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FieldChange:
        return cls(d["path"], d["before"], d["after"], bool(d.get("sensitive", False)))


def diff_fields(desired: Mapping[str, Any], actual: Mapping[str, Any], *, open_maps: Iterable[str] = (),
                previously_managed: Mapping[str, Any] | None = None) -> list[FieldChange]:
    """Changes needed to turn `actual` into `desired`, on the desired keys only.

    For an open map (a dict where DSS adds keys of its own), only the keys the config sets now, or set
    when it was last applied, are compared: a key dropped from the config is removed, a key DSS added is
    left alone.
    """
    open_set = set(open_maps)
    prior = previously_managed or {}
    changes: list[FieldChange] = []
    for key in desired:
        want, have = desired[key], actual.get(key, MISSING)
        if key in open_set and isinstance(want, dict):
            had = prior.get(key) if isinstance(prior.get(key), dict) else {}
            have_map = have if isinstance(have, dict) else {}
            for sub in sorted(set(want) | set(had), key=str):
                _compare(f"{key}.{sub}", want.get(sub, MISSING), have_map.get(sub, MISSING), changes)
        else:
            _compare(key, want, have, changes)
    return changes


def _compare(path: str, want: Any, have: Any, out: list[FieldChange]) -> None:
    if want == have:
        return
    if isinstance(want, dict) and isinstance(have, dict):
        for sub in sorted(set(want) | set(have), key=str):
            _compare(f"{path}.{sub}", want.get(sub, MISSING), have.get(sub, MISSING), out)
        return
    secret = is_secret_key(path.rsplit(".", 1)[-1])
    before = None if have is MISSING else mask(have)
    after = None if want is MISSING else mask(want)
    if secret:
        before, after = (MASK if before is not None else None), (MASK if after is not None else None)
    out.append(FieldChange(path, before, after, secret))


def roots(changes: Iterable[FieldChange]) -> set[str]:
    return {c.path.split(".", 1)[0] for c in changes}
