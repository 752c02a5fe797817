"""The Govern node: blueprints, artifacts, artifact search and sign-offs (routes in the govern_*.py modules).

A fresh Govern node holds the standard blueprints (govern_seed.py), each with an ACTIVE `bv.system.default`
version. Govern bundles and model versions have a four-step workflow (development, review, deployment,
production) with a sign-off on `review`, whose reviewers and approvers are the `administrators` group (every
admin API key of the simulator belongs to it).

Bundle tracking, for the Project Deployer's governance checks: a Deployer bundle is governed by an artifact
of blueprint `bp.system.govern_bundle` whose `fields` hold

    {"published_project_key": "<key of the project on the Deployer>", "bundle_id": "<bundle id>"}

and its approval is the sign-off of the first workflow step that has one (`review` on the default
version). `bundle_signoff_status` reads it; archived artifacts do not count, and when several artifacts
track the same bundle the most recently created one wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import Node
from . import govern_artifacts, govern_blueprints, govern_search, govern_signoffs  # noqa: F401  (routes)
from .govern_model import artifact_version, artifacts, step_ids
from .govern_seed import GOVERN_BUNDLE, seed_blueprints

if TYPE_CHECKING:
    from ..server import SimServer

BUNDLE_BLUEPRINT = GOVERN_BUNDLE
PROJECT_KEY_FIELD = "published_project_key"
BUNDLE_ID_FIELD = "bundle_id"


def seed(node: Node) -> None:
    if node.kind == "GOVERN":
        seed_blueprints(node.store)


def bundle_signoff_status(server: SimServer, published_project_key: str, bundle_id: str) -> str | None:
    """The sign-off status of the artifact that governs a Deployer bundle, or None if none governs it.

    A governing artifact with no sign-off yet answers NOT_STARTED: it is governed, and not approved.
    """
    for node in server.nodes_of_kind("GOVERN"):
        with node.store.transaction():
            tracking = [
                (aid, record) for aid, record in artifacts(node.store).items()
                if record["artifact"]["blueprintVersionId"]["blueprintId"] == BUNDLE_BLUEPRINT
                and not record["artifact"]["status"].get("archived", False)
                and record["artifact"].get("fields", {}).get(PROJECT_KEY_FIELD) == published_project_key
                and record["artifact"].get("fields", {}).get(BUNDLE_ID_FIELD) == bundle_id
            ]
            if not tracking:
                continue
            _, record = max(tracking, key=lambda item: _creation_rank(item[0]))
            version = artifact_version(node.store, record["artifact"])
            order = step_ids(version) if version is not None else sorted(record["signoffs"])
            step = next((sid for sid in order if sid in record["signoffs"]), None)
            return "NOT_STARTED" if step is None else str(record["signoffs"][step]["status"])
    return None


def _creation_rank(artifact_id: str) -> int:
    number = artifact_id.rpartition(".")[2]
    return int(number) if number.isdigit() else -1
