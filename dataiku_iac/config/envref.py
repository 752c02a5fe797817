"""`${env:NAME}` references: read from the environment when an environment is used, never stored.

A string that held a reference comes back `Sensitive`: every value from the environment is treated as a secret
wherever it lands (see secrets.py). DSS's own `${var}` references are not ours and stay as written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..secrets import Sensitive, remember, sensitive_strings, url_credentials

REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
# `${env:` not followed by a well-formed name and `}`: a typo that would otherwise be sent as a literal value.
MALFORMED = re.compile(r"\$\{env:(?![A-Za-z_][A-Za-z0-9_]*\})")


class MissingEnvVar(LookupError):
    def __init__(self, name: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(name)
        self.name = name
        self.loc = loc


def resolve(value: Any, loc: tuple[str | int, ...] = (), environ: Mapping[str, str] | None = None) -> Any:
    """Replace every `${env:NAME}` in the strings of `value`; a missing variable raises MissingEnvVar."""
    env = os.environ if environ is None else environ
    return _walk(value, loc, lambda name, where: _lookup(env, name, where))


def _lookup(env: Mapping[str, str], name: str, loc: tuple[str | int, ...]) -> str:
    if name not in env:
        raise MissingEnvVar(name, loc)
    return env[name]


class MalformedRef(ValueError):
    def __init__(self, text: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(text)
        self.text = text
        self.loc = loc


def _walk(value: Any, loc: tuple[str | int, ...], get: Callable[[str, tuple[str | int, ...]], str]) -> Any:
    if isinstance(value, str):
        if MALFORMED.search(value):
            raise MalformedRef(value, loc)
        return Sensitive(REF.sub(lambda m: get(m.group(1), loc), value)) if REF.search(value) else value
    if isinstance(value, dict):
        return {k: _walk(v, (*loc, k), get) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, (*loc, i), get) for i, v in enumerate(value)]
    return value


class AsWritten(Mapping[str, str]):
    """The process environment, where a variable that is not set reads as its reference left as written:
    for checks made without the environment's secrets at hand (`dss-iac validate` in CI)."""

    def __getitem__(self, name: str) -> str:
        return os.environ.get(name, f"${{env:{name}}}")

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)


def has_ref(value: Any) -> bool:
    return isinstance(value, str) and bool(REF.search(value))


def sensitive_values(resolved: Any) -> frozenset[str]:
    """The values `${env:...}` references gave in a resolved document, remembered so that no message shows them.

    An environment's `host` is where DSS is, not a secret: of it, only the credentials a URL may hold count."""
    host = resolved.get("host") if isinstance(resolved, dict) else None
    rest = {k: v for k, v in resolved.items() if k != "host"} if isinstance(resolved, dict) else resolved
    values = sensitive_strings(rest) | frozenset(url_credentials(host) if isinstance(host, str) else ())
    remember(v for v in values if not REF.search(v))  # a reference left as written (`validate`) hides nothing
    return values


def names(value: Any) -> list[str]:
    """The variables `value` references with `${env:NAME}`, in order of first appearance (for pipelines, which
    must pass each one from their secret store)."""
    found: dict[str, None] = {}

    def note(name: str, loc: tuple[str | int, ...]) -> str:
        found[name] = None
        return ""

    _walk(value, (), note)
    return list(found)
