"""One simulator per data dir, shared by every process that uses it: started on demand, found through a file.

    with attach(Path(".dss-iac/sim/embedded"), ["automation"], idle_seconds=600) as sim:
        sim.client().list_project_keys()      # a real dataikuapi client, as any other process would get

The first process that needs the simulator starts it as a detached server (`python -m dataiku_iac.sim shared
DIR`); the others find it through `DIR/server.json` and talk to the same server, so every write goes through
one copy of the data and none is lost. The data dir holds:

- `server.json`: the discovery file (URL, port, pid, admin API key, instance id), replaced atomically, mode
  0600 in a 0700 folder. It stays when the server stops (`pid` null), so the key and, when free, the port
  survive restarts: a user's script keeps working.
- `.start.lock`: held (flock) by a process while it finds or starts the server, and by the server while it
  stops, so that two processes never start two servers and none attaches to a server that is going away.
- `.lock`: the running server's hold on the data (see `Simulator`); `server.log`: its warnings (never a key).

A process *attaches* (`POST /__sim__/attach`, connection kept open) for as long as it uses the server; the
server never stops while one is attached, and notices at once when one goes away, killed or not. With no
one attached and no request for `idle_seconds`, it stops by itself. It also stops when its discovery file
disappears (the workspace was deleted) or names another server.

A discovery file whose pid is dead, whose server does not answer as that instance, or that was copied from
another folder is stale: the next process starts a new server in its place.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import http.client
import json
import os
import secrets
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from dataikuapi import DSSClient, GovernClient

DISCOVERY = "server.json"
START_LOCK = ".start.lock"
LOG = "server.log"
ATTACH_TIMEOUT = 30.0


class SharedServerError(RuntimeError):
    """The shared simulator could not be started or reached."""


# -- the discovery file -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Discovery:
    url: str
    port: int
    api_key: str
    data_dir: str  # resolved: a copy of the folder elsewhere is not this server's
    instance: str = ""
    pid: int | None = None  # None once the server has stopped
    started_at: str = ""

    def __repr__(self) -> str:  # never show the key in a traceback or a log
        return f"Discovery(url={self.url!r}, pid={self.pid}, data_dir={self.data_dir!r})"


def read_discovery(data_dir: Path) -> Discovery | None:
    try:
        raw = json.loads((data_dir / DISCOVERY).read_text(encoding="utf-8"))
        return Discovery(**{k: raw[k] for k in Discovery.__dataclass_fields__ if k in raw})
    except (OSError, ValueError, TypeError, KeyError):
        return None  # none yet, or not ours to read: a new server writes a fresh one


def write_discovery(data_dir: Path, found: Discovery) -> None:
    """Replace the discovery file atomically, readable by its owner only (it holds the admin key)."""
    path = data_dir / DISCOVERY
    tmp = path.with_name(f".{DISCOVERY}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(asdict(found), indent=2).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def prepare_dir(data_dir: Path) -> Path:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)  # the stored documents hold the admin key too (deployer infrastructures)
    return data_dir


def lock_file(path: Path, *, blocking: bool = True) -> int | None:
    """An exclusive flock on `path` (released when the fd is closed or the process dies); None when busy."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = lock_file(path)
    try:
        yield
    finally:
        assert fd is not None
        os.close(fd)


def pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until process `pid` has ended (it need not be our child); False on timeout."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except (AttributeError, OSError):  # no pidfd (old kernel): look again now and then
        deadline = time.monotonic() + timeout
        while pid_alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


# -- the client's handle ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SharedNode:
    name: str
    kind: str  # DESIGN | AUTOMATION | GOVERN
    url: str


class SharedSimulator:
    """A process's attachment to the shared simulator: node URLs, the admin key, clients, accounting.

    The server stays up while this is open; `close()` detaches (the server then stops once idle).
    """

    def __init__(self, found: Discovery, nodes: list[SharedNode], attachment: http.client.HTTPConnection,
                 idle_seconds: float) -> None:
        self.api_key = found.api_key
        self.base_url = found.url
        self.pid = found.pid
        self.instance = found.instance
        self.data_dir = Path(found.data_dir)
        self.started_at = found.started_at
        self.nodes = nodes
        self.idle_seconds = idle_seconds  # how long the server outlives its last use
        self._attachment: http.client.HTTPConnection | None = attachment

    def __repr__(self) -> str:
        return f"SharedSimulator(url={self.base_url!r}, pid={self.pid})"

    def url(self, node: str = "design") -> str:
        for n in self.nodes:
            if n.name == node:
                return n.url
        raise KeyError(node)

    def node_urls(self) -> dict[str, str]:
        return {n.name: n.url for n in self.nodes}

    def describe(self) -> str:
        """What a user needs to reach it from anywhere: each node's URL, the key, and how long it lives."""
        idle = f"{self.idle_seconds / 60:g} min" if self.idle_seconds >= 60 else f"{self.idle_seconds:g} s"
        lines = [f"{n.name:<12} {n.kind:<11} {n.url}" for n in self.nodes]
        lines += [
            f"{'api key':<12} {self.api_key}",
            f"{'pid':<12} {self.pid}",
            f"{'data':<12} {self.data_dir}",
            "",
            f"Shared by every process that uses it; stops {idle} after its last use (no process attached, no request).",
            "From Python:",
            f"  dataikuapi.DSSClient({self.base_url!r}, {self.api_key!r})",
        ]
        return "\n".join(lines)

    def client(self, node: str = "design") -> DSSClient:
        from dataikuapi import DSSClient

        return DSSClient(self.url(node), self.api_key)

    def govern_client(self) -> GovernClient:
        from dataikuapi import GovernClient

        return GovernClient(self.url("govern"), self.api_key)

    @property
    def alive(self) -> bool:
        """Whether the server still holds this attachment (it closes it only when it stops or dies)."""
        sock = self._attachment.sock if self._attachment is not None else None
        if sock is None:
            return False
        try:
            if not select.select([sock], [], [], 0)[0]:
                return True
            return bool(sock.recv(1, socket.MSG_PEEK))  # readable with no data: the server closed it
        except (OSError, ValueError):
            return False

    def stats(self, with_log: bool = False) -> dict[str, Any]:
        """The server's request accounting (every process's requests: it is shared)."""
        return _call(self.base_url, self.api_key, "GET", "/__sim__/stats" + ("?log=true" if with_log else ""))

    def reset_stats(self) -> None:
        _call(self.base_url, self.api_key, "POST", "/__sim__/stats/reset")

    def close(self) -> None:
        if self._attachment is not None:
            self._attachment.close()
            self._attachment = None

    def __enter__(self) -> SharedSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _auth(api_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()}


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)


def _call(url: str, api_key: str, method: str, path: str, body: Any = None, timeout: float = ATTACH_TIMEOUT) -> Any:
    conn = _connection(url, timeout)
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None, _auth(api_key))
        resp = conn.getresponse()
        data = resp.read()
    except (OSError, http.client.HTTPException) as e:
        raise SharedServerError(f"the simulator at {url} does not answer ({type(e).__name__})") from None
    finally:
        conn.close()
    if resp.status != 200:
        raise SharedServerError(f"the simulator at {url} answered {resp.status} to {method} {path}")
    return json.loads(data or b"null")


# -- attaching, starting, stopping --------------------------------------------------------------------------
def attach(data_dir: Path, automation_nodes: list[str], *, idle_seconds: float, start_timeout: float = 60.0,
           crash_after_writes: int | None = None, crash_before_write: int | None = None,
           while_starting: Callable[[], object] | None = None) -> SharedSimulator:
    """Attach to the data dir's server, starting it when none runs; it then serves `automation_nodes` too.

    `while_starting` runs here while a server this call started gets ready (work the caller needs anyway, such
    as importing its client library, then costs no extra time). The crash knobs (crash tests) arm the server
    to SIGKILL itself right after the k-th write from now has been stored, or as the k-th write arrives
    (`SimOptions`).
    """
    data_dir = prepare_dir(data_dir)
    crash = {"crashAfterWrites": crash_after_writes, "crashBeforeWrite": crash_before_write}
    with _locked(data_dir / START_LOCK):
        found = read_discovery(data_dir)
        if found is not None and found.data_dir == str(data_dir) and pid_alive(found.pid):
            handle = _attach(found, automation_nodes, crash)
            if handle is not None:
                return handle
        found = _start(data_dir, found, automation_nodes, idle_seconds, start_timeout, while_starting)
        handle = _attach(found, automation_nodes, crash)
        if handle is None:
            raise SharedServerError(f"the simulator started for {data_dir} (pid {found.pid}) does not answer")
        return handle


def _attach(found: Discovery, nodes: list[str], crash: dict[str, int | None]) -> SharedSimulator | None:
    """The attachment, or None when no server of that instance answers there (a stale discovery file)."""
    conn = _connection(found.url, ATTACH_TIMEOUT)
    body = {"instance": found.instance, "automationNodes": nodes, **crash}
    try:
        conn.request("POST", "/__sim__/attach", json.dumps(body), _auth(found.api_key))
        resp = conn.getresponse()
        status, data = resp.status, resp.read()
        reply = json.loads(data) if status in (200, 400) else None
    except (OSError, http.client.HTTPException, ValueError):
        status, reply = 0, None
    if status == 400 and isinstance(reply, dict):  # it answers, but refuses what was asked (a bad node name)
        conn.close()
        raise SharedServerError(str(reply.get("message", "the simulator refused the attachment")))
    if status != 200 or not isinstance(reply, dict) or reply.get("instance") != found.instance or conn.sock is None:
        conn.close()
        return None
    nodes_info = [SharedNode(n["name"], n["nodeType"], n["url"]) for n in reply["nodes"]]
    return SharedSimulator(found, nodes_info, conn, float(reply.get("idleSeconds", 0)))


def _start(data_dir: Path, previous: Discovery | None, nodes: list[str], idle_seconds: float, timeout: float,
           while_starting: Callable[[], object] | None) -> Discovery:
    """Start the server (detached: it outlives this process) and wait until it serves."""
    mine = previous is not None and previous.data_dir == str(data_dir)
    config = {
        "apiKey": previous.api_key if previous is not None and previous.api_key else secrets.token_urlsafe(24),
        "port": previous.port if previous is not None and mine else 0,  # a stable URL for users' scripts
        "automationNodes": nodes,
        "idleSeconds": idle_seconds,
    }
    log = os.open(data_dir / LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "dataiku_iac.sim", "shared", str(data_dir)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=data_dir,
                                start_new_session=True)  # Ctrl+C in this terminal must not stop it
    finally:
        os.close(log)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        with contextlib.suppress(BrokenPipeError):  # it died at once: its reply (none) says so below
            proc.stdin.write(json.dumps(config).encode() + b"\n")
            proc.stdin.close()
        if while_starting is not None:
            while_starting()
        line = _read_line(proc.stdout.fileno(), timeout)
    finally:
        proc.stdout.close()
        try:
            proc.wait(timeout=timeout)  # the launcher exits as soon as it has forked the server
        except subprocess.TimeoutExpired:
            proc.kill()
    try:
        reply = json.loads(line)
    except ValueError:
        reply = {"error": f"it did not start ({_last_log_line(data_dir) or 'no reply'}; see {data_dir / LOG})"}
    if "error" in reply:
        raise SharedServerError(reply["error"])
    return Discovery(**reply["ready"])


def _read_line(fd: int, timeout: float) -> bytes:
    """One line from `fd`, or what came before EOF or the timeout."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


def _last_log_line(data_dir: Path) -> str:
    try:
        lines = (data_dir / LOG).read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def status(data_dir: Path) -> Discovery | None:
    """The data dir's running server as its discovery file names it, or None when none runs."""
    data_dir = data_dir.resolve()
    found = read_discovery(data_dir)
    if found is None or found.data_dir != str(data_dir) or not pid_alive(found.pid):
        return None
    return found


def stop(data_dir: Path, timeout: float = 30.0) -> int | None:
    """Stop the data dir's server (attached processes are cut off); its pid, or None when none ran."""
    found = status(data_dir)
    if found is None or found.pid is None:
        return None
    try:
        reply = _call(found.url, found.api_key, "POST", "/__sim__/shutdown", {"instance": found.instance})
    except SharedServerError:
        return None  # nothing of that instance answers there: no server of ours to stop
    if reply.get("instance") != found.instance:
        return None
    if not wait_gone(found.pid, timeout):
        raise SharedServerError(f"the simulator (pid {found.pid}) did not stop within {timeout:.0f} s")
    return found.pid
