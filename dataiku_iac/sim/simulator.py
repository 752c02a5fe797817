"""`Simulator`: run the DSS simulator in-process on a loopback port and hand out real clients."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .context import ApiKey, Node, SimOptions
from .handlers import recover_node, seed_node
from .handlers.deployer_infras import seed_infra
from .server import ControlHook, Knobs, SimServer
from .store import Store

if TYPE_CHECKING:
    from dataikuapi import DSSClient, GovernClient

DEFAULT_API_KEY = "dss-iac-sim-admin-key"


class DataDirBusyError(RuntimeError):
    """Another live process serves the same data dir: two in-memory copies would overwrite each other."""


def _lock_data_dir(data_dir: Path) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        message = f"the simulator data dir {data_dir} is in use by another process (pid {holder})"
        raise DataDirBusyError(message) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _check_node_name(name: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise ValueError(f"node name '{name}' must be lowercase letters, digits, '-' or '_'")


class Simulator:
    """A DSS design node (with its Project Deployer), automation nodes and a Govern node over HTTP.

        with Simulator(automation_nodes=["staging", "prod"]) as sim:
            client = sim.client()                 # a real dataikuapi.DSSClient on the design node
            prod = sim.client(node="prod")
            gov = sim.govern_client()

    With `data_dir`, every node persists under `data_dir/<node>/` and survives a restart.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_API_KEY,
        admin_login: str = "admin",
        user_keys: Mapping[str, str] | None = None,
        automation_nodes: Iterable[str] = ("automation",),
        govern: bool = True,
        data_dir: str | Path | None = None,
        latency_ms: float = 0.0,
        fault_rate: float = 0.0,
        seed: int | None = None,
        options: SimOptions | None = None,
    ) -> None:
        self.api_key = api_key
        self._keys: dict[str, ApiKey] = {api_key: ApiKey(admin_login, admin=True)}
        for secret, login in (user_keys or {}).items():
            self._keys[secret] = ApiKey(login, admin=False)
        self.options = options or SimOptions()
        self.knobs = Knobs(latency_ms=latency_ms, fault_rate=fault_rate, seed=seed)
        self.data_dir = Path(data_dir) if data_dir is not None else None
        # Dataset files need a disk even when the documents live in memory: a scratch DSS data dir then.
        self._scratch_home = None if self.data_dir is not None else Path(tempfile.mkdtemp(prefix="dss-sim-home-"))
        # The lock dies with the process (flock), so a killed simulator never blocks the next one.
        self._lock_fd = _lock_data_dir(self.data_dir) if self.data_dir is not None else None
        try:
            specs = [("design", "DESIGN", "")]
            specs += [(name, "AUTOMATION", f"/{name}") for name in automation_nodes]
            if govern:
                specs.append(("govern", "GOVERN", "/govern"))
            names = [s[0] for s in specs]
            if len(set(names)) != len(names):
                raise ValueError(f"node names must be unique, got {names}")
            for name in names:
                _check_node_name(name)
            self.nodes = [Node(name, kind, prefix, Store(self._node_dir(name)), dip_home=self._dip_home(name))
                          for name, kind, prefix in specs]
            self._server = SimServer(host, port, self.nodes, self._keys, self.options, self.knobs)
            self._seed(self.nodes)
        except BaseException:
            self._release()
            raise
        self._thread: threading.Thread | None = None

    def _node_dir(self, name: str) -> Path | None:
        return None if self.data_dir is None else self.data_dir / name

    def _seed(self, nodes: list[Node]) -> None:
        """Seed new nodes; an automation node new to a design node already seeded gets its infrastructure too."""
        fresh = [n for n in nodes if not n.store.instance.get("_seeded")]
        for node in nodes:
            seed_node(node)
            recover_node(node)  # jobs and runs a stopped simulator left unfinished end ABORTED
        design = next((n for n in self.nodes if n.kind == "DESIGN"), None)
        if design is None or design in fresh:
            return
        with design.store.transaction():
            for node in fresh:
                if node.kind == "AUTOMATION":
                    seed_infra(design, node)

    def add_automation_node(self, name: str) -> Node:
        """Serve one more automation node, at `/<name>`, while the simulator runs (its data persists as the
        others'); the node of that name when there is one already."""
        for node in self.nodes:
            if node.name == name:
                if node.kind != "AUTOMATION":
                    raise ValueError(f"node '{name}' is a {node.kind.lower()} node, not an automation node")
                return node
        _check_node_name(name)
        node = Node(name, "AUTOMATION", f"/{name}", Store(self._node_dir(name)), dip_home=self._dip_home(name))
        self._server.add_node(node)
        self.nodes = [*self.nodes, node]
        self._seed([node])
        return node

    def _dip_home(self, name: str) -> Path:
        """A node's DSS data dir (`${dip.home}`): its persisted folder, or a scratch folder for an in-memory node."""
        home = self._node_dir(name) or (self._scratch_home or Path(tempfile.gettempdir())) / name
        home.mkdir(parents=True, exist_ok=True)
        return home

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Simulator:
        if self._thread is None:
            # A short poll interval keeps stop() quick; the listener itself never busy-waits.
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="dss-sim", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.knobs.gate.set()  # held requests finish, so shutdown does not wait forever
        self._stop_tasks()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()
        for node in self.nodes:
            node.store.flush()
            node.store.close()
        self._release()

    def _stop_tasks(self) -> None:
        """Abort running jobs and scenario runs: they end ABORTED, as in a DSS that shuts down."""
        for node in self.nodes:
            node.tasks.stop_all()

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._scratch_home is not None:
            shutil.rmtree(self._scratch_home, ignore_errors=True)
            self._scratch_home = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (used by `dss-iac sim serve`)."""
        try:
            self._server.serve_forever()
        finally:
            self._stop_tasks()
            self._server.server_close()
            for node in self.nodes:
                node.store.flush()
            node.store.close()
            self._release()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and clients ---------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._server.base_url

    def node(self, name: str = "design") -> Node:
        return self._server.node(name)

    def url(self, node: str = "design") -> str:
        return self.node(node).url

    def node_urls(self) -> dict[str, str]:
        return {n.name: n.url for n in self.nodes}

    def client(self, node: str = "design", api_key: str | None = None) -> DSSClient:
        from dataikuapi import DSSClient

        if self.node(node).kind == "GOVERN":
            raise ValueError("the govern node is reached with govern_client()")
        return DSSClient(self.url(node), api_key or self.api_key)

    def govern_client(self, api_key: str | None = None) -> GovernClient:
        from dataikuapi import GovernClient

        return GovernClient(self.url("govern"), api_key or self.api_key)

    # -- knobs and accounting ------------------------------------------------------------------------
    def configure(self, *, latency_ms: float | None = None, fault_rate: float | None = None) -> None:
        """Change latency or fault rate while the simulator runs."""
        if latency_ms is not None:
            self.knobs.latency_ms = latency_ms
        if fault_rate is not None:
            self.knobs.fault_rate = fault_rate

    def fail_next(self, count: int = 1, fault: str = "500", method: str | None = None, path: str | None = None, *,
                  after: int = 0) -> None:
        """The next `count` API requests (of `method` only, to the API `path` only, when given: `/projects/`), once
        `after` more such requests have gone through, are answered with `fault`, whatever the fault rate: a transient
        fault exactly where a test wants it.

        "500", "reset" and "429" reach the client before DSS processed anything; "lost" lets DSS process the
        request, then drops the connection without a reply (DSS did it, the client cannot know)."""
        self.knobs.queue(count, fault, method, path, after)

    def clear_faults(self) -> None:
        """Drop the faults `fail_next` queued that no request has met yet."""
        self.knobs.clear()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Requests to the nodes wait until the block ends: DSS as slow as a test needs, without timing."""
        self.knobs.gate.clear()
        try:
            yield
        finally:
            self.knobs.gate.set()

    def set_control(self, hook: ControlHook | None) -> None:
        """Serve `/__sim__/` endpoints of one's own (see `dataiku_iac.sim.daemon`)."""
        self._server.control = hook

    def arm_crash(self, *, after: int | None = None, before: int | None = None) -> None:
        """Crash test knobs, counted from now: SIGKILL this process right after the `after`-th write request has
        been stored (before its reply is sent), or as the `before`-th arrives (None clears a knob)."""
        self._server.arm_crash(after=after, before=before)

    def busy(self) -> bool:
        """Whether a job or a scenario run is running on some node."""
        return any(node.tasks.busy() for node in self.nodes)

    def stats(self, with_log: bool = False) -> dict[str, Any]:
        return self._server.stats.snapshot(with_log=with_log)

    def reset_stats(self) -> None:
        self._server.stats.reset()
