"""Project Deployer (DSS_API.md §2.7), hosted by the design node as a "local deployer".

Split into stages/published projects, infrastructures, deployments, updates and test runs; importing the modules
registers their routes.
"""

from __future__ import annotations

from ..context import Node
from . import deployer_deployments, deployer_infras, deployer_projects, deployer_testing, deployer_update
from .deployer_store import deployer_data

__all__ = [
    "deployer_deployments", "deployer_infras", "deployer_projects", "deployer_testing", "deployer_update", "seed",
]


def seed(node: Node) -> None:
    """A fresh design node: the default stages, and one infrastructure per automation node."""
    if node.kind != "DESIGN":
        return
    deployer_data(node.store)
    deployer_infras.seed(node)
