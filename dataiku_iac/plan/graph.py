"""Ordering resources: dependencies first for creates and updates, dependents first for deletes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..resources.address import KINDS

# Deletes without recorded dependencies fall back to the kind order, reversed.
KIND_RANK = {k: i for i, k in enumerate(("project", "variables", "permissions", "managed_folder", "dataset",
                                          "recipe", "scenario", "zone"))}
assert set(KIND_RANK) == set(KINDS)


def topo_order(nodes: Iterable[str], deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Nodes ordered so that each comes after the dependencies it has among `nodes` (stable otherwise)."""
    todo = sorted(set(nodes), key=lambda a: (KIND_RANK.get(a.split(".", 1)[0], 99), a))
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
