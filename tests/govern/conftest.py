"""A simulator with a Govern node, and a Git workspace whose `prod` environment (direct, on the design node) asks
for a Govern sign-off of every plan (`approval: govern`); reviewers act through dataikuapi's GovernClient."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dataikuapi import GovernClient
from dataikuapi.govern.artifact_search import GovernArtifactFilterBlueprints, GovernArtifactSearchQuery

from tests.deploy.conftest import Promo, started

BUNDLE_BLUEPRINT = "bp.system.govern_bundle"

ENVIRONMENTS = """\
  dev:
    host: {url}
    api_key: ${{env:{var}}}
    project_key: "{{key}}_DEV"
    remap: {{connections: {{files: filesystem_managed}}}}
  prod:
    host: {url}
    api_key: ${{env:{var}}}
    remap: {{connections: {{files: filesystem_managed}}}}
    approval: govern
"""

SALES = """\
project:
  key: SALES
  name: Sales
  variables: {standard: {region: emea}}
datasets:
  orders: {type: Filesystem, connection: files, params: {path: /sales/orders}, format: csv}
"""


def bundle_artifacts(govern: GovernClient) -> list[dict[str, Any]]:
    """Every artifact of the bundle blueprint, as Govern lists them."""
    query = GovernArtifactSearchQuery(artifact_filters=[GovernArtifactFilterBlueprints([BUNDLE_BLUEPRINT])])
    hits = govern.new_artifact_search_request(query).fetch_next_batch(page_size=100).get_response_hits()
    return [h.get_raw()["artifact"] for h in hits]


@dataclass
class Gov(Promo):
    """The test's simulator, the workspace (a Git repository) and Govern as its reviewers see it."""

    @property
    def govern(self) -> GovernClient:
        return self.sim.govern_client()

    def artifacts(self) -> list[dict[str, Any]]:
        return bundle_artifacts(self.govern)

    def review(self, artifact_id: str, decision: str = "APPROVED", comment: str = "",
               feedback: tuple[str, str, str] | None = None) -> None:
        """A reviewer in Govern: optional feedback (group, status, comment), then the final approval."""
        signoff = self.govern.get_artifact(artifact_id).get_signoff("review")
        if feedback is not None:
            signoff.add_feedback(*feedback)
        signoff.add_approval(decision, comment)


@pytest.fixture
def gov(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gov]:
    with started(Gov, tmp_path, monkeypatch, ["prod"], ENVIRONMENTS, {"projects/sales.yaml": SALES}) as gov:
        yield gov
