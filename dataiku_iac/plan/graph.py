"""Ordering resources: dependencies first for creates and updates, dependents first for deletes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..resources import registry
from ..resources.address import kind_of


def topo_order(nodes: Iterable[str], deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Nodes ordered so that each comes after the dependencies it has among `nodes` (stable otherwise)."""
    # Deletes without recorded dependencies fall back to the kinds' graph order, reversed.
    todo = sorted(set(nodes), key=lambda a: (registry.rank_of(kind_of(a)), a))
    wanted = set(todo)
    done: set[str] = set()
    out: list[str] = []
    visiting: set[str] = set()

    def visit(n: str) -> None:
        if n in done:
            return
        if n in visiting:  # cycles are refused at validation; never loop here
            return
        visiting.add(n)
        for d in sorted(deps.get(n, ())):
            if d in wanted:
                visit(d)
        visiting.discard(n)
        done.add(n)
        out.append(n)

    for n in todo:
        visit(n)
    return out
