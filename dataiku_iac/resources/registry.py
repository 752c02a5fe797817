"""The registry of resource kinds: each kind registers once, and every other module iterates it.

    from dataiku_iac.resources import registry
    registry.register(WikiArticleKind())     # a kind of your own (see docs/adding-a-kind.md)
    for kind in registry.kinds(): ...        # in registration order: how files, plans and screens list kinds
    for kind in registry.ranked(): ...       # in graph order: projects before what they hold

The built-in kinds register when `dataiku_iac.resources` is imported. This module imports no kind, so that the
address parser and the kinds themselves can use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Kind
    from .instance_base import InstanceKind

_KINDS: dict[str, Kind] = {}
# Read-only and live: `KINDS[name]`, `KINDS.values()` always see what is registered now.
KINDS: MappingProxyType[str, Kind] = MappingProxyType(_KINDS)
_version = 0


def register(kind: Kind) -> Kind:
    """Add a kind; its name and its collection key must be new. Returns the kind."""
    global _version
    if kind.name in _KINDS:
        raise ValueError(f"a resource kind named '{kind.name}' is already registered")
    if kind.collection is not None and by_collection(kind.collection) is not None:
        raise ValueError(f"the collection key '{kind.collection}' already belongs to another kind")
    _KINDS[kind.name] = kind
    _version += 1
    return kind


def unregister(name: str) -> None:
    global _version
    _KINDS.pop(name, None)
    _version += 1


@contextmanager
def registered(kind: Kind) -> Iterator[Kind]:
    """A kind registered for the duration of a `with` block (tests, experiments)."""
    register(kind)
    try:
        yield kind
    finally:
        unregister(kind.name)


def version() -> int:
    """A number that changes whenever a kind is registered or removed (for what is built from the registry)."""
    return _version


def kinds() -> list[Kind]:
    """Every kind, in registration order: the order of project files, imports and screens."""
    return list(_KINDS.values())


def project_kinds() -> list[Kind]:
    """The kinds of project files (everything but the instance kinds), in registration order."""
    return [k for k in _KINDS.values() if k.scope == "project"]


def instance_kinds() -> list[InstanceKind]:
    """The kinds of an environment's instance file (connections, code envs, groups...), in registration order."""
    return [k for k in _KINDS.values() if k.scope == "instance"]  # type: ignore[misc]


def names() -> tuple[str, ...]:
    return tuple(_KINDS)


def ranked() -> list[Kind]:
    """Every kind in graph order: what others depend on first (deletes run the other way)."""
    return sorted(_KINDS.values(), key=lambda k: k.rank)


def get(name: str) -> Kind:
    return _KINDS[name]


def by_collection(collection: str) -> Kind | None:
    """The kind whose objects a project file lists under `collection` (`datasets` -> dataset)."""
    return next((k for k in _KINDS.values() if k.collection == collection), None)


def rank_of(name: str) -> int:
    """A kind's place in the graph order; unknown kinds (read from an old state or plan) go last."""
    kind = _KINDS.get(name)
    return kind.rank if kind is not None else 1_000
