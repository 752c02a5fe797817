"""The shared simulator's server process: `python -m dataiku_iac.sim shared DATA_DIR` (see `shared`).

It reads its settings (admin key, preferred port, automation nodes, idle time) as one JSON line on stdin, so
that the key never shows in a process list, answers one JSON line on stdout once it serves (or says why it
could not), then serves until stopped: idle, asked to (`POST /__sim__/shutdown`), SIGTERM, or its discovery
file gone.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from .context import SimOptions
from .server import ControlReply, ControlRequest
from .shared import START_LOCK, Discovery, lock_file, read_discovery, write_discovery
from .simulator import DataDirBusyError, Simulator

log = logging.getLogger("dataiku_iac.sim")


def _error(status: int, error_type: str, message: str) -> ControlReply:
    return ControlReply(status, {"errorType": error_type, "message": message, "detailedMessage": message})


class SharedServer:
    """One `Simulator` on a data dir, with the attach / shutdown endpoints and the idle watch."""

    def __init__(self, data_dir: Path, sim: Simulator, api_key: str, idle_seconds: float) -> None:
        self.data_dir = data_dir
        self.sim = sim
        self.idle_seconds = idle_seconds
        self.discovery = Discovery(
            url=sim.base_url, port=int(sim.base_url.rsplit(":", 1)[1]), api_key=api_key, data_dir=str(data_dir),
            instance=uuid.uuid4().hex, pid=os.getpid(),
            started_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        )
        self._lock = threading.Lock()
        self._clients = 0
        self._last_use = time.monotonic()
        self._closing = False
        self._stop = threading.Event()
        self._start_lock: int | None = None  # held from the decision to stop until the server has let go
        sim.set_control(self.control)

    @classmethod
    def open(cls, data_dir: Path, config: dict[str, Any]) -> SharedServer:
        key = str(config["apiKey"])
        nodes = [str(n) for n in config.get("automationNodes", ["automation"])]

        def make(port: int) -> Simulator:
            return Simulator(port=port, api_key=key, automation_nodes=nodes, data_dir=data_dir,
                             options=SimOptions())

        try:
            sim = make(int(config.get("port") or 0))
        except OSError:  # the port of last time is taken now: any port will do
            sim = make(0)
        server = cls(data_dir, sim, key, float(config["idleSeconds"]))
        sim.start()
        write_discovery(data_dir, server.discovery)
        return server

    # -- the endpoints -------------------------------------------------------------------------------
    def control(self, req: ControlRequest) -> ControlReply | None:
        if req.method != "POST" or req.path not in ("/__sim__/attach", "/__sim__/shutdown"):
            return None
        if req.key is None or not req.key.admin:
            return _error(401, "com.dataiku.dip.exceptions.UnauthorizedException", "Admin API key required")
        if req.path == "/__sim__/shutdown":  # once the caller has the answer: stopping cuts every connection
            return ControlReply(200, {"instance": self.discovery.instance, "pid": self.discovery.pid},
                                on_close=self._stop.set)
        return self._attach(req.body)

    def _attach(self, body: bytes) -> ControlReply:
        try:
            asked = json.loads(body or b"{}")
            names = [str(n) for n in asked.get("automationNodes") or []]
            crash = {k: asked.get(k) for k in ("crashAfterWrites", "crashBeforeWrite")}
        except (ValueError, AttributeError, TypeError):
            return _error(400, "exceptions.BadRequestException", "Malformed attach request")
        with self._lock:
            if self._closing:
                return _error(503, "exceptions.ServiceUnavailableException", "The simulator is stopping")
            self._clients += 1
            self._last_use = time.monotonic()
        try:
            for name in names:
                self.sim.add_automation_node(name)
        except ValueError as e:
            self._detach()
            return _error(400, "exceptions.BadRequestException", str(e))
        if any(v is not None for v in crash.values()):
            after, before = (None if v is None else int(v) for v in crash.values())
            self.sim.arm_crash(after=after, before=before)
        nodes = [{"name": n.name, "nodeType": n.kind, "url": n.url} for n in self.sim.nodes]
        reply = {"instance": self.discovery.instance, "pid": self.discovery.pid, "nodes": nodes,
                 "idleSeconds": self.idle_seconds}
        return ControlReply(200, reply, on_close=self._detach)

    def _detach(self) -> None:
        with self._lock:
            self._clients -= 1
            self._last_use = time.monotonic()

    # -- lifetime --------------------------------------------------------------------------------------
    def _still_mine(self) -> bool:
        found = read_discovery(self.data_dir)
        return found is not None and found.instance == self.discovery.instance

    def _watch(self) -> None:
        """Stop once nobody is attached and no request came for `idle_seconds` (looked at every quarter of that,
        at most every 5 s: it stops a little after the period has passed), or once the discovery file is gone."""
        tick = max(0.05, min(self.idle_seconds / 4, 5.0))
        seen = -1
        while not self._stop.wait(tick):
            if not self._still_mine():
                self._stop.set()
                return
            requests = self.sim.stats()["requests"]
            with self._lock:
                now = time.monotonic()
                if requests != seen or self.sim.busy():  # a running job or scenario is use too
                    seen, self._last_use = requests, now
                if self._clients or now - self._last_use < self.idle_seconds:
                    continue
            fd = lock_file(self.data_dir / START_LOCK, blocking=False)
            if fd is None:  # someone is attaching right now
                continue
            with self._lock:
                if self._clients:
                    os.close(fd)
                    continue
                self._closing = True
            self._start_lock = fd
            self._stop.set()
            return

    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        threading.Thread(target=self._watch, name="dss-sim-idle", daemon=True).start()
        self._stop.wait()
        mine = self._still_mine()
        if self._start_lock is None and mine:
            self._start_lock = lock_file(self.data_dir / START_LOCK)  # let an attach under way finish first
        with self._lock:
            self._closing = True
        self.sim.stop()  # cuts the attached clients off, writes everything down, lets go of the data
        if mine:
            write_discovery(self.data_dir, replace(self.discovery, pid=None))
        if self._start_lock is not None:
            os.close(self._start_lock)
        return 0


def _answer(reply: dict[str, Any]) -> None:
    """The one line the starting process waits for; then stdout goes nowhere (the starter may be gone)."""
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "shared":
        print("usage: python -m dataiku_iac.sim shared DATA_DIR  (settings as one JSON line on stdin)",
              file=sys.stderr)
        return 64
    # Detach: the starter reaps this launcher at once and the server, adopted by init, leaves no zombie.
    if os.fork() > 0:
        os._exit(0)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s pid %(process)d %(levelname)s %(message)s")
    data_dir = Path(argv[1])
    try:
        config = json.loads(sys.stdin.readline())
        sys.stdin.close()
        server = SharedServer.open(data_dir, config)
    except (DataDirBusyError, ValueError, KeyError, OSError) as e:
        message = str(e) if not isinstance(e, KeyError) else f"missing setting {e}"
        log.error("cannot start: %s", message)
        _answer({"error": message})
        return 1
    log.info("serving %s at %s (pid %d)", data_dir, server.discovery.url, os.getpid())
    _answer({"ready": asdict(server.discovery)})
    code = server.run()
    log.info("stopped (pid %d)", os.getpid())
    return code
