"""The DSS simulator in a process of its own, for benchmarks that time dss-iac's own work.

In the benchmark's own process the simulator's threads take the same interpreter lock as dss-iac: every request
it answers is CPU time the plan waits for, which a real DSS spends on its own machine. Here it runs beside, as DSS
would (the machine's other core), and is driven like `Simulator` (configure, stats, reset_stats, client).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from dataikuapi import DSSClient


def _serve(pipe: Connection) -> None:
    from dataiku_iac.sim import Simulator

    with Simulator(govern=False, automation_nodes=()) as sim:
        pipe.send((sim.base_url, sim.api_key))
        while True:
            command, kwargs = pipe.recv()
            if command == "stop":
                pipe.send(None)
                return
            pipe.send(getattr(sim, command)(**kwargs))


class SimProcess:
    def __init__(self) -> None:
        self._pipe, theirs = multiprocessing.get_context("fork").Pipe()
        self._process = multiprocessing.get_context("fork").Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        self.base_url, self.api_key = self._pipe.recv()

    def _call(self, command: str, **kwargs: Any) -> Any:
        self._pipe.send((command, kwargs))
        return self._pipe.recv()

    def configure(self, **kwargs: Any) -> None:
        self._call("configure", **kwargs)

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("stats")
        return result

    def reset_stats(self) -> None:
        self._call("reset_stats")

    def client(self) -> DSSClient:
        return DSSClient(self.base_url, self.api_key)

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self._call("stop")
        self._process.join(10)
