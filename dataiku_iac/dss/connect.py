"""Opening a connection to an environment's DSS: a real instance, or the embedded simulator."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import DSSApiError
from ..secrets import redact, redact_url
from .client import CallCounter, make_client
from .crash_hooks import CrashSetting, crash_setting
from .crash_hooks import install as install_crash_hooks

if TYPE_CHECKING:
    from dataikuapi import DSSClient

    from ..config.models import Environment
    from ..sim.shared import SharedSimulator

EMBEDDED = "embedded"
# How long the embedded DSS outlives its last user (seconds without a request and with no process attached).
IDLE_ENV = "DSS_IAC_EMBEDDED_IDLE_SECONDS"
DEFAULT_IDLE_SECONDS = 600.0


def embedded_dir(root: Path) -> Path:
    """Where the workspace's embedded DSS keeps its data: one instance shared by every embedded environment."""
    return root / ".dss-iac" / "sim" / "embedded"


RESERVED_NODES = ("design", "govern")


def embedded_simulator(root: Path, automation_nodes: list[str]) -> SharedSimulator:
    """Attach to the workspace's embedded DSS (a design node, the automation nodes its environments name,
    Govern), starting it when no process of the workspace runs it: every process shares one server."""
    from ..sim.shared import SharedServerError, attach

    nodes = sorted({"automation", *automation_nodes} - set(RESERVED_NODES))
    crash = crash_setting()
    server_crash = crash if crash.target == "server" else CrashSetting()
    try:
        # While a cold server starts (a process loading the simulator), load the client library every use needs.
        return attach(embedded_dir(root), nodes, idle_seconds=_idle_seconds(),
                      crash_after_writes=server_crash.after, crash_before_write=server_crash.before,
                      while_starting=lambda: importlib.import_module("dataikuapi"))
    except (SharedServerError, OSError) as e:
        raise DSSApiError(f"embedded DSS: {e}") from None


def embedded_nodes(environments: Mapping[str, Environment]) -> list[str]:
    """The nodes the embedded environments target."""
    return [e.node for e in environments.values() if e.host == EMBEDDED]


def workspace_embedded(start: Path) -> SharedSimulator:
    """The embedded DSS of the workspace at or above `start`, from dss-iac.yaml alone (its projects unread, so
    that a project file being edited does not stand in the way)."""
    from ..config.loader import find_root, read_workspace_file

    root = find_root(start)
    return embedded_simulator(root, embedded_nodes(read_workspace_file(root).environments))


def stop_embedded(start: Path) -> int | None:
    """Stop the embedded DSS of the workspace at or above `start` (processes using it are cut off; the next use
    starts it again); its pid, or None when it was not running."""
    from ..config.loader import find_root
    from ..sim.shared import SharedServerError, stop

    try:
        return stop(embedded_dir(find_root(start)))
    except SharedServerError as e:
        raise DSSApiError(f"embedded DSS: {e}") from None


def _idle_seconds() -> float:
    raw = os.environ.get(IDLE_ENV, "").strip()
    try:
        seconds = float(raw) if raw else DEFAULT_IDLE_SECONDS
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise DSSApiError(f"{IDLE_ENV} must be a number of seconds, got '{raw}'")
    return seconds


@dataclass
class Connection:
    env_name: str
    host: str  # as messages show it: credentials in the URL hidden
    client: DSSClient
    counter: CallCounter
    simulator: SharedSimulator | None = None  # the embedded DSS this connection uses (owned by the workspace)
    product: str = "DSS"  # what messages call the server

    def close(self) -> None:
        self.simulator = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> dict[str, Any]:
        """One cheap call that turns "unreachable" and "wrong key" into clear errors up front."""
        return read_with_retry(self, lambda: self.client.get_auth_info())


def open_connection(env_name: str, env: Environment, *, embedded: SharedSimulator | None = None) -> Connection:
    """A connection to the environment's DSS; `embedded` is the workspace's embedded DSS, for `host: embedded`."""
    if env.host == EMBEDDED:
        assert embedded is not None
        try:
            node_url = embedded.url(env.node)
        except KeyError:
            names = ", ".join(embedded.node_urls())
            raise DSSApiError(f"embedded DSS has no node '{env.node}' (nodes: {names})") from None
        # A refused connection on the loopback means the server is gone (stopped, killed): no use trying again.
        client, counter = make_client(node_url, embedded.api_key, connect_retries=0)
        install_crash_hooks(client._session, crash_setting())
        return Connection(env_name, f"embedded ({env.node})", client, counter, embedded)
    if not env.api_key:
        raise DSSApiError(f"environment '{env_name}' has no api_key (set it with api_key: ${{env:NAME}})")
    client, counter = make_client(env.host, env.api_key, verify_tls=env.verify_tls)
    return Connection(env_name, redact_url(env.host), client, counter)  # messages name the host, never a password


class Endpoint(Protocol):
    """What messages about a call name: the environment and the host (a DSS node, or a Govern node)."""

    @property
    def env_name(self) -> str: ...

    @property
    def host(self) -> str: ...

    @property
    def product(self) -> str: ...


def call(conn: Endpoint, fn: Any) -> Any:
    """Run one client call, turning transport and DSS errors into one-line DSSApiErrors."""
    import requests
    from dataikuapi.utils import DataikuException

    try:
        return fn()
    except DataikuException as e:
        raise DSSApiError(explain(conn, e)) from None
    except requests.ConnectionError:
        if isinstance(conn, Connection) and conn.simulator is not None:
            raise DSSApiError(f"cannot reach {conn.product} at {conn.host}: the embedded DSS has stopped; the next "
                              "command starts it again") from None
        raise DSSApiError(f"cannot reach {conn.product} at {conn.host} (connection refused or reset)") from None
    except requests.Timeout:
        raise DSSApiError(f"{conn.product} at {conn.host} did not answer in time") from None


def explain(conn: Endpoint, e: Exception) -> str:
    text = redact(str(e))
    if "UnauthorizedException" in text and ("API key" in text or "Not authenticated" in text):
        return f"{conn.product} at {conn.host} refused the API key of environment '{conn.env_name}'"
    return f"{conn.product} at {conn.host}: {text}"


READ_ATTEMPTS = 3


def read_with_retry(conn: Endpoint, fn: Callable[[], Any]) -> Any:
    """Reads change nothing, so a read DSS failed (a 500 that is not "not found") is tried again.

    The transport already retries 429s, gateway errors and dropped connections; this covers the 500s,
    which it cannot retry blindly since DSS also answers "not found" with a 500.
    """
    for attempt in range(READ_ATTEMPTS):
        try:
            return call(conn, fn)
        except DSSApiError as e:
            if attempt == READ_ATTEMPTS - 1 or "refused the API key" in str(e):
                raise
            time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")
