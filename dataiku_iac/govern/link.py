"""Reaching Govern for one environment: the node its settings name, or the one its DSS is connected to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config.models import Approval as ApprovalSettings
from ..dss.client import CallCounter, make_govern_client
from ..dss.connect import Connection, call
from ..errors import DSSApiError
from ..secrets import redact_url

if TYPE_CHECKING:
    from dataikuapi import GovernClient

    from ..config.models import Environment

# Where Govern shows an artifact, from its URL: the artifact page of Govern's web interface.
ARTIFACT_PAGE = "{host}/artifact/{artifact_id}"


@dataclass
class GovernLink:
    """A Govern client for one environment's approvals, with what messages name."""

    env_name: str
    host: str  # as messages show it: credentials in the URL hidden
    client: GovernClient
    settings: ApprovalSettings
    counter: CallCounter | None = None
    product: str = "Govern"

    def page(self, artifact_id: str) -> str:
        return ARTIFACT_PAGE.format(host=redact_url(str(self.client.host)).rstrip("/"), artifact_id=artifact_id)


def settings_of(env: Environment) -> ApprovalSettings:
    """The approval settings of an environment; the defaults where it has none (a PREVENT policy gates it too)."""
    return env.approval or ApprovalSettings()


def open_govern(env_name: str, env: Environment, dss: Callable[[], Connection]) -> GovernLink:
    """The Govern node of `env`: `approval.host` with its API key, else the one `env`'s DSS names (which takes an
    admin API key to read)."""
    settings = settings_of(env)
    if settings.host:
        if not settings.api_key:
            raise DSSApiError(f"environment '{env_name}' sets approval.host but no approval.api_key (set it with "
                              "api_key: ${env:NAME})")
        client, counter = make_govern_client(settings.host, settings.api_key, verify_tls=env.verify_tls)
        return GovernLink(env_name, redact_url(settings.host), client, settings, counter)
    conn = dss()
    found = call(conn, conn.client.get_govern_client)
    if found is None:
        raise DSSApiError(f"DSS at {conn.host} (environment '{env_name}') is not connected to a Govern node: connect "
                          "it in DSS's settings, or set approval.host and approval.api_key")
    client, counter = make_govern_client(str(found.host), str(found.api_key), verify_tls=env.verify_tls)
    return GovernLink(env_name, redact_url(str(found.host)), client, settings, counter)
