"""Field-level differences between two sets of managed fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
        return {"path": self.path, "before": self.before, "after": self.after, "sensitive": self.sensitive}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FieldChange:
        return cls(d["path"], d["before"], d["after"], bool(d.get("sensitive", False)))


def diff_fields(desired: Mapping[str, Any], actual: Mapping[str, Any], *, open_maps: Iterable[str] = (),
                previously_managed: Mapping[str, Any] | None = None,
                fingerprints: Fingerprints = UNKEYED) -> list[FieldChange]:
    """Changes needed to turn `actual` into `desired`, on the desired keys only.

    For an open map (a dict where DSS adds keys of its own), only the keys the config sets now, or set
    when it was last applied, are compared: a key dropped from the config is removed, a key DSS added is
    left alone.

    Either side may hold fingerprints (the state's record of a sensitive value): they are checked against the
    other side's value with `fingerprints`. A secret DSS will not show (blank, or in its encrypted form) is
    compared through what was last written (`previously_managed`).
    """
    open_set = set(open_maps)
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
        else:
            _compare(key, want, have, prior.get(key, MISSING), fingerprints, changes)
    return changes


def _compare(path: str, want: Any, have: Any, prior: Any, fps: Fingerprints, out: list[FieldChange]) -> None:
    if want == have:
        return
    if isinstance(want, dict) and isinstance(have, dict):
        had = prior if isinstance(prior, dict) else {}
        for sub in sorted(set(want) | set(have), key=str):
            _compare(f"{path}.{sub}", want.get(sub, MISSING), have.get(sub, MISSING), had.get(sub, MISSING), fps, out)
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
