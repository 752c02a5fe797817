"""The Project Deployer as a promotion sees it: found on the design node of the `--from` environment.

Every call goes through `dss.connect.call`, so DSS errors become one-line DSSApiErrors; "not found" answers
(a 404 or, as DSS often does, a 500) become None or empty lists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from ..dss.connect import Connection, read_with_retry
from ..resources.base import project_missing
from .errors import PromotionError

if TYPE_CHECKING:
    from dataikuapi.dss.projectdeployer import DSSProjectDeployer

    from ..config.models import Environment

T = TypeVar("T")
HEALTHY = ("HEALTHY", "WARNING")


def absent(conn: Connection, fn: Callable[[], T]) -> T | None:
    """A DSS read (tried again after a transient 500), or None when DSS says the object does not exist."""
    from dataikuapi.utils import DataikuException

    def read() -> T | None:
        try:
            return fn()
        except DataikuException as e:
            if project_missing(e):
                return None
            raise

    return read_with_retry(conn, read)


def node_type(conn: Connection) -> str:
    return str(read_with_retry(conn, lambda: conn.client.get_instance_info().node_type))


def open_deployer(conn: Connection) -> DSSProjectDeployer:
    """The deployer of the design node that `conn` reaches (DSS runs one on every design node)."""
    kind = node_type(conn)
    if kind != "DESIGN":
        raise PromotionError(f"environment {conn.env_name} is a {kind} node: promote --from needs the design node "
                             "the project is developed on (its Project Deployer publishes and deploys bundles)")
    return conn.client.get_projectdeployer()


def resolve_infra(conn: Connection, deployer: DSSProjectDeployer, env_name: str, env: Environment) -> str:
    """The deployer infrastructure of a bundle environment: `infra` when set, else the infra whose automation node
    URL is the environment's host, else one named after the environment's node."""
    listed = read_with_retry(conn, lambda: deployer.list_infras(as_objects=False))
    infras = sorted(str(i["infraBasicInfo"]["id"]) for i in listed)
    wanted = env.infra

    def infra_settings(infra_id: str) -> dict[str, Any]:
        return deployer.get_infra(infra_id).get_settings().get_raw()

    if wanted is None and env.host.startswith("http"):
        for infra_id in infras:
            raw = absent(conn, partial(infra_settings, infra_id)) or {}
            if str(raw.get("automationNodeUrl") or "").rstrip("/") == env.host.rstrip("/"):
                return infra_id
    if wanted is None:
        wanted = env.node
    if wanted not in infras:
        raise PromotionError(f"the Project Deployer of {conn.env_name} has no infrastructure '{wanted}' for "
                             f"environment {env_name} (infrastructures: {', '.join(infras) or 'none'}); set "
                             f"`infra:` in environment {env_name}")
    return wanted


def published_bundles(conn: Connection, deployer: DSSProjectDeployer, published_key: str) -> list[str] | None:
    """Bundle ids of a published project, oldest first; None when the project was never published."""
    status = absent(conn, lambda: deployer.get_project(published_key).get_status())
    if status is None:
        return None
    return [str(b["id"]) for b in status.get_bundles()]


def exported_bundles(conn: Connection, project_key: str) -> list[str]:
    raw = read_with_retry(conn, lambda: conn.client.get_project(project_key).list_exported_bundles())
    return [str(b["bundleId"]) for b in raw.get("bundles", [])]


def deployment_settings(conn: Connection, deployer: DSSProjectDeployer, deployment_id: str) -> dict[str, Any] | None:
    listed = read_with_retry(conn, lambda: deployer.list_deployments(as_objects=False))
    ids = {str(d["deploymentBasicInfo"]["id"]) for d in listed}
    if deployment_id not in ids:
        return None
    return dict(read_with_retry(conn, lambda: deployer.get_deployment(deployment_id).get_settings().get_raw()))


def deployment_health(conn: Connection, deployer: DSSProjectDeployer, deployment_id: str) -> tuple[str, list[str]]:
    """(health, the messages that explain it) of a deployment."""
    status = read_with_retry(conn, lambda: deployer.get_deployment(deployment_id).get_status())
    messages = (status.get_health_messages() or {}).get("messages") or []
    shown = [f"{m.get('code', '')}: {m.get('title') or m.get('message', '')}".strip(": ")
             for m in messages if m.get("severity") in ("WARNING", "ERROR")]
    return str(status.get_health()), shown
