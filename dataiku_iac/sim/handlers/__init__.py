"""The simulator's endpoint families, one module each. Importing this package registers the routes.

A module may define `seed(node)`, called once when a node starts with an empty store, to create
what a fresh DSS install has (the admin user, default connections, deployer stages...).
"""

from __future__ import annotations

from types import ModuleType

from ..context import Node
from . import (
    admin,
    bundles,
    dataset_data,
    datasets,
    deployer,
    folders,
    govern,
    instance,
    jobs,
    metrics,
    projects,
    recipes,
    scenarios,
    zones,
)

MODULES: tuple[ModuleType, ...] = (
    instance, projects, datasets, dataset_data, metrics, jobs, folders, zones, recipes, scenarios, admin, bundles,
    deployer, govern,
)


def recover_node(node: Node) -> None:
    """At start: long tasks that a stopped simulator left running end ABORTED (modules' `recover(node)`)."""
    for module in MODULES:
        recover = getattr(module, "recover", None)
        if recover is not None:
            recover(node)


def seed_node(node: Node) -> None:
    with node.store.transaction():
        if node.store.instance.get("_seeded"):
            return
        for module in MODULES:
            seed = getattr(module, "seed", None)
            if seed is not None:
                seed(node)
        node.store.instance["_seeded"] = True
        node.store.mark()
